"""Nothing for nothing: the impostor audit of the built autograder, and controls proving it
can fail.

The audit (:mod:`labtools.release.impostor_audit`) grades, with the grader's own functions and
the built test files, every question of every track on the untouched scaffold and on impostors
of every graded function. Every cell of its table must be 0, the solution must keep full marks,
and each control (a temporary copy of the autograder with one deliberately weak test file) must
make the audit report the points that weakness gives away.
"""

from __future__ import annotations

import functools
import math
import runpy
import shutil
from collections.abc import Callable
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest

from labtools.grading.kernel_calls import snapshots_in_process
from labtools.grading.variant_codes import read_course_secret, variant_code
from labtools.paths import NOTEBOOK_NAME
from labtools.release import impostor_audit as audit
from labtools.release.impostor_audit import (
    COLUMNS,
    GRADED_FUNCTIONS,
    KNOWN_PENDING,
    AuditFailed,
    AuditOutcome,
    AuditReport,
    check_report,
    failure_lines,
    format_table,
    run_audit,
)
from labtools.selfcheck.samples import SAMPLE_SECRET
from opsmodel.tracks import TRACKS

pytestmark = pytest.mark.slow

#: Which questions' tests call each graded function, directly or through another one.
EXPECTED_REACH = {
    "manual_toil_hours": ("q1a_manual_toil", "q1c_platform_roi", "q1d_break_even"),
    "platform_cost_usd": ("q1b_platform_cost", "q1c_platform_roi", "q1d_break_even"),
    "platform_roi_usd": ("q1c_platform_roi", "q1d_break_even"),
    "break_even_models": ("q1d_break_even",),
    "zero_failure_sample_size": ("q2a_zero_failure",),
    "shadow_hours": ("q2b_shadow_hours",),
    "psi": ("q3a_psi", "q3b_skew_check"),
    "skew_check": ("q3b_skew_check",),
}
#: Functions without a track parameter: no "other track" impostor.
NO_TRACK_PARAMETERS = {"psi", "skew_check"}
#: The audit's budget on this 2-core machine (four tracks and their four variants: about
#: 45 s alone, more beside the rest of the suite).
AUDIT_BUDGET_S = 150.0
#: Every track is audited on a per-student variant too: the sample class's first student's.
VARIANT = variant_code(read_course_secret(SAMPLE_SECRET), "s1001")


def _inputs(built) -> tuple[Path, Path, Path]:
    return built.autograder_source, built.solution_notebook, built.student_dir / NOTEBOOK_NAME


@pytest.fixture(scope="module")
def report(built) -> AuditReport:
    return run_audit(*_inputs(built), variant_codes=(VARIANT,))


def test_nothing_earns_anything_for_nothing(report: AuditReport) -> None:
    wrong = report.failures()
    assert not wrong, f"{failure_lines(wrong)}\n\n{format_table(report)}"
    check_report(report)  # the build's verdict
    table = report.table()
    for question, row in table.items():
        for column in COLUMNS:
            pending = (question, column) in KNOWN_PENDING
            assert row[column] in (None, 0.0) or pending, (question, column, row[column])


def test_the_solution_keeps_full_marks_on_every_track_and_variant(report: AuditReport) -> None:
    solutions = [o for o in report.outcomes if o.column == "solution"]
    names = [t.name for t in TRACKS.values()]
    assert {o.track for o in solutions} == {*names, *(f"{n} variant {VARIANT}" for n in names)}
    short = [o for o in solutions if not math.isclose(o.score, o.possible)]
    assert short == report.shortfalls()
    assert not short, f"{failure_lines(short)}\n\n{format_table(report)}"


def test_every_question_track_and_impostor_is_tried(report: AuditReport) -> None:
    assert report.elapsed_s < AUDIT_BUDGET_S, report.elapsed_s
    assert report.reach == EXPECTED_REACH
    assert not report.notes, report.notes
    tried = {(o.track, o.question, o.column) for o in report.outcomes}
    by_function = {(o.track, o.question, o.function, o.column) for o in report.outcomes}
    assert len(report.tracks) == 2 * len(TRACKS)  # each track, and its variant
    for track in report.tracks:
        for question in report.questions:
            assert (track, question, "scaffold") in tried, (track, question)
        for function, questions in EXPECTED_REACH.items():
            columns = [c for c in COLUMNS if c != "scaffold"]
            if function in NO_TRACK_PARAMETERS:
                columns.remove("other track")
            for question in questions:
                for column in columns:
                    assert (track, question, function, column) in by_function, (
                        track,
                        question,
                        function,
                        column,
                    )


