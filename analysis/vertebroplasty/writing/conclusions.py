"""The study's questions, answered one by one from the results and worded by the strength of the evidence.

Questions (those the source study set out to answer):

1. Does aspiration change how the cement is distributed (more type A)?
2. Does aspiration change pain during cementing?
3. Does aspiration reduce recompression after surgery (FVAHL, AVHLR, LKA loss)?
4. Is a type A distribution followed by less recompression than types B and C, pair by pair?

Every answer follows the report's testing rule (:mod:`vertebroplasty.statistics.testing_rule`): *yes* only when the outcome is a
finding under the rule (the primary outcome at alpha, a secondary outcome after Holm's adjustment) and the interval of
that very contrast lies on the stated side of no difference; *partly* when some but not all of a question's outcomes
(or, for the distribution, the distribution but not the type-A share) are; *not after adjustment* when p is below
alpha but the row is not a finding under the rule; *baseline imbalance* when the difference disappears once the
pre-operative value is taken into account; *no evidence* otherwise; *not computable* when the test could not be run.
Pairwise comparisons of the types count only for an outcome whose overall test across the types is a finding.
"""

from __future__ import annotations

import pandas as pd

from vertebroplasty import paths
from vertebroplasty.contract import dictionary
from vertebroplasty.statistics import pairwise
from vertebroplasty.writing import myst, numbers, sentences
from vertebroplasty.writing.sentences import Results, effect_text

RECOMPRESSION = ("fvahl", "avhlr", "lka_loss")
VERDICT_WORDS = {"yes": "Yes", "partly": "Partly", "not after adjustment": "Not after the adjustment for multiple testing",
                 "baseline imbalance": "Not once the pre-operative value is taken into account",
                 "no evidence": "Not shown", "opposite": "No — the opposite direction",
                 "not computable": "Not computable"}


#: The distribution verdicts that rest on a difference the data show: only these carry the adjusted odds ratio's caution
#: (in the answer's sentence and, flagged, in the Summary).
DIFFERENCE_SHOWN = ("yes", "partly", "opposite")

#: How the closing sentences name each question's topic.
TOPIC_PHRASES = {"cement distribution": "the distribution of the cement", "pain during cementing": "pain during cementing",
                 "recompression": "recompression after surgery between the treatment groups",
                 "type A against B and C": "recompression after a type A distribution compared with types B and C"}


def topic_phrase(topic: str) -> str:
    return TOPIC_PHRASES.get(topic, topic)


def _lower_after_aspiration(test) -> bool:
    """Whether group A's values are lower, by the difference the sentence reports (Hodges–Lehmann for Mann–Whitney rows)."""
    return (test["hodges_lehmann"] if test["test"] == "mann_whitney" else test["mean_difference"]) < 0


def baseline_estimate(adjusted: pd.DataFrame | None, variable: str) -> pd.Series | None:
    """The baseline-adjusted (ANCOVA) row of ``variable`` in ``results/adjusted.csv``'s frame, if there is one with an estimate."""
    if adjusted is None:
        return None
    rows = adjusted[(adjusted["variable"] == variable) & (adjusted["model"] == "baseline")]
    return rows.iloc[0] if len(rows) and pd.notna(rows.iloc[0]["ci_low"]) else None


def _verdict(results: Results, variable: str, wanted_lower: bool = True) -> str:
    evidence = results.evidence(variable)
    if evidence == "not computable":
        return "not computable"
    direction = results.direction(variable)
    if evidence == "significant" and direction:
        if (direction == "lower") != wanted_lower:
            return "opposite"
        return "yes"
    if variable in results.explained:  # not a finding: its difference disappears once the pre-operative value is adjusted for
        return "baseline imbalance"
    if evidence in ("significant", "unadjusted") and direction:
        return "not after adjustment"
    return "no evidence"


def type_a_share(table1) -> pd.Series:
    """The share of type A distributions compared between the groups: the type-A row of Table 1's per-category risk
    differences (Newcombe interval), or missing values when there is none."""
    row = table1.category_difference("cement_distribution", "A")
    if row is None:
        return pd.Series({"risk_difference": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
                          "percent_first": float("nan"), "percent_second": float("nan")})
    return row


def adjusted_share_caution(adjusted: pd.DataFrame | None) -> bool:
    """Whether the confounder-adjusted odds ratio of a type A distribution has an interval that includes 1."""
    if adjusted is None:
        return False
    rows = adjusted[(adjusted["variable"] == "type_a_share") & (adjusted["model"] == "confounders")]
    return bool(len(rows)) and pd.notna(rows.iloc[0]["ci_low"]) and rows.iloc[0]["ci_low"] <= 1 <= rows.iloc[0]["ci_high"]


