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
    MIXED_MODEL,
    POOLED_FIXED,
    POOLED_RANDOM,
    SUMMARY_ROWS,
    centre_cells,
    centre_labels,
    estimate_name,
    summary_row,
)
from vertebroplasty.writing import myst, numbers
from vertebroplasty.writing.figures import plain_text
from vertebroplasty.writing.sentences import interval_direction

#: Higgins et al. (2003): I² (%) from which each band starts.
I2_BANDS = ((75.0, "considerable"), (50.0, "substantial"), (25.0, "moderate"), (0.0, "low"))


def heterogeneity_band(i2: float) -> str:
    """Higgins et al. (2003): I² below 25 % low, 25–50 % moderate, 50–75 % substantial, 75 % and above considerable.

    >>> heterogeneity_band(12.0), heterogeneity_band(50.0), heterogeneity_band(75.0)
    ('low', 'substantial', 'considerable')
    """
    return next(band for start, band in I2_BANDS if i2 >= start)


BAND_WORDING = {"low": "showed little variation between centres by I²",
                "moderate": "varied moderately from centre to centre",
                "substantial": "varied substantially from centre to centre",
                "considerable": "varied considerably from centre to centre"}


def opposite_centres(table: pd.DataFrame, variable: str) -> list[tuple[str, bool]]:
    """The centres whose estimate lies on the other side of zero from the random-effects estimate, each with whether
    its own 95 % interval excludes zero (only then does that centre differ in the opposite direction).

    >>> rows = pd.DataFrame({"variable": "v", "centre": ["x", "y", "z", "pooled_random"] * 3,
    ...                      "statistic": ["mean_difference"] * 4 + ["ci_low"] * 4 + ["ci_high"] * 4,
    ...                      "value": [-1.0, 0.5, -2.0, -0.8, -2, -0.5, -3, -1, 0, 1.5, -1, 0]})
    >>> opposite_centres(rows, "v")
    [('y', False)]
    """
    pooled = summary_row(table, variable, POOLED_RANDOM)
    name = estimate_name(variable)
    if not pooled or not np.isfinite(pooled.get(name, np.nan)) or pooled[name] == 0:
        return []
    found = []
    for centre in dict.fromkeys(table.loc[(table["variable"] == variable) & ~table["centre"].isin(SUMMARY_ROWS), "centre"]):
        row = summary_row(table, variable, centre)
        value = row.get(name, np.nan)
        if np.isfinite(value) and np.sign(value) == -np.sign(pooled[name]):
            low, high = row.get("ci_low", np.nan), row.get("ci_high", np.nan)
            found.append((centre, bool(interval_direction(low, high))))
    return found


