"""Claims on cohorts whose truth was built in: the report's verdicts are what a statistical referee would write.

Four whole reports through `make` (see ``tests/cohorts.py`` for how each truth is built):

- no effect of anything (paper tests and robust tests): no "yes" or "partly" verdict, no finding worded anywhere;
- cement types that differ only away from type A, and a 24-hour ODI difference that only mirrors a pre-operative gap:
  the distribution sentence names type C and never "more type A"; the baseline-adjusted estimate shows the gap;
- true effects on recompression, pain and the type-A share with final radiographs missing for 8 of 75 patients in
  group A and 1 of 75 in group B: the effects are found; the missing values are counted, compared and imputed.

Numbers the claims rest on are recomputed here another way (the statsmodels formula API on the build's patient table,
Fisher's test by hand from the hypergeometric distribution).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import cohorts

pytestmark = pytest.mark.slow

FINDING_VERDICTS = {"yes", "partly"}


@pytest.fixture(scope="module")
def null_paper(build, cohort_folder):
    return build("claims-null", DATA=str(cohorts.no_effect(cohort_folder / "claims-null")))


@pytest.fixture(scope="module")
def null_robust(build, cohort_folder):
    return build("claims-null-robust", DATA=str(cohorts.no_effect(cohort_folder / "claims-null-robust")), TESTS="robust")


@pytest.fixture(scope="module")
def type_c_gap(build, cohort_folder):
    return build("claims-type-c", DATA=str(cohorts.type_c_and_baseline_gap(cohort_folder / "claims-type-c")))


@pytest.fixture(scope="module")
def effects(build, cohort_folder):
    return build("claims-effects", DATA=str(cohorts.true_effects_with_loss(cohort_folder / "claims-effects")))


def floats(frame: pd.DataFrame, columns=("estimate", "ci_low", "ci_high", "p")) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def fisher_two_sided(a: int, n_a: int, b: int, n_b: int) -> float:
    """Fisher's exact test by hand: the hypergeometric probabilities of every table with the observed margins, summed
    over those no more probable than the observed one."""
    total, events = n_a + n_b, a + b
    probability = [math.comb(n_a, k) * math.comb(n_b, events - k) / math.comb(total, events)
                   for k in range(max(0, events - n_b), min(events, n_a) + 1)]
    observed = math.comb(n_a, a) * math.comb(n_b, b) / math.comb(total, events)
    return sum(p for p in probability if p <= observed * (1 + 1e-7))


@pytest.mark.parametrize("which", ["null_paper", "null_robust"])
def test_no_effect_gives_no_verdict_and_no_finding(which, request):
    built = request.getfixturevalue(which)
    verdicts = built.results("conclusions.csv")["verdict"]
    assert not set(verdicts) & FINDING_VERDICTS, verdicts.tolist()
    for page in ("index", "results", "discussion", "conclusions"):
        text = built.page(page)
        assert "significantly lower" not in text and "significantly higher" not in text, page
        assert "differed significantly" not in text, page
    assert "no outcome differed under the testing rule" in built.page("results")
    # pairs are never findings when their overall test is not one
    assert "are exploratory and answer nothing" in built.results("conclusions.csv").iloc[3]["sentence"]


def test_methods_state_one_testing_rule(null_paper):
    methods = null_paper.page("methods")
    assert methods.count("Testing rule.") == 1
    assert "One comparison is primary: cement distribution between the treatment groups" in methods
    assert "adjusted together as one family with Holm's method" in methods
    assert "so the report's default applies" in methods  # no study.yml: the default primary outcome, said so


def test_categorical_direction_names_the_levels_whose_interval_excludes_zero(type_c_gap):
    answer = type_c_gap.results("conclusions.csv").set_index("topic").loc["cement distribution"]
    assert answer["verdict"] == "partly"
    assert "fewer type C distributions in group A (5.3 % vs 30.7 %" in answer["sentence"]
    assert "more type A" not in answer["sentence"]
    for page in ("index", "results", "discussion", "conclusions"):
        assert "more type A" not in type_c_gap.page(page), page
    # the type-A share did not differ: its Newcombe interval (by hand: Wilson intervals of 30/75 and 30/75) spans zero
    assert re.search(r"type A in 40\.0 % of group A and 40\.0 % of group B \(difference 0\.0 percentage points, 95 % CI −?-?15\.3 to 15\.3\)",
                     answer["sentence"])


def test_a_baseline_gap_is_shown_by_the_baseline_adjusted_estimate(type_c_gap):
    import statsmodels.formula.api as smf

    adjusted = floats(type_c_gap.results("adjusted.csv")).set_index(["variable", "model"])
    unadjusted, baseline = adjusted.loc[("odi_post", "unadjusted")], adjusted.loc[("odi_post", "baseline")]
    assert unadjusted["ci_low"] > 0  # the 24-hour ODI differs …
    assert baseline["ci_low"] < 0 < baseline["ci_high"]  # … only because the pre-operative ODI did
    # the same ANCOVA by the statsmodels formula API, on the build's own patient table
    derived = pd.read_csv(type_c_gap.out / "results" / "derived.csv")
    fit = smf.ols("odi_post ~ C(group, Treatment('B')) + odi_pre", data=derived).fit()
    term = "C(group, Treatment('B'))[T.A]"
    low, high = fit.conf_int().loc[term]
    assert baseline[["estimate", "ci_low", "ci_high", "p"]].tolist() == pytest.approx([fit.params[term], low, high, fit.pvalues[term]],
                                                                                      rel=1e-6)
    results = type_c_gap.page("results")
    assert re.search(r"The difference in ODI \(24 h post-op\) is no longer shown once the pre-operative value", results)
    assert "ODI (24 h post-op) was higher in group A than in group B" in results and "a baseline imbalance" in results
    assert "under the testing rule was ODI" not in results and "under the testing rule were ODI" not in results
    table = results[results.index("Table 2 Radiographic"):]
    assert re.search(r"ODI \(24 h post-op, %\) [\d.]+ ± [\d.]+ [\d.]+ ± [\d.]+ <0\.001 [a-z] ", table)  # footnoted, no star


def test_true_effects_are_found(effects):
    verdicts = effects.results("conclusions.csv").set_index("topic")["verdict"]
    assert verdicts["cement distribution"] == "yes"
    assert verdicts["pain during cementing"] == "yes"
    assert verdicts["recompression"] == "yes"
    sentence = effects.results("conclusions.csv").set_index("topic").loc["cement distribution", "sentence"]
    assert "more type A distributions in group A (70.7 % vs 29.3 %" in sentence


def test_partial_loss_of_final_radiographs_is_counted_compared_and_imputed(effects):
    flow = effects.results("flow.csv").set_index(["stage", "group"])["n"].astype(int)
    assert (flow[("missing_final_radiographs", "A")], flow[("missing_final_radiographs", "B")]) == (8, 1)
    assert (flow[("missing_final_scores", "A")], flow[("missing_final_scores", "B")]) == (0, 0)
    assert (flow[("lost", "A")], flow[("lost", "B")]) == (0, 0)
    assert (flow[("analysed_fvahl", "A")], flow[("analysed_fvahl", "B")]) == (67, 74)
    results = effects.page("results")
    assert "no patient was lost" not in results.lower() and "every patient had every final" not in results.lower()
    p = fisher_two_sided(8, 75, 1, 75)
    assert f"complete final radiographs are missing for 8 of 75 in group A (10.7 %) and 1 of 75 in group B (1.3 %) " \
           f"(Fisher's exact test p = {p:.3f})" in results
    assert "Without complete final radiographs" in results  # the missing-final table
    adjusted = floats(effects.results("adjusted.csv"))
    imputed = adjusted[adjusted["model"] == "imputed"].set_index("variable")
    assert {"fvahl", "avhlr", "lka_loss", "fvah_final"} <= set(imputed.index)
    assert "vas_op" not in imputed.index  # complete outcomes are not imputed
    assert imputed.loc["fvahl", "ci_high"] < 0  # the built-in reduction of height loss survives the imputation
    assert "Multiple imputation" in results


def test_every_direction_word_has_an_interval_excluding_zero(null_paper, null_robust, type_c_gap, effects):
    pattern = re.compile(r"(more|fewer) (type [ABC]) distributions in group A \([\d.]+ % vs [\d.]+ %; difference [−-]?[\d.]+ "
                         r"percentage points, 95 % CI ([−-]?[\d.]+) to ([−-]?[\d.]+)\)")
    seen = 0
    for built in (null_paper, null_robust, type_c_gap, effects):
        for sentence in built.results("conclusions.csv")["sentence"]:
            for more, _, low, high in pattern.findall(sentence):
                low, high = (float(v.replace("−", "-")) for v in (low, high))
                assert (low > 0) if more == "more" else (high < 0), sentence
                seen += 1
    assert seen >= 4


def test_adjusted_estimates_are_written_by_every_build(null_paper, effects):
    for built in (null_paper, effects):
        adjusted = built.results("adjusted.csv")
        assert list(adjusted.columns) == ["variable", "model", "scale", "estimate", "ci_low", "ci_high", "p"]
        assert {"unadjusted", "baseline", "confounders"} <= set(adjusted["model"])
        assert set(adjusted["scale"]) == {"difference", "odds_ratio"}
        share = floats(adjusted[(adjusted["variable"] == "type_a_share") & (adjusted["model"] == "unadjusted")]).iloc[0]
        derived = pd.read_csv(built.out / "results" / "derived.csv")
        table = pd.crosstab(derived["group"], derived["cement_distribution"] == "A")
        a, b, c, d = table.loc["A", True], table.loc["A", False], table.loc["B", True], table.loc["B", False]
        assert share["estimate"] == pytest.approx(a * d / (b * c), rel=1e-9)  # the odds ratio by hand
        assert share["ci_low"] == pytest.approx(np.exp(np.log(a * d / (b * c)) - 1.959963984540054 * np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)),
                                                rel=1e-6)
    assert "Adjusted for the pre-operative value" in effects.page("results")


def test_responders_by_clinically_important_thresholds(effects):
    responders = effects.results("responders.csv").set_index("variable")
    assert set(responders.index) == {"vas_post", "vas_final", "odi_post", "odi_final"}
    derived = pd.read_csv(effects.out / "results" / "derived.csv")
    improved = (derived["vas_pre"] - derived["vas_final"]) >= 1.5
    by_group = improved.groupby(derived["group"]).sum()
    assert int(responders.loc["vas_final", "count_first"]) == by_group["A"]
    assert int(responders.loc["vas_final", "count_second"]) == by_group["B"]
    results = effects.page("results")  # the judgement of clinical importance is made once, in the Results
    assert "minimal clinically important differences the Methods cite" in results
    assert "smaller than those usually regarded as noticeable" not in results


PLAN = """\
primary_outcome: fvahl
primary_outcome_rationale: recompression is what the centre set out to reduce
secondary_outcomes: [vas_op, avhlr, lka_loss, cement_distribution]
confounders: [age]
mcid: {vas_final: 2}
"""


@pytest.fixture(scope="module")
def planned(build, cohort_folder):
    folder = cohort_folder / "claims-planned"
    data = cohorts.true_effects_with_loss(folder)
    (folder / "study.yml").write_text(PLAN)
    return build("claims-planned", DATA=str(data), STUDY=str(folder / "study.yml"))


def test_a_study_file_sets_the_primary_the_family_the_confounders_and_the_thresholds(planned):
    methods = planned.page("methods")
    assert "One comparison is primary: FVAHL between the treatment groups" in methods
    assert "recompression is what the centre set out to reduce" in methods and "exploratory" in methods
    statistics = planned.results("statistics.csv")
    holm = set(statistics.loc[(statistics["statistic"] == "p_holm") & (statistics["table"] == "table2"), "variable"])
    assert holm == {"vas_op", "avhlr", "lka_loss"}  # fvahl is primary, the other outcome rows exploratory
    assert "Holm p" in planned.page("results") and "exploratory" in planned.page("results")
    adjusted = planned.results("adjusted.csv")
    assert {"best_case", "worst_case"} <= set(adjusted.loc[adjusted["variable"] == "fvahl", "model"])  # fvahl has missing values
    bounds = adjusted[(adjusted["variable"] == "fvahl") & adjusted["model"].isin(["best_case", "worst_case"])].set_index("model")
    assert float(bounds.loc["best_case", "estimate"]) < float(bounds.loc["worst_case", "estimate"])  # lower loss is better for A
    assert "Missing values of the primary outcome (FVAHL) were replaced" in planned.page("results")
    assert set(planned.results("responders.csv")["variable"]) == {"vas_final"}
    assert "improved from before surgery by at least 2 points on the VAS" in planned.page("results")
    assert "adjusted for the pre-operative value and for age." in planned.page("index")


def test_robust_mode_speaks_in_the_rank_tests_own_terms(null_robust):
    results = null_robust.page("results")
    table2 = results[results.index("Table 2"):]
    # VAS and ODI are tested on ranks: their cells are median (IQR), "a to b", never mean ± SD
    row = re.search(r"VAS \(final FU, points\) (\S+ \(\S+ to \S+\)) (\S+ \(\S+ to \S+\))", table2)
    assert row, table2[table2.index("VAS (final FU"):][:200]
    assert "median (IQR) for the rows tested on ranks" in table2
    assert re.search(r"VAS \(final FU\) \(medians type A [\d.]+ points, type B", results)
    assert "Mann–Whitney U test; Hodges–Lehmann shift" in results and "Kruskal–Wallis test; ε²" in results
    # Dunn's pairs carry a rank-based effect and no difference of means; its sign agrees with the mean-rank difference
    pairs = pd.read_csv(null_robust.out / "results" / "pairwise.csv")
    assert set(pairs["method"]) == {"Dunn's test with Holm's adjustment"}
    assert pairs["mean_difference"].isna().all() and pairs[["hodges_lehmann", "rank_biserial"]].notna().all(axis=None)
    assert (np.sign(pairs["rank_biserial"]) * np.sign(pairs["mean_rank_difference"]) >= 0).mean() > 0.9
