"""The cohort a report analyses: validated data plus derived indices, its name, fingerprint and kind.

The build validates the input once (:mod:`vertebroplasty.contract.validation`) and hands the notebooks a typed copy as
Parquet (:func:`save_validated`), so no notebook parses or validates the CSV again.  A notebook run on its own
(empty ``cohort_path``) validates the default cohort itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from vertebroplasty import paths
from vertebroplasty.contract import derivation
from vertebroplasty.contract.validation import ValidatedCohort, file_sha256, load_cohort

PARQUET_METADATA_KEY = b"vertebroplasty"


@dataclass
class Cohort:
    """A validated cohort ready for analysis.

    ``data`` holds every input column under its results name and every derived index; ``label`` is what the report
    calls the data (a file name, never a path); ``synthetic`` is true for the committed synthetic reconstruction.
    """

    data: pd.DataFrame
    label: str
    sha256: str
    synthetic: bool
    files: tuple[str, ...] = ()

    @classmethod
    def from_validated(cls, validated: ValidatedCohort, label: str = "") -> Cohort:
        synthetic = validated.sha256 == file_sha256(paths.DEFAULT_COHORT)
        return cls(derivation.derive(validated.data), label or validated.source.name, validated.sha256, synthetic, tuple(validated.files))

    @classmethod
    def load(cls, cohort_path: str = "", data_label: str = "") -> Cohort:
        """The cohort of a notebook: the build's validated Parquet copy, or (run on its own) the default cohort, validated here."""
        if cohort_path.endswith(".parquet"):
            data, metadata = read_validated(Path(cohort_path))
            return cls(derivation.derive(data), data_label or metadata["label"], metadata["sha256"], metadata["synthetic"],
                       tuple(metadata["files"]))
        return cls.from_validated(load_cohort(paths.resolve_data_path(cohort_path)), data_label)

    @property
    def n(self) -> int:
        return len(self.data)

    @cached_property
    def centres(self) -> list[str]:
        """Centre names, sorted; empty for a single-centre cohort without a ``centre`` column."""
        if "centre" not in self.data:
            return []
        return sorted(self.data["centre"].dropna().astype(str).unique())

    @property
    def multicentre(self) -> bool:
        return len(self.centres) > 1

    def sizes(self, between: str = "group") -> dict[str, int]:
        """Patients per level of ``between``, in label order (levels without patients left out)."""
        counts = self.data[between].astype(str).value_counts()
        return {level: int(counts[level]) for level in sorted(counts.index)}


def save_validated(validated: ValidatedCohort, target: Path, label: str) -> Path:
    """Write the typed, validated cohort as Parquet with its label, SHA-256 and file names in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metadata = {"label": label, "sha256": validated.sha256, "files": validated.files,
                "synthetic": validated.sha256 == file_sha256(paths.DEFAULT_COHORT)}
    table = pa.Table.from_pandas(validated.data, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_METADATA_KEY: json.dumps(metadata).encode()})
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    pq.write_table(table, temporary)
    temporary.replace(target)
    return target


def read_validated(path: Path) -> tuple[pd.DataFrame, dict]:
    """The typed cohort and its metadata, as :func:`save_validated` wrote them."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = json.loads(table.schema.metadata[PARQUET_METADATA_KEY])
    return table.to_pandas(), metadata
