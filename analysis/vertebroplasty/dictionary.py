"""The data dictionary: one row per input column and per derived index.

``data/data_dictionary.csv`` is the machine-readable form of the cohort data
contract.  Validation rules, table labels and the methods' variable list are
all read from it, so a change of unit or range is made in one place only.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from . import paths

COLUMN_TYPES = ("text", "category", "integer", "number", "boolean")
BOOLEAN_SPELLINGS = {
    "yes": True, "no": False, "1": True, "0": False, "true": True, "false": False,
}


@lru_cache(maxsize=1)
def load_dictionary() -> pd.DataFrame:
    """Return the data dictionary indexed by column name.

    Columns: ``variable`` (name used in results tables), ``type``, ``unit``,
    ``minimum``, ``maximum`` (floats, NaN where no bound), ``allowed_values``
    (tuple of labels, empty where free), ``required`` (bool), ``label``,
    ``description``.
    """
    table = pd.read_csv(paths.DATA_DICTIONARY, dtype=str, keep_default_na=False)
    unknown = set(table["type"]) - set(COLUMN_TYPES)
    if unknown:
        raise ValueError(f"{paths.DATA_DICTIONARY}: unknown column type(s) {sorted(unknown)}")
    table["minimum"] = pd.to_numeric(table["minimum"].replace("", None)).astype(float)
    table["maximum"] = pd.to_numeric(table["maximum"].replace("", None)).astype(float)
    table["allowed_values"] = table["allowed_values"].map(
        lambda text: tuple(text.split("|")) if text else ()
    )
    table["required"] = table["required"].eq("yes")
    return table.set_index("name")


@lru_cache(maxsize=1)
def load_derived_indices() -> pd.DataFrame:
    """Return the derived indices (name, unit, label, LaTeX formula, description)."""
    table = pd.read_csv(paths.DERIVED_INDICES, dtype=str, keep_default_na=False)
    return table.set_index("name")


@lru_cache(maxsize=1)
def load_category_labels() -> dict[tuple[str, str], str]:
    """Display labels of category values, keyed by (variable, value)."""
    table = pd.read_csv(paths.CATEGORY_LABELS, dtype=str, keep_default_na=False)
    return {(row.variable, row.value): row.label for row in table.itertuples()}


def category_label(variable: str, value: str) -> str:
    """Display label of one category value (the value itself when none is defined)."""
    return load_category_labels().get((variable, str(value)), str(value))


def with_variable_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename input columns to their results-table names (``fvah_pre_mm`` -> ``fvah_pre``)."""
    mapping = load_dictionary()["variable"].to_dict()
    return frame.rename(columns={column: mapping[column] for column in frame.columns if column in mapping})


def column_names() -> list[str]:
    """Input columns of the contract, in dictionary order."""
    return list(load_dictionary().index)


def variable_of_column(column: str) -> str:
    """Results-table name of an input column (``fvah_pre_mm`` -> ``fvah_pre``)."""
    return load_dictionary().loc[column, "variable"]


def column_of_variable(variable: str) -> str:
    """Input column behind a results-table variable, or the variable itself for a derived index."""
    dictionary = load_dictionary()
    matches = dictionary.index[dictionary["variable"] == variable]
    return matches[0] if len(matches) else variable


def label(variable: str) -> str:
    """Human label of an input column, a results-table variable or a derived index."""
    dictionary = load_dictionary()
    column = column_of_variable(variable)
    if column in dictionary.index:
        return dictionary.loc[column, "label"]
    derived = load_derived_indices()
    if variable in derived.index:
        return derived.loc[variable, "label"]
    raise KeyError(f"{variable!r} is neither in the data dictionary nor a derived index")


def rule_text(column: str) -> str:
    """The validation rule of one column, in words (used in error messages and the methods)."""
    entry = load_dictionary().loc[column]
    kind = entry["type"]
    unit = f" {entry['unit']}" if entry["unit"] else ""
    if kind == "category":
        return "one of " + ", ".join(entry["allowed_values"])
    if kind == "boolean":
        return "yes/no (also 1/0, true/false)"
    if kind == "text":
        return "non-empty text, unique" if entry["required"] else "text"
    what = "a whole number" if kind == "integer" else "a number"
    if pd.notna(entry["minimum"]) and pd.notna(entry["maximum"]):
        return f"{what} from {entry['minimum']:g} to {entry['maximum']:g}{unit}"
    return what
