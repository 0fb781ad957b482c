"""Reading cohort files and validating them against the data contract.

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

import csv
import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty import paths
from vertebroplasty.contract import dictionary

MINIMUM_PATIENTS_PER_GROUP = 2
FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
#: Spreadsheet files that are not read; refused by name (also in a folder) rather than skipped.
UNREAD_SUFFIXES = (".xls", ".ods", ".numbers")
#: Besides those, a folder's .tsv files are refused too: they would otherwise be skipped without a word.
UNREAD_FOLDER_SUFFIXES = (*UNREAD_SUFFIXES, ".tsv")
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
#: A number spelled plainly (digits, at most one point, an exponent): parsed in bulk; other spellings by pandas.
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
#: Whole numbers beyond this are not held exactly by a float; such a cell is out of any range of the contract.
LARGEST_WHOLE_NUMBER = 2**53
#: The column named in errors of the schema's one cross-column rule.
CROSS_COLUMN_RULE_COLUMN = "aspirated_blood_ml"

ZIP_SIGNATURE = b"PK\x03\x04"  # .xlsx, .ods
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls
UTF8_HINT = ("save the file as UTF-8 text: in a spreadsheet, 'Save as' > 'CSV UTF-8 (comma delimited)'; "
             "or save it as .xlsx, which the report also reads")
CASE_HINT = "column names must be written exactly as in the data contract (lower case, underscores)"


@dataclass(frozen=True)
class Problem:
    """One broken rule in one cell (or one row, one column, or the whole file)."""

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
    """A file's cells as stripped text (documented missing markers made empty), with where each row came from.

    ``problems`` were found while reading (rows of the wrong width, workbook cells that cannot be read) and are
    reported with the rules' problems; cells in ``refused`` (as ``(line or row, column)``) get no second problem.
    ``markers`` keeps, per column, the text of the cells read as missing, so a problem can show what was written.
    """

    text: pd.DataFrame
    file: str
    where: str  # "line" or "row"
    positions: np.ndarray | None = None  # row numbers as the user sees them; computed lazily for CSV
    source: Path | None = None
    hints: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused: set[tuple[int, str]] = field(default_factory=set)
    markers: dict[str, pd.Series] = field(default_factory=dict)

    def position(self, row: int) -> int | None:
        """The line (CSV) or row (workbook) of a data row, as the user sees it; None if it cannot be told."""
        if self.positions is None:
            self.positions = csv_record_lines(self.source)
        if len(self.positions) != len(self.text):  # the file changed while it was read
            return None
        return int(self.positions[row])

    def written(self, row: int, column: str) -> str:
        """The cell as written in the file (a missing marker such as ``NA`` included)."""
        marker = self.markers.get(column)
        if marker is not None and isinstance(marker.iat[row], str):
            return marker.iat[row]
        return self.text.at[row, column] if column in self.text.columns else ""


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


# --------------------------------------------------------------------------- reading CSV

def _csv_records(path: Path):
    """``(first line, cells)`` of every record of a CSV (1-based lines; a blank line is a record without cells)."""
    limit = csv.field_size_limit(1 << 30)  # a long note in a cell is no reason to fail
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            previous = 0
            for record in reader:
                yield previous + 1, record
                previous = reader.line_num
    finally:
        csv.field_size_limit(limit)


def _blank(record: list[str]) -> bool:
    return not record or (not record[0].strip() and not any(cell.strip() for cell in record))


def csv_record_lines(path: Path) -> np.ndarray:
    """The line on which each data row of a CSV starts (1-based), counting blank lines and line breaks in quoted cells.

    Data rows are the records after the header that have the header's number of cells and a non-blank cell: the
    rows :func:`read_csv_text` keeps (records of another width are reported, blank ones skipped).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = f.write_text('id,note\\n\\n1,"two\\nlines"\\n , \\n2,b\\n3\\n4,c\\n')
    >>> csv_record_lines(f).tolist()
    [3, 6, 8]
    """
    starts = []
    width = None
    for first, record in _csv_records(path):
        if _blank(record):
            continue
        if width is None:
            width = len(record)
        elif len(record) == width:
            starts.append(first)
    return np.asarray(starts, dtype=np.int64)


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _row_width_problems(path: Path, name: str, header: list[str], skipped: list[str]) -> list[Problem]:
    """Problems for the records whose number of cells differs from the header's (each by its line)."""
    width = len(header)
    stripped = [cell.strip() for cell in header]
    patient = stripped.index("patient_id") if "patient_id" in stripped else 0
    wrong, rows, header_seen = [], 0, False
    for first, record in _csv_records(path):
        if _blank(record):
            continue
        if not header_seen:
            header_seen = True
            continue
        rows += 1
        if len(record) != width:
            wrong.append((first, record))
    if not wrong:  # the csv module and the reader disagree: report what the reader skipped, without lines
        rule = f"a row cannot be read: it does not have the header's {width} cells"
        return [Problem(name, rule, value=_shortened(text.strip())) for text in skipped]
    counts = {len(record) for _, record in wrong}
    if len(wrong) == rows > 1 and len(counts) == 1:
        count = counts.pop()
        reason = " (does every row end with a comma?)" if count > width else ""
        return [Problem(name, f"every row has {count} cells but the header has {width} names{reason}")]
    problems = []
    for first, record in wrong:
        if any("\n" in cell or "\r" in cell for cell in record):
            why = "a quotation mark that is not closed, so that a cell runs over several lines?"
        elif len(record) < width:
            why = "a row cut short, or a line break inside a cell that is not quoted?"
        else:
            why = "a comma inside a cell that is not quoted, such as a decimal comma?"
        patient_id = _shortened(record[patient].strip(), 30) if patient < len(record) else ""
        cells = f"{len(record)} cell" + ("s" if len(record) != 1 else "")
        problems.append(Problem(name, f"this line has {cells} but the header has {width} ({why})", "",
                                _shortened(",".join(record)), first, patient_id, "line"))
    return problems


