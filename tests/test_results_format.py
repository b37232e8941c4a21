"""``results.json`` as our grader writes it follows Gradescope's documented format.

The checker here is written from Gradescope's documentation, not from our code:

- https://gradescope-autograders.readthedocs.io/en/latest/specs/ , sections "Output format",
  "Controlling Test Case Visibility", "Controlling standard output visibility", "Test case
  status" and "Output String Formatting" (its source: ``docs/specs.md`` of
  https://github.com/gradescope/autograder_samples);
- https://gradescope-autograders.readthedocs.io/en/latest/leaderboards/ for ``leaderboard``.

What the documentation says, as checked below:

- top level, every key optional: ``score``, ``execution_time`` (seconds), ``output``,
  ``output_format``, ``test_output_format``, ``test_name_format``, ``visibility``,
  ``stdout_visibility``, ``extra_data`` (an object), ``tests`` (a list), ``leaderboard``
  (a list); ``score`` is required unless every test has one, ``tests`` unless there is a
  top-level ``score``, and a test with a ``status`` may go without a score;
- each test, every key optional: ``score``, ``max_score``, ``status``, ``name``,
  ``name_format``, ``number`` (a string such as ``"1.1"``), ``output``, ``output_format``,
  ``tags`` (a list of strings), ``visibility``, ``extra_data``;
- visibility: ``hidden``, ``after_due_date``, ``after_published``, ``visible``;
  formats: ``text``, ``html``, ``simple_format``, ``md``, ``ansi``; status: ``passed``,
  ``failed``, and without it a test shows as passing when its score reaches ``max_score``;
- each leaderboard entry: ``name``, ``value`` and optionally ``order`` (``asc``, ``desc``).

Keys the documentation does not name count as errors here: Gradescope would ignore a typo such
as ``max_points`` silently. The file must also be strict JSON (no ``NaN`` or ``Infinity``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labtools.grading import harness
from labtools.grading.gradescope import _write_fallback
from labtools.grading.harness import GradingConfig, grade_submission
from labtools.grading.results import MAX_OUTPUT_CHARS, build_results, write_results
from labtools.grading.test_runner import CaseOutcome, QuestionOutcome
from labtools.rubric import load_rubric

# ---------------------------------------------------------------------------------------------
# The checker, from the documentation alone.

VISIBILITIES = frozenset({"hidden", "after_due_date", "after_published", "visible"})
FORMATS = frozenset({"text", "html", "simple_format", "md", "ansi"})
STATUSES = frozenset({"passed", "failed"})
LEADERBOARD_ORDERS = frozenset({"asc", "desc"})

_NUMBER = "number"
_STRING = "string"
_OBJECT = "object"
_LIST = "list"
_TAGS = "list of strings"
_LEADER_VALUE = "number or string"

TOP_LEVEL_KEYS: dict[str, Any] = {
    "score": _NUMBER,
    "execution_time": _NUMBER,
    "output": _STRING,
    "output_format": FORMATS,
    "test_output_format": FORMATS,
    "test_name_format": FORMATS,
    "visibility": VISIBILITIES,
    "stdout_visibility": VISIBILITIES,
    "extra_data": _OBJECT,
    "tests": _LIST,
    "leaderboard": _LIST,
}
TEST_KEYS: dict[str, Any] = {
    "score": _NUMBER,
    "max_score": _NUMBER,
    "status": STATUSES,
    "name": _STRING,
    "name_format": FORMATS,
    "number": _STRING,
    "output": _STRING,
    "output_format": FORMATS,
    "tags": _TAGS,
    "visibility": VISIBILITIES,
    "extra_data": _OBJECT,
}
LEADERBOARD_KEYS: dict[str, Any] = {
    "name": _STRING,
    "value": _LEADER_VALUE,
    "order": LEADERBOARD_ORDERS,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _value_errors(where: str, value: Any, kind: Any) -> list[str]:
    ok = {
        _NUMBER: _is_number,
        _STRING: lambda v: isinstance(v, str),
        _OBJECT: lambda v: isinstance(v, dict),
        _LIST: lambda v: isinstance(v, list),
        _TAGS: lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
        _LEADER_VALUE: lambda v: _is_number(v) or isinstance(v, str),
    }
    if isinstance(kind, frozenset):
        return [] if value in kind else [f"{where}: {value!r} is not one of {sorted(kind)}"]
    return [] if ok[kind](value) else [f"{where}: {value!r} is not a {kind}"]


def _object_errors(where: str, obj: Any, keys: dict[str, Any]) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: not an object"]
    errors = [f"{where}: undocumented key {k!r}" for k in obj if k not in keys]
    for key, kind in keys.items():
        if key in obj:
            errors += _value_errors(f"{where}.{key}", obj[key], kind)
    return errors


def gradescope_format_errors(results: Any) -> list[str]:
    """Everything in ``results`` (a parsed results.json) that the documentation does not allow."""
    errors = _object_errors("results", results, TOP_LEVEL_KEYS)
    if errors and not isinstance(results, dict):
        return errors
    tests = results.get("tests", [])
    if isinstance(tests, list):
        for i, test in enumerate(tests):
            errors += _object_errors(f"tests[{i}]", test, TEST_KEYS)
    if "score" not in results:
        if "tests" not in results:
            errors.append("results: neither a top-level score nor tests")
        elif isinstance(tests, list):
            # "Test case status": a test with a status may go without score information.
            errors += [
                f"tests[{i}]: no score nor status, and no top-level score"
                for i, t in enumerate(tests)
                if isinstance(t, dict) and "score" not in t and "status" not in t
            ]
    leaderboard = results.get("leaderboard", [])
    if isinstance(leaderboard, list):
        for i, entry in enumerate(leaderboard):
            errors += _object_errors(f"leaderboard[{i}]", entry, LEADERBOARD_KEYS)
            if isinstance(entry, dict):
                errors += [f"leaderboard[{i}]: no {k}" for k in ("name", "value") if k not in entry]
    return errors


def shown_as_passing(test: dict[str, Any]) -> bool:
    """How Gradescope marks a test ("Test case status"): its status, else its score."""
    if "status" in test:
        return test["status"] == "passed"
    return test.get("score", 0) >= test.get("max_score", 0)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_strict_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)


def assert_gradescope_format(results: Any) -> None:
    errors = gradescope_format_errors(results)
    assert not errors, "not Gradescope's results.json format:\n" + "\n".join(errors)


# ---------------------------------------------------------------------------------------------
# The checker against the documentation's own examples, and against documents it must refuse.

#: The example of "Output format", comments dropped.
DOCUMENTED_EXAMPLE = {
    "score": 44.0,
    "execution_time": 136,
    "output": "Text relevant to the entire submission",
    "output_format": "simple_format",
    "test_output_format": "text",
    "test_name_format": "text",
    "visibility": "after_due_date",
    "stdout_visibility": "visible",
    "extra_data": {},
    "tests": [
        {
            "score": 2.0,
            "max_score": 2.0,
            "status": "passed",
            "name": "Your name here",
            "name_format": "text",
            "number": "1.1",
            "output": "Giant multiline string that will be placed in a <pre> tag and collapsed",
            "output_format": "text",
            "tags": ["tag1", "tag2", "tag3"],
            "visibility": "visible",
            "extra_data": {},
        }
    ],
    "leaderboard": [
        {"name": "Accuracy", "value": 0.926},
        {"name": "Time", "value": 15.1, "order": "asc"},
        {"name": "Stars", "value": "*****"},
    ],
}
#: The example of "Test case status": tests without a score, no top-level score.
DOCUMENTED_STATUS_EXAMPLE = {
    "tests": [
        {"name": "Compilation check", "status": "passed"},
        {"name": "Style check", "status": "failed"},
        {"name": "Test 3", "score": 5, "max_score": 10, "status": "passed"},
    ]
}


def test_the_checker_accepts_the_documented_examples() -> None:
    assert gradescope_format_errors(DOCUMENTED_EXAMPLE) == []
    assert gradescope_format_errors(DOCUMENTED_STATUS_EXAMPLE) == []
    assert gradescope_format_errors({"score": 0}) == []


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        ([], "not an object"),
        ({}, "neither a top-level score nor tests"),
        ({"score": "10"}, "is not a number"),
        ({"score": True}, "is not a number"),
        ({"score": float("nan")}, "is not a number"),
        ({"score": 1, "visibility": "public"}, "not one of"),
        ({"score": 1, "stdout_visibility": "shown"}, "not one of"),
        ({"score": 1, "output_format": "markdown"}, "not one of"),
        ({"score": 1, "extra_data": []}, "not a object"),
        ({"score": 1, "tests": {}}, "not a list"),
        ({"score": 1, "max_score": 2}, "undocumented key 'max_score'"),
        ({"tests": [{"name": "q1", "max_score": 1}]}, "no score nor status"),
        ({"score": 1, "tests": [{"score": 1, "max_points": 1}]}, "undocumented key"),
        ({"score": 1, "tests": [{"score": 1, "status": "ok"}]}, "not one of"),
        ({"score": 1, "tests": [{"score": 1, "number": 1.1}]}, "not a string"),
        ({"score": 1, "tests": [{"score": 1, "tags": ["a", 2]}]}, "not a list of strings"),
        ({"score": 1, "tests": [{"score": 1, "visibility": "after_publish"}]}, "not one of"),
        ({"score": 1, "tests": [{"score": 1, "name_format": "rst"}]}, "not one of"),
        ({"score": 1, "tests": ["q1"]}, "not an object"),
        ({"score": 1, "leaderboard": [{"name": "Time", "value": 1, "order": "up"}]}, "one of"),
        ({"score": 1, "leaderboard": [{"name": "Time"}]}, "no value"),
    ],
)
def test_the_checker_refuses_what_the_documentation_does_not_allow(
    bad: Any, complaint: str
) -> None:
    errors = gradescope_format_errors(bad)
    assert any(complaint in e for e in errors), errors


def test_strict_json_refuses_nan(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"score": float("nan")}))
    with pytest.raises(ValueError, match="NaN"):
        read_strict_json(path)


# ---------------------------------------------------------------------------------------------
# What our grader writes.


def _autograded_points() -> dict[str, float]:
    """The assignment's autograded questions, as the zip's ops_lab.json lists them."""
    return {q.name: q.points for q in load_rubric().questions if not q.manual}


def _question(
    name: str, possible: float, passed: list[bool], hidden: list[bool]
) -> QuestionOutcome:
    points = possible / len(passed)
    cases = tuple(
        CaseOutcome(
            index=i,
            hidden=h,
            points=points,
            passed=p,
            message=f"Test {i + 1} {'passed' if p else 'failed'}: expected 0 < x <= 1 & y",
        )
        for i, (p, h) in enumerate(zip(passed, hidden, strict=True))
    )
    return QuestionOutcome(name=name, possible=possible, cases=cases)


def _written(results: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """``results`` through our writer and back, as Gradescope reads the file."""
    path = tmp_path / "results" / "results.json"
    write_results(results, path)
    return read_strict_json(path)


def _scenarios() -> dict[str, dict[str, Any]]:
    possible = _autograded_points()
    names = list(possible)
    full = [_question(n, p, [True, True, True], [False, True, True]) for n, p in possible.items()]
    partial = [
        _question(names[0], possible[names[0]], [True, False], [False, True]),
        _question(names[1], possible[names[1]], [False, True, True], [False, False, True]),
        _question(names[2], possible[names[2]], [True, True], [True, True]),  # hidden only
    ]
    return {
        "full marks": build_results(full, possible_by_question=possible),
        "partial, problems and notes": build_results(
            partial,
            possible_by_question=possible,
            problems=[
                "Cell 4 (`if x < 0 and y > 1:`) raised ZeroDivisionError: division by zero",
                "Cell 9 (`while True: pass`) did not finish in time and was stopped.",
            ],
            notes=["Graded ops_scale (1).ipynb: the file was renamed. Ça marche."],
        ),
        "blank": build_results([], possible_by_question=possible),
        "one long output": build_results(
            [
                QuestionOutcome(
                    names[0],
                    possible[names[0]],
                    (CaseOutcome(0, False, possible[names[0]], False, "x" * 3 * MAX_OUTPUT_CHARS),),
                )
            ],
            possible_by_question=possible,
            problems=["y" * 3 * MAX_OUTPUT_CHARS],
        ),
        "no autograded question": build_results([], possible_by_question={}),
    }


@pytest.mark.parametrize("scenario", list(_scenarios()))
def test_build_results_follows_the_documented_format(scenario: str, tmp_path: Path) -> None:
    results = _written(_scenarios()[scenario], tmp_path)
    assert_gradescope_format(results)
    # Our own choices on top of the format: a total, and every test scored and named.
    assert _is_number(results["score"])
    assert all({"name", "score", "max_score"} <= set(t) for t in results["tests"])


def test_the_public_tests_entry_shows_whether_the_public_tests_passed(tmp_path: Path) -> None:
    """A 0/0 entry shows as passing by default: its status must say when a public test failed
    (or a question could not be graded at all)."""
    possible = {"q1": 2.0, "q2": 2.0}
    q1 = _question("q1", 2.0, [True, False], [False, True])
    q2_failed = _question("q2", 2.0, [False, True], [False, True])
    q2_hidden_only = _question("q2", 2.0, [True, False], [True, True])
    for outcomes, passing in (
        ([q1, q2_hidden_only], True),
        ([q1, q2_failed], False),
        ([q1], False),
        ([], False),
    ):
        results = _written(build_results(outcomes, possible_by_question=possible), tmp_path)
        public = next(t for t in results["tests"] if t["name"] == "Public Tests")
        assert shown_as_passing(public) is passing, (outcomes, public)
        graded = {t["name"]: shown_as_passing(t) for t in results["tests"] if t is not public}
        assert graded == {"q1": False, "q2": False}


_messages = st.text(max_size=200)
_cases = st.lists(
    st.builds(
        CaseOutcome,
        index=st.integers(0, 20),
        hidden=st.booleans(),
        points=st.floats(0, 10, allow_nan=False),
        passed=st.booleans(),
        message=_messages,
    ),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(
    outcomes=st.dictionaries(st.sampled_from(list(_autograded_points())), _cases, max_size=6),
    problems=st.lists(_messages, max_size=3),
    notes=st.lists(_messages, max_size=3),
)
def test_any_grading_outcome_follows_the_documented_format(
    outcomes: dict[str, list[CaseOutcome]], problems: list[str], notes: list[str]
) -> None:
    possible = _autograded_points()
    questions = [QuestionOutcome(n, possible[n], tuple(cases)) for n, cases in outcomes.items()]
    results = build_results(
        questions, possible_by_question=possible, problems=problems, notes=notes
    )
    assert_gradescope_format(json.loads(json.dumps(results), parse_constant=_reject_constant))


def test_the_fallback_of_a_grader_that_cannot_start(tmp_path: Path) -> None:
    path = tmp_path / "results" / "results.json"
    _write_fallback(path)
    results = read_strict_json(path)
    assert_gradescope_format(results)
    assert results["score"] == 0 and results["output"]


def test_the_provisional_result_written_before_grading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a student reads if Gradescope stops the grader midway: the first file written."""
    written: list[dict[str, Any]] = []

    def record(results: dict[str, Any], path: Path, **options: Any) -> None:
        write_results(results, path, **options)
        written.append(read_strict_json(path))

    def no_kernel(*_args: Any) -> Any:
        raise AssertionError("an empty submission needs no kernel")

    monkeypatch.setattr(harness, "write_results", record)
    submission = tmp_path / "submission"
    submission.mkdir()
    config = GradingConfig(
        notebook_name="ops_scale.ipynb",
        tests_dir=tmp_path / "tests",
        support_dir=tmp_path / "files",
        questions=_autograded_points(),
    )
    results_path = tmp_path / "results" / "results.json"
    grade_submission(submission, results_path, config, kernel_factory=no_kernel)
    assert len(written) == 2, "a provisional result, then the final one"
    provisional, final = written
    assert "did not finish" in provisional["output"]
    for results in (provisional, final):
        assert_gradescope_format(results)
    assert read_strict_json(results_path) == final
