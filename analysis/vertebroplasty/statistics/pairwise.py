"""Pairwise comparisons after a test across the cement-distribution types, one tidy row per variable and pair.

Paper mode: Tukey's HSD, or Games–Howell where Levene's test rejects equal variances, both computed from each level's
mean, SD and size (:func:`tukey_kramer`, :func:`games_howell`), as the audit computes them from published summaries.  Robust
mode: Dunn's test on the Kruskal–Wallis ranks with Holm's adjustment (scikit-posthocs).  However many levels are
present, Tukey and Games–Howell compare every pair of levels with at least two values (each needs a variance);
Dunn ranks every level with a value together, as the Kruskal–Wallis test does, and compares each pair of them.
Where the omnibus test has no p (see :func:`vertebroplasty.statistics.comparisons.compare_several_groups`) no pair is given.

Formulas (levels i, j with n_i values, mean m_i, variance s_i²; N values and k levels in all):

* Tukey: q = |m_i − m_j| / √(MSE / 2 · (1/n_i + 1/n_j)), p from the studentized range with k and N − k degrees
  of freedom (Tukey–Kramer for unequal sizes).
* Games–Howell: t = (m_i − m_j) / √(s_i²/n_i + s_j²/n_j), Welch–Satterthwaite df, p from the studentized range
  at |t| √2 with k levels, and the interval m_i − m_j ± q(1 − α; k, df) / √2 · √(s_i²/n_i + s_j²/n_j) (Games & Howell, 1976).
* Dunn: z = (R̄_i − R̄_j) / √((N (N + 1) / 12 − Σ(t³ − t) / (12 (N − 1))) (1/n_i + 1/n_j)) on the mid-ranks of all
  N values (t: sizes of the tied groups), two-sided normal p, Holm's adjustment over the k (k − 1) / 2 pairs
  (Dunn, 1964).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from vertebroplasty.statistics import comparisons, effect_sizes

COLUMNS = ["variable", "method", "first", "second", "n_first", "n_second", "mean_difference", "ci_low", "ci_high", "p_adjusted",
           "mean_rank_difference", "hodges_lehmann", "rank_biserial"]
METHOD_NAMES = {"tukey": "Tukey HSD", "games_howell": "Games–Howell", "dunn": "Dunn's test with Holm's adjustment"}


def pairwise(data: pd.DataFrame, variable: str, between: str, method: str, confidence: float = 0.95) -> pd.DataFrame:
    """All pairs of levels of ``between`` for one measurement: :data:`COLUMNS`.

    ``mean_difference`` is first − second; ``ci_low``/``ci_high`` are Tukey's or Games–Howell's simultaneous
    interval of it (:func:`games_howell_interval`); ``p_adjusted`` is the method's multiplicity-adjusted p.  Dunn's pairs
    are described in the rank test's own terms (the difference of means is left empty): the ``hodges_lehmann`` shift
    (median of the differences between the two levels' values) with its Moses interval in ``ci_low``/``ci_high``, made
    simultaneous over the pairs by Bonferroni (each at 1 − (1 − ``confidence``) / number of pairs), the
    ``mean_rank_difference`` (first − second, on the joint mid-ranks Dunn's z is built on) and the ``rank_biserial``
    correlation of the pair (positive when the first level tends to be larger).  ``method`` is ``tukey``,
    ``games_howell`` or ``dunn`` (formulas in the module docstring).  No rows (an empty frame with :data:`COLUMNS`)
    when fewer than two levels can be compared, no value varies, or (Tukey, Games–Howell) no level varies within.

    >>> frame = pd.DataFrame({"cement_distribution": list("AAABBB"), "x": [1.0, 2, 3, 4, 5, 7]})
    >>> pairwise(frame, "x", "cement_distribution", "dunn")[["first", "second", "n_first"]].values.tolist()
    [['A', 'B', 3]]
    """
    if method not in METHOD_NAMES:
        raise ValueError(f"unknown pairwise method {method!r}")
    levels = comparisons.defined_levels(data, between)
    groups = dict(zip(levels, comparisons.samples(data, variable, between, levels)))
    usable = [level for level in levels if len(groups[level]) >= (1 if method == "dunn" else 2)]
    values = np.concatenate([groups[level] for level in usable]) if usable else np.array([])
    if len(usable) < 2 or len(values) - len(usable) < 1 or np.ptp(values) == 0:
        return pd.DataFrame(columns=COLUMNS)
    if method != "dunn" and all(np.ptp(groups[level]) == 0 for level in usable):
        return pd.DataFrame(columns=COLUMNS)  # no variation within any level: the F (and q, t) statistics are undefined
    rows, rank_effects = [], {}
    if method in ("tukey", "games_howell"):
        means = [groups[level].mean() for level in usable]
        sds = [groups[level].std(ddof=1) for level in usable]
        sizes = [len(groups[level]) for level in usable]
        for i, j in itertools.combinations(range(len(usable)), 2):
            if method == "tukey":
                _, _, p = tukey_kramer(means, sds, sizes, i, j)
                low, high = tukey_kramer_interval(means, sds, sizes, i, j, confidence)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):  # two levels without variation: p is NaN, not an error
                    try:
                        _, df, p = games_howell(means, sds, sizes, i, j)
                        low, high = games_howell_interval(means, sds, sizes, i, j, df, confidence)
                    except ZeroDivisionError:
                        p, low, high = np.nan, np.nan, np.nan
            rows.append((usable[i], usable[j], low, high, float(p)))
    elif method == "dunn":
        import scikit_posthocs

        frame = pd.DataFrame({"value": np.concatenate([groups[level] for level in usable]),
                              "level": np.repeat(usable, [len(groups[level]) for level in usable])})
        matrix = scikit_posthocs.posthoc_dunn(frame, val_col="value", group_col="level", p_adjust="holm")
        mean_ranks = pd.Series(stats.rankdata(frame["value"]), index=frame.index).groupby(frame["level"]).mean()
        pairs = list(itertools.combinations(usable, 2))
        simultaneous = 1 - (1 - confidence) / len(pairs)  # Bonferroni over the pairs, as the other methods' intervals are joint
        for first, second in pairs:
            effects = _rank_effects(groups[first], groups[second], mean_ranks[first] - mean_ranks[second], simultaneous)
            rows.append((first, second, effects.pop("ci_low"), effects.pop("ci_high"), float(matrix.loc[first, second])))
            rank_effects[(first, second)] = effects
    empty = dict.fromkeys(("mean_rank_difference", "hodges_lehmann", "rank_biserial"), np.nan)
    records = [{"variable": variable, "method": METHOD_NAMES[method], "first": first, "second": second,
                "n_first": len(groups[first]), "n_second": len(groups[second]),
                "mean_difference": np.nan if method == "dunn" else float(groups[first].mean() - groups[second].mean()),
                "ci_low": low, "ci_high": high, "p_adjusted": p, **rank_effects.get((first, second), empty)}
               for first, second, low, high, p in rows]
    return pd.DataFrame(records, columns=COLUMNS)


def contrast(pair) -> float:
    """The signed estimate whose interval (``ci_low``, ``ci_high``) a pair's direction is read from: the difference of
    means (Tukey, Games–Howell) or, for Dunn's rank test, the Hodges–Lehmann shift."""
    return pair.mean_difference if pd.notna(pair.mean_difference) else pair.hodges_lehmann


def _rank_effects(first: np.ndarray, second: np.ndarray, mean_rank_difference: float, confidence: float) -> dict[str, float]:
    """A Dunn pair's rank-based effects: the mean-rank difference, the Hodges–Lehmann shift with its (Moses) interval at
    ``confidence``, and the rank-biserial r."""
    u_first = stats.mannwhitneyu(first, second, alternative="two-sided").statistic
    shift, low, high = effect_sizes.hodges_lehmann(first, second, confidence)
    return {"mean_rank_difference": float(mean_rank_difference), "hodges_lehmann": shift, "ci_low": low, "ci_high": high,
            "rank_biserial": effect_sizes.rank_biserial(float(u_first), len(first), len(second))}


@functools.lru_cache(maxsize=256)
def studentized_range_quantile(confidence: float, k: int, df: float) -> float:
    """q(``confidence``; k, df), the studentized range quantile.  Cached: scipy inverts the distribution by numerical
    integration (about 0.1 s a quantile), and every measurement with the same numbers of levels and values asks for the
    same one."""
    return float(stats.studentized_range.ppf(confidence, k, df))


def tukey_kramer_interval(means, sds, ns, first: int, second: int, confidence: float = 0.95) -> tuple[float, float]:
    r"""The simultaneous interval of a Tukey–Kramer difference (``first`` − ``second``), as :func:`scipy.stats.tukey_hsd`
    gives it from raw values:

    .. math:: \bar x_i - \bar x_j \pm q_{1-\alpha;\,k,\,N-k}\sqrt{\frac{MSE}{2}\left(\frac1{n_i} + \frac1{n_j}\right)}

    with MSE pooled over all k groups (:func:`tukey_kramer`).
    """
    means, sds, ns = (np.asarray(x, dtype=float) for x in (means, sds, ns))
    mse, df = _pooled_variance(sds, ns)
    half = studentized_range_quantile(confidence, len(ns), df) * math.sqrt(mse / 2 * (1 / ns[first] + 1 / ns[second]))
    difference = means[first] - means[second]
    return float(difference - half), float(difference + half)


def games_howell_interval(means, sds, ns, first: int, second: int, df: float, confidence: float = 0.95) -> tuple[float, float]:
    r"""The simultaneous interval of a Games–Howell difference (``first`` − ``second``), as Games and Howell (1976) give it:

    .. math:: \bar x_i - \bar x_j \pm \frac{q_{1-\alpha;\,k,\,df}}{\sqrt 2}\sqrt{\frac{s_i^2}{n_i} + \frac{s_j^2}{n_j}}

    with the Welch–Satterthwaite ``df`` of the pair and the studentized range quantile for the k groups.
    """
    means, sds, ns = (np.asarray(x, dtype=float) for x in (means, sds, ns))
    standard_error = math.sqrt(sds[first] ** 2 / ns[first] + sds[second] ** 2 / ns[second])
    half = studentized_range_quantile(confidence, len(ns), float(df)) / math.sqrt(2) * standard_error
    difference = means[first] - means[second]
    return float(difference - half), float(difference + half)


def pairwise_comparisons(data: pd.DataFrame, variables: list[str], between: str = "cement_distribution", tests: str = "paper",
                         alpha: float = 0.05) -> pd.DataFrame:
    """Pairs for every measurement: Tukey or Games–Howell (by Levene's test) in paper mode, Dunn in robust mode."""
    checks = comparisons.assumption_checks(data, variables, between, alpha).set_index("variable")
    frames = []
    for variable in variables:
        if variable not in checks.index:
            continue
        method = "dunn" if tests == "robust" else ("tukey" if checks.loc[variable, "equal_variances"] else "games_howell")
        frames.append(pairwise(data, variable, between, method))
    frames = [frame for frame in frames if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def tukey_kramer(means, sds, ns, first: int, second: int) -> tuple[float, float, float]:
    r"""Tukey–Kramer comparison of groups ``first`` and ``second`` from summaries: ``(q, df, p)``.

    .. math:: q = \frac{|\bar x_i - \bar x_j|}{\sqrt{\tfrac{MSE}{2}\left(\tfrac1{n_i} + \tfrac1{n_j}\right)}},
              \quad MSE = \frac{\sum_g (n_g - 1) s_g^2}{N - k},\quad df = N - k,

    p from the studentized range distribution with k groups, as :func:`scipy.stats.tukey_hsd` computes it from
    raw values.

    Parameters
    ----------
    means, sds, ns : array_like
        Mean, SD and size of each of the k groups (all of them enter MSE).
    first, second : int
        Positions of the two groups compared.

    Returns
    -------
    (q, df, p) : tuple of float

    References
    ----------
    Kramer, C. Y. (1956). *Biometrics* 12(3), 307–310.
    """
    means, sds, ns = (np.asarray(x, dtype=float) for x in (means, sds, ns))
    mse, df = _pooled_variance(sds, ns)
    q, p = _studentized(means[first] - means[second], mse * (1 / ns[first] + 1 / ns[second]), len(ns), df)
    return q, float(df), p


def games_howell(means, sds, ns, first: int, second: int) -> tuple[float, float, float]:
    r"""Games–Howell comparison (separate variances) of groups ``first`` and ``second`` from summaries: ``(q, df, p)``.

    .. math:: q = \frac{|\bar x_i - \bar x_j|}{\sqrt{\tfrac12\left(\tfrac{s_i^2}{n_i} + \tfrac{s_j^2}{n_j}\right)}},
              \quad df = \frac{(s_i^2/n_i + s_j^2/n_j)^2}{\frac{(s_i^2/n_i)^2}{n_i - 1} + \frac{(s_j^2/n_j)^2}{n_j - 1}}

    (Welch–Satterthwaite), p from the studentized range distribution with k groups, as
    :func:`pingouin.pairwise_gameshowell` computes it from raw values.

    Parameters
    ----------
    means, sds, ns : array_like
        Mean, SD and size of each of the k groups.
    first, second : int
        Positions of the two groups compared.

    Returns
    -------
    (q, df, p) : tuple of float

    References
    ----------
    Games, P. A. & Howell, J. F. (1976). *Journal of Educational Statistics* 1(2), 113–125.
    """
    means, sds, ns = (np.asarray(x, dtype=float) for x in (means, sds, ns))
    v = sds**2 / ns
    df = (v[first] + v[second]) ** 2 / (v[first] ** 2 / (ns[first] - 1) + v[second] ** 2 / (ns[second] - 1))
    q, p = _studentized(means[first] - means[second], v[first] + v[second], len(ns), df)
    return q, float(df), p


def _pooled_variance(sds: np.ndarray, ns: np.ndarray) -> tuple[float, float]:
    """The within-group mean square of k groups from their SDs and sizes, and its N − k degrees of freedom."""
    df = ns.sum() - len(ns)
    return float(((ns - 1) * sds**2).sum() / df), float(df)


def _studentized(difference: float, variance: float, k: int, df: float) -> tuple[float, float]:
    """Studentized range statistic :math:`q = |d| / \\sqrt{V/2}` of a difference with variance V, and its p."""
    q = abs(difference) / math.sqrt(variance / 2)
    return q, float(stats.studentized_range.sf(q, k, df))
