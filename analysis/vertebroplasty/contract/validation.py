"""Validating cohort files against the data contract (the files are read by :mod:`vertebroplasty.contract.reading`).

A cohort is one CSV or .xlsx file, or a folder of them (one file per centre).  Files are read as text first, so
that every cell can be judged and every problem of every file reported at once, each with the file, the line (CSV)
or row (workbook), the patient, the column, the value and the rule.  Numbers and yes/no cells are parsed here;
the contract's rules (ranges, labels, uniqueness, required cells, the cross-column rule) are checked by a pandera
schema built from the data dictionary.  Input files are only ever opened for reading.

What would otherwise be lost without a word is refused, each by its place: a CSV row with more or fewer cells than
the header, a column name given twice, a workbook formula without a stored result, merged cells in a workbook's
table, a second file for the same centre, an old .xls workbook in a folder.  Rows whose every cell is empty are
skipped (spreadsheets export them), and so are columns without a name and without a value.

Besides the rules, the commonest export mistakes get a hint: a semicolon- or tab-separated file, decimal commas,
column names in another case, text that is not UTF-8, and a workbook whose first sheet is not the data.  The usual
spellings of a missing value (:data:`MISSING_MARKERS`) are read as empty cells, with a notice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty import paths
from vertebroplasty.contract import dictionary
from vertebroplasty.contract.reading import (  # noqa: F401 (read here and re-exported: validation.read_text, validation.Problem)
    CASE_HINT,
    MISSING_MARKERS,
    UNREAD_SUFFIXES,
    CohortValidationError,
    Problem,
    TextTable,
    _normalised,
    csv_record_lines,
    read_text,
)

MINIMUM_PATIENTS_PER_GROUP = 2
FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
#: Besides the spreadsheets that are not read (:data:`reading.UNREAD_SUFFIXES`), a folder's .tsv files are refused
#: too: they would otherwise be skipped without a word.
UNREAD_FOLDER_SUFFIXES = (*UNREAD_SUFFIXES, ".tsv")

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
#: A number spelled plainly (digits, at most one point, an exponent): parsed in bulk; other spellings by pandas.
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
#: Whole numbers beyond this are not held exactly by a float; such a cell is out of any range of the contract.
LARGEST_WHOLE_NUMBER = 2**53
#: Names and identifiers reach the pages, the terminal and the figures: control characters (tab, line break, escape)
#: would break or forge them, so they are refused.
CONTROL_CHARACTER_RULE = "must not hold control characters (tab, line break, escape)"
#: The column named in errors of the schema's one cross-column rule.
CROSS_COLUMN_RULE_COLUMN = "aspirated_blood_ml"

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


def _visible_files(folder: Path) -> list[Path]:
    """A folder's files, sorted, without hidden files and the lock files of open workbooks (``~$book.xlsx``)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


def cohort_files(path: Path) -> list[Path]:
    """The files of a cohort: the file itself, or every .csv/.xlsx of a folder (sorted; hidden and lock files skipped)."""
    path = Path(path)
    if path.is_dir():
        return [p for p in _visible_files(path) if p.suffix.lower() in FILE_SUFFIXES]
    return [path]


