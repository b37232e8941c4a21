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
        "--key",
        type=Path,
        default=None,
        dest="key_file",
        help="where to write the key (label -> student), e.g. outside the folder the TAs get "
        "(default: PACKET/key.json)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing scores.csv in the folder (and an existing --key file)",
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
            key_file=args.key_file,
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
    lms = parser.add_argument_group(
        "LMS files", "written beside the combined gradebook; one column for the lab's total"
    )
    lms.add_argument(
        "--roster",
        type=Path,
        default=None,
        help="roster CSV (student, track; optional name, email): names and emails of "
        "students the grader knows by id only",
    )
    lms.add_argument(
        "--canvas",
        action="store_true",
        help="write canvas-gradebook.csv (Canvas's Grades > Import)",
    )
    lms.add_argument(
        "--canvas-export",
        type=Path,
        default=None,
        metavar="CANVAS_EXPORT.csv",
        help="the course's Canvas gradebook export (Grades > Export): students matched by "
        "SIS User ID / SIS Login ID against their ids and emails (implies --canvas)",
    )
    lms.add_argument(
        "--canvas-assignment-id",
        type=int,
        default=None,
        metavar="N",
        help="the Canvas assignment's id (its URL's /assignments/N): the column 'Name (N)' "
        "(implies --canvas)",
    )
    lms.add_argument(
        "--moodle",
        action="store_true",
        help="write moodle-grades.csv (Moodle's Import grades from CSV)",
    )
    lms.add_argument(
        "--moodle-id",
        choices=("email", "idnumber"),
        default="email",
        help="the Moodle file's identifier: email (Email address) or idnumber (ID number: "
        "the grader's student id) (default: email)",
    )
    lms.add_argument(
        "--assignment-name",
        default=None,
        help="the LMS assignment's title (default: Operations at Scale)",
    )
    return parser


def main_import(args: argparse.Namespace) -> int:
    """Run ``ops-lab ta-import``."""
    from labtools.ta.lms_grades import DEFAULT_ASSIGNMENT_NAME
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
            roster=args.roster,
            canvas=args.canvas,
            canvas_export=args.canvas_export,
            canvas_assignment_id=args.canvas_assignment_id,
            moodle=args.moodle,
            moodle_identifier=args.moodle_id,
            assignment_name=args.assignment_name or DEFAULT_ASSIGNMENT_NAME,
        )
    except InvalidInputError as exc:
        print(f"ops-lab ta-import: {exc}", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0