def _public(o: AuditOutcome) -> list[int]:
    return [i for i, hidden in enumerate(o.hidden) if not hidden]


def test_the_impostors_have_teeth(report: AuditReport) -> None:
    """Their zeros come from the tests, not from weak impostors."""
    for o in report.outcomes:
        if o.column == "public inputs":
            # Right exactly where the public cases look: it passes every one of them.
            assert set(_public(o)) <= set(o.passed), (o.track, o.question, o.variant)
        if o.column in ("x1.01", "+1") and o.question in ("q1d_break_even", "q2a_zero_failure"):
            # The right type, a wrong value: the public int-type case passes.
            assert 0 in o.passed, (o.track, o.question, o.variant)
        if o.column == "other track" and o.question in ("q2a_zero_failure", "q1d_break_even"):
            assert 0 in o.passed, (o.track, o.question, o.variant)  # a whole number, too
    answered = {o.function for o in report.outcomes if o.column == "public answer"}
    assert answered == set(GRADED_FUNCTIONS)


# ----------------------------------------------------------------- controls: the audit can fail


def _weakened(built, tmp_path: Path, question: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the built autograder source whose ``question`` test file ``edit`` changed."""
    source = tmp_path / "source"
    shutil.copytree(built.autograder_source, source)
    path = source / "tests" / f"{question}.py"
    test = runpy.run_path(str(path))["test"]
    edit(test)
    test["points"] = sum(c["points"] for c in test["suites"][0]["cases"])
    path.write_text(f"OK_FORMAT = True\n\ntest = {pformat(test)}\n")
    return source


def _audit_one(built, source: Path, question: str, functions: tuple[str, ...], track: str):
    _, solution, release = _inputs(built)
    return run_audit(
        source, solution, release, tracks=[track], questions=[question], functions=functions
    )


def test_control_a_public_case_with_points_is_caught(built, tmp_path: Path) -> None:
    """The old 2b: its public case (3600 requests at 1/s take an hour) carried 0.5 points."""

    def old_points(test: dict[str, Any]) -> None:
        public, hidden = test["suites"][0]["cases"]
        public["points"], hidden["points"] = 0.5, 1.5

    source = _weakened(built, tmp_path, "q2b_shadow_hours", old_points)
    found = _audit_one(built, source, "q2b_shadow_hours", ("shadow_hours",), "Cloud Titan")
    earned = {o.column for o in found.failures()}
    assert {"1", "1.0", "public answer", "public inputs"} <= earned, earned
    assert "0.5!" in format_table(found)
    with pytest.raises(AuditFailed, match="q2b_shadow_hours earned 0.5 of 2"):
        check_report(found)


def test_control_an_ungated_dependent_question_is_caught(built, tmp_path: Path) -> None:
    """1d without its ROI gate: N* is a whole number, blind to a 1 % error in the ROI."""

    def ungated(test: dict[str, Any]) -> None:
        for case in test["suites"][0]["cases"]:
            case["code"] = case["code"].replace("check_roi(platform_roi_usd, TRACK) and ", "")

    source = _weakened(built, tmp_path, "q1d_break_even", ungated)
    found = _audit_one(built, source, "q1d_break_even", ("platform_roi_usd",), "Edge Guardian")
    earned = {o.column: o.score for o in found.failures()}
    assert earned.get("x1.01", 0) >= 1.5 and earned.get("+1", 0) >= 1.5, earned


def test_control_a_track_target_equal_to_a_public_example_is_caught(built, tmp_path: Path) -> None:
    """Cloud Titan's target is the rule of three's (0.001, 0.95): checking the track's target
    alone pays the public example's answer."""

    def track_only(test: dict[str, Any]) -> None:
        test["suites"][0]["cases"][2]["code"] = (
            ">>> from opsmodel.sample_size import zero_failure_sample_size as ref\n"
            ">>> from opsmodel.tracks import get_track\n"
            ">>> t = get_track(TRACK)\n"
            ">>> assert zero_failure_sample_size(t.p_max, t.confidence) == "
            "ref(t.p_max, t.confidence)\n"
        )

    source = _weakened(built, tmp_path, "q2a_zero_failure", track_only)
    found = _audit_one(
        built, source, "q2a_zero_failure", ("zero_failure_sample_size",), "Cloud Titan"
    )
    earned = {(o.column, o.variant) for o in found.failures()}
    assert any(column == "public inputs" for column, _ in earned), earned
    assert ("public answer", "zero_failure_sample_size = constant 2995") in earned, earned


def test_control_a_case_the_scaffold_passes_is_caught(built, tmp_path: Path) -> None:
    """A lock whose test passes before the student writes anything."""

    def always(test: dict[str, Any]) -> None:
        test["suites"][0]["cases"][0]["code"] = ">>> assert TRACK\n"

    source = _weakened(built, tmp_path, "lock_part1", always)
    found = _audit_one(built, source, "lock_part1", (), "Tiny Pioneer")
    assert [(o.column, o.score) for o in found.failures()] == [("scaffold", 1.0)]


# ----------------------------------------------------------------- where the audit runs


def test_the_build_runs_the_audit_and_times_it(
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labtools.release.pipeline import build

    # One track and one question keep this test fast: the full audit is tested above.
    quick = functools.partial(run_audit, tracks=["Mobile Nomad"], questions=["q3a_psi"])
    monkeypatch.setattr(audit, "run_audit", quick)
    result = build(tmp_path / "dist", write_committed=False, execute=False, pdf=False)
    assert result.audit is not None and result.audit.tracks == ("Mobile Nomad",)
    assert "impostor_audit" in result.timings_s
    skipped = built  # conftest's shared build: build(..., audit=False)
    assert skipped.audit is None and "impostor_audit" not in skipped.timings_s


def test_a_failed_audit_names_each_failure_and_marks_the_table() -> None:
    report = AuditReport(
        questions={"q2b_shadow_hours": 2.0, "q2c_canary_plan": 2.0},
        tracks=("Cloud Titan",),
        outcomes=[
            AuditOutcome("Cloud Titan", "q2b_shadow_hours", "1.0", "shadow_hours = 1.0", 0.5, 2),
            AuditOutcome("Cloud Titan", "q2c_canary_plan", "scaffold", "as released", 2.0, 2),
        ],
    )
    pending = {("q2c_canary_plan", "scaffold")}  # a cell declared known and owned elsewhere
    with pytest.raises(AuditFailed) as failed:
        check_report(report, pending=pending)
    text = str(failed.value)
    assert "Cloud Titan: q2b_shadow_hours earned 0.5 of 2 with shadow_hours = 1.0" in text
    assert "0.5!" in text and "2*" in text  # the known pending cell is shown, not failed
    assert "q2c_canary_plan earned" not in text
    assert check_report(report, pending={("q2b_shadow_hours", "1.0"), *pending}) is None
    with pytest.raises(AuditFailed, match="q2c_canary_plan earned 2 of 2"):
        check_report(report, pending={("q2b_shadow_hours", "1.0")})


def test_nothing_is_known_to_earn_points_for_nothing() -> None:
    assert KNOWN_PENDING == {}


def test_ops_lab_audit(built, capsys: pytest.CaptureFixture[str]) -> None:
    from labtools.cli import main

    argv = [
        "audit",
        "--dist",
        str(built.dist),
        "--track",
        "Edge Guardian",
        "--question",
        "q2b_shadow_hours",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "q2b_shadow_hours" in out and "public inputs" in out and "impostor audit passed" in out


def test_the_shell_is_given_back(built) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    publisher = shell.display_pub
    callbacks = {k: list(v) for k, v in shell.events.callbacks.items()}
    _audit_one(built, built.autograder_source, "lock_part1", (), "Tiny Pioneer")
    assert shell.display_pub is publisher
    assert {k: list(v) for k, v in shell.events.callbacks.items()} == callbacks
    assert snapshots_in_process(shell.user_ns) == {}
