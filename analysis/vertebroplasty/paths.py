"""Every path the project uses, built from the location of this file (no path strings in notebooks)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ANALYSIS = PACKAGE.parent
ROOT = ANALYSIS.parent
DATA = ROOT / "data"
DEFAULT_COHORT = DATA / "cohort.csv"
DEFAULT_STUDY = DATA / "study.yml"
DATA_DICTIONARY = DATA / "data_dictionary.csv"
DERIVED_INDICES = DATA / "derived_indices.csv"
CATEGORY_LABELS = DATA / "category_labels.csv"
PUBLISHED = DATA / "published"
PUBLISHED_VALUES = PUBLISHED / "published-values.csv"
PROSE_CLAIMS = PUBLISHED / "prose-claims.csv"
REFERENCES = ROOT / "book" / "references.bib"
MULTICENTRE_EXAMPLE = DATA / "examples" / "multicentre"
PIPELINE = ANALYSIS / "pipeline.toml"
DEFAULT_OUTPUT = ROOT / "_build"
#: Files and folders of the book's own sources (copied into each build).
BOOK_SOURCES = ("_config.yml", "_toc.yml", "_static", "_templates", "_ext", "book")


def resolve_data_path(data_path: str | Path | None) -> Path:
    """The cohort to analyse: ``data_path`` (a file or a folder of centre files), or the default cohort when empty."""
    if data_path in (None, ""):
        return DEFAULT_COHORT
    return Path(data_path).expanduser().resolve()


def cache_root() -> Path:
    """Where cached notebook runs and validated cohorts are kept.

    ``VERTEBROPLASTY_CACHE`` when set; otherwise the checkout's ``.cache`` when the checkout is writable; otherwise the
    user's cache folder (``$XDG_CACHE_HOME/vertebroplasty``, by default ``~/.cache/vertebroplasty``).
    """
    chosen = os.environ.get("VERTEBROPLASTY_CACHE", "")
    if chosen:
        return Path(chosen).expanduser().resolve()
    if os.access(ROOT, os.W_OK) and (not (ROOT / ".cache").exists() or os.access(ROOT / ".cache", os.W_OK)):
        return ROOT / ".cache"
    base = os.environ.get("XDG_CACHE_HOME", "") or str(Path.home() / ".cache")
    return Path(base) / "vertebroplasty"


def terminal_safe(message: str) -> str:
    r"""A message for the terminal with every control character but the line break and tab shown as an escape
    (``\x1b``), so a name holding escape sequences cannot recolour, move or hide what the terminal shows.

    >>> terminal_safe("a\x1b[31mred\nnext")
    'a\\x1b[31mred\nnext'
    """
    return "".join(character if character in "\n\t" or character.isprintable() else character.encode("unicode_escape").decode("ascii")
                   for character in str(message))


def shown(name) -> str:
    r"""A user's file or folder name inside a one-line message: control characters, the line break included, escaped,
    so a name cannot forge a line of its own.

    >>> shown("x\nerror: forged.csv")
    'x\\nerror: forged.csv'
    """
    return terminal_safe(str(name)).replace("\n", "\\n")
