"""What a notebook hands to the book and to the user: glued values, MyST blocks, figures and tidy CSV files.

Each notebook writes into its own folder (``output_dir``): ``markdown/<name>.md``, ``figures/<name>.png`` and
``results/<name>.csv``; the build checks these against the notebook's declaration in ``analysis/pipeline.toml``.
With an empty ``output_dir`` (a notebook run on its own) nothing is written and values are only glued.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display

from vertebroplasty.writing.numbers import curly_quotes, join_units, true_minus

#: First characters that make a spreadsheet treat a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell that a spreadsheet would run as a formula starts with an apostrophe.

    Numbers stay numbers: numeric columns are untouched, and a text cell that is a plain number (``-1.25`` in a
    column of values written as text) is left as it is.

    >>> frame = pd.DataFrame({"patient_id": ["=cmd|' /C calc'!A0", "P-1", "-2.5"], "x": [-1.0, 2.0, 3.0]})
    >>> neutralise_formulas(frame)["patient_id"].tolist()
    ["'=cmd|' /C calc'!A0", 'P-1', '-2.5']
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False) & pd.to_numeric(text, errors="coerce").isna()
        if risky.any():
            out[column] = values.astype(object).where(~risky.to_numpy(), "'" + text.astype(object))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a tidy CSV: byte-stable (``\\n`` line ends, no index, text quoted), formula cells neutralised, written then
    moved into place.

    pyarrow's CSV writer is used rather than pandas': a million patients' derived table is written in a few seconds
    instead of about a minute (pandas converts every nullable column cell by cell).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    table = pa.Table.from_pandas(neutralise_formulas(frame), preserve_index=False)
    pa_csv.write_csv(table, temporary, pa_csv.WriteOptions(quoting_style="needed"))
    temporary.replace(path)
    return path


def show(name: str, value) -> None:
    """Display a glued value as an ordinary plain-text output, so the committed notebook shows its results in JupyterLab,
    nbconvert and on GitHub (the glue itself is a record only myst-nb reads).  Plain text, never markdown: the book's
    notebook pages show it verbatim, and no MyST role in it is resolved there."""
    display({"text/plain": f"[{name}]\n{value}"}, raw=True)


class UndeclaredOutput(NameError):
    """A notebook wrote an output its declaration in ``analysis/pipeline.toml`` does not name."""


class Publisher:
    """The outputs of one notebook run, written under ``output_dir`` and glued for nbval and the book.

    With ``notebook`` (its name in ``analysis/pipeline.toml``) every name is checked against the declaration before
    anything is written, in a build and when the notebook runs on its own: an output is named once, in the
    declaration, and a typo fails at the line that makes it, not after a whole build.
    """

    def __init__(self, output_dir: str = "", notebook: str = ""):
        self.folder = Path(output_dir) if output_dir else None
        self.declared = None
        if notebook:
            from vertebroplasty.pipeline import declaration

            self.declared = declaration.load()[notebook]

    def _check(self, kind: str, name: str) -> None:
        if self.declared is None:
            return
        allowed = {"glue": self.declared.declares_glue(name), "markdown": name in self.declared.markdown,
                   "figures": name in self.declared.figures, "results": name in self.declared.results,
                   "intermediates": f"{name}.parquet" in self.declared.intermediates}[kind]
        if not allowed:
            raise UndeclaredOutput(f"notebook {self.declared.name!r} writes {kind[:-1] if kind.endswith('s') else kind} {name!r}, "
                                   f"which analysis/pipeline.toml does not declare for it; declare it there (its {kind} list)")

    def glue(self, name: str, value) -> None:
        """Glue a plain value or sentence for ``{glue:text}``, and show it as plain text (see :func:`show`)."""
        from myst_nb import glue

        self._check("glue", name)

        if isinstance(value, (np.integer, np.floating)):
            value = value.item()
        if isinstance(value, str):
            value = join_units(curly_quotes(true_minus(value)))
        glue(name, value, display=False)
        show(name, value)

    def markdown(self, name: str, text: str) -> None:
        """Write a MyST block (table, math, paragraphs) as ``markdown/<name>.md`` and glue it.

        myst-nb pastes only plain text and images across documents, while an included file is parsed as MyST, so
        its tables and math become real tables and equations in HTML and PDF.  The glue keeps the text in the
        notebook, where nbval compares it.
        """
        from IPython.display import Markdown
        from myst_nb import glue

        self._check("markdown", name)
        text = join_units(true_minus(text))
        if self.folder:
            target = self.folder / "markdown" / f"{name}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text + "\n", encoding="utf-8")
        glue(name, Markdown(text), display=False)
        show(name, text)

    def figure(self, name: str, figure) -> None:
        """Save a figure as ``figures/<name>.png``, glue the same PNG (nbval compares its bytes), close it.

        The PNG is rendered once and carries no software or date metadata, so identical plots give identical files.
        """
        import matplotlib.pyplot as plt
        from IPython.display import Image
        from myst_nb import glue

        self._check("figures", name)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        plt.close(figure)
        if self.folder:
            target = self.folder / "figures" / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(buffer.getvalue())
        glue(name, Image(data=buffer.getvalue(), format="png"), display=False)
        display(Image(data=buffer.getvalue(), format="png"))

    def results(self, frame: pd.DataFrame, name: str) -> None:
        """Write a tidy CSV as ``results/<name>`` (for the user, and for later notebooks)."""
        self._check("results", name)
        if self.folder:
            write_csv(frame, self.folder / "results" / name)

    def table(self, frame: pd.DataFrame, name: str) -> None:
        """Write an intermediate frame as ``results/<name>.parquet`` for a later notebook (types kept exactly)."""
        self._check("intermediates", name)
        if self.folder:
            target = self.folder / "results" / f"{name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(target, index=False)


def read_upstream(inputs_dir: str, notebook: str, name: str) -> pd.DataFrame | None:
    """A frame an earlier notebook of the build wrote (``<inputs_dir>/<notebook>/results/<name>``), or None on its own."""
    if not inputs_dir:
        return None
    path = Path(inputs_dir) / notebook / "results" / name
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)
