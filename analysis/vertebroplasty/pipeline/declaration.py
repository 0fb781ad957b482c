"""The declared pipeline (``analysis/pipeline.toml``): the notebooks, their inputs and outputs, and the checks on them."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from vertebroplasty import paths

#: Inputs that are not files: the validated cohort and the study description (keyed by their SHA-256).
SPECIAL_INPUTS = ("cohort", "study")
#: Parameters that are paths of this build: left out of cache keys (the content they point to is keyed instead).
PATH_PARAMETERS = ("cohort_path", "study_path", "output_dir", "inputs_dir")
OUTPUT_FOLDERS = {"results": "results", "intermediates": "results", "markdown": "markdown", "figures": "figures"}
SUFFIXES = {"markdown": ".md", "figures": ".png"}


class PipelineError(RuntimeError):
    """The declaration, a chapter or a notebook run breaks the pipeline's contract."""


@dataclass(frozen=True)
class Notebook:
    """One declared notebook."""

    name: str
    title: str
    reads: tuple[str, ...]
    parameters: tuple[str, ...]
    after: tuple[str, ...]
    results: tuple[str, ...]
    intermediates: tuple[str, ...]
    markdown: tuple[str, ...]
    figures: tuple[str, ...]
    glue: tuple[str, ...]
    #: ``always``; ``multicentre`` (runs and shows only for several centres); ``published`` (its page shows only
    #: beside the published source study)
    when: str = "always"
    folder: Path = paths.ANALYSIS

    @property
    def page(self) -> str:
        """The notebook's page in the book's table of contents."""
        return f"book/generated/{self.name}"

    @property
    def source(self) -> Path:
        """The executable notebook (paired with ``analysis/notebooks/<name>.py``)."""
        return self.folder / f"{self.name}.ipynb"

    @property
    def text_source(self) -> Path:
        return self.folder / "notebooks" / f"{self.name}.py"

    def files(self) -> set[str]:
        """Every file the notebook declares, relative to its output folder."""
        declared = set()
        for kind, folder in OUTPUT_FOLDERS.items():
            declared |= {f"{folder}/{name}{SUFFIXES.get(kind, '')}" for name in getattr(self, kind)}
        return declared

    def declares_glue(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.glue) or key in self.markdown or key in self.figures


WHEN = ("always", "multicentre", "published")


@dataclass(frozen=True)
class BookLayout:
    """The chapters that depend on the data (``[book]`` of ``analysis/pipeline.toml``), with the notebooks' pages."""

    multicentre: tuple[str, ...]
    published: tuple[str, ...]
    summaries_root: str
    summaries_parts: dict[str, list[str]]


def book_layout(path: Path = paths.PIPELINE) -> BookLayout:
    """Chapters shown only for several centres, only beside the published study, and the pages of a report pooled from
    summaries — each list followed by the pages of the notebooks declared ``when`` so."""
    content = tomllib.loads(path.read_text(encoding="utf-8"))
    book, notebooks = content["book"], load(path)

    def pages(when: str) -> tuple[str, ...]:
        return tuple(notebook.page for notebook in notebooks.values() if notebook.when == when)

    parts = {caption: list(names) for caption, names in book["summaries_parts"].items()}
    parts["Computation notebooks"] = list(pages("multicentre"))
    return BookLayout(tuple(book["multicentre_chapters"]) + pages("multicentre"), tuple(book["published_chapters"]) + pages("published"),
                      book["summaries_root"], parts)


def load(path: Path = paths.PIPELINE) -> dict[str, Notebook]:
    """The declared notebooks, by name, checked for consistency (see :func:`check_declaration`)."""
    content = tomllib.loads(path.read_text(encoding="utf-8"))
    notebooks = {name: Notebook(name=name, **{key: tuple(value) if isinstance(value, list) else value for key, value in entry.items()})
                 for name, entry in content["notebooks"].items()}
    check_declaration(notebooks)
    return notebooks


def order(notebooks: dict[str, Notebook]) -> list[str]:
    """The notebooks in an order that respects ``after`` (Kahn's algorithm; name order among equals)."""
    done: list[str] = []
    waiting = dict(notebooks)
    while waiting:
        ready = sorted(name for name, notebook in waiting.items() if all(before in done for before in notebook.after))
        if not ready:
            raise PipelineError(f"the notebooks {sorted(waiting)} wait for each other (a cycle in 'after')")
        done += ready
        for name in ready:
            waiting.pop(name)
    return done


