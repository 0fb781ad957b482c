"""The testing rule in words: the Methods paragraph that states it (the rule itself is :mod:`vertebroplasty.statistics.testing_rule`)."""

from __future__ import annotations

from vertebroplasty.contract import dictionary
from vertebroplasty.statistics.testing_rule import DEFAULT_PRIMARY_REASON, Plan
from vertebroplasty.writing import myst


def methods_text(plan: Plan, alpha: float, sizes: dict[str, int]) -> str:
    """The testing rule as the Methods state it, once (MyST)."""

    primary = dictionary.in_sentence(plan.primary)
    why = plan.primary_rationale or (DEFAULT_PRIMARY_REASON if plan.primary_default else "")
    source = " (the study description names no primary outcome, so the report's default applies)" if plan.primary_default else ""
    secondary = ("every other outcome row of Tables 1–3" if plan.secondary is None
                 else myst.english_list([dictionary.prose_label(v) for v in plan.secondary]))
    exploratory = (f" The {sizes['exploratory']} other outcome rows are exploratory: shown with their unadjusted p, never called "
                   "significant." if sizes.get("exploratory") else "")
    contrast = (" (the χ² test of the three types; its key contrast, the share of type A, is reported as a risk difference, "
                "an adjusted odds ratio and in the sample-size plan)" if plan.primary == "cement_distribution" else "")
    return (f"**Testing rule.** One comparison is primary: {primary} between the treatment groups{contrast}{source}, tested at "
            f"α = {alpha:g}{' — ' + myst.escape_markdown(why) if why else ''}. The secondary outcomes — {secondary}, "
            f"{sizes['secondary']} rows across the tables — are adjusted together as one family with Holm's method "
            f"{{cite:p}}`holm1979`, and a secondary outcome is called significant only when its Holm-adjusted p is below α."
            f"{exploratory} Baseline rows, the procedure rows of Table 1 and the follow-up time describe the patients and the "
            "operation: they belong to no family, carry no significance mark and are never reported as findings. Pairwise "
            "comparisons of the distribution types count only for an outcome whose overall test across the types is itself a "
            "finding under this rule; otherwise they are shown as exploratory and no conclusion rests on them. A direction "
            "(higher, lower, more, fewer) is stated only where the confidence interval of that very contrast excludes zero "
            "(no difference). A difference that is no longer shown once the pre-operative value of the same measurement is taken into account "
            "(the baseline-adjusted estimate) is a baseline imbalance, not a finding. In the tables, \\* marks a finding under "
            "this rule, and only that.")
