"""The report's one testing rule: which comparison is a finding, and at what threshold.

Stated once in the Methods (:func:`methods_text`) and applied by every table, sentence and conclusion:

- **Primary outcome** (study.yml ``primary_outcome``; default ``cement_distribution``, the source study's own
  question — does aspiration change where the cement goes): its comparison between the treatment groups is tested
  at alpha, unadjusted.
- **Secondary outcomes** (study.yml ``secondary_outcomes``; default every other outcome row of Tables 1–3): their
  p-values are adjusted together with Holm's method, as one family across the tables; a secondary outcome is a
  finding only when its Holm-adjusted p is below alpha.
- **Exploratory** rows (outcome rows a study file leaves out of both) are shown with their unadjusted p and are never
  called significant.
- **Baseline, procedure and follow-up rows** are in no family: they describe the patients and the operation; they
  carry no star and are never worded as findings.
- **Pairwise comparisons** of the distribution types (Tukey, Games–Howell, Dunn) count only for an outcome whose
  overall test across the types is a finding under the rules above; otherwise they are exploratory and no verdict
  rests on them.

Columns written into each table's tests frame: ``family`` (``primary``, ``secondary``, ``exploratory`` or empty)
and ``p_holm`` (the Holm-adjusted p of secondary rows; missing elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vertebroplasty.contract import dictionary
from vertebroplasty.contract.description import DEFAULT_PRIMARY
from vertebroplasty.contract.dictionary import GROUP_TABLES
from vertebroplasty.statistics import ALPHA, comparisons  # noqa: F401 (ALPHA re-exported: testing_rule.ALPHA)

DEFAULT_PRIMARY_REASON = ("aspiration is meant to let the cement reach both endplates on both sides, so the distribution "
                          "type is its first consequence; heights, angles, pain and disability follow from it")
DEFAULT_CONFOUNDERS = ("age", "sex")
#: Minimal clinically important improvements from the pre-operative value (Ostelo et al., 2008, Spine 33:90–94):
#: 15 of 100 mm on the pain VAS (1.5 points on the 0–10 scale) and 10 points on the ODI.
DEFAULT_MCID = {"vas_post": 1.5, "vas_final": 1.5, "odi_post": 10.0, "odi_final": 10.0}
FAMILIES = ("primary", "secondary", "exploratory")


@dataclass
class Plan:
    """The analysis plan read from the study description (defaults filled in, and said so)."""

    primary: str = DEFAULT_PRIMARY
    primary_rationale: str = ""
    primary_default: bool = True
    secondary: list[str] | None = None  # None: every other outcome row
    confounders: list[str] = field(default_factory=lambda: list(DEFAULT_CONFOUNDERS))
    confounders_default: bool = True
    mcid: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MCID))
    mcid_default: bool = True

    def family(self, table: str, variable: str) -> str:
        """``primary``, ``secondary``, ``exploratory`` or ``""`` (no family: baseline, procedure, follow-up rows)."""
        if dictionary.role(variable) != "outcome":
            return ""
        if variable == self.primary and table in GROUP_TABLES:
            return "primary"
        if self.secondary is None or variable in self.secondary:
            return "secondary"
        return "exploratory"


def plan_from_study(study) -> Plan:
    """The plan of a (validated) :class:`vertebroplasty.contract.description.StudyDescription`, defaults where it is silent."""
    plan = Plan()
    if study.primary_outcome:
        plan.primary, plan.primary_default = study.primary_outcome, False
    plan.primary_rationale = study.primary_outcome_rationale or ""
    if study.secondary_outcomes is not None:
        plan.secondary = list(study.secondary_outcomes)
    if study.confounders is not None:
        plan.confounders, plan.confounders_default = list(study.confounders), False
    if study.mcid is not None:
        plan.mcid, plan.mcid_default = dict(study.mcid), False
    return plan


def apply(results: dict, plan: Plan) -> None:
    """Set ``family`` and ``p_holm`` on every table's tests (``{table: TableResult}``), Holm over the secondary rows of all tables."""
    rows = []
    for table, result in results.items():
        tests = result.tests
        tests["family"] = [plan.family(table, variable) for variable in tests["variable"]]
        tests["p_holm"] = np.nan
        rows += [(table, index, tests.at[index, "p_val"]) for index in tests.index[tests["family"] == "secondary"]]
    if not rows:
        return
    adjusted = comparisons.holm(pd.Series([p for _, _, p in rows], dtype=float))
    for (table, index, _), value in zip(rows, adjusted):
        results[table].tests.at[index, "p_holm"] = value


def decision_p(test: pd.Series) -> float:
    """The p a row is judged by: its own p for the primary outcome, the Holm p for a secondary one, missing otherwise."""
    family = test.get("family", "")
    if family == "primary":
        return test["p_val"]
    if family == "secondary":
        return test["p_holm"]
    return np.nan


def is_finding(test: pd.Series, alpha: float) -> bool:
    """Whether a row is a finding under the rule: a computable primary or secondary row below alpha whose difference does
    not disappear once the pre-operative value is taken into account (``baseline_explained``)."""
    p = decision_p(test)
    if bool(test.get("baseline_explained", False)):
        return False
    return bool(not test["reason"] and pd.notna(p) and p < alpha)


def mark_baseline_explained(tests: pd.DataFrame, explained: list[str]) -> None:
    """Set ``baseline_explained`` on the rows of ``explained`` (differences that disappear once the pre-operative value of the
    same measurement is taken into account: baseline imbalances, never findings)."""
    tests["baseline_explained"] = tests["variable"].isin(explained)


def family_sizes(results: dict) -> dict[str, int]:
    """Rows per family (computable or not), for the methods text."""
    counts = pd.concat([r.tests["family"] for r in results.values()]).value_counts()
    return {family: int(counts.get(family, 0)) for family in FAMILIES}


