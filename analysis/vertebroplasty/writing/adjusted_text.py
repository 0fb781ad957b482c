"""The adjusted estimates in the report's words: a table beside the unadjusted ones, and the sentences on them.

Computed by :mod:`vertebroplasty.statistics.adjusted`; written here.  Which way is better for an outcome (for the best- and
worst-case bounds of a measured primary outcome) is :func:`better_direction`.
"""

from __future__ import annotations

import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.writing import myst, numbers

MODEL_HEADERS = {"unadjusted": "Unadjusted", "baseline": "Adjusted for the pre-operative value",
                 "confounders": "… and for the confounders", "imputed": "Multiple imputation"}


def better_direction(variable: str) -> str:
    """``lower`` for pain, disability, kyphotic angles and losses of height or angle; ``higher`` for heights, ratios,
    recoveries and yes/no outcomes whose event is wanted (a type A distribution).

    >>> better_direction("vas_final"), better_direction("fvahl"), better_direction("lka_final"), better_direction("avhrr")
    ('lower', 'lower', 'lower', 'higher')
    """
    if variable in ("type_a_share", "cement_distribution"):
        return "higher"
    if variable == "cement_leakage" or dictionary.scale(variable) == "ordinal":
        return "lower"
    derived = dictionary.load_derived_indices()
    words = (derived.loc[variable, "description"] if variable in derived.index else dictionary.prose_label(variable)).lower()
    if "loss" in words or "lost" in words:
        return "lower"
    if dictionary.unit(variable) == "degrees" and "correct" not in words:
        return "lower"
    return "higher"


def label_of(variable: str, in_text: bool = False) -> str:
    """The label of an outcome of the adjusted estimates: the table's (with unit) or, ``in_text``, the running text's."""
    if variable == "type_a_share":
        return "the type-A share" if in_text else "Type-A share"
    return dictionary.prose_label(variable) if in_text else dictionary.label(variable)


def _cell(row: pd.Series | None) -> str:
    if row is None:
        return ""
    if pd.isna(row["estimate"]):
        return "—"
    if row.get("scale") == "odds_ratio" and pd.notna(row["ci_low"]):  # a bound near 1 shows on which side of it it lies
        return f"{row['estimate']:.2f} ({numbers.bound(row['ci_low'], 1.0)} to {numbers.bound(row['ci_high'], 1.0)})"
    return numbers.estimate(row["estimate"], row["ci_low"], row["ci_high"])


def adjusted_table(frame: pd.DataFrame) -> str:
    """One row per outcome, one column per model: estimate (95 % CI), group A against group B (MyST list-table)."""
    models = [m for m in MODEL_HEADERS if m in set(frame["model"])]
    rows = []
    for variable, part in frame.groupby("variable", sort=False):
        by_model = {row["model"]: row for _, row in part.iterrows()}
        scale = "odds ratio" if part["scale"].iloc[0] == "odds_ratio" else "difference"
        unit = dictionary.difference_unit(variable).strip() if scale == "difference" and variable != "type_a_share" else ""
        name = "Type-A share" if variable == "type_a_share" else dictionary.prose_label(variable)
        rows.append([dictionary.join_parenthesis(name, f"{scale}{', ' + unit if unit else ''}"), *[_cell(by_model.get(m)) for m in models]])
    widths = [28] + [int(72 / max(len(models), 1))] * len(models)
    return myst.list_table(["Outcome", *[MODEL_HEADERS[m] for m in models]], rows, widths, name="table-adjusted",
                           caption="Group A against group B in each outcome: unadjusted, and adjusted as the Methods state "
                                   "(estimate, 95 % CI).")


def confounder_names(confounders: list[str]) -> str:
    """The confounders in words: ``age, sex and compression grade``."""
    return myst.english_list([dictionary.prose_label(c).lower() for c in confounders]) or "no confounder"


def adjusted_note(confounders: list[str], imputations: int, seed: int, any_imputed: bool, ranked: bool = False) -> str:
    """The table note: what each model adjusts for, how the imputation was done."""
    names = confounder_names(confounders)
    differs = ("(a Welch or rank-based interval in the Results can differ slightly; for the scores tested on ranks there, these "
               "models still estimate differences of means, whose interval can exclude zero where the median shift's does not, "
               "or the reverse: they answer a different question)" if ranked else "(as in the Results)")
    text = ("Group A against group B: differences of means (A − B, in the outcome's unit) from linear regression, odds ratios "
            "from logistic regression, each with its 95 % CI. Unadjusted: the regression on the group alone, whose interval "
            f"uses the pooled variance of Student's t-test {differs}. Adjusted for "
            "the pre-operative value: analysis of covariance "
            "on the pre-operative value of the same measurement (complete cases). … and for the confounders: the same model "
            f"with {names} added (complete cases).")
    if any_imputed:
        text += (f" Multiple imputation: chained equations (statsmodels), {imputations} imputed data sets (seed {seed}), the "
                 "confounder-adjusted model pooled by Rubin's rules; only for outcomes with missing values.")
    return text


