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
# # Computation: Tables 1–3, their sentences and the conclusions
#
# Compares the treatment groups (Tables 1 and 2) and the cement-distribution types (Table 3) under the report's
# testing rule (one primary outcome at alpha, the secondary outcomes Holm-adjusted as one family), tests the types
# pair by pair, estimates every group difference again adjusted for the pre-operative value, for confounders and
# after multiple imputation, counts clinically important improvements, and writes the results' sentences and the
# answers to the study's questions from those numbers.

# %% tags=["parameters"]
cohort_path: str = ""  # validated cohort (Parquet) written by the build; if empty, the synthetic default cohort
data_label: str = ""  # how the report names the data (a file name, never a path); if empty, the file's name
output_dir: str = ""  # folder for this notebook's files (markdown/, figures/, results/); if empty, nothing is written
inputs_dir: str = ""  # folder of earlier notebooks' files in this build; if empty, what is needed is computed here
study_path: str = ""  # study description (study.yml); if empty, the source study's for the default cohort, else none
alpha: float = 0.05  # two-sided significance level
tests: str = "paper"  # paper: the study's tests; robust: Welch / Mann-Whitney, Kruskal-Wallis, exact tests

# %%
import pandas as pd

from vertebroplasty.contract import cohort, description
from vertebroplasty.pipeline import notebook_outputs
from vertebroplasty.statistics import testing_rule
from vertebroplasty.writing import description_text, tables, testing_rule_text

data = cohort.Cohort.load(cohort_path, data_label)
study = description.load(study_path or description.default_path(data.synthetic))
plan = testing_rule.plan_from_study(study)
out = notebook_outputs.Publisher(output_dir, "comparisons")
results = tables.analyse(data.data, tests, plan=plan)
statistics = pd.concat([tables.long_statistics(r.tests, r.descriptives, name) for name, r in results.items()], ignore_index=True)
out.results(statistics, "statistics.csv")
out.glue("effect_interval_percent", f"{tables.EFFECT_PERCENT:g}")
out.glue("effect_interval_p", f"{1 - tables.CONFIDENCE:g}")
out.markdown("testing_rule", testing_rule_text.methods_text(plan, alpha, testing_rule.family_sizes(results)))
results["table2"].tests[["variable", "family", "test", "n", "statistic", "p_val", "p_holm"]].round(4)

# %% [markdown]
# ## Adjusted estimates and clinically important improvement
# Every group difference of Table 2 (and the type-A share) estimated again: adjusted for the pre-operative value of
# the same measurement (ANCOVA), for the confounders as well, and after multiple imputation where values are missing.

# %%
from vertebroplasty.statistics import adjusted, responders
from vertebroplasty.writing import adjusted_text, responders_text

outcomes = [v for v in tables.TABLE_VARIABLES["table2"] if results["table2"].tests.set_index("variable").loc[v, "family"]] + ["type_a_share"]
primary = "type_a_share" if plan.primary == "cement_distribution" else plan.primary
estimates = adjusted.adjusted_estimates(data.data, outcomes, plan.confounders, primary, adjusted_text.better_direction(primary),
                                        confidence=1 - alpha)
estimates = estimates[estimates["note"] != "no missing values"].reset_index(drop=True)  # bounds only where values are missing
out.results(estimates[adjusted.ADJUSTED_COLUMNS], "adjusted.csv")
explained = adjusted.baseline_explains(estimates, alpha)
testing_rule.mark_baseline_explained(results["table2"].tests, explained)
out.table(pd.concat([r.tests.assign(table=name) for name, r in results.items()], ignore_index=True), "tests")
out.markdown("adjusted_table", adjusted_text.adjusted_table(estimates))
out.markdown("adjusted_note", adjusted_text.adjusted_note(plan.confounders, adjusted.MINIMUM_IMPUTATIONS, adjusted.SEED,
                                                          (estimates["model"] == "imputed").any(), ranked=tests == "robust"))
out.glue("adjusted_summary", adjusted_text.adjusted_sentence(estimates, explained, plan.confounders))
out.glue("sensitivity_primary", adjusted_text.sensitivity_sentence(estimates, primary))
improvement = responders.responders(data.data, plan.mcid)
out.results(improvement, "responders.csv")
out.markdown("responders_table", responders_text.responders_table(improvement))
out.glue("clinical_importance", responders_text.importance_sentence(improvement, plan.mcid_default))
out.glue("default_thresholds", responders_text.thresholds_text(testing_rule.DEFAULT_MCID))
out.glue("imputations", adjusted.MINIMUM_IMPUTATIONS)
estimates.pivot_table(index="variable", columns="model", values="estimate", sort=False).round(3)

# %% [markdown]
# ## The tables, beside the published values
# For the synthetic default cohort, a number that does not reproduce the printed one gets a footnote with the
# published value and the audit finding that explains it.

# %%
from vertebroplasty.paper import audit, published
from vertebroplasty.writing import published_text

