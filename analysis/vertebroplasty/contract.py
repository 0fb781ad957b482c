"""Reading cohort files and validating them against the data contract.

A cohort is one CSV or .xlsx file, or a folder of them (one file per centre).  Files are read as text first, so
that every cell can be judged and every problem of every file reported at once, each with the file, the line (CSV)
or row (workbook), the patient, the column, the value and the rule.  Numbers and yes/no cells are parsed here;
the contract's rules (ranges, labels, uniqueness, required cells, the cross-column rule) are checked by a pandera
schema built from the data dictionary.  Input files are only ever opened for reading.

Besides the rules, the commonest export mistakes get a hint: a semicolon-separated file, decimal commas, column
names in another case, and a workbook whose first sheet is not the data.  The usual spellings of a missing value
(:data:`MISSING_MARKERS`) are read as empty cells.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import dictionary

MINIMUM_PATIENTS_PER_GROUP = 2
FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
#: Cells read as missing, besides empty ones (case as written).
MISSING_MARKERS = ("NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", ".", "-", "—")

#: Column names that suggest a direct identifier (matched on the lower-cased name with spaces and hyphens turned
#: into underscores).
IDENTIFIER_NAME_PATTERN = re.compile(
    r"(^|_)(name|names|surname|forename|first_name|last_name|full_name|initials"
    r"|mrn|record|record_number|medical_record|hospital_number|chart|nhs|ssn"
    r"|dob|birth|birthdate|date_of_birth|birth_date"
    r"|address|street|postcode|zip|zipcode|city"
    r"|phone|telephone|mobile|email|e_mail)($|_)"
)
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
#: The column named in errors of the schema's one cross-column rule.
CROSS_COLUMN_RULE_COLUMN = "aspirated_blood_ml"


@dataclass(frozen=True)
class Problem:
    """One broken rule in one cell (or one column, or the whole file)."""

    file: str
    rule: str
    column: str = ""
    value: str = ""
    line: int | None = None
    patient_id: str = ""
    where: str = "line"  # "line" for CSV, "row" for a workbook (its row number as the spreadsheet shows it)

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"{self.where} {self.line}")
        if self.patient_id:
            parts.append(f"patient_id {self.patient_id!r}")
        if self.column:
            parts.append(f"column {self.column!r}")
        text = ", ".join(parts)
        if self.line is not None or self.value:
            text += f": value {self.value!r}"
        return f"{text} — rule: {self.rule}"


class CohortValidationError(ValueError):
    """Raised with every problem of every cohort file at once (and hints for the usual export mistakes)."""

    def __init__(self, problems: list[Problem], hints: list[str] | None = None):
        self.problems = problems
        self.hints = list(dict.fromkeys(hints or []))
        lines = [f"{len(problems)} problem(s) found; nothing was written:"]
        lines += [f"  - {problem}" for problem in problems]
        lines += [f"hint: {hint}" for hint in self.hints]
        super().__init__("\n".join(lines))


@dataclass
class TextTable:
    """A file's cells as text, with where each row came from."""

    text: pd.DataFrame
    file: str
    where: str  # "line" or "row"
    positions: np.ndarray | None = None  # row numbers as the user sees them; computed lazily for CSV
    source: Path | None = None
    hints: list[str] = field(default_factory=list)

    def position(self, row: int) -> int:
        if self.positions is None:
            self.positions = csv_record_lines(self.source)
        return int(self.positions[row]) if row < len(self.positions) else row + 2