def _not_utf8_problem(path: Path, name: str) -> Problem:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(name, "the file is UTF-16 text ('Unicode text'), not UTF-8")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        start = raw.rfind(b"\n", 0, error.start) + 1
        excerpt = raw[max(start, error.start - 30):error.start + 30].split(b"\n")[0].decode("utf-8", errors="replace")
        return Problem(name, f"the file is not UTF-8 text: byte 0x{raw[error.start]:02x} on this line is not UTF-8 "
                             "(the file was probably saved in a local encoding such as Windows-1252)", "", excerpt, line)
    return Problem(name, "the file is not UTF-8 text")


def _first_record(path: Path) -> tuple[int, list[str] | None]:
    """The header: the first record of a CSV with a non-blank cell, and its line (``(0, None)`` if there is none)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        previous = 0
        for record in reader:
            if not _blank(record):
                return previous + 1, record
            previous = reader.line_num
    return 0, None


def read_csv_text(path: Path) -> TextTable:
    """A CSV (UTF-8, with or without BOM, comma-separated) with every cell as stripped text."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    path = Path(path)
    name = str(path)
    with open(path, "rb") as handle:
        signature = handle.read(8)
    if signature.startswith(ZIP_SIGNATURE):
        raise CohortValidationError([Problem(name, "the file is a workbook (a zip archive such as .xlsx), not CSV text")],
                                    ["give the file its real ending, .xlsx (the report reads .xlsx), or export it as CSV UTF-8"])
    if signature.startswith(OLE_SIGNATURE):
        raise CohortValidationError([Problem(name, "the file is an old Excel workbook (.xls), not CSV text")],
                                    ["save the workbook as .xlsx, or export it as CSV UTF-8"])
    try:
        header_line, header = _first_record(path)
    except UnicodeDecodeError:
        raise CohortValidationError([_not_utf8_problem(path, name)], [UTF8_HINT]) from None
    except (csv.Error, OSError) as error:
        raise CohortValidationError([Problem(name, f"the file cannot be read as CSV ({error})")]) from None
    if header is None:
        raise CohortValidationError([Problem(name, "the file is empty; a header row and one row per patient are needed")])
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "semicolons" if ";" in header[0] else "tabs"
        raise CohortValidationError([Problem(name, f"the columns are separated by {separator}, not commas")],
                                    [f"export the file as comma-separated CSV (spreadsheets in many locales use {separator}); "
                                     "or save it as .xlsx, which the report also reads"])

    skipped: list[str] = []

    def other_width(row) -> str:  # called by the reader for a record whose number of cells is not the header's
        if row.text.strip(' \t\r\n,"'):
            skipped.append(row.text)
        return "skip"

    width = len(header)
    try:
        table = arrow_csv.read_csv(
            path,
            # the header is read as a row of text; lines before it are blank (skip_rows counts lines, not records)
            read_options=arrow_csv.ReadOptions(autogenerate_column_names=True, skip_rows=header_line - 1),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=other_width),
            convert_options=arrow_csv.ConvertOptions(column_types={f"f{i}": pa.large_string() for i in range(width + 1)},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error) or "UTF-8" in str(error):
            raise CohortValidationError([_not_utf8_problem(path, name)], [UTF8_HINT]) from None
        raise CohortValidationError([Problem(name, f"the file cannot be read as CSV ({error})")]) from None
    table = table.cast(pa.schema([(column, pa.large_string()) for column in table.column_names]))  # were one typed otherwise
    header = [str(cell) for cell in table.slice(0, 1).to_pylist()[0].values()] if table.num_rows else header
    problems = _row_width_problems(path, name, header, skipped) if skipped else []
    if len(problems) == 1 and problems[0].line is None and problems[0].rule.startswith("every row"):
        raise CohortValidationError(problems)
    columns = [column.slice(1) for column in table.columns]
    del table  # each raw column is let go once it has been stripped
    result = _text_table(columns, header, lambda index: f"(column {index + 1}, no name)", name, "line", path)
    result.problems = problems + result.problems
    return result


