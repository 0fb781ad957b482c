# ---
# jupyter:
#   jupytext:
#     formats: ipynb,notebooks//py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Computation: re-analysis with current reporting standards
#
# Effect sizes with confidence intervals for every comparison of Tables 1–3, the tests' assumptions, exact tests
# beside every χ² test, and the sample size a follow-up study would need.

# %% tags=["parameters"]
cohort_path: str = ""  # validated cohort (Parquet) written by the build; if empty, the synthetic default cohort
data_label: str = ""  # how the report names the data (a file name, never a path); if empty, the file's name
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
inputs_dir: str = ""  # folder of earlier notebooks' files in this build; if empty, what is needed is computed here
alpha: float = 0.05  # two-sided significance level
tests: str = "paper"  # paper: the study's tests; robust: Welch / Mann-Whitney, Kruskal-Wallis, exact tests

# %%
import pandas as pd

from vertebroplasty.contract import cohort
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.writing import tables

data = cohort.Cohort.load(cohort_path, data_label)
out = notebook_outputs.Publisher(output_dir, "reanalysis")
computed = notebook_outputs.read_upstream(inputs_dir, "comparisons", "tests.parquet")
if computed is None:  # run on its own: compute Tables 1–3 here
    computed = pd.concat([r.tests.assign(table=name) for name, r in tables.analyse(data.data, tests).items()], ignore_index=True)
for name in tables.TABLE_VARIABLES:
    out.markdown(f"effects_{name}", tables.effects_table(computed[computed["table"] == name], alpha, name))
computed.loc[computed["table"] == "table2", ["variable", "test", "mean_difference", "ci_low", "ci_high", "hedges_g", "p_holm"]].round(3)

# %% [markdown]
# ## Assumptions of the tests

# %%
from vertebroplasty.statistics import comparisons
from vertebroplasty.writing import reanalysis

measured = {name: [v for v in tables.TABLE_VARIABLES[name] if not comparisons.is_categorical(data.data[v])] for name in ("table2", "table3")}
checks = pd.concat([comparisons.assumption_checks(data.data, measured[name], tables.TABLE_BETWEEN[name], alpha).assign(table=name)
                    for name in measured], ignore_index=True)
out.results(checks, "assumptions.csv")
out.glue("assumptions_checked", len(checks))
out.glue("assumptions_non_normal", int((~checks["normal"]).sum()))
out.glue("assumptions_unequal_variances", int((~checks["equal_variances"]).sum()))
out.markdown("assumptions", reanalysis.assumptions_table(checks, alpha))
out.markdown("robust_option", reanalysis.robust_option(tests))
checks.round(3)

# %% [markdown]
# ## Exact tests beside the χ² tests

# %%
categorical = computed[computed["test"].isin(["chi2", *comparisons.EXACT_TESTS]) | computed["cramers_v"].notna()]
out.markdown("exact_tests", reanalysis.exact_tests_table(categorical, alpha))
out.glue("sparse_tables", reanalysis.sparse_sentence(categorical))
out.glue("sparse_expected", f"{comparisons.SPARSE_EXPECTED:g}")
out.glue("monte_carlo_tables", f"{comparisons.MONTE_CARLO_TABLES:,}")
categorical[["table", "variable", "test", "p_val", "min_expected", "exact_test", "exact_p"]].round(4)

# %% [markdown]
# ## Sample size for a follow-up study

# %%
from vertebroplasty.statistics import power
from vertebroplasty.writing import figures

outcomes = computed[(computed["table"] == "table2") & computed["variable"].map(reanalysis.is_outcome)]
correlations = reanalysis.centre_correlations(data.data, list(outcomes["variable"])) if data.multicentre else None
sizes = power.sample_size(outcomes, alpha)
out.results(sizes, "sample_size.csv")
out.markdown("sample_size", reanalysis.sample_size_table(sizes))
out.markdown("clustering_note", reanalysis.clustering_note(correlations))
out.glue("type_a_sample_size", reanalysis.type_a_sample_size(data.data, alpha))
figure, _ = figures.sample_size_figure(sizes)
out.figure("sample_size_figure", figure)
sizes.round(3)
