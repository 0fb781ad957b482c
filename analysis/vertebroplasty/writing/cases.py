"""Case presentations: which patients, and a paragraph about each written from the data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.paper import published
from vertebroplasty.writing import myst

#: This report's own definitions (the paper gives none): how much anterior height of the fractured vertebra (FVAHL,
#: mm) and how much local kyphotic angle (LKA loss, degrees) a patient lost between the 24-hour film and the final
#: follow-up, below which each word applies.  The first limits are about the error of measuring on plain films (a
#: height by 1–2 mm, an angle by 3–5° between readings), so that "slight" does not label noise.
RECOMPRESSION_LIMITS = {"fvahl": ("height", ((2.0, "no appreciable"), (4.0, "slight"), (np.inf, "marked"))),
                        "lka_loss": ("angle", ((5.0, "no appreciable"), (10.0, "slight"), (np.inf, "marked")))}
RECOMPRESSION_ORDER = tuple(word for _, word in RECOMPRESSION_LIMITS["fvahl"][1])  # mildest first, the same for both
CASE_FVAH = ("fvah_pre", "fvah_post", "fvah_final")
CASE_LKA = ("lka_pre", "lka_post", "lka_final")


def recompression_level(measure: str, value: float) -> str | None:
    """The word of :data:`RECOMPRESSION_LIMITS` for a loss of ``value`` in ``measure`` (``fvahl`` or ``lka_loss``); None
    when the value is missing."""
    if pd.isna(value):
        return None
    for limit, word in RECOMPRESSION_LIMITS[measure][1]:
        if value < limit:
            return word
    raise AssertionError("unreachable")


def recompression_wording(fvahl_mm: float, lka_loss_deg: float = np.nan) -> str:
    """How a paragraph names what a patient lost after surgery: the worse of the height's and the angle's words, and by
    which of them, so that a vertebra that kept its height but regained its kyphosis is not called free of recompression.

    >>> recompression_wording(0.38, 10.2)
    'marked recompression by the angle (by the height: no appreciable)'
    >>> recompression_wording(4.5, 1.0)
    'marked recompression by the height (by the angle: no appreciable)'
    >>> recompression_wording(3.0, 7.0)
    'slight recompression by height and angle'
    >>> recompression_wording(0.2, -1.5)
    'no appreciable recompression by height or angle'
    >>> recompression_wording(0.2)
    'no appreciable recompression by the height (the angle cannot be judged: a value is missing)'
    >>> recompression_wording(float("nan"))
    'recompression that cannot be judged (a height and an angle are missing)'
    """
    levels = {RECOMPRESSION_LIMITS[measure][0]: recompression_level(measure, value)
              for measure, value in (("fvahl", fvahl_mm), ("lka_loss", lka_loss_deg))}
    known = {name: level for name, level in levels.items() if level is not None}
    if not known:
        return "recompression that cannot be judged (a height and an angle are missing)"
    worst = max(known.values(), key=RECOMPRESSION_ORDER.index)
    if len(known) == 1:
        (name, level), = known.items()
        missing = "angle" if name == "height" else "height"
        return f"{level} recompression by the {name} (the {missing} cannot be judged: a value is missing)"
    if known["height"] == known["angle"]:
        return f"{worst} recompression by height {'or' if worst == 'no appreciable' else 'and'} angle"
    by, other = ("height", "angle") if known["height"] == worst else ("angle", "height")
    return f"{worst} recompression by the {by} (by the {other}: {known[other]})"


def wording_rule() -> str:
    """The limits of :func:`recompression_wording`, in words, for the report.

    >>> for measure in wording_rule().split("; "): print(measure)
    FVAHL below 2 mm: no appreciable, from 2 to below 4 mm: slight, 4 mm or more: marked
    LKA loss below 5°: no appreciable, from 5 to below 10°: slight, 10° or more: marked
    """
    measures = []
    for measure, (_, limits) in RECOMPRESSION_LIMITS.items():
        unit = dictionary.difference_unit(measure)  # " mm", "°": with the space the unit takes
        parts, lower = [], None
        for limit, word in limits:
            if lower is None:
                parts.append(f"{dictionary.prose_label(measure)} below {limit:g}{unit}: {word}")
            elif np.isfinite(limit):
                parts.append(f"from {lower:g} to below {limit:g}{unit}: {word}")
            else:
                parts.append(f"{lower:g}{unit} or more: {word}")
            lower = limit
        measures.append(", ".join(parts))
    return "; ".join(measures)


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


def _measured(patient: pd.Series, columns: tuple[str, ...], unit: str) -> list[str]:
    """The patient's values of ``columns`` to two decimals with their unit, "not measured" where missing."""
    return [f"{float(patient[column]):.2f}{unit}" if not pd.isna(patient[column]) else "not measured" for column in columns]


def case_paragraph(patient: pd.Series, published_case: bool = False) -> str:
    """A paragraph about one patient, every fact taken from the row.

    ``published_case``: the patient stands for one of the paper's case presentations, whose treatment group the
    paper does not state; the paragraph says so.
    """
    sex = {"F": "woman", "M": "man"}.get(str(patient["sex"]), "patient")
    description = f"{int(patient['age'])}-year-old {sex}" if not pd.isna(patient["age"]) else sex
    segment = f"{patient['segment']} segment" if not pd.isna(patient["segment"]) else "segment not recorded"
    fvah, lka = _measured(patient, CASE_FVAH, " mm"), _measured(patient, CASE_LKA, "°")
    group = (f"The paper does not give the treatment group of this {description}; the data place "
             f"{'her' if sex == 'woman' else 'him' if sex == 'man' else 'the patient'} in group {patient['group']}."
             if published_case else f"The patient was in group {patient['group']}.")
    loss, angle_loss = patient["fvahl"], patient["lka_loss"]
    if pd.isna(loss):
        loss_text = "a change of height that cannot be computed"
    elif loss >= 0:
        loss_text = f"{float(loss):.2f} mm of height lost"
    else:
        loss_text = f"{float(-loss):.2f} mm of height gained"
    if pd.isna(angle_loss):
        angle_text = "a change of angle that cannot be computed"
    elif angle_loss >= 0:
        angle_text = f"the angle grew by {float(angle_loss):.2f}° after the 24-hour film"
    else:
        angle_text = f"the angle fell by a further {float(-angle_loss):.2f}° after the 24-hour film"
    worse_after = (" (the angle was larger 24 h after surgery than before it)"
                   if not pd.isna(patient["lka_pre"]) and not pd.isna(patient["lka_post"]) and patient["lka_post"] > patient["lka_pre"]
                   else "")
    return (f"Patient {myst.code_span(patient['patient_id'])}, {myst.article(description)} {description}, was treated for a fracture of "
            f"{patient['level']} ({segment}). {group} The cement reached a type {patient['cement_distribution']} distribution. "
            f"The anterior height of the fractured vertebra was {fvah[0]} before surgery, {fvah[1]} 24 h after it and {fvah[2]} at the "
            f"final follow-up: {loss_text} between the 24-hour film and the final follow-up (FVAHL). The local kyphotic angle was "
            f"{lka[0]}, {lka[1]} and {lka[2]} at the same times{worse_after}: {angle_text} (LKA loss) — by this report's definitions, "
            f"{recompression_wording(loss, angle_loss)}.")
