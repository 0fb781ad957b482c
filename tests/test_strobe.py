"""The STROBE checklist (vertebroplasty.writing.strobe): statuses item by item against expectations written here by hand from the rules.

Three descriptions: a fully described study with every fact of the build in its favour, an empty description, and the
source study's own ``data/study.yml``.  The table is rendered by a small Sphinx build (MyST, warnings as errors) whose
chapters carry the real chapters' headings, so every link must resolve.  When a built report is at ``/tmp/r1/html`` (a
local convenience only), every anchor is also looked up among the ids of its pages.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from docutils.nodes import make_id
from myst_parser.mdit_to_docutils.base import default_slugify
from pydantic import ValidationError

from vertebroplasty import paths
from vertebroplasty.contract.description import StudyDescription, load
from vertebroplasty.writing import strobe

BUILT = Path("/tmp/r1/html")

FULL_KEYS = {
    "title": "Aspiration before cementing in vertebroplasty: a cohort study",
    "authors": ["A. Author", "B. Author"],
    "design": "a prospective cohort study of consecutive patients",
    "centres": ["Example University Hospital"],
    "centre_type": "university hospital",
    "period": {"start": "January 2021", "end": "December 2022"},
    "inclusion_criteria": ["a single osteoporotic thoracolumbar fracture"],
    "exclusion_criteria": ["pathological fractures"],
    "allocation": "the technique followed the operating week (alternating weeks)",
    "operators": "two spine surgeons",
    "technique": "bipedicular vertebroplasty under fluoroscopy",
    "follow_up_schedule": "radiographs within one day and at 1, 6 and 12 months",
    "minimum_follow_up_months": 12,
    "assessors": "two radiologists blinded to the treatment group graded the films",
    "ethics": "approved by the regional ethics committee",
    "funding": "Regional research fund, grant 123; the funder had no role in the study",
    "primary_outcome": "cement_distribution",
    "confounders": ["age", "sex"],
}
#: Keys the study description is gaining (read by the checklist with getattr).
NEW_KEYS = {
    "background": "Why aspiration might help the cement spread.",
    "references": ["An earlier cohort of aspiration before vertebroplasty."],
    "screened": 140,
    "excluded": {"pathological fracture": 12, "no consent": 8},
    "registration": "registered before the first patient",
    "conflicts_of_interest": "none",
}
FULL_FACTS = {"has_abstract": True, "study_size_section": True, "generalisability_section": True}
#: The facts of the build at /tmp/r1 (the source study's synthetic data, no new sections).
SOURCE_FACTS = {"synthetic": True}

C, P, M = "covered", "partly", "missing"
EXPECTED_FULL = dict.fromkeys(range(1, 23), C)
EXPECTED_EMPTY = {1: P, 2: P, 3: P, 4: M, 5: M, 6: M, 7: C, 8: P, 9: P, 10: M, 11: C, 12: C, 13: P, 14: C, 15: C, 16: P,
                  17: C, 18: C, 19: C, 20: P, 21: M, 22: M}
EXPECTED_SOURCE = {1: P, 2: C, 3: C, 4: C, 5: C, 6: C, 7: C, 8: C, 9: P, 10: M, 11: C, 12: C, 13: P, 14: C, 15: C, 16: P,
                   17: C, 18: C, 19: C, 20: P, 21: P, 22: M}
METHODS_PATIENTS = "book/methods#patients-and-procedure"
STATISTICS = "book/methods#statistical-analysis"
EXPECTED_FULL_WHERE = {
    1: "book/index", 2: "book/introduction", 3: STATISTICS, 4: METHODS_PATIENTS, 5: METHODS_PATIENTS, 6: METHODS_PATIENTS,
    7: "book/methods#measurements", 8: "book/methods#measurements", 9: "book/limitations", 10: "book/methods#study-size",
    11: STATISTICS, 12: STATISTICS, 13: "book/results#patients-and-follow-up", 14: "book/results#patients-and-treatment-table-1",
    15: "book/results#radiographic-and-clinical-outcomes-table-2", 16: "book/results#adjusted-estimates", 17: "book/reanalysis",
    18: "book/conclusions", 19: "book/limitations", 20: "book/discussion", 21: "book/discussion#generalisability", 22: METHODS_PATIENTS,
}


def full_study():
    """The fully described study: the real model when it already has the new keys, otherwise the model's values plus them."""
    try:
        return StudyDescription.model_validate({**FULL_KEYS, **NEW_KEYS})
    except ValidationError:
        return SimpleNamespace(**dict(StudyDescription.model_validate(FULL_KEYS)), **NEW_KEYS)


def source_study():
    return load(paths.DEFAULT_STUDY)


