"""One student's part of the packet: their written answers, ledger, and autograded ledger items.

The autograded items of :data:`LEDGER_QUESTION` shown beside every answer come as data, from
one of two places: a batch's ``results/<key>.json`` (each question's cases in
``extra_data.cases``, :func:`labtools.grading.results.case_record`), or an nbgrader course's
gradebook (its test cells, :func:`labtools.ta.nbgrader_gradebook.read_case_grades`). The text
shown to students is never parsed for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from labtools.rubric import RubricQuestion
from labtools.ta.answers import LedgerContext, WrittenAnswer
from labtools.ta.nbgrader_gradebook import GRADEBOOK_NAME, read_case_grades
from labtools.ta.sheet import KeyStudent

__all__ = [
    "LEDGER_QUESTION",
    "AutoItem",
    "AutoLedger",
    "PacketEntry",
    "ledger_from_results",
    "ledgers_from_nbgrader",
]

#: The autograded question whose results the packet shows beside every answer.
LEDGER_QUESTION = "q5_ledger"


@dataclass(frozen=True)
class AutoItem:
    """One autograded item of the ledger question and how the student did on it."""

    item_id: str
    points: float
    text: str
    passed: bool | None  # None: not known (not graded yet)
    message: str = ""


@dataclass(frozen=True)
class AutoLedger:
    """The autograded ledger question's result for one student.

    Attributes
    ----------
    score, possible : float or None
        Points earned and possible (``score`` None when not graded).
    items : tuple of AutoItem
        Per rubric item, when the grader's cases map onto the items one for one.
    source : str
        Where it comes from (``batch results`` or ``nbgrader gradebook``).
    """

    score: float | None
    possible: float | None
    items: tuple[AutoItem, ...]
    source: str


@dataclass(frozen=True)
class PacketEntry:
    """One student in the packet.

    Attributes
    ----------
    student : KeyStudent
        Label and identity (the identity never reaches the HTML).
    answers : tuple of WrittenAnswer
        One per written question, in rubric order.
    ledger : LedgerContext
        The governance ledger as written.
    auto : AutoLedger or None
        The autograded ledger items, when results were given.
    numbers : tuple of (str, str)
        The reference's numbers of the student's own track and variant
        (:func:`labtools.ta.variant_numbers.reference_numbers`), empty when unreadable.
    """

    student: KeyStudent
    answers: tuple[WrittenAnswer, ...]
    ledger: LedgerContext
    auto: AutoLedger | None = None
    numbers: tuple[tuple[str, str], ...] = ()

    def answer(self, question: str) -> WrittenAnswer:
        """The answer to ``question``."""
        return next(a for a in self.answers if a.question == question)


def _pair_items(
    question: RubricQuestion, outcomes: list[tuple[bool | None, str]]
) -> tuple[AutoItem, ...]:
    """Rubric items of an autograded question with the cases' outcomes, in order.

    The rubric lists an autograded question's items in the order of its test cases (a test
    checks that the points agree); when the counts differ, the items are shown unpaired.
    """
    if len(outcomes) != len(question.items):
        return tuple(AutoItem(i.id, i.points, i.text, None) for i in question.items)
    return tuple(
        AutoItem(i.id, i.points, i.text, passed, message)
        for i, (passed, message) in zip(question.items, outcomes, strict=True)
    )


def ledger_from_results(
    path: Path, question: RubricQuestion
) -> tuple[AutoLedger | None, str | None]:
    """``question``'s result in a batch's ``results/<key>.json``, and the batch's status.

    Parameters
    ----------
    path : Path
        One submission's ``results.json`` as the batch wrote it.
    question : RubricQuestion
        The autograded question to read (its items are paired with its cases).

    Returns
    -------
    tuple
        The :class:`AutoLedger` (None when the file is unreadable or has no entry for the
        question) and the batch's status of the submission (None when not recorded).

    Notes
    -----
    Each case's outcome is read from the entry's ``extra_data.cases``: ``passed`` as
    recorded, and its ``message`` shown whole, as the grader wrote it.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    tests = data.get("tests") if isinstance(data, dict) else None
    entry = next(
        (t for t in tests or [] if isinstance(t, dict) and t.get("name") == question.name), None
    )
    if entry is None:
        return None, None
    cases = (entry.get("extra_data") or {}).get("cases") or []
    outcomes: list[tuple[bool | None, str]] = [
        (bool(c.get("passed")), str(c.get("message", ""))) for c in cases if isinstance(c, dict)
    ]
    meta = data.get("extra_data", {}).get("batch", {}) if isinstance(data, dict) else {}
    status = meta.get("status") if isinstance(meta, dict) else None
    score = entry.get("score")
    possible = entry.get("max_score")
    return (
        AutoLedger(
            None if score is None else float(score),
            None if possible is None else float(possible),
            _pair_items(question, outcomes),
            "batch results",
        ),
        status,
    )


def ledgers_from_nbgrader(
    course: Path, question: RubricQuestion, course_id: str | None = None
) -> dict[str, AutoLedger]:
    """``question``'s result per student id, from an nbgrader course's gradebook.

    A student appears once every test cell of the question is graded; a course without a
    gradebook yet (nbgrader never ran) gives none.
    """
    if not (Path(course) / GRADEBOOK_NAME).is_file():
        return {}
    found: dict[str, AutoLedger] = {}
    for student, grades in read_case_grades(course, course_id=course_id).items():
        cases = [c for c in grades if c.question == question.name]
        if not cases or any(c.score is None for c in cases):
            continue  # not autograded yet
        outcomes: list[tuple[bool | None, str]] = [
            (c.passed, f"{c.score:g} / {c.possible:g}") for c in cases
        ]
        found[student] = AutoLedger(
            sum(c.score or 0.0 for c in cases),
            sum(c.possible for c in cases),
            _pair_items(question, outcomes),
            "nbgrader gradebook",
        )
    return found
