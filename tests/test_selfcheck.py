"""The main job's self-check: sample submissions through the real autograder zip.

Each sample is graded by the zip's ``run_autograder`` in a simulated Gradescope layout,
with the sandbox (CI runs as root, so every layer is real). Expected scores: full marks for
the solution on every track, zero for the blank release, and the hand-derived scores of
``assignment/samples/partial.toml``; with per-student variants on, full marks for each
student's own variant and the hand-derived scores of ``copied-variant.toml`` for a
classmate's notebook.
"""

from __future__ import annotations

import json
import os

import pytest
from student_text import grader_internals

from labtools.grading.variant_codes import read_course_secret, variant_code
from labtools.release.release_scan import hidden_test_lines
from labtools.selfcheck.run import format_table
from labtools.selfcheck.samples import SAMPLE_SECRET
from opsmodel.tracks import TRACK_KEYS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox switches user: run as root"),
]

GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def graded(graded_samples):
    """The samples as conftest's ``graded_samples`` graded them (run_selfcheck, 2 at a time)."""
    return graded_samples


def test_every_sample_scores_as_expected(graded):
    names = [g.sample.name for g in graded]
    assert names[4:7] == ["reuse-names", "blank", "partial"]
    assert names[7:] == [f"variant-{k}" for k in TRACK_KEYS] + ["copied-variant"]
    assert all(not g.mismatches for g in graded), format_table(graded)


def test_each_students_own_variant_gets_full_marks_without_a_word(graded):
    for g in graded:
        if g.sample.name.startswith("variant-"):
            assert g.results["score"] == 36, g.sample.name
            assert "Problems with your submission" not in g.results["output"], g.sample.name


def test_a_classmates_notebook_loses_every_point_that_rests_on_the_numbers(graded):
    """s1001's finished notebook, submitted by s1002: graded on s1002's own numbers."""
    by_name = {g.sample.name: g for g in graded}
    own, copied = by_name["variant-cloud_titan"], by_name["copied-variant"]
    questions = [t["name"] for t in own.results["tests"] if t["name"] != "Public Tests"]
    lost = {q: own.score(q) - copied.score(q) for q in questions}
    assert lost == {q: 0.0 for q in questions} | {
        "q2c_canary_plan": 2.0,
        "q2d_sprt_lines": 2.0,
        "q4_crisis": 3.0,
        "q5_ledger": 2.0,
    }
    secret = read_course_secret(SAMPLE_SECRET)
    seen = variant_code(secret, "s1001")
    assert f"VARIANT_CODE = '{seen}' is not the code of 's1002'" in copied.results["output"]
    # The submitter is not shown their own code: the message says whose code it must be.
    assert variant_code(secret, "s1002") not in json.dumps(copied.results)


def test_results_follow_gradescopes_schema(graded):
    for g in graded:
        r = g.results
        assert isinstance(r["score"], (int, float)) and isinstance(r["output"], str)
        assert r["tests"], g.sample.name
        for test in r["tests"]:
            assert {"name", "score", "max_score", "visibility", "output"} <= set(test)
            assert isinstance(test["score"], (int, float))
            assert isinstance(test["max_score"], (int, float))
            assert 0 <= test["score"] <= test["max_score"] or test["name"] == "Public Tests"
            assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert r["score"] == pytest.approx(sum(t["score"] for t in r["tests"]))


def test_no_hidden_test_text_reaches_the_student(graded, autograder_tests):
    secrets = hidden_test_lines(autograder_tests)
    for g in graded:
        text = " ".join(json.dumps(g.results).split())
        assert not [s for s in secrets if s in text], g.sample.name


def test_the_blank_notebook_says_what_is_missing(graded):
    blank = next(g for g in graded if g.sample.name == "blank")
    assert blank.results["score"] == 0
    assert "is still `...`" in blank.results["output"]
    assert "TRACK is not set" in blank.results["output"]  # TRACK = ... says what to do


def test_student_facing_text_shows_no_grader_internals(graded):
    for g in graded:
        texts = [g.results["output"], *(t.get("output", "") for t in g.results["tests"])]
        shown = [line for text in texts for line in grader_internals(text)]
        assert not shown, f"{g.sample.name}: {shown}"


def test_reusing_a_graded_name_later_costs_nothing_and_is_explained(graded):
    reuse = next(g for g in graded if g.sample.name == "reuse-names")
    assert not reuse.mismatches  # full marks, as the solution
    for name in ("psi", "shadow_hours", "zero_failure_sample_size", "skew_check"):
        assert f"`{name}` was graded for" in reuse.results["output"], name


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_jobs_must_be_a_whole_number_of_at_least_one(jobs, tmp_path):
    from labtools.selfcheck.run import run_selfcheck

    with pytest.raises(ValueError, match="jobs"):
        run_selfcheck(tmp_path / "dist", jobs=jobs)  # refused before any build
    assert not (tmp_path / "dist").exists()
