"""Adjusted estimates (:mod:`vertebroplasty.statistics.adjusted`) against values computed another way.

The unadjusted difference against scipy's Student t-test, the ANCOVA and confounder models against the statsmodels
formula API, the unadjusted odds ratio against ad/(bc) with Woolf's interval, the pooled multiple-imputation estimate
against the imputed data sets fitted with the formula API and pooled by hand (Rubin's rules, Barnard–Rubin df), the
best/worst cases against values filled in by hand.  Cohorts are built here with a seeded numpy generator.
"""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.cohort import Cohort
from vertebroplasty.statistics import adjusted

GROUP_TERM = "C(group, Treatment('B'))[T.A]"
TOLERANCE = 1e-6
NUMBERS = ["estimate", "ci_low", "ci_high", "p"]


def cohort(size_a: int = 40, size_b: int = 40, seed: int = 1, effect: float = 1.5, missing: float = 0.0,
           missing_age: float = 0.0) -> pd.DataFrame:
    """A cohort with the variable-named columns the models use; ``missing`` of the final follow-up (and leakage) lost."""
    rng = np.random.default_rng(seed)
    n = size_a + size_b
    in_a = np.arange(n) < size_a
    age = rng.integers(55, 90, n).astype(float)
    lka_pre = rng.normal(20, 6, n)
    lka_post = lka_pre - 8 + rng.normal(0, 2, n)
    lka_final = lka_post + 3 - effect * in_a + 0.05 * (age - 70) + 0.15 * (lka_pre - 20) + rng.normal(0, 2, n)
    odi_pre = rng.normal(50, 10, n)
    leakage = rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.8 * in_a + 0.03 * (age - 70))))
    frame = pd.DataFrame({
        "group": np.where(in_a, "A", "B").astype(object), "age": age, "sex": rng.choice(["M", "F"], n).astype(object),
        "lka_pre": lka_pre, "lka_post": lka_post, "lka_final": lka_final, "lka_loss": lka_final - lka_post,
        "odi_pre": odi_pre, "odi_final": odi_pre - 25 - 2 * in_a + rng.normal(0, 6, n),
        "cement_leakage": pd.array(leakage, dtype="boolean"),
        "cement_distribution": np.where(rng.random(n) < 0.4 + 0.2 * in_a, "A", rng.choice(["B", "C"], n)).astype(object)})
    lost = rng.random(n) < missing
    frame.loc[lost, ["lka_final", "lka_loss", "odi_final"]] = np.nan
    frame.loc[lost, "cement_leakage"] = pd.NA
    frame.loc[rng.random(n) < missing_age, "age"] = np.nan
    return frame


def row(frame: pd.DataFrame, variable: str, model: str) -> pd.Series:
    chosen = frame[(frame["variable"] == variable) & (frame["model"] == model)]
    assert len(chosen) == 1, (variable, model, frame[["variable", "model"]])
    return chosen.iloc[0]


def assert_close(actual: pd.Series, expected: dict, relative: bool = False) -> None:
    for key, value in expected.items():
        if relative:
            assert actual[key] == pytest.approx(value, rel=TOLERANCE), key
        else:
            assert actual[key] == pytest.approx(value, abs=TOLERANCE), key


def formula_values(result, term: str, confidence: float, odds: bool = False) -> dict:
    low, high = result.conf_int(alpha=1 - confidence).loc[term]
    transform = math.exp if odds else float
    return {"estimate": transform(result.params[term]), "ci_low": transform(low), "ci_high": transform(high), "p": float(result.pvalues[term])}


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return Cohort.load("").data


# --------------------------------------------------------------------------- the pre-operative variable of a measurement


