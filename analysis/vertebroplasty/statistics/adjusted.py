"""Adjusted estimates of group A against group B: unadjusted, baseline-adjusted, confounder-adjusted, multiply imputed.

STROBE item 16 asks for unadjusted estimates and, where relevant, confounder-adjusted estimates with their
precision, and for the confounders adjusted for (von Elm et al. 2007).  :func:`adjusted_estimates` returns one row
per outcome and model, :data:`ADJUSTED_COLUMNS` first, then ``n``, ``covariates`` and ``note``.  The estimate is
always group A against group B: a difference of means A − B in the outcome's unit (``scale = "difference"``) for
measurements, an odds ratio (``scale = "odds_ratio"``) for yes/no outcomes (cement leakage, event = yes; and
``type_a_share``, the event cement distribution type A, built from ``cement_distribution``).

Models (``model``), each fitted by statsmodels on an explicit design matrix (intercept, group-A indicator, covariates):

* ``unadjusted`` — OLS of y on the group indicator: the coefficient is the difference of means and its t interval
  that of Student's pooled-variance t-test.  Yes/no outcomes: logistic regression on the indicator, whose MLE is
  the sample odds ratio ad/(bc) with Woolf's interval exp(log OR ± z √(1/a + 1/b + 1/c + 1/d)); Wald p.
* ``baseline`` — ANCOVA, y = β₀ + β·A + γ·y_pre (Vickers & Altman 2001), complete cases; only for outcomes with
  a pre-operative value (:func:`vertebroplasty.contract.dictionary.baseline_variable`).
* ``confounders`` — the baseline model plus the confounders (categories as indicators of every level but the
  first, numbers as they are), complete cases; logistic regression for yes/no outcomes.
* ``imputed`` — the ``confounders`` model fitted to ``imputations`` data sets completed by multiple imputation by
  chained equations (statsmodels ``MICEData``: linear imputation models with Gaussian-perturbed parameters and
  predictive mean matching from 5 donors; van Buuren 2018, §3.4 and §4.5), pooled by Rubin's rules (Rubin 1987):
  Q̄ = mean of the estimates, Ū = mean of their variances, B = their between-imputation variance,
  T = Ū + (1 + 1/m) B, and a t reference with the Barnard–Rubin (1999) degrees of freedom
  ν = (1/ν_old + 1/ν_obs)⁻¹, ν_old = (m − 1)/λ², λ = (1 + 1/m) B/T, ν_obs = (ν_com + 1)/(ν_com + 3) ν_com (1 − λ),
  ν_com = n − k for OLS and ∞ for logistic regression (so ν = ν_old, Rubin's 1987 df).  The imputation data set holds
  y, the group indicator, the baseline value and the confounders; yes/no outcomes are imputed as 0/1 by predictive
  mean matching and analysed by logistic regression.  Only for outcomes with a missing value in one of these.
* ``best_case`` / ``worst_case`` — the ``primary`` outcome with each missing value replaced by the observed extreme
  most (least) favourable to group A, and the opposite extreme in group B; for a yes/no outcome an event or none
  (``primary_better="higher"``: an event is favourable).  Analysed with the unadjusted model.

A row that cannot be estimated keeps NaN numbers and says why in ``note``; no cohort makes the function raise.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pandas as pd
from scipy import stats

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics.comparisons import SEED, category_order, is_categorical

ADJUSTED_COLUMNS = ["variable", "model", "scale", "estimate", "ci_low", "ci_high", "p"]
EXTRA_COLUMNS = ["n", "covariates", "note"]
MODELS = ("unadjusted", "baseline", "confounders", "imputed", "best_case", "worst_case")
#: Yes/no outcomes built from a category: name -> (category column, the value that is the event).
DERIVED_BINARY = {"type_a_share": ("cement_distribution", "A")}
MINIMUM_IMPUTATIONS = 20
DONORS = 5  # predictive mean matching donors (van Buuren 2018, §3.4.3)
BURN_IN = 10  # chained-equation cycles before the first kept data set, when more than one variable is incomplete
SKIP = 2  # cycles between kept data sets (then 1 + SKIP cycles per data set)


def _outcome(data: pd.DataFrame, outcome: str) -> tuple[pd.Series, bool, str]:
    """The outcome as floats (yes/no as 1/0), whether it is yes/no, and why it cannot be analysed ('' if it can)."""
    if outcome in DERIVED_BINARY:
        source, event = DERIVED_BINARY[outcome]
        if source not in data:
            return pd.Series(np.nan, index=data.index), True, f"{source} is not in the data"
        values = data[source].astype(object)
        return (values == event).astype(float).where(values.notna()), True, ""
    if outcome not in data:
        return pd.Series(np.nan, index=data.index), False, "not in the data"
    values = data[outcome]
    if values.dtype == "boolean" or values.dtype == bool or (values.dtype == object and set(values.dropna()) <= {True, False}):
        return values.astype("boolean").astype("Float64").astype(float), True, ""
    if is_categorical(values):
        return pd.Series(np.nan, index=data.index), False, "a category, neither a measurement nor yes/no: no model for it"
    return pd.to_numeric(values, errors="coerce").astype(float), False, ""


def _covariates(data: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Design columns of covariates: numbers as floats, categories as indicators of all levels but the first; notes."""
    columns, notes = {}, []
    for name in names:
        values = data[name] if name in data else pd.Series(np.nan, index=data.index)
        if values.dtype == "boolean" or values.dtype == bool:
            columns[name] = values.astype("Float64").astype(float)
        elif is_categorical(values):
            text = values.astype(object).where(values.notna())
            levels = [level for level in category_order(data, name) if (text == level).any()]
            if not levels:
                columns[name] = pd.Series(np.nan, index=data.index)
            elif len(levels) == 1:
                notes.append(f"{name} has a single value, left out")
            for level in levels[1:]:
                columns[f"{name}_{level}"] = (text == level).astype(float).where(text.notna())
        else:
            columns[name] = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.DataFrame(columns, index=data.index), notes


