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
from conftest import numbered_tables, pages_running_past_their_foot
from vertebroplasty import paths
from vertebroplasty.writing import figures

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
        assert fact.lower() in methods.lower(), fact
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
    assert re.search(r"FVAHL .{0,120}?measured in 70 of 75 in group A and 74 of 75 in group B", results)
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
    assert "Dunn's test with Holm's adjustment" in set(attrition.results("pairwise.csv")["method"])
    assert re.search(r"Course of the outcomes in each group \( ?mean and t-based 95 % confidence interval; for VAS and ODI, "
                     r"tested on ranks, median and interquartile range ?\)", results)  # the figure too


def test_robust_trajectories_are_medians_and_quartiles_computed_by_hand():
    data = pd.DataFrame({"group": ["A"] * 5 + ["B"] * 4, "vas_pre": [1, 2, 3, 4, 10, 5, 6, None, 8]})
    for column in ("vas_op", "vas_post", "vas_final"):
        data[column] = data["vas_pre"]
    summary = figures.trajectory_summary(data.assign(**{f"{m}_{t}": 0.0 for m in ("fvah", "avhr", "lka", "rka", "odi")
                                                           for t in ("pre", "post", "final")}), medians=["vas"])
    row = summary[(summary["measure"] == "vas") & (summary["timepoint"] == "pre")].set_index("group")
    # group A 1, 2, 3, 4, 10: median 3, quartiles 2 and 4; group B 5, 6, 8: median 6, quartiles 5.5 and 7 (linear interpolation)
    assert row.loc["A", ["n", "location", "low", "high"]].tolist() == [5, 3, 2, 4]
    assert row.loc["B", ["n", "location", "low", "high"]].tolist() == [3, 6, 5.5, 7]


def test_baseline_differences_are_imbalance_not_outcomes(imbalance):
    results = imbalance.page("results")
    assert re.search(r"At baseline the groups were not fully balanced: age \(standardised difference 0\.\d\d\)", results)
    assert re.search(r"Age differed between the groups by a standardised mean difference of 0\.\d\d \([^)]*\), an imbalance at baseline",
                     results)
    assert "Age was higher" not in results  # a baseline difference is described by its size, without a direction word
    start = results.index("Between the treatment groups")  # the outcome summary at the head of the Table 2 section
    outcomes = results[start:results.index("Before surgery.", start)]
    assert "LKA (pre-op)" not in outcomes and "Age" not in outcomes
    holm = imbalance.results("statistics.csv")
    adjusted = set(holm.loc[holm["statistic"] == "p_holm", "variable"])
    assert "lka_pre" not in adjusted and "age" not in adjusted and "fvahl" in adjusted


def test_every_table_variable_is_named_in_the_results_text(imbalance):
    from vertebroplasty.contract import dictionary
    from vertebroplasty.writing import tables

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


def test_provenance_does_not_compare_with_the_source_study_unless_asked(imbalance, build, cohort_folder):
    assert "Your cohort beside the source study" not in imbalance.page("provenance")
    published = build("imbalance-published", DATA=str(cohorts.imbalance(cohort_folder / "imbalance-published")), PUBLISHED="yes")
    text = published.page("source-study")
    assert "Your cohort beside the source study" in text and "Standardised difference" in text
    beside = published.results("beside_published.csv")
    assert {"this_mean", "published_mean", "standardised_difference"} <= set(beside.columns)


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
    assert "this report uses its own, from what the fractured vertebra lost" in cases
    assert re.search(r"by this report's definitions, (no appreciable|slight|marked) recompression by (the height|the angle|height)", cases)



# --------------------------------------------------------------------------- a report a centre can sign (its own study, STROBE)

