"""Group comparisons (:mod:`vertebroplasty.statistics.comparisons`) and the sample-size plan (:mod:`vertebroplasty.statistics.power`) against
values computed another way.

Every expected value comes from a route other than the library call the code makes: a formula written out with its
numbers, a published worked example (cited), the study paper's own printed p-values, scipy from summary statistics
where the code uses raw data, statsmodels where the code uses scipy, or exact enumeration where the code simulates.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.cohort import Cohort
from vertebroplasty.statistics import comparisons, power
from vertebroplasty.writing import tables

Z95 = 1.959963984540054  # z_{0.975}
ORDINAL = ("vas_pre", "vas_op", "vas_post", "vas_final", "odi_pre", "odi_post", "odi_final")  # the VAS and ODI scores


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return Cohort.load("").data


def by_group(data: pd.DataFrame, variable: str, between: str = "group", levels: str = "AB") -> list[np.ndarray]:
    """The non-missing values of each level, selected here with plain masks (not the module's ``samples``)."""
    return [data.loc[(data[between] == level) & data[variable].notna(), variable].to_numpy(dtype=float) for level in levels]


def group_frame(a, b, variable: str = "x") -> pd.DataFrame:
    return pd.DataFrame({"group": ["A"] * len(a) + ["B"] * len(b), variable: np.concatenate([a, b]).astype(float)})


def category_frame(counts: dict[str, dict[str, int]], variable: str, between: str = "group") -> pd.DataFrame:
    """One patient per row from a table of counts {level: {category: count}}."""
    rows = [(level, category) for level, row in counts.items() for category, n in row.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=[between, variable])


def chi_square_by_hand(table) -> float:
    """Σ (O − E)² / E with E = row total × column total / n."""
    table = np.asarray(table, dtype=float)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    return float(((table - expected) ** 2 / expected).sum())


def fisher_by_hand(table) -> float:
    """Two-sided Fisher p: the sum of the hypergeometric probabilities of the tables with the observed margins that are
    no more probable than the observed one (math.comb, no scipy)."""
    (a, b), (c, d) = table
    row1, col1, n = a + b, a + c, a + b + c + d

    def probability(x):
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    observed = probability(a)
    support = range(max(0, row1 + col1 - n), min(row1, col1) + 1)
    return sum(p for p in map(probability, support) if p <= observed * (1 + 1e-7))


def wilson_by_hand(count: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval (1927): (p + z²/2n ∓ z √(p (1 − p) / n + z² / 4n²)) / (1 + z²/n)."""
    p = count / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def test_wilson_by_hand_solves_the_score_equation():
    # the Wilson bounds are the two proportions π with (p − π)² = z² π (1 − π) / n
    for count, n in [(9, 42), (7, 41), (0, 10), (10, 10), (56, 70)]:
        for bound in wilson_by_hand(count, n):
            assert (count / n - bound) ** 2 == pytest.approx(Z95**2 * bound * (1 - bound) / n, abs=1e-12)


def newcombe_by_hand(count1: int, n1: int, count2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """Newcombe's (1998) method 10: p₁ − p₂ − √((p₁ − l₁)² + (u₂ − p₂)²) to p₁ − p₂ + √((u₁ − p₁)² + (p₂ − l₂)²),
    l and u the Wilson bounds of each proportion."""
    p1, p2 = count1 / n1, count2 / n2
    (l1, u1), (l2, u2) = wilson_by_hand(count1, n1, z), wilson_by_hand(count2, n2, z)
    return p1 - p2, p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def freeman_halton_by_relabelling(table) -> float:
    """Fisher–Freeman–Halton p of a 2 × k table by brute force: every way of choosing which patients form the first row
    (all C(n, r₁) equally likely under independence given the margins) is tallied; a table's probability is its share of
    the choices, and p sums the tables no more probable than the observed one.  No formula for the probabilities."""
    table = np.asarray(table)
    categories = [j for j, count in enumerate(table.sum(axis=0)) for _ in range(count)]
    tally: dict[tuple, int] = {}
    for chosen in itertools.combinations(range(len(categories)), int(table[0].sum())):
        first = tuple(np.bincount([categories[i] for i in chosen], minlength=table.shape[1]))
        tally[first] = tally.get(first, 0) + 1
    total = sum(tally.values())
    observed = tally[tuple(table[0])]
    return sum(count for count in tally.values() if count <= observed) / total


def freeman_halton_by_binomials(table) -> Fraction:
    """Fisher–Freeman–Halton p of a 2 × k table in exact rational arithmetic: every first row x with the observed
    margins has probability Π_j C(c_j, x_j) / C(n, r₁) (a product of binomial coefficients, math.comb)."""
    table = np.asarray(table)
    columns, row = [int(c) for c in table.sum(axis=0)], int(table[0].sum())
    denominator = math.comb(sum(columns), row)

    def probability(first):
        return Fraction(math.prod(math.comb(c, x) for c, x in zip(columns, first)), denominator)

    observed = probability(table[0])
    everything = [probability(first) for first in itertools.product(*(range(c + 1) for c in columns)) if sum(first) == row]
    assert sum(everything) == 1
    return sum(p for p in everything if p <= observed)


def exact_chi_square_p_3x3(table) -> float:
    """Exact conditional p of the χ² statistic for a 3 × 3 table: all tables with its margins (four free cells),
    each with probability Π r_i! Π c_j! / (n! Π x_ij!)."""
    table = np.asarray(table)
    rows, columns, n = [int(r) for r in table.sum(axis=1)], [int(c) for c in table.sum(axis=0)], int(table.sum())
    observed = chi_square_by_hand(table)
    constant = math.prod(map(math.factorial, rows + columns)) / math.factorial(n)
    p = total = 0.0
    for a, b, d, e in itertools.product(range(n + 1), repeat=4):
        candidate = np.array([[a, b, rows[0] - a - b], [d, e, rows[1] - d - e],
                              [columns[0] - a - d, columns[1] - b - e, 0]])
        candidate[2, 2] = rows[2] - candidate[2, 0] - candidate[2, 1]
        if (candidate < 0).any() or candidate[:, 2].sum() != columns[2]:
            continue
        probability = constant / math.prod(math.factorial(int(v)) for v in candidate.ravel())
        total += probability
        if chi_square_by_hand(candidate) >= observed * (1 - 1e-9):
            p += probability
    assert total == pytest.approx(1.0)
    return p


# --- the shape of the results ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("tests", comparisons.TEST_OPTIONS)
@pytest.mark.parametrize("table", ["table1", "table2", "table3"])
def test_compare_gives_one_row_per_variable_with_the_fixed_columns(study, table, tests):
    variables = tables.TABLE_VARIABLES[table]
    result = comparisons.compare(study, variables, tables.TABLE_BETWEEN[table], tests)
    assert list(result.columns) == comparisons.TEST_COLUMNS
    assert result["variable"].tolist() == variables
    computed = result["reason"] == ""
    assert result.loc[computed, "p_val"].between(0, 1).all()
    assert result.loc[~computed, "p_val"].isna().all()


def test_compare_does_not_modify_its_input(study):
    data = study.copy()
    before = data.copy()
    for table, variables in tables.TABLE_VARIABLES.items():
        for tests in comparisons.TEST_OPTIONS:
            comparisons.with_holm(comparisons.compare(data, variables, tables.TABLE_BETWEEN[table], tests))
        comparisons.describe(data, variables, tables.TABLE_BETWEEN[table])
    pd.testing.assert_frame_equal(data, before)
    assert data.dtypes.equals(before.dtypes)


# --- descriptive statistics ------------------------------------------------------------------------------------------

def test_describe_by_hand():
    frame = pd.DataFrame({"group": list("AAAABBB"), "x": [1.0, 2.0, np.nan, 6.0, 4.0, 4.0, 7.0],
                          "sex": ["M", "F", "M", None, "F", "F", "M"]})
    result = comparisons.describe(frame, ["x", "sex"], "group")
    assert list(result.columns) == comparisons.DESCRIPTIVE_COLUMNS
    x = result[result["variable"] == "x"].set_index("level")
    # A: 1, 2, 6 → mean 3, sd √(((−2)² + (−1)² + 3²) / 2) = √7; B: 4, 4, 7 → mean 5, sd √((1 + 1 + 4) / 2) = √3
    assert x["n"].tolist() == [3, 3]
    assert x["mean"].tolist() == pytest.approx([3.0, 5.0])
    assert x["sd"].tolist() == pytest.approx([math.sqrt(7), math.sqrt(3)])
    sex = result[result["variable"] == "sex"]
    # dictionary order M, F; A has 3 patients with a value (2 M, 1 F), B 3 (1 M, 2 F)
    assert sex[["level", "category", "n", "count"]].values.tolist() == [
        ["A", "M", 3, 2], ["A", "F", 3, 1], ["B", "M", 3, 1], ["B", "F", 3, 2]]
    assert sex["percent"].tolist() == pytest.approx([200 / 3, 100 / 3, 100 / 3, 200 / 3])


def test_describe_study_counts_against_masks(study):
    result = comparisons.describe(study, ["cement_distribution", "cement_leakage", "lka_loss"], "group")
    for level in "AB":
        in_level = study["group"] == level
        for category in "ABC":
            row = result.query("variable == 'cement_distribution' and level == @level and category == @category").iloc[0]
            count = int((in_level & (study["cement_distribution"] == category)).sum())
            assert (row["count"], row["n"]) == (count, int(in_level.sum()))
            assert row["percent"] == pytest.approx(100 * count / in_level.sum())
        leakage = result.query("variable == 'cement_leakage' and level == @level and category == 'yes'").iloc[0]
        assert leakage["count"] == int((in_level & (study["cement_leakage"] == True)).sum())  # noqa: E712
        values = study.loc[in_level, "lka_loss"].dropna().to_numpy(dtype=float)
        row = result.query("variable == 'lka_loss' and level == @level").iloc[0]
        assert row["mean"] == pytest.approx(values.sum() / len(values))
        assert row["sd"] == pytest.approx(math.sqrt(((values - values.sum() / len(values)) ** 2).sum() / (len(values) - 1)))


def test_describe_reproduces_the_papers_cement_distribution_counts():
    # Table 1 of the paper: type A 25 (59.52 %) vs 15 (36.59 %), B 12 (28.57 %) vs 12 (29.27 %), C 5 (11.90 %) vs 14 (34.15 %)
    frame = category_frame({"A": {"A": 25, "B": 12, "C": 5}, "B": {"A": 15, "B": 12, "C": 14}}, "cement_distribution")
    result = comparisons.describe(frame, ["cement_distribution"], "group")
    assert result["percent"].round(2).tolist() == [59.52, 28.57, 11.90, 36.59, 29.27, 34.15]


# --- two groups: Student, Welch, Mann–Whitney ------------------------------------------------------------------------

def test_student_t_by_hand():
    row = comparisons.compare_two_groups(group_frame([1, 2, 3], [4, 5, 7]), "x").iloc[0]
    # means 2 and 16/3; variances 1 and 7/3; pooled (2 · 1 + 2 · 7/3) / 4 = 5/3; SE = √(5/3 · (1/3 + 1/3)) = √(10/9)
    se = math.sqrt(10 / 9)
    t = (2 - 16 / 3) / se
    assert row["statistic"] == pytest.approx(t)
    assert row["df"] == 4
    assert row["p_val"] == pytest.approx(2 * stats.t.sf(abs(t), 4))
    assert row["mean_difference"] == pytest.approx(-10 / 3)
    half_width = 2.7764451051977987 * se  # t_{0.975, 4}
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-10 / 3 - half_width, -10 / 3 + half_width))
    # Hedges' g = d J, d = −10/3 / √(5/3), J = 1 − 3 / (4 · 6 − 9) = 0.8
    g = -10 / 3 / math.sqrt(5 / 3) * 0.8
    assert row["hedges_g"] == pytest.approx(g)
    se_g = math.sqrt(6 / 9 + g**2 / 12)
    assert (row["hedges_g_ci_low"], row["hedges_g_ci_high"]) == pytest.approx((g - Z95 * se_g, g + Z95 * se_g))
    assert row["reason"] == "" and row["n"] == 6


def measurements(study, table):
    return [v for v in tables.TABLE_VARIABLES[table] if pd.api.types.is_numeric_dtype(study[v]) and study[v].dtype != "boolean"
            and all(len(s) > 1 for s in by_group(study, v))]


@pytest.mark.parametrize("table", ["table1", "table2"])
def test_student_t_on_the_study_equals_scipy_from_summary_statistics(study, table):
    variables = measurements(study, table)
    result = comparisons.compare(study, variables, "group", "paper").set_index("variable")
    for variable in variables:
        summary = study.groupby("group")[variable].agg(["mean", "std", "count"]).astype(float)
        expected = stats.ttest_ind_from_stats(*summary.loc["A"], *summary.loc["B"], equal_var=True)
        assert result.loc[variable, "test"] == "student"
        assert result.loc[variable, "statistic"] == pytest.approx(expected.statistic, rel=1e-9)
        assert result.loc[variable, "p_val"] == pytest.approx(expected.pvalue, rel=1e-9)
        assert result.loc[variable, "n"] == summary["count"].sum()


def test_welch_t_by_hand():
    row = comparisons.compare_two_groups(group_frame([1, 2, 3, 4, 10], [5, 5, 6, 6, 5, 6, 5, 6]), "x", test="welch").iloc[0]
    # A: mean 4, variance (9 + 4 + 1 + 0 + 36) / 4 = 12.5; B: mean 5.5, variance 8 · 0.25 / 7 = 2/7
    va, vb = 12.5 / 5, (2 / 7) / 8
    t = (4 - 5.5) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 7)  # Welch–Satterthwaite
    assert row["statistic"] == pytest.approx(t)
    assert row["df"] == pytest.approx(df)
    assert row["p_val"] == pytest.approx(2 * stats.t.sf(abs(t), df))
    half_width = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-1.5 - half_width, -1.5 + half_width))


def test_welch_on_the_study_equals_statsmodels(study):
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

    variables = [v for v in measurements(study, "table2") if v not in ORDINAL]
    result = comparisons.compare(study, variables, "group", "robust").set_index("variable")
    for variable in variables:
        a, b = by_group(study, variable)
        t, p, df = ttest_ind(a, b, usevar="unequal")
        low, high = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(usevar="unequal")
        row = result.loc[variable]
        assert row["test"] == "welch"
        assert (row["statistic"], row["p_val"], row["df"]) == pytest.approx((t, p, df), rel=1e-9)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-9)


def test_mann_whitney_reproduces_hollander_and_wolfe():
    # Hollander & Wolfe (1973), p. 69 (R's ?wilcox.test): term x vs 12–26 weeks y; R prints W = 35, one-sided
    # p-value = 0.1272 (exact).  The exact two-sided p is enumerated here over all C(15, 5) = 3003 rank sets of y.
    term = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    early = [1.15, 0.88, 0.90, 0.74, 1.21]
    row = comparisons.compare_two_groups(group_frame(term, early), "x", test="mann_whitney").iloc[0]
    assert row["statistic"] == 35
    u_of_x = [10 * 5 - (sum(ranks) - 15) for ranks in itertools.combinations(range(1, 16), 5)]
    upper = sum(u >= 35 for u in u_of_x) / len(u_of_x)
    assert upper == pytest.approx(0.1272, abs=5e-5)
    assert row["p_val"] == pytest.approx(2 * upper)
    assert row["rank_biserial"] == pytest.approx(2 * 35 / 50 - 1)
    assert row["hodges_lehmann"] == pytest.approx(0.305)  # H&W p. 76
    assert np.isnan(row["df"])


@pytest.mark.parametrize("variable", ORDINAL)
def test_mann_whitney_on_the_study_by_counting_pairs(study, variable):
    row = comparisons.compare(study, [variable], "group", "robust").iloc[0]
    a, b = by_group(study, variable)
    signs = np.sign(np.subtract.outer(a, b))
    u = float((signs > 0).sum() + 0.5 * (signs == 0).sum())  # pairs with A above B, ties one half
    # normal approximation with the tie correction and a continuity correction of 1/2
    n1, n2 = len(a), len(b)
    n = n1 + n2
    _, tie_sizes = np.unique(np.concatenate([a, b]), return_counts=True)
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - (tie_sizes**3 - tie_sizes).sum() / (n * (n - 1))))
    z = (abs(u - n1 * n2 / 2) - 0.5) / sigma
    assert row["test"] == "mann_whitney"
    assert row["statistic"] == u
    assert row["p_val"] == pytest.approx(min(1.0, math.erfc(z / math.sqrt(2))), rel=1e-9)
    assert row["rank_biserial"] == pytest.approx((signs > 0).mean() - (signs < 0).mean())
    differences = np.sort(np.subtract.outer(a, b).ravel())
    k = math.floor(n1 * n2 / 2 - Z95 * math.sqrt(n1 * n2 * (n + 1) / 12))
    assert (row["hodges_lehmann"], row["hodges_lehmann_ci_low"], row["hodges_lehmann_ci_high"]) == pytest.approx(
        (np.median(differences), differences[k - 1], differences[n1 * n2 - k]))


# --- several groups: one-way ANOVA, Kruskal–Wallis ---------------------------------------------------------------

def test_anova_by_hand_with_eta_squared():
    frame = pd.DataFrame({"cement_distribution": list("AABBBCC"), "x": [1.0, 3.0, 4.0, 5.0, 6.0, 9.0, 11.0]})
    row = comparisons.compare_several_groups(frame, "x").iloc[0]
    # means 2, 5, 10, grand mean 39/7; SS between = 2 (2 − 39/7)² + 3 (5 − 39/7)² + 2 (10 − 39/7)²
    grand = 39 / 7
    ss_between = 2 * (2 - grand) ** 2 + 3 * (5 - grand) ** 2 + 2 * (10 - grand) ** 2
    ss_within = 2 + 2 + 2  # (1 + 1) + (1 + 0 + 1) + (1 + 1)
    f = (ss_between / 2) / (ss_within / 4)
    assert row["statistic"] == pytest.approx(f)
    assert (row["df"], row["df_residual"], row["n"]) == (2, 4, 7)
    assert row["p_val"] == pytest.approx((1 + f / 2) ** -2)  # F(2, 4) survival function: (1 + 2F/4)^(−4/2)
    assert row["eta_squared"] == pytest.approx(ss_between / (ss_between + ss_within))


def test_anova_on_the_study_equals_statsmodels_ols(study):
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    variables = [v for v in tables.TABLE_VARIABLES["table3"] if v not in ORDINAL]
    result = comparisons.compare(study, variables, "cement_distribution", "paper").set_index("variable")
    for variable in variables:
        frame = pd.DataFrame({"y": study[variable].astype(float), "type": study["cement_distribution"].astype(str)}).dropna()
        table = anova_lm(smf.ols("y ~ C(type)", data=frame).fit())
        row = result.loc[variable]
        assert row["test"] == "anova"
        assert row["statistic"] == pytest.approx(table.loc["C(type)", "F"], rel=1e-9)
        assert row["p_val"] == pytest.approx(table.loc["C(type)", "PR(>F)"], rel=1e-9)
        assert (row["df"], row["df_residual"]) == (table.loc["C(type)", "df"], table.loc["Residual", "df"])
        assert row["eta_squared"] == pytest.approx(table.loc["C(type)", "sum_sq"] / table["sum_sq"].sum(), rel=1e-9)
        # the 90 % interval (1 − 2α, Steiger 2004) inverts the noncentral F at the observed F: η² = λ / (λ + N)
        n = len(frame)
        for bound, quantile in (("eta_squared_ci_low", 0.95), ("eta_squared_ci_high", 0.05)):
            if row[bound] > 0:
                lam = n * row[bound] / (1 - row[bound])
                assert stats.ncf.cdf(row["statistic"], row["df"], row["df_residual"], lam) == pytest.approx(quantile, abs=1e-6)
        assert (row["eta_squared_ci_low"] > 0) == (row["p_val"] < 0.05)


def test_kruskal_wallis_reproduces_hollander_and_wolfe():
    # Hollander & Wolfe (1973), p. 116 (R's ?kruskal.test): "Kruskal-Wallis chi-squared = 0.77143, df = 2, p-value = 0.68"
    frame = pd.DataFrame({"cement_distribution": list("AAAAABBBBCCCCC"),
                          "x": [2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4, 2.8, 3.4, 3.7, 2.2, 2.0]})
    row = comparisons.compare_several_groups(frame, "x", test="kruskal").iloc[0]
    assert row["statistic"] == pytest.approx(0.77143, abs=5e-6)
    assert round(row["p_val"], 2) == 0.68
    assert row["p_val"] == pytest.approx(math.exp(-row["statistic"] / 2))  # χ² with 2 df: P(X ≥ h) = exp(−h/2)
    assert row["epsilon_squared"] == pytest.approx(0.77143 / 13, abs=1e-6)


@pytest.mark.parametrize("variable", tables.TABLE_VARIABLES["table3"])
def test_kruskal_wallis_on_the_study_from_ranks_by_hand(study, variable):
    row = comparisons.compare(study, [variable], "cement_distribution", "robust").iloc[0]
    frame = study[["cement_distribution", variable]].dropna()
    ranks = frame[variable].astype(float).rank(method="average")  # mid-ranks for ties
    n = len(frame)
    sums = ranks.groupby(frame["cement_distribution"]).agg(["sum", "count"])
    h = 12 / (n * (n + 1)) * (sums["sum"] ** 2 / sums["count"]).sum() - 3 * (n + 1)
    tie_sizes = frame[variable].value_counts().to_numpy(dtype=float)
    h /= 1 - (tie_sizes**3 - tie_sizes).sum() / (n**3 - n)
    assert row["test"] == "kruskal"
    assert row["statistic"] == pytest.approx(h, rel=1e-9)
    assert row["p_val"] == pytest.approx(math.exp(-h / 2), rel=1e-9)  # three types: 2 df
    assert row["epsilon_squared"] == pytest.approx(h * (n + 1) / (n**2 - 1), rel=1e-9)


# --- categories: χ², Fisher, Monte Carlo -----------------------------------------------------------------------------

def test_chi_square_reproduces_the_papers_leakage_p_with_effect_sizes_by_hand():
    # Table 2 of the paper: leakage 21.43 % of 42 (9) vs 17.07 % of 41 (7), p = 0.615 (χ² without correction)
    frame = pd.DataFrame({"group": ["A"] * 42 + ["B"] * 41,
                          "cement_leakage": pd.array([True] * 9 + [False] * 33 + [True] * 7 + [False] * 34, dtype="boolean")})
    row = comparisons.compare_proportions(frame, "cement_leakage").iloc[0]
    a, b, c, d = 9, 33, 7, 34
    n = a + b + c + d
    chi2 = n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert row["statistic"] == pytest.approx(chi2)
    assert row["df"] == 1
    assert row["p_val"] == pytest.approx(math.erfc(math.sqrt(chi2 / 2)))  # χ² with 1 df
    assert round(row["p_val"], 3) == 0.615
    assert row["cramers_v"] == pytest.approx(math.sqrt(chi2 / n))
    assert low_high(row, "cramers_v")[0] <= row["cramers_v"] <= low_high(row, "cramers_v")[1]
    # p = 0.615 ≥ 0.05, so the 90 % interval of V starts at 0: χ² = 0.253 is below the central χ²'s 95th percentile
    assert chi2 < 3.841458820694124 and low_high(row, "cramers_v")[0] == 0
    # risk difference of leakage (the first category, "yes"), Newcombe's hybrid score interval from Wilson intervals:
    # Wilson 9/42 = 0.1171 to 0.3594 and 7/41 = 0.0853 to 0.3126
    assert wilson_by_hand(9, 42) == pytest.approx((0.1171, 0.3594), abs=5e-5)
    assert wilson_by_hand(7, 41) == pytest.approx((0.0853, 0.3126), abs=5e-5)
    difference, low, high = newcombe_by_hand(9, 42, 7, 41)
    assert row["risk_difference"] == pytest.approx(9 / 42 - 7 / 41) == pytest.approx(difference)
    assert low_high(row, "risk_difference") == pytest.approx((low, high), rel=1e-9)
    # odds ratio a d / (b c) with Woolf's interval exp(log OR ± z √(1/a + 1/b + 1/c + 1/d))
    odds = a * d / (b * c)
    se_log = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert row["odds_ratio"] == pytest.approx(odds)
    assert low_high(row, "odds_ratio") == pytest.approx((odds * math.exp(-Z95 * se_log), odds * math.exp(Z95 * se_log)))
    # smallest expected count 16 · 41 / 83 = 7.9: not sparse, no exact test
    assert row["min_expected"] == pytest.approx(16 * 41 / 83)
    assert not row["sparse"] and row["exact_test"] == "" and np.isnan(row["exact_p"])


def low_high(row, name):
    return row[f"{name}_ci_low"], row[f"{name}_ci_high"]


def test_chi_square_reproduces_the_papers_cement_distribution_p():
    # Table 1 of the paper: types A/B/C 25/12/5 vs 15/12/14, p = 0.034
    counts = [[25, 12, 5], [15, 12, 14]]
    frame = category_frame({"A": dict(zip("ABC", counts[0])), "B": dict(zip("ABC", counts[1]))}, "cement_distribution")
    for tests in comparisons.TEST_OPTIONS:
        row = comparisons.compare(frame, ["cement_distribution"], "group", tests).iloc[0]
        chi2 = chi_square_by_hand(counts)
        assert row["test"] == "chi2"
        assert (row["statistic"], row["df"]) == (pytest.approx(chi2), 2)
        assert row["p_val"] == pytest.approx(math.exp(-chi2 / 2))  # χ² with 2 df
        assert round(row["p_val"], 3) == 0.034
        assert row["cramers_v"] == pytest.approx(math.sqrt(chi2 / (83 * (2 - 1))))
        assert np.isnan(row["risk_difference"]) and np.isnan(row["odds_ratio"])  # only for 2 × 2 tables


def test_fisher_exact_by_hypergeometric_sum():
    # Fisher's tea-tasting experiment (R's ?fisher.test "TeaTasting": one-sided p-value = 0.2429); two-sided 34/70
    frame = category_frame({"A": {"yes": 3, "no": 1}, "B": {"yes": 1, "no": 3}}, "cement_leakage")
    row = comparisons.compare_proportions(frame, "cement_leakage", test="fisher").iloc[0]
    assert fisher_by_hand([[3, 1], [1, 3]]) == pytest.approx(34 / 70)
    assert row["p_val"] == pytest.approx(34 / 70)
    assert (row["test"], row["exact_test"]) == ("fisher", "fisher")
    assert np.isnan(row["statistic"]) and np.isnan(row["df"])


def test_sparse_two_by_two_in_paper_mode_keeps_chi_square_and_gives_fisher_beside_it():
    # one empty cell: odds ratio with 0.5 added to every cell (Haldane–Anscombe), Woolf interval
    frame = category_frame({"A": {"yes": 0, "no": 10}, "B": {"yes": 4, "no": 6}}, "cement_leakage")
    row = comparisons.compare(frame, ["cement_leakage"], "group", "paper").iloc[0]
    assert row["test"] == "chi2"
    assert row["statistic"] == pytest.approx(20 * (0 * 6 - 10 * 4) ** 2 / (10 * 10 * 4 * 16))
    assert row["min_expected"] == pytest.approx(2.0) and row["sparse"]
    assert row["exact_test"] == "fisher"
    assert row["exact_p"] == pytest.approx(fisher_by_hand([[0, 10], [4, 6]]))
    odds = 0.5 * 6.5 / (10.5 * 4.5)
    se_log = math.sqrt(1 / 0.5 + 1 / 10.5 + 1 / 4.5 + 1 / 6.5)
    assert row["odds_ratio"] == pytest.approx(odds)
    assert low_high(row, "odds_ratio") == pytest.approx((odds * math.exp(-Z95 * se_log), odds * math.exp(Z95 * se_log)))
    robust = comparisons.compare(frame, ["cement_leakage"], "group", "robust").iloc[0]
    assert robust["test"] == "fisher" and robust["p_val"] == pytest.approx(row["exact_p"])


def test_freeman_halton_for_the_studys_segments_against_a_sum_of_binomial_products(study):
    table = pd.crosstab(study["group"], study["segment"]).to_numpy()
    assert table.shape == (2, 3)
    exact = float(freeman_halton_by_binomials(table))
    paper, robust = (comparisons.compare(study, ["segment"], "group", tests).iloc[0] for tests in ("paper", "robust"))
    assert paper["sparse"] and paper["test"] == "chi2" and paper["exact_test"] == "freeman_halton"
    assert paper["statistic"] == pytest.approx(chi_square_by_hand(table))
    assert paper["exact_p"] == pytest.approx(exact, rel=1e-9) and np.isnan(paper["exact_p_error"])
    # robust mode: the exact p is the row's p; the test orders tables by probability and has no χ² statistic
    assert robust["test"] == "freeman_halton" and robust["p_val"] == pytest.approx(exact, rel=1e-9)
    assert np.isnan(robust["statistic"]) and np.isnan(robust["df"])
    assert robust["cramers_v"] == paper["cramers_v"]


def test_freeman_halton_against_every_relabelling_of_a_tiny_data_set():
    # 10 patients, 4 in group A: all C(10, 4) = 210 choices of which patients are in A
    table = np.array([[3, 1, 0], [1, 2, 3]])
    frame = category_frame({"A": dict(zip(("I", "II", "III"), table[0])), "B": dict(zip(("I", "II", "III"), table[1]))},
                           "compression_grade")
    brute = freeman_halton_by_relabelling(table)
    assert brute == pytest.approx(float(freeman_halton_by_binomials(table)))
    paper, robust = (comparisons.compare(frame, ["compression_grade"], "group", tests).iloc[0] for tests in ("paper", "robust"))
    assert paper["test"] == "chi2" and paper["exact_test"] == "freeman_halton"
    assert paper["exact_p"] == pytest.approx(brute, rel=1e-9)
    assert robust["test"] == "freeman_halton" and robust["p_val"] == pytest.approx(brute, rel=1e-9)
    # the same p for the table on its side (three groups, two categories) and with the rows swapped
    assert comparisons.freeman_halton_p(table.T) == pytest.approx(brute, rel=1e-12)
    assert comparisons.freeman_halton_p(table[::-1]) == pytest.approx(brute, rel=1e-12)
    assert comparisons.exact_or_monte_carlo(table.T)[0] == "freeman_halton"


@pytest.mark.parametrize("table", [[[2, 3, 1, 0], [0, 1, 2, 3]], [[5, 0, 1], [1, 4, 2]], [[1, 1, 1], [1, 1, 1]],
                                   [[6, 0], [1, 5]]])
def test_freeman_halton_against_relabelling_more_tables(table):
    assert comparisons.freeman_halton_p(table) == pytest.approx(freeman_halton_by_relabelling(table), rel=1e-9)


def test_freeman_halton_of_a_two_by_two_table_is_fishers_test():
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(300):
        table = rng.integers(0, 15, (2, 2))
        if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
            continue
        assert comparisons.freeman_halton_p(table) == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9, abs=1e-15)
        assert comparisons.freeman_halton_p(table) == pytest.approx(fisher_by_hand(table.tolist()), rel=1e-9, abs=1e-15)
        checked += 1
    assert checked > 250
    assert comparisons.freeman_halton_p([[3, 1], [1, 3]]) == pytest.approx(34 / 70)  # Fisher's tea tasting
    with pytest.raises(ValueError):
        comparisons.freeman_halton_p(np.ones((3, 3), dtype=int))


def test_count_tables_against_listing_them():
    rng = np.random.default_rng(5)
    for _ in range(60):
        table = rng.integers(0, 6, (2, int(rng.integers(2, 6))))
        columns, row = table.sum(axis=0), table[0].sum()
        listed = sum(1 for first in itertools.product(*(range(c + 1) for c in columns)) if sum(first) == row)
        assert comparisons.count_tables(table) == comparisons.count_tables(table.T) == listed
    # 2 × 8 with 10 in every cell: far more than the limit, reported as limit + 1
    assert comparisons.count_tables(np.full((2, 8), 10)) == comparisons.ENUMERATION_LIMIT + 1
    assert comparisons.count_tables(np.full((2, 8), 10), limit=10**12) > 2_000_000


def test_too_many_tables_to_enumerate_falls_back_to_monte_carlo():
    # a sparse 2 × 8 table (a column of 2) with more than ENUMERATION_LIMIT tables sharing its margins
    table = np.array([[14, 7, 10, 15, 6, 9, 12, 1], [7, 13, 10, 6, 14, 11, 9, 1]])
    assert comparisons.count_tables(table) > comparisons.ENUMERATION_LIMIT
    frame = category_frame({"A": dict(zip("abcdefgh", table[0])), "B": dict(zip("abcdefgh", table[1]))}, "y")
    row = comparisons.compare(frame, ["y"], "group", "robust").iloc[0]
    assert row["sparse"] and row["test"] == row["exact_test"] == "monte_carlo"
    p = row["p_val"]
    assert row["exact_p_error"] == pytest.approx(math.sqrt(p * (1 - p) / 9999))
    # every other expected count is above 5, so the asymptotic χ² p is close to the exact one: 4 SEs and 0.01 for that
    asymptotic = stats.chi2.sf(chi_square_by_hand(table), 7)
    assert 0.001 < asymptotic < 0.2
    assert abs(p - asymptotic) < 4 * math.sqrt(asymptotic * (1 - asymptotic) / 9999) + 0.01


def test_monte_carlo_on_a_sparse_three_by_three_table_against_enumeration_and_seeded():
    table = np.array([[3, 1, 0], [1, 2, 3], [0, 2, 3]])
    exact = exact_chi_square_p_3x3(table)
    frame = category_frame({level: dict(zip("pqr", counts)) for level, counts in zip("ABC", table)}, "y",
                           between="cement_distribution")
    paper, robust = (comparisons.compare(frame, ["y"], "cement_distribution", tests).iloc[0] for tests in ("paper", "robust"))
    assert paper["sparse"] and paper["test"] == "chi2" and paper["exact_test"] == "monte_carlo"
    assert paper["statistic"] == pytest.approx(chi_square_by_hand(table)) and paper["df"] == 4
    assert robust["test"] == "monte_carlo" and robust["p_val"] == paper["exact_p"]  # the same seed gives the same p
    assert robust["statistic"] == paper["statistic"]  # the simulated statistic is χ²: it stays
    # 9,999 tables: the simulation standard error is √(p (1 − p) / 9999); allow 4 of them
    assert abs(robust["p_val"] - exact) < 4 * math.sqrt(exact * (1 - exact) / 9999)
    assert robust["exact_p_error"] == pytest.approx(math.sqrt(robust["p_val"] * (1 - robust["p_val"]) / 9999))
    assert comparisons.monte_carlo_chi2(table) == comparisons.monte_carlo_chi2(table) == (robust["p_val"], robust["exact_p_error"])
    other_seed, _ = comparisons.monte_carlo_chi2(table, seed=1)
    assert abs(other_seed - exact) < 4 * math.sqrt(exact * (1 - exact) / 9999)
    # p = (1 + #{χ² ≥ observed}) / (1 + 9999) is a multiple of 1/10,000 and never 0
    assert round(robust["p_val"] * 10000, 6) == round(robust["p_val"] * 10000) >= 1
    assert comparisons.exact_or_monte_carlo(table) == ("monte_carlo", robust["p_val"], robust["exact_p_error"])


def test_monte_carlo_draws_tables_with_both_observed_margins(monkeypatch):
    # scipy's chi2_contingency(method=MonteCarloMethod(...)) draws from random_table(row totals, column totals): record
    # the margins it asks for and the tables it gets
    drawn = []
    original = stats.random_table

    def recording(row, column, **kwargs):
        distribution = original(row, column, **kwargs)
        rvs = distribution.rvs

        def record(*args, **rvs_kwargs):
            tables = rvs(*args, **rvs_kwargs)
            drawn.append(tables)
            return tables

        distribution.rvs = record
        return distribution

    monkeypatch.setattr(stats, "random_table", recording)
    table = np.array([[3, 1, 0], [1, 2, 3], [0, 2, 3]])
    comparisons.monte_carlo_chi2(table)
    tables = np.concatenate(drawn)
    assert len(tables) == 9999
    assert (tables.sum(axis=2) == table.sum(axis=1)).all() and (tables.sum(axis=1) == table.sum(axis=0)).all()


def test_exact_and_monte_carlo_columns_and_names():
    columns = comparisons.TEST_COLUMNS
    assert columns[columns.index("exact_p") + 1] == "exact_p_error"
    names = comparisons.TEST_NAMES
    assert names["monte_carlo"] == "Monte Carlo test of the χ² statistic (9,999 random tables with the observed margins)"
    assert "exact" not in names["monte_carlo"]
    assert names["freeman_halton"] == "Fisher–Freeman–Halton exact test"
    assert set(comparisons.STATISTIC_SYMBOL) == set(names)


# --- risk differences: Newcombe's hybrid score interval -------------------------------------------------------------

# Newcombe (1998), Statistics in Medicine 17:873–890, Table II, method 10 (score interval without continuity
# correction, "hybrid score"): 95 % limits for eight example pairs of proportions.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_risk_difference_reproduces_newcombes_published_examples(counts, published):
    a, m, b, n = counts
    assert newcombe_by_hand(a, m, b, n)[1:] == pytest.approx(published, abs=5e-5)  # the hand formula, checked first
    if 0 < a + b < m + n:  # both categories present: through the 2 × 2 comparison
        frame = category_frame({"A": {"yes": a, "no": m - a}, "B": {"yes": b, "no": n - b}}, "y")
        row = comparisons.compare_proportions(frame, "y").iloc[0]
        assert row["risk_difference"] == pytest.approx(a / m - b / n)
        assert low_high(row, "risk_difference") == pytest.approx(published, abs=5e-5)
        assert low_high(row, "risk_difference") == pytest.approx(newcombe_by_hand(a, m, b, n)[1:], rel=1e-9, abs=1e-12)
    else:  # nobody with the event: no 2 × 2 table, the interval itself
        assert comparisons._risk_difference(a, m, b, n, 0.95)[1:] == pytest.approx(published, abs=5e-5)


def test_risk_difference_interval_at_another_level_by_hand():
    frame = category_frame({"A": {"yes": 56, "no": 14}, "B": {"yes": 48, "no": 32}}, "y")
    row = comparisons.compare_proportions(frame, "y", confidence=0.90).iloc[0]
    assert low_high(row, "risk_difference") == pytest.approx(newcombe_by_hand(56, 70, 48, 80, z=1.6448536269514722)[1:])


def test_category_differences_for_the_papers_cement_distribution_by_hand():
    # Table 1 of the paper: types A/B/C 25/12/5 of 42 vs 15/12/14 of 41
    frame = category_frame({"A": {"A": 25, "B": 12, "C": 5}, "B": {"A": 15, "B": 12, "C": 14}}, "cement_distribution")
    frame.loc[len(frame)] = ["A", None]  # a missing value is dropped
    frame.loc[len(frame)] = [None, "C"]  # so is a patient without a group
    result = comparisons.category_differences(frame, "cement_distribution")
    assert list(result.columns) == comparisons.CATEGORY_DIFFERENCE_COLUMNS
    assert result["category"].tolist() == ["A", "B", "C"]  # the dictionary's order
    assert (result["variable"] == "cement_distribution").all() and (result["method"] == "newcombe").all()
    assert (result["first"] == "A").all() and (result["second"] == "B").all()
    assert result[["count_first", "n_first", "count_second", "n_second"]].values.tolist() == [
        [25, 42, 15, 41], [12, 42, 12, 41], [5, 42, 14, 41]]
    assert result["percent_first"].round(2).tolist() == [59.52, 28.57, 11.90]
    assert result["percent_second"].round(2).tolist() == [36.59, 29.27, 34.15]
    for record, (a, b) in zip(result.to_dict("records"), [(25, 15), (12, 12), (5, 14)]):
        difference, low, high = newcombe_by_hand(a, 42, b, 41)
        assert record["risk_difference"] == pytest.approx(difference)
        assert (record["ci_low"], record["ci_high"]) == pytest.approx((low, high), rel=1e-9)
    # type C: 5/42 vs 14/41, Wilson 0.0519 to 0.2500 and 0.2156 to 0.4945; the interval excludes 0
    assert wilson_by_hand(5, 42) == pytest.approx((0.0519, 0.2500), abs=5e-5)
    assert wilson_by_hand(14, 41) == pytest.approx((0.2156, 0.4945), abs=5e-5)
    assert result.loc[2, "ci_high"] < 0 < result.loc[0, "ci_low"]


def test_category_differences_with_two_categories_mirror_each_other():
    frame = pd.DataFrame({"group": ["A"] * 42 + ["B"] * 41,
                          "cement_leakage": pd.array([True] * 9 + [False] * 33 + [True] * 7 + [False] * 34, dtype="boolean")})
    result = comparisons.category_differences(frame, "cement_leakage").set_index("category")
    assert result.index.tolist() == ["yes", "no"]
    assert result.loc["yes", ["risk_difference", "ci_low", "ci_high"]].tolist() == pytest.approx(newcombe_by_hand(9, 42, 7, 41))
    assert result.loc["no", ["risk_difference", "ci_low", "ci_high"]].tolist() == pytest.approx(
        [-result.loc["yes", "risk_difference"], -result.loc["yes", "ci_high"], -result.loc["yes", "ci_low"]])
    # the same interval as the 2 × 2 comparison's risk difference
    row = comparisons.compare_proportions(frame, "cement_leakage").iloc[0]
    assert low_high(row, "risk_difference") == pytest.approx(tuple(result.loc["yes", ["ci_low", "ci_high"]]))


def test_category_differences_needs_two_levels():
    frame = pd.DataFrame({"cement_distribution": list("AABC"), "sex": list("MFMF")})
    with pytest.raises(ValueError):
        comparisons.category_differences(frame, "sex", "cement_distribution")


# --- effect-size intervals at 1 − 2α agree with their tests ---------------------------------------------------------

def test_cramers_v_lower_bound_above_zero_exactly_when_chi_square_p_below_alpha():
    rng = np.random.default_rng(2020)
    agree = 0
    for shape in [(2, 2), (2, 3), (3, 3), (2, 4)]:
        for _ in range(60):
            size = int(rng.integers(30, 150))
            shift = rng.uniform(0, 0.35)
            probabilities = rng.dirichlet(np.ones(shape[1]), size=shape[0]) * shift + (1 - shift) / shape[1]
            levels = rng.integers(0, shape[0], size)
            values = [rng.choice(shape[1], p=probabilities[level]) for level in levels]
            frame = pd.DataFrame({"cement_distribution": np.array(list("ABC"))[levels], "y": np.array(list("pqrs"))[values]})
            row = comparisons.compare_proportions(frame, "y", "cement_distribution").iloc[0]
            if row["reason"] or abs(row["p_val"] - 0.05) < 1e-6:
                continue
            assert (row["cramers_v_ci_low"] > 0) == (row["p_val"] < 0.05), row
            agree += 1
    assert agree > 200


def test_eta_squared_lower_bound_above_zero_exactly_when_f_test_p_below_alpha():
    rng = np.random.default_rng(2004)
    significant = 0
    for _ in range(200):
        sizes = rng.integers(3, 30, 3)
        shift = rng.uniform(0, 1.2)
        values = np.concatenate([rng.normal(shift * i, 1.0, n) for i, n in enumerate(sizes)])
        frame = pd.DataFrame({"cement_distribution": np.repeat(list("ABC"), sizes), "x": values})
        row = comparisons.compare_several_groups(frame, "x").iloc[0]
        if abs(row["p_val"] - 0.05) < 1e-6:
            continue
        assert (row["eta_squared_ci_low"] > 0) == (row["p_val"] < 0.05), row
        significant += row["p_val"] < 0.05
    assert 20 < significant < 180  # both sides of α are exercised


# --- which test each option runs ----------------------------------------------------------------------------------

def test_robust_mode_picks_mann_whitney_exactly_for_the_ordinal_scores(study):
    result = comparisons.compare(study, tables.TABLE_VARIABLES["table1"] + tables.TABLE_VARIABLES["table2"], "group", "robust")
    measured = result[~result["variable"].map(lambda v: comparisons.is_categorical(study[v]))]
    expected = ["mann_whitney" if v.startswith(("vas_", "odi_")) else "welch" for v in measured["variable"]]
    assert measured["test"].tolist() == expected
    assert set(measured.loc[measured["test"] == "mann_whitney", "variable"]) == set(ORDINAL)


def test_each_option_names_its_tests(study):
    paper = comparisons.compare(study, tables.TABLE_VARIABLES["table2"], "group", "paper")
    assert set(paper["test"]) == {"student", "chi2"}
    table3 = tables.TABLE_VARIABLES["table3"]
    assert set(comparisons.compare(study, table3, "cement_distribution", "paper")["test"]) == {"anova"}
    assert set(comparisons.compare(study, table3, "cement_distribution", "robust")["test"]) == {"kruskal"}
    categories = ["sex", "compression_grade", "cement_distribution", "cement_leakage"]
    categorical = comparisons.compare(study, categories, "group", "robust")
    assert categorical["test"].tolist() == ["chi2"] * 4  # no expected count below 5: χ² stays
    with pytest.raises(ValueError):
        comparisons.compare(study, ["lka_loss"], "group", "bootstrap")


def test_tests_description_names_the_tests_of_each_option():
    paper, robust = comparisons.tests_description("paper"), comparisons.tests_description("robust")
    for name in ("Student t-test", "one-way ANOVA", "Tukey's HSD", "Games–Howell", "Levene",
                 "χ² test without continuity correction", "Fisher's exact test", "Fisher–Freeman–Halton exact test",
                 "Monte Carlo test", "2,000,000"):
        assert name in paper
    for name in ("Welch's t-test", "Mann–Whitney U test", "Kruskal–Wallis test", "Dunn", "Holm", "Hodges–Lehmann",
                 "Fisher's exact test", "Fisher–Freeman–Halton exact test", "Monte Carlo test", str(comparisons.SEED)):
        assert name in robust
    for text in (paper, robust):  # a Monte Carlo p is an estimate, not exact
        assert "Monte Carlo exact" not in text and "estimate" in text
    for absent in ("Welch", "Mann", "Kruskal", "Dunn"):
        assert absent not in paper
    for absent in ("Student", "ANOVA", "Tukey", "Games"):
        assert absent not in robust
    with pytest.raises(ValueError):
        comparisons.tests_description("bootstrap")


def test_choose_test_follows_the_dictionary_scale():
    assert [comparisons.choose_test(v, "two", "robust") for v in ("vas_op", "odi_final", "fvahl", "lka_loss")] == [
        "mann_whitney", "mann_whitney", "welch", "welch"]
    assert dictionary.scale("vas_op") == "ordinal" and dictionary.scale("fvahl") == "ratio"
    assert comparisons.choose_test("vas_op", "two", "paper") == "student"
    assert comparisons.choose_test("vas_op", "several", "robust") == "kruskal"


# --- Holm's adjustment -------------------------------------------------------------------------------------------

def test_holm_by_hand():
    adjusted = comparisons.holm(pd.Series([0.01, 0.04, 0.03, np.nan, 0.5]))
    # sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 = 0.04, 0.09, 0.08 → 0.09 (monotone), 0.5
    assert adjusted.tolist()[:3] == pytest.approx([0.04, 0.09, 0.09])
    assert np.isnan(adjusted.iloc[3]) and adjusted.iloc[4] == pytest.approx(0.5)


def test_with_holm_adjusts_over_outcome_rows_only(study):
    result = comparisons.with_holm(comparisons.compare(study, tables.TABLE_VARIABLES["table2"], "group"))
    roles = {"lka_pre": "baseline", "rka_pre": "baseline", "fvah_pre": "baseline", "avhr_pre": "baseline", "vas_pre": "baseline",
             "odi_pre": "baseline"}
    outside = result["variable"].isin(list(roles))
    assert result.loc[outside, "p_holm"].isna().all()
    family = result[~outside & result["p_val"].notna()].sort_values("p_val")
    m = len(family)
    by_hand = np.maximum.accumulate([min(1.0, (m - i) * p) for i, p in enumerate(family["p_val"])])
    assert family["p_holm"].tolist() == pytest.approx(list(by_hand))
    assert len(family) == 22
    table1 = comparisons.with_holm(comparisons.compare(study, tables.TABLE_VARIABLES["table1"], "group")).set_index("variable")
    # in Table 1 only the cement distribution is an outcome: a family of one; procedure and baseline rows stay unadjusted
    assert table1.loc["cement_distribution", "p_holm"] == table1.loc["cement_distribution", "p_val"]
    assert table1.drop(index="cement_distribution")["p_holm"].isna().all()
    # aspirated blood is not recorded in group B: no p, and a reason instead
    assert pd.isna(table1.loc["aspirated_blood_ml", "p_val"]) and "group A's procedure" in table1.loc["aspirated_blood_ml", "reason"]


# --- what the build must survive -------------------------------------------------------------------------------------

def two(a, b, name="lka_loss", dtype="Float64"):
    return pd.DataFrame({"group": ["A"] * len(a) + ["B"] * len(b), name: pd.array(list(a) + list(b), dtype=dtype)})


def types(levels, values, name="lka_loss"):
    return pd.DataFrame({"cement_distribution": list(levels), name: pd.array(values, dtype="Float64")})


NOT_COMPUTABLE = {
    "missing for every patient of group B": (two([1, 2, 3], [None] * 3), "group", "no patient in group B"),
    "a group with one value": (two([1, 2, 3], [4, None, None]), "group", "only 1 patient in group B"),
    "no variation within either group": (two([1, 1, 1], [2, 2, 2]), "group", None),
    "every value identical": (two([3, 3, 3], [3, 3]), "group", "every value is the same"),
    "one type present": (types("AAAA", [1, 2, 3, 4]), "cement_distribution", "fewer than two types"),
    "one value per type": (types("ABC", [1, 2, 3]), "cement_distribution", "single value"),
    "identical values across types": (types("AABBC", [2, 2, 2, 2, 2]), "cement_distribution", "every value is the same"),
}


@pytest.mark.parametrize("case", NOT_COMPUTABLE)
@pytest.mark.parametrize("variable", ["lka_loss", "vas_op"])
@pytest.mark.parametrize("tests", comparisons.TEST_OPTIONS)
def test_comparisons_that_cannot_be_computed_give_a_reason_not_an_error(case, variable, tests):
    frame, between, reason = NOT_COMPUTABLE[case]
    frame = frame.rename(columns={"lka_loss": variable})
    row = comparisons.compare(frame, [variable], between, tests).iloc[0]
    if case == "no variation within either group" and row["test"] == "mann_whitney":
        # ranks still separate the groups (every A below every B): U = 0, the test runs
        assert row["reason"] == "" and row["statistic"] == 0 and 0 < row["p_val"] < 1
        return
    assert row["reason"] != "" and np.isnan(row["p_val"]) and np.isnan(row["statistic"])
    if reason:
        assert reason in row["reason"]
    comparisons.describe(frame, [variable], between)


def test_no_variation_within_types_has_no_f_but_a_kruskal_wallis_h():
    frame = types("AABBCC", [1, 1, 2, 2, 3, 3])
    anova = comparisons.compare(frame, ["lka_loss"], "cement_distribution", "paper").iloc[0]
    assert "F statistic is undefined" in anova["reason"] and np.isnan(anova["p_val"])
    kruskal = comparisons.compare(frame, ["lka_loss"], "cement_distribution", "robust").iloc[0]
    # ranks 1.5, 1.5, 3.5, 3.5, 5.5, 5.5: sums 3, 7, 11; H = (12 / 42 · (9 + 49 + 121) / 2 − 21) / (1 − 3 · 6 / 210)
    h = (12 / 42 * (9 + 49 + 121) / 2 - 21) / (1 - 18 / 210)
    assert kruskal["statistic"] == pytest.approx(h) and kruskal["p_val"] == pytest.approx(math.exp(-h / 2))


@pytest.mark.parametrize("counts, reason", [
    ({"A": {"M": 4}, "B": {"M": 3}}, "every patient is in the same category"),
    ({"A": {"M": 2, "F": 2}}, "only one group has patients with a value"),
])
@pytest.mark.parametrize("tests", comparisons.TEST_OPTIONS)
def test_categories_that_cannot_be_compared_give_a_reason(counts, reason, tests):
    frame = category_frame(counts, "sex")
    row = comparisons.compare(frame, ["sex"], "group", tests).iloc[0]
    assert row["reason"] == reason and np.isnan(row["p_val"])
    assert comparisons.describe(frame, ["sex"], "group")["count"].sum() == sum(sum(r.values()) for r in counts.values())


def test_a_type_with_a_single_patient_still_counts():
    # ANOVA with types of 3, 3 and 1 patients: the single patient adds to the between-type sum of squares only
    frame = types("AAABBBC", [1, 2, 3, 2, 4, 5, 9])
    row = comparisons.compare(frame, ["lka_loss"], "cement_distribution", "paper").iloc[0]
    grand = 26 / 7
    ss_between = 3 * (2 - grand) ** 2 + 3 * (11 / 3 - grand) ** 2 + (9 - grand) ** 2
    ss_within = 2 + (25 / 9 + 1 / 9 + 16 / 9)
    assert row["statistic"] == pytest.approx((ss_between / 2) / (ss_within / 4))
    assert (row["df"], row["df_residual"]) == (2, 4)


def test_a_type_present_in_one_group_only():
    frame = category_frame({"A": {"A": 3, "B": 2, "C": 2}, "B": {"A": 4, "B": 3}}, "cement_distribution")
    for tests in comparisons.TEST_OPTIONS:
        row = comparisons.compare(frame, ["cement_distribution"], "group", tests).iloc[0]
        assert row["sparse"] and row["exact_test"] == "freeman_halton"
        if tests == "paper":
            assert row["statistic"] == pytest.approx(chi_square_by_hand([[3, 2, 2], [4, 3, 0]]))
        assert row["exact_p"] == pytest.approx(freeman_halton_by_relabelling([[3, 2, 2], [4, 3, 0]]), rel=1e-9)


def test_two_patients_per_group():
    frame = two([1.0, 3.0], [4.0, 8.0])
    student = comparisons.compare(frame, ["lka_loss"], "group", "paper").iloc[0]
    # pooled variance (2 + 8) / 2 = 5, SE = √(5 · (1/2 + 1/2)) = √5, t = (2 − 6) / √5, 2 df
    assert student["statistic"] == pytest.approx(-4 / math.sqrt(5)) and student["df"] == 2
    mann_whitney = comparisons.compare(frame.rename(columns={"lka_loss": "vas_op"}), ["vas_op"], "group", "robust").iloc[0]
    # exact: U = 0 is one of C(4, 2) = 6 equally likely rank sets, two-sided p = 2/6
    assert mann_whitney["statistic"] == 0 and mann_whitney["p_val"] == pytest.approx(2 / 6)
    # too few pairs for the normal-approximation rank k (< 1): bounds are the extreme differences −7 and −1
    assert low_high(mann_whitney, "hodges_lehmann") == (-7.0, -1.0)


# --- sample size (power.py) ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("g", [-0.4, 0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0])
def test_sample_size_agrees_with_the_normal_approximation(g):
    # n = 2 ((z_{1−α/2} + z_{1−β}) / d)² + z²_{1−α/2} / 4 (Guenther, 1981); the exact noncentral-t n differs by ≤ 1–2
    sizes = power.sample_size(pd.DataFrame({"variable": ["x"], "hedges_g": [g]})).iloc[0]
    for target, z_beta in ((80, 0.8416212335729143), (90, 1.2815515655446004)):
        approximate = 2 * ((Z95 + z_beta) / g) ** 2 + Z95**2 / 4
        assert 0 <= sizes[f"n_per_group_{target}"] - math.ceil(approximate) <= (1 if abs(g) <= 1.5 else 2)


def test_sample_size_design_effect_limit_and_extremes():
    comparison = pd.DataFrame({"variable": ["a", "b", "c", "d", "e"], "hedges_g": [0.5, 0.001, 0.0, np.nan, 8.0]})
    sizes = power.sample_size(comparison).set_index("variable")
    assert "d" not in sizes.index  # no effect size, no row
    assert np.isnan(sizes.loc["b", "n_per_group_80"])  # n ≈ 2 (2.80 / 0.001)² ≈ 15.7 million > the limit
    assert np.isnan(sizes.loc["c", "n_per_group_80"])  # no effect: no sample size
    # g = 8: two patients per group already give power > 0.9 (noncentral t with 2 df, λ = 8), the fewest possible
    assert stats.nct.sf(stats.t.isf(0.025, 2), 2, 8) > 0.9
    assert sizes.loc["e", ["n_per_group_80", "n_per_group_90"]].tolist() == [2, 2]
    clustered = power.sample_size(comparison.iloc[:1], design_effect=1.5).iloc[0]
    assert clustered["n_per_group_80"] == math.ceil(sizes.loc["a", "n_per_group_80"] * 1.5)
