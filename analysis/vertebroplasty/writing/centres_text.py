"""The multicentre analysis in words, tables and figures: heterogeneity sentences, the pooled table, forest plots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import comparisons
from vertebroplasty.statistics.centres import (
    ADJUSTED_OLS,
    BINARY_OUTCOMES,
    CRUDE_OLS,
    HEADLINE_OUTCOMES,
    MANTEL_HAENSZEL,
    POOLED_FIXED,
    POOLED_RANDOM,
    SUMMARY_ROWS,
    centre_labels,
    estimate_name,
    summary_row,
)
from vertebroplasty.writing import myst, numbers

#: Higgins et al. (2003): I² (%) from which each band starts.
I2_BANDS = ((75.0, "considerable"), (50.0, "substantial"), (25.0, "moderate"), (0.0, "low"))


def heterogeneity_band(i2: float) -> str:
    """Higgins et al. (2003): I² below 25 % low, 25–50 % moderate, 50–75 % substantial, 75 % and above considerable.

    >>> heterogeneity_band(12.0), heterogeneity_band(50.0), heterogeneity_band(75.0)
    ('low', 'substantial', 'considerable')
    """
    return next(band for start, band in I2_BANDS if i2 >= start)


BAND_WORDING = {"low": "was much the same in every centre",
                "moderate": "varied moderately from centre to centre",
                "substantial": "varied substantially from centre to centre",
                "considerable": "varied considerably from centre to centre"}


def heterogeneity_sentence(pooled: Mapping[str, float], label: str) -> str:
    """A plain sentence on how much the group difference varied between centres, worded by I² and Cochran's Q.

    ``pooled`` holds ``k``, ``i2`` (%) and ``q_p`` (and optionally ``tau2``): a :func:`pool` result or
    :func:`summary_row` of the table.  The I² band follows Higgins et al. (2003); the Q test is reported with its
    p, and a non-significant Q is not read as proof of homogeneity (it has little power with few centres).

    Examples
    --------
    >>> sentence = heterogeneity_sentence({"k": 4, "i2": 12.3, "q_p": 0.334, "tau2": 0.01}, "FVAHL")
    >>> sentence.split(" (")[0]
    'Across the 4 centres, the difference between the groups in FVAHL was much the same in every centre'
    >>> sentence[sentence.index("(I²"):sentence.index(")") + 1]
    '(I² = 12 %, low heterogeneity; τ² = 0.0100; Q-test p = 0.334)'
    """
    k, i2, q_p = int(pooled["k"]), float(pooled["i2"]), float(pooled["q_p"])
    start = f"Across the {k} centres, the difference between the groups in {label}"
    if not np.isfinite(i2) or not np.isfinite(q_p):
        return f"{start} could not be compared between centres."
    band = heterogeneity_band(i2)
    tau2 = f"; τ² = {pooled['tau2']:#.3g}" if "tau2" in pooled and np.isfinite(pooled["tau2"]) else ""
    first = f"{start} {BAND_WORDING[band]} (I² = {i2:.0f} %, {band} heterogeneity{tau2}; Q-test {numbers.format_p_in_text(q_p)})."
    if q_p < 0.05:
        return f"{first} The Q test rejects one common difference, so the random-effects estimate is the one to read."
    return f"{first} The Q test finds no heterogeneity beyond chance, although with {k} centres it has little power to find it."


#: Up to this many centres each is named on the plot; beyond it the rows are unnamed and the fonts shrink.
LABELLED_CENTRES = 40


def forest_data(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows a forest plot draws, from one variable's :func:`centres_table` rows.

    One row per centre (in table order) then ``pooled_fixed`` and ``pooled_random``: ``centre, estimate, ci_low,
    ci_high, weight, kind`` (``centre`` or ``pooled``).  A centre's weight is its random-effects weight
    1/(se² + τ²), as a share of the total (NaN without an SE).
    """
    order = list(dict.fromkeys(rows["centre"]))
    wide = rows.pivot(index="centre", columns="statistic", values="value").reindex(order)
    estimate = "risk_difference" if "risk_difference" in wide.columns else "mean_difference"
    centres = [centre for centre in order if centre not in SUMMARY_ROWS]
    pooled = [centre for centre in (POOLED_FIXED, POOLED_RANDOM) if centre in wide.index]
    tau2 = float(wide.loc[POOLED_RANDOM, "tau2"]) if POOLED_RANDOM in wide.index else 0.0
    weights = 1 / (wide.loc[centres, "se"] ** 2 + tau2)
    frame = wide.loc[centres + pooled, [estimate, "ci_low", "ci_high"]].rename(columns={estimate: "estimate"})
    frame["weight"] = (weights / weights.sum()).reindex(frame.index)
    frame["kind"] = ["centre"] * len(centres) + ["pooled"] * len(pooled)
    return frame.rename_axis("centre").reset_index()


