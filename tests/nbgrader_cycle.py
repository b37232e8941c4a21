"""The nbgrader course every nbgrader test starts from, autograded once per run.

The self-check's samples (converted with ``submission_from_otter``), a hostile copy of the
partial one and the untouched release, submitted to a course built from the run's build,
with per-student variants on for the sample class, and graded by plain ``nbgrader
autograde``, one student after the other. ``tests/conftest.py`` makes it once per run
(``nbgrader_autograded``); each test module copies it before changing anything: the
instructor's cycle (``test_nbgrader_course.py``) goes on to manual grades, feedback and
export, and ``test_nbgrader_autograde.py`` grades the same students again two at a time.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat

ATTACKS = {
    # what a hostile submission tries -> the errors that show it could not
    "read_source": ("open({source!r}).read()", {"FileNotFoundError", "PermissionError"}),
    "list_course": ("import os\nos.listdir({course!r})", {"FileNotFoundError", "PermissionError"}),
    "write_db": (
        "import sqlite3\ncon = sqlite3.connect({db!r})\n"
        "con.execute('UPDATE grade SET manual_score = 99')\ncon.commit()",
        {"OperationalError"},
    ),
    "reference": ("import opsmodel.toil", {"ModuleNotFoundError", "ImportError"}),
    "endless_loop": ("while True:\n    pass", {"Timeout"}),
}
#: Per-cell timeout of the cycle's course: short, so the endless loop costs little; the
#: samples' slowest cell takes about half a second on an idle machine, a tenth of it, so
#: their scores do not depend on it, even on a loaded machine.
CYCLE_CELL_TIMEOUT_S = 5


#: Markdown with every way a written answer could run or load something in a browser.
HOSTILE_MARKDOWN = """Heterogeneity hurts: **O(N^2)** pairs.

<script>document.title = 'PWNED-script'</script>
<img src="https://evil.example/x.png" onerror="document.title = 'PWNED-img'">
<a href="javascript:document.title = 'PWNED-js'">click me</a>
<a href="data:text/html,<script>alert('PWNED-data')</script>">data link</a>
[markdown link](javascript:alert('PWNED-md'))
<svg onload="alert('PWNED-svg')"><circle r="5"/></svg>
<iframe src="https://evil.example/"></iframe>
<p style="background:url(https://evil.example/track.png)" onmouseover="alert('PWNED-hover')">
styled</p>
"""

#: What must not survive into a feedback page, in any form a browser would act on.
LIVE_PAYLOADS = (
    "<script>document.title",
    "onerror=",
    "onload=",
    "onmouseover=",
    'href="javascript:',
    'href="data:',
    "<svg",
    "<iframe",
    "evil.example",
)


def tamper(nb: nbformat.NotebookNode, course: Path) -> nbformat.NotebookNode:
    """A hostile copy: attack cells, a deleted, an emptied and a re-pointed test cell."""
    nb = copy.deepcopy(nb)
    paths = {
        "source": str(course / "source" / "ops_scale" / "ops_scale.ipynb"),
        "course": str(course),
        "db": str(course / "gradebook.db"),
    }
    at = next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_track"
    )
    for name, (code, _) in reversed(ATTACKS.items()):
        nb.cells.insert(
            at + 1, nbformat.v4.new_code_cell(f"# attack: {name}\n" + code.format(**paths))
        )
    nb.cells = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") != "q2a_zero_failure_case4"
    ]
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    by_id["q2b_shadow_hours_case2"].source = "pass"
    by_id["q3a_psi_case1"].metadata["nbgrader"]["points"] = 100
    # A written answer that would run script in whoever opens the feedback page.
    written = next(
        c
        for c in nb.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")
    )
    written.source = HOSTILE_MARKDOWN
    return nb


#: The variant samples graded by nbgrader too (one student's own variant, and a classmate's
#: notebook), under their roster ids; the other samples are graded under their names (not on
#: the roster: their notebook's own TRACK, no variant).
NBGRADER_VARIANT_SAMPLES = ("variant-edge_guardian", "copied-variant")


def nbgrader_samples() -> list[Any]:
    """The self-check's samples that the course grades."""
    from labtools.selfcheck.samples import sample_submissions

    return [s for s in sample_submissions() if not s.variants or s.name in NBGRADER_VARIANT_SAMPLES]


def student_id(sample: Any) -> str:
    """The nbgrader student id a sample is submitted under."""
    return sample.metadata["users"][0]["sid"] if sample.variants else sample.name


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def autograde_samples(course: Path, autograder_tests: Path) -> dict[str, Any]:
    """Build the course into ``course``, submit every student, autograde them serially.

    Returns
    -------
    dict
        ``course`` (the folder), ``students`` (ids in submission order), ``samples`` (sample
        name -> student id), ``source_hash`` (of the course's source notebook before
        grading) and ``times`` (seconds per step).
    """
    from labtools.grading.roster import ROSTER_FILE, load_roster
    from labtools.grading.variant_codes import read_course_secret
    from labtools.nbgrader_course.config import CourseSettings
    from labtools.nbgrader_course.course import run_nbgrader, submission_from_otter, submit
    from labtools.release.course_variants import install_course_variants
    from labtools.release.nbgrader_course import build_course
    from labtools.selfcheck.samples import SAMPLE_ROSTER, SAMPLE_SECRET

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    build_course(
        course,
        otter_tests=autograder_tests,
        settings=CourseSettings(cell_timeout_s=CYCLE_CELL_TIMEOUT_S),
    )
    times["build_course"] = time.perf_counter() - t0
    times["generate_assignment"] = run_nbgrader(course, "generate_assignment", "ops_scale")
    # Per-student variants on, with the self-check's sample class: its roster and secret.
    shutil.copy2(SAMPLE_ROSTER, course / ROSTER_FILE)
    install_course_variants(
        read_course_secret(SAMPLE_SECRET),
        load_roster(SAMPLE_ROSTER),
        graders=[course],
        codes_file=course.parent / "variant-codes.csv",
    )
    release = nbformat.read(course / "release" / "ops_scale" / "ops_scale.ipynb", as_version=4)
    samples = nbgrader_samples()
    for sample in samples:
        submit(course, student_id(sample), submission_from_otter(sample.notebook, release))
    partial = next(s for s in samples if s.name == "partial")
    submit(course, "tamperer", tamper(submission_from_otter(partial.notebook, release), course))
    submit(course, "untouched", release)
    source_hash = sha(course / "source" / "ops_scale" / "ops_scale.ipynb")
    times["autograde"] = run_nbgrader(course, "autograde", "ops_scale")
    return {
        "course": course,
        "students": [student_id(s) for s in samples] + ["tamperer", "untouched"],
        "samples": {s.name: student_id(s) for s in samples},
        "source_hash": source_hash,
        "times": times,
    }


def copy_course(graded: dict[str, Any], destination: Path) -> Path:
    """A copy of the autograded course to change (the shared one stays as graded)."""
    shutil.copytree(graded["course"], destination, symlinks=True)
    return destination
