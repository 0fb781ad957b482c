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
cohort_path: str = ""  # validated cohort (Parquet) or gathered centre summaries (JSON) written by the build; if empty, the multicentre example
data_label: str = ""  # how the report names the data (a file name, never a path); if empty, the file's name
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
alpha: float = 0.05  # two-sided significance level; intervals are at 1 - alpha

# %% [markdown]
# Everything below is computed from the *cells* — per centre and group, the n, mean and SD of each measurement and
# the count of each yes/no outcome — taken from the patient rows or, when the centres sent summaries instead, from
# their summary files. Both routes give the same numbers.

# %%
from vertebroplasty import paths
from vertebroplasty.contract import cohort, summary_file
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.statistics import centres
from vertebroplasty.writing import centres_text, description_text, tables

out = notebook_outputs.Publisher(output_dir, "centres")
federated = cohort_path.endswith(".json")
if federated:
    gathered = summary_file.load_gathered(cohort_path)
    cells, centre_names = gathered.cells, gathered.centres
    out.markdown("banner", centres_text.summaries_banner(gathered.sources))
    out.markdown("characteristics", centres_text.characteristics_from_cells(cells, summary_file.CHARACTERISTICS, gathered.sources))
    out.markdown("sources", centres_text.sources_table(gathered.sources))
else:
    data = cohort.Cohort.load(cohort_path or str(paths.MULTICENTRE_EXAMPLE), data_label)
    cells, centre_names = centres.cells(data.data, centres.TABLE_VARIABLES), data.centres
    out.markdown("banner", description_text.banner(data))
    out.markdown("characteristics", centres_text.characteristics_table(data.data, tables.TABLE_VARIABLES["table1"]))
    out.markdown("sources", "")
table = centres.centres_table(cells, centres.TABLE_VARIABLES, alpha)
out.results(table, "centres.csv")
out.glue("n_centres", len(centre_names))
out.markdown("pooled", centres_text.pooled_table(table))
out.markdown("multicentre_summary", centres_text.multicentre_summary(table))
out.markdown("multicentre_conclusion", centres_text.multicentre_conclusion(table))
out.markdown("multicentre_brief", centres_text.multicentre_brief(table))
out.glue("mantel_haenszel", centres_text.mantel_haenszel_sentence(table))
print(f"{len(centre_names)} centres: {', '.join(centre_names)}" + (" (from their summary files)" if federated else ""))

# %% [markdown]
# ## Heterogeneity and forest plots

# %%
out.markdown("heterogeneity", centres_text.heterogeneity_sentences(table))
out.figure("forest", centres_text.forest_plot(table))
table[table["centre"].isin(centres.SUMMARY_ROWS) & table["statistic"].isin(["mean_difference", "risk_difference", "hk_ci_low",
                                                                            "hk_ci_high", "pi_low", "pi_high", "i2"])]
