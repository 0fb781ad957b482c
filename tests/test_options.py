"""Every option of `make help` through `make`, on awkward but valid cohorts and hostile file names.

Builds: three awkward cohorts (no type C with a variable missing in a group and a constant one; two patients per
group with a single-patient type; one type only with an empty and a constant column), a workbook with a hostile
name built with ALLOW_COLUMNS, CASE_IDS and an OUT with spaces, and the multicentre example folder.
Refusals (bad OUT, unknown CASE_IDS, unknown TESTS) must come before any notebook runs: they are fast.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import cohorts
from conftest import make, sha256
from vertebroplasty import paths

NOT_A_NUMBER = re.compile(r"\bnan\b|\bNaN\b|None\b|Traceback")


def assert_readable(built) -> None:
    """Every chapter was written and none prints a Python artefact."""
    for chapter in ("index", "methods", "results", "cases", "discussion", "conclusions", "reanalysis"):
        text = built.page(chapter)
        assert not NOT_A_NUMBER.search(text), (chapter, NOT_A_NUMBER.search(text).group())


@pytest.mark.slow
def test_no_type_c_a_group_without_bmi_and_a_constant_group(build, cohort_folder):
    built = build("sparse", DATA=str(cohorts.awkward_sparse(cohort_folder / "sparse")))
    assert_readable(built)
    results = built.page("results")
    assert "BMI: the comparison is not computable (no patient in group B has a value)" in results
    assert "not computable: no patient in group B has a value" in results  # the table's footnote
    assert "Type A, n =" in results and "Type C, n =" not in results  # Table 3 has the types that occur
    tests = built.results("statistics.csv")
    assert tests[(tests["variable"] == "bmi") & (tests["statistic"] == "not_computable")]["value"].iloc[0]


@pytest.mark.slow
def test_two_patients_per_group_and_a_single_patient_type(build, cohort_folder):
    built = build("tiny", DATA=str(cohorts.awkward_tiny(cohort_folder / "tiny")))
    assert_readable(built)
    assert "Type C, n = 1" in built.page("results")


@pytest.mark.slow
def test_one_type_only_an_empty_column_and_a_constant_one(build, cohort_folder):
    built = build("constant", DATA=str(cohorts.awkward_constant(cohort_folder / "constant")), TESTS="robust")
    assert_readable(built)
    results = built.page("results")
    assert "Operation time: the comparison is not computable (no patient in group A has a value)" in results
    assert "VAS (op): the comparison is not computable (every value is the same, so there is no variation to test)" in results
    assert "fewer than two types have patients with a value" in results
    conclusions = built.page("conclusions")
    assert "Not computable" in conclusions
    assert "No outcome has an observed difference between the groups to plan from" in built.page("reanalysis")


@pytest.mark.slow
def test_a_cohort_with_only_the_required_columns_builds_and_says_what_is_missing(build, cohort_folder):
    built = build("empty", DATA=str(cohorts.awkward_empty(cohort_folder / "empty")), PUBLISHED="yes")
    assert_readable(built)
    assert "the comparison is not computable" in built.page("results")
    assert "no patient has complete FVAH measurements" in built.page("cases")


@pytest.mark.slow
def test_workbook_with_hostile_name_allowed_columns_case_ids_and_out_with_spaces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    table = pd.read_csv(paths.DEFAULT_COHORT).assign(**{"patient name": "n/a", "date of birth": "1950"})
    data = folder / "-d$x `touch pwned` 'q' \"c\".xlsx"
    table.to_excel(data, index=False)
    before = sha256(data)
    out = folder / "my report $HOME `x`"
    completed = make("report", DATA=str(data), OUT=str(out), ALLOW_COLUMNS="patient name,date of birth", CASE_IDS="SYN-010,SYN-020")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert not (paths.ROOT / "pwned").exists() and not (folder / "pwned").exists() and sha256(data) == before
    cases = (out / "html" / "book" / "cases.html").read_text()
    assert "SYN-010" in cases and "SYN-020" in cases and "chosen by the user" in cases
    from bs4 import BeautifulSoup

    index = BeautifulSoup((out / "html" / "book" / "index.html").read_text(), "html.parser")
    assert data.name in [code.get_text() for code in index.find_all("code")]  # the file's name, exactly as given


@pytest.mark.slow
def test_multicentre_folder_pools_the_centres(build):
    built = build("multicentre", DATA=str(paths.MULTICENTRE_EXAMPLE))
    table = built.results("centres.csv")
    assert list(table.columns) == ["variable", "centre", "statistic", "value"]
    assert {"pooled_random", "pooled_fixed", "centre-east"} <= set(table["centre"])
    for variable in ("lka_loss", "fvahl", "avhlr", "vas_op", "type_a_share"):
        rows = table[table["variable"] == variable]
        name = "risk_difference" if variable == "type_a_share" else "mean_difference"
        per_centre = rows[rows["centre"].str.startswith("centre-")].pivot(index="centre", columns="statistic", values="value").astype(float)
        y, v = per_centre[name].to_numpy(), per_centre["se"].to_numpy() ** 2
        w = 1 / v  # DerSimonian-Laird by hand (DerSimonian & Laird 1986)
        fixed = (w * y).sum() / w.sum()
        q = (w * (y - fixed) ** 2).sum()
        tau2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
        random = ((1 / (v + tau2)) * y).sum() / (1 / (v + tau2)).sum()
        pooled = rows[rows["centre"] == "pooled_random"].set_index("statistic")["value"].astype(float)
        assert pooled[name] == pytest.approx(random, abs=1e-9) and pooled["tau2"] == pytest.approx(tau2, abs=1e-9)
    centres = built.page("centres")
    assert "The cohort comes from 4 centres" in centres and "I²" in centres
    # the pooled table fills every model's column (crude, adjusted for centre, mixed model, meta-analyses, prediction)
    pooled = centres[centres.index("Outcome (A − B)"):centres.index("Pooled over the centres with the Mantel–Haenszel")]
    lka = pooled[pooled.index("LKA loss"):pooled.index("FVAHL")]
    assert lka.count(" to ") == 6 and "—" not in lka
    # Summary and Conclusions read the centre-adjusted and random-effects estimates
    for page in ("index", "conclusions"):
        assert "Across the centres." in built.page(page) and "Taking the 4 centres into account" in built.page(page)
    assert "Across the centres." not in build("default", "pdf").page("index")  # only in a multicentre report


@pytest.mark.slow
def test_a_one_centre_report_has_no_centre_chapter(build):
    built = build("default", "pdf")  # the default report the other modules read (one build per session)
    assert not (built.out / "html" / "book" / "centres.html").exists()
    assert not (built.out / "results" / "centres.csv").exists()


# --------------------------------------------------------------------------- refusals, before any work

def refused(completed, *parts) -> None:
    assert completed.returncode == 2, completed.stdout[-1000:] + completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr and "running" not in completed.stdout
    for part in parts:
        assert part in completed.stderr, (part, completed.stderr[-1500:])


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
@pytest.mark.parametrize("out, message", [
    ("/", "the file system's root"),
    (".", "the repository itself"),
    ("data", "inside the repository's data/ folder"),
    ("book/out", "inside the repository's book/ folder"),
    ("analysis/x", "inside the repository's analysis/ folder"),
])
def test_out_is_refused_among_the_sources(out, message):
    completed = make("report", OUT=out)
    refused(completed, message)
    assert "running" not in completed.stdout + completed.stderr  # refused before any notebook started


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
def test_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    afile = tmp_path / "report.txt"
    afile.write_text("x")
    refused(make("report", OUT=str(afile)), "is a file")
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter.tex").write_text("keep me")
    refused(make("report", OUT=str(foreign)), "did not make")
    assert (foreign / "chapter.tex").read_text() == "keep me"


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
def test_a_file_added_to_an_earlier_report_is_never_deleted(tmp_path):
    from vertebroplasty.pipeline import output

    out = tmp_path / "report"
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("old")
    output.write_marker(out, "key")
    (out / "notes.txt").write_text("my notes")
    refused(make("report", OUT=str(out)), "notes.txt")
    assert (out / "notes.txt").read_text() == "my notes"


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
@pytest.mark.parametrize("option, value, message", [
    ("CASE_IDS", "NOPE-1,SYN-001", "CASE_IDS not found in the cohort's patient_id column: NOPE-1"),
    ("TESTS", "bayesian", "TESTS=bayesian is not an option"),
    ("STUDY", "/nonexistent/study.yml", "the study description must be an existing YAML file"),
])
def test_bad_options_are_refused_with_their_rule(option, value, message, tmp_path):
    refused(make("report", OUT=str(tmp_path / "out"), **{option: value}), message)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
def test_unknown_study_key_is_named(tmp_path):
    study = tmp_path / "study.yml"
    study.write_text("title: x\nsurgeon_count: 3\nperiod: January\n")
    completed = make("report", OUT=str(tmp_path / "out"), STUDY=str(study))
    refused(completed, "unknown key 'surgeon_count'", "key 'period'")


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
@pytest.mark.parametrize("name", ["c`touch pwned`.csv", "c$HOME$(touch pwned).csv", "c 'q' \"d\".csv", "-leading dash.csv", "semi;colon.csv"])
def test_hostile_file_names_reach_the_program_verbatim(tmp_path, name):
    data = tmp_path / name
    data.write_bytes(paths.DEFAULT_COHORT.read_bytes())
    completed = make("validate", DATA=str(data))
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert f"{data}: valid — 83 patients" in completed.stdout
    assert not (tmp_path / "pwned").exists() and not (paths.ROOT / "pwned").exists()


@pytest.mark.slow  # runs make: the real entry point, about 2 s each
def test_allow_columns_takes_several_names_with_spaces(tmp_path):
    table = pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False).assign(**{"patient name": "x", "date_of_birth": "y"})
    data = tmp_path / "cohort.csv"
    table.to_csv(data, index=False)
    refused(make("validate", DATA=str(data)), "column 'patient name'", "column 'date_of_birth'")
    completed = make("validate", DATA=str(data), ALLOW_COLUMNS="patient name,date_of_birth")
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_results_neutralise_spreadsheet_formulas_and_keep_numbers(tmp_path):
    from vertebroplasty.pipeline.notebook_outputs import write_csv

    frame = pd.DataFrame({"patient_id": ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2", "P-7"], "value": [-1.5, 2.0, np.nan, 3.0, 4.0]})
    path = write_csv(frame, tmp_path / "x.csv")
    rows = list(csv.reader(path.read_text().splitlines()))
    assert [row[0] for row in rows[1:]] == ["'=cmd|' /C calc'!A0", "'+1+1", "'@SUM(A1)", "-2", "P-7"]
    assert rows[1][1] == "-1.5" and rows[3][1] == ""  # numbers stay numbers, missing stays empty


def test_out_in_a_folder_that_does_not_exist_yet_is_accepted(tmp_path):
    from vertebroplasty.pipeline import output

    assert output.check_output_folder(tmp_path / "a" / "b" / "report") == tmp_path / "a" / "b" / "report"


# --------------------------------------------------------------------------- nothing of the user's is lost, nothing hostile runs

@pytest.mark.slow
def test_a_report_folder_whose_marker_cannot_be_read_or_with_an_empty_folder_is_not_replaced(tmp_path, build):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / ".vertebroplasty-report").write_text("{not json")
    (damaged / "mine.txt").write_text("my notes")
    refused(make("report", OUT=str(damaged)), "cannot be read (damaged, or from an older version)")
    assert (damaged / "mine.txt").read_text() == "my notes"

    earlier = tmp_path / "earlier"
    shutil.copytree(build("default", "pdf").out, earlier)
    (earlier / "keep me").mkdir()
    refused(make("report", OUT=str(earlier)), "keep me/")
    assert (earlier / "keep me").is_dir()


@pytest.mark.slow
def test_what_a_killed_build_left_is_removed_at_the_next_start(tmp_path, build):
    out = tmp_path / "report"
    shutil.copytree(build("default", "pdf").out, out)
    leftover = tmp_path / ".report.staging-999999999-abcd"  # a staging folder of a build that no longer runs
    leftover.mkdir()
    (leftover / "cohort.parquet").write_bytes(b"patient rows")
    running = tmp_path / f".report.staging-{os.getpid()}-live"  # one of a build still running (this process): kept
    running.mkdir()
    completed = make("report", OUT=str(out))
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "removed .report.staging-999999999-abcd, left by a build that was stopped" in completed.stdout
    assert not leftover.exists() and running.is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("content, message", [
    ("title: &name Study\ndesign: *name\n", "line 2: the alias *name is not allowed"),
    ("title: One\ndesign: cohort\ntitle: Two\n", "line 3: key 'title' is given twice (first on line 1)"),
    ("title: x\nbackground: " + "word " * 250_000 + "\n", "a study description may have at most 1,000,000 bytes"),
])
def test_a_study_file_is_read_with_limits(tmp_path, content, message):
    study = tmp_path / "study.yml"
    study.write_text(content)
    refused(make("report", OUT=str(tmp_path / "out"), STUDY=str(study)), str(study), message)


@pytest.mark.slow
@pytest.mark.parametrize("case_ids, message", [(",,,", "names no patient"), ("SYN-001,SYN-002,SYN-001", "SYN-001 more than once")])
def test_case_ids_that_name_nobody_or_someone_twice_are_refused(tmp_path, case_ids, message):
    refused(make("report", OUT=str(tmp_path / "out"), CASE_IDS=case_ids), message)


@pytest.mark.slow
def test_a_folder_names_what_it_does_not_read_and_follows_no_link_out(tmp_path):
    folder = tmp_path / "centres"
    shutil.copytree(paths.MULTICENTRE_EXAMPLE, folder)
    (folder / "old").mkdir()
    (folder / "notes.txt").write_text("to do")
    completed = make("validate", DATA=str(folder))
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "notice: old/ in centres/ is a sub-folder and is not read" in completed.stdout
    assert "notice: notes.txt in centres/ is not a cohort file" in completed.stdout
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("patient_id,group\nSECRET-1,A\n")
    (folder / "centre-zz.csv").symlink_to(secret)
    linked = make("validate", DATA=str(folder))
    refused(linked, "centre-zz.csv — rule: is a link to something outside the folder")
    assert "SECRET-1" not in linked.stdout + linked.stderr


def test_an_operating_system_error_ends_in_one_line(monkeypatch, capsys):
    from vertebroplasty import cli

    def full_disk(arguments):
        raise OSError(28, "No space left on device", "/full/report out")

    monkeypatch.setattr(cli, "run", full_disk)
    assert cli.main(["report"]) == cli.EXIT_FAILED
    error = capsys.readouterr().err
    assert error.strip() == "error: /full/report out: No space left on device (the previous report, if any, was left as it was)"


@pytest.mark.slow
def test_a_build_killed_outright_during_the_html_step_leaves_the_next_build_free(tmp_path, build):
    """SIGKILL (no handler runs) of the build while jupyter-book writes the HTML: its child may outlive it; the next build
    into the same folder succeeds, leaves no staging folder and no patient-level copy beside the report."""
    cache = tmp_path / "cache"
    shutil.copytree(build("default", "pdf").cache, cache)  # the notebooks are cached: the build reaches the HTML step at once
    environment = dict(os.environ, VERTEBROPLASTY_CACHE=str(cache))
    out = tmp_path / "report"
    process = subprocess.Popen([sys.executable, "-m", "vertebroplasty", "report", "--out", str(out)], cwd=paths.ROOT,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:  # wait for the HTML step, then kill the build itself (its jupyter-book child keeps going)
        if "building the HTML" in line:
            time.sleep(1.0)
            process.kill()
            break
    process.wait(timeout=120)  # a guard against a hang, not a speed bound
    assert process.returncode == -signal.SIGKILL
    completed = subprocess.run([sys.executable, "-m", "vertebroplasty", "report", "--out", str(out)], cwd=paths.ROOT,
                               env=environment, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    assert (out / "html" / "index.html").is_file()
    assert not list(tmp_path.glob(".report.staging-*"))
    assert [path for path in tmp_path.rglob("*.parquet") if cache not in path.parents] == []  # no patient rows beside the report
