r"""Multicentre cohorts: each centre's group difference, pooled the way a meta-analyst would.

A cohort given as a folder of centre files (:func:`vertebroplasty.contract.validation.load_cohort`) carries a ``centre``
column.  Each centre is then analysed as one study of a meta-analysis and the centres are combined:

* :func:`per_centre_differences` — for a measurement, the difference of group means (A − B) in each centre with
  its standard error and a normal confidence interval;
* :func:`per_centre_proportions` (:func:`per_centre_type_a_share` for the cement distribution) — for a yes/no
  outcome, the risk difference and the log odds ratio in each centre;
* :func:`pool` (:mod:`vertebroplasty.statistics.meta_analysis`) — fixed-effect and DerSimonian–Laird random-effects
  estimates, Q and I², the Hartung–Knapp–Sidik–Jonkman interval and the prediction interval of a new centre;
* :func:`mantel_haenszel` — the Mantel–Haenszel odds ratio over the centres (statsmodels ``StratifiedTable``),
  with the Cochran–Mantel–Haenszel test and the Breslow–Day test of equal odds ratios;
* :func:`ols_comparison` — the patient-level alternative: ordinary least squares with centre as a factor beside
  the crude model; :func:`mixed_model` — a random centre intercept instead; and :func:`intraclass_correlation` of
  the outcome by centre (:func:`clustering`);
* :func:`centres_table` — all of it, tidy and long (:data:`TABLE_COLUMNS`), as the build writes it to
  ``results/centres.csv`` (:mod:`vertebroplasty.writing.centres_text` presents it).

Every one of them is computed from :func:`cells` — per centre and group, the n, mean and SD of a measurement or
the count of a yes/no outcome — so a coordinating centre gets the same numbers from centres' summary files
(:mod:`vertebroplasty.contract.summary_file`) as from their patient rows.

Estimates are always group A minus group B.  A cohort of one centre (a single file, such as the default cohort) has nothing to
pool: :func:`centres_table` then gives that centre's rows only, and the report shows the multicentre chapter only for several.

References
----------
DerSimonian R, Laird N. *Control Clin Trials* 1986;7:177–188.  Mantel N, Haenszel W. *J Natl Cancer Inst*
1959;22:719–748.  Robins J, Breslow N, Greenland S. *Biometrics* 1986;42:311–323.  Breslow NE, Day NE. *Statistical
Methods in Cancer Research I*. IARC, 1980.  Donner A. *Int Stat Rev* 1986;54:67–82.  Vierron E, Giraudeau B.
*Contemp Clin Trials* 2007;28:451–458.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from vertebroplasty.statistics.meta_analysis import (  # noqa: F401 (re-exported: centres.pool, centres.critical_value)
    _normal_summary,
    critical_value,
    hartung_knapp,
    pool,
    prediction_interval,
)

GROUPS = ("A", "B")
#: Fewest values a group needs in a centre for that centre's difference (the contract's minimum per group).
MINIMUM_PER_GROUP = 2
#: The outcomes shown as forest plots.
HEADLINE_OUTCOMES = ("lka_loss", "fvahl", "avhlr", "vas_op", "type_a_share")
#: Yes/no outcomes: name -> (column of the cohort, the value counted as "yes").
BINARY_OUTCOMES = {"type_a_share": ("cement_distribution", "A"), "cement_leakage": ("cement_leakage", True)}
#: What :func:`centres_table` reports by default: the headline outcomes and cement leakage.
TABLE_VARIABLES = (*HEADLINE_OUTCOMES, "cement_leakage")
TABLE_COLUMNS = ["variable", "centre", "statistic", "value"]
POOLED_FIXED = "pooled_fixed"
POOLED_RANDOM = "pooled_random"
MANTEL_HAENSZEL = "pooled_mantel_haenszel"
ADJUSTED_OLS = "adjusted_ols"
CRUDE_OLS = "crude_ols"
MIXED_MODEL = "mixed_random_intercept"
#: Statistics of the random-effects row beyond those of the fixed-effect one: Hartung–Knapp and the prediction interval.
RANDOM_EXTRAS = ("hk_se", "hk_ci_low", "hk_ci_high", "hk_p", "hk_scale", "hk_modified_se", "hk_modified_ci_low",
                 "hk_modified_ci_high", "hk_modified_p", "pi_low", "pi_high")
#: Values of the table's ``centre`` column that are not centres.
SUMMARY_ROWS = (POOLED_FIXED, POOLED_RANDOM, MANTEL_HAENSZEL, CRUDE_OLS, ADJUSTED_OLS, MIXED_MODEL)
#: The centre name of a cohort without a ``centre`` column (one file).
SINGLE_CENTRE = "all"
DIFFERENCE_COLUMNS = ["variable", "centre", "n_A", "n_B", "mean_A", "mean_B", "sd_A", "sd_B", "mean_difference", "se",
                      "ci_low", "ci_high", "reason"]
PROPORTION_COLUMNS = ["variable", "centre", "count_A", "n_A", "count_B", "n_B", "share_A", "share_B", "risk_difference", "se",
                      "ci_low", "ci_high", "log_odds_ratio", "log_odds_ratio_se", "reason"]
#: Per-centre statistics written to the long table, for measurements and for yes/no outcomes.
CENTRE_STATISTICS = {False: ["n_A", "n_B", "mean_A", "mean_B", "mean_difference", "se", "ci_low", "ci_high"],
                     True: ["n_A", "n_B", "count_A", "count_B", "risk_difference", "se", "ci_low", "ci_high",
                            "log_odds_ratio", "log_odds_ratio_se"]}


def estimate_name(variable: str) -> str:
    """The statistic a variable's group difference is reported as: ``risk_difference`` for a yes/no outcome
    (the difference of the two groups' shares, the counterpart of a difference of means), else ``mean_difference``.

    >>> estimate_name("type_a_share"), estimate_name("fvahl")
    ('risk_difference', 'mean_difference')
    """
    return "risk_difference" if variable in BINARY_OUTCOMES else "mean_difference"


def centre_labels(data: pd.DataFrame) -> pd.Series:
    """Each patient's centre as text (:data:`SINGLE_CENTRE` for a cohort without a ``centre`` column)."""
    if "centre" not in data:
        return pd.Series(SINGLE_CENTRE, index=data.index, dtype=object)
    return data["centre"].astype(object).where(data["centre"].notna(), SINGLE_CENTRE).astype(str)


def outcome_frame(data: pd.DataFrame, variable: str) -> pd.DataFrame:
    """``centre``, ``group`` and the outcome ``y`` as float (a yes/no outcome as 1/0), rows without a value dropped.

    >>> frame = pd.DataFrame({"group": list("AB"), "cement_distribution": list("AC")})
    >>> outcome_frame(frame, "type_a_share")["y"].tolist()
    [1.0, 0.0]
    """
    if variable in BINARY_OUTCOMES:
        column, counted = BINARY_OUTCOMES[variable]
        values = data[column]
        y = values.eq(counted).astype("Float64").where(values.notna())
    else:
        y = pd.to_numeric(data[variable], errors="coerce").astype("Float64")
    frame = pd.DataFrame({"centre": centre_labels(data), "group": data["group"].astype(str),
                          "y": y.astype(float)})
    return frame[frame["y"].notna() & frame["group"].isin(GROUPS)].reset_index(drop=True)


#: The columns of :func:`cells`: one row per variable, centre and group.
CELL_COLUMNS = ["variable", "centre", "group", "n", "mean", "sd", "count"]


def cells(data: pd.DataFrame, variables: Iterable[str], centres: list[str] | None = None) -> pd.DataFrame:
    """Per variable, centre and group: ``n`` (values), ``mean``, ``sd`` (n − 1) and ``count`` (:data:`CELL_COLUMNS`).

    Everything the multicentre analysis computes — per-centre differences, pooling, Mantel–Haenszel, the OLS and
    mixed models, the ICC — is a function of these cells, so a centre that may not share patient rows can share them
    instead (:mod:`vertebroplasty.contract.summary_file`) and the coordinator's results are those of the patient rows.
    For a yes/no outcome ``count`` is the number of "yes" and ``mean``/``sd`` are computed from it (the share and
    the SD of the 0/1 values, :func:`binary_cell_moments`), so both routes give the same floating-point numbers; for a
    measurement ``count`` is NaN.  Every centre (``centres``; by default those of ``data``) has a row per group, with
    n = 0 where a group has no value.

    >>> frame = pd.DataFrame({"group": list("AABB"), "cement_distribution": list("AABC"), "lka_loss": [1.0, 3.0, 2.0, 2.0]})
    >>> found = cells(frame, ["type_a_share", "lka_loss"])
    >>> found[["variable", "group", "n", "mean", "count"]].values.tolist()[:3]
    [['type_a_share', 'A', 2, 1.0, 2.0], ['type_a_share', 'B', 2, 0.0, 0.0], ['lka_loss', 'A', 2, 2.0, nan]]
    """
    centres = sorted(centre_labels(data).unique()) if centres is None else centres
    parts = []
    for variable in variables:
        frame = outcome_frame(data, variable)
        summary = frame.groupby(["centre", "group"], sort=True)["y"].agg(n="count", mean="mean", sd="std", count="sum")
        summary = summary.reindex(pd.MultiIndex.from_product([centres, GROUPS], names=["centre", "group"]))
        summary["n"] = summary["n"].fillna(0).astype("int64")
        if variable in BINARY_OUTCOMES:
            summary["count"] = summary["count"].fillna(0).astype("int64")
            summary["mean"], summary["sd"] = binary_cell_moments(summary["count"], summary["n"])
        else:
            summary["count"] = np.nan
        parts.append(summary.reset_index().assign(variable=variable))
    if not parts:
        return pd.DataFrame(columns=CELL_COLUMNS)
    return pd.concat(parts, ignore_index=True)[CELL_COLUMNS]


def binary_cell_moments(count, n) -> tuple[pd.Series, pd.Series]:
    """Mean (the share) and SD (n − 1) of n values of 0/1 with ``count`` ones: p and √(n·p(1 − p)/(n − 1)).

    >>> mean, sd = binary_cell_moments(pd.Series([1]), pd.Series([4]))  # values 1, 0, 0, 0
    >>> float(mean[0]), round(float(sd[0]), 6), round(float(np.std([1, 0, 0, 0], ddof=1)), 6)
    (0.25, 0.5, 0.5)
    """
    count, n = pd.Series(count, dtype=float), pd.Series(n, dtype=float)
    share = count / n.where(n > 0)
    sd = np.sqrt(n * share * (1 - share) / (n - 1).where(n > 1))
    return share, sd


def _group_summaries(variable_cells: pd.DataFrame) -> pd.DataFrame:
    """One row per centre from one variable's :func:`cells`: ``n_A, n_B, mean_A, mean_B, sd_A, sd_B, count_A, count_B``."""
    wide = variable_cells.pivot(index="centre", columns="group", values=["n", "mean", "sd", "count"])
    wide.columns = [f"{statistic}_{group}" for statistic, group in wide.columns]
    wanted = [f"{statistic}_{group}" for statistic in ("n", "mean", "sd", "count") for group in GROUPS]
    wide = wide.reindex(columns=wanted)
    sizes = [f"n_{group}" for group in GROUPS]
    wide[sizes] = wide[sizes].fillna(0).astype("int64")
    return wide.rename_axis("centre").reset_index()


def is_cells(source: pd.DataFrame) -> bool:
    """Whether ``source`` is a frame of :func:`cells` rather than patient rows."""
    return set(CELL_COLUMNS) <= set(source.columns)


def variable_cells(source: pd.DataFrame, variable: str) -> pd.DataFrame:
    """One variable's :func:`cells`, from patient rows or from a frame of cells (e.g. read from centres' summary files)."""
    if is_cells(source):
        return source[source["variable"] == variable].reset_index(drop=True)
    return cells(source, [variable])


def _too_few(wide: pd.DataFrame) -> pd.Series:
    """Centres where a group has fewer than :data:`MINIMUM_PER_GROUP` values."""
    return (wide["n_A"] < MINIMUM_PER_GROUP) | (wide["n_B"] < MINIMUM_PER_GROUP)


def _reasons(wide: pd.DataFrame, se: pd.Series, zero_se: str) -> pd.Series:
    """Why a centre has no usable estimate: too few values in a group, or a standard error of zero."""
    reason = pd.Series("", index=wide.index, dtype=object)
    for group in reversed(GROUPS):  # group A's shortfall is named when both fall short
        short = wide[f"n_{group}"] < MINIMUM_PER_GROUP
        counts = wide.loc[short, f"n_{group}"]
        reason[short] = [f"only {n} value(s) in group {group}; each group needs {MINIMUM_PER_GROUP}" for n in counts]
    reason[reason.eq("") & se.eq(0)] = zero_se
    return reason


def _with_interval(frame: pd.DataFrame, estimate: str, confidence: float) -> pd.DataFrame:
    """Add ``ci_low``/``ci_high`` (estimate ± z·se); where a centre has a reason, no se and no interval."""
    frame.loc[frame["reason"].ne(""), ["se"]] = np.nan
    half = critical_value(confidence) * frame["se"]
    frame["ci_low"], frame["ci_high"] = frame[estimate] - half, frame[estimate] + half
    return frame


def per_centre_differences(data: pd.DataFrame, variables: Iterable[str], confidence: float = 0.95) -> pd.DataFrame:
    r"""The difference of group means (A − B) of each measurement in each centre: :data:`DIFFERENCE_COLUMNS`.

    .. math::

        d = \bar y_A - \bar y_B, \qquad
        \mathrm{SE}(d) = \sqrt{s_A^2 / n_A + s_B^2 / n_B}, \qquad
        d \pm z_{1-\alpha/2}\,\mathrm{SE}(d)

    with unpooled variances (the centre's own, as a meta-analysis of mean differences uses them: Borenstein et al.,
    *Introduction to Meta-Analysis*, 2009, ch. 4) and a normal interval (``confidence`` 0.95 gives z = 1.96).
    Missing values are dropped.  A centre where a group has fewer than 2 values gets NaN and a ``reason``; a centre
    where every value in each group is the same keeps its difference but gets no SE (it cannot be weighted).

    Examples
    --------
    >>> frame = pd.DataFrame({"centre": ["x"] * 4, "group": list("AABB"), "y": [1.0, 3.0, 0.0, 2.0]})
    >>> row = per_centre_differences(frame, ["y"]).iloc[0]
    >>> float(row.mean_difference), round(float(row.se), 4)  # sqrt(2/2 + 2/2)
    (1.0, 1.4142)
    """
    parts = []
    for variable in variables:
        wide = _group_summaries(variable_cells(data, variable))
        wide["mean_difference"] = wide["mean_A"] - wide["mean_B"]
        wide["se"] = np.sqrt(wide["sd_A"] ** 2 / wide["n_A"] + wide["sd_B"] ** 2 / wide["n_B"])
        wide["reason"] = _reasons(wide, wide["se"], "every value within each group is the same: the SE is zero")
        wide.loc[_too_few(wide), ["mean_A", "mean_B", "sd_A", "sd_B", "mean_difference"]] = np.nan
        parts.append(_with_interval(wide.assign(variable=variable), "mean_difference", confidence)[DIFFERENCE_COLUMNS])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DIFFERENCE_COLUMNS)


