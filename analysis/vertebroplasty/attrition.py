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


def missing_final_table(flow_frame: pd.DataFrame, tests: pd.DataFrame) -> str:
    """Missing final values by kind and group, with Fisher's exact test, as MyST."""
    counts = flow_frame.set_index(["stage", "group"])["n"]
    groups = [g for g in dict.fromkeys(flow_frame["group"]) if g != "all"]
    rows = []
    for test in tests.itertuples():
        cells = [f"{int(counts[(test.stage, g)])} of {int(counts[('enrolled', g)])}" for g in groups]
        p = "—" if test.reason else tables.format_p_in_text(test.p_val).removeprefix("p = ").removeprefix("p ")
        rows.append([MISSING_WORDS[test.stage][0].upper() + MISSING_WORDS[test.stage][1:], *cells, p])
    return myst.list_table(["Patients", *[f"Group {g}" for g in groups], "Fisher's exact p"], rows, [40] + [20] * len(groups) + [20])


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
    before = flow_frame[flow_frame["group"] == "all"]
    table = flow_frame[flow_frame["group"] != "all"].pivot_table(index=["stage", "label"], columns="group", values="n",
                                                                 sort=False).reset_index()
    groups = [column for column in table.columns if column not in ("stage", "label")]
    rows = [[f"{myst.escape_markdown(row.label)} (before the analysis): {int(row.n)}", *[""] * len(groups)] for row in before.itertuples()]
    rows += [[row["label"], *[str(int(row[g])) for g in groups]] for _, row in table.iterrows()]
    return myst.list_table(["Stage", *[f"Group {g}" for g in groups]], rows, [60] + [20] * len(groups))


def attrition_sentence(flow_frame: pd.DataFrame, attrition: pd.DataFrame, data: pd.DataFrame | None = None, alpha: float = 0.05) -> str:
    """Who misses which final values, by group, compared between the groups (Fisher); who has none at all, by type."""
    counts = flow_frame.set_index(["stage", "group"])["n"]
    groups = [g for g in dict.fromkeys(flow_frame["group"]) if g != "all"]
    enrolled = {g: int(counts[("enrolled", g)]) for g in groups}
    missing_any = sum(int(counts[("missing_any_final", g)]) for g in groups)
    if missing_any == 0:
        return "Every patient had every final-follow-up value; no patient was lost to follow-up."
    tests = attrition.set_index("stage")
    parts = []
    for stage in ("missing_final_radiographs", "missing_final_scores"):
        n = {g: int(counts[(stage, g)]) for g in groups}
        if not sum(n.values()):
            continue
        by_group = myst.english_list([f"{n[g]} of {enrolled[g]} in group {g} ({100 * n[g] / enrolled[g]:.1f} %)" for g in groups])
        test = tests.loc[stage]
        compared = (f"the groups cannot be compared ({test['reason']})" if test["reason"] else
                    f"Fisher's exact test {tables.format_p_in_text(test['p_val'])}")
        what = "complete final radiographs are" if stage.endswith("radiographs") else "a final VAS or ODI is"
        parts.append(f"{what} missing for {by_group} ({compared})")
    lost = {g: int(counts[("lost", g)]) for g in groups}
    text = (f"{missing_any} {'patient lacks' if missing_any == 1 else 'patients lack'} at least one final-follow-up value: "
            f"{'; '.join(parts)}.")
    if sum(lost.values()):
        text += (f" {sum(lost.values())} of them ({myst.english_list([f'{lost[g]} in group {g}' for g in groups])}) have no final "
                 "value at all and are lost to follow-up.")
        if data is not None:
            lost_rows = data[~followed_up(data)]
            by_type = lost_rows.groupby(["group", "cement_distribution"], observed=True).size()
            described = [f"group {g}: " + ", ".join(f"{n} with type {t}" for (group, t), n in by_type.items() if group == g)
                         for g in groups if lost[g]]
            text += f" By group and cement-distribution type, those lost were {'; '.join(described)}."
    else:
        text += " Every patient has at least one final value, but an outcome whose final value is missing is missing for that patient."
    return (text + " Each comparison of a final outcome, and of the changes computed from it, uses the patients with that value "
            "(available cases), which is unbiased only if the values are missing completely at random — an assumption the data "
            "cannot confirm. The adjusted estimates repeat the comparison of every outcome with missing values after multiple "
            "imputation, which assumes the values are missing at random given the group, the pre-operative value and the confounders; a "
            "missing final film may instead mean a re-collapse or a revision, which no analysis of these data can exclude.")


def analysis_rule(data: pd.DataFrame) -> str:
    """The methods' statement of who was analysed, computed from the data."""
    total = len(data)
    complete = int(data[[v for stage in STAGES for v in stage_variables(stage)]].notna().all(axis=1).sum())
    if complete == total:
        return (f"All {total} patients had every measurement, so every comparison uses every patient. Had values been missing, "
                "each comparison would have used the patients with the measurement (available-case analysis).")
    return (f"{complete} of the {total} patients had every measurement. Each comparison uses the patients with the measurement "
            "(available-case analysis), and every table cell and result sentence gives its n where it is smaller than the group's "
            "size; patients with missing final values stay in the analyses of the timepoints at which they were measured. As a "
            "sensitivity analysis, every outcome with missing values is estimated again after multiple imputation (Adjusted "
            "estimates in the Results).")

