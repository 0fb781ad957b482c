"""Who was measured when: the flow of patients, missing data by variable and group, and attrition compared between groups.

Reporting items 13 and 16 of STROBE (von Elm et al., 2007): the numbers of patients at each stage, the reasons
data are missing where known, and the number analysed for each outcome.  Missingness is counted per outcome: a
patient without a final value of an outcome is missing for that outcome, whatever else was recorded.  The final
values fall into two kinds — the radiographs (heights and angles) and the scores (VAS, ODI) — and the flow shows, by
group, who lacks each kind; a patient is *lost to follow-up* only when no final value of any kind exists, and no
sentence says nobody was lost unless every final value is present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.validation import CROSS_COLUMN_RULE_COLUMN
from vertebroplasty.statistics import comparisons

#: Input variables recorded at each stage, by results name.
STAGES = {
    "pre": "before surgery",
    "op": "during cementing",
    "post": "24 h after surgery",
    "final": "at the final follow-up",
}
#: Outcomes whose analysed n the flow reports (the study's headline outcomes).
FLOW_OUTCOMES = ("vas_op", "lka_loss", "fvahl", "avhlr", "odi_final", "vas_final")


def stage_variables(stage: str) -> list[str]:
    """Measurements of one stage (``fvah_final``, ``lka_final``, ``vas_final``, … for ``final``)."""
    return [variable for variable in dictionary.load_dictionary()["variable"]
            if variable.endswith(f"_{stage}") and dictionary.role(variable) in ("baseline", "outcome")]


def followed_up(data: pd.DataFrame) -> pd.Series:
    """True for patients with at least one final-follow-up measurement."""
    return data[stage_variables("final")].notna().any(axis=1)


def final_kinds() -> dict[str, tuple[str, list[str]]]:
    """The kinds of final value, by name: (words, variables) — radiographs (measurements) and scores (VAS, ODI)."""
    final = stage_variables("final")
    return {"final_radiographs": ("final radiographs (heights and angles)", [v for v in final if dictionary.scale(v) != "ordinal"]),
            "final_scores": ("final VAS and ODI", [v for v in final if dictionary.scale(v) == "ordinal"])}


def missing_final(data: pd.DataFrame) -> dict[str, pd.Series]:
    """Per kind, True for a patient missing at least one value of that kind; ``any_final`` (missing any final value) and
    ``lost`` (no final value at all)."""
    present = {kind: (data[variables].notna().all(axis=1) if variables else pd.Series(True, index=data.index))
               for kind, (_, variables) in final_kinds().items()}
    missing = {f"missing_{kind}": ~complete for kind, complete in present.items()}
    missing["missing_any_final"] = ~data[stage_variables("final")].notna().all(axis=1)
    missing["lost"] = ~followed_up(data)
    return missing


MISSING_WORDS = {"missing_final_radiographs": "without complete final radiographs", "missing_final_scores": "without final VAS or ODI",
                 "missing_any_final": "missing any final value", "lost": "lost to follow-up (no final value at all)"}


def flow(data: pd.DataFrame, outcomes: tuple[str, ...] = FLOW_OUTCOMES, screened: int | None = None,
         excluded: dict[str, int] | None = None) -> pd.DataFrame:
    """The flow of patients per group, tidy: ``stage, label, group, n``.

    Stages: ``enrolled``; ``measured_<stage>`` (every measurement of the stage recorded); ``followed_up`` (any
    final measurement); ``missing_final_radiographs`` and ``missing_final_scores`` (a value of that kind missing);
    ``missing_any_final``; ``lost`` (no final measurement); ``analysed_<outcome>`` (patients with that outcome).
    When the study description gives them, ``screened`` and one ``excluded_<n>`` row per reason (study.yml ``screened``,
    ``excluded``) come first, with group ``all``: they precede the allocation to the groups.
    """
    groups = comparisons.defined_levels(data, "group")
    rows = []
    if screened is not None:
        rows.append(("screened", "screened for eligibility", "all", int(screened)))
    for number, (reason, count) in enumerate((excluded or {}).items(), 1):
        rows.append((f"excluded_{number}", f"excluded: {' '.join(str(reason).split())}", "all", int(count)))
    for group in groups:
        part = data[data["group"].astype(str) == group]
        rows.append(("enrolled", "enrolled", group, len(part)))
        for stage, words in STAGES.items():
            complete = part[stage_variables(stage)].notna().all(axis=1)
            rows.append((f"measured_{stage}", f"all measurements {words}", group, int(complete.sum())))
        followed = followed_up(part)
        rows.append(("followed_up", "seen at the final follow-up (any final value)", group, int(followed.sum())))
        for stage, missing in missing_final(part).items():
            rows.append((stage, MISSING_WORDS[stage], group, int(missing.sum())))
        for outcome in outcomes:
            if outcome in part:
                rows.append((f"analysed_{outcome}", f"analysed for {dictionary.prose_label(outcome)}", group, int(part[outcome].notna().sum())))
    return pd.DataFrame(rows, columns=["stage", "label", "group", "n"])


def missing_data(data: pd.DataFrame) -> pd.DataFrame:
    """Missing values by input variable and group, for variables with any missing value: ``variable, label, group, n, missing, percent``."""
    groups = comparisons.defined_levels(data, "group")
    rows = []
    for column in dictionary.column_names():
        variable = dictionary.variable_of_column(column)
        if variable not in data or dictionary.role(variable) in ("identifier", "centre", "exposure"):
            continue
        for group in groups:
            part = data.loc[data["group"].astype(str) == group, variable]
            if column == CROSS_COLUMN_RULE_COLUMN and group != "A":
                continue  # empty by the contract in group B
            missing = int(part.isna().sum())
            rows.append((variable, dictionary.prose_label(variable), group, len(part), missing, 100.0 * missing / len(part) if len(part) else np.nan))
    frame = pd.DataFrame(rows, columns=["variable", "label", "group", "n", "missing", "percent"])
    has_missing = frame.groupby("variable")["missing"].transform("sum") > 0
    return frame[has_missing].reset_index(drop=True)


def attrition_test(data: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Missing final values compared between the groups, one row per kind of :func:`missing_final` with
    :data:`comparisons.TEST_COLUMNS` plus ``stage`` (Fisher's exact test; not computable when nobody or everybody misses)."""
    rows = []
    for stage, missing in missing_final(data).items():
        frame = pd.DataFrame({"group": data["group"], stage: missing.map({True: "yes", False: "no"})})
        row = comparisons.compare_proportions(frame, stage, "group", "fisher", confidence)
        if not missing.any():
            row["reason"] = "no patient misses such a value"
        rows.append(row.assign(stage=stage))
    return pd.concat(rows, ignore_index=True)











