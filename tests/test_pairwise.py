"""Pairwise comparisons across the cement-distribution types against values computed another way: statsmodels'
Tukey HSD beside the package's Tukey–Kramer from summaries, the Games–Howell and Dunn formulas written out (with Holm's adjustment by hand),
and the identity of Tukey's test with Student's t-test for two groups."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vertebroplasty.contract.cohort import Cohort
from vertebroplasty.statistics import pairwise

BETWEEN = "cement_distribution"


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return Cohort.load("").data


def types(levels, values, name="lka_loss") -> pd.DataFrame:
    return pd.DataFrame({BETWEEN: list(levels), name: pd.array(values, dtype="Float64")})


def by_type(data, variable, levels="ABC"):
    present = data[variable].notna()
    return {level: data.loc[(data[BETWEEN] == level) & present, variable].to_numpy(dtype=float) for level in levels}


def holm_by_hand(p_values):
    """Holm: the i-th smallest of m p-values times (m − i + 1), made monotone, capped at 1; in the input order."""
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.maximum.accumulate([min(1.0, (m - i) * p_values[j]) for i, j in enumerate(order)])
    result = np.empty(m)
    result[order] = adjusted
    return result


def dunn_by_hand(groups: dict[str, np.ndarray]):
    """Dunn (1964): z = (R̄_i − R̄_j) / √((N (N + 1) / 12 − Σ(t³ − t) / (12 (N − 1))) (1/n_i + 1/n_j)) on the joint
    mid-ranks; two-sided normal p, then Holm over the pairs."""
    values = np.concatenate(list(groups.values()))
    ranks = pd.Series(values).rank(method="average").to_numpy()
    n = len(values)
    _, ties = np.unique(values, return_counts=True)
    variance = n * (n + 1) / 12 - (ties**3 - ties).sum() / (12 * (n - 1))
    mean_rank, start = {}, 0
    for level, sample in groups.items():
        mean_rank[level] = ranks[start:start + len(sample)].mean()
        start += len(sample)
    pairs = list(itertools.combinations(groups, 2))
    z = [abs(mean_rank[a] - mean_rank[b]) / math.sqrt(variance * (1 / len(groups[a]) + 1 / len(groups[b]))) for a, b in pairs]
    p = [math.erfc(value / math.sqrt(2)) for value in z]  # two-sided normal p: 2 (1 − Φ(|z|))
    return dict(zip(pairs, holm_by_hand(np.array(p))))


def games_howell_by_hand(groups: dict[str, np.ndarray]):
    """Games & Howell (1976): Welch's t and df per pair, p from the studentized range at |t| √2 with k groups."""
    k = len(groups)
    result = {}
    for a, b in itertools.combinations(groups, 2):
        x, y = groups[a], groups[b]
        va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        t = (x.mean() - y.mean()) / math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
        result[(a, b)] = stats.studentized_range.sf(abs(t) * math.sqrt(2), k, df)
    return result


def rows(frame):
    return {(r["first"], r["second"]): r for r in frame.to_dict("records")}


# --- Tukey ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variable", ["lka_loss", "avhlr"])
def test_tukey_on_the_study_equals_statsmodels(study, variable):
    from statsmodels.stats.multicomp import pairwise_tukeyhsd

    frame = study[[BETWEEN, variable]].dropna()
    reference = pairwise_tukeyhsd(frame[variable].to_numpy(dtype=float), frame[BETWEEN].astype(str).to_numpy())
    result = rows(pairwise.pairwise(study, variable, BETWEEN, "tukey"))
    assert len(result) == 3
    for (first, second), difference, (low, high), p in zip(itertools.combinations(reference.groupsunique, 2),
                                                        reference.meandiffs, reference.confint, reference.pvalues):
        row = result[(first, second)]
        # statsmodels reports second − first; the module first − second
        assert row["mean_difference"] == pytest.approx(-difference)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((-high, -low), rel=1e-6)
        assert row["p_adjusted"] == pytest.approx(p, abs=1e-6)
        assert row["method"] == "Tukey HSD"


def test_tukey_for_two_types_is_students_t_test():
    # with two groups q = √2 |t| and the studentized range with k = 2 is the two-sided t distribution
    frame = types("AAAACCC", [1, 2, 4, 5, 6, 7, 11])
    result = pairwise.pairwise(frame, "lka_loss", BETWEEN, "tukey")
    assert result[["first", "second"]].values.tolist() == [["A", "C"]]
    # A: mean 3, SS 2² + 1 + 1 + 2² = 10; C: mean 8, SS 4 + 1 + 9 = 14; pooled 24 / 5; SE = √(24/5 · (1/4 + 1/3))
    se = math.sqrt(24 / 5 * (1 / 4 + 1 / 3))
    t = -5 / se
    assert result["p_adjusted"].iloc[0] == pytest.approx(2 * stats.t.sf(abs(t), 5), rel=1e-6)
    half_width = stats.t.ppf(0.975, 5) * se
    assert (result["ci_low"].iloc[0], result["ci_high"].iloc[0]) == pytest.approx((-5 - half_width, -5 + half_width), rel=1e-6)


