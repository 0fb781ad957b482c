"""Effect sizes and their intervals against values computed another way: formulas with numbers, brute force, worked
examples from textbooks, and the defining property of an interval found by inverting a distribution.

No test feeds a function's output back into the call the function makes.
"""

import math

import numpy as np
import pytest
from scipy import stats

from vertebroplasty.statistics import effect_sizes

Z95 = 1.959963984540054  # z_{0.975}
Z90 = 1.6448536269514722  # z_{0.95}

# Hollander & Wolfe (1973), Nonparametric Statistical Methods, p. 69 (Wilcoxon rank-sum, Example 4.1): permeability
# constants of the human chorioamnion at term (x) and at 12–26 weeks' gestation (y).  The same data are the two-sample
# example of R's ?wilcox.test, which prints W = 35 (R's W is the Mann–Whitney U of x) and, with conf.int = TRUE, the
# "difference in location" 0.305 (the Hodges–Lehmann estimate, H&W p. 76).
TERM = np.array([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46])
EARLY = np.array([1.15, 0.88, 0.90, 0.74, 1.21])


def brute_force_shift(x, y, confidence=0.95):
    """Median of all n_x × n_y differences and the Moses bounds, the k-th smallest and k-th largest difference."""
    differences = np.subtract.outer(np.asarray(x, float), np.asarray(y, float)).ravel()
    pairs = len(differences)
    z = stats.norm.ppf(0.5 + confidence / 2)
    k = max(int(math.floor(pairs / 2 - z * math.sqrt(pairs * (len(x) + len(y) + 1) / 12))), 1)
    middle = [(pairs - 1) // 2, pairs // 2]  # 0-based: one value for an odd number of pairs, two for an even one
    ordered = np.partition(differences, [k - 1, *middle, pairs - k])  # those order statistics in place, no full sort
    return float(ordered[middle].mean()), float(ordered[k - 1]), float(ordered[pairs - k])


# --- Hedges' g -----------------------------------------------------------------------------------------------------

def test_hedges_g_by_hand():
    x, y = np.array([2.0, 4, 6, 8]), np.array([1.0, 3, 3, 5, 8])
    # means 5 and 4; variances (9 + 1 + 1 + 9) / 3 = 20/3 and (9 + 1 + 1 + 1 + 16) / 4 = 7
    # pooled variance (3 · 20/3 + 4 · 7) / 7 = 48/7; d = 1 / √(48/7); J = 1 − 3 / (4 · 9 − 9) = 8/9
    assert effect_sizes.hedges_g(x, y) == pytest.approx(1 / math.sqrt(48 / 7) * 8 / 9)
    assert effect_sizes.hedges_g(y, x) == pytest.approx(-1 / math.sqrt(48 / 7) * 8 / 9)


def test_hedges_g_is_missing_without_variation():
    assert math.isnan(effect_sizes.hedges_g(np.array([3.0, 3.0]), np.array([5.0, 5.0, 5.0])))


def test_hedges_g_interval_by_hand():
    # SE = √((40 + 40) / (40 · 40) + 0.5² / (2 · 80)) = √(0.05 + 0.0015625) = 0.2270738...
    se = math.sqrt(0.0515625)
    assert effect_sizes.hedges_g_interval(0.5, 40, 40) == pytest.approx((0.5 - Z95 * se, 0.5 + Z95 * se))
    assert effect_sizes.hedges_g_interval(0.5, 40, 40, 0.90) == pytest.approx((0.5 - Z90 * se, 0.5 + Z90 * se))
    # unequal sizes: √(30 / 200 + 1 / 60)
    se = math.sqrt(30 / 200 + 1 / 60)
    assert effect_sizes.hedges_g_interval(-1.0, 10, 20) == pytest.approx((-1 - Z95 * se, -1 + Z95 * se))


# --- η² and Cramér's V: intervals by inverting noncentral distributions ----------------------------------------------

@pytest.mark.parametrize(("f", "df_between", "df_within"), [(5.0, 2, 80), (12.0, 2, 30), (3.2, 4, 120)])
def test_eta_squared_interval_inverts_the_noncentral_f(f, df_between, df_within):
    low, high = effect_sizes.eta_squared_interval(f, df_between, df_within)
    total = df_between + df_within + 1
    # η² = λ / (λ + N) (Steiger, 2004), so λ = N η² / (1 − η²); at λ_low the observed F is the 97.5th percentile of the
    # noncentral F, at λ_high its 2.5th percentile
    lambda_low, lambda_high = total * low / (1 - low), total * high / (1 - high)
    assert stats.ncf.cdf(f, df_between, df_within, lambda_low) == pytest.approx(0.975, abs=1e-7)
    assert stats.ncf.cdf(f, df_between, df_within, lambda_high) == pytest.approx(0.025, abs=1e-7)
    point = f * df_between / (f * df_between + df_within)  # the sample η² from F
    assert 0 < low < point < high < 1


def test_eta_squared_interval_starts_at_zero_when_f_is_small():
    # F = 0.5 is below the central F's 97.5th percentile, so no positive λ puts it there: the lower bound is 0
    assert stats.f.cdf(0.5, 2, 40) < 0.975
    low, high = effect_sizes.eta_squared_interval(0.5, 2, 40)
    assert low == 0.0
    assert stats.ncf.cdf(0.5, 2, 40, 43 * high / (1 - high)) == pytest.approx(0.025, abs=1e-7)


def test_cramers_v_interval_inverts_the_noncentral_chi_square():
    chi2, df, n, k = 8.76, 2, 83, 2
    low, high = effect_sizes.cramers_v_interval(chi2, df, n, k)
    # V = √(λ / (n (k − 1))), so λ = V² n (k − 1)
    assert stats.ncx2.cdf(chi2, df, low**2 * n * (k - 1)) == pytest.approx(0.975, abs=1e-7)
    assert stats.ncx2.cdf(chi2, df, high**2 * n * (k - 1)) == pytest.approx(0.025, abs=1e-7)
    assert low < math.sqrt(chi2 / n) < high


def normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@pytest.mark.parametrize("confidence", [0.90, 0.95])
def test_cramers_v_interval_with_one_df_by_the_normal_distribution(confidence):
    # with 1 df, χ² = Z² with Z ~ N(√λ, 1): P(χ² ≤ x; λ) = Φ(√x − √λ) − Φ(−√x − √λ) (no noncentral χ² needed)
    chi2, n = 9.0, 100
    low, high = effect_sizes.cramers_v_interval(chi2, 1, n, 2, confidence)
    tail = (1 - confidence) / 2
    for bound, target in ((low, 1 - tail), (high, tail)):
        shift = math.sqrt(bound**2 * n)
        assert normal_cdf(3.0 - shift) - normal_cdf(-3.0 - shift) == pytest.approx(target, abs=1e-7)


def test_eta_squared_interval_with_one_df_by_the_noncentral_t():
    # with 1 numerator df, F = T² with T ~ noncentral t(df_within, √λ): P(F ≤ f; λ) = P(−√f ≤ T ≤ √f)
    f, df_within = 6.0, 40
    low, high = effect_sizes.eta_squared_interval(f, 1, df_within, 0.90)
    for bound, target in ((low, 0.95), (high, 0.05)):
        delta = math.sqrt((df_within + 2) * bound / (1 - bound))
        assert stats.nct.cdf(math.sqrt(f), df_within, delta) - stats.nct.cdf(-math.sqrt(f), df_within, delta) == pytest.approx(
            target, abs=1e-7)


@pytest.mark.parametrize(("f", "df_between", "df_within"), [(5.0, 2, 80), (3.2, 4, 120)])
def test_eta_squared_interval_at_ninety_percent_inverts_the_noncentral_f(f, df_between, df_within):
    low, high = effect_sizes.eta_squared_interval(f, df_between, df_within, 0.90)
    total = df_between + df_within + 1
    assert stats.ncf.cdf(f, df_between, df_within, total * low / (1 - low)) == pytest.approx(0.95, abs=1e-7)
    assert stats.ncf.cdf(f, df_between, df_within, total * high / (1 - high)) == pytest.approx(0.05, abs=1e-7)
    # narrower than the 95 % interval
    wide = effect_sizes.eta_squared_interval(f, df_between, df_within, 0.95)
    assert wide[0] < low < high < wide[1]


def test_effect_interval_level_is_one_minus_two_alpha():
    assert effect_sizes.effect_interval_level(0.95) == pytest.approx(0.90)
    assert effect_sizes.effect_interval_level(0.99) == pytest.approx(0.98)
    assert effect_sizes.effect_interval_level() == pytest.approx(0.90)
    for bad in (0.5, 0.3, 1.0):
        with pytest.raises(ValueError):
            effect_sizes.effect_interval_level(bad)


@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_lower_bounds_at_one_minus_two_alpha_are_above_zero_exactly_when_p_is_below_alpha(alpha):
    level = effect_sizes.effect_interval_level(1 - alpha)
    checked = 0
    for df_between, df_within in [(1, 10), (2, 40), (2, 80), (3, 25), (5, 200)]:
        critical = stats.f.isf(alpha, df_between, df_within)
        for f in [0.3, critical * 0.9, critical * (1 - 1e-5), critical * (1 + 1e-5), critical * 1.1, critical * 3]:
            p = stats.f.sf(f, df_between, df_within)
            assert (effect_sizes.eta_squared_interval(f, df_between, df_within, level)[0] > 0) == (p < alpha)
            checked += 1
    for df, n, k in [(1, 40, 2), (2, 83, 2), (4, 60, 3), (6, 300, 3)]:
        critical = stats.chi2.isf(alpha, df)
        for chi2 in [0.5, critical * 0.9, critical * (1 - 1e-5), critical * (1 + 1e-5), critical * 1.1, critical * 3]:
            p = stats.chi2.sf(chi2, df)
            assert (effect_sizes.cramers_v_interval(chi2, df, n, k, level)[0] > 0) == (p < alpha)
            checked += 1
    assert checked == 54


# --- rank-based effect sizes ---------------------------------------------------------------------------------------

def test_epsilon_squared_from_hand_kruskal_wallis():
    # Hollander & Wolfe (1973), p. 116: mucociliary efficiency; R's ?kruskal.test prints
    # "Kruskal-Wallis chi-squared = 0.77143, df = 2, p-value = 0.68"
    groups = [[2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0]]
    # ranks of the 14 values (no ties): 8 + 9 + 4 + 5 + 10 = 36, 13 + 6 + 14 + 3 = 36, 7 + 11 + 12 + 2 + 1 = 33
    pooled = sorted(v for g in groups for v in g)
    assert [sum(pooled.index(v) + 1 for v in g) for g in groups] == [36, 36, 33]
    h = 12 / (14 * 15) * (36**2 / 5 + 36**2 / 4 + 33**2 / 5) - 3 * 15
    assert h == pytest.approx(0.77143, abs=5e-6)
    # ε² = H / ((n² − 1) / (n + 1)) (Tomczak & Tomczak, 2014)
    assert effect_sizes.epsilon_squared(h, 14) == pytest.approx(h / ((14**2 - 1) / (14 + 1)))
    assert effect_sizes.epsilon_squared(h, 14) == pytest.approx(0.77143 / 13, abs=1e-6)


def test_rank_biserial_by_counting_pairs():
    # U of x: pairs with x above y, ties counted one half; R prints W = 35 for these data
    u = sum((a > b) + 0.5 * (a == b) for a in TERM for b in EARLY)
    assert u == 35
    # Kerby's simple difference: (favourable − unfavourable pairs) / all pairs = (35 − 15) / 50
    assert effect_sizes.rank_biserial(u, 10, 5) == pytest.approx((35 - 15) / 50)
    assert effect_sizes.rank_biserial(0.0, 4, 6) == -1.0
    assert effect_sizes.rank_biserial(12.0, 4, 6) == 0.0


# --- Hodges–Lehmann shift and its Moses interval -------------------------------------------------------------------

def test_hodges_lehmann_reproduces_hollander_and_wolfe():
    estimate, low, high = effect_sizes.hodges_lehmann(TERM, EARLY)
    assert estimate == pytest.approx(0.305)  # H&W p. 76; R: "difference in location 0.305"
    # k = ⌊50/2 − 1.96 √(50 · 16 / 12)⌋ = ⌊25 − 16.003⌋ = 8: the 8th smallest and 8th largest of the 50 differences
    differences = sorted(round(a - b, 2) for a in TERM for b in EARLY)
    assert math.floor(25 - Z95 * math.sqrt(50 * 16 / 12)) == 8
    assert (low, high) == pytest.approx((differences[7], differences[42]))
    assert (low, high) == pytest.approx((-0.17, 0.76))


def test_hodges_lehmann_with_tied_scores_equals_brute_force():
    # VAS-like whole-number scores: few distinct values, many ties (the enumeration with multiplicities)
    rng = np.random.default_rng(7)
    x, y = rng.integers(0, 11, 42).astype(float), rng.integers(2, 11, 41).astype(float)
    assert effect_sizes.hodges_lehmann(x, y) == pytest.approx(brute_force_shift(x, y), abs=1e-12)
    assert effect_sizes.hodges_lehmann(x, y, 0.90) == pytest.approx(brute_force_shift(x, y, 0.90), abs=1e-12)


def test_hodges_lehmann_median_of_an_even_number_of_differences():
    # differences 1 − 0, 1 − 2, 4 − 0, 4 − 2 = 1, −1, 4, 2: median (1 + 2) / 2
    assert effect_sizes.hodges_lehmann(np.array([1.0, 4.0]), np.array([0.0, 2.0]))[0] == 1.5


def test_hodges_lehmann_tiny_samples_fall_back_to_the_extreme_differences():
    # k = ⌊2 − 1.96 √(4 · 5 / 12)⌋ < 1, so the bounds are the smallest and largest differences
    assert effect_sizes.hodges_lehmann(np.array([1.0, 2.0]), np.array([5.0, 9.0])) == (-5.5, -8.0, -3.0)


@pytest.mark.parametrize("kind", ["continuous", "tied"])
def test_hodges_lehmann_bisection_for_large_samples_equals_brute_force(kind):
    # more than 2,000 distinct values in each sample (4,000,000 distinct pairs): the bisection path, not enumeration
    rng = np.random.default_rng(2024)
    if kind == "continuous":
        x, y = rng.normal(1.0, 2.0, 2101), rng.normal(0.0, 2.0, 2050)
    else:  # values on a 0.01 grid: many ties, still over 2,000 distinct values per sample
        x, y = rng.integers(0, 5000, 3000) / 100 + 0.5, rng.integers(0, 5000, 2600) / 100
    assert len(np.unique(x)) * len(np.unique(y)) > 4_000_000
    assert effect_sizes.hodges_lehmann(x, y) == pytest.approx(brute_force_shift(x, y), rel=0, abs=1e-12)