def statuses(frame: pd.DataFrame) -> dict[int, str]:
    return dict(zip(frame["item"], frame["status"]))


def frames() -> dict[str, pd.DataFrame]:
    return {"full": strobe.checklist(full_study(), FULL_FACTS), "empty": strobe.checklist(StudyDescription()),
            "none": strobe.checklist(None), "source": strobe.checklist(source_study(), SOURCE_FACTS)}


# --------------------------------------------------------------------------- the items file


def test_items_file_has_the_22_items_of_the_cohort_checklist():
    table = pd.read_csv(paths.DATA / "strobe-cohort-items.csv")
    assert list(table.columns) == ["item", "topic", "requirement"]
    assert list(table["item"]) == list(range(1, 23))
    assert table["topic"].str.len().gt(0).all() and table["requirement"].str.len().gt(20).all()
    assert dict(zip(table["item"], table["topic"]))[22] == "Funding"
    assert dict(zip(table["item"], table["topic"]))[13] == "Participants"


# --------------------------------------------------------------------------- statuses item by item


@pytest.mark.parametrize(("name", "expected"), [("full", EXPECTED_FULL), ("empty", EXPECTED_EMPTY), ("none", EXPECTED_EMPTY),
                                                ("source", EXPECTED_SOURCE)])
def test_statuses_item_by_item(name, expected):
    frame = frames()[name]
    assert list(frame.columns) == [*strobe.STROBE_COLUMNS, "note"]
    assert list(frame["item"]) == list(range(1, 23))
    assert set(frame["status"]) <= set(strobe.STATUSES)
    assert statuses(frame) == expected


def test_where_and_notes_follow_the_status():
    for name, frame in frames().items():
        for row in frame.itertuples():
            if row.status == "missing":
                assert row.where == "", (name, row.item)
            else:
                assert re.fullmatch(r"book/[a-z-]+(#[a-z0-9-]+)?", row.where), (name, row.item, row.where)
            # a partly covered or missing item always says why; a covered one says nothing
            assert bool(row.note) == (row.status != "covered"), (name, row.item, row.note)


def test_places_of_the_full_description():
    frame = strobe.checklist(full_study(), FULL_FACTS)
    assert dict(zip(frame["item"], frame["where"])) == EXPECTED_FULL_WHERE


def test_source_study_notes_name_what_is_lacking():
    frame = strobe.checklist(source_study(), SOURCE_FACTS).set_index("item")
    assert frame.at[22, "note"] == "no source of funding is stated (the study description says: not stated in the source text)"
    assert "blind" in frame.at[9, "note"]
    assert "screened" in frame.at[13, "note"] and "reasons for exclusion" in frame.at[13, "note"]
    assert "age and sex" in frame.at[16, "note"]
    assert frame.at[21, "where"] == METHODS_PATIENTS
    assert frame.at[1, "note"].startswith("the report has no structured abstract")


def test_setting_covered_partly_missing():
    assert statuses(strobe.checklist(SimpleNamespace(centres=["X"], period={"start": "a", "end": "b"})))[5] == C
    assert statuses(strobe.checklist(SimpleNamespace(centres=["X"])))[5] == P
    only_period = strobe.checklist(SimpleNamespace(period={"start": "a", "end": "b"})).set_index("item")
    assert only_period.at[5, "status"] == P and only_period.at[5, "note"] == "the study description gives no centre"
    assert statuses(strobe.checklist(SimpleNamespace(centres=[], period=None)))[5] == M


@pytest.mark.parametrize(("funding", "status"), [
    ("Regional research fund", C), ("none; the study had no external funding", C), ("not stated", M), ("Not reported.", M),
    ("unknown", M), ("n/a", M), ("N/A", M), ("  ", M), (None, M)])
def test_funding(funding, status):
    assert statuses(strobe.checklist(SimpleNamespace(funding=funding)))[22] == status


@pytest.mark.parametrize(("assessors", "status"), [
    ("two radiologists blinded to the treatment group", C), ("graded blind to the technique", C), ("masked to the group", C),
    ("graded without knowledge of the group", C), ("the assessors were not blinded", P), ("unblinded surgeon", P),
    ("non-blinded review", P), ("two independent assessors; disagreements settled by discussion", P), (None, P)])
def test_bias_needs_blinding(assessors, status):
    assert statuses(strobe.checklist(SimpleNamespace(assessors=assessors)))[9] == status


