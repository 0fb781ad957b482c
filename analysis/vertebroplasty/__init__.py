"""The vertebroplasty report package: the analysis logic the notebooks in ``analysis/`` call, and the build.

Modules, by job (see the README's *Architecture* section for how they connect):

- data contract: :mod:`paths`, :mod:`dictionary` (the data dictionary), :mod:`contract` (reading and validating
  cohort files), :mod:`description` (the study description, ``study.yml``);
- the analysed cohort: :mod:`cohort` (validated data handed to the notebooks), :mod:`derivation` (derived indices);
- statistics: :mod:`comparisons` (tests, tidy frames), :mod:`effect_sizes`, :mod:`pairwise`, :mod:`power`,
  :mod:`attrition` (flow of patients and missing data), :mod:`centres` (multicentre pooling);
- the paper: :mod:`published` (its numbers), :mod:`audit` (their consistency, from the published numbers alone);
- writing: :mod:`tables`, :mod:`sentences`, :mod:`myst`, :mod:`figures`, :mod:`cases`, :mod:`publish`,
  :mod:`provenance`;
- :mod:`vertebroplasty.synthetic` — the synthetic-data generators (default cohort, multicentre and scale examples),
  kept apart from the analysis they serve;
- :mod:`vertebroplasty.build` — validating once, running the declared notebooks with papermill, assembling the
  book (HTML, PDF); :mod:`cli` is the command line the Makefile calls.
"""

__version__ = "0.2.0"
