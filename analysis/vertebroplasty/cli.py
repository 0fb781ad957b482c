"""Command line: ``python -m vertebroplasty {validate,summary,report,pdf,refresh,synthetic-data,check}``; the Makefile calls it.

Options come from arguments or, when absent, from environment variables (``VERTEBROPLASTY_DATA``, ``_OUT``,
``_CASE_IDS``, ``_TESTS``, ``_ALLOW_COLUMNS``, ``_STUDY``, ``_PUBLISHED``, ``_MIN_CELL``), which is how ``make`` passes ``DATA=`` and friends: a
file name never passes through a shell.  Every error a user can cause ends in a few plain lines and a non-zero
exit status; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from vertebroplasty import paths

EXIT_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _environment(name: str, default: str = "") -> str:
    return os.environ.get(f"VERTEBROPLASTY_{name}", default)


def _columns(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _min_cell(text: str, error: type[Exception]) -> int:
    """MIN_CELL as a whole number of at least 1, or ``error`` naming the option and its rule."""
    if not str(text).isdigit() or int(text) < 1:
        raise error(f"MIN_CELL={text} must be a whole number of at least 1")
    return int(text)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=_environment("DATA"),
                        help="cohort file (.csv/.xlsx) or folder of centre files; default: the synthetic cohort")
    parser.add_argument("--allow-column", action="append", default=list(_columns(_environment("ALLOW_COLUMNS"))), metavar="NAME",
                        help="accept a column whose name looks like a direct identifier (repeatable)")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="python -m vertebroplasty", description=__doc__,
                                          formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a cohort file (or folder) against the data contract")
    _add_data_arguments(validate)
    summary = commands.add_parser("summary", help="write a centre's non-disclosive summary for pooling (aggregates only)")
    _add_data_arguments(summary)
    summary.add_argument("--out", default=_environment("OUT"), help="folder the summary file is written into")
    summary.add_argument("--min-cell", default=_environment("MIN_CELL") or "5",
                         help="smallest non-zero number of patients a summary may show (default 5)")
    for name, what in (("report", "the HTML report"), ("pdf", "the HTML and PDF report")):
        command = commands.add_parser(name, help=f"validate, analyse and build {what}")
        _add_data_arguments(command)
        command.add_argument("--out", default=_environment("OUT") or str(paths.DEFAULT_OUTPUT), help="output folder (default: _build)")
        command.add_argument("--case-ids", default=_environment("CASE_IDS"), help="comma-separated patient_ids for the case presentations")
        command.add_argument("--tests", default=_environment("TESTS") or "paper", help="paper (the study's tests) or robust")
        command.add_argument("--study", default=_environment("STUDY"), help="study description (study.yml) of these data")
        command.add_argument("--published", default=_environment("PUBLISHED"),
                             help="yes: add the comparison with the published source study (default for the synthetic data); no: leave it out "
                                  "(default for your own data)")
        command.add_argument("--min-cell", default=_environment("MIN_CELL"),
                             help="for a folder of centre summaries: the smallest non-zero number of patients accepted (default: each file's own)")
        command.add_argument("--no-cache", action="store_true", help="run every notebook again (and keep nothing)")
    synthetic = commands.add_parser("synthetic-data", help="regenerate the synthetic default cohort data/cohort.csv (and the multicentre example)")
    synthetic.add_argument("--seed", type=int, default=None, help="random seed (default: the project's fixed seed)")
    commands.add_parser("refresh", help="update analysis/*.ipynb from their text sources and re-execute them in place")
    commands.add_parser("check", help="check analysis/pipeline.toml and the chapters' references against each other")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if not (paths.PIPELINE.is_file() and paths.DATA_DICTIONARY.is_file()):
        print("error: the vertebroplasty command runs from a checkout of the repository (the data contract, notebooks and book are "
              "not installed with the package): clone it and run `make report` there", file=sys.stderr)
        return EXIT_INPUT
    from vertebroplasty.contract.description import StudyDescriptionError
    from vertebroplasty.contract.summary_file import SummaryFileError
    from vertebroplasty.contract.validation import CohortValidationError
    from vertebroplasty.pipeline.book import BookError
    from vertebroplasty.pipeline.declaration import PipelineError
    from vertebroplasty.pipeline.execute import NotebookError
    from vertebroplasty.pipeline.output import OutputError
    from vertebroplasty.pipeline.report import OptionError

    try:
        return run(arguments)
    except (CohortValidationError, OutputError, OptionError, StudyDescriptionError, SummaryFileError) as error:
        print(paths.terminal_safe(f"error: {error}"), file=sys.stderr)
        return EXIT_INPUT
    except (NotebookError, PipelineError, BookError) as error:
        print(paths.terminal_safe(f"error: {error}"), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("stopped: the previous report, if any, was left as it was", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as error:  # a full disk, a folder without permission, a file that vanished: one line, no traceback
        where = f"{error.filename}: " if error.filename else ""
        print(paths.terminal_safe(f"error: {where}{error.strerror or error} (the previous report, if any, was left as it was)"),
              file=sys.stderr)
        return EXIT_FAILED


def run(arguments: argparse.Namespace) -> int:
    if arguments.command == "validate":
        from vertebroplasty.contract.validation import load_cohort

        source = paths.resolve_data_path(arguments.data)
        cohort = load_cohort(source, tuple(arguments.allow_column))
        for notice in cohort.notices:
            print(paths.terminal_safe(f"notice: {notice}"))
        counts = cohort.data["group"].value_counts().sort_index()
        groups = ", ".join(f"group {group}: {count}" for group, count in counts.items())
        centres = f", {cohort.data['centre'].nunique()} centres" if "centre" in cohort.data and cohort.data["centre"].nunique() > 1 else ""
        print(f"{paths.shown(source)}: valid — {len(cohort.data)} patients ({groups}){centres}; sha256 {cohort.sha256}")
        return 0
    if arguments.command == "summary":
        from vertebroplasty.contract.summary_file import SummaryFileError
        from vertebroplasty.pipeline.summary import write_summaries

        min_cell = _min_cell(arguments.min_cell, SummaryFileError)
        for path in write_summaries(arguments.data, arguments.out, min_cell, tuple(arguments.allow_column)):
            print(f"wrote {paths.shown(path)} (aggregates only: send this file, not the data)")
        return 0
    if arguments.command in ("report", "pdf"):
        from vertebroplasty.pipeline.report import OptionError, build_report

        min_cell = _min_cell(arguments.min_cell, OptionError) if arguments.min_cell else None
        build_report(data=arguments.data, out=arguments.out, allowed_identifier_columns=tuple(arguments.allow_column),
                     case_ids=arguments.case_ids, tests=arguments.tests, pdf=arguments.command == "pdf",
                     study=arguments.study, use_cache=not arguments.no_cache, published=arguments.published, min_cell=min_cell)
        return 0
    if arguments.command == "synthetic-data":
        from vertebroplasty.paper.synthetic.multicentre import write_multicentre_example
        from vertebroplasty.paper.synthetic.reconstruction import write_default_cohort

        path = write_default_cohort(**({} if arguments.seed is None else {"seed": arguments.seed}))
        print(f"wrote {paths.shown(path)}")
        written = write_multicentre_example()
        print(f"wrote {len(written)} files of the multicentre example to {paths.MULTICENTRE_EXAMPLE}")
        return 0
    if arguments.command == "refresh":
        from vertebroplasty.pipeline.report import refresh_committed_notebooks

        refresh_committed_notebooks()
        return 0
    if arguments.command == "check":
        from vertebroplasty.pipeline import declaration

        notebooks = declaration.load()
        declaration.check_references(notebooks, declaration.chapter_references())
        problems = declaration.static_problems(notebooks)
        if problems:
            raise declaration.PipelineError("the notebooks and analysis/pipeline.toml disagree:\n" + "\n".join(f"  - {p}" for p in problems))
        print(f"analysis/pipeline.toml: {len(notebooks)} notebooks; every chapter reference is declared, and every notebook's "
              "parameters and outputs agree with the declaration")
        return 0
    return EXIT_FAILED