# --- Games–Howell --------------------------------------------------------------------------------------------------

def test_games_howell_by_hand(study):
    groups = by_type(study, "fvahl")
    result = rows(pairwise.pairwise(study, "fvahl", BETWEEN, "games_howell"))
    for pair, p in games_howell_by_hand(groups).items():
        assert result[pair]["p_adjusted"] == pytest.approx(p, rel=1e-6)
        assert result[pair]["mean_difference"] == pytest.approx(groups[pair[0]].mean() - groups[pair[1]].mean())
        # the simultaneous interval (Games & Howell 1976), with the studentized-range quantile from statsmodels' qsturng,
        # a separate implementation from the scipy distribution the package uses
        from statsmodels.stats.libqsturng import qsturng

        a, b = groups[pair[0]], groups[pair[1]]
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
        half = qsturng(0.95, len(groups), df) / math.sqrt(2) * math.sqrt(va + vb)
        difference = a.mean() - b.mean()
        low, high = result[pair]["ci_low"], result[pair]["ci_high"]
        assert (low + high) / 2 == pytest.approx(difference, abs=1e-12)
        assert (high - low) / 2 == pytest.approx(half, rel=1e-3)  # qsturng approximates the quantile to about 3 digits
        assert (result[pair]["ci_low"] > 0 or result[pair]["ci_high"] < 0) == (result[pair]["p_adjusted"] < 0.05)


def test_games_howell_on_unequal_variances_by_hand():
    values = [1, 2, 3, 2, 1, 10, 30, 20, 0, 40, 5, 6, 5, 7]
    frame = types("AAAAABBBBBCCCC", values)
    groups = by_type(frame, "lka_loss")
    result = rows(pairwise.pairwise(frame, "lka_loss", BETWEEN, "games_howell"))
    for pair, p in games_howell_by_hand(groups).items():
        assert result[pair]["p_adjusted"] == pytest.approx(p, rel=1e-6)


# --- Dunn ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variable", ["lka_loss", "fvahl", "vas_post", "odi_final"])
def test_dunn_on_the_study_by_hand_with_holm(study, variable):
    result = rows(pairwise.pairwise(study, variable, BETWEEN, "dunn"))
    expected = dunn_by_hand(by_type(study, variable))
    assert set(result) == set(expected)
    for pair, p in expected.items():
        assert result[pair]["p_adjusted"] == pytest.approx(p, rel=1e-9)
        assert result[pair]["method"] == "Dunn's test with Holm's adjustment"


def test_dunn_ranks_a_single_patient_type_with_the_others():
    # type C has one patient: the Kruskal–Wallis test ranks it with the others, so Dunn's ranks must include it too
    frame = types("AAAABBBBC", [1, 2, 3, 5, 4, 6, 7, 8, 9])
    result = rows(pairwise.pairwise(frame, "lka_loss", BETWEEN, "dunn"))
    expected = dunn_by_hand(by_type(frame, "lka_loss"))
    assert set(result) == {("A", "B"), ("A", "C"), ("B", "C")}
    for pair, p in expected.items():
        assert result[pair]["p_adjusted"] == pytest.approx(p, rel=1e-9)
    assert (result[("A", "C")]["n_first"], result[("A", "C")]["n_second"]) == (4, 1)


# --- how many types, and what cannot be compared ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["tukey", "games_howell", "dunn"])
def test_two_types_present_give_one_pair(method):
    frame = types("AAAABBB", [1, 2, 4, 5, 6, 7, 11])
    result = pairwise.pairwise(frame, "lka_loss", BETWEEN, method)
    assert list(result.columns) == pairwise.COLUMNS
    assert result[["first", "second", "n_first", "n_second"]].values.tolist() == [["A", "B", 4, 3]]
    if method == "dunn":  # one pair: Holm leaves it alone
        assert result["p_adjusted"].iloc[0] == pytest.approx(dunn_by_hand(by_type(frame, "lka_loss", "AB"))[("A", "B")])
        # in the rank test's own terms, by hand: every A below every B, so mid-ranks 1–4 against 5–7 (means 2.5 and 6),
        # the twelve differences A − B have median −5, and the rank-biserial r is −1; no difference of means is given
        pair = result.iloc[0]
        assert (pair["mean_rank_difference"], pair["hodges_lehmann"], pair["rank_biserial"]) == pytest.approx((-3.5, -5.0, -1.0))
        assert pd.isna(pair["mean_difference"])
        # the shift's Moses interval (one pair: 95 %): k = ⌊12/2 − 1.96 √(12 · 8 / 12)⌋ = 0, so the extreme differences
        assert (pair["ci_low"], pair["ci_high"]) == pytest.approx((-10.0, -1.0))
    else:
        assert result["mean_difference"].iloc[0] == pytest.approx(3 - 8)
        assert result[["mean_rank_difference", "hodges_lehmann", "rank_biserial"]].isna().all(axis=None)


