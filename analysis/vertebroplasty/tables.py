"""The report's Tables 1–3: which variables, the tidy long results, and their layout as MyST markdown.

Numbers are formatted here and only here, from the frames that
:mod:`vertebroplasty.statistics` returns.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from . import dictionary, statistics

TABLE_VARIABLES = {
    "table1": ["age", "sex", "bmi", "hospital_days", "aspirated_blood_ml", "blood_loss_ml", "operation_min",
               "segment", "compression_grade", "cement_distribution", "cement_volume_ml", "follow_up_months"],
    "table2": ["lka_pre", "lka_post", "lka_final", "lka_recovery", "lka_loss",
               "rka_pre", "rka_post", "rka_final", "rka_recovery", "rka_loss",
               "fvah_pre", "fvah_post", "fvah_final", "fvahr", "fvahl",
               "avhr_pre", "avhr_post", "avhr_final", "avhrr", "avhlr",
               "vas_pre", "vas_op", "vas_post", "vas_final", "odi_pre", "odi_post", "odi_final", "cement_leakage"],
    "table3": ["lka_loss", "rka_loss", "fvahl", "avhlr", "vas_pre", "vas_post", "vas_final", "odi_pre", "odi_post", "odi_final"],
}
TABLE_BETWEEN = {"table1": "group", "table2": "group", "table3": "cement_distribution"}
STATISTIC_NAME = {"student": "t", "welch": "t", "anova": "F", "kruskal": "H", "chi2": "chi2", "fisher": ""}
EFFECT_COLUMNS = ("mean_difference", "ci_low", "ci_high", "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high",
                  "eta_squared", "eta_squared_ci_low", "eta_squared_ci_high", "cramers_v", "cramers_v_ci_low", "cramers_v_ci_high",
                  "risk_difference", "risk_difference_ci_low", "risk_difference_ci_high", "odds_ratio", "odds_ratio_ci_low",
                  "odds_ratio_ci_high", "p_holm")


def stratum_name(between: str, level: str) -> str:
    """Stratum label of the results vocabulary: ``A``/``B`` for groups, ``dist_A`` … for distribution types."""
    return f"dist_{level}" if between == "cement_distribution" else str(level)


def number_text(value: float) -> str:
    """A number for the CSV results: 10 significant digits, stable across runs; empty when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return format(float(value), ".10g")


def records(comparison: pd.DataFrame) -> list[dict]:
    """One dict per variable, holding only the entries that variable has (no NaN padding from other rows)."""
    return [{key: value for key, value in row.items() if key in ("p_val", "statistic", "df") or not pd.isna(value)}
            for row in comparison.to_dict("records")]


def long_statistics(comparison: pd.DataFrame, table: str) -> pd.DataFrame:
    """Reshape a comparison frame into ``table, variable, stratum, statistic, value`` rows.

    The vocabulary is that of ``data/published/published-values.csv``, so
    comparing with the paper is a join on the first four columns.
    """
    between = TABLE_BETWEEN[table]
    rows = []
    for record in records(comparison):
        variable = record["variable"]

        def add(stratum: str, statistic: str, value) -> None:
            rows.append((table, variable, stratum, statistic, number_text(value)))

        for key, value in record.items():
            if key.startswith(("n_", "mean_", "sd_")) and key != "mean_difference":
                statistic, level = key.split("_", 1)
                add(stratum_name(between, level), statistic, value)
            elif key.startswith(("count_", "percent_")):
                statistic, cell = key.split("_", 1)
                level, category = cell.split(":", 1)
                add(f"{level}:{category}", statistic, value)
                if category == "yes" and statistic == "percent":  # the paper reports leakage as a percentage per group
                    add(level, "percent", value)
        statistic_name = STATISTIC_NAME[record["test"]]
        if statistic_name:
            add("all", statistic_name, record.get("statistic"))
            add("all", "df", record.get("df"))
        if "df_residual" in record:
            add("all", "df_residual", record.get("df_residual"))
        add("all", "p", record.get("p_val"))
        for effect in EFFECT_COLUMNS:
            if effect in record and not pd.isna(record[effect]):
                add("all", effect, record[effect])
        rows.append((table, variable, "all", "test", record["test"]))
    return pd.DataFrame(rows, columns=["table", "variable", "stratum", "statistic", "value"])


# --------------------------------------------------------------------------- formatting for the book

def format_p(p: float, alpha: float) -> str:
    """p as the tables print it: three decimals, ``<0.001`` below that, ``*`` when p < alpha, ``—`` when not tested."""
    if p is None or pd.isna(p):
        return "—"
    text = "<0.001" if p < 0.001 else f"{p:.3f}"
    return text + ("\\*" if p < alpha else "")


def format_p_in_text(p: float) -> str:
    """p for running text: ``p < 0.001`` or ``p = 0.034``."""
    if p is None or pd.isna(p):
        return "not tested"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def mean_sd(mean: float, sd: float, n: int | None = None, expected_n: int | None = None) -> str:
    """``12.34 ± 5.67``, with the n used when it is less than the group's n (available cases)."""
    if pd.isna(mean):
        return "—"
    text = f"{mean:.2f} ± {sd:.2f}" if not pd.isna(sd) else f"{mean:.2f}"
    if n is not None and expected_n is not None and n < expected_n:
        text += f" (n = {n})"
    return text


def count_percent(count: int, percent: float) -> str:
    return f"{int(count)} ({percent:.2f} %)"


