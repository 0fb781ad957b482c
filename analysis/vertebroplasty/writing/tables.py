"""The report's Tables 1–3: which variables, the tidy long results, and their layout as MyST markdown.

Numbers are formatted here and only here (see also :mod:`vertebroplasty.writing.sentences` for the prose), from the
frames of :mod:`vertebroplasty.statistics.comparisons`: the tests (one row per variable) and the descriptives (long).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.dictionary import TABLE_BETWEEN, TABLE_VARIABLES  # noqa: F401 (the tables' rows, read as tables.TABLE_VARIABLES)
from vertebroplasty.statistics import comparisons, testing_rule
from vertebroplasty.writing import myst
from vertebroplasty.writing.numbers import count_percent, estimate, exact_p_text, format_p, mean_sd, median_iqr, number_text, table_label

TABLE_CAPTIONS = {
    "table1": "Characteristics of the patients and of their treatment, by group.",
    "table2": "Radiographic indices, pain and disability, by group.",
    "table3": "Height and angle loss, pain and disability, by cement-distribution type.",
}
#: Paragraphs of the Results chapter: (heading, variables) per table, in reading order.
TABLE_SECTIONS = {
    "table1": [("Patients", ["age", "sex", "bmi", "segment", "compression_grade"]),
               ("Treatment", ["hospital_days", "aspirated_blood_ml", "blood_loss_ml", "operation_min", "cement_volume_ml",
                              "cement_distribution", "follow_up_months"])],
    "table2": [("Before surgery", ["lka_pre", "rka_pre", "fvah_pre", "avhr_pre", "vas_pre", "odi_pre"]),
               ("Kyphotic angles", ["lka_post", "lka_final", "lka_recovery", "lka_loss", "rka_post", "rka_final", "rka_recovery", "rka_loss"]),
               ("Vertebral height", ["fvah_post", "fvah_final", "fvahr", "fvahl", "avhr_post", "avhr_final", "avhrr", "avhlr"]),
               ("Pain and disability", ["vas_op", "vas_post", "vas_final", "odi_post", "odi_final"]),
               ("Cement leakage", ["cement_leakage"])],
    "table3": [("Before surgery", ["vas_pre", "odi_pre"]),
               ("Loss after surgery", ["lka_loss", "rka_loss", "fvahl", "avhlr"]),
               ("Pain and disability", ["vas_post", "vas_final", "odi_post", "odi_final"])],
}
#: Effect columns written to the long results, in this order.
EFFECT_COLUMNS = ("mean_difference", "ci_low", "ci_high", "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high",
                  "hodges_lehmann", "hodges_lehmann_ci_low", "hodges_lehmann_ci_high", "rank_biserial",
                  "eta_squared", "eta_squared_ci_low", "eta_squared_ci_high", "epsilon_squared",
                  "cramers_v", "cramers_v_ci_low", "cramers_v_ci_high",
                  "risk_difference", "risk_difference_ci_low", "risk_difference_ci_high", "odds_ratio", "odds_ratio_ci_low",
                  "odds_ratio_ci_high", "min_expected", "exact_p", "exact_p_error", "p_holm")
MARKER_SYMBOLS = "abcdefghijklmnopqrstuvwxyz"
#: Confidence level of the tables' intervals (differences, risk differences, Hedges' g).
CONFIDENCE = round(1 - testing_rule.ALPHA, 12)  # 0.95: every interval at 1 − the report's significance level
#: Level (%) of the η² and Cramér's V intervals, at which "excludes 0" agrees with p < 1 − CONFIDENCE (Steiger 2004).
EFFECT_PERCENT = round(100 * comparisons.effect_interval_level(CONFIDENCE), 6)
#: What the Holm column says for a row outside the secondary family.
FAMILY_CELL = {"primary": "primary", "exploratory": "exploratory"}


@dataclass
class TableResult:
    """One of Tables 1–3 computed: its tests (one row per variable, Holm over outcome rows) and descriptives."""

    table: str
    tests: pd.DataFrame
    descriptives: pd.DataFrame
    sizes: dict[str, int]
    #: per-category risk differences (Newcombe) of the categorical rows, for tables comparing two groups
    differences: pd.DataFrame | None = None

    def category_difference(self, variable: str, category: str) -> pd.Series | None:
        """The risk-difference row of one category of ``variable`` (first level minus second), or None."""
        if self.differences is None:
            return None
        rows = self.differences[(self.differences["variable"] == variable) & (self.differences["category"] == category)]
        return rows.iloc[0] if len(rows) else None

    @property
    def between(self) -> str:
        return TABLE_BETWEEN[self.table]


def analyse(data: pd.DataFrame, tests: str = "paper", confidence: float = CONFIDENCE, plan=None) -> dict[str, TableResult]:
    """Compute Tables 1–3 once: tests, descriptives and level sizes, with each row's family and Holm p under the testing rule.

    ``plan`` is a :class:`vertebroplasty.statistics.testing_rule.Plan` (the default plan when missing): the primary outcome is tested
    at alpha, the secondary outcomes of all three tables are Holm-adjusted together as one family.
    """
    results = {}
    for table, variables in TABLE_VARIABLES.items():
        between = TABLE_BETWEEN[table]
        counts = data[between].astype(str).value_counts()
        sizes = {level: int(counts[level]) for level in comparisons.defined_levels(data, between) if level in counts.index}
        tested = comparisons.compare(data, variables, between, tests, confidence)
        differences = None
        if len(sizes) == 2:
            categorical = [v for v in variables if comparisons.is_categorical(data[v]) and v in tested.loc[tested["reason"] == "", "variable"].values]
            frames = [comparisons.category_differences(data, v, between, confidence) for v in categorical]
            differences = pd.concat(frames, ignore_index=True) if frames else None
        results[table] = TableResult(table, tested, comparisons.describe(data, variables, between), sizes, differences)
    testing_rule.apply(results, plan or testing_rule.Plan())
    return results


def long_statistics(tests: pd.DataFrame, descriptives: pd.DataFrame, table: str) -> pd.DataFrame:
    """``table, variable, stratum, statistic, value`` rows: the vocabulary of ``data/published/published-values.csv``.

    Comparing with the paper, or pooling centres, is then a join on the first four columns.
    """
    between = TABLE_BETWEEN[table]
    tests = tests.set_index("variable")
    collected = []
    for variable, described in descriptives.groupby("variable", sort=False):
        rows = []
        for record in described.to_dict("records"):
            stratum = dictionary.stratum_code(between, record["level"])
            if record["category"] == "":
                rows += [(stratum, "n", record["n"]), (stratum, "mean", record["mean"]), (stratum, "sd", record["sd"])]
            else:
                cell = f"{record['level']}:{record['category']}"
                rows += [(cell, "count", record["count"]), (cell, "percent", record["percent"])]
                if record["category"] == "yes":  # the paper reports leakage as a percentage per group
                    rows.append((record["level"], "percent", record["percent"]))
        test = tests.loc[variable]
        symbol = comparisons.STATISTIC_SYMBOL[test["test"]]
        if symbol:
            rows += [("all", symbol, test["statistic"]), ("all", "df", test["df"])]
        if pd.notna(test["df_residual"]):
            rows.append(("all", "df_residual", test["df_residual"]))
        rows.append(("all", "p", test["p_val"]))
        rows += [("all", effect, test[effect]) for effect in EFFECT_COLUMNS if effect in test.index and pd.notna(test[effect])]
        rows.append(("all", "test", test["test"]))
        if test["reason"]:
            rows.append(("all", "not_computable", test["reason"]))
        collected += [(table, variable, stratum, statistic, value if isinstance(value, str) else number_text(value))
                      for stratum, statistic, value in rows]
    return pd.DataFrame(collected, columns=["table", "variable", "stratum", "statistic", "value"])


# --------------------------------------------------------------------------- formatting for the book


class Footnotes:
    """Lettered footnote markers of one table: the same text gets the same letter."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts[text] = MARKER_SYMBOLS[len(self.texts) % len(MARKER_SYMBOLS)]
        return f"{{sup}}`{self.texts[text]}`"

    def lines(self) -> list[str]:
        return [f"{{sup}}`{symbol}` {text}" for text, symbol in self.texts.items()]


