"""The study's questions, answered one by one from the results and worded by the strength of the evidence.

Questions (those the source study set out to answer):

1. Does aspiration change how the cement is distributed (more type A)?
2. Does aspiration change pain during cementing?
3. Does aspiration reduce recompression after surgery (FVAHL, AVHLR, LKA loss)?
4. Is a type A distribution followed by less recompression than types B and C, pair by pair?

An answer is *yes* only when the difference is in the stated direction and survives the multiplicity adjustment
(Holm within its table; for question 4 the pairwise methods' own adjustment); *not after adjustment* when only
the unadjusted p is below alpha; *no evidence* otherwise; *not computable* when the test could not be run.
"""

from __future__ import annotations

import pandas as pd

from . import comparisons, dictionary, myst, paths, tables
from .sentences import Results, effect_text

RECOMPRESSION = ("fvahl", "avhlr", "lka_loss")
VERDICT_WORDS = {"yes": "Yes", "partly": "Partly", "not after adjustment": "Not after adjustment",
                 "no evidence": "Not shown (the interval includes no difference)", "opposite": "No — the opposite direction",
                 "not computable": "Not computable"}


def _lower_after_aspiration(test) -> bool:
    """Whether group A's values are lower, by the difference the sentence reports (Hodges–Lehmann for Mann–Whitney rows)."""
    return (test["hodges_lehmann"] if test["test"] == "mann_whitney" else test["mean_difference"]) < 0


def _verdict(results: Results, variable: str, wanted_lower: bool = True) -> str:
    evidence = results.evidence(variable)
    if evidence == "not computable":
        return "not computable"
    test = results.test(variable)
    lower = _lower_after_aspiration(test)
    if evidence == "significant" and lower != wanted_lower:
        return "opposite"
    return {"significant": "yes", "unadjusted": "not after adjustment", "none": "no evidence"}[evidence]


def type_a_share(data: pd.DataFrame, confidence: float = 0.95) -> pd.Series:
    """The share of type A distributions compared between the groups (type A against B or C), one test row.

    Only its risk difference and interval are used (the test of the distribution is Table 1's).
    """
    frame = pd.DataFrame({"group": data["group"], "type_a": (data["cement_distribution"].astype(str) == "A").map({True: "yes", False: "no"})})
    return comparisons.compare_proportions(frame, "type_a", "group", "chi2", confidence).iloc[0]


def distribution_answer(table1: Results, share: pd.Series) -> tuple[str, str]:
    evidence = table1.evidence("cement_distribution")
    described = table1.described("cement_distribution").reset_index()
    percent = described[described["category"] == "A"].set_index("level")["percent"]
    a, b = percent.get("A", float("nan")), percent.get("B", float("nan"))
    share_text = (f"type A in {a:.1f} % of group A and {b:.1f} % of group B (difference {share['risk_difference'] * 100:.1f} percentage "
                  f"points, 95 % CI {share['risk_difference_ci_low'] * 100:.1f} to {share['risk_difference_ci_high'] * 100:.1f})"
                  if pd.notna(share["risk_difference"]) else f"type A in {a:.1f} % of group A and {b:.1f} % of group B")
    if evidence == "not computable":
        return "not computable", f"The distribution types could not be compared ({table1.test('cement_distribution')['reason']})."
    more_a = a > b
    p_text = table1.p_text("cement_distribution")
    if evidence == "significant":
        verdict = "yes" if more_a else "opposite"
        where = ("with more type A distributions after aspiration" if more_a else
                 "but not towards type A: type A was less frequent after aspiration")
        return verdict, f"The distribution types differed between the groups ({p_text}), {where}: {share_text}."
    if evidence == "unadjusted":
        return "not after adjustment", (f"The distribution types differed at the unadjusted level only ({p_text}): {share_text}; the "
                                        "difference does not survive adjustment for the number of outcomes tested.")
    return "no evidence", f"The distribution types did not differ significantly between the groups ({p_text}): {share_text}."


def outcome_answer(results: Results, variable: str) -> tuple[str, str]:
    label = dictionary.prose_label(variable)
    verdict = _verdict(results, variable)
    test = results.test(variable)
    if verdict == "not computable":
        return verdict, f"{label} could not be compared ({test['reason']})."
    effect = effect_text(test, dictionary.difference_unit(variable))
    direction = "lower" if _lower_after_aspiration(test) else "higher"
    words = {"yes": f"{label} was lower after aspiration", "opposite": f"{label} was higher after aspiration",
             "not after adjustment": f"{label} was {direction} after aspiration at the unadjusted level only",
             "no evidence": f"{label} did not differ significantly between the groups"}[verdict]
    return verdict, f"{words} ({effect}; {results.p_text(variable)})."


def combine(verdicts: list[str]) -> str:
    """One verdict for a question answered by several outcomes."""
    if all(v == "yes" for v in verdicts):
        return "yes"
    if any(v in ("yes", "partly") for v in verdicts):
        return "partly"
    if any(v == "not after adjustment" for v in verdicts):
        return "not after adjustment"
    if all(v == "not computable" for v in verdicts):
        return "not computable"
    return "opposite" if any(v == "opposite" for v in verdicts) else "no evidence"