def test_baseline_variable_of_every_outcome():
    expected = {"lka_post": "lka_pre", "lka_final": "lka_pre", "lka_recovery": "lka_pre", "lka_loss": "lka_pre",
                "fvah_post": "fvah_pre", "fvah_final": "fvah_pre", "fvahr": "fvah_pre", "fvahl": "fvah_pre",
                "avhr_post": "avhr_pre", "avhr_final": "avhr_pre", "avhrr": "avhr_pre", "avhlr": "avhr_pre",
                "vas_op": "vas_pre", "vas_post": "vas_pre", "vas_final": "vas_pre", "odi_post": "odi_pre", "odi_final": "odi_pre",
                "rka_post": "rka_pre", "rka_final": "rka_pre", "rka_recovery": "rka_pre", "rka_loss": "rka_pre",
                "upper_vah_post": "upper_vah_pre", "upper_vah_final": "upper_vah_pre",
                "lower_vah_post": "lower_vah_pre", "lower_vah_final": "lower_vah_pre"}
    for variable, baseline in expected.items():
        assert dictionary.baseline_variable(variable) == baseline, variable
    for variable in ("age", "sex", "bmi", "cement_leakage", "cement_distribution", "hospital_days", "lka_pre", "avhr_pre",
                     "segment", "type_a_share", "no_such_variable"):
        assert dictionary.baseline_variable(variable) is None, variable


# --------------------------------------------------------------------------- complete-case models


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_unadjusted_difference_is_students_t(confidence):
    data = cohort(35, 42, seed=3, missing=0.1)
    frame = adjusted.adjusted_estimates(data, ["lka_loss", "odi_final", "lka_post"], confidence=confidence)
    for variable in ("lka_loss", "odi_final", "lka_post"):
        a = data.loc[(data["group"] == "A") & data[variable].notna(), variable].to_numpy(float)
        b = data.loc[(data["group"] == "B") & data[variable].notna(), variable].to_numpy(float)
        test = stats.ttest_ind(a, b, equal_var=True)
        interval = test.confidence_interval(confidence)
        result = row(frame, variable, "unadjusted")
        assert_close(result, {"estimate": a.mean() - b.mean(), "ci_low": interval.low, "ci_high": interval.high, "p": test.pvalue})
        assert result["n"] == len(a) + len(b) and result["scale"] == "difference" and result["covariates"] == "" and result["note"] == ""


def test_unadjusted_difference_on_the_study_is_students_t(study):
    variables = ["fvahl", "avhlr", "lka_loss", "vas_op", "odi_final"]
    frame = adjusted.adjusted_estimates(study, variables)
    for variable in variables:
        a, b = (study.loc[study["group"] == level, variable].to_numpy(float) for level in "AB")
        test = stats.ttest_ind(a, b)
        interval = test.confidence_interval(0.95)
        assert_close(row(frame, variable, "unadjusted"), {"estimate": a.mean() - b.mean(), "ci_low": interval.low,
                                                          "ci_high": interval.high, "p": test.pvalue})


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_ancova_and_confounder_models_equal_the_formula_api(confidence):
    data = cohort(45, 38, seed=4, missing=0.15, missing_age=0.05)
    frame = adjusted.adjusted_estimates(data, ["lka_loss"], confidence=confidence)
    for model, formula, covariates in (("baseline", "lka_loss ~ C(group, Treatment('B')) + lka_pre", "lka_pre"),
                                       ("confounders", "lka_loss ~ C(group, Treatment('B')) + lka_pre + age + C(sex)", "lka_pre, age, sex")):
        fitted = smf.ols(formula, data=data).fit()
        result = row(frame, "lka_loss", model)
        assert_close(result, formula_values(fitted, GROUP_TERM, confidence))
        assert result["n"] == fitted.nobs and result["covariates"] == covariates and result["note"] == ""


def test_unadjusted_odds_ratio_is_ad_over_bc_with_woolfs_interval():
    # group A: 7 leakages among 25; group B: 3 among 30
    a, b, c, d = 7, 18, 3, 27
    data = pd.DataFrame({"group": ["A"] * 25 + ["B"] * 30, "cement_leakage": [True] * a + [False] * b + [True] * c + [False] * d,
                         "age": 70.0, "sex": "F"})
    result = row(adjusted.adjusted_estimates(data, ["cement_leakage"]), "cement_leakage", "unadjusted")
    odds, se, z = a * d / (b * c), math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), stats.norm.ppf(0.975)
    assert_close(result, {"estimate": odds, "ci_low": odds * math.exp(-z * se), "ci_high": odds * math.exp(z * se)}, relative=True)
    assert result["p"] == pytest.approx(2 * stats.norm.sf(math.log(odds) / se), rel=TOLERANCE)
    assert result["scale"] == "odds_ratio" and result["n"] == 55


