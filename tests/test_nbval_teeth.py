"""nbval is not toothless: one changed input value makes the stored notebook outputs fail validation."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from vertebroplasty import paths

pytestmark = pytest.mark.slow


def notebook_on(data_path, folder):
    """A copy of the committed comparisons notebook whose cohort_path parameter points at ``data_path``."""
    notebook = json.loads((paths.ANALYSIS / "comparisons.ipynb").read_text())
    parameters = next(cell for cell in notebook["cells"] if "parameters" in cell.get("metadata", {}).get("tags", []))
    source = "".join(parameters["source"])
    parameters["source"] = source.replace('cohort_path: str = ""', f"cohort_path: str = {str(data_path)!r}", 1)
    assert parameters["source"] != source
    target = folder / "comparisons.ipynb"
    target.write_text(json.dumps(notebook))
    return target


def run_nbval(notebook):
    return subprocess.run([sys.executable, "-m", "pytest", "-c", os.devnull, "-p", "no:cacheprovider", "-q", "--nbval",
                           "--nbval-current-env", str(notebook)], cwd=notebook.parent, capture_output=True, text=True,
                          check=False, timeout=300)


def test_unchanged_copy_of_the_data_passes(tmp_path):
    copy = tmp_path / "cohort.csv"
    copy.write_bytes(paths.DEFAULT_COHORT.read_bytes())
    completed = run_nbval(notebook_on(copy, tmp_path))
    assert completed.returncode == 0, completed.stdout[-3000:]


def test_one_changed_value_fails_validation(tmp_path):
    table = pd.read_csv(paths.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    table.loc[0, "vas_op"] = str(int(table.loc[0, "vas_op"]) + 1)  # one patient's pain during cementing, one point up
    changed = tmp_path / "cohort.csv"
    table.to_csv(changed, index=False)
    completed = run_nbval(notebook_on(changed, tmp_path))
    assert completed.returncode == 1, completed.stdout[-3000:]
    assert "Cell outputs differ" in completed.stdout  # nbval names the mismatching output, not a crash
