"""What a student may read of their results: the feedback text of one ``results.json``."""

from __future__ import annotations

from typing import Any

__all__ = ["feedback_text"]


def feedback_text(results: dict[str, Any], *, student: str) -> str:
    """The student-visible text of a ``results.json``: score, summary, each test's output.

    Parameters
    ----------
    results : dict
        Gradescope results (``score``, ``output``, ``tests``); ``extra_data`` is never shown.
    student : str
        Who it is for (the submission's key), named in the first line.

    Returns
    -------
    str
        Plain text ending with a newline.

    Examples
    --------
    >>> results = {"score": 2, "output": "Well done.", "tests": [
    ...     {"name": "q1", "score": 2, "max_score": 3, "output": "q1: 2 / 3 points"}]}
    >>> print(feedback_text(results, student="jdoe"))
    Autograder feedback for jdoe
    Autograded score: 2 / 3 (written answers are graded separately)
    <BLANKLINE>
    Well done.
    <BLANKLINE>
    == q1 ==
    q1: 2 / 3 points
    <BLANKLINE>
    """
    tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
    possible = sum(float(t.get("max_score", 0) or 0) for t in tests)
    lines = [
        f"Autograder feedback for {student}",
        f"Autograded score: {float(results.get('score', 0)):g} / {possible:g} "
        "(written answers are graded separately)",
        "",
        str(results.get("output", "")).rstrip(),
    ]
    for test in tests:
        lines += ["", f"== {test.get('name', '')} ==", str(test.get("output", "")).rstrip()]
    return "\n".join(lines) + "\n"