def _tests_used(tests: pd.DataFrame) -> str:
    """Which test ran on which rows: one test for all, or each test with its rows (the commonest as 'other rows')."""
    ran = tests[tests["reason"] == ""]
    if ran.empty:
        return "no test could be computed"
    counts = ran["test"].value_counts()
    if len(counts) == 1:
        return comparisons.TEST_NAMES[counts.index[0]]
    commonest = counts.index[0]
    parts = []
    for test in counts.index[1:]:
        labels = ", ".join(dictionary.prose_label(v) for v in ran.loc[ran["test"] == test, "variable"])
        parts.append(f"{comparisons.TEST_NAMES[test]} for {labels}")
    return "; ".join(parts) + f"; {comparisons.TEST_NAMES[commonest]} for the other rows"


def values_legend(summaries: set[str]) -> str:
    """What a table's cells hold, in the order of its legend (only the kinds the table has).

    >>> values_legend({"mean", "count"}), values_legend({"median"}), values_legend({"mean", "median", "count"})
    ('mean ± SD or n (%)', 'median (IQR)', 'mean ± SD, median (IQR) for the rows tested on ranks, or n (%)')
    """
    kinds = [text for kind, text in (("mean", "mean ± SD"), ("median", "median (IQR)"), ("count", "n (%)")) if kind in summaries]
    if "mean" in summaries and "median" in summaries:
        kinds[1] += " for the rows tested on ranks"
    return ", ".join(kinds[:-1]) + ", or " + kinds[-1] if len(kinds) == 3 else " or ".join(kinds)


