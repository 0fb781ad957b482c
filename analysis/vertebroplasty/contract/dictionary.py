"""The data dictionary: one row per input column and one per derived index — the single source of their facts.

``data/data_dictionary.csv`` is the machine-readable data contract (name, type, unit, recording step, range,
allowed values, whether a cell may be empty, whether the column must be present, role, scale, label, LaTeX
symbol).  ``data/derived_indices.csv`` defines every derived index by its kind and inputs.  Validation, the
derivation, the synthetic-data generator, the audit, table labels and the methods text all read them here.

Roles: ``identifier``, ``centre``, ``exposure`` (the treatment group), ``baseline`` (before surgery),
``procedure`` (the operation itself), ``outcome`` (after surgery) and ``follow_up``.  Baseline rows are reported
as imbalance, never as results; multiplicity adjustment is over outcome rows only.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from vertebroplasty import paths

COLUMN_TYPES = ("text", "category", "integer", "number", "boolean")
ROLES = ("identifier", "centre", "exposure", "baseline", "procedure", "outcome", "follow_up")
SCALES = ("identifier", "nominal", "ordinal", "ratio")
BOOLEAN_SPELLINGS = {"yes": True, "no": False, "1": True, "0": False, "true": True, "false": False}
#: Roles whose differences between the groups are results of the treatment, adjusted together for multiplicity
#: (procedure variables — hospital stay, blood loss, operation time, cement volume — describe the operation and are
#: reported with their unadjusted p).
RESULT_ROLES = ("outcome",)


@lru_cache(maxsize=1)
def load_dictionary() -> pd.DataFrame:
    """The data dictionary indexed by input column name.

    Columns: ``variable`` (name in results), ``type``, ``unit``, ``recording_step`` (float, NaN where free),
    ``minimum``, ``maximum`` (floats, NaN where no bound), ``allowed_values`` (tuple of labels), ``required``
    (bool: a cell may not be empty), ``presence`` (``required``/``optional`` column), ``role``, ``scale``,
    ``label``, ``description``, ``symbol`` (LaTeX, for formulas).
    """
    table = pd.read_csv(paths.DATA_DICTIONARY, dtype=str, keep_default_na=False)
    for column, allowed in (("type", COLUMN_TYPES), ("role", ROLES), ("scale", SCALES), ("presence", ("required", "optional"))):
        unknown = set(table[column]) - set(allowed)
        if unknown:
            raise ValueError(f"{paths.DATA_DICTIONARY}: unknown {column} value(s) {sorted(unknown)}")
    for column in ("minimum", "maximum", "recording_step"):
        table[column] = pd.to_numeric(table[column].replace("", None)).astype(float)
    table["allowed_values"] = table["allowed_values"].map(lambda text: tuple(text.split("|")) if text else ())
    table["required"] = table["required"].eq("yes")
    return table.set_index("name")


@lru_cache(maxsize=1)
def load_derived_indices() -> pd.DataFrame:
    """The derived indices, indexed by name: ``kind``, ``inputs`` (tuple of variables), unit, role, label, symbol, description."""
    table = pd.read_csv(paths.DERIVED_INDICES, dtype=str, keep_default_na=False)
    table["inputs"] = table["inputs"].map(lambda text: tuple(text.split("|")))
    unknown = set(table["role"]) - set(ROLES)
    if unknown:
        raise ValueError(f"{paths.DERIVED_INDICES}: unknown role(s) {sorted(unknown)}")
    return table.set_index("name")


@lru_cache(maxsize=1)
def load_category_labels() -> dict[tuple[str, str], str]:
    """Display labels of category values, keyed by (variable, value)."""
    table = pd.read_csv(paths.CATEGORY_LABELS, dtype=str, keep_default_na=False)
    return {(row.variable, row.value): row.label for row in table.itertuples()}


def category_label(variable: str, value: str) -> str:
    """Display label of one category value (the value itself when none is defined).

    >>> category_label("cement_distribution", "A")
    'Type A'
    """
    return load_category_labels().get((variable, str(value)), str(value))


@lru_cache(maxsize=1)
def _variables() -> pd.DataFrame:
    """Input columns and derived indices together, indexed by results name: role, scale, label, unit, step, symbol."""
    inputs = load_dictionary().reset_index().set_index("variable")[["name", "role", "scale", "label", "unit", "recording_step", "symbol", "type"]]
    derived = load_derived_indices()[["role", "label", "unit", "symbol"]].assign(
        name="", scale=lambda frame: ["nominal" if kind == "segment" else "ratio" for kind in load_derived_indices()["kind"]],
        recording_step=float("nan"), type="derived")
    return pd.concat([inputs, derived[inputs.columns]])


def with_variable_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename input columns to their results names (``fvah_pre_mm`` -> ``fvah_pre``)."""
    mapping = load_dictionary()["variable"].to_dict()
    return frame.rename(columns={column: mapping[column] for column in frame.columns if column in mapping})