def _fit_once(y: np.ndarray, design: np.ndarray, binary: bool) -> tuple[float, float, float, str]:
    """Group coefficient (column 1), its standard error and reference df (∞ for logistic), or a note."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not binary:
            result = sm.OLS(y, design).fit()
            se = float(result.bse[1])
            if not se > 0:
                return np.nan, np.nan, np.nan, "the model fits every value exactly (no residual variation)"
            return float(result.params[1]), se, float(result.df_resid), ""
        try:
            result = sm.Logit(y, design).fit(disp=0, maxiter=100)
        except (np.linalg.LinAlgError, ValueError) as error:
            return np.nan, np.nan, np.nan, f"the logistic model could not be fitted ({error})"
        fitted = result.predict()
        if not result.mle_retvals["converged"] or fitted.min() < 1e-8 or fitted.max() > 1 - 1e-8:
            return np.nan, np.nan, np.nan, "perfect separation: the logistic model has no finite estimate"
        return float(result.params[1]), float(result.bse[1]), np.inf, ""


def _check(y: pd.Series, group_a: pd.Series, covariates: pd.DataFrame, binary: bool) -> tuple[pd.DataFrame, list[str], str]:
    """Complete cases of the model, notes on covariates left out, and why the model cannot be fitted ('' if it can)."""
    frame = pd.concat([y.rename("_y"), group_a.rename("_a"), covariates], axis=1)
    empty = [column for column in frame.columns if frame[column].isna().all()]
    if empty:
        return frame.iloc[:0], [], "no patient has a value" if empty[0] == "_y" else f"{empty[0]} has no value for any patient"
    frame = frame.dropna()
    constant = [column for column in covariates.columns if len(frame) and np.ptp(frame[column]) == 0]
    notes = [f"{column} is the same for every patient in the model, left out" for column in constant]
    frame = frame.drop(columns=constant)
    for level, code in (("A", 1.0), ("B", 0.0)):
        if not (frame["_a"] == code).any():
            return frame, notes, f"no patient in group {level} has {'every value of the model' if len(covariates.columns) else 'a value'}"
    if np.ptp(frame["_y"]) == 0:
        return frame, notes, "every patient has the same value"
    if binary:
        for level, code in (("A", 1.0), ("B", 0.0)):
            if np.ptp(frame.loc[frame["_a"] == code, "_y"]) == 0:
                return frame, notes, f"perfect separation: in group {level} every patient has the same value"
    parameters = frame.shape[1]
    if len(frame) <= parameters:
        return frame, notes, f"too few patients ({len(frame)}) for {parameters} parameters"
    if np.linalg.matrix_rank(_design(frame)) < parameters:
        return frame, notes, "the covariates are collinear with the group"
    return frame, notes, ""


def _design(frame: pd.DataFrame) -> np.ndarray:
    """Intercept, group indicator and covariates of a frame whose first column is y."""
    values = frame.drop(columns=frame.columns[0]).to_numpy(dtype=float)
    return np.column_stack([np.ones(len(values)), values])


def _summary(estimate: float, se: float, df: float, confidence: float, binary: bool) -> dict:
    """Estimate, confidence interval and two-sided p: t reference with ``df``, normal when ``df`` is infinite."""
    reference = stats.norm if np.isinf(df) else stats.t(df)
    quantile = float(reference.ppf((1 + confidence) / 2))
    values = {"estimate": estimate, "ci_low": estimate - quantile * se, "ci_high": estimate + quantile * se,
              "p": float(2 * reference.sf(abs(estimate / se)))}
    if binary:
        values.update({key: float(np.exp(values[key])) for key in ("estimate", "ci_low", "ci_high")})
    return values


def _fit(y: pd.Series, group_a: pd.Series, covariates: pd.DataFrame, binary: bool, confidence: float) -> dict:
    frame, notes, reason = _check(y, group_a, covariates, binary)
    values = {"n": len(frame), "note": "; ".join([reason, *notes] if reason else notes)}
    if reason:
        return values
    estimate, se, df, reason = _fit_once(frame["_y"].to_numpy(), _design(frame), binary)
    if reason:
        return {**values, "note": "; ".join([reason, *notes])}
    return {**values, **_summary(estimate, se, df, confidence, binary)}


def _imputation_frame(data: pd.DataFrame, outcome: str, covariate_names: list[str]) -> tuple[pd.DataFrame, bool, list[str], str]:
    """The imputation data set (y, ``group_a``, baseline, confounders), whether y is yes/no, notes, and a reason."""
    group = data["group"].astype(object)
    y, binary, reason = _outcome(data, outcome)
    covariates, notes = _covariates(data, covariate_names)
    frame = pd.concat([y.rename(outcome), (group == "A").astype(float).rename("group_a"), covariates], axis=1)
    frame = frame[group.isin(["A", "B"]).to_numpy()].reset_index(drop=True)
    if reason:
        return frame, binary, notes, reason
    constant = [column for column in covariates.columns if frame[column].notna().any() and np.ptp(frame[column].dropna()) == 0]
    notes += [f"{column} is the same for every patient, left out" for column in constant]
    frame = frame.drop(columns=constant)
    empty = [column for column in frame.columns if frame[column].isna().all()]
    if empty:
        return frame, binary, notes, "no patient has a value" if empty[0] == outcome else f"{empty[0]} has no value for any patient"
    for level, code in (("A", 1.0), ("B", 0.0)):
        if frame.loc[frame["group_a"] == code, outcome].notna().sum() < 2:
            return frame, binary, notes, f"fewer than two patients in group {level} have a value"
    if np.ptp(frame[outcome].dropna()) == 0:
        return frame, binary, notes, "every patient has the same value"
    if len(frame) <= frame.shape[1]:
        return frame, binary, notes, f"too few patients ({len(frame)}) for {frame.shape[1]} parameters"
    return frame, binary, notes, ""


def _chain(frame: pd.DataFrame, rng: np.random.Generator):
    """statsmodels' ``MICEData`` with its default imputation models (each variable on all others, main effects, OLS),
    their design matrices built as arrays instead of through patsy (the same numbers, ten times faster)."""
    from statsmodels.imputation.mice import MICEData

    class Chain(MICEData):
        def _matrices(self, name: str) -> tuple[np.ndarray, np.ndarray]:
            values, column = self.data.to_numpy(dtype=float), self.data.columns.get_loc(name)
            return values[:, column], np.column_stack([np.ones(len(values)), np.delete(values, column, axis=1)])

        def get_split_data(self, name: str):
            endog, exog = self._matrices(name)
            return endog[self.ix_obs[name]], exog[self.ix_obs[name]], exog[self.ix_miss[name]], {}, {}

        def get_fitting_data(self, name: str):
            endog, exog = self._matrices(name)
            return endog[self.ix_obs[name]], exog[self.ix_obs[name]], {}, {}

    return Chain(frame, k_pmm=DONORS, rng=rng)


def _impute(frame: pd.DataFrame, imputations: int, seed: int, outcome: str, chain=_chain) -> list[pd.DataFrame]:
    """``imputations`` completed copies of ``frame``: one chained-equation chain, seeded by ``seed`` and the outcome's name.

    With one incomplete variable its imputation model is fitted to complete predictors, so every cycle is an
    independent draw (no burn-in); otherwise :data:`BURN_IN` cycles first and 1 + :data:`SKIP` cycles per data set.
    """
    rng = np.random.default_rng([seed, zlib.crc32(outcome.encode())])
    burn_in, skip = (0, 0) if int(frame.isna().any().sum()) == 1 else (BURN_IN, SKIP)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = chain(frame, rng)
        if burn_in:
            imputer.update_all(burn_in)
        datasets = []
        for _ in range(imputations):
            imputer.update_all(1 + skip)
            datasets.append(imputer.data.copy())
    return datasets


def imputed_datasets(data: pd.DataFrame, outcome: str, confounders: list[str] = ("age", "sex"), imputations: int = MINIMUM_IMPUTATIONS,
                     seed: int = SEED) -> list[pd.DataFrame]:
    """The completed data sets of one outcome's ``imputed`` model (empty when it has none).

    Columns: the outcome (yes/no as 1/0), ``group_a`` (1 for group A), the baseline value, numeric confounders and
    indicators ``<confounder>_<level>`` of categorical ones (first level left out), as the analysis model uses them.
    The chain is seeded by ``seed`` and the outcome's name, so one outcome's data sets do not depend on the others.
    """
    frame, _, _, reason = _imputation_frame(data, outcome, _covariate_names(outcome, confounders))
    if reason or not frame.isna().any().any():
        return []
    return _impute(frame, imputations, seed, outcome)


def _pooled(datasets: list[pd.DataFrame], binary: bool, confidence: float) -> dict:
    """Rubin's rules with Barnard–Rubin degrees of freedom (module docstring)."""
    estimates, variances = [], []
    for completed in datasets:
        estimate, se, _, reason = _fit_once(completed.iloc[:, 0].to_numpy(), _design(completed), binary)
        if reason:
            return {"note": f"{reason} (in an imputed data set)"}
        estimates.append(estimate)
        variances.append(se**2)
    m, (n, k) = len(datasets), (len(datasets[0]), datasets[0].shape[1])
    q, within, between = float(np.mean(estimates)), float(np.mean(variances)), float(np.var(estimates, ddof=1))
    total = within + (1 + 1 / m) * between
    share = (1 + 1 / m) * between / total
    complete_df = np.inf if binary else float(n - k)
    with np.errstate(divide="ignore"):
        old = (m - 1) / share**2 if share > 0 else np.inf
        observed = np.inf if np.isinf(complete_df) else (complete_df + 1) / (complete_df + 3) * complete_df * (1 - share)
        df = float(1 / (1 / old + 1 / observed))
    return _summary(q, float(np.sqrt(total)), df, confidence, binary)


