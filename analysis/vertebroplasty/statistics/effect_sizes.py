"""Effect sizes and their confidence intervals, each one function with its formula and source.

Written out here because no maintained library offers them in this form: Hedges' g with its normal-approximation
interval (pingouin computes g but no interval), η² and Cramér's V with intervals from the noncentral F and χ²
distributions (Steiger 2004; Smithson 2003), ε² for the Kruskal–Wallis test, and the Hodges–Lehmann shift with its
distribution-free (Moses) interval, which must also work for a million patients.  Each is tested against hand
computation or a published worked example (``tests/test_effect_sizes.py``).

The level of the η² and Cramér's V intervals.  Both effect sizes are bounded below by 0 and belong to a one-sided test
(the F test, Pearson's χ² test), so their two-sided interval is given at the level 1 − 2α, not 1 − α: with α = 0.05 a
90 % interval (Steiger, 2004, *Psychological Methods* 9:164–182).  Its lower bound is then above 0 exactly when the
test's p is below α — both say that the observed statistic lies beyond the central distribution's 1 − α quantile —
whereas a 95 % interval could start at 0 for a test with p < 0.05.  :func:`effect_interval_level` turns the contrast
level 1 − α (the ``confidence`` of the comparisons, 0.95) into that level (0.90); the comparisons call the interval
functions with it, and the interval functions themselves compute at whatever level they are given.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Bias-corrected standardised mean difference (x − y) / pooled SD × J, J = 1 − 3 / (4 (n_x + n_y) − 9).

    Hedges & Olkin (1985).  NaN when the pooled SD is zero.

    >>> round(hedges_g(np.array([1.0, 2, 3]), np.array([4.0, 5, 7])), 4)  # d = -3.3333 / 1.2910, J = 0.8
    -2.0656
    """
    nx, ny = len(x), len(y)
    pooled = np.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    if not pooled > 0:
        return float("nan")
    return float((x.mean() - y.mean()) / pooled * (1 - 3 / (4 * (nx + ny) - 9)))


