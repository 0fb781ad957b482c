"""Group comparisons returning tidy DataFrames, in pingouin's shape.

:func:`describe` gives the descriptive statistics, long: one row per variable, level (and category) with ``n,
mean, sd, count, percent``.  :func:`compare` gives the tests: one row per variable with the fixed columns
:data:`TEST_COLUMNS` (test, n, statistic, df, p, the effect sizes that apply with their confidence intervals, and
``reason`` when no test could be computed).  Results are data; :mod:`vertebroplasty.writing.tables` and
:mod:`vertebroplasty.writing.sentences` format them.  Missing values are dropped per variable (available cases).

Tests (``tests="paper"``, the study's own): Student's t-test for two groups, one-way ANOVA across the
cement-distribution types, Pearson's χ² without continuity correction for categories.  ``tests="robust"``:
Welch's t-test for measurements and the Mann–Whitney U test for ordinal scores (VAS, ODI) — a rule by scale,
stated in the methods —, the Kruskal–Wallis test across types, and for categories, when an expected count is below
5, a test that does not lean on the χ² approximation: Fisher's exact test (2 × 2), the Fisher–Freeman–Halton exact
test (2 × k and k × 2, every table with the observed margins enumerated, when there are at most
:data:`ENUMERATION_LIMIT` of them), otherwise a Monte Carlo test of the χ² statistic (:data:`MONTE_CARLO_TABLES`
random tables with the observed margins, seed :data:`SEED`; its p is an estimate, with its simulation standard error
in ``exact_p_error``).  In both modes a sparse χ² table carries ``sparse`` and that p beside it (``exact_test``,
``exact_p``).

Effect sizes: differences of means and Hedges' g, the Hodges–Lehmann shift, and risk differences (Newcombe's hybrid
score interval, :func:`category_differences` for every category of a variable) have two-sided intervals at the level
``confidence`` (1 − α, 0.95).  η² and Cramér's V, which are bounded below by 0 and go with a one-sided F or χ² test,
have intervals at the level :func:`effect_interval_level` ``(confidence)`` = 1 − 2α (90 % for α = 0.05; Steiger, 2004),
so that the lower bound is above 0 exactly when the F test's or Pearson χ² test's p is below α.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.validation import CROSS_COLUMN_RULE_COLUMN
from vertebroplasty.statistics import TEST_OPTIONS, effect_sizes
from vertebroplasty.statistics.exact_tests import (  # noqa: F401 (re-exported: comparisons.freeman_halton_p, ...)
    ENUMERATION_LIMIT,
    MONTE_CARLO_TABLES,
    SEED,
    count_tables,
    exact_or_monte_carlo,
    freeman_halton_p,
    monte_carlo_chi2,
)

TEST_NAMES = {
    "student": "independent-samples Student t-test",
    "welch": "Welch's t-test",
    "mann_whitney": "Mann–Whitney U test",
    "anova": "one-way ANOVA",
    "kruskal": "Kruskal–Wallis test",
    "chi2": "Pearson's χ² test without continuity correction",
    "fisher": "Fisher's exact test",
    "freeman_halton": "Fisher–Freeman–Halton exact test",
    "monte_carlo": "Monte Carlo test of the χ² statistic (9,999 random tables with the observed margins)",
}
#: Symbol of each test's statistic in the results vocabulary (none for the exact tests, which order tables by probability).
STATISTIC_SYMBOL = {"student": "t", "welch": "t", "mann_whitney": "U", "anova": "F", "kruskal": "H", "chi2": "chi2",
                    "fisher": "", "freeman_halton": "", "monte_carlo": "chi2"}
#: Tests of a categorical comparison that replace χ² where an expected count is below 5 (see :func:`exact_or_monte_carlo`).
EXACT_TESTS = ("fisher", "freeman_halton", "monte_carlo")
TEST_COLUMNS = [
    "variable", "between", "test", "n", "statistic", "df", "df_residual", "p_val", "reason",
    "mean_difference", "ci_low", "ci_high", "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high",
    "hodges_lehmann", "hodges_lehmann_ci_low", "hodges_lehmann_ci_high", "rank_biserial",
    "eta_squared", "eta_squared_ci_low", "eta_squared_ci_high", "epsilon_squared",
    "cramers_v", "cramers_v_ci_low", "cramers_v_ci_high",
    "risk_difference", "risk_difference_ci_low", "risk_difference_ci_high",
    "odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high",
    "min_expected", "sparse", "exact_test", "exact_p", "exact_p_error",
]
DESCRIPTIVE_COLUMNS = ["variable", "level", "category", "n", "mean", "sd", "median", "q1", "q3", "count", "percent"]
#: Tests on ranks: the rows they test are summarised by median and interquartile range, not mean ± SD.
RANK_TESTS = ("mann_whitney", "kruskal")
CATEGORY_DIFFERENCE_COLUMNS = ["variable", "category", "first", "second", "count_first", "n_first", "count_second",
                               "n_second", "percent_first", "percent_second", "risk_difference", "ci_low", "ci_high", "method"]
SPARSE_EXPECTED = 5.0
#: Level of the η² and Cramér's V intervals from the contrast level ``confidence``: 2 · confidence − 1 (see the module notes).
effect_interval_level = effect_sizes.effect_interval_level


def defined_levels(data: pd.DataFrame, between: str) -> list[str]:
    """Levels of ``between``: the dictionary's allowed values, or those present, in order."""
    entries = dictionary.load_dictionary()
    if between in entries.index and entries.loc[between, "allowed_values"]:
        return list(entries.loc[between, "allowed_values"])
    return sorted(data[between].dropna().astype(str).unique())


