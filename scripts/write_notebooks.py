"""Write the analysis notebooks' code and markdown cells (outputs are added by `make refresh`).

The notebooks are committed; this script is how their cells are kept in one
readable place.  After running it, run `make refresh` to execute them and
store their outputs, then review the diff.
"""

from pathlib import Path

import nbformat

ANALYSIS = Path(__file__).resolve().parent.parent / "analysis"

PARAMETERS = '''data_path: str = ""  # cohort file, CSV or XLSX; if empty, the synthetic default cohort data/cohort.csv
output_dir: str = ""  # folder for the files this notebook writes, results/*.csv and figures/*.png; if empty, none
alpha: float = 0.05  # two-sided significance level
tests: str = "paper"  # paper: Student t, ANOVA, chi-square; robust: Welch t, Kruskal-Wallis, Fisher where needed
case_ids: str = ""  # comma-separated patient_ids for the case presentations; if empty, chosen by the documented rule
allowed_identifier_columns: str = ""  # comma-separated columns accepted although their names look like identifiers
data_label: str = ""  # name of the data shown in the report; if empty, the name of the file'''

LOAD = '''from vertebroplasty import report

study = report.Study.load(data_path, allowed_identifier_columns, data_label)
report.show_banner(study)
print(f"{study.n} patients; groups {study.group_sizes()}; cement distribution {study.group_sizes('cement_distribution')}")'''

