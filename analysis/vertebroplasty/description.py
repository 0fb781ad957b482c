"""The description of the study a cohort comes from (``study.yml``), and the methods text written from it.

A centre running the report on its own data describes its study beside the data (``STUDY=path/to/study.yml``,
or ``study.yml`` inside a folder of centre files).  The methods, the title page and the summary are written from
that description; an item not described is named as such, never filled in from another study.  The synthetic
default cohort ships the published source study's description (``data/study.yml``, ``source_study: true``).

Every key is optional; unknown keys and wrong types are refused with the key named.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import myst

#: Items the methods describe, in order, with how a missing item is named.
ITEMS = {
    "design": "the study design",
    "centres": "the centre(s)",
    "period": "the period of treatment",
    "inclusion_criteria": "the inclusion criteria",
    "exclusion_criteria": "the exclusion criteria",
    "allocation": "how patients came to be in each group",
    "operators": "who performed the operations",
    "technique": "the surgical technique",
    "follow_up_schedule": "the follow-up schedule",
    "assessors": "who assessed the radiographs",
    "ethics": "ethics approval and consent",
    "funding": "the funding",
    "conflicts_of_interest": "the authors' conflicts of interest",
}


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = Field(description="first month of treatment, e.g. 'January 2019'")
    end: str = Field(description="last month of treatment, e.g. 'March 2020'")


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    affiliation: str | None = None


class StudyDescription(BaseModel):
    """The keys of ``study.yml`` (all optional)."""

    model_config = ConfigDict(extra="forbid")
    source_study: bool = Field(False, description="true only for the description of the published study the default data were reconstructed from")
    title: str | None = Field(None, description="title of the study or of this report")
    citation: str | None = Field(None, description="how to cite the source publication, when there is one")
    authors: list[str | Author] = Field(default_factory=list, description="authors or investigators: names, or mappings with "
                                        "name and affiliation")
    registration: str | None = Field(None, description="registry and number, e.g. 'ChiCTR2100000000', or 'not registered'")
    conflicts_of_interest: str | None = Field(None, description="the authors' competing interests, e.g. 'none declared'")
    background: str | None = Field(None, description="the study's rationale for the Introduction, in its own words")
    references: list[str] = Field(default_factory=list, description="the background's references: BibTeX entries or DOIs")
    study_size: str | None = Field(None, description="how the number of patients was decided (STROBE item 10)")
    screened: int | None = Field(None, ge=0, description="patients screened for eligibility, before the exclusions")
    excluded: dict[str, int] = Field(default_factory=dict, description="patients excluded before analysis: reason -> count")
    design: str | None = Field(None, description="e.g. 'retrospective cohort study'")
    centres: list[str] = Field(default_factory=list, description="names of the participating centres")
    centre_type: str | None = Field(None, description="e.g. 'university hospital'")
    period: Period | None = None
    inclusion_criteria: list[str] = Field(default_factory=list)
    exclusion_criteria: list[str] = Field(default_factory=list)
    allocation: str | None = Field(None, description="how patients came to be in group A or B")
    operators: str | None = Field(None, description="who performed the operations")
    anaesthesia: str | None = None
    technique: str | None = Field(None, description="technique notes, both groups")
    aspiration: str | None = Field(None, description="how the haemorrhage was aspirated in group A")
    perioperative_care: str | None = None
    follow_up_schedule: str | None = Field(None, description="e.g. 'radiographs within 1 day and at 1, 6 and 12 months'")
    minimum_follow_up_months: float | None = Field(None, description="follow-up required for inclusion, months")
    assessors: str | None = Field(None, description="who graded the films and how disagreements were settled")
    software: str | None = Field(None, description="statistics software of the original analysis")
    ethics: str | None = None
    funding: str | None = None
    primary_outcome: str | None = Field(None, description="the one outcome tested at alpha (a dictionary or derived variable); "
                                        "default: cement_distribution, the source study's question")
    primary_outcome_rationale: str | None = Field(None, description="why that outcome is the primary one")
    secondary_outcomes: list[str] | None = Field(None, description="outcomes Holm-adjusted together as one family; default: every "
                                                 "other outcome row of Tables 1–3")
    confounders: list[str] | None = Field(None, description="variables the adjusted estimates take into account besides the "
                                          "pre-operative value; default: age and sex")
    mcid: dict[str, float] | None = Field(None, description="minimal clinically important improvement from the pre-operative "
                                          "value, in points, per outcome (variable: points); default: VAS 1.5 points, "
                                          "ODI 10 points (Ostelo et al. 2008)")


DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
BIBTEX_KEY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]\s*([^,\s]+)\s*,", re.DOTALL)


def reference_problems(references: list[str]) -> list[str]:
    """References that are neither a BibTeX entry (read by pybtex) nor a DOI, and duplicate keys, each named."""
    from pybtex.database import parse_string

    problems, keys = [], []
    for number, text in enumerate(references, 1):
        text = str(text).strip()
        if DOI.match(text):
            keys.append(reference_key(text, number))
            continue
        match = BIBTEX_KEY.match(text)
        if not match:
            problems.append(f"key 'references', item {number}: {text[:60]!r} is neither a BibTeX entry (@article{{key, …}}) nor a DOI")
            continue
        try:
            parse_string(text, "bibtex")
        except Exception as error:  # pybtex raises several kinds of errors for malformed entries
            problems.append(f"key 'references', item {number}: the BibTeX entry {match.group(1)!r} cannot be read ({error})")
            continue
        keys.append(match.group(1))
    from . import paths

    known = set(re.findall(r"^@\w+\{([^,\s]+),", paths.REFERENCES.read_text(encoding="utf-8"), re.MULTILINE))
    problems += [f"key 'references': the key {key!r} is already a reference of the report; choose another key"
                 for key in keys if key in known]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    problems += [f"key 'references': the key {key!r} appears more than once" for key in duplicated]
    return problems


def reference_key(text: str, number: int) -> str:
    """The citation key of a reference: its BibTeX key, or ``study-ref-<n>`` for a DOI."""
    match = BIBTEX_KEY.match(text)
    return match.group(1) if match else f"study-ref-{number}"


def study_bibtex(description: StudyDescription) -> tuple[str, list[str]]:
    """The study's references as one BibTeX file (a DOI becomes a @misc entry with its address) and their keys."""
    entries, keys = ["% the study description's own references (study.yml `references`)"], []
    for number, text in enumerate(description.references, 1):
        text = str(text).strip()
        key = reference_key(text, number)
        doi = DOI.match(text)
        if doi:
            value = doi.group(1)
            entries.append(f"@misc{{{key},\n  author = {{{{Reference {number}}}}},\n  title = {{{{doi:{value}}}}},\n  year = {{n.d.}},\n"
                           f"  doi = {{{value}}},\n  url = {{https://doi.org/{value}}}\n}}")
        else:
            entries.append(text)
        keys.append(key)
    return "\n".join(entries) + "\n", keys


