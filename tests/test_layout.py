"""The package's layout follows the pipeline: contract → statistics → paper → writing → pipeline.

A module may import from its own stage or an earlier one, never from a later one (no import runs back up), so a
newcomer reads the stages in order and each stage can be tested without the ones after it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vertebroplasty import paths

PACKAGE = paths.ROOT / "analysis" / "vertebroplasty"
#: The stages, in the order data flows through them; ``paths`` and the version come first, the command line last.
STAGES = ("contract", "statistics", "paper", "writing", "pipeline")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    """Where a module of the package sits in the flow: -1 for the foundations (paths, the version), the stage's
    position, or len(STAGES) for the command line."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return STAGES.index(parts[1])
    if module in ("vertebroplasty", "vertebroplasty.paths"):
        return -1
    return len(STAGES)


def imported_modules(path: Path) -> set[str]:
    """Every module of the package that ``path`` imports (``from x import y`` counts as x.y when y is a module)."""
    tree = ast.parse(path.read_text())
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("vertebroplasty")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not base.startswith("vertebroplasty"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                          or (PACKAGE.parent / candidate.replace(".", "/")).is_dir() else base)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_sits_in_a_stage():
    loose = [module_name(p) for p in MODULES if rank(module_name(p)) == len(STAGES)
             and module_name(p) not in ("vertebroplasty.cli", "vertebroplasty.__main__")]
    assert loose == []


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_import_runs_back_up(path):
    own = rank(module_name(path))
    later = sorted(module for module in imported_modules(path) if rank(module) > own)
    assert later == [], f"{module_name(path)} ({(['foundation', *STAGES, 'command line'])[own + 1]}) imports {later}"


def test_the_checker_sees_a_backward_import(tmp_path, monkeypatch):
    """The rule has teeth: a statistics module importing a writing module is caught."""
    fake = PACKAGE / "statistics" / "comparisons.py"
    source = "from vertebroplasty.writing import myst\nfrom . import power\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == fake else Path.read_bytes(self).decode())
    assert {"vertebroplasty.writing.myst", "vertebroplasty.statistics.power"} <= imported_modules(fake)
    assert max(rank(m) for m in imported_modules(fake)) > rank(module_name(fake))


def test_no_module_runs_over_600_lines():
    longer = {path.relative_to(paths.PACKAGE).as_posix(): n for path in paths.PACKAGE.rglob("*.py")
              if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600}
    assert longer == {}, f"split these modules by what they do: {longer}"
