"""Reproduction audit computed from the published numbers alone.

Every check returns rows of one tidy table with the columns
``check, table, variable, stratum, published, recomputed, verdict, note``;
``verdict`` is ``consistent``, ``inconsistent`` or ``not-checkable``.  A
published number is *consistent* when some set of unrounded values that round
to what the paper printed reproduces it; the checks therefore work on the
rounding intervals, never on the printed values alone.

Checks:

- :func:`t_test_p_values` — Student (and, for comparison, Welch) t-test p from
  the published means, SDs and group sizes (``scipy.stats.ttest_ind_from_stats``);
- :func:`anova_p_values` — one-way ANOVA p of Table 3 from its means, SDs and n;
- :func:`chi_square_p_values` — chi-square p from the published counts, with and
  without continuity correction;
- :func:`grim` and :func:`grimmer` — means and SDs of integer-valued scales;
- :func:`derived_identities` — a change score's mean against the difference of
  its timepoint means, and Table 2 against Table 3 totals;
- :func:`significance_markers` and :func:`prose_claims` — the asterisks of the
  tables and the statements of the text against the tables' own numbers.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from . import paths, published

COLUMNS = ["check", "table", "variable", "stratum", "published", "recomputed", "verdict", "note"]
#: Integer-valued scales and their recording step (GRIM/GRIMMER).
INTEGER_SCALES = {"vas_pre": 1, "vas_op": 1, "vas_post": 1, "vas_final": 1,
                  "odi_pre": 2, "odi_post": 2, "odi_final": 2, "age": 1, "hospital_days": 1}
#: Change scores and the timepoint means they are differences of: (minuend, subtrahend).
IDENTITIES = {
    "lka_recovery": ("lka_pre", "lka_post"), "lka_loss": ("lka_final", "lka_post"),
    "rka_recovery": ("rka_pre", "rka_post"), "rka_loss": ("rka_final", "rka_post"),
    "fvahr": ("fvah_post", "fvah_pre"), "fvahl": ("fvah_post", "fvah_final"),
    "avhrr": ("avhr_post", "avhr_pre"), "avhlr": ("avhr_post", "avhr_final"),
}


def _row(check, table, variable, stratum, published_text, recomputed_text, verdict, note=""):
    return dict(zip(COLUMNS, (check, table, variable, stratum, published_text, recomputed_text, verdict, note)))


def _half(decimals: int) -> float:
    return 0.5 * 10.0 ** -decimals


def _summaries(values: pd.DataFrame) -> pd.DataFrame:
    """Published mean/SD rows pivoted: one row per (table, variable, stratum) with mean, sd, their decimals."""
    rows = values[values["statistic"].isin(["mean", "sd"])]
    frame = rows.pivot_table(index=["table", "variable", "stratum"], columns="statistic", values=["value", "decimals"], aggfunc="first")
    frame.columns = [f"{statistic}_{what}" if what == "decimals" else statistic for what, statistic in frame.columns]
    return frame.reset_index()


def _p_interval(p_row: pd.Series) -> tuple[float, float]:
    """The interval of true p-values that print as the published p (``<0.01`` means [0, 0.01))."""
    if p_row["reported"].startswith("<"):
        return 0.0, float(p_row["value"])
    half = _half(int(p_row["decimals"]))
    return max(0.0, float(p_row["value"]) - half), float(p_row["value"]) + half


def _interval_text(low: float, high: float) -> str:
    return f"{low:.4f}–{high:.4f}"


def _verdict(p_low: float, p_high: float, published_low: float, published_high: float) -> str:
    return "consistent" if p_low <= published_high and p_high >= published_low else "inconsistent"


def _discrepancy(p: float, published_low: float, published_high: float) -> float:
    return 0.0 if published_low <= p <= published_high else min(abs(p - published_low), abs(p - published_high))


def t_test_p_values(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each Table 1–2 p of a t-test, recomputed from the published means, SDs and group sizes.

    The range of Student-t p-values over the rounding box of the four summaries
    (extremes at its corners: the largest |t| has the largest mean difference and
    the smallest SDs) is compared with the interval the printed p stands for.
    """
    values = published.load() if values is None else values
    sizes = published.group_n(values)
    summaries = _summaries(values[values["table"].isin(["table1", "table2"])])
    p_rows = values[(values["statistic"] == "p") & values["table"].isin(["table1", "table2"])].set_index(["table", "variable"])
    out = []
    for (table, variable), group in summaries.groupby(["table", "variable"], sort=False):
        if (table, variable) not in p_rows.index or set(group["stratum"]) != {"A", "B"}:
            continue
        a, b = group.set_index("stratum").loc["A"], group.set_index("stratum").loc["B"]
        p_row = p_rows.loc[(table, variable)]
        low, high = _p_interval(p_row)
        student = stats.ttest_ind_from_stats(a["mean"], a["sd"], sizes["A"], b["mean"], b["sd"], sizes["B"]).pvalue
        welch = stats.ttest_ind_from_stats(a["mean"], a["sd"], sizes["A"], b["mean"], b["sd"], sizes["B"], equal_var=False).pvalue
        corners = []
        for dm_a, dm_b, ds_a, ds_b in itertools.product(*[(-1, 1)] * 4):
            corners.append(stats.ttest_ind_from_stats(a["mean"] + dm_a * _half(a["mean_decimals"]), max(a["sd"] + ds_a * _half(a["sd_decimals"]), 1e-9), sizes["A"],
                                                      b["mean"] + dm_b * _half(b["mean_decimals"]), max(b["sd"] + ds_b * _half(b["sd_decimals"]), 1e-9), sizes["B"]).pvalue)
        verdict = _verdict(min(corners + [student]), max(corners + [student]), low, high)
        note = (f"Welch p = {welch:.4f}; achievable Student p {_interval_text(min(corners), max(corners))}; "
                f"discrepancy {_discrepancy(student, low, high):.4f}")
        out.append(_row("t-test p from summary statistics", table, variable, "all", p_row["reported"], f"{student:.4f}", verdict, note))
    return pd.DataFrame(out, columns=COLUMNS)


