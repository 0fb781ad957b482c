"""Responders in words and tables (the computation is :mod:`vertebroplasty.statistics.responders`)."""

from __future__ import annotations

import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import pairwise
from vertebroplasty.writing import myst
from vertebroplasty.writing.sentences import pair_differs, pair_effect_text


def responders_table(frame: pd.DataFrame) -> str:
    """The responder shares as a list-table."""
    rows = []
    for r in frame.itertuples():
        difference = ("—" if pd.isna(r.risk_difference) else
                      f"{100 * r.risk_difference:.1f} ({100 * r.ci_low:.1f} to {100 * r.ci_high:.1f})")
        rows.append([dictionary.prose_label(r.variable), f"{r.threshold:g}{dictionary.difference_unit(r.variable)}",
                     f"{r.count_first} of {r.n_first} ({r.percent_first:.1f} %)" if r.n_first else "—",
                     f"{r.count_second} of {r.n_second} ({r.percent_second:.1f} %)" if r.n_second else "—", difference])
    return myst.list_table(["Score", "Improvement of at least", "Group A", "Group B",
                            "Difference, percentage points (95 % CI)"], rows, [22, 18, 18, 18, 24],
                           name="table-responders", caption="Patients whose pain or disability had improved since before surgery by at least "
                                                            "the minimal clinically important difference, at each timepoint "
                                                            "after surgery, by group.")


#: Share of both groups above which a threshold is reached by nearly everyone and cannot tell the groups apart.
CEILING = 0.9


def thresholds_text(thresholds: dict[str, float]) -> str:
    """Thresholds per score in words, one per score (the post-operative and final thresholds of a score are one).

    >>> thresholds_text({"vas_post": 1.5, "vas_final": 1.5, "odi_post": 10.0, "odi_final": 10.0})
    '1.5 points on the VAS and 10 percentage points on the ODI'
    """
    by_score = {}
    for variable, threshold in thresholds.items():
        score = dictionary.prose_label(variable).split(" ")[0]
        by_score.setdefault(score, f"{threshold:g}{dictionary.difference_unit(variable)} on the {score}")
    return myst.english_list(list(by_score.values()))


def importance_sentence(frame: pd.DataFrame, defaults: bool) -> str:
    """The sentence on whether the pain and disability differences matter to patients, from the responders (plain text:
    it is glued, so it carries no markup)."""
    if frame.empty:
        return "No pain or disability score with a pre-operative value was available to judge clinically important change."
    source = (" (the minimal clinically important differences the Methods cite)" if defaults
              else " (the thresholds given in the study description)")
    parts, differ, ceiling = [], [], []
    for r in frame.itertuples():
        label = dictionary.prose_label(r.variable)
        if pd.isna(r.risk_difference):
            parts.append(f"{label}: not computable")
            continue
        parts.append(f"{label} {r.percent_first:.1f} % vs {r.percent_second:.1f} % (difference {100 * r.risk_difference:.1f} "
                     f"percentage points, 95 % CI {100 * r.ci_low:.1f} to {100 * r.ci_high:.1f})")
        if r.ci_low > 0 or r.ci_high < 0:
            differ.append(f"{'more' if r.risk_difference > 0 else 'fewer'} patients of group A reached it for {label}")
        if min(r.percent_first, r.percent_second) >= 100 * CEILING:
            ceiling.append(label)
    thresholds = thresholds_text(dict(zip(frame["variable"], frame["threshold"])))
    text = (f"Whether a difference matters to patients is judged here by the share of each group whose score improved from "
            f"before surgery by at least {thresholds}{source}: {'; '.join(parts)}.")
    if differ:
        text += f" By those intervals, {myst.english_list(differ)}."
    else:
        text += " No interval excludes equal shares, so the data do not show that aspiration changes how many patients improve noticeably."
    if ceiling:
        text += (f" For {myst.english_list(ceiling)} at least {100 * CEILING:.0f} % of both groups improved by that much, so the "
                 "threshold is reached by nearly everyone and cannot tell the groups apart; the group differences and their "
                 "intervals (Table 2) are then the better guide to size.")
    return text


def types_importance_sentence(pairs: pd.DataFrame, results, thresholds: dict[str, float], defaults: bool) -> str:
    """The pairs of distribution types that differ in a pain or disability score — the score's overall test a finding
    under the testing rule (``results``: Table 3's :class:`~vertebroplasty.writing.sentences.Results`) and the pair's
    interval excluding zero — set against the score's clinically important difference: smaller over the whole
    interval, smaller with an interval that reaches it, or at least as large (plain text: it is glued).  Each pair is
    described as the pairwise sentences of the Results describe it (:func:`~vertebroplasty.writing.sentences.pair_effect_text`).

    A difference across the types can be clear and still smaller than the change a patient notices; a reader of the
    Results should not have to find the thresholds elsewhere to see it.
    """
    source = ("the minimal clinically important differences the Methods cite" if defaults
              else "the thresholds given in the study description")
    scored = pairs[pairs["variable"].isin(list(thresholds))] if len(pairs) else pairs
    if scored.empty:
        return "No pain or disability score with a clinically important difference was compared pair by pair across the types."
    compared = {variable: thresholds[variable] for variable in scored["variable"].unique()}
    kinds: dict[str, list[str]] = {"below": [], "reaching": [], "beyond": []}
    for variable, rows in scored.groupby("variable", sort=False):
        if variable not in results.tests.index or results.evidence(variable) != "significant":
            continue  # pairs after an overall test that is not a finding are exploratory: not weighed as differences
        for r in rows.itertuples():
            if not pair_differs(r, results.alpha):
                continue
            estimate, far = abs(pairwise.contrast(r)), max(abs(r.ci_low), abs(r.ci_high))
            kind = "below" if far < compared[variable] else "reaching" if estimate < compared[variable] else "beyond"
            kinds[kind].append(f"{dictionary.prose_label(variable)}, type {r.first} against type {r.second}: "
                               f"{pair_effect_text(r, dictionary.difference_unit(variable))}")
    against = f"Set against {source} ({thresholds_text(compared)})"
    if not any(kinds.values()):
        return (f"{against}, there is nothing to weigh: no pair of distribution types differed in pain or disability (an "
                "overall test that is a finding and a pair's interval that excludes zero).")
    total = sum(map(len, kinds.values()))
    sentences = []
    for kind, words in (("below", "by less than the threshold across the whole interval"),
                        ("reaching", "by less than the threshold, but the interval reaches it, so a difference of that size is not "
                                     "ruled out"),
                        ("beyond", "by at least the threshold")):
        count = len(kinds[kind])
        if count:
            amount = _NUMBER_WORDS[count] if count < len(_NUMBER_WORDS) else str(count)
            amount = "both" if count == total == 2 else f"all {amount}" if count == total > 2 else amount
            sentences.append(f"{amount[0].upper()}{amount[1:]} {'differs' if count == 1 else 'differ'} {words}: "
                             f"{'; '.join(kinds[kind])}.")
    between = ("differences between the types' mean scores" if scored["mean_difference"].notna().any()
               else "shifts between the types' scores (Hodges–Lehmann)")
    return (f"{against}, the pairs of distribution types that differed in pain or disability are weighed here. " + " ".join(sentences)
            + f" The thresholds are for change within one patient; these are {between}, not adjusted for the types' "
            "pre-operative scores, so the comparison is a yardstick of size, not a test.")


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
