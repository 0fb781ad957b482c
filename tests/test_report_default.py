"""The default report, built once with `make pdf` (HTML and PDF), read as a surgeon, a reviewer and a browser would."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import numbered_tables, pages_running_past_their_foot, sha256
from vertebroplasty import paths

pytestmark = pytest.mark.slow

CHAPTERS = ("index", "introduction", "methods", "results", "cases", "discussion", "conclusions", "limitations", "reanalysis",
            "strobe", "source-study", "audit", "provenance", "reproduce", "references")


@pytest.fixture(scope="module")
def report(build):
    for tool in ("xelatex", "latexmk", "pdftotext", "pdftoppm", "chromium"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed; run `make system-packages`")
    return build("default", "pdf")


def value(results: pd.DataFrame, table: str, variable: str, stratum: str, statistic: str) -> float:
    rows = results[(results.table == table) & (results.variable == variable) & (results.stratum == stratum) & (results.statistic == statistic)]
    return float(rows["value"].iloc[0])


def test_every_chapter_and_result_file(report):
    for chapter in CHAPTERS:
        assert (report.out / "html" / "book" / f"{chapter}.html").is_file(), chapter
    assert not (report.out / "html" / "book" / "centres.html").exists()  # one centre: no multicentre chapter
    expected = {"assumptions.csv", "audit.csv", "audit_findings.csv", "beside_published.csv", "conclusions.csv", "derived.csv",
                "flow.csv", "missing_data.csv", "pairwise.csv", "published_comparison.csv", "sample_size.csv", "statistics.csv",
                "adjusted.csv", "responders.csv", "strobe.csv", "provenance.csv"}
    assert {p.name for p in (report.out / "results").iterdir()} == expected
    assert list(report.results("statistics.csv").columns) == ["table", "variable", "stratum", "statistic", "value"]
    assert "Synthetic data." in report.page("results")


def test_statistics_equal_a_recomputation_from_the_derived_table(report):
    derived = pd.read_csv(report.out / "results" / "derived.csv")
    results = report.results("statistics.csv")
    for variable in ("vas_op", "lka_loss", "avhlr", "fvahl"):
        a, b = (derived.loc[derived["group"] == g, variable].dropna() for g in "AB")
        expected = stats.ttest_ind_from_stats(a.mean(), a.std(), len(a), b.mean(), b.std(), len(b))  # from summaries, not the raw call
        assert value(results, "table2", variable, "all", "p") == pytest.approx(expected.pvalue, rel=1e-7)
        assert value(results, "table2", variable, "A", "mean") == pytest.approx(a.mean(), rel=1e-9)
    table = pd.crosstab(derived["group"], derived["cement_distribution"]).to_numpy()
    expected_counts = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = ((table - expected_counts) ** 2 / expected_counts).sum()  # Pearson's statistic by hand
    assert value(results, "table1", "cement_distribution", "all", "chi2") == pytest.approx(chi2, rel=1e-9)


def test_tables_1_to_3_reproduce_every_published_summary(report):
    comparison = report.results("published_comparison.csv")
    summaries = comparison[comparison["statistic"].isin(["mean", "sd", "count", "percent"])]
    assert len(summaries) > 200 and set(summaries["verdict"]) == {"matched"}


def test_every_differing_table_3_value_is_footnoted_with_its_published_value(report):
    comparison = report.results("published_comparison.csv")
    differing = comparison[(comparison["table"] == "table3") & (comparison["verdict"] == "not matched")]
    assert len(differing) >= 6
    text = report.page("results")
    table3 = text[text.index("Outcomes by cement-distribution type"):]
    for published in differing["published"]:
        assert f"published {published}" in table3, published
    html = (report.out / "html" / "book" / "results.html").read_text()
    assert 'href="audit.html#audit-finding' in html  # the footnotes link to the audit's findings


def test_audit_finds_the_integer_scale_p_and_the_unsupported_pairwise_claims(report):
    audit = report.results("audit.csv")
    vas = audit[(audit["table"] == "table3") & (audit["variable"] == "vas_pre") & audit["check"].str.startswith("ANOVA")]
    assert set(vas["verdict"]) == {"inconsistent"}
    claims = audit[audit["kind"] == "unsupported claim"]
    unsupported = set(zip(claims.loc[claims["verdict"] == "inconsistent", "variable"], claims.loc[claims["verdict"] == "inconsistent", "stratum"]))
    for variable, pair in (("fvahl", "type A vs type B"), ("avhlr", "type A vs type B"), ("lka_loss", "type A vs type C")):
        assert (variable, pair) in unsupported
    page = report.page("audit")
    assert "Finding 1." in page and "dist_A" not in page and "table3" not in page


def test_conclusions_answer_each_question_beside_the_paper(report):
    text = report.page("conclusions")
    for question in ("Does aspiration change the distribution of the cement?", "Does aspiration change pain during cementing?",
                     "Does aspiration reduce recompression after surgery?", "Is type A followed by less recompression than types B and C?"):
        assert question in text
    assert "The source study concluded" in report.page("source-study")  # the published report: its own chapter, default build
    conclusions = report.results("conclusions.csv")
    assert set(conclusions["verdict"]) <= {"yes", "partly", "not after adjustment", "baseline imbalance", "no evidence", "opposite",
                                           "not computable"}


def test_claims_carry_their_adjusted_evidence(report):
    summary = report.page("index")
    assert "Holm-adjusted" in summary and "95 % CI" in summary
    results = report.results("statistics.csv")
    holm = results[(results["statistic"] == "p_holm")]
    baseline = {"lka_pre", "rka_pre", "fvah_pre", "avhr_pre", "vas_pre", "odi_pre", "age", "bmi"}
    assert not set(holm["variable"]) & baseline  # baseline rows are not in the Holm family


def test_no_absolute_path_and_no_patient_row_outside_the_case_pages(report):
    derived = pd.read_csv(report.out / "results" / "derived.csv", dtype=str)
    ids = set(derived["patient_id"])
    allowed = {"cases.html", "cases.ipynb"}
    for path in (report.out / "html").rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".ipynb", ".txt", ".js", ".md") or "_static" in path.parts:
            continue
        text = path.read_text(errors="replace")
        for forbidden in (str(paths.ROOT), str(report.out), "/tmp/", str(paths.cache_root())):
            assert forbidden not in text, (path, forbidden)
        if path.name not in allowed and path.parent.name != "_sources":
            found = [patient for patient in ids if re.search(rf"\b{re.escape(patient)}\b", text)]
            assert not found, (path, found[:3])


def test_notebook_pages_show_parameters_once_without_paths_and_fold_the_code(report):
    page = (report.out / "html" / "book" / "generated" / "comparisons.html").read_text()
    assert page.count("Parameters of this run") == 1 and ".parquet" not in page and "staging" not in page
    assert "NBVAL" not in page and "nbval" not in page
    assert "tag_hide-input" in page or "hide-input" in page
    sidebar = re.findall(r'<a class="reference internal" href="[^"]*">([^<]+)</a>', page)
    assert len([title for title in sidebar if title.strip() == "Case presentations"]) <= 1


def chromium_check(html_page, script: str, tmp_path, width: int = 1280) -> str:
    """Open a copy of a built page with a measuring script in headless Chromium at ``width`` px; return what it wrote."""
    probe = html_page.with_name(f"probe-{html_page.name}")
    measure = f"<script>window.addEventListener('DOMContentLoaded', () => setTimeout(() => {{ let r; try {{ r = (() => {{ {script} }})(); }} " \
              f"catch (e) {{ r = 'error: ' + e; }} const p = document.createElement('pre'); p.id = 'probe'; " \
              f"p.textContent = JSON.stringify(r); document.body.appendChild(p); }}, 2000));</script>"
    probe.write_text(html_page.read_text().replace("</body>", measure + "</body>"))
    try:
        for attempt in range(3):  # on a busy machine Chromium may dump the page before the probe ran: ask again
            completed = subprocess.run(
                [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / f'profile-{attempt}'}",
                 f"--window-size={width},900", "--virtual-time-budget=20000", "--dump-dom", probe.as_uri()],
                capture_output=True, text=True, timeout=120, check=False)
            assert completed.returncode == 0, completed.stderr[-2000:]
            found = re.findall(r'<pre id="probe">(.*?)</pre>', completed.stdout, re.S)  # the last: the first is the script's own text
            if found:
                return json.loads(found[-1].replace("&quot;", '"'))
    finally:
        probe.unlink()
    raise AssertionError(f"the probe never ran in {html_page.name}: " + completed.stdout[-2000:])


def test_offline_math_tables_and_images_in_chromium(report, tmp_path):
    html = report.out / "html" / "book"
    assert "cdn.jsdelivr" not in (html / "methods.html").read_text()
    math = chromium_check(html / "methods.html", "return document.querySelectorAll('mjx-container').length;", tmp_path)
    assert math >= 10
    tables = chromium_check(html / "results.html", "return [document.querySelectorAll('table').length, "
                                                   "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length];", tmp_path)
    assert tables[0] >= 4 and tables[1] == 0


def test_audit_and_notebook_pages_fit_1280_px_and_table_3_cells_do_not_wrap(report, tmp_path):
    book = report.out / "html" / "book"
    for page in [book / "audit.html", *sorted((book / "generated").glob("*.html"))]:
        overflow = chromium_check(page, "return document.documentElement.scrollWidth - window.innerWidth;", tmp_path)
        assert overflow <= 0, page.name
    wrapped = chromium_check(report.out / "html" / "book" / "results.html", r"""
        const table = [...document.querySelectorAll('table')].find(t => t.innerText.replace(/\s+/g, ' ').includes('Type C, n ='));
        const cells = [...table.querySelectorAll('td')].filter(td => td.innerText.includes('±'));
        const height = td => { const range = document.createRange(); range.selectNodeContents(td); return range.getBoundingClientRect().height; };
        return cells.filter(td => height(td) > 1.9 * parseFloat(getComputedStyle(td).fontSize)).map(td => td.innerText);""", tmp_path)
    assert wrapped == []
    for page in ("results", "reanalysis"):  # every table fits the text column at 1280 px: none hides columns behind a scroll bar
        wider = chromium_check(book / f"{page}.html", """
            return [...document.querySelectorAll('article table')].filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
                .map(t => t.querySelector('caption').innerText.slice(0, 40));""", tmp_path)
        assert wider == [], page


# --------------------------------------------------------------------------- the PDF

@pytest.fixture(scope="module")
def pdf_pages(report) -> list[str]:
    completed = subprocess.run(["pdftotext", "-layout", str(report.out / "pdf" / "report.pdf"), "-"], capture_output=True, text=True, check=True)
    return completed.stdout.split("\f")[:-1]


def test_title_page_names_the_study_the_data_and_the_build(pdf_pages):
    first = pdf_pages[0]
    assert "Source study" in first and "Design" in first and "synthetic cohort" in first
    assert "Built 20" in first and "Report package version" in first
    assert "\n".join(pdf_pages).count("Source study:") == 1  # the summary does not print the title page's block again


def test_pdf_is_an_article_with_appendices_and_no_notebook_code(pdf_pages):
    text = "\n".join(pdf_pages)
    assert not re.search(r"CHAPTER (ONE|TWO|THREE|FOUR|[0-9])", text.upper())  # no manual-style chapter title pages
    assert "Appendices" in text or "APPENDICES" in text.upper()
    for heading in ("Introduction", "Methods", "Results", "Case presentations", "Discussion", "Conclusions", "Limitations",
                    "Reproduction audit", "Data provenance"):
        assert heading in text, heading
    assert "import pandas" not in text and "Computation:" not in text
    body = next(index for index, page in enumerate(pdf_pages) if "Re-analysis with current reporting standards" in page and index > 2)
    assert body <= 22, f"the report's body runs to page {body}"


def test_each_table_caption_is_on_the_page_of_its_table(pdf_pages):
    first_rows = {"Table 1": "Age (years)", "Table 2": "LKA (pre-op, °)", "Table 3": "LKA loss (°)"}
    for caption, row in first_rows.items():
        pages = [page for page in pdf_pages if re.search(rf"{caption}[:.]?\s+(Characteristics|Radiographic|Height)", page)]
        assert pages, caption
        assert row in pages[0][pages[0].index(caption):], caption


def test_symbols_survive_latex_and_no_page_is_blank(report, pdf_pages, tmp_path):
    from PIL import Image

    text = "\n".join(pdf_pages)
    for symbol in ("±", "≥", "°", "²", "χ²", "η²"):
        assert symbol in text, symbol
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(report.out / "pdf" / "report.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    blank = [page.name for page in pages if np.asarray(Image.open(page).convert("L")).std() < 1.0]
    assert len(pages) >= 10 and blank == []


# --------------------------------------------------------------------------- typesetting, read as a copy editor would

BODY = ("index", "introduction", "methods", "results", "cases", "discussion", "conclusions", "limitations")


def prose_of(html_file) -> str:
    """The article's running text and tables without code, math or the synthetic-data banner (repeated on purpose)."""
    from bs4 import BeautifulSoup

    article = BeautifulSoup(html_file.read_text(), "html.parser").find("article")
    for element in article.select("pre, code, script, style, .math, mjx-container, .admonition"):
        element.decompose()
    for paragraph in article.find_all("p"):
        if paragraph.get_text().startswith("Synthetic data."):  # the banner every chapter opens with
            paragraph.decompose()
    return re.sub(r"\s+", " ", article.get_text(" "))


