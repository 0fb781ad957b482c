"""Derived radiographic indices, one function each, as the study's methods define them.

Every function takes pandas Series (or scalars) and is vectorised; a missing
input gives a missing output (pandas' nullable arithmetic propagates ``NA``).
The formulas are also written, as LaTeX, in ``data/derived_indices.csv``,
from which the methods chapter displays them.
"""

from __future__ import annotations

import pandas as pd

TIMEPOINTS = ("pre", "post", "final")

SEGMENT_OF_LEVEL = {
    **{f"T{number}": "thoracic" for number in range(1, 11)},
    "T11": "thoracolumbar", "T12": "thoracolumbar", "L1": "thoracolumbar", "L2": "thoracolumbar",
    "L3": "lumbar", "L4": "lumbar", "L5": "lumbar",
}
SEGMENTS = ("thoracic", "thoracolumbar", "lumbar")


def anterior_vertebral_height_ratio(fvah_mm, upper_vah_mm, lower_vah_mm):
    """AVHR (%) = FVAH / mean(anterior heights of the adjacent vertebrae) × 100.

    >>> round(anterior_vertebral_height_ratio(21.0, 28.0, 30.0), 4)  # 21 / 29 * 100
    72.4138
    """
    return fvah_mm / (upper_vah_mm + lower_vah_mm) * 2 * 100


def recovery(before, after):
    """Change gained by surgery (AVHRR, FVAHR): ``after - before``.

    Used with (pre, post); for the kyphotic angles, whose improvement is a
    decrease, see :func:`angle_recovery`.
    """
    return after - before


def loss(post, final):
    """Height lost between 24 h and final follow-up (AVHLR, FVAHL): ``post - final``."""
    return post - final


def angle_recovery(angle_pre, angle_post):
    """LKA/RKA recovery = pre-op angle − 24 h post-op angle (a correction is positive)."""
    return angle_pre - angle_post


def angle_loss(angle_post, angle_final):
    """LKA/RKA loss = final angle − 24 h post-op angle (a re-kyphosis is positive)."""
    return angle_final - angle_post


def segment(level: pd.Series) -> pd.Series:
    """Spinal segment of the fractured level: thoracic T1–T10, thoracolumbar T11–L2, lumbar L3–L5."""
    return pd.Series(pd.Categorical(level.map(SEGMENT_OF_LEVEL), categories=SEGMENTS), index=level.index)


def derive(data: pd.DataFrame) -> pd.DataFrame:
    """Return a new table: the raw columns plus every derived index.

    The input frame is not modified.  Column names of the indices are the
    results-table names of ``data/derived_indices.csv``.
    """
    derived = data.copy()
    as_float = {column: data[column].astype("Float64") for column in data.columns
                if column.endswith(("_mm", "_deg"))}
    for timepoint in TIMEPOINTS:
        derived[f"avhr_{timepoint}"] = anterior_vertebral_height_ratio(
            as_float[f"fvah_{timepoint}_mm"],
            as_float[f"upper_vah_{timepoint}_mm"],
            as_float[f"lower_vah_{timepoint}_mm"],
        )
    derived["avhrr"] = recovery(derived["avhr_pre"], derived["avhr_post"])
    derived["avhlr"] = loss(derived["avhr_post"], derived["avhr_final"])
    derived["fvahr"] = recovery(as_float["fvah_pre_mm"], as_float["fvah_post_mm"])
    derived["fvahl"] = loss(as_float["fvah_post_mm"], as_float["fvah_final_mm"])
    for angle in ("lka", "rka"):
        derived[f"{angle}_recovery"] = angle_recovery(as_float[f"{angle}_pre_deg"], as_float[f"{angle}_post_deg"])
        derived[f"{angle}_loss"] = angle_loss(as_float[f"{angle}_post_deg"], as_float[f"{angle}_final_deg"])
    derived["segment"] = segment(data["level"].astype(object))
    return derived