def adjusted_share_text(adjusted: pd.DataFrame | None, difference_shown: bool = True) -> str:
    """The confounder-adjusted odds ratio of a type A distribution, in words ('' when there is none); when the unadjusted
    comparison showed a difference (``difference_shown``) and the adjusted interval reaches 1, the caution that follows."""
    if adjusted is None:
        return ""
    rows = adjusted[(adjusted["variable"] == "type_a_share") & (adjusted["model"] == "confounders")]
    if rows.empty or pd.isna(rows.iloc[0]["ci_low"]):
        return ""
    row = rows.iloc[0]
    from vertebroplasty.writing.adjusted_text import confounder_names

    covariates = [c.strip() for c in str(row.get("covariates", "")).split(",") if c.strip()]
    named = confounder_names(covariates) if covariates else "the confounders"
    text = (f" Adjusted for {named}, the odds of a type A distribution in group A were "
            f"{row['estimate']:.2f} times those in group B (95 % CI {numbers.bound(row['ci_low'], 1.0)} to "
            f"{numbers.bound(row['ci_high'], 1.0)}, "
            f"{numbers.format_p_in_text(row['p'])})")
    if difference_shown and adjusted_share_caution(adjusted):  # the sensitivity analysis does not carry the answer: say so
        return text + (f"; that interval reaches the null (an odds ratio of 1), so after adjustment for {named} the "
                       "difference is no longer shown, and the answer should be read with that caution.")
    return text + "."


def first_prediction(table1: Results, table2: Results, share: pd.Series) -> str:
    """The Discussion's reading of the mechanism's first prediction — more type A without more cement — from the type-A
    share, the cement volume and leakage, each direction worded by its own interval (the numbers are in the Results)."""
    a, b = share["percent_first"], share["percent_second"]
    if pd.isna(share["ci_low"]):
        parts = ["the share of type A distributions could not be compared"]
    else:
        moved = sentences.interval_direction(share["ci_low"], share["ci_high"])
        parts = [f"the share of type A distributions was {moved} after aspiration ({a:.1f} % vs {b:.1f} %)" if moved else
                 f"the share of type A distributions did not differ by its own interval ({a:.1f} % vs {b:.1f} %)"]
    if "cement_volume_ml" in table1.tests.index and not table1.test("cement_volume_ml")["reason"]:
        volume = table1.direction("cement_volume_ml")
        parts.append({"lower": "the cement volume was lower, so a wider spread did not come from more cement",
                      "higher": "the cement volume was higher, so a wider spread may owe as much to the volume as to aspiration",
                      "": "the cement volume did not differ by its interval"}[volume])
    if "cement_leakage" in table2.tests.index and not table2.test("cement_leakage")["reason"]:
        leakage = sentences.interval_direction(table2.test("cement_leakage")["risk_difference_ci_low"],
                                               table2.test("cement_leakage")["risk_difference_ci_high"])
        parts.append(f"leakage was {'more' if leakage == 'higher' else 'less'} frequent after aspiration" if leakage else
                     "leakage was not shown to be more or less frequent")
    return f"On the first prediction, in this cohort {myst.english_list(parts)} (Tables 1 and 2 give the values and intervals)."


def distribution_answer(table1: Results, share: pd.Series, adjusted: pd.DataFrame | None = None) -> tuple[str, str]:
    """Question 1: whether the distribution differs (the test), and which types' shares differ (their own intervals)."""
    verdict, sentence = _distribution_answer(table1, share)
    shown = verdict in DIFFERENCE_SHOWN  # a caution after "not shown" would caution about nothing
    return verdict, sentence + (adjusted_share_text(adjusted, shown) if verdict != "not computable" else "")


def _distribution_answer(table1: Results, share: pd.Series) -> tuple[str, str]:
    if table1.evidence("cement_distribution") == "not computable":
        return "not computable", f"The distribution types could not be compared ({table1.test('cement_distribution')['reason']})."
    evidence = table1.evidence("cement_distribution")
    a, b = share["percent_first"], share["percent_second"]
    share_text = (f"type A in {a:.1f} % of group A and {b:.1f} % of group B (difference {share['risk_difference'] * 100:.1f} percentage "
                  f"points, 95 % CI {share['ci_low'] * 100:.1f} to {share['ci_high'] * 100:.1f})" if pd.notna(share["ci_low"]) else
                  "type A could not be compared")
    named, codes = (sentences.category_differences_text(table1.differences, "cement_distribution", "A")
                    if table1.differences is not None else ("", []))
    p_text = table1.p_text("cement_distribution")
    type_a_more = "A" in codes and share["risk_difference"] > 0
    type_a_fewer = "A" in codes and share["risk_difference"] < 0
    if evidence == "significant":
        if type_a_more:
            return "yes", f"The distribution types differed between the groups ({p_text}): {named}."
        if type_a_fewer:
            return "opposite", f"The distribution types differed between the groups ({p_text}), but not towards type A: {named}."
        where = (f"the difference lies elsewhere: {named}" if named else "no single type's share differs by its own interval")
        return "partly", (f"The distribution types differed between the groups ({p_text}), but the share of type A did not differ "
                          f"by its own interval ({share_text}); {where}.")
    if evidence == "unadjusted":
        return "not after adjustment", (f"The distribution types gave p below {table1.alpha:g} ({p_text}), but "
                                        f"{table1.why_not_a_finding('cement_distribution')}: {share_text}.")
    return "no evidence", f"The distribution types did not differ significantly between the groups ({p_text}): {share_text}."


