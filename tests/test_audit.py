"""The reproduction audit finds, on its own, the inconsistencies of the published numbers — and only those.

Expected values come from somewhere else than the code under test: hand computation (shown in comments),
scipy/pingouin on raw values built to have the printed summaries, or brute-force enumeration of whole-number samples.
"""

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vertebroplasty.paper import audit, published
from vertebroplasty.statistics import pairwise

#: Printed Table 3 summaries (mean, SD) per type A, B, C; type sizes 40, 24, 19 (Table 1 counts 25+15, 12+12, 5+14).
TYPE_SIZES = (40, 24, 19)
TABLE3 = {"lka_loss": ((1.41, 3.02), (3.59, 3.33), (3.35, 2.31)),
          "fvahl": ((1.15, 2.46), (1.84, 1.77), (3.14, 1.96)),
          "avhlr": ((4.15, 8.08), (5.67, 9.38), (12.00, 7.63))}
#: Words that must never reach a reader: internal stratum/table codes and variable names.
INTERNAL_CODE = re.compile(r"dist_|\btable\d|\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def checks() -> pd.DataFrame:
    return audit.run_audit()


@pytest.fixture(scope="module")
def found(checks) -> pd.DataFrame:
    return audit.findings(checks)


def verdict(checks, check, variable, table=None):
    rows = checks[checks["check"].str.startswith(check) & (checks["variable"] == variable)]
    if table:
        rows = rows[rows["table"] == table]
    assert len(rows) >= 1, (check, variable)
    return set(rows["verdict"])


def sample_with(mean: float, sd: float, n: int, seed: int) -> np.ndarray:
    """Raw values with exactly this mean and SD: a standardised random vector, rescaled."""
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def test_columns_and_vocabularies(checks):
    assert list(checks.columns) == audit.COLUMNS
    assert {"kind", "label", "table_label"} <= set(checks.columns)
    assert set(checks["verdict"]) <= {"consistent", "inconsistent", "not-checkable"}
    assert set(checks["kind"]) <= set(audit.KINDS)
    assert set(checks["table_label"]) == {"Table 1", "Table 2", "Table 3", "Tables 2 and 3"}
    assert checks.loc[checks["variable"] == "lka_loss", "label"].iloc[0] == "LKA loss (°)"


def test_no_internal_codes_in_human_readable_columns(checks):
    for column in ("check", "table_label", "label", "stratum", "published", "recomputed", "note", "sentence"):
        leaks = [text for text in checks[column].astype(str) if INTERNAL_CODE.search(text)]
        assert not leaks, (column, leaks[:3])
    assert {"group A", "type A", "type A vs type B"} <= set(checks["stratum"])


# --- ANOVA from summaries ----------------------------------------------------------------------------------------

def test_anova_from_summaries_against_a_worked_example():
    # Hand computation: groups {2,4,6}, {5,7,9}, {8,10,12}: means 4, 7, 10, SDs 2, grand mean 7;
    # SS between = 3*(9 + 0 + 9) = 54 -> MS 27; MS within = 4; F = 27/4 = 6.75 on (2, 6) df;
    # for 2 numerator df the F tail has the closed form p = (1 + 2F/6)^(-6/2) = 3.25^-3.
    f, p = audit.anova_from_summaries([4, 7, 10], [2, 2, 2], [3, 3, 3])
    assert f == pytest.approx(6.75) and p == pytest.approx(3.25**-3)
    # unequal sizes: raw values written down, their means 2, 5, 10 and SDs sqrt(2), 1, sqrt(2), through scipy
    raw = [[1.0, 3.0], [4.0, 5.0, 6.0], [9.0, 11.0]]
    expected = stats.f_oneway(*raw)
    f, p = audit.anova_from_summaries([2, 5, 10], [np.sqrt(2), 1, np.sqrt(2)], [2, 3, 2])
    assert (f, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-10)


def test_anova_on_table_3_summaries_against_raw_values():
    # RKA loss 1.74 ± 4.46 (40), 1.69 ± 3.24 (24), 1.97 ± 3.31 (19): F far below 1, p near 0.97, not the printed 0.215
    printed = ((1.74, 4.46), (1.69, 3.24), (1.97, 3.31))
    raw = [sample_with(mean, sd, n, seed) for seed, ((mean, sd), n) in enumerate(zip(printed, TYPE_SIZES))]
    expected = stats.f_oneway(*raw)
    f, p = audit.anova_from_summaries(*zip(*printed), TYPE_SIZES)
    assert (f, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-9)
    assert f < 0.1 and p > 0.9


# --- p-values against the printed summaries --------------------------------------------------------------------------

def test_t_test_p_values_hold_up(checks):
    t_rows = checks[checks["check"] == "t-test p from summary statistics"]
    assert len(t_rows) == 34 and set(t_rows["verdict"]) == {"consistent"}
    # independent value: Table 2 VAS (op) 3.83 ± 0.79 (n 42) vs 5.44 ± 1.32 (n 41), printed "<0.01"
    expected = stats.ttest_ind_from_stats(3.83, 0.79, 42, 5.44, 1.32, 41).pvalue
    row = t_rows[t_rows["variable"] == "vas_op"].iloc[0]
    assert float(row["recomputed"]) == pytest.approx(expected, abs=5e-5) and expected < 0.01


def test_table_3_anova_p_values_that_the_summaries_cannot_produce(checks):
    anova = checks[checks["check"] == "ANOVA p from summary statistics"].set_index("variable")["verdict"]
    assert set(anova[anova == "inconsistent"].index) == {"avhlr", "fvahl", "lka_loss", "odi_post", "odi_pre", "rka_loss",
                                                         "vas_post", "vas_pre"}
    assert set(anova[anova == "consistent"].index) == {"vas_final", "odi_final"}


def test_whole_number_vas_pre_cannot_give_the_printed_p(checks):
    # Hand GRIM/GRIMMER: type A, n 40, mean 5.40 -> sum S in [215.8, 216.2] = 216; SD 0.96 -> Q - 216²/40 in
    # 39 * [0.955², 0.965²] = [35.57, 36.32] -> Q = 1202.  Likewise type B (24): S = 139, Q = 827; type C (19): 109, 641.
    # One sample of each (counts of the scores 4, 5, 6, 7):
    raw = [np.repeat([4, 5, 6, 7], counts) for counts in ((4, 25, 2, 9), (0, 14, 1, 9), (0, 11, 2, 6))]
    printed = ((5.40, 0.96), (5.79, 0.98), (5.74, 0.93))
    for values, (mean, sd), n in zip(raw, printed, TYPE_SIZES):
        assert len(values) == n and abs(values.mean() - mean) <= 0.005 and abs(values.std(ddof=1) - sd) <= 0.005
    only_p = stats.f_oneway(*raw).pvalue
    assert only_p == pytest.approx(0.2195, abs=1e-4) and not 0.2025 <= only_p < 0.2035
    assert audit.feasible_sums(5.40, 0.96, 40, 2, 2).tolist() == [[216, 1202]]
    row = audit.attainable_p_ranges().set_index("variable").loc["vas_pre"]
    assert row["verdict"] == "inconsistent" and row["published"] == 0.203 and row["published_text"] == "0.203"
    assert np.allclose(row["attainable_points"], [only_p], rtol=1e-9)
    assert verdict(checks, "ANOVA", "vas_pre") == {"inconsistent"}


def brute_force_p_values(printed, n, decimals=1):
    """Every Student-t p of two samples of ``n`` scores 0–10 whose mean and SD print as ``printed``."""
    samples = np.array(list(itertools.combinations_with_replacement(range(11), n)), dtype=float)
    mean, sd = samples.mean(axis=1), samples.std(axis=1, ddof=1)
    half = 0.5 * 10.0**-decimals + 1e-9
    groups = [samples[(abs(mean - m) <= half) & (abs(sd - s) <= half)] for m, s in printed]
    return np.unique(np.round([stats.ttest_ind(a, b).pvalue for a in groups[0] for b in groups[1]], 12))


def test_attainable_p_on_whole_numbers_is_a_discrete_set():
    # samples {0,2,4,5,8,10} and {3,4,4,5,6,9} print (1 decimal) as 4.8 ± 3.7 and 5.2 ± 2.1
    printed = ((4.8, 3.7), (5.2, 2.1))
    expected = brute_force_p_values(printed, 6)
    assert len(expected) == 2  # 0.85097 and 0.85258
    summary = pd.DataFrame({"mean": [4.8, 5.2], "sd": [3.7, 2.1], "mean_decimals": 1, "sd_decimals": 1, "n": 6})
    result = audit.attainable(summary, "vas_pre", (0.8505, 0.8515))
    assert np.allclose(result.points, expected, rtol=1e-9) and result.consistent
    # a printed 0.852 lies between the two attainable p, inside [low, high], yet nothing prints as it
    between = audit.attainable(summary, "vas_pre", (0.8515, 0.8525))
    assert between.low < 0.8515 and between.high > 0.8525 and not between.consistent
    # the same summaries on a continuous scale: the rounding box admits it
    assert audit.attainable(summary, "bmi", (0.8515, 0.8525)).consistent


def test_attainable_p_ranges_for_the_figure():
    ranges = audit.attainable_p_ranges()
    assert list(ranges.columns) == ["variable", "label", "published", "published_text", "low", "high", "attainable_points",
                                    "verdict"]
    assert len(ranges) == 10 and (ranges["low"] <= ranges["high"]).all()
    lka = ranges.set_index("variable").loc["lka_loss"]
    assert lka["label"] == "LKA loss (°)" and len(lka["attainable_points"]) == 0
    assert 0.0045 < lka["low"] < lka["high"] < 0.0095 and lka["verdict"] == "inconsistent"  # printed 0.004: [0.0035, 0.0045)
    assert ranges.set_index("variable").loc["vas_final", "published_text"] == "<0.01"


def test_chi_square_leakage_without_correction_is_the_published_one(checks):
    row = checks[(checks["check"] == "chi-square p from counts") & (checks["variable"] == "cement_leakage")].iloc[0]
    assert row["verdict"] == "consistent" and "with continuity correction" in row["note"] and "(inconsistent)" in row["note"]
    assert verdict(checks, "chi-square", "cement_distribution") == {"consistent"}


# --- GRIM, GRIMMER, identities -------------------------------------------------------------------------------------

def test_grim_and_grimmer_pass_for_the_published_integer_scales(checks):
    assert set(checks[checks["check"].isin(["GRIM mean", "GRIMMER SD"])]["verdict"]) == {"consistent"}


def test_grim_detects_an_impossible_mean():
    # 5 whole numbers cannot average 2.33 (sums 11 or 12 give 2.20 or 2.40)
    assert audit.possible_sums(2.33, 2, 5) == []
    assert audit.possible_sums(2.40, 2, 5) == [12]
    # even-integer values (ODI): 3 values summing to an even number cannot average 3.00
    assert audit.possible_sums(3.0, 2, 3, step=2) == []


def test_grimmer_detects_an_impossible_sd():
    # values 0/1 with n = 4 and mean 0.50 (sum 2): the only SD is 0.577; 0.30 is impossible
    assert audit.grimmer_possible(0.50, 0.58, 4, 2, 2)
    assert not audit.grimmer_possible(0.50, 0.30, 4, 2, 2)


def test_identities_hold(checks):
    assert set(checks[checks["check"] == "change mean = difference of timepoint means"]["verdict"]) == {"consistent"}
    assert set(checks[checks["check"] == "Table 2 total = Table 3 total"]["verdict"]) == {"consistent"}


def test_identity_check_catches_a_broken_identity():
    values = published.load()
    mean = ((values["table"] == "table2") & (values["variable"] == "lka_loss") & (values["stratum"] == "A")
            & (values["statistic"] == "mean"))
    values.loc[mean, "value"] = 2.66
    broken = audit.derived_identities(values)
    row = broken.query("variable == 'lka_loss' and stratum == 'group A'").iloc[0]
    assert row["verdict"] == "inconsistent" and row["kind"] == "identity"
    assert "LKA (final FU) − LKA (24 h post-op)" in row["note"]


# --- markers and text ----------------------------------------------------------------------------------------------

def test_missing_significance_asterisks(checks):
    markers = checks[checks["check"] == "significance marker"]
    assert set(markers[markers["verdict"] == "inconsistent"]["variable"]) == {"cement_distribution", "fvah_final"}


def test_text_against_tables(checks):
    text = checks[checks["check"].str.startswith("text")]
    wrong = text[text["verdict"] == "inconsistent"]
    assert sorted(zip(wrong["table"], wrong["variable"])) == [("table1", "cement_volume_ml"), ("table3", "rka_loss")]
    assert "group B is higher than group A (5.98 vs 4.80)" in wrong[wrong["variable"] == "cement_volume_ml"]["note"].iloc[0]


def test_claims_without_a_relation_read_as_sentences(checks):
    text = checks[checks["check"].str.startswith("text")]
    for column in ("recomputed", "sentence"):
        assert not text[column].str.contains("  ").any()
        # every "than" follows the relation it compares by
        assert all(re.search(r"\b(lower|higher) than", phrase) for phrase in text[column] if " than " in phrase)
    vas_pre = text[(text["table"] == "table2") & (text["variable"] == "vas_pre")].iloc[0]
    assert vas_pre["recomputed"] == "group A and group B do not differ significantly"
    assert audit.claim_text("A", ["B"], "", "significant") == "group A and group B differ significantly"


# --- pairwise claims ---------------------------------------------------------------------------------------------------

def test_pairwise_claims_that_the_summaries_do_not_support(checks):
    pairs = checks[checks["check"] == "pairwise claim from summary statistics"]
    assert len(pairs) == 12 and set(pairs["kind"]) == {"unsupported claim"}
    unsupported = pairs[pairs["verdict"] == "inconsistent"]
    assert sorted(zip(unsupported["variable"], unsupported["stratum"])) == [
        ("avhlr", "type A vs type B"), ("fvahl", "type A vs type B"), ("lka_loss", "type A vs type C"),
        ("rka_loss", "type A vs type B"), ("rka_loss", "type A vs type C")]
    tukey_p = {(row.variable, row.stratum): float(re.search(r"Tukey–Kramer p = ([\d.]+)", row.recomputed).group(1))
               for row in pairs.itertuples()}
    assert tukey_p[("fvahl", "type A vs type B")] == pytest.approx(0.44, abs=0.01)
    assert tukey_p[("avhlr", "type A vs type B")] == pytest.approx(0.76, abs=0.01)
    assert tukey_p[("lka_loss", "type A vs type C")] == pytest.approx(0.06, abs=0.01)
    # the other pairs of the abstract's claim hold
    supported = pairs[pairs["verdict"] == "consistent"]
    assert {("lka_loss", "type A vs type B"), ("fvahl", "type A vs type C"), ("avhlr", "type A vs type C")} <= set(
        zip(supported["variable"], supported["stratum"]))


@pytest.mark.parametrize("variable", sorted(TABLE3))
def test_tukey_kramer_from_summaries_equals_scipy_on_raw_values(variable):
    printed = TABLE3[variable]
    raw = [sample_with(mean, sd, n, seed) for seed, ((mean, sd), n) in enumerate(zip(printed, TYPE_SIZES))]
    expected = stats.tukey_hsd(*raw).pvalue
    means, sds = zip(*printed)
    for first, second in itertools.combinations(range(3), 2):
        q, df, p = pairwise.tukey_kramer(means, sds, TYPE_SIZES, first, second)
        assert p == pytest.approx(expected[first, second], rel=1e-6) and df == sum(TYPE_SIZES) - 3


#: pingouin 0.7.0's ``pairwise_gameshowell`` on the raw samples of ``sample_with`` (p, Welch df), recorded when the package
#: still depended on it: an independent implementation's values, kept so the test needs no extra dependency.
PINGOUIN_GAMES_HOWELL = {
    "avhlr": {"AB": (0.787524265133, 43.0109548446), "AC": (0.002430658654, 37.3876706323), "BC": (0.049067262186, 40.9560697513)},
    "fvahl": {"AB": (0.400913944085, 59.8200992487), "AC": (0.004711059354, 43.7180981666), "BC": (0.075470347377, 36.7552111817)},
    "lka_loss": {"AB": (0.03114851895, 44.8589816683), "AC": (0.024580191847, 45.308120913), "BC": (0.958203494651, 40.390261138)},
}


@pytest.mark.parametrize("variable", sorted(PINGOUIN_GAMES_HOWELL))
def test_games_howell_from_summaries_equals_pingouin_on_raw_values(variable):
    printed = TABLE3[variable]
    means, sds = zip(*printed)
    for first, second in itertools.combinations(range(3), 2):
        q, df, p = pairwise.games_howell(means, sds, TYPE_SIZES, first, second)
        expected_p, expected_df = PINGOUIN_GAMES_HOWELL[variable]["ABC"[first] + "ABC"[second]]
        assert p == pytest.approx(expected_p, rel=1e-6) and df == pytest.approx(expected_df, rel=1e-8)


# --- findings ------------------------------------------------------------------------------------------------------------

def test_findings_ranked_by_consequence_one_per_defect(found):
    assert list(found.columns) == audit.FINDING_COLUMNS
    assert found["number"].tolist() == list(range(1, len(found) + 1))
    assert found["consequence"].map(audit.CONSEQUENCES.index).is_monotonic_increasing  # the most serious first
    assert found["consequence"].value_counts().to_dict() == {"undermines a conclusion": 4, "misstates a result": 1,
                                                             "misprint, conclusions unchanged": 10}
    # the discussion's RKA-loss claim (type A lower than B and C) is one defect: its two failing pairs join the
    # contradiction's finding instead of being counted again as unsupported claims
    assert found["kind"].value_counts().to_dict() == {"impossible p-value": 8, "missing or wrong marker": 2,
                                                      "text contradicts table": 2, "unsupported claim": 3}
    first = found.iloc[0]
    assert (first["variable"], first["kind"]) == ("rka_loss", "text contradicts table")
    assert "Pair by pair (Tukey–Kramer): type A vs type B p = 0.999; type A vs type C p = 0.976." in first["sentence"]
    assert not ((found["variable"] == "rka_loss") & (found["kind"] == "unsupported claim")).any()
    # every Table 3 p is misprinted without changing its side of 0.05: no finding changes a result's significance
    assert "changes a result's significance" not in set(found["consequence"])


def test_one_pairwise_test_decides_and_is_named(found):
    lka = found.query("variable == 'lka_loss' and kind == 'unsupported claim'")["sentence"].iloc[0]
    assert "Tukey–Kramer" in lka and "p = 0.056, not below 0.05" in lka and "Games–Howell" not in lka


def test_a_numbers_difference_is_explained_by_the_reconstruction_unless_the_audit_finds_it_unattainable(checks, found):
    from vertebroplasty.paper import published

    differing = pd.DataFrame({"table": ["table2", "table3"], "variable": ["fvah_final", "lka_loss"], "statistic": ["p", "p"]})
    explained = published.explain_differences(differing, found)["explanation"].tolist()
    assert "provenance-unmatched" in explained[0] and "audit finding" not in explained[0]  # a missing asterisk explains no value
    assert "audit-finding-table3-lka_loss-p" in explained[1]


def test_the_synthesis_says_what_the_findings_do_to_the_conclusions(found):
    from vertebroplasty.writing import audit_text

    text = audit_text.synthesis(found)
    assert "for RKA loss, LKA loss, FVAHL and AVHLR (findings 1–4)" in text
    assert "a type A distribution is followed by less recompression" in text and "(findings 6–15)" in text
    assert audit_text.synthesis(found[found["consequence"] == "misprint, conclusions unchanged"]).endswith(
        "No finding changes a conclusion of the paper.")


def test_finding_sentences_are_plain_and_carry_their_evidence(found):
    for sentence in found["sentence"]:
        assert not INTERNAL_CODE.search(sentence), sentence
        assert sentence.endswith(".") and "  " not in sentence and "\n" not in sentence
    by_key = found.set_index(["table", "variable", "statistic"])["sentence"]
    vas = by_key[("table3", "vas_pre", "p")]
    assert vas.startswith("Table 3, VAS (pre-op):") and "0.22" in vas and "0.203" in vas
    # LKA loss: the range stated must hold the p of raw values with exactly the printed summaries, and exclude 0.004
    raw = [sample_with(mean, sd, n, seed) for seed, ((mean, sd), n) in enumerate(zip(TABLE3["lka_loss"], TYPE_SIZES))]
    lka = by_key[("table3", "lka_loss", "p")]
    low, high = map(float, re.search(r"between ([\d.]+) and ([\d.]+) for every set of unrounded values", lka).groups())
    assert "printed p = 0.004" in lka and 0.0045 < low < stats.f_oneway(*raw).pvalue < high < 0.01
    marker = "Table 1, cement distribution: p = 0.034 is below 0.05 but carries no asterisk."
    assert by_key[("table1", "cement_distribution", "p")] == marker
    fvahl = found.query("variable == 'fvahl' and kind == 'unsupported claim'")["sentence"].iloc[0]
    assert "type A" in fvahl and "type B" in fvahl and "p = 0.439" in fvahl  # p printed to 3 decimals, as everywhere


def test_anchors_unique_and_well_formed(found, checks):
    assert found["anchor"].is_unique
    assert all(re.fullmatch(r"[a-z0-9_-]+", anchor) for anchor in found["anchor"])
    by_key = found.set_index(["table", "variable", "statistic"])["anchor"]
    assert by_key[("table3", "lka_loss", "p")] == "audit-finding-table3-lka_loss-p"
    assert audit.explanation_for("table3", "lka_loss", "p", checks) == "audit-finding-table3-lka_loss-p"
    assert audit.explanation_for("table2", "fvah_final", "p", checks) == "audit-finding-table2-fvah_final-marker"
    assert audit.explanation_for("table2", "lka_loss", "p", checks) is None


def test_duplicate_anchors_are_numbered():
    row = dict(check="x", kind="identity", table="table2", table_label="Table 2", variable="lka_loss", label="LKA loss",
               stratum="group A", statistic="mean", published="", recomputed="", verdict="inconsistent",
               consequence="misprint, conclusions unchanged", note="", sentence="S.")
    anchors = audit.findings(pd.DataFrame([row, row]))["anchor"].tolist()
    assert anchors == ["audit-finding-table2-lka_loss-mean-group-a", "audit-finding-table2-lka_loss-mean-group-a-2"]
