"""Analysis logic for the vertebroplasty report package.

The notebooks in ``analysis/`` call these functions; they hold no logic of
their own.  Modules:

- :mod:`paths` — every path the project uses, built from this file's location;
- :mod:`dictionary` — the data dictionary (the single source for names, types,
  units, ranges and labels);
- :mod:`cohort` — reading and validating a cohort file;
- :mod:`indices` — the derived radiographic indices, one function each;
- :mod:`statistics` — group comparisons returning tidy DataFrames;
- :mod:`reconstruction` — the synthetic default cohort.
"""

__version__ = "0.1.0"