class StudyDescriptionError(ValueError):
    """A study description that cannot be used, with every problem named."""


def load(path: str | Path | None) -> StudyDescription:
    """Read and validate a ``study.yml``; an empty path gives an empty description (nothing described)."""
    if not path:
        return StudyDescription()
    path = Path(path)
    if not path.is_file():
        raise StudyDescriptionError(f"{path}: the study description must be an existing YAML file")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise StudyDescriptionError(f"{path}: not readable as YAML ({error})") from None
    if not isinstance(content, dict):
        raise StudyDescriptionError(f"{path}: the file must hold keys and values (a YAML mapping), not a {type(content).__name__}")
    try:
        description = StudyDescription.model_validate(content)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = ".".join(str(part) for part in item["loc"])
            if item["type"] == "extra_forbidden":
                problems.append(f"unknown key {key!r} (known keys: {', '.join(StudyDescription.model_fields)})")
            else:
                problems.append(f"key {key!r}: {item['msg']} (got {item.get('input')!r})")
        raise StudyDescriptionError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)) from None
    from . import tables, testing_rule

    problems = testing_rule.check_plan(description.primary_outcome, description.secondary_outcomes, description.confounders,
                                       description.mcid, tables.TABLE_VARIABLES)
    problems += reference_problems(description.references)
    problems += [f"key 'excluded.{reason}': {count} must not be negative" for reason, count in description.excluded.items() if count < 0]
    if problems:
        raise StudyDescriptionError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return description


