"""The report's figures (matplotlib/seaborn), each from a tidy summary that is returned too.

Every plotting function returns ``(figure, summary)``: the summary frame is what the figure shows.  Intervals
are t-based (no bootstrap) and any sample of points is drawn with a fixed seed, so figures are deterministic.

Scale rule (one for every figure): individual patients are drawn only where they stay readable, up to
:data:`POINTS_PER_GROUP` per group or type; above that a box plot of all patients is shown with a seeded random
sample of that many points, and the caption says so (:func:`points_rule`).  Summaries (means, intervals, counts)
always use every patient.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402
from scipy import stats  # noqa: E402

from vertebroplasty.contract import derivation, dictionary  # noqa: E402
from vertebroplasty.statistics.comparisons import describe  # noqa: E402
from vertebroplasty.writing.myst import english_list  # noqa: E402

POINTS_PER_GROUP = 200
SEED = 20200301
GROUP_COLOURS = {"A": "#1b6ca8", "B": "#d1495b"}
TYPE_COLOURS = {"A": "#2a9d8f", "B": "#e9c46a", "C": "#e76f51"}
TIMEPOINT_LABELS = {"pre": "Pre-op", "op": "During\ncementing", "post": "24 h\npost-op", "final": "Final\nfollow-up"}


def plain_text(text: str) -> str:
    r"""User text (a centre, a patient id, an exclusion reason) as matplotlib should print it: a ``$`` is a dollar sign,
    never the start of mathematics (which would print ``$x^2$`` as x² and stop the build on an unknown command).

    >>> plain_text("St. $ave$")
    'St. \\$ave\\$'
    """
    return str(text).replace("$", r"\$")


def measure_label(measure: str) -> str:
    """Axis label of a measure followed over time, its unit from the data dictionary: ``LKA (°)``."""
    return f"{measure.upper()} ({dictionary.unit_symbol(f'{measure}_pre')})"


TRAJECTORY_MEASURES = {
    measure: (measure_label(measure), timepoints)
    for measure, timepoints in (("fvah", derivation.TIMEPOINTS), ("avhr", derivation.TIMEPOINTS),
                                ("lka", derivation.TIMEPOINTS), ("rka", derivation.TIMEPOINTS),
                                ("vas", ("pre", "op", "post", "final")), ("odi", derivation.TIMEPOINTS))
}

plt.rcParams.update({"figure.dpi": 96, "savefig.dpi": 96, "font.size": 9, "svg.hashsalt": "vertebroplasty",
                     "axes.spines.top": False, "axes.spines.right": False})


def points_rule(largest_group: int) -> str:
    """How a figure shows individual patients, in words for its caption."""
    if largest_group <= POINTS_PER_GROUP:
        return "points: every patient"
    return (f"points: a random sample of {POINTS_PER_GROUP} patients per type (seeded; the boxes use all patients, "
            f"up to {largest_group:,} per type)")


def shown_points(part: pd.DataFrame, by: str) -> pd.DataFrame:
    """The rows drawn as points: all of them, or a seeded sample of :data:`POINTS_PER_GROUP` per level of ``by``."""
    rng = np.random.default_rng(SEED)
    pieces = []
    for _, rows in part.groupby(by, observed=True, sort=True):
        pieces.append(rows if len(rows) <= POINTS_PER_GROUP else rows.iloc[np.sort(rng.choice(len(rows), POINTS_PER_GROUP, replace=False))])
    return pd.concat(pieces) if pieces else part


def mean_ci(values: pd.Series, confidence: float = 0.95) -> tuple[int, float, float, float]:
    """n, mean and the t-based confidence interval of the mean (NaN bounds when n < 2)."""
    values = pd.to_numeric(values, errors="coerce").astype(float).dropna()
    n = len(values)
    mean = values.mean() if n else np.nan
    if n < 2:
        return n, mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return n, mean, mean - half, mean + half


def trajectory_summary(data: pd.DataFrame, between: str = "group", medians: Collection[str] = ()) -> pd.DataFrame:
    """Each outcome at each timepoint, per level of ``between`` (tidy): the mean and its 95 % CI (t-based), or for the
    measures named in ``medians`` (those the report tests on ranks) the median and its interquartile range; columns
    ``location, low, high`` hold them and ``summary`` says which."""
    ranked = [f"{measure}_{timepoint}" for measure in medians for timepoint in TRAJECTORY_MEASURES[measure][1]]
    quartiles = describe(data, ranked, between).set_index(["variable", "level"]) if ranked else None  # the tables' own
    rows = []
    for measure, (_, timepoints) in TRAJECTORY_MEASURES.items():
        for timepoint in timepoints:
            for level, part in data.groupby(between, observed=True, sort=True):
                column = f"{measure}_{timepoint}"
                if measure in medians:
                    record = quartiles.loc[(column, str(level))]
                    n, middle, low, high = int(record["n"]), record["median"], record["q1"], record["q3"]
                else:
                    n, middle, low, high = mean_ci(part[column])
                rows.append({"measure": measure, "timepoint": timepoint, between: str(level), "n": n,
                             "summary": "median" if measure in medians else "mean", "location": middle, "low": low, "high": high})
    return pd.DataFrame(rows)


def trajectories(data: pd.DataFrame, medians: Collection[str] = ()) -> tuple[plt.Figure, pd.DataFrame]:
    """Outcome trajectories per treatment group at each timepoint: mean with 95 % CI, or median with interquartile
    range for the measures in ``medians`` (see :func:`trajectory_summary`)."""
    summary = trajectory_summary(data, medians=medians)
    figure, axes = plt.subplots(2, 3, figsize=(9, 5.4), constrained_layout=True)
    for axis, (measure, (label, timepoints)) in zip(axes.flat, TRAJECTORY_MEASURES.items()):
        part = summary[summary["measure"] == measure]
        for offset, (group, colour) in zip((-0.06, 0.06), GROUP_COLOURS.items()):
            line = part[part["group"] == group].set_index("timepoint").reindex(list(timepoints))
            x = np.arange(len(timepoints)) + offset
            axis.errorbar(x, line["location"], yerr=[line["location"] - line["low"], line["high"] - line["location"]],
                          color=colour, marker="o", markersize=4, capsize=3, label=f"Group {group}")
        axis.set_xticks(range(len(timepoints)), [TIMEPOINT_LABELS[t] for t in timepoints])
        axis.set_title(label + (" (median, IQR)" if measure in medians else ""))
    axes.flat[0].legend(frameon=False)
    return figure, summary


def rank_tested_measures(tests: pd.DataFrame) -> list[str]:
    """The trajectory measures whose comparisons between the groups ran on ranks (``tests``: Table 2's tests frame).

    >>> rank_tested_measures(pd.DataFrame({"variable": ["vas_pre", "vas_op", "fvah_pre"], "test": ["mann_whitney", "mann_whitney", "welch"]}))
    ['vas']
    """
    from vertebroplasty.statistics.comparisons import RANK_TESTS

    ranked = set(tests.loc[tests["test"].isin(RANK_TESTS), "variable"])
    return [measure for measure, (_, timepoints) in TRAJECTORY_MEASURES.items()
            if any(f"{measure}_{timepoint}" in ranked for timepoint in timepoints)]


def trajectory_caption(medians: Collection[str]) -> str:
    """What each point and bar of :func:`trajectories` shows, for its caption.

    >>> trajectory_caption([])
    'mean and t-based 95 % confidence interval'
    >>> trajectory_caption(["vas", "odi"])
    'mean and t-based 95 % confidence interval; for VAS and ODI, tested on ranks, median and interquartile range'
    >>> trajectory_caption(list(TRAJECTORY_MEASURES))
    'median and interquartile range'
    """
    if not medians:
        return "mean and t-based 95 % confidence interval"
    if set(medians) >= set(TRAJECTORY_MEASURES):
        return "median and interquartile range"
    names = english_list([measure.upper() for measure in medians])
    return f"mean and t-based 95 % confidence interval; for {names}, tested on ranks, median and interquartile range"


def distribution_by_group(data: pd.DataFrame) -> tuple[plt.Figure, pd.DataFrame]:
    """Cement-distribution types as percentages of each treatment group (stacked bars)."""
    counts = pd.crosstab(data["group"], data["cement_distribution"])
    percent = counts.div(counts.sum(axis=1), axis=0) * 100
    summary = percent.reset_index().melt(id_vars="group", var_name="cement_distribution", value_name="percent")
    figure, axis = plt.subplots(figsize=(5, 3.2), constrained_layout=True)
    bottom = np.zeros(len(percent))
    for distribution in percent.columns:
        values = percent[distribution].to_numpy()
        axis.bar([f"Group {g}\n(n = {counts.loc[g].sum()})" for g in percent.index], values, bottom=bottom,
                 color=TYPE_COLOURS.get(distribution, "grey"), label=f"Type {distribution}")
        for x, (value, base) in enumerate(zip(values, bottom)):
            if value >= 6:
                axis.text(x, base + value / 2, f"{value:.0f} %", ha="center", va="center", fontsize=8)
        bottom += values
    axis.set_ylabel("Patients (%)")
    axis.set_ylim(0, 100)
    axis.legend(frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left")
    return figure, summary


def losses_by_distribution(data: pd.DataFrame, variables: tuple[str, ...] = ("lka_loss", "fvahl", "avhlr")) -> tuple[plt.Figure, pd.DataFrame]:
    """Box plots of the losses by cement-distribution type, with the patients as points (see :func:`points_rule`)."""
    import seaborn as sns  # here, not at the top: the one figure that needs it (the import costs each notebook ½ s)

    long = data[["cement_distribution", *variables]].melt(id_vars="cement_distribution", var_name="variable").dropna()
    long["value"] = long["value"].astype(float)
    figure, axes = plt.subplots(1, len(variables), figsize=(9, 3.2), constrained_layout=True)
    order = sorted(long["cement_distribution"].unique())
    palette = {level: TYPE_COLOURS.get(level, "grey") for level in order}
    for axis, variable in zip(np.atleast_1d(axes), variables):
        part = long[long["variable"] == variable]
        sns.boxplot(data=part, x="cement_distribution", y="value", hue="cement_distribution", order=order, palette=palette,
                    legend=False, showfliers=False, width=0.55, ax=axis, boxprops={"alpha": 0.55})
        points = shown_points(part, "cement_distribution")
        if len(points) == len(part):
            sns.swarmplot(data=points, x="cement_distribution", y="value", order=order, color="0.2", size=2.6, ax=axis)
        else:
            jitter = np.random.default_rng(SEED).uniform(-0.2, 0.2, len(points))
            x = points["cement_distribution"].map({level: index for index, level in enumerate(order)}).to_numpy() + jitter
            axis.scatter(x, points["value"], s=2, color="0.2", alpha=0.5, linewidths=0)
        axis.axhline(0, color="0.6", linewidth=0.6)
        axis.set_xlabel("Cement distribution type")
        axis.set_ylabel(dictionary.difference_unit(variable).strip() or "")
        axis.set_title(dictionary.prose_label(variable))
    summary = long.groupby(["variable", "cement_distribution"])["value"].describe().reset_index()
    return figure, summary


def cement_schematic() -> tuple[plt.Figure, pd.DataFrame]:
    """Schematic of the three distribution types: vertebral body, endplates, midline and cement."""
    figure, axes = plt.subplots(1, 3, figsize=(8, 2.8), constrained_layout=True)
    # cement blobs per type: (x centre, y bottom, height) in a 0–1 body; body spans y 0.1–0.9
    layouts = {
        "A": [(0.3, 0.1, 0.8), (0.7, 0.1, 0.8)],
        "B": [(0.3, 0.1, 0.8), (0.7, 0.3, 0.4)],
        "C": [(0.3, 0.3, 0.4), (0.7, 0.32, 0.36)],
    }
    captions = {"A": "both endplates,\nboth sides of the midline", "B": "both endplates,\none side only",
                "C": "neither endplate\non either side"}
    rows = []
    for axis, (kind, blobs) in zip(axes, layouts.items()):
        axis.add_patch(FancyBboxPatch((0.05, 0.1), 0.9, 0.8, boxstyle="round,pad=0.0,rounding_size=0.06",
                                      facecolor="#f3efe6", edgecolor="0.3"))
        for y in (0.1, 0.9):
            axis.add_patch(Rectangle((0.05, y - 0.02), 0.9, 0.04, color="0.35"))
        axis.plot([0.5, 0.5], [0.02, 0.98], linestyle="--", color="0.4", linewidth=1)
        for x, bottom, height in blobs:
            axis.add_patch(FancyBboxPatch((x - 0.14, bottom), 0.28, height, boxstyle="round,pad=0.0,rounding_size=0.08",
                                          facecolor=TYPE_COLOURS[kind], edgecolor="0.25", alpha=0.9))
            rows.append({"type": kind, "x": x, "bottom": bottom, "height": height})
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.set_aspect("equal")
        axis.axis("off")
        axis.set_title(f"Type {kind}: {captions[kind]}", fontsize=9)
    return figure, pd.DataFrame(rows)


def case_figure(data: pd.DataFrame, patients: pd.DataFrame) -> tuple[plt.Figure, pd.DataFrame]:
    """Each presented patient's FVAH, AVHR and LKA over time against the mean of their treatment group (one row each)."""
    measures = tuple((measure, measure_label(measure)) for measure in ("fvah", "avhr", "lka"))
    if len(patients) == 0:  # nothing to draw: the figure says so instead of failing the build
        figure, axis = plt.subplots(figsize=(8, 1.2), constrained_layout=True)
        axis.text(0.5, 0.5, "No case to present: no patient has complete FVAH measurements.", ha="center", va="center")
        axis.set_axis_off()
        return figure, pd.DataFrame(columns=["case", "measure", "timepoint", "patient", "group_mean"])
    figure, axes = plt.subplots(len(patients), 3, figsize=(8, 2.3 * len(patients)), constrained_layout=True, squeeze=False)
    rows = []
    group_means = {group: part[[f"{m}_{t}" for m, _ in measures for t in derivation.TIMEPOINTS]].astype(float).mean()
                   for group, part in data.groupby("group", observed=True)}
    for row_axes, (_, patient) in zip(axes, patients.iterrows()):
        name = str(patient.get("case_key", patient["patient_id"]))
        shown = plain_text(name)
        for axis, (measure, label) in zip(row_axes, measures):
            columns = [f"{measure}_{t}" for t in derivation.TIMEPOINTS]
            own = pd.to_numeric(patient[columns], errors="coerce").astype(float).to_numpy()
            mean = group_means[patient["group"]][columns].to_numpy()
            x = np.arange(len(columns))
            axis.plot(x, mean, color="0.6", marker="s", markersize=3, label=f"Group {patient['group']} mean")
            axis.plot(x, own, color=TYPE_COLOURS.get(str(patient["cement_distribution"]), "k"), marker="o", label=shown)
            axis.set_xticks(x, [TIMEPOINT_LABELS[t] for t in derivation.TIMEPOINTS], fontsize=7)
            axis.set_title(f"{shown}: {label}", fontsize=8)
            rows += [{"case": name, "measure": measure, "timepoint": t, "patient": v, "group_mean": m}
                     for t, v, m in zip(derivation.TIMEPOINTS, own, mean)]
        row_axes[0].legend(frameon=False, fontsize=7)
    return figure, pd.DataFrame(rows)


def sample_size_figure(sizes: pd.DataFrame, power_column: str = "n_per_group_80") -> tuple[plt.Figure, pd.DataFrame]:
    """Patients per group needed for 80 % and 90 % power at the observed effect, per outcome (log scale)."""
    frame = sizes.dropna(subset=[power_column]).sort_values(power_column)
    figure, axis = plt.subplots(figsize=(7, 0.28 * max(len(frame), 4) + 1), constrained_layout=True)
    labels = [dictionary.label(variable) for variable in frame["variable"]]
    y = np.arange(len(frame))
    axis.barh(y - 0.2, frame[power_column], height=0.4, color="#1b6ca8", label="80 % power")
    if "n_per_group_90" in frame:
        axis.barh(y + 0.2, frame["n_per_group_90"], height=0.4, color="#9ecae1", label="90 % power")
    axis.set_yticks(y, labels, fontsize=7)
    axis.set_xscale("log")
    axis.set_xlabel("Patients per group (log scale)")
    axis.legend(frameon=False, loc="lower right")
    return figure, frame


def flow_diagram(flow: pd.DataFrame) -> tuple[plt.Figure, pd.DataFrame]:
    """The flow of patients per group (STROBE item 13), drawn from :func:`vertebroplasty.statistics.attrition.flow`.

    One column per group: enrolled, measured before surgery, measured 24 h after it, seen at the final follow-up
    (beside it, who lacks final radiographs, who lacks a final VAS or ODI, and who has no final value at all) and
    analysed for the headline outcomes.
    """
    before = flow[flow["group"] == "all"]
    flow = flow[flow["group"] != "all"]
    groups = list(dict.fromkeys(flow["group"]))
    counts = flow.set_index(["stage", "group"])["n"]
    analysed = [stage for stage in dict.fromkeys(flow["stage"]) if stage.startswith("analysed_")]
    stages = [("enrolled", "Enrolled"), ("measured_pre", "All pre-op measurements"), ("measured_post", "All 24 h measurements"),
              ("followed_up", "Seen at final follow-up")]
    figure, axis = plt.subplots(figsize=(7.5, 4.6), constrained_layout=True)
    axis.set_xlim(0, 10.6)
    axis.set_ylim(0, len(stages) + 1.6)
    axis.axis("off")
    for column, group in enumerate(groups):
        x = 1.6 + column * 5.2
        for row, (stage, label) in enumerate(stages):
            y = len(stages) + 0.8 - row
            axis.add_patch(FancyBboxPatch((x - 1.45, y - 0.32), 2.9, 0.64, boxstyle="round,pad=0.02", facecolor="#eef3f8",
                                          edgecolor=GROUP_COLOURS.get(group, "0.3")))
            axis.text(x, y, f"{label}\nn = {int(counts[(stage, group)])}", ha="center", va="center", fontsize=8)
            if row:
                axis.annotate("", xy=(x, y + 0.33), xytext=(x, y + 0.67), arrowprops={"arrowstyle": "->", "color": "0.4"})
        missing = [("missing_final_radiographs", "radiographs incomplete"), ("missing_final_scores", "VAS or ODI missing"),
                   ("lost", "lost (no final value)")]  # short: the note must end before the next group's column
        text = "\n".join(f"{words}: {int(counts[(stage, group)])}" for stage, words in missing if (stage, group) in counts.index)
        anything = any(int(counts[(stage, group)]) for stage, _ in missing if (stage, group) in counts.index)
        axis.text(x + 1.55, 1.8, text, ha="left", va="center", fontsize=7, color="#a23b3b" if anything else "0.4")
        lines = "\n".join(f"{dictionary.prose_label(stage.removeprefix('analysed_'))}: {int(counts[(stage, group)])}" for stage in analysed)
        axis.text(x, 0.35, f"Analysed\n{lines}", ha="center", va="bottom", fontsize=7.5)
        axis.text(x, len(stages) + 1.45, f"Group {group}", ha="center", va="center", fontsize=10, fontweight="bold",
                  color=GROUP_COLOURS.get(group, "0.2"))
    if len(before):
        screened = before[before["stage"] == "screened"]
        excluded = before[before["stage"] != "screened"]
        parts = [f"Screened for eligibility: {int(screened['n'].iloc[0])}"] if len(screened) else []
        if len(excluded):
            reasons = "; ".join(f"{plain_text(row.label.removeprefix('excluded: '))} {int(row.n)}" for row in excluded.itertuples())
            parts.append(f"excluded {int(excluded['n'].sum())} ({reasons})")
        text = " — ".join(parts) + f" — included: {int(sum(counts[('enrolled', g)] for g in groups))}"
        figure.suptitle(text if len(text) <= 150 else text[:147] + "…", fontsize=7.5)
    return figure, flow


def trajectory_denominators(summary: pd.DataFrame) -> str:
    """What the trajectory caption says about the number of patients behind each point."""
    parts = []
    changes = False
    for group, part in summary.groupby("group", sort=True):
        low, high = int(part["n"].min()), int(part["n"].max())
        changes |= low != high
        parts.append(f"group {group} n = {low}" if low == high else f"group {group} n = {low} to {high}")
    if not changes:
        return f"Every point uses every patient ({', '.join(parts)})."
    return (f"The number of patients behind a point changes between timepoints ({', '.join(parts)}), because some measurements "
            "are missing; each point uses the patients measured at that timepoint.")


def p_value_ranges(ranges: pd.DataFrame, alpha: float = 0.05) -> tuple[plt.Figure, pd.DataFrame]:
    """Per Table 3 variable, the printed p (dot) against the p-values the printed summaries allow (bar or ticks), log scale."""
    frame = ranges.reset_index(drop=True)
    figure, axis = plt.subplots(figsize=(7, 0.42 * len(frame) + 1.1), constrained_layout=True)
    y = np.arange(len(frame))[::-1]
    for row, position in zip(frame.itertuples(), y):
        colour = "#a23b3b" if row.verdict == "inconsistent" else "#2a7f62"
        points = list(row.attainable_points) if isinstance(row.attainable_points, (list, tuple, np.ndarray)) else []
        if len(points):
            axis.scatter(points, [position] * len(points), marker="|", s=120, color=colour, linewidths=1.2)
        else:
            low, high = max(row.low, 1e-6), max(row.high, 1e-6)
            axis.plot([low, high], [position, position], color=colour, linewidth=5, alpha=0.5, solid_capstyle="butt")
            if high / low < 1.3:  # a range too narrow to see on the log axis still shows, as a bar-shaped marker
                axis.scatter([math.sqrt(low * high)], [position], marker="s", s=30, color=colour, alpha=0.7, zorder=2)
        axis.scatter([max(row.published, 1e-6)], [position], color="black", zorder=3, s=18)
    axis.set_yticks(y, frame["label"], fontsize=8)
    axis.set_xscale("log")
    smallest = min([1e-3, *[max(v, 1e-6) for v in (*frame["low"], *frame["published"])]])
    axis.set_xlim(smallest / 2, 1.5)
    axis.set_xlabel("p (log scale)")
    axis.axvline(alpha, color="0.6", linestyle="--", linewidth=0.8)
    return figure, frame


def case_background_caption(sizes: dict[str, int]) -> str:
    """What the grey background of the case figure shows, with the group sizes it summarises."""
    return "the grey line is the mean of the patient's treatment group (" + ", ".join(f"group {g}: {n:,} patients" for g, n in sizes.items()) + ")"
