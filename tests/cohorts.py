"""Cohorts the whole-report tests build: derived from the default cohort's rows, each with the shape a centre's data
may have (uneven loss to follow-up, a baseline imbalance, absent or rare categories, empty or constant columns)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty import paths

FINAL_COLUMNS = ["fvah_final_mm", "upper_vah_final_mm", "lower_vah_final_mm", "lka_final_deg", "rka_final_deg", "vas_final", "odi_final"]


def default_text() -> pd.DataFrame:
    return pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)


def resample(size_a: int, size_b: int, prefix: str, seed: int) -> pd.DataFrame:
    """Rows drawn with replacement from the default cohort, regrouped into ``size_a`` + ``size_b`` patients."""
    rng = np.random.default_rng(seed)
    table = default_text()
    table = table.iloc[rng.choice(len(table), size_a + size_b, replace=True)].reset_index(drop=True)
    table["group"] = ["A"] * size_a + ["B"] * size_b
    table.loc[table["group"] == "B", "aspirated_blood_ml"] = ""
    table.loc[(table["group"] == "A") & (table["aspirated_blood_ml"] == ""), "aspirated_blood_ml"] = "4.5"
    table["patient_id"] = [f"{prefix}-{i:03d}" for i in range(len(table))]
    return table


def attrition(folder: Path) -> Path:
    """150 patients, 75 per group; 6 without any final-follow-up measurement (5 in group A, 1 in group B)."""
    table = resample(75, 75, "ATT", 2024)
    lost = list(table.index[table["group"] == "A"][:5]) + list(table.index[table["group"] == "B"][:1])
    table.loc[lost, FINAL_COLUMNS] = ""
    return write(table, folder / "attrition cohort.csv")


def imbalance(folder: Path) -> Path:
    """60 patients; group A about 9 years older and with larger pre-operative kyphosis than group B."""
    table = resample(30, 30, "IMB", 7)
    older = table["group"] == "A"
    table.loc[older, "age"] = (table.loc[older, "age"].astype(int) + 9).clip(upper=110).astype(str)
    table.loc[older, "lka_pre_deg"] = (table.loc[older, "lka_pre_deg"].astype(float) + 6).clip(upper=90).map("{:.2f}".format)
    return write(table, folder / "imbalance.csv")


def awkward_sparse(folder: Path) -> Path:
    """40 patients without any type C; BMI missing for every patient of group B; VAS 24 h the same for all of group A."""
    table = resample(20, 20, "AWK", 11)
    table.loc[table["cement_distribution"] == "C", "cement_distribution"] = "B"
    table.loc[table["group"] == "B", "bmi"] = ""
    table.loc[table["group"] == "A", "vas_post"] = "2"
    return write(table, folder / "no type C.csv")


def awkward_tiny(folder: Path) -> Path:
    """Two patients per group; type C has a single patient and type B occurs in group B only."""
    table = resample(2, 2, "TINY", 5)
    table["cement_distribution"] = ["A", "A", "B", "C"]
    return write(table, folder / "tiny.csv")


def awkward_constant(folder: Path) -> Path:
    """30 patients all of type A (one distribution type only), operation time empty for everyone, VAS (op) 5 for everyone."""
    table = resample(15, 15, "CONST", 3)
    table["cement_distribution"] = "A"
    table["operation_min"] = ""
    table["vas_op"] = "5"
    return write(table, folder / "constant.csv")


def write(table: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return path


STUDY = """\
title: Aspiration before vertebroplasty at a test centre
design: a retrospective cohort study
centres: [Test Centre Hospital]
centre_type: district general hospital
period: {start: June 2021, end: May 2023}
allocation: by the operating surgeon's preference
operators: three consultant spine surgeons
follow_up_schedule: radiographs at 24 hours and at 3 and 12 months
minimum_follow_up_months: 12
"""
