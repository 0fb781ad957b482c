"""Every rule of the data contract gives a clear error naming file, line, patient, column, value and rule."""

import subprocess

import pandas as pd
import pytest

from conftest import sha256
from vertebroplasty import cohort, paths
from vertebroplasty.cohort import CohortValidationError, load_cohort


def problems_of(path, **kwargs) -> list[cohort.Problem]:
    with pytest.raises(CohortValidationError) as caught:
        load_cohort(path, **kwargs)
    return caught.value.problems


def test_default_cohort_is_valid():
    loaded = load_cohort(paths.DEFAULT_COHORT)
    assert len(loaded.data) == 83
    assert loaded.notices == []
    assert loaded.data["age"].dtype == "Int64" and loaded.data["bmi"].dtype == "Float64"
    assert loaded.data["cement_leakage"].dtype == "boolean"


def test_missing_required_column(default_cohort_text, write_cohort):
    path = write_cohort(default_cohort_text.drop(columns=["lka_post_deg", "group"]))
    problems = problems_of(path)
    assert {(p.column, p.rule) for p in problems} == {("group", "required column is missing"),
                                                      ("lka_post_deg", "required column is missing")}
    assert str(path) in str(problems[0])


def test_empty_file_and_header_only(tmp_path, default_cohort_text, write_cohort):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in problems_of(empty)[0].rule
    header_only = write_cohort(default_cohort_text.iloc[:0], "header.csv")
    assert problems_of(header_only)[0].rule == "the file has a header but no patient rows"


@pytest.mark.parametrize("column, value, rule_part", [
    ("age", "seventy", "this is not a number"),
    ("age", "7.5", "this is not a whole number"),
    ("vas_pre", "4.5", "this is not a whole number"),
    ("bmi", "22,5", "this is not a number"),
    ("age", "120", "from 40 to 110 years"),
    ("fvah_post_mm", "-1", "from 0 to 60 mm"),
    ("group", "C", "one of A, B"),
    ("level", "L6", "one of T1"),
    ("sex", "X", "one of M, F"),
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
    assert (problem.line, problem.patient_id, problem.column, problem.value) == (row + 2, table.loc[row, "patient_id"], column, value)
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
    problems = problems_of(write_cohort(table))
    found = {(p.line, p.column) for p in problems}
    assert found == {(2, "age"), (3, "level"), (4, "patient_id"), (5, "patient_id"), (7, "patient_id"), (62, "aspirated_blood_ml")}
    rules = " ".join(p.rule for p in problems)
    assert "must be unique" in rules and "must not be empty" in rules and "empty in group B" in rules


def test_group_with_fewer_than_two_patients(default_cohort_text, write_cohort):
    table = default_cohort_text[default_cohort_text["group"].eq("A") | default_cohort_text.index.isin([50])]
    problems = problems_of(write_cohort(table))
    assert [p.rule for p in problems] == ["group B has 1 patient(s); each group needs at least 2 for the comparisons"]


@pytest.mark.parametrize("column", ["patient_name", "Medical Record Number", "date_of_birth", "DOB", "address", "phone"])
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
    table.loc[3, ["fvah_final_mm", "vas_op", "odi_final", "bmi"]] = ""
    assert load_cohort(write_cohort(table)).data.loc[3, "fvah_final_mm"] is pd.NA
    table.loc[3, "cement_distribution"] = ""
    problems = problems_of(write_cohort(table))
    assert [(p.column, p.rule) for p in problems] == [("cement_distribution", "must not be empty")]


def test_boolean_spellings_and_bom_and_xlsx(default_cohort_text, tmp_path):
    table = default_cohort_text.copy()
    table["cement_leakage"] = table["cement_leakage"].map({"yes": "TRUE", "no": "0"})
    path = tmp_path / "bom.csv"
    path.write_text(table.to_csv(index=False), encoding="utf-8-sig")
    bom = load_cohort(path).data
    assert bom.columns[0] == "patient_id" and int(bom["cement_leakage"].sum()) == 16
    workbook = tmp_path / "cohort.xlsx"
    numeric = pd.read_csv(paths.DEFAULT_COHORT)  # numbers as numbers, as a spreadsheet holds them
    numeric.to_excel(workbook, index=False)
    from_excel = load_cohort(workbook).data
    reference = load_cohort(paths.DEFAULT_COHORT).data
    pd.testing.assert_frame_equal(from_excel, reference)


def test_input_file_is_never_modified(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[0, "age"] = "7.5"
    path = write_cohort(table)
    before = (sha256(path), path.stat().st_mtime_ns)
    problems_of(path)
    load_cohort(paths.DEFAULT_COHORT)
    assert (sha256(path), path.stat().st_mtime_ns) == before


def run_make_validate(data) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "validate", f"DATA={data}"], cwd=paths.ROOT,
                          capture_output=True, text=True, check=False)


def test_make_validate_accepts_default_data():
    completed = run_make_validate("data/cohort.csv")
    assert completed.returncode == 0, completed.stderr
    assert "valid — 83 patients (group A: 42, group B: 41)" in completed.stdout


def test_make_validate_rejects_bad_file_with_all_problems(default_cohort_text, write_cohort):
    table = default_cohort_text.copy()
    table.loc[0, "sex"] = "X"
    table.loc[1, "group"] = "C"
    completed = run_make_validate(write_cohort(table))
    assert completed.returncode != 0
    assert "2 problem(s) found" in completed.stderr
    assert "line 2, patient_id 'SYN-001', column 'sex': value 'X' — rule: must be one of M, F" in completed.stderr
    assert "line 3, patient_id 'SYN-002', column 'group': value 'C' — rule: must be one of A, B" in completed.stderr
