"""``ops-lab``: the instructor's command line (a thin layer over keyword-only functions)."""

from __future__ import annotations

import argparse
import os
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
            variants=args.variants,
            course_secret=args.course_secret,
        )
    except ValueError as exc:  # a bad roster (every bad row is named), options, secret
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
    codes = result.dist / "grading" / "variant-codes.csv"
    if codes.exists():
        print(f"variant codes:     {codes} (send each student theirs)")
    for step, seconds in result.timings_s.items():
        print(f"  {step}: {seconds:.1f} s")
    return 0


def _nbgrader(args: argparse.Namespace) -> int:
    from labtools.nbgrader_course.config import CourseSettings
    from labtools.release.nbgrader_course import write_course

    options = {} if args.cell_timeout is None else {"cell_timeout_s": args.cell_timeout}
    if args.exchange is not None:
        options["exchange_root"] = str(args.exchange.resolve())
    settings = CourseSettings(**options)
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


def _nbgrader_autograde(args: argparse.Namespace) -> int:
    from labtools.nbgrader_course.execute import SandboxNeedsRoot
    from labtools.nbgrader_course.parallel_autograde import autograde_course

    def progress(run, k, n) -> None:
        detail = f": {run.detail}" if run.detail and run.status != "graded" else ""
        print(f"[{k}/{n}] {run.student}: {run.status} ({run.seconds:.1f} s){detail}", flush=True)

    try:
        result = autograde_course(
            args.course,
            jobs=args.jobs,
            students=args.student or None,
            force=args.force,
            timeout_s=args.timeout,
            on_done=progress,
        )
    except (SandboxNeedsRoot, FileNotFoundError, ValueError) as exc:
        print(f"ops-lab nbgrader-autograde: {exc}", file=sys.stderr)
        return 2
    print(result.describe())
    return 0 if result.ok else 1


def _nbgrader_import(args: argparse.Namespace) -> int:
    import tempfile

    from labtools.batch import detect_submissions
    from labtools.batch.inputs import unpack_submissions
    from labtools.nbgrader_course.importing import format_outcomes, import_submissions
    from opsmodel._validation import InvalidInputError

    with tempfile.TemporaryDirectory(prefix="ops-import-") as tmp:
        source = args.submissions.resolve()
        try:
            if source.is_file() and source.suffix.lower() == ".ipynb":
                entries = [(args.student or source.stem, source)]
            else:
                detected = detect_submissions(unpack_submissions(source, Path(tmp)))
                for warning in detected.warnings:
                    print(f"note: {warning}")
                entries = [(s.key, s.path) for s in detected.submissions]
            outcomes = import_submissions(args.course.resolve(), entries, force=args.force)
        except (InvalidInputError, FileNotFoundError) as exc:
            print(f"ops-lab nbgrader-import: {exc}", file=sys.stderr)
            return 2
    print(format_outcomes(outcomes))
    return 1 if any(o.status == "problem" for o in outcomes) else 0


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


def _course_secret(args: argparse.Namespace) -> int:
    from labtools.grading.variant_codes import new_course_secret

    if args.file.exists():
        print(f"ops-lab course-secret: {args.file} exists; not replaced", file=sys.stderr)
        return 2
    args.file.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only from the first byte: the secret makes every student's code.
    fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(new_course_secret() + "\n")
    print(f"course secret written to {args.file} (keep it out of the repository)")
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
        "--variants",
        choices=("tracks", "per-student"),
        default=None,
        help="override assignment/course.toml: shared track numbers, or each student's own "
        "variant (needs --roster and --course-secret; see README)",
    )
    p.add_argument(
        "--course-secret",
        type=Path,
        default=None,
        help="file holding the course secret of per-student variants (`ops-lab course-secret` "
        "writes one); keep it out of the repository",
    )
    p.add_argument(
        "--no-audit", action="store_true", help="skip the impostor audit of the autograder"
    )
    p.set_defaults(run=_build)

    p = sub.add_parser(
        "course-secret", help="write a new course secret for per-student variants to FILE"
    )
    p.add_argument("file", type=Path)
    p.set_defaults(run=_course_secret)

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
    p.add_argument(
        "--exchange",
        type=Path,
        default=None,
        help="nbgrader's exchange folder, shared with the students' Linux accounts "
        "(default: nbgrader's /srv/nbgrader/exchange); no JupyterHub needed",
    )
    p.set_defaults(run=_nbgrader)

    p = sub.add_parser(
        "nbgrader-autograde",
        help="autograde an nbgrader course's submissions, N students at a time (as root)",
    )
    p.add_argument("course", type=Path, help="the course folder (e.g. dist/nbgrader)")
    p.add_argument("--jobs", type=int, default=2, help="students at a time (default 2)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument(
        "--force", action="store_true", help="autograde again students already autograded"
    )
    p.add_argument("--timeout", type=float, default=1800, help="seconds per student (default 1800)")
    p.set_defaults(run=_nbgrader_autograde)

    p = sub.add_parser(
        "nbgrader-import",
        help="put a Gradescope export, a folder of notebooks or one notebook into an "
        "nbgrader course's submitted/ folder",
    )
    p.add_argument(
        "submissions",
        type=Path,
        help="Gradescope's export (zip or folder), a folder of notebooks or per-student "
        "folders, or one notebook",
    )
    p.add_argument("course", type=Path, help="the course folder (after generate_assignment)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace existing submissions (the old ones are kept in COURSE/imported/)",
    )
    p.add_argument("--student", help="the student id of a single notebook (default: its name)")
    p.set_defaults(run=_nbgrader_import)

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
