"""Where a report comes from: the data (file name and SHA-256, never a path), the code (version, commit) and the software."""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pandas as pd

from vertebroplasty import __version__, paths

PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "pandera", "papermill", "myst-nb", "jupyter-book")


def git_commit() -> str:
    """The project's commit (``unknown`` outside a git checkout), with ``+changes`` when the tree is dirty."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def locked_names(lock: Path | None = None) -> list[str]:
    """The distributions pinned in the lock (``requirements.txt``), normalised names."""
    text = (lock or paths.ROOT / "requirements.txt").read_text(encoding="utf-8")
    return sorted({re.split(r"[=<>~!\[; ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
                   for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "-"))})


@lru_cache(maxsize=1)
def environment_digest() -> str:
    """SHA-256 of the Python version and of the installed version of every distribution the lock pins (part of cache keys).

    Only what the lock names counts, so installing an unrelated package does not re-run the notebooks; upgrading a
    locked one does.
    """
    installed = []
    for name in locked_names():
        try:
            installed.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            installed.append(f"{name}==absent")
    material = "\n".join([platform.python_implementation(), platform.python_version(), *installed])
    return hashlib.sha256(material.encode()).hexdigest()


def provenance_table(label: str, sha256: str, n: int, synthetic: bool, files: tuple[str, ...] = ()) -> pd.DataFrame:
    """Input (name and SHA-256 only), rows, package version and commit, Python and library versions: ``item, value``."""
    rows = [
        ("Data", label),
        ("Data set", "synthetic reconstruction (not patient data)" if synthetic else "user-supplied cohort"),
        ("Patients (rows)", str(n)),
        ("SHA-256 of the data", sha256),
    ]
    if len(files) > 1:
        rows.append(("Centre files", ", ".join(files)))
    rows += [("Report package version", __version__), ("Project commit", git_commit()), ("Python", platform.python_version())]
    for package in PACKAGES:
        try:
            rows.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            rows.append((package, "not installed"))
    return pd.DataFrame(rows, columns=["item", "value"])


#: Items of the provenance table whose values are long digests: the pages show their start, the results the whole.
DIGEST_ITEMS = ("SHA-256 of the data", "Project commit")
#: Hexadecimal characters a page shows of a digest (64 bits: unambiguous among any realistic number of files).
SHOWN_DIGITS = 16


def shortened(table: pd.DataFrame) -> pd.DataFrame:
    """The provenance table for a page: each long digest cut to its first :data:`SHOWN_DIGITS` characters and an
    ellipsis (a commit keeps its ``+changes`` mark), so it fits a printed column; ``results/provenance.csv`` has it whole.

    >>> shortened(pd.DataFrame({"item": ["Project commit", "Python"], "value": ["f153899dd5d00daa71f7+changes", "3.11"]}))["value"].tolist()
    ['f153899dd5d00daa…+changes', '3.11']
    """
    def cut(item: str, value: str) -> str:
        digest, plus, rest = value.partition("+")
        if item not in DIGEST_ITEMS or len(digest) <= SHOWN_DIGITS:
            return value
        return f"{digest[:SHOWN_DIGITS]}…{plus}{rest}"

    return table.assign(value=[cut(item, value) for item, value in zip(table["item"], table["value"])])