def test_type_a_share_is_the_odds_of_type_a_from_cement_distribution():
    data = pd.DataFrame({"group": list("AAAAAAABBBBBBB"), "cement_distribution": list("AAAABCCABBBCCA")})
    result = row(adjusted.adjusted_estimates(data, ["type_a_share"], confounders=[]), "type_a_share", "unadjusted")
    a, b, c, d = 4, 3, 2, 5  # type A / other in group A, then in group B
    odds, se = a * d / (b * c), math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert result["estimate"] == pytest.approx(odds, rel=TOLERANCE)
    assert result["ci_high"] == pytest.approx(odds * math.exp(stats.norm.ppf(0.975) * se), rel=TOLERANCE)


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_adjusted_logistic_equals_the_formula_api(confidence):
    data = cohort(60, 60, seed=5, missing=0.1, missing_age=0.05)
    frame = adjusted.adjusted_estimates(data, ["cement_leakage", "type_a_share"], confidence=confidence)
    leakage = data.assign(leak=data["cement_leakage"].astype(float))
    fitted = smf.logit("leak ~ C(group, Treatment('B')) + age + C(sex)", data=leakage.dropna(subset=["leak", "age"])).fit(disp=0)
    assert_close(row(frame, "cement_leakage", "confounders"), formula_values(fitted, GROUP_TERM, confidence, odds=True), relative=True)
    share = data.assign(share=(data["cement_distribution"] == "A").astype(float))
    fitted = smf.logit("share ~ C(group, Treatment('B')) + age + C(sex)", data=share.dropna(subset=["age"])).fit(disp=0)
    assert_close(row(frame, "type_a_share", "confounders"), formula_values(fitted, GROUP_TERM, confidence, odds=True), relative=True)
    assert not ((frame["variable"] == "cement_leakage") & (frame["model"] == "baseline")).any()  # no pre-operative value


# --------------------------------------------------------------------------- multiple imputation


def rubin(estimates: list[float], variances: list[float], complete_df: float, confidence: float) -> dict:
    """Rubin's rules (Rubin 1987) with the Barnard–Rubin (1999) df, written out (van Buuren 2018, §2.3 and §2.3.6)."""
    m = len(estimates)
    q_bar = sum(estimates) / m
    u_bar = sum(variances) / m
    b = sum((q - q_bar) ** 2 for q in estimates) / (m - 1)
    t = u_bar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    df_old = (m - 1) / lam**2
    if math.isinf(complete_df):
        df = df_old
    else:
        df_observed = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - lam)
        df = df_old * df_observed / (df_old + df_observed)
    half = stats.t.ppf((1 + confidence) / 2, df) * math.sqrt(t)
    return {"estimate": q_bar, "ci_low": q_bar - half, "ci_high": q_bar + half, "p": 2 * stats.t.sf(abs(q_bar) / math.sqrt(t), df)}


@pytest.mark.parametrize("missing_age", [0.0, 0.1])
def test_imputed_measurement_is_rubins_rules_over_the_imputed_data_sets(missing_age):
    data = cohort(50, 50, seed=6, missing=0.2, missing_age=missing_age)
    frame = adjusted.adjusted_estimates(data, ["lka_loss"], imputations=20, seed=99)
    datasets = adjusted.imputed_datasets(data, "lka_loss", ("age", "sex"), imputations=20, seed=99)
    assert len(datasets) == 20
    observed = data["lka_loss"].notna().to_numpy()
    for completed in datasets:
        assert not completed.isna().any().any()
        np.testing.assert_array_equal(completed["lka_loss"].to_numpy()[observed], data["lka_loss"].to_numpy()[observed])
        assert set(completed["lka_loss"][~observed]) <= set(data["lka_loss"][observed])  # predictive mean matching draws observed values
    fits = [smf.ols("lka_loss ~ group_a + lka_pre + age + sex_F", data=completed).fit() for completed in datasets]
    expected = rubin([f.params["group_a"] for f in fits], [f.bse["group_a"] ** 2 for f in fits], len(data) - 5, 0.95)
    result = row(frame, "lka_loss", "imputed")
    assert_close(result, expected)
    assert result["n"] == 100 and result["covariates"] == "lka_pre, age, sex" and result["note"] == ""


