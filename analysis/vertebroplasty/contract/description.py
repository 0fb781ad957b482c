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

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.dictionary import GROUP_TABLES, outcome_variables

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
    from vertebroplasty import paths

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


#: Largest study description read (a description is a page of text, never megabytes).
MAXIMUM_BYTES = 1_000_000


class StudyFileRuleError(ValueError):
    """The YAML breaks a rule of study descriptions (an alias, a duplicated key)."""


class StrictLoader(yaml.SafeLoader):
    """YAML as a study description may use it: no aliases (``*name``: a small file could expand to gigabytes, the
    "billion laughs") and no key given twice in one mapping (YAML keeps the last silently).  Each refusal names the
    key and the line."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise StudyFileRuleError(f"line {event.start_mark.line + 1}: the alias *{event.anchor} is not allowed — write the "
                                     "value out (aliases are refused so that no file can expand without bound)")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise StudyFileRuleError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice (first on line "
                                         f"{seen[key]}); give each key once")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def load(path: str | Path | None) -> StudyDescription:
    """Read and validate a ``study.yml``; an empty path gives an empty description (nothing described)."""
    if not path:
        return StudyDescription()
    path = Path(path)
    if not path.is_file():
        raise StudyDescriptionError(f"{path}: the study description must be an existing YAML file")
    size = path.stat().st_size
    if size > MAXIMUM_BYTES:
        raise StudyDescriptionError(f"{path}: {size:,} bytes; a study description may have at most {MAXIMUM_BYTES:,} bytes")
    try:
        content = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader) or {}
    except StudyFileRuleError as error:
        raise StudyDescriptionError(f"{path}: {error}") from None
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
    problems = check_plan(description.primary_outcome, description.secondary_outcomes, description.confounders,
                                       description.mcid, dictionary.TABLE_VARIABLES)
    problems += reference_problems(description.references)
    problems += [f"key 'excluded.{reason}': {count} must not be negative" for reason, count in description.excluded.items() if count < 0]
    if problems:
        raise StudyDescriptionError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return description


def not_described(description: StudyDescription) -> list[str]:
    """The methods items the description leaves out, in words."""
    return [words for key, words in ITEMS.items() if not getattr(description, key)]


def default_path(synthetic: bool) -> str:
    """The description used when none is given: the source study's for the synthetic default cohort, none otherwise."""
    from vertebroplasty import paths

    return str(paths.DEFAULT_STUDY) if synthetic else ""


#: The source study's primary question: does aspiration change the distribution of the cement?
DEFAULT_PRIMARY = "cement_distribution"


def check_plan(primary: str | None, secondary: list[str] | None, confounders: list[str] | None, mcid: dict[str, float] | None,
               table_variables: dict[str, list[str]]) -> list[str]:
    """Problems with the analysis-plan keys of a study description, each naming the key, the value and the rule."""
    outcomes = outcome_variables(table_variables)
    group_outcomes = [v for t in GROUP_TABLES for v in table_variables[t] if v in outcomes]
    problems = []
    if primary is not None and primary not in group_outcomes:
        problems.append(f"key 'primary_outcome': {primary!r} is not an outcome compared between the groups "
                        f"(one of: {', '.join(group_outcomes)})")
    for value in secondary or []:
        if value not in outcomes:
            problems.append(f"key 'secondary_outcomes': {value!r} is not an outcome of Tables 1–3 (one of: {', '.join(outcomes)})")
        elif value == (primary or DEFAULT_PRIMARY):
            problems.append(f"key 'secondary_outcomes': {value!r} is the primary outcome; an outcome belongs to one family only")
    allowed_confounders = [column for column in dictionary.load_dictionary()["variable"] if dictionary.role(column) == "baseline"]
    for value in confounders or []:
        if value not in allowed_confounders:
            problems.append(f"key 'confounders': {value!r} is not a baseline variable of the data dictionary "
                            f"(one of: {', '.join(allowed_confounders)})")
    for variable, points in (mcid or {}).items():
        if variable not in outcomes or dictionary.baseline_variable(variable) is None or dictionary.scale(variable) != "ordinal":
            problems.append(f"key 'mcid.{variable}': not a score (VAS or ODI) after surgery with a pre-operative value")
        elif not (np.isfinite(points) and points > 0):
            problems.append(f"key 'mcid.{variable}': {points!r} must be a positive number of points")
    return problems
