"""Statistics against independent values: scipy from summary statistics, and hand computation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vertebroplasty import dictionary, indices, paths, published, statistics, tables
from vertebroplasty.cohort import load_cohort


@pytest.fixture(scope="module")
def study_data() -> pd.DataFrame:
    return dictionary.with_variable_names(indices.derive(load_cohort(paths.DEFAULT_COHORT).data))


def test_student_t_by_hand():
    frame = pd.DataFrame({"group": list("AAABBB"), "x": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]})
    row = statistics.compare_two_groups(frame, "x").iloc[0]
    # pooled variance = (2*1 + 2*2.3333) / 4 = 1.6667; se = sqrt(1.6667 * (1/3 + 1/3)) = 1.05409
    assert row["statistic"] == pytest.approx((2.0 - 16 / 3) / 1.0540925533894598)
    assert row["df"] == 4
    assert row["mean_difference"] == pytest.approx(2.0 - 16 / 3)
    # Hedges' g = d * (1 - 3 / (4 * 6 - 9)) with d = -3.3333 / sqrt(1.6667)
    assert row["hedges_g"] == pytest.approx((2.0 - 16 / 3) / np.sqrt(5 / 3) * (1 - 3 / 15))
    half_width = stats.t.ppf(0.975, 4) * 1.0540925533894598
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-10 / 3 - half_width, -10 / 3 + half_width))


def test_welch_differs_from_student_and_matches_scipy_from_stats():
    frame = pd.DataFrame({"group": ["A"] * 5 + ["B"] * 8, "x": [1, 2, 3, 4, 10, 5, 5, 6, 6, 5, 6, 5, 6.0]})
    welch = statistics.compare_two_groups(frame, "x", test="welch").iloc[0]
    expected = stats.ttest_ind_from_stats(4.0, np.std([1, 2, 3, 4, 10], ddof=1), 5, 5.5, np.std([5, 5, 6, 6, 5, 6, 5, 6], ddof=1), 8, equal_var=False)
    assert welch["p_val"] == pytest.approx(expected.pvalue)


@pytest.mark.parametrize("variable", tables.TABLE_VARIABLES["table2"][:-1])
def test_group_t_tests_equal_scipy_from_summary_statistics(study_data, variable):
    row = statistics.compare_two_groups(study_data, variable).iloc[0]
    expected = stats.ttest_ind_from_stats(row["mean_A"], row["sd_A"], row["n_A"], row["mean_B"], row["sd_B"], row["n_B"])
    assert row["p_val"] == pytest.approx(expected.pvalue, rel=1e-9)


def one_way_f_from_summaries(means, sds, ns):
    """F of a one-way ANOVA from group means, SDs and sizes (textbook formula)."""
    means, sds, ns = map(np.asarray, (means, sds, ns))
    grand = (means * ns).sum() / ns.sum()
    between = (ns * (means - grand) ** 2).sum() / (len(ns) - 1)
    within = ((ns - 1) * sds**2).sum() / (ns.sum() - len(ns))
    return between / within


def test_anova_from_summary_statistics_and_eta_squared_by_hand():
    frame = pd.DataFrame({"d": list("AABBBCC"), "x": [1.0, 3.0, 4.0, 5.0, 6.0, 9.0, 11.0]})
    row = statistics.compare_several_groups(frame, "x", between="d").iloc[0]
    f = one_way_f_from_summaries([2, 5, 10], [np.sqrt(2), 1, np.sqrt(2)], [2, 3, 2])
    assert row["statistic"] == pytest.approx(f)
    assert row["p_val"] == pytest.approx(stats.f.sf(f, 2, 4))
    # SS between = 2*(2-39/7)^2 + 3*(5-39/7)^2 + 2*(10-39/7)^2; SS total from the values
    grand = 39 / 7
    ss_between = 2 * (2 - grand) ** 2 + 3 * (5 - grand) ** 2 + 2 * (10 - grand) ** 2
    ss_total = sum((v - grand) ** 2 for v in [1, 3, 4, 5, 6, 9, 11])
    assert row["eta_squared"] == pytest.approx(ss_between / ss_total)


def test_chi_square_without_correction_reproduces_published_leakage_p():
    # Table 2: leakage 9 of 42 (21.43 %) vs 7 of 41 (17.07 %), p = 0.615 (chi-square, no correction)
    frame = pd.DataFrame({"group": ["A"] * 42 + ["B"] * 41,
                          "cement_leakage": pd.array([True] * 9 + [False] * 33 + [True] * 7 + [False] * 34, dtype="boolean")})
    row = statistics.compare_proportions(frame, "cement_leakage").iloc[0]
    a, b, c, d = 9, 33, 7, 34
    n = a + b + c + d
    chi2 = n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert row["statistic"] == pytest.approx(chi2)
    assert round(row["p_val"], 3) == 0.615
    assert row["cramers_v"] == pytest.approx(np.sqrt(chi2 / n))
    assert row["risk_difference"] == pytest.approx(9 / 42 - 7 / 41)
    assert (row["count_A:yes"], row["percent_B:yes"]) == (9, pytest.approx(100 * 7 / 41))


def test_fisher_exact_on_request():
    frame = pd.DataFrame({"group": list("AAAABBBB"), "y": list("xxxyxyyy")})
    row = statistics.compare_proportions(frame, "y", test="fisher").iloc[0]
    assert row["p_val"] == pytest.approx(stats.fisher_exact([[3, 1], [1, 3]]).pvalue)


def test_holm_by_hand():
    adjusted = statistics.holm(pd.Series([0.01, 0.04, 0.03, np.nan]))
    # sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, 0.06 (monotone)
    assert adjusted.tolist()[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(adjusted.iloc[3])


def test_available_cases_report_their_n():
    frame = pd.DataFrame({"group": list("AAABBB"), "x": [1.0, np.nan, 3.0, 4.0, 5.0, 7.0]})
    row = statistics.compare_two_groups(frame, "x").iloc[0]
    assert (row["n_A"], row["n_B"]) == (2, 3)


def test_compare_does_not_modify_its_input(study_data):
    before = study_data.copy()
    statistics.compare(study_data, tables.TABLE_VARIABLES["table1"], "group")
    pd.testing.assert_frame_equal(study_data, before)


def test_long_results_use_the_published_vocabulary(study_data):
    long = pd.concat([tables.long_statistics(statistics.compare(study_data, tables.TABLE_VARIABLES[t], tables.TABLE_BETWEEN[t]), t)
                      for t in ("table1", "table2", "table3")])
    assert list(long.columns) == ["table", "variable", "stratum", "statistic", "value"]
    keys = set(map(tuple, long[["table", "variable", "stratum", "statistic"]].to_numpy()))
    expected = published.load().query("table in ['table1', 'table2', 'table3'] and variable != 'n'")
    missing = [key for key in map(tuple, expected[["table", "variable", "stratum", "statistic"]].to_numpy()) if key not in keys]
    assert missing == []


def test_p_formatting():
    assert tables.format_p(0.0004, 0.05) == "<0.001\\*"
    assert tables.format_p(0.034, 0.05) == "0.034\\*"
    assert tables.format_p(0.05, 0.05) == "0.050"
    assert tables.format_p(float("nan"), 0.05) == "—"
    assert tables.format_p_in_text(0.0004) == "p < 0.001"


def test_eta_squared_interval_brackets_the_estimate_and_matches_noncentral_f():
    low, high = statistics.eta_squared_interval(5.0, 2, 80)
    assert 0 < low < 5.0 * 2 / (5.0 * 2 + 80) < high < 1
    # at the lower bound, the observed F is the 97.5th percentile of the noncentral F with λ = η²/(1-η²)·N
    lam = low / (1 - low) * 83
    assert stats.ncf.cdf(5.0, 2, 80, lam) == pytest.approx(0.975, abs=1e-6)


def test_hedges_g_interval_by_hand():
    low, high = statistics.hedges_g_interval(0.5, 40, 40)
    se = np.sqrt(80 / 1600 + 0.25 / 160)
    assert (low, high) == pytest.approx((0.5 - 1.959963985 * se, 0.5 + 1.959963985 * se))


def test_pairwise_tukey_matches_scipy_and_sample_size_matches_statsmodels(study_data):
    from statsmodels.stats.power import TTestIndPower

    pairs = statistics.pairwise_comparisons(study_data, ["lka_loss"], "cement_distribution")
    samples = [study_data.loc[study_data["cement_distribution"] == k, "lka_loss"].astype(float).dropna() for k in "ABC"]
    assert pairs["method"].iloc[0] == "Tukey HSD"
    assert pairs["p_adjusted"].iloc[0] == pytest.approx(stats.tukey_hsd(*samples).pvalue[0, 1])
    comparison = statistics.compare(study_data, ["lka_loss"], "group")
    sizes = statistics.sample_size(comparison)
    expected = TTestIndPower().solve_power(effect_size=abs(comparison["hedges_g"].iloc[0]), alpha=0.05, power=0.8)
    assert sizes["n_per_group_80"].iloc[0] == np.ceil(expected)


def test_robust_option_switches_the_tests(study_data):
    robust = statistics.compare(study_data, ["vas_op", "cement_leakage"], "group", tests="robust")
    assert list(robust["test"]) == ["welch", "chi2"]
    kruskal = statistics.compare(study_data, ["fvahl"], "cement_distribution", tests="robust").iloc[0]
    samples = [study_data.loc[study_data["cement_distribution"] == k, "fvahl"].astype(float).dropna() for k in "ABC"]
    assert kruskal["p_val"] == pytest.approx(stats.kruskal(*samples).pvalue)
