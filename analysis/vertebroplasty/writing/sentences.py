"""Sentences chosen from the results, so the prose cannot disagree with the tables.

Rules the wording follows:

- A baseline variable (before surgery) is described as balance or imbalance between the groups by its
  standardised mean difference, never as a result of the treatment.
- An outcome is called *significantly* different only when its Holm-adjusted p (over the table's outcome rows) is
  below alpha; a p below alpha that does not survive the adjustment is said to be so.  Every claim gives the
  effect with its confidence interval.
- A categorical result names its direction: which group has more of which category, with percentages.
- Where fewer patients than the group's size had a measurement, the sentence gives the n.
- A comparison that could not be computed says so and why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import comparisons, pairwise, testing_rule
from vertebroplasty.writing import myst, numbers, tables

#: |SMD| at or above which a baseline difference is called an imbalance (Austin, 2009).
IMBALANCE_SMD = 0.1


class Results:
    """The tests and descriptives of one table, looked up by variable."""

    def __init__(self, tests: pd.DataFrame, descriptives: pd.DataFrame, sizes: dict[str, int], between: str, alpha: float,
                 differences: pd.DataFrame | None = None):
        self.tests = tests.set_index("variable")
        self.differences = differences

        self.descriptives = descriptives
        self.sizes = sizes
        self.between = between
        self.alpha = alpha
        self.levels = list(sizes)

    def test(self, variable: str) -> pd.Series:
        return self.tests.loc[variable]

    def described(self, variable: str) -> pd.DataFrame:
        return self.descriptives[self.descriptives["variable"] == variable].set_index("level")

    def summary(self, variable: str, level: str) -> str:
        described = self.described(variable)
        if level not in described.index:
            return "no values"
        record = described.loc[level]
        unit = dictionary.value_unit(variable)
        if self.ranked(variable):
            text = numbers.median_iqr(record["median"], record["q1"], record["q3"], words=True)
            return text.replace(" (IQR", f"{unit} (IQR", 1) if unit and text != "—" else text
        text = numbers.mean_sd(record["mean"], record["sd"])
        return text + unit if text != "—" else text

    def ranked(self, variable: str) -> bool:
        """Whether the variable's test works on ranks, so that its values are told as median (IQR)."""
        return self.test(variable)["test"] in comparisons.RANK_TESTS

    def n_note(self, variable: str) -> str:
        """``(n = 37 of 42 in group A)`` where fewer patients than the level's size had the measurement."""
        described = self.described(variable)
        parts = []
        for level in self.levels:
            n = int(described.loc[level, "n"]) if level in described.index else 0
            if n < self.sizes[level]:
                parts.append(f"{n} of {self.sizes[level]} in {dictionary.level_phrase(self.between, level)}")
        return f"measured in {myst.english_list(parts)}" if parts else ""

    @property
    def explained(self) -> set[str]:
        """Outcomes whose difference disappears once the pre-operative value is taken into account (baseline imbalances)."""
        if "baseline_explained" not in self.tests.columns:
            return set()
        return set(self.tests.index[self.tests["baseline_explained"].fillna(False).astype(bool)])

    def family(self, variable: str) -> str:
        test = self.test(variable)
        return test["family"] if "family" in test.index else ""

    def evidence(self, variable: str) -> str:
        """``significant`` (a finding under the testing rule), ``unadjusted`` (p < alpha but not a finding), ``none``,
        or ``not computable``."""
        test = self.test(variable)
        if test["reason"] or pd.isna(test["p_val"]):
            return "not computable"
        if testing_rule.is_finding(test, self.alpha):
            return "significant"
        return "unadjusted" if test["p_val"] < self.alpha else "none"

    def why_not_a_finding(self, variable: str) -> str:
        """Why a p below alpha is not a finding: the row's family decides (for ``unadjusted`` evidence)."""
        family = self.family(variable)
        if family == "secondary":
            return "the difference is not a finding once Holm's adjustment over the secondary outcomes is applied"
        if family == "exploratory":
            return "it is an exploratory outcome, outside the tested families, so no significance is claimed"
        return "it describes the operation and belongs to no tested family, so no significance is claimed"

    def p_text(self, variable: str) -> str:
        test = self.test(variable)
        text = numbers.format_p_in_text(test["p_val"])
        if "p_holm" in test.index and pd.notna(test["p_holm"]):
            text += f", Holm-adjusted {numbers.format_p_in_text(test['p_holm'])}"
        elif self.family(variable) == "primary":
            text += ", primary outcome"
        return text

    def direction(self, variable: str) -> str:
        """``lower`` or ``higher`` (first level against the second) when the reported contrast's interval excludes no
        difference, else ``""``: the only place a direction word comes from."""
        return direction_of(self.test(variable))


