"""Stage 2, statistics: tests, effect sizes, the testing rule, adjusted models, responders, attrition, pooling of centres.

The two settings the build checks before any notebook runs live here, in the package itself, so that checking them does
not import scipy (about 0.3 s at every start of the command).
"""

#: The report's two-sided significance level, fixed (the source study's): every interval of the report is at 1 − ALPHA
#: (95 %), so a level the user could change would leave the intervals and the verdicts out of step.
ALPHA = 0.05

#: The choices of TESTS=: the study's own tests, or robust ones (Welch / Mann–Whitney, Kruskal–Wallis, exact tests).
TEST_OPTIONS = ("paper", "robust")
