"""The PDF edition: an article (XeLaTeX, TeX Live from Debian) — title page naming the study and the data, the report's
body, then appendices; the computation notebooks are left out.

The PDF is built from a copy of the assembled book whose table of contents and configuration are edited here; the
repository's ``_config.yml`` and ``_toc.yml`` are never touched.
"""

from __future__ import annotations

import datetime as _datetime
import shutil
from pathlib import Path

import yaml
from sphinx.util import texescape

from vertebroplasty import __version__
from vertebroplasty.pipeline.book import BookError, jupyter_book, run_logged
from vertebroplasty.pipeline.provenance import git_commit
from vertebroplasty.writing.numbers import curly_quotes

#: The part of the book's table of contents that is the article's body (after the root page); every other chapter
#: except the notebooks becomes an appendix, in the book's order.
BODY_PART = "Report"
#: LaTeX that keeps a table with its caption on one page and sets the article's page style.
PREAMBLE = r"""
\usepackage{needspace}
\makeatletter
% (bottom-aligned: the page builder sees the whole table's height, so a table that does not fit goes to the next
% page with the heading above it, instead of hanging below the page's foot)
\def\sphinxattablestart{\par\needspace{6\baselineskip}\vskip\dimexpr\sphinxtablepre\relax\spx@inframedtrue
  \begin{minipage}[b]{\linewidth}\small}% tables in a smaller size than the text, as journals set them (long tables,
% which break across pages, keep the text's size: a smaller one there made the page builder overfill a later page)
% no page break between a table and the line after it (its legend, when it has one)
\def\sphinxattableend{\end{minipage}\par\nobreak\@nobreakfalse\prevdepth\z@\vskip\sphinxtablepost\relax}
% table cells ragged right, as journals set them (justified narrow cells open wide gaps between words), and no column so
% narrow that a short word ("primary", "<0.001") must be hyphenated
\newcolumntype{\X}[2]{>{\raggedright\arraybackslash}p{\dimexpr
      (\linewidth-\spx@arrayrulewidth)*#1/#2-\tw@\tabcolsep-\spx@arrayrulewidth\relax}}
\newcolumntype{T}{L}
\setlength{\tymin}{3.6em}
\makeatother
\renewcommand{\sphinxtablecontinued}[1]{\textit{(continued)}}
% identifiers (column names, file names) in the monospace font, never hyphenated, breaking only after an underscore
\protected\def\sphinxcodeunderscore{\textunderscore\allowbreak}
\protected\def\sphinxcode#1{{\ttfamily\hyphenchar\font=-1\relax\let\_\sphinxcodeunderscore#1}}
\setcounter{tocdepth}{2}
% floats stay near their text: more of a page may hold figures and tables, a page of floats alone must be well filled
\renewcommand{\topfraction}{0.85}\renewcommand{\bottomfraction}{0.7}\renewcommand{\textfraction}{0.1}
% \FloatBarrier: each appendix (a subsection in the PDF) starts with one, so its figures stay in it (build_pdf); the
% package's [section] option is not used: its barrier at every section split paragraphs early and left pages half empty
\usepackage{placeins}
\renewcommand{\floatpagefraction}{0.75}\setcounter{topnumber}{3}\setcounter{bottomnumber}{2}\setcounter{totalnumber}{4}
"""


#: The summary's include of the study's source block (shown on the PDF's title page instead).
SOURCE_BLOCK_INCLUDE = "```{include} generated/patients/markdown/source_block.md\n```\n"
#: Raw LaTeX put before an appendix's title (placeins): the floats of the chapter before it are placed first.
FLOAT_BARRIER = "```{raw} latex\n\\FloatBarrier\n```\n\n"


def latex_escape(text: str) -> str:
    """Text for the LaTeX the PDF step writes itself (title page, metadata): Sphinx's escaping for XeLaTeX.

    >>> print(latex_escape("Aspiration & cement: 50 % of_cases"))
    Aspiration \\& cement: 50 \\% of\\_cases
    """
    if not texescape._tex_escape_map_without_unicode:  # Sphinx fills its maps when a LaTeX builder starts
        texescape.init()
    return texescape.escape(str(text), "xelatex").replace(r"\sphinxhyphen{}", "-")


SUBJECT = ("Percutaneous vertebroplasty with and without fracture-haemorrhage aspiration for osteoporotic vertebral "
           "compression fractures: a reproducible report")


def metadata(title: str, author: str, subject: str) -> str:
    """The PDF's document information (title, author, subject, keywords), set with hyperref."""
    def value(text: str) -> str:
        return latex_escape(" ".join(str(text).split()))

    return ("\\AtBeginDocument{\\hypersetup{"
            f"pdftitle={{{value(title)}}}, pdfauthor={{{value(author)}}}, pdfsubject={{{value(subject)}}}, "
            "pdfkeywords={vertebroplasty, osteoporotic vertebral compression fracture, reproducible report}}}\n")


def title_page(title: str, source_block: str, built: str, version: str) -> str:
    """The LaTeX of the title page: the report's title, the study and data it describes, the build date and version."""
    return rf"""
\begin{{titlepage}}
\centering
\vspace*{{2.5cm}}
{{\Huge\bfseries {latex_escape(title)}\par}}
\vspace{{1.6cm}}
\begin{{minipage}}{{0.85\linewidth}}\raggedright\large
{source_block}
\end{{minipage}}
\vfill
{{\large Built {latex_escape(built)}\par}}
{{\large Report package version {latex_escape(version)}\par}}
\vspace{{0.6cm}}
{{\small Every number in this document was computed from the data named above by the analysis notebooks.\par}}
\end{{titlepage}}
"""