def sensitivity_sentence(frame: pd.DataFrame, primary: str) -> str:
    """The best- and worst-case bounds of the primary outcome, or why there are none."""
    rows = frame[(frame["variable"] == primary) & frame["model"].isin(["best_case", "worst_case"])].set_index("model")
    label = label_of(primary, in_text=True)
    if rows.empty:
        return (f"The primary outcome ({label}) is complete, so no best- or worst-case bounds for missing values are needed.")
    scale = "odds ratio" if rows["scale"].iloc[0] == "odds_ratio" else "difference"
    parts = [f"{'best' if model == 'best_case' else 'worst'} case for group A: {scale} {_cell(rows.loc[model])}"
             for model in ("best_case", "worst_case") if model in rows.index]
    return (f"Missing values of the primary outcome ({label}) were replaced by the most and the least favourable values observed "
            f"for group A (and the reverse for group B): {'; '.join(parts)}.")


def excludes_no_difference(row: pd.Series) -> bool:
    """Whether an estimate's interval lies on one side of no difference (0 for a difference, 1 for an odds ratio)."""
    null = 1.0 if row["scale"] == "odds_ratio" else 0.0
    return bool(pd.notna(row["ci_low"]) and (row["ci_low"] > null or row["ci_high"] < null))


def changed_by(frame: pd.DataFrame, model: str) -> tuple[list[str], list[str]]:
    """Outcomes whose interval stops excluding no difference under ``model`` (lost), and those where it starts to (gained),
    against the unadjusted estimate."""
    lost, gained = [], []
    for variable, part in frame.groupby("variable", sort=False):
        rows = part.set_index("model")
        if "unadjusted" not in rows.index or model not in rows.index or pd.isna(rows.loc[model, "ci_low"]):
            continue
        before, after = excludes_no_difference(rows.loc["unadjusted"]), excludes_no_difference(rows.loc[model])
        if before and not after:
            lost.append(variable)
        elif after and not before:
            gained.append(variable)
    return lost, gained


def resized_by_baseline(frame: pd.DataFrame) -> list[str]:
    """Outcomes shown with and without the pre-operative value (both intervals exclude no difference) whose
    baseline-adjusted estimate lies outside the unadjusted interval: the groups started apart, and the unadjusted
    estimate misstates the size of the difference (a change score measured from unequal starting values)."""
    resized = []
    for variable, part in frame.groupby("variable", sort=False):
        rows = part.set_index("model")
        if "unadjusted" not in rows.index or "baseline" not in rows.index:
            continue
        crude, baseline = rows.loc["unadjusted"], rows.loc["baseline"]
        if (excludes_no_difference(crude) and excludes_no_difference(baseline)
                and not crude["ci_low"] <= baseline["estimate"] <= crude["ci_high"]):
            resized.append(variable)
    return resized


def adjusted_sentence(frame: pd.DataFrame, explained: list[str], confounders: list[str]) -> str:
    """The Results' paragraph on the adjusted estimates: which differences survive the baseline and confounder adjustment."""
    names = confounder_names(confounders)
    text = ("Because the groups were not formed at random in a way the data can show, each difference between them is "
            "estimated again, taking into account the pre-operative value of the same measurement and, in a second model, "
            f"{names} as well (STROBE item 16).")
    if explained:
        labels = myst.english_list([label_of(v, in_text=True) for v in explained])
        one = len(explained) == 1
        text += (f" The unadjusted {'difference' if one else 'differences'} in {labels} {'is' if one else 'are'} no longer shown once "
                 f"the pre-operative value is taken into account: {'it mirrors a difference' if one else 'they mirror differences'} "
                 f"that existed before surgery, {'a baseline imbalance' if one else 'baseline imbalances'}, not a treatment finding.")
    else:
        text += " Every difference whose unadjusted interval excludes zero is still shown once the pre-operative value is taken into account."
    resized = resized_by_baseline(frame)
    if resized:
        rows = frame.set_index(["variable", "model"])
        moves = [f"{label_of(v, in_text=True)} from {_cell(rows.loc[(v, 'unadjusted')])} to {_cell(rows.loc[(v, 'baseline')])}"
                 for v in resized]
        one = len(resized) == 1
        text += (f" Taking the pre-operative value into account moves the estimate of {myst.english_list(moves)}, outside the "
                 f"unadjusted interval: the groups started apart, so the adjusted {'estimate is' if one else 'estimates are'} the "
                 f"better measure of {'its' if one else 'their'} size; the {'difference is' if one else 'differences are'} still shown.")
    lost, gained = changed_by(frame, "confounders")
    lost = [v for v in lost if v not in explained]
    if lost:
        which = "that difference is" if len(lost) == 1 else "those differences are"
        interval = "the interval of" if len(lost) == 1 else "the intervals of"
        includes = "reaches" if len(lost) == 1 else "reach"
        text += (f" With {names} added as well, {interval} {myst.english_list([label_of(v, in_text=True) for v in lost])} {includes} "
                 f"the null (a zero difference, or an odds ratio of 1): {which} no longer shown once they are taken into account, "
                 "and should be read with that caution.")
    if gained:
        interval, excludes = ("The interval of", "excludes") if len(gained) == 1 else ("The intervals of", "exclude")
        text += (f" {interval} {myst.english_list([label_of(v, in_text=True) for v in gained])} {excludes} zero only after "
                 "adjustment; no finding is claimed from an adjusted model alone.")
    return text