def direction_of(test: pd.Series) -> str:
    """The direction of a two-group contrast by its own interval (Hodges–Lehmann for rank tests, else the difference
    of means), or ``""`` when the interval includes no difference or there is none.

    >>> direction_of(pd.Series({"test": "student", "mean_difference": -1.0, "ci_low": -2.0, "ci_high": -0.1}))
    'lower'
    >>> direction_of(pd.Series({"test": "student", "mean_difference": -1.0, "ci_low": -2.0, "ci_high": 0.3}))
    ''
    """
    if test["test"] == "mann_whitney":
        return interval_direction(test.get("hodges_lehmann_ci_low"), test.get("hodges_lehmann_ci_high"))
    return interval_direction(test.get("ci_low"), test.get("ci_high"))


def interval_direction(low: float | None, high: float | None) -> str:
    """``lower``/``higher`` when an interval of A − B excludes zero, else ``""`` (the report's rule for directions).

    >>> interval_direction(-2.0, -0.1), interval_direction(-2.0, 0.3), interval_direction(0.2, 1.0), interval_direction(None, 1.0)
    ('lower', '', 'higher', '')
    """
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    low, high = (0.0 if abs(bound) < numbers.NOISE else bound for bound in (low, high))  # a bound at zero up to rounding noise is zero
    return "lower" if high < 0 else "higher" if low > 0 else ""


def standardised_mean_difference(results: Results, variable: str) -> float:
    """(mean_A − mean_B) / sqrt((SD_A² + SD_B²) / 2), the usual balance measure of a baseline variable (Austin, 2009).

    >>> d = pd.DataFrame({"variable": "x", "level": ["A", "B"], "category": "", "n": [10, 10], "mean": [1.0, 0.0],
    ...                   "sd": [1.0, 1.0], "count": np.nan, "percent": np.nan})
    >>> t = pd.DataFrame({"variable": ["x"], "p_val": [0.5], "reason": [""]})
    >>> standardised_mean_difference(Results(t, d, {"A": 10, "B": 10}, "group", 0.05), "x")
    1.0
    """
    described = results.described(variable)
    first, second = results.levels[:2]
    if first not in described.index or second not in described.index:
        return float("nan")
    a, b = described.loc[first], described.loc[second]
    spread = np.sqrt((a["sd"] ** 2 + b["sd"] ** 2) / 2)
    return float((a["mean"] - b["mean"]) / spread) if spread > 0 else float("nan")