def test_imputed_logistic_is_rubins_rules_on_the_log_odds_ratio():
    data = cohort(60, 60, seed=7, missing=0.15)
    frame = adjusted.adjusted_estimates(data, ["cement_leakage"], imputations=25, seed=3, confidence=0.9)
    datasets = adjusted.imputed_datasets(data, "cement_leakage", ("age", "sex"), imputations=25, seed=3)
    fits = [smf.logit("cement_leakage ~ group_a + age + sex_F", data=completed).fit(disp=0) for completed in datasets]
    expected = rubin([f.params["group_a"] for f in fits], [f.bse["group_a"] ** 2 for f in fits], math.inf, 0.9)
    result = row(frame, "cement_leakage", "imputed")
    assert result["estimate"] == pytest.approx(math.exp(expected["estimate"]), rel=TOLERANCE)
    assert result["ci_low"] == pytest.approx(math.exp(expected["ci_low"]), rel=TOLERANCE)
    assert result["ci_high"] == pytest.approx(math.exp(expected["ci_high"]), rel=TOLERANCE)
    assert result["p"] == pytest.approx(expected["p"], abs=TOLERANCE)


def test_array_design_matrices_impute_exactly_as_statsmodels_patsy_formulas():
    from statsmodels.imputation.mice import MICEData

    data = cohort(40, 40, seed=8, missing=0.2, missing_age=0.1)
    frame, _, _, reason = adjusted._imputation_frame(data, "lka_loss", ["lka_pre", "age", "sex"])
    assert reason == ""
    ours = adjusted._impute(frame, 20, 11, "lka_loss")
    theirs = adjusted._impute(frame, 20, 11, "lka_loss", chain=lambda frame, rng: MICEData(frame, k_pmm=adjusted.DONORS, rng=rng))
    for mine, reference in zip(ours, theirs):
        pd.testing.assert_frame_equal(mine, reference, check_exact=True)


def test_no_imputed_row_without_missing_values(study):
    frame = adjusted.adjusted_estimates(study, ["lka_loss", "cement_leakage"])
    assert "imputed" not in set(frame["model"])
    assert adjusted.imputed_datasets(study, "lka_loss") == []


def test_same_input_gives_the_same_frame():
    data = cohort(50, 50, seed=9, missing=0.2, missing_age=0.1)
    outcomes = ["lka_loss", "odi_final", "cement_leakage", "type_a_share"]
    first = adjusted.adjusted_estimates(data, outcomes, primary="lka_loss", primary_better="lower")
    second = adjusted.adjusted_estimates(data.copy(), outcomes, primary="lka_loss", primary_better="lower")
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    assert first.to_csv(float_format="%.17g") == second.to_csv(float_format="%.17g")
    assert not first.equals(adjusted.adjusted_estimates(data, outcomes, primary="lka_loss", primary_better="lower", seed=1))


# --------------------------------------------------------------------------- best and worst cases


@pytest.mark.parametrize("better", ["higher", "lower"])
def test_best_and_worst_case_of_a_measurement_by_hand(better):
    data = pd.DataFrame({"group": list("AAABBB"), "lka_loss": [1.0, 2.0, np.nan, 4.0, np.nan, 6.0]})
    frame = adjusted.adjusted_estimates(data, ["lka_loss"], confounders=[], primary="lka_loss", primary_better=better)
    # observed extremes 1 and 6; favourable to A = 6 in A and 1 in B when higher is better
    favourable = ([1, 2, 6], [4, 1, 6]) if better == "higher" else ([1, 2, 1], [4, 6, 6])
    unfavourable = ([1, 2, 1], [4, 6, 6]) if better == "higher" else ([1, 2, 6], [4, 1, 6])
    for model, (a, b) in (("best_case", favourable), ("worst_case", unfavourable)):
        test = stats.ttest_ind(a, b)
        interval = test.confidence_interval(0.95)
        result = row(frame, "lka_loss", model)
        assert_close(result, {"estimate": np.mean(a) - np.mean(b), "ci_low": interval.low, "ci_high": interval.high, "p": test.pvalue})
        assert result["n"] == 6
    assert row(frame, "lka_loss", "best_case")["estimate"] == pytest.approx(-2 / 3 if better == "higher" else -4)


