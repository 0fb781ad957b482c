"""Synthetic multicentre cohorts: centre files resampled from the default cohort, with a centre effect added.

Nothing here is real.  Each centre's patients are drawn with replacement, within treatment group, from the rows
of the synthetic default cohort (``data/cohort.csv``, read as text), and then changed by the centre's effect:

* centre-wide, for every patient: all nine vertebral heights are multiplied by ``height_scale`` (a centre's
  population and calibration; height ratios stay the same), all six kyphotic angles are shifted by
  ``angle_offset_deg`` (recovery and loss stay the same), and the pain score during cement injection by
  ``vas_op_shift`` points;
* in group A only, the benefit of aspiration differs between centres (a learning curve): the LKA and RKA at
  final follow-up are raised by ``a_angle_loss_deg`` (more loss of correction) and the anterior height of the
  fractured vertebra at final follow-up is lowered by ``a_height_loss_mm`` (more height loss);
* a small measurement jitter (0.15 mm on heights, 0.3° on angles, per cell) keeps resampled patients from being
  exact copies.

Every changed value is put back on its recording grid (0.01 mm or degree, whole VAS points) and clipped to the
data contract's range, so every file passes :func:`vertebroplasty.contract.validation.load_cohort`; ``aspirated_blood_ml``
stays empty in group B because untouched cells are copied as text.  Patient ids are ``SYN-001``… within each
centre (they repeat across centres, which the contract allows for a folder of centre files).  Everything is drawn
from one seeded generator, so a run gives the same bytes every time.

:func:`write_multicentre_example` writes the committed example (four centres, ``data/examples/multicentre/``);
:func:`write_large_multicentre` writes a large cohort for benchmarks (by default 100 centres × 10,000 patients).
Both are vectorised: the rows of all centres are drawn, changed and formatted at once (NumPy and pyarrow).

Command: ``python -m vertebroplasty.paper.synthetic.multicentre [FOLDER]`` (the committed example) or
``python -m vertebroplasty.paper.synthetic.multicentre --large FOLDER [--centres N] [--patients N]``.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty import paths
from vertebroplasty.contract import dictionary

SEED = 20190101  # the study's first inclusion month; any fixed value would do
HEIGHT_COLUMNS = [f"{part}_{time}_mm" for part in ("fvah", "upper_vah", "lower_vah") for time in ("pre", "post", "final")]
ANGLE_COLUMNS = [f"{angle}_{time}_deg" for angle in ("lka", "rka") for time in ("pre", "post", "final")]
HEIGHT_JITTER_MM = 0.15
ANGLE_JITTER_DEG = 0.3


@dataclass(frozen=True)
class CentreEffect:
    """One synthetic centre: its size, its share of group A and its effect (see the module docstring)."""

    name: str
    patients: int
    share_a: float
    height_scale: float
    angle_offset_deg: float
    vas_op_shift: int
    a_angle_loss_deg: float
    a_height_loss_mm: float


#: The committed example: four centres of 40–70 patients; "south" is given the smallest aspiration benefit (its realised
#: differences also carry the resampling noise: in the committed files east, not south, stands out for LKA loss).
EXAMPLE_CENTRES = (
    CentreEffect("north", 64, 0.50, 1.04, 1.5, 0, 0.0, 0.0),
    CentreEffect("south", 42, 0.45, 0.96, -2.0, 1, 1.6, 0.6),
    CentreEffect("east", 55, 0.55, 1.00, 0.5, 0, -0.4, -0.2),
    CentreEffect("west", 48, 0.50, 1.02, -1.0, -1, 0.5, 0.2),
)


def source_cohort(path: Path = paths.DEFAULT_COHORT) -> pd.DataFrame:
    """The default cohort with every cell as text (as a centre's file would be read)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def draw_effects(centres: int, patients: int, rng: np.random.Generator) -> pd.DataFrame:
    """Random centre effects for a large cohort, one row per centre (the fields of :class:`CentreEffect`)."""
    width = len(str(centres))
    return pd.DataFrame({
        "name": [f"{number:0{width}d}" for number in range(1, centres + 1)],
        "patients": patients,
        "share_a": rng.uniform(0.4, 0.6, centres),
        "height_scale": rng.uniform(0.94, 1.06, centres),
        "angle_offset_deg": rng.uniform(-3.0, 3.0, centres),
        "vas_op_shift": rng.integers(-1, 2, centres),
        "a_angle_loss_deg": rng.normal(0.0, 0.6, centres),
        "a_height_loss_mm": rng.normal(0.0, 0.3, centres),
    })


def draw_rows(source: pd.DataFrame, effects: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Source row of every synthetic patient and its centre's position in ``effects``, centre by centre.

    Each centre gets ``round(patients × share_a)`` patients of group A (at least 2, leaving at least 2 for B),
    drawn with replacement from group A's rows, the rest from group B's; within a centre the order is random.
    """
    patients = effects["patients"].to_numpy(dtype=np.int64)
    if (patients < 2 * 2).any():
        raise ValueError("every centre needs at least 4 patients (2 per group)")
    size_a = np.clip(np.rint(patients * effects["share_a"].to_numpy()).astype(np.int64), 2, patients - 2)
    centre = np.repeat(np.arange(len(effects)), patients)
    is_a = np.arange(len(centre)) - np.repeat(np.cumsum(patients) - patients, patients) < np.repeat(size_a, patients)
    rows = np.empty(len(centre), dtype=np.int64)
    for group, mask in (("A", is_a), ("B", ~is_a)):
        pool_rows = np.flatnonzero(source["group"].to_numpy() == group)
        rows[mask] = pool_rows[rng.integers(0, len(pool_rows), int(mask.sum()))]
    order = np.lexsort((rng.random(len(centre)), centre))
    return rows[order], centre[order]


def _grid_text(values: np.ndarray, decimals: int):
    """Numbers as fixed-decimal text (``21.50``, ``-0.30``, ``7``), vectorised with pyarrow; NaN as an empty cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    scaled = np.rint(values * 10**decimals)
    magnitude = np.abs(np.nan_to_num(scaled)).astype(np.int64)
    text = pc.cast(pa.array(magnitude), pa.string())
    if decimals:
        text = pc.utf8_replace_slice(pc.utf8_lpad(text, decimals + 1, "0"), -decimals, -decimals, ".")
    text = pc.if_else(pa.array(scaled < 0), pc.binary_join_element_wise("-", text, ""), text)
    return pc.if_else(pa.array(np.isnan(scaled)), "", text)


def _clip_to_contract(column: str, values: np.ndarray) -> np.ndarray:
    entry = dictionary.load_dictionary().loc[column]
    return np.minimum(np.maximum(values, float(entry["minimum"])), float(entry["maximum"]))


def changed_columns(source: pd.DataFrame, rows: np.ndarray, effect: pd.DataFrame,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The changed measurements of every synthetic patient (floats, on grid, in range); ``effect`` has one row per patient."""
    number = {column: pd.to_numeric(source[column].replace("", None)).to_numpy(dtype=float)[rows]
              for column in (*HEIGHT_COLUMNS, *ANGLE_COLUMNS, "vas_op")}
    in_a = source["group"].to_numpy()[rows] == "A"
    scale = effect["height_scale"].to_numpy()
    changed = {column: number[column] * scale + rng.normal(0, HEIGHT_JITTER_MM, len(rows)) for column in HEIGHT_COLUMNS}
    changed["fvah_final_mm"] -= np.where(in_a, effect["a_height_loss_mm"].to_numpy() * scale, 0.0)
    changed.update({column: number[column] + effect["angle_offset_deg"].to_numpy() + rng.normal(0, ANGLE_JITTER_DEG, len(rows))
                    for column in ANGLE_COLUMNS})
    for column in ("lka_final_deg", "rka_final_deg"):
        changed[column] += np.where(in_a, effect["a_angle_loss_deg"].to_numpy(), 0.0)
    changed["vas_op"] = number["vas_op"] + effect["vas_op_shift"].to_numpy()
    return {column: _clip_to_contract(column, np.round(values, 0 if column == "vas_op" else 2))
            for column, values in changed.items()}


def synthesise(source: pd.DataFrame, effects: pd.DataFrame, rng: np.random.Generator):
    """All centres' patients as one pyarrow table of text cells (contract columns), sorted by centre, and each centre's
    ``(name, first row, rows)``."""
    import pyarrow as pa

    rows, centre = draw_rows(source, effects, rng)
    per_patient = effects.iloc[centre].reset_index(drop=True)
    changed = changed_columns(source, rows, per_patient, rng)
    sizes = effects["patients"].to_numpy(dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    within = np.arange(len(rows)) - starts[centre] + 1  # 1-based position within the centre
    width = max(3, len(str(int(sizes.max()))))
    identifiers = pa.array([f"SYN-{number:0{width}d}" for number in range(1, int(sizes.max()) + 1)])
    text = pa.Table.from_pandas(source, preserve_index=False)
    columns = {}
    for column in source.columns:
        if column == "patient_id":
            columns[column] = identifiers.take(pa.array(within - 1))
        elif column in changed:
            columns[column] = _grid_text(changed[column], 0 if column == "vas_op" else 2)
        else:
            columns[column] = text.column(column).take(pa.array(rows))
    return pa.table(columns), list(zip(effects["name"], starts, sizes))


def write_centres(folder: str | Path, effects: pd.DataFrame, seed: int, source: pd.DataFrame | None = None) -> list[Path]:
    """Write one ``centre-<name>.csv`` per row of ``effects`` into ``folder``; returns the files written."""
    import pyarrow.csv as pacsv

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table, blocks = synthesise(source_cohort() if source is None else source, effects, np.random.default_rng(seed))
    options = pacsv.WriteOptions(quoting_style="none", quoting_header="none", eol="\n")
    written = []
    for name, start, size in blocks:
        path = folder / f"centre-{name}.csv"
        temporary = path.with_suffix(".csv.tmp")
        pacsv.write_csv(table.slice(int(start), int(size)), temporary, options)
        temporary.replace(path)
        written.append(path)
    return written


def example_readme(effects: tuple[CentreEffect, ...] = EXAMPLE_CENTRES, seed: int = SEED) -> str:
    """The README of the example folder, written from the centre effects so that it cannot disagree with the files."""
    header = ["centre file", "patients", "share of group A", "height scale", "angle offset (°)", "VAS (op) shift",
              "group A: extra LKA/RKA loss (°)", "group A: extra FVAH loss (mm)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for effect in effects:
        values = [f"`centre-{effect.name}.csv`", str(effect.patients), f"{effect.share_a:.2f}", f"{effect.height_scale:.2f}",
                  f"{effect.angle_offset_deg:+.1f}", f"{effect.vas_op_shift:+d}", f"{effect.a_angle_loss_deg:+.1f}",
                  f"{effect.a_height_loss_mm:+.1f}"]
        lines.append("| " + " | ".join(values) + " |")
    return f"""# Example multicentre cohort — SYNTHETIC

**These files are synthetic. They describe no real patient and no real hospital.** They exist to show and test
the report's multicentre analysis (one file per centre; the centre is the file's name).

How they were made: each centre's patients were drawn with replacement, within treatment group, from the rows of
the synthetic default cohort (`data/cohort.csv`, itself reconstructed from the paper's published summary
statistics), with a fixed NumPy seed ({seed}). Then a centre effect was added: every vertebral height multiplied
by the centre's height scale, every kyphotic angle shifted by its angle offset, the VAS during cement injection
shifted by whole points; in group A only, extra loss of correction (LKA and RKA at final follow-up) and extra loss
of anterior height (FVAH at final follow-up), so that the benefit of aspiration differs between centres. A small
jitter (0.15 mm, 0.3°) keeps resampled patients from being copies. Values are rounded to their recording grid
and kept within the data contract's ranges; patient ids repeat across centres, which a folder of centre files
allows.

{chr(10).join(lines)}

Made by this command, run from the repository root (the same seed gives the same bytes):

```
.venv/bin/python -m vertebroplasty.paper.synthetic.multicentre data/examples/multicentre
```

Run the report on them with the folder as the cohort (for example `DATA=data/examples/multicentre`).
"""


#: The example's study description (the build reads ``study.yml`` in a folder of centre files): it says the data are synthetic.
EXAMPLE_STUDY = """\
# Study description of the SYNTHETIC multicentre example (python -m vertebroplasty.paper.synthetic.multicentre).
title: Synthetic multicentre example — four centres derived from the default cohort's generator, not patient data
design: a synthetic example of a multicentre retrospective comparison, made to exercise the multicentre analysis
centres: [centre-east, centre-north, centre-south, centre-west]
allocation: synthetic patients resampled from the default synthetic cohort, with a centre effect added
"""


def write_multicentre_example(folder: str | Path = paths.MULTICENTRE_EXAMPLE, seed: int = SEED) -> list[Path]:
    """Write the committed example: four centre files (:data:`EXAMPLE_CENTRES`) and a README saying they are synthetic."""
    effects = pd.DataFrame([asdict(effect) for effect in EXAMPLE_CENTRES], columns=[field.name for field in fields(CentreEffect)])
    written = write_centres(folder, effects, seed)
    readme = Path(folder) / "README.md"
    readme.write_text(example_readme(EXAMPLE_CENTRES, seed), encoding="utf-8", newline="\n")
    study = Path(folder) / "study.yml"
    study.write_text(EXAMPLE_STUDY, encoding="utf-8", newline="\n")
    return [*written, readme, study]


def write_large_multicentre(folder: str | Path, centres: int = 100, patients_per_centre: int = 10_000,
                            seed: int = SEED) -> list[Path]:
    """Write a large synthetic cohort for benchmarks (not committed): ``centres`` files of ``patients_per_centre``.

    Centre effects are drawn at random (:func:`draw_effects`); a million rows take a few seconds.
    """
    rng = np.random.default_rng(seed)
    effects = draw_effects(centres, patients_per_centre, rng)
    return write_centres(folder, effects, int(rng.integers(2**32)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic multicentre cohort (one CSV per centre).")
    parser.add_argument("folder", nargs="?", default=str(paths.MULTICENTRE_EXAMPLE))
    parser.add_argument("--large", action="store_true", help="a large benchmark cohort instead of the committed example")
    parser.add_argument("--centres", type=int, default=100)
    parser.add_argument("--patients", type=int, default=10_000, help="patients per centre (with --large)")
    parser.add_argument("--seed", type=int, default=SEED)
    arguments = parser.parse_args(argv)
    if arguments.large:
        written = write_large_multicentre(arguments.folder, arguments.centres, arguments.patients, arguments.seed)
    else:
        written = write_multicentre_example(arguments.folder, arguments.seed)
    print(f"wrote {len(written)} file(s) to {arguments.folder}")


if __name__ == "__main__":
    main()
