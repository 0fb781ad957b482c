"""Whole-report builds: default data, a second cohort, failures that leave OUT alone, the browser view."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import sha256
from vertebroplasty import paths, pipeline
from vertebroplasty.cohort import CohortValidationError

pytestmark = pytest.mark.slow


def text_of(html_file: Path) -> str:
    """Visible text of a built page's article (whitespace folded)."""
    from bs4 import BeautifulSoup

    article = BeautifulSoup(html_file.read_text(), "html.parser").find("article")
    return re.sub(r"\s+", " ", article.get_text(" "))


@pytest.fixture(scope="module")
def default_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("default") / "report"
    pipeline.build_report(out=out)
    return out


@pytest.fixture(scope="module")
def second_cohort(tmp_path_factory) -> Path:
    """A differently generated cohort: 61 patients resampled from the default rows, group labels shuffled (no group effect)."""
    rng = np.random.default_rng(2024)
    table = pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    table = table.iloc[rng.choice(len(table), size=61, replace=False)].reset_index(drop=True)
    table["group"] = rng.permutation(["A"] * 30 + ["B"] * 31)
    table.loc[table["group"] == "B", "aspirated_blood_ml"] = ""
    table.loc[(table["group"] == "A") & (table["aspirated_blood_ml"] == ""), "aspirated_blood_ml"] = "4.0"
    table["patient_id"] = [f"CENTRE2-{i:03d}" for i in range(len(table))]
    table.loc[5, "fvah_final_mm"] = ""  # one missing measurement: available-case n must show
    path = tmp_path_factory.mktemp("second") / "centre 2 <cohort>.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def second_report(tmp_path_factory, second_cohort) -> Path:
    out = tmp_path_factory.mktemp("second-out") / "report"
    pipeline.build_report(data=str(second_cohort), out=out)
    return out


def test_default_report_has_every_chapter_and_result_file(default_report):
    html = default_report / "html"
    for page in ("index", "book/introduction", "book/methods", "book/results", "book/cases", "book/discussion",
                 "book/limitations", "book/provenance", "book/reproduce"):
        assert (html / f"{page}.html").is_file(), page
    assert sorted(p.name for p in (default_report / "results").iterdir()) == ["assumptions.csv", "audit.csv", "derived.csv", "pairwise.csv",
                                                                            "published_comparison.csv", "sample_size.csv", "statistics.csv"]
    statistics_csv = pd.read_csv(default_report / "results" / "statistics.csv")
    assert list(statistics_csv.columns) == ["table", "variable", "stratum", "statistic", "value"]
    assert "Synthetic data." in text_of(html / "book" / "results.html")


def test_statistics_csv_matches_independent_recomputation(default_report):
    derived = pd.read_csv(default_report / "results" / "derived.csv")
    results = pd.read_csv(default_report / "results" / "statistics.csv", dtype={"value": str})
    value = lambda t, v, s, st: float(results.query("table == @t and variable == @v and stratum == @s and statistic == @st")["value"].iloc[0])  # noqa: E731
    a, b = derived[derived["group"] == "A"], derived[derived["group"] == "B"]
    for variable in ("vas_op", "lka_loss", "avhlr", "fvahl"):
        expected = stats.ttest_ind(a[variable].dropna(), b[variable].dropna())
        assert value("table2", variable, "all", "p") == pytest.approx(expected.pvalue, rel=1e-8)
        assert value("table2", variable, "A", "mean") == pytest.approx(a[variable].mean(), rel=1e-9)
    samples = [derived.loc[derived["cement_distribution"] == k, "fvahl"] for k in "ABC"]
    assert value("table3", "fvahl", "all", "F") == pytest.approx(stats.f_oneway(*samples).statistic, rel=1e-8)
    table = pd.crosstab(derived["group"], derived["cement_distribution"])
    assert value("table1", "cement_distribution", "all", "p") == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-8)


def test_statements_follow_the_computed_p_values(default_report):
    results = pd.read_csv(default_report / "results" / "statistics.csv", dtype={"value": str})
    text = text_of(default_report / "html" / "book" / "results.html")
    p_vas_op = float(results.query("table == 'table2' and variable == 'vas_op' and statistic == 'p'")["value"].iloc[0])
    p_odi_post = float(results.query("table == 'table2' and variable == 'odi_post' and statistic == 'p'")["value"].iloc[0])
    assert p_vas_op < 0.05 and "VAS (op) was significantly lower in group A than in group B" in text
    assert p_odi_post >= 0.05 and "ODI (24 h post-op) did not differ significantly between the groups" in text


