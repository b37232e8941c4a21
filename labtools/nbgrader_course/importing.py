"""Students' notebooks into the course's ``submitted/`` folder, without losing a file.

``ops-lab nbgrader-import EXPORT COURSE`` brings work handed in elsewhere (a Gradescope
"Export Submissions", a folder of notebooks) into an nbgrader course, where ``nbgrader
autograde`` grades it like a submission collected from the exchange. For each student:

1. the notebook is found as the Gradescope harness finds it
   (:func:`labtools.grading.submission.find_notebook`): a bare notebook, a folder, or the
   zip the notebook's export cell makes;
2. its cells are matched onto the course's release
   (:func:`labtools.nbgrader_course.cell_matching.match_submission`): answers by nbgrader id,
   by the names they define or by position; the student's own cells kept in place;
3. what the student handed in (the file or folder, byte for byte) and the match report go
   to ``imported/<student>/<time>/`` (``original/``, ``import.txt``);
4. the notebook is written to ``submitted/<student>/ops_scale/ops_scale.ipynb`` through a
   temporary file and a rename, with ``timestamp.txt`` (the import time, in nbgrader's
   format): newer than any earlier autograding, so ``nbgrader autograde`` grades it again.

A student who already has a submission keeps it, untouched, unless ``force``: then the old
submission folder is first copied to ``imported/<student>/<time>/replaced/``, and only the
notebook and its timestamp are replaced. Nothing is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labtools.files import write_atomic
from labtools.grading.submission import FoundNotebook, SubmissionProblem, find_notebook
from labtools.nbgrader_course.cell_matching import MatchReport, NotThisAssignment, match_submission
from labtools.nbgrader_course.cells import ASSIGNMENT_ID
from labtools.paths import NOTEBOOK_NAME

__all__ = ["IMPORTED_DIR", "ImportOutcome", "import_submissions", "format_outcomes"]

#: Folder of the course keeping what each import received and replaced.
IMPORTED_DIR = "imported"
#: nbgrader's own timestamp format (``Exchange.timestamp_format``), in UTC.
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
# Student ids become folder names and nbgrader's ``--student`` globs: no glob or path signs.
_STUDENT_ID = re.compile(r"^[A-Za-z0-9@+_-][A-Za-z0-9._@+-]*$")


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one student's notebook.

    Attributes
    ----------
    student : str
        The nbgrader student id.
    status : str
        ``imported`` (a new submission), ``replaced`` (``force``, the old one kept in
        ``archive``), ``kept`` (a submission exists: nothing written) or ``problem``.
    detail : str
        What the instructor needs to know (the problem, the student-facing note).
    submission : Path or None
        The submitted notebook written.
    archive : Path or None
        ``imported/<student>/<time>/``.
    report : MatchReport or None
        How the cells were matched.
    """

    student: str
    status: str
    detail: str = ""
    submission: Path | None = None
    archive: Path | None = None
    report: MatchReport | None = None


def _read_release(course_dir: Path) -> nbformat.NotebookNode:
    path = course_dir / "release" / ASSIGNMENT_ID / NOTEBOOK_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run `nbgrader generate_assignment {ASSIGNMENT_ID}` in the "
            "course folder first (the import matches notebooks onto the release)"
        )
    return nbformat.read(path, as_version=4)


def _find(path: Path) -> FoundNotebook:
    """The student's notebook in a folder, a notebook file or a zip file."""
    if path.is_dir():
        return find_notebook(path, NOTEBOOK_NAME)
    with tempfile.TemporaryDirectory(prefix="ops-import-") as tmp:
        shutil.copy2(path, Path(tmp) / path.name)
        found = find_notebook(Path(tmp), NOTEBOOK_NAME)
    if path.suffix.lower() == ".ipynb":  # a file named for its student: its name is no news
        found = FoundNotebook(found.notebook, found.origin)
    return found


def _new_archive(course_dir: Path, student: str, now: dt.datetime) -> Path:
    base = course_dir / IMPORTED_DIR / student
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    archive, n = base / stamp, 1
    while archive.exists():
        n += 1
        archive = base / f"{stamp}-{n}"
    archive.mkdir(parents=True)
    return archive


def _keep_original(source: Path, archive: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, archive / "original", symlinks=True)
    else:
        (archive / "original").mkdir()
        shutil.copy2(source, archive / "original" / source.name)


def _import_one(
    course_dir: Path,
    student: str,
    source: Path,
    release: nbformat.NotebookNode,
    *,
    force: bool,
    now: dt.datetime,
) -> ImportOutcome:
    if not _STUDENT_ID.match(student):
        return ImportOutcome(student, "problem", f"{student!r} is not usable as a student id")
    folder = course_dir / "submitted" / student / ASSIGNMENT_ID
    target = folder / NOTEBOOK_NAME
    if target.exists() and not force:
        return ImportOutcome(
            student, "kept", f"{target} exists and was left alone (--force replaces it)"
        )
    try:
        found = _find(source)
        matched = match_submission(found.notebook, release)
    except (SubmissionProblem, NotThisAssignment) as exc:
        return ImportOutcome(student, "problem", f"{source}: {exc}")
    archive = _new_archive(course_dir, student, now)
    _keep_original(source, archive)
    lines = [f"from: {source} ({found.origin})", *([found.note] if found.note else [])]
    write_atomic(archive / "import.txt", "\n".join(lines + matched.report.lines()) + "\n")
    replacing = folder.exists() and any(folder.iterdir())
    if replacing:
        shutil.copytree(folder, archive / "replaced", symlinks=True)
    write_atomic(target, nbformat.writes(matched.notebook))
    write_atomic(folder / "timestamp.txt", now.strftime(_TIMESTAMP_FORMAT))
    return ImportOutcome(
        student,
        "replaced" if replacing else "imported",
        found.note,
        target,
        archive,
        matched.report,
    )


def import_submissions(
    course_dir: Path, entries: Iterable[tuple[str, Path]], *, force: bool = False
) -> list[ImportOutcome]:
    """Import each ``(student id, notebook file or folder)`` into the course.

    Parameters
    ----------
    course_dir : Path
        The nbgrader course (``release/ops_scale/`` must exist: ``generate_assignment``).
    entries : iterable of (str, Path)
        Student ids and what each handed in: a notebook, a zip, or a folder holding one.
    force : bool, default False
        Replace an existing submission (kept in ``imported/``); without it, a student who
        has one is skipped (``kept``).

    Returns
    -------
    list of ImportOutcome
        One per entry, in order; a notebook that cannot be imported is a ``problem``, never
        an exception, so one bad file never stops the others.

    Raises
    ------
    FileNotFoundError
        If the course has no release notebook.
    """
    course_dir = Path(course_dir)
    release = _read_release(course_dir)
    now = dt.datetime.now(dt.timezone.utc)
    outcomes: list[ImportOutcome] = []
    seen: set[str] = set()
    for student, source in entries:
        if student.casefold() in seen:
            outcomes.append(ImportOutcome(student, "problem", "this student id came twice"))
            continue
        seen.add(student.casefold())
        outcomes.append(
            _import_one(course_dir, student, Path(source), release, force=force, now=now)
        )
    return outcomes


def format_outcomes(outcomes: list[ImportOutcome]) -> str:
    """The import as the instructor reads it: one line per student, then the notable cells."""
    lines = []
    for o in outcomes:
        lines.append(f"{o.student}: {o.status}" + (f": {o.detail}" if o.detail else ""))
        if o.report is not None:  # what is worth a look: the counts of filled answers aside
            lines += [f"    {ln}" for ln in o.report.lines()[2:]]
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines.append(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing")
    return "\n".join(lines)
