"""What the reconstruction must meet: the published summaries as targets, grouped into families of variables that are
fitted together (a measurement with the indices derived from it), and how a candidate cohort's statistic is judged
against a printed, rounded value.  :mod:`vertebroplasty.paper.synthetic.reconstruction` fits the cohort to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from vertebroplasty.contract import derivation, dictionary
from vertebroplasty.paper import published as published_values

# --------------------------------------------------------------------------- published values

def published_counts(published: pd.DataFrame, variable: str) -> dict[tuple[str, str], int]:
    """Counts of one categorical variable by (group, level), from Table 1/2 rows like ``A:M``."""
    rows = published[(published["variable"] == variable) & (published["statistic"] == "count")]
    counts = {}
    for stratum, value in zip(rows["stratum"], rows["value"]):
        group, level = stratum.split(":")
        counts[(group, level)] = int(value)
    return counts


# --------------------------------------------------------------------------- targets and families

@dataclass
class Target:
    """One published mean or SD that the rows must reproduce at ``decimals`` places."""

    variable: str
    stratum: str
    statistic: str
    value: float
    decimals: int
    rows: np.ndarray  # positions of the stratum's patients

    def __post_init__(self) -> None:
        self.rows = np.flatnonzero(self.rows) if self.rows.dtype == bool else self.rows


@dataclass
class PValueTarget:
    """A published p that the rows should reproduce where the paper's own summaries allow it (stretch goal).

    ``low``/``high`` bound the true p that prints as the published value;
    ``strata`` are the compared strata (the two groups for a t-test, the three
    distribution types for the ANOVA of Table 3).
    """

    variable: str
    table: str
    low: float
    high: float
    strata: tuple[str, ...]


@dataclass
class Family:
    """Raw columns whose values are fitted together (they share derived indices)."""

    name: str
    columns: list[str]
    step: float  # recording grid
    lower: dict[str, float]
    upper: dict[str, float]
    initial: Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]
    plausibility: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None  # of the values by results name
    fixed: dict[tuple[int, str], float] = field(default_factory=dict)


def family_values(frame: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every results variable computable from the raw arrays in ``frame`` (raw and derived), keyed by results name.

    The same values as :func:`vertebroplasty.contract.derivation.derive_values`, from the same definitions; the definitions
    that apply are looked up once per set of columns (:func:`_derivations`), since a fit calls this ~10⁵ times.

    >>> values = family_values({"fvah_post_mm": np.array([22.0]), "fvah_final_mm": np.array([21.5])})
    >>> sorted(values), float(values["fvahl"][0])
    (['fvah_final', 'fvah_post', 'fvahl'], 0.5)
    """
    variable_of = _variable_of_column()
    values = {variable_of[column]: array for column, array in frame.items()}
    for name, function, inputs in _derivations(frozenset(values)):
        values[name] = function(*(values[variable] for variable in inputs))
    return values


@cache
def _derivations(available: frozenset[str]) -> tuple[tuple[str, Callable, tuple[str, ...]], ...]:
    """The derived indices :func:`vertebroplasty.contract.derivation.derive_values` computes from ``available``, in its order:
    ``(name, function, inputs)`` (an index may use an earlier one, as AVHRR uses the AVHRs)."""
    plan, known = [], set(available)
    for name, definition in dictionary.load_derived_indices().iterrows():
        if known.issuperset(definition["inputs"]):
            plan.append((name, derivation.KINDS[definition["kind"]], tuple(definition["inputs"])))
            known.add(name)
    return tuple(plan)


@cache
def _variable_of_column() -> dict[str, str]:
    return dictionary.load_dictionary()["variable"].to_dict()


def stratum_mask(skeleton: pd.DataFrame, stratum: str) -> np.ndarray:
    """Rows of a stratum: ``A``/``B`` by treatment group, ``dist_A`` … by cement distribution."""
    between, level = dictionary.parse_stratum(stratum)
    if between == "cement_distribution":
        return skeleton["cement_distribution"].to_numpy() == level
    return skeleton["group"].to_numpy() == stratum


