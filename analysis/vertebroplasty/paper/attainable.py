"""Which p-values printed summaries allow: the arithmetic of the reproduction audit, from published numbers alone.

A printed mean or SD stands for every value that rounds to it.  :func:`attainable` gives the p-values a test on such
summaries can produce: on whole-number scales only the sums and sums of squares GRIM and GRIMMER allow
(:func:`possible_sums`, :func:`feasible_sums`), so a few discrete p; otherwise the range of p over the rounding box.
:mod:`vertebroplasty.paper.audit` turns the answers into checks and findings.

References
----------
Brown, N. J. L. & Heathers, J. A. J. (2017). The GRIM test. *Social Psychological and Personality Science* 8(4),
363–369.  Anaya, J. (2016). The GRIMMER test. *PeerJ Preprints* 4:e2400v1.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize
from statsmodels.stats.oneway import anova_generic

from vertebroplasty.contract import dictionary


def _half(decimals: int) -> float:
    return 0.5 * 10.0 ** -int(decimals)


# --- statistics from summaries -----------------------------------------------------------------------------------

def anova_from_summaries(means, sds, ns) -> tuple[float, float]:
    r"""F and p of a one-way ANOVA (equal variances) from group means, SDs and sizes.

    .. math:: F = \frac{\sum_i n_i (\bar x_i - \bar x)^2 / (k - 1)}{\sum_i (n_i - 1) s_i^2 / (N - k)},
              \qquad p = P(F_{k-1,\,N-k} > F)

    computed by :func:`statsmodels.stats.oneway.anova_generic` (``use_var="equal"``).  With two groups,
    :math:`F = t^2` of Student's t-test and p is the same.

    Parameters
    ----------
    means, sds, ns : array_like
        Mean, SD (ddof = 1) and size of each of the k groups.

    Returns
    -------
    (F, p) : tuple of float

    Examples
    --------
    >>> f, p = anova_from_summaries([4, 7, 10], [2, 2, 2], [3, 3, 3])  # {2,4,6}, {5,7,9}, {8,10,12}: 27 / 4
    >>> round(f, 6), round(p, 4)
    (6.75, 0.0291)
    """
    means, sds, ns = (np.asarray(x, dtype=float) for x in (means, sds, ns))
    result = anova_generic(means, sds**2, ns, use_var="equal")
    return float(result.statistic), float(result.pvalue)


# --- GRIM, GRIMMER and the attainable p-values ---------------------------------------------------------------------

def possible_sums(mean: float, decimals: int, n: int, step: int = 1) -> list[int]:
    r"""Sums of ``n`` values on a grid of ``step`` whose mean prints as ``mean`` (GRIM; Brown & Heathers 2017).

    The sum S (a multiple of ``step``) must satisfy :math:`|S/n - \text{mean}| \le \tfrac12 10^{-d}`.

    Parameters
    ----------
    mean : float
        The printed mean, with ``decimals`` decimals.
    n : int
        Number of values.
    step : int
        Grid of the values (1 for VAS, 2 for ODI).

    Returns
    -------
    list of int
        The possible sums, in the values' units (empty: the mean is impossible).

    Examples
    --------
    >>> possible_sums(2.40, 2, 5), possible_sums(2.33, 2, 5)
    ([12], [])
    """
    half = _half(decimals)
    low, high = math.ceil((mean - half) * n / step - 1e-9), math.floor((mean + half) * n / step + 1e-9)
    return [k * step for k in range(low, high + 1)]


def feasible_sums(mean: float, sd: float, n: int, mean_decimals: int, sd_decimals: int, step: int = 1) -> np.ndarray:
    r"""Every (S, Q) — sum and sum of squares of ``n`` whole numbers, in units of ``step`` — giving the printed mean and SD.

    GRIM (Brown & Heathers 2017) gives the sums S; for each, GRIMMER (Anaya 2016) the sums of squares Q with

    .. math:: (n - 1)\,(s_{low}/\text{step})^2 \le Q - S^2/n \le (n - 1)\,(s_{high}/\text{step})^2,
              \qquad Q \equiv S \pmod 2

    (a square has the parity of its root).  Parity is necessary, not sufficient, so the set is a superset of what
    whole numbers can produce: whatever lies outside it is truly impossible.

    Parameters
    ----------
    mean, sd : float
        The printed mean and SD, with ``mean_decimals`` and ``sd_decimals`` decimals.
    n : int
        Number of values.
    step : int
        Grid of the values (1 for VAS, 2 for ODI).

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` integers: S and Q in units of ``step`` (no rows: the mean or the SD is impossible).

    Examples
    --------
    >>> feasible_sums(0.50, 0.58, 4, 2, 2).tolist()  # 0/1 values: sum 2, squares 2 (SD 0.577)
    [[2, 2]]
    """
    half_sd = _half(sd_decimals)
    pairs = []
    for total in possible_sums(mean, mean_decimals, n, step):
        s = total // step
        squares = np.arange(math.ceil(max(sd - half_sd, 0) ** 2 * (n - 1) / step**2 + s * s / n - 1e-9),
                            math.floor((sd + half_sd) ** 2 * (n - 1) / step**2 + s * s / n + 1e-9) + 1)
        pairs += [(s, int(q)) for q in squares[squares % 2 == s % 2]]
    return np.array(pairs, dtype=int).reshape(-1, 2)


def grimmer_possible(mean: float, sd: float, n: int, mean_decimals: int, sd_decimals: int, step: int = 1) -> bool:
    """GRIMMER: is there a sum and a sum of squares of whole numbers (see :func:`feasible_sums`) that give both?"""
    return len(feasible_sums(mean, sd, n, mean_decimals, sd_decimals, step)) > 0


def _whole_number_p_values(summary: pd.DataFrame, step: int) -> np.ndarray:
    """The distinct exact p over every combination of the strata's feasible (S, Q); empty when a stratum has none."""
    sets = [feasible_sums(r.mean, r.sd, r.n, r.mean_decimals, r.sd_decimals, step) for r in summary.itertuples()]
    if any(len(pairs) == 0 for pairs in sets):
        return np.array([])
    choice = np.stack(np.meshgrid(*[np.arange(len(pairs)) for pairs in sets], indexing="ij"), -1).reshape(-1, len(sets))
    sums = np.stack([pairs[choice[:, i]] for i, pairs in enumerate(sets)], axis=1).astype(float)  # (combination, stratum, S|Q)
    n = summary["n"].to_numpy(float)
    means = step * sums[..., 0] / n
    sds = step * np.sqrt((sums[..., 1] - sums[..., 0] ** 2 / n) / (n - 1))
    return np.unique(np.round([anova_from_summaries(m, s, n)[1] for m, s in zip(means, sds)], 12))


def _box_p_range(summary: pd.DataFrame) -> tuple[float, float]:
    """Smallest and largest p over the rounding box of the printed means and SDs.

    F falls as any SD grows.  The between-groups sum of squares is a convex quadratic in the means, so it is
    largest at a corner of the box and smallest where the means are pulled towards one common value c
    (:math:`\\min_c \\sum n_i\\,\\mathrm{dist}(c, [m_i^-, m_i^+])^2`, a convex problem in one variable).
    """
    n = summary["n"].to_numpy(float)
    mean_half = summary["mean_decimals"].map(_half).to_numpy()
    low, high = summary["mean"].to_numpy() - mean_half, summary["mean"].to_numpy() + mean_half
    sd_half = summary["sd_decimals"].map(_half).to_numpy()
    sd_low, sd_high = np.maximum(summary["sd"].to_numpy() - sd_half, 1e-12), summary["sd"].to_numpy() + sd_half
    p_low = min(anova_from_summaries(corner, sd_low, n)[1] for corner in itertools.product(*zip(low, high)))
    centre = optimize.minimize_scalar(lambda c: (n * (np.clip(c, low, high) - c) ** 2).sum(),
                                      bounds=(low.min(), high.max()), method="bounded", options={"xatol": 1e-10}).x
    return p_low, anova_from_summaries(np.clip(centre, low, high), sd_high, n)[1]


class Attainable(NamedTuple):
    """The p attainable from printed summaries, and whether the published p is among them."""

    low: float
    high: float
    points: np.ndarray  # the distinct attainable p on a whole-number scale; empty otherwise
    consistent: bool


def attainable(summary: pd.DataFrame, variable: str, interval: tuple[float, float]) -> Attainable:
    """The p a test can give from the printed summaries (columns mean, sd, mean_decimals, sd_decimals, n; one row per
    stratum), and whether one of them lies in the published ``interval`` [low, high).

    Whole-number scales: every combination across strata of their :func:`feasible_sums` gives one exact p, so the
    attainable p form a discrete set and one of its points must lie in the interval (lying between two points is
    not enough).  Otherwise (or when a stratum has no feasible sums): the p fill [low, high] over the rounding box
    (see :func:`_box_p_range`).

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per stratum: ``mean, sd, mean_decimals, sd_decimals, n``.  Two rows give Student's t-test p,
        three the one-way ANOVA p (:func:`anova_from_summaries`).
    variable : str
        Results name; its step comes from :func:`vertebroplasty.contract.dictionary.integer_scales`.
    interval : (float, float)
        The true p that print as the published p, [low, high) (see :func:`_p_interval`).

    Returns
    -------
    Attainable
        ``low``, ``high``, ``points`` (empty off whole-number scales) and ``consistent``.
    """
    step = dictionary.integer_scales().get(variable)
    points = _whole_number_p_values(summary, step) if step else np.array([])
    if len(points):
        return Attainable(points.min(), points.max(), points, bool(((points >= interval[0]) & (points < interval[1])).any()))
    low, high = _box_p_range(summary)
    return Attainable(low, high, points, low < interval[1] and high >= interval[0])
