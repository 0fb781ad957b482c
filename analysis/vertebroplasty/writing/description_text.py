"""The study description in words: methods, source block, limitations and introduction from a study file."""

from __future__ import annotations

from vertebroplasty.contract.description import StudyDescription, not_described, study_bibtex
from vertebroplasty.writing import myst


def _bullets(items: list[str]) -> str:
    """A MyST bullet list, one line per item: an item written over several lines of the study file stays one item.

    >>> _bullets(["age over 60", "a fracture\\nbelow T10"])
    '- age over 60\\n- a fracture below T10'
    """
    return "\n".join(f"- {myst.escape_markdown(' '.join(str(item).split()))}" for item in items)


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
            marks = f"{{sup}}`{affiliations.index(myst.clause(affiliation)) + 1}`" if affiliation else ""
            names.append(e(myst.clause(name)) + marks)
        parts.append("**Authors:** " + ", ".join(names) + (
            "; " + "; ".join(f"{{sup}}`{i}` {e(a)}" for i, a in enumerate(affiliations, 1)) if affiliations else ""))
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


def variable_table() -> str:
    """The input variables, from the data dictionary (column, meaning, unit, allowed values), as a MyST list-table."""
    from vertebroplasty.contract import dictionary

    rows = [[f"`{column}`", entry["description"] + (" (optional column)" if entry["presence"] == "optional" else ""),
             entry["unit"] or "—", dictionary.rule_text(column)]
            for column, entry in dictionary.load_dictionary().iterrows()]
    return myst.list_table(["Column", "Meaning", "Unit", "Allowed values"], rows, [22, 43, 10, 25], name="data-contract",
                           caption="The data contract: the columns of a cohort file.")


def formulas() -> str:
    """Every derived index as display math, written from its definition (:func:`vertebroplasty.contract.derivation.formula_latex`)."""
    from vertebroplasty.contract import derivation, dictionary

    blocks = [f"{entry['description']}, {entry['label']}:\n\n$$\n{derivation.formula_latex(name)}\n$$"
              for name, entry in dictionary.load_derived_indices().iterrows() if entry["kind"] != "segment"]
    return "\n\n".join(blocks)


def snippet(name: str) -> str:
    """A fixed passage of the book chosen by the data (``book/snippets/<name>.md``), e.g. the synthetic-data account."""
    from vertebroplasty import paths

    return (paths.ROOT / "book" / "snippets" / f"{name}.md").read_text(encoding="utf-8").strip()


def limitations_text(description: StudyDescription, synthetic: bool, missing_sentence: str) -> str:
    """The limitations, as a MyST list: of this study's design as described, of the analysis, and of the data in use."""
    e = myst.escape_markdown
    items = []
    if description.source_study:
        items.append("**Design.** The source study is retrospective and from a single centre, with one surgeon. Its account of "
                     "allocation is contradictory (a retrospective review, yet random assignment to a technique) and names no "
                     "randomisation procedure, so allocation may follow the surgeon's choice or time (for example, if aspiration "
                     "was adopted part-way through the study period).")
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
    from vertebroplasty.writing.strobe import graded_blind

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
    excluded_lost = lost_to_follow_up_excluded(description)
    selection = (" The study excluded patients lost to follow-up and does not report how many, so complete follow-up here reflects "
                 "that selection." if excluded_lost else "")
    items.append(f"**Missing data.** {missing_sentence}{selection}")
    items.append(snippet("limitations-synthetic" if synthetic else "limitations-own-data").removeprefix("- "))
    return "\n".join(f"- {item}" for item in items)


def lost_to_follow_up_excluded(description: StudyDescription) -> bool:
    """Whether the study's exclusion criteria leave out patients lost to follow-up (complete follow-up is then a selection)."""
    return any("follow-up" in criterion.lower() for criterion in description.exclusion_criteria)


def original_analysis(description: StudyDescription) -> str:
    """What the study's own analysis was, as far as described (empty when not)."""
    parts = []
    if lost_to_follow_up_excluded(description):
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


def banner(data) -> str:
    """The data statement shown at the top of every chapter (MyST), for a :class:`vertebroplasty.contract.cohort.Cohort`."""
    if data.synthetic:
        return (f"**Synthetic data.** Every number in this report is computed from a synthetic cohort of {data.n} patients "
                "reconstructed from the published summary statistics of the source study. It is not patient data; "
                "see the chapter on data provenance.")
    centres = f", {len(data.centres)} centres" if data.multicentre else ""
    return (f"**Data:** {myst.code_span(data.label)} ({data.n} patients{centres}, SHA-256 `{data.sha256[:16]}…`). "
            "Every number in this report is computed from these data.")
