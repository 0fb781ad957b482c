"""Cohorts the whole-report tests build: derived from the default cohort's rows, each with the shape a centre's data
may have (uneven loss to follow-up, a baseline imbalance, absent or rare categories, empty or constant columns)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vertebroplasty import paths

FINAL_COLUMNS = ["fvah_final_mm", "upper_vah_final_mm", "lower_vah_final_mm", "lka_final_deg", "rka_final_deg", "vas_final", "odi_final"]


def default_text() -> pd.DataFrame:
    return pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)


def resample(size_a: int, size_b: int, prefix: str, seed: int) -> pd.DataFrame:
    """Rows drawn with replacement from the default cohort, regrouped into ``size_a`` + ``size_b`` patients."""
    rng = np.random.default_rng(seed)
    table = default_text()
    table = table.iloc[rng.choice(len(table), size_a + size_b, replace=True)].reset_index(drop=True)
    table["group"] = ["A"] * size_a + ["B"] * size_b
    table.loc[table["group"] == "B", "aspirated_blood_ml"] = ""
    table.loc[(table["group"] == "A") & (table["aspirated_blood_ml"] == ""), "aspirated_blood_ml"] = "4.5"
    table["patient_id"] = [f"{prefix}-{i:03d}" for i in range(len(table))]
    return table


def attrition(folder: Path) -> Path:
    """150 patients, 75 per group; 6 without any final-follow-up measurement (5 in group A, 1 in group B)."""
    table = resample(75, 75, "ATT", 2024)
    lost = list(table.index[table["group"] == "A"][:5]) + list(table.index[table["group"] == "B"][:1])
    table.loc[lost, FINAL_COLUMNS] = ""
    return write(table, folder / "attrition cohort.csv")


def imbalance(folder: Path) -> Path:
    """60 patients; group A about 9 years older and with larger pre-operative kyphosis than group B."""
    table = resample(30, 30, "IMB", 7)
    older = table["group"] == "A"
    table.loc[older, "age"] = (table.loc[older, "age"].astype(int) + 9).clip(upper=110).astype(str)
    table.loc[older, "lka_pre_deg"] = (table.loc[older, "lka_pre_deg"].astype(float) + 6).clip(upper=90).map("{:.2f}".format)
    return write(table, folder / "imbalance.csv")


def awkward_sparse(folder: Path) -> Path:
    """40 patients without any type C; BMI missing for every patient of group B; VAS 24 h the same for all of group A."""
    table = resample(20, 20, "AWK", 11)
    table.loc[table["cement_distribution"] == "C", "cement_distribution"] = "B"
    table.loc[table["group"] == "B", "bmi"] = ""
    table.loc[table["group"] == "A", "vas_post"] = "2"
    return write(table, folder / "no type C.csv")


def awkward_tiny(folder: Path) -> Path:
    """Two patients per group; type C has a single patient and type B occurs in group B only."""
    table = resample(2, 2, "TINY", 5)
    table["cement_distribution"] = ["A", "A", "B", "C"]
    return write(table, folder / "tiny.csv")


def optional_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that the data contract does not require (the centre aside)."""
    from vertebroplasty.contract import dictionary

    known = dictionary.load_dictionary()
    return [column for column in table.columns if column in known.index and not known.loc[column, "required"] and column != "centre"]


def awkward_constant(folder: Path) -> Path:
    """30 patients all of type A (one distribution type only), operation time empty for everyone, VAS (op) 5 for
    everyone, and every other optional column the same value for everyone (aspirated blood in group A only)."""
    table = resample(15, 15, "CONST", 3)
    for column in optional_columns(table):
        table[column] = table[column].iloc[0]
    table.loc[table["group"] == "B", "aspirated_blood_ml"] = ""
    table["cement_distribution"] = "A"
    table["operation_min"] = ""
    table["vas_op"] = "5"
    return write(table, folder / "constant.csv")


def awkward_empty(folder: Path) -> Path:
    """24 patients with only the required columns filled: every measurement, score and characteristic empty."""
    table = resample(12, 12, "EMPTY", 5)
    for column in optional_columns(table):
        table[column] = ""
    return write(table, folder / "empty.csv")


