"""Every rule of the data contract gives a clear error naming file, line, patient, column, value and rule.

Covers :mod:`vertebroplasty.contract.validation`: the rules themselves, the reading of CSV files, workbooks and folders of
centre files, the hints for the usual export mistakes, and the refusals of what would otherwise be silently lost.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from conftest import sha256
from vertebroplasty import paths
from vertebroplasty.contract import dictionary, validation
from vertebroplasty.contract.validation import CohortValidationError, Problem, load_cohort

COLUMNS = dictionary.column_names()
HEADER = list(pd.read_csv(paths.DEFAULT_COHORT, nrows=0).columns)  # the default cohort's columns, in its order


# --------------------------------------------------------------------------- helpers

def error_of(path, **kwargs) -> CohortValidationError:
    with pytest.raises(CohortValidationError) as caught:
        load_cohort(path, **kwargs)
    return caught.value


def problems_of(path, **kwargs) -> list[Problem]:
    return error_of(path, **kwargs).problems


def csv_text(table: pd.DataFrame, newline: str = "\n") -> str:
    """A text table as CSV lines (no quoting needed: the cohort's cells hold no comma)."""
    return newline.join(",".join(row) for row in [list(table.columns), *table.to_numpy().tolist()]) + newline


def numeric_rows(table: pd.DataFrame | None = None) -> list[list]:
    """Header and rows of the default cohort with numbers as numbers, as a spreadsheet holds them."""
    numeric = pd.read_csv(paths.DEFAULT_COHORT) if table is None else table
    rows = [list(numeric.columns)]
    for row in numeric.itertuples(index=False):
        rows.append([None if pd.isna(value) else (value.item() if isinstance(value, np.generic) else value) for value in row])
    return rows


def write_workbook(path: Path, sheets: dict[str, list[list]], first_row: int = 1) -> Path:
    """An .xlsx written with openpyxl: one sheet per entry, in order; the first sheet's table starts at ``first_row``."""
    book = openpyxl.Workbook()
    for index, (title, rows) in enumerate(sheets.items()):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        start = first_row if index == 0 else 1
        for row_number, row in enumerate(rows, start=start):
            for column_number, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row_number, column_number, value)
    book.save(path)
    return path


def set_cached_value(path: Path, cell: str, value: str) -> None:
    """Store a formula's result in an .xlsx, as a spreadsheet program does on saving (openpyxl never calculates)."""
    with zipfile.ZipFile(path) as archive:
        members = {info: archive.read(info.filename) for info in archive.infolist()}
    changed = {}
    for info, content in members.items():
        if info.filename == "xl/worksheets/sheet1.xml":
            xml = content.decode("utf-8")
            new = re.sub(rf'(<c r="{cell}"[^>]*>)<f>([^<]*)</f><v\s*/>', rf"\g<1><f>\g<2></f><v>{value}</v>", xml)
            assert new != xml, f"no formula cell {cell} without a value in the sheet"
            content = new.encode("utf-8")
        changed[info] = content
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in changed.items():
            archive.writestr(info, content)


# --------------------------------------------------------------------------- the default cohort

def test_default_cohort_is_valid():
    loaded = load_cohort(paths.DEFAULT_COHORT)
    assert isinstance(loaded, validation.ValidatedCohort)
    assert len(loaded.data) == 83
    assert loaded.notices == []
    assert list(loaded.data.columns) == [column for column in COLUMNS if column != "centre"]
    assert loaded.data["age"].dtype == "Int64" and loaded.data["bmi"].dtype == "Float64"
    assert loaded.data["cement_leakage"].dtype == "boolean"
    assert loaded.source == paths.DEFAULT_COHORT
    assert loaded.sha256 == sha256(paths.DEFAULT_COHORT) == validation.file_sha256(paths.DEFAULT_COHORT)
    assert loaded.files == ["cohort.csv"]


def test_values_are_the_files_values(default_cohort_text):
    data = load_cohort(paths.DEFAULT_COHORT).data
    for column in ("bmi", "fvah_post_mm", "lka_pre_deg", "aspirated_blood_ml"):
        expected = [float(cell) if cell else np.nan for cell in default_cohort_text[column]]
        np.testing.assert_array_equal(data[column].to_numpy(dtype=float, na_value=np.nan), expected)
    assert data["age"].tolist() == [int(cell) for cell in default_cohort_text["age"]]
    assert data["cement_leakage"].tolist() == default_cohort_text["cement_leakage"].eq("yes").tolist()
    assert data["patient_id"].tolist() == default_cohort_text["patient_id"].tolist()


# --------------------------------------------------------------------------- the rules, cell by cell

def test_missing_required_column(default_cohort_text, write_cohort):
    path = write_cohort(default_cohort_text.drop(columns=["lka_post_deg", "group"]))
    problems = problems_of(path)
    assert {(p.column, p.rule) for p in problems} == {("group", "required column is missing"),
                                                      ("lka_post_deg", "required column is missing")}
    assert all(p.file == str(path) and str(path) in str(p) for p in problems)


@pytest.mark.parametrize("column, value, rule_part", [
    ("age", "seventy", "this is not a number"),
    ("age", "7.5", "this is not a whole number"),
    ("vas_pre", "4.5", "this is not a whole number"),
    ("bmi", "22,5", "this is not a number"),
    ("age", "120", "from 40 to 110 years"),
    ("age", "1e20", "from 40 to 110 years"),  # beyond any integer type: reported, not a crash
    ("bmi", "inf", "from 12 to 50 kg/m²"),
    ("fvah_post_mm", "-1", "from 0 to 60 mm"),
    ("odi_final", "100.5", "from 0 to 100 %"),
    ("group", "C", "one of A, B"),
    ("group", "a", "one of A, B"),  # labels are case-sensitive
    ("level", "L6", "one of T1"),
    ("sex", "X", "one of M, F"),
    ("compression_grade", "IV", "one of I, II, III"),
    ("cement_distribution", "D", "one of A, B, C"),
    ("cement_leakage", "maybe", "yes/no"),
])
def test_bad_cell_is_reported_with_its_coordinates(default_cohort_text, write_cohort, column, value, rule_part):
    table = default_cohort_text.copy()
    row = 4 if column != "group" else 50  # a group-B row for the group test keeps group sizes valid
    table.loc[row, column] = value
    if column == "group":
        table.loc[row, "aspirated_blood_ml"] = ""
    path = write_cohort(table)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.patient_id, problem.column, problem.value) == (
        str(path), row + 2, table.loc[row, "patient_id"], column, value)
    assert rule_part in problem.rule
    message = str(problem)
    for part in (str(path), f"line {row + 2}", table.loc[row, "patient_id"], column, repr(value), rule_part):
        assert part in message