def test_numbers_signs_quotes_and_p_values_are_typeset(report):
    pages = sorted((report.out / "html" / "book").glob("*.html"))
    assert len(pages) >= len(CHAPTERS)
    for page in pages:
        text = prose_of(page)
        hyphen = re.search(r"(?<![\w.\-/])-(?=\.?\d)", text)  # a number's sign is U+2212, not the hyphen-minus
        assert hyphen is None, (page.name, text[max(0, hyphen.start() - 60):hyphen.end() + 20])
        zero = re.search(r"\bp\s*=\s*0\.0+(?![\d])", text)  # a p-value is never printed as zero
        assert zero is None, (page.name, text[max(0, zero.start() - 60):zero.end() + 20])
        straight = re.search(r"[A-Za-z]'[a-z]", text)  # apostrophes are typographic, as Sphinx sets the pages' own text
        assert straight is None, (page.name, text[max(0, straight.start() - 60):straight.end() + 20])


def test_no_sentence_of_twelve_or_more_words_is_said_twice(report):
    seen: dict[str, str] = {}
    for name in BODY:
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", prose_of(report.out / "html" / "book" / f"{name}.html")):
            words = " ".join(sentence.split())
            if len(words.split()) >= 12:
                assert words not in seen, f"said in {seen.get(words)} and again in {name}: {words}"
                seen[words] = name


