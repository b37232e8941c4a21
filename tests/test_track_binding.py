"""Which numbers the hidden tests use: the roster's track, the submitter's own variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from labtools.grading.roster import load_roster
from labtools.grading.track_binding import TrackBinding
from labtools.grading.variant_codes import CourseVariants, variant_code
from opsmodel.tracks import Track
from opsmodel.variants import student_track

SECRET = b"the secret of a course, 32 bytes"
VARIANTS = CourseVariants(SECRET)
ROSTER = "student,track,email\ns1,Edge Guardian,ana@uni.edu\ns2,Edge Guardian,bo@uni.edu\n"


@pytest.fixture
def roster(tmp_path: Path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    return load_roster(path)


def _bind(roster, identities, notebook, variants=VARIANTS):
    return TrackBinding.for_submitter(roster, variants, identities).bind(notebook)


def test_without_variants_the_roster_fixes_the_track_name_as_before(roster) -> None:
    bound = _bind(roster, ["s1"], {"TRACK": "Cloud Titan"}, variants=None)
    assert bound.fixed == {"TRACK": "Edge Guardian"}
    assert bound.problems and "assigned you the track 'Edge Guardian'" in bound.problems[0]
    assert _bind(None, [], {"TRACK": "Cloud Titan"}, variants=None).fixed == {}


def test_the_submitters_own_code_gets_their_variant_and_no_message(roster) -> None:
    code = variant_code(SECRET, "s1")
    bound = _bind(
        roster,
        ["ANA@uni.edu"],
        {"TRACK": "Edge Guardian", "VARIANT_CODE": code, "STUDENT_ID": "s1"},
    )
    assert bound.problems == []
    assert bound.fixed == {"TRACK": student_track("Edge Guardian", code)}


def test_a_classmates_code_is_graded_on_the_submitters_variant_and_said(roster) -> None:
    theirs, mine = variant_code(SECRET, "s1"), variant_code(SECRET, "s2")
    bound = _bind(
        roster, ["s2"], {"TRACK": "Edge Guardian", "VARIANT_CODE": theirs, "STUDENT_ID": "s1"}
    )
    track = bound.fixed["TRACK"]
    assert isinstance(track, Track) and track.variant == mine
    (message,) = bound.problems
    assert f"VARIANT_CODE = {theirs!r} is not the code of 's2'" in message
    assert mine not in message  # the grader never hands out a code


@pytest.mark.parametrize(
    ("notebook", "says"),
    [
        ({"VARIANT_CODE": None}, "leaves VARIANT_CODE = None"),
        ({"VARIANT_CODE": "not a code"}, "is not the code of 's1'"),
        ({"STUDENT_ID": "s9"}, "STUDENT_ID = 's9' is not 's1'"),
    ],
)
def test_each_wrong_identity_says_what_to_change(roster, notebook, says) -> None:
    notebook = {"TRACK": "Edge Guardian", "VARIANT_CODE": variant_code(SECRET, "s1")} | notebook
    bound = _bind(roster, ["s1"], notebook)
    assert len(bound.problems) == 1 and says in bound.problems[0]
    assert bound.fixed["TRACK"].variant == variant_code(SECRET, "s1")


def test_a_student_the_roster_does_not_list_is_graded_on_their_own_code(roster) -> None:
    code = variant_code(SECRET, "s7")
    binding = TrackBinding.for_submitter(roster, CourseVariants(SECRET), ["s7"])
    assert "roster does not list you" in binding.unlisted_note()
    assert "VARIANT_CODE" in binding.unlisted_note()
    bound = binding.bind({"TRACK": "Mobile Nomad", "VARIANT_CODE": code})
    assert bound.fixed == {"TRACK": student_track("Mobile Nomad", code)} and not bound.problems
    typo = binding.bind({"TRACK": "Mobile Nomad", "VARIANT_CODE": "K7QF"})
    assert typo.fixed == {"TRACK": student_track("Mobile Nomad")}
    assert "cannot be used" in typo.problems[0]


def test_no_track_to_vary_leaves_the_tests_on_the_notebooks_own(roster) -> None:
    binding = TrackBinding.for_submitter(None, CourseVariants(SECRET), [])
    assert binding.bind({"TRACK": "Moon Base"}).fixed == {}
