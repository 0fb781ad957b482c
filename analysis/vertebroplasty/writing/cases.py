"""Case presentations: which patients, and a paragraph about each written from the data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.paper import published
from vertebroplasty.writing import myst

#: This report's own definitions (the paper gives none): FVAH lost (mm) between the 24-hour film and the final
#: follow-up (FVAHL) below which each wording applies.
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
    """The thresholds of :func:`recompression_wording`, in words, for the report.

    >>> wording_rule()
    'FVAHL below 0.5 mm: no appreciable recompression; from 0.5 to below 2 mm: slight recompression; 2 mm or more: marked recompression'
    """
    parts, lower = [], None
    for limit, words in RECOMPRESSION_WORDS:
        if lower is None:
            parts.append(f"FVAHL below {limit:g} mm: {words}")
        elif np.isfinite(limit):
            parts.append(f"from {lower:g} to below {limit:g} mm: {words}")
        else:
            parts.append(f"{lower:g} mm or more: {words}")
        lower = limit
    return "; ".join(parts)


def case_keys(data: pd.DataFrame) -> pd.Series:
    """How a patient is named for the case presentations: ``patient_id``, or ``centre/patient_id`` with several centres."""
    if "centre" in data and data["centre"].nunique() > 1:
        return data["centre"].astype(str) + "/" + data["patient_id"].astype(str)
    return data["patient_id"].astype(str)


def check_case_ids(data: pd.DataFrame, case_ids: str) -> list[str]:
    """The keys of the patients named in ``case_ids`` (comma-separated); ``ValueError`` naming those not found.

    A bare patient_id is accepted in a multicentre cohort when it occurs in one centre only.
    """
    keys = case_keys(data)
    known = set(keys)
    by_id = pd.Series(keys.to_numpy(), index=data["patient_id"].astype(str).to_numpy())
    chosen, unknown, ambiguous = [], [], []
    for item in (part.strip() for part in case_ids.split(",")):
        if not item:
            continue
        if item in known:
            chosen.append(item)
        elif item in by_id.index and by_id[[item]].nunique() == 1:
            chosen.append(by_id[[item]].iloc[0])
        elif item in by_id.index:
            ambiguous.append(item)
        else:
            unknown.append(item)
    problems = []
    if unknown:
        problems.append(f"not found in the cohort's patient_id column: {', '.join(unknown)}")
    if ambiguous:
        problems.append(f"found in several centres (write centre/patient_id): {', '.join(ambiguous)}")
    if problems:
        raise ValueError("CASE_IDS " + "; ".join(problems))
    return chosen


def published_case_ids(data: pd.DataFrame) -> list[str]:
    """Keys of the cohort's patients that match the paper's case descriptions exactly (empty if any is missing)."""
    ids = []
    keys = case_keys(data)
    for _, case in published.cases().iterrows():
        match = (data["age"].astype(float) == float(case["age"])) & (data["sex"] == case["sex"]) & \
                (data["level"] == case["level"]) & (data["cement_distribution"] == case["cement_distribution"])
        for variable in CASE_FVAH:
            match &= (data[variable].astype(float) - float(case[variable])).abs().lt(0.005).fillna(False)
        if match.sum() != 1:
            return []
        ids.append(keys[match].iloc[0])
    return ids


def representative_case_ids(data: pd.DataFrame) -> list[str]:
    """One patient per distribution type: complete FVAH, FVAHL closest to the type's median (lowest key on ties)."""
    complete = data.assign(case_key=case_keys(data)).dropna(subset=list(CASE_FVAH))
    ids = []
    for _, part in complete.groupby("cement_distribution", observed=True, sort=True):
        distance = (part["fvahl"].astype(float) - part["fvahl"].astype(float).median()).abs()
        ordered = part.assign(distance=distance).sort_values(["distance", "case_key"])
        ids.append(ordered["case_key"].iloc[0])
    return ids


def choose_case_ids(data: pd.DataFrame, case_ids: str = "") -> tuple[list[str], str, bool]:
    """The patients to present (keys, see :func:`case_keys`), how they were chosen, and whether they are the paper's cases."""
    if case_ids.strip():
        return check_case_ids(data, case_ids), "chosen by the user (option CASE_IDS)", False
    found = published_case_ids(data)
    if found:
        return found, "the paper's three case patients (found in the data by age, sex, level, distribution type and FVAH)", True
    chosen = representative_case_ids(data)
    if not chosen:
        return [], ("none: no patient has complete FVAH measurements (before and after surgery and at the final visit), "
                    "so there is no case to present"), False
    return chosen, ("one patient per cement-distribution type, the one whose FVAHL is closest to "
                    "the type's median (complete FVAH measurements; lowest patient_id on ties)"), False


def case_paragraph(patient: pd.Series, published_case: bool = False) -> str:
    """A paragraph about one patient, every fact taken from the row.

    ``published_case``: the patient stands for one of the paper's case presentations, whose treatment group the
    paper does not state; the paragraph says so.
    """
    sex = {"F": "woman", "M": "man"}.get(str(patient["sex"]), "patient")
    description = f"{int(patient['age'])}-year-old {sex}" if not pd.isna(patient["age"]) else sex
    segment = f"{patient['segment']} segment" if not pd.isna(patient["segment"]) else "segment not recorded"
    fvah = [f"{float(patient[v]):.2f} mm" if not pd.isna(patient[v]) else "not measured" for v in CASE_FVAH]
    group = (f"The paper does not give the treatment group of this {description}; the data place "
             f"{'her' if sex == 'woman' else 'him' if sex == 'man' else 'the patient'} in group {patient['group']}."
             if published_case else f"The patient was in group {patient['group']}.")
    loss = patient["fvahl"]
    loss_text = f"{float(loss):.2f} mm" if not pd.isna(loss) else "not computable"
    return (f"Patient {myst.code_span(patient['patient_id'])}, {myst.article(description)} {description}, was treated for a fracture of "
            f"{patient['level']} ({segment}). {group} The cement reached a type {patient['cement_distribution']} distribution. "
            f"The anterior height of the fractured vertebra was {fvah[0]} before surgery, {fvah[1]} 24 h after it and {fvah[2]} at the "
            f"final follow-up, a loss of {loss_text} after surgery (FVAHL): {recompression_wording(loss)} by this report's definitions.")
