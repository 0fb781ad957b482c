"""The declared pipeline holds: chapters use only declared outputs, notebooks read only declared inputs, the text
sources and the .ipynb agree, cache keys follow every input, and a failing or interrupted build stops at once."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest

from conftest import repository_copy
from vertebroplasty import paths
from vertebroplasty.pipeline import cache, declaration, execute, kernels, provenance


def test_declaration_and_chapter_references_agree():
    notebooks = declaration.load()
    references = declaration.chapter_references()
    assert {reference.notebook for reference in references} == set(notebooks)
    declaration.check_references(notebooks, references)


def test_an_undeclared_reference_or_a_clash_is_refused(tmp_path):
    notebooks = declaration.load()
    (tmp_path / "chapter.md").write_text("{glue:text}`generated/comparisons.ipynb::no_such_key:s`\n")
    with pytest.raises(declaration.PipelineError, match="no_such_key"):
        declaration.check_references(notebooks, declaration.chapter_references(tmp_path))
    clashing = dict(notebooks, cases=replace(notebooks["cases"], results=("statistics.csv",)))
    with pytest.raises(declaration.PipelineError, match="written by both"):
        declaration.check_declaration(clashing)


@pytest.mark.parametrize("name", sorted(declaration.load()))
def test_text_source_and_notebook_are_in_sync(name):
    notebook = declaration.load()[name]
    text = jupytext.read(notebook.text_source)
    stored = nbformat.read(notebook.source, as_version=4)
    assert declaration.cells_of(text) == declaration.cells_of(stored), f"run `make refresh` after editing {notebook.text_source.name}"
    assert name not in declaration.out_of_sync({name: notebook})
    assert stored.metadata["jupytext"]["formats"] == "ipynb,notebooks//py:percent"


TRACER = r'''
import json, os, sys
root, log = sys.argv[1], sys.argv[2]
opened = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path.startswith(root + os.sep) and "/.venv/" not in path and "__pycache__" not in path and not path.endswith(".py"):
            opened.add(os.path.relpath(path, root))
sys.addaudithook(hook)
import matplotlib; matplotlib.use("Agg")
for source in sys.argv[3:]:
    code = compile(open(source).read(), source, "exec")
    exec(code, {"__name__": "__main__", "get_ipython": lambda: None})
    json.dump(sorted(opened), open(log + "." + os.path.basename(source) + ".json", "w"))
    opened.clear()
'''


@pytest.mark.slow
def test_notebooks_read_only_what_they_declare(tmp_path):
    notebooks = declaration.load()
    tracer = tmp_path / "tracer.py"
    tracer.write_text(TRACER)
    sources = [str(notebook.text_source) for notebook in notebooks.values()]
    completed = subprocess.run([sys.executable, str(tracer), str(paths.ROOT), str(tmp_path / "reads"), *sources],
                               capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    special = {"cohort": {"data/cohort.csv", "data/examples/multicentre"}, "study": {"data/study.yml"}}
    for name, notebook in notebooks.items():
        read = set(json.loads((tmp_path / f"reads.{name}.py.json").read_text()))
        declared = set().union(*(special.get(entry, {entry}) for entry in notebook.reads))
        undeclared = {path for path in read if not any(path == d or path.startswith(d + "/") for d in declared)}
        assert not undeclared, f"{name} reads {sorted(undeclared)} without declaring it in analysis/pipeline.toml"


def test_cache_keys_follow_every_declared_input_and_the_environment(monkeypatch):
    notebooks = declaration.load()
    parameters = {"alpha": 0.05, "tests": "paper", "case_ids": "", "data_label": "x.csv", "cohort_path": "/a/b.parquet"}
    inputs = {"cohort": "c" * 64, "study": "s" * 64}

    def keys() -> dict[str, str]:
        found: dict[str, str] = {}
        for name in declaration.order(notebooks):
            found[name] = cache.notebook_key(notebooks[name], parameters, inputs, found)
        return found

    base = keys()
    for changed in ("data/category_labels.csv", "data/published/prose-claims.csv", "data/derived_indices.csv"):
        original = cache.file_digest
        monkeypatch.setattr(cache, "file_digest",
                            lambda path, changed=changed, original=original: "x" if str(path).endswith(changed) else original(path))
        now = keys()
        monkeypatch.setattr(cache, "file_digest", original)
        readers = {n for n, nb in notebooks.items() if changed in nb.reads}
        downstream = {n for n, nb in notebooks.items() if set(nb.after) & readers}
        assert {n for n in base if base[n] != now[n]} == readers | downstream, changed
    parameters["cohort_path"] = "/elsewhere/b.parquet"  # a path of the build: not part of the key
    assert keys() == base
    inputs["cohort"] = "d" * 64
    assert {n for n, k in keys().items() if k != base[n]} == {n for n, nb in notebooks.items() if "cohort" in nb.reads} | {"reanalysis"}
    inputs["cohort"] = "c" * 64
    provenance.environment_digest.cache_clear()
    from importlib import metadata

    real = metadata.version

    def another_scipy(name):
        return "0.0.1" if name == "scipy" else real(name)

    monkeypatch.setattr(metadata, "version", another_scipy)
    try:
        assert all(k != base[n] for n, k in keys().items())  # a locked library's version changed: every notebook runs again
    finally:
        monkeypatch.setattr(metadata, "version", real)
        provenance.environment_digest.cache_clear()
    monkeypatch.setattr(metadata, "distributions", lambda: [])  # as if nothing but the lock's distributions were installed
    assert keys() == base  # what else is installed does not matter: only the lock's distributions count
    provenance.environment_digest.cache_clear()


def test_old_cache_entries_are_pruned(tmp_path):
    store = cache.NotebookCache(tmp_path)
    for index in range(5):
        scratch = store.scratch("audit", tmp_path)
        (scratch / "notebook.ipynb").write_text("{}")
        os.utime(scratch, (index, index))
        store.store("audit", f"key{index}", scratch)
        time.sleep(0.01)
    assert len(list((tmp_path / "notebooks").glob("audit-*"))) == cache.KEEP_PER_NOTEBOOK


def fake_notebook(folder: Path, name: str, code: str) -> declaration.Notebook:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(code)]
    nbformat.write(notebook, folder / f"{name}.ipynb")
    return declaration.Notebook(name, name, (), (), (), (), (), (), (), (), folder=folder)


@pytest.mark.slow
def test_the_first_failing_notebook_stops_the_others_at_once(tmp_path):
    notebooks = {"broken": fake_notebook(tmp_path, "broken", "import time\ntime.sleep(2)\nraise ValueError('the data have no type C')"),
                 "slow": fake_notebook(tmp_path, "slow", "import time\ntime.sleep(120)")}
    runner = execute.Runner(cache.NotebookCache(None), tmp_path / "scratch", tmp_path / "inputs")
    with pytest.raises(execute.NotebookError) as caught:
        try:
            execute.run_all(notebooks, {"broken": "a", "slow": "b"}, {"broken": {}, "slow": {}}, runner, workers=2, log=lambda m: None)
        finally:
            runner.close()
    assert runner.stopping.is_set()  # the slow notebook's kernel was told to stop (no wall-clock bound: speed is for make bench)
    assert str(caught.value) == "notebook 'broken' failed in cell [2] (import time): ValueError: the data have no type C"
    assert not list((tmp_path / "scratch").glob(".*running*"))


@pytest.mark.slow
def test_ctrl_c_stops_within_seconds_and_keeps_the_previous_report(tmp_path, build):
    out = tmp_path / "report"
    shutil.copytree(build("default", "pdf").out, out)  # a previous report (the session's shared default build, copied)
    environment = dict(os.environ, VERTEBROPLASTY_CACHE=str(tmp_path / "cache"))
    marker = (out / ".vertebroplasty-report").read_text()
    process = subprocess.Popen([sys.executable, "-m", "vertebroplasty", "report", "--out", str(out), "--no-cache"], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:  # validation done, the first notebook finished, the others running
        if "[1/" in line:
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)  # a guard against a hang, not a speed bound
    assert process.returncode == 130 and "stopped" in stderr and "Traceback" not in stderr
    assert (out / ".vertebroplasty-report").read_text() == marker and (out / "html" / "index.html").is_file()
    assert not list(tmp_path.glob(".report.staging-*"))


@pytest.mark.slow
def test_a_kernel_forked_from_the_server_is_fresh_and_has_its_own_folder_and_environment(tmp_path):
    """What one notebook does to its kernel (a variable, a module attribute, an environment variable) is not in the next
    notebook's kernel; each kernel starts in its own folder with the environment jupyter-client gives it, and it is forked:
    the server's imports are already there before the notebook's first line."""
    import papermill

    first, second = nbformat.v4.new_notebook(), nbformat.v4.new_notebook()
    first.cells = [nbformat.v4.new_code_cell("import os, sys, pandas\nwarm = 'scipy.stats' in sys.modules\nleft = 1\n"
                                              "pandas.left_by_the_first = 1\nos.environ['LEFT_BY_THE_FIRST'] = '1'\n"
                                              "print(warm, os.getpid(), os.getppid(), os.getcwd())"),
                   nbformat.v4.new_code_cell("print(pandas.get_option('display.max_columns'), pandas.get_option('display.width'))")]
    second.cells = [nbformat.v4.new_code_cell("import os, sys, pandas\nwarm = 'scipy.stats' in sys.modules\n"
                                               "assert 'left' not in dir() and not hasattr(pandas, 'left_by_the_first')\n"
                                               "assert 'LEFT_BY_THE_FIRST' not in os.environ and os.environ['GIVEN_TO_THE_KERNEL'] == 'yes'\n"
                                               "print(warm, os.getpid(), os.getppid(), os.getcwd())")]
    for notebook in (first, second):
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    server = kernels.KernelServer()
    printed = []
    try:
        for index, notebook in enumerate((first, second)):
            folder = tmp_path / f"folder {index}"
            folder.mkdir()
            nbformat.write(notebook, tmp_path / f"{index}.ipynb")
            os.environ["GIVEN_TO_THE_KERNEL"] = "yes" if index else "no"  # jupyter-client gives the kernel this process's environment
            try:
                with execute.ipc_kernel(server) as manager:
                    papermill.execute_notebook(str(tmp_path / f"{index}.ipynb"), str(tmp_path / f"{index}-out.ipynb"), kernel_name="python3",
                                               progress_bar=False, km=manager, cwd=str(folder))
            finally:
                del os.environ["GIVEN_TO_THE_KERNEL"]
            printed.append(nbformat.read(tmp_path / f"{index}-out.ipynb", as_version=4).cells[0].outputs[0]["text"].split())
        server_pid = server.process.pid
        with execute.ipc_kernel() as manager:  # a kernel started the usual way: modules decided on import as in the forked ones
            papermill.execute_notebook(str(tmp_path / "0.ipynb"), str(tmp_path / "usual.ipynb"), kernel_name="python3",
                                       progress_bar=False, km=manager, cwd=str(tmp_path))
        usual = nbformat.read(tmp_path / "usual.ipynb", as_version=4).cells
        forked = nbformat.read(tmp_path / "0-out.ipynb", as_version=4).cells
        assert usual[1].outputs == forked[1].outputs and usual[0].outputs[0]["text"].split()[0] == "False"
    finally:
        server.stop()
    assert [line[0] for line in printed] == ["True", "True"]  # forked: scipy.stats imported before the notebook asked for it
    assert printed[0][1] != printed[1][1] and {line[2] for line in printed} == {str(server_pid)}
    assert [" ".join(line[3:]) for line in printed] == [str(tmp_path / "folder 0"), str(tmp_path / "folder 1")]


@pytest.mark.slow
def test_a_build_killed_outright_while_notebooks_run_leaves_no_process_behind(tmp_path):
    """SIGKILL cannot be handled: the kernel server notices that the build is gone, and its kernels that the server is."""
    mark = f"killed-{tmp_path.name}"
    temporary = Path(tempfile.mkdtemp(prefix="vpt"))  # where the server's socket folder goes (short: a socket path is limited)
    environment = dict(os.environ, VERTEBROPLASTY_CACHE=str(tmp_path / "cache"), TMPDIR=str(temporary), KILLED_BUILD_MARK=mark)
    process = subprocess.Popen([sys.executable, "-m", "vertebroplasty", "report", "--out", str(tmp_path / "report"), "--no-cache"],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if "[1/" in line:  # one notebook finished, others running
            break
    assert _processes_marked(mark), "the build's kernels should be running"
    process.kill()
    process.wait()
    deadline = time.monotonic() + 60  # a guard against waiting for ever, not a speed bound
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_marked(mark) == []
    assert list(temporary.iterdir()) == []  # the server's socket folder is gone too
    temporary.rmdir()


def _processes_marked(mark: str) -> list[int]:
    """The processes started with ``KILLED_BUILD_MARK=mark`` in their environment (the build, its server, its kernels)."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            if f"KILLED_BUILD_MARK={mark}".encode() in (folder / "environ").read_bytes().split(b"\0"):
                found.append(int(folder.name))
        except OSError:  # ended meanwhile, or not ours to read
            pass
    return found


