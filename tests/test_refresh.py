"""`make refresh` from a fresh copy of the repository: an edited notebook source stops the build with one line; the
refresh syncs the notebooks and re-executes those whose key changed; the next build runs the edited notebook.

In a file of its own so that pytest-xdist runs it beside the other whole-repository test (test_pipeline.py).
"""

from __future__ import annotations

import json

import pytest

from conftest import repository_copy
from vertebroplasty.pipeline import declaration


@pytest.mark.slow
def test_an_edited_notebook_source_stops_the_build_until_make_refresh(tmp_path, build):
    repository = repository_copy(tmp_path, seed_cache=build("default", "pdf").cache)  # start from the default runs
    out = tmp_path / "out"

    # a notebook's text source edited without `make refresh`: the build stops with one line instead of running the old notebook
    source = repository.root / "analysis" / "notebooks" / "cases.py"
    source.write_text(source.read_text() + "\n# %%\nprint('an edit')\n")
    stopped = repository.run("report", "--out", str(out))
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr
    assert "analysis/notebooks/cases.py changed since the notebook was last executed: run `make refresh`" in stopped.stderr

    # `make refresh` (what the line names) in this fresh copy: the notebook follows its source and the next build runs it
    refreshed = repository.run("refresh")
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    notebook = repository.root / "analysis" / "cases.ipynb"
    assert "print('an edit')" in notebook.read_text()
    assert "an edit" in json.dumps(json.loads(notebook.read_text())["cells"][-1]["outputs"])
    # a second refresh executes nothing: each notebook's key (source, code, data, software) is stored with it
    again = repository.run("refresh")
    assert again.returncode == 0 and "refreshing" not in again.stdout, again.stdout
    assert again.stdout.count("unchanged since its last refresh") == len(declaration.load()), again.stdout
    rebuilt = repository.build(out)
    assert "cases: executed" in rebuilt and "patients: cached" in rebuilt, rebuilt  # only the edited notebook runs again
