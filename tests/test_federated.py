"""Pooling centres that may not share patient rows: `make summary` at each centre, `make report DATA=<summaries>/`.

Through the real entry point: each centre's summary holds aggregates only; a small cell refuses the whole summary and
nothing is written; the coordinator's report from the summaries has the same multicentre numbers as the report built
from the centres' patient files (to 1e-9); broken, foreign or mismatched summaries are refused with their reasons.
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from conftest import make, numbered_tables
from vertebroplasty import __version__, paths
from vertebroplasty.contract import summary_file, validation

pytestmark = pytest.mark.slow
EXAMPLE = paths.MULTICENTRE_EXAMPLE
CENTRES = sorted(path.stem for path in EXAMPLE.glob("*.csv"))


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    """The four example centres summarised by `make summary` on their folder (MIN_CELL=2: the example is small)."""
    folder = tmp_path_factory.mktemp("summaries") / "to send"
    completed = make("summary", DATA=str(EXAMPLE), OUT=str(folder), MIN_CELL="2")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("aggregates only") == len(CENTRES)
    return folder


def test_a_summary_holds_aggregates_only(summaries, tmp_path):
    files = sorted(summaries.iterdir())
    assert [path.name for path in files] == [f"{centre}.summary.json" for centre in CENTRES]
    for path, centre in zip(files, CENTRES):
        text = path.read_text(encoding="utf-8")
        content = json.loads(text)
        assert summary_file.schema_problems(content) == []
        assert content["centre"] == centre and content["package_version"] == __version__ and content["min_cell"] == 2
        assert content["data_sha256"] == validation.file_sha256(EXAMPLE / f"{centre}.csv")
        rows = pd.read_csv(EXAMPLE / f"{centre}.csv", dtype=str, keep_default_na=False)
        assert not [pid for pid in rows["patient_id"] if pid in text]  # no identifier
        cells = pd.DataFrame(content["cells"])
        assert len(cells) == 2 * len(content["variables"])  # one cell per variable and group, nothing per patient
        assert set(cells.columns) == {"variable", "group", "n", "mean", "sd", "count"}
        # the means are the patients' means (checked here from the raw file, independently of the package)
        age = cells.set_index(["variable", "group"]).loc[("age", "A")]
        assert age["mean"] == pytest.approx(rows.loc[rows["group"] == "A", "age"].astype(float).mean(), abs=1e-12)
        assert content["patients"] == {"A": int((rows["group"] == "A").sum()), "B": int((rows["group"] == "B").sum())}
    # one centre's own file gives the same summary as the folder
    single = make("summary", DATA=str(EXAMPLE / f"{CENTRES[0]}.csv"), OUT=str(tmp_path / "one"), MIN_CELL="2")
    assert single.returncode == 0, single.stderr[-2000:]
    assert (tmp_path / "one" / files[0].name).read_bytes() == files[0].read_bytes()


def test_a_small_cell_refuses_the_whole_summary_and_writes_nothing(tmp_path):
    before = {path: path.read_bytes() for path in EXAMPLE.iterdir()}
    completed = make("summary", DATA=str(EXAMPLE), OUT=str(tmp_path / "out"))  # MIN_CELL 5 by default
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert "nothing written" in completed.stderr
    # each refused cell is named by centre, variable, group and count (counted here from the raw file)
    south = pd.read_csv(EXAMPLE / "centre-south.csv", dtype=str, keep_default_na=False)
    leaks_b = int((south.loc[south["group"] == "B", "cement_leakage"].str.lower().isin(["yes", "1", "true"])).sum())
    assert 0 < leaks_b < 5
    assert f'centre centre-south: cement_leakage, group B: {leaks_b} "yes" (below MIN_CELL = 5)' in completed.stderr
    assert not (tmp_path / "out").exists()
    assert {path: path.read_bytes() for path in EXAMPLE.iterdir()} == before  # the input is only read


def test_the_report_from_summaries_equals_the_report_from_patient_rows(summaries, build):
    pooled = build("pooled-summaries", DATA=str(summaries))
    patient_level = build("multicentre", DATA=str(EXAMPLE))
    for built in (pooled, patient_level):  # every table numbered, in order (Tables 1–3 first where the report has them)
        assert [number for number, _ in numbered_tables(built)] == list(range(1, len(numbered_tables(built)) + 1))
    from_summaries = pooled.results("centres.csv")
    from_rows = patient_level.results("centres.csv")
    keys = ["variable", "centre", "statistic"]
    merged = from_summaries.merge(from_rows, on=keys, how="outer", suffixes=("_summaries", "_rows"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for statistic in ("hk_ci_low", "hk_ci_high", "hk_modified_ci_low", "hk_modified_ci_high", "pi_low", "pi_high", "tau2", "i2",
                      "q_p", "odds_ratio", "breslow_day_p"):
        assert statistic in set(merged["statistic"]), statistic
    assert {"pooled_random", "pooled_fixed", "pooled_mantel_haenszel", "adjusted_ols", "crude_ols", "mixed_random_intercept"} <= set(
        merged["centre"])
    values = merged[["value_summaries", "value_rows"]].replace("", "nan").astype(float)
    both_missing = values.isna().all(axis=1)
    assert (values["value_summaries"] - values["value_rows"]).abs()[~both_missing].max() <= 1e-9

    # what needs patient rows is left out, and said to be
    assert sorted(path.name for path in (pooled.out / "results").iterdir()) == ["centres.csv"]
    pages = sorted(path.name for path in (pooled.out / "html" / "book").glob("*.html"))
    assert pages == ["centres.html", "index.html", "references.html"]
    summary = pooled.page("index")
    assert "Left out, because each needs the patients' own rows" in summary and "No patient row left any centre" in summary
    for centre in CENTRES:
        assert centre in summary
    html = " ".join(path.read_text(encoding="utf-8") for path in (pooled.out / "html").rglob("*.html"))
    identifiers = pd.concat(pd.read_csv(path, dtype=str)["patient_id"] for path in EXAMPLE.glob("*.csv"))
    assert not [pid for pid in identifiers if re.search(rf"\b{re.escape(pid)}\b", html)]
    assert "Hartung–Knapp" in pooled.page("centres") and "prediction interval" in pooled.page("centres")


def test_foreign_mismatched_and_broken_summaries_are_refused_all_at_once(summaries, tmp_path):
    folder = tmp_path / "gathered"
    shutil.copytree(summaries, folder)
    east, north, south = (folder / f"centre-{name}.summary.json" for name in ("east", "north", "south"))
    content = json.loads(east.read_text())
    content["package_version"] = "0.0.9"
    east.write_text(json.dumps(content))
    content = json.loads(north.read_text())
    content["variables"] = content["variables"][:-1]
    content["cells"] = [cell for cell in content["cells"] if cell["variable"] != "follow_up_months"]
    north.write_text(json.dumps(content))
    content = json.loads(south.read_text())
    del content["cells"]
    content["patient_id"] = "X-1"
    south.write_text(json.dumps(content))
    completed = make("report", DATA=str(folder), OUT=str(tmp_path / "out"))
    assert completed.returncode == 2 and "Traceback" not in completed.stderr, completed.stderr[-2000:]
    error = completed.stderr
    assert f"centre-east.summary.json: written by version 0.0.9 of the report package; this is version {__version__}" in error
    assert "centre-north.summary.json: its variables" in error and "differ from those of centre-east.summary.json" in error
    assert "centre-south.summary.json: at (top level): 'cells' is a required property" in error
    assert "centre-south.summary.json: at (top level): Additional properties are not allowed ('patient_id' was unexpected)" in error
    assert not (tmp_path / "out").exists()


def test_options_that_need_patient_rows_are_refused_for_summaries(summaries, tmp_path):
    completed = make("report", DATA=str(summaries), OUT=str(tmp_path / "out"), CASE_IDS="a,b,c", TESTS="robust")
    assert completed.returncode == 2 and "CASE_IDS, TESTS=robust: not available for a report built from centre summaries" in completed.stderr
    higher = make("report", DATA=str(summaries), OUT=str(tmp_path / "out"), MIN_CELL="5")  # the coordinator's own, stricter rule
    assert higher.returncode == 2 and '"yes" (below MIN_CELL = 5)' in higher.stderr


def test_disclosure_counts_yes_and_no_and_group_sizes():
    cells = pd.DataFrame({"variable": ["type_a_share", "fvahl", "fvahl"], "group": ["A", "A", "B"], "n": [10, 10, 0],
                          "count": [8, None, None]})
    assert summary_file.disclosure_problems(cells, {"A": 10, "B": 0}) == [
        'type_a_share, group A: 2 "no" (below MIN_CELL = 5)']  # a zero is no disclosure; 8 "yes" of 10 leaves 2 "no"
    assert summary_file.disclosure_problems(cells.iloc[1:], {"A": 10, "B": 3}) == ["group B: 3 patients (below MIN_CELL = 5)"]