def effect_text(test: pd.Series, unit_text: str = "") -> str:
    """The effect of a comparison with its interval, in words."""
    if test["test"] == "mann_whitney" and pd.notna(test["hodges_lehmann"]):
        text = (f"Mann–Whitney U test; Hodges–Lehmann shift {test['hodges_lehmann']:.2f}{unit_text}, 95 % CI "
                f"{numbers.bound(test['hodges_lehmann_ci_low'], 0.0)} to {numbers.bound(test['hodges_lehmann_ci_high'], 0.0)}")
        if test["hodges_lehmann_ci_low"] == test["hodges_lehmann_ci_high"]:  # a whole-point scale and many tied values
            text += (f": on this whole-point scale so many differences between patients equal {test['hodges_lehmann']:g} that "
                     "the median shift and both ends of its interval fall on that value — a mark of the coarse scale, not of a "
                     "precise estimate")
        return text
    if pd.notna(test["mean_difference"]) and pd.notna(test["ci_low"]):
        welch = "Welch's t-test; " if test["test"] == "welch" else ""
        return (f"{welch}difference {test['mean_difference']:.2f}{unit_text}, 95 % CI {numbers.bound(test['ci_low'], 0.0)} to "
                f"{numbers.bound(test['ci_high'], 0.0)}")
    if pd.notna(test["eta_squared"]):
        return (f"η² {test['eta_squared']:.3f}, {tables.EFFECT_PERCENT:g} % CI {test['eta_squared_ci_low']:.3f} to "
                f"{test['eta_squared_ci_high']:.3f}")
    if pd.notna(test["epsilon_squared"]):
        return f"Kruskal–Wallis test; ε² {test['epsilon_squared']:.3f}"
    return ""


def not_computable(label: str, test: pd.Series) -> str:
    return f"{label}: the comparison is not computable ({test['reason']})."


def baseline_sentence(results: Results, variable: str) -> str:
    """Balance of a baseline variable between the two groups, by its standardised mean difference."""
    label = dictionary.prose_label(variable)
    if results.test(variable)["reason"]:
        return not_computable(label, results.test(variable))
    first, second = results.levels[:2]
    values = f"{results.summary(variable, first)} in group {first} vs {results.summary(variable, second)} in group {second}"
    note = results.n_note(variable)
    values += f"; {note}" if note else ""
    smd = standardised_mean_difference(results, variable)
    if np.isnan(smd):
        return f"{label} before surgery cannot be compared between the groups ({values})."
    if abs(smd) < IMBALANCE_SMD:
        return f"{label} was similar in the two groups ({values}; standardised mean difference {smd:.2f})."
    what = "a difference in follow-up time" if dictionary.role(variable) == "follow_up" else "an imbalance at baseline"
    return f"{label} differed between the groups by a standardised mean difference of {smd:.2f} ({values}), {what}."


def two_group_sentence(results: Results, variable: str) -> str:
    """One sentence on a treatment-group comparison of an outcome or procedure variable, worded by the adjusted evidence."""
    label = dictionary.prose_label(variable)
    test = results.test(variable)
    if dictionary.role(variable) in ("baseline", "follow_up"):
        return baseline_sentence(results, variable)
    if test["reason"]:
        return not_computable(label, test)
    first, second = results.levels[:2]
    note = results.n_note(variable)
    values = f"{results.summary(variable, first)} vs {results.summary(variable, second)}" + (f", {note}" if note else "")
    effect = effect_text(test, dictionary.difference_unit(variable))
    evidence = results.evidence(variable)
    direction = results.direction(variable)
    bracketed = f"({values}; {effect}; {results.p_text(variable)})"
    if direction and variable in results.explained:
        return (f"{label} was {direction} in group {first} than in group {second} {bracketed}, but the difference is no longer shown once "
                "its pre-operative value is taken into account: a baseline imbalance, not a result of the treatment.")
    if evidence == "significant" and direction:
        return f"{label} was significantly {direction} in group {first} than in group {second} {bracketed}."
    if evidence in ("significant", "unadjusted") and not direction:
        return (f"{label}: the test gives p below {results.alpha:g} {bracketed}, but the interval of the difference includes zero, "
                "so no direction is claimed.")
    if evidence == "unadjusted":
        return f"{label} was {direction} in group {first} than in group {second} {bracketed}, but {results.why_not_a_finding(variable)}."
    return f"{label} did not differ significantly between the groups {bracketed}."


