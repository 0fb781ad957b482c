"""Derived radiographic indices, computed from their definitions in ``data/derived_indices.csv``.

Each index is one row of that file: its *kind* (a height ratio, a difference of two measurements, or the spinal
segment of the fractured level) and its inputs, in order.  The computation (:func:`derive_values`), the LaTeX
formulas of the methods (:func:`formula_latex`), the identities the audit checks (:func:`differences`) and the
synthetic-data generator all read the same definitions, so they cannot disagree.

Every function is vectorised; a missing input gives a missing output (pandas' nullable arithmetic and NaN
propagate it).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np  # noqa: F401  (used by the doctests)
import pandas as pd

from vertebroplasty.contract import dictionary

TIMEPOINTS = ("pre", "post", "final")
SEGMENT_OF_LEVEL = {
    **{f"T{number}": "thoracic" for number in range(1, 11)},
    "T11": "thoracolumbar", "T12": "thoracolumbar", "L1": "thoracolumbar", "L2": "thoracolumbar",
    "L3": "lumbar", "L4": "lumbar", "L5": "lumbar",
}
SEGMENTS = ("thoracic", "thoracolumbar", "lumbar")


def height_ratio(fractured_height, upper_height, lower_height):
    """Anterior vertebral height ratio (%): the fractured vertebra's anterior height over the mean of its neighbours'.

    AVHR = FVAH / (upper VAH + lower VAH) × 2 × 100.

    >>> round(height_ratio(21.0, 28.0, 30.0), 4)  # 21 / 29 * 100
    72.4138
    """
    return fractured_height / (upper_height + lower_height) * 2 * 100


def difference(minuend, subtrahend):
    """A change score: ``minuend - subtrahend`` (for example FVAHL = FVAH 24 h post-op − FVAH at final follow-up).

    >>> difference(22.5, 21.0)
    1.5
    """
    return minuend - subtrahend


def segment(level: pd.Series) -> pd.Series:
    """Spinal segment of the fractured level: thoracic T1–T10, thoracolumbar T11–L2, lumbar L3–L5."""
    return pd.Series(pd.Categorical(pd.Series(level, dtype=object).map(SEGMENT_OF_LEVEL), categories=SEGMENTS), index=level.index)


KINDS = {"height_ratio": height_ratio, "difference": difference, "segment": segment}


def derive_values(values: Mapping[str, object]) -> dict[str, object]:
    """Every derived index whose inputs are in ``values`` (arrays or Series keyed by results name), plus the inputs.

    Definitions are applied in file order, so an index may use an earlier one (AVHRR uses the AVHRs).

    >>> out = derive_values({"fvah_post": np.array([22.0]), "fvah_final": np.array([21.5])})
    >>> float(out["fvahl"][0])
    0.5
    """
    result = dict(values)
    for name, definition in dictionary.load_derived_indices().iterrows():
        if all(variable in result for variable in definition["inputs"]):
            result[name] = KINDS[definition["kind"]](*(result[variable] for variable in definition["inputs"]))
    return result


def derive(data: pd.DataFrame) -> pd.DataFrame:
    """A new table: the input columns under their results names plus every derived index.

    The input frame is not modified.  Measurements are computed as nullable floats.
    """
    renamed = dictionary.with_variable_names(data)
    measurements = {variable: renamed[variable].astype("Float64") for variable in renamed.columns
                    if dictionary.column_of_variable(variable).endswith(("_mm", "_deg"))}
    values = derive_values({**{column: renamed[column] for column in renamed.columns}, **measurements})
    derived = {name: values[name] for name in dictionary.load_derived_indices().index if name in values}
    return pd.concat([renamed, pd.DataFrame(derived, index=renamed.index)], axis=1)


def differences() -> dict[str, tuple[str, str]]:
    """Every change score and the two measurements it is the difference of: ``{name: (minuend, subtrahend)}``."""
    table = dictionary.load_derived_indices()
    return {name: tuple(row["inputs"]) for name, row in table.iterrows() if row["kind"] == "difference"}


def formula_latex(name: str) -> str:
    r"""The definition of a derived index as LaTeX, written from its definition.

    >>> formula_latex("fvahl")
    '\\mathrm{FVAHL} = \\mathrm{FVAH}_{\\mathrm{post}} - \\mathrm{FVAH}_{\\mathrm{final}}'
    """
    definition = dictionary.load_derived_indices().loc[name]
    symbols = [dictionary.symbol(variable) for variable in definition["inputs"]]
    if definition["kind"] == "difference":
        right = f"{symbols[0]} - {symbols[1]}"
    elif definition["kind"] == "height_ratio":
        right = rf"\dfrac{{2\,{symbols[0]}}}{{{symbols[1]} + {symbols[2]}}} \times 100"
    else:
        raise ValueError(f"{name} has no formula (kind {definition['kind']})")
    return f"{definition['symbol']} = {right}"