def test_participants_flow_from_screened_and_excluded():
    both = strobe.checklist(SimpleNamespace(screened=140, excluded={"no consent": 8})).set_index("item")
    assert both.at[13, "status"] == C
    screened_only = strobe.checklist(SimpleNamespace(screened=140)).set_index("item")
    assert screened_only.at[13, "status"] == P and "reasons for exclusion" in screened_only.at[13, "note"]
    assert "number of patients screened" not in screened_only.at[13, "note"]
    not_drawn = strobe.checklist(SimpleNamespace(screened=140, excluded={"x": 1}), {"has_flow_screened": False}).set_index("item")
    assert not_drawn.at[13, "status"] == P and "flow diagram does not show" in not_drawn.at[13, "note"]


def test_participants_eligibility_selection_follow_up():
    assert statuses(strobe.checklist(SimpleNamespace(exclusion_criteria=["x"], allocation="y", minimum_follow_up_months=12)))[6] == C
    partly = strobe.checklist(SimpleNamespace(inclusion_criteria=["x"])).set_index("item")
    assert partly.at[6, "status"] == P
    assert partly.at[6, "note"] == ("the study description gives no account of how patients came to be in each group or "
                                    "follow-up schedule")


def test_main_results_and_other_facts():
    study = SimpleNamespace(confounders=["age"])
    assert statuses(strobe.checklist(study))[16] == C
    unadjusted = strobe.checklist(study, {"adjusted_estimates": False}).set_index("item")
    assert unadjusted.at[16, "status"] == P and unadjusted.at[16, "where"].endswith("#radiographic-and-clinical-outcomes-table-2")
    assert strobe.checklist(None, {"multicentre": True}).set_index("item").at[17, "where"] == "book/centres#how-much-the-centres-differ"
    assert statuses(strobe.checklist(SimpleNamespace(background="why")))[2] == C
    assert statuses(strobe.checklist(SimpleNamespace(background="why"), {"has_background": False}))[2] == P
    titled = SimpleNamespace(title="T", design="a cohort study")
    assert statuses(strobe.checklist(titled, {"has_abstract": True}))[1] == C
    assert statuses(strobe.checklist(titled))[1] == P


def test_sections_given_as_places_and_place_overrides():
    frame = strobe.checklist(SimpleNamespace(inclusion_criteria=["x"], funding="fund"),
                             {"study_size_section": "book/methods#size", "generalisability_section": True,
                              "places": {22: "book/methods#funding", 4: "book/index"}}).set_index("item")
    assert frame.at[10, "where"] == "book/methods#size" and frame.at[10, "status"] == C
    assert frame.at[21, "where"] == "book/discussion#generalisability" and frame.at[21, "status"] == C
    assert frame.at[22, "where"] == "book/methods#funding"
    assert frame.at[4, "status"] == M and frame.at[4, "where"] == ""  # a missing item has no place, whatever is asked
    section_only = strobe.checklist(None, {"generalisability_section": True}).set_index("item")
    assert section_only.at[21, "status"] == P and "inclusion criteria" in section_only.at[21, "note"]


@pytest.mark.parametrize("facts", [{"sensitivity_analyses": True}, {"synthetic": "yes"}, {"study_size_section": "methods"},
                                   {"places": {23: "book/index"}}, {"places": {1: "book/index#Bad Anchor"}}, {"places": []}])
def test_facts_refused(facts):
    with pytest.raises(ValueError):
        strobe.checklist(None, facts)


def test_the_csv_columns():
    frame = strobe.checklist(source_study(), SOURCE_FACTS)[strobe.STROBE_COLUMNS]
    assert strobe.STROBE_COLUMNS == ["item", "topic", "status", "where"]
    text = frame.to_csv(index=False)
    assert text.splitlines()[0] == "item,topic,status,where" and len(text.splitlines()) == 23


# --------------------------------------------------------------------------- the sentence and the table


def test_summary_sentence_names_partly_and_missing_items():
    sentence = strobe.summary_sentence(strobe.checklist(source_study(), SOURCE_FACTS))
    assert sentence.startswith("Of the 22 items of the STROBE checklist for cohort studies, 14 are covered, 6 partly (title and "
                               "abstract, bias, participants (item 13), main results, interpretation and generalisability) and 2 "
                               "missing (study size and funding).")
    assert "synthetic" in sentence
    full = strobe.summary_sentence(strobe.checklist(full_study(), FULL_FACTS))
    assert full == "All 22 items of the STROBE checklist for cohort studies are covered."
    one_missing = strobe.checklist(SimpleNamespace(**{**dict(full_study().__dict__), "funding": None}), FULL_FACTS)
    assert strobe.summary_sentence(one_missing) == ("Of the 22 items of the STROBE checklist for cohort studies, 21 are covered and 1 "
                                                    "missing (funding).")