def hedges_g_interval(g: float, nx: int, ny: int, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval of Hedges' g: g ± z_{1−α/2} SE, SE = √((n_x + n_y) / (n_x n_y) + g² / (2 (n_x + n_y))).

    Hedges & Olkin (1985), *Statistical Methods for Meta-Analysis*, chapter 5 (large-sample variance of g).

    >>> [round(bound, 4) for bound in hedges_g_interval(0.5, 40, 40)]  # SE = √(0.05 + 0.0015625) = 0.2271
    [0.0549, 0.9451]
    """
    se = np.sqrt((nx + ny) / (nx * ny) + g**2 / (2 * (nx + ny)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return float(g - z * se), float(g + z * se)


def effect_interval_level(confidence: float = 0.95) -> float:
    """The level of an η² or Cramér's V interval that agrees with its test at α = 1 − ``confidence``: 1 − 2α = 2c − 1.

    Steiger (2004): the lower bound of this interval is above 0 exactly when the F (or χ²) test's p is below α.

    >>> round(effect_interval_level(0.95), 10), round(effect_interval_level(0.99), 10)
    (0.9, 0.98)
    """
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must lie between 0.5 and 1 for a 1 − 2α interval, not {confidence!r}")
    return 2 * confidence - 1


def _noncentrality_interval(cdf, observed: float, confidence: float) -> tuple[float, float]:
    """Bounds of a noncentrality parameter λ with cdf(observed; λ) = 1 − α/2 and α/2 (0 when not reachable)."""
    from scipy.optimize import brentq

    tail = (1 - confidence) / 2
    bounds = []
    for target in (1 - tail, tail):
        if cdf(observed, 0.0) < target:
            bounds.append(0.0)
            continue
        upper = max(10.0, observed * 4)
        while cdf(observed, upper) > target:
            upper *= 2
        try:
            bounds.append(brentq(lambda lam, target=target: cdf(observed, lam) - target, 0.0, upper))
        except ValueError:  # scipy's noncentral cdf returns NaN for a very large λ (huge samples): no interval
            bounds.append(np.nan)
    return bounds[0], bounds[1]


def eta_squared_interval(f: float, df_between: float, df_within: float, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of η² by inverting the noncentral F distribution.

    The bounds λ_low, λ_high of the noncentrality parameter solve F_{ncF}(F_obs; df_between, df_within, λ) = 1 − α/2
    and α/2 (a bound is 0 where even λ = 0 leaves F_obs below the quantile); η² = λ / (λ + N) with
    N = df_between + df_within + 1 (Steiger, 2004, *Psychological Methods* 9:164–182).  ``confidence`` is the level
    of this interval; the comparisons pass :func:`effect_interval_level` (0.90 for a test at α = 0.05).

    >>> low, high = eta_squared_interval(5.0, 2, 80)
    >>> bool(low < 5.0 * 2 / (5.0 * 2 + 80) < high)
    True
    """
    total = df_between + df_within + 1

    def cdf(x: float, lam: float) -> float:
        return stats.ncf.cdf(x, df_between, df_within, lam) if lam > 0 else stats.f.cdf(x, df_between, df_within)

    low, high = _noncentrality_interval(cdf, f, confidence)
    return low / (low + total), high / (high + total)


def cramers_v_interval(chi2: float, df: int, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of Cramér's V by inverting the noncentral χ² distribution.

    λ_low, λ_high solve F_{ncχ²}(χ²_obs; df, λ) = 1 − α/2 and α/2, and V = √(λ / (n (k − 1))) with k the smaller
    dimension of the table (Smithson, 2003, *Confidence Intervals*, Sage).  ``confidence`` is the level of this
    interval; the comparisons pass :func:`effect_interval_level` (0.90 for a test at α = 0.05).
    """

    def cdf(x: float, lam: float) -> float:
        return stats.ncx2.cdf(x, df, lam) if lam > 0 else stats.chi2.cdf(x, df)

    low, high = _noncentrality_interval(cdf, chi2, confidence)
    return float(np.sqrt(low / (n * (k - 1)))), float(np.sqrt(high / (n * (k - 1))))


def epsilon_squared(h: float, n: int) -> float:
    """ε² of a Kruskal–Wallis test: H / ((n² − 1) / (n + 1)) = H / (n − 1) (Tomczak & Tomczak, 2014).

    >>> epsilon_squared(9.0, 91)
    0.1
    """
    return float(h / (n - 1))


def rank_biserial(u_x: float, nx: int, ny: int) -> float:
    """Rank-biserial correlation of a Mann–Whitney test from the U of the first sample: 2 U_x / (n_x n_y) − 1.

    Positive when the first sample tends to be larger (Kerby, 2014).

    >>> rank_biserial(9.0, 3, 3)  # every x above every y
    1.0
    """
    return float(2 * u_x / (nx * ny) - 1)


def hodges_lehmann(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Hodges–Lehmann shift (median of all differences x_i − y_j) and its distribution-free (Moses) interval.

    The interval's bounds are the k-th smallest and k-th largest pairwise differences, k from the normal
    approximation to the Mann–Whitney distribution: k = ⌊n_x n_y / 2 − z √(n_x n_y (n_x + n_y + 1) / 12)⌋
    (Hollander & Wolfe, *Nonparametric Statistical Methods*, section 4.3).  With few distinct values (scores such
    as VAS) or small samples the differences are enumerated with their multiplicities; otherwise (more than
    4,000,000 pairs of distinct values) each order statistic is found by bisection on the shift, counting pairs with
    sorted searches, and then snapped to the pairwise difference the bisection brackets, so a million patients need
    no n_x × n_y table and the result is the same difference the enumeration gives.

    Returns ``(estimate, low, high)``; the median of an even number of differences is the mean of the middle two.

    >>> hodges_lehmann(np.array([1.0, 2, 3]), np.array([0.0, 1, 1]))[0]  # differences 0,0,1,1,1,2,2,2,3
    1.0
    """
    x, y = np.sort(np.asarray(x, dtype=float)), np.sort(np.asarray(y, dtype=float))
    nx, ny = len(x), len(y)
    pairs = nx * ny
    z = stats.norm.ppf(0.5 + confidence / 2)
    k = int(np.floor(pairs / 2 - z * np.sqrt(pairs * (nx + ny + 1) / 12)))
    k = max(k, 1)
    ranks = [(pairs + 1) / 2, k, pairs - k + 1]  # 1-based order statistics; the median may fall between two
    values_x, counts_x = np.unique(x, return_counts=True)
    values_y, counts_y = np.unique(y, return_counts=True)
    if len(values_x) * len(values_y) <= 4_000_000:
        differences = np.subtract.outer(values_x, values_y).ravel()
        weights = np.multiply.outer(counts_x, counts_y).ravel()
        order = np.argsort(differences, kind="stable")
        differences, cumulative = differences[order], np.cumsum(weights[order])

        def order_statistic(rank: float) -> float:
            low = differences[np.searchsorted(cumulative, np.floor(rank), side="left")]
            high = differences[np.searchsorted(cumulative, np.ceil(rank), side="left")]
            return float((low + high) / 2)
    else:
        span = (x[-1] - y[0]) - (x[0] - y[-1])

        def at_most(shift: float) -> int:
            # #(x − y ≤ δ) = pairs − #(x − δ > y), counted with sorted searches (ties included)
            return int(pairs - np.searchsorted(y, x - shift, side="left").sum())

        def largest_difference_at_most(shift: float) -> float:
            # for each x_i the first y_j ≥ x_i − δ gives its largest difference x_i − y_j ≤ δ
            index = np.searchsorted(y, x - shift, side="left")
            valid = index < ny
            return float((x[valid] - y[index[valid]]).max()) if valid.any() else float("nan")

        def order_statistic(rank: float) -> float:
            # the smallest δ with #(x − y ≤ δ) ≥ rank, by bisection on δ, then snapped to the pairwise
            # difference it brackets so that the result is one of the x_i − y_j, as the enumeration gives
            results = []
            for target in sorted({np.floor(rank), np.ceil(rank)}):
                low, high = x[0] - y[-1] - span, x[-1] - y[0]  # #(≤ low) = 0 < target ≤ #(≤ high) = pairs
                for _ in range(200):
                    if high - low <= span * 1e-12:
                        break
                    middle = (low + high) / 2
                    if at_most(middle) >= target:
                        high = middle
                    else:
                        low = middle
                snapped = largest_difference_at_most(high)
                results.append(snapped if low < snapped <= high else high)
            return float(np.mean(results))
    estimate, low, high = (order_statistic(rank) for rank in ranks)
    return estimate, low, high
