"""Per-student variants in a release: options, the secret's places, the instructor's codes."""

from __future__ import annotations

import csv
import stat
import zipfile
from pathlib import Path

import pytest

from labtools.cli import main
from labtools.grading.roster import load_roster
from labtools.grading.variant_codes import (
    VARIANTS_FILE,
    load_course_variants,
    read_course_secret,
    variant_code,
)
from labtools.release.course_options import load_course_options
from labtools.release.pipeline import build
from labtools.selfcheck.samples import SAMPLE_ROSTER, SAMPLE_SECRET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def per_student(tmp_path_factory):
    """A build with per-student variants on (no audit, PDF or run of the solution)."""
    dist = tmp_path_factory.mktemp("variants") / "dist"
    return build(
        dist,
        write_committed=False,
        execute=False,
        pdf=False,
        audit=False,
        roster=SAMPLE_ROSTER,
        variants="per-student",
        course_secret=SAMPLE_SECRET,
    )


def test_the_secret_reaches_the_graders_only(per_student) -> None:
    secret = read_course_secret(SAMPLE_SECRET)
    for folder in (per_student.autograder_source, per_student.nbgrader_course):
        path = folder / VARIANTS_FILE
        assert load_course_variants(path).secret == secret
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(per_student.autograder_zip) as archive:
        assert VARIANTS_FILE in archive.namelist()
    with zipfile.ZipFile(per_student.student_zip) as archive:
        texts = [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    codes = [variant_code(secret, p) for p in ("s1001", "s1002", "s1003", "s1004", "s1005")]
    for needle in (secret.decode(), *codes):
        assert not any(needle in t for t in texts), needle


def test_the_instructor_gets_every_students_code(per_student) -> None:
    path = per_student.dist / "grading" / "variant-codes.csv"
    rows = list(csv.DictReader(path.open()))
    roster = load_roster(SAMPLE_ROSTER)
    secret = read_course_secret(SAMPLE_SECRET)
    assert [r["student"] for r in rows] == ["s1001", "s1002", "s1003", "s1004", "s1005"]
    for row in rows:
        assert row["variant_code"] == variant_code(secret, row["student"])
        assert row["track"] == roster.track_for([row["student"]])
        assert row["email"].endswith("@example.edu") and row["name"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_build_without_variants_leaves_no_secret_behind(per_student, tmp_path) -> None:
    again = build(per_student.dist, write_committed=False, execute=False, pdf=False, audit=False)
    assert not (again.autograder_source / VARIANTS_FILE).exists()
    assert not (again.nbgrader_course / VARIANTS_FILE).exists()
    assert not (again.nbgrader_course / "roster.csv").exists()
    assert not (again.dist / "grading" / "variant-codes.csv").exists()


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"variants": "per-student", "course_secret": SAMPLE_SECRET}, "need --roster"),
        ({"variants": "per-student", "roster": SAMPLE_ROSTER}, "--course-secret"),
        (
            {"variants": "per-student", "roster": SAMPLE_ROSTER, "course_secret": Path("/no")},
            "cannot be read",
        ),
        ({"variants": "everyone"}, "mode must be one of"),
    ],
)
def test_per_student_variants_need_a_roster_and_a_readable_secret(kwargs, says, tmp_path) -> None:
    with pytest.raises(ValueError, match=says):
        build(tmp_path / "dist", write_committed=False, execute=False, pdf=False, **kwargs)


def test_course_options_are_read_and_checked(tmp_path) -> None:
    assert not load_course_options().per_student  # the repository's default: tracks
    options = tmp_path / "course.toml"
    options.write_text('[variants]\nmode = "per-student"\n')
    assert load_course_options(options).per_student
    assert not load_course_options(options, variants="tracks").per_student
    options.write_text("[variants\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_course_options(options)


def test_a_short_secret_is_refused(tmp_path) -> None:
    short = tmp_path / "secret.txt"
    short.write_text("too short\n")
    with pytest.raises(ValueError, match="at least 16 characters"):
        read_course_secret(short)


def test_ops_lab_course_secret_writes_a_private_file_once(tmp_path, capsys) -> None:
    path = tmp_path / "secrets" / "course.txt"
    assert main(["course-secret", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(read_course_secret(path)) == 64
    first = path.read_text()
    assert main(["course-secret", str(path)]) == 2  # never overwrites: codes depend on it
    assert path.read_text() == first
    assert "exists" in capsys.readouterr().err