def not_described(description: StudyDescription) -> list[str]:
    """The methods items the description leaves out, in words."""
    return [words for key, words in ITEMS.items() if not getattr(description, key)]


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {myst.escape_markdown(item)}" for item in items)


def methods_text(description: StudyDescription, n_patients: int, sizes: dict[str, int]) -> str:
    """The *Patients and procedure* part of the methods, written only from ``description`` (MyST markdown).

    Text from the file is joined into sentences (:func:`myst.sentence`): a capital letter, one full stop.
    """
    e = myst.escape_markdown

    def said(text: str) -> str:
        return e(myst.sentence(text))

    whose = "The source study" if description.source_study else "This study"
    lines = []
    design = e(myst.clause(description.design)) if description.design else "a comparison of two vertebroplasty techniques"
    where = ""
    if description.centres:
        where = f" at {myst.english_list([e(myst.clause(c)) for c in description.centres])}"
        if description.centre_type:
            where += f" ({e(myst.clause(description.centre_type))})"
    when = f" between {e(description.period.start)} and {e(description.period.end)}" if description.period else ""
    lines.append(f"{whose} is {design}{where}{when}. The cohort analysed here has {n_patients} patients: "
                 f"{sizes.get('A', 0)} in group A (vertebroplasty with fracture-haemorrhage aspiration) and {sizes.get('B', 0)} in "
                 "group B (conventional vertebroplasty).")
    if description.screened is not None or description.excluded:
        excluded = sum(description.excluded.values())
        reasons = myst.english_list([f"{count} for {e(myst.clause(reason))}" for reason, count in description.excluded.items()])
        screened = f"Of {description.screened} patients screened for eligibility, " if description.screened is not None else ""
        lines.append(f"{screened}{excluded} {'was' if excluded == 1 else 'were'} excluded before analysis"
                     + (f": {reasons}" if reasons else "") + "; the flow diagram in the Results starts from them.")
    if description.allocation:
        lines.append(f"**Allocation.** {said(description.allocation)}")
    if description.inclusion_criteria:
        lines.append("Patients were included when they met these criteria:\n\n" + _bullets(description.inclusion_criteria))
    if description.exclusion_criteria:
        lines.append("They were excluded for:\n\n" + _bullets(description.exclusion_criteria))
    if description.perioperative_care:
        lines.append(f"**Perioperative care.** {said(description.perioperative_care)}")
    procedure = [(label, text) for label, text in (("Operators", description.operators), ("Anaesthesia", description.anaesthesia),
                                                   ("Technique", description.technique), ("Aspiration (group A)", description.aspiration)) if text]
    if procedure:
        lines.append("\n".join(f"- **{label}.** {said(text)}" for label, text in procedure))
    if description.follow_up_schedule:
        lines.append(f"**Follow-up.** {said(description.follow_up_schedule)}")
    if description.assessors:
        lines.append(f"**Assessment of the films.** {said(description.assessors)}")
    if description.ethics or description.registration:
        parts = [said(description.ethics)] if description.ethics else []
        parts += [f"Registration: {said(description.registration)}"] if description.registration else []
        lines.append(f"**Ethics and registration.** {' '.join(parts)}")
    if description.funding or description.conflicts_of_interest:
        parts = [f"Funding: {said(description.funding)}"] if description.funding else []
        parts += [f"Conflicts of interest: {said(description.conflicts_of_interest)}"] if description.conflicts_of_interest else []
        lines.append(f"**Funding and interests.** {' '.join(parts)}")
    missing = not_described(description)
    if missing:
        lines.append(f"**Not described.** The study description supplied with these data does not give {myst.english_list(missing)}. "
                     "This report does not fill them in from any other study; a centre re-running it describes its study in a "
                     "`study.yml` file (see *Re-running the report*).")
    return "\n\n".join(lines)


