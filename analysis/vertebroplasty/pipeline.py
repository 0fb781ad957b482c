"""Build the report: validate, execute the notebooks with papermill, assemble the book.

Everything is built in a staging folder beside ``OUT`` and moved into place
only when every step succeeded, so a failed build never leaves a report that
looks complete.  The input file is only read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

from . import paths
from .cohort import file_sha256, load_cohort

#: Analysis notebooks, in reading order.  They are independent of each other
#: (each reads and validates the cohort itself), so they run in parallel.
NOTEBOOKS = ("cohort", "group_comparison", "cement_distribution", "case_presentations", "reanalysis", "audit")
#: Rough execution time of each notebook on the default cohort (seconds, this machine), for scheduling only.
EXPECTED_SECONDS = {"reanalysis": 6, "group_comparison": 4.5, "cement_distribution": 4, "audit": 4, "case_presentations": 3.5, "cohort": 3}
MARKER = ".vertebroplasty-report"
BOOK_SOURCES = ("_config.yml", "_toc.yml", "_static", "book")
KERNEL = "python3"


class BuildError(RuntimeError):
    """A step of the build failed; OUT was left as it was."""


def kernel_environment() -> None:
    """Make ``vertebroplasty`` importable in every kernel papermill starts (kernels inherit the environment).

    papermill's ``cwd`` option is not used: it changes the working folder of the
    whole process, which is not safe while notebooks run in parallel threads.
    The notebooks use absolute paths (:mod:`vertebroplasty.paths`) only.
    """
    entries = [str(paths.ANALYSIS)] + [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e and e != str(paths.ANALYSIS)]
    os.environ["PYTHONPATH"] = os.pathsep.join(entries)


def _log(message: str) -> None:
    print(f"[report] {message}", flush=True)


def notebook_parameters(data_path: Path, alpha: float, tests: str, case_ids: str,
                        allowed_identifier_columns: tuple[str, ...], source_name: str) -> dict:
    """The papermill parameters every analysis notebook takes (``output_dir`` is added per run)."""
    return {
        "data_path": str(data_path),
        "alpha": float(alpha),
        "tests": tests,
        "case_ids": case_ids,
        "allowed_identifier_columns": ",".join(allowed_identifier_columns),
        "data_label": source_name,
    }


def _source_digest() -> str:
    """Digest of the analysis code a notebook result depends on (module and notebooks)."""
    digest = hashlib.sha256()
    for path in sorted(paths.PACKAGE.glob("*.py")) + sorted(paths.ANALYSIS.glob("*.ipynb")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for path in (paths.DATA_DICTIONARY, paths.DERIVED_INDICES, paths.PUBLISHED_VALUES):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def notebook_key(name: str, parameters: dict) -> str:
    """What a notebook's result depends on: its name, the analysis code and notebooks, the data (SHA-256) and parameters."""
    material = json.dumps({"notebook": name, "parameters": parameters, "code": _source_digest()}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def book_sources_digest() -> str:
    """Digest of the book's own sources (chapters, configuration, static files)."""
    digest = hashlib.sha256()
    for name in BOOK_SOURCES:
        origin = paths.ROOT / name
        files = sorted(p for p in origin.rglob("*") if p.is_file() and "generated" not in p.parts) if origin.is_dir() else [origin]
        for path in files:
            digest.update(str(path.relative_to(paths.ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


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


def execute_notebook(name: str, parameters: dict, target: Path, destinations: dict[str, Path], cache_dir: Path | None,
                     key: str | None = None) -> str:
    """Execute ``analysis/<name>.ipynb`` with papermill into ``target``; reuse a cached run when nothing changed.

    The notebook writes its files into a private folder (``results/``, ``figures/``);
    each subfolder is then copied to ``destinations[subfolder]``.  The cache key is
    the content of the analysis code and notebooks, the input data (by the SHA-256
    in ``parameters['data_sha256']``) and every other parameter; a cache entry
    holds the executed notebook and the files it wrote.  Returns ``"executed"`` or
    ``"cached"``.
    """
    import papermill

    entry = cache_dir / f"{name}-{key or notebook_key(name, parameters)}" if cache_dir else None
    how = "cached"
    if entry is None or not (entry / "notebook.ipynb").is_file():
        how = "executed"
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir or target.parent))
        run_parameters = {k: v for k, v in parameters.items() if k != "data_sha256"}
        run_parameters["output_dir"] = str(scratch / "files")
        papermill.execute_notebook(str(paths.ANALYSIS / f"{name}.ipynb"), str(scratch / "notebook.ipynb"),
                                   parameters=run_parameters, kernel_name=KERNEL,
                                   progress_bar=False, log_output=False)
        (scratch / "files").mkdir(exist_ok=True)
        if entry is None:
            entry = scratch
        elif entry.exists():  # another build stored the same entry meanwhile
            shutil.rmtree(scratch)
        else:
            os.replace(scratch, entry)
    shutil.copyfile(entry / "notebook.ipynb", target)
    for subfolder, destination in destinations.items():
        if (entry / "files" / subfolder).is_dir():
            shutil.copytree(entry / "files" / subfolder, destination, dirs_exist_ok=True)
    if cache_dir is None:
        shutil.rmtree(entry)
    return how


def merge_statistics(results: Path) -> None:
    """Concatenate the per-notebook ``statistics-*.csv`` parts into ``statistics.csv``."""
    parts = sorted(results.glob("statistics-*.csv"))
    if not parts:
        return
    merged = pd.concat([pd.read_csv(part, dtype={"value": str}, keep_default_na=False) for part in parts], ignore_index=True)
    merged.to_csv(results / "statistics.csv", index=False, lineterminator="\n")
    for part in parts:
        part.unlink()


def copy_mathjax(target: Path) -> None:
    """Put MathJax 3 (single-file SVG build, from the django-static-mathjax wheel) into the book's static files.

    ``_config.yml`` points ``mathjax_path`` at it, so the report's math renders without a network.
    """
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg.js"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / "tex-svg.js")


def _replace_folder(new: Path, out: Path) -> None:
    """Move ``new`` to ``out``; an existing ``out`` must be an earlier report (it carries the marker)."""
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists()):
            raise BuildError(f"{out} exists and is not a report folder made by this package; choose another OUT")
        retired = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, retired)
        os.replace(new, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(new, out)


def _run(command: list[str], what: str, log: Path) -> None:
    with open(log, "w") as handle:
        completed = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-40:])
        raise BuildError(f"{what} failed (exit {completed.returncode}); last lines of its log:\n{tail}")