@dataclass
class ValidatedCohort:
    """A validated cohort: typed data (input column names, plus ``centre``) and what was noticed on the way."""

    data: pd.DataFrame
    source: Path
    sha256: str
    files: list[str]
    notices: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cohort_files(path: Path) -> list[Path]:
    """The files of a cohort: the file itself, or every .csv/.xlsx of a folder (sorted; hidden files skipped)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith((".", "~$")))
    return [path]


def cohort_sha256(path: Path) -> str:
    """SHA-256 of a cohort: of the file, or of the folder's file names and contents."""
    if not path.is_dir():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in cohort_files(path):
        digest.update(file.name.encode() + b"\0" + file_sha256(file).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading

def csv_record_lines(path: Path) -> np.ndarray:
    """The line on which each data record of a CSV starts (1-based; blank lines skipped, quoted line breaks counted).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = f.write_text('id,note\\n\\n1,"two\\nlines"\\n2,b\\n')
    >>> csv_record_lines(f).tolist()
    [3, 5]
    """
    starts = []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        previous = 0
        for index, record in enumerate(reader):
            first = previous + 1
            previous = reader.line_num
            if index == 0 or not record:  # header, blank line
                continue
            starts.append(first)
    return np.asarray(starts, dtype=np.int64)


def _missing_to_empty(text: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    text = text.apply(lambda column: column.str.strip())
    markers = text.isin(MISSING_MARKERS)
    count = int(markers.to_numpy().sum())
    return (text.mask(markers, "") if count else text), count


def read_csv_text(path: Path) -> TextTable:
    """A CSV (UTF-8, with or without BOM, comma-separated) with every cell as stripped text."""
    name = str(path)
    try:
        text = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise CohortValidationError([Problem(name, "the file is empty; a header row and one row per patient are needed")]) from None
    except UnicodeDecodeError as error:
        raise CohortValidationError([Problem(name, f"the file must be UTF-8 text ({error.reason} at byte {error.start})")],
                                    ["save the file as 'CSV UTF-8' (comma-separated)"]) from None
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise CohortValidationError([Problem(name, f"the file cannot be read as CSV ({error})")]) from None
    hints = []
    if text.shape[1] == 1 and (";" in text.columns[0] or "\t" in text.columns[0]):
        separator = "semicolons" if ";" in text.columns[0] else "tabs"
        raise CohortValidationError([Problem(name, f"the columns are separated by {separator}, not commas")],
                                    [f"export the file as comma-separated CSV (spreadsheets in many locales use {separator}); "
                                     "or save it as .xlsx, which the report also reads"])
    text.columns = [str(column).strip() for column in text.columns]
    text, markers = _missing_to_empty(text)
    table = TextTable(text, name, "line", source=path, hints=hints)
    if markers:
        table.hints.append(f"{markers} cell(s) spelled as a missing value ({', '.join(MISSING_MARKERS)}) were read as empty")
    return table


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def read_workbook_text(path: Path) -> TextTable:
    """The first sheet of an .xlsx workbook, every cell as text, refusing what would be silently lost.

    A formula cell without a stored result (the workbook was written by a program that does not calculate) and
    merged cells in the table are refused, each named by its cell.  A first sheet without a ``patient_id`` header
    while another sheet has one gets a hint.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    name = str(path)
    try:
        values_book = openpyxl.load_workbook(path, data_only=True)
        formula_book = openpyxl.load_workbook(path, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken or foreign file
        raise CohortValidationError([Problem(name, f"the file cannot be read as an .xlsx workbook ({type(error).__name__}: {error})")]) from None
    sheet, formulas = values_book.worksheets[0], formula_book.worksheets[0]
    rows = [[_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    while rows and not any(rows[0]):  # leading empty rows
        rows.pop(0)
    if not rows:
        raise CohortValidationError([Problem(name, f"the first sheet ({sheet.title!r}) is empty")],
                                    _other_sheet_hint(values_book, sheet.title))
    header_row = next(index for index, row in enumerate(sheet.iter_rows(values_only=True), start=1) if any(v is not None for v in row))
    header = [cell or f"(column {get_column_letter(index + 1)})" for index, cell in enumerate(rows[0])]
    problems: list[Problem] = []
    hints: list[str] = []
    if "patient_id" not in header:
        hints += _other_sheet_hint(values_book, sheet.title)
    body = [(header_row + offset, row) for offset, row in enumerate(rows[1:], start=1) if any(row)]
    patient_column = header.index("patient_id") if "patient_id" in header else None
    for merged in sheet.merged_cells.ranges:
        if merged.max_row <= header_row:
            continue
        column = header[merged.min_col - 1] if merged.min_col - 1 < len(header) else get_column_letter(merged.min_col)
        problems.append(Problem(name, f"merged cells ({merged.coord}) are not allowed in the table: every patient needs a value "
                                      "of their own; unmerge them and fill each cell", column, where="row", line=merged.min_row))
    for row in formulas.iter_rows(min_row=header_row + 1):
        for cell in row:
            if cell.data_type == "f" and sheet.cell(cell.row, cell.column).value is None:
                column = header[cell.column - 1] if cell.column - 1 < len(header) else get_column_letter(cell.column)
                patient = ""
                if patient_column is not None:
                    patient = _cell_text(sheet.cell(cell.row, patient_column + 1).value)
                problems.append(Problem(name, f"cell {cell.coordinate} holds a formula without a stored result; open the workbook in "
                                              "a spreadsheet program, let it calculate and save it, or paste the values",
                                        column, str(cell.value), cell.row, patient, where="row"))
    if problems:
        raise CohortValidationError(problems, hints)
    width = len(header)
    text = pd.DataFrame([(row + [""] * width)[:width] for _, row in body], columns=[str(c).strip() for c in header], dtype=str)
    text, markers = _missing_to_empty(text)
    table = TextTable(text, f"{name} (sheet {sheet.title!r})", "row", positions=np.asarray([number for number, _ in body], dtype=np.int64),
                      source=path, hints=hints)
    if markers:
        table.hints.append(f"{markers} cell(s) spelled as a missing value ({', '.join(MISSING_MARKERS)}) were read as empty")
    return table


def _other_sheet_hint(book, first: str) -> list[str]:
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows(max_row=20, values_only=True):
            if "patient_id" in [_cell_text(value) for value in row]:
                return [f"the data seem to be on sheet {sheet.title!r}, but only the first sheet ({first!r}) is read: "
                        "move that sheet to the front of the workbook"]
    return []


def read_text(path: Path) -> TextTable:
    """One cohort file as text (CSV or the first sheet of a workbook)."""
    path = Path(path)
    if not path.is_file():
        raise CohortValidationError([Problem(str(path), "the file must exist and be readable")])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_workbook_text(path)
    if path.suffix.lower() == ".xls":
        raise CohortValidationError([Problem(str(path), "old .xls workbooks are not read")], ["save the workbook as .xlsx or as CSV"])
    return read_csv_text(path)


# --------------------------------------------------------------------------- validation

def _parse_cells(table: TextTable, id_of: pd.Series) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Turn text cells into typed columns; unparseable cells become missing and are reported."""
    text = table.text
    typed = pd.DataFrame(index=text.index)
    problems: list[Problem] = []
    hints: list[str] = []

    def report(column: str, mask: pd.Series, rule: str) -> None:
        for row in text.index[mask.to_numpy()]:
            problems.append(Problem(table.file, rule, column, text.at[row, column], table.position(row), id_of[row], table.where))

    for column, entry in dictionary.load_dictionary().iterrows():
        if column not in text.columns:
            continue
        cells = text[column]
        empty = cells.eq("")
        kind = entry["type"]
        if kind in ("integer", "number"):
            numbers = pd.to_numeric(cells.where(~empty), errors="coerce")
            not_a_number = ~empty & numbers.isna()
            if not_a_number.any():
                report(column, not_a_number, f"must be {dictionary.rule_text(column)}; this is not a number")
                if cells[not_a_number].str.match(DECIMAL_COMMA).any():
                    hints.append("numbers such as '22,5' are written with a decimal comma: export the file with decimal points "
                                 "(in a spreadsheet, set the language of the file to English before saving as CSV)")
            if kind == "integer":
                fractional = numbers.notna() & (numbers != numbers.round())
                report(column, fractional, f"must be {dictionary.rule_text(column)}; this is not a whole number")
                typed[column] = numbers.where(~fractional).astype("Int64")
            else:
                typed[column] = numbers.astype("Float64")
        elif kind == "boolean":
            spelled = cells.str.lower().map(dictionary.BOOLEAN_SPELLINGS)
            report(column, ~empty & spelled.isna(), f"must be {dictionary.rule_text(column)}")
            typed[column] = spelled.astype("boolean")
        else:  # text and category stay text; the schema judges their labels
            typed[column] = cells.where(~empty).astype("string")
    return typed, problems, hints


def build_schema():
    """The pandera schema of the data contract, made from the data dictionary."""
    import pandera.pandas as pa

    columns = {}
    for column, entry in dictionary.load_dictionary().iterrows():
        checks = []
        rule = dictionary.rule_text(column)
        if entry["type"] == "category":
            checks.append(pa.Check.isin(list(entry["allowed_values"]), error=f"must be {rule}"))
        if pd.notna(entry["minimum"]):
            checks.append(pa.Check.in_range(entry["minimum"], entry["maximum"], error=f"must be {rule}"))
        columns[column] = pa.Column(nullable=not entry["required"], checks=checks, required=entry["presence"] == "required")
    aspiration_only_in_group_a = pa.Check(
        lambda frame: ~(frame["group"].eq("B") & frame["aspirated_blood_ml"].notna()).fillna(False),
        error="aspirated_blood_ml must be empty in group B (aspiration is group A's procedure)",
    )
    return pa.DataFrameSchema(columns, checks=[aspiration_only_in_group_a], strict=False)


def _rule_of_failure(check: str) -> str:
    return "must not be empty" if check == "not_nullable" else check


def _column_problems(table: TextTable, allowed_identifier_columns: tuple[str, ...]) -> tuple[list[Problem], list[str], list[str]]:
    """Problems of the header: identifiers, duplicates, missing columns (with a hint for a case mismatch)."""
    problems, notices, hints = [], [], []
    text, file = table.text, table.file
    known = set(dictionary.column_names())
    lowered = {column.lower().strip(): column for column in text.columns}
    for column in text.columns:
        normalised = re.sub(r"[\s\-]+", "_", column.lower())
        if column in known:
            continue
        if IDENTIFIER_NAME_PATTERN.search(normalised) and column not in allowed_identifier_columns:
            problems.append(Problem(file, "looks like a direct identifier (name, record number, date of birth, address, phone); "
                                          "remove it, or allow it explicitly (ALLOW_COLUMNS=... / --allow-column) if it is not one", column))
        elif normalised not in known:
            notices.append(f"{file}: column {column!r} is not part of the data contract and is ignored")
    for column in text.columns[text.columns.duplicated()].unique():
        problems.append(Problem(file, "column names must be unique", column))
    for column in dictionary.column_names("required"):
        if column in text.columns:
            continue
        near = lowered.get(column) or lowered.get(column.replace("_", " "))
        rule = "required column is missing"
        if near is not None:
            rule += f" (the file has {near!r}: column names are lower case, with underscores)"
            hints.append("column names must be written exactly as in the data contract (lower case, underscores)")
        problems.append(Problem(file, rule, column))
    return problems, notices, hints


def validate_table(table: TextTable, allowed_identifier_columns: tuple[str, ...] = (), centre: str | None = None
                   ) -> tuple[pd.DataFrame, list[str], list[Problem], list[str]]:
    """Check one file's text table against the contract.

    Returns typed data (input column names; ``centre`` filled with ``centre`` when given), notices, problems and
    hints; nothing is raised, so that several files can be judged together.
    """
    import pandera.pandas as pa

    text, file = table.text, table.file
    if text.shape[1] == 0:
        return pd.DataFrame(), [], [Problem(file, "the file has no header row")], []
    problems, notices, hints = _column_problems(table, allowed_identifier_columns)
    hints += table.hints
    if len(text) == 0:
        problems.append(Problem(file, "the file has a header but no patient rows"))
    if problems and (len(text) == 0 or any(p.rule.startswith(("required column", "column names must")) for p in problems)):
        return pd.DataFrame(), notices, problems, hints

    wanted = [column for column in dictionary.column_names() if column in text.columns]
    table = TextTable(text[wanted].reset_index(drop=True), file, table.where, table.positions, table.source)
    id_of = table.text["patient_id"]
    typed, parse_problems, parse_hints = _parse_cells(table, id_of)
    problems += parse_problems
    hints += parse_hints
    if centre is not None:
        if "centre" in typed.columns:
            other = typed["centre"].notna() & typed["centre"].ne(centre)
            for row in typed.index[other.to_numpy()]:
                problems.append(Problem(file, f"must be empty or {centre!r}: in a folder of centre files the centre is the file's name",
                                        "centre", str(typed.at[row, "centre"]), table.position(row), id_of[row], table.where))
        typed["centre"] = pd.array([centre] * len(typed), dtype="string")
    try:
        build_schema().validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        for failure in errors.failure_cases.itertuples(index=False):
            row, column = failure.index, failure.column if isinstance(failure.column, str) else ""
            if failure.schema_context == "DataFrameSchema":  # the one cross-column rule
                column = CROSS_COLUMN_RULE_COLUMN
            if row is None or pd.isna(row):
                problems.append(Problem(file, _rule_of_failure(failure.check), column))
                continue
            row = int(row)
            value = table.text.at[row, column] if column in table.text.columns else str(failure.failure_case)
            problems.append(Problem(file, _rule_of_failure(failure.check), column, value, table.position(row), id_of[row], table.where))
    duplicated = typed["patient_id"].notna() & typed.duplicated(["centre", "patient_id"] if "centre" in typed else ["patient_id"], keep=False)
    for row in typed.index[duplicated.to_numpy()]:
        problems.append(Problem(file, "must be unique (this patient_id occurs more than once" + (" in this centre)" if "centre" in typed else ")"),
                                "patient_id", id_of[row], table.position(row), id_of[row], table.where))
    return typed, notices, problems, hints


def _group_size_problems(data: pd.DataFrame, file: str) -> list[Problem]:
    sizes = data["group"].value_counts()
    problems = []
    for group in dictionary.load_dictionary().loc["group", "allowed_values"]:
        size = int(sizes.get(group, 0))
        if size < MINIMUM_PATIENTS_PER_GROUP:
            problems.append(Problem(file, f"group {group} has {size} patient(s); each group needs at least "
                                          f"{MINIMUM_PATIENTS_PER_GROUP} for the comparisons", "group"))
    return problems


def load_cohort(path: str | Path, allowed_identifier_columns: tuple[str, ...] = ()) -> ValidatedCohort:
    """Read and validate a cohort file, or a folder of centre files; raise :class:`CohortValidationError` listing every problem.

    In a folder each file is one centre, named by the file's stem; patient ids need only be unique within a centre.
    """
    path = Path(path)
    files = cohort_files(path) if path.exists() else [path]
    if path.is_dir() and not files:
        raise CohortValidationError([Problem(str(path), "the folder holds no .csv or .xlsx file")])
    problems: list[Problem] = []
    hints: list[str] = []
    notices: list[str] = []
    parts = []
    for file in files:
        try:
            table = read_text(file)
        except CohortValidationError as error:
            problems += error.problems
            hints += error.hints
            continue
        typed, file_notices, file_problems, file_hints = validate_table(table, allowed_identifier_columns,
                                                                        centre=file.stem if path.is_dir() else None)
        notices += file_notices
        problems += file_problems
        hints += file_hints
        if not file_problems:
            parts.append(typed)
    if not problems:
        data = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        problems += _group_size_problems(data, str(path))
    if problems:
        order = {str(file): index for index, file in enumerate(files)}
        problems = sorted(set(problems), key=lambda p: (order.get(p.file.split(" (sheet")[0], -1), p.line or 0, p.column, p.rule))
        raise CohortValidationError(problems, hints)
    for column in ("patient_id", "centre"):
        if column in data:
            data[column] = data[column].astype(str)
    notices += [hint for hint in hints if hint.endswith("were read as empty")]
    return ValidatedCohort(data=data, source=path, sha256=cohort_sha256(path), files=[file.name for file in files], notices=notices)