def category_differences_text(differences: pd.DataFrame, variable: str, first: str) -> tuple[str, list[str]]:
    """The categories whose share differs between the groups by their own (Newcombe) interval, in words, and their codes.

    ``differences`` is :func:`vertebroplasty.statistics.comparisons.category_differences` (first level minus second); a category is
    named only when its interval excludes no difference: ``fewer type C distributions in group A (6.7 % vs 20.0 %;
    difference −13.3 percentage points, 95 % CI …)``.
    """
    rows = differences[differences["variable"] == variable]
    named, codes = [], []
    for row in rows.itertuples():
        if pd.isna(row.ci_low) or (row.ci_low <= 0 <= row.ci_high):
            continue
        more = "more" if row.risk_difference > 0 else "fewer"
        noun = dictionary.category_phrase(variable, row.category)
        noun += " distributions" if variable == "cement_distribution" else ""
        named.append(f"{more} {noun} in group {first} ({row.percent_first:.1f} % vs {row.percent_second:.1f} %; difference "
                     f"{100 * row.risk_difference:.1f} percentage points, 95 % CI {100 * row.ci_low:.1f} to {100 * row.ci_high:.1f})")
        codes.append(str(row.category))
    return myst.english_list(named), codes


#: The test of a categorical comparison, named before its p in a sentence.
CATEGORY_TEST_WORDS = {"chi2": "χ² test ", "fisher": "Fisher's exact test ", "freeman_halton": "Fisher–Freeman–Halton test ",
                       "monte_carlo": "Monte Carlo χ² test "}


def category_sentence(results: Results, variable: str) -> str:
    """A categorical comparison between the groups; a category's direction is named only when its own interval excludes no
    difference, and one reference category is kept throughout."""
    label = dictionary.prose_label(variable)
    test = results.test(variable)
    if test["reason"]:
        return not_computable(label, test)
    described = results.described(variable).reset_index()
    first, second = results.levels[:2]
    share = described.pivot_table(index="category", columns="level", values="percent", sort=False)
    counts = described.pivot_table(index="category", columns="level", values="count", sort=False)
    sizes = described.groupby("level")["n"].first()
    yes_no = set(share.index) <= {"yes", "no"}
    if yes_no:
        parts = [f"{int(counts.loc['yes', level]) if 'yes' in counts.index else 0} of {int(sizes[level])} patients in group {level} "
                 f"({share.loc['yes', level] if 'yes' in share.index else 0:.1f} %)" for level in (first, second)]
        opening = f"{label} was seen in {parts[0]} and {parts[1]}"
    else:
        parts = [f"{dictionary.category_phrase(variable, category)} {share.loc[category, first]:.1f} % vs {share.loc[category, second]:.1f} %"
                 for category in share.index]
        opening = f"{label} (group {first} vs group {second}): {'; '.join(parts)}"
    effect = ""
    if pd.notna(test["risk_difference"]):
        category = "leakage" if variable == "cement_leakage" else dictionary.category_phrase(variable, "yes" if yes_no else share.index[0])
        effect = (f"difference in the share with {category} {100 * test['risk_difference']:.1f} percentage points, 95 % CI "
                  f"{100 * test['risk_difference_ci_low']:.1f} to {100 * test['risk_difference_ci_high']:.1f}; ")
    elif pd.notna(test["cramers_v"]):
        effect = (f"Cramér's V {test['cramers_v']:.3f}, {tables.EFFECT_PERCENT:g} % CI {test['cramers_v_ci_low']:.3f} "
                  f"to {test['cramers_v_ci_high']:.3f}; ")  # 3 decimals, as every table gives it (numbers' rule)
    sparse = ""
    if bool(test["sparse"]) and test["test"] == "chi2":
        sparse = f"; with expected counts below {comparisons.SPARSE_EXPECTED:g}, {numbers.exact_p_text(test)}"
    bracketed = f"({effect}{CATEGORY_TEST_WORDS.get(test['test'], '')}{results.p_text(variable)}{sparse})"
    if dictionary.role(variable) == "baseline":
        verdict = "a baseline characteristic, not a result of the treatment" + (
            "; the groups were imbalanced" if test["p_val"] < results.alpha else "")
        return f"{opening}; {verdict} {bracketed}."
    evidence = results.evidence(variable)
    named, _ = category_differences_text(results.differences, variable, first) if results.differences is not None else ("", [])
    where = (f": {named}" if named else
             "; no single category's share differs between the groups by its own interval") if evidence != "none" else ""
    verdict = {"significant": "the groups differed significantly",
               "unadjusted": f"the test gives p below {results.alpha:g}, but {results.why_not_a_finding(variable)}",
               "none": "the groups did not differ significantly"}[evidence]
    return f"{opening}; {verdict} {bracketed}{where}."