def test_dunn_pair_effects_by_hand_with_ties():
    # A = 1 2 2 3, B = 3 4 5 5, C = 6 6 7 9.  Joint mid-ranks: A 1, 2.5, 2.5, 4.5 (mean 2.625); B 4.5, 6, 7.5, 7.5
    # (mean 6.375).  The sixteen differences A − B: −4 ×2, −3 ×5, −2 ×5, −1 ×3, 0 ×1, median −2.  U of A: one tie
    # (3 against 3) counts one half, so r = 2 × 0.5 / 16 − 1 = −0.9375.
    frame = types("AAAABBBBCCCC", [1, 2, 2, 3, 3, 4, 5, 5, 6, 6, 7, 9])
    pair = rows(pairwise.pairwise(frame, "lka_loss", BETWEEN, "dunn"))[("A", "B")]
    assert pair["mean_rank_difference"] == pytest.approx(2.625 - 6.375)
    assert pair["hodges_lehmann"] == pytest.approx(-2.0) and pair["rank_biserial"] == pytest.approx(-0.9375)


@pytest.mark.parametrize("method", ["tukey", "games_howell"])
def test_a_single_patient_type_is_left_out_where_a_variance_is_needed(method):
    frame = types("AAAABBBBC", [1, 2, 3, 5, 4, 6, 7, 8, 9])
    assert pairwise.pairwise(frame, "lka_loss", BETWEEN, method)[["first", "second"]].values.tolist() == [["A", "B"]]


@pytest.mark.parametrize("method", ["tukey", "games_howell", "dunn"])
@pytest.mark.parametrize("levels, values", [
    ("AAAA", [1, 2, 3, 4]),  # one type
    ("AABBCC", [2, 2, 2, 2, 2, 2]),  # no variation at all
    ("ABC", [1, 2, 3]),  # one patient per type
])
def test_nothing_to_compare_gives_an_empty_frame(method, levels, values):
    result = pairwise.pairwise(types(levels, values), "lka_loss", BETWEEN, method)
    assert len(result) == 0 and list(result.columns) == pairwise.COLUMNS


@pytest.mark.parametrize("method", ["tukey", "games_howell"])
def test_no_variation_within_any_type_gives_no_pairs_not_a_zero_p(method):
    # the ANOVA's F is undefined (zero within-type variance); Tukey used to report p = 0 with a zero-width interval
    assert len(pairwise.pairwise(types("AABBCC", [1, 1, 2, 2, 3, 3]), "lka_loss", BETWEEN, method)) == 0


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        pairwise.pairwise(types("AABB", [1, 2, 3, 4]), "lka_loss", BETWEEN, "scheffe")


# --- the choice of method ----------------------------------------------------------------------------------------

def levene_p_by_hand(groups):
    """Brown–Forsythe (median-centred Levene): one-way ANOVA F on |x − median of its group|."""
    deviations = [np.abs(g - np.median(g)) for g in groups]
    pooled = np.concatenate(deviations)
    k, n = len(groups), len(pooled)
    between = sum(len(d) * (d.mean() - pooled.mean()) ** 2 for d in deviations) / (k - 1)
    within = sum(((d - d.mean()) ** 2).sum() for d in deviations) / (n - k)
    return stats.f.sf(between / within, k - 1, n - k)


def test_method_follows_the_option_and_levenes_test(study):
    variables = ["lka_loss", "fvahl", "vas_post"]
    robust = pairwise.pairwise_comparisons(study, variables, BETWEEN, "robust")
    assert set(robust["method"]) == {"Dunn's test with Holm's adjustment"} and len(robust) == 9
    paper = pairwise.pairwise_comparisons(study, variables, BETWEEN, "paper")
    for variable in variables:
        expected = "Tukey HSD" if levene_p_by_hand(list(by_type(study, variable).values())) >= 0.05 else "Games–Howell"
        assert set(paper.loc[paper["variable"] == variable, "method"]) == {expected}
    spread = types("AAAAABBBBBCCCCC", [1, 2, 3, 2, 1, 10, 30, 20, 0, 40, 5, 6, 5, 7, 6])
    assert levene_p_by_hand(list(by_type(spread, "lka_loss").values())) < 0.05
    assert set(pairwise.pairwise_comparisons(spread, ["lka_loss"], BETWEEN, "paper")["method"]) == {"Games–Howell"}