def format_table(tests: pd.DataFrame, descriptives: pd.DataFrame, table: str, sizes: dict[str, int], alpha: float,
                 differences: pd.DataFrame | None = None, holm_explained_in: str = "") -> tuple[str, str]:
    """One of Tables 1–3 as a captioned MyST table (numbered, label ``table-<n>``) in the paper's layout, and its footnote.

    ``holm_explained_in``: an earlier table (``table1``) whose footnote already explains the Holm column; this one then
    refers to it instead of saying it again.

    ``differences`` (for the synthetic default cohort): published numbers this cohort does not reproduce at the
    printed precision, columns ``variable, stratum, statistic, published, explanation``; each such cell gets a
    lettered marker and the footnote gives the published value and the explanation (a MyST reference).
    """
    between = TABLE_BETWEEN[table]
    levels = list(sizes)
    footnotes = Footnotes()
    show_holm = tests["family"].ne("").any()
    differing = {}
    if differences is not None:
        for row in differences[differences["table"] == table].itertuples():
            differing[(row.variable, row.stratum, row.statistic)] = f"published {row.published}; {row.explanation}"

    def marked(text: str, variable: str, stratum: str, statistic: str) -> str:
        note = differing.get((variable, stratum, statistic))
        return text + footnotes.mark(note) if note else text

    summaries: set[str] = set()  # what the cells hold, for the legend: "mean", "median", "count"
    header = ["Characteristic" if table == "table1" else "Outcome"]
    header += [f"{dictionary.category_label(between, level)}, n\u00a0=\u00a0{sizes[level]}" for level in levels]  # "n = 42" kept on one line
    header += ["p"] + (["Holm p"] if show_holm else [])
    lines = ["| " + " | ".join(header) + " |", "|:--|" + "--:|" * (len(header) - 1)]
    tests = tests.set_index("variable")
    for variable in TABLE_VARIABLES[table]:
        if variable not in tests.index:
            continue
        test = tests.loc[variable]
        described = descriptives[descriptives["variable"] == variable]
        label = dictionary.label(variable)
        finding = testing_rule.is_finding(test, alpha)
        explained_note = footnotes.mark("the difference is no longer shown once its pre-operative value is taken into account (Adjusted "
                                        "estimates): a baseline imbalance, not a finding.") if test.get("baseline_explained", False) else ""
        p_text = marked(format_p(test["p_val"], finding and test["family"] == "primary"), variable, "all", "p") + explained_note
        if test["reason"]:
            p_text = "—" + footnotes.mark(f"not computable: {test['reason']}.")
        elif bool(test["sparse"]):
            p_text += footnotes.mark(f"an expected count is below {comparisons.SPARSE_EXPECTED:g} (smallest {test['min_expected']:.1f}), "
                                     f"so the χ² approximation is doubtful; {exact_p_text(test)}.") if test["test"] == "chi2" else ""
        holm_cell = [format_p(test["p_holm"], finding) if pd.notna(test["p_holm"]) else
                     FAMILY_CELL.get(test["family"], "")] if show_holm else []
        if described["category"].ne("").any():
            summaries.add("count")
            categories = list(dict.fromkeys(described["category"]))
            by_cell = described.set_index(["level", "category"])

            def cell(level: str, category: str, by_cell=by_cell, variable=variable) -> str:
                if (level, category) not in by_cell.index:
                    return "—"
                record = by_cell.loc[(level, category)]
                text = count_percent(record["count"], record["percent"])
                stratum = dictionary.stratum_code(between, level)
                return marked(marked(text, variable, f"{stratum}:{category}", "count"), variable, f"{stratum}:{category}", "percent")

            if variable == "cement_leakage":  # one line: patients with leakage
                lines.append("| " + " | ".join([f"{label}, n (%)", *[cell(level, "yes") for level in levels], p_text, *holm_cell]) + " |")
                continue
            lines.append("| " + " | ".join([f"{label}, n (%)", *[""] * len(levels), p_text, *holm_cell]) + " |")
            for category in categories:
                row = [f"\u00a0\u00a0\u00a0{dictionary.category_label(variable, category)}", *[cell(level, category) for level in levels], ""]
                lines.append("| " + " | ".join(row + ([""] if show_holm else [])) + " |")
        else:
            by_level = described.set_index("level")
            cells = []
            for level in levels:
                if level not in by_level.index:
                    cells.append("—")
                    continue
                record = by_level.loc[level]
                stratum = dictionary.stratum_code(between, level)
                if test["test"] in comparisons.RANK_TESTS:  # a row tested on ranks is summarised in the test's own terms
                    summaries.add("median")
                    cells.append(median_iqr(record["median"], record["q1"], record["q3"], int(record["n"]), sizes[level]))
                    continue
                summaries.add("mean")
                text = mean_sd(record["mean"], record["sd"], int(record["n"]), sizes[level])
                cells.append(marked(marked(text, variable, stratum, "mean"), variable, stratum, "sd"))
            lines.append("| " + " | ".join([label, *cells, p_text, *holm_cell]) + " |")
    used = _tests_used(tests.reset_index())
    holm_text = (" Holm p: adjusted over the secondary outcomes of Tables 1–3 together (Holm–Bonferroni); “primary” marks the "
                 "primary outcome, tested unadjusted; “exploratory” an outcome outside both; baseline and procedure rows "
                 "belong to no family.") if show_holm else ""
    star = (f" \\* a finding under the report's testing rule (Methods): the primary outcome at p < {alpha:g}, a secondary "
            f"outcome at Holm p < {alpha:g}.")
    missing = " Missing values are excluded per variable; a cell shows its n where fewer patients had the measurement."
    if show_holm and holm_explained_in:
        holm_text, star, missing = f" Holm p, \\* and missing values: as in {table_label(holm_explained_in)}.", "", ""
    footnote = f"Values are {values_legend(summaries)}. p: {used}.{holm_text}{star}{missing}"
    extra = footnotes.lines()
    if extra:
        footnote += "\n\n" + "\n\n".join(extra)
    number = table.removeprefix("table")
    captioned = [f":::{{table}} {TABLE_CAPTIONS[table]}", f":name: table-{number}", ":align: left", "", *lines, ":::"]
    return "\n".join(captioned), footnote


