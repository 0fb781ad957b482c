"""The paper's published numbers (``data/published/published-values.csv``) and comparisons with them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty import paths


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


def prose_claims() -> pd.DataFrame:
    """Statements of the paper's text, transcribed as data (``data/published/prose-claims.csv``)."""
    return pd.read_csv(paths.PROSE_CLAIMS, dtype=str, keep_default_na=False)


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


def differing(comparison: pd.DataFrame) -> pd.DataFrame:
    """The published numbers this cohort does not reproduce at the printed precision (``verdict == 'not matched'``)."""
    return comparison[comparison["verdict"] == "not matched"].reset_index(drop=True)


def explain_differences(differing_numbers: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Each published number the synthetic cohort does not reproduce, with why (a MyST reference to the explanation).

    A number the audit finds unattainable from the paper's own summaries links to that finding; any other — even one
    the audit has another finding about, such as a missing asterisk, which does not explain a difference of value —
    links to the provenance chapter's account of what the reconstruction could not reach.
    """
    anchors = {(row.table, row.variable, row.statistic): row for row in findings.itertuples() if row.kind == "impossible p-value"}
    explanations = []
    for row in differing_numbers.itertuples():
        found = anchors.get((row.table, row.variable, row.statistic))
        if found is not None:
            explanations.append("the printed value is not attainable from the paper's own summaries "
                                f"({{ref}}`audit finding {found.number} <{found.anchor}>`)")
        else:
            explanations.append("the paper's summaries allow it, but the synthetic reconstruction did not reach it "
                                "({ref}`data provenance <provenance-unmatched>`)")
    return differing_numbers.assign(explanation=explanations)


def side_by_side(statistics_long: pd.DataFrame) -> pd.DataFrame:
    """A user's cohort beside the published study, one row per Table 1–3 mean ± SD row and stratum.

    Columns: ``table, variable, stratum, this_mean, this_sd, this_n, published_mean, published_sd, published_n,
    difference`` (this − published) and ``standardised_difference`` (the difference over the pooled SD of the two
    cohorts, sqrt((SD_this² + SD_published²) / 2)).
    """
    values = load()
    sizes = group_n(values)
    published_rows = values[values["statistic"].isin(["mean", "sd"]) & values["table"].isin(["table1", "table2", "table3"])]
    published_wide = published_rows.pivot_table(index=["table", "variable", "stratum"], columns="statistic", values="value").reset_index()
    recomputed = statistics_long[statistics_long["statistic"].isin(["mean", "sd", "n"])].copy()
    recomputed["number"] = pd.to_numeric(recomputed["value"], errors="coerce")
    this = recomputed.pivot_table(index=["table", "variable", "stratum"], columns="statistic", values="number").reset_index()
    this = this.reindex(columns=["table", "variable", "stratum", "mean", "sd", "n"])  # a cohort without any measurement has none
    joined = published_wide.merge(this, on=["table", "variable", "stratum"], how="left", suffixes=("_published", "_this"))
    joined["published_n"] = joined["stratum"].map(sizes)
    out = pd.DataFrame({
        "table": joined["table"], "variable": joined["variable"], "stratum": joined["stratum"],
        "this_mean": joined["mean_this"], "this_sd": joined["sd_this"], "this_n": joined["n"],
        "published_mean": joined["mean_published"], "published_sd": joined["sd_published"], "published_n": joined["published_n"],
    })
    out["difference"] = out["this_mean"] - out["published_mean"]
    pooled = np.sqrt((out["this_sd"] ** 2 + out["published_sd"] ** 2) / 2)
    out["standardised_difference"] = out["difference"] / pooled.where(pooled > 0)
    return out


def group_n(values: pd.DataFrame) -> dict[str, int]:
    """Published group sizes (stratum -> n) from Table 1 and Table 3."""
    rows = values[(values["variable"] == "n") & (values["statistic"] == "n")]
    return {row.stratum: int(row.value) for row in rows.itertuples() if not np.isnan(row.value)}
