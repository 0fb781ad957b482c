"""The PDF edition: built through LaTeX, every chapter and table present, glued numbers in it, no blank page."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from vertebroplasty import pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pdf_report(tmp_path_factory):
    for tool in ("xelatex", "latexmk", "pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed; run `make system-packages`")
    out = tmp_path_factory.mktemp("pdf") / "report"
    pipeline.build_report(out=out, pdf=True)
    return out


@pytest.fixture(scope="module")
def pdf_text(pdf_report) -> str:
    completed = subprocess.run(["pdftotext", "-layout", str(pdf_report / "pdf" / "report.pdf"), "-"],
                               capture_output=True, text=True, check=True)
    return completed.stdout


def test_title_page_names_the_data_and_the_build(pdf_text):
    first_page = pdf_text.split("\f")[0]
    assert "Synthetic data" in first_page and "Not patient data" in first_page
    assert "Built 20" in first_page and "Report package version" in first_page


def test_every_chapter_and_table_heading(pdf_text):
    for heading in ("Introduction", "Methods", "Results", "Case presentations", "Discussion", "Limitations",
                    "Data provenance", "Table 1.", "Table 2.", "Table 3.", "Characteristic"):
        assert heading in pdf_text, heading


def test_glued_numbers_from_the_results_are_in_the_pdf(pdf_report, pdf_text):
    results = pd.read_csv(pdf_report / "results" / "statistics.csv", dtype={"value": str})
    mean = float(results.query("table == 'table2' and variable == 'vas_op' and stratum == 'A' and statistic == 'mean'")["value"].iloc[0])
    sd = float(results.query("table == 'table2' and variable == 'vas_op' and stratum == 'A' and statistic == 'sd'")["value"].iloc[0])
    assert f"{mean:.2f} ± {sd:.2f}" in pdf_text
    assert "83 patients" in pdf_text


def test_study_symbols_survive_latex(pdf_text):
    for symbol in ("±", "≥", "°", "²", "χ²"):
        assert symbol in pdf_text, symbol


def test_pages_are_not_blank(pdf_report, tmp_path):
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf_report / "pdf" / "report.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 10
    blank = [page.name for page in pages if np.asarray(Image.open(page).convert("L")).std() < 1.0]
    assert blank == []
