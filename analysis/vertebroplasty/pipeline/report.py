"""Building the report: check the options, validate once, run the declared notebooks, assemble the book.

Everything is built in a staging folder beside OUT and moved into place only when every step succeeded, so a
failed or interrupted build leaves the previous report as it was.  The input files are only read.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vertebroplasty import paths
from vertebroplasty.contract import description, summary_file, validation
from vertebroplasty.contract.cohort import save_validated
from vertebroplasty.pipeline import book, cache, declaration, execute, kernels, output
from vertebroplasty.statistics import ALPHA, TEST_OPTIONS
from vertebroplasty.writing import cases


class OptionError(ValueError):
    """An option the user gave cannot be used; the message says which and why."""


def _log(message: str) -> None:
    print(paths.terminal_safe(f"[report] {message}"), flush=True)


def workers() -> int:
    """Notebooks run at a time: the CPU cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def study_file(source: Path, study: str, synthetic: bool) -> Path | None:
    """The study description to use: ``study``; else ``study.yml`` in a folder of centre files; else the source study's
    for the synthetic default cohort; else none."""
    if study:
        return Path(study).expanduser().resolve()
    if source.is_dir() and (source / "study.yml").is_file():
        return source / "study.yml"
    return paths.DEFAULT_STUDY if synthetic else None


PUBLISHED_OPTIONS = ("yes", "no")


def check_options(tests: str, published: str = "") -> None:
    if published and published not in PUBLISHED_OPTIONS:
        raise OptionError(f"PUBLISHED={published} is not an option; use yes (add the comparison with the published source study) "
                          "or no (leave it out)")
    if tests not in TEST_OPTIONS:
        raise OptionError(f"TESTS={tests} is not an option; use one of: {', '.join(TEST_OPTIONS)}")


@dataclass
class Plan:
    """Everything a build will do, decided and checked before any notebook runs (:func:`plan`)."""

    out: Path
    source: Path
    notebooks: dict[str, declaration.Notebook]
    references: list
    parameters: dict
    inputs: dict[str, str]  # SHA-256 of the special inputs the cache keys use: "cohort", "study"
    write_input: Callable[[Path], Path]  # writes what the notebooks read (cohort Parquet or gathered summaries) into staging
    multicentre: bool
    with_paper: bool
    synthetic: bool
    study_description: description.StudyDescription
    pdf: bool
    from_summaries: bool = False


def build_report(data: str = "", out: str | Path = paths.DEFAULT_OUTPUT, allowed_identifier_columns: tuple[str, ...] = (),
                 case_ids: str = "", tests: str = "paper", pdf: bool = False, study: str = "",
                 use_cache: bool = True, published: str = "", min_cell: int | None = None) -> Path:
    """Validate ``data``, execute the notebooks and build the book into ``out``: :func:`plan`, then :func:`execute`.

    ``out`` receives ``html/`` (the report), ``results/`` (tidy CSV files) and, with ``pdf=True``, ``pdf/report.pdf``.
    ``data`` is a cohort file, a folder of centre files, or a folder of centre summaries (``*.summary.json``, written
    by ``make summary``), from which the multicentre chapter alone is built (``min_cell``: the coordinator's disclosure
    threshold, when higher than the files' own).  ``published`` (``yes``/``no``; empty:
    yes for the synthetic default data, no for a user's own) adds the chapters on the published source study.
    """
    started = time.perf_counter()
    planned = plan(data, out, allowed_identifier_columns, case_ids, tests, pdf, study, published, min_cell)
    return execute_plan(planned, use_cache, started)