def test_every_measurement_row_carries_its_unit(report):
    results = report.page("results")
    table2 = results[results.index("Table 2 Radiographic"):]
    for row, unit in (("LKA (pre-op", "°"), ("RKA loss", "°"), ("FVAH (final FU", "mm"), ("FVAHL", "mm"), ("AVHLR", "%"),
                      ("ODI (final FU", "%"), ("VAS (op", "points")):
        label = re.search(re.escape(row) + r"[^±]*?(?= [\d−])", table2).group(0)
        assert unit in label, (row, label)


def test_pdf_identifiers_contents_references_metadata_and_hashes(report, pdf_pages):
    text = "\n".join(pdf_pages)
    from vertebroplasty.contract import dictionary

    for column in dictionary.column_names():  # never hyphenated: broken, if at all, only after an underscore
        for cut in range(2, len(column) - 1):
            if column[cut - 1] == "_":
                continue
            head, tail = column[:cut], column[cut:]
            assert "_" not in head or not re.search(rf"(?<![\w]){re.escape(head)}-\s", text), (column, head)
            assert "_" not in tail or not re.search(rf"(?m)^\s*{re.escape(tail)}\b", text), (column, tail)
    contents = pdf_pages[1]
    assert "9.1 Re-analysis with current reporting standards" in contents and "9.4 Reproduction audit" in contents
    assert len(re.findall(r"^\s*References\s*$", text, re.MULTILINE)) == 1  # one bibliography, at the end
    info = subprocess.run(["pdfinfo", str(report.out / "pdf" / "report.pdf")], capture_output=True, text=True, check=True).stdout
    for field in ("Title:", "Author:", "Subject:"):
        assert re.search(rf"^{field}\s+\S", info, re.MULTILINE), field
    provenance = report.results("provenance.csv").set_index("item")["value"]
    digest = provenance["SHA-256 of the data"]
    assert len(digest) == 64 and digest == sha256(paths.DEFAULT_COHORT)
    assert f"{digest[:16]}…" in text and digest not in text  # the page shows the start; the results hold it whole