def source_block(description: StudyDescription, n_patients: int, synthetic: bool) -> str:
    """The block identifying the study on the title page and in the summary: title, design, centre, period, sample."""
    e = myst.escape_markdown
    parts = []
    if description.title:
        parts.append(f"**{'Source study' if description.source_study else 'Study'}:** {e(description.title)}")
    facts = [e(description.design) if description.design else "design not described"]
    if description.centres:
        count = len(description.centres)
        names = f": {myst.english_list([e(c) for c in description.centres])}" if count <= 3 else ""
        facts.append(f"{count} centre{'s' if count > 1 else ''}{names}" + (f" ({e(description.centre_type)})" if description.centre_type else ""))
    facts.append(f"{e(description.period.start)} to {e(description.period.end)}" if description.period else "period not described")
    parts.append("**Design:** " + "; ".join(facts) + ".")
    if description.authors:
        names, affiliations = [], []
        for author in description.authors:
            name, affiliation = (author, None) if isinstance(author, str) else (author.name, author.affiliation)
            if affiliation and myst.clause(affiliation) not in affiliations:
                affiliations.append(myst.clause(affiliation))
            marks = f"<sup>{affiliations.index(myst.clause(affiliation)) + 1}</sup>" if affiliation else ""
            names.append(e(myst.clause(name)) + marks)
        parts.append("**Authors:** " + ", ".join(names) + (
            "; " + "; ".join(f"<sup>{i}</sup> {e(a)}" for i, a in enumerate(affiliations, 1)) if affiliations else ""))
    for label, text in (("Registration", description.registration), ("Ethics", description.ethics), ("Funding", description.funding),
                        ("Conflicts of interest", description.conflicts_of_interest)):
        if text and not description.source_study:
            parts.append(f"**{label}:** {e(myst.sentence(text))}")
    if description.citation:
        parts.append(f"**Publication:** {e(description.citation)}")
    if synthetic:
        parts.append(f"**Data in this report:** a synthetic cohort of {n_patients} patients reconstructed from that publication's "
                     "summary statistics — not patient data.")
    else:
        parts.append(f"**Data in this report:** {n_patients} patients.")
    return "  \n".join(parts)


def follow_up_months(description: StudyDescription) -> str:
    """The minimum follow-up required by the protocol, in words (``not described`` when absent)."""
    if description.minimum_follow_up_months is None:
        return "not described"
    return f"{description.minimum_follow_up_months:g} months"


def default_path(synthetic: bool) -> str:
    """The description used when none is given: the source study's for the synthetic default cohort, none otherwise."""
    from . import paths

    return str(paths.DEFAULT_STUDY) if synthetic else ""


def variable_table() -> str:
    """The input variables, from the data dictionary (column, meaning, unit, allowed values), as a MyST list-table."""
    from . import dictionary

    rows = [[f"`{column}`", entry["description"] + (" (optional column)" if entry["presence"] == "optional" else ""),
             entry["unit"] or "—", dictionary.rule_text(column)]
            for column, entry in dictionary.load_dictionary().iterrows()]
    return myst.list_table(["Column", "Meaning", "Unit", "Allowed values"], rows, [22, 43, 10, 25])


def formulas() -> str:
    """Every derived index as display math, written from its definition (:func:`vertebroplasty.derivation.formula_latex`)."""
    from . import derivation, dictionary

    blocks = [f"{entry['description']}, {entry['label']}:\n\n$$\n{derivation.formula_latex(name)}\n$$"
              for name, entry in dictionary.load_derived_indices().iterrows() if entry["kind"] != "segment"]
    return "\n\n".join(blocks)


def snippet(name: str) -> str:
    """A fixed passage of the book chosen by the data (``book/snippets/<name>.md``), e.g. the synthetic-data account."""
    from . import paths

    return (paths.ROOT / "book" / "snippets" / f"{name}.md").read_text(encoding="utf-8").strip()


