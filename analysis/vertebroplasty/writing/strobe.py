"""The STROBE checklist for cohort studies (von Elm et al., 2007), item by item: where this report answers it, and how fully.

:func:`checklist` gives the 22 items (``data/strobe-cohort-items.csv``) with a ``status`` — ``covered``, ``partly`` or
``missing`` — and ``where``, the place in the report as a Sphinx document path with an optional anchor
(``book/methods#statistical-analysis``; empty when the item is missing), plus a ``note`` saying in plain words why an
item is only partly covered or missing.  The status is decided by what the study description (``study.yml``) gives and
by ``facts`` about the build; nothing is marked covered because it usually is.  A partly covered or missing item is
named in the table (:func:`checklist_table`) and in the summary sentence (:func:`summary_sentence`), never hidden.

**Facts** of the build (every key optional; an unknown key or a wrong type is refused):

- ``synthetic`` (default ``False``): the data are the synthetic cohort reconstructed from the source study's published
  summaries; the summary sentence then says that the results items describe no real patients.
- ``has_abstract`` (``False``): the Summary page carries a structured abstract (background, methods, results, conclusions).
- ``has_background`` (default: the study description gives ``background``): the introduction prints that background.
- ``has_flow_screened`` (default: the study description gives ``screened`` and ``excluded``): the flow diagram starts from
  the patients screened and shows the exclusions by reason.
- ``adjusted_estimates`` (``True``): the results give confounder-adjusted estimates with confidence intervals.
- ``multicentre`` (``False``): the build has the Centres chapter (differences by centre, heterogeneity).
- ``study_size_section`` (``False``): a section explains how the number of patients came about; ``True`` means it is at
  ``book/methods#study-size``, a string gives its place.
- ``generalisability_section`` (``False``): a section discusses to whom the results apply; ``True`` means
  ``book/discussion#generalisability``, a string gives its place.
- ``places`` (``{}``): ``{item: place}``, where the build prints an item when not at the default place below (e.g.
  ``{22: "book/methods#funding"}``); used for covered and partly items only.

**Rules.** Study keys are those of :class:`vertebroplasty.contract.description.StudyDescription`, read with ``getattr`` (keys a
description does not have count as not given); "given" means present and not empty.

==== ======================== ======================================================== ===============================================
item topic                    covered when                                             otherwise
==== ======================== ======================================================== ===============================================
1    Title and abstract       ``title``, ``design`` and ``has_abstract``               partly (the Summary always gives key results)
2    Background/rationale     ``has_background``, or ``source_study`` (the             partly: the introduction states the question
                              introduction is the source study's rationale)            only, without a rationale
3    Objectives               ``primary_outcome`` (a question fixed in advance,        partly: the source study's question is tested
                              stated by the testing rule)                              by default
4    Study design             ``design``                                               missing
5    Setting                  ``centres`` and ``period``                               partly when one, missing when neither
6    Participants             eligibility (``inclusion_criteria`` or                   partly when one or two, missing when none
                              ``exclusion_criteria``), selection (``allocation``)
                              and follow-up (``follow_up_schedule`` or
                              ``minimum_follow_up_months``)
7    Variables                always (data contract, derived indices, confounders)     —
8    Data sources/measurement ``assessors`` and ``follow_up_schedule``                 partly
9    Bias                     ``assessors`` says the films were graded blind           partly (confounding met by adjustment only)
                              (blind, masked, unaware of …; not negated)
10   Study size               ``study_size_section``                                   missing (the power calculation in the
                                                                                       re-analysis plans a future study)
11   Quantitative variables   always (summaries; thresholds of clinically important    —
                              change, with their source)
12   Statistical methods      always (tests, testing rule, adjustment, multiple        —
                              imputation, best/worst case)
13   Participants             ``has_flow_screened``                                    partly: the flow diagram starts at the
                                                                                       patients included
14   Descriptive data         always (Table 1, missing data by variable, follow-up)    —
15   Outcome data             always (Table 2)                                         —
16   Main results             ``adjusted_estimates`` and ``confounders``               partly: default confounders (age, sex) with no
                                                                                       reason, or unadjusted estimates only
17   Other analyses           always (Table 3, exact and robust tests, sensitivity     —
                              analyses for missing data)
18   Key results              always (the study's questions answered)                  —
19   Limitations              always (the limitations chapter)                         —
20   Interpretation           ``references`` (other evidence to weigh)                 partly: weighed against the source study's
                                                                                       publication only
21   Generalisability         ``generalisability_section`` and ``inclusion_criteria``  partly when one, missing when neither
22   Funding                  ``funding``, unless it says nothing ("not stated",       missing
                              "unknown", "n/a", …)
==== ======================== ======================================================== ===============================================

**Places** (``where``; empty for a missing item; ``facts["places"]`` replaces any of them):

======== ==============================================================================================================
items    default place
======== ==============================================================================================================
1        ``book/index``
2        ``book/introduction``
3, 11-12 ``book/methods#statistical-analysis``
4-6, 22  ``book/methods#patients-and-procedure``
7-8      ``book/methods#measurements``
9, 19    ``book/limitations``
10       the ``study_size_section`` place
13       ``book/results#patients-and-follow-up``
14       ``book/results#patients-and-treatment-table-1``
15       ``book/results#radiographic-and-clinical-outcomes-table-2`` (and item 16 without adjusted estimates)
16       ``book/results#adjusted-estimates``
17       ``book/reanalysis``; ``book/centres#how-much-the-centres-differ`` when ``multicentre``
18       ``book/conclusions``
20       ``book/discussion``
21       the ``generalisability_section`` place; ``book/methods#patients-and-procedure`` when only the criteria are given
======== ==============================================================================================================

The links of :func:`checklist_table` to a section (``[text](methods.md#statistical-analysis)``) are resolved by MyST
only with ``myst_heading_anchors`` of at least 2 in the Sphinx configuration; without it the strict build fails
with ``myst.xref_missing`` (``anchor_links=False`` writes a ``{doc}`` link and the section's name instead).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pandas as pd

from vertebroplasty import paths
from vertebroplasty.writing import myst

STROBE_COLUMNS = ["item", "topic", "status", "where"]
#: Columns of :func:`checklist`: the CSV columns and the reason for a partly covered or missing item.
FRAME_COLUMNS = [*STROBE_COLUMNS, "note"]
STATUSES = ("covered", "partly", "missing")
ITEMS_FILE = paths.DATA / "strobe-cohort-items.csv"
N_ITEMS = 22

#: The chapters of the book (document path → title, ``##`` headings), as in ``book/*.md``.
CHAPTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "book/index": ("Summary", ("Abstract", "Summary of the report")),
    "book/introduction": ("Introduction", ()),
    "book/methods": ("Methods", ("Patients and procedure", "Measurements", "Study size", "Statistical analysis")),
    "book/results": ("Results", ("Patients and follow-up", "Patients and treatment (Table 1)", "Radiographic and clinical outcomes (Table 2)",
                                 "Adjusted estimates", "Clinically important improvement in pain and disability",
                                 "Outcomes by cement-distribution type (Table 3)")),
    "book/cases": ("Case presentations", ()),
    "book/centres": ("Centres", ("The difference between the groups, accounting for centre", "How much the centres differ", "The centres")),
    "book/discussion": ("Discussion", ("What the data show", "How aspiration could act", "Generalisability")),
    "book/conclusions": ("Conclusions", ()),
    "book/limitations": ("Limitations", ()),
    "book/reanalysis": ("Re-analysis with current reporting standards", ("Effect sizes", "Assumptions of the tests",
                                                                         "Exact tests beside the χ² tests", "Planning a follow-up study")),
    "book/provenance": ("Data provenance", ()),
    "book/reproduce": ("Re-running the report", ("This build", "On your own data")),
}

FACT_DEFAULTS = {
    "synthetic": False,
    "has_abstract": False,
    "has_background": None,  # None: whether the study description gives a background
    "has_flow_screened": None,  # None: whether the study description gives screened and excluded
    "adjusted_estimates": True,
    "multicentre": False,
    "study_size_section": False,
    "generalisability_section": False,
    "places": {},
}
#: Where a section of the build is assumed to be when its fact is ``True`` rather than a place.
SECTION_PLACES = {"study_size_section": "book/methods#study-size", "generalisability_section": "book/discussion#generalisability"}
#: Funding statements that give no funding.
UNINFORMATIVE = re.compile(r"\bnot\s+(stated|reported|given|described|known|available|disclosed|specified)\b|\bunknown\b|\bunclear\b|"
                           r"^\s*(n/?a|-+|—|\?+|tbd|to be (added|completed))\s*\.?\s*$", re.IGNORECASE)
BLIND = re.compile(r"\b(blind(ed|ly)?|mask(ed|ing)?|unaware of|without knowledge of|without knowing)\b", re.IGNORECASE)
NOT_BLIND = re.compile(r"\b(un|non-?)(blind|mask)|\b(not|without|no|never)\s+(\w+\s+){0,2}(blind|mask)", re.IGNORECASE)


def graded_blind(assessors: str | None) -> bool:
    """Whether a description of the assessors says the films were graded blind to the group (and does not negate it).

    >>> graded_blind("two radiologists blinded to the group"), graded_blind("not blinded"), graded_blind(None)
    (True, False, False)
    """
    return bool(assessors) and bool(BLIND.search(assessors)) and not NOT_BLIND.search(assessors)


PLACE = re.compile(r"^book/[a-z0-9_][a-z0-9_/-]*(#[a-z][a-z0-9-]*)?$")


def anchor(heading: str) -> str:
    """The id Sphinx gives a section with this heading (docutils' ``make_id``: ASCII, lower case, hyphens).

    >>> anchor("Patients and treatment (Table 1)"), anchor("Exact tests beside the χ² tests")
    ('patients-and-treatment-table-1', 'exact-tests-beside-the-2-tests')
    """
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"^[-0-9]+|-+$", "", re.sub(r"[^a-z0-9]+", "-", text))


def place(document: str, heading: str | None = None) -> str:
    """A place in the report: ``book/<document>`` with the anchor of one of its ``##`` headings (checked against :data:`CHAPTERS`)."""
    path = f"book/{document}"
    if path not in CHAPTERS:
        raise ValueError(f"unknown chapter {path!r}")
    if heading is None:
        return path
    if heading not in CHAPTERS[path][1]:
        raise ValueError(f"{path} has no heading {heading!r} (headings: {', '.join(CHAPTERS[path][1])})")
    return f"{path}#{anchor(heading)}"


@cache
def items() -> pd.DataFrame:
    """The 22 items of the checklist for cohort studies: ``item``, ``topic``, ``requirement`` (a paraphrase)."""
    table = pd.read_csv(ITEMS_FILE, dtype={"item": int, "topic": str, "requirement": str})
    if list(table["item"]) != list(range(1, N_ITEMS + 1)):
        raise ValueError(f"{ITEMS_FILE}: items must be numbered 1–{N_ITEMS} in order")
    return table


def _given(study, key: str):
    """The value of a study key when present and not empty (None otherwise); works on any object with attributes."""
    value = getattr(study, key, None)
    if isinstance(value, str):
        value = value.strip()
    if value is None or (hasattr(value, "__len__") and len(value) == 0):
        return None
    return value


def _check_place(key: str, value: str) -> str:
    if not isinstance(value, str) or not PLACE.match(value):
        raise ValueError(f"facts[{key!r}]: {value!r} is not a place like 'book/methods' or 'book/methods#statistical-analysis'")
    return value


def resolve_facts(study, facts: dict | None) -> dict:
    """``facts`` with the defaults filled in (those derived from the study description resolved); unknown keys and wrong types refused."""
    facts = dict(facts or {})
    unknown = sorted(set(facts) - set(FACT_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown STROBE fact(s) {', '.join(map(repr, unknown))} (known: {', '.join(FACT_DEFAULTS)})")
    resolved = {**FACT_DEFAULTS, **facts}
    if resolved["has_background"] is None:
        resolved["has_background"] = _given(study, "background") is not None
    if resolved["has_flow_screened"] is None:
        resolved["has_flow_screened"] = _given(study, "screened") is not None and _given(study, "excluded") is not None
    for key in ("synthetic", "has_abstract", "has_background", "has_flow_screened", "adjusted_estimates", "multicentre"):
        if not isinstance(resolved[key], bool):
            raise ValueError(f"facts[{key!r}] must be true or false, not {resolved[key]!r}")
    for key, default in SECTION_PLACES.items():
        value = resolved[key]
        if value is True:
            resolved[key] = default
        elif value is False or value is None:
            resolved[key] = ""
        else:
            resolved[key] = _check_place(key, value)
    places = resolved["places"]
    if not isinstance(places, dict):
        raise ValueError(f"facts['places'] must map item numbers to places, not {places!r}")
    for item, where in places.items():
        if not (isinstance(item, int) and 1 <= item <= N_ITEMS):
            raise ValueError(f"facts['places']: {item!r} is not an item number 1–{N_ITEMS}")
        _check_place(f"places[{item}]", where)
    return resolved


def _status(present: list[bool]) -> str:
    return "covered" if all(present) else "partly" if any(present) else "missing"


def _not_given(words: list[str]) -> str:
    return f"the study description gives no {myst.english_list(words, 'or')}" if words else ""


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _rules(study, facts: dict) -> dict[int, tuple[str, str, str]]:
    """``{item: (status, default place, note)}`` by the rules of the module docstring."""
    given = lambda key: _given(study, key) is not None  # noqa: E731
    source = bool(getattr(study, "source_study", False))
    methods_patients = place("methods", "Patients and procedure")
    methods_measurements = place("methods", "Measurements")
    methods_statistics = place("methods", "Statistical analysis")
    rules: dict[int, tuple[str, str, str]] = {}

    present = [given("title"), given("design"), facts["has_abstract"]]
    lacking = [words for ok, words in zip(present[:2], ["title", "study design"]) if not ok]
    rules[1] = ("covered" if all(present) else "partly", place("index"),
                _join(_not_given(lacking), "" if facts["has_abstract"] else "the report has no structured abstract (only the key results)"))

    if facts["has_background"] or source:
        rules[2] = ("covered", place("introduction"), "")
    else:
        rules[2] = ("partly", place("introduction"), "the introduction states the question only: the study description gives no "
                    "background or rationale of its own")

    rules[3] = (("covered", methods_statistics, "") if given("primary_outcome") else
                ("partly", methods_statistics, "the study description names no primary outcome, so the report tests the source study's "
                 "question (cement distribution) by default"))

    rules[4] = ("covered", methods_patients, "") if given("design") else ("missing", "", "the study description gives no study design")

    present = [given("centres"), given("period")]
    rules[5] = (_status(present), methods_patients,
                _not_given([words for ok, words in zip(present, ["centre", "period of treatment"]) if not ok]))

    present = [given("inclusion_criteria") or given("exclusion_criteria"), given("allocation"),
               given("follow_up_schedule") or given("minimum_follow_up_months")]
    words = ["eligibility criteria", "account of how patients came to be in each group", "follow-up schedule"]
    rules[6] = (_status(present), methods_patients, _not_given([w for ok, w in zip(present, words) if not ok]))

    rules[7] = ("covered", methods_measurements, "")

    present = [given("assessors"), given("follow_up_schedule")]
    words = ["account of who assessed the radiographs and how", "follow-up schedule (when the measurements were taken)"]
    rules[8] = ("covered" if all(present) else "partly", methods_measurements, _not_given([w for ok, w in zip(present, words) if not ok]))

    assessors = str(_given(study, "assessors") or "")
    if graded_blind(assessors):
        rules[9] = ("covered", place("limitations"), "")
    else:
        said = ("the study description does not say that the films were graded blind to the treatment group" if assessors else
                "the study description does not say who graded the films or whether they knew the treatment group")
        rules[9] = ("partly", place("limitations"), f"{said}; confounding is met only by adjustment")

    rules[10] = (("covered", facts["study_size_section"], "") if facts["study_size_section"] else
                 ("missing", "", "no part of the report explains how the number of patients came about (the power calculation "
                  "in the re-analysis plans a future study)"))

    rules[11] = ("covered", methods_statistics, "")
    rules[12] = ("covered", methods_statistics, "")

    if facts["has_flow_screened"]:
        rules[13] = ("covered", place("results", "Patients and follow-up"), "")
    else:
        screened, excluded = given("screened"), given("excluded")
        if screened and excluded:
            note = "the flow diagram does not show the patients screened and excluded that the study description gives"
        else:
            lacking = [w for ok, w in zip([screened, excluded], ["number of patients screened", "reasons for exclusion"]) if not ok]
            note = f"{_not_given(lacking)}, so the flow diagram starts at the patients included"
        rules[13] = ("partly", place("results", "Patients and follow-up"), note)

    rules[14] = ("covered", place("results", "Patients and treatment (Table 1)"), "")
    rules[15] = ("covered", place("results", "Radiographic and clinical outcomes (Table 2)"), "")

    if not facts["adjusted_estimates"]:
        rules[16] = ("partly", place("results", "Radiographic and clinical outcomes (Table 2)"), "only unadjusted estimates are given")
    elif given("confounders"):
        rules[16] = ("covered", place("results", "Adjusted estimates"), "")
    else:
        rules[16] = ("partly", place("results", "Adjusted estimates"), "the estimates are adjusted for the report's default "
                     "confounders (age and sex); the study description names none and gives no reason for them")

    rules[17] = ("covered", place("centres", "How much the centres differ") if facts["multicentre"] else place("reanalysis"), "")
    rules[18] = ("covered", place("conclusions"), "")
    rules[19] = ("covered", place("limitations"), "")

    rules[20] = (("covered", place("discussion"), "") if given("references") else
                 ("partly", place("discussion"), ("the discussion weighs the results against the source study's publication only; "
                                                  "the study description cites no other studies") if facts["synthetic"] else
                  "the study description cites no other studies, so the discussion cannot set the results beside them"))

    section, criteria = facts["generalisability_section"], given("inclusion_criteria")
    if section and criteria:
        rules[21] = ("covered", section, "")
    elif section:
        rules[21] = ("partly", section, "the study description gives no inclusion criteria, so readers cannot tell to whom the "
                     "results apply")
    elif criteria:
        rules[21] = ("partly", methods_patients, "no part of the report discusses how far the results apply to other patients; "
                     "only the inclusion criteria are given")
    else:
        rules[21] = ("missing", "", "no part of the report discusses to whom the results apply, and the study description gives "
                     "no inclusion criteria")

    funding = str(_given(study, "funding") or "")
    if funding and not UNINFORMATIVE.search(funding):
        rules[22] = ("covered", methods_patients, "")
    elif funding:
        rules[22] = ("missing", "", f"no source of funding is stated (the study description says: {funding})")
    else:
        rules[22] = ("missing", "", "no funding stated in the study description")
    return rules


def checklist(study, facts: dict | None = None) -> pd.DataFrame:
    """The 22 items with ``status`` (covered, partly, missing), ``where`` (a document path and anchor; empty when missing) and ``note``.

    ``study`` is a :class:`vertebroplasty.contract.description.StudyDescription` (or any object with its attributes, or None:
    nothing described); ``facts`` are the facts of the build (module docstring).  ``frame.attrs["synthetic"]`` keeps
    that fact for :func:`summary_sentence`.
    """
    facts = resolve_facts(study, facts)
    rules = _rules(study, facts)
    rows = []
    for item, topic in zip(items()["item"], items()["topic"]):
        status, where, note = rules[int(item)]
        if status == "missing":
            where = ""
        else:
            where = facts["places"].get(int(item), where)
            if not where:
                raise AssertionError(f"item {item}: {status} without a place")
        rows.append({"item": int(item), "topic": topic, "status": status, "where": where, "note": note})
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    frame.attrs["synthetic"] = facts["synthetic"]
    return frame


def _heading(document: str, fragment: str) -> str:
    for heading in CHAPTERS.get(document, ("", ()))[1]:
        if anchor(heading) == fragment:
            return heading
    return fragment.replace("-", " ").capitalize()


def link(where: str, anchor_links: bool = True) -> str:
    """A place as a MyST link from a page in ``book/``: ``{doc}`methods` `` or ``[Methods: Statistical analysis](methods.md#statistical-analysis)``.

    >>> link("book/methods"), link("book/results#adjusted-estimates")
    ('{doc}`methods`', '[Results: Adjusted estimates](results.md#adjusted-estimates)')
    """
    if not where:
        return "—"
    document, _, fragment = where.partition("#")
    relative = document.removeprefix("book/")
    if not fragment:
        return f"{{doc}}`{relative}`"
    heading = myst.escape_markdown(_heading(document, fragment))
    if not anchor_links:
        return f"{{doc}}`{relative}`, section *{heading}*"
    title = myst.escape_markdown(CHAPTERS.get(document, (relative.capitalize(),))[0])
    return f"[{title}: {heading}]({relative}.md#{fragment})"


def checklist_table(frame: pd.DataFrame, anchor_links: bool = True, name: str = "strobe-checklist",
                    caption: str = "The STROBE items for cohort studies, one by one.") -> str:
    """The checklist as a MyST list-table (Item, Topic, Status, Where in this report, Note), for a page at ``book/strobe.md``.

    Links to a section need ``myst_heading_anchors`` ≥ 2 in the Sphinx configuration; ``anchor_links=False`` links the
    chapter and names the section instead.
    """
    rows = [[str(row.item), myst.escape_markdown(row.topic), row.status, link(row.where, anchor_links),
             myst.escape_markdown(row.note) if row.note else "—"] for row in frame.itertuples()]
    return myst.list_table(["Item", "Topic", "Status", "Where in this report", "Note"], rows, [6, 25, 10, 27, 32], name=name, caption=caption)


def _topics(frame: pd.DataFrame, status: str) -> str:
    """The topics of the items with this status, in lower case; a topic two items share (participants) carries its item number."""
    repeated = frame["topic"].duplicated(keep=False)
    chosen = frame[frame["status"] == status]
    topics = [topic[:1].lower() + topic[1:] + (f" (item {item})" if repeated[index] else "")
              for index, item, topic in zip(chosen.index, chosen["item"], chosen["topic"])]
    return myst.english_list(topics)


def summary_sentence(frame: pd.DataFrame) -> str:
    """One sentence counting the covered, partly covered and missing items, naming the topics of the last two.

    >>> print(summary_sentence(checklist(None)))  # doctest: +NORMALIZE_WHITESPACE
    Of the 22 items of the STROBE checklist for cohort studies, 8 are covered, 8 partly (title and abstract, background/rationale,
    objectives, data sources/measurement, bias, participants (item 13), main results and interpretation) and 6 missing (study
    design, setting, participants (item 6), study size, generalisability and funding).
    """
    counts = {status: int((frame["status"] == status).sum()) for status in STATUSES}
    total = len(frame)
    verb = "is" if counts["covered"] == 1 else "are"
    if counts["covered"] == total:
        return f"All {total} items of the STROBE checklist for cohort studies are covered."
    parts = [f"{counts['covered']} {verb} covered"]
    for status in ("partly", "missing"):
        if counts[status]:
            parts.append(f"{counts[status]} {status} ({_topics(frame, status)})")
    sentence = f"Of the {total} items of the STROBE checklist for cohort studies, {myst.english_list(parts)}."
    if frame.attrs.get("synthetic"):
        sentence += (" The data of this build are synthetic: the results items are reported in the form the checklist asks for, "
                     "but their numbers describe no real patients.")
    return sentence
