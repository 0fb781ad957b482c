"""Reproduction audit computed from the published numbers alone (never from patient data).

Every check returns rows of one tidy table with the columns :data:`COLUMNS`:
``check`` (what was checked), ``kind`` (one of :data:`KINDS`), ``table`` (``table1``–``table3``) and
``table_label`` ("Table 3"), ``variable`` and its plain ``label``, ``stratum`` in words ("group A", "type A"),
``statistic`` (the published number concerned: ``p``, ``mean``, ``sd``, ``text`` or ``claim``), ``published``
(as printed), ``recomputed``, ``verdict`` (``consistent``, ``inconsistent`` or ``not-checkable``), ``note`` (the
evidence) and ``sentence`` (the result in one plain-English sentence).  A published number is *consistent* when
some set of unrounded values that round to what the paper printed reproduces it: the checks work on rounding
intervals (half a unit of the last printed decimal), never on the printed values alone.

Checks:

- :func:`t_test_p_values` and :func:`anova_p_values` — the Student-t p of Tables 1–2 and the one-way ANOVA p of
  Table 3 from the printed means, SDs and group sizes.  On whole-number scales
  (:func:`vertebroplasty.contract.dictionary.integer_scales`) only the sums and sums of squares that GRIM and GRIMMER allow
  are used, so the attainable p form a small discrete set; otherwise the attainable p fill an interval over the
  rounding box (:func:`attainable_p_ranges`);
- :func:`chi_square_p_values` — chi-square p from the printed counts, with and without continuity correction;
- :func:`grim` and :func:`grimmer` — means and SDs of whole-number scales;
- :func:`derived_identities` — a change score's mean against the difference of its timepoint means
  (:func:`vertebroplasty.contract.derivation.differences`), and Table 2 against Table 3 totals;
- :func:`significance_markers` and :func:`prose_claims` — the asterisks of the tables and the statements of the
  text against the tables' own numbers;
- :func:`pairwise_claims` — "type A better than types B and C": Tukey–Kramer (:data:`PAIRWISE_TEST`, fixed in
  advance; Games–Howell as a sensitivity value in the note) from the printed summaries, one row per pair.

:func:`findings` keeps the inconsistent checks as numbered findings with a link target each;
:func:`explanation_for` finds the finding about one published number.

References
----------
(GRIM and GRIMMER: see :mod:`vertebroplasty.paper.attainable`.)

Kramer, C. Y. (1956). Extension of multiple range tests to group means with unequal numbers of replications.
*Biometrics* 12(3), 307–310.

Games, P. A. & Howell, J. F. (1976). Pairwise multiple comparison procedures with unequal n's and/or variances:
a Monte Carlo study. *Journal of Educational Statistics* 1(2), 113–125.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
from scipy import stats

from vertebroplasty.contract import derivation, dictionary
from vertebroplasty.paper import published
from vertebroplasty.paper.attainable import (  # noqa: F401 (re-exported: audit.attainable, audit.possible_sums, ...)
    Attainable,
    _half,
    anova_from_summaries,
    attainable,
    feasible_sums,
    grimmer_possible,
    possible_sums,
)
from vertebroplasty.paper.audit_words import _name, _p, _p3, _p4, _p_is, _p_range, _printed_p, _strata, _stratum, _subject, _table_label
from vertebroplasty.statistics.pairwise import games_howell, tukey_kramer

COLUMNS = ["check", "kind", "table", "table_label", "variable", "label", "stratum", "statistic",
           "published", "recomputed", "verdict", "consequence", "note", "sentence"]
#: Kinds of check.
KINDS = ("impossible p-value", "missing or wrong marker", "text contradicts table", "unsupported claim", "identity", "other")
#: What an inconsistency does to the paper, most serious first: the order in which findings are numbered.
CONSEQUENCES = ("undermines a conclusion", "misstates a result", "changes a result's significance", "misprint, conclusions unchanged")
FINDING_COLUMNS = ["number", "consequence", "kind", "table", "variable", "label", "statistic", "sentence", "anchor"]
#: The pairwise test of the audit, fixed before any claim was checked: after a one-way ANOVA of k = 3 types with
#: unequal sizes, Tukey–Kramer is the standard all-pairs comparison, and it is the one the printed analysis (ANOVA,
#: equal variances) implies.  Games–Howell, which drops the equal-variance assumption, is kept in each check's note
#: as a sensitivity value; it never decides a verdict.
PAIRWISE_TEST = "Tukey–Kramer"
#: The test behind each printed p, with the assumptions the audit makes in recomputing it.
P_TEST_WORDS = {
    "table1": "a Student t-test on the printed means and SDs with the group sizes",
    "table2": "a Student t-test on the printed means and SDs with the group sizes",
    "table3": "a one-way ANOVA on the printed means and SDs with the type sizes of Table 1",
}
GROUPS = ("A", "B")
TYPES = ("dist_A", "dist_B", "dist_C")
SOURCES = {"results": "results section", "abstract": "abstract", "discussion": "discussion"}


# --- words -------------------------------------------------------------------------------------------------------

#: The consequence of an inconsistency of each kind where the check does not judge it itself (a printed p judges it:
#: see :func:`_p_consequence`).
DEFAULT_CONSEQUENCE = {"unsupported claim": CONSEQUENCES[0], "text contradicts table": CONSEQUENCES[1]}


def _row(**fields) -> dict:
    fields.update(table_label=_table_label(fields["table"]), label=dictionary.label(fields["variable"]))
    if fields["verdict"] != "inconsistent":
        fields["consequence"] = ""
    elif not fields.get("consequence"):
        fields["consequence"] = DEFAULT_CONSEQUENCE.get(fields["kind"], CONSEQUENCES[3])
    return {column: fields[column] for column in COLUMNS}


def _p_consequence(printed: float, reported: str, low: float, high: float, alpha: float = 0.05) -> str:
    """Whether an unattainable printed p changes a result's significance: it does when the printed p and the attainable
    ones fall on different sides of alpha (or the attainable ones straddle it).

    >>> _p_consequence(0.004, "0.004*", 0.0079, 0.0089), _p_consequence(0.04, "0.04*", 0.06, 0.07)
    ('misprint, conclusions unchanged', "changes a result's significance")
    """
    significant = _significant(reported, printed, alpha)
    attainable_side = {high < alpha, low < alpha}
    return CONSEQUENCES[3] if attainable_side == {significant} else CONSEQUENCES[2]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


# --- rounding intervals ------------------------------------------------------------------------------------------

def _summaries(values: pd.DataFrame) -> pd.DataFrame:
    """Published mean/SD rows pivoted: one row per (table, variable, stratum) with mean, sd, their decimals and n."""
    rows = values[values["statistic"].isin(["mean", "sd"])]
    frame = rows.pivot_table(index=["table", "variable", "stratum"], columns="statistic", values=["value", "decimals"],
                             aggfunc="first")
    frame.columns = [f"{statistic}_{what}" if what == "decimals" else statistic for what, statistic in frame.columns]
    frame = frame.reset_index()
    sizes = published.group_n(values)
    return frame.assign(n=frame["stratum"].map(sizes))


def _p_interval(p_row: pd.Series) -> tuple[float, float]:
    """The interval [low, high) of true p-values that print as the published p (``<0.01`` means [0, 0.01))."""
    if p_row["reported"].startswith("<"):
        return 0.0, float(p_row["value"])
    half = _half(int(p_row["decimals"]))
    return max(0.0, float(p_row["value"]) - half), float(p_row["value"]) + half


def _p_checks_with_summaries(values: pd.DataFrame, tables: tuple[str, ...], strata: tuple[str, ...]):
    """Each printed p of ``tables`` whose ``strata`` all have a printed mean and SD: (p row, summary, attainable p)."""
    summaries = _summaries(values[values["table"].isin(tables)]).set_index(["table", "variable", "stratum"])
    for _, p_row in values[(values["statistic"] == "p") & values["table"].isin(tables)].iterrows():
        keys = [(p_row["table"], p_row["variable"], stratum) for stratum in strata]
        if all(key in summaries.index for key in keys):
            summary = summaries.loc[keys].reset_index(drop=True)
            yield p_row, summary, attainable(summary, p_row["variable"], _p_interval(p_row))


def _p_sentence(p_row: pd.Series, result: Attainable) -> str:
    """The verdict on a printed p, naming the test and the summaries it was recomputed from (the audit's assumptions)."""
    subject, printed = _subject(p_row["table"], p_row["variable"]), _printed_p(p_row["reported"])
    test = P_TEST_WORDS[p_row["table"]]
    if result.consistent:
        return f"{subject}: the printed {printed} is attainable with {test}."
    if len(result.points) == 1:
        return (f"{subject}: the printed {printed} is inconsistent with {test}: on this whole-number scale the printed "
                f"summaries allow only p ≈ {_p(result.low, 2)}.")
    if len(result.points):
        return (f"{subject}: the printed {printed} is inconsistent with {test}: on this whole-number scale the printed "
                f"summaries allow only {len(result.points)} values of p, from {_p(result.low)} to {_p(result.high)}.")
    return (f"{subject}: the printed {printed} is inconsistent with {test}, which give p between {_p(result.low)} and "
            f"{_p(result.high)} for every set of unrounded values that round to the printed ones.")


def _p_from_summaries(values, tables, strata, check: str, statistic_at_printed) -> pd.DataFrame:
    """One row per printed p of ``tables``: the test at the printed values and the attainable p (see :func:`attainable`)."""
    rows = []
    for p_row, summary, result in _p_checks_with_summaries(values, tables, strata):
        p, described = statistic_at_printed(summary)
        scale = f"whole-number scale, {len(result.points)} attainable p" if len(result.points) else "rounding box"
        rows.append(_row(check=check, kind="impossible p-value", table=p_row["table"], variable=p_row["variable"],
                         stratum=_strata(strata), statistic="p", published=p_row["reported"], recomputed=f"{p:.4f}",
                         verdict="consistent" if result.consistent else "inconsistent",
                         consequence=_p_consequence(float(p_row["value"]), p_row["reported"], result.low, result.high),
                         note=f"{described}; attainable p {_p_range(result.low, result.high)} ({scale})",
                         sentence=_p_sentence(p_row, result)))
    return _frame(rows)


def t_test_p_values(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each Table 1–2 p of a t-test, recomputed from the published means, SDs and group sizes (Student; Welch in the note).

    The published p is consistent when a Student-t p attainable from the printed summaries (see :func:`attainable`)
    prints as it.
    """
    def at_printed(summary):
        a, b = summary.iloc[0], summary.iloc[1]
        student = stats.ttest_ind_from_stats(a["mean"], a["sd"], a["n"], b["mean"], b["sd"], b["n"])
        welch = stats.ttest_ind_from_stats(a["mean"], a["sd"], a["n"], b["mean"], b["sd"], b["n"], equal_var=False)
        return student.pvalue, f"t = {student.statistic:.3f}; Welch {_p_is(welch.pvalue)}"

    values = published.load() if values is None else values
    return _p_from_summaries(values, ("table1", "table2"), GROUPS, "t-test p from summary statistics", at_printed)


def anova_p_values(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each Table 3 p, recomputed from the published means, SDs and type sizes (one-way ANOVA, see :func:`attainable`)."""
    def at_printed(summary):
        f, p = anova_from_summaries(summary["mean"], summary["sd"], summary["n"])
        return p, f"F = {f:.3f}"

    values = published.load() if values is None else values
    return _p_from_summaries(values, ("table3",), TYPES, "ANOVA p from summary statistics", at_printed)


def attainable_p_ranges(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """For a figure: per Table 3 variable the printed p and the p the printed summaries allow.

    Columns ``variable, label, published`` (float), ``published_text`` (as printed, without the asterisk), ``low``,
    ``high``, ``attainable_points`` (array of the distinct attainable p on whole-number scales, else empty) and
    ``verdict``.
    """
    values = published.load() if values is None else values
    return pd.DataFrame([{"variable": p_row["variable"], "label": dictionary.label(p_row["variable"]),
                          "published": float(p_row["value"]), "published_text": p_row["reported"].rstrip("*"),
                          "low": result.low, "high": result.high,
                          "attainable_points": result.points, "verdict": "consistent" if result.consistent else "inconsistent"}
                         for p_row, _, result in _p_checks_with_summaries(values, ("table3",), TYPES)])


# --- counts --------------------------------------------------------------------------------------------------------

def chi_square_p_values(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Chi-square p from the published counts, with and without continuity correction, against the printed p."""
    values = published.load() if values is None else values
    rows = []
    p_rows = values[values["statistic"] == "p"].set_index(["table", "variable"])
    counts = values[values["statistic"] == "count"]
    for (table, variable), group_rows in counts.groupby(["table", "variable"], sort=False):
        cells = {tuple(stratum.split(":")): int(value) for stratum, value in zip(group_rows["stratum"], group_rows["value"])}
        groups = sorted({g for g, _ in cells})
        categories = list(dict.fromkeys(c for _, c in cells))
        if variable == "cement_leakage":  # only the 'yes' counts are printed; 'no' follows from the group sizes
            sizes = published.group_n(values)
            cells.update({(g, "no"): sizes[g] - cells[(g, "yes")] for g in groups})
            categories = ["yes", "no"]
        observed = np.array([[cells.get((g, c), 0) for c in categories] for g in groups])
        plain = stats.chi2_contingency(observed, correction=False).pvalue
        two_by_two = observed.shape == (2, 2)
        corrected = stats.chi2_contingency(observed, correction=True).pvalue if two_by_two else plain
        common = dict(check="chi-square p from counts", kind="impossible p-value", table=table, variable=variable,
                      stratum=_strata(groups), statistic="p", recomputed=f"{plain:.4f}")
        if (table, variable) not in p_rows.index:
            rows.append(_row(**common, published="not printed", verdict="not-checkable",
                             note=f"with continuity correction {_p4(corrected)}" if two_by_two else "",
                             sentence=f"{_subject(table, variable)}: no p is printed (chi-square from the counts gives "
                                      f"p = {_p(plain)})."))
            continue
        p_row = p_rows.loc[(table, variable)]
        low, high = _p_interval(p_row)
        consistent = low <= plain < high
        note = (f"with continuity correction {_p4(corrected)} ({'consistent' if low <= corrected < high else 'inconsistent'})"
                if two_by_two else "no continuity correction for tables larger than 2 × 2")
        evidence = f"p = {_p(plain)}" + (f" ({_p(corrected)} with continuity correction)" if two_by_two else "")
        printed = _printed_p(p_row["reported"])
        sentence = (f"{_subject(table, variable)}: chi-square from the printed counts gives {evidence}"
                    + (f", as printed ({printed})." if consistent else f", not the printed {printed}."))
        rows.append(_row(**common, published=p_row["reported"], verdict="consistent" if consistent else "inconsistent",
                         note=note, sentence=sentence))
    return _frame(rows)


# --- whole-number scales ---------------------------------------------------------------------------------------------

def _integer_scale_summaries(values: pd.DataFrame):
    """Published mean/SD rows of whole-number scales, each with its step."""
    steps = dictionary.integer_scales()
    summaries = _summaries(values[values["table"].isin(["table1", "table2", "table3"])])
    for row in summaries[summaries["variable"].isin(steps)].itertuples():
        yield row, steps[row.variable]


def grim(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """GRIM (Brown & Heathers 2017): can ``n`` values of a whole-number scale (steps of 1, or 2 for ODI) have the printed mean?"""
    values = published.load() if values is None else values
    rows = []
    for row, step in _integer_scale_summaries(values):
        sums = possible_sums(row.mean, int(row.mean_decimals), row.n, step)
        printed = f"{row.mean:.{int(row.mean_decimals)}f}"
        subject = _subject(row.table, row.variable, _stratum(row.stratum))
        sentence = (f"{subject}: {row.n} whole-number values can average the printed {printed} (sum {sums[0]})." if sums else
                    f"{subject}: no {row.n} whole-number values in steps of {step} average the printed {printed}.")
        rows.append(_row(check="GRIM mean", kind="other", table=row.table, variable=row.variable, stratum=_stratum(row.stratum),
                         statistic="mean", published=printed,
                         recomputed=f"sum {sums[0]}/{row.n} = {sums[0] / row.n:.4f}" if sums else "no sum",
                         verdict="consistent" if sums else "inconsistent", note=f"n = {row.n}, values in steps of {step}",
                         sentence=sentence))
    return _frame(rows)


def grimmer(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """GRIMMER (Anaya 2016): can whole numbers with the printed mean have the printed SD (see :func:`feasible_sums`)?"""
    values = published.load() if values is None else values
    rows = []
    for row, step in _integer_scale_summaries(values):
        printed = f"{row.sd:.{int(row.sd_decimals)}f}"
        subject = _subject(row.table, row.variable, _stratum(row.stratum))
        common = dict(check="GRIMMER SD", kind="other", table=row.table, variable=row.variable, stratum=_stratum(row.stratum),
                      statistic="sd", published=printed)
        if not possible_sums(row.mean, int(row.mean_decimals), row.n, step):
            rows.append(_row(**common, recomputed="", verdict="not-checkable", note="the mean already fails GRIM",
                             sentence=f"{subject}: the SD cannot be checked because the mean already fails GRIM."))
            continue
        pairs = feasible_sums(row.mean, row.sd, row.n, int(row.mean_decimals), int(row.sd_decimals), step)
        sentence = (f"{subject}: whole-number values with the printed mean can have the printed SD {printed}." if len(pairs) else
                    f"{subject}: no {row.n} whole-number values with the printed mean {row.mean:g} have the printed SD "
                    f"{printed}.")
        rows.append(_row(**common, recomputed=f"{len(pairs)} (sum, sum of squares) pairs" if len(pairs) else "not attainable",
                         verdict="consistent" if len(pairs) else "inconsistent", note=f"n = {row.n}, values in steps of {step}",
                         sentence=sentence))
    return _frame(rows)


# --- identities ------------------------------------------------------------------------------------------------------

def derived_identities(values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean of a change = difference of timepoint means (Table 2), and Table 2 against Table 3 totals.

    A change score's mean is exactly the difference of its timepoint means when both use the same patients
    (:func:`vertebroplasty.contract.derivation.differences`); with each printed mean rounded, they may differ by the sum of
    the three half-units.  Totals: the n-weighted mean over the two groups (Table 2) and over the three
    distribution types (Table 3) are the same patients' mean; for whole-number scales the possible sums (GRIM)
    must also meet.
    """
    values = published.load() if values is None else values
    sizes = published.group_n(values)
    steps = dictionary.integer_scales()
    summaries = _summaries(values[values["table"].isin(["table2", "table3"])]).set_index(["table", "variable", "stratum"])
    rows = []
    for change, (minuend, subtrahend) in derivation.differences().items():
        for group in GROUPS:
            keys = [("table2", name, group) for name in (change, minuend, subtrahend)]
            if not all(key in summaries.index for key in keys):
                continue
            printed, first, second = (summaries.loc[key] for key in keys)
            expected = first["mean"] - second["mean"]
            tolerance = sum(_half(int(r["mean_decimals"])) for r in (printed, first, second))
            difference = printed["mean"] - expected
            consistent = abs(difference) <= tolerance + 1e-9
            formula = f"{dictionary.prose_label(minuend)} − {dictionary.prose_label(subtrahend)}"
            subject = _subject("table2", change, _stratum(group))
            rows.append(_row(check="change mean = difference of timepoint means", kind="identity", table="table2",
                             variable=change, stratum=_stratum(group), statistic="mean", published=f"{printed['mean']:.2f}",
                             recomputed=f"{expected:.2f}", verdict="consistent" if consistent else "inconsistent",
                             note=f"{formula}; discrepancy {abs(difference):.2f} (tolerance {tolerance:.3f})",
                             sentence=f"{subject}: the printed mean {printed['mean']:.2f} {'is' if consistent else 'is not'} "
                                      f"the difference of its timepoint means ({formula} = {expected:.2f}) within rounding."))
    for variable in sorted({v for (t, v, _) in summaries.index if t == "table3"}):
        parts = {**{g: summaries.loc[("table2", variable, g)] for g in GROUPS},
                 **{s: summaries.loc[("table3", variable, s)] for s in TYPES}}
        total_n = sizes["A"] + sizes["B"]
        by_group, by_type = (sum(sizes[k] * parts[k]["mean"] for k in keys) / total_n for keys in (GROUPS, TYPES))
        tolerance = sum(sizes[k] * _half(int(r["mean_decimals"])) for k, r in parts.items()) / total_n
        consistent = abs(by_group - by_type) <= tolerance + 1e-9
        note = f"n-weighted means differ by {abs(by_group - by_type):.3f} (tolerance {tolerance:.3f})"
        if variable in steps:
            sums = {k: possible_sums(r["mean"], int(r["mean_decimals"]), sizes[k], steps[variable]) for k, r in parts.items()}
            group_sums, type_sums = ({sum(total) for total in itertools.product(*(sums[k] for k in keys))}
                                     for keys in (GROUPS, TYPES))
            consistent = bool(group_sums & type_sums)
            note += f"; whole-number totals by group {sorted(group_sums)}, by type {sorted(type_sums)}"
        rows.append(_row(check="Table 2 total = Table 3 total", kind="identity", table="table2/table3", variable=variable,
                         stratum="all patients", statistic="mean", published=f"{by_group:.3f}", recomputed=f"{by_type:.3f}",
                         verdict="consistent" if consistent else "inconsistent", note=note,
                         sentence=f"{_subject('table2/table3', variable)}: the overall mean from the groups ({by_group:.3f}) "
                                  f"and from the distribution types ({by_type:.3f}) {'agree' if consistent else 'disagree'} "
                                  "within rounding."))
    return _frame(rows)


# --- markers and claims --------------------------------------------------------------------------------------------

def _significant(reported: str, value: float, alpha: float) -> bool:
    return reported.startswith("<") or value < alpha


def significance_markers(values: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Does each printed p carry the table's significance asterisk exactly when p < alpha?"""
    values = published.load() if values is None else values
    rows = []
    for row in values[(values["statistic"] == "p") & values["table"].isin(["table1", "table2", "table3"])].itertuples():
        marked, below = row.reported.endswith("*"), _significant(row.reported, row.value, alpha)
        printed, subject = _printed_p(row.reported), _subject(row.table, row.variable)
        if marked == below:
            note, sentence = "", f"{subject}: {printed} is {'marked' if marked else 'unmarked'}, as the table's rule requires."
        elif below:
            note = "p < alpha printed without the asterisk"
            sentence = f"{subject}: {printed} is below {alpha:g} but carries no asterisk."
        else:
            note = "asterisk on p ≥ alpha"
            sentence = f"{subject}: {printed} is not below {alpha:g} but carries an asterisk."
        rows.append(_row(check="significance marker", kind="missing or wrong marker", table=row.table, variable=row.variable,
                         stratum=_strata(TYPES if row.table == "table3" else GROUPS), statistic="p", published=row.reported,
                         recomputed="marked" if below else "not marked",
                         verdict="consistent" if marked == below else "inconsistent",
                         note=note, sentence=sentence))
    return _frame(rows)


def load_prose_claims() -> pd.DataFrame:
    """Statements of the paper's text, transcribed as data (see :func:`vertebroplasty.paper.published.prose_claims`)."""
    return published.prose_claims()


def claim_text(first: str, seconds: list[str], relation: str, significance: str) -> str:
    """A transcribed claim in words.

    >>> claim_text("B", ["A"], "lower", "significant")
    'group B is significantly lower than group A'
    >>> claim_text("A", ["B"], "", "not significant")
    'group A and group B do not differ significantly'
    >>> claim_text("dist_A", ["dist_B", "dist_C"], "lower", "")
    'type A is lower than type B and type C'
    """
    others = [_stratum(second) for second in seconds]
    if relation:
        adverb = {"significant": "significantly ", "not significant": "not significantly "}.get(significance, "")
        return f"{_stratum(first)} is {adverb}{relation} than {' and '.join(others)}"
    verb = {"significant": "differ significantly", "not significant": "do not differ significantly"}.get(significance, "differ")
    return f"{' and '.join([_stratum(first), *others])} {verb}"


def prose_claims(values: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Each transcribed statement of the text against the tables: the direction of the means and the printed p."""
    values = published.load() if values is None else values
    means = values[values["statistic"] == "mean"].set_index(["table", "variable", "stratum"])["value"]
    printed = values[values["statistic"] == "mean"].set_index(["table", "variable", "stratum"])["reported"]  # as the paper prints them
    p_values = values[values["statistic"] == "p"].set_index(["table", "variable"])
    rows = []
    for claim in load_prose_claims().itertuples():
        problems, seconds = [], claim.second.split("|")
        for second in seconds if claim.relation else []:
            first_mean, other = means[(claim.table, claim.variable, claim.first)], means[(claim.table, claim.variable, second)]
            direction = "lower" if first_mean < other else "higher"
            if direction != claim.relation:
                problems.append(f"{_stratum(claim.first)} is {direction} than {_stratum(second)} "
                                f"({printed[(claim.table, claim.variable, claim.first)]} vs {printed[(claim.table, claim.variable, second)]})")
        p_row = p_values.loc[(claim.table, claim.variable)]
        significant = _significant(p_row["reported"], p_row["value"], alpha)
        if claim.significance and (claim.significance == "significant") != significant:
            problems.append(f"the table's p is {p_row['reported'].rstrip('*')}")
        stated = claim_text(claim.first, seconds, claim.relation, claim.significance)
        subject, source = _subject(claim.table, claim.variable), SOURCES.get(claim.source, claim.source)
        sentence = (f"{subject}: the {source} says {stated}, but {' and '.join(problems)}." if problems else
                    f"{subject}: the {source} says {stated}, as the table shows.")
        rows.append(_row(check=f"text ({claim.source})", kind="text contradicts table", table=claim.table,
                         variable=claim.variable, stratum=_strata([claim.first, *seconds]), statistic="text",
                         published=f"“{claim.quote}”", recomputed=stated,
                         verdict="inconsistent" if problems else "consistent", note="; ".join(problems), sentence=sentence))
    return _frame(rows)


def pairwise_claims(values: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Each claim that one distribution type differs from *each* of several others, tested pair by pair.

    For every Table 3 claim of ``prose-claims.csv`` whose ``second`` lists several types, and every pair, the
    audit's pairwise test :data:`PAIRWISE_TEST` (:func:`tukey_kramer`, k = 3 types) from the printed means, SDs and
    type sizes.  A pair is *consistent* (the claim supported) when the difference is in the claimed direction and
    p < ``alpha``.  Games–Howell (:func:`games_howell`) is reported in the note as a sensitivity value only.
    """
    values = published.load() if values is None else values
    summaries = _summaries(values[values["table"] == "table3"]).set_index(["variable", "stratum"])
    table3_means = values[(values["table"] == "table3") & (values["statistic"] == "mean")]
    printed = table3_means.set_index(["variable", "stratum"])["reported"]  # the means as the paper prints them
    claims = load_prose_claims()
    rows = []
    for claim in claims[(claims["table"] == "table3") & claims["second"].str.contains("|", regex=False)].itertuples():
        summary = summaries.loc[[(claim.variable, stratum) for stratum in TYPES]]
        means, sds, ns = summary["mean"].to_numpy(), summary["sd"].to_numpy(), summary["n"].to_numpy()
        first = TYPES.index(claim.first)
        for second in claim.second.split("|"):
            other = TYPES.index(second)
            tukey, howell = (test(means, sds, ns, first, other) for test in (tukey_kramer, games_howell))
            difference = means[first] - means[other]
            in_direction = difference < 0 if claim.relation == "lower" else difference > 0
            supported = in_direction and tukey[2] < alpha  # the audit's pairwise test, fixed in advance (PAIRWISE_TEST)
            pair, subject = f"{_stratum(claim.first)} vs {_stratum(second)}", _subject(claim.table, claim.variable)
            evidence = (f"{PAIRWISE_TEST} on the printed means and SDs with the type sizes of Table 1 gives "
                        f"p {'' if tukey[2] < 0.001 else '= '}{_p3(tukey[2])}")
            claimed = f"{_stratum(claim.first)} has {claim.relation} {_name(claim.variable)} than {_stratum(second)}"
            if supported:
                sentence = f"{subject}: the claim that {claimed} holds: {evidence}."
            elif not in_direction:
                sentence = (f"{subject}: the claim that {claimed} fails: the printed means go the other way "
                            f"({printed[(claim.variable, TYPES[first])]} vs {printed[(claim.variable, TYPES[other])]}); {evidence}.")
            else:
                sentence = f"{subject}: the claim that {claimed} is not supported: {evidence}, not below {alpha:g}."
            rows.append(_row(check="pairwise claim from summary statistics", kind="unsupported claim", table=claim.table,
                             variable=claim.variable, stratum=pair, statistic="claim", published=f"“{claim.quote}”",
                             recomputed=f"{PAIRWISE_TEST} p = {tukey[2]:.4f}",
                             verdict="consistent" if supported else "inconsistent",
                             note=(f"claimed {claim.relation} in the {SOURCES.get(claim.source, claim.source)}; "
                                   f"mean difference {difference:+.2f}; "
                                   f"Tukey–Kramer q = {tukey[0]:.3f}, df = {tukey[1]:.0f}, {_p_is(tukey[2])}; "
                                   f"sensitivity, not deciding: Games–Howell q = {howell[0]:.3f}, df = {howell[1]:.1f}, "
                                   f"{_p_is(howell[2])}; k = 3 types"),
                             sentence=sentence))
    return _frame(rows)


# --- the audit and its findings --------------------------------------------------------------------------------------

def run_audit(alpha: float = 0.05) -> pd.DataFrame:
    """Every check, one tidy table with :data:`COLUMNS` (``OUT/results/audit.csv``)."""
    values = published.load()
    parts = [t_test_p_values(values), anova_p_values(values), chi_square_p_values(values), grim(values), grimmer(values),
             derived_identities(values), significance_markers(values, alpha), prose_claims(values, alpha),
             pairwise_claims(values, alpha)]
    return pd.concat(parts, ignore_index=True)


def _anchor(row: pd.Series) -> str:
    """``audit-finding-<table>-<variable>-<what>``, lower case, only ``[a-z0-9-_]``."""
    what = {"impossible p-value": "p", "missing or wrong marker": "marker", "text contradicts table": "text"}.get(row["kind"])
    what = what or f"{row['statistic']}-{row['stratum']}"
    anchor = re.sub(r"[^a-z0-9_-]", "-", f"audit-finding-{row['table']}-{row['variable']}-{what}".lower())
    return re.sub(r"-+", "-", anchor).strip("-")


def findings(checks: pd.DataFrame) -> pd.DataFrame:
    """The inconsistent checks as numbered findings, one per defect, ranked by what they do to the paper.

    Findings are numbered in the order of :data:`CONSEQUENCES` (a claim a conclusion rests on first, misprints that
    leave the conclusions unchanged last), then of :data:`KINDS` and tables.  One defect is one finding: where the text
    states a claim that contradicts the table and the same claim also fails pair by pair, the pairs' evidence joins the
    contradiction's finding, which then counts as undermining a conclusion.

    Parameters
    ----------
    checks : pandas.DataFrame
        The check table of :func:`run_audit`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FINDING_COLUMNS`: ``number`` 1..N, ``consequence``, ``kind``, ``table``, ``variable``,
        ``label``, ``statistic``, ``sentence`` (plain sentences with their evidence) and ``anchor``, a unique MyST
        label (``audit-finding-table3-lka_loss-p``; only ``[a-z0-9_-]``; a repeated one gets ``-2``, ``-3``).
    """
    chosen = checks[checks["verdict"] == "inconsistent"].copy()
    contradictions = chosen["kind"] == "text contradicts table"
    folded = []
    for index, row in chosen[contradictions].iterrows():
        same = chosen[(chosen["kind"] == "unsupported claim") & (chosen["table"] == row["table"])
                      & (chosen["variable"] == row["variable"])]
        if same.empty:
            continue
        pairs = "; ".join(f"{pair} p = {_p3(float(recomputed.rsplit('= ', 1)[1]))}"
                          for pair, recomputed in zip(same["stratum"], same["recomputed"]))
        chosen.loc[index, "sentence"] = f"{row['sentence']} Pair by pair ({PAIRWISE_TEST}): {pairs}."
        chosen.loc[index, "consequence"] = CONSEQUENCES[0]
        folded += list(same.index)
    chosen = chosen.drop(index=folded)
    chosen["order"] = chosen["consequence"].map(CONSEQUENCES.index) * len(KINDS) + chosen["kind"].map(KINDS.index)
    chosen = chosen.sort_values(["order", "table"], kind="stable").reset_index(drop=True)
    chosen["number"] = np.arange(1, len(chosen) + 1)
    anchors = chosen.apply(_anchor, axis=1) if len(chosen) else pd.Series(dtype=str)
    repeat = anchors.groupby(anchors).cumcount()
    chosen["anchor"] = [anchor if i == 0 else f"{anchor}-{i + 1}" for anchor, i in zip(anchors, repeat)]
    return chosen[FINDING_COLUMNS]


def explanation_for(table: str, variable: str, statistic: str, checks: pd.DataFrame) -> str | None:
    """The anchor of the first finding about one published number, or None.

    Parameters
    ----------
    table, variable, statistic : str
        The published number, as in ``published-values.csv`` (``"table3", "lka_loss", "p"``).
    checks : pandas.DataFrame
        The check table of :func:`run_audit`.
    """
    found = findings(checks).query("table == @table and variable == @variable and statistic == @statistic")
    return found["anchor"].iloc[0] if len(found) else None
