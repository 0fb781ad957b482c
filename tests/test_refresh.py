"""`make refresh` from a fresh copy of the repository: an edited notebook source stops the build with one line; the
refresh syncs and re-executes the notebooks; the next build runs the edited notebook.

In a file of its own so that pytest-xdist runs it beside the other whole-repository test (test_pipeline.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vertebroplasty import paths


@pytest.mark.slow
def test_an_edited_notebook_source_stops_the_build_until_make_refresh(tmp_path):
    copy = tmp_path / "repository"
    files = subprocess.run(["git", "ls-files"], cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((paths.ROOT / name).read_bytes())
    environment = dict(os.environ, PYTHONPATH=str(copy / "analysis"), VERTEBROPLASTY_CACHE=str(tmp_path / "cache"))
    out = tmp_path / "out"

    def build() -> str:
        completed = subprocess.run([sys.executable, "-m", "vertebroplasty", "report", "--out", str(out)], cwd=copy, env=environment,
                                   capture_output=True, text=True, timeout=600, check=False)
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    # a notebook's text source edited without `make refresh`: the build stops with one line instead of running the old notebook
    source = copy / "analysis" / "notebooks" / "cases.py"
    source.write_text(source.read_text() + "\n# %%\nprint('an edit')\n")
    stopped = subprocess.run([sys.executable, "-m", "vertebroplasty", "report", "--out", str(out)], cwd=copy, env=environment,
                             capture_output=True, text=True, timeout=600, check=False)
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr
    assert "analysis/notebooks/cases.py changed since the notebook was last executed: run `make refresh`" in stopped.stderr

    # `make refresh` (what the line names) in this fresh copy: the notebook follows its source and the next build runs it
    refreshed = subprocess.run([sys.executable, "-m", "vertebroplasty", "refresh"], cwd=copy, env=environment, capture_output=True,
                               text=True, timeout=900, check=False)
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert "print('an edit')" in (copy / "analysis" / "cases.ipynb").read_text()
    assert "an edit" in json.dumps(json.loads((copy / "analysis" / "cases.ipynb").read_text())["cells"][-1]["outputs"])
    log = build()
    assert "cases: executed" in log
