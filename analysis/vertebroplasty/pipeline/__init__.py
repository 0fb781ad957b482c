"""Stage 5, the pipeline: validate once, run the declared notebooks (papermill), assemble the book (HTML, PDF).

- :mod:`.declaration` — the declaration ``analysis/pipeline.toml`` and the checks against it;
- :mod:`.notebook_outputs` — what a notebook writes (result files, MyST blocks, figures, glue);
- :mod:`.cache` — keys and storage of notebook runs;
- :mod:`.execute` — running the notebooks in dependency order, stopping at the first failure;
- :mod:`.book` — assembling and building the Jupyter Book;
- :mod:`.pdf` — the PDF, an article with appendices, from the same book;
- :mod:`.output` — the output folder: refusing foreign folders, replacing a report in one step;
- :mod:`.provenance` — versions, commit and checksums the report prints;
- :mod:`.report` — the whole build, and refreshing the committed notebooks.
"""
