"""Assembling the Jupyter Book from the chapters and the notebooks' outputs, and building its HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from vertebroplasty import paths
from vertebroplasty.pipeline import declaration
from vertebroplasty.pipeline.declaration import PATH_PARAMETERS, Notebook

# Which chapters depend on the data (several centres, the published study, summaries only) is declared once, in
# ``[book]`` of analysis/pipeline.toml with the notebooks' ``when`` (:func:`vertebroplasty.pipeline.declaration.book_layout`).
#: A block of a chapter shown only in a multicentre report lies between these two lines.
MULTICENTRE_BLOCK = re.compile(r"\n<!-- multicentre-only -->\n.*?\n<!-- end multicentre-only -->\n", re.DOTALL)
#: The published study's chapters on a user's data (PUBLISHED=yes) form an appendix of their own, under this caption.
PAPER_APPENDIX = "Appendix: the published source study"
#: The BibTeX of the study description's own references, written by the patients notebook (see place_study_references).
STUDY_REFERENCES = "book/study-references.bib"
#: Parameters shown on a notebook's page (the others are paths of the build).
SHOWN_PARAMETERS = ("data_label", "alpha", "tests", "case_ids")


class BookError(RuntimeError):
    """Jupyter Book (Sphinx) or LaTeX failed."""


def run_logged(command: list[str], what: str, log: Path) -> None:
    """Run a command (an argument list, never a shell), its output to ``log``; on failure raise with the log's end."""
    with open(log, "w") as handle:
        completed = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-30:])
        raise BookError(f"{what} failed (exit {completed.returncode}); last lines of its log:\n{tail}")


def jupyter_book() -> str:
    return str(Path(sys.executable).parent / "jupyter-book")


def drop_chapters(target: Path, names: tuple[str, ...]) -> None:
    """Remove chapters from the table of contents of the book in ``target`` (and their pages)."""
    toc = yaml.safe_load((target / "_toc.yml").read_text())
    for part in toc.get("parts", []):
        part["chapters"] = [chapter for chapter in part["chapters"] if chapter.get("file") not in names]
    toc["parts"] = [part for part in toc["parts"] if part["chapters"]]
    (target / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))
    for name in names:
        (target / f"{name}.md").unlink(missing_ok=True)


def paper_as_appendix(target: Path) -> None:
    """Move the chapters on the published source study into an appendix part of their own, after the report's parts."""
    toc = yaml.safe_load((target / "_toc.yml").read_text())
    chapters = [name for name in declaration.book_layout().published if not name.startswith("book/generated/")]
    moved = [chapter for part in toc["parts"] for chapter in part["chapters"] if chapter.get("file") in chapters]
    for part in toc["parts"]:
        part["chapters"] = [chapter for chapter in part["chapters"] if chapter.get("file") not in chapters]
    toc["parts"] = [part for part in toc["parts"] if part["chapters"]]
    position = next((i for i, part in enumerate(toc["parts"]) if part.get("caption") == "Computation notebooks"), len(toc["parts"]))
    toc["parts"].insert(position, {"caption": PAPER_APPENDIX, "chapters": moved})
    (target / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))


def copy_sources(target: Path, multicentre: bool, paper: bool = True, synthetic: bool = True) -> None:
    """Copy the book's sources into ``target``; without several centres, drop the multicentre chapter from the table of
    contents; without ``paper``, the chapters on the published source study; with it on a user's data, make them an appendix."""
    for name in paths.BOOK_SOURCES:
        origin = paths.ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, target / name, ignore=shutil.ignore_patterns("generated"))
        else:
            shutil.copyfile(origin, target / name)
    if not multicentre:
        drop_chapters(target, declaration.book_layout().multicentre)
        for chapter in (target / "book").glob("*.md"):
            text = chapter.read_text(encoding="utf-8")
            if MULTICENTRE_BLOCK.search(text):
                chapter.write_text(MULTICENTRE_BLOCK.sub("\n", text), encoding="utf-8")
    if not paper:
        drop_chapters(target, declaration.book_layout().published)
    elif not synthetic:
        paper_as_appendix(target)
    (target / STUDY_REFERENCES).write_text("% the study description's own references (none)\n")
    import mathjax  # MathJax 3 from the django-static-mathjax wheel: math renders without a network

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg.js"
    (target / "_static" / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / "_static" / "mathjax" / "tex-svg.js")


SUMMARIES_TITLE = "Vertebroplasty with and without fracture-haemorrhage aspiration: multicentre analysis from centre summaries"


