"""Multicentre analysis (vertebroplasty.statistics.centres) and the synthetic multicentre example.

Every pooled number is checked against an independent computation written out here (the DerSimonian–Laird
formulas, the Mantel–Haenszel ratio, least squares on the design matrix, the one-way ANOVA ICC) and, where a
published worked example exists, against its published values.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from vertebroplasty import paths  # noqa: E402
from vertebroplasty.contract import validation
from vertebroplasty.contract.cohort import Cohort  # noqa: E402
from vertebroplasty.paper.synthetic import multicentre  # noqa: E402
from vertebroplasty.statistics import centres
from vertebroplasty.writing import centres_text

TOLERANCE = 1e-9


def hand_dersimonian_laird(y, v, confidence=0.95) -> dict:
    """DerSimonian & Laird (1986), written out: fixed effect, Q, τ² (truncated at 0), I², random effects."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    k = len(y)
    z = stats.norm.isf((1 - confidence) / 2)
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    tau2 = max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    w_star = 1 / (v + tau2)
    random = np.sum(w_star * y) / np.sum(w_star)
    se_fixed, se_random = 1 / np.sqrt(np.sum(w)), 1 / np.sqrt(np.sum(w_star))
    result = {}
    for name, estimate, se in (("fixed", fixed, se_fixed), ("random", random, se_random)):
        result.update({name: estimate, f"{name}_se": se, f"{name}_p": 2 * stats.norm.sf(abs(estimate / se)),
                       f"{name}_ci_low": estimate - z * se, f"{name}_ci_high": estimate + z * se})
    i2 = 100 * max(0.0, (q - (k - 1)) / q)
    return {**result, "q": q, "q_df": k - 1, "q_p": stats.chi2.sf(q, k - 1), "tau2": tau2, "i2": i2, "k": k}