def is_categorical(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.CategoricalDtype) or values.dtype in ("boolean", bool) or \
        pd.api.types.is_string_dtype(values.dtype) or values.dtype == object


def category_order(data: pd.DataFrame, variable: str) -> list[str]:
    """Categories in their defined order: the dictionary's allowed values, a categorical's order, yes before no."""
    entries = dictionary.load_dictionary()
    if variable in entries.index and entries.loc[variable, "allowed_values"]:
        return list(entries.loc[variable, "allowed_values"])
    if isinstance(data[variable].dtype, pd.CategoricalDtype):
        return [str(c) for c in data[variable].cat.categories]
    present = sorted(data[variable].dropna().astype(str).unique())
    return ["yes", "no"] if set(present) <= {"yes", "no"} else present


def _category_values(data: pd.DataFrame, variable: str) -> pd.Series:
    values = data[variable]
    if values.dtype == "boolean" or values.dtype == bool:
        return values.map({True: "yes", False: "no"}).astype(object)
    return values.astype(object).where(values.notna())


def samples(data: pd.DataFrame, dv: str, between: str, levels: list[str]) -> list[np.ndarray]:
    """The non-missing values of ``dv`` in each level, as float arrays."""
    values = pd.to_numeric(data[dv], errors="coerce").astype(float)
    groups = data[between].astype(str)
    return [values[groups == level].dropna().to_numpy() for level in levels]


