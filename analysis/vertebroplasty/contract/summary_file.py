"""Centre summary files: the aggregates a centre may share instead of patient rows, their format and its checks.

A centre that may not send patient rows runs ``make summary DATA=<its file> OUT=<folder>`` and sends the file it
gets; a coordinating centre puts the files of all centres in one folder and runs ``make report DATA=<folder>/``.
The file (JSON, described for people in ``data/summary-schema.md`` and checked here against :data:`SCHEMA`) holds,
per group, the number of values, mean and SD of each measurement the pooled analyses use, and the count of each
yes/no outcome — the *cells* of :func:`vertebroplasty.statistics.centres.cells`, from which every multicentre
estimate of the report is computed — plus the data file's SHA-256, the package version and the date.  No patient
identifier and no patient-level value is in it.

Disclosure control follows DataSHIELD's tabulation filter: a number of patients (values, "yes" or "no") between 1
and ``MIN_CELL`` − 1 could single out patients, so a summary with such a cell is refused as a whole and nothing is
written (zero is allowed: it says a group has no such value).  Every refused cell is named at once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vertebroplasty import __version__

FORMAT = "vertebroplasty-centre-summary"
FORMAT_VERSION = 1
SUFFIX = ".summary.json"
#: Smallest non-zero number of patients a summary may show (DataSHIELD's default tabulation filter is 3; 5 is common).
MIN_CELL = 5
GROUPS = ("A", "B")
#: Measurements of Table 1 summarised for the per-centre characteristics (categorical characteristics are not: their
#: small categories would refuse most summaries).
CHARACTERISTICS = ("age", "bmi", "hospital_days", "aspirated_blood_ml", "blood_loss_ml", "operation_min", "cement_volume_ml",
                   "follow_up_months")
#: The yes/no outcomes: their cells carry a count of "yes".
BINARY = ("type_a_share", "cement_leakage")

_NUMBER = {"type": ["number", "null"]}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Centre summary of the vertebroplasty report",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "format_version", "package_version", "created", "centre", "data_file", "data_sha256", "min_cell",
                 "patients", "variables", "cells"],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"const": FORMAT_VERSION},
        "package_version": {"type": "string", "minLength": 1},
        "created": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "centre": {"type": "string", "minLength": 1, "maxLength": 200},
        "data_file": {"type": "string", "minLength": 1, "maxLength": 255},
        "data_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "min_cell": {"type": "integer", "minimum": 1},
        "patients": {"type": "object", "additionalProperties": False, "required": list(GROUPS),
                     "properties": {group: {"type": "integer", "minimum": 0} for group in GROUPS}},
        "variables": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        "cells": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["variable", "group", "n", "mean", "sd", "count"],
            "properties": {"variable": {"type": "string"}, "group": {"enum": list(GROUPS)}, "n": {"type": "integer", "minimum": 0},
                           "mean": _NUMBER, "sd": _NUMBER, "count": {"type": ["integer", "null"], "minimum": 0}}}},
    },
}


class SummaryFileError(ValueError):
    """A summary cannot be written (a small cell) or a summary file cannot be used; the message says which and why."""


def disclosure_problems(cells: pd.DataFrame, patients: dict[str, int], min_cell: int = MIN_CELL) -> list[str]:
    """Every number of patients between 1 and ``min_cell`` − 1 in a summary, named by variable, group and count.

    >>> cells = pd.DataFrame({"variable": ["age", "cement_leakage"], "group": ["A", "B"], "n": [12, 9], "count": [None, 2]})
    >>> disclosure_problems(cells, {"A": 12, "B": 9})
    ['cement_leakage, group B: 2 "yes" (below MIN_CELL = 5)']
    """
    problems = [f"group {group}: {size} patients (below MIN_CELL = {min_cell})" for group, size in patients.items()
                if 0 < size < min_cell]
    for cell in cells.itertuples():
        n = int(cell.n)
        if 0 < n < min_cell:
            problems.append(f"{cell.variable}, group {cell.group}: {n} values (below MIN_CELL = {min_cell})")
        elif cell.variable in BINARY and cell.count is not None and not pd.isna(cell.count):
            for what, size in (('"yes"', int(cell.count)), ('"no"', n - int(cell.count))):
                if 0 < size < min_cell:
                    problems.append(f"{cell.variable}, group {cell.group}: {size} {what} (below MIN_CELL = {min_cell})")
    return problems


def summary_content(cells: pd.DataFrame, *, centre: str, data_file: str, data_sha256: str, patients: dict[str, int],
                    min_cell: int, created: str) -> dict:
    """The JSON content of one centre's summary (checked against :data:`SCHEMA`)."""
    def number(value):
        return None if value is None or pd.isna(value) else float(value)

    rows = [{"variable": str(cell.variable), "group": str(cell.group), "n": int(cell.n), "mean": number(cell.mean),
             "sd": number(cell.sd), "count": None if pd.isna(cell.count) else int(cell.count)} for cell in cells.itertuples()]
    content = {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__, "created": created,
               "centre": centre, "data_file": data_file, "data_sha256": data_sha256, "min_cell": int(min_cell),
               "patients": {group: int(patients.get(group, 0)) for group in GROUPS},
               "variables": list(dict.fromkeys(cells["variable"])), "cells": rows}
    problems = schema_problems(content)
    if problems:  # a defect of this package, not of the user's data
        raise AssertionError("; ".join(problems))
    return content


