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
# # Computation: reproduction audit of the published numbers
#
# Uses only the numbers printed in the paper (`data/published/`), never patient data: are the tables consistent
# with themselves and with the text?

# %% tags=["parameters"]
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
alpha: float = 0.05  # significance level the paper's asterisks are checked against

# %%
from vertebroplasty.paper import audit
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.writing import audit_text

out = notebook_outputs.Publisher(output_dir, "audit")
checks = audit.run_audit(alpha)
findings = audit.findings(checks)
out.results(checks, "audit.csv")
out.results(findings, "audit_findings.csv")
out.glue("audit_checks", len(checks))
out.glue("audit_inconsistent_checks", int((checks["verdict"] == "inconsistent").sum()))
out.glue("audit_inconsistent", len(findings))
checks.groupby(["kind", "verdict"]).size().unstack(fill_value=0)

# %% [markdown]
# ## Findings, in a reviewer's words

# %%
out.markdown("findings", audit_text.findings_text(findings))
out.markdown("summary", audit_text.summary_table(checks))
out.markdown("all_checks", audit_text.checks_table(checks))
findings[["number", "kind", "label"]]

# %% [markdown]
# ## Table 3: the printed p against what the printed summaries allow

# %%
from vertebroplasty.writing import figures

ranges = audit.attainable_p_ranges()
figure, _ = figures.p_value_ranges(ranges, alpha)
out.figure("p_value_ranges", figure)
ranges[["label", "published_text", "low", "high", "verdict"]].round(4)