def test_title_page_and_pdf_metadata_come_from_the_study_file(attrition, attrition_pdf):
    info = subprocess.run(["pdfinfo", str(attrition.out / "pdf" / "report.pdf")], capture_output=True, text=True, check=True).stdout
    # the title holds &, <, >, # , % and a trailing backslash: each is text in the PDF's metadata, its \title and the HTML
    assert re.search(r"^Title:\s+Aspiration before vertebroplasty at a test centre & its district <pilot #2, 50 %> \\$", info,
                     re.MULTILINE)
    navbar = (attrition.out / "html" / "book" / "results.html").read_text()
    assert "its district &lt;pilot #2, 50 %&gt; \\" in navbar and "<pilot" not in navbar
    search = (attrition.out / "html" / "search.html").read_text()
    assert "<pilot" not in search
    assert re.search(r"^Author:\s+Ann Example, Bo Sample, Cy Third$", info, re.MULTILINE)
    assert re.search(r"^Subject:\s+Percutaneous vertebroplasty", info, re.MULTILINE)
    first_page = " ".join(attrition_pdf.split("\f")[0].split())
    for fact in ("Ann Example", "Department of Spine Surgery, Test Centre Hospital", "Registration: Not registered",
                 "Ethics: Approved by the Test Centre ethics committee", "Funding: Test Centre research fund, grant 42.",
                 "Conflicts of interest: None declared.", "June 2021 to May 2023"):
        assert fact in first_page, fact
    summary = attrition.page("index")
    assert "Ann Example 1 , Bo Sample 2 , Cy Third" in summary


def test_structured_abstract_at_the_front(attrition, imbalance):
    for built in (attrition, imbalance):
        summary = built.page("index")
        abstract = summary[summary.index("Abstract #"):summary.index("Summary of the report #")]
        positions = [abstract.index(f"{part}.") for part in ("Background", "Methods", "Results", "Conclusions")]
        assert positions == sorted(positions)
        assert len(re.findall(r"[\w−-]+", abstract.replace("Abstract #", ""))) <= 300 + 40  # numbers split into several tokens
        assert "150 patients" in abstract or "60 patients" in abstract
    assert "Vertebral compression fractures of osteoporotic bone are frequent in older adults." in attrition.page("index")
    assert "Abstract" in attrition_pdf_text(attrition).split("Summary of the report")[0]


