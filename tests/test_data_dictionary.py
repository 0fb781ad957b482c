"""The data dictionary carries the data contract (data/cohort-schema.md) column by column."""

import re

import pandas as pd
import pytest

from vertebroplasty import dictionary, paths


def contract_rows() -> list[dict]:
    """Parse the contract's markdown table; a row such as `a, b` names several columns alike."""
    text = (paths.DATA / "cohort-schema.md").read_text()
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] == "column" or set(cells[0]) <= {"-"}:
            continue
        names = [name.strip(" `") for name in cells[0].split(",")]
        for name in names:
            rows.append({"name": name, "type": cells[1], "unit": cells[2], "allowed": cells[3]})
    return rows


CONTRACT = contract_rows()


def test_contract_parsed_completely():
    assert len(CONTRACT) == 37  # 15 single columns + 7 rows of 3 columns + 1 row of 4 (VAS)


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
        assert pd.isna(entry["minimum"])


def test_required_columns_are_the_contract_never_missing_ones():
    required = dictionary.load_dictionary().query("required").index.tolist()
    assert required == ["patient_id", "group", "cement_distribution"]


def test_every_table_variable_has_a_label():
    published = pd.read_csv(paths.PUBLISHED_VALUES)
    for variable in published.query("table in ['table1', 'table2', 'table3'] and variable != 'n'")["variable"].unique():
        assert dictionary.label(variable)


def test_rule_text_states_range_and_unit():
    assert dictionary.rule_text("age") == "a whole number from 40 to 110 years"
    assert dictionary.rule_text("level").startswith("one of T1, T2")
