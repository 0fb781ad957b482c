"""Reading and validating a cohort file against the data contract.

A cohort is read as text first, so that every cell can be judged and every
problem of the file reported at once.  Numbers and yes/no cells are parsed
here; the rules of the contract (ranges, category labels, uniqueness, required
cells, the cross-column rules) are checked by a pandera schema built from the
data dictionary.  The input file is only ever opened for reading.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from . import dictionary

MINIMUM_PATIENTS_PER_GROUP = 2

#: Column names that suggest a direct identifier (matched on the lower-cased
#: name with spaces and hyphens turned into underscores).
IDENTIFIER_NAME_PATTERN = re.compile(
    r"(^|_)(name|names|surname|forename|first_name|last_name|full_name|initials"
    r"|mrn|record|record_number|medical_record|hospital_number|chart|nhs|ssn"
    r"|dob|birth|birthdate|date_of_birth|birth_date"
    r"|address|street|postcode|zip|zipcode|city"
    r"|phone|telephone|mobile|email|e_mail)($|_)"
)

#: The column named in errors of the schema's one cross-column rule.
CROSS_COLUMN_RULE_COLUMN = "aspirated_blood_ml"

#: First data row of a file is line 2 (line 1 is the header).
FIRST_DATA_LINE = 2


@dataclass(frozen=True)
class Problem:
    """One broken rule in one cell (or one column, or the whole file)."""

    file: str
    rule: str
    column: str = ""
    value: str = ""
    line: int | None = None
    patient_id: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.patient_id:
            where.append(f"patient_id {self.patient_id!r}")
        if self.column:
            where.append(f"column {self.column!r}")
        text = ", ".join(where)
        if self.line is not None or self.value:
            text += f": value {self.value!r}"
        return f"{text} — rule: {self.rule}"


class CohortValidationError(ValueError):
    """Raised with every problem of a cohort file at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [f"{len(problems)} problem(s) found; nothing was written:"]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))