def attrition_pdf_text(built) -> str:
    return subprocess.run(["pdftotext", str(built.out / "pdf" / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout


def test_every_study_key_is_written_where_a_reader_looks_and_reads_as_sentences(attrition):
    methods = attrition.page("methods")
    assert "Follow-up. Radiographs at 24 hours and at 3 and 12 months." in methods
    assert "Allocation. By the operating surgeon's preference." in methods
    assert "Of 181 patients screened for eligibility, 31 were excluded before analysis: 12 for pathological fracture and 19 for no " \
           "pre-operative film" in methods
    assert "Every eligible patient treated in the period was included." in methods  # study_size
    assert re.search(r"estimated to within about ±\d+\.\d percentage points", methods)
    limitations = attrition.page("limitations")
    assert "The study description states that the films were graded blind to the treatment group" in limitations
    assert "not reported" not in limitations and "is not described" not in limitations.split("Outcome assessment.")[1][:200]
    for page in ("index", "introduction", "methods", "results", "discussion", "conclusions", "limitations"):
        text = attrition.page(page)
        assert ".." not in text.replace("...", ""), page
        assert "\\(" not in text and "\\_" not in text, page  # no escaping artefact from glued text
    discussion = attrition.page("discussion")
    assert re.search(r"Generalisability # The 150 patients were aged \d+ years in the median", discussion)


def test_flow_starts_from_the_patients_screened(attrition):
    flow = attrition.results("flow.csv")
    before = flow[flow["group"] == "all"].set_index("stage")["n"].astype(int)
    assert before.to_dict() == {"screened": 181, "excluded_1": 12, "excluded_2": 19}
    assert "screened for eligibility (before the analysis): 181" in attrition.page("results")


def test_the_report_on_own_data_is_about_that_study(attrition, imbalance):
    for built in (attrition, imbalance):
        pages = {path.stem for path in (built.out / "html" / "book").glob("*.html")}
        assert "audit" not in pages and "source-study" not in pages
        for page in ("index", "introduction", "methods", "discussion", "conclusions", "reanalysis"):
            text = built.page(page)
            assert "Relation to the published report" not in text and "The source study calls for" not in text, page
            assert "17 found a problem" not in text, page
        assert "audit" not in {line.strip() for line in attrition_pdf_text(attrition).splitlines()}
    introduction = attrition.page("introduction")
    assert re.search(r"Whether aspiration changes the course after cementing is unknown at our centre \[ ?\d+ ?[,\]]", introduction)
    assert "Cement distribution after vertebroplasty. Spine Test Journal" in attrition.page("references")
    assert "gives no background" in imbalance.page("introduction")


def test_strobe_checklist_is_generated_item_by_item(attrition, imbalance):
    for built in (attrition, imbalance):
        checklist = built.results("strobe.csv")
        assert list(checklist.columns) == ["item", "topic", "status", "where"]
        assert checklist["item"].astype(int).tolist() == list(range(1, 23))
        assert set(checklist["status"]) <= {"covered", "partly", "missing"}
        assert (checklist.loc[checklist["status"] != "missing", "where"] != "").all()
    status = attrition.results("strobe.csv").set_index("item")["status"]
    assert status["22"] == "covered" and status["9"] == "covered" and status["13"] == "covered" and status["10"] == "covered"
    status = imbalance.results("strobe.csv").set_index("item")["status"]
    assert status["22"] == "missing" and status["13"] == "partly"
    page = imbalance.page("strobe")
    assert re.search(r"Of the 22 items of the STROBE checklist for cohort studies, \d+ are covered, \d+ partly \(.*\) and \d+ missing "
                     r"\(.*funding.*\)", page)


def test_published_source_study_on_own_data_only_when_asked(build, cohort_folder):
    built = build("imbalance-published", DATA=str(cohorts.imbalance(cohort_folder / "imbalance-published")), PUBLISHED="yes")
    pages = {path.stem for path in (built.out / "html" / "book").glob("*.html")}
    assert {"audit", "source-study"} <= pages
    index = (built.out / "html" / "book" / "index.html").read_text()
    assert "Appendix: the published source study" in index
    refused = subprocess.run(["make", "--no-print-directory", "-s", "report", "PUBLISHED=maybe", f"OUT={cohort_folder / 'refused'}"],
                             cwd=paths.ROOT, capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "PUBLISHED=maybe is not an option" in refused.stderr + refused.stdout


def test_every_table_has_a_numbered_caption_and_tables_1_to_3_come_first(attrition, imbalance):
    for built in (attrition, imbalance):
        tables = numbered_tables(built)
        assert [number for number, _ in tables] == list(range(1, len(tables) + 1))
        assert [caption.split()[0] for _, caption in tables[:3]] == ["Characteristics", "Radiographic", "Height"]


def test_nothing_runs_past_the_foot_of_a_page(attrition_pdf):
    assert pages_running_past_their_foot(attrition_pdf) == []


def test_a_change_from_unequal_starting_values_is_sized_by_the_adjusted_estimate(imbalance):
    """LKA recovery (pre-operative minus 24-hour angle) in a cohort whose groups started apart in LKA: the estimate
    adjusted for the pre-operative value lies outside the unadjusted interval, and the Results give both sizes."""
    estimates = imbalance.results("adjusted.csv")
    recovery = estimates[estimates["variable"] == "lka_recovery"].set_index("model")[["estimate", "ci_low", "ci_high"]].astype(float)
    crude, baseline = recovery.loc["unadjusted"], recovery.loc["baseline"]
    assert crude["ci_low"] > 0 and baseline["ci_low"] > 0 and not crude["ci_low"] <= baseline["estimate"] <= crude["ci_high"]
    text = imbalance.page("results")
    assert (f"moves the estimate of LKA recovery from {crude['estimate']:.2f} ({crude['ci_low']:.2f} to {crude['ci_high']:.2f}) "
            f"to {baseline['estimate']:.2f} ({baseline['ci_low']:.2f} to {baseline['ci_high']:.2f}), outside the unadjusted interval") in text
