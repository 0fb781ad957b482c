"""The paper's published numbers (``data/published/published-values.csv``) and comparisons with them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import paths


def load(path=paths.PUBLISHED_VALUES) -> pd.DataFrame:
    """One row per published number: table, variable, stratum, statistic, value (float, NaN for text),
    value_text, reported (as printed) and decimals (printed precision)."""
    values = pd.read_csv(path, dtype=str, keep_default_na=False)
    values["value_text"] = values["value"]
    values["value"] = pd.to_numeric(values["value"], errors="coerce")
    values["decimals"] = values["reported"].map(_decimals)
    return values


def _decimals(reported: str) -> int:
    number = reported.lstrip("<>=").rstrip("%*").split("mm")[0]
    return len(number.split(".")[1]) if "." in number else 0


def cases() -> pd.DataFrame:
    """The case-presentation patients as a small table (one row per case, values as text)."""
    values = load()
    rows = values[values["table"].str.startswith("case")]
    return rows.pivot(index="table", columns="variable", values="value_text").rename_axis(None, axis=1)


def rounds_to(recomputed: float, published: float, decimals: int, reported: str) -> bool:
    """Does ``recomputed`` print as the published number?  ``<0.01`` means below 0.01; halves may go either way."""
    if pd.isna(recomputed):
        return False
    if reported.startswith("<"):
        return recomputed < published
    return abs(recomputed - published) <= 0.5 * 10.0 ** -decimals * (1 + 1e-9)


def compare_with_published(statistics_long: pd.DataFrame) -> pd.DataFrame:
    """Join recomputed statistics to the published ones (Tables 1–3) with a verdict per number.

    Returns columns table, variable, stratum, statistic, published (as printed),
    recomputed (at the published precision, one more decimal for p), verdict
    (``matched`` / ``not matched`` / ``not recomputed``).
    """
    values = load()
    values = values[values["table"].isin(["table1", "table2", "table3"]) & (values["variable"] != "n")]
    recomputed = statistics_long.copy()
    recomputed["number"] = pd.to_numeric(recomputed["value"], errors="coerce")
    joined = values.merge(recomputed[["table", "variable", "stratum", "statistic", "number"]],
                          on=["table", "variable", "stratum", "statistic"], how="left")
    verdicts, shown = [], []
    for row in joined.itertuples():
        if pd.isna(row.number):
            verdicts.append("not recomputed")
            shown.append("")
            continue
        verdicts.append("matched" if rounds_to(row.number, row.value, row.decimals, row.reported) else "not matched")
        places = row.decimals + (1 if row.statistic == "p" else 0)
        shown.append(f"{row.number:.{max(places, 0)}f}")
    joined["recomputed"] = shown
    joined["verdict"] = verdicts
    return joined.rename(columns={"reported": "published"})[["table", "variable", "stratum", "statistic", "published", "recomputed", "verdict"]]


def group_n(values: pd.DataFrame) -> dict[str, int]:
    """Published group sizes (stratum -> n) from Table 1 and Table 3."""
    rows = values[(values["variable"] == "n") & (values["statistic"] == "n")]
    return {row.stratum: int(row.value) for row in rows.itertuples() if not np.isnan(row.value)}
