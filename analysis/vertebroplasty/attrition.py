"""Who was measured when: the flow of patients, missing data by variable and group, and attrition compared between groups.

Reporting items 13 and 16 of STROBE (von Elm et al., 2007): the numbers of patients at each stage, the reasons
data are missing where known, and the number analysed for each outcome.  A patient counts as *followed up* when
any final-follow-up measurement is recorded; as *lost to follow-up* when none is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import comparisons, dictionary, myst, tables
from .contract import CROSS_COLUMN_RULE_COLUMN

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


def flow(data: pd.DataFrame, outcomes: tuple[str, ...] = FLOW_OUTCOMES) -> pd.DataFrame:
    """The flow of patients per group, tidy: ``stage, label, group, n``.

    Stages: ``enrolled``; ``measured_<stage>`` (every measurement of the stage recorded); ``followed_up`` (any
    final measurement); ``lost`` (no final measurement); ``analysed_<outcome>`` (patients with that outcome).
    """
    groups = comparisons.defined_levels(data, "group")
    rows = []
    for group in groups:
        part = data[data["group"].astype(str) == group]
        rows.append(("enrolled", "enrolled", group, len(part)))
        for stage, words in STAGES.items():
            complete = part[stage_variables(stage)].notna().all(axis=1)
            rows.append((f"measured_{stage}", f"all measurements {words}", group, int(complete.sum())))
        followed = followed_up(part)
        rows.append(("followed_up", "seen at the final follow-up", group, int(followed.sum())))
        rows.append(("lost", "lost to follow-up (no final measurement)", group, int((~followed).sum())))
        for outcome in outcomes:
            if outcome in part:
                rows.append((f"analysed_{outcome}", f"analysed for {dictionary.label(outcome)}", group, int(part[outcome].notna().sum())))
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
            rows.append((variable, dictionary.label(variable), group, len(part), missing, 100.0 * missing / len(part) if len(part) else np.nan))
    frame = pd.DataFrame(rows, columns=["variable", "label", "group", "n", "missing", "percent"])
    has_missing = frame.groupby("variable")["missing"].transform("sum") > 0
    return frame[has_missing].reset_index(drop=True)


def attrition_test(data: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Loss to follow-up compared between the groups: one row of :data:`comparisons.TEST_COLUMNS` (χ², exact p beside it).

    The counts are those of :func:`followed_up`; with no patient lost the row says the comparison is not computable.
    """
    frame = pd.DataFrame({"group": data["group"], "lost_to_follow_up": (~followed_up(data)).map({True: "yes", False: "no"})})
    return comparisons.compare_proportions(frame, "lost_to_follow_up", "group", "fisher", confidence)


def missing_table(missing: pd.DataFrame) -> str:
    """The missing-data table as MyST: one row per variable, missing n (%) per group."""
    groups = list(dict.fromkeys(missing["group"]))
    rows = []
    for _, part in missing.groupby("variable", sort=False):
        by_group = part.set_index("group")
        rows.append([part["label"].iloc[0]] + [f"{int(by_group.loc[g, 'missing'])} of {int(by_group.loc[g, 'n'])} "
                                              f"({by_group.loc[g, 'percent']:.1f} %)" if g in by_group.index else "—" for g in groups])
    return myst.list_table(["Variable", *[f"Group {g}: missing" for g in groups]], rows, [40] + [30] * len(groups))


def flow_table(flow_frame: pd.DataFrame) -> str:
    """The flow of patients as a MyST table: one row per stage, n per group."""
    table = flow_frame.pivot_table(index=["stage", "label"], columns="group", values="n", sort=False).reset_index()
    groups = [column for column in table.columns if column not in ("stage", "label")]
    rows = [[row["label"], *[str(int(row[g])) for g in groups]] for _, row in table.iterrows()]
    return myst.list_table(["Stage", *[f"Group {g}" for g in groups]], rows, [60] + [20] * len(groups))


def attrition_sentence(flow_frame: pd.DataFrame, attrition: pd.DataFrame, data: pd.DataFrame | None = None, alpha: float = 0.05) -> str:
    """Who was lost to follow-up, by group and cement-distribution type, and whether the groups differ in it."""
    counts = flow_frame.set_index(["stage", "group"])["n"]
    groups = list(dict.fromkeys(flow_frame["group"]))
    lost = {g: int(counts[("lost", g)]) for g in groups}
    enrolled = {g: int(counts[("enrolled", g)]) for g in groups}
    if sum(lost.values()) == 0:
        return "Every patient was seen at the final follow-up; no patient was lost."
    parts = [f"{lost[g]} of {enrolled[g]} in group {g} ({100 * lost[g] / enrolled[g]:.1f} %)" for g in groups]
    test = attrition.iloc[0]
    if test["reason"]:
        comparison = f"the groups cannot be compared ({test['reason']})"
    else:
        p = test["p_val"]
        comparison = f"{comparisons.TEST_NAMES[test['test']]} {tables.format_p_in_text(p)}"
        comparison = (f"the proportions lost {'differ' if p < alpha else 'do not differ significantly'} between the groups "
                      f"({comparison}), which with so few losses says little")
    who = ""
    if data is not None:
        lost_rows = data[~followed_up(data)]
        by_type = lost_rows.groupby(["group", "cement_distribution"], observed=True).size()
        described = [f"group {g}: " + ", ".join(f"{n} with type {t}" for (group, t), n in by_type.items() if group == g)
                     for g in groups if lost[g]]
        who = f" Those lost were, by group and cement-distribution type, {'; '.join(described)}."
    total = sum(lost.values())
    return (f"{total} {'patient' if total == 1 else 'patients'} had no final follow-up measurement: {myst.english_list(parts)}; "
            f"{comparison}.{who} Their final-follow-up outcomes and the changes computed from them are missing; every comparison "
            "of those outcomes uses the patients who were measured (available cases), which is unbiased only if the losses are "
            "unrelated to the outcomes (missing completely at random) — an assumption the data cannot confirm.")


def analysis_rule(data: pd.DataFrame) -> str:
    """The methods' statement of who was analysed, computed from the data."""
    total = len(data)
    complete = int(data[[v for stage in STAGES for v in stage_variables(stage)]].notna().all(axis=1).sum())
    if complete == total:
        return (f"All {total} patients had every measurement, so every comparison uses every patient. Had values been missing, "
                "each comparison would have used the patients with the measurement (available-case analysis).")
    return (f"{complete} of the {total} patients had every measurement. Each comparison uses the patients with the measurement "
            "(available-case analysis); no value was imputed, and every table cell and result sentence gives its n where it is "
            "smaller than the group's size. Patients who were lost to follow-up stay in the analyses of the timepoints at which "
            "they were measured.")

