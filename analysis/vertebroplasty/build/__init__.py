"""The build: validate once, run the declared notebooks (papermill), assemble the book (HTML, PDF).

- :mod:`.pipeline` — the declaration ``analysis/pipeline.toml`` and the checks against it;
- :mod:`.cache` — keys and storage of notebook runs;
- :mod:`.execute` — running the notebooks in dependency order, stopping at the first failure;
- :mod:`.book` — assembling and building the Jupyter Book;
- :mod:`.pdf` — the PDF edition;
- :mod:`.output` — the output folder's checks and its replacement;
- :mod:`.report` — the whole build.
"""