def cohort_sha256(path: Path) -> str:
    """SHA-256 of a cohort: of the file, or of the folder's file names and contents."""
    path = Path(path)
    if not path.is_dir():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in cohort_files(path):
        digest.update(file.name.encode() + b"\0" + file_sha256(file).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- validation

def _numbers(cells: pd.Series, empty: np.ndarray) -> np.ndarray:
    """Text cells as floats (NaN where empty or not a number), as :func:`pandas.to_numeric` reads them.

    Plainly spelled numbers (digits, a point, an exponent) are converted by Arrow in one go, which gives the same
    floats; a column with any other spelling has those cells read by pandas.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = pa.array(cells)
    try:  # the usual column: every cell empty or a finite number
        nulled = pc.if_else(pa.array(empty), pa.scalar(None, arrow.type), arrow)
        numbers = pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False)
        if np.isfinite(numbers[~empty]).all():
            return numbers
    except pa.ArrowInvalid:
        pass
    plain = pc.match_substring_regex(arrow, PLAIN_NUMBER).to_numpy(zero_copy_only=False)
    numbers = np.full(len(cells), np.nan)
    if plain.any():
        numbers[plain] = pc.cast(pc.filter(arrow, pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
    other = ~plain & ~empty
    if other.any():
        numbers[other] = pd.to_numeric(cells[other], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return numbers


def _parse_cells(table: TextTable, id_of: pd.Series) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Turn text cells into typed columns; unparseable cells become missing and are reported."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = table.text
    typed = {}
    problems: list[Problem] = []
    hints: list[str] = []

    def report(column: str, mask: np.ndarray, rule: str) -> None:
        for row in np.flatnonzero(mask):
            value = text.at[row, column]
            problems.append(Problem(table.file, rule, column, value, table.position(row), id_of.iat[row], table.where))

    for column, entry in dictionary.load_dictionary().iterrows():
        if column not in text.columns:
            continue
        cells = text[column]
        empty = cells.eq("").to_numpy()
        kind = entry["type"]
        if kind in ("integer", "number"):
            numbers = _numbers(cells, empty)
            not_a_number = ~empty & np.isnan(numbers)
            if not_a_number.any():
                report(column, not_a_number, f"must be {dictionary.rule_text(column)}; this is not a number")
                if cells[not_a_number].str.match(DECIMAL_COMMA.pattern).any():
                    hints.append("numbers such as '22,5' are written with a decimal comma: export the file with decimal points "
                                 "(in a spreadsheet, set the language of the file to English before saving as CSV)")
            if kind == "integer":
                with np.errstate(invalid="ignore"):
                    huge = ~np.isnan(numbers) & ~(np.abs(numbers) <= LARGEST_WHOLE_NUMBER)
                    fractional = ~np.isnan(numbers) & ~huge & (numbers != np.round(numbers))
                report(column, huge, f"must be {dictionary.rule_text(column)}")
                report(column, fractional, f"must be {dictionary.rule_text(column)}; this is not a whole number")
                numbers = np.where(huge | fractional, np.nan, numbers)
                typed[column] = pd.Series(numbers, index=text.index).astype("Int64")
            else:
                typed[column] = pd.Series(numbers, index=text.index).astype("Float64")
        elif kind == "boolean":
            lowered = cells.str.lower()
            spellings = dictionary.BOOLEAN_SPELLINGS
            true = lowered.isin([spelling for spelling, meaning in spellings.items() if meaning]).to_numpy()
            false = lowered.isin([spelling for spelling, meaning in spellings.items() if not meaning]).to_numpy()
            report(column, ~empty & ~true & ~false, f"must be {dictionary.rule_text(column)}")
            typed[column] = pd.Series(pd.arrays.BooleanArray(true, ~(true | false)), index=text.index)
        else:  # text and category stay text (empty cells missing); the schema judges their labels
            arrow = pa.array(cells)
            typed[column] = pd.Series(pd.arrays.ArrowStringArray(pc.if_else(pa.array(empty), pa.scalar(None, arrow.type), arrow)),
                                      index=text.index)
    return pd.DataFrame(typed, index=text.index, copy=False), problems, hints


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
        if entry["type"] == "text":  # an identifier is shown in the report, on the terminal and in figures: printable only
            checks.append(pa.Check.str_matches(r"^[^\x00-\x1f\x7f]*$", error=CONTROL_CHARACTER_RULE))
        columns[column] = pa.Column(nullable=not entry["required"], checks=checks, required=entry["presence"] == "required")
    aspiration_only_in_group_a = pa.Check(
        lambda frame: ~(frame["group"].eq("B") & frame[CROSS_COLUMN_RULE_COLUMN].notna()).fillna(False),
        error=f"{CROSS_COLUMN_RULE_COLUMN} must be empty in group B (aspiration is group A's procedure)",
    )
    return pa.DataFrameSchema(columns, checks=[aspiration_only_in_group_a], strict=False)


def _rule_of_failure(check: str) -> str:
    return "must not be empty" if check == "not_nullable" else check


def _column_problems(table: TextTable, allowed_identifier_columns: tuple[str, ...]) -> tuple[list[Problem], list[str], list[str]]:
    """Problems of the header: identifiers, duplicates, missing columns, contract columns spelled otherwise (with a hint)."""
    problems, notices, hints = [], [], []
    text, file = table.text, table.file
    known = set(dictionary.column_names())
    spelled: dict[str, str] = {}  # contract column -> the file's other spelling of it
    for column in dict.fromkeys(text.columns):
        if column in known:
            continue
        normalised = _normalised(column)
        if normalised in known and normalised not in text.columns:
            spelled.setdefault(normalised, column)
        elif IDENTIFIER_NAME_PATTERN.search(normalised) and column not in allowed_identifier_columns:
            rule = ("looks like a direct identifier (name, record number, date of birth, address, phone); "
                    "remove it, or allow it explicitly (ALLOW_COLUMNS=... / --allow-column) if it is not one")
            problems.append(Problem(file, rule, column))
        else:
            notices.append(f"{paths.shown(file)}: column {column!r} is not part of the data contract and is ignored")
    for column in text.columns[text.columns.duplicated()].unique():
        problems.append(Problem(file, "column names must be unique", column))
    for column in dictionary.column_names():
        if column in text.columns:
            continue
        near = spelled.get(column)
        if dictionary.load_dictionary().loc[column, "presence"] == "required":
            rule = "required column is missing"
            if near is not None:
                rule += f" (the file has {near!r}: column names are lower case, with underscores)"
            problems.append(Problem(file, rule, column))
        elif near is not None:
            problems.append(Problem(file, f"this is the data contract's column {column!r}: write its name exactly so "
                                          "(column names are lower case, with underscores); it would otherwise be ignored", near))
        if near is not None:
            hints.append(CASE_HINT)
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
        return pd.DataFrame(), [], [*table.problems, Problem(file, "the file has no header row")], list(table.hints)
    column_problems, notices, hints = _column_problems(table, allowed_identifier_columns)
    problems = [*table.problems, *column_problems]
    notices += table.notices
    hints += table.hints
    if len(text) == 0 and not table.problems:
        problems.append(Problem(file, "the file has a header but no patient rows"))
    if len(text) == 0 or any(p.rule.startswith(("required column", "column names must")) for p in column_problems):
        return pd.DataFrame(), notices, problems, hints

    wanted = [column for column in dictionary.column_names() if column in text.columns]
    table = dataclasses.replace(table, text=text[wanted].reset_index(drop=True),
                                markers={column: series.reset_index(drop=True) for column, series in table.markers.items()})
    marked = sum(int(table.markers[column].notna().sum()) for column in wanted if column in table.markers)
    if marked:
        notices.append(f"{file}: {marked} cell(s) spelled as a missing value ({', '.join(MISSING_MARKERS)}) were read as empty")
    id_of = table.text["patient_id"]
    typed, parse_problems, parse_hints = _parse_cells(table, id_of)
    problems += parse_problems
    hints += parse_hints
    if centre is not None:
        if "centre" in typed.columns:
            other = (typed["centre"].notna() & typed["centre"].ne(centre)).to_numpy(dtype=bool, na_value=False)
            rule = f"must be empty or {centre!r}: in a folder of centre files the centre is the file's name"
            for row in np.flatnonzero(other):
                value = table.written(row, "centre")
                problems.append(Problem(file, rule, "centre", value, table.position(row), id_of.iat[row], table.where))
        typed["centre"] = pd.array([centre] * len(typed), dtype="string")
    try:
        build_schema().validate(typed, lazy=True, inplace=True)  # the schema coerces nothing; no copy of the data
    except pa.errors.SchemaErrors as errors:
        for failure in errors.failure_cases.itertuples(index=False):
            row, column = failure.index, failure.column if isinstance(failure.column, str) else ""
            if failure.schema_context == "DataFrameSchema":  # the one cross-column rule
                column = CROSS_COLUMN_RULE_COLUMN
            if row is None or pd.isna(row):
                problems.append(Problem(file, _rule_of_failure(failure.check), column))
                continue
            row = int(row)
            value = table.written(row, column) if column in table.text.columns else str(failure.failure_case)
            rule = _rule_of_failure(failure.check)
            problems.append(Problem(file, rule, column, value, table.position(row), id_of.iat[row], table.where))
    keys = ["centre", "patient_id"] if "centre" in typed else ["patient_id"]
    duplicated = (typed["patient_id"].notna() & typed.duplicated(keys, keep=False)).to_numpy(dtype=bool)
    rule = "must be unique (this patient_id occurs more than once" + (" in this centre)" if "centre" in typed else ")")
    for row in np.flatnonzero(duplicated):
        problems.append(Problem(file, rule, "patient_id", id_of.iat[row], table.position(row), id_of.iat[row], table.where))
    if table.refused:
        problems = [p for p in problems if p in table.problems or (p.line, p.column) not in table.refused]
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


#: Files a folder of centres may hold besides the centres' files, read for another purpose.
COMPANION_FILES = ("study.yml",)


def _folder_problems(folder: Path, files: list[Path]) -> tuple[list[Problem], list[str], list[str]]:
    """A folder's files that would be skipped without a word, links that lead out of it, and centres given more than one
    file; the notices name what is present but not read (sub-folders, other files)."""
    problems, hints, notices = [], [], []
    inside = folder.resolve()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_symlink() and inside not in entry.resolve().parents:
            problems.append(Problem(str(entry), "is a link to something outside the folder; links out of a folder of centres are "
                                                "not followed — copy the file into the folder instead"))
            if entry in files:
                files.remove(entry)
        elif entry.is_dir():
            notices.append(f"{entry.name}/ in {folder.name}/ is a sub-folder and is not read: a folder of centres holds one "
                           "file per centre")
        elif entry.is_file() and entry.suffix.lower() not in (*FILE_SUFFIXES, *UNREAD_FOLDER_SUFFIXES) and entry.name not in COMPANION_FILES:
            notices.append(f"{entry.name} in {folder.name}/ is not a cohort file (.csv or .xlsx) and is not read")
    for file in _visible_files(folder):
        if file.suffix.lower() in UNREAD_FOLDER_SUFFIXES:
            problems.append(Problem(str(file), f"{file.suffix} files are not read, so this centre would be left out: save it as "
                                               ".csv (UTF-8, comma-separated) or .xlsx, or move it out of the folder"))
            hints.append("one file per centre, each a .csv (UTF-8, comma-separated) or an .xlsx workbook")
    by_centre: dict[str, list[str]] = {}
    for file in files:
        by_centre.setdefault(file.stem.casefold(), []).append(file.name)
    for names in by_centre.values():
        if len(names) > 1:
            problems.append(Problem(str(folder), f"centre {Path(names[0]).stem!r} has more than one file ({', '.join(names)}): "
                                                 "a folder holds one file per centre, the centre being the file's name"))
    if not files:
        problems.append(Problem(str(folder), "the folder holds no .csv or .xlsx file"))
    return problems, hints, notices


def load_cohort(path: str | Path, allowed_identifier_columns: tuple[str, ...] = ()) -> ValidatedCohort:
    """Read and validate a cohort file, or a folder of centre files; raise :class:`CohortValidationError` listing every problem.

    In a folder each file is one centre, named by the file's stem; patient ids need only be unique within a centre.
    """
    path = Path(path)
    folder = path.is_dir()
    files = cohort_files(path) if folder else [path]
    problems: list[Problem] = []
    hints: list[str] = []
    notices: list[str] = []
    if folder:
        problems, hints, notices = _folder_problems(path, files)
    parts = []
    for file in files:
        try:
            table = read_text(file)
        except CohortValidationError as error:
            problems += error.problems
            hints += error.hints
            continue
        typed, file_notices, file_problems, file_hints = validate_table(table, allowed_identifier_columns,
                                                                        centre=file.stem if folder else None)
        notices += file_notices
        problems += file_problems
        hints += file_hints
        if not file_problems:
            parts.append(typed)
    problems += [Problem(str(file), f"a file name {CONTROL_CHARACTER_RULE}; rename the file", value=file.name)
                 for file in files if any(ord(character) < 32 or ord(character) == 127 for character in file.name)]
    if not problems:
        data = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        problems += _group_size_problems(data, str(path))
    if problems:
        order = {str(file): index for index, file in enumerate(files)}  # a folder's own problems first, then file by file
        problems = sorted(dict.fromkeys(problems),
                          key=lambda p: (order.get(p.file.split(" (sheet")[0], -1), p.file, p.line or 0, p.column, p.rule))
        raise CohortValidationError(problems, hints)
    for column in ("patient_id", "centre"):
        if column in data:
            data[column] = data[column].astype(str)
    return ValidatedCohort(data=data, source=path, sha256=cohort_sha256(path), files=[file.name for file in files],
                           notices=notices)
