"""The audit chapter as a reviewer's report: numbered findings ranked by consequence with a synthesis, a summary, the full check table."""

from __future__ import annotations

import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.writing import myst

#: A heading per consequence (:data:`vertebroplasty.paper.audit.CONSEQUENCES`), most serious first.
CONSEQUENCE_HEADINGS = {
    "undermines a conclusion": "Findings that undermine a conclusion of the paper",
    "misstates a result": "Findings that misstate a result",
    "changes a result's significance": "Findings that change whether a result is significant",
    "misprint, conclusions unchanged": "Misprints that leave the conclusions unchanged",
}


def findings_text(findings: pd.DataFrame) -> str:
    """Numbered findings ranked by consequence, one paragraph each with a label other pages link to, under a heading
    per consequence, and a closing synthesis of what they mean for the paper's conclusions (MyST)."""
    if findings.empty:
        return "The audit found no inconsistency."
    blocks = []
    for consequence, part in findings.groupby("consequence", sort=False):
        blocks.append(f"### {CONSEQUENCE_HEADINGS.get(consequence, consequence)}")
        for row in part.itertuples():
            blocks.append(f"({row.anchor})=\n**Finding {row.number}.** {myst.escape_markdown(row.sentence)}")
    blocks += ["### What the findings mean for the paper", synthesis(findings)]
    return "\n\n".join(blocks)


def _numbers(part: pd.DataFrame) -> str:
    """``finding 5``, ``findings 1–4``, ``findings 2, 5 and 7``: consecutive numbers as a range.

    >>> _numbers(pd.DataFrame({"number": [6, 7, 8, 9]})), _numbers(pd.DataFrame({"number": [2, 3, 7]}))
    ('findings 6–9', 'findings 2, 3 and 7')
    """
    numbers = sorted(int(n) for n in part["number"])
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"findings {numbers[0]}–{numbers[-1]}"
    return ("finding " if len(numbers) == 1 else "findings ") + myst.english_list([str(n) for n in numbers])


def _labels(part: pd.DataFrame) -> str:
    return myst.escape_markdown(myst.english_list([dictionary.prose_label(v) for v in dict.fromkeys(part["variable"])]))


def synthesis(findings: pd.DataFrame) -> str:
    """What the findings do to the paper's conclusions, from their consequences (plain MyST paragraph)."""
    by = {consequence: findings[findings["consequence"] == consequence] for consequence in CONSEQUENCE_HEADINGS}
    sentences = []
    undermining = by["undermines a conclusion"]
    if len(undermining):
        sentences.append(f"The text's claims that one cement-distribution type differs from each of the others are not borne out pair "
                         f"by pair for {_labels(undermining)} ({_numbers(undermining)}); the conclusion drawn from them "
                         "— that a type A distribution is followed by less recompression than types B and C — therefore "
                         "rests on comparisons the paper's own numbers do not support.")
    misstating = by["misstates a result"]
    if len(misstating):
        sentences.append(f"The text reverses or overstates what the tables show for {_labels(misstating).lower()} "
                         f"({_numbers(misstating)}); the tables, not the text, should be read.")
    flipping = by["changes a result's significance"]
    if len(flipping):
        sentences.append(f"{len(flipping)} printed p-value{'s' if len(flipping) > 1 else ''} would fall on the other side of "
                         f"0.05 if recomputed ({_numbers(flipping)}), so the corresponding result changes.")
    misprints = by["misprint, conclusions unchanged"]
    if len(misprints):
        which = f"The remaining {len(misprints)}" if len(misprints) < len(findings) else f"All {len(misprints)} findings"
        sentences.append(f"{which} ({_numbers(misprints)}) are misprinted p-values or markers whose "
                         "recomputed values lie on the same side of 0.05: they change no conclusion, but they show that the "
                         "printed p-values were not all computed from the printed summaries.")
    if not len(undermining) and not len(misstating) and not len(flipping):
        sentences.append("No finding changes a conclusion of the paper.")
    return " ".join(sentences)


def summary_table(checks: pd.DataFrame) -> str:
    """Checks by kind of check and verdict, as a list-table."""
    table = checks.groupby(["check", "verdict"]).size().unstack(fill_value=0).reset_index()
    verdicts = [c for c in ("consistent", "inconsistent", "not-checkable") if c in table.columns]
    rows = [[myst.escape_markdown(r["check"]), *[str(int(r[v])) for v in verdicts]] for _, r in table.iterrows()]
    return myst.list_table(["Check", *verdicts], rows, [55] + [15] * len(verdicts), name="audit-checks-by-kind",
                           caption="The audit's checks by kind and verdict.")


def checks_table(checks: pd.DataFrame) -> str:
    """Every check with plain labels (the appendix); the CSV keeps the complete columns."""
    columns = {"table_label": "Table", "label": "Variable", "check": "Check", "published": "Published", "recomputed": "Recomputed",
               "verdict": "Verdict", "note": "Note"}
    frame = checks.assign(recomputed=checks["recomputed"].map(never_zero))
    frame = frame[[c for c in columns if c in frame.columns]].rename(columns=columns)
    return myst.frame_table(frame, [8, 14, 18, 14, 14, 10, 22][: len(frame.columns)], own_text=True,  # the audit's own text
                            name="audit-all-checks", caption="Every check of the audit: the published value, the value recomputed "
                                                             "and the verdict.")


def never_zero(text: str) -> str:
    """A recomputed value as the appendix prints it: a p rounded to zero at four decimals reads ``< 0.0001``.

    >>> never_zero("0.0000"), never_zero("Tukey–Kramer p = 0.0000; Games–Howell p = 0.0250"), never_zero("0.0312")
    ('< 0.0001', 'Tukey–Kramer p < 0.0001; Games–Howell p = 0.0250', '0.0312')
    """
    text = str(text)
    if text.strip() == "0.0000":
        return "< 0.0001"
    return text.replace("p = 0.0000", "p < 0.0001")
