"""Options and entry points of ``ops-lab ta-packet`` and ``ops-lab ta-import``.

A thin layer: each ``main_*`` forwards to a keyword-only function and prints its summary.
Exit codes: 0 done, 2 bad input (nothing written), with the reason on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_packet_arguments", "main_packet", "add_import_arguments", "main_import"]


def add_packet_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Declare the options of ``ops-lab ta-packet`` on ``parser``."""
    parser.add_argument(
        "submissions",
        type=Path,
        help="folder of notebooks/zips, of per-student folders, a Gradescope export folder, "
        "or an nbgrader course (or its submitted/)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="packet folder")
    parser.add_argument(
        "--seed", type=int, default=None, help="shuffle seed (default: drawn and recorded)"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="batch output folder (ops-lab batch -o): the autograded ledger items per student",
    )
    parser.add_argument(
        "--pdfs",
        action="store_true",
        help="also write each student's written answers as pdf/<key>.pdf (Gradescope upload)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing scores.csv in the folder"
    )
    return parser


def main_packet(args: argparse.Namespace) -> int:
    """Run ``ops-lab ta-packet``."""
    from labtools.ta.packet import write_packet
    from opsmodel._validation import InvalidInputError

    try:
        summary = write_packet(
            args.submissions,
            args.output,
            seed=args.seed,
            results=args.results,
            pdfs=args.pdfs,
            force=args.force,
        )
    except InvalidInputError as exc:
        print(f"ops-lab ta-packet: {exc}", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0


def add_import_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Declare the options of ``ops-lab ta-import`` on ``parser``."""
    parser.add_argument("sheet", type=Path, help="the filled scores.csv of a packet")
    parser.add_argument(
        "--key", type=Path, default=None, help="the packet's key.json (default: beside the sheet)"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="combined gradebook CSV (default: combined-gradebook.csv beside the sheet)",
    )
    parser.add_argument(
        "--batch",
        type=Path,
        default=None,
        help="batch output folder or its gradebook.csv: the autograded scores "
        "(default: the batch the packet used)",
    )
    parser.add_argument(
        "--nbgrader",
        type=Path,
        default=None,
        help="nbgrader course to write the scores into (default: the course the packet "
        "was made from)",
    )
    parser.add_argument(
        "--no-nbgrader", action="store_true", help="write only the combined gradebook"
    )
    return parser


def main_import(args: argparse.Namespace) -> int:
    """Run ``ops-lab ta-import``."""
    from labtools.ta.score_import import import_scores
    from opsmodel._validation import InvalidInputError

    try:
        summary = import_scores(
            args.sheet,
            key=args.key,
            combined=args.output,
            batch=args.batch,
            nbgrader_course=args.nbgrader,
            use_nbgrader=not args.no_nbgrader,
        )
    except InvalidInputError as exc:
        print(f"ops-lab ta-import: {exc}", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0