def test_the_architecture_section_names_modules_that_exist():
    readme = (paths.ROOT / "README.md").read_text()
    section = readme[readme.index("## Architecture"):]
    section = section[: section.index("\n## ", 5)]
    named = {name for name in re.findall(r"`([a-z_/]+)\.py`", section) if not name.startswith(("tests/", "scripts/"))}
    modules = {path.relative_to(paths.PACKAGE).with_suffix("").as_posix() for path in paths.PACKAGE.rglob("*.py")
               if path.stem not in ("__init__", "__main__")}
    for name in named:  # a module named by its file name, or by stage/file
        assert any(module == name or module.endswith(f"/{name}") for module in modules), name
    undocumented = {module for module in modules if module.rpartition("/")[2] not in {n.rpartition("/")[2] for n in named}}
    assert undocumented == set(), "modules the README's Architecture section does not name"
    dependencies = {name for pair in re.findall(r"`(\w+)` after `(\w+)`", section) for name in pair}
    assert {name for name, notebook in declaration.load().items() if notebook.after} <= dependencies


@pytest.mark.slow
def test_a_changed_label_rebuilds_what_reads_it(tmp_path, build):
    """End to end, in a copy of the repository: edit a category label; the rebuild re-runs the notebooks that declare
    the file (and those after them), and the pages show the change; the others reuse the default build's runs, whose
    keys do not depend on where the checkout is.  Which keys each declared file changes, with the notebooks after their
    readers, is checked for every kind of input in-process (test_cache_keys_follow_every_declared_input_and_the_environment)."""
    repository = repository_copy(tmp_path, seed_cache=build("default", "pdf").cache)  # start from the default runs
    out = tmp_path / "out"
    labels = repository.root / "data" / "category_labels.csv"
    labels.write_text(labels.read_text().replace("cement_distribution,A,Type A", "cement_distribution,A,Type A (both endplates)"))
    log = repository.build(out)
    executed = set(re.findall(r"\] (\w+): executed", log))
    readers = {name for name, notebook in declaration.load().items() if "data/category_labels.csv" in notebook.reads} - {"centres"}
    assert executed == readers | {"reanalysis"}
    assert set(re.findall(r"\] (\w+): cached", log)) == set(declaration.load()) - {"centres"} - executed  # audit and cases
    assert "Type A (both endplates)" in (out / "html" / "book" / "results.html").read_text()


