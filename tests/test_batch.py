"""Batch grading (labtools.batch): input forms, gradebook, problems, resume.

Most tests grade with a small autograder written here (two questions, Otter OK-format test
files) and a fake kernel that executes cells in a plain namespace, so that they run the real
worker processes, harness and test runner without the sandbox. Expected scores come from the
points written in these test files, never from the code under test. One slow test grades the
real notebooks with the real sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fcntl
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from labtools.batch import (
    BatchLockedError,
    add_batch_arguments,
    autograder_hash,
    content_hash,
    detect_submissions,
    feedback_text,
    main_batch,
    rebuild_gradebook,
    run_batch,
)
from labtools.batch.fingerprints import needs_grading
from labtools.batch.progress import Progress

NOTEBOOK_NAME = "ops_scale.ipynb"
# The small autograder: questions in notebook order, deliberately not alphabetical, so that
# a gradebook sorted by name would show up.
QUESTIONS = {"q2_late": 3.0, "q1_early": 2.0}

TEST_FILES = {
    # q1_early: one public case worth 2 points, on a plain value.
    "q1_early": {
        "name": "q1_early",
        "points": 2,
        "suites": [
            {
                "cases": [
                    {"code": ">>> answer == 42\nTrue", "hidden": False, "locked": False},
                ],
                "scored": True,
                "setup": "",
                "teardown": "",
                "type": "doctest",
            }
        ],
    },
    # q2_late: two hidden cases of 1.5 points each, calling the student's function.
    "q2_late": {
        "name": "q2_late",
        "points": 3,
        "suites": [
            {
                "cases": [
                    {"code": ">>> double(3)\n6", "hidden": True, "locked": False},
                    {"code": ">>> double(-2.5)\n-5.0", "hidden": True, "locked": False},
                ],
                "scored": True,
                "setup": "",
                "teardown": "",
                "type": "doctest",
            }
        ],
    },
}

# A KernelFactory for the workers: runs cells with exec() in this process (no sandbox), and
# misbehaves on request, by a word in the notebook, to play a hung or crashing grader.
FAKE_KERNEL = textwrap.dedent(
    """
    import contextlib, json, os, signal, time
    from types import SimpleNamespace


    class FakeKernel:
        def __init__(self):
            self.namespace = {}

        def run_cell(self, code):
            try:
                exec(code, self.namespace)
            except Exception as exc:
                return SimpleNamespace(
                    status="error", error_name=type(exc).__name__, error_value=str(exc)
                )
            return SimpleNamespace(status="ok")

        def call(self, name, *args, **kwargs):
            try:
                value = self.namespace[name](*args, **kwargs)
                return SimpleNamespace(ok=True, value=json.loads(json.dumps(value)), error="")
            except Exception as exc:
                return SimpleNamespace(ok=False, value=None, error=f"{type(exc).__name__}: {exc}")

        def get(self, name):
            return SimpleNamespace(ok=name in self.namespace, value=self.namespace.get(name))


    def factory():
        @contextlib.contextmanager
        def start(job, config):
            text = (job / config.notebook_name).read_text()
            if "HANG_THE_GRADER" in text:
                time.sleep(3600)
            if "CRASH_THE_GRADER" in text:
                os.kill(os.getpid(), signal.SIGKILL)
            if "BREAK_THE_GRADER" in text:
                raise RuntimeError("fake kernel broke")
            if "KILL_THE_FORK_SERVER" in text:  # the worker's parent is the fork server
                os.kill(os.getppid(), signal.SIGKILL)
                time.sleep(3600)
            yield FakeKernel()

        return start
    """
)
FAKE_FACTORY = "fake_batch_kernel:factory"


def _notebook(*cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


RIGHT = _notebook("answer = 42", "def double(x):\n    return 2 * x")
HALF = _notebook("answer = 41", "def double(x):\n    return 2 * x")


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def _make_autograder(source: Path) -> Path:
    (source / "tests").mkdir(parents=True)
    (source / "files" / "opsmodel").mkdir(parents=True)
    (source / "files" / "opsmodel" / "__init__.py").write_text("")
    config = {"notebook_name": NOTEBOOK_NAME, "questions": QUESTIONS}
    (source / "ops_lab.json").write_text(json.dumps(config))
    for name, spec in TEST_FILES.items():
        (source / "tests" / f"{name}.py").write_text(f"OK_FORMAT = True\n\ntest = {spec!r}\n")
    return source


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small autograder and the fake kernel module, importable by the workers."""
    root = tmp_path_factory.mktemp("batch-lab")
    (root / "fake_batch_kernel.py").write_text(FAKE_KERNEL)
    return {"source": _make_autograder(root / "autograder"), "modules": root}