def escape_markdown(text: str) -> str:
    """Escape user-supplied text (file names, patient IDs) for MyST markdown and HTML."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]()#+!|$~])", r"\\\1", text)


def code_span(text: str) -> str:
    """User-supplied text as a MyST code span: shown literally (and HTML-escaped by the builder)."""
    return "`" + str(text).replace("`", "'").replace("\n", " ") + "`"


def _header(levels: list[str], between: str, sizes: dict[str, int]) -> list[str]:
    return [f"{dictionary.category_label(between, level)}, n = {sizes[level]}" for level in levels]


def format_table(comparison: pd.DataFrame, table: str, sizes: dict[str, int], alpha: float) -> str:
    """The comparison as a MyST markdown table in the paper's layout (mean ± SD or n (%), then p)."""
    between = TABLE_BETWEEN[table]
    levels = list(sizes)
    holm = "p_holm" in comparison.columns
    lines = ["| Characteristic | " + " | ".join(_header(levels, between, sizes)) + " | p |" + (" p (Holm) |" if holm else ""),
             "|:--|" + "--:|" * len(levels) + "--:|" + ("--:|" if holm else "")]
    holm_cell = (lambda record: f" {format_p(record.get('p_holm'), alpha)} |") if holm else (lambda record: "")
    for record in records(comparison):
        variable = record["variable"]
        label = dictionary.label(variable)
        p_text = format_p(record.get("p_val"), alpha)
        if any(key.startswith("count_") for key in record):
            categories = list(dict.fromkeys(key.split(":", 1)[1] for key in record if key.startswith("count_")))
            if variable == "cement_leakage":  # one line: patients with leakage
                cells = [count_percent(record.get(f"count_{level}:yes", 0), record.get(f"percent_{level}:yes", 0.0))
                         if f"n_{level}" in record else "—" for level in levels]
                lines.append(f"| {label}, n (%) | " + " | ".join(cells) + f" | {p_text} |" + holm_cell(record))
                continue
            lines.append(f"| {label}, n (%) | " + " | ".join("" for _ in levels) + f" | {p_text} |" + holm_cell(record))
            for category in categories:
                cells = [count_percent(record.get(f"count_{level}:{category}", 0), record.get(f"percent_{level}:{category}", 0.0))
                         if f"n_{level}" in record else "—" for level in levels]
                lines.append(f"| \u00a0\u00a0\u00a0{dictionary.category_label(variable, category)} | " + " | ".join(cells) + " | |"
                             + (" |" if holm else ""))
        else:
            cells = [mean_sd(record.get(f"mean_{level}"), record.get(f"sd_{level}"), record.get(f"n_{level}"), sizes[level])
                     for level in levels]
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {p_text} |" + holm_cell(record))
    return "\n".join(lines)


def table_footnote(comparison: pd.DataFrame, alpha: float) -> str:
    """Footnote naming each test that ran, and the significance marker."""
    used = [statistics.TEST_NAMES[test] for test in dict.fromkeys(comparison["test"])]
    holm = " p (Holm): adjusted for the number of tests in the table (Holm–Bonferroni)." if "p_holm" in comparison.columns else ""
    return (f"Values are mean ± SD, or n (%). p: {'; '.join(used)}.{holm} "
            f"\\* p < {alpha:g}. Missing values are excluded per variable; a cell shows its n where fewer patients had the measurement.")


def group_sizes(data: pd.DataFrame, between: str) -> dict[str, int]:
    """Patients per level of ``between``, in label order (levels with no patient are left out)."""
    counts = data[between].astype(str).value_counts()
    return {level: int(counts[level]) for level in sorted(counts.index)}


def estimate(value: float, low: float, high: float, decimals: int = 2) -> str:
    """``1.23 (0.45 to 2.01)``; ``—`` when missing."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:.{decimals}f} ({low:.{decimals}f} to {high:.{decimals}f})"


def format_effects(comparison: pd.DataFrame, alpha: float) -> tuple[list[str], list[list[str]]]:
    """Effect sizes with 95 % intervals, one row per variable: header and rows for a list-table."""
    rows = []
    for record in records(comparison):
        label = dictionary.label(record["variable"])
        if "hedges_g" in record:
            effect = f"difference {estimate(record['mean_difference'], record['ci_low'], record['ci_high'])}; " \
                     f"Hedges' g {estimate(record['hedges_g'], record['hedges_g_ci_low'], record['hedges_g_ci_high'])}"
        elif "eta_squared" in record:
            effect = f"η² {estimate(record['eta_squared'], record.get('eta_squared_ci_low'), record.get('eta_squared_ci_high'), 3)}"
        elif "risk_difference" in record:
            effect = f"risk difference {estimate(record['risk_difference'], record['risk_difference_ci_low'], record['risk_difference_ci_high'], 3)}; " \
                     f"odds ratio {estimate(record['odds_ratio'], record['odds_ratio_ci_low'], record['odds_ratio_ci_high'])}"
        elif "cramers_v" in record:
            effect = f"Cramér's V {estimate(record['cramers_v'], record['cramers_v_ci_low'], record['cramers_v_ci_high'], 3)}"
        else:
            effect = "—"
        rows.append([label, effect, format_p(record.get("p_val"), alpha), format_p(record.get("p_holm"), alpha)])
    return ["Variable", "Effect size (95 % CI)", "p", "p (Holm)"], rows
