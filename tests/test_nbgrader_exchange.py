"""nbgrader without JupyterHub: a plain exchange folder and two students' Linux accounts.

The whole cycle on a fresh build, each step run as the person who runs it: the instructor
(root) generates and releases the assignment into a temporary exchange folder
(``c.Exchange.root``); two students, real Linux users created here and removed after, fetch
it and submit from their own home folders; the instructor collects, autogrades two at a time
(``ops-lab nbgrader-autograde``), generates and releases the feedback; each student fetches
their feedback. Then the reason the Formgrader's autograde button cannot grade: autograding
as a user who is not root fails, saying so and what to run instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from labtools._toml import tomllib
from labtools.nbgrader_course.config import COURSE_ID, CourseSettings
from labtools.paths import NOTEBOOK_NAME, SAMPLE_SUBMISSIONS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("useradd", "userdel", "runuser")),
        reason="creates Linux users and switches to them: run as root",
    ),
]

#: Short, so that nothing here waits long; the samples' slowest cell takes about a second.
CELL_TIMEOUT_S = 15


@pytest.fixture(scope="module")
def students():
    """Two Linux accounts with home folders, removed (with their homes) afterwards."""
    names = [f"opsst{os.getpid() % 100000}{x}" for x in "ab"]
    created = []
    # The students run this checkout's interpreter: a clone in a private folder (mktemp -d
    # makes it 0700) must let them through to it for the test's duration, no longer.
    opened = [
        (folder, folder.stat().st_mode)
        for folder in Path(sys.prefix).resolve().parents
        if not folder.stat().st_mode & stat.S_IXOTH
    ]
    try:
        for folder, mode in opened:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
        for name in names:
            subprocess.run(["useradd", "--create-home", name], check=True, capture_output=True)
            created.append(name)
        yield {name: Path(pwd.getpwnam(name).pw_dir) for name in names}
    finally:
        for name in created:
            subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        for folder, mode in opened:
            folder.chmod(stat.S_IMODE(mode))


@pytest.fixture(scope="module")
def exchange():
    """The exchange folder: outside the course, reachable by every account."""
    folder = Path(tempfile.mkdtemp(prefix="ops-exchange-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_student(name: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ARGS`` as the student, in their home folder, with their environment."""
    env = [f"HOME={home}", f"USER={name}", f"LOGNAME={name}", "PATH=/usr/bin:/bin"]
    return subprocess.run(
        ["runuser", "-u", name, "--", "env", "-i", *env, sys.executable, "-m", *args],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def nbgrader_as_student(name, home, exchange, *args) -> subprocess.CompletedProcess[str]:
    """A student's nbgrader command: no course config of their own, the exchange named."""
    result = as_student(
        name, home, "nbgrader", *args, "--course", COURSE_ID, f"--Exchange.root={exchange}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def cycle(built, autograder_tests, students, exchange, tmp_path_factory):
    """Every step of the cycle, in order, with what each left behind."""
    from labtools.nbgrader_course.course import run_nbgrader, submission_from_otter
    from labtools.nbgrader_course.parallel_autograde import autograde_course
    from labtools.release.nbgrader_course import build_course
    from labtools.selfcheck.samples import sample_submissions

    course = tmp_path_factory.mktemp("nbgrader-exchange") / "course"
    build_course(
        course,
        otter_tests=autograder_tests,
        settings=CourseSettings(cell_timeout_s=CELL_TIMEOUT_S, exchange_root=str(exchange)),
    )
    steps: dict[str, object] = {}
    run_nbgrader(course, "generate_assignment", "ops_scale")
    run_nbgrader(course, "release_assignment", "ops_scale")
    steps["outbound"] = sorted(
        p.name for p in (exchange / COURSE_ID / "outbound" / "ops_scale").iterdir()
    )

    samples = {s.name: s.notebook for s in sample_submissions()}
    (good, weak), answers = list(students), {}
    for name, home in students.items():
        nbgrader_as_student(name, home, exchange, "fetch_assignment", "ops_scale")
        fetched = home / "ops_scale" / NOTEBOOK_NAME
        steps.setdefault("fetched", {})[name] = fetched.stat().st_uid == pwd.getpwnam(name).pw_uid
        release = nbformat.read(fetched, as_version=4)
        answer = submission_from_otter(
            samples["solution-cloud_titan" if name == good else "partial"], release
        )
        if name == weak:  # a scratch cell of the student's own
            answer.cells.insert(3, nbformat.v4.new_code_cell("print('trying things')"))
        nbformat.write(answer, fetched)  # the student's work, saved in their folder
        os.chown(fetched, pwd.getpwnam(name).pw_uid, pwd.getpwnam(name).pw_gid)
        answers[name] = answer
        nbgrader_as_student(name, home, exchange, "submit", "ops_scale")
    steps["inbound"] = sorted(
        p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir()
    )

    run_nbgrader(course, "collect", "ops_scale")
    steps["autograde"] = autograde_course(course, jobs=2)
    run_nbgrader(course, "generate_feedback", "ops_scale")
    run_nbgrader(course, "release_feedback", "ops_scale")
    for name, home in students.items():
        nbgrader_as_student(name, home, exchange, "fetch_feedback", "ops_scale")
    return {
        "course": course,
        "good": good,
        "weak": weak,
        "students": students,
        "answers": answers,
        "steps": steps,
    }


def test_the_release_reaches_each_student_through_the_exchange(cycle):
    assert NOTEBOOK_NAME in cycle["steps"]["outbound"]
    assert cycle["steps"]["fetched"] == {name: True for name in cycle["students"]}


def test_submissions_are_collected_into_the_course(cycle):
    assert cycle["steps"]["inbound"] == sorted(cycle["students"])
    for name in cycle["students"]:
        folder = cycle["course"] / "submitted" / name / "ops_scale"
        assert (folder / "timestamp.txt").is_file()
        collected = nbformat.read(folder / NOTEBOOK_NAME, as_version=4).cells
        assert [c.source for c in collected] == [c.source for c in cycle["answers"][name].cells]


def test_autograding_gives_each_student_their_scores(cycle):
    run = cycle["steps"]["autograde"]
    assert {r.student: r.status for r in run.runs} == {n: "graded" for n in cycle["students"]}
    with (SAMPLE_SUBMISSIONS / "partial.toml").open("rb") as f:
        partial_points = tomllib.load(f)["expected_total"]["score"]
    points = {r.student: (r.auto_score, r.auto_max) for r in run.runs}
    assert points[cycle["good"]] == (36, 36)
    assert points[cycle["weak"]] == (pytest.approx(partial_points), 36)


def test_each_student_fetches_their_own_feedback(cycle, autograder_tests):
    from labtools.release.release_scan import hidden_test_lines

    secrets = hidden_test_lines(autograder_tests)
    for name, home in cycle["students"].items():
        [page] = (home / "ops_scale" / "feedback").glob(f"*/{Path(NOTEBOOK_NAME).stem}.html")
        assert page.stat().st_uid == pwd.getpwnam(name).pw_uid
        text = page.read_text()
        assert not [s for s in secrets if s in text], name
        if name == cycle["weak"]:
            assert "trying things" in text and "zero_failure_sample_size is off by one" in text


def test_autograding_as_another_user_says_why_it_cannot_and_what_to_run(cycle):
    # As the Formgrader's button would: nbgrader autograde in a course this user owns.
    name, home = cycle["good"], cycle["students"][cycle["good"]]
    copy = home / "course"
    shutil.copytree(cycle["course"], copy)
    user = pwd.getpwnam(name)
    for path in [copy, *copy.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
    result = as_student(
        name, copy, "nbgrader", "autograde", "ops_scale", "--student", cycle["weak"], "--force"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "SandboxNeedsRoot" in output and "Formgrader's autograde button" in output
    assert "ops-lab nbgrader-autograde" in output
    command = as_student(name, copy, "labtools.cli", "nbgrader-autograde", str(copy))
    assert command.returncode == 2 and "takes root" in command.stderr
