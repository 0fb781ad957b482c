"""Follow-up and missing values in words and tables: the flow table, missing-data tables and sentences."""

from __future__ import annotations

import pandas as pd

from vertebroplasty.statistics.attrition import MISSING_WORDS, STAGES, followed_up, stage_variables
from vertebroplasty.writing import myst, numbers


def missing_final_table(flow_frame: pd.DataFrame, tests: pd.DataFrame) -> str:
    """Missing final values by kind and group, with Fisher's exact test, as MyST."""
    counts = flow_frame.set_index(["stage", "group"])["n"]
    groups = [g for g in dict.fromkeys(flow_frame["group"]) if g != "all"]
    rows = []
    for test in tests.itertuples():
        cells = [f"{int(counts[(test.stage, g)])} of {int(counts[('enrolled', g)])}" for g in groups]
        p = "—" if test.reason else numbers.format_p_in_text(test.p_val).removeprefix("p = ").removeprefix("p ")
        rows.append([MISSING_WORDS[test.stage][0].upper() + MISSING_WORDS[test.stage][1:], *cells, p])
    return myst.list_table(["Patients", *[f"Group {g}" for g in groups], "Fisher's exact p"], rows, [40] + [20] * len(groups) + [20],
                           name="table-missing-final",
                           caption="Patients without a final value of each headline outcome, by group (a patient without a final value "
                                   "of an outcome is missing for that outcome); Fisher's exact test compares the groups.")


def missing_table(missing: pd.DataFrame) -> str:
    """The missing-data table as MyST: one row per variable, missing n (%) per group."""
    groups = list(dict.fromkeys(missing["group"]))
    rows = []
    for _, part in missing.groupby("variable", sort=False):
        by_group = part.set_index("group")
        rows.append([part["label"].iloc[0]] + [f"{int(by_group.loc[g, 'missing'])} of {int(by_group.loc[g, 'n'])} "
                                              f"({by_group.loc[g, 'percent']:.1f} %)" if g in by_group.index else "—" for g in groups])
    return myst.list_table(["Variable", *[f"Group {g}: missing" for g in groups]], rows, [40] + [30] * len(groups),
                           name="table-missing", caption="Missing values by variable and group.")


def flow_table(flow_frame: pd.DataFrame) -> str:
    """The flow of patients as a MyST table: one row per stage, n per group."""
    before = flow_frame[flow_frame["group"] == "all"]
    table = flow_frame[flow_frame["group"] != "all"].pivot_table(index=["stage", "label"], columns="group", values="n",
                                                                 sort=False).reset_index()
    groups = [column for column in table.columns if column not in ("stage", "label")]
    rows = [[f"{myst.escape_markdown(row.label)} (before the analysis): {int(row.n)}", *[""] * len(groups)] for row in before.itertuples()]
    rows += [[row["label"], *[str(int(row[g])) for g in groups]] for _, row in table.iterrows()]
    return myst.list_table(["Stage", *[f"Group {g}" for g in groups]], rows, [60] + [20] * len(groups),
                           name="table-flow", caption="Patients at each stage of the study, by group (the numbers of the flow diagram).")


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
                    f"Fisher's exact test {numbers.format_p_in_text(test['p_val'])}")
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


def attrition_brief(flow_frame: pd.DataFrame, lost_excluded: bool = False) -> str:
    """The summary's one line on follow-up: complete, or how many lack a final value and how many have none (the
    Results give the account by group and its test).

    >>> flow = pd.DataFrame({"stage": ["enrolled", "enrolled", "missing_any_final", "missing_any_final", "lost", "lost"],
    ...                      "group": ["A", "B"] * 3, "n": [40, 40, 3, 1, 2, 0]})
    >>> attrition_brief(flow)
    '4 of the 80 patients lack a final value, and 2 of them have none at all (see Results).'
    """
    counts = flow_frame.set_index(["stage", "group"])["n"]
    groups = [g for g in dict.fromkeys(flow_frame["group"]) if g != "all"]
    enrolled, missing_any, lost = (sum(int(counts[(stage, g)]) for g in groups) for stage in ("enrolled", "missing_any_final", "lost"))
    if missing_any == 0:  # complete; by selection when the study left out patients lost to follow-up
        return ("Follow-up was complete, by selection: the study excluded patients lost to follow-up." if lost_excluded
                else "Follow-up was complete.")
    if lost == missing_any:
        return f"{lost} of the {enrolled} patients {'has' if lost == 1 else 'have'} no final value at all (see Results)."
    text = f"{missing_any} of the {enrolled} patients {'lacks' if missing_any == 1 else 'lack'} a final value"
    return text + (f", and {lost} of them {'has' if lost == 1 else 'have'} none at all" if lost else "") + " (see Results)."


def missing_limitation(flow_frame: pd.DataFrame) -> str:
    """The limitations' word on missing values: complete follow-up, or how many lack a final value, pointing to the
    Results' account (given there once) and naming the assumption the analyses rest on."""
    counts = flow_frame.set_index(["stage", "group"])["n"]
    groups = [g for g in dict.fromkeys(flow_frame["group"]) if g != "all"]
    missing_any = sum(int(counts[("missing_any_final", g)]) for g in groups)
    enrolled = sum(int(counts[("enrolled", g)]) for g in groups)
    if missing_any == 0:
        return "Follow-up is complete in this cohort: no final value is missing."
    return (f"{missing_any} of {enrolled} patients lack at least one final value (Results, Patients and follow-up). Both the "
            "available-case comparisons and the imputed estimates assume that a value's absence is unrelated to the value itself; "
            "a patient lost after a re-collapse would break that assumption, and the data cannot tell.")


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