def outcome_answer(results: Results, variable: str, adjusted: pd.DataFrame | None = None) -> tuple[str, str]:
    label = dictionary.prose_label(variable)
    verdict = _verdict(results, variable)
    test = results.test(variable)
    if verdict == "not computable":
        return verdict, f"{label} could not be compared ({test['reason']})."
    unit = dictionary.difference_unit(variable)
    effect = effect_text(test, unit)
    direction = results.direction(variable)
    baseline = baseline_estimate(adjusted, variable)
    baseline_text = (f"; adjusted for its pre-operative value, difference {baseline['estimate']:.2f}{unit}, 95 % CI "
                     f"{baseline['ci_low']:.2f} to {baseline['ci_high']:.2f}" if baseline is not None else "")
    words = {"yes": f"{label} was lower after aspiration", "opposite": f"{label} was higher after aspiration",
             "baseline imbalance": (f"{label} was {direction} after aspiration, but the difference is no longer shown once the pre-operative "
                                    "value is taken into account: a baseline imbalance, not a treatment finding"),
             "not after adjustment": f"{label} was {direction} after aspiration, but {results.why_not_a_finding(variable)}",
             "no evidence": f"{label} did not differ significantly between the groups"}[verdict]
    return verdict, f"{words} ({effect}; {results.p_text(variable)}{baseline_text})."


def combine(verdicts: list[str]) -> str:
    """One verdict for a question answered by several outcomes."""
    if all(v == "yes" for v in verdicts):
        return "yes"
    if any(v in ("yes", "partly") for v in verdicts):
        return "partly"
    if any(v == "not after adjustment" for v in verdicts):
        return "not after adjustment"
    if any(v == "baseline imbalance" for v in verdicts):
        return "baseline imbalance"
    if all(v == "not computable" for v in verdicts):
        return "not computable"
    return "opposite" if any(v == "opposite" for v in verdicts) else "no evidence"


def type_a_answer(pairs: pd.DataFrame, table3: Results, alpha: float) -> tuple[str, str]:
    """Question 4, pair by pair — only for outcomes whose overall test across the types is a finding under the rule."""
    parts, verdicts = [], []
    for variable in RECOMPRESSION:
        rows = pairs[(pairs["variable"] == variable) & (pairs["first"] == "A")]
        label = dictionary.prose_label(variable)
        if rows.empty or variable not in table3.tests.index or table3.evidence(variable) == "not computable":
            parts.append(f"{label}: not computable")
            verdicts.append("not computable")
            continue
        unit = dictionary.difference_unit(variable)
        found = "; ".join(f"against type {r.second} ({sentences.pair_effect_text(r, unit)})" for r in rows.itertuples())
        overall = f"overall {table3.p_text(variable)}"
        if table3.evidence(variable) != "significant":
            verdicts.append("no evidence")
            parts.append(f"{label}: the overall test across the types is not a finding ({overall}), so the pairs "
                         f"({rows['method'].iloc[0]}: {found}) are exploratory and answer nothing")
            continue
        better = [r for r in rows.itertuples() if sentences.pair_differs(r, alpha) and pairwise.contrast(r) < 0]
        verdicts.append("yes" if len(better) == len(rows) == 2 else "partly" if better else "no evidence")
        parts.append(f"{label} ({overall}; {rows['method'].iloc[0]}): {found}")
    caveat = (" The distribution type is itself a result of the operation and these comparisons are not adjusted for anything, "
              "so they describe associations of the cement pattern, not its effects.")
    return combine(verdicts), f"Type A against the other types, pair by pair — {'. '.join(parts)}.{caveat}"