def from_summaries_only(target: Path) -> None:
    """Make the book in ``target`` the report of a folder of centre summaries: its own summary page as the root, the
    multicentre chapter, the references and the multicentre notebook; every other page needs patient rows and goes."""
    layout = declaration.book_layout()
    shutil.copyfile(target / layout.summaries_root, target / "book" / "index.md")
    toc = yaml.safe_load((target / "_toc.yml").read_text())
    toc["parts"] = [{"caption": caption, "chapters": [{"file": name} for name in names]}
                    for caption, names in layout.summaries_parts.items()]
    (target / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))
    kept = {f"{name}.md" for names in layout.summaries_parts.values() for name in names} | {"book/index.md"}
    for page in (target / "book").glob("*.md"):
        if f"book/{page.name}" not in kept:
            page.unlink()
    config_file = target / "_config.yml"
    config = yaml.safe_load(config_file.read_text())
    config["title"] = SUMMARIES_TITLE
    config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def set_title(target: Path, study, synthetic: bool) -> None:
    """The book's title and authors from the study description (the package's own title for the default data)."""
    config_file = target / "_config.yml"
    config = yaml.safe_load(config_file.read_text())
    if study.title and not synthetic:
        config["title"] = " ".join(study.title.split())
    names = [author if isinstance(author, str) else author.name for author in study.authors]
    if names:
        config["author"] = ", ".join(" ".join(name.split()) for name in names)
    config_file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def place_study_references(target: Path) -> None:
    """Put the study description's references (BibTeX written by the patients notebook) where the bibliography reads them."""
    written = target / "book" / "generated" / "patients" / "markdown" / "study_references.md"
    if written.is_file():
        (target / STUDY_REFERENCES).write_text(written.read_text(encoding="utf-8"), encoding="utf-8")
        written.unlink()


def present(executed: Path, target: Path, parameters: dict) -> None:
    """Write a notebook for the book's computation appendix: parameters shown once and without paths, code folded.

    The default ``parameters`` cell is dropped (the run's values follow in the injected cell, which is rewritten to
    show only :data:`SHOWN_PARAMETERS`), every code cell's input is folded (``hide-input``), and papermill's run
    metadata is removed.
    """
    content = json.loads(executed.read_text(encoding="utf-8"))
    cells = []
    for cell in content["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        if "parameters" in tags:
            continue
        if "injected-parameters" in tags:
            shown = [f"{name} = {parameters[name]!r}" for name in SHOWN_PARAMETERS if name in parameters]
            hidden = [name for name in parameters if name in PATH_PARAMETERS]
            note = "# Parameters of this run" + (" (paths of the build's working files are not shown)" if hidden else "")
            cell["source"] = "\n".join([note, *shown])
        if cell["cell_type"] == "code":
            cell.setdefault("metadata", {})["tags"] = sorted(set(tags) - {"nbval-ignore-output"} | {"hide-input"})
        cells.append(cell)
    content["cells"] = cells
    content["metadata"].pop("papermill", None)
    target.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")


def place_outputs(notebook: Notebook, entry: Path, generated: Path, results: Path, parameters: dict) -> None:
    """Put one run's files where the book and the user find them: MyST and figures under ``generated/<name>/``, results flat."""
    files = entry / "files"
    for folder in ("markdown", "figures"):
        if (files / folder).is_dir():
            shutil.copytree(files / folder, generated / notebook.name / folder)
    for name in notebook.results:
        shutil.copyfile(files / "results" / name, results / name)
    present(entry / "notebook.ipynb", generated / f"{notebook.name}.ipynb", parameters)


def sync_tree(source: Path, target: Path) -> None:
    """Make ``target`` a copy of ``source``, rewriting only files whose bytes differ (Sphinx then rebuilds only those)."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = {path.relative_to(source) for path in source.rglob("*")}
    for path in sorted(target.rglob("*"), reverse=True):
        if path.relative_to(target) not in wanted:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for relative in sorted(wanted):
        origin, copy = source / relative, target / relative
        if origin.is_dir():
            copy.mkdir(parents=True, exist_ok=True)
        elif not copy.is_file() or copy.read_bytes() != origin.read_bytes():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, copy)


def build_html(book_dir: Path, log: Path) -> Path:
    """Build the HTML with Jupyter Book (warnings are errors; the notebooks are not executed again)."""
    run_logged([jupyter_book(), "build", str(book_dir / "source"), "--builder", "html", "--path-output", str(book_dir), "-W", "-n",
                "--keep-going", "--quiet"], "jupyter-book build (html)", log)
    return book_dir / "_build" / "html"