def heterogeneity_sentence(pooled: Mapping[str, float], label: str, opposite: Iterable[tuple[str, bool]] = ()) -> str:
    """How much one outcome's group difference varied between centres, in one sentence (said once per outcome).

    ``pooled`` holds ``k``, ``i2`` (%), ``q_p`` and optionally ``tau2`` and ``pi_low``/``pi_high`` (the random-effects
    row of the table); ``opposite`` names the centres whose estimate lies on the other side of zero, and whether each
    one's own interval excludes zero (:func:`opposite_centres`): a centre is said to differ in the opposite direction
    only then.  The I² band follows Higgins et al. (2003).  What the Q test can and cannot show with few centres is
    said once in the chapter, not in every sentence.

    Examples
    --------
    >>> heterogeneity_sentence({"k": 4, "i2": 12.3, "q_p": 0.334, "tau2": 0.01}, "FVAHL")[-56:]
    'Q-test p = 0.334), and every centre points the same way.'
    >>> sentence = heterogeneity_sentence({"k": 4, "i2": 55.0, "q_p": 0.08, "tau2": 0.5, "pi_low": -3.1, "pi_high": 1.2},
    ...                                   "LKA loss", [("centre-b", False)])
    >>> sentence[:79]
    'LKA loss: the difference varied substantially from centre to centre (I² = 55 %,'
    >>> rest = sentence[sentence.index("); ") + 3:]
    >>> rest[:79]  # the centre's name is user text, escaped for MyST
    'the estimate of centre\\\\-b lies on the other side of zero, though its interval i'
    >>> rest[-94:]
    "a new centre's difference would be expected between -3.10 and 1.20 (95 % prediction interval)."
    """
    k, i2, q_p = int(pooled["k"]), float(pooled["i2"]), float(pooled["q_p"])
    if not np.isfinite(i2) or not np.isfinite(q_p):
        return f"{label}: the difference could not be compared between the {k} centres."
    band = heterogeneity_band(i2)
    tau2 = f"; τ² = {pooled['tau2']:#.3g}" if np.isfinite(pooled.get("tau2", np.nan)) else ""
    sentence = (f"{label}: the difference {BAND_WORDING[band]} (I² = {i2:.0f} %, {band}{tau2}; "
                f"Q-test {numbers.format_p_in_text(q_p)})")
    opposite = list(opposite)
    clear = [myst.escape_markdown(name) for name, excludes in opposite if excludes]
    unclear = [myst.escape_markdown(name) for name, excludes in opposite if not excludes]
    parts = []
    if clear:
        parts.append(f"{myst.english_list(clear)} differ{'s' if len(clear) == 1 else ''} in the opposite direction (the "
                     f"interval{'s' if len(clear) > 1 else ''} exclude{'s' if len(clear) == 1 else ''} zero)")
    if unclear:
        parts.append(f"the estimate{'s' if len(unclear) > 1 else ''} of {myst.english_list(unclear)} "
                     f"lie{'s' if len(unclear) == 1 else ''} on the other side of zero, though "
                     f"{'its interval includes' if len(unclear) == 1 else 'their intervals include'} zero")
    direction = "; ".join(parts) if parts else "and every centre points the same way"
    low, high = pooled.get("pi_low", np.nan), pooled.get("pi_high", np.nan)
    prediction = (f"a new centre's difference would be expected between {low:.2f} and {high:.2f} (95 % prediction interval)"
                  if np.isfinite(low) and np.isfinite(high) and i2 > 0 else "")
    if not parts:
        return f"{sentence}, {direction}" + (f"; {prediction}." if prediction else ".")
    return f"{sentence}; {direction}" + (f"; {prediction}." if prediction else ".")


def heterogeneity_sentences(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES) -> str:
    """One :func:`heterogeneity_sentence` per outcome, as a bullet list (MyST)."""
    lines = []
    for variable in variables:
        pooled = summary_row(table, variable, POOLED_RANDOM)
        lines.append(heterogeneity_sentence(pooled, label_of(variable), opposite_centres(table, variable)) if pooled
                     else f"{label_of(variable)}: fewer than two centres have an estimate, so nothing is pooled.")
    return "\n".join(f"- {line}" for line in lines)


#: Up to this many centres each is named on the plot; beyond it the rows are unnamed and the fonts shrink.
LABELLED_CENTRES = 40