def plan(data: str = "", out: str | Path = paths.DEFAULT_OUTPUT, allowed_identifier_columns: tuple[str, ...] = (),
         case_ids: str = "", tests: str = "paper", pdf: bool = False, study: str = "",
         published: str = "", min_cell: int | None = None) -> Plan:
    """Every check a user's options and files can fail, made at once and before any notebook runs."""
    check_options(tests, published)
    out = output.check_output_folder(out)
    source = paths.resolve_data_path(data)
    if summary_file.is_summary_folder(source):
        return _plan_from_summaries(source, out, allowed_identifier_columns, case_ids, tests, pdf, study, published, min_cell)
    if min_cell is not None:
        raise OptionError("MIN_CELL applies to centre summaries (make summary, or make report on a folder of *.summary.json); "
                          f"{source.name} holds patient rows")
    validated = validation.load_cohort(source, allowed_identifier_columns)
    for notice in validated.notices:
        _log(f"notice: {notice}")
    synthetic = validated.sha256 == validation.file_sha256(paths.DEFAULT_COHORT)
    study_path = study_file(source, study, synthetic)
    study_description = description.load(study_path)  # refuse a broken description now
    with_paper = synthetic if not published else published == "yes"
    if case_ids.strip():
        try:
            cases.check_case_ids(validated.data, case_ids)
        except ValueError as error:
            raise OptionError(str(error)) from None
        named = [item.strip() for item in case_ids.split(",") if item.strip()]
        if not named:
            raise OptionError(f"CASE_IDS={case_ids} names no patient; give patient_ids separated by commas, or leave it out")
        repeated = sorted({item for item in named if named.count(item) > 1})
        if repeated:
            raise OptionError(f"CASE_IDS names {', '.join(repeated)} more than once; each patient is presented once")
    centres = validated.data["centre"].nunique() if "centre" in validated.data else 1
    several = f", {centres} centres" if centres > 1 else ""
    _log(f"{paths.shown(source.name)}: {len(validated.data)} patients{several}, sha256 {validated.sha256[:12]}…")
    declared, references = _declared()
    notebooks = {name: notebook for name, notebook in declared.items() if notebook.when != "multicentre" or centres > 1}

    def write_input(staging: Path) -> Path:
        written = save_validated(validated, staging / "cohort.parquet", source.name)
        validated.data = validated.data.iloc[:0]  # the notebooks read the Parquet copy: free the memory for their kernels
        gc.collect()
        return written

    parameters = {"data_label": source.name, "alpha": ALPHA, "tests": tests, "case_ids": case_ids,
                  "study_path": str(study_path or "")}
    inputs = {"cohort": validated.sha256, "study": validation.file_sha256(study_path) if study_path else ""}
    return Plan(out, source, notebooks, references, parameters, inputs, write_input, centres > 1, with_paper, synthetic,
                study_description, pdf)


def _plan_from_summaries(source: Path, out: Path, allowed_identifier_columns: tuple[str, ...], case_ids: str, tests: str,
                         pdf: bool, study: str, published: str, min_cell: int | None) -> Plan:
    """A folder of centre summaries: the multicentre chapter alone, from aggregates (no patient row exists here)."""
    needs_rows = [option for option, given in (("CASE_IDS", case_ids.strip()), ("TESTS=robust", tests == "robust"),
                                               ("PUBLISHED=yes", published == "yes"), ("STUDY", study),
                                               ("ALLOW_COLUMNS", allowed_identifier_columns)) if given]
    if needs_rows:
        raise OptionError(f"{', '.join(needs_rows)}: not available for a report built from centre summaries — they need "
                          "patient rows or the full report, and a summary has neither; leave them out")
    gathered = summary_file.read_folder(source, min_cell)
    text = summary_file.gathered_text(gathered)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    patients = int(gathered.sources[["patients_A", "patients_B"]].to_numpy().sum())
    _log(f"{paths.shown(source.name)}: summaries of {len(gathered.sources)} centres ({patients} patients), no patient rows")
    declared, references = _declared()

    def write_input(staging: Path) -> Path:
        (staging / "centres.summaries.json").write_text(text, encoding="utf-8")
        return staging / "centres.summaries.json"

    parameters = {"data_label": source.name, "alpha": ALPHA, "tests": tests, "case_ids": "", "study_path": ""}
    multicentre = {name: notebook for name, notebook in declared.items() if notebook.when == "multicentre"}
    return Plan(out, source, multicentre, references, parameters, {"cohort": digest, "study": ""}, write_input,
                True, False, False, description.load(None), pdf, from_summaries=True)


def _declared() -> tuple[dict[str, declaration.Notebook], list]:
    declared = declaration.load()
    changed = declaration.out_of_sync(declared)
    if changed:
        raise OptionError(f"{', '.join(f'analysis/notebooks/{name}.py' for name in changed)} changed since the notebook was last "
                          "executed: run `make refresh` (it syncs and re-executes the notebooks), then build again")
    references = declaration.chapter_references()
    declaration.check_references(declared, references)
    return declared, references