def describe(data: pd.DataFrame, variables: list[str], between: str) -> pd.DataFrame:
    """Descriptive statistics per level of ``between``, long: :data:`DESCRIPTIVE_COLUMNS`.

    Measurements: ``n, mean, sd`` and ``median, q1, q3`` (quartiles by linear interpolation between order statistics,
    numpy's default and Hyndman & Fan's type 7) per level.  Categories: one row per level and category present, with the
    level's non-missing ``n``, the ``count`` and the ``percent`` of ``n``.

    >>> frame = pd.DataFrame({"group": list("AAB"), "x": [1.0, 3.0, 5.0]})
    >>> describe(frame, ["x"], "group")[["level", "n", "mean"]].values.tolist()
    [['A', 2, 2.0], ['B', 1, 5.0]]
    """
    levels = defined_levels(data, between)
    present = [level for level in levels if (data[between].astype(str) == level).any()]
    rows = []
    for variable in variables:
        if is_categorical(data[variable]):
            values = _category_values(data, variable)
            table = pd.crosstab(data[between].astype(str), values).reindex(index=present, fill_value=0)
            categories = [c for c in category_order(data, variable) if c in table.columns]
            for level in present:
                n = int(table.loc[level].sum())
                for category in categories:
                    count = int(table.loc[level, category])
                    rows.append((variable, level, category, n, np.nan, np.nan, np.nan, np.nan, np.nan, count,
                                 100.0 * count / n if n else np.nan))
        else:
            for level, values in zip(present, samples(data, variable, between, present)):
                quartiles = np.percentile(values, [50, 25, 75]) if len(values) else [np.nan] * 3
                rows.append((variable, level, "", len(values), values.mean() if len(values) else np.nan,
                             values.std(ddof=1) if len(values) > 1 else np.nan, *map(float, quartiles), np.nan, np.nan))
    frame = pd.DataFrame(rows, columns=DESCRIPTIVE_COLUMNS)
    return frame.astype({"n": "int64"})


def _row(variable: str, between: str, test: str, **values) -> pd.DataFrame:
    row = dict.fromkeys(TEST_COLUMNS, np.nan)
    row.update(variable=variable, between=between, test=test, reason="", sparse=False, exact_test="")
    row.update(values)
    return pd.DataFrame([row], columns=TEST_COLUMNS)


def _too_few(between: str, levels: list[str], groups: list[np.ndarray], minimum: int) -> str:
    for level, values in zip(levels, groups):
        if len(values) == 0:
            return f"no patient in {dictionary.level_phrase(between, level)} has a value"
        if len(values) < minimum:
            return f"only {len(values)} patient in {dictionary.level_phrase(between, level)} has a value"
    return ""


def compare_two_groups(data: pd.DataFrame, dv: str, between: str = "group", test: str = "student",
                       confidence: float = 0.95) -> pd.DataFrame:
    """Compare a measurement between the two levels of ``between`` (first minus second): one row of :data:`TEST_COLUMNS`.

    ``student`` pools the variances (scipy ``ttest_ind(equal_var=True)``), ``welch`` does not; ``mann_whitney`` is
    scipy's ``mannwhitneyu`` (two-sided, normal approximation with tie correction where exact is not possible),
    with the Hodges–Lehmann shift and the rank-biserial correlation.  The difference of means and Hedges' g are
    given for every test (they are descriptive; the sample-size plan uses g).

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AAABBB"), "x": [1.0, 2, 3, 4, 5, 7]})
    >>> row = compare_two_groups(frame, "x").iloc[0]
    >>> round(float(row.statistic), 4), round(float(row.p_val), 4)  # (2 − 16/3) / √(5/3 · 2/3), pooled variance 5/3, 4 df
    (-3.1623, 0.0341)
    """
    levels = defined_levels(data, between)
    x, y = samples(data, dv, between, levels)
    if dictionary.column_of_variable(dv) == CROSS_COLUMN_RULE_COLUMN and between == "group":  # filled in group A only, by the contract
        return _row(dv, between, test, n=len(x) + len(y), reason="aspiration is group A's procedure, so there is nothing to compare")
    reason = _too_few(between, levels, [x, y], 2)
    if not reason and np.ptp(np.concatenate([x, y])) == 0:
        reason = "every value is the same, so there is no variation to test"
    if not reason and test != "mann_whitney" and x.var(ddof=1) == 0 and y.var(ddof=1) == 0:
        reason = "every value within each group is the same, so the t statistic is undefined"
    if reason:
        return _row(dv, between, test, n=len(x) + len(y), reason=reason)
    values = {"n": len(x) + len(y), "mean_difference": float(x.mean() - y.mean())}
    g = effect_sizes.hedges_g(x, y)
    if np.isfinite(g):
        values["hedges_g"] = g
        values["hedges_g_ci_low"], values["hedges_g_ci_high"] = effect_sizes.hedges_g_interval(g, len(x), len(y), confidence)
    if test == "mann_whitney":
        result = stats.mannwhitneyu(x, y, alternative="two-sided")
        shift, low, high = effect_sizes.hodges_lehmann(x, y, confidence)
        values.update(statistic=float(result.statistic), p_val=float(result.pvalue), hodges_lehmann=shift,
                      hodges_lehmann_ci_low=low, hodges_lehmann_ci_high=high,
                      rank_biserial=effect_sizes.rank_biserial(float(result.statistic), len(x), len(y)))
    else:
        result = stats.ttest_ind(x, y, equal_var=test == "student")
        interval = result.confidence_interval(confidence)
        values.update(statistic=float(result.statistic), df=float(result.df), p_val=float(result.pvalue),
                      ci_low=float(interval.low), ci_high=float(interval.high))
    return _row(dv, between, test, **values)