def per_centre_proportions(data: pd.DataFrame, variable: str, confidence: float = 0.95) -> pd.DataFrame:
    r"""A yes/no outcome in each centre: the share in each group, risk difference and log odds ratio (A vs B).

    Columns :data:`PROPORTION_COLUMNS`.  With :math:`a, b` the yes/no counts of group A and :math:`c, d` those of
    group B:

    .. math::

        \mathrm{RD} = \frac{a}{n_A} - \frac{c}{n_B}, \quad
        \mathrm{SE}(\mathrm{RD}) = \sqrt{\frac{p_A(1-p_A)}{n_A} + \frac{p_B(1-p_B)}{n_B}}, \quad
        \log \mathrm{OR} = \log\frac{a\,d}{b\,c}, \quad
        \mathrm{SE}(\log \mathrm{OR}) = \sqrt{\tfrac1a + \tfrac1b + \tfrac1c + \tfrac1d}

    (Wald; Woolf's SE for the log odds ratio, with 0.5 added to every cell of a centre that has an empty cell —
    Haldane's correction).  The interval (``ci_low``/``ci_high``) is the risk difference's, normal.  A centre with
    fewer than 2 patients in a group gets NaN and a ``reason``; one where each group's share is 0 % or 100 % keeps
    its risk difference but gets no SE (the Wald SE is 0), so inverse-variance pooling leaves it out (Mantel–Haenszel
    keeps it).

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AAAABBBB"), "cement_distribution": list("AAABABCC")})
    >>> row = per_centre_proportions(frame, "type_a_share").iloc[0]
    >>> float(row.risk_difference), round(float(row.log_odds_ratio), 4)  # 3/4 - 1/4; log(3·3 / (1·1))
    (0.5, 2.1972)
    """
    wide = _group_summaries(variable_cells(data, variable))
    wide[["count_A", "count_B"]] = wide[["count_A", "count_B"]].fillna(0).astype("int64")
    for group in GROUPS:
        wide[f"share_{group}"] = wide[f"count_{group}"] / wide[f"n_{group}"].where(wide[f"n_{group}"] > 0)
    p_a, p_b = wide["share_A"], wide["share_B"]
    wide["risk_difference"] = p_a - p_b
    wide["se"] = np.sqrt(p_a * (1 - p_a) / wide["n_A"] + p_b * (1 - p_b) / wide["n_B"])
    yes_a, yes_b = wide["count_A"], wide["count_B"]
    cells = np.column_stack([yes_a, wide["n_A"] - yes_a, yes_b, wide["n_B"] - yes_b]).astype(float)
    cells += np.where((cells == 0).any(axis=1, keepdims=True), 0.5, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        wide["log_odds_ratio"] = np.log(cells[:, 0] * cells[:, 3] / (cells[:, 1] * cells[:, 2]))
        wide["log_odds_ratio_se"] = np.sqrt((1 / cells).sum(axis=1))
    wide["reason"] = _reasons(wide, wide["se"], "each group's share is 0 % or 100 %: the SE is zero")
    wide.loc[_too_few(wide), ["share_A", "share_B", "risk_difference", "log_odds_ratio", "log_odds_ratio_se"]] = np.nan
    return _with_interval(wide.assign(variable=variable), "risk_difference", confidence)[PROPORTION_COLUMNS]


def per_centre_type_a_share(data: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The share of type-A cement distributions in each group, per centre (:func:`per_centre_proportions`)."""
    return per_centre_proportions(data, "type_a_share", confidence)


def stratified_counts(data: pd.DataFrame, variable: str) -> tuple[list[str], np.ndarray]:
    """The centres with patients in both groups and their 2 × 2 × K tables ``[[a, b], [c, d]]`` (rows A, B; yes, no)."""
    wide = _group_summaries(variable_cells(data, variable))
    wide = wide[(wide["n_A"] > 0) & (wide["n_B"] > 0)]
    yes_a, yes_b = wide["count_A"], wide["count_B"]
    return list(wide["centre"]), np.array([[yes_a, wide["n_A"] - yes_a], [yes_b, wide["n_B"] - yes_b]], dtype=float)


def mantel_haenszel(data: pd.DataFrame, variable: str = "type_a_share", confidence: float = 0.95) -> dict:
    r"""The Mantel–Haenszel odds ratio (group A vs B) of a yes/no outcome over the centres (statsmodels ``StratifiedTable``).

    .. math::

        \widehat{\mathrm{OR}}_{MH} = \frac{\sum_i a_i d_i / n_i}{\sum_i b_i c_i / n_i}

    with the Robins–Breslow–Greenland variance of its log for the interval, the Cochran–Mantel–Haenszel test of
    OR = 1 (``p``, without continuity correction) and the Breslow–Day test that the centres share one odds ratio
    (``breslow_day_p``, without Tarone's adjustment).  Centres without patients in both groups are left out.
    Returns ``k, odds_ratio, ci_low, ci_high, p, breslow_day_p`` (NaN where undefined, e.g. no "yes" at all);
    raises ``ValueError`` with fewer than two centres.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    centres, counts = stratified_counts(data, variable)
    if len(centres) < 2:
        raise ValueError(f"the Mantel–Haenszel odds ratio needs at least two centres with both groups ({len(centres)} given)")
    table = StratifiedTable(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = table.oddsratio_pooled_confint(alpha=1 - confidence)
        values = {"odds_ratio": table.oddsratio_pooled, "ci_low": low, "ci_high": high,
                  "p": table.test_null_odds(correction=False).pvalue, "breslow_day_p": table.test_equal_odds(adjust=False).pvalue}
    return {"k": len(centres), **{key: float(value) if np.isfinite(value) else np.nan for key, value in values.items()}}


def ols_comparison(data: pd.DataFrame, variable: str, confidence: float = 0.95) -> pd.DataFrame:
    r"""Group A − B by ordinary least squares, crude (``y ~ C(group)``) and with centre as a factor (``+ C(centre)``).

    One row per model (``model`` = :data:`CRUDE_OLS`, :data:`ADJUSTED_OLS`) with ``estimate, se, ci_low, ci_high, p,
    n, df_resid``: the group coefficient (group B the reference) of the patient-level OLS model, with its t-based
    interval and p.  For a yes/no outcome this is the linear probability model, whose coefficient is a risk
    difference.  The adjusted model compares patients within centres (a fixed centre effect).

    Both models have only group and centre as regressors, so every patient of one centre × group cell has the same
    row of the design matrix and the OLS fit is computed exactly from the cells (statsmodels formula ``wls`` on the
    cell means :math:`\bar y_c` weighted by the cell sizes :math:`n_c`): the coefficients and
    :math:`(X^\top X)^{-1}` are the patient-level ones, and the residual variance adds the within-cell sum of
    squares, :math:`\hat\sigma^2 = \bigl(\sum_c n_c(\bar y_c - \hat y_c)^2 + \sum_c (n_c - 1)s_c^2\bigr)/(N - p)`.
    A million patients in a hundred centres then cost one group-by instead of a 10⁶ × 101 design matrix.
    """
    import statsmodels.formula.api as smf

    cell_frame = variable_cells(data, variable)
    cell_frame = cell_frame[cell_frame["n"] > 0].assign(var=lambda frame: frame["sd"] ** 2)
    within = float(((cell_frame["n"] - 1) * cell_frame["var"].fillna(0)).sum())
    n = int(cell_frame["n"].sum())
    group_term = "C(group, Treatment('B'))"
    coefficient = f"{group_term}[T.A]"
    rows = []
    for model, formula in ((CRUDE_OLS, f"mean ~ {group_term}"), (ADJUSTED_OLS, f"mean ~ {group_term} + C(centre)")):
        fit = smf.wls(formula, cell_frame, weights=cell_frame["n"]).fit()
        df_resid = n - int(fit.df_model) - 1
        se = float(np.sqrt(fit.normalized_cov_params.loc[coefficient, coefficient] * (fit.ssr + within) / df_resid))
        estimate = float(fit.params[coefficient])
        half = stats.t.isf((1 - confidence) / 2, df_resid) * se
        rows.append({"model": model, "estimate": estimate, "se": se, "ci_low": estimate - half, "ci_high": estimate + half,
                     "p": float(2 * stats.t.sf(abs(estimate / se), df_resid)), "n": n, "df_resid": df_resid})
    return pd.DataFrame(rows)


def pseudo_rows(cell_frame: pd.DataFrame) -> pd.DataFrame:
    """Patient-like rows (``centre, group, y``) with exactly the n, mean and SD of every cell.

    A cell of n values with mean m and SD s becomes m + s·z, where z = (0, 1, …, n − 1) centred and scaled to SD 1;
    one value is m.  A model whose likelihood depends on the data only through each centre × group cell's size, sum
    and sum of squares — the linear models with group and centre used here, fixed or random centre intercept — fits
    these rows exactly as it fits the patients' own, so it can be fitted from summaries.

    >>> rows = pseudo_rows(pd.DataFrame({"centre": ["x"], "group": ["A"], "n": [3], "mean": [2.0], "sd": [0.5]}))
    >>> rows["y"].tolist(), float(rows["y"].std())
    ([1.5, 2.0, 2.5], 0.5)
    """
    parts = []
    for cell in cell_frame[cell_frame["n"] > 0].itertuples():
        n = int(cell.n)
        z = np.arange(n) - (n - 1) / 2
        z = z / z.std(ddof=1) if n > 1 else z
        spread = 0.0 if pd.isna(cell.sd) else float(cell.sd)
        parts.append(pd.DataFrame({"centre": cell.centre, "group": cell.group, "y": float(cell.mean) + spread * z}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["centre", "group", "y"])


def mixed_model(data: pd.DataFrame, variable: str, confidence: float = 0.95) -> dict[str, float]:
    r"""Group A − B from a linear mixed model with a random centre intercept, ``y ~ group + (1 | centre)`` (REML).

    Fitted by statsmodels ``MixedLM`` on :func:`pseudo_rows` of the :func:`cells` (``data``: patient rows or
    cells): the restricted likelihood of this model depends on the data only through each cell's size, sum and sum
    of squares, so the fit equals the fit on the patient rows (a test checks it) and a coordinator can fit it from
    centres' summaries.  Returns ``estimate, se, ci_low, ci_high`` (Wald, normal), ``p``, ``centre_variance`` (the
    intercepts' variance), ``residual_variance`` and ``converged`` (1 or 0); empty with fewer than two centres with
    values or when the fit fails.
    """
    import warnings

    import statsmodels.formula.api as smf

    rows = pseudo_rows(variable_cells(data, variable))
    if rows["centre"].nunique() < 2 or rows["group"].nunique() < 2:
        return {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = smf.mixedlm("y ~ C(group, Treatment('B'))", rows, groups=rows["centre"]).fit(reml=True)
        except (ValueError, np.linalg.LinAlgError):
            return {}
    name = "C(group, Treatment('B'))[T.A]"
    estimate, se = float(fit.fe_params[name]), float(fit.bse_fe[name])
    half = critical_value(confidence) * se
    converged = bool(fit.converged) and not any("converge" in str(w.message).lower() for w in caught)
    return {"estimate": estimate, "se": se, "ci_low": estimate - half, "ci_high": estimate + half,
            "p": float(2 * stats.norm.sf(abs(estimate / se))) if se > 0 else np.nan,
            "centre_variance": float(fit.cov_re.iloc[0, 0]), "residual_variance": float(fit.scale),
            "converged": float(converged)}


def centre_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Per variable and centre, the groups' cells combined: ``n, mean, sd`` of all the centre's values and ``squares``,
    their sum of squared deviations from the centre's mean ((n − 1)·SD² of each cell plus n·(cell mean − centre mean)²).

    >>> cells = pd.DataFrame({"variable": "v", "centre": "x", "group": ["A", "B"], "n": [2, 2], "mean": [1.0, 3.0],
    ...                       "sd": [2 ** 0.5, 2 ** 0.5], "count": np.nan})  # values 0, 2 and 2, 4
    >>> row = centre_cells(cells).iloc[0]
    >>> int(row.n), float(row["mean"]), round(float(row.sd), 6), round(float(np.std([0, 2, 2, 4], ddof=1)), 6)
    (4, 2.0, 1.632993, 1.632993)
    """
    frame = cells[cells["n"] > 0].assign(total=lambda part: part["n"] * part["mean"])
    combined = frame.groupby(["variable", "centre"], sort=True).agg(n=("n", "sum"), total=("total", "sum")).reset_index()
    combined["mean"] = combined["total"] / combined["n"]
    frame = frame.merge(combined[["variable", "centre", "mean"]], on=["variable", "centre"], suffixes=("", "_centre"))
    frame["squares"] = (frame["n"] - 1) * frame["sd"].fillna(0) ** 2 + frame["n"] * (frame["mean"] - frame["mean_centre"]) ** 2
    squares = frame.groupby(["variable", "centre"], sort=True)["squares"].sum().reset_index()
    combined = combined.merge(squares, on=["variable", "centre"])
    combined["sd"] = np.sqrt(combined["squares"] / (combined["n"] - 1).where(combined["n"] > 1))
    return combined[["variable", "centre", "n", "mean", "sd", "squares"]]


def clustering(data: pd.DataFrame, variable: str) -> dict:
    r"""Intraclass correlation of an outcome by centre (the one-way random-effects ANOVA estimator ICC(1)) and its parts.

    With k centres of :math:`n_i` patients (N in all):

    .. math::

        \mathrm{MSB} = \frac{\sum_i n_i(\bar y_i - \bar y)^2}{k - 1}, \quad
        \mathrm{MSW} = \frac{\sum_i \sum_j (y_{ij} - \bar y_i)^2}{N - k}, \quad
        m_0 = \frac{N - \sum_i n_i^2 / N}{k - 1}, \quad
        \rho = \max\Bigl(0, \frac{\mathrm{MSB} - \mathrm{MSW}}{\mathrm{MSB} + (m_0 - 1)\,\mathrm{MSW}}\Bigr)

    (:math:`m_0` is the adjusted mean cluster size of unbalanced designs; Donner 1986), computed from the
    :func:`cells` (``data``: patient rows or cells): a centre's size, mean and within-centre sum of squares are those of
    its two group cells combined (:func:`centre_cells`).  Returns ``icc, msb, msw, m0, k, n, mean_cluster_size`` (N/k); ``icc`` is NaN with
    fewer than two centres.

    No design effect is derived from it: both groups are treated in every centre and compared within it, so the
    centre effect is not confounded with the group (Kish's 1 + (m − 1)ρ is for whole clusters given one treatment);
    with an analysis adjusted for centre the clustering, if anything, narrows the interval (Vierron & Giraudeau 2007).

    Examples
    --------
    >>> frame = pd.DataFrame({"centre": list("xxyy"), "group": list("ABAB"), "v": [1.0, 2.0, 3.0, 4.0]})
    >>> round(clustering(frame, "v")["icc"], 4)  # MSB = 4, MSW = 0.5, m0 = 2: 3.5 / 4.5
    0.7778
    """
    by_centre = centre_cells(variable_cells(data, variable))
    within = by_centre["squares"].sum()
    k, n = len(by_centre), int(by_centre["n"].sum())
    result = {"icc": np.nan, "msb": np.nan, "msw": np.nan, "m0": np.nan, "k": k, "n": n,
              "mean_cluster_size": n / k if k else np.nan}
    if k < 2 or n - k < 1:
        return result
    grand_mean = (by_centre["n"] * by_centre["mean"]).sum() / n
    msb = float((by_centre["n"] * (by_centre["mean"] - grand_mean) ** 2).sum() / (k - 1))
    msw = float(within / (n - k))
    m0 = float((n - (by_centre["n"] ** 2).sum() / n) / (k - 1))
    denominator = msb + (m0 - 1) * msw
    icc = max((msb - msw) / denominator, 0.0) if denominator > 0 else np.nan
    result.update(icc=icc, msb=msb, msw=msw, m0=m0)
    return result


def intraclass_correlation(data: pd.DataFrame, variable: str) -> float:
    """The intraclass correlation ICC(1) of an outcome by centre, clipped at 0; NaN with fewer than two centres
    (:func:`clustering` gives its parts and the design effect)."""
    return float(clustering(data, variable)["icc"])


def _rows(variable: str, centre: str, values: Mapping[str, float]) -> list[dict]:
    return [{"variable": variable, "centre": centre, "statistic": statistic, "value": float(value)}
            for statistic, value in values.items()]


def _centre_rows(variable: str, per_centre: pd.DataFrame) -> pd.DataFrame:
    statistics = CENTRE_STATISTICS[variable in BINARY_OUTCOMES]
    long = per_centre.melt(id_vars=["variable", "centre"], value_vars=statistics, var_name="statistic")
    return long.sort_values("centre", kind="stable")[TABLE_COLUMNS].astype({"value": float})


def _pooled_rows(variable: str, pooled: dict) -> list[dict]:
    heterogeneity = {key: pooled[key] for key in ("k", "tau2", "i2", "q", "q_df", "q_p")}
    rows = []
    for centre, name in ((POOLED_FIXED, "fixed"), (POOLED_RANDOM, "random")):
        values = {estimate_name(variable): pooled[name],
                  **{statistic: pooled[f"{name}_{statistic}"] for statistic in ("se", "ci_low", "ci_high", "z", "p")}}
        if name == "random":
            values.update({key: pooled[key] for key in RANDOM_EXTRAS})
        rows += _rows(variable, centre, {**values, **heterogeneity})
    return rows


def _ols_rows(data: pd.DataFrame, variable: str, confidence: float) -> list[dict]:
    rows = []
    parts = clustering(data, variable)
    for record in ols_comparison(data, variable, confidence).to_dict("records"):
        values = {estimate_name(variable): record["estimate"]}
        values.update({key: record[key] for key in ("se", "ci_low", "ci_high", "p", "n")})
        if record["model"] == ADJUSTED_OLS:
            values.update({key: parts[key] for key in ("icc", "mean_cluster_size")})
        rows += _rows(variable, record["model"], values)
    return rows


def variable_rows(data: pd.DataFrame, variable: str, confidence: float = 0.95) -> pd.DataFrame:
    """The long rows (:data:`TABLE_COLUMNS`) of one variable: centres, then the pooled and model rows (> 1 centre)."""
    binary = variable in BINARY_OUTCOMES
    if binary:
        per_centre = per_centre_proportions(data, variable, confidence)
    else:
        per_centre = per_centre_differences(data, [variable], confidence)
    rows = [_centre_rows(variable, per_centre)]
    if len(per_centre) < 2:
        return rows[0].reset_index(drop=True)
    summary = []
    if per_centre["se"].notna().sum() >= 2:
        summary += _pooled_rows(variable, pool(per_centre[estimate_name(variable)], per_centre["se"] ** 2, confidence))
    if binary and len(stratified_counts(data, variable)[0]) >= 2:
        summary += _rows(variable, MANTEL_HAENSZEL, mantel_haenszel(data, variable, confidence))
    summary += _ols_rows(data, variable, confidence)
    if not binary:
        mixed = mixed_model(data, variable, confidence)
        if mixed:
            summary += _rows(variable, MIXED_MODEL, {estimate_name(variable): mixed.pop("estimate"), **mixed})
    rows.append(pd.DataFrame(summary, columns=TABLE_COLUMNS))
    return pd.concat(rows, ignore_index=True)


def centres_table(data: pd.DataFrame, variables: Iterable[str] = TABLE_VARIABLES, alpha: float = 0.05) -> pd.DataFrame:
    """Everything of the multicentre analysis, tidy and long: exactly the columns ``variable, centre, statistic, value``.

    ``data`` is a cohort's analysis table (:attr:`vertebroplasty.contract.cohort.Cohort.data`) or its :func:`cells` —
    for instance gathered from centres' summary files — and both give the same numbers; intervals are 95 % intervals,
    as everywhere in the report (``alpha`` is the significance level the sentences use).  Per variable, in this order:

    * one block per centre (``centre`` = its name): ``n_A, n_B, mean_A, mean_B, mean_difference, se, ci_low,
      ci_high``.  A yes/no outcome (``type_a_share``: cement distribution type A; ``cement_leakage``) has
      ``count_A, count_B`` and ``risk_difference`` in place of the means and ``mean_difference`` — the risk
      difference is the difference of the two shares, so it stands where a difference of means stands and is
      pooled the same way — plus ``log_odds_ratio, log_odds_ratio_se``.  A centre without a usable estimate has NaN
      values (its reason is in :func:`per_centre_differences` / :func:`per_centre_proportions`);
    * ``pooled_fixed`` and ``pooled_random`` (:func:`pool`): the estimate, ``se, ci_low, ci_high, z, p`` (the
      DerSimonian–Laird interval on the random row) and the heterogeneity shared by both, ``k, tau2, i2`` (%), ``q,
      q_df, q_p``; the random row also has the Hartung–Knapp ``hk_se, hk_ci_low, hk_ci_high, hk_p`` (as defined),
      its factor ``hk_scale`` and the modified interval ``hk_modified_se, hk_modified_ci_low, hk_modified_ci_high,
      hk_modified_p`` (factor at least 1), and the prediction interval ``pi_low, pi_high`` (NaN with fewer than three
      centres);
    * for a yes/no outcome, ``pooled_mantel_haenszel`` (:func:`mantel_haenszel`): ``k, odds_ratio, ci_low,
      ci_high, p, breslow_day_p``;
    * ``crude_ols`` and ``adjusted_ols`` (:func:`ols_comparison`): the estimate, ``se, ci_low, ci_high, p, n``; the
      adjusted rows also carry the outcome's ``icc`` and ``mean_cluster_size`` (:func:`clustering`);
    * for a measurement, ``mixed_random_intercept`` (:func:`mixed_model`): the estimate, ``se, ci_low, ci_high, p,
      centre_variance, residual_variance, converged``.

    A cohort of one centre gives its centre block only (no pooled, Mantel–Haenszel or OLS rows): the multicentre
    chapter appears only with more than one centre.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": list("AABB"), "fvahl": [1.0, 2.0, 2.0, 4.0]})
    >>> table = centres_table(frame, ["fvahl"])
    >>> list(table.columns), sorted(table["centre"].unique())
    (['variable', 'centre', 'statistic', 'value'], ['all'])
    """
    confidence = 0.95
    variables = list(variables)
    source = data if is_cells(data) else cells(data, variables)
    parts = [variable_rows(source, variable, confidence) for variable in variables]
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[TABLE_COLUMNS]


def summary_row(table: pd.DataFrame, variable: str, centre: str = POOLED_RANDOM) -> dict[str, float]:
    """One row block of :func:`centres_table` as ``{statistic: value}`` (empty when there is none)."""
    block = table[(table["variable"] == variable) & (table["centre"] == centre)]
    return dict(zip(block["statistic"], block["value"]))
