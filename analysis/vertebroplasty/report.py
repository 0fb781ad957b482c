"""What the notebooks hand to the book: the loaded study, provenance, sentences and glue.

Sentences that state a result are chosen here from the computed numbers (a
"significant" wording only where p < alpha), so the prose of the book cannot
disagree with the tables.
"""

from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import __version__, dictionary, indices, paths, published, statistics, tables
from .cohort import Cohort, file_sha256, load_cohort

PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "pandera", "papermill", "myst-nb", "jupyter-book")


@dataclass
class Study:
    """A validated cohort with its derived indices, ready for the analysis notebooks."""

    cohort: Cohort
    data: pd.DataFrame  # results-table names, raw plus derived
    data_label: str
    synthetic: bool  # the committed synthetic reconstruction (by content)

    @classmethod
    def load(cls, data_path: str = "", allowed_identifier_columns: str = "", data_label: str = "") -> "Study":
        source = paths.resolve_data_path(data_path)
        allowed = tuple(name.strip() for name in allowed_identifier_columns.split(",") if name.strip())
        cohort = load_cohort(source, allowed)
        data = dictionary.with_variable_names(indices.derive(cohort.data))
        synthetic = cohort.sha256 == file_sha256(paths.DEFAULT_COHORT)
        return cls(cohort, data, data_label or source.name, synthetic)

    @property
    def n(self) -> int:
        return len(self.data)

    def group_sizes(self, between: str = "group") -> dict[str, int]:
        return tables.group_sizes(self.data, between)

    def banner(self) -> str:
        """The data statement shown at the top of every chapter."""
        if self.synthetic:
            return (f"**Synthetic data.** Every number in this report is computed from a synthetic cohort of {self.n} patients "
                    "reconstructed from the published summary statistics of the study. It is not patient data; "
                    "see the chapter on data provenance.")
        return (f"**Data:** {tables.code_span(self.data_label)} ({self.n} patients, SHA-256 "
                f"`{self.cohort.sha256[:16]}…`). Every number in this report is computed from this file.")

    def write_results(self, frame: pd.DataFrame, output_dir: str, name: str) -> None:
        """Write a tidy CSV into ``output_dir/results`` (nothing when ``output_dir`` is empty), byte-stable."""
        if not output_dir:
            return
        folder = Path(output_dir) / "results"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / name, index=False, lineterminator="\n")


def git_commit() -> str:
    """The project's commit (``unknown`` outside a git checkout), with ``+changes`` when the tree is dirty."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(study: Study) -> pd.DataFrame:
    """Input file, rows, SHA-256, software versions and commit, as a two-column table."""
    rows = [
        ("Data file", study.data_label),
        ("Data set", "synthetic reconstruction (not patient data)" if study.synthetic else "user-supplied cohort"),
        ("Patients (rows)", str(study.n)),
        ("SHA-256 of the data file", study.cohort.sha256),
        ("Report package version", __version__),
        ("Project commit", git_commit()),
        ("Python", platform.python_version()),
    ]
    for package in PACKAGES:
        try:
            rows.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            rows.append((package, "not installed"))
    return pd.DataFrame(rows, columns=["item", "value"])


def markdown_table(frame: pd.DataFrame, widths: list[int] | None = None) -> str:
    """A frame as a MyST list-table (cells escaped); equal column widths unless ``widths`` are given."""
    rows = [[tables.escape_markdown(value) or "—" for value in row] for row in frame.astype(str).to_numpy()]
    return list_table([str(column) for column in frame.columns], rows, widths or [1] * len(frame.columns))


def list_table(header: list[str], rows: list[list[str]], widths: list[int]) -> str:
    """A MyST list-table with relative column widths, so long cells wrap in the PDF as in HTML."""
    def cell(text: str) -> str:  # a cell must not start like a list item ("-1.2", "3. ")
        text = re.sub(r"^(\d+)([.)])(\s|$)", r"\1\\\2\3", str(text))
        return "\\" + text if text[:1] in "-+*" and text else text

    lines = ["```{list-table}", ":header-rows: 1", f":widths: {' '.join(map(str, widths))}", ""]
    for row in [header, *rows]:
        lines.append(f"* - {cell(row[0])}")
        lines += [f"  - {cell(value)}" for value in row[1:]]
    lines.append("```")
    return "\n".join(lines)


def variable_table() -> str:
    """The methods' list of input variables, from the data dictionary (name, meaning, unit, allowed values)."""
    rows = [[f"`{column}`", entry["description"], entry["unit"] or "—", dictionary.rule_text(column)]
            for column, entry in dictionary.load_dictionary().iterrows()]
    return list_table(["Column", "Meaning", "Unit", "Allowed values"], rows, [22, 43, 10, 25])