def limitations_text(description: StudyDescription, synthetic: bool, attrition_sentence: str) -> str:
    """The limitations, as a MyST list: of this study's design as described, of the analysis, and of the data in use."""
    e = myst.escape_markdown
    items = []
    if description.source_study:
        items.append("**Design.** The source study is retrospective and from a single centre, with one surgeon. Its publication says "
                     "both that the records were reviewed retrospectively and that patients were randomly assigned to a technique; no "
                     "randomisation procedure is described, so allocation may follow the surgeon's choice or time (for example, if "
                     "aspiration was adopted part-way through the study period).")
    else:
        design = f"This is {e(description.design)}." if description.design else "The study design is not described."
        if not description.allocation:
            allocation = ("How patients came to be in each group is not described; unless allocation was random, the groups may "
                          "differ in ways the data do not record.")
        elif "random" in description.allocation.lower():
            allocation = f"Allocation: {e(myst.clause(description.allocation))}."
        else:
            allocation = (f"Allocation: {e(myst.clause(description.allocation))}. Allocation was not random, so the groups may differ "
                          "in ways the data do not record (confounding by indication).")
        items.append(f"**Design.** {design} {allocation} Differences between the groups are associations, not proven effects.")
    from .strobe import graded_blind

    if graded_blind(description.assessors):
        blinding = "The study description states that the films were graded blind to the treatment group"
    elif description.assessors:
        blinding = (f"The study description says who graded the films ({e(myst.clause(description.assessors))}) but not whether "
                    "they knew the treatment group")
    else:
        blinding = "Who graded the films, and whether blind to the treatment group, is not described"
    items.append(f"**Outcome assessment.** {blinding}; the cement distribution is a judgement on two-dimensional films. Pain during "
                 "cementing is scored by the patient during the operation, so it is open to expectation if patients knew their group.")
    items.append("**Many comparisons.** Tables 1–3 hold dozens of tests, and several outcomes (height, ratio, angle, each at three "
                 "timepoints and as changes) measure the same thing. One outcome is primary; the secondary outcomes are adjusted "
                 "together with Holm's method, which controls the chance of any false claim among them but, with correlated "
                 "outcomes, at the cost of power; a secondary difference that is not a finding is not shown to be absent.")
    items.append("**Table 3 mixes the groups.** The distribution type may itself depend on the treatment group, so differences "
                 "between types are not independent of the group comparison, and neither analysis adjusts for the other; the type "
                 "is also an outcome of the operation, so patients of each type may differ in other ways.")
    follow_up = follow_up_months(description)
    items.append(f"**Follow-up.** The minimum follow-up required was {follow_up}; re-collapse and adjacent fractures that appear "
                 "later are not captured." if follow_up != "not described" else
                 "**Follow-up.** The minimum follow-up is not described; late re-collapse and adjacent fractures need years to show.")
    excluded_lost = any("follow-up" in criterion.lower() for criterion in description.exclusion_criteria)
    selection = (" The study excluded patients lost to follow-up and does not report how many, so complete follow-up here reflects "
                 "that selection." if excluded_lost else "")
    items.append(f"**Missing data.** {attrition_sentence}{selection}")
    items.append(snippet("limitations-synthetic" if synthetic else "limitations-own-data").removeprefix("- "))
    return "\n".join(f"- {item}" for item in items)


def original_analysis(description: StudyDescription) -> str:
    """What the study's own analysis was, as far as described (empty when not)."""
    parts = []
    if any("follow-up" in criterion.lower() for criterion in description.exclusion_criteria):
        parts.append("excluded patients lost to follow-up")
    if description.software:
        parts.append(f"analysed the data with {myst.clause(description.software)}")  # glued as plain text: no escaping
    if not parts:
        return ""
    whose = "The source study" if description.source_study else "The study"
    return f"{whose} {myst.english_list(parts)}; this report computes everything in Python with SciPy and statsmodels."


def introduction_text(description: StudyDescription, synthetic: bool) -> str:
    """The Introduction: the source study's for the default data; otherwise the study's own ``background`` with its
    ``references`` cited, or, without a background, the question and a note that none was given."""
    if description.source_study or synthetic:
        return snippet("introduction-source")
    e = myst.escape_markdown
    question = ("This report compares percutaneous vertebroplasty with aspiration of the fracture haemorrhage before "
                "cementing (group A) against conventional vertebroplasty (group B), on the distribution of the cement, "
                "the vertebral heights and kyphotic angles, pain and disability.")
    if not description.background:
        return (f"{question}\n\nThe study description supplied with these data gives no background; a centre describes the "
                "rationale of its study under `background` in its `study.yml`, with the sources under `references`.")
    _, keys = study_bibtex(description)
    cited = f" {{cite:p}}`{','.join(keys)}`" if keys else ""
    paragraphs = [e(myst.sentence(paragraph)) for paragraph in str(description.background).split("\n\n") if paragraph.strip()]
    if cited:
        paragraphs[-1] = paragraphs[-1][:-1] + cited + "."
    return "\n\n".join(paragraphs) + f"\n\n{question}"
