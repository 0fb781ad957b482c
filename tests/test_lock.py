"""The lock is complete and the code imports only what it declares; the book's other entry points say what to do."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from vertebroplasty import paths

LOCK = paths.ROOT / "requirements.txt"
DIRECT = paths.ROOT / "requirements.in"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> dict[str, str]:
    """Requirement name -> the line's specifier part, comments and options left out."""
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[=<>~!\[; ]", line, maxsplit=1)[0]
        names[normalise(name)] = line[len(name):].strip()
    return names


def test_every_direct_dependency_is_pinned_in_the_lock():
    pinned = requirement_names(LOCK)
    for name in requirement_names(DIRECT):
        assert name in pinned, f"{name} is in requirements.in but not in requirements.txt: run `make lock`"
        assert pinned[name].startswith("=="), f"{name} is not pinned exactly in requirements.txt"


def imported_top_level_modules() -> set[str]:
    modules = set()
    for path in [*(paths.ROOT / "analysis").rglob("*.py"), *(paths.ROOT / "_ext").rglob("*.py"), *(paths.ROOT / "scripts").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_every_imported_library_is_a_direct_dependency():
    direct = set(requirement_names(DIRECT))
    providers = metadata.packages_distributions()
    missing = []
    for module in sorted(imported_top_level_modules()):
        if module in sys.stdlib_module_names or module in ("vertebroplasty", "__future__", "built_by_make"):
            continue
        distributions = {normalise(name) for name in providers.get(module, [])}
        assert distributions, f"{module} is imported but no installed distribution provides it"
        if not distributions & direct:
            missing.append(f"{module} (from {', '.join(sorted(distributions))})")
    assert not missing, "imported but not listed in requirements.in: " + "; ".join(missing)


@pytest.mark.slow
def test_a_direct_jupyter_book_build_stops_and_names_make_report(tmp_path):
    completed = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(paths.ROOT), "--path-output", str(tmp_path)],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode != 0
    assert "run `make report`, not `jupyter-book build .`" in completed.stdout + completed.stderr
    assert not (tmp_path / "_build" / "html" / "index.html").exists()


def test_an_installed_command_outside_a_checkout_says_so_in_one_line(monkeypatch, capsys, tmp_path):
    from vertebroplasty import cli

    monkeypatch.setattr(paths, "PIPELINE", tmp_path / "pipeline.toml")  # as in site-packages after `pip install .`
    assert cli.main(["report"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "runs from a checkout of the repository" in error and "make report" in error
