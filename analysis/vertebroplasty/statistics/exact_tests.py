"""Tests of a contingency table that do not lean on the χ² approximation: Fisher's exact test and its extension to
2 × k tables (Fisher–Freeman–Halton, every table with the observed margins enumerated up to :data:`ENUMERATION_LIMIT`),
otherwise a Monte Carlo test of the χ² statistic (scipy's ``chi2_contingency(method=MonteCarloMethod)``,
:data:`MONTE_CARLO_TABLES` random tables with the observed margins, seed :data:`SEED`).  Used by
:mod:`vertebroplasty.statistics.comparisons` where an expected count is below 5.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

MONTE_CARLO_TABLES = 9999
#: Largest number of tables with the observed margins that the Fisher–Freeman–Halton test enumerates (a 2 × k table;
#: at the limit about 0.1 s and 120 MB of working arrays); above it the Monte Carlo test is used.
ENUMERATION_LIMIT = 2_000_000
SEED = 20200301


def _two_rows(observed) -> tuple[np.ndarray, np.ndarray]:
    """The first row and the column totals of a table with two rows (a table with two columns is transposed)."""
    observed = np.asarray(observed, dtype=np.int64)
    if observed.ndim != 2 or 2 not in observed.shape:
        raise ValueError(f"a table with two rows or two columns is needed, not shape {observed.shape}")
    if observed.shape[0] != 2:
        observed = observed.T
    return observed[0], observed.sum(axis=0)


def count_tables(observed, limit: int = ENUMERATION_LIMIT) -> int:
    """Number of tables with the margins of ``observed`` (two rows or two columns), or ``limit + 1`` if there are more.

    The first row x_1 … x_k with 0 ≤ x_j ≤ c_j and Σ x_j = r_1 fixes the table, so the count is the coefficient of
    z^{r_1} in Π_j (1 + z + … + z^{c_j}), built up one column at a time with cumulative sums (k · r_1 steps, capped at
    ``limit + 1`` so no number grows).

    >>> count_tables([[1, 1, 1], [1, 1, 1]])  # first rows with three 0/1/2 entries summing to 3: 3! + 1 = 7
    7
    """
    first, columns = _two_rows(observed)
    row = int(first.sum())
    ways = np.zeros(row + 1, dtype=np.int64)
    ways[0] = 1
    totals = np.arange(row + 1)
    for column in columns:
        cumulative = np.concatenate([[0], np.cumsum(ways)])  # cumulative[s + 1] = Σ_{t ≤ s} ways[t]
        ways = np.minimum(cumulative[totals + 1] - cumulative[np.maximum(totals - int(column), 0)], limit + 1)
    return int(ways[row])


def freeman_halton_p(observed) -> float:
    """Fisher–Freeman–Halton exact p of a table with two rows (or two columns), by enumerating every table with its margins.

    Each table with the observed margins has the conditional (multivariate hypergeometric) probability
    P(x) = Π_j C(c_j, x_j) / C(n, r_1), x its first row; p is the sum of P over the tables no more probable than the
    observed one, with R's relative tolerance 1 + 10⁻⁷ for ties (Freeman & Halton, 1951, *Biometrika* 38:141–149; R's
    ``fisher.test``).  The first rows are built column by column keeping only the partial rows that can still reach
    r_1, so the work and memory are proportional to the number of tables (:func:`count_tables`; the caller keeps it
    at most :data:`ENUMERATION_LIMIT`).  For a 2 × 2 table this is Fisher's two-sided exact test.

    >>> round(freeman_halton_p([[3, 1], [1, 3]]), 6)  # Fisher's tea tasting: (1 + 16 + 16 + 1) / 70
    0.485714
    """
    from scipy.special import gammaln

    first, columns = _two_rows(observed)
    row, n = int(first.sum()), int(columns.sum())
    log_choose = [gammaln(c + 1) - gammaln(np.arange(c + 1) + 1) - gammaln(c - np.arange(c + 1) + 1) for c in columns]
    constant = gammaln(n + 1) - gammaln(row + 1) - gammaln(n - row + 1)
    observed_log = 0.0
    for j, x in enumerate(first):  # the same additions, in the same order, as the enumeration below
        observed_log = observed_log + log_choose[j][x]
    observed_log = observed_log - constant
    after = np.concatenate([np.cumsum(columns[::-1])[::-1][1:], [0]])  # column total still to come after column j
    sums, logs = np.zeros(1, dtype=np.int64), np.zeros(1)
    for j, column in enumerate(columns[:-1]):
        low = np.maximum(0, row - sums - after[j])  # the later columns can hold at most after[j]
        high = np.minimum(column, row - sums)
        lengths = high - low + 1  # ≥ 1 for every partial row kept
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        x = np.repeat(low, lengths) + offsets
        logs = np.repeat(logs, lengths) + log_choose[j][x]
        sums = np.repeat(sums, lengths) + x
    logs = logs + log_choose[-1][row - sums] - constant  # the last entry is what the row total leaves
    return float(min(1.0, np.exp(logs[logs <= observed_log + np.log1p(1e-7)]).sum()))


def monte_carlo_chi2(observed, seed: int = SEED, tables: int = MONTE_CARLO_TABLES) -> tuple[float, float]:
    """Monte Carlo p of Pearson's χ² statistic and its simulation standard error √(p (1 − p) / tables).

    scipy's ``chi2_contingency(observed, correction=False, method=MonteCarloMethod(n_resamples=tables, rng=…))``:
    random tables with both observed margins (``random_table``, Patefield's algorithm) and
    p = (1 + #{χ²_random ≥ χ²_observed}) / (1 + tables), as R's ``chisq.test(simulate.p.value = TRUE)``.  The p is an
    estimate of the exact conditional p of the χ² statistic, not the exact p itself.
    """
    method = stats.MonteCarloMethod(n_resamples=tables, rng=np.random.default_rng(seed))
    p = float(stats.chi2_contingency(np.asarray(observed), correction=False, method=method).pvalue)
    return p, float(np.sqrt(p * (1 - p) / tables))


def exact_or_monte_carlo(observed, seed: int = SEED) -> tuple[str, float, float]:
    """The test beside (or instead of) χ² for a sparse table: ``(exact_test, exact_p, exact_p_error)``.

    Fisher's exact test (scipy ``fisher_exact``) for 2 × 2 tables; the Fisher–Freeman–Halton exact test
    (:func:`freeman_halton_p`) for 2 × k and k × 2 tables with at most :data:`ENUMERATION_LIMIT` tables to enumerate;
    otherwise the Monte Carlo test of the χ² statistic (:func:`monte_carlo_chi2`).  The error is the Monte Carlo
    standard error, NaN for the exact tests.

    >>> exact_or_monte_carlo([[3, 1, 0], [1, 2, 4]])[0]
    'freeman_halton'
    """
    observed = np.asarray(observed)
    if observed.shape == (2, 2):
        return "fisher", float(stats.fisher_exact(observed).pvalue), np.nan
    if 2 in observed.shape and count_tables(observed) <= ENUMERATION_LIMIT:
        return "freeman_halton", freeman_halton_p(observed), np.nan
    return ("monte_carlo", *monte_carlo_chi2(observed, seed))
