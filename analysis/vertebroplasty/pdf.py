"""The PDF edition: Jupyter Book's LaTeX builder (XeLaTeX, TeX Live from Debian) with a title page naming the data."""

from __future__ import annotations

import datetime as _datetime
import shutil
import sys
from pathlib import Path
from typing import Callable

import yaml

from . import __version__
from .report import git_commit


def latex_escape(text: str) -> str:
    """Escape text for LaTeX (file names can hold any character)."""
    replacements = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                    "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}", "%": r"\%", "<": r"\textless{}",
                    ">": r"\textgreater{}"}
    return "".join(replacements.get(character, character) for character in text)


def title_page(title: str, data_statement: str, built: str, version: str) -> str:
    """The LaTeX of the title page: title, the data set, the build date and the project version."""
    return rf"""
\begin{{titlepage}}
\centering
\vspace*{{3cm}}
{{\Huge\bfseries {latex_escape(title)}\par}}
\vspace{{2cm}}
{{\Large {data_statement}\par}}
\vspace{{1.5cm}}
{{\large Built {latex_escape(built)}\par}}
{{\large Report package version {latex_escape(version)}\par}}
\vfill
{{\small Every number in this document was computed from the data named above by the analysis notebooks.\par}}
\end{{titlepage}}
"""


def data_statement(synthetic: bool, data_label: str, sha256: str) -> str:
    if synthetic:
        return (r"\textbf{Synthetic data:} a cohort reconstructed from the published summary statistics."
                r"\\ Not patient data.")
    return rf"\textbf{{Data:}} {latex_escape(data_label)}\\ {{\small SHA-256 \texttt{{{sha256}}}}}"


def latex_errors(log: Path, context: int = 3) -> str:
    """The ``!`` error lines of a LaTeX log, each with a few lines of context."""
    if not log.is_file():
        return "(no LaTeX log)"
    lines = log.read_text(errors="replace").splitlines()
    found = [index for index, line in enumerate(lines) if line.startswith("!")]
    return "\n".join("\n".join(lines[index:index + context]) for index in found[:10]) or "(no error lines in the log)"


def build_pdf(book_root: Path, staging: Path, target: Path, run: Callable[[list[str], str, Path], None],
              synthetic: bool, data_label: str, sha256: str) -> Path:
    """Build ``target/report.pdf`` from the assembled book in ``book_root``."""
    config_path = book_root / "_config.yml"
    config = yaml.safe_load(config_path.read_text())
    built = _datetime.date.today().isoformat()
    version = f"{__version__} (commit {git_commit()[:12]})"
    elements = config.setdefault("sphinx", {}).setdefault("config", {}).setdefault("latex_elements", {})
    elements["maketitle"] = title_page(config["title"], data_statement(synthetic, data_label, sha256), built, version)
    elements["papersize"] = "a4paper"
    elements["pointsize"] = "10pt"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
    try:
        run([jupyter_book, "build", str(book_root), "--builder", "pdflatex", "--path-output", str(staging), "--quiet"],
            "jupyter-book build (pdflatex)", staging / "pdf-build.log")
    except RuntimeError as error:
        raise RuntimeError(f"{error}\nLaTeX errors:\n{latex_errors(staging / '_build' / 'latex' / 'report.log')}") from None
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(staging / "_build" / "latex" / "report.pdf", target / "report.pdf")
    return target / "report.pdf"
