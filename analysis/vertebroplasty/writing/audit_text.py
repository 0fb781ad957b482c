"""The audit chapter as a reviewer's report: numbered findings grouped by kind, a summary, the full check table."""

from __future__ import annotations

import pandas as pd

from vertebroplasty.writing import myst

KIND_HEADINGS = {
    "impossible p-value": "p-values the published summaries cannot produce",
    "missing or wrong marker": "Significance markers",
    "text contradicts table": "Statements of the text that contradict the tables",
    "unsupported claim": "Claims the published numbers do not support",
    "identity": "Identities between numbers",
    "other": "Other findings",
}


def findings_text(findings: pd.DataFrame) -> str:
    """Numbered findings, one paragraph each with a label other pages link to, under a heading per kind (MyST)."""
    if findings.empty:
        return "The audit found no inconsistency."
    blocks = []
    for kind, part in findings.groupby("kind", sort=False):
        blocks.append(f"### {KIND_HEADINGS.get(kind, kind).capitalize()}")
        for row in part.itertuples():
            blocks.append(f"({row.anchor})=\n**Finding {row.number}.** {myst.escape_markdown(row.sentence)}")
    return "\n\n".join(blocks)


def summary_table(checks: pd.DataFrame) -> str:
    """Checks by kind of check and verdict, as a list-table."""
    table = checks.groupby(["check", "verdict"]).size().unstack(fill_value=0).reset_index()
    verdicts = [c for c in ("consistent", "inconsistent", "not-checkable") if c in table.columns]
    rows = [[myst.escape_markdown(r["check"]), *[str(int(r[v])) for v in verdicts]] for _, r in table.iterrows()]
    return myst.list_table(["Check", *verdicts], rows, [55] + [15] * len(verdicts))


def checks_table(checks: pd.DataFrame) -> str:
    """Every check with plain labels (the appendix); the CSV keeps the complete columns."""
    columns = {"table_label": "Table", "label": "Variable", "check": "Check", "published": "Published", "recomputed": "Recomputed",
               "verdict": "Verdict", "note": "Note"}
    frame = checks.assign(recomputed=checks["recomputed"].map(never_zero))
    frame = frame[[c for c in columns if c in frame.columns]].rename(columns=columns)
    return myst.frame_table(frame, [8, 14, 18, 14, 14, 10, 22][: len(frame.columns)])


def never_zero(text: str) -> str:
    """A recomputed value as the appendix prints it: a p rounded to zero at four decimals reads ``< 0.0001``.

    >>> never_zero("0.0000"), never_zero("Tukey–Kramer p = 0.0000; Games–Howell p = 0.0250"), never_zero("0.0312")
    ('< 0.0001', 'Tukey–Kramer p < 0.0001; Games–Howell p = 0.0250', '0.0312')
    """
    text = str(text)
    if text.strip() == "0.0000":
        return "< 0.0001"
    return text.replace("p = 0.0000", "p < 0.0001")
