"""Gradescope's ``results.json``: built only on the trusted side, from what the grader saw.

Schema (Gradescope autograder specification): a top-level ``score``, an ``output`` shown to
the student, and ``tests``, each with ``name``, ``score``, ``max_score``, ``visibility`` and
``output``; the ungraded "Public Tests" entry also has a ``status``. Each question's entry
carries its cases' outcomes as data in ``extra_data.cases`` (:func:`case_record`). Hidden
cases contribute their points and their authored failure message only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from labtools.files import write_atomic
from labtools.grading.test_runner import CaseOutcome, QuestionOutcome

__all__ = ["build_results", "case_record", "write_results", "MAX_OUTPUT_CHARS"]

#: Longest text of one entry; Gradescope shows it in the browser.
MAX_OUTPUT_CHARS = 8000

HIDDEN_NOTICE = (
    "Public tests ran in your notebook as you worked. Hidden tests ran after you submitted, "
    "on your track's numbers and on fresh inputs; their results appear per question."
)


def _cut(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 40] + "\n... (output shortened)"


def _question_entry(q: QuestionOutcome) -> dict[str, Any]:
    lines = [f"{q.name}: {q.score:g} / {q.possible:g} points"]
    lines += [f"- {c.message}" for c in q.cases]
    return {
        "name": q.name,
        "score": round(q.score, 5),
        "max_score": round(q.possible, 5),
        # Per-question results, hidden cases included, show once grades are published.
        "visibility": "after_published",
        "output": _cut("\n".join(lines)),
        # The same outcomes as data, for the TA packet and the gradebooks: nothing downstream
        # parses the student-facing text.
        "extra_data": {"cases": [case_record(c) for c in q.cases]},
    }


def case_record(case: CaseOutcome) -> dict[str, Any]:
    """One case's outcome as plain data (``extra_data.cases`` of its question's entry)."""
    return {
        "index": case.index,
        "hidden": case.hidden,
        "points": case.points,
        "passed": case.passed,
        "message": _cut(case.message, 1500),
    }


def build_results(
    questions: Iterable[QuestionOutcome],
    *,
    possible_by_question: dict[str, float],
    problems: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> dict[str, Any]:
    """The results dict for Gradescope.

    Parameters
    ----------
    questions : iterable of QuestionOutcome
        Questions that ran (possibly none).
    possible_by_question : dict
        Every autograded question's points, so that a question that could not run still
        appears, with score 0.
    problems : iterable of str
        What went wrong with the submission (shown to the student at once).
    notes : iterable of str
        Smaller remarks (a renamed notebook, a variable that was not plain data).
    """
    ran = {q.name: q for q in questions}
    tests = []
    public_lines = []
    public_failed = False
    for name, possible in possible_by_question.items():
        q = ran.get(name)
        if q is None:
            public_failed = True  # its public tests did not pass either
            tests.append(
                {
                    "name": name,
                    "score": 0.0,
                    "max_score": round(possible, 5),
                    "visibility": "after_published",
                    "output": f"{name}: 0 / {possible:g} points: not graded (see the summary).",
                }
            )
            continue
        tests.append(_question_entry(q))
        public = [c for c in q.cases if not c.hidden]
        if public:
            passed = sum(c.passed for c in public)
            public_failed |= passed < len(public)
            public_lines.append(f"{name}: {passed} of {len(public)} public tests passed")
            public_lines += [f"  {c.message}" for c in public if not c.passed]
    summary = [HIDDEN_NOTICE]
    problems, notes = list(problems), list(notes)
    if problems:
        summary += ["", "Problems with your submission (points earned elsewhere are kept):"]
        summary += [f"- {p}" for p in problems]
    if notes:
        summary += ["", "Notes:"] + [f"- {n}" for n in notes]
    public_entry = {
        "name": "Public Tests",
        "score": 0.0,
        "max_score": 0.0,
        # Gradescope shows a test whose score reaches max_score (0 of 0 here) as passed,
        # unless its status says otherwise.
        "status": "failed" if public_failed else "passed",
        "visibility": "visible",
        "output": _cut("\n".join(public_lines) or "No public test ran."),
    }
    total = sum(t["score"] for t in tests)
    return {
        "score": round(total, 5),
        "output": _cut("\n".join(summary)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [public_entry, *tests],
    }


def write_results(results: dict[str, Any], path: Path, *, make_parents: bool = True) -> None:
    """Write atomically, so a reader never sees half a file.

    ``make_parents=False``: never bring back a folder that was removed (see
    :func:`labtools.files.write_atomic`).
    """
    write_atomic(path, json.dumps(results, indent=2), make_parents=make_parents)
