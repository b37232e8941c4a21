"""Work with a written nbgrader course: run nbgrader's steps, submit, read the gradebook.

The course is written by the release build (:mod:`labtools.release.nbgrader_course`); this
module only drives it as an instructor would. Turning an Otter-format notebook into a
submission of the course is :mod:`~labtools.nbgrader_course.cell_matching`
(:func:`submission_from_otter` is re-exported here).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import nbformat

from labtools.nbgrader_course.cell_matching import submission_from_otter
from labtools.nbgrader_course.cells import ASSIGNMENT_ID, parse_case_grade_id
from labtools.nbgrader_course.config import CourseSettings
from labtools.paths import NOTEBOOK_NAME

__all__ = [
    "NbgraderStepError",
    "nbgrader_process",
    "run_nbgrader",
    "submission_from_otter",
    "submit",
    "question_scores",
]

NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem


class NbgraderStepError(RuntimeError):
    """An nbgrader command failed; the message holds its output."""


def nbgrader_process(
    course_dir: Path, *args: str, timeout_s: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader ARGS`` in ``course_dir`` with this interpreter; its output captured.

    nbgrader runs the ``alembic`` executable (from ``PATH``) when it creates
    ``gradebook.db``: this interpreter's bin folder goes first, as an activated venv would.

    Raises
    ------
    subprocess.TimeoutExpired
        If the command runs longer than ``timeout_s``.
    """
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def run_nbgrader(course_dir: Path, *args: str, timeout_s: float = 1800) -> float:
    """Run ``nbgrader ARGS`` in ``course_dir`` as an instructor would.

    Parameters
    ----------
    course_dir : Path
        The course folder (nbgrader reads its ``nbgrader_config.py``).
    *args : str
        The command and its arguments, e.g. ``"autograde", "ops_scale"``.
    timeout_s : float
        Wall-time limit of the command.

    Returns
    -------
    float
        The command's wall time in seconds.

    Raises
    ------
    NbgraderStepError
        If the command exits with an error (its output is in the message).
    """
    start = time.perf_counter()
    result = nbgrader_process(course_dir, *args, timeout_s=timeout_s)
    if result.returncode != 0:
        raise NbgraderStepError(
            f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
    return time.perf_counter() - start


def submit(course_dir: Path, student: str, notebook: nbformat.NotebookNode) -> Path:
    """Place ``notebook`` as ``student``'s submission, as ``nbgrader collect`` would.

    Returns
    -------
    Path
        ``submitted/<student>/ops_scale/ops_scale.ipynb`` in ``course_dir``.
    """
    folder = course_dir / "submitted" / student / ASSIGNMENT_ID
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NOTEBOOK_NAME
    nbformat.write(notebook, path)
    return path


def question_scores(
    course_dir: Path, student: str, *, course_id: str = CourseSettings().course_id
) -> dict[str, float | None]:
    """Per question, the student's score in the gradebook (test cells summed).

    Parameters
    ----------
    course_dir : Path
        The course folder holding ``gradebook.db``.
    student : str
        The student id.
    course_id : str
        The gradebook's course id.

    Returns
    -------
    dict
        Question name -> points; a manually graded question is ``None`` until a TA scores
        it (or 0 when the answer was left as released).
    """
    from nbgrader.api import Gradebook

    scores: dict[str, float | None] = defaultdict(float)
    db_url = f"sqlite:///{(course_dir / 'gradebook.db').resolve()}"
    with Gradebook(db_url, course_id) as gb:
        submission = gb.find_submission_notebook(NOTEBOOK_ID, ASSIGNMENT_ID, student)
        for grade in submission.grades:
            parsed = parse_case_grade_id(grade.name)
            if parsed is None:  # a manually graded answer: None until scored
                ungraded = grade.manual_score is None and grade.auto_score is None
                scores[grade.name] = None if ungraded else float(grade.score)
                continue
            question = parsed[0]
            score = float(grade.score or 0.0)
            scores[question] = (scores[question] or 0.0) + score
    return {q: (None if s is None else round(s, 9)) for q, s in scores.items()}
