"""The published source study beside this cohort, in tables and sentences (the comparison is :mod:`vertebroplasty.paper.published`)."""

from __future__ import annotations

import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.writing import myst, numbers


def match_summary(comparison: pd.DataFrame) -> str:
    """For the synthetic cohort: how many published numbers of Tables 1–3 it reproduces, and the list of the others (MyST)."""

    matched = int((comparison["verdict"] == "matched").sum())
    others = comparison[comparison["verdict"] != "matched"]
    text = (f"## Published values against the synthetic data\n\nOf the {len(comparison)} published numbers of Tables 1–3, {matched} "
            f"are reproduced by the synthetic data at the printed precision and {len(others)} are not; the tables of the results "
            "footnote each of them with the published value and why it differs.")
    if len(others):
        text += ("\n\n:::{dropdown} Published numbers not reproduced at the printed precision\n"
                 + myst.frame_table(readable(others), own_text=True, name="table-published-not-reproduced",
                                                  caption="The published numbers the synthetic data do not reproduce.") + "\n:::")
    return text


def readable(comparison: pd.DataFrame) -> pd.DataFrame:
    """A published-comparison frame with plain labels for the report (no internal codes)."""

    def stratum(text: str) -> str:
        if text == "all":
            return "all"
        level, _, category = text.partition(":")
        level = dictionary.level_phrase(*dictionary.parse_stratum(level))
        return f"{level}, {category}" if category else level

    return pd.DataFrame({"Table": comparison["table"].map(numbers.table_label), "Variable": comparison["variable"].map(dictionary.label),
                         "Stratum": comparison["stratum"].map(stratum), "Statistic": comparison["statistic"],
                         "Published": comparison["published"], "This cohort": comparison["recomputed"], "Verdict": comparison["verdict"]})


def _n(n) -> str:
    return f" (n = {int(n)})" if pd.notna(n) else ""


def side_by_side_table(beside: pd.DataFrame) -> str:
    """The side-by-side comparison as a MyST table: this cohort's and the paper's mean ± SD, difference, standardised difference."""
    from vertebroplasty.writing import myst

    rows = []
    for row in beside.itertuples():
        level = dictionary.level_phrase(*dictionary.parse_stratum(row.stratum))
        this = numbers.mean_sd(row.this_mean, row.this_sd) + _n(row.this_n)
        source = numbers.mean_sd(row.published_mean, row.published_sd) + _n(row.published_n)
        rows.append([numbers.table_label(row.table), dictionary.label(row.variable), level, this, source,
                     "—" if pd.isna(row.difference) else f"{row.difference:.2f}",
                     "—" if pd.isna(row.standardised_difference) else f"{row.standardised_difference:.2f}"])
    return myst.list_table(["Table", "Variable", "Stratum", "This cohort", "Source study", "Difference", "Standardised difference"], rows,
                           [8, 20, 10, 20, 20, 10, 12], name="table-beside-published",
                           caption="This cohort's summaries beside the published ones of the source study.")
