"""A centre's own cohort: its own study, its missing data, its baseline imbalance, its conclusions, and no leaks.

Two cohorts are built through `make`: 150 patients with uneven loss to follow-up, described by a study.yml and
built with `make pdf TESTS=robust`; and 60 patients with a baseline imbalance and no study description.
"""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest

import cohorts
from vertebroplasty import paths

pytestmark = pytest.mark.slow

SOURCE_STUDY_FACTS = ("Chongqing", "January 2019", "March 2020", "one experienced spine surgeon", "1, 6 and 12 months", "SPSS")
SYNTHETIC_WORDS = ("Synthetic data", "synthetic cohort", "default data are synthetic", "reconstructed from the published")


@pytest.fixture(scope="module")
def attrition(build, cohort_folder):
    data = cohorts.attrition(cohort_folder / "attrition")
    study = cohort_folder / "attrition" / "study.yml"
    study.write_text(cohorts.STUDY)
    return build("attrition", "pdf", DATA=str(data), STUDY=str(study), TESTS="robust")


@pytest.fixture(scope="module")
def imbalance(build, cohort_folder):
    return build("imbalance", DATA=str(cohorts.imbalance(cohort_folder / "imbalance")))


@pytest.fixture(scope="module")
def attrition_pdf(attrition) -> str:
    return subprocess.run(["pdftotext", "-layout", str(attrition.out / "pdf" / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_methods_describe_this_study_only(attrition, imbalance, attrition_pdf):
    methods = attrition.page("methods")
    for fact in ("three consultant spine surgeons", "June 2021", "May 2023", "Test Centre Hospital", "by the operating surgeon's preference"):
        assert fact in methods, fact
    for built in (attrition, imbalance):
        for chapter in ("index", "methods", "results", "discussion", "conclusions", "limitations", "provenance"):
            text = built.page(chapter)
            for fact in SOURCE_STUDY_FACTS + SYNTHETIC_WORDS:
                assert fact not in text, (chapter, fact)
    assert "Test Centre Hospital" in attrition_pdf.split("\f")[0] and "Synthetic" not in attrition_pdf.split("\f")[0]
    described = imbalance.page("methods")
    assert "Not described." in described and "the inclusion criteria" in described and "the surgical technique" in described


def test_loss_to_follow_up_is_reported_by_group(attrition):
    results = attrition.page("results")
    assert ("6 patients lack at least one final-follow-up value: complete final radiographs are missing for 5 of 75 in group A "
            "(6.7 %) and 1 of 75 in group B (1.3 %) (Fisher's exact test p = 0.209)") in results  # 5/75 vs 1/75, by hand
    assert "6 of them (5 in group A and 1 in group B) have no final value at all and are lost to follow-up" in results
    flow = attrition.results("flow.csv")
    lost = flow[flow["stage"] == "lost"].set_index("group")["n"].astype(int)
    assert (lost["A"], lost["B"]) == (5, 1)
    missing = attrition.results("missing_data.csv")
    assert set(missing["variable"]) >= {"fvah_final", "lka_final", "vas_final", "odi_final"}
    assert "FVAH (final FU)" in results and "5 of 75 (6.7 %)" in results  # the missing-data table
    assert (attrition.out / "html" / "_images").is_dir() and "fig-flow" in (attrition.out / "html" / "book" / "results.html").read_text()


def test_sentences_and_captions_give_the_n_when_it_differs(attrition):
    results = attrition.page("results")
    assert re.search(r"FVAHL .{0,80}?measured in 70 of 75 in group A and 74 of 75 in group B", results)
    assert "The number of patients behind a point changes between timepoints (group A n = 70 to 75, group B n = 74 to 75)" in results
    methods = attrition.page("methods")
    assert "available-case analysis" in methods and "after multiple imputation" in methods


def test_robust_mode_names_what_ran_per_row(attrition):
    results = attrition.page("results")
    assert "Mann–Whitney U test for VAS (pre-op), VAS (op), VAS (24 h post-op), VAS (final FU), ODI (pre-op)" in results
    assert "Welch's t-test for the other rows" in results
    statistics = attrition.results("statistics.csv")
    tests = statistics[statistics["statistic"] == "test"].set_index(["table", "variable"])["value"]
    assert tests[("table2", "vas_op")] == "mann_whitney" and tests[("table2", "fvahl")] == "welch"
    assert tests[("table3", "fvahl")] == "kruskal"
    assert "Dunn (Holm)" in set(attrition.results("pairwise.csv")["method"])


def test_baseline_differences_are_imbalance_not_outcomes(imbalance):
    results = imbalance.page("results")
    assert re.search(r"At baseline the groups were not fully balanced: Age \(standardised difference 0\.\d\d\)", results)
    assert "Age was higher in group A than in group B, an imbalance of the groups at baseline" in results
    discussion = imbalance.page("discussion")
    outcomes = discussion[discussion.index("Between the treatment groups"):discussion.index("At baseline")]
    assert "LKA (pre-op)" not in outcomes and "Age" not in outcomes
    holm = imbalance.results("statistics.csv")
    adjusted = set(holm.loc[holm["statistic"] == "p_holm", "variable"])
    assert "lka_pre" not in adjusted and "age" not in adjusted and "fvahl" in adjusted


def test_every_table_variable_is_named_in_the_results_text(imbalance):
    from vertebroplasty import dictionary, tables

    results = imbalance.page("results")
    for table, variables in tables.TABLE_VARIABLES.items():
        for variable in variables:
            assert dictionary.label(variable) in results, (table, variable)


def test_claims_state_effect_interval_and_adjustment(imbalance):
    summary = imbalance.page("index")
    for claim in re.findall(r"(?:was|were|differed)[^.]*?\bp [=<] [0-9.]+[^.]*\.", summary):
        assert "95 % CI" in claim or "not computable" in claim, claim
    conclusions = imbalance.page("conclusions")
    assert "Holm-adjusted" in conclusions and "The source study concluded" not in conclusions
    distribution = imbalance.page("results")
    assert "the largest difference is in" not in distribution  # categories are named by their own intervals, not by the largest gap


def test_provenance_sets_the_cohort_beside_the_source_study(imbalance):
    text = imbalance.page("provenance")
    assert "Your cohort beside the source study" in text and "Standardised difference" in text
    beside = imbalance.results("beside_published.csv")
    assert {"this_mean", "published_mean", "standardised_difference"} <= set(beside.columns)
    assert "not reproduced" not in text.lower().replace("not reproduced at the printed precision", "")


def test_no_path_and_no_patient_row_outside_the_case_pages(attrition, imbalance, cohort_folder):
    for built, prefix in ((attrition, "ATT-"), (imbalance, "IMB-")):
        for path in (built.out / "html").rglob("*.html"):
            text = path.read_text(errors="replace")
            assert str(cohort_folder) not in text and str(paths.ROOT) not in text, path
            if path.name != "cases.html":
                assert not re.search(rf"\b{prefix}\d{{3}}\b", text), path
    derived = pd.read_csv(attrition.out / "results" / "derived.csv")
    assert len(derived) == 150  # patient rows are in the results folder only


def test_case_text_reads_naturally(attrition):
    cases = attrition.page("cases")
    assert "type a " not in cases and " a 8" not in cases and " a 1" not in cases.replace(" a 1 ", "")
    assert "by this report's definitions" in cases and "this report uses its own definitions" in cases