def compare_several_groups(data: pd.DataFrame, dv: str, between: str = "cement_distribution", test: str = "anova",
                           confidence: float = 0.95) -> pd.DataFrame:
    """Compare a measurement across the levels of ``between``: one-way ANOVA (with η²) or Kruskal–Wallis (with ε²).

    Levels without any value are left out (and the test runs on the others); fewer than two levels with values,
    or no variation, give a row with ``reason`` and no p.  The η² interval has the level
    :func:`effect_interval_level` ``(confidence)`` (90 % for 0.95), so its lower bound is above 0 exactly when p < 1 − confidence.

    Examples
    --------
    >>> frame = pd.DataFrame({"cement_distribution": list("AABBCC"), "x": [1.0, 2, 3, 5, 8, 9]})
    >>> row = compare_several_groups(frame, "x").iloc[0]
    >>> round(float(row.statistic), 4), round(float(row.eta_squared), 5)  # (50.333 / 2) / (3 / 3); η² = 50.333 / 53.333
    (25.1667, 0.94375)
    """
    levels = defined_levels(data, between)
    groups = samples(data, dv, between, levels)
    usable = [values for values in groups if len(values)]
    total = np.concatenate(usable) if usable else np.array([])
    reason = ""
    if len(usable) < 2:
        reason = f"fewer than two {'types' if between == 'cement_distribution' else 'levels'} have patients with a value"
    elif len(total) - len(usable) < 1:
        reason = "too few patients: every level has a single value"
    elif np.ptp(total) == 0:
        reason = "every value is the same, so there is no variation to test"
    elif test == "anova" and all(np.ptp(values) == 0 for values in usable):
        reason = "every value within each type is the same, so the F statistic is undefined"
    if reason:
        return _row(dv, between, test, n=len(total), reason=reason)
    df_between, df_within = float(len(usable) - 1), float(len(total) - len(usable))
    values = {"n": len(total), "df": df_between, "df_residual": df_within}
    if test == "anova":
        result = stats.f_oneway(*usable)
        ss_between = sum(len(v) * (v.mean() - total.mean()) ** 2 for v in usable)
        ss_total = ((total - total.mean()) ** 2).sum()
        values.update(statistic=float(result.statistic), p_val=float(result.pvalue), eta_squared=float(ss_between / ss_total))
        values["eta_squared_ci_low"], values["eta_squared_ci_high"] = effect_sizes.eta_squared_interval(
            float(result.statistic), df_between, df_within, effect_interval_level(confidence))
    else:
        result = stats.kruskal(*usable)
        values.update(statistic=float(result.statistic), p_val=float(result.pvalue),
                      epsilon_squared=effect_sizes.epsilon_squared(float(result.statistic), len(total)))
    return _row(dv, between, test, **values)


