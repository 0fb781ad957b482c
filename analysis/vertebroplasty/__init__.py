"""The vertebroplasty report package: the analysis logic the notebooks in ``analysis/`` call, and the build.

One sub-package per stage, in the order the data pass through them (a module imports only from its own stage or an
earlier one; see the README's *Architecture* section):

1. :mod:`vertebroplasty.contract` — the data dictionary, reading and validating a cohort and a study file, derived indices;
2. :mod:`vertebroplasty.statistics` — tests, effect sizes, the testing rule, adjusted models, responders, attrition, pooling;
3. :mod:`vertebroplasty.paper` — the published source study: its values, the reproduction audit, the synthetic cohort;
4. :mod:`vertebroplasty.writing` — numbers, sentences, tables and figures from the statistics' tidy frames;
5. :mod:`vertebroplasty.pipeline` — the declared notebooks, their execution and cache, the book (HTML, PDF).

:mod:`vertebroplasty.paths` locates the repository's files; :mod:`vertebroplasty.cli` is the command line the Makefile calls.
"""

__version__ = "0.2.0"
