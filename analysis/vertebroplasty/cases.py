"""Case presentations: which patients, and a paragraph about each written from the data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import dictionary, published, tables

#: FVAH loss (mm) between 24 h and final follow-up that separates the wordings.
RECOMPRESSION_WORDS = ((0.5, "no appreciable recompression"), (2.0, "slight recompression"), (np.inf, "marked recompression"))
CASE_FVAH = ("fvah_pre", "fvah_post", "fvah_final")


def recompression_wording(fvahl_mm: float) -> str:
    """How a paragraph names the height lost after surgery (thresholds in :data:`RECOMPRESSION_WORDS`)."""
    if pd.isna(fvahl_mm):
        return "recompression that cannot be judged (a height is missing)"
    for limit, words in RECOMPRESSION_WORDS:
        if fvahl_mm < limit:
            return words
    raise AssertionError("unreachable")


def wording_rule() -> str:
    """The thresholds of :func:`recompression_wording`, in words, for the report."""
    parts = [f"below {limit:g} mm: {words}" for limit, words in RECOMPRESSION_WORDS if np.isfinite(limit)]
    return "; ".join(parts) + f"; otherwise {RECOMPRESSION_WORDS[-1][1]}"


def published_case_ids(data: pd.DataFrame) -> list[str]:
    """patient_ids of the cohort's patients that match the paper's case descriptions exactly (empty if any is missing)."""
    ids = []
    for _, case in published.cases().iterrows():
        match = (data["age"].astype(float) == float(case["age"])) & (data["sex"] == case["sex"]) & \
                (data["level"] == case["level"]) & (data["cement_distribution"] == case["cement_distribution"])
        for variable in CASE_FVAH:
            match &= (data[variable].astype(float) - float(case[variable])).abs().lt(0.005).fillna(False)
        if match.sum() != 1:
            return []
        ids.append(data.loc[match, "patient_id"].iloc[0])
    return ids


def representative_case_ids(data: pd.DataFrame) -> list[str]:
    """One patient per distribution type: complete FVAH, FVAHL closest to the type's median (lowest patient_id on ties)."""
    complete = data.dropna(subset=list(CASE_FVAH))
    ids = []
    for _, part in complete.groupby("cement_distribution", observed=True, sort=True):
        distance = (part["fvahl"].astype(float) - part["fvahl"].astype(float).median()).abs()
        ordered = part.assign(distance=distance).sort_values(["distance", "patient_id"])
        ids.append(ordered["patient_id"].iloc[0])
    return ids


def choose_case_ids(data: pd.DataFrame, case_ids: str = "") -> tuple[list[str], str]:
    """The patients to present and how they were chosen; unknown ids raise ``ValueError`` naming them."""
    if case_ids.strip():
        wanted = [item.strip() for item in case_ids.split(",") if item.strip()]
        unknown = [item for item in wanted if item not in set(data["patient_id"])]
        if unknown:
            raise ValueError(f"case_ids not found in the cohort's patient_id column: {', '.join(unknown)}")
        return wanted, "chosen by the user (parameter case_ids)"
    found = published_case_ids(data)
    if found:
        return found, "the three patients presented in the paper (matched on age, sex, level, distribution type and FVAH)"
    return representative_case_ids(data), ("one patient per cement-distribution type, the one whose FVAHL is closest to "
                                           "the type's median (complete FVAH measurements; lowest patient_id on ties)")


def case_paragraph(patient: pd.Series) -> str:
    """A paragraph about one patient, every fact taken from the row."""
    sex = {"F": "woman", "M": "man"}.get(str(patient["sex"]), "patient")
    age = f"{int(patient['age'])}-year-old " if not pd.isna(patient["age"]) else ""
    segment = str(patient["segment"]) if not pd.isna(patient["segment"]) else "unrecorded"
    fvah = [f"{float(patient[v]):.2f} mm" if not pd.isna(patient[v]) else "not measured" for v in CASE_FVAH]
    return (f"Patient {tables.code_span(patient['patient_id'])}, a {age}{sex} in group {patient['group']}, "
            f"was treated for a fracture of {patient['level']} ({segment} segment). The cement reached a "
            f"{dictionary.category_label('cement_distribution', patient['cement_distribution']).lower()} distribution. "
            f"The anterior height of the fractured vertebra was {fvah[0]} before surgery, {fvah[1]} 24 h after it and "
            f"{fvah[2]} at the final follow-up: {recompression_wording(patient['fvahl'])}.")
