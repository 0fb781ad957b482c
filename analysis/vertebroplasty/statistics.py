"""Group comparisons returning tidy DataFrames, one row per variable (pingouin's shape).

Each test is one function with explicit keyword parameters; results are data
and are formatted later (:mod:`vertebroplasty.tables`).  Missing values are
dropped per variable (available cases) and every row reports the n it used.

The study's own tests (``tests="paper"``) are the independent-samples Student
t-test, one-way ANOVA and Pearson's chi-square without continuity correction.
``tests="robust"`` runs Welch's t-test, the Kruskal–Wallis test and, for 2×2
tables with an expected count below 5, Fisher's exact test instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

TEST_NAMES = {
    "student": "independent-samples Student t-test",
    "welch": "Welch's t-test",
    "anova": "one-way ANOVA",
    "kruskal": "Kruskal–Wallis test",
    "chi2": "Pearson's χ² test without continuity correction",
    "fisher": "Fisher's exact test",
}
TESTS = ("paper", "robust")


def _check(data: pd.DataFrame, dv: str, between: str) -> None:
    for column in (dv, between):
        if column not in data.columns:
            raise KeyError(f"column {column!r} is not in the data")


def _levels(data: pd.DataFrame, between: str) -> list[str]:
    return sorted(data[between].dropna().astype(str).unique())


def _values(data: pd.DataFrame, dv: str, between: str, level: str) -> np.ndarray:
    values = pd.to_numeric(data.loc[data[between].astype(str) == level, dv], errors="coerce").astype(float)
    return values.dropna().to_numpy()


def hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Bias-corrected standardised mean difference (x − y) / pooled SD × J.

    J = 1 − 3 / (4 (n_x + n_y) − 9) (Hedges & Olkin, 1985).
    """
    nx, ny = len(x), len(y)
    pooled = np.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    return float((x.mean() - y.mean()) / pooled * (1 - 3 / (4 * (nx + ny) - 9)))


