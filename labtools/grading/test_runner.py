"""Run the assignment's Otter test files on the trusted side, against the student's kernel.

The tests stay in Otter's OK format and run through Otter's own doctest runner
(:func:`otter.test_files.ok_test.run_doctest`), but in a namespace of this process: the
student's functions are proxies that execute in the sandboxed kernel and bring back plain
JSON values, and their variables arrive as JSON. Comparisons, the reference package and the
hidden tests never enter the student's process.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from otter.test_files.ok_test import OKTestFile, run_doctest

from labtools.grading.kernel_calls import (
    CALL_HELPER,
    DESCRIBE_HELPER,
    KERNEL_HELPER_SOURCE,
    VALUE_HELPER,
    encode_arguments,
)
from opsmodel.toil_params import ToilParams

__all__ = [
    "StudentCodeError",
    "CaseOutcome",
    "QuestionOutcome",
    "install_helpers",
    "load_test_files",
    "student_namespace",
    "final_values",
    "run_question",
]

#: Student-facing text from one failing case is cut to this many characters.
MAX_CASE_MESSAGE = 1500

#: Where the namespace keeps the per-question budget (not a valid name for a test to use).
BUDGET_KEY = "__ops_question_budget__"

#: Names every test may use without fetching them from the student: the trusted versions.
TRUSTED_NAMES: dict[str, Any] = {"np": np, "numpy": np, "ToilParams": ToilParams}


class KernelSession(Protocol):
    """What the test runner needs of a kernel (the sandbox implements it)."""

    def run_cell(self, code: str) -> Any: ...
    def call(self, name: str, *args: Any, **kwargs: Any) -> Any: ...
    def get(self, name: str) -> Any: ...


class StudentCodeError(Exception):
    """The student's code raised, hung or returned something that is not plain data."""


@dataclass(frozen=True)
class CaseOutcome:
    """One test case's result, with the only text a student may see of it."""

    index: int
    hidden: bool
    points: float
    passed: bool
    message: str


@dataclass(frozen=True)
class QuestionOutcome:
    """All cases of one question."""

    name: str
    possible: float
    cases: tuple[CaseOutcome, ...]

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cases if c.passed)


def load_test_files(tests_dir: Path, order: Iterable[str] | None = None) -> list[OKTestFile]:
    """Parse every ``*.py`` test file of ``tests_dir`` (in ``order`` where given)."""
    files = {p.stem: OKTestFile.from_file(str(p)) for p in sorted(tests_dir.glob("*.py"))}
    names = [n for n in (order or []) if n in files] + sorted(set(files) - set(order or []))
    return [files[n] for n in names]