def test_an_empty_table_cell_adds_no_line_in_the_pdf(report):
    """MyST gives an empty cell an empty paragraph, which LaTeX set as a line of its own (a baseline row of Table 2,
    whose Holm p is blank, stood twice as tall as its neighbours); _ext/empty_table_cells.py removes it."""
    latex = next((report.cache / "book").glob("*/pdf/_build/latex/report.tex")).read_text()
    assert "&\\\\" in latex  # empty last cells exist (the blank Holm p of the baseline rows)
    assert re.search(r"\\sphinxAtStartPar\n\n(&|\\\\)", latex) is None


def test_nothing_runs_past_the_foot_of_a_page(pdf_pages):
    assert pages_running_past_their_foot("\f".join(pdf_pages)) == []


def test_every_table_is_numbered_and_captioned_alike_in_html_and_pdf(report, pdf_pages):
    """Tables 1–3 keep the paper's numbers; the report's own tables follow them; the PDF numbers each table as the HTML
    does (the audit's list of every check, printed in the HTML only, keeps its number in the PDF's text)."""
    tables = numbered_tables(report)
    assert [number for number, _ in tables] == list(range(1, len(tables) + 1)) and len(tables) >= 15
    assert [caption.split()[0] for _, caption in tables[:3]] == ["Characteristics", "Radiographic", "Height"]
    text = re.sub(r"\s+", " ", "\n".join(pdf_pages))
    for number, caption in tables:
        start = " ".join(caption.split()[:4])
        assert f"Table {number}: {start}" in text or f"Table {number}, which lists every check" in text, (number, caption)
    assert "Table 8" in report.page("reanalysis") and "The data contract: the columns of a cohort file." in report.page("reproduce")