def hedges_g_interval(g: float, nx: int, ny: int, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval of Hedges' g: SE = sqrt((nx + ny) / (nx ny) + g² / (2 (nx + ny)))."""
    se = np.sqrt((nx + ny) / (nx * ny) + g**2 / (2 * (nx + ny)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return float(g - z * se), float(g + z * se)


def _noncentrality_interval(cdf, observed: float, confidence: float) -> tuple[float, float]:
    """Bounds of a noncentrality parameter λ with cdf(observed; λ) = 1 − α/2 and α/2 (0 when not reachable)."""
    from scipy.optimize import brentq

    tail = (1 - confidence) / 2
    bounds = []
    for target in (1 - tail, tail):
        if cdf(observed, 0.0) < target:
            bounds.append(0.0)
            continue
        upper = max(10.0, observed * 4)
        while cdf(observed, upper) > target:
            upper *= 2
        try:
            bounds.append(brentq(lambda lam: cdf(observed, lam) - target, 0.0, upper))
        except ValueError:  # scipy's noncentral cdf returns NaN for very large λ (huge samples): no interval
            bounds.append(np.nan)
    return bounds[0], bounds[1]


def eta_squared_interval(f: float, df_between: float, df_within: float, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of eta² by inverting the noncentral F distribution (Steiger, 2004): η² = λ / (λ + N)."""
    total = df_between + df_within + 1
    low, high = _noncentrality_interval(lambda x, lam: stats.ncf.cdf(x, df_between, df_within, lam) if lam > 0 else stats.f.cdf(x, df_between, df_within),
                                        f, confidence)
    return low / (low + total), high / (high + total)


def cramers_v_interval(chi2: float, df: int, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of Cramér's V by inverting the noncentral chi-square distribution: V = sqrt(λ / (n (k − 1)))."""
    low, high = _noncentrality_interval(lambda x, lam: stats.ncx2.cdf(x, df, lam) if lam > 0 else stats.chi2.cdf(x, df),
                                        chi2, confidence)
    return float(np.sqrt(low / (n * (k - 1)))), float(np.sqrt(high / (n * (k - 1))))


def compare_two_groups(data: pd.DataFrame, dv: str, between: str = "group", test: str = "student",
                       confidence: float = 0.95) -> pd.DataFrame:
    """Compare a numeric variable between the two levels of ``between`` (first minus second).

    Returns one row: ``variable, test, n_<level>, mean_<level>, sd_<level>`` for
    each level, ``statistic`` (t), ``df``, ``p_val``, ``mean_difference``,
    ``ci_low``/``ci_high`` (its ``confidence`` interval) and ``hedges_g``.

    Notes
    -----
    ``test="student"`` pools the variances (scipy ``ttest_ind(equal_var=True)``);
    ``test="welch"`` does not.  Missing values are removed first.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AAABBB"), "x": [1.0, 2, 3, 4, 5, 7]})
    >>> row = compare_two_groups(frame, "x").iloc[0]
    >>> bool(np.isclose(row.p_val, stats.ttest_ind([1, 2, 3], [4, 5, 7]).pvalue))
    True
    """
    _check(data, dv, between)
    first, second = _levels(data, between)
    x, y = _values(data, dv, between, first), _values(data, dv, between, second)
    row = {"variable": dv, "test": test}
    for level, values in ((first, x), (second, y)):
        row[f"n_{level}"] = len(values)
        row[f"mean_{level}"] = values.mean() if len(values) else np.nan
        row[f"sd_{level}"] = values.std(ddof=1) if len(values) > 1 else np.nan
    if len(x) < 2 or len(y) < 2:
        row.update(statistic=np.nan, df=np.nan, p_val=np.nan, mean_difference=np.nan, ci_low=np.nan, ci_high=np.nan, hedges_g=np.nan)
        return pd.DataFrame([row])
    result = stats.ttest_ind(x, y, equal_var=test == "student")
    interval = result.confidence_interval(confidence)
    g = hedges_g(x, y)
    g_low, g_high = hedges_g_interval(g, len(x), len(y), confidence)
    row.update(statistic=float(result.statistic), df=float(result.df), p_val=float(result.pvalue),
               mean_difference=float(x.mean() - y.mean()), ci_low=float(interval.low), ci_high=float(interval.high),
               hedges_g=g, hedges_g_ci_low=g_low, hedges_g_ci_high=g_high)
    return pd.DataFrame([row])


def compare_several_groups(data: pd.DataFrame, dv: str, between: str = "cement_distribution", test: str = "anova") -> pd.DataFrame:
    """Compare a numeric variable across the levels of ``between`` (one-way ANOVA or Kruskal–Wallis).

    Returns one row: ``variable, test``, per level ``n_/mean_/sd_``, then
    ``statistic`` (F or H), ``df`` (between), ``df_residual``, ``p_val`` and
    ``eta_squared`` (SS_between / SS_total).

    Examples
    --------
    >>> frame = pd.DataFrame({"d": list("AABBCC"), "x": [1.0, 2, 3, 5, 8, 9]})
    >>> row = compare_several_groups(frame, "x", between="d").iloc[0]
    >>> bool(np.isclose(row.statistic, stats.f_oneway([1, 2], [3, 5], [8, 9]).statistic))
    True
    """
    _check(data, dv, between)
    levels = _levels(data, between)
    samples = [_values(data, dv, between, level) for level in levels]
    row = {"variable": dv, "test": test}
    for level, values in zip(levels, samples):
        row[f"n_{level}"] = len(values)
        row[f"mean_{level}"] = values.mean() if len(values) else np.nan
        row[f"sd_{level}"] = values.std(ddof=1) if len(values) > 1 else np.nan
    usable = [values for values in samples if len(values) > 0]
    total = np.concatenate(usable) if usable else np.array([])
    if len(usable) < 2 or len(total) - len(usable) < 1:
        row.update(statistic=np.nan, df=np.nan, df_residual=np.nan, p_val=np.nan, eta_squared=np.nan)
        return pd.DataFrame([row])
    ss_between = sum(len(values) * (values.mean() - total.mean()) ** 2 for values in usable)
    ss_total = ((total - total.mean()) ** 2).sum()
    result = stats.f_oneway(*usable) if test == "anova" else stats.kruskal(*usable)
    df_between, df_within = float(len(usable) - 1), float(len(total) - len(usable))
    row.update(statistic=float(result.statistic), df=df_between, df_residual=df_within,
               p_val=float(result.pvalue), eta_squared=float(ss_between / ss_total) if ss_total > 0 else np.nan)
    if test == "anova" and np.isfinite(result.statistic):
        row["eta_squared_ci_low"], row["eta_squared_ci_high"] = eta_squared_interval(float(result.statistic), df_between, df_within)
    return pd.DataFrame([row])


def category_order(data: pd.DataFrame, variable: str, present: list[str]) -> list[str]:
    """Categories in their defined order: the dictionary's allowed values, a categorical's order, yes before no."""
    from . import dictionary

    entries = dictionary.load_dictionary()
    if variable in entries.index and entries.loc[variable, "allowed_values"]:
        return list(entries.loc[variable, "allowed_values"])
    if isinstance(data[variable].dtype, pd.CategoricalDtype):
        return list(data[variable].cat.categories)
    return sorted(present)


def compare_proportions(data: pd.DataFrame, dv: str, between: str = "group", test: str = "chi2") -> pd.DataFrame:
    """Compare a categorical variable between the levels of ``between``.

    Returns one row: ``variable, test``, ``count_<level>:<category>`` and
    ``percent_<level>:<category>`` (of the level's non-missing n), ``n_<level>``,
    then ``statistic`` (chi-square; NaN for Fisher's test), ``df``, ``p_val``,
    ``cramers_v``, and for a 2×2 table ``risk_difference`` (first category,
    first minus second level).  ``test="chi2"`` never applies a continuity
    correction; ``test="fisher"`` runs Fisher's exact test on a 2×2 table.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AAAABBBB"), "y": list("xxxyxyyy")})
    >>> row = compare_proportions(frame, "y").iloc[0]
    >>> table = [[3, 1], [1, 3]]
    >>> bool(np.isclose(row.p_val, stats.chi2_contingency(table, correction=False).pvalue))
    True
    """
    _check(data, dv, between)
    subset = data[[between, dv]].dropna()
    category_values = subset[dv]
    if category_values.dtype == "boolean" or category_values.dtype == bool:
        category_values = category_values.map({True: "yes", False: "no"})
    table = pd.crosstab(subset[between].astype(str), category_values.astype(str))
    categories = category_order(data, dv, list(table.columns))
    table = table.reindex(columns=[c for c in categories if c in table.columns])
    row = {"variable": dv, "test": test}
    for level, counts in table.iterrows():
        row[f"n_{level}"] = int(counts.sum())
        for category, count in counts.items():
            row[f"count_{level}:{category}"] = int(count)
            row[f"percent_{level}:{category}"] = 100.0 * count / counts.sum() if counts.sum() else np.nan
    observed = table.loc[(table.sum(axis=1) > 0), (table.sum(axis=0) > 0)].to_numpy()
    if observed.shape[0] < 2 or observed.shape[1] < 2:
        row.update(statistic=np.nan, df=np.nan, p_val=np.nan, cramers_v=np.nan)
        return pd.DataFrame([row])
    chi2 = stats.chi2_contingency(observed, correction=False)
    v_low, v_high = cramers_v_interval(float(chi2.statistic), int(chi2.dof), int(observed.sum()), min(observed.shape))
    row.update(statistic=float(chi2.statistic), df=float(chi2.dof), p_val=float(chi2.pvalue),
               cramers_v=float(stats.contingency.association(observed, method="cramer")),
               cramers_v_ci_low=v_low, cramers_v_ci_high=v_high)
    if observed.shape == (2, 2):
        from statsmodels.stats.contingency_tables import Table2x2

        sizes = observed.sum(axis=1)
        proportions = observed[:, 0] / sizes
        difference = float(proportions[0] - proportions[1])
        se = np.sqrt((proportions * (1 - proportions) / sizes).sum())
        odds = Table2x2(observed + (0.5 if (observed == 0).any() else 0))
        row.update(risk_difference=difference, risk_difference_ci_low=difference - 1.959963984540054 * se,
                   risk_difference_ci_high=difference + 1.959963984540054 * se, odds_ratio=float(odds.oddsratio),
                   odds_ratio_ci_low=float(odds.oddsratio_confint()[0]), odds_ratio_ci_high=float(odds.oddsratio_confint()[1]))
        if test == "fisher":
            row.update(statistic=np.nan, df=np.nan, p_val=float(stats.fisher_exact(observed).pvalue))
    return pd.DataFrame([row])


def choose_test(kind: str, tests: str, data: pd.DataFrame | None = None, dv: str | None = None, between: str | None = None) -> str:
    """The test a comparison uses under the ``tests`` option (``paper`` or ``robust``)."""
    if tests not in TESTS:
        raise ValueError(f"tests must be one of {TESTS}, not {tests!r}")
    if kind == "two":
        return "student" if tests == "paper" else "welch"
    if kind == "several":
        return "anova" if tests == "paper" else "kruskal"
    if tests == "robust" and data is not None:
        table = pd.crosstab(data[between], data[dv])
        if table.shape == (2, 2):
            expected = stats.contingency.expected_freq(table.to_numpy())
            if (expected < 5).any():
                return "fisher"
    return "chi2"


def compare(data: pd.DataFrame, variables: list[str], between: str, tests: str = "paper") -> pd.DataFrame:
    """Compare every variable (numeric or categorical) between the levels of ``between``; one row each."""
    levels = _levels(data, between)
    rows = []
    for variable in variables:
        values = data[variable]
        categorical = isinstance(values.dtype, pd.CategoricalDtype) or values.dtype in ("boolean", bool) or \
            pd.api.types.is_string_dtype(values.dtype) or values.dtype == object
        if categorical:
            rows.append(compare_proportions(data, variable, between, choose_test("categorical", tests, data, variable, between)))
        elif len(levels) == 2:
            rows.append(compare_two_groups(data, variable, between, choose_test("two", tests)))
        else:
            rows.append(compare_several_groups(data, variable, between, choose_test("several", tests)))
    return pd.concat(rows, ignore_index=True)


def with_holm(comparison: pd.DataFrame) -> pd.DataFrame:
    """A copy of a comparison frame with ``p_holm``: Holm-adjusted p across the frame's tests (one family per table)."""
    adjusted = comparison.copy()
    adjusted["p_holm"] = holm(adjusted["p_val"])
    return adjusted


def holm(p_values: pd.Series) -> pd.Series:
    """Holm–Bonferroni adjusted p-values (statsmodels), missing values kept missing."""
    from statsmodels.stats.multitest import multipletests

    adjusted = pd.Series(np.nan, index=p_values.index)
    present = p_values.notna()
    if present.any():
        adjusted[present] = multipletests(p_values[present], method="holm")[1]
    return adjusted


def assumption_checks(data: pd.DataFrame, variables: list[str], between: str, alpha: float = 0.05) -> pd.DataFrame:
    """Normality per level (Shapiro–Wilk) and equal variances (Levene, median-centred), one row per variable.

    Columns: ``variable``, ``shapiro_p_<level>`` for each level, ``normal`` (no
    level with p < alpha), ``levene_statistic``, ``levene_p``, ``equal_variances``.
    """
    levels = _levels(data, between)
    rows = []
    for variable in variables:
        samples = [_values(data, variable, between, level) for level in levels]
        row = {"variable": variable}
        for level, sample in zip(levels, samples):
            row[f"shapiro_p_{level}"] = float(stats.shapiro(sample).pvalue) if len(sample) >= 3 and np.ptp(sample) > 0 else np.nan
        row["normal"] = not any(row[f"shapiro_p_{level}"] < alpha for level in levels)
        usable = [sample for sample in samples if len(sample) >= 2]
        levene = stats.levene(*usable) if len(usable) >= 2 else None
        row["levene_statistic"] = float(levene.statistic) if levene else np.nan
        row["levene_p"] = float(levene.pvalue) if levene else np.nan
        row["equal_variances"] = bool(levene is None or not levene.pvalue < alpha)
        rows.append(row)
    return pd.DataFrame(rows)


def pairwise_comparisons(data: pd.DataFrame, variables: list[str], between: str = "cement_distribution", alpha: float = 0.05) -> pd.DataFrame:
    """Post-hoc pairs after a one-way comparison: Tukey HSD, or Games–Howell where Levene's test rejects equal variances.

    One row per variable and pair: ``variable, method, first, second,
    mean_difference`` (first − second), ``ci_low, ci_high`` (95 %; Tukey only) and ``p_adjusted``.
    """
    checks = assumption_checks(data, variables, between, alpha).set_index("variable")
    levels = _levels(data, between)
    rows = []
    for variable in variables:
        samples = [_values(data, variable, between, level) for level in levels]
        if checks.loc[variable, "equal_variances"]:
            result = stats.tukey_hsd(*samples)
            interval = result.confidence_interval(0.95)
            for i, j in ((0, 1), (0, 2), (1, 2)):
                rows.append({"variable": variable, "method": "Tukey HSD", "first": levels[i], "second": levels[j],
                             "mean_difference": float(samples[i].mean() - samples[j].mean()),
                             "ci_low": float(interval.low[i, j]), "ci_high": float(interval.high[i, j]), "p_adjusted": float(result.pvalue[i, j])})
        else:
            import pingouin  # slow to import: only when a variable needs Games–Howell

            frame = pd.DataFrame({"value": np.concatenate(samples), "level": np.repeat(levels, [len(x) for x in samples])})
            result = pingouin.pairwise_gameshowell(frame, dv="value", between="level")
            for record in result.to_dict("records"):
                rows.append({"variable": variable, "method": "Games–Howell", "first": str(record["A"]), "second": str(record["B"]),
                             "mean_difference": float(record["diff"]), "ci_low": np.nan, "ci_high": np.nan, "p_adjusted": float(record["pval"])})
    return pd.DataFrame(rows)


def sample_size(comparison: pd.DataFrame, alpha: float = 0.05, powers: tuple[float, ...] = (0.8, 0.9), limit: int = 100_000) -> pd.DataFrame:
    """Patients per group a two-group t-test needs to detect the observed Hedges' g (statsmodels ``TTestIndPower``).

    One row per variable: ``hedges_g`` and ``n_per_group_<power>`` (rounded up;
    NaN where the observed effect is too small to reach within ``limit`` per group).
    """
    from statsmodels.stats.power import TTestIndPower

    solver = TTestIndPower()
    rows = []
    for record in comparison.to_dict("records"):
        if "hedges_g" not in record or pd.isna(record.get("hedges_g")):
            continue
        effect = abs(float(record["hedges_g"]))
        row = {"variable": record["variable"], "hedges_g": float(record["hedges_g"])}
        for power in powers:
            needed = solver.solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0, nobs1=None) if effect > 0 else np.nan
            row[f"n_per_group_{int(power * 100)}"] = float(np.ceil(needed)) if np.isfinite(needed) and needed <= limit else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
