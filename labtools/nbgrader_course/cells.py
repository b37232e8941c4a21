"""The nbgrader cell formats of the course, shared by the generator and the grader.

One Otter test case becomes one locked nbgrader test cell (nbgrader scores a test cell all or
nothing, Otter scores case by case, so one cell per case keeps Otter's partial points):

.. code-block:: python

    # q1a_manual_toil: test 3 of 5 (hidden, 1 point); it runs when your notebook is graded.
    ### BEGIN HIDDEN TESTS
    # On failure: "manual_toil_hours disagrees with the reference on your track's fleet. ..."
    from labtools.grading.reference_checks import check_toil_on_track
    assert check_toil_on_track(manual_toil_hours, TRACK)
    ### END HIDDEN TESTS

Its grade id is ``<question>_case<k>`` (``k`` from 1) and its points are the case's points.
The failure message sits in a comment (inside the hidden region for a hidden case, so that
students never read it before it applies, as on Gradescope). Comments vanish when the cell
is turned back into Otter's doctest body (:func:`otter_doctest_body`, Otter Assign's own
conversion: ``ast.unparse``, then ``>>>`` prompts), which is how the grader gets, from the
gradebook's copy of the cells, test files equal to the ones the Gradescope autograder runs.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Otter Assign's own conversion of a test cell into a doctest body (otter-grader 7.0.0, pinned
# in pyproject.toml): reusing it, not a copy, is what makes the bodies equal by construction.
from otter.assign.tests_manager import _AnnotationRemover
from otter.assign.utils import str_to_doctest
from otter.test_files.ok_test import OKTestFile

__all__ = [
    "ASSIGNMENT_ID",
    "CODE_STUB",
    "TEXT_STUB",
    "HIDDEN_BEGIN",
    "HIDDEN_END",
    "SOLUTION_BEGIN",
    "SOLUTION_END",
    "CaseSpec",
    "case_grade_id",
    "parse_case_grade_id",
    "nbgrader_metadata",
    "render_test_cell",
    "case_from_cell",
    "otter_doctest_body",
    "test_file_from_cases",
]

#: The assignment's id in the course (folder names, gradebook).
ASSIGNMENT_ID = "ops_scale"

#: What nbgrader puts in place of a code solution region. Otter Assign writes ``...``; with
#: the same stub both releases show the same blanks (and ``...`` is both a statement and an
#: expression, so a stub can stand for a function body or for the right side of ``x =``).
CODE_STUB = "..."
#: What replaces a written answer (Otter Assign's wording, so both releases read alike).
TEXT_STUB = "_Type your answer here, replacing this text._"

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
SOLUTION_BEGIN = "# BEGIN SOLUTION"
SOLUTION_END = "# END SOLUTION"

_CASE_ID = re.compile(r"^(?P<question>[A-Za-z_][A-Za-z0-9_]*)_case(?P<k>[1-9][0-9]*)$")
_ON_FAILURE = re.compile(r"^\s*# On failure: (?P<json>\".*\")\s*$")
_ON_SUCCESS = re.compile(r"^\s*# On success: (?P<json>\".*\")\s*$")


@dataclass(frozen=True)
class CaseSpec:
    """One Otter test case as the master notebook states it.

    Attributes
    ----------
    code : str
        The case's Python source (the test cell without its ``TEST CONFIG`` docstring).
    hidden : bool
        Whether students see the case only after grading.
    points : float
        Its points (partial credit of its question).
    failure_message, success_message : str or None
        Authored messages shown to the student.
    """

    code: str
    hidden: bool
    points: float
    failure_message: str | None = None
    success_message: str | None = None


def case_grade_id(question: str, k: int) -> str:
    """Grade id of the ``k``-th (from 1) test cell of ``question``.

    Examples
    --------
    >>> case_grade_id("q1a_manual_toil", 2)
    'q1a_manual_toil_case2'
    """
    return f"{question}_case{k}"


def parse_case_grade_id(grade_id: str) -> tuple[str, int] | None:
    """``(question, k)`` of a test cell's grade id, or ``None`` for any other grade id.

    Examples
    --------
    >>> parse_case_grade_id("q1a_manual_toil_case2")
    ('q1a_manual_toil', 2)
    >>> parse_case_grade_id("r1_heterogeneity") is None
    True
    """
    m = _CASE_ID.match(grade_id or "")
    return (m["question"], int(m["k"])) if m else None


def nbgrader_metadata(
    grade_id: str,
    *,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> dict[str, Any]:
    """``metadata.nbgrader`` of one cell (schema version 3).

    Raises
    ------
    ValueError
        If a grade cell has no points or a non-grade cell has some.
    """
    if grade != (points is not None):
        raise ValueError(f"cell {grade_id}: points must be given exactly for grade cells")
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _points_text(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def render_test_cell(question: str, k: int, count: int, case: CaseSpec) -> str:
    """Source of the nbgrader test cell of one case (see the module docstring).

    Parameters
    ----------
    question : str
        The question's name.
    k, count : int
        The case's number (from 1) and the question's number of cases.
    case : CaseSpec
        The case as the master states it.

    Returns
    -------
    str
        A header comment, the messages as JSON strings in comments, then the code; for a
        hidden case, the messages and the code sit inside nbgrader's hidden-tests markers.

    Examples
    --------
    >>> print(render_test_cell("q0", 1, 1, CaseSpec("assert f(0) == 0", False, 0.5, "f(0)")))
    # q0: test 1 of 1 (public, 0.5 points)
    # On failure: "f(0)"
    assert f(0) == 0
    """
    kind = "hidden" if case.hidden else "public"
    head = f"# {question}: test {k} of {count} ({kind}, {_points_text(case.points)})"
    if case.hidden:
        head += "; it runs when your notebook is graded."
    messages = []
    if case.failure_message is not None:
        messages.append(f"# On failure: {json.dumps(case.failure_message, ensure_ascii=False)}")
    if case.success_message is not None:
        messages.append(f"# On success: {json.dumps(case.success_message, ensure_ascii=False)}")
    code = case.code.strip("\n").splitlines()
    if case.hidden:
        return "\n".join([head, HIDDEN_BEGIN, *messages, *code, HIDDEN_END])
    return "\n".join([head, *messages, *code])


def otter_doctest_body(source: str) -> str:
    """The doctest body Otter Assign writes for a test cell with this source.

    Comments (the header, the messages, nbgrader's markers) disappear in ``ast.unparse``.

    Parameters
    ----------
    source : str
        A test cell's Python source.

    Returns
    -------
    str
        ``>>>``/``...`` lines ending in a newline, as in an OK test file's ``code``.

    Raises
    ------
    SyntaxError
        If ``source`` is not valid Python.
    """
    tree = ast.parse(source)
    code = ast.unparse(_AnnotationRemover().visit(tree))
    lines = str_to_doctest(code.split("\n"), [])
    # Otter appends the master cell's saved output; master test cells have none, so "".
    lines.extend("".split("\n"))
    return "\n".join(lines)


def _message(pattern: re.Pattern[str], source: str) -> str | None:
    for line in source.splitlines():
        m = pattern.match(line)
        if m:
            try:
                return json.loads(m["json"])
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"a test cell's message must be one JSON string, got {line!r}"
                ) from exc
    return None


def case_from_cell(source: str, points: float) -> CaseSpec:
    """The Otter case an nbgrader test cell holds (the inverse of :func:`render_test_cell`).

    Parameters
    ----------
    source : str
        The test cell's source (from the gradebook when grading).
    points : float
        The cell's points.

    Returns
    -------
    CaseSpec
        ``code`` is Otter's doctest body of the cell, as in an OK test file; ``hidden``
        says whether the cell has a hidden-tests region.

    Raises
    ------
    ValueError
        If a message comment does not hold a JSON string.
    """
    return CaseSpec(
        code=otter_doctest_body(source),
        hidden=HIDDEN_BEGIN in source,
        points=float(points),
        failure_message=_message(_ON_FAILURE, source),
        success_message=_message(_ON_SUCCESS, source),
    )


def test_file_from_cases(question: str, cases: Iterable[CaseSpec]) -> OKTestFile:
    """An Otter OK test file of ``question`` whose cases are ``cases`` (bodies as doctests).

    Built through :meth:`OKTestFile.from_spec`, as Otter reads its own files, so points are
    resolved and checked by Otter's code.

    Parameters
    ----------
    question : str
        The question's name.
    cases : iterable of CaseSpec
        Its cases in order, ``code`` as doctest bodies (:func:`case_from_cell`).

    Returns
    -------
    OKTestFile
        What :func:`labtools.grading.test_runner.run_question` runs.
    """
    cases = list(cases)
    spec: Mapping[str, Any] = {
        "name": question,
        "points": sum(c.points for c in cases),
        "suites": [
            {
                "type": "doctest",
                "scored": True,
                "setup": "",
                "teardown": "",
                "cases": [
                    {
                        "code": c.code,
                        "hidden": c.hidden,
                        "locked": False,
                        "points": c.points,
                        "failure_message": c.failure_message,
                        "success_message": c.success_message,
                    }
                    for c in cases
                ],
            }
        ],
    }
    return OKTestFile.from_spec(dict(spec))
