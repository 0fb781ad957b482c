"""Reading cohort files as text: CSV and workbooks, every cell kept as written, every reading problem collected.

:mod:`vertebroplasty.contract.validation` judges what is read here against the data contract.  A file is read once:
a CSV with the standard library's reader, a workbook streamed with openpyxl's read-only mode plus one pass over the
sheet's XML for merged cells, hidden rows and columns and formulas without a stored result.  Problems found while
reading (rows of the wrong width, text that is not UTF-8, unreadable cells) are kept with the file, line or row, column
and value, and reported with the contract's own.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary

#: Spreadsheet files that are not read; refused by name (also in a folder) rather than skipped.
UNREAD_SUFFIXES = (".xls", ".ods", ".numbers")
#: Cells read as missing, besides empty ones (case as written).
MISSING_MARKERS = ("NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", ".", "-", "—")
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