def forest_data(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows a forest plot draws, from one variable's :func:`centres_table` rows.

    One row per centre (in table order) then ``pooled_fixed`` and ``pooled_random``: ``centre, estimate, ci_low,
    ci_high, n_A, n_B, weight, kind`` (``centre`` or ``pooled``).  A centre's weight is its random-effects weight
    1/(se² + τ²), as a share of the total (NaN without an SE); the random-effects row's interval is the Hartung–Knapp
    one (modified: factor at least 1), and it carries the prediction interval in ``pi_low``/``pi_high``.
    """
    order = list(dict.fromkeys(rows["centre"]))
    wide = rows.pivot(index="centre", columns="statistic", values="value").reindex(order)
    estimate = "risk_difference" if "risk_difference" in wide.columns else "mean_difference"
    centres = [centre for centre in order if centre not in SUMMARY_ROWS]
    pooled = [centre for centre in (POOLED_FIXED, POOLED_RANDOM) if centre in wide.index]
    tau2 = float(wide.loc[POOLED_RANDOM, "tau2"]) if POOLED_RANDOM in wide.index else 0.0
    weights = 1 / (wide.loc[centres, "se"] ** 2 + tau2)
    hartung_knapp = ["hk_modified_ci_low", "hk_modified_ci_high"]
    columns = [estimate, "ci_low", "ci_high", "n_A", "n_B"] + [c for c in (*hartung_knapp, "pi_low", "pi_high") if c in wide]
    frame = wide.loc[centres + pooled, columns].rename(columns={estimate: "estimate"})
    if POOLED_RANDOM in frame.index and hartung_knapp[0] in frame:
        frame.loc[POOLED_RANDOM, ["ci_low", "ci_high"]] = frame.loc[POOLED_RANDOM, hartung_knapp].to_numpy()
    for column in ("pi_low", "pi_high"):
        frame[column] = frame.get(column, np.nan)
    frame["weight"] = (weights / weights.sum()).reindex(frame.index)
    frame["kind"] = ["centre"] * len(centres) + ["pooled"] * len(pooled)
    return frame.rename_axis("centre").reset_index()[["centre", "estimate", "ci_low", "ci_high", "n_A", "n_B", "weight",
                                                      "pi_low", "pi_high", "kind"]]


def largest_centres(data: pd.DataFrame, limit: int = LABELLED_CENTRES) -> pd.DataFrame:
    """The rows of :func:`forest_data` a plot draws: every centre up to ``limit`` centres; beyond it the ``limit`` centres
    with the most patients (ties by name), in their table order, and the pooled rows.  How many were left out, and
    their patients, is kept in ``attrs["left_out"]``; every centre is still in the pooled estimates and the table.

    >>> data = pd.DataFrame({"centre": ["a", "b", "c", "pooled_random"], "n_A": [5, 50, 9, 0], "n_B": [5, 50, 9, 0],
    ...                      "kind": ["centre"] * 3 + ["pooled"]})
    >>> kept = largest_centres(data, limit=2)
    >>> list(kept["centre"]), kept.attrs["left_out"]
    (['b', 'c', 'pooled_random'], (1, 10))
    """
    is_centre = data["kind"] == "centre"
    if is_centre.sum() <= limit:
        return data
    sizes = (data["n_A"] + data["n_B"]).where(is_centre)
    ranked = data[is_centre].assign(size=sizes[is_centre]).sort_values(["size", "centre"], ascending=[False, True], kind="stable")
    keep = set(ranked.index[:limit])
    kept = data[~is_centre | data.index.isin(keep)].reset_index(drop=True)
    dropped = data[is_centre & ~data.index.isin(keep)]
    kept.attrs["left_out"] = (len(dropped), int((dropped["n_A"] + dropped["n_B"]).sum()))
    return kept


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
FOREST_LAYOUT = {True: (0.26, 110.0, 8.5, 0.35, 1.0), False: (0.1, 14.0, 6, 1.0, 2.5)}
POOLED_NAMES = {POOLED_FIXED: "Fixed effect", POOLED_RANDOM: "Random effects (HK CI)"}
#: Where the columns of text beside a forest plot start, as fractions of the figure's width.
TEXT_COLUMNS = (0.69, 0.76, 0.82)


def favours(variable: str) -> tuple[str, str]:
    """The labels under the two sides of zero: which group a difference A − B on that side favours.

    >>> favours("lka_loss"), favours("type_a_share")
    (('favours group A', 'favours group B'), ('favours group B', 'favours group A'))
    """
    from vertebroplasty.writing.adjusted_text import better_direction

    lower_is_better = better_direction(variable) == "lower"
    return ("favours group A", "favours group B") if lower_is_better else ("favours group B", "favours group A")


def forest_plot(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES, labels: Mapping[str, str] | None = None):
    """One figure of forest plots, a panel per outcome stacked on the same centre rows; returns a matplotlib Figure.

    In each panel a centre is a square at its difference A − B (area proportional to its random-effects weight) with its
    95 % CI; the fixed-effect diamond spans its interval, the random-effects diamond its Hartung–Knapp interval, and the
    thin bar through it the 95 % prediction interval of a new centre.  Beside each row: the patients of groups A and B
    with a value, the random-effects weight and the estimate with its interval; under the axis, which group each side of
    zero favours, and the heterogeneity.  With more than :data:`LABELLED_CENTRES` centres each panel draws the
    :data:`LABELLED_CENTRES` largest (:func:`largest_centres`) and says how many smaller centres, with how many patients,
    it leaves out, so the figure keeps its size at any number of centres.  A plain Figure on an Agg canvas (no pyplot, no global state), so
    the same table gives the same image.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    variables = [v for v in variables if v in set(table["variable"])]
    labels = dict(labels or {})
    panels = [(variable, largest_centres(forest_data(table[table["variable"] == variable]))) for variable in variables]
    count = max((int((data["kind"] == "centre").sum()) for _, data in panels), default=0)
    labelled = count <= LABELLED_CENTRES
    inches, square, font, half_height, gap = FOREST_LAYOUT[labelled]
    heights = [1.1 + inches * (len(data) + 2 * gap + 1) for _, data in panels]
    figure = Figure(figsize=(10.4 if labelled else 6.4, sum(heights) + 0.3), layout="constrained")
    if labelled:  # keep the right-hand quarter for the columns of text beside the plots
        figure.get_layout_engine().set(rect=(0, 0, 0.67, 1))
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for axis, (variable, data) in zip(axes, panels):
        is_centre = data["kind"].to_numpy() == "centre"
        centres, pooled = data[is_centre], data[~is_centre]
        y = np.concatenate([np.arange(len(centres), 0, -1.0), -gap * np.arange(1, len(pooled) + 1)])
        axis.hlines(y[is_centre], centres["ci_low"], centres["ci_high"], color="#444444", linewidth=0.8 if labelled else 0.5)
        sizes = square * centres["weight"].fillna(0) / max(centres["weight"].max(), 1e-12)
        axis.scatter(centres["estimate"], y[is_centre], s=sizes.clip(lower=4), marker="s", color="#1b6ca8", zorder=3)
        for row, position in zip(pooled.itertuples(), y[~is_centre]):
            if row.centre == POOLED_RANDOM and np.isfinite(row.pi_low):
                axis.hlines(position, row.pi_low, row.pi_high, color="#d1495b", linewidth=1.2, zorder=2)
            axis.add_patch(Polygon([(row.ci_low, position), (row.estimate, position + half_height), (row.ci_high, position),
                                    (row.estimate, position - half_height)], closed=True, zorder=3,
                                   color="#d1495b" if row.centre == POOLED_RANDOM else "#6c757d"))
        axis.axvline(0, color="black", linewidth=0.8, linestyle="--")
        shown = data if labelled else pooled
        axis.set_yticks(y[data.index.isin(shown.index)], [POOLED_NAMES.get(c, plain_text(c)) for c in shown["centre"]], fontsize=font)
        if labelled:  # columns of text at fixed places of the figure, on the rows of the plot
            beside = blended_transform_factory(figure.transFigure, axis.transData)
            for column, heading in zip(TEXT_COLUMNS, ("n A / B", "weight", "A − B [95 % CI]")):
                axis.text(column, y.max() + 0.9, heading, transform=beside, va="center", fontsize=font, fontweight="bold",
                          clip_on=False, in_layout=False)
            for row, position in zip(data.itertuples(), y):
                sizes_text = f"{int(row.n_A)} / {int(row.n_B)}" if row.kind == "centre" else ""
                weight = f"{100 * row.weight:.0f} %" if row.kind == "centre" and np.isfinite(row.weight) else ""
                interval = ("not estimable" if pd.isna(row.ci_low) else
                            f"{numbers.signed(row.estimate)} [{numbers.signed(row.ci_low)}, {numbers.signed(row.ci_high)}]")
                for column, text in zip(TEXT_COLUMNS, (sizes_text, weight, interval)):
                    axis.text(column, position, text, transform=beside, va="center", fontsize=font, clip_on=False, in_layout=False)
                if row.centre == POOLED_RANDOM and np.isfinite(row.pi_low):
                    axis.text(TEXT_COLUMNS[2], position - 0.75, f"PI [{numbers.signed(row.pi_low)}, "
                              f"{numbers.signed(row.pi_high)}]", transform=beside, va="center", fontsize=font - 0.5,
                              color="#d1495b", clip_on=False, in_layout=False)
        else:
            axis.set_ylabel(f"{len(centres)} centres (squares)", fontsize=font)
        axis.set_ylim(y.min() - 1.5 * half_height - 0.8, y.max() + 1.4)
        axis.tick_params(axis="x", labelsize=font)
        left, right = favours(variable)
        label = labels.get(variable, label_of(variable))
        caption = heterogeneity_caption(summary_row(table, variable, POOLED_RANDOM))
        axis.set_xlabel(f"← {left}   |   {right} →\n{label}: group A − group B" + (f"; {caption}" if caption else ""),
                        fontsize=font)
        left_out = data.attrs.get("left_out", (0, 0))
        axis.set_title(label + (f" — the {len(centres)} largest centres drawn; {left_out[0]} smaller ({left_out[1]} patients) in "
                                "the pooled estimates and results/centres.csv" if left_out[0] else ""), fontsize=font + 1.5, loc="left")
        axis.spines[["top", "right"]].set_visible(False)
    return figure


def label_of(variable: str) -> str:
    return "Type-A share (risk difference, as a proportion)" if variable == "type_a_share" else dictionary.label(variable)


def pooled_table(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES) -> str:
    """Per outcome, group A − B with its 95 % CI: patients pooled as one centre (crude OLS), adjusted for centre (OLS with
    centre as a factor; mixed model with a random centre intercept), and the centres pooled as a meta-analysis
    (fixed effect; random effects with the Hartung–Knapp interval and the prediction interval) (MyST)."""
    def estimate(row: dict, name: str, low: str = "ci_low", high: str = "ci_high") -> str:
        return numbers.estimate(row.get(name), row.get(low), row.get(high)) if row else "—"

    rows = []
    for variable in variables:
        name = estimate_name(variable)
        random = summary_row(table, variable, POOLED_RANDOM)
        mixed = summary_row(table, variable, MIXED_MODEL)
        prediction = (f"{random['pi_low']:.2f} to {random['pi_high']:.2f}"
                      if random and np.isfinite(random.get("pi_low", np.nan)) else "—")
        rows.append([label_of(variable), estimate(summary_row(table, variable, CRUDE_OLS), name),
                     estimate(summary_row(table, variable, ADJUSTED_OLS), name),
                     estimate(mixed, name) if mixed else "not fitted (yes/no outcome)" if variable in BINARY_OUTCOMES else "—",
                     estimate(summary_row(table, variable, POOLED_FIXED), name),
                     estimate(random, name, "hk_modified_ci_low", "hk_modified_ci_high"), prediction])
    return myst.list_table(["Outcome (A − B)", "Crude, one pool (OLS)", "Adjusted for centre (OLS)", "Random centre intercept (mixed model)",
                            "Fixed effect (meta-analysis)", "Random effects (DL, Hartung–Knapp CI)", "95 % prediction interval"],
                           rows, [16, 14, 14, 14, 14, 15, 13], name="table-pooled",
                           caption="The difference between the groups (A − B) in each headline outcome, from one pool and accounting for centre.")


READINGS = {
    "holds": "shown within the centres and across them",
    "within": "shown within these centres, but not shown to carry over to other centres (the random-effects interval includes zero)",
    "across": "shown across centres by the random-effects estimate, but not within them once centre is adjusted for",
    "none": "no difference shown once centres are taken into account",
}


def multicentre_reading(table: pd.DataFrame, variable: str) -> str:
    """Which of :data:`READINGS` an outcome's centre-adjusted and random-effects (Hartung–Knapp) intervals support."""
    adjusted, random = summary_row(table, variable, ADJUSTED_OLS), summary_row(table, variable, POOLED_RANDOM)
    within = interval_direction(adjusted.get("ci_low", np.nan), adjusted.get("ci_high", np.nan)) if adjusted else ""
    across = interval_direction(random.get("hk_modified_ci_low", np.nan), random.get("hk_modified_ci_high", np.nan)) if random else ""
    if within and across == within:
        return "holds"
    if within and not across:
        return "within"
    if across and not within:
        return "across"
    return "none"


def _worded(row: Mapping[str, float], name: str, low: str = "ci_low", high: str = "ci_high") -> str:
    """An estimate with its interval and, only when the interval excludes zero, its direction."""
    direction = interval_direction(row[low], row[high])
    said = f", {direction} in group A" if direction else ", interval includes zero"
    return numbers.estimate(row[name], row[low], row[high]) + said


def multicentre_summary(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES) -> str:
    """The headline outcomes as a multicentre study reads them (MyST bullet list): pooled as one centre, adjusted for
    centre and across centres (random effects, Hartung–Knapp interval), each contrast worded by its own interval, then
    what the two centre-aware estimates support together (:func:`multicentre_reading`)."""
    lines = []
    for variable in variables:
        name = estimate_name(variable)
        crude, adjusted = summary_row(table, variable, CRUDE_OLS), summary_row(table, variable, ADJUSTED_OLS)
        random = summary_row(table, variable, POOLED_RANDOM)
        if not adjusted:
            continue
        parts = [f"pooled as one centre {_worded(crude, name)}"] if crude else []
        parts.append(f"adjusted for centre {_worded(adjusted, name)}")
        if random:
            parts.append(f"random effects over {int(random['k'])} centres {_worded(random, name, 'hk_modified_ci_low', 'hk_modified_ci_high')} "
                         "(Hartung–Knapp)")
        lines.append(f"- {label_of(variable)}, group A − B: {'; '.join(parts)} — {READINGS[multicentre_reading(table, variable)]}.")
    return "\n".join(lines)


def multicentre_conclusion(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES) -> str:
    """One paragraph for the Summary and the Conclusions: which headline results hold within and across the centres.

    Outcomes are grouped by :func:`multicentre_reading`; the estimates are in the chapter on centres.
    """
    groups: dict[str, list[str]] = {}
    for variable in variables:
        if summary_row(table, variable, ADJUSTED_OLS):
            groups.setdefault(multicentre_reading(table, variable), []).append(label_of(variable))
    k = int(summary_row(table, next(iter(variables)), POOLED_RANDOM).get("k", 0)) if variables else 0
    sentences = []
    for reading in ("holds", "within", "across", "none"):
        if reading in groups:
            labels = myst.english_list(groups[reading])
            sentences.append(f"{labels}: {READINGS[reading]}.")
    opening = (f"Taking the {k} centres into account (group A − B compared within centres, and across them with random effects "
               "and the Hartung–Knapp interval; a direction only where an interval excludes zero):")
    return opening + " " + " ".join(sentences) + " The estimates are in the chapter on centres."


#: The Summary's short words for each reading (the Conclusions give the full ones, :data:`READINGS`).
BRIEF_READINGS = {"holds": "within and across them", "within": "within these centres only", "across": "across centres only",
                  "none": "in neither way"}


def multicentre_brief(table: pd.DataFrame, variables: Iterable[str] = HEADLINE_OUTCOMES) -> str:
    """The Summary's one sentence on the centres: which headline results hold within and across them (the Conclusions
    say it at length, :func:`multicentre_conclusion`)."""
    groups: dict[str, list[str]] = {}
    for variable in variables:
        if summary_row(table, variable, ADJUSTED_OLS):
            groups.setdefault(multicentre_reading(table, variable), []).append(myst.escape_markdown(label_of(variable)))
    k = int(summary_row(table, next(iter(variables)), POOLED_RANDOM).get("k", 0)) if variables else 0
    parts = [f"{BRIEF_READINGS[reading]} for {myst.english_list(groups[reading])}" for reading in BRIEF_READINGS if reading in groups]
    return (f"Taking the {k} centres into account, the headline differences are shown {'; '.join(parts)} "
            "(Conclusions and the chapter on centres give the estimates).")


def mantel_haenszel_sentence(table: pd.DataFrame) -> str:
    """The Mantel–Haenszel pooled odds ratios of the yes/no outcomes, in one sentence."""
    parts = []
    for variable in BINARY_OUTCOMES:
        row = summary_row(table, variable, MANTEL_HAENSZEL)
        if row:
            parts.append(f"{label_of(variable).replace(' (risk difference, as a proportion)', '')}: odds ratio {row['odds_ratio']:.2f} "
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
    return myst.list_table(header, rows, [30] + [max(8, 70 // len(centres))] * len(centres), name="table-centres",
                           caption="The patients of each centre (both groups together).")


def characteristics_from_cells(cells: pd.DataFrame, variables: Iterable[str], sources: pd.DataFrame | None = None) -> str:
    """Table 1 per centre from centres' summaries: patients per group and the mean ± SD of each measured characteristic
    (both groups together, as :func:`characteristics_table` shows them from patient rows) (MyST)."""
    combined = centre_cells(cells[cells["variable"].isin(list(variables))]).set_index(["variable", "centre"])
    centres = list(dict.fromkeys(cells["centre"]))
    header = ["Characteristic", *[myst.escape_markdown(centre) for centre in centres]]
    rows = []
    if sources is not None:
        by_centre = sources.set_index("centre")
        rows.append(["Patients, group A / B", *[f"{int(by_centre.loc[c, 'patients_A'])} / {int(by_centre.loc[c, 'patients_B'])}"
                                                for c in centres]])
    for variable in variables:
        rows.append([dictionary.label(variable), *[numbers.mean_sd(combined.loc[(variable, c), "mean"], combined.loc[(variable, c), "sd"])
                                                   if (variable, c) in combined.index else "—" for c in centres]])
    return myst.list_table(header, rows, [30] + [max(8, 70 // max(len(centres), 1))] * len(centres), name="table-centres",
                           caption="The patients of each centre (both groups together), from the centres' summaries.")


def sources_table(sources: pd.DataFrame) -> str:
    """The centres' summary files: centre, patients per group, data file and its SHA-256, package version, date (MyST)."""
    rows = [[myst.escape_markdown(r.centre), f"{int(r.patients_A)} / {int(r.patients_B)}", myst.code_span(r.data_file),
             myst.code_span(r.data_sha256[:16] + "…"), myst.escape_markdown(r.package_version), myst.escape_markdown(r.created),
             str(int(r.min_cell))] for r in sources.itertuples()]
    return myst.list_table(["Centre", "Patients, A / B", "Data file", "SHA-256 of the data file", "Package version", "Summarised",
                            "MIN_CELL"], rows, [16, 12, 18, 18, 12, 12, 12],
                           name="table-summary-files", caption="The centres' summary files this report was built from.")


def summaries_banner(sources: pd.DataFrame) -> str:
    """The data statement of a report built from centres' summaries (MyST)."""
    patients = int(sources["patients_A"].sum() + sources["patients_B"].sum())
    return (f"**Data:** the summaries of {len(sources)} centres ({patients} patients), each written at its centre by `make summary` "
            "from its own cohort file. No patient row left any centre: every number in this report is computed from the "
            "summaries' per-group counts, means and SDs, and equals what the patient rows would give.")