def markdown_to_latex(text: str) -> str:
    """The source block's small MyST subset (bold labels, line breaks, escaped characters) as LaTeX."""
    import html
    import re

    lines = []
    for line in text.replace("  \n", "\n").splitlines():
        line = re.sub(r"\{sup\}`(\d+)`", lambda m: m.group(1).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")), line)
        line = html.unescape(re.sub(r"\\(.)", r"\1", line))  # MyST escapes, then the HTML entities of < > &
        line = curly_quotes(line)  # as the pages set them (Sphinx's smart quotes)
        parts = re.split(r"\*\*(.+?)\*\*", line)
        lines.append("".join(rf"\textbf{{{latex_escape(p)}}}" if i % 2 else latex_escape(p) for i, p in enumerate(parts)))
    return r"\par\medskip ".join(lines)


def build_pdf(book_dir: Path, target: Path, log: Path) -> Path:
    """Build ``target/report.pdf`` from the assembled book in ``book_dir/source`` (a copy is edited, not the book)."""
    source = book_dir / "pdf-source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(book_dir / "source", source)
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    chapters = [chapter["file"] for part in toc.get("parts", []) for chapter in part["chapters"]]
    # the bibliography: LaTeX gathers every citation into one "References" at the end of the article, so the book's
    # references page (a heading over the bibliography directive) would leave an empty section; its directive moves
    # into the appendices' opening page instead
    body = [toc["root"], *(chapter["file"] for part in toc.get("parts", []) if part.get("caption") == BODY_PART
                           for chapter in part["chapters"])]
    references = [name for name in chapters if not name.startswith("book/generated/")
                  and "{bibliography}" in (source / f"{name}.md").read_text(encoding="utf-8")]
    appendices = [name for name in chapters if name not in body and not name.startswith("book/generated/") and name not in references]
    # the study's source block is on the title page: the summary does not print it a second time
    summary = source / f"{toc['root']}.md"
    summary.write_text(summary.read_text(encoding="utf-8").replace(SOURCE_BLOCK_INCLUDE, ""), encoding="utf-8")
    # LaTeX drops the root page's own text, so the summary becomes the first section under an empty root
    (source / "book" / "pdf_root.md").write_text("# Report\n")
    toc["root"] = "book/pdf_root"
    (source / "book" / "pdf_appendices.md").write_text(
        "# Appendices\n\nThe chapters that follow the report's body, which the HTML edition shows as chapters of their own. The "
        "computation notebooks are in the HTML edition only.\n"
        + ("\n```{bibliography}\n```\n" if references else ""))
    for name in appendices:  # each appendix keeps its figures: pending floats are placed before it starts
        chapter = source / f"{name}.md"
        chapter.write_text(FLOAT_BARRIER + chapter.read_text(encoding="utf-8"), encoding="utf-8")
    toc["parts"] = [{"caption": BODY_PART, "chapters": [{"file": name} for name in body]},
                    {"caption": "Appendices", "chapters": [{"file": "book/pdf_appendices",
                                                            "sections": [{"file": name} for name in appendices]}]}]
    (source / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))
    config = yaml.safe_load((source / "_config.yml").read_text())
    # the notebooks stay in the Sphinx project (their glue is read from them) but in no table of contents, so the
    # LaTeX leaves them out; the included MyST blocks are not documents of their own
    config["only_build_toc_files"] = False
    config["exclude_patterns"] = [*config.get("exclude_patterns", []), "book/generated/*/markdown/*"]
    block_file = source / "book" / "generated" / "patients" / "markdown" / "source_block.md"
    block = markdown_to_latex(block_file.read_text()) if block_file.is_file() else ""
    elements = config.setdefault("sphinx", {}).setdefault("config", {}).setdefault("latex_elements", {})
    elements.update({
        "maketitle": title_page(config["title"], block, _datetime.date.today().isoformat(), f"{__version__} (commit {git_commit()[:12]})"),
        "papersize": "a4paper", "pointsize": "10pt", "extraclassoptions": "openany,oneside",
        "preamble": PREAMBLE + metadata(config["title"], config.get("author", ""), SUBJECT),
        "figure_align": "!htbp",  # here if it fits at all (see the float fractions of the preamble)
        "sphinxsetup": "HeaderFamily=\\rmfamily\\bfseries",  # headings in the body's serif face
    })
    # Sphinx writes the title and author into \title{} and \author{} as LaTeX (jupyter-book takes them from the
    # configuration's own keys): the study's text is escaped first; the title page and metadata above escape their own
    title, author = latex_escape(config["title"]), latex_escape(config.get("author", ""))
    config["title"], config["author"] = title, author
    config["sphinx"]["config"]["latex_documents"] = [[toc["root"], "report.tex", title, author, "howto", True]]
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    try:
        run_logged([jupyter_book(), "build", str(source), "--builder", "pdflatex", "--path-output", str(book_dir / "pdf"), "--quiet"],
                   "jupyter-book build (pdflatex)", log)
    except BookError as error:
        raise BookError(f"{error}\nLaTeX errors:\n{latex_errors(book_dir / 'pdf' / '_build' / 'latex' / 'report.log')}") from None
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(book_dir / "pdf" / "_build" / "latex" / "report.pdf", target / "report.pdf")
    return target / "report.pdf"


def latex_errors(log: Path, context: int = 3) -> str:
    """The ``!`` error lines of a LaTeX log, each with a few lines of context."""
    if not log.is_file():
        return "(no LaTeX log)"
    lines = log.read_text(errors="replace").splitlines()
    found = [index for index, line in enumerate(lines) if line.startswith("!")]
    return "\n".join("\n".join(lines[index:index + context]) for index in found[:10]) or "(no error lines in the log)"

