"""Autograde a course's submissions N at a time, with a log a person can read.

``nbgrader autograde ops_scale`` grades one student after another in one process. Here
``jobs`` worker processes (:mod:`~labtools.nbgrader_course.worker_pool`) each autograde one
student at a time with nbgrader's own API, taking the next student as soon as they are done,
after a check of every submission (:func:`labtools.nbgrader_course.submission_format.
format_problems`): a notebook nbgrader cannot autograde is refused with the reason, and
nbgrader is never started on it, so it touches none of that student's folders.

The gradebook is one SQLite file that every worker writes. That is safe here: nbgrader opens
it for short transactions only (creating the student and the submission, saving each
notebook's grades: milliseconds), never around the student's code, which runs in between;
SQLite locks the file for each write transaction and a writer that finds it locked waits
(Python's ``sqlite3`` busy timeout, 5 s), far longer than any of these transactions; and the
workers write different students' rows. A student whose worker still meets ``database is
locked`` is graded again, alone, once the others are done.

The log (``autograde.log`` in the course, appended) keeps each student's nbgrader output, less
its repetitions: the "checksum changed" warning of every hidden test cell of every notebook,
explained once at the top (:data:`CHECKSUM_NOTE`), and the "Copying" line of every support
file. A checksum warning on any other cell stays: the student changed a locked cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from labtools.nbgrader_course.cells import ASSIGNMENT_ID, parse_case_grade_id
from labtools.nbgrader_course.config import COURSE_ID
from labtools.nbgrader_course.execute import SandboxNeedsRoot, load_test_cells, needs_root_message
from labtools.nbgrader_course.submission_format import course_cells, format_problems
from labtools.nbgrader_course.worker_pool import WorkerAnswer, run_workers
from labtools.paths import NOTEBOOK_NAME

__all__ = [
    "CHECKSUM_NOTE",
    "LOG_NAME",
    "StudentRun",
    "CourseAutograde",
    "autograde_course",
    "filter_log",
    "submitted_students",
]

LOG_NAME = "autograde.log"
NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem

#: Written once at the top of each run's log, in place of hundreds of warnings.
CHECKSUM_NOTE = (
    "About nbgrader's \"Attribute 'checksum' for cell X has changed!\" warnings: before "
    "grading, nbgrader compares every locked cell of a submission with the gradebook's copy "
    "(by checksum) and puts the gradebook's copy back where they differ. Every hidden test "
    "cell differs in every submission, by design: students receive it with its hidden region "
    "emptied, and the full test is put back before grading. Those warnings (one per hidden "
    "test cell per notebook) are left out below and counted. A checksum warning that remains "
    "names a locked cell the student changed (a read-only cell or a public test): nbgrader "
    'graded the release\'s text of that cell. Also left out: the "Copying" line of every '
    "support file, and SQLAlchemy's \"not in session\" warnings from nbgrader's own "
    "gradebook code (harmless with nbgrader 0.9 and SQLAlchemy 2)."
)

_CHECKSUM = re.compile(r"Attribute 'checksum' for cell (?P<cell>\S+) has changed!")
_COPYING = re.compile(r"INFO\] Copying ")
_SA_WARNING = re.compile(r"SAWarning: Object of type <\w+> not in session")
_LOCKED = "database is locked"


@dataclass(frozen=True)
class StudentRun:
    """One student's autograding.

    Attributes
    ----------
    student : str
        The student id.
    status : str
        ``graded``, ``up to date`` (nbgrader skipped it: autograded already and not newer),
        ``refused`` (not started: the reason is in ``detail``), ``failed`` or ``timeout``.
    seconds : float
        Time its worker spent on it (0 when refused).
    detail : str
        The reason of a refusal or failure.
    auto_score, auto_max : float or None
        Autograded points in the gradebook after the run (None if it holds none).
    log : str
        nbgrader's log of this student (:func:`filter_log` filters it for the log file).
    """

    student: str
    status: str
    seconds: float = 0.0
    detail: str = ""
    auto_score: float | None = None
    auto_max: float | None = None
    log: str = ""


@dataclass(frozen=True)
class CourseAutograde:
    """A whole run: every student, the wall time, the log written."""

    runs: tuple[StudentRun, ...]
    jobs: int
    wall_s: float
    log_path: Path
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether every student is graded or up to date."""
        return all(r.status in ("graded", "up to date") for r in self.runs)

    def describe(self) -> str:
        """The summary table and totals, as printed by ``ops-lab nbgrader-autograde``."""
        width = max([len(r.student) for r in self.runs] + [7])
        lines = [f"{'student':<{width}}  {'status':<10}  {'time':>7}  autograded points"]
        for r in self.runs:
            points = "" if r.auto_score is None else f"{r.auto_score:g} / {r.auto_max:g}"
            lines.append(
                f"{r.student:<{width}}  {r.status:<10}  {r.seconds:6.1f}s  {points}"
                + (f"  {r.detail}" if r.detail and r.status != "graded" else "")
            )
        counts: dict[str, int] = {}
        for r in self.runs:
            counts[r.status] = counts.get(r.status, 0) + 1
        busy = sum(r.seconds for r in self.runs)
        lines.append(
            f"{len(self.runs)} students ({', '.join(f'{n} {s}' for s, n in counts.items())}) "
            f"in {self.wall_s:.1f} s wall time with {self.jobs} at a time "
            f"({busy:.1f} s of grading in all); log: {self.log_path}"
        )
        lines += list(self.notes)
        return "\n".join(lines)


