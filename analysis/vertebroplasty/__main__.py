"""Command line: ``python -m vertebroplasty {validate,report,pdf,cohort,refresh} ...``.

The Makefile calls these; see ``make help``.
"""

from __future__ import annotations

import argparse
import sys

from . import paths
from .cohort import CohortValidationError, load_cohort


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="", help="cohort file (.csv or .xlsx); default: the synthetic cohort data/cohort.csv")
    parser.add_argument(
        "--allow-column", action="append", default=[], metavar="NAME",
        help="accept a column whose name looks like a direct identifier (repeatable)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vertebroplasty", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a cohort file against the data contract")
    _add_data_arguments(validate)

    for name, what in (("report", "the HTML report"), ("pdf", "the HTML and PDF report")):
        command = commands.add_parser(name, help=f"validate, analyse and build {what}")
        _add_data_arguments(command)
        command.add_argument("--out", default=str(paths.DEFAULT_OUTPUT), help="output folder (default: _build)")
        command.add_argument("--case-ids", default="", help="comma-separated patient_ids for the case presentations")
        command.add_argument("--tests", default="paper", choices=("paper", "robust"), help="statistical tests to run")
        command.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level")

    cohort = commands.add_parser("cohort", help="regenerate the synthetic default cohort data/cohort.csv")
    cohort.add_argument("--output", default=str(paths.DEFAULT_COHORT))
    cohort.add_argument("--seed", type=int, default=None, help="random seed (default: the project's fixed seed)")

    commands.add_parser("refresh", help="re-execute the committed analysis notebooks on the default cohort, in place")

    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "validate":
            source = paths.resolve_data_path(arguments.data)
            cohort_data = load_cohort(source, tuple(arguments.allow_column))
            for notice in cohort_data.notices:
                print(f"notice: {notice}")
            counts = cohort_data.data["group"].value_counts().sort_index()
            groups = ", ".join(f"group {group}: {count}" for group, count in counts.items())
            print(f"{source}: valid — {len(cohort_data.data)} patients ({groups}); sha256 {cohort_data.sha256}")
            return 0
        if arguments.command in ("report", "pdf"):
            from .pipeline import build_report

            build_report(
                data=arguments.data,
                out=arguments.out,
                allowed_identifier_columns=tuple(arguments.allow_column),
                case_ids=arguments.case_ids,
                tests=arguments.tests,
                alpha=arguments.alpha,
                pdf=arguments.command == "pdf",
            )
            return 0
        if arguments.command == "cohort":
            from .reconstruction import write_default_cohort

            kwargs = {} if arguments.seed is None else {"seed": arguments.seed}
            path = write_default_cohort(arguments.output, **kwargs)
            print(f"wrote {path}")
            return 0
        if arguments.command == "refresh":
            from .pipeline import refresh_committed_notebooks

            refresh_committed_notebooks()
            return 0
    except CohortValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
