"""Every path the project uses, built from the location of this file."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ANALYSIS = PACKAGE.parent
ROOT = ANALYSIS.parent
DATA = ROOT / "data"
DEFAULT_COHORT = DATA / "cohort.csv"
DATA_DICTIONARY = DATA / "data_dictionary.csv"
DERIVED_INDICES = DATA / "derived_indices.csv"
CATEGORY_LABELS = DATA / "category_labels.csv"
PUBLISHED_VALUES = DATA / "published" / "published-values.csv"
BOOK = ROOT / "book"
DEFAULT_OUTPUT = ROOT / "_build"


def resolve_data_path(data_path: str | Path | None) -> Path:
    """Return the cohort file to analyse: ``data_path``, or the default cohort when empty."""
    if data_path in (None, ""):
        return DEFAULT_COHORT
    return Path(data_path).expanduser().resolve()