def test_best_and_worst_case_of_a_yes_no_outcome_by_hand():
    # group A: type A, A, B, ?, ?, B; group B: A, B, B, ?, B, A
    data = pd.DataFrame({"group": list("AAAAAABBBBBB"), "cement_distribution": ["A", "A", "B", None, None, "B", "A", "B", "B", None, "B", "A"]})
    frame = adjusted.adjusted_estimates(data, ["type_a_share"], confounders=[], primary="type_a_share")
    z = stats.norm.ppf(0.975)
    # best: missing in A become type A (4 of 6), missing in B not (2 of 6); worst: A 2 of 6, B 3 of 6
    for model, (a, b, c, d) in (("best_case", (4, 2, 2, 4)), ("worst_case", (2, 4, 3, 3))):
        odds, se = a * d / (b * c), math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        assert_close(row(frame, "type_a_share", model), {"estimate": odds, "ci_low": odds * math.exp(-z * se),
                                                         "ci_high": odds * math.exp(z * se)}, relative=True)
    assert row(frame, "type_a_share", "best_case")["estimate"] == pytest.approx(4.0)
    assert row(frame, "type_a_share", "unadjusted")["n"] == 9


def test_best_and_worst_case_without_missing_values_say_so(study):
    frame = adjusted.adjusted_estimates(study, ["lka_loss"], primary="lka_loss")
    for model in ("best_case", "worst_case"):
        assert row(frame, "lka_loss", model)["note"] == "no missing values"
        assert np.isnan(row(frame, "lka_loss", model)["estimate"])


# --------------------------------------------------------------------------- a difference the baseline explains


def odi_cohort(effect: float, seed: int = 10, size: int = 60) -> pd.DataFrame:
    """Group A's pre-operative ODI 10 points higher; the final ODI is the pre-operative one − 20 (− ``effect`` in A) + noise.

    The noise is centred within each group, so without an effect the final difference is exactly the pre-operative one.
    """
    rng = np.random.default_rng(seed)
    in_a = np.arange(2 * size) < size
    odi_pre = rng.normal(45, 8, 2 * size) + 10 * in_a
    noise = rng.normal(0, 3, 2 * size)
    noise = noise - np.where(in_a, noise[in_a].mean(), noise[~in_a].mean())
    return pd.DataFrame({"group": np.where(in_a, "A", "B").astype(object), "age": rng.integers(60, 90, 2 * size).astype(float),
                         "sex": rng.choice(["M", "F"], 2 * size).astype(object), "odi_pre": odi_pre,
                         "odi_final": odi_pre - 20 - effect * in_a + noise})


def test_baseline_explains_a_difference_that_mirrors_the_baseline():
    frame = adjusted.adjusted_estimates(odi_cohort(effect=0.0), ["odi_final"])
    unadjusted, baseline = row(frame, "odi_final", "unadjusted"), row(frame, "odi_final", "baseline")
    assert unadjusted["ci_low"] > 0
    assert unadjusted["estimate"] == pytest.approx(10, abs=3)
    assert baseline["ci_low"] < 0 < baseline["ci_high"]
    assert adjusted.baseline_explains(frame, 0.05) == ["odi_final"]


def test_baseline_does_not_explain_a_true_effect():
    frame = adjusted.adjusted_estimates(odi_cohort(effect=-6.0), ["odi_final"])
    assert row(frame, "odi_final", "baseline")["ci_low"] > 0
    assert adjusted.baseline_explains(frame, 0.05) == []


def test_an_estimate_moved_outside_the_unadjusted_interval_by_the_baseline_is_named_with_both_sizes():
    from vertebroplasty.writing import adjusted_text

    def rows(variable, unadjusted, baseline):
        return [{"variable": variable, "model": model, "scale": "difference", "estimate": e, "ci_low": lo, "ci_high": hi, "p": 0.01}
                for model, (e, lo, hi) in (("unadjusted", unadjusted), ("baseline", baseline), ("confounders", baseline))]

    frame = pd.DataFrame(rows("lka_recovery", (7.83, 5.54, 10.11), (5.34, 2.89, 7.78))      # started apart: 5.34 < 5.54
                         + rows("fvahl", (1.75, 0.83, 2.68), (1.60, 0.70, 2.50))            # within the unadjusted interval
                         + rows("avhlr", (7.14, 3.58, 10.69), (2.00, -1.00, 5.00)))          # no longer shown: said apart
    assert adjusted_text.resized_by_baseline(frame) == ["lka_recovery"]
    text = adjusted_text.adjusted_sentence(frame, ["avhlr"], ["age", "sex"])
    assert "moves the estimate of LKA recovery from 7.83 (5.54 to 10.11) to 5.34 (2.89 to 7.78), outside the unadjusted" in text
    assert "the adjusted estimate is the better measure of its size; the difference is still shown" in text
    assert "FVAHL from" not in text