def write(table: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return path


STUDY = """\
title: "Aspiration before vertebroplasty at a test centre & its district <pilot #2, 50 %> \\\\"
authors:
  - {name: Ann Example, affiliation: "Department of Spine Surgery, Test Centre Hospital"}
  - {name: Bo Sample, affiliation: "Department of Radiology, Test Centre Hospital"}
  - Cy Third
registration: not registered (retrospective study)
ethics: approved by the Test Centre ethics committee (reference TC-2023-17); consent waived
funding: Test Centre research fund, grant 42
conflicts_of_interest: none declared
background: |
  vertebral compression fractures of osteoporotic bone are frequent in older adults.

  whether aspiration changes the course after cementing is unknown at our centre.
references:
  - |
    @article{example2019, author = {Example, Ann}, title = {Cement distribution after vertebroplasty},
             journal = {Spine Test Journal}, year = {2019}, volume = {1}, pages = {1--9}}
  - "10.1000/test.doi.2020"
screened: 181
excluded: {pathological fracture: 12, "no pre-operative film ($\\\\foo{x}$ cost)": 19}  # a $ in user text is not mathematics (flow diagram)
study_size: every eligible patient treated in the period was included
assessors: two musculoskeletal radiologists, blinded to the group, measured the films
confounders: [age, sex, compression_grade]
design: a retrospective cohort study
centres: [Test Centre Hospital]
centre_type: district general hospital
period: {start: June 2021, end: May 2023}
allocation: by the operating surgeon's preference
operators: three consultant spine surgeons
follow_up_schedule: radiographs at 24 hours and at 3 and 12 months
minimum_follow_up_months: 12
"""


# --------------------------------------------------------------------------- cohorts whose truth is built in (the claims tests)

RADIOGRAPH_FINAL_COLUMNS = ["fvah_final_mm", "upper_vah_final_mm", "lower_vah_final_mm", "lka_final_deg", "rka_final_deg"]


def _decimals(values: pd.Series) -> pd.Series:
    return values.map("{:.2f}".format)


def no_effect(folder: Path) -> Path:
    """150 patients with no effect of anything: rows drawn from the default cohort, the group and the cement distribution
    each assigned by a seeded lottery independent of every measurement (so neither the treatment nor the type explains
    anything)."""
    table = resample(75, 75, "NULL", 31)
    rng = np.random.default_rng(32)
    table["cement_distribution"] = rng.permutation(table["cement_distribution"].to_numpy())
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    table["group"] = rng.permutation(["A"] * 75 + ["B"] * 75)
    table.loc[table["group"] == "B", "aspirated_blood_ml"] = ""
    table.loc[(table["group"] == "A") & (table["aspirated_blood_ml"] == ""), "aspirated_blood_ml"] = "4.5"
    return write(table, folder / "no effect.csv")


def type_c_and_baseline_gap(folder: Path) -> Path:
    """150 patients, otherwise without effects (as :func:`no_effect`), where
    - the cement types differ only away from type A: type A 40 % in both groups, type C 5.3 % in group A against
      30.7 % in group B (type B 54.7 % against 29.3 %);
    - group A starts 16 ODI points worse before surgery and the 24-hour ODI follows the pre-operative value
      (ODI 24 h = 0.4 × ODI pre-op + 8 + noise, in 2-point steps), so the 24-hour difference only mirrors the gap."""
    table = pd.read_csv(no_effect(folder / "source"), dtype=str, keep_default_na=False)
    rng = np.random.default_rng(41)
    a = table.index[table["group"] == "A"]
    b = table.index[table["group"] == "B"]
    table.loc[a, "cement_distribution"] = rng.permutation(["A"] * 30 + ["B"] * 41 + ["C"] * 4)
    table.loc[b, "cement_distribution"] = rng.permutation(["A"] * 30 + ["B"] * 22 + ["C"] * 23)
    pre = table["odi_pre"].astype(float)
    pre[a] = (pre[a] + 16).clip(upper=100)
    post = 0.4 * pre + 8 + rng.normal(0, 2.5, len(table))
    table["odi_pre"] = pre.astype(int).astype(str)
    table["odi_post"] = (2 * np.round(post / 2)).clip(0, 100).astype(int).astype(str)
    return write(table, folder / "type C and baseline gap.csv")


def true_effects_with_loss(folder: Path) -> Path:
    """150 patients with true effects of aspiration, built in: group A loses 30 % of the height and angle that group B's
    patients (drawn from the same rows) lose between 24 h and the final film; pain during cementing 2 points lower; type A
    in 70 % of group A against 30 % of group B.  Final radiographs missing for 8 of 75 in group A and 1 of 75 in group B
    (their final VAS and ODI kept): partial loss of the headline outcomes, no patient lost altogether."""
    table = resample(75, 75, "EFF", 53)
    rng = np.random.default_rng(54)
    a = table.index[table["group"] == "A"]
    b = table.index[table["group"] == "B"]
    for post, final in (("fvah_post_mm", "fvah_final_mm"), ("lka_post_deg", "lka_final_deg")):
        before, after = table.loc[a, post].astype(float), table.loc[a, final].astype(float)
        table.loc[a, final] = _decimals(before + 0.3 * (after - before))
    table.loc[a, "vas_op"] = (table.loc[a, "vas_op"].astype(int) - 2).clip(lower=0).astype(str)
    table.loc[a, "cement_distribution"] = rng.permutation(["A"] * 53 + ["B"] * 15 + ["C"] * 7)
    table.loc[b, "cement_distribution"] = rng.permutation(["A"] * 22 + ["B"] * 30 + ["C"] * 23)
    table.loc[list(a[:8]) + list(b[:1]), RADIOGRAPH_FINAL_COLUMNS] = ""
    return write(table, folder / "true effects.csv")
