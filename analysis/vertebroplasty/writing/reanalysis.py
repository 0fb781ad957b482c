"""The re-analysis chapter's tables and sentences: assumptions, exact tests, sample size (with a design effect)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import power
from vertebroplasty.writing import myst, numbers


def is_outcome(variable: str) -> bool:
    return dictionary.role(variable) in dictionary.RESULT_ROLES


def assumptions_table(checks: pd.DataFrame, alpha: float) -> str:
    """Normality and equal-variance checks as a list-table (one row per variable and table)."""
    shapiro = [column for column in checks.columns if column.startswith("shapiro_p_")]
    rows = []
    for record in checks.to_dict("records"):
        normality = ", ".join(f"{column.removeprefix('shapiro_p_')}: {numbers.format_p(record[column])}"
                              for column in shapiro if not pd.isna(record.get(column)))
        rows.append([numbers.table_label(record["table"]), dictionary.label(record["variable"]), normality or "—",
                     numbers.format_p(record["levene_p"])])
    return myst.list_table(["Table", "Variable", "Shapiro–Wilk p per stratum", "Levene p"], rows, [12, 30, 43, 15])


def exact_tests_table(categorical: pd.DataFrame, alpha: float) -> str:
    """Every categorical comparison: the χ² p, the smallest expected count, and the exact p where a count is below 5."""
    rows = []
    for record in categorical.to_dict("records"):
        exact = (numbers.exact_p_text(record)
                 if record["exact_test"] else "not needed (every expected count ≥ 5)")
        chi2 = numbers.format_p(record["p_val"]) if record["test"] == "chi2" else "—"
        expected = "—" if pd.isna(record["min_expected"]) else f"{record['min_expected']:.1f}"
        rows.append([numbers.table_label(record["table"]), dictionary.label(record["variable"]), chi2, expected, exact])
    return myst.list_table(["Table", "Variable", "χ² p", "Smallest expected count", "Exact test"], rows, [10, 25, 12, 15, 38])


def sparse_sentence(categorical: pd.DataFrame) -> str:
    """Which χ² tables have an expected count below 5 (where the χ² approximation is doubtful)."""
    sparse = categorical[categorical["sparse"].astype(bool)]
    if sparse.empty:
        return "No categorical comparison has an expected count below 5, so every χ² approximation is adequate."
    labels = [f"{dictionary.label(r.variable)} ({numbers.table_label(r.table)}: χ² {numbers.format_p_in_text(r.p_val)}, "
              f"{numbers.exact_p_text(r._asdict())})" for r in sparse.itertuples()]
    count = "One categorical comparison has" if len(sparse) == 1 else f"{len(sparse)} categorical comparisons have"
    return f"{count} an expected count below 5: {myst.english_list(labels)}."


def design_effects(data: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Intraclass correlation by centre and the design effect 1 + (m − 1) ρ of each outcome (multicentre cohorts)."""
    from vertebroplasty.statistics import centres

    rows = []
    for variable in variables:
        found = centres.clustering(data, variable)
        rows.append({"variable": variable, "icc": found["icc"], "mean_centre_size": found["mean_cluster_size"],
                     "design_effect": found["design_effect"]})
    return pd.DataFrame(rows)


def with_design_effects(sizes: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """The sample sizes with the clustered-design columns added: ``icc``, ``design_effect``, ``n_per_group_80_multicentre`` …"""
    merged = sizes.merge(design[["variable", "icc", "design_effect"]], on="variable", how="left")
    for column in [c for c in sizes.columns if c.startswith("n_per_group_")]:
        merged[f"{column}_multicentre"] = np.ceil(merged[column] * merged["design_effect"])
    return merged


def design_effect_note(design: pd.DataFrame | None) -> str:
    if design is None:
        return ("With one centre there is no between-centre variance to estimate; a multicentre study would multiply these "
                "numbers by its design effect, 1 + (m − 1) ρ, for m patients per centre and intraclass correlation ρ.")
    return (f"With {design['mean_centre_size'].iloc[0]:.0f} patients per centre on average, the intraclass correlations by centre "
            f"(from {design['icc'].min():.3f} to {design['icc'].max():.3f}) give design effects from {design['design_effect'].min():.2f} to "
            f"{design['design_effect'].max():.2f}; the last columns multiply the per-group numbers by them.")


def sample_size_table(sizes: pd.DataFrame) -> str:
    """Patients per group for 80 % and 90 % power at the observed effect (and with the design effect), as a list-table."""
    multicentre = "design_effect" in sizes.columns
    header = ["Outcome", "Observed Hedges' g", "Per group, 80 % power", "Per group, 90 % power"]
    if multicentre:
        header += ["Design effect", "80 %, multicentre", "90 %, multicentre"]
    rows = []
    for r in sizes.to_dict("records"):
        row = [dictionary.label(r["variable"]), f"{r['hedges_g']:.2f}", *[numbers.patients(r[f"n_per_group_{p}"]) for p in (80, 90)]]
        if multicentre:
            row += [f"{r['design_effect']:.2f}", *[numbers.patients(r[f"n_per_group_{p}_multicentre"]) for p in (80, 90)]]
        rows.append(row)
    return myst.list_table(header, rows, [30, 14, 14, 14] + ([10, 9, 9] if multicentre else []))


def type_a_sample_size(data: pd.DataFrame, alpha: float) -> str:
    """The sample size for the study's primary question, the share of type A distributions in each group."""
    shares = data.assign(type_a=data["cement_distribution"].astype(str) == "A").groupby(data["group"].astype(str))["type_a"].mean()
    first, second = float(shares.get("A", np.nan)), float(shares.get("B", np.nan))
    if not (np.isfinite(first) and np.isfinite(second)) or first == second:
        return "The share of type A distributions does not differ between the groups here, so no sample size follows from it."
    needed = {key: numbers.patients(value) if key.startswith("n_") and pd.notna(value) else "more than 100,000" if key.startswith("n_") else value
              for key, value in power.proportion_sample_size(first, second, alpha).items()}

    return (f"For the study's primary question, the share of type A distributions ({100 * first:.1f} % in group A and "
            f"{100 * second:.1f} % in group B here), a two-group comparison would need {needed['n_per_group_80']} patients "
            f"per group for 80 % power and {needed['n_per_group_90']} for 90 % (Cohen's h = {needed['cohens_h']:.2f}).")
