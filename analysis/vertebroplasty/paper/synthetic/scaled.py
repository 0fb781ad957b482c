"""Large synthetic cohorts for the benchmark (never committed): the default cohort's rows resampled to any size.

Rows are drawn with replacement with a fixed seed; patient ids are made unique; every row stays valid against the
data contract because it is a row of the default cohort.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty import paths

SEED = 16


def scaled_cohort(patients: int, seed: int = SEED) -> pd.DataFrame:
    """``patients`` rows resampled from the default cohort (text cells), with unique ids ``S0000001`` …"""
    rng = np.random.default_rng(seed)
    table = pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    resampled = table.iloc[rng.integers(0, len(table), patients)].reset_index(drop=True)
    resampled["patient_id"] = [f"S{i:07d}" for i in range(patients)]
    return resampled


def write_scaled_cohort(path: str | Path, patients: int, seed: int = SEED) -> Path:
    """Write :func:`scaled_cohort` as CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scaled_cohort(patients, seed).to_csv(path, index=False, lineterminator="\n")
    return path