def patients_from_counts(counts: list[tuple[str, int, int, int, int]], column: str = "cement_leakage") -> pd.DataFrame:
    """A patient-level table from per-centre counts ``(centre, yes_A, n_A, yes_B, n_B)`` of a yes/no outcome."""
    parts = []
    for centre, yes_a, n_a, yes_b, n_b in counts:
        for group, yes, n in (("A", yes_a, n_a), ("B", yes_b, n_b)):
            parts.append(pd.DataFrame({"centre": centre, "group": group, column: [True] * yes + [False] * (n - yes)}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    """The committed synthetic multicentre example, validated and derived as the report reads it."""
    return Cohort.from_validated(validation.load_cohort(paths.MULTICENTRE_EXAMPLE)).data


@pytest.fixture(scope="module")
def example_table(example) -> pd.DataFrame:
    return centres.centres_table(example)


# --------------------------------------------------------------------------- DerSimonian–Laird

@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_pool_equals_hand_dersimonian_laird(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    y, v = rng.normal(0, 1, k), rng.uniform(0.05, 0.5, k)
    pooled, hand = centres.pool(y, v), hand_dersimonian_laird(y, v)
    for key, value in hand.items():
        assert pooled[key] == pytest.approx(value, abs=TOLERANCE, rel=TOLERANCE), key
    assert np.nansum(pooled["weights_random"]) == pytest.approx(1.0)


def test_pool_truncates_negative_tau2_and_i2():
    """Q < k − 1: statsmodels' DL τ² comes out negative; DerSimonian–Laird truncate it at 0 (random = fixed)."""
    y, v = [0.10, 0.11, 0.12], [0.01, 0.02, 0.04]
    pooled, hand = centres.pool(y, v), hand_dersimonian_laird(y, v)
    assert hand["q"] < 2 and pooled["tau2"] == 0.0 and pooled["i2"] == 0.0
    assert pooled["random"] == pytest.approx(hand["random"], abs=TOLERANCE)
    assert pooled["random_se"] == pytest.approx(pooled["fixed_se"], abs=TOLERANCE)


def test_pool_reproduces_published_fleiss_1993_mean_difference():
    """Fleiss (1993) mental-health treatment data (R package meta, data set Fleiss1993cont / Fleiss93cont).

    ``metacont(n.e, mean.e, sd.e, n.c, mean.c, sd.c, data = Fleiss93cont, sm = "MD")`` prints: random effects MD
    −0.7373 [−1.4577; −0.0170]; τ² = 0.1894; I² = 29.3 %; Q = 5.66 on 4 df, p = 0.2260 (output reproduced in the
    meta package's issue tracker, guido-s/meta#22).  The variance of each MD is sd.e²/n.e + sd.c²/n.c, as in
    :func:`vertebroplasty.statistics.centres.per_centre_differences`.
    """
    n_e, n_c = np.array([13, 30, 35, 20, 8]), np.array([13, 50, 35, 20, 8])
    mean_e, mean_c = np.array([5.0, 4.9, 22.5, 12.5, 6.5]), np.array([6.5, 6.1, 24.9, 12.3, 7.38])
    sd_e, sd_c = np.array([4.7, 1.71, 3.44, 1.47, 0.76]), np.array([3.8, 2.3, 10.65, 1.66, 1.41])
    pooled = centres.pool(mean_e - mean_c, sd_e**2 / n_e + sd_c**2 / n_c)
    assert round(pooled["random"], 4) == -0.7373
    assert (round(pooled["random_ci_low"], 4), round(pooled["random_ci_high"], 4)) == (-1.4577, -0.0170)
    assert round(pooled["tau2"], 4) == 0.1894
    assert round(pooled["i2"], 1) == 29.3
    assert (round(pooled["q"], 2), pooled["q_df"], round(pooled["q_p"], 4)) == (5.66, 4, 0.2260)


def test_pool_needs_two_estimates():
    with pytest.raises(ValueError, match="at least two"):
        centres.pool([0.3, 0.5], [0.1, np.nan])


def test_table_pooled_rows_equal_hand_computation_on_example(example, example_table):
    per_centre = centres.per_centre_differences(example, ["fvahl"])
    hand = hand_dersimonian_laird(per_centre["mean_difference"], per_centre["se"] ** 2)
    random, fixed = centres.summary_row(example_table, "fvahl"), centres.summary_row(example_table, "fvahl", centres.POOLED_FIXED)
    assert random["mean_difference"] == pytest.approx(hand["random"], abs=TOLERANCE)
    assert fixed["mean_difference"] == pytest.approx(hand["fixed"], abs=TOLERANCE)
    for key in ("tau2", "i2", "q_p"):
        assert random[key] == pytest.approx(hand[key], abs=TOLERANCE), key


# --------------------------------------------------------------------------- per centre

def test_per_centre_differences_formula_and_reason():
    frame = pd.DataFrame({"centre": ["x"] * 5 + ["y"] * 3, "group": list("AAABB") + list("AAB"),
                          "fvahl": [1.0, 2.0, 4.0, 0.0, 3.0, 1.0, 2.0, 5.0]})
    table = centres.per_centre_differences(frame, ["fvahl"], confidence=0.9).set_index("centre")
    a, b = np.array([1.0, 2.0, 4.0]), np.array([0.0, 3.0])
    se = np.sqrt(a.var(ddof=1) / 3 + b.var(ddof=1) / 2)
    x = table.loc["x"]
    assert x["mean_difference"] == pytest.approx(a.mean() - b.mean(), abs=TOLERANCE)
    assert x["se"] == pytest.approx(se, abs=TOLERANCE)
    assert x["ci_high"] == pytest.approx(a.mean() - b.mean() + stats.norm.ppf(0.95) * se, abs=TOLERANCE)
    assert x["reason"] == ""
    y = table.loc["y"]
    assert np.isnan(y["mean_difference"]) and np.isnan(y["se"]) and "group B" in y["reason"]


def test_per_centre_type_a_share_with_zero_cell_correction():
    frame = pd.DataFrame({"centre": ["x"] * 8 + ["y"] * 6, "group": list("AAAABBBB") + list("AAABBB"),
                          "cement_distribution": list("AAABABCC") + list("AAACCB")})
    table = centres.per_centre_type_a_share(frame).set_index("centre")
    x, y = table.loc["x"], table.loc["y"]
    assert (x["count_A"], x["n_A"], x["count_B"], x["n_B"]) == (3, 4, 1, 4)
    assert x["risk_difference"] == pytest.approx(0.5)
    assert x["se"] == pytest.approx(np.sqrt(0.75 * 0.25 / 4 * 2))
    assert x["log_odds_ratio"] == pytest.approx(np.log(9.0))
    # y: 3/3 type A in group A, 0/3 in group B: every cell + 0.5
    assert y["log_odds_ratio"] == pytest.approx(np.log(3.5 * 3.5 / (0.5 * 0.5)))
    assert y["log_odds_ratio_se"] == pytest.approx(np.sqrt(2 / 3.5 + 2 / 0.5))
    assert y["risk_difference"] == 1.0 and np.isnan(y["se"]) and "SE is zero" in y["reason"]


# --------------------------------------------------------------------------- Mantel–Haenszel

def hand_mantel_haenszel(tables: np.ndarray) -> float:
    a, b, c, d = tables[0, 0], tables[0, 1], tables[1, 0], tables[1, 1]
    n = a + b + c + d
    return float(np.sum(a * d / n) / np.sum(b * c / n))


@pytest.mark.parametrize("variable", ["type_a_share", "cement_leakage"])
def test_mantel_haenszel_equals_hand_formula(example, variable):
    _, tables = centres.stratified_counts(example, variable)
    result = centres.mantel_haenszel(example, variable)
    assert result["k"] == 4
    assert result["odds_ratio"] == pytest.approx(hand_mantel_haenszel(tables), abs=TOLERANCE)
    assert result["ci_low"] < result["odds_ratio"] < result["ci_high"]


def test_mantel_haenszel_reproduces_published_aspirin_trials():
    """Fleiss (1993) aspirin after myocardial infarction (R package meta, Fleiss93 / Fleiss1993bin).

    ``metabin(event.e, n.e, event.c, n.c, data = Fleiss93, sm = "OR")`` (Mantel–Haenszel) prints the fixed-effect
    OR 0.8969 [0.8405; 0.9570], p = 0.001.
    """
    counts = [("MRC-1", 49, 615, 67, 624), ("CDP", 44, 758, 64, 771), ("MRC-2", 102, 832, 126, 850), ("GASP", 32, 317, 38, 309),
              ("PARIS", 85, 810, 52, 406), ("AMIS", 246, 2267, 219, 2257), ("ISIS-2", 1570, 8587, 1720, 8600)]
    result = centres.mantel_haenszel(patients_from_counts(counts), "cement_leakage")
    assert round(result["odds_ratio"], 4) == 0.8969
    assert (round(result["ci_low"], 4), round(result["ci_high"], 4)) == (0.8405, 0.9570)
    assert round(result["p"], 3) == 0.001


# --------------------------------------------------------------------------- OLS and ICC

def test_ols_equals_numpy_least_squares(example):
    frame = centres.outcome_frame(example, "lka_loss")
    names = sorted(frame["centre"].unique())
    is_a = (frame["group"] == "A").to_numpy(float)
    dummies = np.column_stack([(frame["centre"] == name).to_numpy(float) for name in names[1:]])
    result = centres.ols_comparison(example, "lka_loss").set_index("model")
    for model, design in ((centres.CRUDE_OLS, np.column_stack([np.ones(len(frame)), is_a])),
                          (centres.ADJUSTED_OLS, np.column_stack([np.ones(len(frame)), is_a, dummies]))):
        y = frame["y"].to_numpy()
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        residual = y - design @ beta
        df = len(y) - design.shape[1]
        se = np.sqrt(residual @ residual / df * np.linalg.inv(design.T @ design)[1, 1])
        row = result.loc[model]
        assert row["estimate"] == pytest.approx(beta[1], abs=TOLERANCE)
        assert row["se"] == pytest.approx(se, abs=TOLERANCE)
        assert row["p"] == pytest.approx(2 * stats.t.sf(abs(beta[1] / se), df), abs=TOLERANCE)
        assert row["df_resid"] == df


def test_intraclass_correlation_balanced_hand_example():
    # three centres of three patients: centre means 2, 5, 8; grand mean 5
    frame = pd.DataFrame({"centre": list("xxxyyyzzz"), "group": list("ABAABABAB"),
                          "fvahl": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 8.0, 10.0]})
    msb = 3 * ((2 - 5) ** 2 + 0 + (8 - 5) ** 2) / 2  # 27
    msw = (2 + 2 + 8) / 6  # 2
    result = centres.clustering(frame, "fvahl")
    assert (result["msb"], result["msw"], result["m0"]) == pytest.approx((msb, msw, 3.0))
    assert result["icc"] == pytest.approx((msb - msw) / (msb + 2 * msw), abs=TOLERANCE)  # 25 / 31
    assert "design_effect" not in result  # groups are compared within centres: no Kish inflation (see clustering)
    assert centres.intraclass_correlation(frame, "fvahl") == result["icc"]


def test_intraclass_correlation_is_clipped_at_zero():
    frame = pd.DataFrame({"centre": list("xxyy"), "group": list("ABAB"), "fvahl": [1.0, 5.0, 1.0, 5.0]})
    result = centres.clustering(frame, "fvahl")
    assert result["msb"] == 0 and result["icc"] == 0.0


# --------------------------------------------------------------------------- Hartung–Knapp, prediction interval, mixed model

# Independent values: Raudenbush (2009, Table 16.3) as printed in metafor's tests (DL and Knapp–Hartung), the BCG
# trials (Colditz 1994; DL as printed by Stata metan) with HKSJ and the k−2 prediction interval computed by a separate
# script from the formulas (numpy only), and a k = 3 example computed the same way.
RAUDENBUSH_Y = [0.03, 0.12, -0.14, 1.18, 0.26, -0.06, -0.02, -0.32, 0.27, 0.80, 0.54, 0.18, -0.02, 0.23, -0.18, -0.06, 0.30,
                0.07, -0.07]
RAUDENBUSH_V = [0.0156, 0.0216, 0.0279, 0.1391, 0.1362, 0.0106, 0.0106, 0.0484, 0.0269, 0.0630, 0.0912, 0.0497, 0.0835,
                0.0841, 0.0253, 0.0279, 0.0193, 0.0088, 0.0303]
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
       (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232), (17, 1699, 65, 1600),
       (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


def test_hartung_knapp_equals_the_printed_raudenbush_example():
    pooled = centres.pool(RAUDENBUSH_Y, RAUDENBUSH_V)
    assert pooled["tau2"] == pytest.approx(0.0259, abs=5e-5) and pooled["random"] == pytest.approx(0.0893, abs=5e-5)
    assert pooled["hk_se"] == pytest.approx(0.0636, abs=5e-5)
    assert (pooled["hk_ci_low"], pooled["hk_ci_high"]) == pytest.approx((-0.0442, 0.2229), abs=5e-5)
    assert pooled["random"] / pooled["hk_se"] == pytest.approx(1.405, abs=5e-4)  # the printed t


@pytest.mark.parametrize("y, v, expected", [
    ([np.log(a / (a + b) / (c / (c + d))) for a, b, c, d in BCG], [1 / a - 1 / (a + b) + 1 / c - 1 / (c + d) for a, b, c, d in BCG],
     {"random": -0.7141172220732271, "tau2": 0.3087602628623764, "hk_ci_low": -1.1078213541683288,
      "hk_ci_high": -0.32041308997812545, "pi_low": -1.998838495752119, "pi_high": 0.5706040516056646, "i2": 92.11734685456207}),
    ([0.5, 1.2, -0.1], [0.04, 0.09, 0.0625],
     {"random": 0.5159357119233455, "tau2": 0.27837662337662333, "hk_ci_low": -1.068604926267486,
      "hk_ci_high": 2.100476350114177, "pi_low": -7.440960573137565, "pi_high": 8.472831996984256}),
    # centres that agree more than their SEs predict (q = 0.0405 < 1): as defined, the interval is narrower than the
    # normal one; the modified interval keeps the factor at 1
    ([0.2, 0.3, 0.25], [0.04, 0.09, 0.0625],
     {"random": 0.2366737739872068, "tau2": 0.0, "hk_scale": 0.04051172707889124, "hk_ci_low": 0.11670685434033694,
      "hk_ci_high": 0.35664069363407663, "hk_modified_ci_low": -0.359360355584995, "hk_modified_ci_high": 0.8327079035594086,
      "pi_low": -1.523480288116954, "pi_high": 1.9968278360913678}),
])
def test_hartung_knapp_and_prediction_interval_equal_an_independent_computation(y, v, expected):
    pooled = centres.pool(y, v)
    for key, value in expected.items():
        assert pooled[key] == pytest.approx(value, abs=1e-9), key


def test_prediction_interval_needs_three_centres():
    pooled = centres.pool([0.1, 0.4], [0.01, 0.02])
    assert np.isnan(pooled["pi_low"]) and np.isnan(pooled["pi_high"]) and np.isfinite(pooled["hk_ci_low"])


def test_mixed_model_from_cells_equals_the_fit_on_patient_rows(example):
    """The random-intercept model fitted from the cells (pseudo-rows) is the model fitted on the patients themselves."""
    import statsmodels.formula.api as smf

    frame = centres.outcome_frame(example, "fvahl")
    fit = smf.mixedlm("y ~ C(group, Treatment('B'))", frame, groups=frame["centre"]).fit(reml=True)
    from_cells = centres.mixed_model(centres.cells(example, ["fvahl"]), "fvahl")
    name = "C(group, Treatment('B'))[T.A]"
    assert from_cells["estimate"] == pytest.approx(fit.fe_params[name], abs=1e-6)
    assert from_cells["se"] == pytest.approx(fit.bse_fe[name], abs=1e-6)
    assert from_cells["centre_variance"] == pytest.approx(fit.cov_re.iloc[0, 0], rel=1e-4)
    assert from_cells["residual_variance"] == pytest.approx(fit.scale, rel=1e-6)


def test_pseudo_rows_keep_every_cell_s_size_mean_and_sd(example):
    found = centres.cells(example, ["lka_loss"])
    rows = centres.pseudo_rows(found)
    again = rows.groupby(["centre", "group"])["y"].agg(rows_n="count", rows_mean="mean", rows_sd="std").reset_index()
    merged = found[found["n"] > 0].merge(again, on=["centre", "group"])
    assert len(merged) == (found["n"] > 0).sum() and (merged["n"] == merged["rows_n"]).all()
    assert np.allclose(merged["mean"], merged["rows_mean"], atol=1e-12)
    assert np.allclose(merged["sd"].fillna(0), merged["rows_sd"].fillna(0), atol=1e-12)


def test_the_table_from_cells_is_the_table_from_patient_rows(example):
    """Every number of the multicentre table follows from the cells: computing it from them changes nothing."""
    from_rows = centres.centres_table(example)
    from_cells = centres.centres_table(centres.cells(example, centres.TABLE_VARIABLES))
    pd.testing.assert_frame_equal(from_rows, from_cells)


# --------------------------------------------------------------------------- the table

def test_centres_table_columns_and_rows(example_table):
    assert list(example_table.columns) == ["variable", "centre", "statistic", "value"]
    assert set(example_table["variable"]) == set(centres.TABLE_VARIABLES)
    names = {f"centre-{effect.name}" for effect in multicentre.EXAMPLE_CENTRES}
    summaries = {centres.POOLED_FIXED, centres.POOLED_RANDOM, centres.CRUDE_OLS, centres.ADJUSTED_OLS}
    for variable in centres.TABLE_VARIABLES:
        rows = example_table[example_table["variable"] == variable]
        binary = variable in centres.BINARY_OUTCOMES
        expected = names | summaries | ({centres.MANTEL_HAENSZEL} if binary else {centres.MIXED_MODEL})
        assert set(rows["centre"]) == expected
        estimate = centres.estimate_name(variable)
        for centre in names:
            assert {"n_A", "n_B", estimate, "se", "ci_low", "ci_high"} <= set(centres.summary_row(rows, variable, centre))
        assert {estimate, "se", "ci_low", "ci_high", "p", "tau2", "i2", "q_p", "hk_ci_low", "hk_ci_high", "pi_low",
                "pi_high"} <= set(centres.summary_row(rows, variable))
        assert not {"hk_ci_low", "pi_low"} & set(centres.summary_row(rows, variable, centres.POOLED_FIXED))
        random = centres.summary_row(rows, variable)
        modified = random["hk_modified_ci_high"] - random["hk_modified_ci_low"]
        assert modified >= random["ci_high"] - random["ci_low"]  # the modified interval is never narrower than DL
    mh = centres.summary_row(example_table, "type_a_share", centres.MANTEL_HAENSZEL)
    assert {"odds_ratio", "ci_low", "ci_high", "p"} <= set(mh)
    assert "icc" in centres.summary_row(example_table, "fvahl", centres.ADJUSTED_OLS)


def test_single_centre_cohort_has_no_pooled_rows():
    data = Cohort.from_validated(validation.load_cohort(paths.DEFAULT_COHORT)).data
    table = centres.centres_table(data)
    assert list(table.columns) == centres.TABLE_COLUMNS
    assert set(table["centre"]) == {centres.SINGLE_CENTRE}
    assert not table["centre"].isin(centres.SUMMARY_ROWS).any()


def test_heterogeneity_sentence_follows_higgins_bands_and_names_centres_pointing_the_other_way():
    words = {10: "little variation", 30: "moderately", 60: "substantially", 80: "considerably"}
    for i2, word in words.items():
        sentence = centres_text.heterogeneity_sentence({"k": 4, "i2": i2, "q_p": 0.4}, "FVAHL")
        assert sentence.startswith("FVAHL: the difference") and word in sentence and f"I² = {i2} %" in sentence
    opposite = centres_text.heterogeneity_sentence({"k": 5, "i2": 80.0, "q_p": 0.001, "pi_low": -1.0, "pi_high": 2.0}, "FVAHL",
                                                   [("north", True), ("west", False)])
    assert "north differs in the opposite direction (the interval excludes zero)" in opposite
    assert "the estimate of west lies on the other side of zero, though its interval includes zero" in opposite
    assert "between -1.00 and 2.00 (95 % prediction interval)" in opposite


def test_heterogeneity_is_worded_once_per_outcome(example_table):
    text = centres_text.heterogeneity_sentences(example_table)
    lines = text.splitlines()
    assert len(lines) == len(centres.HEADLINE_OUTCOMES) and len(set(lines)) == len(lines)
    assert "Q test" not in text and "little power" not in text  # said once in the chapter, not per outcome
    for variable in centres.HEADLINE_OUTCOMES:  # the centres named are exactly those whose estimate has the other sign
        pooled = centres.summary_row(example_table, variable)[centres.estimate_name(variable)]
        others = [c for c in example_table["centre"].unique() if c not in centres.SUMMARY_ROWS
                  and np.sign(centres.summary_row(example_table, variable, c)[centres.estimate_name(variable)]) == -np.sign(pooled)]
        found = centres_text.opposite_centres(example_table, variable)
        assert [name for name, _ in found] == others
        for name, excludes in found:  # "differs in the opposite direction" only when that centre's own interval excludes zero
            row = centres.summary_row(example_table, variable, name)
            assert excludes == (row["ci_low"] > 0 or row["ci_high"] < 0)


def test_multicentre_summary_words_each_contrast_by_its_own_interval():
    def rows(adjusted: tuple, random: tuple) -> pd.DataFrame:
        values = [("adjusted_ols", "mean_difference", adjusted[0]), ("adjusted_ols", "ci_low", adjusted[1]),
                  ("adjusted_ols", "ci_high", adjusted[2]), ("pooled_random", "mean_difference", random[0]),
                  ("pooled_random", "hk_modified_ci_low", random[1]), ("pooled_random", "hk_modified_ci_high", random[2]), ("pooled_random", "k", 4)]
        return pd.DataFrame([{"variable": "fvahl", "centre": c, "statistic": s, "value": v} for c, s, v in values])

    holds = centres_text.multicentre_summary(rows((-2, -3, -1), (-2, -3.5, -0.5)), ["fvahl"])
    assert "adjusted for centre -2.00 (-3.00 to -1.00), lower in group A" in holds and "shown within the centres and across them" in holds
    within = centres_text.multicentre_summary(rows((-2, -3, -1), (-2, -4.5, 0.5)), ["fvahl"])
    assert "-2.00 (-4.50 to 0.50), interval includes zero (Hartung–Knapp)" in within  # each contrast by its own interval
    assert "not shown to carry over to other centres" in within
    none = centres_text.multicentre_summary(rows((-1, -3, 1), (-1, -4, 2)), ["fvahl"])
    assert "no difference shown once centres are taken into account" in none and "lower in" not in none
    conclusion = centres_text.multicentre_conclusion(rows((-2, -3, -1), (-2, -4.5, 0.5)), ["fvahl"])
    assert conclusion.startswith("Taking the 4 centres into account") and "FVAHL (mm): shown within these centres, but not" in conclusion


def _png(figure) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def test_forest_plot_is_one_deterministic_figure_with_sizes_weights_and_favours(example_table):
    first, second = centres_text.forest_plot(example_table), centres_text.forest_plot(example_table)
    assert _png(first) == _png(second)
    assert len(first.axes) == len(centres.HEADLINE_OUTCOMES)  # one figure, a panel per outcome
    top = first.axes[0]
    labels = [label.get_text() for label in top.get_yticklabels()]
    assert "centre-north" in labels and len(labels) == 6
    texts = [text.get_text() for text in top.texts]
    rows = forest = centres_text.forest_data(example_table[example_table["variable"] == centres.HEADLINE_OUTCOMES[0]])
    centre_rows = rows[rows["kind"] == "centre"]
    assert {"n A / B", "weight"} <= set(texts)
    for row in centre_rows.itertuples():  # n per group and the random-effects weight beside each centre
        assert f"{int(row.n_A)} / {int(row.n_B)}" in texts and f"{100 * row.weight:.0f} %" in texts
    assert forest["weight"].sum() == pytest.approx(1.0)
    assert "favours group A" in top.get_xlabel() and "favours group B" in top.get_xlabel()
    assert first.axes[-1].get_xlabel().startswith("← favours group B")  # type A share: higher is better


def test_forest_plot_with_500_centres_draws_the_40_largest_and_keeps_its_size():
    rng = np.random.default_rng(7)
    sizes = rng.integers(4, 30, 500)
    frame = pd.DataFrame({"centre": np.repeat([f"c{i:03d}" for i in range(500)], sizes),
                          "group": np.concatenate([np.resize(list("AB"), size) for size in sizes]),
                          "fvahl": rng.normal(1.0, 1.0, sizes.sum())})
    table = centres.centres_table(frame, ["fvahl"])
    figure = centres_text.forest_plot(table, ["fvahl"])
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    largest = sorted(pd.Series(sizes, index=[f"c{i:03d}" for i in range(500)]).sort_values(ascending=False, kind="stable").index[:40])
    assert labels[:-2] == largest and labels[-2:] == [centres_text.POOLED_NAMES[centres.POOLED_FIXED],
                                                      centres_text.POOLED_NAMES[centres.POOLED_RANDOM]]
    left_out = sizes.sum() - pd.Series(sizes, index=[f"c{i:03d}" for i in range(500)])[largest].sum()
    assert f"460 smaller ({left_out} patients)" in figure.axes[0].get_title(loc="left")
    assert figure.get_size_inches()[1] < 20  # the same size as a 40-centre figure, not 500 rows tall
    assert centres.summary_row(table, "fvahl")["k"] == 500  # every centre is still pooled


# --------------------------------------------------------------------------- the synthetic example

def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_example_folder_is_valid_and_says_synthetic(example):
    sizes = example.groupby(["centre", "group"]).size().unstack()
    assert list(sizes.index) == sorted(f"centre-{effect.name}" for effect in multicentre.EXAMPLE_CENTRES)
    assert sizes.sum(axis=1).between(40, 70).all() and (sizes >= 2).all().all()
    assert example.loc[example["group"] == "B", "aspirated_blood_ml"].isna().all()
    assert "SYNTHETIC" in (paths.MULTICENTRE_EXAMPLE / "README.md").read_text(encoding="utf-8")
    for file in paths.MULTICENTRE_EXAMPLE.glob("*.csv"):
        text = pd.read_csv(file, dtype=str, keep_default_na=False)
        assert text["patient_id"].is_unique
        assert text["vas_op"].str.fullmatch(r"\d+").all() and text["fvah_final_mm"].str.fullmatch(r"\d+\.\d\d").all()


def test_example_is_byte_deterministic_and_up_to_date(tmp_path):
    multicentre.write_multicentre_example(tmp_path / "one")
    multicentre.write_multicentre_example(tmp_path / "two")
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two")
    assert _digests(tmp_path / "one") == _digests(paths.MULTICENTRE_EXAMPLE), "regenerate data/examples/multicentre"


def test_large_multicentre_writer_gives_valid_centres(tmp_path):
    files = multicentre.write_large_multicentre(tmp_path, centres=3, patients_per_centre=12, seed=5)
    assert [file.name for file in files] == ["centre-1.csv", "centre-2.csv", "centre-3.csv"]
    data = validation.load_cohort(tmp_path).data
    assert data.groupby("centre").size().eq(12).all()
    assert data.groupby(["centre", "group"]).size().ge(2).all()


def test_a_centre_name_is_text_in_the_table_header_never_markup(example):
    hostile = "<img src=x onerror=alert(1)> `code`"
    data = example.copy()
    first = data["centre"].astype(str).iloc[0]
    data["centre"] = data["centre"].astype(str).replace(first, hostile)
    header = centres_text.characteristics_table(data, ["age"]).split("\n* - ", 2)[1].split("\n* - ")[0]
    assert "<img" not in header and "&lt;img src=x onerror=alert\\(1\\)&gt; \\`code\\`" in header