def execute_plan(planned: Plan, use_cache: bool = True, started: float | None = None) -> Path:
    """Run the planned notebooks (cached where nothing changed), assemble the book and put it into place in one step."""
    started = time.perf_counter() if started is None else started
    out, notebooks = planned.out, planned.notebooks
    cache_root = paths.cache_root() if use_cache else None
    notebook_cache = cache.NotebookCache(cache_root)
    cached = [notebook_cache.folder, cache_root / "book"] if cache_root else []
    for leftover in [path for folder in (out.parent, *cached) for path in output.remove_abandoned(folder)]:
        _log(f"removed {leftover.name}, left by a build that was stopped")
    keys: dict[str, str] = {}
    for name in declaration.order(notebooks):
        keys[name] = cache.notebook_key(notebooks[name], planned.parameters, planned.inputs, keys)
    build_key = hashlib.sha256(json.dumps([keys, _book_digest(), planned.pdf, planned.with_paper, planned.from_summaries],
                                          sort_keys=True).encode()).hexdigest()
    if use_cache and output.build_key_of(out) == build_key and (out / "html" / "index.html").is_file():
        _log(f"nothing changed since the last build of {out}; kept as it is ({time.perf_counter() - started:.1f} s)")
        return out

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-{os.getpid()}-", dir=out.parent))
    try:
        inputs = staging / "notebooks"
        runner = execute.Runner(notebook_cache, staging, inputs)
        try:
            if runner.server is not None and any(notebook_cache.entry(name, keys[name]) is None for name in notebooks):
                runner.server.start()  # its imports overlap with writing the cohort's copy
            cohort_path = planned.write_input(staging)
            run_parameters = {name: {**planned.parameters, "cohort_path": str(cohort_path), "inputs_dir": str(inputs)}
                              for name in notebooks}
            _log(f"running {len(notebooks)} notebook{'s' if len(notebooks) > 1 else ''} with papermill ({workers()} at a time)")
            runs = execute.run_all(notebooks, keys, run_parameters, runner, workers(), log=_log)
        finally:
            runner.close()
        problems = {name: declaration.check_outputs(notebooks[name], run.entry / "files", run.entry / "notebook.ipynb", planned.references)
                    for name, run in runs.items()}
        problems = {name: found for name, found in problems.items() if found}
        if problems:
            raise declaration.PipelineError("notebook outputs differ from analysis/pipeline.toml:\n" + "\n".join(
                f"  - {name}: {p}" for name, found in problems.items() for p in found))

        final = staging / "final"
        (final / "results").mkdir(parents=True)
        sources = staging / "source"
        sources.mkdir()
        book.copy_sources(sources, multicentre=planned.multicentre, paper=planned.with_paper, synthetic=planned.synthetic)
        if planned.from_summaries:
            book.from_summaries_only(sources)
        book.set_title(sources, planned.study_description, planned.synthetic)
        for name, run in runs.items():
            book.place_outputs(notebooks[name], run.entry, sources / "book" / "generated", final / "results", run_parameters[name])
        book.place_study_references(sources)
        book_dir = _book_folder(out, staging, cache_root)
        book_state = json.dumps({"keys": keys, "paper": planned.with_paper, "summaries": planned.from_summaries}, sort_keys=True)
        incremental = all(run.how == "cached" for run in runs.values()) and (book_dir / "keys.json").is_file() and \
            (book_dir / "keys.json").read_text() == book_state
        if not incremental and book_dir.exists():  # moved aside first: a killed build's Sphinx may still be writing in it
            retired = book_dir.with_name(f".{book_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}")
            os.replace(book_dir, retired)
            shutil.rmtree(retired, ignore_errors=True)
        book.sync_tree(sources, book_dir / "source")
        _log(f"building the HTML with jupyter-book ({'changed pages only' if incremental else 'all pages'})")
        html = book.build_html(book_dir, staging / "html-build.log")
        shutil.copytree(html, final / "html")
        if planned.pdf:
            from vertebroplasty.pipeline.pdf import build_pdf

            _log("building the PDF with LaTeX")
            build_pdf(book_dir, final / "pdf", staging / "pdf-build.log")
        (book_dir / "keys.json").write_text(book_state)
        output.write_marker(final, build_key)
        output.replace(final, out)
    except BaseException as error:
        _log("stopped; the output folder was left as it was" if isinstance(error, KeyboardInterrupt) else
             "build failed; the output folder was left as it was")
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _log(f"done in {time.perf_counter() - started:.1f} s: {out / 'html' / 'index.html'}")
    if planned.pdf:
        _log(f"PDF: {out / 'pdf' / 'report.pdf'}")
    return out


