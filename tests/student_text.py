"""What student-facing text must never hold: the grader's frames, modules and paths."""

from __future__ import annotations

import re

# A traceback frame ('File "...", line'), a grader module or exception class by its dotted
# name, a library folder, or the grader's own folders.
GRADER_INTERNALS = re.compile(
    r'File "|File /|labtools[./]|site-packages|/autograder/source|ops-scale-lab/kernel-venv'
    r"|/tmp/ops-grade-|/tmp/ops-nbgrader-|StudentCodeError"
)


def grader_internals(text: str) -> list[str]:
    """The lines of ``text`` that show the grader's insides (empty: none)."""
    return [line for line in text.splitlines() if GRADER_INTERNALS.search(line)]