def check_declaration(notebooks: dict[str, Notebook]) -> None:
    """Refuse a declaration with unknown dependencies, cycles, missing input files or two writers of one result."""
    problems = []
    writers: dict[str, str] = {}
    for notebook in notebooks.values():
        if notebook.when not in WHEN:
            problems.append(f"{notebook.name}: 'when' is {notebook.when!r}; it must be one of {', '.join(WHEN)}")
        for before in notebook.after:
            if before not in notebooks:
                problems.append(f"{notebook.name}: 'after' names an unknown notebook {before!r}")
        for read in notebook.reads:
            if read not in SPECIAL_INPUTS and not (paths.ROOT / read).is_file():
                problems.append(f"{notebook.name}: reads {read!r}, which does not exist")
        for result in notebook.results:
            if result in writers:
                problems.append(f"results/{result} is written by both {writers[result]} and {notebook.name}")
            writers[result] = notebook.name
    if problems:
        raise PipelineError("analysis/pipeline.toml:\n" + "\n".join(f"  - {p}" for p in problems))
    order(notebooks)


# --------------------------------------------------------------------------- chapters

REFERENCE_PATTERNS = {
    "glue": re.compile(r"\{glue:[a-z]+\}`generated/(?P<notebook>[a-z_]+)\.ipynb::(?P<name>[A-Za-z0-9_]+)(?::[^`]*)?`"),
    "markdown": re.compile(r"\{include\}\s+generated/(?P<notebook>[a-z_]+)/markdown/(?P<name>[A-Za-z0-9_]+)\.md"),
    "figures": re.compile(r"\{figure\}\s+generated/(?P<notebook>[a-z_]+)/figures/(?P<name>[A-Za-z0-9_]+)\.png"),
}


@dataclass(frozen=True)
class Reference:
    chapter: str
    kind: str
    notebook: str
    name: str


def chapter_references(book: Path = paths.ROOT / "book") -> list[Reference]:
    """Every glue key, included MyST block and figure the chapters use."""
    found = []
    for chapter in sorted(book.glob("*.md")):
        text = chapter.read_text(encoding="utf-8")
        for kind, pattern in REFERENCE_PATTERNS.items():
            found += [Reference(chapter.name, kind, match["notebook"], match["name"]) for match in pattern.finditer(text)]
    return found


def check_references(notebooks: dict[str, Notebook], references: list[Reference]) -> None:
    """Every reference of a chapter names a declared notebook and one of its declared outputs."""
    problems = []
    for reference in references:
        notebook = notebooks.get(reference.notebook)
        if notebook is None:
            problems.append(f"book/{reference.chapter}: {reference.kind} {reference.name!r} from undeclared notebook {reference.notebook!r}")
        elif reference.kind == "glue" and not notebook.declares_glue(reference.name):
            problems.append(f"book/{reference.chapter}: glue key {reference.name!r} is not declared by {reference.notebook}")
        elif reference.kind != "glue" and reference.name not in getattr(notebook, reference.kind):
            problems.append(f"book/{reference.chapter}: {reference.kind} {reference.name!r} is not declared by {reference.notebook}")
    if problems:
        raise PipelineError("chapters use outputs no notebook declares:\n" + "\n".join(f"  - {p}" for p in problems))


# --------------------------------------------------------------------------- after a run

def glued_keys(executed: Path) -> set[str]:
    """The glue keys an executed notebook holds (myst-nb stores them in the outputs' ``scrapbook`` metadata)."""
    content = json.loads(executed.read_text(encoding="utf-8"))
    keys = set()
    for cell in content["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                keys.add(name)
    return keys


def check_outputs(notebook: Notebook, folder: Path, executed: Path, used: list[Reference]) -> list[str]:
    """What a finished run got wrong: missing declared files, undeclared files, declared glue families with no key,
    chapter references the run did not glue."""
    written = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()
    declared = notebook.files()
    problems = [f"declared but not written: {name}" for name in sorted(declared - written)]
    problems += [f"written but not declared: {name}" for name in sorted(written - declared)]
    keys = glued_keys(executed)
    problems += [f"declared glue {pattern!r} was never glued" for pattern in notebook.glue
                 if not any(fnmatch.fnmatchcase(key, pattern) for key in keys)]
    problems += [f"book/{ref.chapter} uses glue key {ref.name!r}, which the run did not glue" for ref in used
                 if ref.kind == "glue" and ref.notebook == notebook.name and ref.name not in keys]
    return problems


def cells_of(notebook) -> list[tuple]:
    """What a notebook runs: each cell's kind, source and tags (outputs and run metadata aside)."""
    return [(cell.cell_type, cell.source.strip(), sorted(cell.metadata.get("tags", []))) for cell in notebook.cells]


def out_of_sync(notebooks: dict[str, Notebook]) -> list[str]:
    """The notebooks whose text source (``analysis/notebooks/<name>.py``) differs from the committed ``.ipynb``."""
    import jupytext
    import nbformat

    return [name for name, notebook in notebooks.items()
            if cells_of(jupytext.read(notebook.text_source)) != cells_of(nbformat.read(notebook.source, as_version=4))]


# --------------------------------------------------------------------------- without running: sources against the declaration

#: ``out.<method>(...)`` calls of a notebook and the declaration list (and position of the name argument) they write to.
WRITERS = {"glue": ("glue", 0), "markdown": ("markdown", 0), "figure": ("figures", 0), "results": ("results", 1),
           "table": ("intermediates", 1)}


def written_names(source: str) -> list[tuple[str, str, int]]:
    """``(kind, name pattern, line)`` of every ``out.<writer>(...)`` call of a notebook's code; an f-string's
    formatted parts become ``*`` (``f"forest_{variable}"`` → ``forest_*``).

    >>> written_names('out.glue("n_patients", 83)\\nout.results(frame, "flow.csv")\\nout.figure(f"forest_{v}", fig)')
    [('glue', 'n_patients', 1), ('results', 'flow.csv', 2), ('figures', 'forest_*', 3)]
    """
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITERS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "out"):
            continue
        kind, position = WRITERS[node.func.attr]
        if len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            pattern = argument.value
        elif isinstance(argument, ast.JoinedStr):
            pattern = "".join(part.value if isinstance(part, ast.Constant) else "*" for part in argument.values)
        else:
            pattern = "*"
        found.append((kind, pattern, node.lineno))
    return sorted(found, key=lambda item: item[2])


