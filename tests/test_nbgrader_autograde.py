"""Autograding a course N students at a time, importing Gradescope work, refusing what fails.

Fast tests check the config, the log filter and the command's wiring. The slow module
fixture copies the course in which the self-check's samples (converted with
``submission_from_otter``) were graded serially by plain ``nbgrader autograde`` (conftest's
``nbgrader_autograded``, shared with the instructor's cycle); the slow tests then grade them
again with ``ops-lab nbgrader-autograde --jobs 2`` (same scores, both wall times printed),
import a Gradescope export of edited notebooks and grade it, and place a Gradescope
notebook as it is.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.converters import Autograde
from nbgrader_cycle import copy_course
from nbgrader_variants import gradescope_export, with_added_cells, with_deleted_and_moved_cells
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from labtools.cli import main
from labtools.nbgrader_course.config import SANITIZE_PREPROCESSORS, CourseSettings, write_config
from labtools.nbgrader_course.parallel_autograde import (
    CHECKSUM_NOTE,
    autograde_course,
    filter_log,
)
from labtools.nbgrader_course.submission_format import CheckSubmissionFormat
from labtools.paths import NOTEBOOK_NAME

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox switches user: run as root")

# ------------------------------------------------------------------ fast


def test_sanitizing_is_nbgraders_after_the_format_check():
    defaults = Autograde.class_traits()["sanitize_preprocessors"].default()
    ours = [import_item(name) for name in SANITIZE_PREPROCESSORS]
    assert ours == [CheckSubmissionFormat, *defaults]


def test_the_config_names_the_exchange_folder_when_given(tmp_path):
    path = write_config(tmp_path, CourseSettings(exchange_root="/srv/ops/exchange"))
    cfg = PyFileConfigLoader(path.name, path=str(tmp_path)).load_config()
    assert cfg.Exchange.root == "/srv/ops/exchange"
    path = write_config(tmp_path, CourseSettings())
    assert "root" not in PyFileConfigLoader(path.name, path=str(tmp_path)).load_config().Exchange
    with pytest.raises(ValueError, match="exchange_root"):
        CourseSettings(exchange_root="relative/exchange")


NBGRADER_OUTPUT = """\
[AutogradeApp | INFO] Copying /c/source/./ops_scale/opsmodel/a.py -> /c/autograded/s/a.py
[AutogradeApp | INFO] Copying /c/source/./ops_scale/opsmodel/b.py -> /c/autograded/s/b.py
/venv/nbgrader/api.py:2229: SAWarning: Object of type <SubmittedAssignment> not in session
  for notebook in submission.assignment.notebooks:
[AutogradeApp | WARNING] Attribute 'checksum' for cell q1_case2 has changed! (should be: a, got: b)
[AutogradeApp | WARNING] Attribute 'checksum' for cell q1_case3 has changed! (should be: c, got: d)
[AutogradeApp | WARNING] Attribute 'checksum' for cell text_readonly7 has changed! (should be: e)
[AutogradeApp | INFO] graded s in 8.8 s
[INFO] Copying /c/source/./ops_scale/opsmodel/c.py -> /c/autograded/s/c.py
[WARNING] Attribute 'checksum' for cell q1_case2 has changed! (should be: a, got: b)
"""


def test_the_log_drops_expected_repetitions_and_keeps_edited_locked_cells():
    # nbgrader's command and its API (what the workers use) format lines differently.
    kept, checksums, copies = filter_log(NBGRADER_OUTPUT, ["q1_case2", "q1_case3"])
    assert (checksums, copies) == (3, 3)
    assert kept.splitlines() == [
        "[AutogradeApp | WARNING] Attribute 'checksum' for cell text_readonly7 has changed! "
        "(should be: e)",
        "[AutogradeApp | INFO] graded s in 8.8 s",
    ]


def test_the_command_refuses_bad_jobs_and_a_course_without_gradebook(tmp_path, capsys):
    with pytest.raises(ValueError, match="jobs"):
        autograde_course(tmp_path, jobs=0)
    if os.geteuid() == 0:
        assert main(["nbgrader-autograde", str(tmp_path)]) == 2
        assert "generate_assignment" in capsys.readouterr().err


# ------------------------------------------------------------------ slow: a real course

#: Short, so that nothing here waits long; the samples' slowest cell takes about a second.
CELL_TIMEOUT_S = 15


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def course(nbgrader_autograded, tmp_path_factory):
    """A copy of the course every sample student was submitted to and autograded in, one by
    one, by plain ``nbgrader autograde`` (conftest's ``nbgrader_autograded``), with this
    module's cell timeout; ``samples`` are those submitted under their own names."""
    from labtools.selfcheck.samples import sample_submissions

    folder = copy_course(nbgrader_autograded, tmp_path_factory.mktemp("nbgrader-autograde") / "c")
    write_config(folder, CourseSettings(cell_timeout_s=CELL_TIMEOUT_S))
    release = nbformat.read(folder / "release" / "ops_scale" / NOTEBOOK_NAME, as_version=4)
    submitted = nbgrader_autograded["samples"]
    samples = {s.name: s for s in sample_submissions() if submitted.get(s.name) == s.name}
    return {
        "dir": folder,
        "release": release,
        "samples": samples,
        "serial_s": nbgrader_autograded["times"]["autograde"],
    }


@pytest.fixture(scope="module")
def serial_and_parallel(course):
    """The samples as plain ``nbgrader autograde`` graded them, then again with ``--jobs 2``."""
    from labtools.nbgrader_course.course import question_scores

    names = sorted(course["samples"])
    serial_s = course["serial_s"]  # every student of the course, not only these
    serial = {name: question_scores(course["dir"], name) for name in names}
    start = time.perf_counter()
    run = autograde_course(course["dir"], jobs=2, students=names, force=True)
    parallel_s = time.perf_counter() - start
    parallel = {name: question_scores(course["dir"], name) for name in names}
    print(
        f"\nautograde: serial (nbgrader autograde, every student of the course) {serial_s:.1f} s; "
        f"{len(names)} of them again with ops-lab nbgrader-autograde --jobs 2 {parallel_s:.1f} s"
        f"\n{run.describe()}"
    )
    return {"serial": serial, "parallel": parallel, "run": run}


@pytest.mark.slow
@needs_root
def test_two_at_a_time_scores_exactly_as_serial(serial_and_parallel, course):
    run = serial_and_parallel["run"]
    assert [r.status for r in run.runs] == ["graded"] * len(course["samples"])
    assert serial_and_parallel["parallel"] == serial_and_parallel["serial"]
    for sample in course["samples"].values():
        if sample.full_marks:
            assert next(r for r in run.runs if r.student == sample.name).auto_score == 36


@pytest.mark.slow
@needs_root
def test_the_log_explains_checksum_warnings_once(serial_and_parallel, course):
    log = (course["dir"] / "autograde.log").read_text()
    assert log.count(CHECKSUM_NOTE) == 1
    hidden_warnings = [
        ln for ln in log.splitlines() if "checksum' for cell" in ln and "_case" in ln
    ]
    assert hidden_warnings == []
    assert log.count("23 hidden-test checksum warnings") == len(course["samples"])


@pytest.mark.slow
@needs_root
def test_a_gradescope_export_of_edited_notebooks_grades_as_the_originals(
    serial_and_parallel, course, tmp_path, capsys
):
    samples = course["samples"]
    export = gradescope_export(
        tmp_path / "assignment_9_export",
        {
            "submission_101": with_added_cells(samples["partial"].notebook),
            "submission_202": with_deleted_and_moved_cells(
                samples["solution-tiny_pioneer"].notebook
            ),
        },
    )
    assert main(["nbgrader-import", str(export), str(course["dir"])]) == 0
    assert "2 imported" in capsys.readouterr().out
    from labtools.nbgrader_course.course import question_scores

    run = autograde_course(course["dir"], jobs=2, students=["1815", "1912"])
    assert [r.status for r in run.runs] == ["graded", "graded"]
    # 1815 is partial with cells added: partial's scores, question by question.
    assert question_scores(course["dir"], "1815") == serial_and_parallel["serial"]["partial"]
    # 1912 is a full-marks solution with cells deleted and moved.
    assert next(r for r in run.runs if r.student == "1912").auto_score == 36


@pytest.mark.slow
@needs_root
def test_an_otter_notebook_placed_as_is_fails_clearly_and_deletes_nothing(
    serial_and_parallel, course
):
    from labtools.nbgrader_course.course import nbgrader_process

    folder = course["dir"]
    otter = course["samples"]["partial"].notebook
    # "partial" was autograded; its notebook is now replaced by the Gradescope one, as is.
    submitted = folder / "submitted" / "partial" / "ops_scale" / NOTEBOOK_NAME
    nbformat.write(otter, submitted)
    autograded = folder / "autograded" / "partial"
    before, submitted_hash = _tree_hashes(autograded), _sha(submitted)
    run = autograde_course(folder, jobs=2, students=["partial"], force=True)
    [refused] = run.runs
    assert refused.status == "refused" and "Otter's format" in refused.detail
    assert "ops-lab nbgrader-import" in refused.detail
    assert _tree_hashes(autograded) == before and _sha(submitted) == submitted_hash
    # Plain nbgrader on a new student: a clear failure, not KeyError; the submission intact.
    fresh = folder / "submitted" / "placed-as-is" / "ops_scale"
    fresh.mkdir(parents=True)
    nbformat.write(otter, fresh / NOTEBOOK_NAME)
    result = nbgrader_process(folder, "autograde", "ops_scale", "--student", "placed-as-is")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "SubmissionFormatError" in output and "Otter's format" in output
    assert "KeyError" not in output
    assert _sha(fresh / NOTEBOOK_NAME) == _sha(submitted)


@pytest.mark.slow
@needs_root
def test_a_student_past_the_time_limit_is_stopped_and_the_next_one_graded(
    serial_and_parallel, course
):
    # Half a second is shorter than a worker's start: each student times out, each time
    # in a fresh worker; the same students are graded normally afterwards.
    stopped = autograde_course(
        course["dir"], jobs=1, students=["blank", "reuse-names"], force=True, timeout_s=0.5
    )
    assert [(r.status, r.detail) for r in stopped.runs] == [("timeout", "over 0.5 s")] * 2
    again = autograde_course(course["dir"], jobs=2, students=["blank", "reuse-names"], force=True)
    assert [r.status for r in again.runs] == ["graded", "graded"]
    scores = {r.student: r.auto_score for r in again.runs}
    assert scores == {"blank": 0, "reuse-names": 36}
