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
# # Computation: patients, follow-up and derived indices
#
# Computes every derived index, follows the patients through the study (who was measured when, who was lost to
# follow-up, what is missing) and writes the facts that the methods chapter states about this cohort and study.

# %% tags=["parameters"]
cohort_path: str = ""  # validated cohort (Parquet) written by the build; if empty, the synthetic default cohort
data_label: str = ""  # how the report names the data (a file name, never a path); if empty, the file's name
study_path: str = ""  # study description (study.yml); if empty, the source study's for the default cohort, else none
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
alpha: float = 0.05  # two-sided significance level
tests: str = "paper"  # paper: the study's tests; robust: Welch / Mann-Whitney, Kruskal-Wallis, exact tests

# %%
from vertebroplasty.contract import cohort, description
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.statistics import attrition, comparisons
from vertebroplasty.writing import attrition_text, description_text, figures, front_matter

data = cohort.Cohort.load(cohort_path, data_label)
study = description.load(study_path or description.default_path(data.synthetic))
out = notebook_outputs.Publisher(output_dir, "patients")
out.markdown("banner", description_text.banner(data))
print(f"{data.n} patients; groups {data.sizes()}; cement distribution {data.sizes('cement_distribution')}")

# %% [markdown]
# ## Derived indices and the data contract
# Every derived index is computed from its definition in the data dictionary; the patient-level table goes to
# `results/derived.csv` only (it is never shown in the report).

# %%
from vertebroplasty.contract import dictionary

out.results(data.data, "derived.csv")
out.markdown("variable_table", description_text.variable_table())
out.markdown("formulas", description_text.formulas())
print(f"{len(dictionary.load_derived_indices())} derived indices: {', '.join(dictionary.load_derived_indices().index)}")

# %% [markdown]
# ## Flow of patients and missing data

# %%
flow = attrition.flow(data.data, screened=study.screened, excluded=study.excluded)
missing = attrition.missing_data(data.data)
lost = attrition.attrition_test(data.data)
out.results(flow, "flow.csv")
out.results(missing, "missing_data.csv")
out.markdown("flow_table", attrition_text.flow_table(flow))
out.markdown("missing_table", attrition_text.missing_table(missing) if len(missing) else "No value is missing in any variable.")
out.markdown("missing_final_table", attrition_text.missing_final_table(flow, lost))
attrition_sentence = attrition_text.attrition_sentence(flow, lost, data.data, alpha)
out.glue("attrition", attrition_sentence)
out.glue("attrition_brief", attrition_text.attrition_brief(flow, description_text.lost_to_follow_up_excluded(study)))
out.glue("analysis_rule", attrition_text.analysis_rule(data.data))
figure, _ = figures.flow_diagram(flow)
out.figure("flow_diagram", figure)
flow.pivot_table(index="label", columns="group", values="n", sort=False)

# %% [markdown]
# ## The study and the statistical methods

# %%
out.markdown("source_block", description_text.source_block(study, data.n, data.synthetic))
out.markdown("introduction", description_text.introduction_text(study, data.synthetic))
out.markdown("generalisability", front_matter.generalisability_text(study, data.data))
out.markdown("study_references", description.study_bibtex(study)[0])  # BibTeX, placed by the build as book/study-references.bib
out.markdown("methods_study", description_text.methods_text(study, data.n, data.sizes()))
out.glue("n_patients", data.n)
for group, size in data.sizes().items():
    out.glue(f"n_group_{group}", size)
for kind in ("A", "B", "C"):
    out.glue(f"n_distribution_{kind}", data.sizes("cement_distribution").get(kind, 0))
out.glue("alpha", alpha)
out.glue("summaries_used", comparisons.summaries_description(tests))
out.glue("tests_used", comparisons.tests_description(tests))
out.glue("original_analysis", description_text.original_analysis(study))
out.glue("minimum_follow_up", description_text.follow_up_months(study))
out.markdown("limitations", description_text.limitations_text(study, data.synthetic, attrition_text.missing_limitation(flow)))
out.markdown("provenance_intro", description_text.snippet("provenance-synthetic" if data.synthetic else "provenance-own-data"))
print(description.not_described(study) or "every methods item is described")

# %% tags=["nbval-ignore-output"]
from vertebroplasty.pipeline import provenance
from vertebroplasty.writing import myst

table = provenance.provenance_table(data.label, data.sha256, data.n, data.synthetic, data.files)
out.results(table, "provenance.csv")  # the digests whole; the page shows their start
out.markdown("provenance_table", myst.frame_table(provenance.shortened(table), name="provenance-table",
                                                 caption="What this build read and ran with."))
table