def heterogeneity_caption(pooled: Mapping[str, float]) -> str:
    """A short caption of the heterogeneity: ``I² = 83 %, τ² = 3.00, Q-test p < 0.001`` (empty without pooled rows).

    >>> heterogeneity_caption({"i2": 83.3, "tau2": 2.998, "q_p": 0.0004})
    'I² = 83 %, τ² = 3.00, Q-test p < 0.001'
    """
    if not pooled or not np.isfinite(pooled.get("i2", np.nan)):
        return ""
    return f"I² = {pooled['i2']:.0f} %, τ² = {pooled['tau2']:#.3g}, Q-test {numbers.format_p_in_text(pooled['q_p'])}"


#: Row layout of the forest plot: (inches per row, square size for the largest weight, font size, diamond half-height
#: and rows between the pooled estimates), with named centres and without.
FOREST_LAYOUT = {True: (0.26, 110.0, 8, 0.35, 1.0), False: (0.1, 14.0, 6, 1.0, 2.5)}


POOLED_NAMES = {POOLED_FIXED: "Fixed effect (inverse variance)", POOLED_RANDOM: "Random effects (DerSimonian–Laird)"}


def forest_plot(rows: pd.DataFrame, label: str, heterogeneity: str | None = None):
    """A forest plot of one variable's :func:`centres_table` rows; returns a matplotlib Figure.

    Each centre is a square at its estimate (area proportional to its random-effects weight) with its confidence
    interval; the fixed-effect and random-effects pooled estimates are diamonds spanning their intervals; the dashed
    line is no difference (0).  With up to :data:`LABELLED_CENTRES` (40) centres each row is named and its estimate
    and interval are written beside it.  With more (the plot stays readable up to about 100 centres) the centre rows
    are unnamed, in table order (by name), the squares, row spacing and fonts shrink, and the axis says how many
    centres there are; only the pooled rows are named.  ``heterogeneity`` is the subtitle; by default
    :func:`heterogeneity_caption` of the pooled random-effects row.

    The figure is a plain :class:`matplotlib.figure.Figure` on an Agg canvas (no pyplot, no global state), and
    nothing in it is random, so the same rows give the same image.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    data = forest_data(rows)
    is_centre = data["kind"].to_numpy() == "centre"
    centres, pooled = data[is_centre], data[~is_centre]
    labelled = len(centres) <= LABELLED_CENTRES
    inches, square, font, half_height, gap = FOREST_LAYOUT[labelled]
    y = np.concatenate([np.arange(len(centres), 0, -1.0), -gap * np.arange(1, len(pooled) + 1)])
    figure = Figure(figsize=(7.2 if labelled else 6.4, 1.6 + inches * (y.max() - y.min() + 2)), layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.add_subplot()
    axis.hlines(y[is_centre], centres["ci_low"], centres["ci_high"], color="#444444", linewidth=0.8 if labelled else 0.5)
    sizes = square * centres["weight"].fillna(0) / max(centres["weight"].max(), 1e-12)
    axis.scatter(centres["estimate"], y[is_centre], s=sizes.clip(lower=4), marker="s", color="#1b6ca8", zorder=3)
    for row, position in zip(pooled.itertuples(), y[~is_centre]):
        axis.add_patch(Polygon([(row.ci_low, position), (row.estimate, position + half_height), (row.ci_high, position),
                                (row.estimate, position - half_height)], closed=True, zorder=3,
                               color="#d1495b" if row.centre == POOLED_RANDOM else "#6c757d"))
    axis.axvline(0, color="black", linewidth=0.8, linestyle="--")
    shown = data if labelled else pooled
    names = [POOLED_NAMES.get(centre, centre) for centre in shown["centre"]]
    axis.set_yticks(y[data.index.isin(shown.index)], names, fontsize=font)
    if labelled:
        for row, position in zip(data.itertuples(), y):
            text = "not estimable" if pd.isna(row.ci_low) else f"{row.estimate:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]"
            axis.annotate(text.replace("-", "−"), (1.01, position), xycoords=("axes fraction", "data"), va="center",
                          fontsize=font)
    else:
        axis.set_ylabel(f"{len(centres)} centres, by name (squares)", fontsize=font)
    axis.set_ylim(y.min() - 1.5 * half_height - 0.5, y.max() + 1)
    axis.tick_params(axis="x", labelsize=font)
    axis.set_xlabel(f"{label}: group A − group B", fontsize=font + 1)
    subtitle = heterogeneity_caption(summary_row(rows, rows["variable"].iloc[0])) if heterogeneity is None else heterogeneity
    axis.set_title(label + (f"\n{subtitle}" if subtitle else ""), fontsize=font + 2)
    axis.spines[["top", "right"]].set_visible(False)
    return figure


def label_of(variable: str) -> str:
    return "Type-A share (risk difference)" if variable == "type_a_share" else dictionary.label(variable)


def pooled_table(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES) -> str:
    """Per outcome: crude and centre-adjusted OLS differences, fixed and random pooled estimates, I² and Q p (MyST)."""
    def estimate(row: dict, name: str) -> str:
        return numbers.estimate(row.get(name, row.get("estimate")), row.get("ci_low"), row.get("ci_high")) if row else "—"

    rows = []
    for variable in variables:
        name = estimate_name(variable)
        random, fixed = summary_row(table, variable, POOLED_RANDOM), summary_row(table, variable, POOLED_FIXED)
        crude, adjusted = summary_row(table, variable, CRUDE_OLS), summary_row(table, variable, ADJUSTED_OLS)
        heterogeneity = f"{random['i2']:.0f} %; {numbers.format_p_in_text(random['q_p'])}" if random else "—"
        rows.append([label_of(variable), estimate(crude, "estimate"), estimate(adjusted, "estimate"), estimate(fixed, name),
                     estimate(random, name), heterogeneity])
    return myst.list_table(["Outcome (A − B)", "Crude (OLS)", "Adjusted for centre (OLS)", "Fixed effect", "Random effects (DL)",
                            "I²; Q test"], rows, [22, 16, 16, 16, 16, 14])


def mantel_haenszel_sentence(table: pd.DataFrame) -> str:
    """The Mantel–Haenszel pooled odds ratios of the yes/no outcomes, in one sentence."""
    parts = []
    for variable in BINARY_OUTCOMES:
        row = summary_row(table, variable, MANTEL_HAENSZEL)
        if row:
            parts.append(f"{label_of(variable).replace(' (risk difference)', '')}: odds ratio {row['odds_ratio']:.2f} "
                         f"(95 % CI {row['ci_low']:.2f} to {row['ci_high']:.2f}; {numbers.format_p_in_text(row['p'])}; "
                         f"Breslow–Day test of equal odds ratios {numbers.format_p_in_text(row['breslow_day_p'])})")
    return ("Pooled over the centres with the Mantel–Haenszel method, group A against group B — " + "; ".join(parts) + "."
            if parts else "")


def characteristics_table(data: pd.DataFrame, variables: Iterable[str]) -> str:
    """Table 1 per centre: patients per group and the mean ± SD or n (%) of each characteristic (MyST)."""
    frame = data.assign(centre=centre_labels(data))
    centres = sorted(frame["centre"].unique())
    described = comparisons.describe(frame, list(variables), "centre")
    header = ["Characteristic", *[myst.escape_markdown(centre) for centre in centres]]
    rows = [["Patients, group A / B", *[f"{int((part['group'] == 'A').sum())} / {int((part['group'] == 'B').sum())}"
                                         for _, part in frame.groupby("centre", sort=True)]]]
    for variable, part in described.groupby("variable", sort=False):
        by_level = part.set_index(["level", "category"])
        if part["category"].ne("").any():
            for category in dict.fromkeys(part["category"]):
                rows.append([f"{dictionary.label(variable)}: {dictionary.category_label(variable, category)}, n (%)",
                             *[numbers.count_percent(by_level.loc[(c, category), "count"], by_level.loc[(c, category), "percent"])
                               if (c, category) in by_level.index else "—" for c in centres]])
        else:
            rows.append([dictionary.label(variable), *[numbers.mean_sd(by_level.loc[(c, ""), "mean"], by_level.loc[(c, ""), "sd"])
                                                       if (c, "") in by_level.index else "—" for c in centres]])
    return myst.list_table(header, rows, [30] + [max(8, 70 // len(centres))] * len(centres))
