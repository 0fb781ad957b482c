"""Shared fixtures: a small valid cohort written to a temporary CSV, and helpers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from vertebroplasty import paths  # noqa: E402
from vertebroplasty.pipeline import kernel_environment  # noqa: E402

kernel_environment()  # kernels started by nbval and papermill import the package from analysis/


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def default_cohort_text() -> pd.DataFrame:
    """The committed default cohort, every cell as text (as a user's file would be read)."""
    return pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)


@pytest.fixture
def write_cohort(tmp_path):
    """Write a text table to a CSV in a temporary folder and return its path."""

    def write(table: pd.DataFrame, name: str = "cohort.csv") -> Path:
        path = tmp_path / name
        table.to_csv(path, index=False)
        return path

    return write


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
