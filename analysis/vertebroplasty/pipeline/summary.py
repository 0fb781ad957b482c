"""``make summary``: one centre's cohort file turned into a checked, non-disclosive summary another centre can pool.

The cohort is validated against the data contract exactly as for a report; its cells
(:func:`vertebroplasty.statistics.centres.cells`) are checked for small numbers
(:func:`vertebroplasty.contract.summary_file.disclosure_problems`) and, only if none is found, written as
``<OUT>/<stem>.summary.json`` — one file per centre when DATA is a folder of centre files.  Nothing is written when any
centre's summary is refused, and a file is written under a temporary name and renamed, so no half-written summary is
ever left.  The input file is only read.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from pathlib import Path

from vertebroplasty import paths
from vertebroplasty.contract import summary_file, validation
from vertebroplasty.contract.derivation import derive
from vertebroplasty.statistics import centres


def summary_variables() -> list[str]:
    """What a summary holds: the outcomes the multicentre analysis pools, then the measured characteristics."""
    return [*centres.TABLE_VARIABLES, *summary_file.CHARACTERISTICS]


def write_summaries(data: str, out: str, min_cell: int = summary_file.MIN_CELL, allowed_identifier_columns: tuple[str, ...] = (),
                    today: datetime.date | None = None) -> list[Path]:
    """Validate ``data`` (a centre's file, or a folder of centre files) and write one summary per centre into ``out``."""
    if not out:
        raise summary_file.SummaryFileError("OUT is required: the folder the summary file is written into (for example OUT=summaries)")
    if min_cell < 1:
        raise summary_file.SummaryFileError(f"MIN_CELL={min_cell} must be a whole number of at least 1")
    source = paths.resolve_data_path(data)
    validated = validation.load_cohort(source, allowed_identifier_columns)
    cohort = derive(validated.data)
    folder = Path(out).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise summary_file.SummaryFileError(f"OUT={out} is a file, not a folder")
    created = (today or datetime.date.today()).isoformat()
    by_centre = "centre" in cohort and cohort["centre"].notna().all()
    centre_names = sorted(cohort["centre"].astype(str).unique()) if by_centre else [source.stem]
    files_by_stem = {Path(name).stem: Path(name).name for name in validated.files}
    contents, problems = {}, []
    for name in centre_names:
        part = cohort[cohort["centre"].astype(str) == name] if by_centre else cohort
        cells = centres.cells(part.drop(columns=["centre"], errors="ignore"), summary_variables()).drop(columns=["centre"])
        patients = {group: int((part["group"].astype(str) == group).sum()) for group in summary_file.GROUPS}
        found = summary_file.disclosure_problems(cells, patients, min_cell)
        if found:
            problems += [f"centre {name}: {problem}" for problem in found]
            continue
        data_file = files_by_stem.get(name, source.name) if source.is_dir() else source.name
        digest = validation.file_sha256(source / data_file) if source.is_dir() else validated.sha256
        contents[name] = summary_file.summary_content(cells, centre=name, data_file=data_file, data_sha256=digest,
                                                      patients=patients, min_cell=min_cell, created=created)
    if problems:
        raise summary_file.SummaryFileError(
            f"{paths.shown(source.name)}: summary refused, nothing written — {len(problems)} number(s) of patients below MIN_CELL = {min_cell} "
            "could single out patients (set MIN_CELL= only as your data-protection rules allow):\n"
            + "\n".join(f"  - {problem}" for problem in problems))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in contents.items():
        target = folder / f"{_file_stem(name)}{summary_file.SUFFIX}"
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(content, stream, indent=1, ensure_ascii=False)
                stream.write("\n")
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def _file_stem(name: str) -> str:
    """A file name for a centre: its name with anything but letters, digits, dot, dash and underscore replaced, and no
    leading dot.

    >>> _file_stem("St. Mary's / north"), _file_stem("../x")
    ('St._Mary_s___north', '_x')
    """
    cleaned = "".join(character if character.isalnum() or character in "._-" else "_" for character in name)
    return cleaned.lstrip(".") or "centre"
