"""Numbers as the report prints them: p-values, estimates with intervals, mean ± SD, counts with percentages.

The rule for decimals, everywhere in the book:

* Tables 1–3 print as the paper did, so that each cell can be set beside the published one: means, SDs, medians and
  percentages to 2 decimals, p to 3.
* Running text and every other table: differences, intervals, means and medians to 2 decimals; percentages and
  percentage-point differences to 1; η², ε², Cramér's V and risk differences as proportions to 3; odds ratios to 2, a
  bound that would round onto 1 with enough decimals to show its side (:func:`bound`).
* p: 3 decimals, below 0.001 as ``< 0.001`` (:func:`format_p`); never printed as zero.  The audit's own recomputed
  p-values keep 4 decimals (``< 0.0001``), since it compares them with printed ones.
* Signs are the true minus (:func:`true_minus`), and a number is joined to its unit (:func:`join_units`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from vertebroplasty.statistics import comparisons


def number_text(value) -> str:
    """A number for the CSV results: 10 significant digits, stable across runs; empty when missing.

    >>> number_text(1 / 3), number_text(np.nan), number_text(42)
    ('0.3333333333', '', '42')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return format(float(value), ".10g")


def table_label(table: str) -> str:
    """``table3`` -> ``Table 3``."""
    return table.replace("table", "Table ")


def patients(value: float) -> str:
    """A number of patients for a table: ``1,234``, or ``—`` when missing."""
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def format_p(p: float, star: bool = False) -> str:
    """p as the tables print it: three decimals, ``<0.001`` below that, ``—`` when not tested; ``*`` marks a finding.

    The star is given by the caller from the testing rule (:func:`vertebroplasty.statistics.testing_rule.is_finding`), never
    from p alone.

    >>> format_p(0.0004, star=True), format_p(0.034), format_p(float("nan"))
    ('<0.001\\\\*', '0.034', '—')
    """
    if p is None or pd.isna(p):
        return "—"
    text = "<0.001" if p < 0.001 else f"{p:.3f}"
    return text + ("\\*" if star else "")


def format_p_in_text(p: float) -> str:
    """p for running text: ``p < 0.001`` or ``p = 0.034`` (``not computable`` when missing)."""
    if p is None or pd.isna(p):
        return "not computable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def exact_p_text(test) -> str:
    """The exact (or Monte Carlo) p of a row in running text, with its test; a Monte Carlo p with its simulation error.

    >>> exact_p_text({"exact_test": "monte_carlo", "exact_p": 0.0312, "exact_p_error": 0.0017})[-43:]
    'p = 0.031 (simulation standard error 0.002)'
    """
    name = comparisons.TEST_NAMES[test["exact_test"]]
    text = f"{name}, {format_p_in_text(test['exact_p'])}"
    error = test.get("exact_p_error") if hasattr(test, "get") else None
    if test["exact_test"] == "monte_carlo" and error is not None and pd.notna(error):
        text += f" (simulation standard error {error:.3f})"
    return text


def mean_sd(mean: float, sd: float, n: int | None = None, expected_n: int | None = None) -> str:
    """``12.34 ± 5.67``, with the n used when it is less than the group's n (available cases)."""
    if pd.isna(mean):
        return "—"
    text = f"{mean:.2f} ± {sd:.2f}" if not pd.isna(sd) else f"{mean:.2f}"
    if n is not None and expected_n is not None and n < expected_n:
        text += f" (n = {n})"
    return text


def median_iqr(median: float, q1: float, q3: float, n: int | None = None, expected_n: int | None = None,
               words: bool = False) -> str:
    """``3.00 (2.00 to 4.00)`` — median and interquartile range — with the n used when it is less than the group's n;
    ``words`` names them for running text: ``median 3.00 (IQR 2.00 to 4.00)``.

    >>> median_iqr(3, 2, 4.5), median_iqr(3, 2, 4.5, 7, 9, words=True)
    ('3.00 (2.00 to 4.50)', 'median 3.00 (IQR 2.00 to 4.50; n = 7)')
    """
    if pd.isna(median):
        return "—"
    spread = f"{'IQR ' if words else ''}{q1:.2f} to {q3:.2f}"
    counted = f"; n = {n}" if n is not None and expected_n is not None and n < expected_n else ""
    return f"{'median ' if words else ''}{median:.2f} ({spread}{counted})"


#: Differences smaller than this are floating-point noise (a difference of two equal measurements computed apart).
NOISE = 1e-9


def bound(value: float, null: float, decimals: int = 2) -> str:
    """An interval's bound printed with enough decimals to show on which side of the ``null`` value it lies (at most
    four): an odds ratio's lower bound 0.996 prints as ``0.996``, not as ``1.00``, which would read as excluding 1.

    >>> bound(0.996, 1.0), bound(1.004, 1.0), bound(1.23, 1.0), bound(1.0, 1.0)
    ('0.996', '1.004', '1.23', '1.00')
    """
    if abs(value - null) < NOISE:  # at the null up to rounding noise: printed as the null
        return f"{null:.{decimals}f}"
    for places in range(decimals, 5):
        if round(value, places) != null:
            return f"{value:.{places}f}"
    return f"{value:.4f}"


def count_percent(count: int, percent: float) -> str:
    return f"{int(count)} ({percent:.2f} %)" if not pd.isna(percent) else f"{int(count)}"