def test_all_problems_reported_at_once(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[0, "age"] = "7.5"
    table.loc[1, "level"] = "L6"
    table.loc[2, "patient_id"] = table.loc[3, "patient_id"]
    table.loc[5, "patient_id"] = ""
    table.loc[60, "aspirated_blood_ml"] = "4.0"  # a group-B patient
    error = error_of(write_cohort(table))
    problems = error.problems
    found = {(p.line, p.column) for p in problems}
    assert found == {(2, "age"), (3, "level"), (4, "patient_id"), (5, "patient_id"), (7, "patient_id"),
                     (62, "aspirated_blood_ml")}
    rules = " ".join(p.rule for p in problems)
    assert "must be unique" in rules and "must not be empty" in rules and "empty in group B" in rules
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert str(error).startswith("6 problem(s) found")
    assert all(str(problem) in str(error) for problem in problems)


def test_group_with_fewer_than_two_patients(default_cohort_text, write_cohort):
    table = default_cohort_text[default_cohort_text["group"].eq("A") | default_cohort_text.index.isin([50])]
    problems = problems_of(write_cohort(table))
    assert [p.rule for p in problems] == ["group B has 1 patient(s); each group needs at least 2 for the comparisons"]
    assert validation.MINIMUM_PATIENTS_PER_GROUP == 2
    two = default_cohort_text[default_cohort_text["group"].eq("A") | default_cohort_text.index.isin([50, 51])]
    assert len(load_cohort(write_cohort(two, "two.csv")).data) == 44


@pytest.mark.parametrize("column", ["patient_name", "Medical Record Number", "date_of_birth", "DOB", "address", "phone",
                                    "e-mail"])
def test_identifier_columns_are_refused_unless_allowed(default_cohort_text, write_cohort, column):
    table = default_cohort_text.assign(**{column: "x"})
    path = write_cohort(table)
    problems = problems_of(path)
    assert [(p.column, "direct identifier" in p.rule) for p in problems] == [(column, True)]
    allowed = load_cohort(path, allowed_identifier_columns=(column,))
    assert column not in allowed.data.columns and "ignored" in allowed.notices[0]


def test_extra_harmless_column_is_ignored_with_a_notice(default_cohort_text, write_cohort):
    loaded = load_cohort(write_cohort(default_cohort_text.assign(surgeon_grade="senior")))
    assert "surgeon_grade" not in loaded.data.columns
    assert loaded.notices == [f"{loaded.source}: column 'surgeon_grade' is not part of the data contract and is ignored"]


def test_missing_measurements_are_allowed_but_required_cells_are_not(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[3, ["fvah_final_mm", "vas_op", "odi_final", "bmi", "sex", "cement_leakage"]] = ""
    data = load_cohort(write_cohort(table)).data
    assert data.loc[3, ["fvah_final_mm", "vas_op", "odi_final", "bmi", "sex", "cement_leakage"]].isna().all()
    assert data.drop(index=3).notna().sum().sum() > 0
    table.loc[3, "cement_distribution"] = ""
    problems = problems_of(write_cohort(table))
    assert [(p.column, p.rule, p.line) for p in problems] == [("cement_distribution", "must not be empty", 5)]


def test_number_spellings_read_as_numbers(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    spellings = {"22.": 22.0, ".5e2": 50.0, "+2.25E1": 22.5, "0022.5": 22.5, " 19.75 ": 19.75,
                 "1.234567890123456789e1": 12.34567890123456789}
    for row, spelled in enumerate(spellings):
        table.loc[row, "bmi"] = spelled
    table.loc[0, "age"] = "63.0"  # a whole number written with a decimal point is a whole number
    table.loc[1, "age"] = "+64"
    data = load_cohort(write_cohort(table)).data
    assert data["bmi"].iloc[:len(spellings)].tolist() == list(spellings.values())
    assert data["age"].iloc[:2].tolist() == [63, 64]


@pytest.mark.parametrize("spelled", ["1_9", "0x14", "20d", "２０", "١٩", "20 kg", "Infinity", "-inf", "1e400", "+.2e2", "20.0e0",
                                     "2,0e1", "e1", "1e", "--20", "20-", "20.5.1", "0020"])
def test_odd_number_spellings_are_read_as_pandas_reads_them(default_cohort_text, write_cohort, spelled):
    """Plain spellings are converted in bulk; whatever the route, a cell means what pandas.to_numeric makes of it."""
    table = default_cohort_text.copy()
    table.loc[4, "bmi"] = spelled
    expected = pd.to_numeric(pd.Series([spelled.strip()], dtype=str), errors="coerce").astype(float).iloc[0]
    path = write_cohort(table)
    if np.isfinite(expected) and 12 <= expected <= 50:
        assert load_cohort(path).data.loc[4, "bmi"] == expected
    else:
        problems = problems_of(path)
        assert [(p.line, p.column, p.value) for p in problems] == [(6, "bmi", spelled)]
        assert ("this is not a number" in problems[0].rule) == bool(np.isnan(expected))


def test_column_order_does_not_matter(default_cohort_text, write_cohort):
    shuffled = default_cohort_text[list(reversed(default_cohort_text.columns))].copy()
    loaded = load_cohort(write_cohort(shuffled))
    pd.testing.assert_frame_equal(loaded.data, load_cohort(paths.DEFAULT_COHORT).data)
    shuffled.loc[9, "sex"] = "X"
    problems = problems_of(write_cohort(shuffled))
    assert [(p.line, p.patient_id, p.column) for p in problems] == [(11, "SYN-010", "sex")]


def test_cross_column_rule_names_the_cell(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    row = int(table.index[table["group"].eq("B")][0])
    table.loc[row, "aspirated_blood_ml"] = "2.5"
    problems = problems_of(write_cohort(table))
    assert [(p.line, p.patient_id, p.column, p.value) for p in problems] == [
        (row + 2, table.loc[row, "patient_id"], "aspirated_blood_ml", "2.5")]
    assert "empty in group B" in problems[0].rule


# --------------------------------------------------------------------------- files as they come

def test_boolean_spellings_and_bom_and_xlsx(default_cohort_text, tmp_path):
    table = default_cohort_text.copy()
    table["cement_leakage"] = table["cement_leakage"].map({"yes": "TRUE", "no": "0"})
    path = tmp_path / "bom.csv"
    path.write_text(table.to_csv(index=False), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    bom = load_cohort(path).data
    assert bom.columns[0] == "patient_id" and int(bom["cement_leakage"].sum()) == 16
    workbook = tmp_path / "cohort.xlsx"
    numeric = pd.read_csv(paths.DEFAULT_COHORT)  # numbers as numbers, as a spreadsheet holds them
    numeric.to_excel(workbook, index=False)
    from_excel = load_cohort(workbook).data
    reference = load_cohort(paths.DEFAULT_COHORT).data
    pd.testing.assert_frame_equal(from_excel, reference)
    pd.testing.assert_frame_equal(bom.drop(columns="cement_leakage"), reference.drop(columns="cement_leakage"))


def test_workbook_with_boolean_cells_and_leading_empty_rows_equals_csv(tmp_path):
    rows = numeric_rows()
    leakage = rows[0].index("cement_leakage")
    for row in rows[1:]:
        row[leakage] = row[leakage] == "yes"  # real TRUE/FALSE cells
    workbook = write_workbook(tmp_path / "cohort.xlsx", {"Data": rows}, first_row=3)
    pd.testing.assert_frame_equal(load_cohort(workbook).data, load_cohort(paths.DEFAULT_COHORT).data)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_input_file_is_never_modified(default_cohort_text, tmp_path, suffix):
    table = default_cohort_text.copy()
    table.loc[0, "age"] = "7.5"
    path = tmp_path / f"cohort{suffix}"
    if suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        write_workbook(path, {"Data": [list(table.columns), *table.to_numpy().tolist()]})
    before = (sha256(path), path.stat().st_mtime_ns, sorted(p.name for p in tmp_path.iterdir()))
    problems_of(path)
    load_cohort(paths.DEFAULT_COHORT)
    assert (sha256(path), path.stat().st_mtime_ns, sorted(p.name for p in tmp_path.iterdir())) == before


def test_missing_path_empty_file_and_header_only(tmp_path, default_cohort_text, write_cohort):
    assert "must exist" in problems_of(tmp_path / "nowhere.csv")[0].rule
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in problems_of(empty)[0].rule
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n  \n")
    assert "the file is empty" in problems_of(blank)[0].rule
    header_only = write_cohort(default_cohort_text.iloc[:0], "header.csv")
    assert [p.rule for p in problems_of(header_only)] == ["the file has a header but no patient rows"]


# --------------------------------------------------------------------------- line numbers

def _awkward_csv(default_cohort_text: pd.DataFrame, newline: str) -> str:
    """Leading blank line, blank lines between records, quoted cells spanning lines; SYN-004 starts on line 12."""
    table = default_cohort_text.assign(note="")
    table.loc[3, "sex"] = "X"   # SYN-004
    table.loc[7, "age"] = "7"   # SYN-008
    rows = [",".join(row) for row in table.to_numpy().tolist()]
    header = ",".join(table.columns)
    def quoted(row: str, note: str) -> str:
        return row[:-len(",")] + ',"' + note.replace('"', '""').replace("\n", newline) + '"'
    lines = [
        "",                                              # 1
        header,                                          # 2
        rows[0],                                         # 3  SYN-001
        "",                                              # 4
        quoted(rows[1], "first line\nsecond\nthird"),    # 5-7 SYN-002
        "",                                              # 8
        "   ",                                           # 9  whitespace only
        quoted(rows[2], 'said "no"\n'),                  # 10-11 SYN-003 (quote inside, line break at the end)
        rows[3],                                         # 12 SYN-004: sex X
        ",,,,",                                          # 13 an empty row, as spreadsheets export them
        *rows[4:7],                                      # 14-16
        rows[7],                                         # 17 SYN-008: age 7
        *rows[8:],
    ]
    return newline.join(lines) + newline


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_lines_are_the_files_real_lines(default_cohort_text, tmp_path, newline):
    path = tmp_path / "awkward.csv"
    path.write_bytes(_awkward_csv(default_cohort_text, newline).encode("utf-8"))
    problems = problems_of(path)
    assert [(p.line, p.patient_id, p.column, p.value) for p in problems] == [
        (12, "SYN-004", "sex", "X"), (17, "SYN-008", "age", "7")]
    assert all(p.where == "line" and f"line {p.line}," in str(p) for p in problems)
    starts = validation.csv_record_lines(path)
    assert starts[:8].tolist() == [3, 5, 10, 12, 14, 15, 16, 17] and len(starts) == 83


def test_blank_looking_lines_before_the_header(default_cohort_text, tmp_path):
    table = default_cohort_text.copy()
    table.loc[0, "sex"] = "X"
    path = tmp_path / "lead.csv"
    path.write_text("  \n,,,\n\t\n" + csv_text(table))  # header on line 4
    problems = problems_of(path)
    assert [(p.line, p.patient_id, p.column) for p in problems] == [(5, "SYN-001", "sex")]


def test_lines_after_a_very_long_cell(default_cohort_text, tmp_path):
    table = default_cohort_text.assign(note="")
    table.loc[2, "note"] = "x" * 300_000 + "\n" + "y" * 10  # longer than the csv module's default field limit
    table.loc[5, "sex"] = "X"
    path = tmp_path / "long.csv"
    table.to_csv(path, index=False)
    problems = problems_of(path)
    assert [(p.line, p.patient_id) for p in problems] == [(8, "SYN-006")]  # SYN-003's note spans lines 4 and 5


def test_lines_with_a_corrected_file_give_the_same_data(default_cohort_text, tmp_path):
    table = default_cohort_text.copy()
    path = tmp_path / "awkward.csv"
    path.write_text(_awkward_csv(table, "\n").replace(",X,", ",F,").replace("SYN-008,A,7,", "SYN-008,A,70,"))
    loaded = load_cohort(path)
    assert len(loaded.data) == 83 and loaded.data["patient_id"].tolist() == table["patient_id"].tolist()
    assert loaded.notices == [f"{path}: column 'note' is not part of the data contract and is ignored"]


def test_line_numbers_in_a_large_file(default_cohort_text, tmp_path):
    rng = np.random.default_rng(7)
    big = default_cohort_text.iloc[rng.integers(0, 83, 20_000)].reset_index(drop=True)
    big["patient_id"] = [f"P{i:05d}" for i in range(len(big))]
    big.loc[19_990, "patient_id"] = "P00017"
    big.loc[12_345, "vas_post"] = "11"
    path = tmp_path / "big.csv"
    path.write_text(csv_text(big))
    problems = problems_of(path)
    assert [(p.line, p.patient_id, p.column) for p in problems] == [
        (19, "P00017", "patient_id"), (12_347, "P12345", "vas_post"), (19_992, "P00017", "patient_id")]


# --------------------------------------------------------------------------- broken structure

def test_row_with_too_few_or_too_many_cells_is_refused(default_cohort_text, tmp_path):
    lines = csv_text(default_cohort_text).splitlines()
    lines[10] = ",".join(lines[10].split(",")[:-5])  # cut short: SYN-010 on line 11
    lines[20] = lines[20] + ",9"                       # one cell too many: SYN-020 on line 21
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n")
    problems = problems_of(path)
    assert [(p.line, p.patient_id) for p in problems] == [(11, "SYN-010"), (21, "SYN-020")]
    assert "32 cells" in problems[0].rule and "37" in problems[0].rule
    assert "38 cells" in problems[1].rule


def test_row_width_problem_names_the_patient_wherever_its_column_is(default_cohort_text, tmp_path):
    columns = list(default_cohort_text.columns)
    moved = default_cohort_text[columns[1:3] + ["patient_id"] + columns[3:]]
    lines = csv_text(moved).splitlines()
    lines[6] = ",".join(lines[6].split(",")[:20])
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n")
    assert [(p.line, p.patient_id) for p in problems_of(path)] == [(7, "SYN-006")]


def test_row_problems_and_cell_problems_are_reported_together(default_cohort_text, tmp_path):
    table = default_cohort_text.copy()
    table.loc[40, "sex"] = "X"
    lines = csv_text(table).splitlines()
    lines[10] = lines[10] + ",9"
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n")
    assert [(p.line, p.column) for p in problems_of(path)] == [(11, ""), (42, "sex")]


def test_quotation_mark_not_closed_is_refused_by_its_line(default_cohort_text, tmp_path):
    lines = csv_text(default_cohort_text).splitlines()
    lines[5] = '"' + lines[5]  # SYN-005 on line 6: the rest of the file becomes one cell
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n")
    problems = problems_of(path)
    assert [p.line for p in problems] == [6] and "quotation mark" in problems[0].rule
    assert len(str(problems[0])) < 400  # the rest of the file is not printed


def test_every_row_one_cell_longer_than_the_header_is_one_problem(default_cohort_text, tmp_path):
    lines = csv_text(default_cohort_text).splitlines()
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join([lines[0]] + [line + "," for line in lines[1:]]) + "\n")
    problems = problems_of(path)
    assert len(problems) == 1 and "every row" in problems[0].rule


def test_nameless_empty_column_is_ignored(default_cohort_text, tmp_path):
    lines = csv_text(default_cohort_text).splitlines()
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join(line + "," for line in lines) + "\n")
    loaded = load_cohort(path)
    assert len(loaded.data) == 83 and loaded.notices == []


def test_duplicate_column_names_are_refused(default_cohort_text, tmp_path):
    lines = csv_text(default_cohort_text).splitlines()
    path = tmp_path / "twice.csv"
    path.write_text("\n".join([lines[0] + ",age"] + [line + ",1" for line in lines[1:]]) + "\n")
    assert [(p.column, p.rule) for p in problems_of(path)] == [("age", "column names must be unique")]


# --------------------------------------------------------------------------- export mistakes get hints

@pytest.mark.parametrize("separator, word", [(";", "semicolons"), ("\t", "tabs")])
def test_other_separators_get_one_problem_and_a_hint(default_cohort_text, tmp_path, separator, word):
    path = tmp_path / "cohort.csv"
    default_cohort_text.to_csv(path, index=False, sep=separator)
    error = error_of(path)
    assert [p.rule for p in error.problems] == [f"the columns are separated by {word}, not commas"]
    assert any(word in hint and "comma-separated" in hint for hint in error.hints)


def test_semicolons_with_decimal_commas_get_the_semicolon_hint(default_cohort_text, tmp_path):
    """The usual export of a spreadsheet in a comma-decimal locale."""
    path = tmp_path / "cohort.csv"
    european = default_cohort_text.apply(lambda column: column.str.replace(".", ",", regex=False))
    european.to_csv(path, index=False, sep=";")
    error = error_of(path)
    assert [p.rule for p in error.problems] == ["the columns are separated by semicolons, not commas"]
    assert any("semicolons" in hint for hint in error.hints)


def test_decimal_commas_get_a_hint_besides_the_problems(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[4, "bmi"] = "22,5"
    table.loc[7, "fvah_pre_mm"] = "21,37"
    error = error_of(write_cohort(table))
    assert [(p.line, p.column, p.value) for p in error.problems] == [(6, "bmi", "22,5"), (9, "fvah_pre_mm", "21,37")]
    assert all("this is not a number" in p.rule for p in error.problems)
    assert len([hint for hint in error.hints if "decimal comma" in hint]) == 1
    assert "hint: numbers such as '22,5'" in str(error)
    table.loc[[4, 7], ["bmi", "fvah_pre_mm"]] = "seventy"
    assert not any("decimal comma" in hint for hint in error_of(write_cohort(table)).hints)


def test_missing_markers_read_as_missing_with_a_notice(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    markers = {(3, "vas_op"): "NA", (4, "bmi"): "n/a", (5, "odi_final"): ".", (6, "fvah_final_mm"): " - ",
               (7, "sex"): "N/A", (8, "cement_leakage"): "NULL", (9, "lka_final_deg"): "nan", (10, "level"): "—"}
    for (row, column), marker in markers.items():
        table.loc[row, column] = marker
    path = write_cohort(table)
    loaded = load_cohort(path)
    for row, column in markers:
        assert pd.isna(loaded.data.loc[row, column]), (row, column)
    markers_listed = ", ".join(validation.MISSING_MARKERS)
    assert loaded.notices == [f"{path}: 8 cell(s) spelled as a missing value ({markers_listed}) were read as empty"]
    assert set(validation.MISSING_MARKERS) >= {"NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", ".", "-", "—"}
    assert loaded.data.drop(index=[row for row, _ in markers]).notna().all().drop("aspirated_blood_ml").all()


def test_marker_spellings_are_exact(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[3, "vas_op"] = "N.A."  # not a documented marker: judged as a value
    problems = problems_of(write_cohort(table))
    assert [(p.column, p.value) for p in problems] == [("vas_op", "N.A.")]


def test_missing_marker_notice_counts_contract_cells_only(default_cohort_text, write_cohort):
    table = default_cohort_text.assign(note="NA")
    table.loc[3, "vas_op"] = "NA"
    path = write_cohort(table)
    notices = load_cohort(path).notices
    assert notices[0] == f"{path}: column 'note' is not part of the data contract and is ignored"
    assert notices[1].startswith(f"{path}: 1 cell(s) spelled as a missing value") and len(notices) == 2


@pytest.mark.parametrize("column", ["patient_id", "group", "cement_distribution"])
@pytest.mark.parametrize("marker", ["NA", ".", "null"])
def test_marker_in_a_required_cell_must_not_be_empty(default_cohort_text, write_cohort, column, marker):
    table = default_cohort_text.copy()
    table.loc[6, column] = marker
    problems = problems_of(write_cohort(table))
    assert [(p.line, p.column, p.value, p.rule) for p in problems] == [(8, column, marker, "must not be empty")]
    assert f"value {marker!r}" in str(problems[0])


def test_column_names_in_another_case_get_a_hint(default_cohort_text, write_cohort):
    error = error_of(write_cohort(default_cohort_text.rename(columns={"patient_id": "Patient_ID", "bmi": "BMI"})))
    assert [(p.column, "'Patient_ID'" in p.rule or "'BMI'" in p.rule) for p in error.problems] == [
        ("bmi", True), ("patient_id", True)]
    assert all(p.rule.startswith("required column is missing") for p in error.problems)
    assert any("lower case" in hint for hint in error.hints)
    assert "hint:" in str(error)


def test_optional_column_in_another_case_is_not_silently_dropped(default_cohort_text, write_cohort):
    problems = problems_of(write_cohort(default_cohort_text.assign(Centre="north")))
    assert [(p.column, "'centre'" in p.rule) for p in problems] == [("Centre", True)]


def test_no_hints_for_a_file_without_those_mistakes(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[4, "sex"] = "X"
    assert error_of(write_cohort(table)).hints == []


# --------------------------------------------------------------------------- encodings and formats

def test_csv_that_is_not_utf8_gets_a_clear_error(default_cohort_text, tmp_path):
    table = default_cohort_text.assign(note="")
    table.loc[4, "note"] = "café"
    path = tmp_path / "latin1.csv"
    path.write_bytes(table.to_csv(index=False).encode("latin-1"))
    error = error_of(path)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert "UTF-8" in problem.rule and problem.line == 6 and problem.file == str(path)
    assert any("UTF-8" in hint for hint in error.hints)


def test_utf16_csv_gets_a_clear_error(default_cohort_text, tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes(default_cohort_text.to_csv(index=False).encode("utf-16"))
    error = error_of(path)
    assert "UTF-8" in error.problems[0].rule and any("UTF-8" in hint for hint in error.hints)


def test_xls_gets_a_clear_error(tmp_path):
    path = tmp_path / "cohort.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    error = error_of(path)
    assert ".xls" in error.problems[0].rule and any(".xlsx" in hint for hint in error.hints)


def test_workbook_named_csv_gets_a_clear_error(tmp_path):
    path = write_workbook(tmp_path / "cohort.xlsx", {"Data": numeric_rows()})
    misnamed = tmp_path / "cohort.csv"
    misnamed.write_bytes(path.read_bytes())
    error = error_of(misnamed)
    assert len(error.problems) == 1 and "workbook" in error.problems[0].rule
    assert any(".xlsx" in hint for hint in error.hints)


def test_broken_workbook_gets_a_clear_error(tmp_path):
    path = tmp_path / "cohort.xlsx"
    path.write_text("patient_id,group\n")
    assert "cannot be read as an .xlsx workbook" in problems_of(path)[0].rule


# --------------------------------------------------------------------------- workbooks: what would be lost is refused

def test_formula_without_stored_result_is_refused_naming_the_cell(tmp_path):
    rows = numeric_rows()
    rows[4][HEADER.index("age")] = "=C4+1"       # row 5 of the sheet: SYN-004
    rows[10][HEADER.index("sex")] = "X"          # another problem of the same workbook
    path = write_workbook(tmp_path / "formula.xlsx", {"Data": rows})
    problems = problems_of(path)
    formula = [p for p in problems if "formula" in p.rule]
    assert [(p.line, p.where, p.patient_id, p.column, p.value) for p in formula] == [(5, "row", "SYN-004", "age", "=C4+1")]
    assert "C5" in formula[0].rule and "C5" in str(formula[0])
    assert [(p.line, p.column, p.value) for p in problems if p not in formula] == [(11, "sex", "X")]
    assert all(str(path) in p.file and "row" in str(p) for p in problems)


def test_formula_with_stored_result_is_read_as_its_value(tmp_path):
    rows = numeric_rows()
    rows[4][HEADER.index("age")] = "=C4+1"
    path = write_workbook(tmp_path / "formula.xlsx", {"Data": rows})
    set_cached_value(path, "C5", "85")
    assert openpyxl.load_workbook(path, data_only=True).active["C5"].value == 85
    assert openpyxl.load_workbook(path).active["C5"].value == "=C4+1"
    data = load_cohort(path).data
    assert data.loc[3, "age"] == 85
    reference = load_cohort(paths.DEFAULT_COHORT).data
    pd.testing.assert_frame_equal(data.drop(index=3), reference.drop(index=3))


def test_merged_cells_in_the_table_are_refused_naming_the_range(tmp_path):
    path = write_workbook(tmp_path / "merged.xlsx", {"Data": numeric_rows()})
    book = openpyxl.load_workbook(path)
    book.active.merge_cells("E6:E7")  # bmi of SYN-005 and SYN-006
    book.save(path)
    problems = problems_of(path)
    assert [(p.line, p.where, p.column) for p in problems] == [(6, "row", "bmi")]
    assert "E6:E7" in problems[0].rule and "merged" in problems[0].rule


def test_merged_required_cells_are_one_problem(tmp_path):
    path = write_workbook(tmp_path / "merged.xlsx", {"Data": numeric_rows()})
    book = openpyxl.load_workbook(path)
    book.active.merge_cells("B2:B4")  # group of SYN-001 to SYN-003: two cells would read as empty
    book.save(path)
    problems = problems_of(path)
    assert [(p.line, p.patient_id, p.column, p.value) for p in problems] == [(2, "SYN-001", "group", "A")]
    assert "B2:B4" in problems[0].rule


def test_formula_below_the_table_is_refused(tmp_path):
    rows = numeric_rows()
    total = [None] * len(rows[0])
    total[HEADER.index("age")] = "=SUM(C2:C84)"
    path = write_workbook(tmp_path / "total.xlsx", {"Data": [*rows, [None] * len(rows[0]), total]})
    problems = problems_of(path)
    assert [(p.line, p.column, p.value) for p in problems] == [(86, "age", "=SUM(C2:C84)")]
    assert "C86" in problems[0].rule


def test_notes_sheet_first_gets_the_move_to_front_hint(tmp_path):
    path = write_workbook(tmp_path / "cohort.xlsx", {"Notes": [["Cohort export, version 2"], ["see the Data sheet"]],
                                                    "Data": numeric_rows()})
    error = error_of(path)
    assert len(error.problems) == 1, error.problems  # not one problem per missing column
    assert any("'Data'" in hint and "move that sheet to the front" in hint for hint in error.hints)
    good = write_workbook(tmp_path / "good.xlsx", {"Data": numeric_rows(), "Notes": [["Cohort export, version 2"]]})
    assert len(load_cohort(good).data) == 83


def test_empty_first_sheet_is_refused(tmp_path):
    path = write_workbook(tmp_path / "cohort.xlsx", {"Empty": [], "Data": numeric_rows()})
    error = error_of(path)
    assert "is empty" in error.problems[0].rule
    assert any("move that sheet to the front" in hint for hint in error.hints)


def test_workbook_rows_are_the_sheets_rows(tmp_path):
    rows = numeric_rows()
    rows[5][HEADER.index("vas_pre")] = 12  # SYN-005
    path = write_workbook(tmp_path / "cohort.xlsx", {"Data": rows[:3] + [[None] * len(rows[0])] + rows[3:]}, first_row=2)
    problems = problems_of(path)
    # header on row 2, SYN-001 on 3, SYN-002 on 4, an empty row 5, SYN-003 on 6, SYN-005 on 8
    assert [(p.line, p.where, p.patient_id, p.value) for p in problems] == [(8, "row", "SYN-005", "12")]
    assert "row 8" in str(problems[0]) and "sheet 'Data'" in str(problems[0])


# --------------------------------------------------------------------------- a folder of centre files

def _write_centres(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, table in tables.items():
        table.to_csv(folder / name, index=False)
    return folder


def test_folder_of_centres_validates_and_assigns_centres(default_cohort_text, tmp_path):
    folder = _write_centres(tmp_path / "cohort", {"north.csv": default_cohort_text, "south.csv": default_cohort_text.iloc[:60]})
    loaded = load_cohort(folder)
    assert len(loaded.data) == 143
    assert loaded.data.groupby("centre").size().to_dict() == {"north": 83, "south": 60}
    assert loaded.data["patient_id"].duplicated().sum() == 60  # the same ids in two centres are two patients
    assert loaded.files == ["north.csv", "south.csv"] and loaded.source == folder
    assert loaded.sha256 == validation.cohort_sha256(folder) != validation.file_sha256(folder / "north.csv")


def test_folder_mixes_csv_and_workbook(default_cohort_text, tmp_path):
    folder = _write_centres(tmp_path / "cohort", {"north.csv": default_cohort_text})
    write_workbook(folder / "south.xlsx", {"Data": numeric_rows()})
    loaded = load_cohort(folder)
    assert loaded.data.groupby("centre").size().to_dict() == {"north": 83, "south": 83}
    north, south = (loaded.data[loaded.data["centre"] == centre].drop(columns="centre").reset_index(drop=True)
                    for centre in ("north", "south"))
    pd.testing.assert_frame_equal(north, south)


def test_duplicate_patient_within_a_centre_is_refused(default_cohort_text, tmp_path):
    south = default_cohort_text.copy()
    south.loc[5, "patient_id"] = south.loc[4, "patient_id"]
    folder = _write_centres(tmp_path / "cohort", {"north.csv": default_cohort_text, "south.csv": south})
    problems = problems_of(folder)
    assert [(Path(p.file).name, p.line, p.patient_id, p.column) for p in problems] == [
        ("south.csv", 6, "SYN-005", "patient_id"), ("south.csv", 7, "SYN-005", "patient_id")]
    assert all("within" in p.rule or "in this centre" in p.rule for p in problems)


def test_problems_of_every_file_in_a_folder_at_once(default_cohort_text, tmp_path):
    north, south = default_cohort_text.copy(), default_cohort_text.copy()
    north.loc[2, "sex"] = "X"
    south.loc[9, "level"] = "L9"
    south.loc[11, "vas_pre"] = "eleven"
    folder = _write_centres(tmp_path / "cohort", {"north.csv": north, "south.csv": south, "west.csv": default_cohort_text})
    problems = problems_of(folder)
    assert [(Path(p.file).name, p.line, p.column) for p in problems] == [
        ("north.csv", 4, "sex"), ("south.csv", 11, "level"), ("south.csv", 13, "vas_pre")]
    assert all(str(folder / Path(p.file).name) in str(p) for p in problems)


def test_unreadable_files_in_a_folder_are_reported_with_the_others(default_cohort_text, tmp_path):
    north = default_cohort_text.copy()
    north.loc[2, "sex"] = "X"
    folder = _write_centres(tmp_path / "cohort", {"north.csv": north})
    (folder / "south.csv").write_text("")
    default_cohort_text.to_csv(folder / "east.csv", index=False, sep=";")
    problems = problems_of(folder)
    assert [(Path(p.file).name, p.line) for p in problems] == [("east.csv", None), ("north.csv", 4), ("south.csv", None)]


def test_centre_column_must_agree_with_the_file_name(default_cohort_text, tmp_path):
    agreeing = default_cohort_text.assign(centre="north")
    disagreeing = default_cohort_text.assign(centre="")
    disagreeing.loc[3, "centre"] = "east"
    folder = _write_centres(tmp_path / "cohort", {"north.csv": agreeing, "south.csv": disagreeing})
    problems = problems_of(folder)
    assert [(Path(p.file).name, p.line, p.column, p.value) for p in problems] == [("south.csv", 5, "centre", "east")]
    disagreeing.loc[3, "centre"] = "south"
    _write_centres(folder, {"south.csv": disagreeing})
    assert load_cohort(folder).data.groupby("centre").size().to_dict() == {"north": 83, "south": 83}


def test_single_file_with_a_centre_column(default_cohort_text, write_cohort):
    table = default_cohort_text.assign(centre=["north", "south"] * 41 + ["north"])
    table.loc[1, "patient_id"] = table.loc[0, "patient_id"]  # same id, other centre: allowed
    loaded = load_cohort(write_cohort(table))
    assert loaded.data["centre"].value_counts().to_dict() == {"north": 42, "south": 41}
    table.loc[2, "patient_id"] = table.loc[0, "patient_id"]  # same id, same centre: refused
    assert [(p.line, p.column) for p in problems_of(write_cohort(table))] == [(2, "patient_id"), (4, "patient_id")]


def test_empty_folder_is_refused(tmp_path):
    folder = tmp_path / "cohort"
    folder.mkdir()
    assert "no .csv or .xlsx file" in problems_of(folder)[0].rule
    (folder / "README.md").write_text("notes")
    assert "no .csv or .xlsx file" in problems_of(folder)[0].rule


def test_hidden_and_lock_files_are_ignored(default_cohort_text, tmp_path):
    folder = _write_centres(tmp_path / "cohort", {"north.csv": default_cohort_text})
    (folder / ".south.csv").write_text("garbage;")
    (folder / "~$north.xlsx").write_bytes(b"\x00lock")
    (folder / "notes.md").write_text("not data")
    (folder / "old").mkdir()
    default_cohort_text.to_csv(folder / "old" / "east.csv", index=False)
    loaded = load_cohort(folder)
    assert loaded.files == ["north.csv"] and len(loaded.data) == 83
    assert [file.name for file in validation.cohort_files(folder)] == ["north.csv"]


def test_two_files_of_one_centre_are_refused(default_cohort_text, tmp_path):
    folder = _write_centres(tmp_path / "cohort", {"north.csv": default_cohort_text})
    write_workbook(folder / "north.xlsx", {"Data": numeric_rows()})
    problems = problems_of(folder)
    assert len(problems) == 1 and "north" in problems[0].rule


def test_old_workbook_in_a_folder_is_not_silently_skipped(default_cohort_text, tmp_path):
    folder = _write_centres(tmp_path / "cohort", {"north.csv": default_cohort_text})
    (folder / "south.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    problems = problems_of(folder)
    assert [Path(p.file).name for p in problems] == ["south.xls"] and ".xls" in problems[0].rule


def test_folder_fingerprint_follows_names_and_contents(default_cohort_text, tmp_path):
    one = _write_centres(tmp_path / "one", {"north.csv": default_cohort_text, "south.csv": default_cohort_text})
    two = _write_centres(tmp_path / "two", {"north.csv": default_cohort_text, "south.csv": default_cohort_text})
    assert validation.cohort_sha256(one) == validation.cohort_sha256(two)
    (two / "south.csv").rename(two / "west.csv")
    assert validation.cohort_sha256(one) != validation.cohort_sha256(two)
    changed = default_cohort_text.copy()
    changed.loc[0, "age"] = "64"
    three = _write_centres(tmp_path / "three", {"north.csv": default_cohort_text, "south.csv": changed})
    assert validation.cohort_sha256(one) != validation.cohort_sha256(three)
    before = {file.name: (sha256(file), file.stat().st_mtime_ns) for file in one.iterdir()}
    load_cohort(one)
    assert {file.name: (sha256(file), file.stat().st_mtime_ns) for file in one.iterdir()} == before


def test_multicentre_example_validates():
    loaded = load_cohort(paths.MULTICENTRE_EXAMPLE)
    sizes = loaded.data.groupby("centre").size().to_dict()
    assert sizes == {"centre-east": 55, "centre-north": 64, "centre-south": 42, "centre-west": 48}


# --------------------------------------------------------------------------- the schema and the building blocks

def test_schema_is_built_from_the_dictionary():
    schema = validation.build_schema()
    assert list(schema.columns) == COLUMNS
    assert schema.columns["patient_id"].nullable is False and schema.columns["bmi"].nullable is True
    assert schema.columns["centre"].required is False and schema.columns["age"].required is True


def test_validate_table_reports_without_raising(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[0, "sex"] = "X"
    typed, notices, problems, hints = validation.validate_table(validation.read_text(write_cohort(table)), centre="north")
    assert [(p.line, p.column) for p in problems] == [(2, "sex")]
    assert typed["centre"].eq("north").all() and len(typed) == 83


def test_problem_message_without_a_line():
    problem = Problem("cohort.csv", "required column is missing", "age")
    assert str(problem) == "cohort.csv, column 'age' — rule: required column is missing"
    located = Problem("book.xlsx (sheet 'Data')", "must be one of M, F", "sex", "X", 4, "SYN-003", "row")
    assert str(located) == ("book.xlsx (sheet 'Data'), row 4, patient_id 'SYN-003', column 'sex': value 'X' — "
                            "rule: must be one of M, F")


# --------------------------------------------------------------------------- make validate

def run_make_validate(data) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "validate", f"DATA={data}"], cwd=paths.ROOT,
                          capture_output=True, text=True, check=False)


@pytest.mark.slow  # runs make
def test_make_validate_accepts_default_data():
    completed = run_make_validate("data/cohort.csv")
    assert completed.returncode == 0, completed.stderr
    assert "valid — 83 patients (group A: 42, group B: 41)" in completed.stdout


@pytest.mark.slow  # runs make
def test_make_validate_rejects_bad_file_with_all_problems(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[0, "sex"] = "X"
    table.loc[1, "group"] = "C"
    completed = run_make_validate(write_cohort(table))
    assert completed.returncode != 0
    assert "2 problem(s) found" in completed.stderr
    assert "line 2, patient_id 'SYN-001', column 'sex': value 'X' — rule: must be one of M, F" in completed.stderr
    assert "line 3, patient_id 'SYN-002', column 'group': value 'C' — rule: must be one of A, B" in completed.stderr


@pytest.mark.slow
def test_hidden_rows_and_columns_of_a_workbook_are_named(default_cohort_text, tmp_path):
    """Read through `make validate`: a hidden row and a hidden column are analysed like the others, and said to be."""
    from conftest import make

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(default_cohort_text.columns))
    for row in default_cohort_text.itertuples(index=False):
        sheet.append(list(row))
    sheet.row_dimensions[5].hidden = True  # the 4th patient
    bmi = list(default_cohort_text.columns).index("bmi") + 1
    sheet.column_dimensions[openpyxl.utils.get_column_letter(bmi)].hidden = True
    path = tmp_path / "cohort with hidden rows.xlsx"
    book.save(path)
    completed = make("validate", DATA=str(path))
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "1 hidden row(s) (5) are read like the others" in completed.stdout
    assert "hidden column(s) bmi are read like the others" in completed.stdout
    assert "valid — 83 patients" in completed.stdout


def test_a_workbook_is_streamed_not_loaded_whole(default_cohort_text, tmp_path, monkeypatch):
    """The sheet is opened once, read-only, so rows stream instead of being held in memory (twice, as before)."""
    book = openpyxl.Workbook()
    book.active.append(list(default_cohort_text.columns))
    for row in default_cohort_text.itertuples(index=False):
        book.active.append(list(row))
    path = tmp_path / "cohort.xlsx"
    book.save(path)
    modes = []
    original = openpyxl.load_workbook

    def spy(*args, **kwargs):
        modes.append(kwargs.get("read_only", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    assert len(load_cohort(path).data) == len(default_cohort_text)
    assert modes == [True]  # one read-only pass for the values; the layout comes from one pass over the XML


def test_control_characters_in_a_file_name_or_an_identifier_are_refused_with_the_rest(tmp_path, default_cohort_text):
    table = default_cohort_text.copy()
    table.loc[3, "patient_id"] = "SYN\x1b[31m-004"  # an escape sequence would recolour the terminal and break the pages
    path = tmp_path / "cohort\x1b.csv"
    table.to_csv(path, index=False)
    with pytest.raises(validation.CohortValidationError) as raised:
        validation.load_cohort(path)
    rules = [(problem.value, problem.rule) for problem in raised.value.problems]
    assert ("cohort\x1b.csv", "a file name must not hold control characters (tab, line break, escape); rename the file") in rules
    assert ("SYN\x1b[31m-004", "must not hold control characters (tab, line break, escape)") in rules
    completed = subprocess.run([sys.executable, "-m", "vertebroplasty", "validate"], cwd=paths.ROOT, capture_output=True, text=True,
                               timeout=300, env=dict(os.environ, VERTEBROPLASTY_DATA=str(path)))
    assert completed.returncode == 2 and "\x1b" not in completed.stderr and "\\x1b" in completed.stderr  # shown, not obeyed
