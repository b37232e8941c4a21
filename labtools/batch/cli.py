"""``ops-lab batch``: the command line of batch grading, its options and its exit codes."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from labtools.batch.gradebook import rebuild_gradebook
from labtools.batch.lock import BatchLockedError
from labtools.batch.run import DEFAULT_KERNEL_FACTORY, DEFAULT_TIMEOUT_S, run_batch
from opsmodel._validation import InvalidInputError

__all__ = ["add_batch_arguments", "main_batch"]


def add_batch_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Declare the options of ``ops-lab batch`` on ``parser``, each with its help text.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The ``batch`` sub-command's parser (any parser, in tests).

    Returns
    -------
    argparse.ArgumentParser
        ``parser``, for chaining.

    Examples
    --------
    >>> args = add_batch_arguments(argparse.ArgumentParser()).parse_args(["in", "-o", "out"])
    >>> args.jobs is None, args.timeout
    (True, 900.0)
    """
    from labtools.paths import DIST

    parser.add_argument(
        "submissions",
        type=Path,
        nargs="?",
        help="folder of notebooks/zips, of per-student folders, or a Gradescope export "
        "(folder or zip); not needed with --gradebook-only",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--autograder",
        type=Path,
        default=DIST / "autograder" / "source",
        help="autograder zip or unzipped source folder (default: %(default)s)",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=None, help="submissions graded at once (default: cores)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="wall-time cap per submission, seconds (default: %(default)g)",
    )
    parser.add_argument("--regrade", action="store_true", help="grade everything again")
    parser.add_argument(
        "--retry-problems", action="store_true", help="grade again the results with problems"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--kernel-factory",
        default=DEFAULT_KERNEL_FACTORY,
        help="MODULE:CALLABLE returning the kernel factory workers grade with "
        "(default: %(default)s, the sandbox)",
    )
    parser.add_argument(
        "--gradebook-only",
        action="store_true",
        help="only rebuild gradebook.csv and feedback/ from the results in the output folder",
    )
    return parser


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main_batch(args: argparse.Namespace) -> int:
    """Run ``ops-lab batch`` with the options of :func:`add_batch_arguments`.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    int
        0 when the batch finished (submissions with problems included: see the log), 130 when
        it was interrupted, 2 on bad input (the message goes to stderr).

    Notes
    -----
    SIGTERM is handled like Ctrl-C while the batch runs: workers are stopped, finished
    results are kept and the gradebook is rewritten from them. The summary goes to stdout,
    the progress bar to stderr.
    """
    from labtools.grading.host import HostCannotGrade

    if args.gradebook_only:
        if not (args.output / "results").is_dir():
            print(f"ops-lab batch: {args.output} holds no results/ folder", file=sys.stderr)
            return 2
        print(rebuild_gradebook(args.output))
        return 0
    if args.submissions is None:
        print("ops-lab batch: the submissions folder or zip is required", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = run_batch(
            args.submissions,
            args.output,
            autograder_source=args.autograder,
            jobs=args.jobs,
            timeout_s=args.timeout,
            regrade=args.regrade,
            retry_problems=args.retry_problems,
            progress=None if args.no_progress else sys.stderr,
            kernel_factory=args.kernel_factory,
        )
    except (InvalidInputError, BatchLockedError, HostCannotGrade) as exc:
        print(f"ops-lab batch: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary.describe())
    return 130 if summary.interrupted else 0
