"""Cached notebook runs: a run is reused when everything it reads is unchanged.

A notebook's key is the SHA-256 of: its executable source; the package's code; each file it declares it reads (by
content); the cohort's and the study description's SHA-256 when it reads them; its parameters other than paths;
the Python version and the installed version of every distribution the lock pins; and the keys of the notebooks it runs after.  A
cache entry holds the executed notebook and the files it wrote.  Old entries are pruned: the newest
:data:`KEEP_PER_NOTEBOOK` of each notebook are kept.

Why not a workflow engine: Snakemake and doit would need their own rule files beside ``pipeline.toml`` for five
notebooks whose inputs are mostly not files (the validated cohort by content, parameters, installed versions);
jupyter-cache keys a notebook on its code only.  This module is about a hundred lines and keys on exactly what the
declaration says.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from functools import lru_cache
from pathlib import Path

from vertebroplasty import paths
from vertebroplasty.pipeline import provenance
from vertebroplasty.pipeline.declaration import PATH_PARAMETERS, SPECIAL_INPUTS, Notebook

KEEP_PER_NOTEBOOK = 3


@lru_cache(maxsize=1)
def package_digest() -> str:
    """Digest of the package's Python code (every module, the build included)."""
    digest = hashlib.sha256()
    for path in sorted(paths.PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(paths.PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def notebook_source_digest(notebook: Notebook, cells: list | None = None) -> str:
    """Digest of the notebook's cells (source and tags): what it executes, not its stored outputs.  ``cells``: the cells
    of a notebook held in memory (as nbformat gives them) instead of the notebook's file."""
    if cells is None:
        cells = json.loads(notebook.source.read_text(encoding="utf-8"))["cells"]
    material = [(cell["cell_type"], "".join(cell["source"]), cell.get("metadata", {}).get("tags", [])) for cell in cells]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def notebook_key(notebook: Notebook, parameters: dict, inputs: dict[str, str], upstream: dict[str, str], cells: list | None = None) -> str:
    """The cache key of one notebook run (see the module docstring); ``inputs`` holds the SHA-256 of ``cohort``/``study``;
    ``cells`` as for :func:`notebook_source_digest`."""
    material = {
        "notebook": notebook.name,
        "source": notebook_source_digest(notebook, cells),
        "package": package_digest(),
        "environment": provenance.environment_digest(),
        "parameters": {name: value for name, value in parameters.items() if name in notebook.parameters and name not in PATH_PARAMETERS},
        "reads": {read: inputs[read] if read in SPECIAL_INPUTS else file_digest(paths.ROOT / read) for read in notebook.reads},
        "after": {name: upstream[name] for name in notebook.after},
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


class NotebookCache:
    """Entries ``<root>/notebooks/<name>-<key>/`` holding ``notebook.ipynb`` and ``files/``."""

    def __init__(self, root: Path | None):
        self.folder = root / "notebooks" if root else None

    def entry(self, name: str, key: str) -> Path | None:
        """The stored run, or None.  A hit is touched, so pruning keeps what is used."""
        if self.folder is None:
            return None
        entry = self.folder / f"{name}-{key}"
        if (entry / "notebook.ipynb").is_file():
            os.utime(entry)
            return entry
        return None

    def scratch(self, name: str, fallback: Path) -> Path:
        """A fresh folder to run a notebook in (inside the cache when there is one, so storing it is a rename)."""
        parent = self.folder if self.folder else fallback
        parent.mkdir(parents=True, exist_ok=True)
        folder = parent / f".{name}-running-{os.getpid()}-{time.monotonic_ns()}"
        folder.mkdir()
        return folder

    def store(self, name: str, key: str, scratch: Path) -> Path:
        """Keep a finished run under its key (or drop it when there is no cache) and prune old entries."""
        if self.folder is None:
            return scratch
        entry = self.folder / f"{name}-{key}"
        if entry.exists():  # another build stored the same run meanwhile
            shutil.rmtree(scratch)
        else:
            os.replace(scratch, entry)
        self.prune(name)
        return entry

    def prune(self, name: str, keep: int = KEEP_PER_NOTEBOOK) -> None:
        entries = sorted(self.folder.glob(f"{name}-*"), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            shutil.rmtree(old, ignore_errors=True)
