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
# # Computation: case presentations
#
# Three patients, each described from their own row of the data and plotted against the mean of their treatment
# group. These are the only patient-level rows the report shows.

# %% tags=["parameters"]
cohort_path: str = ""  # validated cohort (Parquet) written by the build; if empty, the synthetic default cohort
data_label: str = ""  # how the report names the data (a file name, never a path); if empty, the file's name
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
case_ids: str = ""  # comma-separated patient_ids for the case presentations; if empty, chosen by the documented rule

# %%
from vertebroplasty.contract import cohort
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.writing import cases, figures

data = cohort.Cohort.load(cohort_path, data_label)
out = notebook_outputs.Publisher(output_dir, "cases")
chosen, how, from_paper = cases.choose_case_ids(data.data, case_ids)
patients = data.data.assign(case_key=cases.case_keys(data.data)).set_index("case_key").loc[chosen].reset_index()
out.glue("case_selection", how)
out.glue("case_wording_rule", cases.wording_rule())
paragraphs = [cases.case_paragraph(patient, from_paper) for _, patient in patients.iterrows()]
out.markdown("case_paragraphs", "\n\n".join(f"**Case {number}.** {text}" for number, text in enumerate(paragraphs, 1)))
print(chosen)

# %%
figure, summary = figures.case_figure(data.data, patients)
out.figure("case_figure", figure)
out.glue("case_figure_background", figures.case_background_caption(data.sizes()))
summary.round(2)