def submitted_students(course_dir: Path) -> list[str]:
    """Students with a submitted notebook (``submitted/<student>/ops_scale/ops_scale.ipynb``)."""
    root = Path(course_dir) / "submitted"
    return sorted(
        p.parent.parent.name for p in root.glob(f"*/{ASSIGNMENT_ID}/{NOTEBOOK_NAME}") if p.is_file()
    )


def filter_log(text: str, hidden_test_ids: Iterable[str]) -> tuple[str, int, int]:
    """nbgrader's output less its expected repetitions.

    Parameters
    ----------
    text : str
        nbgrader's output for one student.
    hidden_test_ids : iterable of str
        Grade ids of the hidden test cells (their checksum warnings are expected).

    Returns
    -------
    (str, int, int)
        The kept lines, the number of hidden-test checksum warnings and of "Copying" lines
        left out. SQLAlchemy's "not in session" warnings (and the source line each quotes)
        are left out too.
    """
    hidden = set(hidden_test_ids)
    kept, checksums, copies = [], 0, 0
    skip_source_line = False
    for line in text.splitlines():
        if skip_source_line and line.startswith("  "):  # the source line a warning quotes
            skip_source_line = False
            continue
        skip_source_line = False
        m = _CHECKSUM.search(line)
        if m and m["cell"] in hidden:
            checksums += 1
        elif _COPYING.search(line):
            copies += 1
        elif _SA_WARNING.search(line):
            skip_source_line = True
        else:
            kept.append(line)
    return "\n".join(kept), checksums, copies


def _failure_detail(output: str) -> str:
    for line in output.splitlines():
        for error in ("SubmissionFormatError: ", "SandboxNeedsRoot: "):
            if error in line:
                return line.split(error, 1)[1].strip()
    errors = [
        ln
        for ln in output.splitlines()
        if "ERROR]" in ln and "Please see" not in ln and "error processing" not in ln
    ]
    return errors[-1].split("]", 1)[1].strip() if errors else "nbgrader failed (see the log)"


def _student_run(answer: WorkerAnswer) -> StudentRun:
    if answer.status == "timeout":
        return StudentRun(answer.student, "timeout", answer.seconds, answer.log, log=answer.log)
    if answer.status == "died" or not answer.success:
        detail = answer.log.splitlines()[0] if answer.status == "died" else ""
        detail = detail or _failure_detail(answer.log)
        return StudentRun(answer.student, "failed", answer.seconds, detail, log=answer.log)
    skipped = "Skipping existing assignment" in answer.log
    status = "up to date" if skipped else "graded"
    return StudentRun(answer.student, status, answer.seconds, log=answer.log)


def _scores(db_url: str, students: list[str]) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(db_url, COURSE_ID) as gb:
        for student in students:
            try:
                notebook = gb.find_submission_notebook(NOTEBOOK_ID, ASSIGNMENT_ID, student)
            except MissingEntry:
                continue
            tests = [g for g in notebook.grades if parse_case_grade_id(g.name)]
            found[student] = (
                round(sum(float(g.score or 0.0) for g in tests), 9),
                round(sum(float(g.max_score) for g in tests), 9),
            )
    return found


