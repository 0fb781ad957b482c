"""MyST markdown building blocks: escaping user-supplied text, list-tables, code spans, English lists."""

from __future__ import annotations

import re

import pandas as pd


def escape_markdown(text: str) -> str:
    """Escape user-supplied text (file names, patient IDs, study text) for MyST markdown and HTML: markup characters
    and the characters the report's typography would otherwise reset (a hyphen before a digit, straight quotes) are
    backslash-escaped, so the text is shown exactly as given.

    >>> print(escape_markdown("a<b>_c -2 \\"x\\" it's"))
    a&lt;b&gt;\\_c \\-2 \\"x\\" it\\'s
    """
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]()#+!|$~'\"-])", r"\\\1", text)


def sentence(text: str) -> str:
    """Text from a user's file made one sentence: spaces folded, a capital first letter, one closing full stop.

    >>> sentence("  allocation was not randomised.. "), sentence("radiographs at 1, 6 and 12 months"), sentence("")
    ('Allocation was not randomised.', 'Radiographs at 1, 6 and 12 months.', '')
    """
    text = " ".join(str(text).split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if text.endswith(("?", "!")):
        return text
    return text.rstrip(" .;,:") + "."


def clause(text: str) -> str:
    """Text from a user's file to be continued inside a sentence: spaces folded, no closing punctuation.

    >>> clause("Two radiologists, blinded to the group. ")
    'Two radiologists, blinded to the group'
    """
    return " ".join(str(text).split()).rstrip(" .;,:")


def code_span(text: str) -> str:
    """User-supplied text as a MyST code span: shown literally (and HTML-escaped by the builder).  A text holding
    single backticks is fenced by two (CommonMark), so it is shown as given; only a run of two or more backticks, which
    no fence of this package would delimit, is shown as apostrophes.

    >>> print(code_span("a.csv"), code_span("a`b`.csv"), code_span("`x"))
    `a.csv` `` a`b`.csv `` `` `x ``
    """
    text = str(text).replace("\n", " ")
    if "``" in text:
        text = text.replace("`", "'")
    if "`" not in text:
        return f"`{text}`"
    return f"`` {text} ``"


#: Tables with more rows than this are set as LaTeX longtables, which break across pages (a tabular would run off one).
LONG_TABLE_ROWS = 18


def list_table(header: list[str], rows: list[list[str]], widths: list[int], *, caption: str, name: str = "",
               empty: str = "Nothing to show: no row could be computed from these data.") -> str:
    """A MyST list-table with relative column widths, so long cells wrap in the PDF as in HTML.

    Every table has a ``caption``, which numbers it (Sphinx in the HTML, LaTeX in the PDF, in the order of the pages),
    and a ``name`` to refer to it by (``{numref}`name```).

    Without rows there is no table (Sphinx refuses a table of headers only): the ``empty`` sentence stands in its place.

    >>> list_table(["a"], [], [1], caption="Plans.", empty="No outcome to plan from.")
    'No outcome to plan from.'
    """
    if not rows:
        return empty
    if not caption.strip():
        raise ValueError("every table of the report has a caption (it numbers the table)")

    def cell(text: str) -> str:  # a cell must not start like a list item ("-1.2", "3. ") or a comment ("%")
        text = re.sub(r"^(\d+)([.)])(\s|$)", r"\1\\\2\3", str(text))
        text = re.sub(r"^-(?=\.?\d)", "\u2212", text)  # a number's sign: the true minus, which no list item starts with
        return "\\" + text if text[:1] in "-+*%" and text else text  # "%" would start a MyST comment and empty the cell

    lines = [f"```{{list-table}} {caption}".rstrip(), ":header-rows: 1", f":widths: {' '.join(map(str, widths))}"]
    if len(rows) > LONG_TABLE_ROWS:  # may run over a page in the PDF: a LaTeX longtable breaks there, repeating its header
        lines.append(":class: longtable")
    if name:
        lines.append(f":name: {name}")
    lines.append("")
    for row in [header, *rows]:
        lines.append(f"* - {cell(row[0])}")
        lines += [f"  - {cell(value)}" for value in row[1:]]
    lines.append("```")
    return "\n".join(lines)


def frame_table(frame: pd.DataFrame, widths: list[int] | None = None, *, caption: str, name: str = "",
                own_text: bool = False) -> str:
    """A frame as a MyST list-table (cells escaped); equal column widths unless ``widths`` are given; the ``caption``
    numbers it (with ``name`` as its label).  Cells are taken for user text, kept as typed; ``own_text`` (a frame the
    report wrote itself) gives their numbers the true minus sign before escaping, as the rest of the report has."""
    from vertebroplasty.writing.numbers import true_minus

    typeset = true_minus if own_text else str
    rows = [[escape_markdown(typeset(value)) or "—" for value in row] for row in frame.astype(str).to_numpy()]
    return list_table([str(column) for column in frame.columns], rows, widths or [1] * len(frame.columns), name=name, caption=caption)


def english_list(items: list[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``.

    >>> english_list(["x", "y", "z"])
    'x, y and z'
    """
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def article(word: str) -> str:
    """``a`` or ``an`` before a word, by how it is spoken (``an 86-year-old``, ``a 63-year-old``, ``an 18-year-old``).

    >>> article("86-year-old"), article("63-year-old"), article("8-year-old"), article("11-year-old"), article("type A")
    ('an', 'a', 'an', 'an', 'a')
    """
    number = re.match(r"\d+", word)
    if number:
        digits = number.group()
        spoken_with_vowel = digits.startswith("8") or digits in ("11", "18") or (len(digits) % 3 == 2 and digits.startswith(("11", "18")))
        return "an" if spoken_with_vowel else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"
