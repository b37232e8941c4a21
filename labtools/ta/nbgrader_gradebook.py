"""nbgrader's SQLite gradebook for the TAs: autograded test cells read, written scores written.

Reading: :func:`read_case_grades` gives each submission's test cells (one per Otter case,
grade id ``<question>_case<k>``) with the score nbgrader counts for them. The packet shows the
ledger question's cases from it; the combined gradebook sums them per question.

Writing: :func:`write_nbgrader_scores` puts the TAs' written scores (a checked
:class:`~labtools.ta.filled_sheet.ScoreSheet`) into the gradebook as the Formgrader would, in
one transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from labtools.paths import NOTEBOOK_NAME
from labtools.rubric import Rubric, load_rubric
from labtools.ta.filled_sheet import QuestionScore, ScoreSheet
from opsmodel._validation import InvalidInputError

__all__ = [
    "GRADEBOOK_NAME",
    "CaseGrade",
    "gradebook_url",
    "read_case_grades",
    "NbgraderWrite",
    "nbgrader_comment",
    "write_nbgrader_scores",
]

#: The gradebook's file in an nbgrader course folder.
GRADEBOOK_NAME = "gradebook.db"
#: The submitted notebook's name in the gradebook (nbgrader names notebooks by their stem).
_NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem


def gradebook_url(course: Path) -> tuple[Path, str]:
    """The course's ``gradebook.db`` and its SQLAlchemy URL.

    Raises
    ------
    InvalidInputError
        If the course holds no gradebook (nbgrader has not run on it yet).
    """
    db = Path(course) / GRADEBOOK_NAME
    if not db.is_file():
        raise InvalidInputError(
            f"nbgrader_course must hold gradebook.db (run nbgrader generate_assignment and "
            f"autograde first), got {str(course)!r}"
        )
    return db, f"sqlite:///{db.resolve()}"


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CaseGrade:
    """One autograded test cell of a submission: the Otter case it checks and its score.

    Attributes
    ----------
    question : str
        The autograded question the case belongs to.
    case : int
        The case's index in the question's test file.
    score : float or None
        The points nbgrader counts (a manual override if a grader entered one, else the
        autograder's); None while the cell is not autograded yet.
    possible : float
        The case's points.
    """

    question: str
    case: int
    score: float | None
    possible: float

    @property
    def passed(self) -> bool | None:
        """Whether the case earned its points (None while not graded)."""
        if self.score is None:
            return None
        return math.isclose(self.score, self.possible) or self.score >= self.possible


def read_case_grades(
    course: Path, *, course_id: str | None = None
) -> dict[str, tuple[CaseGrade, ...]]:
    """Every submission's autograded test cells, from the course's gradebook.

    Parameters
    ----------
    course : Path
        The nbgrader course folder holding ``gradebook.db``.
    course_id : str or None
        The gradebook's course id; None: ``ops-scale``.

    Returns
    -------
    dict
        Student id -> their test cells in (question, case) order, for every submission of
        the assignment in the gradebook (a student collected but never entered is absent).

    Raises
    ------
    InvalidInputError
        If the course has no gradebook.
    """
    from nbgrader.api import Gradebook

    from labtools.nbgrader_course.cells import ASSIGNMENT_ID, parse_case_grade_id
    from labtools.nbgrader_course.config import COURSE_ID

    _, url = gradebook_url(course)
    found: dict[str, tuple[CaseGrade, ...]] = {}
    with Gradebook(url, course_id or COURSE_ID) as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT_ID):
            cases = []
            for notebook in submission.notebooks:
                if notebook.name != _NOTEBOOK_ID:
                    continue
                for grade in notebook.grades:
                    parsed = parse_case_grade_id(grade.name)
                    if parsed is None:
                        continue  # a written answer's grade, not a test cell
                    graded = grade.auto_score is not None or grade.manual_score is not None
                    cases.append(
                        CaseGrade(
                            parsed[0],
                            parsed[1],
                            float(grade.score) if graded else None,
                            float(grade.max_score),
                        )
                    )
            found[submission.student.id] = tuple(sorted(cases, key=lambda c: (c.question, c.case)))
    return found


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class NbgraderWrite:
    """What :func:`write_nbgrader_scores` wrote.

    Attributes
    ----------
    gradebook : Path
        The ``gradebook.db`` written.
    written : int
        (student, question) scores written.
    missing_students : tuple of str
        Students of the sheet without a submission in the gradebook (not written).
    """

    gradebook: Path
    written: int
    missing_students: tuple[str, ...]


def nbgrader_comment(score: QuestionScore) -> str:
    """The manual comment of a question: its score, each item's points, the TA's comment.

    Examples
    --------
    >>> from labtools.ta.filled_sheet import ItemScore
    >>> from labtools.ta.sheet import KeyStudent
    >>> s = QuestionScore("r1", "Reflection 1", KeyStudent("S-01", "k", "k"),
    ...     (ItemScore("r1.a", 1.0, 1.0, "Names A."), ItemScore("r1.b", 0.5, 2.0, "Shows B.")),
    ...     "Good start.", 3)
    >>> print(nbgrader_comment(s))
    Reflection 1: 1.5 / 3
    [1/1] r1.a: Names A.
    [0.5/2] r1.b: Shows B.
    TA: Good start.
    """
    lines = [f"{score.title}: {score.score:g} / {score.possible:g}"]
    lines += [f"[{i.points:g}/{i.possible:g}] {i.item_id}: {i.text}" for i in score.items]
    if score.comment:
        lines.append(f"TA: {score.comment}")
    return "\n".join(lines)


def write_nbgrader_scores(
    sheet: ScoreSheet,
    course: Path,
    *,
    rubric: Rubric | None = None,
    course_id: str | None = None,
    assignment: str | None = None,
) -> NbgraderWrite:
    """Write the sheet's graded questions into an nbgrader course's gradebook.

    Parameters
    ----------
    sheet : ScoreSheet
        A checked sheet (:func:`labtools.ta.filled_sheet.read_scores`).
    course : Path
        The nbgrader course folder holding ``gradebook.db``.
    rubric : Rubric or None
        Each question's points, checked against the gradebook's; None loads the rubric.
    course_id : str or None
        The gradebook's course id; None: ``ops-scale``.
    assignment : str or None
        The assignment; None: ``ops_scale``.

    Returns
    -------
    NbgraderWrite
        How many scores were written and which students the gradebook lacks.

    Raises
    ------
    InvalidInputError
        If the course has no gradebook, or a written question's maximum in the gradebook
        differs from the rubric's (a gradebook of another build); nothing is written then.

    Notes
    -----
    For each graded (student, question): ``Grade.manual_score`` is the sum of the items,
    ``Grade.needs_manual_grade`` becomes False (as the Formgrader does when a score is
    entered), and ``Comment.manual_comment`` lists the items (:func:`nbgrader_comment`).
    The grade cell and the comment's solution cell are the question's answer cell, whose
    grade id is the question's name. Everything is committed once, at the end; any error
    rolls the whole import back.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from labtools.nbgrader_course.cells import ASSIGNMENT_ID
    from labtools.nbgrader_course.config import COURSE_ID

    rubric = rubric or load_rubric()
    db, url = gradebook_url(course)
    assignment = assignment or ASSIGNMENT_ID
    notebook = _NOTEBOOK_ID
    missing: list[str] = []
    written = 0
    with Gradebook(url, course_id or COURSE_ID) as gb:
        try:
            for score in sheet.scores:
                student = score.student.student_id
                if student in missing:
                    continue
                try:
                    grade = gb.find_grade(score.question, notebook, assignment, student)
                    comment = gb.find_comment(score.question, notebook, assignment, student)
                except MissingEntry:
                    missing.append(student)
                    continue
                expected = rubric.question(score.question).points
                if not math.isclose(float(grade.max_score), expected):
                    raise InvalidInputError(
                        f"nbgrader_course's gradebook gives {score.question} "
                        f"{float(grade.max_score):g} points, the rubric {expected:g}: "
                        f"a gradebook of another build, got {str(course)!r}"
                    )
                grade.manual_score = score.score
                grade.needs_manual_grade = False
                comment.manual_comment = nbgrader_comment(score)
                written += 1
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise
    return NbgraderWrite(db, written, tuple(missing))
