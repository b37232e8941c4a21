"""The main job's self-check: sample submissions through the real autograder zip.

Each sample is graded by the zip's ``run_autograder`` in a simulated Gradescope layout,
with the sandbox (CI runs as root, so every layer is real). Expected scores: full marks for
the solution on every track, zero for the blank release, and the hand-derived scores of
``assignment/samples/partial.toml``.
"""

from __future__ import annotations

import json
import os

import pytest
from student_text import grader_internals

from labtools.release.release_scan import hidden_test_lines
from labtools.selfcheck.run import format_table

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
    assert [g.sample.name for g in graded][-3:] == ["reuse-names", "blank", "partial"]
    assert all(not g.mismatches for g in graded), format_table(graded)


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