comparison = published.compare_with_published(statistics)
out.results(comparison, "published_comparison.csv")
findings = notebook_outputs.read_upstream(inputs_dir, "audit", "audit_findings.csv")
findings = audit.findings(audit.run_audit(alpha)) if findings is None else findings
differences = published.explain_differences(published.differing(comparison), findings) if data.synthetic else None
explained_in = ""  # the first table showing a Holm column explains it; the later ones refer to it
for name, result in results.items():
    table, footnote = tables.format_table(result.tests, result.descriptives, name, result.sizes, alpha, differences, explained_in)
    explained_in = explained_in or (name if result.tests["family"].ne("").any() else "")
    out.markdown(name, table)
    out.markdown(f"{name}_footnote", footnote)
comparison["verdict"].value_counts()

# %% [markdown]
# ## Pairs of distribution types, and the sentences of the results

# %%
from vertebroplasty.statistics import pairwise
from vertebroplasty.writing import sentences

out.glue("imbalance_threshold", f"{sentences.IMBALANCE_SMD:g}")
pairs = pairwise.pairwise_comparisons(data.data, tables.TABLE_VARIABLES["table3"], "cement_distribution", tests, alpha)
out.results(pairs, "pairwise.csv")
read = {name: sentences.Results(r.tests, r.descriptives, r.sizes, r.between, alpha, r.differences) for name, r in results.items()}
for name in results:
    out.markdown(f"results_{name}", sentences.results_paragraphs(name, read[name], pairs))
out.glue("imbalance", sentences.imbalance_summary([read["table1"], read["table2"]]))
out.glue("outcomes_groups", sentences.outcome_summary(read["table2"], tables.TABLE_VARIABLES["table2"], "Between the treatment groups",
                                                      explained))
out.glue("outcomes_types", sentences.outcome_summary(read["table3"], tables.TABLE_VARIABLES["table3"], "Across the distribution types"))
out.glue("types_importance", responders_text.types_importance_sentence(pairs, read["table3"], plan.mcid, plan.mcid_default))
pairs.round(3)

# %% [markdown]
# ## The study's questions, answered

# %%
from vertebroplasty.writing import conclusions

share = conclusions.type_a_share(results["table1"])
answers = conclusions.answers(read["table1"], read["table2"], read["table3"], pairs, share, alpha, estimates)
out.results(answers, "conclusions.csv")
out.markdown("headlines", conclusions.headline_list(answers))
out.markdown("conclusions", conclusions.conclusions_text(answers, data.synthetic))
out.markdown("beside_paper", conclusions.beside_paper(answers) if data.synthetic else "")
out.glue("first_prediction", conclusions.first_prediction(read["table1"], read["table2"], share))
answers[["topic", "verdict"]]

# %% [markdown]
# ## Abstract, study size and the STROBE checklist

# %%
from vertebroplasty.writing import front_matter, strobe

out.markdown("abstract", front_matter.structured_abstract(study, plan, results, answers, data.data, alpha, data.synthetic, explained))
out.markdown("study_size", front_matter.study_size_text(study, plan, results, alpha))
checklist = strobe.checklist(study, {"synthetic": data.synthetic, "has_abstract": True, "multicentre": data.multicentre,
                                     "study_size_section": True, "generalisability_section": True})
out.results(checklist[strobe.STROBE_COLUMNS], "strobe.csv")
out.markdown("strobe_table", strobe.checklist_table(checklist))
out.glue("strobe_summary", strobe.summary_sentence(checklist))
checklist[["item", "topic", "status"]]

# %% [markdown]
# ## Figures

# %%
from vertebroplasty.writing import figures

medians = figures.rank_tested_measures(results["table2"].tests)  # summarised as the tests that ran summarise them
figure, summary = figures.trajectories(data.data, medians)
out.figure("trajectories", figure)
out.glue("trajectory_summary", figures.trajectory_caption(medians))
out.glue("trajectory_denominators", figures.trajectory_denominators(summary))
figure, _ = figures.distribution_by_group(data.data)
out.figure("distribution_by_group", figure)
figure, _ = figures.losses_by_distribution(data.data)
out.figure("losses_by_distribution", figure)
out.glue("losses_points", figures.points_rule(max(data.sizes("cement_distribution").values())))
figure, _ = figures.cement_schematic()
out.figure("cement_schematic", figure)
summary.round(2)

# %% [markdown]
# ## This cohort beside the source study
# For a centre's own data: every mean and SD of Tables 1–3 beside the published one, with the standardised difference.

# %%
beside = published.side_by_side(statistics)
out.results(beside, "beside_published.csv")
out.markdown("beside_published", "" if data.synthetic else
             description_text.snippet("beside-published-own-data") + "\n\n" + published_text.side_by_side_table(beside))
out.markdown("published_match", published_text.match_summary(comparison) if data.synthetic else "")
beside.head(0)