def several_group_sentence(results: Results, variable: str, pairs: pd.DataFrame | None = None) -> str:
    """A comparison across the cement-distribution types, with the pairs that differ after adjustment."""
    label = dictionary.prose_label(variable)
    test = results.test(variable)
    if test["reason"]:
        return not_computable(label, test)
    what = several_group_values(results, variable)  # (values from before surgery are said together: results_paragraphs)
    evidence = results.evidence(variable)
    pair_text = pair_sentence(pairs, variable, results.alpha, evidence == "significant") if pairs is not None else ""
    if evidence == "significant":
        return f"{what} differed significantly across the distribution types{pair_text}."
    if evidence == "unadjusted":
        return f"{what}: the overall test gives p below {results.alpha:g}, but {results.why_not_a_finding(variable)}{pair_text}."
    return f"{what} did not differ significantly across the distribution types{pair_text}."


def several_group_values(results: Results, variable: str) -> str:
    """A variable across the distribution types: its label with each type's mean (or median), the effect and the test."""
    label = dictionary.prose_label(variable)
    test = results.test(variable)
    described = results.described(variable)
    centre = "median" if results.ranked(variable) else "mean"
    unit = dictionary.value_unit(variable)
    means = ", ".join(f"type {level} {described.loc[level, centre]:.2f}{unit}" + (f" (n = {int(described.loc[level, 'n'])})"
                      if int(described.loc[level, "n"]) < results.sizes[level] else "")
                      for level in results.levels if level in described.index and described.loc[level, "n"] > 0)
    return f"{label} ({centre}s {means}; {effect_text(test)}; {results.p_text(variable)})"


def pair_differs(row, alpha: float) -> bool:
    """A pair of types differs when its simultaneous interval excludes no difference (Tukey, Games–Howell, and for Dunn's
    test the Bonferroni interval of the Hodges–Lehmann shift); a pair without an interval, when its adjusted p is below
    alpha."""
    if pd.notna(row.ci_low) and pd.notna(row.ci_high):
        return interval_direction(row.ci_low, row.ci_high) != ""
    return pd.notna(row.p_adjusted) and row.p_adjusted < alpha


def pair_effect_text(pair, unit_text: str = "") -> str:
    """A pair's effect in its method's own terms, with the adjusted p: a difference of means with its simultaneous
    interval (Tukey, Games–Howell), or for Dunn's rank test the Hodges–Lehmann shift and the rank-biserial r."""
    if pd.notna(pair.mean_difference):
        text = f"difference {pair.mean_difference:.2f}{unit_text}"
        text += f", 95 % CI {numbers.bound(pair.ci_low, 0.0)} to {numbers.bound(pair.ci_high, 0.0)}" if pd.notna(pair.ci_low) else ""
    else:
        text = f"Hodges–Lehmann shift {pair.hodges_lehmann:.2f}{unit_text}"
        text += (f", 95 % simultaneous CI {numbers.bound(pair.ci_low, 0.0)} to {numbers.bound(pair.ci_high, 0.0)} (Bonferroni)"
                 if pd.notna(pair.ci_low) else "")
        text += f", rank-biserial r {pair.rank_biserial:.2f}"
    return f"{text}, adjusted {numbers.format_p_in_text(pair.p_adjusted)}"


