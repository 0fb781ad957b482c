"""How the reproduction audit names what it checked: tables, strata, variables and p-values in a finding's words.

Kept apart from :mod:`vertebroplasty.paper.audit` (the checks) so that module stays about the arithmetic; the
sentences stay in the paper stage because every check writes its own (:mod:`vertebroplasty.writing.audit_text` lays
the findings out in the chapter).
"""

from __future__ import annotations

import re

from vertebroplasty.contract import dictionary


def _table_label(table: str) -> str:
    """``table3`` -> ``Table 3``; ``table2/table3`` -> ``Tables 2 and 3``."""
    numbers = re.findall(r"\d+", table)
    return f"Table {numbers[0]}" if len(numbers) == 1 else "Tables " + " and ".join(numbers)


def _stratum(code: str) -> str:
    """``A`` -> ``group A`` (Tables 1–2), ``dist_A`` -> ``type A`` (cement distribution, Table 3)."""
    return dictionary.level_phrase(*dictionary.parse_stratum(code))


def _strata(codes) -> str:
    return " vs ".join(_stratum(code) for code in codes)


def _name(variable: str) -> str:
    """The label for use inside a sentence: without its unit, lower case unless it starts with an acronym."""
    text = dictionary.prose_label(variable)
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def _subject(table: str, variable: str, stratum: str = "") -> str:
    return ", ".join(part for part in (_table_label(table), _name(variable), stratum) if part)


def _p(p: float, digits: int = 3) -> str:
    return f"{p:#.{digits}g}" if p >= 1e-4 else f"{p:.1e}"


def _p3(p: float) -> str:
    """A recomputed p in a finding's sentence, as the report prints p: three decimals, ``< 0.001`` below that.

    >>> _p3(0.9996), _p3(0.0561), _p3(0.0004)
    ('1.000', '0.056', '< 0.001')
    """
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _p4(p: float) -> str:
    """A recomputed p with four decimals, never printed as zero.

    >>> _p4(0.01234), _p4(0.00001)
    ('0.0123', '< 0.0001')
    """
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def _p_is(p: float) -> str:
    """``p = 0.0123`` or ``p < 0.0001``: the whole statement, so that a small p never reads "p = < 0.0001".

    >>> _p_is(0.01234), _p_is(0.00001)
    ('p = 0.0123', 'p < 0.0001')
    """
    text = _p4(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _p_range(low: float, high: float) -> str:
    """The attainable p-values from ``low`` to ``high``, in words.

    >>> _p_range(0.0761, 0.0829), _p_range(0.00001, 0.0001), _p_range(0.00001, 0.00002)
    ('0.0761–0.0829', 'up to 0.0001', 'below 0.0001')
    """
    if high < 0.0001:
        return "below 0.0001"
    return f"up to {_p4(high)}" if low < 0.0001 else f"{_p4(low)}–{_p4(high)}"


def _printed_p(reported: str) -> str:
    """``0.004*`` -> ``p = 0.004``; ``<0.01*`` -> ``p < 0.01``."""
    number = reported.rstrip("*")
    return f"p < {number[1:]}" if number.startswith("<") else f"p = {number}"