def test_pairwise_comparisons_skip_categories_and_empty_results(study):
    result = pairwise.pairwise_comparisons(study, ["sex", "lka_loss"], BETWEEN, "paper")
    assert set(result["variable"]) == {"lka_loss"}
    empty = pairwise.pairwise_comparisons(types("AAAA", [1, 2, 3, 4]), ["lka_loss"], BETWEEN, "robust")
    assert len(empty) == 0 and list(empty.columns) == pairwise.COLUMNS


def test_a_pair_is_given_a_direction_only_when_its_interval_excludes_zero():
    from vertebroplasty.writing import sentences

    def dunn(low, high, p):
        return {"variable": "vas_final", "method": "Dunn's test with Holm's adjustment", "first": "A", "second": "B",
                "n_first": 40, "n_second": 24, "mean_difference": np.nan, "ci_low": low, "ci_high": high, "p_adjusted": p,
                "mean_rank_difference": -9.0, "hodges_lehmann": -1.0, "rank_biserial": -0.4}

    # Dunn's p is below alpha, but the shift's interval reaches zero — exactly, or up to floating-point noise
    for high in (0.0, -1e-15):
        text = sentences.pair_sentence(pd.DataFrame([dunn(-2.0, high, 0.004)]), "vas_final", 0.05)
        assert "lower" not in text and "no direction is claimed" in text and "no pair of types differed by its interval" in text
        assert "CI −2.00 to 0.00" in text.replace("-", "−")
    text = sentences.pair_sentence(pd.DataFrame([dunn(-2.0, -0.004, 0.004)]), "vas_final", 0.05)
    assert "type A lower than type B" in text and "to −0.004" in text.replace("-", "−")  # the bound shows its side of zero


# --- pairs set against the clinically important difference ------------------------------------------------------------

class _Table3:
    """What the sentence reads of Table 3's results: which overall tests are findings, and alpha."""

    alpha = 0.05

    def __init__(self, findings):
        self.findings = findings
        self.tests = pd.DataFrame(index=["vas_final", "odi_final", "odi_post"])

    def evidence(self, variable):
        return "significant" if variable in self.findings else "unadjusted"


def test_type_differences_are_weighed_against_the_clinically_important_difference():
    from vertebroplasty.writing import responders_text

    def pair(variable, first, second, difference, low, high):
        return {"variable": variable, "method": "Tukey HSD", "first": first, "second": second, "n_first": 20, "n_second": 20,
                "mean_difference": difference, "ci_low": low, "ci_high": high, "p_adjusted": 0.01}

    pairs = pd.DataFrame([pair("vas_final", "A", "B", -0.5, -0.8, -0.2),     # whole interval within 1.5 points
                          pair("vas_final", "A", "C", -1.2, -1.9, -0.5),     # estimate within, interval beyond 1.5
                          pair("vas_final", "B", "C", -0.7, -1.6, 0.2),      # interval includes 0: not a difference
                          pair("odi_final", "A", "B", -12.0, -15.0, -10.5),  # beyond 10 percentage points
                          pair("odi_post", "A", "B", -3.0, -5.0, -1.0)],     # overall test not a finding: exploratory
                         columns=pairwise.COLUMNS)
    thresholds = {"vas_post": 1.5, "vas_final": 1.5, "odi_post": 10.0, "odi_final": 10.0}
    text = responders_text.types_importance_sentence(pairs, _Table3({"vas_final", "odi_final"}), thresholds, True)
    assert "(1.5 points on the VAS and 10 percentage points on the ODI)" in text
    assert ("One differs by less than the threshold across the whole interval: VAS (final FU), type A against type B: "
            "difference -0.50 points, 95 % CI -0.80 to -0.20, adjusted p = 0.010") in text
    assert "One differs by less than the threshold, but the interval reaches it" in text and "type A against type C: difference -1.20" in text
    assert "One differs by at least the threshold: ODI (final FU), type A against type B: difference -12.00" in text
    assert "differences between the types' mean scores" in text  # an MCID is for change within a patient
    assert "type B against type C" not in text and "ODI (24 h post-op)" not in text
    nothing = responders_text.types_importance_sentence(pairs, _Table3(set()), thresholds, False)
    assert nothing.startswith("Set against the thresholds given in the study description") and "nothing to weigh" in nothing