def estimate(value: float, low: float, high: float, decimals: int = 2) -> str:
    """``1.23 (0.45 to 2.01)``; the value alone without an interval; ``—`` when missing."""
    if value is None or pd.isna(value):
        return "—"
    if low is None or pd.isna(low):
        return f"{value:.{decimals}f}"
    return f"{value:.{decimals}f} ({low:.{decimals}f} to {high:.{decimals}f})"


def signed(value: float, decimals: int = 2) -> str:
    """A number for running text with a true minus sign (U+2212): ``−3.10``; ``—`` when missing.

    >>> signed(-3.1), signed(0.456, 1), signed(float("nan"))
    ('−3.10', '0.5', '—')
    """
    if value is None or pd.isna(value):
        return "—"
    return true_minus(f"{value:.{decimals}f}")


#: Spans of MyST text whose characters are not prose: fenced blocks' option and code lines, inline code, roles'
#: targets, math.  A minus sign is typeset only outside them.
_LITERAL = re.compile(r"(```[^\n]*|^:[a-z-]+:[^\n]*$|``[^\n]*?``|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]+\$)", re.MULTILINE | re.DOTALL)
#: A hyphen-minus that is a number's sign: before a digit (or a decimal point and a digit), after a space, an opening
#: bracket, the start of a line or a sign of comparison — never inside a word, an identifier or a range (``SYN-001``, ``1-2``).
#: The sign of a number that rounds to zero (``-0.00``): printed as ``0.00``, since a rounded zero has no sign.
#: A backslash-escaped hyphen (``\\-``) is user text (see :func:`vertebroplasty.writing.myst.escape_markdown`) and stays as given.
_NEGATIVE_ZERO = re.compile(r"(?<![\w.\-/\\])-(?=0(?:\.0+)?(?![.\d]))")
_SIGN = re.compile(r"(?<![\w.\-/\\])-(?=\.?\d)")


_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])|(?<=s)'(?=[\s.,;:)]|$)")
_OPENING_QUOTE = re.compile(r'(?:(?<=^)|(?<=[\s(\[—–-]))"(?=\S)')
_CLOSING_QUOTE = re.compile(r'(?<!\\)"')  # an escaped quote (user text) stays straight


def curly_quotes(text: str) -> str:
    """Typographic apostrophes and double quotes in plain glued text (``Tukey's`` → ``Tukey’s``, ``"yes"`` → ``“yes”``),
    as Sphinx's smart quotes set them in the pages; code, math and roles are untouched.  Glued plain text reaches the
    page after Sphinx's smart-quotes pass, so the notebooks' writer applies this to it.

    >>> print(curly_quotes("Tukey's HSD, the patients' files, \\"significantly lower\\"; `a'b`; $x'$; 1990's"))
    Tukey’s HSD, the patients’ files, “significantly lower”; `a'b`; $x'$; 1990's
    """
    parts = _LITERAL.split(text)
    return "".join(part if index % 2 else _CLOSING_QUOTE.sub("”", _OPENING_QUOTE.sub("“", _APOSTROPHE.sub("’", part)))
                   for index, part in enumerate(parts))


_UNIT_AFTER_NUMBER = re.compile(r"(?<=\d) (?=(?:%|mm|mL|points|percentage points|years|days|months|min|kg/m²)(?![\w²]))")
_COUNT = re.compile(r"\bn = (?=\d)")  # "n = 67": a count kept on one line as well


def join_units(text: str) -> str:
    """A number and its unit kept on one line: the space between them becomes a no-break space (U+00A0), so neither
    the HTML nor the PDF breaks ``59.5 %`` or ``−1.75 mm`` at a line end; code and math are untouched.

    >>> join_units("59.5 % vs 36.6 %; 95 % CI; −1.75 mm; 10 percentage points; 5 patients; `3 mm`; 2.96; n = 67")
    '59.5\xa0% vs 36.6\xa0%; 95\xa0% CI; −1.75\xa0mm; 10\xa0percentage points; 5 patients; `3 mm`; 2.96; n\xa0=\xa067'
    """
    parts = _LITERAL.split(text)
    return "".join(part if index % 2 else _COUNT.sub("n\u00a0=\u00a0", _UNIT_AFTER_NUMBER.sub("\u00a0", part))
                   for index, part in enumerate(parts))


def true_minus(text: str) -> str:
    """Every number's sign in MyST prose and tables as the true minus sign (U+2212), which reads as a minus and, unlike
    the hyphen-minus, never lets a line break part the sign from its number; code, math and identifiers are untouched.
    Applied where text enters the book (the notebooks' writer); the CSV results keep ASCII numbers.

    >>> true_minus("difference -1.23 (-2.00 to -0.46); SYN-001; 2019-01; `-x`; $-1$; (−3)")
    'difference −1.23 (−2.00 to −0.46); SYN-001; 2019-01; `-x`; $-1$; (−3)'
    >>> true_minus("(-0.00 to 0.38); -0.004; -0.05; g -0.00")  # a rounded zero has no sign
    '(0.00 to 0.38); −0.004; −0.05; g 0.00'
    >>> true_minus("`` a`-2`.csv `` -2")  # a code span fenced by two backticks (a name holding one) is left as it is
    '`` a`-2`.csv `` −2'
    >>> true_minus("* - -0.5"), true_minus("centre \\\\-2 (user text, escaped)")  # a list-table cell keeps its bullet
    ('* - −0.5', 'centre \\\\-2 (user text, escaped)')
    """
    parts = _LITERAL.split(text)
    return "".join(part if index % 2 else _SIGN.sub("\u2212", _NEGATIVE_ZERO.sub("", part)) for index, part in enumerate(parts))