def build_report(data: str = "", out: str | Path = paths.DEFAULT_OUTPUT, allowed_identifier_columns: tuple[str, ...] = (),
                 case_ids: str = "", tests: str = "paper", alpha: float = 0.05, pdf: bool = False,
                 cache: bool = True) -> Path:
    """Validate ``data``, execute the notebooks and build the book into ``out``.

    ``out`` receives ``html/`` (the report), ``results/`` (tidy CSV files) and,
    with ``pdf=True``, ``pdf/report.pdf``.  Raises
    :class:`~vertebroplasty.cohort.CohortValidationError` before anything is
    written when the data break the contract, and :class:`BuildError` when a
    later step fails; ``out`` is then left untouched.
    """
    started = time.perf_counter()
    kernel_environment()
    source = paths.resolve_data_path(data)
    cohort = load_cohort(source, allowed_identifier_columns)
    for notice in cohort.notices:
        _log(f"notice: {notice}")
    _log(f"{source.name}: {len(cohort.data)} patients, sha256 {cohort.sha256[:12]}…")

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    parameters = notebook_parameters(source, alpha, tests, case_ids, allowed_identifier_columns, source.name)
    parameters["data_sha256"] = cohort.sha256
    keys = {name: notebook_key(name, parameters) for name in NOTEBOOKS}
    build_key = hashlib.sha256(json.dumps([keys, book_sources_digest(), pdf], sort_keys=True).encode()).hexdigest()
    if cache and (out / MARKER).is_file() and f"build-key: {build_key}" in (out / MARKER).read_text() and \
            (out / "html" / "index.html").is_file() and (not pdf or (out / "pdf" / "report.pdf").is_file()):
        _log(f"nothing changed since the last build of {out}; kept as it is ({time.perf_counter() - started:.1f} s)")
        return out

    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        book_root = staging / "source"
        book_root.mkdir()
        for name in BOOK_SOURCES:
            origin = paths.ROOT / name
            if origin.is_dir():
                shutil.copytree(origin, book_root / name, ignore=shutil.ignore_patterns("generated"))
            else:
                shutil.copyfile(origin, book_root / name)
        copy_mathjax(book_root / "_static" / "mathjax")
        generated = book_root / "book" / "generated"
        generated.mkdir()
        final = staging / "final"
        results = final / "results"
        results.mkdir(parents=True)

        cache_dir = paths.ROOT / ".cache" / "notebooks" if cache else None
        if cache_dir:
            cache_dir.mkdir(parents=True, exist_ok=True)
        workers = max(1, min(len(NOTEBOOKS), os.cpu_count() or 1))
        _log(f"executing {len(NOTEBOOKS)} notebooks with papermill ({workers} at a time)")
        destinations = {"results": results, "figures": generated / "figures", "markdown": generated / "markdown"}

        def run(name: str) -> tuple[str, str, float]:
            begun = time.perf_counter()
            how = execute_notebook(name, parameters, generated / f"{name}.ipynb", destinations, cache_dir, keys[name])
            return name, how, time.perf_counter() - begun

        executed = []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # the slowest notebooks start first, so the cores stay busy until the end
            futures = [pool.submit(run, name) for name in sorted(NOTEBOOKS, key=lambda name: -EXPECTED_SECONDS.get(name, 0))]
            for done, future in enumerate(as_completed(futures), start=1):
                name, how, seconds = future.result()
                _log(f"  [{done}/{len(NOTEBOOKS)}] {name}: {how} ({seconds:.1f} s)")
                executed += [name] if how == "executed" else []
        merge_statistics(results)

        # The book is built in a folder kept per OUT, so that Sphinx rebuilds only changed pages.  Pages paste
        # numbers from the notebooks, a dependency Sphinx does not track: when any notebook result may have
        # changed, the folder is emptied and the whole book is built again.
        book_dir = paths.ROOT / ".cache" / "book" / hashlib.sha256(str(out).encode()).hexdigest()[:16] if cache else staging / "book"
        state = book_dir / "notebooks.json"
        incremental = not executed and state.is_file() and state.read_text() == json.dumps(keys, sort_keys=True)
        if not incremental and book_dir.exists():
            shutil.rmtree(book_dir)
        sync_tree(book_root, book_dir / "source")
        _log(f"building the HTML book with jupyter-book ({'changed pages only' if incremental else 'all pages'})")
        jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
        _run([jupyter_book, "build", str(book_dir / "source"), "--builder", "html", "--path-output", str(book_dir), "-W", "-n",
              "--keep-going", "--quiet"], "jupyter-book build (html)", staging / "html-build.log")
        shutil.copytree(book_dir / "_build" / "html", final / "html")
        if pdf:
            from .pdf import build_pdf

            _log("building the PDF with LaTeX")
            build_pdf(book_dir / "source", book_dir, final / "pdf", _run, synthetic=cohort.sha256 == file_sha256(paths.DEFAULT_COHORT),
                      data_label=source.name, sha256=cohort.sha256)
            sync_tree(book_root, book_dir / "source")  # undo the PDF's title-page edit of _config.yml
        state.write_text(json.dumps(keys, sort_keys=True))
        (final / MARKER).write_text(f"made by python -m vertebroplasty report; safe to delete\nbuild-key: {build_key}\n")
        _replace_folder(final, out)
    except BaseException:
        _log("build failed; the output folder was left unchanged")
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _log(f"done in {time.perf_counter() - started:.1f} s: {out / 'html' / 'index.html'}")
    return out


def refresh_committed_notebooks() -> None:
    """Re-execute ``analysis/*.ipynb`` in place on the default cohort, storing their outputs.

    The stored outputs are what ``pytest --nbval`` compares against: run this
    deliberately after a change of code, data or library that changes results,
    and review the diff of the notebooks before committing it.
    """
    import papermill

    kernel_environment()
    for name in NOTEBOOKS:
        notebook = paths.ANALYSIS / f"{name}.ipynb"
        _log(f"refreshing {notebook.relative_to(paths.ROOT)}")
        papermill.execute_notebook(str(notebook), str(notebook), kernel_name=KERNEL, progress_bar=False)
        strip_volatile_metadata(notebook)


def strip_volatile_metadata(notebook: Path) -> None:
    """Remove run times and papermill timing from a stored notebook so refreshes diff cleanly."""
    content = json.loads(notebook.read_text())
    content["metadata"].pop("papermill", None)
    for cell in content["cells"]:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")