def static_problems(notebooks: dict[str, Notebook]) -> list[str]:
    """Without running anything: each notebook's ``parameters`` cell names exactly its declared parameters, every
    output its code writes is declared, and every declared output is written somewhere in its code."""
    import jupytext

    problems = []
    for name, notebook in notebooks.items():
        cells = jupytext.read(notebook.text_source).cells
        parameter_cells = [cell for cell in cells if "parameters" in cell.metadata.get("tags", [])]
        if len(parameter_cells) != 1 or cells.index(parameter_cells[0]) > 2:
            problems.append(f"{name}: the notebook needs one cell tagged 'parameters', at its top")
        else:
            import ast

            assigned = [target.id for node in ast.parse(parameter_cells[0].source).body
                        for target in ([node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", []))
                        if isinstance(target, ast.Name)]
            for missing in sorted(set(notebook.parameters) - set(assigned)):
                problems.append(f"{name}: parameter {missing!r} is declared but not in the notebook's parameters cell")
            for extra in sorted(set(assigned) - set(notebook.parameters)):
                problems.append(f"{name}: parameter {extra!r} of the notebook's parameters cell is not declared")
        code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
        written = written_names(code)
        for kind, pattern, line in written:
            declared = [f"{item.removesuffix('.parquet')}" for item in getattr(notebook, kind)]
            if kind == "glue":
                ok = notebook.declares_glue(pattern) or any(fnmatch.fnmatchcase(pattern, item) for item in notebook.glue)
            else:
                ok = pattern in declared or any(fnmatch.fnmatchcase(item, pattern) for item in declared)
            if not ok:
                problems.append(f"{name}: writes {kind} {pattern!r} (code line {line}), which analysis/pipeline.toml does not declare")
        for kind in ("glue", "markdown", "figures", "results", "intermediates"):
            patterns = [pattern for written_kind, pattern, _ in written if written_kind == kind]
            for item in getattr(notebook, kind):
                item = item.removesuffix(".parquet") if kind == "intermediates" else item
                if not any(fnmatch.fnmatchcase(item, pattern) or fnmatch.fnmatchcase(pattern, item) for pattern in patterns):
                    problems.append(f"{name}: declares {kind} {item!r}, which its code never writes")
    return problems + layout_problems(notebooks)


def layout_problems(notebooks: dict[str, Notebook], path: Path = paths.PIPELINE) -> list[str]:
    """Every page ``[book]`` names, and every notebook's page, is a chapter of ``_toc.yml`` with a source file."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = {chapter["file"] for part in toc["parts"] for chapter in part["chapters"]}
    layout = book_layout(path)
    named = {*layout.multicentre, *layout.published, *(page for pages in layout.summaries_parts.values() for page in pages),
             *(notebook.page for notebook in notebooks.values())}
    problems = [f"[book] or a notebook names the page {page!r}, which _toc.yml does not list" for page in sorted(named - listed)]
    problems += [f"[book] names {page!r}, which has no source file" for page in sorted(named)
                 if not page.startswith("book/generated/") and not (paths.ROOT / f"{page}.md").is_file()]
    if not (paths.ROOT / layout.summaries_root).is_file():
        problems.append(f"[book] summaries_root {layout.summaries_root!r} does not exist")
    return problems
