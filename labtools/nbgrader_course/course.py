"""Work with a written nbgrader course: run nbgrader's steps, submit, read the gradebook.

The course is written by the release build (:mod:`labtools.release.nbgrader_course`); this
module only drives it as an instructor would, and turns an Otter-format notebook into a
submission of the course.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import nbformat

from labtools.grading.notebook_format import is_grader_boilerplate
from labtools.nbgrader_course.cells import ASSIGNMENT_ID, parse_case_grade_id
from labtools.nbgrader_course.config import CourseSettings
from labtools.paths import NOTEBOOK_NAME

__all__ = [
    "NbgraderStepError",
    "run_nbgrader",
    "submission_from_otter",
    "submit",
    "question_scores",
]

NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem


class NbgraderStepError(RuntimeError):
    """An nbgrader command failed; the message holds its output."""


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
    # nbgrader runs the `alembic` executable (from PATH) when it creates gradebook.db: put
    # this interpreter's bin folder first, as an activated venv would.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise NbgraderStepError(
            f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
    return time.perf_counter() - start


def _is_test_cell(cell: nbformat.NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def submission_from_otter(
    otter_notebook: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """An nbgrader submission with the code answers of a notebook in Otter's format.

    Both notebooks come from the same master, so the code cells of the Otter notebook, less
    Otter's own cells (``otter.Notebook``, ``grader.check``, ``grader.export``), are the
    nbgrader release's code cells less its test cells, one for one and in order. Each answer
    cell of the release (autograded or manually graded code) takes the source of its partner;
    every read-only cell must equal its partner. Written (markdown) answers keep the release's
    text: the autograder does not read them.

    Parameters
    ----------
    otter_notebook : NotebookNode
        A notebook in Otter's format (the student or solution notebook, or a submission).
    release : NotebookNode
        The nbgrader release notebook (``release/ops_scale/ops_scale.ipynb``).

    Returns
    -------
    NotebookNode
        A copy of ``release`` with the answers in place.

    Raises
    ------
    ValueError
        If the cells do not pair up (a notebook from another build, or cells added or
        removed), naming the first cell that does not match.
    """
    theirs = [
        c
        for c in otter_notebook.cells
        if c.cell_type == "code" and not is_grader_boilerplate(c.source)
    ]
    submission = copy.deepcopy(release)
    ours = [c for c in submission.cells if c.cell_type == "code" and not _is_test_cell(c)]
    if len(theirs) != len(ours):
        raise ValueError(
            f"the Otter notebook has {len(theirs)} code cells, the release {len(ours)} "
            "(besides tests): not from the same master"
        )
    for k, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        meta = mine.metadata.get("nbgrader", {})
        if meta.get("solution"):
            mine.source = other.source
        elif mine.source.strip() != other.source.strip():
            raise ValueError(
                f"code cell {k} ({meta.get('grade_id')}) differs from the Otter notebook's: "
                f"{mine.source[:60]!r} vs {other.source[:60]!r}"
            )
    return submission


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
