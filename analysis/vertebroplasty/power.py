"""Sample size for the multicentre follow-up study the authors call for."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sample_size(comparison: pd.DataFrame, alpha: float = 0.05, powers: tuple[float, ...] = (0.8, 0.9), limit: int = 100_000,
                design_effect: float = 1.0) -> pd.DataFrame:
    """Patients per group a two-group t-test needs to detect the observed Hedges' g (statsmodels ``TTestIndPower``).

    One row per variable with a Hedges' g: ``hedges_g`` and ``n_per_group_<power>`` (rounded up, multiplied by
    ``design_effect`` for a clustered design; NaN where the observed effect is too small to reach within ``limit``).
    """
    from statsmodels.stats.power import TTestIndPower

    solver = TTestIndPower()
    rows = []
    for record in comparison.to_dict("records"):
        if pd.isna(record.get("hedges_g")):
            continue
        effect = abs(float(record["hedges_g"]))
        row = {"variable": record["variable"], "hedges_g": float(record["hedges_g"])}
        for power in powers:
            needed = solver.solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0, nobs1=None) if effect > 0 else np.nan
            needed = float(np.ceil(np.ceil(needed) * design_effect)) if np.isfinite(needed) else np.nan
            row[f"n_per_group_{int(power * 100)}"] = needed if needed <= limit else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["variable", "hedges_g", *[f"n_per_group_{int(p * 100)}" for p in powers]])


def design_effect(intraclass_correlation: float, mean_cluster_size: float) -> float:
    """Design effect of a clustered (multicentre) design: 1 + (m − 1) ρ (Kish, 1965).

    >>> design_effect(0.05, 21)
    2.0
    """
    return float(1 + (mean_cluster_size - 1) * max(intraclass_correlation, 0.0))
