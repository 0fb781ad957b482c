"""`make bench`: build times, scaling of the analysis and reconstruction time, as `name: value unit` lines.

Every figure is the median of BENCH_RUNS runs (default 3).  Run on an otherwise idle machine.

    python scripts/benchmark.py            # everything (several minutes)
    python scripts/benchmark.py --scale N  # one scaling measurement (used internally, in a fresh process)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics as stats_lib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PYTHON = sys.executable
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "analysis"))
SIZES = (10**3, 10**4, 10**5, 10**6)


def line(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.2f} {unit}", flush=True)


def median_time(action, runs: int = RUNS, before=None) -> float:
    times = []
    for index in range(runs):
        if before:
            before(index)
        started = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - started)
    return stats_lib.median(times)


def report(data: str, out: Path) -> None:
    subprocess.run([PYTHON, "-m", "vertebroplasty", "report", "--data", data, "--out", str(out)], env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def clear_caches(out: Path) -> None:
    shutil.rmtree(ROOT / ".cache", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)


def floor_measurements(work: Path) -> tuple[float, float]:
    """Kernel start plus the imports of a notebook (papermill, trivial notebook), and a minimal Jupyter Book build."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import pandas, scipy.stats, seaborn, matplotlib.pyplot")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, work / "trivial.ipynb")
    kernel = median_time(lambda i: subprocess.run([PYTHON, "-m", "papermill", "--no-progress-bar", str(work / "trivial.ipynb"),
                                                   str(work / "out.ipynb")], check=True, capture_output=True, env=ENV))
    book = work / "minimal"
    book.mkdir()
    (book / "_config.yml").write_text("title: minimal\nexecute:\n  execute_notebooks: 'off'\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "index.md").write_text("# Minimal\n\nOne page.\n")
    jupyter_book = str(Path(PYTHON).parent / "jupyter-book")
    minimal = median_time(lambda i: subprocess.run([jupyter_book, "build", str(book), "--path-output", str(work / f"minimal-out-{i}")],
                                                   check=True, capture_output=True))
    return kernel, minimal


def jupyter_book_executor(work: Path) -> float:
    """The same analysis notebooks executed by Jupyter Book itself (execute_notebooks: force), one after another."""
    sys.path.insert(0, str(ROOT / "analysis"))
    from vertebroplasty.pipeline import NOTEBOOKS

    book = work / "jb-executor"
    book.mkdir()
    for name in NOTEBOOKS:
        shutil.copyfile(ROOT / "analysis" / f"{name}.ipynb", book / f"{name}.ipynb")
    (book / "_config.yml").write_text("title: executor\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: force\n  timeout: 600\n")
    chapters = "".join(f"  - file: {name}\n" for name in NOTEBOOKS[1:])
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: {NOTEBOOKS[0]}\nchapters:\n{chapters}")
    jupyter_book = str(Path(PYTHON).parent / "jupyter-book")
    return median_time(lambda i: subprocess.run([jupyter_book, "build", str(book), "--path-output", str(work / f"jb-out-{i}")],
                                                check=True, capture_output=True, env=ENV))


def scale(n: int) -> None:
    """In this process: make n synthetic patients (resampled from the default cohort), then time every table."""
    sys.path.insert(0, str(ROOT / "analysis"))
    import numpy as np
    import pandas as pd

    from vertebroplasty import dictionary, indices, paths, statistics, tables
    from vertebroplasty.cohort import load_cohort

    base = load_cohort(paths.DEFAULT_COHORT).data
    rng = np.random.default_rng(n)
    rows = rng.integers(0, len(base), n)
    cohort = base.iloc[rows].reset_index(drop=True)
    measured = [c for c in cohort.columns if c.endswith(("_mm", "_deg"))]
    cohort[measured] = cohort[measured].astype(float) + rng.normal(0, 0.2, (n, len(measured)))
    cohort["patient_id"] = pd.RangeIndex(n).astype(str)
    started = time.perf_counter()
    data = dictionary.with_variable_names(indices.derive(cohort))
    for table in ("table1", "table2", "table3"):
        comparison = statistics.with_holm(statistics.compare(data, tables.TABLE_VARIABLES[table], tables.TABLE_BETWEEN[table]))
        tables.long_statistics(comparison, table)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int)
    arguments = parser.parse_args()
    if arguments.scale:
        scale(arguments.scale)
        return

    sys.path.insert(0, str(ROOT / "analysis"))
    from vertebroplasty.pipeline import NOTEBOOKS

    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = Path(folder)
        out = work / "report"
        default = str(ROOT / "data" / "cohort.csv")

        kernel, minimal = floor_measurements(work)
        cores = os.cpu_count() or 1
        floor = len(NOTEBOOKS) * kernel / cores + minimal
        line("floor_kernel_plus_imports", kernel, "s")
        line("floor_minimal_book", minimal, "s")
        line("target_clean_build", 1.3 * floor, "s")

        clean = median_time(lambda i: report(default, out), before=lambda i: clear_caches(out))
        line("clean_make_report", clean, "s")
        line("clean_make_report_over_floor", clean / floor, "x")
        line("no_change_rebuild", median_time(lambda i: report(default, out)), "s")

        chapter = ROOT / "book" / "discussion.md"
        original = chapter.read_text()
        try:
            def edit(index: int) -> None:
                chapter.write_text(original + f"\n<!-- benchmark edit {index} {time.time()} -->\n")

            line("prose_edit_rebuild", median_time(lambda i: report(default, out), before=edit), "s")
        finally:
            chapter.write_text(original)
        report(default, out)

        cohort_copy = work / "cohort.csv"
        text = Path(default).read_text().splitlines()
        header = text[0].split(",")
        column = header.index("fvah_final_mm")

        def change_value(index: int) -> None:
            cells = text[1].split(",")
            cells[column] = f"{float(cells[column]) + 0.01 * (index + 1):.2f}"
            cohort_copy.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n")

        shutil.copyfile(default, cohort_copy)
        report(str(cohort_copy), out)
        line("data_change_rebuild", median_time(lambda i: report(str(cohort_copy), out), before=change_value), "s")

        executor = jupyter_book_executor(work)
        line("jupyter_book_executor_notebooks_only", executor, "s")
        line("jupyter_book_executor_over_clean_make_report", executor / clean, "x")

    for n in SIZES:
        results = []
        for _ in range(RUNS):
            completed = subprocess.run([PYTHON, __file__, "--scale", str(n)], capture_output=True, text=True, check=True, env=ENV)
            results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        line(f"analysis_time_{n}_patients", stats_lib.median(r["seconds"] for r in results), "s")
        line(f"analysis_peak_memory_{n}_patients", stats_lib.median(r["peak_mib"] for r in results), "MiB")

    from vertebroplasty.reconstruction import reconstruct

    line("reconstruction_time", median_time(lambda i: reconstruct()), "s")


if __name__ == "__main__":
    main()