def _book_digest() -> str:
    """Digest of the book's own sources (chapters, configuration, static files)."""
    digest = hashlib.sha256()
    for name in paths.BOOK_SOURCES:
        origin = paths.ROOT / name
        files = sorted(p for p in origin.rglob("*") if p.is_file() and "generated" not in p.parts) if origin.is_dir() else [origin]
        for path in files:
            digest.update(str(path.relative_to(paths.ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _book_folder(out: Path, staging: Path, cache_root: Path | None) -> Path:
    """Where Sphinx builds: kept per OUT in the cache (so a prose edit rebuilds only that page), else in the staging folder."""
    if cache_root is None:
        return staging / "book"
    return cache_root / "book" / hashlib.sha256(str(out).encode()).hexdigest()[:16]


def refresh_committed_notebooks() -> None:
    """Update ``analysis/*.ipynb`` from their text sources and re-execute them on the default data, in place.

    The stored outputs are what ``pytest --nbval`` compares against: run this deliberately after a change of code,
    data or library that changes results, and review the diff of the notebooks before committing it.  A notebook is
    executed again only when its key (:func:`refresh_key`, stored in its metadata) changed: its text source, the
    package's code, a file it reads, the default data, the installed software or the key of a notebook it runs after.
    """
    notebooks = declaration.load()
    server = kernels.new_server()
    keys: dict[str, str] = {}
    try:
        for name in declaration.order(notebooks):
            keys[name] = _refresh(notebooks[name], server, keys)
    finally:
        if server is not None:
            server.stop()


#: Where a committed notebook keeps the key of its last refresh (``metadata.vertebroplasty.refresh_key``).
REFRESH_METADATA = "vertebroplasty"


def refresh_key(notebook: declaration.Notebook, cells: list, upstream: dict[str, str]) -> str:
    """The key of a committed notebook's run: the build's cache key (:func:`cache.notebook_key`) with the notebook's
    default parameters and default data — the default cohort, the multicentre example and the source study's
    description — and the keys of the notebooks it runs after."""
    data = hashlib.sha256()
    for path in [paths.DEFAULT_COHORT, *sorted(p for p in paths.MULTICENTRE_EXAMPLE.rglob("*") if p.is_file())]:
        data.update(str(path.relative_to(paths.ROOT)).encode() + b"\0" + path.read_bytes())
    inputs = {"cohort": data.hexdigest(), "study": cache.file_digest(paths.DEFAULT_STUDY)}
    return cache.notebook_key(notebook, {}, inputs, {name: upstream[name] for name in notebook.after}, cells)


def _refresh(notebook: declaration.Notebook, server, upstream: dict[str, str]) -> str:
    """Sync one notebook from its text source and execute it if its key changed; its key."""
    import jupytext
    import nbformat
    import nbstripout
    import papermill

    paired = jupytext.read(notebook.text_source)
    for index, cell in enumerate(paired.cells):  # stable cell ids, so that a refresh changes only what changed
        cell.id = f"{notebook.name}-{index}"
    key = refresh_key(notebook, paired.cells, upstream)
    if notebook.source.is_file():
        committed = nbformat.read(notebook.source, as_version=4)
        if (committed.metadata.get(REFRESH_METADATA, {}).get("refresh_key") == key
                and declaration.cells_of(committed) == declaration.cells_of(paired)):
            _log(f"{notebook.source.relative_to(paths.ROOT)}: unchanged since its last refresh (source, code, data, software)")
            return key
    _log(f"refreshing {notebook.source.relative_to(paths.ROOT)} from {notebook.text_source.relative_to(paths.ROOT)}")
    jupytext.write(paired, notebook.source, fmt="ipynb")
    with execute.ipc_kernel(server) as manager:
        papermill.execute_notebook(str(notebook.source), str(notebook.source), kernel_name=execute.KERNEL, progress_bar=False,
                                   km=manager)
    stored = jupytext.read(notebook.source, fmt="ipynb")
    stored = nbstripout.strip_output(stored, keep_output=True, keep_count=True, keep_id=True,
                                     extra_keys=["metadata.papermill", "cell.metadata.papermill", "cell.metadata.execution"])
    stored.metadata[REFRESH_METADATA] = {"refresh_key": key}
    jupytext.write(stored, notebook.source, fmt="ipynb")
    return key