def column_names(presence: str | None = None) -> list[str]:
    """Input columns of the contract, in dictionary order (only ``required`` or ``optional`` ones when given)."""
    table = load_dictionary()
    return list(table.index if presence is None else table.index[table["presence"] == presence])


def variable_of_column(column: str) -> str:
    """Results name of an input column (``fvah_pre_mm`` -> ``fvah_pre``)."""
    return load_dictionary().loc[column, "variable"]


def column_of_variable(variable: str) -> str:
    """Input column behind a results variable, or the variable itself for a derived index."""
    name = _variables()["name"].get(variable, "")
    return name or variable


#: How a unit is printed beside a label or a number: the dictionary's ``degrees`` as the degree sign.
UNIT_SYMBOLS = {"degrees": "°"}


def unit_symbol(variable: str) -> str:
    """The printed unit of a variable (``mm``, ``°``, ``%``, ``points``), empty when it has none.

    >>> unit_symbol("lka_loss"), unit_symbol("fvah_post"), unit_symbol("sex")
    ('°', 'mm', '')
    """
    stored = unit(variable) if variable in _variables().index else load_dictionary().loc[variable, "unit"]
    stored = "" if pd.isna(stored) else str(stored)
    return UNIT_SYMBOLS.get(stored, stored)


def label(variable: str) -> str:
    """Human label of an input column, a results variable or a derived index, with its unit (tables, figures).

    The dictionary stores the label without its unit and the unit once, in its own column; the unit joins the
    label's own parenthesis when it has one.

    >>> label("lka_loss"), label("fvah_post_mm"), label("age"), label("odi_final"), label("sex")
    ('LKA loss (°)', 'FVAH (24 h post-op, mm)', 'Age (years)', 'ODI (final FU, %)', 'Sex')
    """
    text, printed = prose_label(variable), unit_symbol(variable)
    if not printed:
        return text
    return f"{text[:-1]}, {printed})" if text.endswith(")") else f"{text} ({printed})"


def prose_label(variable: str) -> str:
    """The label without its unit, for running text (the unit goes with the number).

    >>> prose_label("fvahl"), prose_label("avhr_final"), prose_label("age")
    ('FVAHL', 'AVHR (final FU)', 'Age')
    """
    table = _variables()
    if variable in table.index:
        return table.loc[variable, "label"]
    column_table = load_dictionary()
    if variable in column_table.index:
        return column_table.loc[variable, "label"]
    raise KeyError(f"{variable!r} is neither in the data dictionary nor a derived index")


def in_sentence(variable: str) -> str:
    """The unit-free label inside a sentence: lower case unless it starts with an abbreviation.

    >>> in_sentence("age"), in_sentence("follow_up_months"), in_sentence("bmi"), in_sentence("fvahl")
    ('age', 'follow-up', 'BMI', 'FVAHL')
    """
    label = prose_label(variable)
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def category_phrase(variable: str, value: str) -> str:
    """A category as running text names it: ``type A``, ``grade II (33–66 %)``, ``thoracic (T1–T10)``, ``female``.

    >>> category_phrase("cement_distribution", "A"), category_phrase("compression_grade", "II"), category_phrase("segment", "lumbar")
    ('type A', 'grade II (33–66 %)', 'lumbar (L3–L5)')
    """
    text = category_label(variable, value)
    if variable == "compression_grade":
        return f"grade {text}"
    if variable == "sex":
        return {"M": "men", "F": "women"}.get(str(value), text)
    if text[:1].isupper() and text[1:2].islower():
        return text[0].lower() + text[1:]
    return text


