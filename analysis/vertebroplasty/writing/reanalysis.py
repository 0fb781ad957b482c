"""The re-analysis chapter's tables and sentences: assumptions, exact tests, sample size (with a design effect)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import comparisons, power
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
    return myst.list_table(["Table", "Variable", "Shapiro–Wilk p per stratum", "Levene p"], rows, [12, 30, 43, 15],
                           name="assumption-checks", caption="Normality and equal variances of the continuous outcomes of Tables 2 and 3 "
                                                                 "(what Student's t-test and the ANOVA assume).")


def exact_tests_table(categorical: pd.DataFrame, alpha: float) -> str:
    """Every categorical comparison: the χ² p, the smallest expected count, and the exact p where a count is below 5."""
    rows = []
    for record in categorical.to_dict("records"):
        exact = (numbers.exact_p_text(record)
                 if record["exact_test"] else f"not needed (every expected count ≥ {comparisons.SPARSE_EXPECTED:g})")
        chi2 = numbers.format_p(record["p_val"]) if record["test"] == "chi2" else "—"
        expected = "—" if pd.isna(record["min_expected"]) else f"{record['min_expected']:.1f}"
        rows.append([numbers.table_label(record["table"]), dictionary.label(record["variable"]), chi2, expected, exact])
    return myst.list_table(["Table", "Variable", "χ² p", "Smallest expected count", "Exact test"], rows, [10, 25, 12, 15, 38],
                           name="exact-tests", caption="The χ² tests beside tests that do not rely on the χ² approximation.")


def robust_option(tests: str) -> str:
    """What ``TESTS=robust`` runs, said as what this build did or as what the option would do (MyST)."""
    what = ("Welch's t-test for measurements, the Mann–Whitney U test for the ordinal scores, the Kruskal–Wallis test with "
            "Dunn's pairwise test {cite:p}`dunn1964` across the types, and exact tests for sparse tables")
    if tests == "robust":
        return f"This build ran with `TESTS=robust`, which uses {what}; the checks below show where the choice matters."
    return f"Running the report with `TESTS=robust` uses {what}; the table footnotes then name what ran."


def sparse_sentence(categorical: pd.DataFrame) -> str:
    """Which χ² tables have an expected count below 5 (where the χ² approximation is doubtful)."""
    sparse = categorical[categorical["sparse"].astype(bool)]
    if sparse.empty:
        return (f"No categorical comparison has an expected count below {comparisons.SPARSE_EXPECTED:g}, so every χ² "
                "approximation is adequate.")
    # the χ² p only where the table ran a χ² test (robust tests run the exact test in its place)
    labels = [f"{dictionary.prose_label(r.variable)} ({numbers.table_label(r.table)}: "
              + (f"χ² {numbers.format_p_in_text(r.p_val)}, " if r.test == "chi2" else "tested exactly: ")
              + f"{numbers.exact_p_text(r._asdict())})" for r in sparse.itertuples()]
    count = "One categorical comparison has" if len(sparse) == 1 else f"{len(sparse)} categorical comparisons have"
    return f"{count} an expected count below {comparisons.SPARSE_EXPECTED:g}: {myst.english_list(labels)}."


def centre_correlations(data: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Intraclass correlation of each outcome by centre, and the centres with both groups (multicentre cohorts)."""
    from vertebroplasty.statistics import centres

    both = data.assign(centre=centres.centre_labels(data)).groupby("centre")["group"].nunique().eq(2)
    rows = [{"variable": variable, "icc": centres.clustering(data, variable)["icc"], "centres": len(both),
             "centres_with_both_groups": int(both.sum())} for variable in variables]
    return pd.DataFrame(rows)


def clustering_note(correlations: pd.DataFrame | None) -> str:
    """Why the sample sizes are not multiplied by a design effect (MyST)."""
    stratified = ("a comparison made within every centre and adjusted for centre needs no more patients than this, provided "
                  "each centre treats both groups in about the same proportion and the effect does not vary much between "
                  "centres: its design effect is then about 1 − ρ for an intraclass correlation ρ, at most 1 "
                  "{cite:p}`vierron2007`. When the groups' shares differ between centres it can exceed 1 "
                  "{cite:p}`vierron2009`, and a follow-up meant to generalise to new centres must plan for the "
                  "between-centre variation of the effect itself<where>. "
                  "Kish's 1 + (m − 1)ρ applies only if whole centres receive one technique")
    if correlations is None:
        return (f"The numbers are for one centre; in a multicentre study that treats both groups in every centre, "
                f"{stratified.replace('<where>', '')}.")
    stratified = stratified.replace("<where>", " (the prediction intervals of the chapter on centres)")
    iccs = correlations["icc"].dropna()
    spread = (f"the intraclass correlations of these outcomes by centre (one-way ANOVA estimator) run from {iccs.min():.3f} to "
              f"{iccs.max():.3f}" if len(iccs)
              else "no intraclass correlation could be estimated")
    centres_text = (f"both groups were treated in all {correlations['centres'].iloc[0]} centres" if
                    correlations["centres_with_both_groups"].iloc[0] == correlations["centres"].iloc[0] else
                    f"both groups were treated in {correlations['centres_with_both_groups'].iloc[0]} of the "
                    f"{correlations['centres'].iloc[0]} centres")
    return (f"Here {centres_text} and {spread}. The numbers are not inflated for clustering: {stratified}.")


def sample_size_table(sizes: pd.DataFrame) -> str:
    """Patients per group for 80 % and 90 % power at the observed effect, as a list-table."""
    header = ["Outcome", "Observed Hedges' g", "Per group, 80 % power", "Per group, 90 % power"]
    rows = [[dictionary.label(r["variable"]), f"{r['hedges_g']:.2f}", *[numbers.patients(r[f"n_per_group_{p}"]) for p in (80, 90)]]
            for r in sizes.to_dict("records")]
    table = myst.list_table(header, rows, [30, 14, 14, 14], name="sample-sizes",
                            caption="Patients per group a follow-up study would need at the effects observed here.",
                            empty="No outcome has an observed difference between the groups to plan from: every effect is zero or "
                                  "could not be computed from these data.")
    dashed = any(cell == "—" for row in rows for cell in row[2:])
    return table + ("\n\nA dash marks an effect too small to reach with any practical sample." if dashed else "")


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
