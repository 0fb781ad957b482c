"""Shared fixtures: small cohorts written to temporary files, a temporary cache, helpers for built reports.

Tests never write into the repository: the notebook cache is a temporary folder for the whole session.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Two pytest-xdist workers share the cores, and every build they start runs processes of its own: a BLAS that also
# spreads each matrix product over all cores only makes them wait for one another (OpenBLAS threads spin while they
# wait).  One BLAS thread per process, set before numpy is first imported, for the workers and every build they start.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

# set before any test imports the build, so every build of the session caches into a temporary folder, removed at the end
# (with pytest-xdist each worker keeps a cache of its own: one worker's pruning never removes a run another is using)
if "VERTEBROPLASTY_CACHE" not in os.environ or os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["VERTEBROPLASTY_CACHE"] = tempfile.mkdtemp(prefix=f"vertebroplasty-test-cache-{os.environ.get('PYTEST_XDIST_WORKER', '')}-")
    atexit.register(shutil.rmtree, os.environ["VERTEBROPLASTY_CACHE"], ignore_errors=True)

from vertebroplasty import paths  # noqa: E402

#: The test files that build whole reports, longest first (measured with ``--durations``).  `make test` runs pytest-xdist
#: with ``--no-loadscope-reorder``, so files reach the workers in this order: the long ones start first and the many short
#: files fill the end (largest first, the classic rule for keeping two workers busy to the last).  The default report's
#: own file leads, so that the build most files read is made while the other worker builds awkward cohorts, instead of
#: a worker waiting for it.  Files not listed follow in collection order; a stale list only costs time, never a result.
LONGEST_FIRST = ["test_report_default.py", "test_options.py", "test_claims.py", "test_pipeline.py", "test_report_own_data.py",
                 "test_refresh.py", "test_reconstruction.py", "test_federated.py", "test_validation.py", "test_nbval_teeth.py"]


def pytest_collection_modifyitems(items) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def default_cohort_text() -> pd.DataFrame:
    """The committed default cohort, every cell as text (as a user's file would be read)."""
    return pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)


@pytest.fixture
def write_cohort(tmp_path):
    """Write a text table to a CSV in a temporary folder and return its path."""

    def write(table: pd.DataFrame, name: str = "cohort.csv") -> Path:
        path = tmp_path / name
        table.to_csv(path, index=False)
        return path

    return write


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# --------------------------------------------------------------------------- whole-report builds, through make

def make(target: str, timeout: int = 1200, cache: Path | None = None, **variables: str) -> subprocess.CompletedProcess:
    """``make <target> NAME=value ...`` as a user types it (arguments, no shell), from the repository; ``cache``: a
    notebook cache of its own (``VERTEBROPLASTY_CACHE``) instead of the checkout's."""
    command = ["make", "--no-print-directory", "-s", target, *[f"{name}={value}" for name, value in variables.items()]]
    environment = dict(os.environ, VERTEBROPLASTY_CACHE=str(cache)) if cache else None
    return subprocess.run(command, cwd=paths.ROOT, capture_output=True, text=True, timeout=timeout, check=False, env=environment)


@dataclass
class Built:
    out: Path
    log: str
    #: the notebook cache this build used (its runs and earlier builds', for a repository copy to start from)
    cache: Path | None = None

    def page(self, name: str) -> str:
        return text_of(self.out / "html" / "book" / f"{name}.html")

    def results(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.out / "results" / name, dtype=str, keep_default_na=False)


def text_of(html_file: Path) -> str:
    """Visible text of a built page's article (whitespace folded)."""
    from bs4 import BeautifulSoup

    article = BeautifulSoup(Path(html_file).read_text(), "html.parser").find("article")
    text = article.get_text(" ").translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'}))  # undo Sphinx's smart quotes
    return re.sub(r"\s+", " ", text)


def pages_running_past_their_foot(pdf_text: str) -> list[tuple[int, str]]:
    """Pages of a PDF (``pdftotext -layout`` text) whose last line is not their page number alone: something was set
    below the page's foot or over its number (a table that ran off the page). The title page has no number."""
    found = []
    for number, page in enumerate(pdf_text.split("\f")[1:], 2):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if lines and not re.fullmatch(r"\d+", lines[-1]):
            found.append((number, lines[-1][:80]))
    return found