def names_used(test_files: Iterable[OKTestFile]) -> set[str]:
    """Global names the tests read that neither Python nor the trusted side provides."""
    used: set[str] = set()
    for test_file in test_files:
        for case in test_file.test_cases:
            source = "\n".join(
                line[4:] for line in case.body.splitlines() if line.startswith((">>> ", "... "))
            )
            tree = ast.parse(source)
            bound = {
                alias.asname or alias.name.split(".")[0]
                for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names
            }
            bound |= {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            loads = {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            }
            used |= loads - bound
    return {n for n in used if not hasattr(builtins, n) and n not in TRUSTED_NAMES}


class QuestionBudget:
    """Wall time the student's functions may take within one question's tests.

    Each question starts with a fresh budget, so a slow function costs only the questions
    whose tests call it.
    """

    def __init__(self, seconds: float) -> None:
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not (0.0 < seconds < math.inf)
        ):
            raise ValueError(f"a question's call budget must be seconds > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.spent = 0.0

    def reset(self) -> None:
        self.spent = 0.0


#: Seconds of the student's function calls allowed per question (the solution needs < 1 s).
QUESTION_CALL_BUDGET_S = 30.0


def _student_function(
    kernel: KernelSession, name: str, budget: QuestionBudget, snapshot: str | None
) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if budget.spent >= budget.seconds:
            raise StudentCodeError(
                f"your functions used this question's {budget.seconds:g} s of running time; "
                f"{name}(...) was not called again"
            )
        try:
            payload = encode_arguments(args, kwargs)
        except TypeError as exc:  # a test passed something unsendable: the test's bug
            raise RuntimeError(f"test cannot call {name}: {exc}") from exc
        result = kernel.call(CALL_HELPER, name, payload, snapshot)
        budget.spent += float(getattr(result, "elapsed_s", 0.0) or 0.0)
        if not result.ok:
            raise StudentCodeError(f"your {name}(...) failed: {result.error}")
        return result.value

    call.__name__ = name
    call.__qualname__ = f"student.{name}"
    return call


def install_helpers(kernel: KernelSession) -> bool:
    """Define the grader's helpers in the kernel, once the notebook has run.

    Returns
    -------
    bool
        Whether they could be defined (a notebook may leave its kernel unusable).
    """
    setup = kernel.run_cell(KERNEL_HELPER_SOURCE)
    return getattr(setup, "status", "ok") == "ok"


def _rebound_note(name: str, rebound_to: str, question: str) -> str:
    what = "deletes it" if rebound_to == "deleted" else f"rebinds it (to a `{rebound_to}`)"
    return (
        f"`{name}` was graded for {question} as it stood right after that question's check; "
        f"a later cell {what}, which does not change that grade."
    )


def student_namespace(
    kernel: KernelSession,
    names: set[str],
    *,
    snapshot: str | None = None,
    question: str | None = None,
    noted: set[str] | None = None,
    call_budget_s: float = QUESTION_CALL_BUDGET_S,
) -> tuple[dict[str, Any], list[str]]:
    """The trusted namespace one question's tests run in, and notes for the student.

    Functions become proxies into the kernel; values arrive as JSON. A name that is missing,
    a module, or not plain data is left out (the test then fails with a NameError), with a
    note saying why. Call :func:`install_helpers` first.

    Parameters
    ----------
    kernel : KernelSession
        The kernel the notebook ran in.
    names : set of str
        The names the question's tests read.
    snapshot : str or None
        The snapshot of the notebook's globals to grade against (see
        :func:`labtools.grading.kernel_calls.snapshot_code`); ``None`` grades the final state.
    question : str or None
        The question's name, for the notes.
    noted : set of str or None
        Names already given a note by an earlier question (updated here): a name missing
        everywhere is reported once, at the first question that reads it.
    call_budget_s : float
        Seconds the student's functions may run in all within the question's tests
        (:data:`QUESTION_CALL_BUDGET_S`; tests of the grader pass less, to fail fast).

    Returns
    -------
    namespace : dict
        Trusted names, the student's values and proxies, and a fresh call budget.
    notes : list of str
        Plain sentences for the student.
    """
    budget = QuestionBudget(call_budget_s)
    namespace: dict[str, Any] = {**TRUSTED_NAMES, BUDGET_KEY: budget}
    notes: list[str] = []
    noted = set() if noted is None else noted

    def note(name: str, text: str) -> None:
        if name not in noted:
            noted.add(name)
            notes.append(text)

    described = kernel.call(DESCRIBE_HELPER, sorted(names), snapshot)
    found = described.value if described.ok and isinstance(described.value, dict) else {}
    for name in sorted(names):
        entry = found.get(name)
        kind = entry.get("kind", "missing") if isinstance(entry, dict) else "missing"
        if kind == "callable":
            namespace[name] = _student_function(kernel, name, budget, snapshot)
        elif kind == "value":
            fetched = kernel.call(VALUE_HELPER, name, snapshot)
            if fetched.ok:
                namespace[name] = fetched.value
            else:
                note(
                    name,
                    f"`{name}` could not be read: its value must be plain data (numbers, text, "
                    "lists, dicts).",
                )
        elif kind == "missing":
            when = f"at the check of {question or snapshot}" if snapshot else "when it has run"
            note(name, f"`{name}` is not defined in your notebook {when}.")
        elif kind == "unanswered":
            note(name, f"`{name}` is still `...`: replace it with your answer.")
        rebound_to = entry.get("rebound_to") if isinstance(entry, dict) else None
        if snapshot is not None and kind in ("callable", "value") and rebound_to:
            note(name, _rebound_note(name, str(rebound_to), question or snapshot))
    return namespace, notes


def final_values(kernel: KernelSession, names: Iterable[str]) -> dict[str, Any]:
    """The notebook's final values of ``names`` that are plain data (others are left out).

    ``...`` (an unanswered name) is left out too. Call :func:`install_helpers` first.
    """
    names = sorted(set(names))
    described = kernel.call(DESCRIBE_HELPER, names, None)
    found = described.value if described.ok and isinstance(described.value, dict) else {}
    values = {}
    for name in names:
        entry = found.get(name)
        if isinstance(entry, dict) and entry.get("kind") == "value":
            fetched = kernel.call(VALUE_HELPER, name, None)
            if fetched.ok:
                values[name] = fetched.value
    return values


_REASON = re.compile(r"^\s*(?:\S+\.)?(StudentCodeError|NameError): (.*)$", re.M)
# The last line of a traceback: "    package.module.ErrorName: message" (or no message).
_RAISED = re.compile(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception|Exit))(?:: (.*))?$")