#: Prefix of the cement-distribution strata in the results vocabulary (``dist_A``); treatment groups have none (``A``).
DISTRIBUTION_PREFIX = "dist_"


def stratum_code(between: str, level: str) -> str:
    """A level's stratum in the results vocabulary of the published values: ``A``/``B`` for groups, ``dist_A`` … for types.

    >>> stratum_code("cement_distribution", "A"), stratum_code("group", "B")
    ('dist_A', 'B')
    """
    return f"{DISTRIBUTION_PREFIX}{level}" if between == "cement_distribution" else str(level)


def parse_stratum(code: str) -> tuple[str, str]:
    """``dist_A`` -> ``("cement_distribution", "A")``; ``B`` -> ``("group", "B")``."""
    if code.startswith(DISTRIBUTION_PREFIX):
        return "cement_distribution", code.removeprefix(DISTRIBUTION_PREFIX)
    return "group", code


def level_phrase(between: str, level: str) -> str:
    """How running text names a level: ``group B``, ``type C``.

    >>> level_phrase("cement_distribution", "C"), level_phrase(*parse_stratum("A"))
    ('type C', 'group A')
    """
    return f"type {level}" if between == "cement_distribution" else f"{between} {level}"


def role(variable: str) -> str:
    """Role of a variable (see the module docstring)."""
    return _variables().loc[variable, "role"]


#: Suffixes naming the time point of a measurement: before surgery, during cement injection, 24 h after, final follow-up.
TIMEPOINT_SUFFIXES = ("_pre", "_op", "_post", "_final")


def baseline_variable(variable: str) -> str | None:
    """The pre-operative variable of the same measurement, or None when there is none.

    A measurement at a time point (``lka_post``, ``vas_op``, ``avhr_final``) takes ``<measurement>_pre``; a derived
    index takes the one baseline its inputs share (``derived_indices.csv``: ``lka_loss`` from ``lka_final|lka_post``,
    ``fvahr`` from ``fvah_post|fvah_pre``), following inputs that are derived indices themselves.  Baseline variables
    (``*_pre``, age, sex, …), variables without a time point (cement leakage) and unknown names have none.

    >>> baseline_variable("lka_loss"), baseline_variable("avhlr"), baseline_variable("vas_op"), baseline_variable("rka_recovery")
    ('lka_pre', 'avhr_pre', 'vas_pre', 'rka_pre')
    >>> baseline_variable("fvah_pre"), baseline_variable("age"), baseline_variable("cement_leakage"), baseline_variable("segment")
    (None, None, None, None)
    """
    known = _variables()
    if variable not in known.index or known.loc[variable, "role"] == "baseline":
        return None
    return _baseline_of(variable)


def _baseline_of(name: str) -> str | None:
    """``<measurement>_pre`` of a name with a time-point suffix if it exists (a ``*_pre`` name is its own), else of its inputs."""
    known = _variables().index
    for suffix in TIMEPOINT_SUFFIXES:
        if name.endswith(suffix) and f"{name.removesuffix(suffix)}_pre" in known:
            return f"{name.removesuffix(suffix)}_pre"
    derived = load_derived_indices()
    if name not in derived.index:
        return None
    found = {_baseline_of(input_name) for input_name in derived.loc[name, "inputs"]} - {None}
    return found.pop() if len(found) == 1 else None


def scale(variable: str) -> str:
    """Measurement scale: ``nominal``, ``ordinal`` (VAS, ODI, compression grade) or ``ratio``."""
    return _variables().loc[variable, "scale"]


def unit(variable: str) -> str:
    return _variables().loc[variable, "unit"]


def value_unit(variable: str) -> str:
    """The unit as it follows a value in running text: `` mm``, ``°``, `` %``, `` points``, empty when there is none.

    >>> value_unit("fvah_post"), value_unit("lka_loss"), value_unit("odi_final"), value_unit("sex")
    (' mm', '°', ' %', '')
    """
    printed = unit_symbol(variable)
    return printed if printed in ("°", "") else f" {printed}"


def join_parenthesis(text: str, addition: str) -> str:
    """``text`` with ``addition`` in its closing parenthesis, or in a new one: never two parentheses side by side.

    >>> join_parenthesis("LKA (24 h post-op)", "difference, °"), join_parenthesis("LKA loss", "difference, °")
    ('LKA (24 h post-op; difference, °)', 'LKA loss (difference, °)')
    """
    return f"{text[:-1]}; {addition})" if text.endswith(")") else f"{text} ({addition})"