def _below_the_interval(record: dict, effect: str, statistic: str) -> str:
    """Why a sample η² or Cramér's V can lie above its own interval: the interval is for the population value, which is
    0 when the test statistic falls below what no effect at all would give on average."""
    high = record.get(f"{effect}_ci_high")
    if pd.isna(high) or high >= record[effect]:
        return ""
    return (f"; the {statistic} statistic is below its expectation without any effect, so the interval for the population "
            "value shrinks to 0 and lies below the sample value")


def format_effects(tests: pd.DataFrame, alpha: float) -> tuple[list[str], list[list[str]]]:
    """Effect sizes with 95 % intervals, one row per variable: header and rows for a list-table."""
    rows = []
    for record in tests.to_dict("records"):
        label = dictionary.label(record["variable"])
        if record["reason"]:
            effect = f"not computable: {record['reason']}"
        elif record["test"] == "mann_whitney":
            shift = estimate(record["hodges_lehmann"], record["hodges_lehmann_ci_low"], record["hodges_lehmann_ci_high"])
            effect = (f"Hodges–Lehmann shift {shift}; "
                      f"rank-biserial r {record['rank_biserial']:.2f}")
        elif pd.notna(record.get("hedges_g")):
            effect = (f"difference {estimate(record['mean_difference'], record['ci_low'], record['ci_high'])}; "
                      f"Hedges' g {estimate(record['hedges_g'], record['hedges_g_ci_low'], record['hedges_g_ci_high'])}")
        elif pd.notna(record.get("eta_squared")):
            effect = (f"η² {estimate(record['eta_squared'], record.get('eta_squared_ci_low'), record.get('eta_squared_ci_high'), 3)} "
                      f"({EFFECT_PERCENT:g} % CI)" + _below_the_interval(record, "eta_squared", "F"))
        elif pd.notna(record.get("epsilon_squared")):
            effect = f"ε² {record['epsilon_squared']:.3f} (no interval: the rank test gives none)"
        elif pd.notna(record.get("risk_difference")):
            difference = estimate(100 * record["risk_difference"], 100 * record["risk_difference_ci_low"],
                                  100 * record["risk_difference_ci_high"], 1)
            effect = (f"risk difference {difference} percentage points; "
                      f"odds ratio {estimate(record['odds_ratio'], record['odds_ratio_ci_low'], record['odds_ratio_ci_high'])}")
        elif pd.notna(record.get("cramers_v")):
            effect = (f"Cramér's V {estimate(record['cramers_v'], record['cramers_v_ci_low'], record['cramers_v_ci_high'], 3)} "
                      f"({EFFECT_PERCENT:g} % CI)" + _below_the_interval(record, "cramers_v", "χ²"))
        else:
            effect = "—"
        finding = testing_rule.is_finding(pd.Series(record), alpha)
        rows.append([label, effect, format_p(record.get("p_val"), finding and record["family"] == "primary"),
                     format_p(record["p_holm"], finding) if pd.notna(record.get("p_holm"))
                     else FAMILY_CELL.get(record["family"], "")])  # blank for baseline and procedure rows, as in Tables 1–3
    return ["Variable", "Effect size (95 % CI unless stated)", "p", "Holm p"], rows


def effects_table(tests: pd.DataFrame, alpha: float, table: str = "") -> str:
    """The effect sizes of one of Tables 1–3 as a captioned, numbered table (numbered after Tables 1–3 in the appendix)."""
    header, rows = format_effects(tests, alpha)
    caption = f"Effect sizes of the comparisons of {table_label(table)}." if table else ""
    return myst.list_table(header, rows, [30, 50, 10, 10], name=f"effects-{table}" if table else "", caption=caption)