def formulas() -> str:
    """Every derived index as display math, from ``data/derived_indices.csv``."""
    blocks = []
    for name, entry in dictionary.load_derived_indices().iterrows():
        if name == "segment":
            continue
        blocks.append(f"{entry['description']}, {entry['label']}:\n\n$$\n{entry['formula']}\n$$")
    return "\n\n".join(blocks)


def tests_description(tests: str) -> str:
    """The tests that run under the ``tests`` option, in words, for the methods."""
    two, several = statistics.choose_test("two", tests), statistics.choose_test("several", tests)
    categorical = statistics.TEST_NAMES["chi2"]
    if tests == "robust":
        categorical += f" ({statistics.TEST_NAMES['fisher']} for 2 × 2 tables with an expected count below 5)"
    return (f"continuous variables were compared between the two treatment groups with the {statistics.TEST_NAMES[two]} "
            f"and across the three cement-distribution types with the {statistics.TEST_NAMES[several]}; "
            f"categorical variables with the {categorical}")


def protocol_facts() -> dict[str, str]:
    """The original study's protocol facts as published (``text`` rows of the published values), keyed for glue."""
    values = published.load()
    facts = values[values["table"] == "text"]
    return {f"protocol_{row.variable}_{row.stratum}_{row.statistic}": row.value_text for row in facts.itertuples()}


# --------------------------------------------------------------------------- sentences

def _mean_sd(record: dict, level: str) -> str:
    return tables.mean_sd(record.get(f"mean_{level}"), record.get(f"sd_{level}"))


def two_group_sentence(record: dict, alpha: float, first: str = "A", second: str = "B") -> str:
    """One sentence on a group comparison, worded from its p-value and direction."""
    label = dictionary.label(record["variable"])
    if pd.isna(record.get("p_val")):
        return f"{label} could not be compared between the groups."
    p_text = tables.format_p_in_text(record.get("p_val"))
    values = f"{_mean_sd(record, first)} vs {_mean_sd(record, second)}; {p_text}"
    if record["p_val"] < alpha:
        direction = "lower" if record[f"mean_{first}"] < record[f"mean_{second}"] else "higher"
        return (f"{label} was significantly {direction} in group {first} than in group {second} ({values}; "
                f"difference {record['mean_difference']:.2f}, 95 % CI {record['ci_low']:.2f} to {record['ci_high']:.2f}).")
    return f"{label} did not differ significantly between the groups ({values})."


def proportion_sentence(record: dict, alpha: float, first: str = "A", second: str = "B") -> str:
    """One sentence on a categorical comparison between the two groups."""
    label = dictionary.label(record["variable"])
    if pd.isna(record.get("p_val")):
        return f"{label} could not be compared between the groups."
    p_text = tables.format_p_in_text(record["p_val"])
    differ = "differed significantly" if record["p_val"] < alpha else "did not differ significantly"
    if f"count_{first}:yes" in record:
        counts = [f"{int(record[f'count_{level}:yes'])} of {int(record[f'n_{level}'])} patients in group {level} "
                  f"({record[f'percent_{level}:yes']:.2f} %)" for level in (first, second)]
        return f"{label} was seen in {counts[0]} and {counts[1]}; the groups {differ} ({p_text})."
    return f"{label} {differ} between the groups ({p_text}; Cramér's V = {record['cramers_v']:.2f})."


def several_group_sentence(record: dict, alpha: float, levels: list[str]) -> str:
    """One sentence on a comparison across cement-distribution types."""
    label = dictionary.label(record["variable"])
    if pd.isna(record.get("p_val")):
        return f"{label} could not be compared across the distribution types."
    p_text = tables.format_p_in_text(record.get("p_val"))
    means = ", ".join(f"type {level} {record[f'mean_{level}']:.2f}" for level in levels if f"mean_{level}" in record)
    lowest = min((level for level in levels if f"mean_{level}" in record), key=lambda level: record[f"mean_{level}"])
    if record["p_val"] < alpha:
        return (f"{label} differed significantly across the distribution types ({means}; {p_text}); "
                f"its mean was lowest in type {lowest}.")
    return f"{label} did not differ significantly across the distribution types ({means}; {p_text})."


def significant_list(comparison: pd.DataFrame, alpha: float) -> str:
    """The labels of the variables with p < alpha, as an English list ('none' when there are none)."""
    significant = comparison[comparison["p_val"] < alpha]["variable"]
    labels = [dictionary.label(variable) for variable in significant]
    if not labels:
        return "none"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def publish_table(table: str, comparison: pd.DataFrame, sizes: dict[str, int], alpha: float, output_dir: str) -> None:
    """Publish one of Tables 1–3 for the book: the table, its footnote, and the list of variables with p < alpha."""
    publish_markdown(table, tables.format_table(comparison, table, sizes, alpha), output_dir)
    publish_markdown(f"{table}_footnote", tables.table_footnote(comparison, alpha), output_dir)
    glue_text(f"{table}_significant", significant_list(comparison, alpha))