def _risk_difference(count_first: int, n_first: int, count_second: int, n_second: int,
                     confidence: float) -> tuple[float, float, float]:
    """p₁ − p₂ with Newcombe's hybrid score interval (1998, method 10; statsmodels ``newcomb``); NaN if a group is empty."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    if n_first == 0 or n_second == 0:
        return np.nan, np.nan, np.nan
    low, high = confint_proportions_2indep(count_first, n_first, count_second, n_second, method="newcomb", compare="diff",
                                           alpha=1 - confidence)
    return float(count_first / n_first - count_second / n_second), float(low), float(high)


def compare_proportions(data: pd.DataFrame, dv: str, between: str = "group", test: str = "chi2", confidence: float = 0.95,
                        seed: int = SEED) -> pd.DataFrame:
    """Compare a categorical variable between the levels of ``between``: one row of :data:`TEST_COLUMNS`.

    χ² without continuity correction (``chi2``), with Cramér's V — its interval at the level
    :func:`effect_interval_level` ``(confidence)`` (90 % for 0.95), so the lower bound is above 0 exactly when the χ²
    p is below 1 − confidence — and, for 2 × 2 tables, the risk difference of the first category (first minus second
    level) with Newcombe's hybrid score interval (1998, method 10; statsmodels ``newcomb``) and the odds ratio
    (statsmodels ``Table2x2``; 0.5 added to every cell when one is empty).  An expected count below 5 sets ``sparse``
    and gives the p of :func:`exact_or_monte_carlo` (``exact_test``, ``exact_p``, ``exact_p_error``): Fisher's test
    for 2 × 2 tables, the Fisher–Freeman–Halton test for 2 × k tables, the Monte Carlo test otherwise;
    ``test="fisher"``, ``"freeman_halton"`` or ``"monte_carlo"`` makes that p the row's p (whichever of the three the
    table's shape gives).  The exact tests have no χ² statistic: theirs is left empty.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AAAABBBB"), "y": list("xxxyxyyy")})
    >>> row = compare_proportions(frame, "y").iloc[0]
    >>> float(row.statistic), round(float(row.p_val), 4), row.exact_test  # 8 (3 · 3 − 1 · 1)² / 4⁴ = 2; every expected count is 2
    (2.0, 0.1573, 'fisher')
    >>> [round(float(row[c]), 4) for c in ("risk_difference", "risk_difference_ci_low", "risk_difference_ci_high")]
    [0.5, -0.1355, 0.7891]

    (3/4 − 1/4 with Newcombe's interval from the Wilson intervals 0.3006–0.9544 of 3/4 and 0.0456–0.6994 of 1/4:
    0.5 − √(0.4494² + 0.4494²) … 0.5 + √(0.2044² + 0.2044²).)
    """
    subset = pd.DataFrame({"between": data[between].astype(str), "value": _category_values(data, dv)}).dropna()
    table = pd.crosstab(subset["between"], subset["value"])
    categories = [c for c in category_order(data, dv) if c in table.columns]
    levels = [level for level in defined_levels(data, between) if level in table.index]
    table = table.reindex(index=levels, columns=categories)
    observed = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0].to_numpy()
    n = int(observed.sum())
    if observed.shape[0] < 2:
        return _row(dv, between, test, n=n, reason="only one group has patients with a value" if between == "group"
                    else "only one type has patients with a value")
    if observed.shape[1] < 2:
        return _row(dv, between, test, n=n, reason="every patient is in the same category")
    chi2 = stats.chi2_contingency(observed, correction=False)
    values = {"n": n, "statistic": float(chi2.statistic), "df": float(chi2.dof), "p_val": float(chi2.pvalue),
              "cramers_v": float(stats.contingency.association(observed, method="cramer"))}
    values["cramers_v_ci_low"], values["cramers_v_ci_high"] = effect_sizes.cramers_v_interval(
        float(chi2.statistic), int(chi2.dof), n, min(observed.shape), effect_interval_level(confidence))
    minimum = float(chi2.expected_freq.min())
    values.update(min_expected=minimum, sparse=minimum < SPARSE_EXPECTED)
    if observed.shape == (2, 2):
        from statsmodels.stats.contingency_tables import Table2x2

        sizes = observed.sum(axis=1)
        difference, low, high = _risk_difference(int(observed[0, 0]), int(sizes[0]), int(observed[1, 0]), int(sizes[1]),
                                                 confidence)
        odds = Table2x2(observed + (0.5 if (observed == 0).any() else 0))
        odds_low, odds_high = odds.oddsratio_confint(alpha=1 - confidence)
        values.update(risk_difference=difference, risk_difference_ci_low=low, risk_difference_ci_high=high,
                      odds_ratio=float(odds.oddsratio), odds_ratio_ci_low=float(odds_low), odds_ratio_ci_high=float(odds_high))
    if values["sparse"] or test in EXACT_TESTS:
        exact, exact_p, error = exact_or_monte_carlo(observed, seed)
        values.update(exact_test=exact, exact_p=exact_p, exact_p_error=error)
        if test in EXACT_TESTS:
            test = exact
            values.update(p_val=exact_p)
            if exact != "monte_carlo":
                values.update(statistic=np.nan, df=np.nan)
    row = _row(dv, between, test, **values)
    row["sparse"] = row["sparse"].astype(bool)
    return row


def category_differences(data: pd.DataFrame, dv: str, between: str = "group", confidence: float = 0.95) -> pd.DataFrame:
    """Risk difference of every category of ``dv`` between the two levels of ``between`` (first minus second).

    One row per category present (in :func:`category_order`), :data:`CATEGORY_DIFFERENCE_COLUMNS`: the counts and
    non-missing sizes of both levels, the percentages, and the difference of the shares p_first − p_second with
    Newcombe's hybrid score interval (1998, method 10: the Wilson intervals of the two shares combined; statsmodels
    ``newcomb``), ``method`` ``"newcombe"``.  Works for two categories (the rows mirror each other) and for more,
    where one χ² test covers the table and these rows say which categories differ and by how much.  Missing values
    are dropped.  ``between`` must have two levels.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AAAABBBBBB"), "y": list("ppqrpqqrr") + [None]})
    >>> result = category_differences(frame, "y")
    >>> result[["category", "count_first", "n_first", "count_second", "n_second"]].values.tolist()
    [['p', 2, 4, 1, 5], ['q', 1, 4, 2, 5], ['r', 1, 4, 2, 5]]
    >>> result["risk_difference"].round(2).tolist(), result["method"].iloc[0]  # 2/4 − 1/5, 1/4 − 2/5, 1/4 − 2/5
    ([0.3, -0.15, -0.15], 'newcombe')
    """
    levels = defined_levels(data, between)
    if len(levels) != 2:
        raise ValueError(f"category_differences compares two levels of {between!r}, not {len(levels)}")
    groups = data[between].astype(str).where(data[between].notna())
    subset = pd.DataFrame({"between": groups, "value": _category_values(data, dv)}).dropna()
    subset = subset[subset["between"].isin(levels)]
    table = pd.crosstab(subset["between"], subset["value"]).reindex(index=levels, fill_value=0)
    categories = [c for c in category_order(data, dv) if c in table.columns]
    sizes = table.sum(axis=1)
    first, second = levels
    rows = []
    for category in categories:
        counts = int(table.loc[first, category]), int(table.loc[second, category])
        difference, low, high = _risk_difference(counts[0], int(sizes[first]), counts[1], int(sizes[second]), confidence)
        rows.append((dv, category, first, second, counts[0], int(sizes[first]), counts[1], int(sizes[second]),
                     100.0 * counts[0] / sizes[first] if sizes[first] else np.nan,
                     100.0 * counts[1] / sizes[second] if sizes[second] else np.nan, difference, low, high, "newcombe"))
    frame = pd.DataFrame(rows, columns=CATEGORY_DIFFERENCE_COLUMNS)
    return frame.astype({"count_first": "int64", "n_first": "int64", "count_second": "int64", "n_second": "int64"})


def promote_exact(row: pd.DataFrame) -> pd.DataFrame:
    """A sparse χ² row made the row of its exact or Monte Carlo test (robust mode): that p becomes the p.

    The exact tests (Fisher, Fisher–Freeman–Halton) order tables by probability and have no χ² statistic: theirs is
    left empty; the Monte Carlo test keeps the χ² statistic it simulates.
    """
    promoted = row.copy()
    exact = promoted["exact_test"].iloc[0]
    promoted["test"] = exact
    promoted["p_val"] = promoted["exact_p"]
    if exact != "monte_carlo":
        promoted[["statistic", "df"]] = np.nan
    return promoted


def choose_test(variable: str, kind: str, tests: str) -> str:
    """The test a measurement's comparison uses under the ``tests`` option (``kind``: ``two`` groups or ``several``).

    Categories always start with χ²; in robust mode a sparse table's exact test takes its place (:func:`promote_exact`).

    >>> choose_test("vas_op", "two", "robust"), choose_test("fvahl", "two", "robust"), choose_test("fvahl", "several", "paper")
    ('mann_whitney', 'welch', 'anova')
    """
    if tests not in TEST_OPTIONS:
        raise ValueError(f"tests must be one of {TEST_OPTIONS}, not {tests!r}")
    if kind == "two":
        if tests == "paper":
            return "student"
        return "mann_whitney" if dictionary.scale(variable) == "ordinal" else "welch"
    return "anova" if tests == "paper" else "kruskal"


def compare(data: pd.DataFrame, variables: list[str], between: str, tests: str = "paper",
            confidence: float = 0.95) -> pd.DataFrame:
    """Compare every variable (measurement or category) between the levels of ``between``: one row each, :data:`TEST_COLUMNS`."""
    kind = "two" if len(defined_levels(data, between)) == 2 else "several"
    rows = []
    for variable in variables:
        if is_categorical(data[variable]):
            row = compare_proportions(data, variable, between, "chi2", confidence)
            if tests == "robust" and bool(row["sparse"].iloc[0]):
                row = promote_exact(row)
        elif kind == "two":
            row = compare_two_groups(data, variable, between, choose_test(variable, "two", tests), confidence)
        else:
            row = compare_several_groups(data, variable, between, choose_test(variable, "several", tests), confidence)
        rows.append(row)
    return pd.concat(rows, ignore_index=True)


def holm(p_values: pd.Series) -> pd.Series:
    """Holm–Bonferroni adjusted p-values (statsmodels), missing values kept missing.

    >>> holm(pd.Series([0.01, 0.04, 0.03])).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    from statsmodels.stats.multitest import multipletests

    adjusted = pd.Series(np.nan, index=p_values.index)
    present = p_values.notna()
    if present.any():
        adjusted[present] = multipletests(p_values[present].astype(float), method="holm")[1]
    return adjusted