def pair_sentence(pairs: pd.DataFrame, variable: str, alpha: float, omnibus_finding: bool = True) -> str:
    """``; pairwise (Tukey HSD), type A was lower than type C (…)``; exploratory when the overall test is not a finding."""
    rows = pairs[pairs["variable"] == variable]
    if rows.empty:
        return ""
    method = rows["method"].iloc[0]
    unit = dictionary.difference_unit(variable)
    found = [f"type {r.first} {'lower' if pairwise.contrast(r) < 0 else 'higher'} than type {r.second} ({pair_effect_text(r, unit)})"
             for r in rows.itertuples() if pair_differs(r, alpha)]
    # a test's adjusted p below alpha whose pair interval still reaches zero (Dunn's test against its shift): said, undirected
    undirected = [f"type {r.first} against type {r.second} ({pair_effect_text(r, unit)})" for r in rows.itertuples()
                  if not pair_differs(r, alpha) and pd.notna(r.p_adjusted) and r.p_adjusted < alpha]
    unsettled = (f"; for {myst.english_list(undirected)} the adjusted p is below {alpha:g} but the interval of the "
                 "difference includes zero, so no direction is claimed") if undirected else ""
    if not omnibus_finding:
        if not found and not undirected:
            return ""
        listed = myst.english_list(found + undirected)
        return (f"; the pairwise comparisons ({method}) are exploratory because the overall test is not a finding, so no "
                f"conclusion rests on them ({listed})")
    if not found:
        return (f"; pairwise ({method}), no pair of types differed by its interval{unsettled}" if undirected else
                f"; pairwise ({method}), no pair of types differed after adjustment")
    others = len(rows) - len(found) - len(undirected)
    return (f"; pairwise ({method}), {myst.english_list(found)}" + unsettled
            + ("; the other pairs did not differ" if others > 0 else ""))


def significant_outcomes(results: Results, variables: list[str]) -> tuple[list[str], list[str]]:
    """Labels of the outcome variables that differ after adjustment, and of those that differ only unadjusted."""
    adjusted, unadjusted = [], []
    for variable in variables:
        if variable not in results.tests.index or dictionary.role(variable) == "baseline":
            continue
        evidence = results.evidence(variable)
        if evidence == "significant":
            adjusted.append(dictionary.prose_label(variable))
        elif evidence == "unadjusted":
            unadjusted.append(dictionary.prose_label(variable))
    return adjusted, unadjusted


def outcome_summary(results: Results, variables: list[str], where: str, explained: list[str] | None = None) -> str:
    """One sentence naming the outcomes that are findings under the testing rule and those with p < alpha that are not;
    ``explained`` names outcomes whose difference disappears once the pre-operative value is taken into account (they are
    named apart, as baseline imbalances, never as findings)."""
    gone = {dictionary.prose_label(v) for v in explained or [] if v in variables and v in results.tests.index}
    adjusted, unadjusted = significant_outcomes(results, variables)
    kept = [label for label in adjusted if label not in gone]
    text = (f"{where}, the {'outcome that differed' if len(kept) == 1 else 'outcomes that differed'} under the testing rule "
            f"{'was' if len(kept) == 1 else 'were'} {myst.english_list(kept)}"
            if kept else f"{where}, no outcome differed under the testing rule")
    near = [label for label in unadjusted if label not in gone]
    if near:
        text += f"; {myst.english_list(near)} had p below {results.alpha:g} without being a finding under it"
    text += "."
    if gone:
        shown = sorted(gone, key=[dictionary.prose_label(v) for v in variables].index)
        one = len(shown) == 1
        text += (f" The {'difference' if one else 'differences'} in {myst.english_list(shown)} {'is' if one else 'are'} no longer shown "
                 "once the pre-operative value of the same measurement is taken into account (see the adjusted estimates): "
                 f"{'it reflects a difference' if one else 'they reflect differences'} between the groups before surgery, "
                 f"{'a baseline imbalance' if one else 'baseline imbalances'}, not a result of the treatment.")
    return text