# --------------------------------------------------------------------------- shape and awkward cohorts


def test_columns_and_rows_on_the_study(study):
    outcomes = ["fvahl", "lka_loss", "vas_op", "cement_leakage", "type_a_share"]
    frame = adjusted.adjusted_estimates(study, outcomes)
    assert list(frame.columns) == adjusted.ADJUSTED_COLUMNS + ["n", "covariates", "note"]
    assert frame.groupby("variable", sort=False)["model"].apply(list).to_dict() == {
        "fvahl": ["unadjusted", "baseline", "confounders"], "lka_loss": ["unadjusted", "baseline", "confounders"],
        "vas_op": ["unadjusted", "baseline", "confounders"], "cement_leakage": ["unadjusted", "confounders"],
        "type_a_share": ["unadjusted", "confounders"]}
    assert set(frame.loc[frame["variable"].isin(["cement_leakage", "type_a_share"]), "scale"]) == {"odds_ratio"}
    assert (frame["note"] == "").all() and (frame["n"] == len(study)).all()
    assert row(frame, "fvahl", "confounders")["covariates"] == "fvah_pre, age, sex"


def awkward(case: str) -> pd.DataFrame:
    data = cohort(12, 12, seed=12, missing=0.1)
    if case == "constant":
        data["lka_loss"] = 3.0
    elif case == "empty":
        data["lka_loss"] = np.nan
    elif case == "group without values":
        data.loc[data["group"] == "B", ["lka_loss", "cement_leakage"]] = np.nan, pd.NA
    elif case == "two per group":
        data = cohort(2, 2, seed=12)
        data.loc[0, "lka_loss"] = np.nan
    elif case == "one sex":
        data["sex"] = "F"
    elif case == "no age":
        data["age"] = np.nan
    elif case == "separation":
        data["cement_leakage"] = pd.array(data["group"] == "A", dtype="boolean")
        data["cement_distribution"] = np.where(data["group"] == "A", "A", "B")
    elif case == "columns absent":
        data = data.drop(columns=["lka_pre", "sex", "cement_distribution"])
    return data


@pytest.mark.parametrize("case", ["constant", "empty", "group without values", "two per group", "one sex", "no age", "separation",
                                  "columns absent"])
def test_awkward_cohorts_give_notes_not_exceptions(case):
    outcomes = ["lka_loss", "cement_leakage", "type_a_share", "sex", "not_a_column"]
    frame = adjusted.adjusted_estimates(awkward(case), outcomes, primary="lka_loss")
    assert list(frame.columns) == adjusted.ADJUSTED_COLUMNS + ["n", "covariates", "note"]
    missing = frame["estimate"].isna()
    assert (frame.loc[missing, "note"] != "").all(), frame.loc[missing]
    assert frame.loc[~missing, NUMBERS].notna().all().all()
    notes = " | ".join(frame["note"])
    expected = {"constant": "every patient has the same value", "empty": "no patient has a value",
                "group without values": "no patient in group B has", "two per group": "too few patients",
                "one sex": "sex has a single value, left out", "no age": "age has no value for any patient",
                "separation": "perfect separation", "columns absent": "lka_pre has no value for any patient"}[case]
    assert expected in notes
    assert row(frame, "not_a_column", "unadjusted")["note"] == "not in the data"


def test_arguments_are_checked():
    data = cohort()
    with pytest.raises(ValueError, match="at least 20"):
        adjusted.adjusted_estimates(data, ["lka_loss"], imputations=5)
    with pytest.raises(ValueError, match="higher"):
        adjusted.adjusted_estimates(data, ["lka_loss"], primary="lka_loss", primary_better="better")
