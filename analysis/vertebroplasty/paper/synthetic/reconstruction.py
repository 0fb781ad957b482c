"""The synthetic default cohort: 83 patients reconstructed from the published summary statistics.

The study's patient-level data are not public.  This module builds, from the
numbers in ``data/published/published-values.csv`` alone, a table of
individual patients whose recomputed counts, means and standard deviations
round to the published ones, jointly across the cross-classified strata
(treatment group for Tables 1 and 2, cement-distribution type for Table 3).

Method, in three steps per *family* of columns that are tied together by
derived indices (for instance the nine height columns behind FVAH, AVHR and
their changes):

1. **Skeleton.**  Categorical columns are dealt out so that every published
   count holds exactly (group, sex, fracture segment through ``level``,
   compression grade, cement distribution by group, cement leakage); the three
   case-presentation patients are placed with their published attributes.
2. **Continuous fit.**  Starting from a seeded random draw, the family's raw
   values are moved by :func:`scipy.optimize.least_squares` until every
   published mean and SD of the family (raw and derived, by group and by
   distribution type) is met, while soft penalties keep each patient
   clinically plausible; a second fit from there also aims at the published
   p-values that the audit finds attainable from the paper's own summaries.
3. **Discrete repair.**  Values are put on their recording grid (the data
   dictionary's recording steps: 0.01 mm or degree, whole VAS points, ODI in
   steps of 2, whole years and days) and a seeded local search changes single
   cells, or moves a step between two cells of a column, until every mean and
   SD rounds to its published value (restarting from a random rounding when
   it is stuck), then improves the targeted p-values without losing a mean or
   SD (:attr:`Reconstruction.unmatched` and :attr:`Reconstruction.p_unmatched`
   list what could not be matched).

Everything is seeded, so :func:`write_default_cohort` is byte-for-byte
repeatable.  Derived indices are never stored: they are recomputed from the
raw columns by :mod:`vertebroplasty.contract.derivation`, from the same definitions the
analysis uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from vertebroplasty import paths
from vertebroplasty.contract import derivation, dictionary
from vertebroplasty.paper import published as published_values
from vertebroplasty.paper.synthetic.targets import (  # noqa: F401 (re-exported for the tests: reconstruction.Target, ...)
    Family,
    PValueTarget,
    Target,
    consistent_p_values,
    family_targets,
    family_values,
    matches,
    p_from_summaries,
    p_value_targets,
    published_counts,
    statistic,
    stratum_mask,
)

SEED = 20200301  # the study's last inclusion month; any fixed value would do
GROUP_SIZES = {group: n for group, n in published_values.group_n(published_values.load()).items() if group in ("A", "B")}
PRIMARY_WEIGHT = 1e6  # in the annealing energy, a unit of mean/SD violation outweighs any p-value gain
PATIENCE = 4000  # moves without improvement after which the grid search restarts (means/SDs unmet) or stops (p-values)
#: Plausibility floors (about two published SDs below the mean): the least change an
#: individual patient may show; below it a measurement would be implausible.
LEAST_ANGLE_CHANGE = {"lka": (-6.0, -4.0), "rka": (-9.0, -6.0)}  # (recovery, loss) in degrees
LEAST_HEIGHT_CHANGE = {"fvahr": -2.0, "fvahl": -2.0, "avhrr": -15.0, "avhlr": -12.0}  # mm, mm, %, %


# --------------------------------------------------------------------------- fitting

class FamilyFit:
    """Fit one family's raw values to its targets (continuous, then on the recording grid)."""

    def __init__(self, family: Family, skeleton: pd.DataFrame, targets: list[Target], rng: np.random.Generator,
                 p_targets: list[PValueTarget] | None = None):
        self.family = family
        self.targets = targets
        self.p_targets = p_targets or []
        self.rng = rng
        self.n = len(skeleton)
        start = family.initial(skeleton, rng)
        self.matrix = start[family.columns].to_numpy(dtype=float).copy()
        self.missing = np.isnan(self.matrix)  # structurally empty cells (aspirated blood in group B)
        self.has_missing = bool(self.missing.any())
        for (row, column), value in family.fixed.items():
            self.matrix[row, family.columns.index(column)] = value
        self.free = ~self.missing
        for (row, column) in family.fixed:
            self.free[row, family.columns.index(column)] = False
        self.lower = np.array([family.lower[c] for c in family.columns])
        self.upper = np.array([family.upper[c] for c in family.columns])
        self.start = self.matrix.copy()
        if self.has_missing and self.p_targets:
            raise ValueError(f"{family.name}: a family with empty cells cannot aim at p-values (sizes would vary)")
        # every (variable, stratum) a mean, SD or p needs, summarised once per candidate (see summaries)
        needed: dict[str, set[str]] = {}
        for target in targets:
            needed.setdefault(target.stratum, set()).add(target.variable)
        for p_target in self.p_targets:
            for stratum in p_target.strata:
                needed.setdefault(stratum, set()).add(p_target.variable)
        self.strata = {stratum: (np.flatnonzero(stratum_mask(skeleton, stratum)), sorted(variables)) for stratum, variables in needed.items()}
        self.target_values = np.array([target.value for target in targets])
        self.half_widths = np.array([0.5 * 10.0 ** -target.decimals for target in targets])
        self.p_batches: dict[tuple[str, ...], list[int]] = {}  # p targets comparing the same strata, tested together
        for index, p_target in enumerate(self.p_targets):
            self.p_batches.setdefault(p_target.strata, []).append(index)
        self.p_low = np.array([p_target.low for p_target in self.p_targets])
        self.p_high = np.array([p_target.high for p_target in self.p_targets])

    def values(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """Raw and derived values; ``matrix`` is (patients, columns) or a batch (..., patients, columns)."""
        return family_values({column: matrix[..., index] for index, column in enumerate(self.family.columns)})

    def summaries(self, values: dict[str, np.ndarray]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        """Mean and SD (ddof=1) of each variable in each stratum the targets need: ``{(variable, stratum): (mean, sd)}``."""
        mean_of, sd_of = (np.nanmean, np.nanstd) if self.has_missing else (np.mean, np.std)
        summary = {}
        for stratum, (rows, variables) in self.strata.items():
            selected = np.stack([values[variable][..., rows] for variable in variables], axis=-2)
            means, sds = mean_of(selected, axis=-1), sd_of(selected, axis=-1, ddof=1)
            for index, variable in enumerate(variables):
                summary[(variable, stratum)] = (means[..., index], sds[..., index])
        return summary

    def target_errors(self, summary: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Signed errors of each target in units of its rounding half-width (batched over leading axes)."""
        computed = np.stack([summary[(target.variable, target.stratum)][target.statistic == "sd"] for target in self.targets], axis=-1)
        return (computed - self.target_values) / self.half_widths

    def p_errors(self, summary: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """How far each targeted p lies outside its published interval, in half-widths (batched; zero inside)."""
        batch_shape = next(iter(summary.values()))[0].shape
        p = np.empty(batch_shape + (len(self.p_targets),))
        for strata, indices in self.p_batches.items():
            means, sds = ([np.stack([summary[(self.p_targets[index].variable, stratum)][part] for index in indices], axis=-1)
                           for stratum in strata] for part in (0, 1))
            p[..., indices] = p_from_summaries(means, sds, [len(self.strata[stratum][0]) for stratum in strata])
        half = (self.p_high - self.p_low) / 2
        margin = half * 1e-6  # stay strictly inside, so the p prints as published
        below = np.where(self.p_low > 0, np.maximum(self.p_low + margin - p, 0), 0)
        return (below + np.maximum(p - (self.p_high - margin), 0)) / half

    def parts(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Target errors, plausibility penalties and p errors of a matrix, or of a batch (..., patients, columns)."""
        values = self.values(matrix)
        summary = self.summaries(values)
        return self.target_errors(summary), self.implausibility(values), self.p_errors(summary)

    def implausibility(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Hinge penalties of the family's plausibility rules (zero where a patient is plausible)."""
        if self.family.plausibility is None:
            some_variable = next(iter(values.values()))
            return np.zeros(some_variable.shape[:-1] + (0,))
        return self.family.plausibility(values)

    def fit_continuous(self) -> None:
        """Least-squares fit of the free cells to the targets, with a batched finite-difference Jacobian.

        Two stages: the means, SDs and plausibility alone, then the targeted p-values as well.  The p terms are
        steep (in units of a p's rounding half-width); fitted from the random draw at once they can stall the
        solver far from the means, whereas from fitted means they only pick a point inside the rounding box.
        """
        free = self.free
        rows, columns = np.nonzero(free)
        scale = np.nanstd(self.start, axis=0, ddof=1)
        scale = np.where(scale > 0, scale, 1.0)
        scales = scale[columns]
        anchor = self.start[free]
        regularisation = 0.02  # stay near the random draw, so the solution keeps its randomness

        def as_matrix(vector: np.ndarray) -> np.ndarray:
            matrix = self.matrix.copy()
            matrix[free] = vector
            return matrix

        def solve(p_weight: float) -> None:
            def fitted_parts(matrices: np.ndarray) -> np.ndarray:
                target_errors, implausibility, p_errors = self.parts(matrices)
                return np.concatenate([target_errors, 10.0 * implausibility, p_weight * p_errors], axis=-1)

            def residuals(vector: np.ndarray) -> np.ndarray:
                return np.concatenate([fitted_parts(as_matrix(vector)), regularisation * (vector - anchor) / scales])

            def jacobian(vector: np.ndarray) -> np.ndarray:
                base = as_matrix(vector)
                step = 1e-6 * np.maximum(1.0, np.abs(vector))
                batch = np.repeat(base[None], len(vector), axis=0)
                batch[np.arange(len(vector)), rows, columns] += step
                fitted = (fitted_parts(batch) - fitted_parts(base)[None]) / step[:, None]
                return np.concatenate([fitted.T, np.diag(regularisation / scales)])

            begin = np.clip(self.matrix[free], lower, upper)
            solution = least_squares(residuals, begin, jac=jacobian, bounds=(lower, upper), x_scale=scales, max_nfev=60,
                                     method="trf", tr_solver="lsmr")
            self.matrix[free] = solution.x

        lower = np.broadcast_to(self.lower, self.matrix.shape)[free]
        upper = np.broadcast_to(self.upper, self.matrix.shape)[free]
        solve(0.0)
        if self.p_targets:
            solve(0.3)

    def violation(self, matrix: np.ndarray) -> tuple[float, float]:
        """(means/SDs and plausibility, targeted p-values): compared in that order, so a mean is never traded for a p."""
        target_errors, implausibility, p_errors = self.parts(matrix)
        primary = np.maximum(np.abs(target_errors) - (1 + 1e-9), 0).sum() + 100.0 * implausibility.sum()
        return float(primary), float(p_errors.sum())

    def on_grid(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """The continuous solution on the recording grid: rounded, or (``rng`` given) rounded up or down at random."""
        step = self.family.step
        offset = 0.5 if rng is None else rng.random(self.matrix.shape)
        matrix = np.where(self.missing, np.nan, np.floor(self.matrix / step + offset) * step)
        matrix = np.clip(matrix, self.lower, self.upper)
        for (row, column), value in self.family.fixed.items():
            matrix[row, self.family.columns.index(column)] = value
        return matrix

    def repair_on_grid(self, max_moves: int = 60000) -> float:
        """Put the solution on the grid, then local search until every target rounds right; returns the means/SDs violation left.

        Scores are (means/SDs and plausibility, targeted p-values) and compare in that order.  A move changes one
        cell by up to three steps, or moves one step between two patients (sums kept, spread changed).  On the
        grid, SDs of whole-number scales can only take a few values, and single moves cannot always leave a
        state where every mean is met but an SD is not: when the means and SDs have not improved for
        :data:`PATIENCE` moves, the search restarts from the continuous solution rounded at random.  It stops
        when all is met, or when the means and SDs are met and the p-values have not improved for
        :data:`PATIENCE` moves.
        """
        step = self.family.step
        rng = self.rng
        matrix = self.on_grid()
        current = self.violation(matrix)
        free_cells = np.argwhere(self.free)
        lowest = np.broadcast_to(self.lower, matrix.shape)[~self.missing] - 1e-9
        highest = np.broadcast_to(self.upper, matrix.shape)[~self.missing] + 1e-9
        best, best_score, improved_at, restarted_at = matrix, current, 0, 0
        for move in range(max_moves):
            stalled = move - max(improved_at, restarted_at) > PATIENCE
            if best_score == (0.0, 0.0) or (best_score[0] == 0 and stalled):
                break
            if stalled:
                matrix, restarted_at = self.on_grid(rng), move
                current = self.violation(matrix)
            row, column = free_cells[rng.integers(len(free_cells))]
            candidate = matrix.copy()
            if rng.random() < 0.5:
                candidate[row, column] += step * rng.choice([-3, -2, -1, 1, 2, 3])
            else:  # move one step from one patient to another of the same column: keeps sums, changes spread
                partners = free_cells[free_cells[:, 1] == column]
                other = partners[rng.integers(len(partners))][0]
                if other == row:
                    continue
                delta = step * rng.choice([-1, 1])
                candidate[row, column] += delta
                candidate[other, column] -= delta
            if np.any(candidate[~self.missing] < lowest) or np.any(candidate[~self.missing] > highest):
                continue
            candidate = np.round(candidate / step) * step
            score = self.violation(candidate)
            temperature = max(0.3 * (1 - move / max_moves), 1e-6)  # simulated annealing: accept some worse moves early on
            worse_by = PRIMARY_WEIGHT * (score[0] - current[0]) + (score[1] - current[1])
            if score <= current or rng.random() < np.exp(min(-worse_by / temperature, 0.0)):
                matrix, current = candidate, score
                if current < best_score:
                    if best_score[0] > 0 or best_score[1] - current[1] > 0.01:  # a real gain, not a crumb
                        improved_at = move
                    best, best_score = matrix, current
        self.matrix = best
        return best_score[0]


# --------------------------------------------------------------------------- the cohort

def _deal(labels_with_counts: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    labels = np.concatenate([[label] * count for label, count in labels_with_counts.items()])
    return rng.permutation(labels)


def build_skeleton(published: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Patients with their categorical columns, every published count exact; cases placed first."""
    cases = published_values.cases()
    sex = published_counts(published, "sex")
    segment = published_counts(published, "segment")
    grade = published_counts(published, "compression_grade")
    distribution = published_counts(published, "cement_distribution")
    leakage = published_counts(published, "cement_leakage")
    # the paper does not say which group the three cases were in; put each where its distribution type is commonest
    case_group = {case: ("A" if distribution[("A", row["cement_distribution"])] >= distribution[("B", row["cement_distribution"])] else "B")
                  for case, row in cases.iterrows()}
    levels_of_segment = {
        "thoracic": (["T6", "T7", "T8", "T9", "T10"], [0.1, 0.15, 0.2, 0.25, 0.3]),
        "thoracolumbar": (["T11", "T12", "L1", "L2"], [0.15, 0.35, 0.35, 0.15]),
        "lumbar": (["L3", "L4", "L5"], [0.5, 0.35, 0.15]),
    }
    frames = []
    for group, size in GROUP_SIZES.items():
        group_cases = [case for case in cases.index if case_group[case] == group]
        free = size - len(group_cases)

        def remaining(counts: dict, taken: list[str], group: str = group) -> dict[str, int]:
            left = {level: count for (g, level), count in counts.items() if g == group}
            for label in taken:
                left[label] -= 1
            return left

        case_rows = cases.loc[group_cases]
        case_segments = [derivation.SEGMENT_OF_LEVEL[level] for level in case_rows["level"]]
        frame = pd.DataFrame({
            "group": group,
            "sex": np.concatenate([case_rows["sex"].to_numpy(), _deal(remaining(sex, list(case_rows["sex"])), rng)]),
            "segment": np.concatenate([case_segments, _deal(remaining(segment, case_segments), rng)]),
            "cement_distribution": np.concatenate([case_rows["cement_distribution"].to_numpy(),
                                                   _deal(remaining(distribution, list(case_rows["cement_distribution"])), rng)]),
            "cement_leakage": _deal({"yes": leakage[(group, "yes")], "no": size - leakage[(group, "yes")]}, rng),
            "compression_grade": _deal(remaining(grade, []), rng),
            "case": list(case_rows.index) + [""] * free,
        })
        levels = []
        for segment_name, case_level in zip(frame["segment"], list(case_rows["level"]) + [None] * free):
            options, weights = levels_of_segment[segment_name]
            levels.append(case_level or rng.choice(options, p=weights))
        frame["level"] = levels
        frame["age_fixed"] = list(pd.to_numeric(case_rows["age"])) + [np.nan] * free
        frames.append(frame)
    skeleton = pd.concat(frames, ignore_index=True)
    skeleton.insert(0, "patient_id", [f"SYN-{number:03d}" for number in range(1, len(skeleton) + 1)])
    return skeleton


def recording_step(columns: list[str]) -> float:
    """The data dictionary's recording step shared by ``columns`` (a family is searched on one grid).

    >>> recording_step(["odi_pre"]), recording_step(["lka_pre_deg", "lka_post_deg"])
    (2.0, 0.01)
    """
    steps = {dictionary.recording_step(dictionary.variable_of_column(column)) for column in columns}
    if len(steps) != 1:
        raise ValueError(f"columns {columns} are recorded on different grids: {sorted(steps)}")
    return steps.pop()


def _normal(skeleton: pd.DataFrame, rng: np.random.Generator, published: pd.DataFrame, variable: str,
            low: float, high: float) -> np.ndarray:
    """A seeded draw per patient from the group's published mean and SD, clipped to a plausible range."""
    draws = np.empty(len(skeleton))
    for group in GROUP_SIZES:
        rows = skeleton["group"].to_numpy() == group
        stats = published[(published["variable"] == variable) & (published["stratum"] == group)].set_index("statistic")["value"]
        draws[rows] = rng.normal(stats["mean"], stats["sd"], rows.sum()) if "mean" in stats else np.nan
    return np.clip(draws, low, high)


def families(skeleton: pd.DataFrame, published: pd.DataFrame) -> list[Family]:
    """The column families of the cohort, with their starting draws and plausibility rules."""

    def single(column: str, low: float, high: float) -> Family:
        variable = dictionary.variable_of_column(column)

        def initial(skeleton: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
            values = _normal(skeleton, rng, published, variable, low, high)
            if column == "aspirated_blood_ml":
                values = np.where(skeleton["group"] == "A", values, np.nan)
            return pd.DataFrame({column: values})

        return Family(column, [column], recording_step([column]), {column: low}, {column: high}, initial)

    fixed_age = {(row, "age"): value for row, value in skeleton["age_fixed"].items() if not np.isnan(value)}
    age = single("age", 55, 95)
    age.fixed = fixed_age
    result = [
        age,
        single("bmi", 15, 32),
        single("hospital_days", 2, 12),
        single("aspirated_blood_ml", 2.5, 7),
        single("blood_loss_ml", 0, 20),
        single("operation_min", 15, 90),
        single("cement_volume_ml", 2, 10),
        single("follow_up_months", 12, 28),
        single("vas_op", 0, 10),
    ]
    for timepoint, low, high in (("pre", 3, 9), ("post", 0, 4), ("final", 0, 3)):
        result.append(single(f"vas_{timepoint}", low, high))
    for timepoint, low, high in (("pre", 20, 80), ("post", 8, 30), ("final", 0, 16)):
        result.append(single(f"odi_{timepoint}", low, high))

    for angle, low, high in (("lka", -8, 40), ("rka", -40, 60)):
        columns = [f"{angle}_{timepoint}_deg" for timepoint in derivation.TIMEPOINTS]

        def initial(skeleton, rng, angle=angle, low=low, high=high, columns=columns):
            post = _normal(skeleton, rng, published, f"{angle}_post", low, high)
            recovery = _normal(skeleton, rng, published, f"{angle}_recovery", -10, 25)
            loss_ = _normal(skeleton, rng, published, f"{angle}_loss", -6, 15)
            return pd.DataFrame({columns[0]: np.clip(post + recovery, low, high), columns[1]: post,
                                 columns[2]: np.clip(post + loss_, low, high)})

        def angle_plausibility(values, angle=angle):
            # surgery corrects, follow-up loses: large changes the other way are implausible
            floor_recovery, floor_loss = LEAST_ANGLE_CHANGE[angle]
            recovery_, loss_ = values[f"{angle}_recovery"], values[f"{angle}_loss"]
            return np.concatenate([np.maximum(floor_recovery - recovery_, 0), np.maximum(floor_loss - loss_, 0)], axis=-1)

        result.append(Family(angle, columns, recording_step(columns), dict.fromkeys(columns, low), dict.fromkeys(columns, high), initial,
                             angle_plausibility))

    height_columns = [f"{part}_{timepoint}_mm" for part in ("fvah", "upper_vah", "lower_vah") for timepoint in derivation.TIMEPOINTS]

    def initial_heights(skeleton, rng):
        n = len(skeleton)
        upper_base = np.clip(rng.normal(27.5, 2.3, n), 22, 33)
        lower_base = np.clip(upper_base + rng.normal(0.8, 1.0, n), 22, 34)
        frame = {}
        for timepoint in derivation.TIMEPOINTS:
            frame[f"upper_vah_{timepoint}_mm"] = upper_base + rng.normal(0, 0.3, n)
            frame[f"lower_vah_{timepoint}_mm"] = lower_base + rng.normal(0, 0.3, n)
        adjacent = (upper_base + lower_base) / 2
        pre = _normal(skeleton, rng, published, "fvah_pre", 6, 30)
        pre = np.minimum(pre, adjacent + 1)
        post = np.minimum(pre + np.abs(_normal(skeleton, rng, published, "fvahr", -2, 12)), adjacent + 2)
        final = post - _normal(skeleton, rng, published, "fvahl", -1.5, 8)
        frame.update({"fvah_pre_mm": pre, "fvah_post_mm": post, "fvah_final_mm": np.clip(final, 5, None)})
        return pd.DataFrame(frame)

    def height_plausibility(values):
        penalties = []
        for timepoint in derivation.TIMEPOINTS:
            adjacent = (values[f"upper_vah_{timepoint}"] + values[f"lower_vah_{timepoint}"]) / 2
            penalties.append(np.maximum(values[f"fvah_{timepoint}"] - adjacent - 3.0, 0))  # FVAH at most 3 mm above neighbours
        for variable, floor in LEAST_HEIGHT_CHANGE.items():  # no large paradoxical gain or loss of height
            penalties.append(np.maximum(floor - values[variable], 0))
        for part in ("upper_vah", "lower_vah"):  # the same neighbour measured on three films differs little
            for timepoint in ("post", "final"):
                penalties.append(np.maximum(np.abs(values[f"{part}_{timepoint}"] - values[f"{part}_pre"]) - 1.5, 0))
        return np.concatenate(penalties, axis=-1)

    fixed_heights = {}
    for row, case in skeleton["case"].items():
        if case:
            case_row = published_values.cases().loc[case]
            for timepoint in derivation.TIMEPOINTS:
                fixed_heights[(row, f"fvah_{timepoint}_mm")] = float(case_row[f"fvah_{timepoint}"])
    lower = {column: (4.0 if column.startswith("fvah") else 20.0) for column in height_columns}
    upper = {column: (34.0 if column.startswith("fvah") else 35.0) for column in height_columns}
    result.append(Family("heights", height_columns, recording_step(height_columns), lower, upper, initial_heights, height_plausibility,
                         fixed_heights))
    return result


@dataclass
class Reconstruction:
    """The cohort, the published means/SDs it could not reproduce, and the targeted p-values it missed."""

    cohort: pd.DataFrame
    unmatched: list[str]
    p_unmatched: list[str]
    seconds: float


def reconstruct(seed: int = SEED, published: pd.DataFrame | None = None, verbose: bool = False) -> Reconstruction:
    """Build the synthetic cohort (contract columns only) from the published values."""
    started = time.perf_counter()
    published = published_values.load() if published is None else published
    rng = np.random.default_rng(seed)
    skeleton = build_skeleton(published, rng)
    consistent = consistent_p_values()
    columns = {}
    steps = {}
    unmatched = []
    p_unmatched = []
    for family in families(skeleton, published):
        variables = set(family_values({column: np.ones(1) for column in family.columns}))
        targets = family_targets(published, skeleton, variables)
        fit = FamilyFit(family, skeleton, targets, rng, p_value_targets(variables, consistent))
        fit.fit_continuous()
        left = fit.repair_on_grid()
        p_missed = [t for t, error in zip(fit.p_targets, fit.parts(fit.matrix)[2]) if error > 0]
        if verbose:
            print(f"  {family.name}: {len(targets)} means/SDs, {len(fit.p_targets)} p-values ({len(p_missed)} missed), "
                  f"{time.perf_counter() - started:.1f} s")
        if left > 0:
            values = fit.values(fit.matrix)
            unmatched += [f"{t.variable} {t.stratum} {t.statistic}" for t in targets if not matches(statistic(values[t.variable], t), t)]
        p_unmatched += [f"{t.table} {t.variable} p" for t in p_missed]
        for index, column in enumerate(family.columns):
            columns[column] = fit.matrix[:, index]
            steps[column] = family.step

    cohort = skeleton[["patient_id", "group", "sex", "level", "compression_grade", "cement_distribution", "cement_leakage"]].copy()
    for column, values in columns.items():
        cohort[column] = values
    # more compression before surgery goes with a higher compression grade: order the dealt grades by AVHR (pre-op)
    avhr_pre = derivation.height_ratio(cohort["fvah_pre_mm"], cohort["upper_vah_pre_mm"], cohort["lower_vah_pre_mm"])
    for group in GROUP_SIZES:
        rows = cohort.index[cohort["group"] == group]
        grades = sorted(cohort.loc[rows, "compression_grade"], key=["I", "II", "III"].index)
        cohort.loc[avhr_pre[rows].sort_values(ascending=False).index, "compression_grade"] = grades
    cohort = cohort[dictionary.column_names("required")]  # one centre: no optional centre column
    cohort.attrs["recording_step"] = steps
    return Reconstruction(cohort, unmatched, p_unmatched, time.perf_counter() - started)


def format_for_csv(cohort: pd.DataFrame) -> pd.DataFrame:
    """Text cells at each column's recording grid (whole numbers without decimals)."""
    out = cohort.copy()
    for column, step in cohort.attrs["recording_step"].items():
        decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
        out[column] = out[column].map(lambda v, d=decimals: "" if pd.isna(v) else f"{v:.{d}f}")
    return out


def write_default_cohort(output: str | Path = paths.DEFAULT_COHORT, seed: int = SEED) -> Path:
    """Reconstruct and write the cohort CSV (written to a temporary file, then moved into place)."""
    output = Path(output)
    result = reconstruct(seed, verbose=True)
    print(f"reconstructed {len(result.cohort)} patients in {result.seconds:.1f} s")
    if result.unmatched:
        print(f"means/SDs not matched at the published precision: {', '.join(result.unmatched)}")
    if result.p_unmatched:
        print(f"consistent published p-values not reproduced: {', '.join(result.p_unmatched)}")
    temporary = output.with_suffix(".csv.tmp")
    format_for_csv(result.cohort).to_csv(temporary, index=False, lineterminator="\n")
    temporary.replace(output)
    return output