def family_targets(published: pd.DataFrame, skeleton: pd.DataFrame, variables: set[str]) -> list[Target]:
    """The published means and SDs that concern ``variables``."""
    rows = published[published["variable"].isin(variables) & published["statistic"].isin(["mean", "sd"])
                     & published["table"].isin(["table1", "table2", "table3"])]
    return [Target(row.variable, row.stratum, row.statistic, float(row.value), int(row.decimals), stratum_mask(skeleton, row.stratum))
            for row in rows.itertuples()]


def consistent_p_values() -> pd.DataFrame:
    """The published t-test and ANOVA p-values that the audit finds consistent with the published means and SDs.

    Columns ``table, variable, low, high``: the interval of true p that prints as the published value.
    """
    from vertebroplasty.paper import audit

    values = published_values.load()
    checks = pd.concat([audit.t_test_p_values(values), audit.anova_p_values(values)])
    checks = checks[checks["verdict"] == "consistent"]
    p_rows = values[values["statistic"] == "p"].set_index(["table", "variable"])
    intervals = [audit._p_interval(p_rows.loc[(row.table, row.variable)]) for row in checks.itertuples()]
    return pd.DataFrame({"table": checks["table"].to_numpy(), "variable": checks["variable"].to_numpy(),
                         "low": [low for low, _ in intervals], "high": [high for _, high in intervals]})


def p_value_targets(variables: set[str], consistent: pd.DataFrame) -> list[PValueTarget]:
    """The p-value targets among ``consistent`` (see :func:`consistent_p_values`) that concern ``variables``."""
    targets = []
    for check in consistent[consistent["variable"].isin(variables)].itertuples():
        strata = ("A", "B") if check.table != "table3" else ("dist_A", "dist_B", "dist_C")
        targets.append(PValueTarget(check.variable, check.table, check.low, check.high, strata))
    return targets


def p_from_summaries(means: list, sds: list, sizes: list[int]) -> np.ndarray:
    """p of Student's t-test (two strata) or the one-way ANOVA (more) from each stratum's mean, SD (ddof=1) and size.

    Means and SDs may be arrays that broadcast together (candidates, variables).  The same p as
    :func:`scipy.stats.ttest_ind` and :func:`scipy.stats.f_oneway` on the values, and the test the audit computes
    from the printed summaries; from summaries, a fit computes it at a tenth of their cost ~10⁵ times.

    >>> a, b, c = np.array([2.0, 4, 6]), np.array([5.0, 9, 9]), np.array([8.0, 10, 15])
    >>> def summaries(*samples):
    ...     return [x.mean() for x in samples], [x.std(ddof=1) for x in samples], [len(x) for x in samples]
    >>> bool(np.isclose(p_from_summaries(*summaries(a, b)), stats.ttest_ind(a, b).pvalue))
    True
    >>> bool(np.isclose(p_from_summaries(*summaries(a, b, c)), stats.f_oneway(a, b, c).pvalue))
    True
    """
    if len(means) == 2:
        return stats.ttest_ind_from_stats(means[0], sds[0], sizes[0], means[1], sds[1], sizes[1]).pvalue
    total, k = sum(sizes), len(means)
    grand = sum(n * mean for n, mean in zip(sizes, means)) / total
    between = sum(n * (mean - grand) ** 2 for n, mean in zip(sizes, means)) / (k - 1)
    within = sum((n - 1) * sd**2 for n, sd in zip(sizes, sds)) / (total - k)
    return stats.f.sf(between / within, k - 1, total - k)


def statistic(values: np.ndarray, target: Target) -> float:
    """The mean or sample SD (ddof=1) of a stratum, ignoring missing values."""
    selected = values[target.rows]
    if np.isnan(selected).any():
        selected = selected[~np.isnan(selected)]
    return float(selected.mean()) if target.statistic == "mean" else float(selected.std(ddof=1))


def matches(computed: float, target: Target) -> bool:
    """Does ``computed`` round to the published value at its published precision?"""
    return published_values.rounds_to(computed, target.value, target.decimals, "")