def autograde_course(
    course_dir: Path,
    *,
    jobs: int = 2,
    students: Iterable[str] | None = None,
    force: bool = False,
    timeout_s: float = 1800,
    on_done: Callable[[StudentRun, int, int], None] | None = None,
) -> CourseAutograde:
    """Autograde the course's submissions, ``jobs`` students at a time (module docstring).

    Parameters
    ----------
    course_dir : Path
        The nbgrader course (after ``generate_assignment``).
    jobs : int >= 1
        Worker processes at a time. Each student's kernel takes one core while its cells
        run: more than the host's cores gains nothing.
    students : iterable of str or None
        Only these students; ``None``: every student with a submitted notebook.
    force : bool
        Autograde again students nbgrader would skip (already autograded, not newer).
    timeout_s : float
        Time one student may take; a worker past it is killed and replaced.
    on_done : callable or None
        Called as ``on_done(run, k, n)`` when the ``k``-th of ``n`` students is done.

    Returns
    -------
    CourseAutograde
        Every student's run, the wall time and the log's path.

    Raises
    ------
    SandboxNeedsRoot
        If this process is not root (the sandbox switches users).
    FileNotFoundError
        If the course has no gradebook (run ``nbgrader generate_assignment`` first).
    ValueError
        If ``jobs`` is below 1.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}")
    if os.geteuid() != 0:
        raise SandboxNeedsRoot(needs_root_message())
    course_dir = Path(course_dir).resolve()
    db = course_dir / "gradebook.db"
    if not db.is_file():
        raise FileNotFoundError(
            f"{db} is missing: run `nbgrader generate_assignment {ASSIGNMENT_ID}` in the course"
        )
    db_url = f"sqlite:///{db}"
    cells = course_cells(db_url, NOTEBOOK_ID, ASSIGNMENT_ID)
    hidden = [
        s.grade_id for s in load_test_cells(db_url, NOTEBOOK_ID, ASSIGNMENT_ID) if s.case.hidden
    ]
    wanted = sorted(set(students)) if students is not None else submitted_students(course_dir)

    start = time.perf_counter()
    done: dict[str, StudentRun] = {}
    runnable = []
    for student in wanted:
        path = course_dir / "submitted" / student / ASSIGNMENT_ID / NOTEBOOK_NAME
        try:
            problems = format_problems(nbformat.read(path, as_version=4), cells)
        except FileNotFoundError:
            problems = [f"no submitted notebook ({path})"]
        except Exception as exc:  # not JSON, not a notebook: nbgrader would fail as well
            problems = [f"unreadable notebook ({type(exc).__name__}: {exc})"]
        if problems:
            done[student] = StudentRun(student, "refused", detail=problems[0])
        else:
            runnable.append(student)
    finished = 0

    def report(run: StudentRun) -> None:
        nonlocal finished
        finished += 1
        if on_done:
            on_done(run, finished, len(wanted))

    for run in list(done.values()):
        report(run)
    retry: list[str] = []

    def record(answer: WorkerAnswer, *, last_try: bool = False) -> None:
        run = _student_run(answer)
        done[run.student] = run
        if not last_try and run.status == "failed" and _LOCKED in run.log:
            retry.append(run.student)  # graded again below, reported then
        else:
            report(run)

    options = {"force": force, "timeout_s": timeout_s}
    run_workers(course_dir, runnable, jobs=jobs, on_answer=record, **options)
    notes = [f"{s}: the gradebook stayed locked; graded again alone" for s in sorted(retry)]
    if retry:
        again = functools.partial(record, last_try=True)
        run_workers(course_dir, sorted(retry), jobs=1, on_answer=again, **options)
    wall = time.perf_counter() - start

    scores = _scores(db_url, [s for s, r in done.items() if r.status in ("graded", "up to date")])
    runs = []
    for student in wanted:
        run = done[student]
        if student in scores:
            run = replace(run, auto_score=scores[student][0], auto_max=scores[student][1])
        runs.append(run)
    log_path = course_dir / LOG_NAME
    _append_log(log_path, runs, hidden, jobs=jobs, wall_s=wall, notes=notes)
    return CourseAutograde(tuple(runs), jobs, wall, log_path, tuple(notes))


def _append_log(
    path: Path, runs: list[StudentRun], hidden: list[str], *, jobs: int, wall_s: float, notes
) -> None:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        f"=== ops-lab nbgrader-autograde, {now}: {len(runs)} students, {jobs} at a time, "
        f"{wall_s:.1f} s",
        CHECKSUM_NOTE,
        *notes,
    ]
    for run in runs:
        kept, checksums, copies = filter_log(run.log, hidden)
        parts.append(
            f"--- {run.student}: {run.status} in {run.seconds:.1f} s"
            + (f": {run.detail}" if run.detail else "")
        )
        if kept.strip():
            parts.append(kept)
        if checksums or copies:
            parts.append(
                f"({checksums} hidden-test checksum warnings and {copies} 'Copying' lines left out)"
            )
    with path.open("a", encoding="utf-8") as log:
        log.write("\n".join(parts) + "\n")
