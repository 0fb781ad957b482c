"""Sample size for the multicentre follow-up study the authors call for."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

#: The fewest patients per group a two-sample t-test can use (one residual degree of freedom per group).
MINIMUM_PER_GROUP = 2


def sample_size(comparison: pd.DataFrame, alpha: float = 0.05, powers: tuple[float, ...] = (0.8, 0.9), limit: int = 100_000,
                design_effect: float = 1.0) -> pd.DataFrame:
    """Patients per group a two-group t-test needs to detect the observed Hedges' g (statsmodels ``TTestIndPower``).

    One row per variable with a Hedges' g: ``hedges_g`` and ``n_per_group_<power>`` (rounded up, multiplied by
    ``design_effect`` for a clustered design; NaN where the observed effect is too small to reach within ``limit``).

    The exact n solves power(n) = 1 − β for the noncentral t distribution with 2n − 2 degrees of freedom and
    noncentrality g √(n / 2); it is close to the normal approximation n ≈ 2 ((z_{1−α/2} + z_{1−β}) / g)² + z²_{1−α/2} / 4
    (Guenther, 1981).  For very large effects the root finder fails although two patients per group already
    give the power; the answer is then the minimum, 2.

    Examples
    --------
    >>> sample_size(pd.DataFrame({"variable": ["x"], "hedges_g": [0.5]}))["n_per_group_80"].item()  # 63.77 → 64
    64.0
    """
    from statsmodels.stats.power import TTestIndPower
    from statsmodels.tools.sm_exceptions import ConvergenceWarning  # imported first: importing it resets its filter

    solver = TTestIndPower()
    rows = []
    for record in comparison.to_dict("records"):
        if pd.isna(record.get("hedges_g")):
            continue
        effect = abs(float(record["hedges_g"]))
        row = {"variable": record["variable"], "hedges_g": float(record["hedges_g"])}
        for power in powers:
            needed = np.nan
            if effect > 0:
                with warnings.catch_warnings():  # statsmodels warns and returns NaN where its root finder fails
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    needed = float(np.squeeze(solver.solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0,
                                                                 nobs1=None)))
                    if not needed >= MINIMUM_PER_GROUP and solver.power(effect, MINIMUM_PER_GROUP, alpha, ratio=1.0) >= power:
                        needed = float(MINIMUM_PER_GROUP)
            needed = float(np.ceil(np.ceil(needed) * design_effect)) if np.isfinite(needed) else np.nan
            row[f"n_per_group_{int(power * 100)}"] = needed if needed <= limit else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["variable", "hedges_g", *[f"n_per_group_{int(p * 100)}" for p in powers]])


def proportion_sample_size(first: float, second: float, alpha: float = 0.05, powers: tuple[float, ...] = (0.8, 0.9),
                           limit: int = 100_000) -> dict:
    """Patients per group to detect proportions ``first`` vs ``second`` (two-sided; Cohen's h, statsmodels ``NormalIndPower``).

    h = 2 asin √p₁ − 2 asin √p₂; n = 2 ((z_{1−α/2} + z_{1−β}) / h)² per group with equal groups (Cohen, 1988).

    >>> round(proportion_sample_size(0.595, 0.366)["n_per_group_80"])  # type A share, 59.5 % vs 36.6 %
    74
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    effect = abs(float(proportion_effectsize(first, second)))
    row = {"cohens_h": effect}
    for power in powers:
        needed = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0) if effect > 0 else np.nan
        row[f"n_per_group_{int(power * 100)}"] = float(np.ceil(needed)) if np.isfinite(needed) and needed <= limit else np.nan
    return row