def test_each_case_is_judged_by_the_worse_of_height_and_angle(report):
    """Every case paragraph's recompression words, against the patient's row of the committed cohort and the limits the
    chapter states (FVAHL 2 / 4 mm, LKA loss 5 / 10 degrees), computed here by hand."""
    cohort = pd.read_csv(paths.DEFAULT_COHORT).set_index("patient_id")
    words = ("no appreciable", "slight", "marked")
    text = report.page("cases")
    assert "FVAHL below 2 mm: no appreciable, from 2 to below 4 mm: slight, 4 mm or more: marked" in text
    assert "LKA loss below 5°: no appreciable, from 5 to below 10°: slight, 10° or more: marked" in text
    cases = re.findall(r"Case \d\. Patient (\S+) .*?by this report's definitions, (.*?)\.(?= Case| Fig)", text)
    assert len(cases) == 3
    for patient_id, verdict in cases:
        row = cohort.loc[patient_id]
        height = row["fvah_post_mm"] - row["fvah_final_mm"]
        angle = row["lka_final_deg"] - row["lka_post_deg"]
        assert f"{height:.2f} mm of height lost" in text and f"the angle grew by {angle:.2f}°" in text  # printed as computed
        height_word = words[int(height >= 2) + int(height >= 4)]
        angle_word = words[int(angle >= 5) + int(angle >= 10)]
        worst = max(height_word, angle_word, key=words.index)
        assert verdict.startswith(f"{worst} recompression"), (patient_id, height, angle, verdict)
        if height_word != angle_word:
            by, other = ("height", "angle") if height_word == worst else ("angle", "height")
            assert verdict == f"{worst} recompression by the {by} (by the {other}: {min(height_word, angle_word, key=words.index)})"
    # the paper's first case kept its height but lost about 10 degrees of its correction: not "free of recompression"
    assert cases[0][1] == "slight recompression by the angle (by the height: no appreciable)"