def test_second_cohort_changes_numbers_and_statements(default_report, second_report, second_cohort):
    index = text_of(second_report / "html" / "book" / "index.html")
    assert "61 patients: 30 in group A and 31 in group B" in index
    assert "Synthetic data." not in index
    html = (second_report / "html" / "book" / "index.html").read_text()
    assert "&lt;cohort&gt;.csv" in html and "<cohort>" not in html  # the file's name is shown, escaped
    results = pd.read_csv(second_report / "results" / "statistics.csv", dtype={"value": str})
    assert results.query("table == 'table2' and variable == 'fvah_final' and stratum == 'A' and statistic == 'n'")["value"].astype(int).iloc[0] + \
        results.query("table == 'table2' and variable == 'fvah_final' and stratum == 'B' and statistic == 'n'")["value"].astype(int).iloc[0] == 60
    page = text_of(second_report / "html" / "book" / "results.html")
    for variable, label in (("vas_op", "VAS (op)"), ("lka_loss", "LKA loss"), ("avhlr", "AVHLR (%)")):
        p = float(results.query("table == 'table2' and variable == @variable and statistic == 'p'")["value"].iloc[0])
        wording = "did not differ significantly" if p >= 0.05 else "was significantly"
        assert f"{label} {wording}" in page
    default_page = text_of(default_report / "html" / "book" / "results.html")
    assert page != default_page
    for chapter in ("book/index", "book/results", "book/methods", "book/cases", "book/discussion"):
        chapter_text = text_of(second_report / "html" / f"{chapter}.html")
        assert not re.search(r"\b83 patients\b", chapter_text), chapter  # no number left over from the default data
        assert "42 in group A" not in chapter_text and "n = 42" not in chapter_text
    assert "CENTRE2-" in text_of(second_report / "html" / "book" / "cases.html")  # representative cases of this cohort


def test_invalid_data_leaves_existing_output_untouched(default_report, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(default_report, out)
    before = {p.relative_to(out): sha256(p) for p in out.rglob("*") if p.is_file()}
    bad = pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    bad.loc[0, "age"] = "7.5"
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    input_hash = sha256(bad_path)
    with pytest.raises(CohortValidationError):
        pipeline.build_report(data=str(bad_path), out=out)
    assert {p.relative_to(out): sha256(p) for p in out.rglob("*") if p.is_file()} == before
    assert sha256(bad_path) == input_hash
    assert not list(tmp_path.glob(".out.staging-*"))


def test_make_report_on_bad_data_exits_non_zero_and_writes_nothing(tmp_path):
    bad = pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    bad.loc[3, "level"] = "L6"
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    out = tmp_path / "never"
    completed = subprocess.run(["make", "--no-print-directory", "report", f"DATA={bad_path}", f"OUT={out}"], cwd=paths.ROOT,
                               capture_output=True, text=True, check=False)
    assert completed.returncode != 0
    assert "column 'level': value 'L6' — rule: must be one of T1" in completed.stderr
    assert not out.exists()


def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(pipeline.BuildError, match="not a report folder"):
        pipeline.build_report(out=out)
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_results_are_byte_identical_between_builds(default_report, tmp_path):
    again = tmp_path / "again"
    pipeline.build_report(out=again, cache=False)
    for name in sorted(p.name for p in (default_report / "results").iterdir()):
        assert sha256(again / "results" / name) == sha256(default_report / "results" / name), name


def test_offline_html_renders_tables_and_math_in_chromium(default_report, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed; run `make system-packages`")
    html = default_report / "html"
    assert "cdn.jsdelivr" not in (html / "book" / "methods.html").read_text()
    assert (html / "_static" / "mathjax" / "tex-svg.js").is_file()

    def dom(page: str) -> str:
        completed = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=5000", "--dump-dom", (html / page).as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
        assert completed.returncode == 0, completed.stderr[-2000:]
        return completed.stdout

    index = dom("book/index.html")
    assert "Summary" in index and "Synthetic data." in index
    results = dom("book/results.html")
    assert results.count("<table") >= 3
    assert "Table 1." in results and "Table 3." in results and "Bone cement volume (mL)" in results
    methods = dom("book/methods.html")
    assert "<mjx-container" in methods  # MathJax typeset the formulas, from the local copy
    for image in re.findall(r'<img[^>]+src="([^"]+)"', results):
        assert (html / "book" / image).resolve().is_file(), image


def test_rebuilds_reuse_what_is_unchanged_and_redo_what_a_data_change_affects(tmp_path, capsys):
    data = tmp_path / "cohort.csv"
    shutil.copyfile(paths.DEFAULT_COHORT, data)
    out = tmp_path / "out"
    pipeline.build_report(data=str(data), out=out)
    first = (out / "results" / "statistics.csv").read_text()
    capsys.readouterr()

    pipeline.build_report(data=str(data), out=out)
    assert "nothing changed" in capsys.readouterr().out

    table = pd.read_csv(data, dtype=str, keep_default_na=False)
    table.loc[0, "fvah_final_mm"] = f"{float(table.loc[0, 'fvah_final_mm']) + 1.5:.2f}"
    table.to_csv(data, index=False)
    pipeline.build_report(data=str(data), out=out)
    log = capsys.readouterr().out
    assert "executed" in log and "cached" not in log  # every notebook reads the data, so every one runs again
    before = pd.read_csv(pd.io.common.StringIO(first), dtype={"value": str})
    after = pd.read_csv(out / "results" / "statistics.csv", dtype={"value": str})
    changed = before.merge(after, on=["table", "variable", "stratum", "statistic"], suffixes=("_before", "_after"))
    changed = changed[changed["value_before"] != changed["value_after"]]
    assert {"fvah_final", "fvahl", "avhr_final", "avhlr"} <= set(changed["variable"])
    assert not set(changed["variable"]) & {"age", "vas_op", "lka_loss", "cement_distribution"}  # unaffected results stay