NOTEBOOKS = {
    "cohort": [
        ("markdown", "# Cohort, data contract and derived indices\n\nReads the cohort, validates it against the data "
                     "contract, computes every derived index and writes `derived.csv`. The methods and provenance "
                     "chapters take their facts from here."),
        ("parameters", PARAMETERS),
        ("code", LOAD),
        ("code", '''from vertebroplasty import indices

derived = indices.derive(study.cohort.data)
study.write_results(derived, output_dir, "derived.csv")
derived.head(3)'''),
        ("code", '''report.publish_markdown("banner", study.banner(), output_dir)
report.glue_text("n_patients", study.n)
for group, size in study.group_sizes().items():
    report.glue_text(f"n_group_{group}", size)
for kind, size in study.group_sizes("cement_distribution").items():
    report.glue_text(f"n_distribution_{kind}", size)
report.publish_markdown("variable_table", report.variable_table(), output_dir)
report.publish_markdown("formulas", report.formulas(), output_dir)
report.glue_text("alpha", alpha)
report.glue_text("tests_used", report.tests_description(tests))
for name, value in report.protocol_facts().items():  # the original study's protocol, as published
    report.glue_text(name, value)'''),
        ("code", '''# NBVAL_IGNORE_OUTPUT
# (software versions and the project commit differ between machines and commits)
provenance = report.provenance(study)
report.publish_markdown("provenance_table", report.markdown_table(provenance), output_dir)
provenance'''),
    ],
    "group_comparison": [
        ("markdown", "# Comparison of the treatment groups (Tables 1 and 2)\n\nGroup A (vertebroplasty with fracture-"
                     "haemorrhage aspiration) against group B (conventional vertebroplasty): baseline characteristics, "
                     "treatment data, radiographic indices, pain and disability."),
        ("parameters", PARAMETERS),
        ("code", LOAD),
        ("code", '''import pandas as pd

from vertebroplasty import figures, statistics, tables

comparisons = {table: statistics.compare(study.data, tables.TABLE_VARIABLES[table], "group", tests)
               for table in ("table1", "table2")}
comparisons["table2"] = statistics.with_holm(comparisons["table2"])
results = pd.concat([tables.long_statistics(frame, table) for table, frame in comparisons.items()], ignore_index=True)
study.write_results(results, output_dir, "statistics-group_comparison.csv")
comparisons["table2"][["variable", "mean_A", "sd_A", "mean_B", "sd_B", "statistic", "p_val"]].round(3)'''),
        ("code", '''sizes = study.group_sizes()
for table, frame in comparisons.items():
    report.publish_table(table, frame, sizes, alpha, output_dir)
    for record in tables.records(frame):
        sentence = report.two_group_sentence if "mean_A" in record else report.proportion_sentence
        report.glue_text(f"sentence_{record['variable']}", sentence(record, alpha))
        report.glue_text(f"p_{record['variable']}", tables.format_p_in_text(record.get("p_val")))'''),
        ("code", '''figure, summary = figures.trajectories(study.data)
report.publish_figure("trajectories", figure, output_dir)
figure, summary = figures.distribution_by_group(study.data)
report.publish_figure("distribution_by_group", figure, output_dir)
summary.round(2)'''),
    ],
    "cement_distribution": [
        ("markdown", "# Outcomes by cement-distribution type (Table 3)\n\nThe three distribution types A, B and C "
                     "compared with each other, whatever the treatment group."),
        ("parameters", PARAMETERS),
        ("code", LOAD),
        ("code", '''from vertebroplasty import figures, statistics, tables

table3 = statistics.with_holm(statistics.compare(study.data, tables.TABLE_VARIABLES["table3"], "cement_distribution", tests))
study.write_results(tables.long_statistics(table3, "table3"), output_dir, "statistics-cement_distribution.csv")
table3.round(3)'''),
        ("code", '''sizes = study.group_sizes("cement_distribution")
report.publish_table("table3", table3, sizes, alpha, output_dir)
for record in tables.records(table3):
    report.glue_text(f"sentence_{record['variable']}", report.several_group_sentence(record, alpha, list(sizes)))'''),
        ("code", '''figure, summary = figures.losses_by_distribution(study.data)
report.publish_figure("losses_by_distribution", figure, output_dir)
figure, _ = figures.cement_schematic()
report.publish_figure("cement_schematic", figure, output_dir)
summary.round(2)'''),
    ],
    "case_presentations": [
        ("markdown", "# Case presentations\n\nThree patients, each described from their own row of the data and "
                     "plotted against the mean of their treatment group."),
        ("parameters", PARAMETERS),
        ("code", LOAD),
        ("code", '''from vertebroplasty import cases, figures

chosen, how = cases.choose_case_ids(study.data, case_ids)
patients = study.data.set_index("patient_id").loc[chosen].reset_index()
paragraphs = [cases.case_paragraph(patient) for _, patient in patients.iterrows()]
report.glue_text("case_selection", how)
report.glue_text("case_wording_rule", cases.wording_rule())
report.publish_markdown("case_paragraphs", "\\n\\n".join(f"**Case {number}.** {text}" for number, text in enumerate(paragraphs, 1)), output_dir)
print(chosen)'''),
        ("code", '''figure, summary = figures.case_figure(study.data, chosen)
report.publish_figure("case_figure", figure, output_dir)
summary.round(2)'''),
    ],
    "reanalysis": [
        ("markdown", "# Re-analysis with current reporting standards\n\nEffect sizes with confidence intervals, the tests' "
                     "assumptions, pairwise comparisons after Table 3, and the sample size a multicentre study would need."),
        ("parameters", PARAMETERS),
        ("code", LOAD),
        ("code", '''import pandas as pd

from vertebroplasty import figures, statistics, tables

comparisons = {table: statistics.with_holm(statistics.compare(study.data, tables.TABLE_VARIABLES[table], tables.TABLE_BETWEEN[table], tests))
               for table in ("table1", "table2", "table3")}
for table, frame in comparisons.items():
    header, rows = tables.format_effects(frame, alpha)
    report.publish_markdown(f"effects_{table}", report.list_table(header, rows, [30, 50, 10, 10]), output_dir)
comparisons["table2"][["variable", "mean_difference", "ci_low", "ci_high", "hedges_g", "p_val", "p_holm"]].round(3)'''),
        ("code", '''checks = pd.concat([statistics.assumption_checks(study.data, tables.TABLE_VARIABLES[table][:-1] if table == "table2" else
                                               tables.TABLE_VARIABLES[table], tables.TABLE_BETWEEN[table], alpha).assign(table=table)
                    for table in ("table2", "table3")], ignore_index=True)
study.write_results(checks, output_dir, "assumptions.csv")
report.glue_text("assumptions_non_normal", int((~checks["normal"]).sum()))
report.glue_text("assumptions_unequal_variances", int((~checks["equal_variances"]).sum()))
report.glue_text("assumptions_checked", len(checks))
report.publish_markdown("assumptions", report.assumptions_table(checks, alpha), output_dir)
checks.round(3)'''),
        ("code", '''significant = comparisons["table3"].loc[comparisons["table3"]["p_val"] < alpha, "variable"].tolist()
pairs = statistics.pairwise_comparisons(study.data, tables.TABLE_VARIABLES["table3"], "cement_distribution", alpha)
study.write_results(pairs, output_dir, "pairwise.csv")
report.publish_markdown("pairwise", report.pairwise_table(pairs, alpha), output_dir)
report.glue_text("pairwise_summary", report.pairwise_summary(pairs, significant, alpha))
pairs.round(3)'''),
        ("code", '''sizes = statistics.sample_size(comparisons["table2"], alpha)
study.write_results(sizes, output_dir, "sample_size.csv")
report.publish_markdown("sample_size", report.sample_size_table(sizes), output_dir)
figure, _ = figures.sample_size_figure(sizes)
report.publish_figure("sample_size_figure", figure, output_dir)
sizes.round(3)'''),
    ],
    "audit": [
        ("markdown", "# Published values against the data\n\nEvery mean, SD, count, percentage and p-value of the "
                     "paper's Tables 1–3, recomputed from this cohort and marked matched or not at the published precision."),
        ("parameters", PARAMETERS),
        ("code", LOAD),
        ("code", '''import pandas as pd

from vertebroplasty import published, statistics, tables

recomputed = pd.concat([
    tables.long_statistics(statistics.compare(study.data, tables.TABLE_VARIABLES[table], tables.TABLE_BETWEEN[table], "paper"), table)
    for table in ("table1", "table2", "table3")], ignore_index=True)
comparison = published.compare_with_published(recomputed)
study.write_results(comparison, output_dir, "published_comparison.csv")
comparison["verdict"].value_counts()'''),
        ("code", '''verdicts = comparison["verdict"].value_counts()
report.glue_text("published_numbers", len(comparison))
report.glue_text("published_matched", int(verdicts.get("matched", 0)))
report.glue_text("published_not_matched", int(verdicts.get("not matched", 0)))
report.publish_markdown("published_not_matched_list", report.markdown_table(comparison[comparison["verdict"] != "matched"]), output_dir)
report.publish_markdown("published_comparison", report.markdown_table(comparison), output_dir)'''),
        ("code", '''from vertebroplasty import audit

checks = audit.run_audit(alpha)
study.write_results(checks, output_dir, "audit.csv")
summary = checks.groupby(["check", "verdict"]).size().unstack(fill_value=0)
report.publish_markdown("audit_summary", report.markdown_table(summary.reset_index()), output_dir)
widths = [14, 7, 10, 9, 17, 10, 9, 24]
report.publish_markdown("audit_findings", report.markdown_table(checks[checks["verdict"] == "inconsistent"], widths), output_dir)
report.publish_markdown("audit_all", report.markdown_table(checks, widths), output_dir)
report.glue_text("audit_checks", len(checks))
report.glue_text("audit_inconsistent", int((checks["verdict"] == "inconsistent").sum()))
summary'''),
    ],
}


def write() -> None:
    for name, cells in NOTEBOOKS.items():
        notebook = nbformat.v4.new_notebook()
        notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                             "language_info": {"name": "python"}}
        for kind, source in cells:
            if kind == "markdown":
                notebook.cells.append(nbformat.v4.new_markdown_cell(source))
            else:
                cell = nbformat.v4.new_code_cell(source)
                if kind == "parameters":
                    cell.metadata["tags"] = ["parameters"]
                notebook.cells.append(cell)
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"{name}-{index}"
        nbformat.write(notebook, ANALYSIS / f"{name}.ipynb")


if __name__ == "__main__":
    write()
