"""The data dictionary carries the data contract (data/cohort-schema.md) column by column.

The contract's markdown table is parsed here and compared with ``data/data_dictionary.csv`` (name, order, type,
unit, range or labels, recording step, presence); the contract's prose is compared with the code where it states
a fact the code also holds (missing markers, required cells, yes/no spellings, minimum group size, study keys).
"""

import math
import re

import pandas as pd
import pytest

from vertebroplasty import paths
from vertebroplasty.contract import description, dictionary, validation

SCHEMA = (paths.DATA / "cohort-schema.md").read_text(encoding="utf-8")
TABLE_HEADER = ["column", "type", "unit", "allowed values", "recorded to", "presence", "meaning"]


def contract_rows() -> list[dict]:
    """Parse the contract's markdown table; a row such as `a, b` names several columns alike."""
    rows = []
    header_seen = False
    for line in SCHEMA.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells == TABLE_HEADER:
            header_seen = True
            continue
        if set("".join(cells)) <= {"-"}:
            continue
        assert header_seen and len(cells) == len(TABLE_HEADER), f"malformed contract row: {line}"
        for name in cells[0].split(","):
            rows.append({"name": name.strip(" `"), "type": cells[1], "unit": cells[2], "allowed": cells[3],
                         "step": cells[4], "presence": cells[5]})
    return rows


CONTRACT = contract_rows()


def section(title: str) -> str:
    """The text of one ``## title`` section of the contract."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", SCHEMA, flags=re.MULTILINE | re.DOTALL)
    assert match, f"the contract has no section {title!r}"
    return match.group(1)


def test_contract_parsed_completely():
    assert len(CONTRACT) == 38  # 16 single columns + 7 rows of 3 columns + 1 row of 4 (VAS)


def test_dictionary_has_exactly_the_contract_columns_in_order():
    assert dictionary.column_names() == [row["name"] for row in CONTRACT]


@pytest.mark.parametrize("row", CONTRACT, ids=lambda row: row["name"])
def test_column_agrees_with_contract(row):
    entry = dictionary.load_dictionary().loc[row["name"]]
    assert entry["type"] == row["type"]
    assert entry["unit"] == row["unit"]
    allowed = row["allowed"]
    numbers = re.findall(r"-?\d+(?:\.\d+)?", allowed)
    if row["type"] in ("integer", "number"):
        assert (entry["minimum"], entry["maximum"]) == (float(numbers[0]), float(numbers[1]))
    elif row["type"] == "category":
        labels = re.findall(r"`([^`]+)`", allowed)
        if "…" in allowed:  # T1…T12, L1…L5
            labels = [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
        assert list(entry["allowed_values"]) == labels
    else:
        assert pd.isna(entry["minimum"]) and pd.isna(entry["maximum"])


@pytest.mark.parametrize("row", CONTRACT, ids=lambda row: row["name"])
def test_recording_step_and_presence_agree_with_contract(row):
    entry = dictionary.load_dictionary().loc[row["name"]]
    if row["step"]:
        assert entry["recording_step"] == float(row["step"])
    else:
        assert math.isnan(entry["recording_step"])
    assert entry["presence"] == row["presence"]


def test_whole_number_columns_are_recorded_in_whole_steps():
    for row in CONTRACT:
        if row["type"] == "integer":
            assert row["step"] == "1", row["name"]


def test_only_the_centre_column_is_optional():
    assert dictionary.column_names("optional") == ["centre"]
    assert [row["name"] for row in CONTRACT if row["presence"] == "optional"] == ["centre"]


def test_required_columns_are_the_contract_never_missing_ones():
    required = dictionary.load_dictionary().query("required").index.tolist()
    assert required == ["patient_id", "group", "cement_distribution"]
    sentence = re.search(r"never in (`[^.]*`)", section("Missing values"), flags=re.DOTALL)
    assert sentence, "the contract names the cells that may never be empty"
    assert re.findall(r"`([^`]+)`", sentence.group(1)) == required


def test_missing_markers_are_the_contracts():
    paragraph = section("Missing values").split("these spellings", 1)[1].split("\n\n", 1)[0]
    markers = re.findall(r"`([^`]+)`", paragraph.split(":", 1)[1].split(". In", 1)[0])
    assert tuple(markers) == validation.MISSING_MARKERS


def test_yes_no_spellings_are_the_contracts():
    allowed = next(row["allowed"] for row in CONTRACT if row["name"] == "cement_leakage")
    assert set(re.findall(r"`([^`]+)`", allowed)) == set(dictionary.BOOLEAN_SPELLINGS)


def test_minimum_group_size_is_the_contracts():
    assert f"at least {validation.MINIMUM_PATIENTS_PER_GROUP} patients" in SCHEMA


def test_study_description_keys_are_the_contracts():
    listed = set(re.findall(r"`([a-z_]+)`", section("Study description").split("Keys:", 1)[1]))
    listed -= {"start", "end", "name", "affiliation"}  # the keys of `period` and of an author
    assert listed == set(description.StudyDescription.model_fields)


def test_every_table_variable_has_a_label():
    published = pd.read_csv(paths.PUBLISHED_VALUES)
    for variable in published.query("table in ['table1', 'table2', 'table3'] and variable != 'n'")["variable"].unique():
        assert dictionary.label(variable)


def test_rule_text_states_range_and_unit():
    assert dictionary.rule_text("age") == "a whole number from 40 to 110 years"
    assert dictionary.rule_text("level").startswith("one of T1, T2")
    assert dictionary.rule_text("patient_id") == "non-empty text, unique (within a centre)"
    assert dictionary.rule_text("centre") == "text"
