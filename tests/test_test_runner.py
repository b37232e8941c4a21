"""Unit tests of :mod:`labtools.grading.test_runner`, fast: a fake kernel, no sandbox.

The student's code runs in :class:`in_process_kernel.InProcessKernel` (IPython's shell in
this process); the tests are Otter OK files written here. Expected scores are the points the
cases written here are worth, counted by hand; expected messages are the words the module's
docstrings promise the student.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from in_process_kernel import CallResult, InProcessKernel, ok_test_file

from labtools.grading.test_runner import (
    MAX_CASE_MESSAGE,
    QuestionBudget,
    QuestionOutcome,
    install_helpers,
    load_test_files,
    names_used,
    run_question,
    student_namespace,
)


def grade(
    student_code: str, tests_dir: Path, *cases: dict[str, Any], budget_s: float | None = None
) -> tuple[QuestionOutcome, list[str]]:
    """Run ``student_code`` in a fresh kernel, then one question of ``cases`` against it."""
    kernel = InProcessKernel()
    assert kernel.run_cell(student_code).ok
    assert install_helpers(kernel)
    test_file = ok_test_file(tests_dir, "q", *cases)
    extra = {} if budget_s is None else {"call_budget_s": budget_s}
    namespace, notes = student_namespace(kernel, names_used([test_file]), **extra)
    return run_question(test_file, namespace), notes


# --------------------------------------------------------------------------- test files


def test_test_files_come_in_the_given_order_then_by_name(tmp_path: Path) -> None:
    for name in ("b", "a", "c"):
        ok_test_file(tmp_path, name, {"code": "assert True"})
    files = load_test_files(tmp_path, order=["c", "not-there", "a"])
    assert [f.name for f in files] == ["c", "a", "b"]
    assert [f.name for f in load_test_files(tmp_path)] == ["a", "b", "c"]


def test_names_used_are_the_globals_a_test_reads_from_the_student(tmp_path: Path) -> None:
    test_file = ok_test_file(
        tmp_path,
        "q",
        {"code": "import math\nlocal = double(answer)\nassert math.isclose(local, len(xs))"},
        {"code": "from opsmodel import toil as t\nassert np.all(t.x == ToilParams())"},
    )
    # math, local and t are bound by the test; len is a builtin; np and ToilParams are the
    # grader's own trusted names.
    assert names_used([test_file]) == {"double", "answer", "xs"}


# --------------------------------------------------------------------------- scoring


def test_a_right_answer_earns_every_point_and_a_wrong_one_none(tmp_path: Path) -> None:
    cases = (
        {"code": "assert double(2) == 4", "points": 1},
        {"code": "assert double(-3) == -6", "hidden": True, "points": 2},
    )
    right, _ = grade("def double(x):\n    return 2 * x", tmp_path, *cases)
    assert (right.name, right.possible, right.score) == ("q", 3.0, 3.0)
    assert [c.passed for c in right.cases] == [True, True]

    wrong, _ = grade("def double(x):\n    return x + 2", tmp_path, *cases)
    # x + 2 is right at x = 2 only: the public case passes, the hidden one fails.
    assert wrong.score == 1.0 and wrong.possible == 3.0
    assert [c.passed for c in wrong.cases] == [True, False]


def test_zero_point_cases_count_for_nothing(tmp_path: Path) -> None:
    outcome, _ = grade(
        "answer = 41",
        tmp_path,
        {"code": "assert isinstance(answer, int)", "points": 0},
        {"code": "assert answer == 42", "hidden": True, "points": 2},
    )
    assert (outcome.score, outcome.possible) == (0.0, 2.0)


def test_values_arrive_as_plain_data(tmp_path: Path) -> None:
    outcome, notes = grade(
        "ledger = {'n': 3, 'ok': True, 'hours': [1.5, 2.5]}",
        tmp_path,
        {"code": "assert ledger == {'n': 3, 'ok': True, 'hours': [1.5, 2.5]}"},
    )
    assert outcome.score == 1.0 and notes == []


def test_arrays_returned_by_the_student_come_back_as_lists(tmp_path: Path) -> None:
    # The sandbox converts results to JSON: a test compares them with numpy, not by type.
    outcome, _ = grade(
        "import numpy\ndef grid(n):\n    return numpy.arange(n) * 0.5",
        tmp_path,
        {"code": "assert np.allclose(grid(3), [0.0, 0.5, 1.0])"},
        {"code": "assert isinstance(grid(3), list)"},
    )
    assert [c.passed for c in outcome.cases] == [True, True]


def test_the_trusted_numpy_is_used_whatever_the_student_calls_np(tmp_path: Path) -> None:
    outcome, _ = grade(
        "np = None\nvalues = [1.0, 2.0]",
        tmp_path,
        {"code": "assert np.isclose(sum(values), 3.0)"},
    )
    assert outcome.score == 1.0


# --------------------------------------------------------------------------- what is missing


def test_missing_unanswered_and_unreadable_names_fail_with_a_note(tmp_path: Path) -> None:
    outcome, notes = grade(
        "unanswered = ...\nunreadable = {1, 2}\nimport os",
        tmp_path,
        {"code": "assert absent == 1"},
        {"code": "assert unanswered == 1"},
        {"code": "assert unreadable == {1, 2}"},
        {"code": "assert os is not None"},
    )
    assert outcome.score == 0.0 and not any(c.passed for c in outcome.cases)
    assert sorted(notes) == sorted(
        [
            "`absent` is not defined in your notebook when it has run.",
            "`unanswered` is still `...`: replace it with your answer.",
            "`unreadable` could not be read: its value must be plain data (numbers, text, "
            "lists, dicts).",
        ]
    )  # a module is left out without a note: the test's NameError says enough


def test_a_name_missing_at_several_questions_is_noted_once(tmp_path: Path) -> None:
    kernel = InProcessKernel()
    assert install_helpers(kernel)
    first = ok_test_file(tmp_path, "qa", {"code": "assert absent"})
    second = ok_test_file(tmp_path, "qb", {"code": "assert absent"})
    noted: set[str] = set()
    _, notes_a = student_namespace(kernel, names_used([first]), question="qa", noted=noted)
    _, notes_b = student_namespace(kernel, names_used([second]), question="qb", noted=noted)
    assert len(notes_a) == 1 and notes_b == []


class _BrokenKernel:
    """A kernel that can no longer run anything (the notebook killed it for good)."""

    def run_cell(self, code: str) -> CallResult:
        return CallResult("dead")

    def call(self, name: str, *args: Any, **kwargs: Any) -> CallResult:
        return CallResult("dead", error="KernelDied")

    def get(self, name: str) -> CallResult:
        return CallResult("dead", error="KernelDied")


def test_helpers_that_cannot_be_installed_are_reported(tmp_path: Path) -> None:
    assert install_helpers(_BrokenKernel()) is False
    namespace, notes = student_namespace(_BrokenKernel(), {"answer"})
    assert "answer" not in namespace
    assert notes == ["`answer` is not defined in your notebook when it has run."]


# --------------------------------------------------------------------------- messages


def test_a_public_failure_quotes_the_test_and_what_was_expected(tmp_path: Path) -> None:
    outcome, _ = grade(
        "def double(x):\n    return x + 2",
        tmp_path,
        {"code": ">>> double(5)\n10\n", "failure_message": "double(5) should be 10."},
    )
    (case,) = outcome.cases
    lines = case.message.splitlines()
    assert lines[0] == "public test: FAILED. double(5) should be 10."
    assert lines[1].strip() == "Test: double(5)"
    assert lines[2].strip() == "Expected: 10 Got: 7"


def test_a_public_assertion_without_text_says_the_condition_was_false(tmp_path: Path) -> None:
    outcome, _ = grade("x = 1", tmp_path, {"code": "assert x == 2"})
    assert "The test's condition was false for your answer." in outcome.cases[0].message
    assert "Traceback" not in outcome.cases[0].message


def test_a_hidden_failure_shows_its_message_never_its_code(tmp_path: Path) -> None:
    secret = "assert double(123456) == 246912"
    outcome, _ = grade(
        "def double(x):\n    return x",
        tmp_path,
        {"code": secret, "hidden": True, "failure_message": "double is wrong on big numbers."},
    )
    (case,) = outcome.cases
    assert case.message == "hidden test: FAILED. double is wrong on big numbers."
    assert "123456" not in case.message


def test_a_hidden_case_says_why_the_students_function_failed(tmp_path: Path) -> None:
    outcome, _ = grade(
        "def double(x):\n    raise ValueError('not today')",
        tmp_path,
        {"code": "assert double(1) == 2", "hidden": True, "failure_message": "Wrong."},
    )
    message = outcome.cases[0].message
    assert message.startswith("hidden test: FAILED. Wrong.")
    assert "your double(...) failed: ValueError: not today" in message


def test_a_passing_case_says_so_with_its_success_message(tmp_path: Path) -> None:
    outcome, _ = grade(
        "x = 2", tmp_path, {"code": "assert x == 2", "success_message": "Well done."}
    )
    assert outcome.cases[0].message == "public test: passed (Well done.)"


def test_a_long_failure_is_cut_to_the_limit(tmp_path: Path) -> None:
    long_message = "word " * 1000
    outcome, _ = grade(
        "x = 1",
        tmp_path,
        {"code": "assert x == 2", "hidden": True, "failure_message": long_message},
    )
    assert len(outcome.cases[0].message) == MAX_CASE_MESSAGE


def test_a_result_that_is_not_plain_data_fails_the_case(tmp_path: Path) -> None:
    outcome, _ = grade(
        "def bins(n):\n    return set(range(n))",
        tmp_path,
        {"code": "assert len(bins(3)) == 3", "hidden": True},
    )
    assert outcome.score == 0.0
    assert "your bins(...) failed" in outcome.cases[0].message


# --------------------------------------------------------------------------- time budget


SLOW_STUDENT = "import time\ndef slow(x):\n    time.sleep(0.2)\n    return x"


def test_a_question_stops_calling_a_slow_function_once_its_budget_is_spent(
    tmp_path: Path,
) -> None:
    # 0.2 s a call against 0.5 s: calls 1 to 3 run (0.2, 0.4, 0.6 s spent); the budget is
    # spent after the third, so the fourth and fifth are refused without running.
    kernel = InProcessKernel()
    assert kernel.run_cell(SLOW_STUDENT).ok and install_helpers(kernel)
    test_file = ok_test_file(
        tmp_path, "q", *[{"code": f"assert slow({i}) == {i}", "hidden": True} for i in range(5)]
    )
    namespace, _ = student_namespace(kernel, {"slow"}, call_budget_s=0.5)
    outcome = run_question(test_file, namespace)
    assert [c.passed for c in outcome.cases] == [True, True, True, False, False]
    assert "used this question's 0.5 s of running time; slow(...) was not called again" in (
        outcome.cases[3].message
    )
    student_calls = [args for name, args in kernel.calls if name == "__ops_grader_call"]
    assert [args[0] for args in student_calls] == ["slow"] * 3  # the refused calls never ran


def test_each_question_starts_with_a_fresh_budget(tmp_path: Path) -> None:
    kernel = InProcessKernel()
    assert kernel.run_cell(SLOW_STUDENT).ok and install_helpers(kernel)
    outcomes = []
    for name in ("qa", "qb"):
        test_file = ok_test_file(
            tmp_path, name, *[{"code": f"assert slow({i}) == {i}"} for i in range(3)]
        )
        namespace, _ = student_namespace(kernel, {"slow"}, call_budget_s=0.3)
        outcomes.append(run_question(test_file, namespace))
    # 0.2 s a call against 0.3 s: two calls run in each question, the third is refused.
    assert [[c.passed for c in o.cases] for o in outcomes] == [[True, True, False]] * 2


def test_the_production_budget_is_half_a_minute() -> None:
    from labtools.grading.test_runner import QUESTION_CALL_BUDGET_S

    assert QUESTION_CALL_BUDGET_S == 30.0


@pytest.mark.parametrize("seconds", [0, -1.0, float("nan"), float("inf"), True, "30"])
def test_a_budget_must_be_positive_seconds(seconds: Any) -> None:
    with pytest.raises(ValueError, match="budget"):
        QuestionBudget(seconds)


def test_a_budget_accepts_numpy_seconds() -> None:
    assert QuestionBudget(np.float64(2.5)).seconds == 2.5