def show_banner(study: Study) -> None:
    """Show the data statement (synthetic or the user's file) at the top of a notebook's page."""
    from IPython.display import Markdown, display

    display(Markdown(study.banner()))


def glue_text(name: str, value) -> None:
    """Glue a plain value or sentence for ``{glue:text}`` (not displayed in the notebook's own page)."""
    from myst_nb import glue

    glue(name, value, display=False)


def publish_markdown(name: str, text: str, output_dir: str) -> None:
    """Write a MyST block (table, math, paragraphs) as ``output_dir/markdown/<name>.md`` and glue it.

    The book includes the file (``{include}``): myst-nb pastes only plain text and
    images across documents, while an included file is parsed as MyST, so its
    tables and math become real tables and equations in HTML and PDF.  The glue
    keeps the text in the notebook, where nbval compares it.
    """
    from IPython.display import Markdown
    from myst_nb import glue

    if output_dir:
        folder = Path(output_dir) / "markdown"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.md").write_text(text + "\n")
    glue(name, Markdown(text), display=False)


def publish_figure(name: str, figure, output_dir: str) -> None:
    """Save a figure as ``output_dir/figures/<name>.png`` for the book, glue the same PNG (nbval compares its bytes), close it.

    The PNG is rendered once and carries no software or date metadata, so identical plots give identical files.
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image
    from myst_nb import glue

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    if output_dir:
        folder = Path(output_dir) / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.png").write_bytes(buffer.getvalue())
    glue(name, Image(data=buffer.getvalue(), format="png"), display=False)


# --------------------------------------------------------------------------- re-analysis tables

def assumptions_table(checks: pd.DataFrame, alpha: float) -> str:
    """Normality and equal-variance checks as a list-table (one row per variable and table)."""
    shapiro = [column for column in checks.columns if column.startswith("shapiro_p_")]
    rows = []
    for record in checks.to_dict("records"):
        normality = ", ".join(f"{column.removeprefix('shapiro_p_')}: {tables.format_p(record[column], alpha)}"
                              for column in shapiro if not pd.isna(record.get(column)))
        rows.append([record["table"].replace("table", "Table "), dictionary.label(record["variable"]), normality or "—",
                     tables.format_p(record["levene_p"], alpha)])
    return list_table(["Table", "Variable", "Shapiro–Wilk p per stratum", "Levene p"], rows, [12, 30, 43, 15])


def pairwise_table(pairs: pd.DataFrame, alpha: float) -> str:
    """Post-hoc pairs as a list-table."""
    rows = [[dictionary.label(r["variable"]), f"{r['first']} − {r['second']}", r["method"],
             tables.estimate(r["mean_difference"], r["ci_low"], r["ci_high"]) if not pd.isna(r["ci_low"]) else f"{r['mean_difference']:.2f}",
             tables.format_p(r["p_adjusted"], alpha)] for r in pairs.to_dict("records")]
    return list_table(["Variable", "Types", "Method", "Difference (95 % CI)", "Adjusted p"], rows, [28, 12, 18, 27, 15])


def pairwise_summary(pairs: pd.DataFrame, significant: list[str], alpha: float) -> str:
    """Which pairs of distribution types differ, for the variables whose overall test had p < alpha."""
    if not significant:
        return "No overall test across the distribution types had p below the significance level, so no pair is examined."
    parts = []
    for variable in significant:
        rows = pairs[(pairs["variable"] == variable) & (pairs["p_adjusted"] < alpha)]
        found = ", ".join(f"{r.first} vs {r.second} ({tables.format_p_in_text(r.p_adjusted)})" for r in rows.itertuples())
        parts.append(f"{dictionary.label(variable)}: {found or 'no pair differs after adjustment'}")
    return "; ".join(parts) + "."


def sample_size_table(sizes: pd.DataFrame) -> str:
    """Patients per group for 80 % and 90 % power at the observed effect, as a list-table."""
    def patients(value: float) -> str:
        return "—" if pd.isna(value) else f"{int(value)}"

    rows = [[dictionary.label(r["variable"]), f"{r['hedges_g']:.2f}", patients(r["n_per_group_80"]), patients(r["n_per_group_90"])]
            for r in sizes.to_dict("records")]
    return list_table(["Outcome", "Observed Hedges' g", "Per group, 80 % power", "Per group, 90 % power"], rows, [40, 20, 20, 20])