def _text_table(columns: list, header: list[str], nameless, file: str, where: str, source: Path,
                positions: np.ndarray | None = None) -> TextTable:
    """The text table of a file's columns (Arrow string arrays, header row excluded).

    Every cell is stripped; missing markers become empty; rows whose every cell is empty are skipped, and so are
    columns without a name or a value (a column without a name but with values is named by ``nameless(index)``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    value_set = pa.array(MISSING_MARKERS, pa.large_string())
    kept, names, markers = [], [], {}
    keep = None  # rows with a non-empty cell
    for index in range(len(columns)):
        cells, columns[index] = pc.utf8_trim_whitespace(columns[index]), None
        filled = pc.not_equal(cells, "")
        name = str(header[index]).strip() if index < len(header) else ""
        if not name:
            if not pc.any(filled).as_py():
                continue
            name = nameless(index)
        keep = filled if keep is None else pc.or_(keep, filled)
        is_marker = pc.is_in(cells, value_set=value_set)
        if pc.any(is_marker).as_py():
            markers[name] = pc.if_else(is_marker, cells, pa.scalar(None, pa.large_string()))
            cells = pc.if_else(is_marker, "", cells)
        kept.append(cells)
        names.append(name)
    if keep is not None and not pc.all(keep).as_py():
        kept = [pc.filter(cells, keep) for cells in kept]
        markers = {column: pc.filter(cells, keep) for column, cells in markers.items()}
        if positions is not None:
            positions = positions[keep.to_numpy(zero_copy_only=False)]
    frame = pa.table({str(index): cells for index, cells in enumerate(kept)}).to_pandas() if kept else pd.DataFrame()
    frame.columns = names
    markers = {column: pd.Series(cells.to_pandas(), dtype="str") for column, cells in markers.items()}
    return TextTable(frame, file, where, positions=positions, source=source, markers=markers)


# --------------------------------------------------------------------------- reading workbooks

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


def _formula_text(value) -> str:
    return value if isinstance(value, str) else str(getattr(value, "text", value))


def _normalised(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def read_workbook_text(path: Path) -> TextTable:
    """The first sheet of an .xlsx workbook, every cell as text, refusing what would be silently lost.

    The sheet is streamed — its values by openpyxl's read-only mode, one row at a time, and its layout (merged cells,
    hidden rows and columns, formulas without a stored result) by one pass over its XML — so a workbook costs about as
    much memory as its text and is read once.  A formula cell without a stored result (the workbook was written
    by a program that does not calculate) and merged cells in the table are reported, each named by its cell, with the
    sheet's other problems; hidden rows and columns are read like the others and named in a notice.  A first sheet that
    holds no cohort table while another sheet does is refused with a hint.
    """
    import openpyxl
    import pyarrow as pa
    from openpyxl.utils import get_column_letter

    path = Path(path)
    name = str(path)
    try:
        values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken or foreign file
        rule = f"the file cannot be read as an .xlsx workbook ({type(error).__name__}: {error})"
        raise CohortValidationError([Problem(name, rule)]) from None
    try:
        if not values_book.worksheets:
            raise CohortValidationError([Problem(name, "the workbook has no worksheet")])
        sheet = values_book.worksheets[0]
        shown = f"{name} (sheet {sheet.title!r})"
        merged_ranges, hidden_rows, hidden_columns, formula_cells = _sheet_layout(sheet)
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            text = [_cell_text(value) for value in values]
            if any(text):
                rows.append((number, text))
        if not rows:
            raise CohortValidationError([Problem(shown, "the first sheet is empty; only the first sheet of a workbook is read")],
                                        _other_sheet_hint(values_book, sheet.title))
        header_row, header = rows[0]
        known = set(dictionary.column_names())
        hints = []
        if "patient_id" not in header:
            hints = _other_sheet_hint(values_book, sheet.title)
            if hints and not any(_normalised(cell) in known for cell in header):
                raise CohortValidationError([Problem(shown, "the first sheet holds no cohort table (no column of the data contract); "
                                                            "only the first sheet of a workbook is read")], hints)
    finally:
        values_book.close()
    width = max(len(row) for _, row in rows)
    header = header + [""] * (width - len(header))
    body = [(number, row + [""] * (width - len(row))) for number, row in rows[1:]]
    column_name = [header[index] or f"(column {get_column_letter(index + 1)}, no name)" for index in range(width)]
    patient_column = header.index("patient_id") if "patient_id" in header else None
    row_text = dict(body)

    def patient_of(row: int) -> str:
        return row_text[row][patient_column] if patient_column is not None and row in row_text else ""

    def name_of(column_number: int) -> str:  # 1-based, as openpyxl counts
        return column_name[column_number - 1] if column_number <= width else get_column_letter(column_number)

    problems: list[Problem] = []
    refused: set[tuple[int, str]] = set()
    for merged in merged_ranges:
        if merged.max_row <= header_row:
            continue
        first = max(merged.min_row, header_row + 1)
        column = name_of(merged.min_col)
        value = row_text[first][merged.min_col - 1] if first in row_text and merged.min_col <= width else ""
        rule = (f"merged cells ({merged.coord}) are not allowed in the table: every patient needs a value of their own; "
                "unmerge them and fill each cell")
        problems.append(Problem(shown, rule, column, value, first, patient_of(first), "row"))
        for row in row_text:
            if first <= row <= merged.max_row:
                refused.update((row, name_of(number)) for number in range(merged.min_col, merged.max_col + 1))
    for row, column_number, formula in formula_cells:
        if row <= header_row:
            continue
        column = name_of(column_number)
        coordinate = f"{get_column_letter(column_number)}{row}"
        rule = (f"cell {coordinate} holds a formula without a stored result; open the workbook in a spreadsheet "
                "program, let it calculate and save it, or paste the values")
        problems.append(Problem(shown, rule, column, _formula_text(formula), row, patient_of(row), "row"))
        refused.add((row, column))
    columns = [pa.array([row[index] for _, row in body], pa.large_string()) for index in range(width)]
    positions = np.asarray([number for number, _ in body], dtype=np.int64)
    result = _text_table(columns, header, lambda index: column_name[index], shown, "row", path, positions)
    result.hints += hints
    result.problems += problems
    result.refused |= refused
    hidden_data_rows = sorted(row for row in hidden_rows if row in row_text)
    if hidden_data_rows:
        listed = ", ".join(map(str, hidden_data_rows[:10])) + (f" and {len(hidden_data_rows) - 10} more" if len(hidden_data_rows) > 10 else "")
        result.notices.append(f"{shown}: {len(hidden_data_rows)} hidden row(s) ({listed}) are read like the others; delete the rows "
                              "that should not be analysed")
    hidden_names = [name_of(column) for column in sorted(hidden_columns) if column <= width and header[column - 1]]
    if hidden_names:
        result.notices.append(f"{shown}: hidden column(s) {', '.join(hidden_names)} are read like the others")
    return result


def _sheet_layout(sheet) -> tuple[list, set[int], set[int], list[tuple[int, int, str]]]:
    """Merged ranges, hidden rows, hidden columns and formula cells without a stored result (row, column, formula) of a
    read-only worksheet, from one streaming pass over its XML (openpyxl's read-only mode does not parse them)."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    from openpyxl.worksheet.cell_range import CellRange

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    merged, hidden_rows, hidden_columns, formulas = [], set(), set(), []
    with sheet._get_source() as source:  # the sheet's XML in the workbook archive
        for _, element in iterparse(source, events=("end",)):
            tag = element.tag
            if tag == f"{main}c":
                formula, value = element.find(f"{main}f"), element.find(f"{main}v")
                if formula is not None and (value is None or value.text in (None, "")) and element.get("r"):
                    letters, row = coordinate_from_string(element.get("r"))
                    formulas.append((row, column_index_from_string(letters), "=" + (formula.text or "(shared formula)")))
            elif tag == f"{main}row":
                if element.get("hidden") in ("1", "true"):
                    hidden_rows.add(int(element.get("r", 0)))
                element.clear()
            elif tag == f"{main}col":
                if element.get("hidden") in ("1", "true"):
                    hidden_columns.update(range(int(element.get("min")), int(element.get("max")) + 1))
            elif tag == f"{main}mergeCell":
                merged.append(CellRange(element.get("ref")))
    return merged, hidden_rows, hidden_columns, formulas


def _other_sheet_hint(book, first: str) -> list[str]:
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows(max_row=20, values_only=True):
            if "patient_id" in [_normalised(_cell_text(value)) for value in row]:
                return [f"the data seem to be on sheet {sheet.title!r}, but only the first sheet ({first!r}) is read: "
                        "move that sheet to the front of the workbook"]
    return []


def read_text(path: Path) -> TextTable:
    """One cohort file as text (CSV or the first sheet of a workbook)."""
    path = Path(path)
    if not path.is_file():
        raise CohortValidationError([Problem(str(path), "the file must exist and be readable")])
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_workbook_text(path)
    if suffix in UNREAD_SUFFIXES:
        rule = f"{suffix} files are not read (old .xls workbooks, OpenDocument and Numbers files)"
        hint = "save the workbook as .xlsx, or export it as CSV UTF-8 (comma-separated)"
        raise CohortValidationError([Problem(str(path), rule)], [hint])
    return read_csv_text(path)


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
