"""Clinically important improvement: patients whose pain or disability improved by at least a threshold.

A difference of means can be significant and still too small for a patient to notice, or too uncertain to say.
Responder analysis asks the patient-level question instead: what share of each group improved from its
pre-operative value by at least the minimal clinically important difference (MCID)?  Thresholds come from
study.yml ``mcid`` (variable → points); the defaults are those of Ostelo et al. (2008, *Spine* 33:90–94): 15 of
100 mm on the pain VAS (1.5 points on the 0–10 scale) and 10 points on the ODI.  The shares are compared as risk
differences with Newcombe's interval (:func:`vertebroplasty.comparisons.category_differences`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import comparisons, dictionary, myst

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


def responders_table(frame: pd.DataFrame) -> str:
    """The responder shares as a list-table."""
    rows = []
    for r in frame.itertuples():
        difference = ("—" if pd.isna(r.risk_difference) else
                      f"{100 * r.risk_difference:.1f} ({100 * r.ci_low:.1f} to {100 * r.ci_high:.1f})")
        rows.append([dictionary.prose_label(r.variable), f"{r.threshold:g} points",
                     f"{r.count_first} of {r.n_first} ({r.percent_first:.1f} %)" if r.n_first else "—",
                     f"{r.count_second} of {r.n_second} ({r.percent_second:.1f} %)" if r.n_second else "—", difference])
    return myst.list_table(["Score", "Improvement of at least", "Group A", "Group B",
                            "Difference, percentage points (95 % CI)"], rows, [22, 18, 18, 18, 24])


#: Share of both groups above which a threshold is reached by nearly everyone and cannot tell the groups apart.
CEILING = 0.9


def importance_sentence(frame: pd.DataFrame, defaults: bool) -> str:
    """The sentence on whether the pain and disability differences matter to patients, from the responders (plain text:
    it is glued, so it carries no markup)."""
    if frame.empty:
        return "No pain or disability score with a pre-operative value was available to judge clinically important change."
    source = (" (the minimal clinically important differences of Ostelo et al., 2008)" if defaults
              else " (the thresholds given in the study description)")
    parts, differ, ceiling = [], [], []
    for r in frame.itertuples():
        label = dictionary.prose_label(r.variable)
        if pd.isna(r.risk_difference):
            parts.append(f"{label}: not computable")
            continue
        parts.append(f"{label} {r.percent_first:.1f} % vs {r.percent_second:.1f} % (difference {100 * r.risk_difference:.1f} "
                     f"percentage points, 95 % CI {100 * r.ci_low:.1f} to {100 * r.ci_high:.1f})")
        if r.ci_low > 0 or r.ci_high < 0:
            differ.append(f"{'more' if r.risk_difference > 0 else 'fewer'} patients of group A reached it for {label}")
        if min(r.percent_first, r.percent_second) >= 100 * CEILING:
            ceiling.append(label)
    thresholds = myst.english_list(sorted({f"{r.threshold:g} points on the {dictionary.prose_label(r.variable).split(' ')[0]}"
                                           for r in frame.itertuples()}))
    text = (f"Whether a difference matters to patients is judged here by the share of each group whose score improved from "
            f"before surgery by at least {thresholds}{source}: {'; '.join(parts)}.")
    if differ:
        text += f" By those intervals, {myst.english_list(differ)}."
    else:
        text += " No interval excludes equal shares, so the data do not show that aspiration changes how many patients improve noticeably."
    if ceiling:
        text += (f" For {myst.english_list(ceiling)} at least {100 * CEILING:.0f} % of both groups improved by that much, so the "
                 "threshold is reached by nearly everyone and cannot tell the groups apart; the differences of means and their "
                 "intervals (Tables 2 and 3) are then the better guide to size.")
    return text
