"""Texts a journal asks for beyond the results: the structured abstract, the study size (STROBE item 10) and the
generalisability of the results (item 21), each written from the study description and the computed results.

Nothing here is a fixed clinical statement: every sentence is computed from the data, taken from the study
description, or says that the description is silent.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import attrition, testing_rule
from vertebroplasty.statistics.testing_rule import Plan
from vertebroplasty.writing import myst, numbers, sentences, tables
from vertebroplasty.writing.adjusted_text import confounder_names

#: The abstract's limit, as most journals set it for a structured abstract.
MAX_WORDS = 300
DEFAULT_BACKGROUND = ("Aspirating the fracture haemorrhage through the working cannula before cementing is meant to let the "
                      "bone cement spread further inside the vertebral body and so keep the vertebra from collapsing again.")


def words(text: str) -> int:
    """Words of a MyST text as a reader counts them (markup and numbers' signs ignored).

    >>> words("**Background.** Two words.")
    3
    """
    plain = re.sub(r"[*`_{}\\[\]()]", " ", text)
    return len([w for w in plain.split() if re.search(r"\w", w)])


def first_sentence(text: str) -> str:
    """The first sentence of a text from the study file.

    >>> first_sentence("Fractures are common. They hurt.")
    'Fractures are common.'
    """
    text = " ".join(str(text).split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return myst.sentence(match.group(1) if match else text)


def primary_result(results: dict, plan: Plan, alpha: float) -> str:
    """One sentence on the primary comparison: the test and its key contrast with the interval."""
    table = "table1" if plan.primary in tables.TABLE_VARIABLES["table1"] else "table2"
    result = results[table]
    tests = result.tests.set_index("variable")
    test = tests.loc[plan.primary]
    label = dictionary.prose_label(plan.primary)
    if test["reason"]:
        return f"The primary outcome, {label.lower()}, could not be compared ({test['reason']})."
    p = numbers.format_p_in_text(test["p_val"])
    verdict = "differed" if test["p_val"] < alpha else "did not differ significantly"
    r = result.category_difference("cement_distribution", "A") if plan.primary == "cement_distribution" else None
    if r is not None:
        return (f"The cement distribution, the primary outcome, {verdict} between the groups ({p}): type A in {r.percent_first:.1f} % "
                    f"vs {r.percent_second:.1f} % (difference {100 * r.risk_difference:.1f} percentage points, 95 % CI "
                    f"{100 * r.ci_low:.1f} to {100 * r.ci_high:.1f}).")
    effect = sentences.effect_text(test, dictionary.difference_unit(plan.primary))
    return f"{label}, the primary outcome, {verdict} between the groups ({effect}; {p})."


def structured_abstract(study, plan: Plan, results: dict, answers: pd.DataFrame, data: pd.DataFrame, alpha: float,
                        synthetic: bool, explained: list[str]) -> str:
    """Background, Methods, Results, Conclusions — at most :data:`MAX_WORDS` words (MyST)."""
    e = myst.escape_markdown
    background = e(first_sentence(study.background)) if study.background else DEFAULT_BACKGROUND
    sizes = data["group"].astype(str).value_counts()
    design = myst.clause(study.design) if study.design else "A comparison"
    design = design[0].upper() + design[1:]
    where = f" at {e(myst.english_list([myst.clause(c) for c in study.centres]))}" if study.centres and len(study.centres) <= 2 else (
        f" at {len(study.centres)} centres" if study.centres else "")
    when = f", {e(study.period.start)} to {e(study.period.end)}" if study.period else ""
    data_words = " Data: a synthetic cohort reconstructed from the published summaries, not patient data." if synthetic else ""
    confounders = confounder_names(plan.confounders)
    secondary_rows = testing_rule.family_sizes(results)["secondary"]
    methods = (f"{e(design)}{where}{when}: {len(data)} patients with osteoporotic vertebral compression fractures treated by "
               f"percutaneous vertebroplasty with aspiration (group A, n = {sizes.get('A', 0)}) or conventionally (group B, "
               f"n = {sizes.get('B', 0)}). Primary outcome: {dictionary.prose_label(plan.primary).lower()}, tested at "
               f"α = {alpha:g}; {secondary_rows} secondary comparisons Holm-adjusted as one family; differences also "
               f"adjusted for the pre-operative value and for {confounders}.{data_words}")
    read = {name: sentences.Results(r.tests, r.descriptives, r.sizes, r.between, alpha, r.differences) for name, r in results.items()}
    gone = {dictionary.prose_label(v) for v in explained}
    groups = [label for label in sentences.significant_outcomes(read["table2"], tables.TABLE_VARIABLES["table2"])[0] if label not in gone]
    types = sentences.significant_outcomes(read["table3"], tables.TABLE_VARIABLES["table3"])[0]
    findings = groups + types
    parts = ([f"between the groups, {myst.english_list(groups)}"] if groups else []) + (
        [f"across the cement-distribution types, {myst.english_list(types)}"] if types else [])
    secondary = (f"Secondary outcomes that differed under the testing rule: {'; '.join(parts)}." if parts else
                 "No secondary outcome differed under the testing rule.")
    missing = int(attrition.missing_final(data)["missing_any_final"].sum())
    follow = (f"{missing} of {len(data)} patients lacked at least one final-follow-up value." if missing else
              "Every patient had every final-follow-up value.")
    closing = answers_closing(answers)
    text = (f"**Background.** {background}\n\n**Methods.** {methods}\n\n**Results.** {primary_result(results, plan, alpha)} "
            f"{secondary} {follow}\n\n**Conclusions.** {closing} These are associations in an observational comparison.")
    if words(text) > MAX_WORDS and findings:
        text = text.replace(secondary, f"{len(findings)} secondary outcomes differed under the testing rule (see Results).")
    return text


def answers_closing(answers: pd.DataFrame) -> str:
    """The conclusions in one sentence, from the verdicts."""
    from vertebroplasty.writing.conclusions import topic_phrase

    yes = [topic_phrase(row.topic) for row in answers.itertuples() if row.verdict == "yes"]
    partly = [topic_phrase(row.topic) for row in answers.itertuples() if row.verdict == "partly"]
    shown_not = [topic_phrase(row.topic) for row in answers.itertuples() if row.verdict not in ("yes", "partly", "not computable")]
    if not yes and not partly:
        return "The data show none of the differences the study asked about."
    text = f"The data show differences in {myst.english_list(yes)}" if yes else "The data show differences only in part"
    if partly:
        text += f"{', and in part in ' if yes else ', in '}{myst.english_list(partly)}"
    text += "."
    if shown_not:
        text += f" They do not show differences in {myst.english_list(shown_not)}."
    return text


def study_size_text(study, plan: Plan, results: dict, alpha: float) -> str:
    """STROBE item 10: how the number of patients came about, and the precision it gave the primary comparison."""
    e = myst.escape_markdown
    how = (e(myst.sentence(study.study_size)) if getattr(study, "study_size", None) else
           "The study description does not say how the number of patients was decided (for a retrospective study, usually "
           "every eligible patient of the period).")
    table = "table1" if plan.primary in tables.TABLE_VARIABLES["table1"] else "table2"
    result = results[table]
    sizes = result.sizes
    n_text = myst.english_list([f"{n} in group {g}" for g, n in sizes.items()])
    test = result.tests.set_index("variable").loc[plan.primary]
    row = result.category_difference("cement_distribution", "A") if plan.primary == "cement_distribution" else None
    if row is not None and pd.notna(row["ci_low"]):
        half = 100 * (row["ci_high"] - row["ci_low"]) / 2
        return (f"{how} With {n_text}, the share of type A distributions, the key contrast of the primary outcome, was "
                    f"estimated to within about ±{half:.1f} percentage points (half the width of its 95 % confidence interval): "
                    f"a true difference much smaller than that could not be told from none. The re-analysis gives the numbers a "
                    "follow-up study would need.")
    if pd.notna(test.get("ci_low")):
        half = (test["ci_high"] - test["ci_low"]) / 2
        return (f"{how} With {n_text}, the primary comparison ({dictionary.prose_label(plan.primary)}) was estimated to within "
                f"about ±{half:.2f}{dictionary.difference_unit(plan.primary)} (half the width of its 95 % confidence interval).")
    return f"{how} With {n_text}, the precision of the primary comparison cannot be stated (it could not be computed)."


def generalisability_text(study, data: pd.DataFrame) -> str:
    """STROBE item 21: who the patients were, against the inclusion criteria, and where and by whom they were treated."""
    e = myst.escape_markdown
    age = pd.to_numeric(data["age"], errors="coerce").dropna()
    parts = []
    if len(age):
        parts.append(f"aged {age.median():.0f} years in the median (interquartile range {np.percentile(age, 25):.0f} to "
                     f"{np.percentile(age, 75):.0f})")
    sex = data["sex"].astype(str)
    if sex.isin(["M", "F"]).any():
        parts.append(f"{100 * (sex == 'F').sum() / sex.isin(['M', 'F']).sum():.0f} % women")
    if "segment" in data:
        segments = data["segment"].dropna().astype(str).value_counts(normalize=True)
        if len(segments):
            parts.append(f"{100 * segments.iloc[0]:.0f} % with a {dictionary.category_phrase('segment', segments.index[0])} fracture")
    grades = data["compression_grade"].dropna().astype(str).value_counts(normalize=True)
    if len(grades):
        parts.append(f"{100 * grades.get('III', 0):.0f} % with a grade III compression")
    who = f"The {len(data)} patients were {myst.english_list(parts)}." if parts else f"The cohort has {len(data)} patients."
    setting = []
    if study.centres:
        setting.append(f"treated at {e(myst.english_list([myst.clause(c) for c in study.centres]))}"
                       + (f" ({e(myst.clause(study.centre_type))})" if study.centre_type else ""))
    setting_text = f" They were {' and '.join(setting)}." if setting else " The study description does not say where they were treated."
    if study.operators:
        setting_text += f" Operators: {e(myst.sentence(study.operators)[0].lower() + myst.sentence(study.operators)[1:])}"
    if study.inclusion_criteria:
        criteria = (f" They met {len(study.inclusion_criteria)} inclusion criteria (listed in the Methods), among them "
                    f"{e(myst.clause(study.inclusion_criteria[0]))}; the results describe patients who meet them.")
    else:
        criteria = " The inclusion criteria are not described, so the population the results describe cannot be delimited."
    if "centre" in data and data["centre"].nunique() > 1:
        return (who + setting_text + criteria + f" The patients come from {data['centre'].nunique()} centres: the chapter on centres "
                "shows how much each difference varies between them and where a new centre's difference would be expected.")
    return (who + setting_text + criteria + " Whether the differences hold for other patients, centres or surgeons cannot be judged "
            "from these data alone; a multicentre cohort built with this report would show how much they vary between centres.")