def schema_problems(content) -> list[str]:
    """Every place where ``content`` departs from :data:`SCHEMA`, as ``at <path>: <message>``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(content), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        problems.append(f"at {where}: {error.message}")
    return problems


@dataclass
class Gathered:
    """The summaries of several centres: their cells (with a ``centre`` column) and one row per file."""

    cells: pd.DataFrame
    sources: pd.DataFrame

    @property
    def centres(self) -> list[str]:
        return list(self.sources["centre"])


def summary_files(folder: Path) -> list[Path]:
    """The summary files of a folder, sorted by name."""
    return sorted(path for path in Path(folder).iterdir() if path.name.endswith(SUFFIX) and path.is_file())


def is_summary_folder(source: Path) -> bool:
    """A folder of centre summaries (rather than of centre cohort files)."""
    return Path(source).is_dir() and bool(summary_files(source))


def read_folder(folder: Path, min_cell: int | None = None) -> Gathered:
    """Read and check every summary file of ``folder``; all problems of all files are reported at once.

    Refused: a file that is not JSON, departs from :data:`SCHEMA`, comes from another version of the package, has
    other variables than the first file, names a centre another file names, repeats a cell, or has a cell between 1
    and the threshold − 1.  The threshold is the file's own ``min_cell`` (checked again: the coordinator does not take
    the file's word for it) or the coordinator's ``min_cell`` when that is higher.  Other files of
    the folder (not ``*.summary.json``) are refused too: a folder mixing summaries and cohort files is a mistake.
    """
    folder = Path(folder)
    files = summary_files(folder)
    problems: list[str] = []
    others = sorted(path.name for path in folder.iterdir() if path not in files and not path.name.startswith("."))
    if others:
        problems.append(f"{folder}: only centre summaries ({SUFFIX}) may be in a folder of summaries; also found: {', '.join(others)}")
    contents, cell_frames, sources = {}, [], []
    for path in files:
        try:
            content = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
            problems.append(f"{path.name}: not a readable JSON summary ({error})")
            continue
        found = schema_problems(content)
        if found:
            problems += [f"{path.name}: {problem}" for problem in found]
            continue
        if content["package_version"] != __version__:
            problems.append(f"{path.name}: written by version {content['package_version']} of the report package; this is "
                            f"version {__version__} — ask the centre to run `make summary` with this version")
        contents[path] = content
    if contents:
        first_path, first = next(iter(contents.items()))
        seen_centres: dict[str, str] = {}
        for path, content in contents.items():
            if content["variables"] != first["variables"]:
                problems.append(f"{path.name}: its variables ({', '.join(content['variables'])}) differ from those of "
                                f"{first_path.name} ({', '.join(first['variables'])})")
            if content["centre"] in seen_centres:
                problems.append(f"{path.name}: centre {content['centre']!r} is also the centre of {seen_centres[content['centre']]}")
            seen_centres.setdefault(content["centre"], path.name)
            cells = pd.DataFrame(content["cells"])
            duplicated = cells.duplicated(["variable", "group"])
            problems += [f"{path.name}: the cell {row.variable}, group {row.group} appears more than once"
                         for row in cells[duplicated].itertuples()]
            missing = {(v, g) for v in content["variables"] for g in GROUPS} - set(zip(cells["variable"], cells["group"]))
            problems += [f"{path.name}: no cell for {variable}, group {group}" for variable, group in sorted(missing)]
            threshold = max(content["min_cell"], min_cell or 0)
            problems += [f"{path.name}: {problem}" for problem in disclosure_problems(cells, content["patients"], threshold)]
            cell_frames.append(cells.assign(centre=content["centre"]))
            sources.append({"file": path.name, "centre": content["centre"], "data_file": content["data_file"],
                            "data_sha256": content["data_sha256"], "package_version": content["package_version"],
                            "created": content["created"], "min_cell": content["min_cell"],
                            "patients_A": content["patients"]["A"], "patients_B": content["patients"]["B"]})
    if not files:
        problems.append(f"{folder}: no centre summary ({SUFFIX}) in the folder")
    elif len(files) < 2 and not problems:
        problems.append(f"{folder}: one centre summary; pooling needs at least two centres")
    if problems:
        raise SummaryFileError(f"{folder}: {len(problems)} problem(s) with the centre summaries:\n"
                               + "\n".join(f"  - {problem}" for problem in problems))
    cells = pd.concat(cell_frames, ignore_index=True)
    cells["count"] = cells["count"].astype("float64")
    for column in ("mean", "sd"):
        cells[column] = cells[column].astype("float64")
    return Gathered(cells[["variable", "centre", "group", "n", "mean", "sd", "count"]], pd.DataFrame(sources))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def gathered_text(gathered: Gathered) -> str:
    """The checked summaries of all centres as one JSON text, the input of the multicentre notebook."""
    content = {"sources": gathered.sources.to_dict("records"),
               "cells": [{key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
                         for row in gathered.cells.to_dict("records")]}
    return json.dumps(content, indent=1, ensure_ascii=False)


def load_gathered(path: str | Path) -> Gathered:
    """Read a file holding :func:`gathered_text` (the build writes it for the multicentre notebook)."""
    content = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = pd.DataFrame(content["cells"])
    for column in ("mean", "sd", "count"):
        cells[column] = cells[column].astype("float64")
    cells["n"] = cells["n"].astype("int64")
    return Gathered(cells[["variable", "centre", "group", "n", "mean", "sd", "count"]], pd.DataFrame(content["sources"]))
