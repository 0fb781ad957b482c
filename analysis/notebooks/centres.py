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
# # Computation: centres, pooled as a meta-analysis
#
# For a cohort from several centres: each centre's group difference with its confidence interval, fixed- and
# random-effects pooled estimates (DerSimonian–Laird) with their heterogeneity, Mantel–Haenszel odds ratios, and the
# comparison adjusted for centre beside the crude one.

# %% tags=["parameters"]
cohort_path: str = ""  # validated cohort (Parquet) written by the build; if empty, the multicentre example
data_label: str = ""  # how the report names the data (a file name, never a path); if empty, the file's name
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
alpha: float = 0.05  # two-sided significance level; intervals are at 1 - alpha

# %%
from vertebroplasty import paths
from vertebroplasty.contract import cohort
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.statistics import centres
from vertebroplasty.writing import centres_text, tables

data = cohort.Cohort.load(cohort_path or str(paths.MULTICENTRE_EXAMPLE), data_label)
out = notebook_outputs.Publisher(output_dir)
table = centres.centres_table(data.data, centres.TABLE_VARIABLES, alpha)
out.results(table, "centres.csv")
out.glue("n_centres", len(data.centres))
out.markdown("characteristics", centres_text.characteristics_table(data.data, tables.TABLE_VARIABLES["table1"]))
out.markdown("pooled", centres_text.pooled_table(table))
out.glue("mantel_haenszel", centres_text.mantel_haenszel_sentence(table))
print(f"{len(data.centres)} centres: {', '.join(data.centres)}")

# %% [markdown]
# ## Forest plots and heterogeneity, one headline outcome at a time

# %%
sentences = []
for variable in centres.HEADLINE_OUTCOMES:
    rows = table[table["variable"] == variable]
    pooled = centres.summary_row(table, variable, centres.POOLED_RANDOM)
    label = centres_text.label_of(variable)
    out.figure(f"forest_{variable}", centres_text.forest_plot(rows, label))
    sentences.append(centres_text.heterogeneity_sentence(pooled, label) if pooled else f"{label}: not enough centres to pool.")
out.markdown("heterogeneity", "\n\n".join(sentences))
table[table["centre"].isin(centres.SUMMARY_ROWS) & table["statistic"].isin(["mean_difference", "risk_difference", "estimate", "i2"])]