@dataclass
class Cohort:
    """A validated cohort: typed data plus what was noticed on the way."""

    data: pd.DataFrame
    source: Path
    sha256: str
    notices: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (for the report's provenance)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_cohort_text(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, with or without BOM) or the first sheet of an .xlsx, all cells as text.

    Empty cells become empty strings; column names are stripped of white space.
    Raises :class:`CohortValidationError` for a missing, empty or unreadable file.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise CohortValidationError([Problem(name, "the file must exist and be readable")])
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            table = pd.read_excel(path, sheet_name=0, dtype=str, engine="openpyxl")
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise CohortValidationError([Problem(name, "the file is empty; a header row and one row per patient are needed")]) from None
    except UnicodeDecodeError as error:
        raise CohortValidationError([Problem(name, f"the file must be UTF-8 text ({error.reason} at byte {error.start})")]) from None
    except (ValueError, OSError) as error:  # unreadable workbook, broken zip, ...
        raise CohortValidationError([Problem(name, f"the file cannot be read as CSV or .xlsx ({error})")]) from None
    table = table.fillna("").astype(str)
    table.columns = [str(column).strip() for column in table.columns]
    return table.apply(lambda column: column.str.strip())


def _parse_cells(text: pd.DataFrame, file: str, line_of: pd.Series, id_of: pd.Series) -> tuple[pd.DataFrame, list[Problem]]:
    """Turn text cells into typed columns; unparseable cells become missing and are reported."""
    entries = dictionary.load_dictionary()
    typed = pd.DataFrame(index=text.index)
    problems: list[Problem] = []

    def report(column: str, mask: pd.Series, rule: str) -> None:
        for row in text.index[mask]:
            problems.append(Problem(file, rule, column, text.at[row, column], int(line_of[row]), id_of[row]))

    for column, entry in entries.iterrows():
        cells = text[column]
        empty = cells.eq("")
        kind = entry["type"]
        if kind in ("integer", "number"):
            numbers = pd.to_numeric(cells.where(~empty), errors="coerce")
            not_a_number = ~empty & numbers.isna()
            report(column, not_a_number, f"must be {dictionary.rule_text(column)}; this is not a number")
            if kind == "integer":
                fractional = numbers.notna() & (numbers != numbers.round())
                report(column, fractional, f"must be {dictionary.rule_text(column)}; this is not a whole number")
                numbers = numbers.where(~fractional)
                typed[column] = numbers.astype("Int64")
            else:
                typed[column] = numbers.astype("Float64")
        elif kind == "boolean":
            spelled = cells.str.lower().map(dictionary.BOOLEAN_SPELLINGS)
            report(column, ~empty & spelled.isna(), f"must be {dictionary.rule_text(column)}")
            typed[column] = spelled.astype("boolean")
        else:  # text and category stay text; the schema judges their labels
            typed[column] = cells.where(~empty).astype("string")
    return typed, problems


def build_schema() -> pa.DataFrameSchema:
    """The pandera schema of the data contract, made from the data dictionary."""
    columns = {}
    for column, entry in dictionary.load_dictionary().iterrows():
        checks = []
        rule = dictionary.rule_text(column)
        if entry["type"] == "category":
            checks.append(pa.Check.isin(list(entry["allowed_values"]), error=f"must be {rule}"))
        if pd.notna(entry["minimum"]):
            checks.append(pa.Check.in_range(entry["minimum"], entry["maximum"], error=f"must be {rule}"))
        columns[column] = pa.Column(
            nullable=not entry["required"],
            unique=column == "patient_id",
            checks=checks,
            required=True,
        )
    aspiration_only_in_group_a = pa.Check(
        lambda frame: ~(frame["group"].eq("B") & frame["aspirated_blood_ml"].notna()).fillna(False),
        error="aspirated_blood_ml must be empty in group B (aspiration is group A's procedure)",
    )
    return pa.DataFrameSchema(columns, checks=[aspiration_only_in_group_a], strict=False)


def _rule_of_failure(check: str) -> str:
    if check == "not_nullable":
        return "must not be empty"
    if check == "field_uniqueness":
        return "must be unique (this patient_id occurs more than once)"
    return check


def validate(
    text: pd.DataFrame,
    file: str,
    allowed_identifier_columns: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, list[str]]:
    """Check a text table against the contract; return typed data and notices.

    Every problem of the table is collected before anything is raised, so the
    user fixes the file in one pass.  Raises :class:`CohortValidationError`.
    """
    problems: list[Problem] = []
    notices: list[str] = []
    contract = dictionary.column_names()

    if text.shape[1] == 0:
        raise CohortValidationError([Problem(file, "the file has no header row")])

    for column in text.columns:
        normalised = re.sub(r"[\s\-]+", "_", column.lower())
        if column in contract:
            continue
        if IDENTIFIER_NAME_PATTERN.search(normalised) and column not in allowed_identifier_columns:
            problems.append(Problem(
                file,
                "looks like a direct identifier (name, record number, date of birth, address, phone); "
                "remove it, or allow it explicitly (ALLOW_COLUMNS=... / --allow-column) if it is not one",
                column,
            ))
        else:
            notices.append(f"{file}: column {column!r} is not part of the data contract and is ignored")
    duplicated = text.columns[text.columns.duplicated()].unique()
    for column in duplicated:
        problems.append(Problem(file, "column names must be unique", column))
    missing = [column for column in contract if column not in text.columns]
    for column in missing:
        problems.append(Problem(file, "required column is missing", column))
    if len(text) == 0:
        problems.append(Problem(file, "the file has a header but no patient rows"))
    if missing or len(text) == 0 or len(duplicated):
        raise CohortValidationError(problems)

    text = text[contract].reset_index(drop=True)
    line_of = pd.Series(text.index + FIRST_DATA_LINE, index=text.index)
    id_of = text["patient_id"]
    typed, parse_problems = _parse_cells(text, file, line_of, id_of)
    problems += parse_problems

    try:
        build_schema().validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
        for failure in failures.itertuples(index=False):
            row = failure.index
            column = failure.column if isinstance(failure.column, str) else ""
            if failure.schema_context == "DataFrameSchema":  # the one cross-column rule
                column = CROSS_COLUMN_RULE_COLUMN
            if row is None or pd.isna(row):
                problems.append(Problem(file, _rule_of_failure(failure.check), column))
                continue
            row = int(row)
            value = text.at[row, column] if column in text.columns else str(failure.failure_case)
            problems.append(Problem(file, _rule_of_failure(failure.check), column, value, int(line_of[row]), id_of[row]))

    group_sizes = typed["group"].value_counts()
    for group in dictionary.load_dictionary().loc["group", "allowed_values"]:
        size = int(group_sizes.get(group, 0))
        if size < MINIMUM_PATIENTS_PER_GROUP:
            problems.append(Problem(
                file,
                f"group {group} has {size} patient(s); each group needs at least {MINIMUM_PATIENTS_PER_GROUP} for the comparisons",
                "group",
            ))

    if problems:
        problems = sorted(set(problems), key=lambda p: (p.line or 0, p.column, p.rule))
        raise CohortValidationError(problems)
    typed["patient_id"] = typed["patient_id"].astype(str)
    return typed, notices


def load_cohort(path: str | Path, allowed_identifier_columns: tuple[str, ...] = ()) -> Cohort:
    """Read and validate a cohort file; raise :class:`CohortValidationError` listing every problem."""
    path = Path(path)
    text = read_cohort_text(path)
    data, notices = validate(text, str(path), allowed_identifier_columns)
    return Cohort(data=data, source=path, sha256=file_sha256(path), notices=notices)