def anova_f(means, sds, ns) -> tuple[float, float]:
    """F and p of a one-way ANOVA from group means, SDs and sizes."""
    means, sds, ns = (np.asarray(x, dtype=float) for x in (means, sds, ns))
    grand = (means * ns).sum() / ns.sum()
    between = (ns * (means - grand) ** 2).sum() / (len(ns) - 1)
    within = ((ns - 1) * sds**2).sum() / (ns.sum() - len(ns))
    f = between / within
    return f, float(stats.f.sf(f, len(ns) - 1, ns.sum() - len(ns)))


def anova_p_values(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each Table 3 p, recomputed from the published means, SDs and type sizes (grid over the rounding box)."""
    values = published.load() if values is None else values
    sizes = published.group_n(values)
    summaries = _summaries(values[values["table"] == "table3"])
    p_rows = values[(values["statistic"] == "p") & (values["table"] == "table3")].set_index("variable")
    out = []
    for variable, group in summaries.groupby("variable", sort=False):
        group = group.set_index("stratum").loc[["dist_A", "dist_B", "dist_C"]]
        ns = [sizes[s] for s in group.index]
        f, p = anova_f(group["mean"], group["sd"], ns)
        ps = []
        for shifts in itertools.product((-1, 0, 1), repeat=6):
            means = group["mean"].to_numpy() + np.array(shifts[:3]) * _half(int(group["mean_decimals"].iloc[0]))
            sds = group["sd"].to_numpy() + np.array(shifts[3:]) * _half(int(group["sd_decimals"].iloc[0]))
            ps.append(anova_f(means, sds, ns)[1])
        low, high = _p_interval(p_rows.loc[variable])
        note = f"F = {f:.3f}; achievable p {_interval_text(min(ps), max(ps))}; discrepancy {_discrepancy(p, low, high):.4f}"
        out.append(_row("ANOVA p from summary statistics", "table3", variable, "all", p_rows.loc[variable, "reported"],
                        f"{p:.4f}", _verdict(min(ps), max(ps), low, high), note))
    return pd.DataFrame(out, columns=COLUMNS)


def chi_square_p_values(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Chi-square p from the published counts, with and without continuity correction, against the printed p."""
    values = published.load() if values is None else values
    out = []
    p_rows = values[values["statistic"] == "p"].set_index(["table", "variable"])
    counts = values[values["statistic"] == "count"]
    for (table, variable), rows in counts.groupby(["table", "variable"], sort=False):
        cells = {tuple(stratum.split(":")): int(value) for stratum, value in zip(rows["stratum"], rows["value"])}
        groups = sorted({g for g, _ in cells})
        categories = list(dict.fromkeys(c for _, c in cells))
        if variable == "cement_leakage":  # only the 'yes' counts are printed; 'no' follows from the group sizes
            sizes = published.group_n(values)
            cells.update({(g, "no"): sizes[g] - cells[(g, "yes")] for g in groups})
            categories = ["yes", "no"]
        observed = np.array([[cells.get((g, c), 0) for c in categories] for g in groups])
        plain = stats.chi2_contingency(observed, correction=False).pvalue
        corrected = stats.chi2_contingency(observed, correction=True).pvalue if observed.shape == (2, 2) else plain
        if (table, variable) not in p_rows.index:
            out.append(_row("chi-square p from counts", table, variable, "all", "not printed", f"{plain:.4f}", "not-checkable",
                            f"with continuity correction {corrected:.4f}" if observed.shape == (2, 2) else ""))
            continue
        p_row = p_rows.loc[(table, variable)]
        low, high = _p_interval(p_row)
        verdict = "consistent" if low <= plain <= high else "inconsistent"
        note = (f"with continuity correction {corrected:.4f} ({'consistent' if low <= corrected <= high else 'inconsistent'})"
                if observed.shape == (2, 2) else "no continuity correction for tables larger than 2 × 2")
        out.append(_row("chi-square p from counts", table, variable, "all", p_row["reported"], f"{plain:.4f}", verdict, note))
    return pd.DataFrame(out, columns=COLUMNS)


def possible_sums(mean: float, decimals: int, n: int, step: int = 1) -> list[int]:
    """Sums of ``n`` values on a grid of ``step`` whose mean prints as ``mean`` (GRIM)."""
    half = _half(decimals)
    low, high = math.ceil((mean - half) * n / step - 1e-9), math.floor((mean + half) * n / step + 1e-9)
    return [k * step for k in range(low, high + 1)]


def _integer_scale_summaries(values: pd.DataFrame):
    """Published mean/SD rows of integer-valued scales, each with its stratum's n and the scale's step."""
    sizes = published.group_n(values)
    summaries = _summaries(values[values["table"].isin(["table1", "table2", "table3"])])
    for row in summaries[summaries["variable"].isin(INTEGER_SCALES)].itertuples():
        yield row, sizes[row.stratum], INTEGER_SCALES[row.variable]


def grim(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """GRIM: can ``n`` values of an integer scale (steps of 1, or 2 for ODI) have the printed mean?"""
    values = published.load() if values is None else values
    out = []
    for row, n, step in _integer_scale_summaries(values):
        sums = possible_sums(row.mean, int(row.mean_decimals), n, step)
        verdict = "consistent" if sums else "inconsistent"
        recomputed = f"sum {sums[0]}/{n} = {sums[0] / n:.4f}" if sums else "no sum"
        out.append(_row("GRIM mean", row.table, row.variable, row.stratum, f"{row.mean:.{int(row.mean_decimals)}f}", recomputed, verdict,
                        f"n = {n}, values in steps of {step}"))
    return pd.DataFrame(out, columns=COLUMNS)


def grimmer_possible(mean: float, sd: float, n: int, mean_decimals: int, sd_decimals: int, step: int = 1) -> bool:
    """GRIMMER-style: is there an integer sum S and sum of squares Q (same parity as S, in units of ``step``) that give both?"""
    half_sd = _half(sd_decimals)
    for total in possible_sums(mean, mean_decimals, n, step):
        s = total // step
        q_low = math.ceil(((max(sd - half_sd, 0)) ** 2 * (n - 1) / step**2 + s * s / n) - 1e-9)
        q_high = math.floor(((sd + half_sd) ** 2 * (n - 1) / step**2 + s * s / n) + 1e-9)
        for q in range(q_low, q_high + 1):
            if q % 2 == s % 2:  # a sum of squares of integers has the parity of their sum
                return True
    return False


def grimmer(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """GRIMMER-style check of the SDs of integer scales."""
    values = published.load() if values is None else values
    out = []
    for row, n, step in _integer_scale_summaries(values):
        if not possible_sums(row.mean, int(row.mean_decimals), n, step):
            out.append(_row("GRIMMER SD", row.table, row.variable, row.stratum, f"{row.sd:.{int(row.sd_decimals)}f}", "", "not-checkable",
                            "the mean already fails GRIM"))
            continue
        possible = grimmer_possible(row.mean, row.sd, n, int(row.mean_decimals), int(row.sd_decimals), step)
        out.append(_row("GRIMMER SD", row.table, row.variable, row.stratum, f"{row.sd:.{int(row.sd_decimals)}f}",
                        "attainable" if possible else "not attainable", "consistent" if possible else "inconsistent",
                        f"n = {n}, values in steps of {step}"))
    return pd.DataFrame(out, columns=COLUMNS)


def derived_identities(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean of a change = difference of timepoint means (Table 2), and Table 2 against Table 3 totals.

    A change score's mean is exactly the difference of its timepoint means when
    both use the same patients; with each printed mean rounded, they may differ
    by the sum of the three half-units.  Totals: the n-weighted mean over the two
    groups (Table 2) and over the three distribution types (Table 3) are the same
    patients' mean; for integer scales the possible integer sums must also meet.
    """
    values = published.load() if values is None else values
    sizes = published.group_n(values)
    summaries = _summaries(values[values["table"].isin(["table2", "table3"])]).set_index(["table", "variable", "stratum"])
    out = []
    for change, (minuend, subtrahend) in IDENTITIES.items():
        for group in ("A", "B"):
            try:
                rows = [summaries.loc[("table2", name, group)] for name in (change, minuend, subtrahend)]
            except KeyError:
                continue
            expected = rows[1]["mean"] - rows[2]["mean"]
            tolerance = sum(_half(int(r["mean_decimals"])) for r in rows)
            difference = rows[0]["mean"] - expected
            verdict = "consistent" if abs(difference) <= tolerance + 1e-9 else "inconsistent"
            out.append(_row("change mean = difference of timepoint means", "table2", change, group, f"{rows[0]['mean']:.2f}",
                            f"{expected:.2f}", verdict, f"{minuend} − {subtrahend}; discrepancy {abs(difference):.2f} (tolerance {tolerance:.3f})"))
    table3_variables = sorted({v for (t, v, _) in summaries.index if t == "table3"})
    for variable in table3_variables:
        group_rows = {g: summaries.loc[("table2", variable, g)] for g in ("A", "B")}
        type_rows = {s: summaries.loc[("table3", variable, s)] for s in ("dist_A", "dist_B", "dist_C")}
        total_n = sizes["A"] + sizes["B"]
        by_group = sum(sizes[g] * r["mean"] for g, r in group_rows.items()) / total_n
        by_type = sum(sizes[s] * r["mean"] for s, r in type_rows.items()) / total_n
        tolerance = sum(sizes[k] * _half(int(r["mean_decimals"])) for k, r in [*group_rows.items(), *type_rows.items()]) / total_n
        verdict = "consistent" if abs(by_group - by_type) <= tolerance + 1e-9 else "inconsistent"
        note = f"n-weighted means differ by {abs(by_group - by_type):.3f} (tolerance {tolerance:.3f})"
        if variable in INTEGER_SCALES:
            step = INTEGER_SCALES[variable]
            group_sums = {a + b for a in possible_sums(group_rows["A"]["mean"], 2, sizes["A"], step)
                          for b in possible_sums(group_rows["B"]["mean"], 2, sizes["B"], step)}
            type_sums = {a + b + c for a in possible_sums(type_rows["dist_A"]["mean"], 2, sizes["dist_A"], step)
                         for b in possible_sums(type_rows["dist_B"]["mean"], 2, sizes["dist_B"], step)
                         for c in possible_sums(type_rows["dist_C"]["mean"], 2, sizes["dist_C"], step)}
            common = sorted(group_sums & type_sums)
            verdict = "consistent" if common else "inconsistent"
            note += f"; integer totals by group {sorted(group_sums)}, by type {sorted(type_sums)}"
        out.append(_row("Table 2 total = Table 3 total", "table2/table3", variable, "all", f"{by_group:.3f}", f"{by_type:.3f}", verdict, note))
    return pd.DataFrame(out, columns=COLUMNS)


def significance_markers(values: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Does each printed p carry the table's significance asterisk exactly when p < alpha?"""
    values = published.load() if values is None else values
    out = []
    for row in values[(values["statistic"] == "p") & values["table"].isin(["table1", "table2", "table3"])].itertuples():
        marked = row.reported.endswith("*")
        below = row.reported.startswith("<") or row.value < alpha
        verdict = "consistent" if marked == below else "inconsistent"
        note = "" if verdict == "consistent" else ("p < alpha printed without the asterisk" if below else "asterisk on p ≥ alpha")
        out.append(_row("significance marker", row.table, row.variable, "all", row.reported, "marked" if below else "not marked", verdict, note))
    return pd.DataFrame(out, columns=COLUMNS)


def load_prose_claims() -> pd.DataFrame:
    """Statements of the paper's text, transcribed as data (``data/published/prose-claims.csv``)."""
    return pd.read_csv(paths.PUBLISHED_VALUES.parent / "prose-claims.csv", dtype=str, keep_default_na=False)


def prose_claims(values: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Each transcribed statement of the text against the tables: the direction of the means and the printed p."""
    values = published.load() if values is None else values
    means = values[values["statistic"] == "mean"].set_index(["table", "variable", "stratum"])["value"]
    p_values = values[values["statistic"] == "p"].set_index(["table", "variable"])
    out = []
    for claim in load_prose_claims().itertuples():
        problems = []
        low_first = means.get((claim.table, claim.variable, claim.first))
        for second in (claim.second.split("|") if claim.relation else []):
            other = means[(claim.table, claim.variable, second)]
            direction = "lower" if low_first < other else "higher"
            if claim.relation and direction != claim.relation:
                problems.append(f"{claim.first} is {direction} than {second} ({low_first:g} vs {other:g})")
        p_row = p_values.loc[(claim.table, claim.variable)]
        significant = p_row["reported"].startswith("<") or p_row["value"] < alpha
        if claim.significance == "significant" and not significant:
            problems.append(f"the table's p is {p_row['reported']}")
        if claim.significance == "not significant" and significant:
            problems.append(f"the table's p is {p_row['reported']}")
        verdict = "inconsistent" if problems else "consistent"
        stated = f"{claim.first} {claim.relation} than {claim.second.replace('|', ' and ')}".strip() + (f", {claim.significance}" if claim.significance else "")
        out.append(_row(f"text ({claim.source})", claim.table, claim.variable, f"{claim.first} vs {claim.second.replace('|', ', ')}",
                        f"“{claim.quote}”", stated, verdict, "; ".join(problems)))
    return pd.DataFrame(out, columns=COLUMNS)


def run_audit(alpha: float = 0.05) -> pd.DataFrame:
    """Every check, one tidy table (``OUT/results/audit.csv``)."""
    values = published.load()
    parts = [t_test_p_values(values), anova_p_values(values), chi_square_p_values(values), grim(values), grimmer(values),
             derived_identities(values), significance_markers(values, alpha), prose_claims(values, alpha)]
    return pd.concat(parts, ignore_index=True)