def test_checklist_table_cells():
    table = strobe.checklist_table(strobe.checklist(source_study(), SOURCE_FACTS))
    assert table.startswith("```{list-table}") and table.endswith("```")
    assert "  - Where in this report" in table
    assert "[Methods: Statistical analysis](methods.md#statistical-analysis)" in table
    assert "[Results: Patients and treatment \\(Table 1\\)](results.md#patients-and-treatment-table-1)" in table
    assert "{doc}`limitations`" in table
    assert table.count("\n* - ") == 22 + 1  # header and 22 items (the first row follows the options)
    plain = strobe.checklist_table(strobe.checklist(source_study(), SOURCE_FACTS), anchor_links=False)
    assert "](" not in plain and "{doc}`methods`, section *Statistical analysis*" in plain


def test_chapters_match_the_book():
    """The chapter titles and headings the checklist links to are those of book/*.md (new headings may be added there)."""
    for document, (title, headings) in strobe.CHAPTERS.items():
        lines = (paths.ROOT / f"{document}.md").read_text(encoding="utf-8").splitlines()
        assert lines[0] == f"# {title}", document
        present = {line[3:].strip() for line in lines if line.startswith("## ")}
        assert set(headings) <= present, (document, set(headings) - present)
        for heading in headings:
            assert strobe.anchor(heading) == make_id(heading)


def test_every_anchor_is_also_a_myst_heading_slug():
    """With ``myst_heading_anchors``, MyST resolves ``methods.md#x`` by its own (GitHub-style) slug: it must equal the Sphinx id."""
    for frame in frames().values():
        for where in frame["where"]:
            document, _, fragment = where.partition("#")
            if fragment and document in strobe.CHAPTERS and fragment not in ("study-size", "generalisability"):
                heading = next(h for h in strobe.CHAPTERS[document][1] if strobe.anchor(h) == fragment)
                assert default_slugify(heading) == fragment


def _sphinx_project(root: Path, table: str, sentence: str, heading_anchors: bool) -> Path:
    """A small book: stubs of the real chapters (their title and ``##`` headings), plus book/strobe.md with the table."""
    source = root / "source"
    (source / "book").mkdir(parents=True)
    config = ['extensions = ["myst_parser"]', 'myst_enable_extensions = ["colon_fence"]']
    if heading_anchors:
        config.append("myst_heading_anchors = 2")
    (source / "conf.py").write_text("\n".join(config) + "\n")
    documents = []
    for document, (title, headings) in strobe.CHAPTERS.items():
        body = [f"# {title}", ""] + [f"## {heading}\n\ntext\n" for heading in headings]
        (source / f"{document}.md").write_text("\n".join(body) + "\n", encoding="utf-8")
        documents.append(document)
    (source / "book" / "strobe.md").write_text(f"# STROBE checklist\n\n{sentence}\n\n{table}\n", encoding="utf-8")
    toctree = "\n".join(["```{toctree}", *documents, "book/strobe", "```"])
    (source / "index.md").write_text(f"# Test book\n\n{toctree}\n", encoding="utf-8")
    return source


@pytest.mark.parametrize("anchor_links", [True, False])
def test_table_renders_in_a_strict_sphinx_build(tmp_path, anchor_links):
    frame = strobe.checklist(source_study(), {**SOURCE_FACTS, "multicentre": True})
    source = _sphinx_project(tmp_path, strobe.checklist_table(frame, anchor_links=anchor_links), strobe.summary_sentence(frame),
                             heading_anchors=anchor_links)
    out = tmp_path / "html"
    completed = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html", str(source), str(out)],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    page = (out / "book" / "strobe.html").read_text(encoding="utf-8")
    assert page.count("<tr") == 23
    for where in frame["where"]:
        if not where:
            continue
        document, _, fragment = where.partition("#")
        relative = document.removeprefix("book/") + ".html"
        assert f'href="{relative}' in page, where
        if fragment:
            if anchor_links:
                assert f'href="{relative}#{fragment}"' in page
            assert f'id="{fragment}"' in (out / f"{document}.html").read_text(encoding="utf-8")


@pytest.mark.skipif(not (BUILT / "book").is_dir(), reason="no built report at /tmp/r1/html (local convenience only)")
@pytest.mark.parametrize("name", ["source", "empty"])
def test_anchors_exist_in_the_built_report(name):
    frame = strobe.checklist(source_study(), SOURCE_FACTS) if name == "source" else strobe.checklist(StudyDescription())
    for where in frame["where"]:
        if not where:
            continue
        document, _, fragment = where.partition("#")
        page = BUILT / f"{document}.html"
        assert page.is_file(), where
        if fragment:
            assert f'id="{fragment}"' in page.read_text(encoding="utf-8"), where
