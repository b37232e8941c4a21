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
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from otter.test_files.ok_test import OKTestFile, run_doctest

from labtools.grading.codec import (
    CALL_HELPER,
    DESCRIBE_HELPER,
    KERNEL_HELPER_SOURCE,
    encode_arguments,
)
from opsmodel.toil_params import ToilParams

__all__ = [
    "StudentCodeError",
    "CaseOutcome",
    "QuestionOutcome",
    "load_test_files",
    "student_namespace",
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
        self.seconds = seconds
        self.spent = 0.0

    def reset(self) -> None:
        self.spent = 0.0


#: Seconds of the student's function calls allowed per question (the solution needs < 1 s).
QUESTION_CALL_BUDGET_S = 30.0


def _student_function(
    kernel: KernelSession, name: str, budget: QuestionBudget
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
        result = kernel.call(CALL_HELPER, name, payload)
        budget.spent += float(getattr(result, "elapsed_s", 0.0) or 0.0)
        if not result.ok:
            raise StudentCodeError(f"your {name}(...) failed: {result.error}")
        return result.value

    call.__name__ = name
    call.__qualname__ = f"student.{name}"
    return call


def student_namespace(kernel: KernelSession, names: set[str]) -> tuple[dict[str, Any], list[str]]:
    """The trusted namespace the tests run in, and notes for the student.

    Functions become proxies into the kernel; values arrive as JSON. A name that is missing,
    a module, or not plain data is left out (the test then fails with a NameError), with a
    note saying why.
    """
    budget = QuestionBudget(QUESTION_CALL_BUDGET_S)
    namespace: dict[str, Any] = {**TRUSTED_NAMES, BUDGET_KEY: budget}
    notes: list[str] = []
    setup = kernel.run_cell(KERNEL_HELPER_SOURCE)
    if getattr(setup, "status", "ok") != "ok":
        notes.append("The grader could not prepare your kernel after your notebook ran.")
        return namespace, notes
    described = kernel.call(DESCRIBE_HELPER, sorted(names))
    kinds = described.value if described.ok and isinstance(described.value, dict) else {}
    for name in sorted(names):
        kind = kinds.get(name, "missing")
        if kind == "callable":
            namespace[name] = _student_function(kernel, name, budget)
        elif kind == "value":
            fetched = kernel.get(name)
            if fetched.ok:
                namespace[name] = fetched.value
            else:
                notes.append(
                    f"`{name}` could not be read: its value must be plain data (numbers, text, "
                    "lists, dicts)."
                )
        elif kind == "missing":
            notes.append(f"`{name}` is not defined when your notebook has run.")
        elif kind == "unanswered":
            notes.append(f"`{name}` is still `...`: replace it with your answer.")
    return namespace, notes


_REASON = re.compile(r"^\s*(?:\S+\.)?(StudentCodeError|NameError): (.*)$", re.M)


def _student_reason(doctest_output: str) -> str:
    """The part of a failure that is about the student's own code (never the test's text)."""
    reasons = [f"{kind}: {text}" for kind, text in _REASON.findall(doctest_output)]
    return reasons[-1] if reasons else ""


def _message(case: Any, passed: bool, output: str) -> str:
    label = "hidden test" if case.hidden else "public test"
    if passed:
        return f"{label}: passed" + (f" ({case.success_message})" if case.success_message else "")
    text = f"{label}: FAILED. {case.failure_message or ''}".rstrip()
    if case.hidden:
        reason = _student_reason(output)
        text += f"\n  {reason}" if reason else ""
    else:
        text += "\n" + output.strip()
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