def imbalance_summary(tables_read: list[Results]) -> str:
    """Which baseline variables are imbalanced between the groups (|SMD| ≥ 0.1; categories by their test), or that none is."""
    imbalanced, follow_up = [], []
    for results in tables_read:
        for variable in results.tests.index:
            if dictionary.role(variable) not in ("baseline", "follow_up"):
                continue
            listed = follow_up if dictionary.role(variable) == "follow_up" else imbalanced
            if results.described(variable)["category"].ne("").any():
                v = results.test(variable)["cramers_v"]
                if pd.notna(v) and v >= IMBALANCE_SMD:
                    listed.append(f"{dictionary.in_sentence(variable)} (Cramér's V {v:.3f})")
                continue
            smd = standardised_mean_difference(results, variable)
            if not np.isnan(smd) and abs(smd) >= IMBALANCE_SMD:
                listed.append(f"{dictionary.in_sentence(variable)} (standardised difference {smd:.2f})")
    later = (f" The time to final follow-up also differed between the groups: {myst.english_list(follow_up)}; outcomes at the "
             "final visit were measured after different intervals." if follow_up else "")
    if not imbalanced:
        return "At baseline the groups were balanced: no standardised mean difference or Cramér's V reached 0.1." + later
    return (f"At baseline the groups were not fully balanced: {myst.english_list(imbalanced)}. These are differences in the "
            "patients treated, not effects of the treatment; an outcome that depends on them should be read with them in mind." + later)


def results_paragraphs(table: str, results: Results, pairs: pd.DataFrame | None = None) -> str:
    """The Results chapter's text for one table: one paragraph per section (MyST).

    Every variable is named: a result, an imbalance, a category or a comparison that cannot be computed gets a sentence
    of its own; the outcomes that did not differ (with every patient measured) are named together in one sentence,
    with the range of their p-values, and their numbers are left to the table.
    """
    paragraphs, named_together = [], False
    for heading, variables in tables.TABLE_SECTIONS[table]:
        written, quiet, before = [], [], []
        for variable in variables:
            if variable not in results.tests.index:
                continue
            categorical = results.described(variable)["category"].ne("").any()
            if (not categorical and dictionary.role(variable) in ("outcome", "procedure") and results.evidence(variable) == "none"
                    and not results.n_note(variable)):
                quiet.append(variable)
            elif results.between != "group" and dictionary.role(variable) == "baseline" and not results.test(variable)["reason"]:
                before.append(several_group_values(results, variable))
            elif results.between != "group":
                written.append(several_group_sentence(results, variable, pairs))
            elif categorical:
                written.append(category_sentence(results, variable))
            else:
                written.append(two_group_sentence(results, variable))
        if before:  # values from before surgery, said together: what a difference across the types means for them
            one = len(before) == 1
            written.append(f"{myst.english_list(before)} {'is a value' if one else 'are values'} from before surgery: a difference "
                           "across the types describes the patients who came to have each distribution, not an effect of the "
                           "distribution.")
        if quiet:
            written.append(quiet_sentence(results, quiet))
            named_together = named_together or len(quiet) > 1
        if written:
            paragraphs.append(f"**{heading}.** " + " ".join(written))
    if named_together:  # said once, not after every group of outcomes
        paragraphs.append(f"The outcomes named together as not differing have their values in {numbers.table_label(table)} and "
                          "their effect sizes in the re-analysis.")
    return "\n\n".join(paragraphs)


def quiet_sentence(results: Results, variables: list[str]) -> str:
    """The outcomes that did not differ, named together with the range of their p-values."""
    names = [dictionary.prose_label(variables[0]), *[dictionary.in_sentence(variable) for variable in variables[1:]]]
    labels = myst.english_list(names)
    p_values = [results.test(variable)["p_val"] for variable in variables]
    where = "between the groups" if results.between == "group" else "across the distribution types"
    # rows outside every tested family (procedure rows) carry no claim of significance either way
    verb = "did not differ" if all(results.family(variable) == "" for variable in variables) else "did not differ significantly"
    tests = {results.test(variable)["test"] for variable in variables}
    test = f"{comparisons.TEST_NAMES[tests.pop()]}; " if len(tests) == 1 else ""
    if len(variables) == 1:
        return f"{labels} {verb} {where} ({test}{results.p_text(variables[0])})."
    low, high = min(p_values), max(p_values)
    return f"{labels} {verb} {where} ({test}unadjusted p from {low:.3f} to {high:.3f})."