def numbered_tables(built: Built) -> list[tuple[int, str]]:
    """Every table of the built report's pages (the notebooks' pages aside), in the order of the table of contents, as
    (number, caption); fails on a table without a numbered caption."""
    import yaml
    from bs4 import BeautifulSoup

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text())
    pages = [chapter["file"] for part in toc["parts"] for chapter in part["chapters"] if not chapter["file"].startswith("book/generated/")]
    found = []
    for page in [toc["root"], *pages]:
        html_file = built.out / "html" / f"{page}.html"
        if not html_file.is_file():  # a chapter this build leaves out
            continue
        for table in BeautifulSoup(html_file.read_text(), "html.parser").find("article").find_all("table"):
            caption = table.find("caption")
            text = caption.get_text(" ", strip=True) if caption else ""
            match = re.fullmatch(r"Table (\d+) (.+?)\s*#?", text)
            assert match, f"{page}: a table without a numbered caption ({table.find('tr').get_text(' ', strip=True)[:80]})"
            found.append((int(match[1]), match[2]))
    return found


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """Build a report once per test run and share it between the tests that only read it:
    ``build(name, target, **make_variables)``.

    With pytest-xdist the workers share one folder of builds (the parent of their temporary folders): the first worker
    to ask for a name builds it under an exclusive lock (``fcntl.flock``), the others wait and read the same report,
    so no report is built twice in one run.  A name stands for one set of variables throughout the run.

    Each build's notebook cache starts with the runs of the builds finished before it (``notebook-runs``), as a user's
    cache holds their earlier builds: a run is reused only under the cache's own rule (every input, parameter and line
    of code the same), so a cohort-independent notebook (the audit) runs once per session and a build that differs from
    an earlier one only in an option of the book (PUBLISHED=) runs no notebook again.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    builds = shared / "shared-builds"
    builds.mkdir(exist_ok=True)
    runs = builds / "notebook-runs"
    built: dict[str, Built] = {}

    def exchange(origin: Path, target: Path) -> None:
        """Copy the cache entries of ``origin`` into ``target`` under the store's lock (entries are never edited in place)."""
        with open(builds / "notebook-runs.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))

    def get(name: str, target: str = "report", **variables: str) -> Built:
        if name in built:
            return built[name]
        folder = builds / name
        with open(builds / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            log_file = folder / "make.log"
            if not log_file.exists():
                if folder.exists():
                    shutil.rmtree(folder)  # a build of this name that failed in another worker: try again, to report it here
                out = folder / "report out"
                out.parent.mkdir(parents=True)
                exchange(runs, folder / "cache" / "notebooks")
                completed = make(target, cache=folder / "cache", OUT=str(out), **variables)
                assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
                exchange(folder / "cache" / "notebooks", runs)
                log_file.write_text(completed.stdout + completed.stderr)
        built[name] = Built(folder / "report out", log_file.read_text(), folder / "cache")
        # this worker's own builds (make() without a cache of its own) reuse the shared build's notebook runs
        worker_cache = Path(os.environ["VERTEBROPLASTY_CACHE"]) / "notebooks"
        if (folder / "cache" / "notebooks").is_dir():
            shutil.copytree(folder / "cache" / "notebooks", worker_cache, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
        return built[name]

    return get


@pytest.fixture(scope="session")
def cohort_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cohorts")


# --------------------------------------------------------------------------- a fresh copy of the repository

@dataclass
class RepositoryCopy:
    """The committed files of the repository copied into a temporary folder, run with the package from the copy."""

    root: Path
    environment: dict

    def run(self, *arguments: str) -> subprocess.CompletedProcess:
        """``python -m vertebroplasty <arguments>`` in the copy."""
        return subprocess.run([sys.executable, "-m", "vertebroplasty", *arguments], cwd=self.root, env=self.environment,
                              capture_output=True, text=True, timeout=900, check=False)

    def build(self, out: Path) -> str:
        """A report of the copy into ``out``; its log."""
        completed = self.run("report", "--out", str(out))
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout


def repository_copy(folder: Path, seed_cache: Path | None = None) -> RepositoryCopy:
    """Copy every file git tracks (as a fresh clone has them) into ``folder/repository``, with a cache of its own.

    ``seed_cache`` (a shared build's :attr:`Built.cache`) starts that cache with the runs of that build: the copy
    computes its own key for each run, so a run is reused only when every input is unchanged — the cache's own rule.
    """
    copy = folder / "repository"
    files = subprocess.run(["git", "ls-files"], cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((paths.ROOT / name).read_bytes())
    if seed_cache:
        shutil.copytree(seed_cache / "notebooks", folder / "cache" / "notebooks", ignore=shutil.ignore_patterns(".*"))
    return RepositoryCopy(copy, dict(os.environ, PYTHONPATH=str(copy / "analysis"), VERTEBROPLASTY_CACHE=str(folder / "cache")))