def with_holm(comparison: pd.DataFrame, roles: tuple[str, ...] = dictionary.RESULT_ROLES) -> pd.DataFrame:
    """A copy with ``p_holm``: Holm-adjusted p over the rows whose variable has one of ``roles`` (one family per frame).

    Baseline rows are not results of the treatment and stay outside the family (their ``p_holm`` is missing).
    """
    adjusted = comparison.copy()
    family = adjusted["variable"].map(dictionary.role).isin(roles)
    adjusted["p_holm"] = np.nan
    adjusted.loc[family, "p_holm"] = holm(adjusted.loc[family, "p_val"])
    return adjusted


def assumption_checks(data: pd.DataFrame, variables: list[str], between: str, alpha: float = 0.05) -> pd.DataFrame:
    """Normality per level (Shapiro–Wilk) and equal variances (Levene, median-centred), one row per measurement.

    Columns: ``variable``, ``shapiro_p_<level>`` (NaN with fewer than 3 values or none varying; at most 5,000 values,
    scipy's limit for an accurate p, drawn with a fixed seed), ``normal``, ``levene_statistic``, ``levene_p``,
    ``equal_variances``.
    """
    levels = [level for level in defined_levels(data, between) if (data[between].astype(str) == level).any()]
    rows = []
    rng = np.random.default_rng(SEED)
    for variable in variables:
        if is_categorical(data[variable]):
            continue
        groups = samples(data, variable, between, levels)
        row = {"variable": variable}
        for level, sample in zip(levels, groups):
            if len(sample) > 5000:
                sample = rng.choice(sample, 5000, replace=False)
            row[f"shapiro_p_{level}"] = float(stats.shapiro(sample).pvalue) if len(sample) >= 3 and np.ptp(sample) > 0 else np.nan
        row["normal"] = not any(row[f"shapiro_p_{level}"] < alpha for level in levels)
        usable = [sample for sample in groups if len(sample) >= 2]
        levene = stats.levene(*usable) if len(usable) >= 2 and any(np.ptp(s) > 0 for s in usable) else None
        row["levene_statistic"] = float(levene.statistic) if levene else np.nan
        row["levene_p"] = float(levene.pvalue) if levene else np.nan
        row["equal_variances"] = bool(levene is None or not levene.pvalue < alpha)
        rows.append(row)
    return pd.DataFrame(rows)


