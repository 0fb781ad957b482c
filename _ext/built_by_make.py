"""Stop a direct `jupyter-book build .` with one line: the book is assembled by `make report`.

The chapters include the notebooks' outputs (book/generated/), which only the build writes; without them Sphinx would
produce a report without numbers and many warnings.
"""

from pathlib import Path

from sphinx.errors import ExtensionError


def check_generated(app) -> None:
    if not (Path(app.srcdir) / "book" / "generated").is_dir():
        raise ExtensionError("this book is assembled by `make report` (it runs the analysis notebooks first); run `make report`, "
                             "not `jupyter-book build .`")


def setup(app):
    app.connect("builder-inited", check_generated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