def test_without_running_the_notebooks_agree_with_the_declaration_and_the_check_has_teeth(tmp_path):
    notebooks = declaration.load()
    assert declaration.static_problems(notebooks) == []
    broken_folder = tmp_path / "analysis"
    (broken_folder / "notebooks").mkdir(parents=True)
    source = notebooks["cases"].text_source.read_text()
    source = source.replace('out.glue("case_selection", how)', 'out.glue("case_choice", how)')  # a renamed key
    source = source.replace('case_ids: str = ""', 'case_ids: str = ""\nseed: int = 1')  # an undeclared parameter
    (broken_folder / "notebooks" / "cases.py").write_text(source)
    broken = {"cases": replace(notebooks["cases"], folder=broken_folder)}
    problems = declaration.static_problems(broken)
    assert any("writes glue 'case_choice'" in problem for problem in problems)
    assert any("declares glue 'case_selection', which its code never writes" in problem for problem in problems)
    assert any("parameter 'seed' of the notebook's parameters cell is not declared" in problem for problem in problems)


def test_the_notebook_writer_refuses_an_undeclared_name():
    from vertebroplasty.pipeline import notebook_outputs

    out = notebook_outputs.Publisher("", "cases")
    out.glue("case_selection", "declared")  # fine
    with pytest.raises(notebook_outputs.UndeclaredOutput, match="notebook 'cases' writes glue 'case_choice'"):
        out.glue("case_choice", "a typo")
    with pytest.raises(notebook_outputs.UndeclaredOutput, match="writes result 'table9.csv'"):
        out.results(pd.DataFrame(), "table9.csv")


def test_the_chapters_that_depend_on_the_data_are_named_once_in_the_declaration(tmp_path):
    layout = declaration.book_layout()
    notebooks = declaration.load()
    assert "book/centres" in layout.multicentre and notebooks["centres"].page in layout.multicentre
    assert {"book/source-study", "book/audit", notebooks["audit"].page} <= set(layout.published)
    assert layout.summaries_parts["Computation notebooks"] == [notebooks["centres"].page]
    assert declaration.layout_problems(notebooks) == []
    # the check has teeth: a chapter the table of contents does not list, and a page without a source file
    broken = tmp_path / "pipeline.toml"
    broken.write_text(paths.PIPELINE.read_text().replace('multicentre_chapters = ["book/centres"]',
                                                         'multicentre_chapters = ["book/centres", "book/elsewhere"]'))
    problems = declaration.layout_problems(notebooks, broken)
    assert any("'book/elsewhere', which _toc.yml does not list" in problem for problem in problems)
    assert any("'book/elsewhere', which has no source file" in problem for problem in problems)