def _sparse_tests_text() -> str:
    """The tests used beside χ² for a sparse table, in words (:func:`exact_or_monte_carlo`)."""
    return (f"{TEST_NAMES['fisher']} for 2 × 2 tables, the {TEST_NAMES['freeman_halton']} for tables of two rows (or two "
            f"columns) with more categories, computed over every table with the observed margins (when there are at most "
            f"{ENUMERATION_LIMIT:,}), and otherwise a Monte Carlo test of the χ² statistic ({MONTE_CARLO_TABLES:,} random "
            f"tables with the observed margins, seed {SEED}), whose p is an estimate of the exact p with a simulation "
            f"standard error of √(p (1 − p) / {MONTE_CARLO_TABLES:,})")


def summaries_description(tests: str) -> str:
    """How the tables summarise values under the ``tests`` option (a sentence for the methods).

    >>> "median" in summaries_description("robust"), "median" in summaries_description("paper")
    (True, False)
    """
    if tests == "robust":
        return ("Every value tested on ranks is summarised as median and interquartile range — the ordinal scores (VAS, ODI) "
                "between the groups and every outcome across the distribution types — the measurements compared between "
                "the groups by Welch's t-test as mean ± standard deviation, and categorical variables as counts and "
                "percentages.")
    return "Continuous variables are summarised as mean ± standard deviation and categorical variables as counts and percentages."