def _covariate_names(outcome: str, confounders) -> list[str]:
    baseline = dictionary.baseline_variable(outcome)
    names = [baseline] if baseline else []
    return list(dict.fromkeys(names + [name for name in confounders if name not in (outcome, "group")]))


def _extreme(y: pd.Series, group_a: pd.Series, binary: bool, better: str, best: bool) -> tuple[pd.Series, str]:
    """Missing values filled with the extreme favourable (``best``) or unfavourable to group A; group B the opposite."""
    if not y.isna().any():
        return y, "no missing values"
    if y.notna().sum() == 0:
        return y, "no patient has a value"
    high, low = (1.0, 0.0) if binary else (float(y.max()), float(y.min()))
    favour_a = (better == "higher") == best
    filled = y.copy()
    filled[y.isna() & (group_a == 1)] = high if favour_a else low
    filled[y.isna() & (group_a == 0)] = low if favour_a else high
    return filled, ""


def adjusted_estimates(data: pd.DataFrame, outcomes: list[str], confounders: list[str] = ("age", "sex"), primary: str | None = None,
                       primary_better: str = "higher", imputations: int = MINIMUM_IMPUTATIONS, seed: int = SEED,
                       confidence: float = 0.95) -> pd.DataFrame:
    """Estimates of group A against group B for every outcome and model (module docstring): one row per (variable, model).

    Columns: :data:`ADJUSTED_COLUMNS`, then ``n`` (patients in the model; all patients for ``imputed``),
    ``covariates`` (besides the group, e.g. ``lka_pre, age, sex``) and ``note`` (why a row has no numbers, or what
    was left out of the model).  Rows per outcome, in the order of :data:`MODELS`: ``baseline`` only with a
    pre-operative value, ``confounders`` only with confounders, ``imputed`` only with missing values (in the outcome,
    its baseline value or a confounder), ``best_case``/``worst_case`` for ``primary`` only (note ``no missing values``
    when it has none).  ``imputations`` ≥ 20 data sets; same input and seed give the same frame.

    >>> frame = pd.DataFrame({"group": list("AAABBB"), "x": [1.0, 2, 3, 4, 5, 7], "age": [60, 70, 80, 65, 75, 70], "sex": list("MFMFMF")})
    >>> row = adjusted_estimates(frame, ["x"]).iloc[0]
    >>> row.model, round(float(row.estimate), 4), round(float(row.p), 4)  # Student's t: 2 − 16/3, p 0.0341
    ('unadjusted', -3.3333, 0.0341)
    """
    if primary_better not in ("higher", "lower"):
        raise ValueError(f"primary_better must be 'higher' or 'lower', not {primary_better!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    if imputations < MINIMUM_IMPUTATIONS:
        raise ValueError(f"imputations must be at least {MINIMUM_IMPUTATIONS} (van Buuren 2018, §2.8), not {imputations!r}")
    group = data["group"].astype(object) if "group" in data else pd.Series(np.nan, index=data.index)
    data = data[group.isin(["A", "B"]).to_numpy()]
    group_a = (group[group.isin(["A", "B"])] == "A").astype(float)
    rows = []
    for outcome in outcomes:
        y, binary, reason = _outcome(data, outcome)
        scale = "odds_ratio" if binary else "difference"

        def add(model: str, covariates: list[str], values: dict, outcome=outcome, scale=scale) -> None:
            rows.append({"variable": outcome, "model": model, "scale": scale, "n": 0, **values, "covariates": ", ".join(covariates)})

        if reason:
            add("unadjusted", [], {"n": int(y.notna().sum()), "note": reason})
            continue
        names = _covariate_names(outcome, confounders)
        baseline = names[:1] if dictionary.baseline_variable(outcome) else []
        add("unadjusted", [], _fit(y, group_a, pd.DataFrame(index=data.index), binary, confidence))
        for model, chosen in (("baseline", baseline), ("confounders", names)):
            if chosen and (model == "baseline" or len(names) > len(baseline)):
                columns, notes = _covariates(data, chosen)
                values = _fit(y, group_a, columns, binary, confidence)
                add(model, chosen, {**values, "note": "; ".join(filter(None, [values["note"], *notes]))})
        frame, _, notes, reason = _imputation_frame(data, outcome, names)
        if frame.isna().any().any():
            values = {"n": len(frame), "note": reason}
            if not reason:
                values.update(_pooled(_impute(frame, imputations, seed, outcome), binary, confidence))
            add("imputed", names, {**values, "note": "; ".join(filter(None, [values["note"], *notes]))})
        if outcome == primary:
            for model, best in (("best_case", True), ("worst_case", False)):
                filled, reason = _extreme(y, group_a, binary, primary_better, best)
                add(model, [], {"n": int(y.notna().sum()), "note": reason} if reason else
                    _fit(filled, group_a, pd.DataFrame(index=data.index), binary, confidence))
    frame = pd.DataFrame(rows).reindex(columns=ADJUSTED_COLUMNS + EXTRA_COLUMNS)
    frame["note"] = frame["note"].fillna("")
    text = dict.fromkeys(["variable", "model", "scale", "covariates", "note"], str)
    return frame.astype({**text, "estimate": float, "ci_low": float, "ci_high": float, "p": float, "n": "int64"})


def baseline_explains(frame: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """Outcomes whose unadjusted estimate differs from no effect but whose baseline-adjusted one does not.

    "A difference that disappears once the baseline value is taken into account": unadjusted p < ``alpha`` and
    ``baseline`` p ≥ ``alpha``.  With ``alpha = 1 − confidence`` this is the unadjusted interval excluding 0 (1 for an
    odds ratio) while the baseline model's includes it (t and Wald p are dual to their intervals).
    """
    unadjusted = frame[frame["model"] == "unadjusted"].set_index("variable")["p"]
    baseline = frame[frame["model"] == "baseline"].set_index("variable")["p"]
    return [variable for variable, p in baseline.items() if unadjusted.get(variable, np.nan) < alpha and p >= alpha]