def difference_unit(variable: str) -> str:
    """How a difference of a variable is spoken of: `` mm``, ``°``, `` points`` (VAS), `` percentage points`` (ratios,
    and a score printed in per cent such as the ODI).

    >>> difference_unit("fvahl"), difference_unit("lka_loss"), difference_unit("vas_final"), difference_unit("odi_final")
    (' mm', '°', ' points', ' percentage points')
    """
    if scale(variable) == "ordinal" and unit(variable) != "%":
        return " points"
    return {"%": " percentage points", "degrees": "°", "": ""}.get(unit(variable), f" {unit(variable)}")


def symbol(variable: str) -> str:
    """LaTeX symbol of a variable, for the formulas (``\\mathrm{FVAH}_{post}``)."""
    return _variables().loc[variable, "symbol"]


def recording_step(variable: str) -> float:
    """The grid values of a variable are recorded on (0.01 mm, whole VAS points, ODI in steps of 2); NaN if free."""
    return float(_variables().loc[variable, "recording_step"])


def integer_scales() -> dict[str, int]:
    """Variables whose every value is a whole multiple of a whole step, by definition of the instrument or the contract.

    Whole-number columns of the contract (age, hospital days, VAS) and ordinal scores recorded in steps (ODI: ten
    items of 0–5 points, doubled to a percentage, so steps of 2).  GRIM and GRIMMER apply to these.

    >>> integer_scales()["odi_pre"], integer_scales()["vas_op"], "bmi" in integer_scales()
    (2, 1, False)
    """
    table = _variables()
    chosen = table[(table["type"] == "integer") | ((table["scale"] == "ordinal") & table["recording_step"].notna())]
    return {variable: int(step) for variable, step in chosen["recording_step"].items()}


def rule_text(column: str) -> str:
    """The validation rule of one column, in words (used in error messages and the methods).

    >>> rule_text("age")
    'a whole number from 40 to 110 years'
    """
    entry = load_dictionary().loc[column]
    kind = entry["type"]
    unit_text = f" {entry['unit']}" if entry["unit"] else ""
    if kind == "category":
        return "one of " + ", ".join(entry["allowed_values"])
    if kind == "boolean":
        return "yes/no (also 1/0, true/false)"
    if kind == "text":
        if column == "patient_id":
            return "non-empty text, unique (within a centre)"
        return "non-empty text" if entry["required"] else "text"
    what = "a whole number" if kind == "integer" else "a number"
    if pd.notna(entry["minimum"]) and pd.notna(entry["maximum"]):
        return f"{what} from {entry['minimum']:g} to {entry['maximum']:g}{unit_text}"
    return what


#: Tables whose rows compare the treatment groups (the primary outcome must be one of their rows).
GROUP_TABLES = ("table1", "table2")


def outcome_variables(table_variables: dict[str, list[str]]) -> list[str]:
    """Every variable with the outcome role that Tables 1–3 compare, in table order (each once)."""
    seen = dict.fromkeys(v for variables in table_variables.values() for v in variables if role(v) == "outcome")
    return list(seen)


TABLE_VARIABLES = {
    "table1": ["age", "sex", "bmi", "hospital_days", "aspirated_blood_ml", "blood_loss_ml", "operation_min",
               "segment", "compression_grade", "cement_distribution", "cement_volume_ml", "follow_up_months"],
    "table2": ["lka_pre", "lka_post", "lka_final", "lka_recovery", "lka_loss",
               "rka_pre", "rka_post", "rka_final", "rka_recovery", "rka_loss",
               "fvah_pre", "fvah_post", "fvah_final", "fvahr", "fvahl",
               "avhr_pre", "avhr_post", "avhr_final", "avhrr", "avhlr",
               "vas_pre", "vas_op", "vas_post", "vas_final", "odi_pre", "odi_post", "odi_final", "cement_leakage"],
    "table3": ["lka_loss", "rka_loss", "fvahl", "avhlr", "vas_pre", "vas_post", "vas_final", "odi_pre", "odi_post", "odi_final"],
}


TABLE_BETWEEN = {"table1": "group", "table2": "group", "table3": "cement_distribution"}
