"""Clinically important improvement: patients whose pain or disability improved by at least a threshold.

A difference of means can be significant and still too small for a patient to notice, or too uncertain to say.
Responder analysis asks the patient-level question instead: what share of each group improved from its
pre-operative value by at least the minimal clinically important difference (MCID)?  Thresholds come from
study.yml ``mcid`` (variable → points); the defaults are those of Ostelo et al. (2008, *Spine* 33:90–94): 15 of
100 mm on the pain VAS (1.5 points on the 0–10 scale) and 10 points on the ODI.  The shares are compared as risk
differences with Newcombe's interval (:func:`vertebroplasty.statistics.comparisons.category_differences`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import comparisons

COLUMNS = ["variable", "baseline", "threshold", "count_first", "n_first", "count_second", "n_second", "percent_first",
           "percent_second", "risk_difference", "ci_low", "ci_high", "method"]


def improved(data: pd.DataFrame, variable: str, threshold: float) -> pd.Series:
    """``yes`` when the score fell from its pre-operative value by at least ``threshold`` points, ``no`` when not, missing
    when either value is missing (lower VAS and ODI are better).

    >>> frame = pd.DataFrame({"vas_pre": [8, 8, 8, None], "vas_final": [6, 7, None, 1]})
    >>> improved(frame, "vas_final", 1.5).tolist()
    ['yes', 'no', nan, nan]
    """
    before = pd.to_numeric(data[dictionary.baseline_variable(variable)], errors="coerce").astype(float)
    after = pd.to_numeric(data[variable], errors="coerce").astype(float)
    change = before - after
    return pd.Series(np.where(change >= threshold - 1e-9, "yes", "no"), index=data.index, dtype=object).where(change.notna())


def responders(data: pd.DataFrame, thresholds: dict[str, float], confidence: float = 0.95) -> pd.DataFrame:
    """Responders per group for every thresholded score: :data:`COLUMNS`, group A minus group B."""
    rows = []
    for variable, threshold in thresholds.items():
        if variable not in data or dictionary.baseline_variable(variable) not in data:
            continue
        frame = pd.DataFrame({"group": data["group"], "responder": improved(data, variable, threshold)})
        row = {"variable": variable, "baseline": dictionary.baseline_variable(variable), "threshold": float(threshold)}
        found = comparisons.category_differences(frame, "responder", "group", confidence) if frame["responder"].notna().any() else None
        if found is None or "yes" not in set(found["category"]):
            counts = frame.dropna().groupby("group", observed=True).size()
            row.update(count_first=0, n_first=int(counts.get("A", 0)), count_second=0, n_second=int(counts.get("B", 0)),
                       percent_first=0.0 if counts.get("A", 0) else np.nan, percent_second=0.0 if counts.get("B", 0) else np.nan,
                       risk_difference=np.nan, ci_low=np.nan, ci_high=np.nan, method="")
        else:
            yes = found[found["category"] == "yes"].iloc[0]
            row.update({column: yes[column] for column in COLUMNS if column in yes.index and column not in row})
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)