def answers(table1: Results, table2: Results, table3: Results, pairs: pd.DataFrame, share: pd.Series, alpha: float,
            adjusted: pd.DataFrame | None = None) -> pd.DataFrame:
    """The four questions with a verdict and a sentence each: ``question, topic, verdict, sentence, caution`` (``caution``:
    the verdict is to be read with a caveat its sentence gives — an adjusted interval that includes the null, or an
    outcome the patient scores during the operation — and the Summary says so)."""
    rows = []
    verdict, sentence = distribution_answer(table1, share, adjusted)
    rows.append(("Does aspiration change the distribution of the cement?", "cement distribution", verdict, sentence,
                 verdict in DIFFERENCE_SHOWN and adjusted_share_caution(adjusted)))
    verdict, sentence = outcome_answer(table2, "vas_op", adjusted)
    if verdict in ("yes", "partly"):  # the one outcome scored by the patient during the procedure itself
        sentence += " Being self-reported during the operation, this answer carries the caution the Limitations give."
    rows.append(("Does aspiration change pain during cementing?", "pain during cementing", verdict, sentence,
                 verdict in ("yes", "partly")))
    outcomes = [outcome_answer(table2, variable, adjusted) for variable in RECOMPRESSION]
    rows.append(("Does aspiration reduce recompression after surgery?", "recompression",
                 combine([v for v, _ in outcomes]), " ".join(s for _, s in outcomes)
                 + " FVAHL and AVHLR are two measures of the same loss of anterior height, in millimetres and as a ratio.", False))
    verdict, sentence = type_a_answer(pairs, table3, alpha)
    rows.append(("Is type A followed by less recompression than types B and C?", "type A against B and C", verdict, sentence, False))
    return pd.DataFrame(rows, columns=["question", "topic", "verdict", "sentence", "caution"])


def conclusions_text(answered: pd.DataFrame, synthetic: bool = False) -> str:
    """The Conclusions section: each question with its answer, then one closing statement worded by the verdicts."""
    lines = [f"{index}. **{row.question}** {verdict_words(row)}. {row.sentence}" for index, row in enumerate(answered.itertuples(), 1)]
    # the closing counts the answers by their numbers (the Summary's abstract names their topics: said once each way)
    def questions(verdict: str) -> str:
        numbered = [str(index) for index, row in enumerate(answered.itertuples(), 1) if row.verdict == verdict]
        return f"question{'s' if len(numbered) > 1 else ''} {myst.english_list(numbered)}" if numbered else ""

    yes, partly = questions("yes"), questions("partly")
    if yes or partly:
        answered_by = myst.english_list([part for part in (f"yes to {yes}" if yes else "", f"in part to {partly}" if partly else "") if part])
        others = any(row.verdict not in ("yes", "partly") for row in answered.itertuples())
        closing = f"Under the report's testing rule, the data answer {answered_by}" + ("; no other question is answered yes." if others else ".")
    else:
        closing = "Under the report's testing rule, the data show none of the differences asked about."
    closing += (" These are associations in an observational comparison, not proven effects of aspiration: the groups were not "
                "shown to be comparable in every respect, and the confidence intervals, not the p-values alone, give the size "
                "of what is compatible with the data.")
    if synthetic:
        closing += (" With the synthetic default data these answers re-test the published summaries, which the synthetic cohort "
                    "reproduces by construction; they are not new evidence.")
    return "\n".join(lines) + "\n\n" + closing


#: How the summary names a question whose topic alone would be ambiguous.
HEADLINE_TOPICS = {"type A against B and C": "Less recompression after type A than after types B and C"}


def verdict_words(row) -> str:
    """A verdict as the Conclusions and the table beside the paper give it, with its caution where it has one (the
    Summary's short list says "with a caution (see Conclusions)")."""
    return VERDICT_WORDS[row.verdict] + (", with a caution" if row.caution else "")


def headline_list(answered: pd.DataFrame) -> str:
    """The summary's key results: one bullet per question with its verdict; the evidence is said once, in Conclusions."""
    return "\n".join(f"- **{HEADLINE_TOPICS.get(row.topic, row.topic[0].upper() + row.topic[1:])}:** {VERDICT_WORDS[row.verdict].lower()}"
                     + (", with a caution (see Conclusions)." if row.caution else ".") for row in answered.itertuples())


def beside_paper(answered: pd.DataFrame) -> str:
    """The source study's conclusions (paraphrased, ``data/published/conclusions.csv``) beside this report's answers."""
    paper = pd.read_csv(paths.PUBLISHED / "conclusions.csv", dtype=str, keep_default_na=False).set_index("topic")
    rows = [[row.topic[0].upper() + row.topic[1:], myst.escape_markdown(paper.loc[row.topic, "paper"]) if row.topic in paper.index else "—",
             verdict_words(row)] for row in answered.itertuples()]
    return myst.list_table(["Question", "The source study concluded (paraphrased)", "This report's answer"], rows, [25, 50, 25],
                           name="table-beside-paper", caption="The source study's conclusions beside this report's answers.")
