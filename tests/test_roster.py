"""Tracks bound to students: the roster, Gradescope's submitters, nbgrader's student id."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from labtools.grading.roster import (
    ROSTER_FILE,
    gradescope_identities,
    load_roster,
    track_note,
)
from labtools.selfcheck.run import grade_in_gradescope_layout
from labtools.selfcheck.samples import sample_submissions

ROSTER = "student,track\nada@example.edu,Edge Guardian\nS1234,tiny_pioneer\n"


def _roster(tmp_path: Path, text: str = ROSTER) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_a_roster_maps_emails_and_ids_to_tracks(tmp_path: Path) -> None:
    roster = load_roster(_roster(tmp_path))
    assert roster.track_for(["ADA@Example.edu"]) == "Edge Guardian"  # emails ignore case
    assert roster.track_for(["nobody", "S1234"]) == "Tiny Pioneer"
    assert roster.track_for(["nobody"]) is None


def test_a_bad_roster_names_every_bad_row(tmp_path: Path) -> None:
    bad = (
        "student,track\n,Edge Guardian\nbo@x.edu,Moon Base\n"
        "ada@x.edu,Cloud Titan\nada@x.edu,Edge Guardian\n"
    )
    with pytest.raises(ValueError) as raised:
        load_roster(_roster(tmp_path, bad))
    message = str(raised.value)
    assert "line 2: no student" in message and "line 3" in message and "Moon Base" in message
    assert "line 5: ada@x.edu already has the track Cloud Titan" in message
    with pytest.raises(ValueError, match="columns 'student' and 'track'"):
        load_roster(_roster(tmp_path, "email,track\na,Cloud Titan\n"))


def test_gradescope_submitters_give_their_emails_sids_and_ids(tmp_path: Path) -> None:
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(
        json.dumps({"users": [{"email": "ada@example.edu", "id": 7, "name": "Ada", "sid": "S9"}]})
    )
    assert gradescope_identities(metadata) == ["ada@example.edu", "S9", "7"]
    assert gradescope_identities(tmp_path / "missing.json") == []


def test_the_track_message_is_only_for_a_disagreeing_track() -> None:
    assert track_note("Edge Guardian", "edge-guardian") is None
    note = track_note("Edge Guardian", "Cloud Titan")
    assert "instructor assigned you the track 'Edge Guardian'" in note
    assert "Set TRACK = 'Edge Guardian'" in note


@pytest.fixture(scope="module")
def zip_with_roster(built, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("roster-zip")
    target = folder / "ops_scale-autograder.zip"
    shutil.copy2(built.autograder_zip, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr(ROSTER_FILE, ROSTER)
    return target


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox switches user: run as root")
def test_gradescope_grades_the_rosters_track_and_says_so(zip_with_roster, tmp_path) -> None:
    solution = next(s for s in sample_submissions() if s.name == "solution-cloud_titan")
    ada = {"users": [{"email": "ada@example.edu", "id": 7, "name": "Ada", "sid": ""}]}

    results = grade_in_gradescope_layout(
        zip_with_roster, solution.notebook, tmp_path / "ada", metadata=ada
    )

    assert "instructor assigned you the track 'Edge Guardian'" in results["output"]
    scores = {t["name"]: t["score"] for t in results["tests"]}
    # Cloud Titan's own answers fail on Edge Guardian's numbers; the functions still pass.
    assert scores["q4_crisis"] < 3 and scores["q2d_sprt_lines"] < 2
    assert scores["q2a_zero_failure"] == 3 and scores["q3a_psi"] == 3

    # Matched by SID this time; and a student the roster does not list keeps their TRACK.
    cloud = {"users": [{"email": "cy@example.edu", "id": 8, "name": "Cy", "sid": "S1234"}]}
    tiny = grade_in_gradescope_layout(
        zip_with_roster, solution.notebook, tmp_path / "cy", metadata=cloud
    )
    assert "assigned you the track 'Tiny Pioneer'" in tiny["output"]
    unlisted = grade_in_gradescope_layout(
        zip_with_roster,
        solution.notebook,
        tmp_path / "zed",
        metadata={"users": [{"email": "zed@example.edu", "id": 9, "name": "Zed", "sid": ""}]},
    )
    assert unlisted["score"] == 36 and "roster does not list you" in unlisted["output"]