@pytest.fixture(autouse=True)
def _workers_find_fake_kernel(lab: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers' fork server is a new interpreter: it finds the module through PYTHONPATH.
    path = [str(lab["modules"]), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", ":".join(path))


def _files_form_submissions(folder: Path) -> Path:
    folder.mkdir()
    (folder / "alice.ipynb").write_text(RIGHT)
    (folder / "bob.ipynb").write_text(HALF)
    _zip(folder / "carol.zip", {NOTEBOOK_NAME: "this is not json", "readme.txt": "hi"})
    (folder / "dan.ipynb").write_text(_notebook("KILL_THE_FORK_SERVER = 1"))
    (folder / "erin.ipynb").write_text(_notebook("CRASH_THE_GRADER = 1"))
    (folder / "gina.ipynb").write_text(_notebook("BREAK_THE_GRADER = 1"))
    return folder


@pytest.fixture(scope="module")
def first_batch(lab: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """One batch over six submissions, four of them bad in different ways (module-wide).

    One at a time (``jobs=1``), so that dan, who kills the workers' fork server, is alone on
    it: erin and gina after him need a new server.
    """
    root = tmp_path_factory.mktemp("first-batch")
    submissions = _files_form_submissions(root / "in")
    # The autouse fixture is function-scoped; this module fixture sets the path itself.
    # A temporary folder of its own: other tests running beside it (pytest-xdist) make
    # ops-batch-* folders in the shared one, which are not this batch's leftovers.
    temporary = root / "tmp"
    temporary.mkdir()
    before = set(temporary.glob("ops-batch-*"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", f"{lab['modules']}:{os.environ.get('PYTHONPATH', '')}")
        patch.setenv("TMPDIR", str(temporary))
        patch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
        summary = run_batch(
            submissions,
            root / "out",
            autograder_source=lab["source"],
            jobs=1,
            timeout_s=120,
            kernel_factory=FAKE_FACTORY,
        )
    return {
        "summary": summary,
        "submissions": submissions,
        "output": root / "out",
        "temporary_left": set(temporary.glob("ops-batch-*")) - before,
    }


def _copy_batch(first_batch: dict, tmp_path: Path) -> tuple[Path, Path]:
    submissions = tmp_path / "in"
    output = tmp_path / "out"
    shutil.copytree(first_batch["submissions"], submissions)
    shutil.copytree(first_batch["output"], output)
    return submissions, output


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- input forms


def test_detect_plain_folder_of_notebooks_and_zips(tmp_path: Path) -> None:
    (tmp_path / "jdoe.ipynb").write_text(RIGHT)
    _zip(tmp_path / "a smith.zip", {NOTEBOOK_NAME: RIGHT})
    (tmp_path / "roster.csv").write_text("id\n")
    (tmp_path / ".hidden.ipynb").write_text(RIGHT)
    (tmp_path / "__MACOSX").mkdir()  # litter, not a per-student folder
    found = detect_submissions(tmp_path)
    assert found.form == "files"
    assert [(s.key, s.student_id, s.path.name) for s in found.submissions] == [
        ("a_smith", "a smith", "a smith.zip"),  # the space is not file-name safe
        ("jdoe", "jdoe", "jdoe.ipynb"),
    ]
    assert any("roster.csv" in w for w in found.warnings)


def test_detect_colliding_keys_are_made_unique(tmp_path: Path) -> None:
    (tmp_path / "jdoe.ipynb").write_text(RIGHT)
    _zip(tmp_path / "jdoe.zip", {NOTEBOOK_NAME: RIGHT})
    keys = [s.key for s in detect_submissions(tmp_path).submissions]
    assert sorted(keys) == ["jdoe", "jdoe~2"]


def test_detect_per_student_folders(tmp_path: Path) -> None:
    for student in ("bob", "alice"):
        (tmp_path / student).mkdir()
        (tmp_path / student / NOTEBOOK_NAME).write_text(RIGHT)
    (tmp_path / "README.txt").write_text("grading notes")
    found = detect_submissions(tmp_path)
    assert found.form == "folders"
    assert [(s.key, s.path.name) for s in found.submissions] == [
        ("alice", "alice"),
        ("bob", "bob"),
    ]


# Gradescope writes Ruby symbols as keys and sometimes Ruby-tagged values.
GRADESCOPE_METADATA = """\
submission_111:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2026-11-20 10:00:00.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.36e2
submission_222:
  :submitters:
  - :name: Alan Turing
    :sid: '1912'
    :email: alan@example.edu
  - :name: Grace Hopper
    :sid: 1906
    :email: grace@example.edu
submission_333:
  :submitters:
  - :name: No Sid
    :sid:
    :email: nosid@example.edu
submission_999:
  :submitters: []
"""


def _gradescope_export(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    for number in ("111", "222", "333"):
        (folder / f"submission_{number}").mkdir()
        (folder / f"submission_{number}" / NOTEBOOK_NAME).write_text(RIGHT)
    return folder


def test_detect_gradescope_export_reads_submitters(tmp_path: Path) -> None:
    found = detect_submissions(_gradescope_export(tmp_path / "export"))
    assert found.form == "gradescope"
    rows = {s.path.name: (s.key, s.student_id, s.name, s.email) for s in found.submissions}
    assert rows == {
        "submission_111": ("1815", "1815", "Ada Lovelace", "ada@example.edu"),
        # A group: every submitter, in the metadata's order; an unquoted SID is a number.
        "submission_222": (
            "1912+1906",
            "1912;1906",
            "Alan Turing; Grace Hopper",
            "alan@example.edu;grace@example.edu",
        ),
        # No SID: the folder names the submission.
        "submission_333": ("submission_333", "submission_333", "No Sid", "nosid@example.edu"),
    }
    assert any("submission_999" in w and "missing" in w for w in found.warnings)


def test_detect_gradescope_export_one_level_down(tmp_path: Path) -> None:
    # Gradescope's zip unpacks to one assignment_<id>_export/ folder.
    export = _gradescope_export(tmp_path / "download" / "assignment_42_export")
    found = detect_submissions(tmp_path / "download")
    assert (found.form, found.root) == ("gradescope", export)


def test_a_zipped_gradescope_export_is_graded_with_names(tmp_path: Path, lab) -> None:
    export = tmp_path / "assignment_42_export"
    export.mkdir()
    (export / "submission_metadata.yml").write_text(
        "submission_7:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1815'\n"
        "    :email: ada@example.edu\n"
    )
    (export / "submission_7").mkdir()
    (export / "submission_7" / "answers.pdf").write_bytes(b"%PDF-1.4")  # no notebook
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(export.rglob("*")):
            z.write(path, path.relative_to(tmp_path))
    summary = run_batch(archive, tmp_path / "out", autograder_source=lab["source"], jobs=1)
    assert (summary.form, summary.problems) == ("gradescope", ("1815",))
    table = pd.read_csv(tmp_path / "out" / "gradebook.csv", dtype=str)
    assert table.loc[0, ["submission", "student_id", "name", "email"]].tolist() == [
        "1815",
        "1815",
        "Ada Lovelace",
        "ada@example.edu",
    ]
    assert "No notebook found" in table.loc[0, "detail"]


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("mixed", "either notebook/zip files or per-student sub-folders"),
        ("empty", "holds none"),
        ("file", "must be a folder"),
        ("bad-yaml", "not readable YAML"),
        ("list-yaml", "must map each submission folder"),
    ],
)
def test_detect_rejects_ambiguous_or_empty_input(tmp_path: Path, layout: str, message: str):
    target = tmp_path / "in"
    target.mkdir()
    if layout == "mixed":
        (target / "jdoe.ipynb").write_text(RIGHT)
        (target / "asmith").mkdir()
    elif layout == "file":
        target = tmp_path / "one.ipynb"
        target.write_text(RIGHT)
    elif layout == "bad-yaml":
        (target / "submission_metadata.yml").write_text("a: [unclosed\n")
    elif layout == "list-yaml":
        (target / "submission_metadata.yml").write_text("- a\n- b\n")
    with pytest.raises(ValueError, match=f"submissions.*{message}|{message}"):
        detect_submissions(target)


# --------------------------------------------------------------------------- hashes


def test_content_hash_changes_with_content_and_name_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.ipynb").write_text(RIGHT)
    first = content_hash(tmp_path / "a")
    assert content_hash(tmp_path / "a") == first  # deterministic
    (tmp_path / "a" / "x.ipynb").write_text(HALF)
    assert content_hash(tmp_path / "a") != first
    (tmp_path / "a" / "x.ipynb").write_text(RIGHT)
    assert content_hash(tmp_path / "a") == first
    (tmp_path / "a" / "x.ipynb").rename(tmp_path / "a" / "y.ipynb")
    assert content_hash(tmp_path / "a") != first


def test_autograder_hash_follows_tests_and_points(tmp_path: Path) -> None:
    source = _make_autograder(tmp_path / "source")
    before = autograder_hash(source)
    (source / "tests" / "__pycache__").mkdir()
    (source / "tests" / "__pycache__" / "q1_early.cpython-311.pyc").write_bytes(b"\0")
    assert autograder_hash(source) == before  # caches are not the tests
    config = json.loads((source / "ops_lab.json").read_text())
    config["questions"]["q1_early"] = 4.0
    (source / "ops_lab.json").write_text(json.dumps(config))
    assert autograder_hash(source) != before


# --------------------------------------------------------------------------- one batch


def test_gradebook_has_one_row_per_submission_and_questions_in_notebook_order(first_batch):
    table = pd.read_csv(first_batch["output"] / "gradebook.csv", dtype={"student_id": str})
    assert list(table.columns) == [
        "submission",
        "student_id",
        "name",
        "email",
        "q2_late",  # notebook order (ops_lab.json), not alphabetical
        "q1_early",
        "total",
        "possible",
        "status",
        "elapsed_s",
        "graded_at",
        "detail",
    ]
    rows = table.set_index("submission")
    assert list(rows.index) == ["alice", "bob", "carol", "dan", "erin", "gina"]
    # From TEST_FILES: alice passes everything (3 + 2); bob's answer is 41 (3 + 0).
    assert rows.loc["alice", ["q2_late", "q1_early", "total"]].tolist() == [3.0, 2.0, 5.0]
    assert rows.loc["bob", ["q2_late", "q1_early", "total"]].tolist() == [3.0, 0.0, 3.0]
    assert (rows["possible"] == 5.0).all()
    assert rows.loc[["alice", "bob"], "status"].tolist() == ["ok", "ok"]
    bad = ["carol", "dan", "erin", "gina"]
    assert set(rows.loc[bad, "status"]) == {"problem"}
    assert (rows.loc[bad, "total"] == 0).all()
    assert (rows["elapsed_s"] > 0).all()


def test_bad_submissions_do_not_stop_the_batch_and_are_logged(first_batch) -> None:
    summary = first_batch["summary"]
    assert summary.graded == ("alice", "bob", "carol", "dan", "erin", "gina")
    assert summary.problems == ("carol", "dan", "erin", "gina")
    assert summary.unfinished == () and not summary.interrupted
    log = (first_batch["output"] / "batch.log").read_text()
    lines = {
        key: next(ln for ln in log.splitlines() if f" {key}: " in ln) for key in summary.graded
    }
    assert "is not a valid notebook file (not JSON" in lines["carol"]
    assert "fork server stopped while this submission was graded" in lines["dan"]
    assert "the fork server stopped; starting another" in log
    assert _processes_working_in(first_batch["output"]) == []  # dan's worker died too
    # Not even the crashed workers left their job folders (a student's notebook) behind.
    assert first_batch["temporary_left"] == set()
    assert "killed by SIGKILL" in lines["erin"]
    assert "grader internal error: RuntimeError: fake kernel broke" in lines["gina"]
    # The grader's own traceback is in the log, under the submission it happened to.
    assert 'raise RuntimeError("fake kernel broke")' in log.split(lines["gina"])[1]


def test_results_and_feedback_files_per_submission(first_batch) -> None:
    output = first_batch["output"]
    assert sorted(p.stem for p in (output / "results").glob("*.json")) == sorted(
        first_batch["summary"].graded
    )
    alice = json.loads((output / "results" / "alice.json").read_text())
    assert alice["score"] == 5.0  # 3 + 2, from TEST_FILES
    feedback = (output / "feedback" / "alice.txt").read_text()
    assert feedback == feedback_text(alice, student="alice")
    assert "Autograded score: 5 / 5" in feedback
    assert "submission_hash" not in feedback  # the batch's bookkeeping stays private
    # A lone notebook is graded under the expected name: no "your notebook is named" note.
    assert "is named" not in feedback
    erin = (output / "feedback" / "erin.txt").read_text()
    assert "grader stopped unexpectedly" in erin
    assert not (output / ".work").exists()


def test_gradebook_can_be_rebuilt_from_results(first_batch, tmp_path: Path) -> None:
    _, output = _copy_batch(first_batch, tmp_path)
    expected = (output / "gradebook.csv").read_text()
    (output / "gradebook.csv").unlink()
    shutil.rmtree(output / "feedback")
    rebuild_gradebook(output)
    assert (output / "gradebook.csv").read_text() == expected
    assert sorted(p.stem for p in (output / "feedback").iterdir()) == sorted(
        first_batch["summary"].graded
    )


# --------------------------------------------------------------------------- resume


def test_resume_skips_unchanged_finished_submissions(first_batch, tmp_path: Path, lab) -> None:
    submissions, output = _copy_batch(first_batch, tmp_path)
    before = _mtimes(output / "results")
    summary = run_batch(
        submissions, output, autograder_source=lab["source"], jobs=2, kernel_factory=FAKE_FACTORY
    )
    assert summary.graded == ()
    assert sorted(summary.skipped) == sorted(first_batch["summary"].graded)
    assert _mtimes(output / "results") == before  # not one result rewritten
    last_run = (output / "batch.log").read_text().split("=== batch started")[-1]
    assert "SKIP    6 unchanged" in last_run


def test_resume_regrades_changed_and_unfinished_submissions(
    first_batch, tmp_path: Path, lab
) -> None:
    submissions, output = _copy_batch(first_batch, tmp_path)
    # bob resubmits, now right; the batch was killed before alice's result was written, in
    # the middle of writing it (its temporary file) and with a worker folder left behind.
    (submissions / "bob.ipynb").write_text(RIGHT)
    (output / "results" / "alice.json").unlink()
    (output / "results" / ".alice.json.12345.tmp").write_text('{"score": 99')
    (output / ".work" / "alice").mkdir(parents=True)
    (output / "gradebook.csv").unlink()
    before = _mtimes(output / "results")
    summary = run_batch(
        submissions, output, autograder_source=lab["source"], jobs=2, kernel_factory=FAKE_FACTORY
    )
    assert sorted(summary.graded) == ["alice", "bob"]
    assert sorted(summary.skipped) == ["carol", "dan", "erin", "gina"]
    after = _mtimes(output / "results")
    assert {k: after[k] for k in ("carol.json", "erin.json")} == {
        k: before[k] for k in ("carol.json", "erin.json")
    }
    rows = pd.read_csv(output / "gradebook.csv").set_index("submission")
    assert len(rows) == 6
    assert rows.loc["bob", "total"] == 5.0  # 3 + 2: the new notebook's score
    assert rows.loc["alice", "total"] == 5.0
    # The stray temporary file is no result: the gradebook has no row for it.
    assert ".alice" not in rows.index


_CLI = (
    "import argparse, sys\n"
    "from labtools.batch import add_batch_arguments, main_batch\n"
    "sys.exit(main_batch(add_batch_arguments(argparse.ArgumentParser()).parse_args()))"
)


def _processes_working_in(folder: Path) -> list[int]:
    """Processes whose working folder is under ``folder`` (workers work in output/.work)."""
    found = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        with contextlib.suppress(OSError):
            if os.readlink(cwd).startswith(str(folder)):
                found.append(int(cwd.parent.name))
    return found


def test_an_interrupted_batch_keeps_what_finished_and_resumes(tmp_path: Path, lab) -> None:
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "alice.ipynb").write_text(RIGHT)
    (submissions / "hank.ipynb").write_text(_notebook("HANG_THE_GRADER = 1"))
    output = tmp_path / "out"
    command = [sys.executable, "-c", _CLI, str(submissions), "-o", str(output), "-j", "2"]
    command += ["--autograder", str(lab["source"]), "--kernel-factory", FAKE_FACTORY]
    command += ["--no-progress"]
    batch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (output / "results" / "alice.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    batch.send_signal(signal.SIGTERM)  # hank's worker is still hanging
    out, err = batch.communicate(timeout=60)
    assert batch.returncode == 130, err.decode()
    assert "interrupted" in out.decode()
    assert sorted(p.name for p in (output / "results").iterdir()) == ["alice.json"]
    assert "STOPPED hank" in (output / "batch.log").read_text()
    assert _processes_working_in(output) == []  # no worker outlived the batch
    rows = pd.read_csv(output / "gradebook.csv")
    assert rows["submission"].tolist() == ["alice"]

    # Resumed: alice is not graded twice; hank now meets a 1-second time limit.
    summary = run_batch(
        submissions,
        output,
        autograder_source=lab["source"],
        jobs=2,
        timeout_s=1,
        kernel_factory=FAKE_FACTORY,
    )
    assert (summary.graded, summary.skipped, summary.problems) == (
        ("hank",),
        ("alice",),
        ("hank",),
    )
    hank = json.loads((output / "results" / "hank.json").read_text())
    assert hank["score"] == 0
    assert "time limit (1 s)" in hank["output"]
    assert hank["extra_data"]["batch"]["detail"] == "stopped after the time limit of 1 s"
    assert pd.read_csv(output / "gradebook.csv")["submission"].tolist() == ["alice", "hank"]


@pytest.mark.parametrize(
    ("meta", "regrade", "retry_problems", "expected"),
    [
        ({}, False, False, True),  # never graded
        ({"submission_hash": "s", "autograder_hash": "a", "status": "ok"}, False, False, False),
        ({"submission_hash": "x", "autograder_hash": "a", "status": "ok"}, False, False, True),
        ({"submission_hash": "s", "autograder_hash": "x", "status": "ok"}, False, False, True),
        ({"submission_hash": "s", "autograder_hash": "a", "status": "ok"}, True, False, True),
        ({"submission_hash": "s", "autograder_hash": "a", "status": "ok"}, False, True, False),
        (
            {"submission_hash": "s", "autograder_hash": "a", "status": "problem"},
            False,
            False,
            False,
        ),
        ({"submission_hash": "s", "autograder_hash": "a", "status": "problem"}, False, True, True),
    ],
)
def test_which_finished_results_are_graded_again(meta, regrade, retry_problems, expected):
    # The rule of the module docstring: same submission hash "s" and autograder hash "a".
    assert needs_grading(meta, "s", "a", regrade=regrade, retry_problems=retry_problems) is expected


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("argument", "value", "name"),
    [
        ("jobs", 0, "jobs"),
        ("jobs", 1.5, "jobs"),
        ("jobs", "2", "jobs"),
        ("jobs", True, "jobs"),
        ("timeout_s", 0, "timeout_s"),
        ("timeout_s", -1.0, "timeout_s"),
        ("timeout_s", math.nan, "timeout_s"),
        ("timeout_s", math.inf, "timeout_s"),
        ("timeout_s", "60", "timeout_s"),
        ("timeout_s", None, "timeout_s"),
        ("submissions", None, "submissions"),
        ("submissions", "{tmp}/missing-folder", "submissions"),
        ("output", None, "output"),
        ("output", "{tmp}/in/out", "output"),  # inside the submissions
        ("autograder_source", "{tmp}/no-such-autograder", "autograder_source"),
        ("kernel_factory", "no_colon_here", "kernel_factory"),
        ("kernel_factory", None, "kernel_factory"),
    ],
)
def test_run_batch_rejects_bad_arguments(tmp_path: Path, lab, argument, value, name) -> None:
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "jdoe.ipynb").write_text(RIGHT)
    arguments = {
        "submissions": submissions,
        "output": tmp_path / "out",
        "autograder_source": lab["source"],
        "jobs": 1,
        "timeout_s": 60.0,
    }
    is_path = isinstance(value, str) and value.startswith("{tmp}")
    arguments[argument] = Path(value.format(tmp=tmp_path)) if is_path else value
    positional = (arguments.pop("submissions"), arguments.pop("output"))
    with pytest.raises(ValueError, match=name):
        run_batch(*positional, **arguments)
    assert not (tmp_path / "out" / "results").exists()  # nothing was graded


def test_a_second_batch_on_the_same_output_is_refused(tmp_path: Path, lab) -> None:
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "jdoe.ipynb").write_text(RIGHT)
    output = tmp_path / "out"
    output.mkdir()
    with (output / ".batch.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BatchLockedError, match="another batch"):
            run_batch(submissions, output, autograder_source=lab["source"], jobs=1)


# --------------------------------------------------------------------------- CLI, progress


def test_cli_arguments_and_gradebook_only(first_batch, tmp_path: Path, capsys) -> None:
    _, output = _copy_batch(first_batch, tmp_path)
    parser = add_batch_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["subs", "-o", str(output), "-j", "3", "--timeout", "60"])
    assert (args.submissions, args.jobs, args.timeout) == (Path("subs"), 3, 60.0)
    (output / "gradebook.csv").unlink()
    assert main_batch(parser.parse_args(["-o", str(output), "--gradebook-only"])) == 0
    assert (output / "gradebook.csv").is_file()
    assert main_batch(parser.parse_args(["-o", str(output)])) == 2
    assert "submissions folder or zip is required" in capsys.readouterr().err
    bad = parser.parse_args([str(tmp_path), "-o", str(tmp_path / "x"), "-j", "0"])
    assert main_batch(bad) == 2
    assert "jobs must be in [1, inf), got 0" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_in_place_on_a_terminal_and_prints_lines_otherwise() -> None:
    terminal = _Terminal()
    bar = Progress(terminal, total=4, skipped=1)
    bar.update(1, 0, 2)
    bar.update(3, 1, 0, final=True)
    drawn = terminal.getvalue()
    assert drawn.startswith("\r[") and drawn.endswith("\n")
    assert "4/4 (3 graded, 1 unchanged, 1 problems, 0 running)" in drawn
    log = io.StringIO()
    bar = Progress(log, total=20, skipped=0)
    for done in range(21):
        bar.update(done, 0, 1)
    bar.update(20, 0, 0, final=True)
    lines = log.getvalue().splitlines()
    # One line per 10 % step (every 2 of 20), no carriage returns, no repeated last line.
    assert len(lines) == 11 and all(line.startswith("batch [") for line in lines)
    assert "\r" not in log.getvalue()


def test_feedback_text_shows_every_test_output_and_nothing_private() -> None:
    results = {
        "score": 1.5,
        "output": "Summary for the student.",
        "tests": [
            {"name": "Public Tests", "score": 0, "max_score": 0, "output": "1 of 2 passed"},
            {"name": "q1", "score": 1.5, "max_score": 2, "output": "q1: 1.5 / 2 points"},
        ],
        "extra_data": {"batch": {"submission_hash": "secret"}},
    }
    text = feedback_text(results, student="jdoe")
    assert text.splitlines()[:2] == [
        "Autograder feedback for jdoe",
        "Autograded score: 1.5 / 2 (written answers are graded separately)",
    ]
    assert "Summary for the student." in text and "1 of 2 passed" in text
    assert "q1: 1.5 / 2 points" in text and "secret" not in text


# --------------------------------------------------------------------------- real grading


@pytest.mark.slow
def test_real_notebooks_in_the_sandbox(tmp_path: Path, built) -> None:
    pytest.importorskip("labtools.grading.grading_kernel")
    from labtools.grading.notebook_format import with_track
    from labtools.paths import SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK
    from labtools.selfcheck.samples import sample_submissions
    from opsmodel.tracks import TRACKS

    result = built  # conftest's shared build (it leaves the committed notebooks alone)
    submissions = tmp_path / "in"
    submissions.mkdir()
    solution = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    edge = TRACKS["edge_guardian"].name
    nbformat.write(with_track(copy.deepcopy(solution), edge), submissions / "s1.ipynb")
    shutil.copyfile(STUDENT_NOTEBOOK, submissions / "blank.ipynb")
    # Reusing a graded name in a later cell costs nothing here either (as on Gradescope and in
    # nbgrader, whose tests grade the same sample).
    reuse = next(s for s in sample_submissions() if s.name == "reuse-names")
    nbformat.write(reuse.notebook, submissions / "reuse.ipynb")
    summary = run_batch(
        submissions, tmp_path / "out", autograder_source=result.autograder_source, jobs=2
    )
    config = json.loads((result.autograder_source / "ops_lab.json").read_text())
    rows = pd.read_csv(tmp_path / "out" / "gradebook.csv").set_index("submission")
    assert rows.loc["s1", "total"] == pytest.approx(sum(config["questions"].values()))
    assert rows.loc["s1", "status"] == "ok", rows.loc["s1", "detail"]
    assert rows.loc["reuse", "total"] == pytest.approx(rows.loc["s1", "total"])
    assert rows.loc["blank", "total"] < rows.loc["s1", "total"]
    assert summary.unfinished == ()


def test_batch_grades_each_student_on_their_own_variant(tmp_path: Path, built) -> None:
    """Per-student variants: a folder of notebooks named by roster id, as the self-check's
    sample class (s1003's own notebook; s1001's notebook handed in as s1002's)."""
    pytest.importorskip("labtools.grading.grading_kernel")
    from labtools.grading.variant_codes import read_course_secret
    from labtools.release.course_variants import autograder_with_variants
    from labtools.selfcheck.samples import SAMPLE_ROSTER, SAMPLE_SECRET, sample_submissions

    autograder_with_variants(
        built.autograder_source,
        SAMPLE_ROSTER,
        read_course_secret(SAMPLE_SECRET),
        tmp_path / "source.zip",
        codes_file=tmp_path / "codes.csv",
    )
    samples = {s.name: s for s in sample_submissions()}
    submissions = tmp_path / "in"
    submissions.mkdir()
    nbformat.write(samples["variant-edge_guardian"].notebook, submissions / "s1003.ipynb")
    nbformat.write(samples["copied-variant"].notebook, submissions / "s1002.ipynb")
    run_batch(submissions, tmp_path / "out", autograder_source=tmp_path / "source", jobs=2)
    rows = pd.read_csv(tmp_path / "out" / "gradebook.csv").set_index("submission")
    assert rows.loc["s1003", "total"] == 36, rows.loc["s1003", "detail"]
    copied = samples["copied-variant"].expected
    for question in ("q2c_canary_plan", "q2d_sprt_lines", "q4_crisis", "q5_ledger"):
        assert rows.loc["s1002", question] == copied.get(question, 0.0), question
    assert rows.loc["s1002", "total"] == sum(copied.values())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_late_result_never_brings_back_a_folder_the_batch_removed(tmp_path: Path) -> None:
    # A worker the batch gave up on may still be unwinding: its last writes must fail rather
    # than recreate the work folder the batch has already cleaned up.
    from labtools.files import write_atomic
    from labtools.grading.results import write_results

    gone = tmp_path / ".work" / "dan"
    with pytest.raises(FileNotFoundError):
        write_results({"score": 0}, gone / "results.json", make_parents=False)
    with pytest.raises(FileNotFoundError):
        write_atomic(gone / "report.json", "{}", make_parents=False)
    assert not (tmp_path / ".work").exists()
    write_results({"score": 0}, gone / "results.json")  # the default makes the folder
    assert (gone / "results.json").is_file()