def _student_reason(doctest_output: str) -> str:
    """The part of a failure that is about the student's own code (never the test's text)."""
    reasons = [
        text if kind == "StudentCodeError" else f"{kind}: {text}"
        for kind, text in _REASON.findall(doctest_output)
    ]
    return reasons[-1] if reasons else ""


def _failed_example(doctest_output: str) -> str:
    """The test's statement that failed, as doctest quotes it."""
    lines = doctest_output.splitlines()
    if "Failed example:" not in lines:
        return ""
    start = lines.index("Failed example:") + 1
    example = []
    for line in lines[start:]:
        if not line.startswith("    ") or line.strip() in ("", "Exception raised:"):
            break
        example.append(line.strip())
    return " ".join(example)


def _public_failure(doctest_output: str) -> str:
    """A public case's failure in the student's terms: the test's statement and what went
    wrong, without the grader's traceback frames or paths."""
    shown = []
    example = _failed_example(doctest_output)
    if example:
        shown.append(f"Test: {example}")
    if "Exception raised:" in doctest_output:
        last = doctest_output.rstrip().splitlines()[-1]
        raised = _RAISED.match(last)
        kind, text = (raised.group(1), raised.group(2) or "") if raised else ("", last.strip())
        if kind == "StudentCodeError":
            shown.append(text[:1].upper() + text[1:])
        elif kind == "AssertionError" and not text:
            shown.append("The test's condition was false for your answer.")
        else:
            shown.append(f"{kind}: {text}".strip(": "))
    elif "Expected:" in doctest_output:
        tail = doctest_output.split("Expected:", 1)[1].strip().splitlines()
        shown.append("Expected: " + " ".join(t.strip() for t in tail[:6]))
    return "\n  ".join(shown)


def _message(case: Any, passed: bool, output: str) -> str:
    label = "hidden test" if case.hidden else "public test"
    if passed:
        return f"{label}: passed" + (f" ({case.success_message})" if case.success_message else "")
    text = f"{label}: FAILED. {case.failure_message or ''}".rstrip()
    reason = _student_reason(output) if case.hidden else _public_failure(output)
    text += f"\n  {reason}" if reason else ""
    return text[:MAX_CASE_MESSAGE]


def run_question(test_file: OKTestFile, namespace: dict[str, Any]) -> QuestionOutcome:
    """Run every case of one test file in a private copy of ``namespace``."""
    env = dict(namespace)
    budget = env.get(BUDGET_KEY)
    if isinstance(budget, QuestionBudget):
        budget.reset()
    cases = []
    for i, case in enumerate(test_file.test_cases):
        try:
            passed, output = run_doctest(f"{test_file.name} {i}", case.body, env)
        except Exception as exc:  # doctest machinery itself failing counts as a failed case
            passed, output = False, f"{type(exc).__name__}"
        cases.append(
            CaseOutcome(
                i, case.hidden, float(case.points or 0), passed, _message(case, passed, output)
            )
        )
    possible = float(sum(c.points or 0 for c in test_file.test_cases))
    return QuestionOutcome(test_file.name, possible, tuple(cases))