def tests_description(tests: str) -> str:
    """The tests that run under the ``tests`` option, in words, for the methods (the pairwise tests included).

    >>> "Tukey" in tests_description("paper"), "Dunn" in tests_description("robust")
    (True, True)
    """
    if tests not in TEST_OPTIONS:
        raise ValueError(f"tests must be one of {TEST_OPTIONS}, not {tests!r}")
    if tests == "paper":
        return (f"continuous variables were compared between the two treatment groups with the {TEST_NAMES['student']} and "
                f"across the three cement-distribution types with the {TEST_NAMES['anova']}, pairs of types with Tukey's HSD "
                f"(the Games–Howell test where Levene's test rejected equal variances); categorical variables with "
                f"{TEST_NAMES['chi2']}. Where a χ² table had an expected count below 5, the table flags it and the re-analysis "
                f"gives beside it the p of a test that does not rely on the χ² approximation: {_sparse_tests_text()}")
    return (f"measurements were compared between the two treatment groups with {TEST_NAMES['welch']} and ordinal scores "
            f"(VAS and ODI, whose values are ranks on a short scale) with the {TEST_NAMES['mann_whitney']}, reported with the "
            f"Hodges–Lehmann shift and its distribution-free interval; across the three cement-distribution types with the "
            f"{TEST_NAMES['kruskal']} (effect size ε²) followed by Dunn's pairwise test with Holm's adjustment; categorical "
            f"variables with {TEST_NAMES['chi2']}, or, where an expected count was below 5, {_sparse_tests_text()}. "
            "The choice between Welch and "
            "Mann–Whitney follows the measurement scale of each variable, fixed in the data dictionary, not a test of normality "
            "on the data")


tests_description.__test__ = False  # its name starts with "test": not a test for pytest collecting this module