def type_a_answer(pairs: pd.DataFrame, alpha: float) -> tuple[str, str]:
    parts, verdicts = [], []
    for variable in RECOMPRESSION:
        rows = pairs[(pairs["variable"] == variable) & (pairs["first"] == "A")]
        label = dictionary.prose_label(variable)
        if rows.empty:
            parts.append(f"{label}: not computable")
            verdicts.append("not computable")
            continue
        unit = dictionary.difference_unit(variable)
        better = [r for r in rows.itertuples() if r.p_adjusted < alpha and r.mean_difference < 0]
        found = "; ".join(f"against type {r.second} {r.mean_difference:.2f}{unit}"
                          + (f" (95 % CI {r.ci_low:.2f} to {r.ci_high:.2f}" if pd.notna(r.ci_low) else " (")
                          + f"{', ' if pd.notna(r.ci_low) else ''}adjusted {tables.format_p_in_text(r.p_adjusted)})"
                          for r in rows.itertuples())
        verdicts.append("yes" if len(better) == len(rows) == 2 else "partly" if better else "no evidence")
        parts.append(f"{label} ({rows['method'].iloc[0]}): {found}")
    return combine(verdicts), f"Type A against the other types, pair by pair — {'. '.join(parts)}."


def answers(table1: Results, table2: Results, pairs: pd.DataFrame, share: pd.Series, alpha: float) -> pd.DataFrame:
    """The four questions with a verdict and a sentence each: ``question, topic, verdict, sentence``."""
    rows = []
    verdict, sentence = distribution_answer(table1, share)
    rows.append(("Does aspiration change the distribution of the cement?", "cement distribution", verdict, sentence))
    verdict, sentence = outcome_answer(table2, "vas_op")
    rows.append(("Does aspiration change pain during cementing?", "pain during cementing", verdict, sentence))
    outcomes = [outcome_answer(table2, variable) for variable in RECOMPRESSION]
    rows.append(("Does aspiration reduce recompression after surgery?", "recompression",
                 combine([v for v, _ in outcomes]), " ".join(s for _, s in outcomes)
                 + " FVAHL and AVHLR are two measures of the same loss of anterior height, in millimetres and as a ratio."))
    verdict, sentence = type_a_answer(pairs, alpha)
    rows.append(("Is type A followed by less recompression than types B and C?", "type A against B and C", verdict, sentence))
    return pd.DataFrame(rows, columns=["question", "topic", "verdict", "sentence"])


def conclusions_text(answered: pd.DataFrame, synthetic: bool = False) -> str:
    """The Conclusions section: each question with its answer, then one closing statement worded by the verdicts."""
    lines = [f"{index}. **{row.question}** {VERDICT_WORDS[row.verdict]}. {row.sentence}" for index, row in enumerate(answered.itertuples(), 1)]
    supported = [row.topic for row in answered.itertuples() if row.verdict == "yes"]
    partly = [row.topic for row in answered.itertuples() if row.verdict == "partly"]
    if supported:
        closing = f"After adjustment for multiple comparisons, the data show differences in {myst.english_list(supported)}"
        closing += f", and in part in {myst.english_list(partly)}." if partly else "."
    elif partly:
        closing = f"After adjustment for multiple comparisons, the data show differences in part in {myst.english_list(partly)} only."
    else:
        closing = "After adjustment for multiple comparisons, the data show none of the differences asked about."
    closing += (" These are associations in an observational comparison, not proven effects of aspiration: the groups were not "
                "shown to be comparable in every respect, and the confidence intervals, not the p-values alone, give the size "
                "of what is compatible with the data.")
    if synthetic:
        closing += (" With the synthetic default data these answers re-test the published summaries, which the synthetic cohort "
                    "reproduces by construction; they are not new evidence.")
    return "\n".join(lines) + "\n\n" + closing


def headline_list(answered: pd.DataFrame) -> str:
    """The summary's key results: one bullet per question."""
    return "\n".join(f"- **{row.topic[0].upper() + row.topic[1:]}** — {VERDICT_WORDS[row.verdict].lower()}: {row.sentence}"
                     for row in answered.itertuples())


def beside_paper(answered: pd.DataFrame) -> str:
    """The source study's conclusions (paraphrased, ``data/published/conclusions.csv``) beside this report's answers."""
    paper = pd.read_csv(paths.PUBLISHED / "conclusions.csv", dtype=str, keep_default_na=False).set_index("topic")
    rows = [[row.topic[0].upper() + row.topic[1:], myst.escape_markdown(paper.loc[row.topic, "paper"]) if row.topic in paper.index else "—",
             VERDICT_WORDS[row.verdict]] for row in answered.itertuples()]
    return myst.list_table(["Question", "The source study concluded (paraphrased)", "This report's answer"], rows, [25, 50, 25])
