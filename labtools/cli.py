"""``ops-lab``: the instructor's command line (a thin layer over keyword-only functions)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from labtools.paths import DIST, NOTEBOOK_NAME

__all__ = ["main"]


def _build(args: argparse.Namespace) -> int:
    from labtools.release.impostor_audit import AuditFailed, format_table
    from labtools.release.pipeline import build

    try:
        result = build(
            args.dist,
            write_committed=not args.no_write_committed,
            execute=not args.no_execute,
            pdf=not args.no_pdf,
            roster=args.roster,
            audit=not args.no_audit,
        )
    except ValueError as exc:  # a bad roster: every bad row is named
        print(f"ops-lab build: {exc}", file=sys.stderr)
        return 2
    except AuditFailed as exc:  # points for nothing: the table and every failure
        print(f"ops-lab build: {exc}", file=sys.stderr)
        return 1
    if result.audit is not None:
        print(f"impostor audit (points earned, max over tracks):\n{format_table(result.audit)}")
    print(f"student release:   {result.student_zip}")
    print(f"autograder zip:    {result.autograder_zip}")
    print(f"solutions:         {result.solution_notebook}")
    if result.executed_solution:
        print(f"executed solution: {result.executed_solution}")
    if result.prompts_pdf:
        print(f"written prompts:   {result.prompts_pdf}")
    if result.nbgrader_course:
        print(f"nbgrader course:   {result.nbgrader_course}")
    for step, seconds in result.timings_s.items():
        print(f"  {step}: {seconds:.1f} s")
    return 0


def _nbgrader(args: argparse.Namespace) -> int:
    from labtools.nbgrader_course.config import CourseSettings
    from labtools.release.nbgrader_course import write_course

    settings = (
        CourseSettings()
        if args.cell_timeout is None
        else CourseSettings(cell_timeout_s=args.cell_timeout)
    )
    course = write_course(
        (args.course or args.dist / "nbgrader").resolve(),
        workdir=(args.dist / ".work").resolve(),
        settings=settings,
    )
    print(f"nbgrader course:   {course.course_dir}")
    print(f"source notebook:   {course.source_notebook}")
    print(f"config:            {course.config}")
    print(
        "next: source .venv/bin/activate; cd to the course; nbgrader generate_assignment ops_scale"
    )
    return 0


def _selfcheck(args: argparse.Namespace) -> int:
    from labtools.grading.host import HostCannotGrade
    from labtools.release.pipeline import build
    from labtools.selfcheck.run import format_table, run_selfcheck

    result = build(args.dist)
    for step, seconds in result.timings_s.items():
        print(f"build step {step}: {seconds:.1f} s")
    try:
        graded = run_selfcheck(args.dist, build_result=result)
    except HostCannotGrade as exc:
        print(f"ops-lab selfcheck: {exc}", file=sys.stderr)
        return 2
    print(format_table(graded))
    wrong = [g for g in graded if g.mismatches]
    for g in wrong:
        print(f"\n{g.sample.name}:\n  " + "\n  ".join(g.mismatches))
    print("\nself-check " + ("FAILED" if wrong else "passed"))
    return 1 if wrong else 0


def _audit(args: argparse.Namespace) -> int:
    from labtools.release.impostor_audit import failure_lines, format_table, run_audit

    source = args.dist / "autograder" / "source"
    solution = args.dist / "solutions" / NOTEBOOK_NAME
    release = args.dist / "student" / NOTEBOOK_NAME
    missing = [str(p) for p in (source / "ops_lab.json", solution, release) if not p.exists()]
    if missing:
        print(
            f"ops-lab audit: no build in {args.dist} (run ops-lab build): {missing}",
            file=sys.stderr,
        )
        return 2
    report = run_audit(
        source, solution, release, tracks=args.track or None, questions=args.question or None
    )
    print(format_table(report))
    wrong = report.failures()
    if wrong:
        print(failure_lines(wrong))
    print(f"impostor audit {'FAILED' if wrong else 'passed'} in {report.elapsed_s:.1f} s")
    return 1 if wrong else 0


def _written_pdf(args: argparse.Namespace) -> int:
    from labtools.release.written_pdf import notebook_to_pdf

    print(notebook_to_pdf(args.notebook, args.output))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ops-lab``."""
    parser = argparse.ArgumentParser(prog="ops-lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build the student release, solutions and autograder")
    p.add_argument("--dist", type=Path, default=DIST)
    p.add_argument("--no-execute", action="store_true", help="skip running the solution")
    p.add_argument("--no-pdf", action="store_true", help="skip the written-prompts PDF")
    p.add_argument(
        "--no-write-committed",
        action="store_true",
        help="leave the committed notebooks and README table alone (build elsewhere only)",
    )
    p.add_argument(
        "--roster",
        type=Path,
        default=None,
        help="CSV with columns student (email or id) and track: grade each student on the "
        "track assigned to them (see README)",
    )
    p.add_argument(
        "--no-audit", action="store_true", help="skip the impostor audit of the autograder"
    )
    p.set_defaults(run=_build)

    p = sub.add_parser(
        "audit",
        help="grade the built autograder on the untouched scaffold and on impostors of every "
        "graded function: nothing may earn a point",
    )
    p.add_argument("--dist", type=Path, default=DIST)
    p.add_argument("--track", action="append", help="only this track (repeatable)")
    p.add_argument("--question", action="append", help="only this question (repeatable)")
    p.set_defaults(run=_audit)

    p = sub.add_parser("selfcheck", help="build, then grade the sample submissions")
    p.add_argument("--dist", type=Path, default=DIST)
    p.set_defaults(run=_selfcheck)

    p = sub.add_parser("nbgrader", help="write the nbgrader course (DIST/nbgrader) from the master")
    p.add_argument("--dist", type=Path, default=DIST)
    p.add_argument(
        "--course", type=Path, default=None, help="course folder (default DIST/nbgrader)"
    )
    p.add_argument(
        "--cell-timeout",
        type=int,
        default=None,
        help="per-cell autograde timeout in s (default: the Gradescope grader's, 60)",
    )
    p.set_defaults(run=_nbgrader)

    p = sub.add_parser("written-pdf", help="PDF of a notebook's written answers")
    p.add_argument("notebook", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(run=_written_pdf)

    from labtools.batch import add_batch_arguments, main_batch

    p = sub.add_parser(
        "batch", help="grade a folder of submissions or a Gradescope export, without docker"
    )
    add_batch_arguments(p)
    p.set_defaults(run=main_batch)

    from labtools.ta.cli import add_import_arguments, add_packet_arguments, main_import, main_packet

    p = sub.add_parser(
        "ta-packet", help="blind grading packet of the written answers + score sheet"
    )
    add_packet_arguments(p)
    p.set_defaults(run=main_packet)

    p = sub.add_parser(
        "ta-import", help="import the TAs' filled score sheet (nbgrader, gradebook CSV)"
    )
    add_import_arguments(p)
    p.set_defaults(run=main_import)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
