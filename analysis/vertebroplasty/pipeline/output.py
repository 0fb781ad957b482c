"""The output folder: what may be used as OUT, and replacing an earlier report only when nothing else would be lost.

OUT is checked before anything runs.  It may not be the file system's root, the home folder, the repository itself
or any folder of its sources; an existing OUT must be empty or a report this package made, holding only the files
that report listed.  The new report is built beside OUT and moved into place only when every step succeeded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from vertebroplasty import paths

MARKER = ".vertebroplasty-report"
SOURCE_FOLDERS = ("analysis", "book", "data", "tests", "scripts", "_static", ".git", ".ci", ".venv")


class OutputError(ValueError):
    """OUT cannot be used; the message says why and what to do."""


def check_output_folder(out: str | Path) -> Path:
    """The resolved OUT, or :class:`OutputError` before any work is done."""
    if str(out).strip() == "":
        raise OutputError("OUT is empty; give a folder for the report, e.g. OUT=my-report")
    target = Path(out).expanduser().resolve()
    forbidden = {Path("/"): "the file system's root", Path.home().resolve(): "your home folder", paths.ROOT: "the repository itself"}
    if target in forbidden:
        raise OutputError(f"OUT={out} is {forbidden[target]}; choose a folder of its own, e.g. OUT=my-report")
    for folder in SOURCE_FOLDERS:
        source = paths.ROOT / folder
        if target == source or source in target.parents:
            raise OutputError(f"OUT={out} is inside the repository's {folder}/ folder; the report may not be written among the "
                              "sources (use the default _build, or a folder outside them)")
    if target.exists() and not target.is_dir():
        raise OutputError(f"OUT={out} is a file, not a folder; choose another OUT")
    if target.is_dir() and any(target.iterdir()):
        marker = target / MARKER
        if not marker.is_file():
            raise OutputError(f"OUT={out} is a folder with files that this package did not make; it will not replace it. "
                              "Choose a new or empty folder")
        listed = _listed(marker)
        if not listed:
            raise OutputError(f"OUT={out}: the list of files the earlier report wrote ({MARKER}) cannot be read (damaged, or "
                              "from an older version), so anything in the folder may be yours; move what you want to keep and "
                              "delete the folder, or choose another OUT")
        unknown = sorted(str(p.relative_to(target)) for p in target.rglob("*") if (p.is_file() or p.is_symlink())
                         and str(p.relative_to(target)) not in listed)
        unknown += sorted(f"{p.relative_to(target)}/" for p in target.rglob("*")  # an empty folder is the user's too
                          if p.is_dir() and not p.is_symlink() and not any(p.iterdir()))
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise OutputError(f"OUT={out} holds files that the earlier report did not write ({shown}); move them elsewhere "
                              "first, so that replacing the report does not delete them")
    existing = next(folder for folder in target.parents if folder.exists())  # the report is built beside OUT, then moved
    if not os.access(existing, os.W_OK):
        raise OutputError(f"OUT={out}: cannot write in {existing}")
    return target


def _listed(marker: Path) -> set[str]:
    """Files an earlier report listed in its marker (empty when the marker cannot be read or lists none)."""
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    if not isinstance(files, list) or not files or not all(isinstance(name, str) for name in files):
        return set()
    return set(files) | {MARKER}


#: Left beside OUT or in the cache by a build that was killed: ``<prefix><pid>-…`` (the pid of the build that made it).
ABANDONED = re.compile(r"^\..+\.(?:staging|old)-(\d+)(?:-.*)?$|^\..+-running-(\d+)-\d+$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(folder: Path) -> list[Path]:
    """Remove what killed builds left in ``folder``: staging folders (with their patient-level Parquet copy of the
    cohort), retired reports and notebook scratch runs whose build process no longer exists.  Returns what was removed.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ".out.staging-999999999-abc").mkdir(), (folder / f".out.staging-{os.getpid()}-x").mkdir()
    >>> [path.name for path in remove_abandoned(folder)]
    ['.out.staging-999999999-abc']
    """
    removed = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        match = ABANDONED.match(path.name)
        if match and path.is_dir() and not path.is_symlink() and not _alive(int(match.group(1) or match.group(2))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def build_key_of(out: Path) -> str | None:
    try:
        return json.loads((out / MARKER).read_text())["build_key"]
    except (OSError, ValueError, KeyError):
        return None


def write_marker(folder: Path, build_key: str) -> None:
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    content = {"made_by": "python -m vertebroplasty report (safe to delete)", "build_key": build_key, "files": files}
    (folder / MARKER).write_text(json.dumps(content, indent=1) + "\n")


def replace(new: Path, out: Path) -> None:
    """Move ``new`` to ``out`` (checked by :func:`check_output_folder`): the earlier report is moved aside, then removed."""
    if out.exists():
        retired = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, retired)
        try:
            os.replace(new, out)
        except BaseException:
            os.replace(retired, out)  # the earlier report goes back where it was
            raise
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(new, out)
