"""One build: every artefact of the assignment from the master notebook and the rubric.

Committed (checked fresh by a test): the student notebook ``assignment/ops_scale.ipynb``,
the solution notebook ``solutions/ops_scale.ipynb`` and the README's points table.
Everything else goes to ``dist/``:

- ``dist/student/`` and ``dist/ops_scale-student.zip``: what students download;
- ``dist/autograder/source/`` and ``dist/ops_scale-autograder.zip``: Gradescope's autograder;
- ``dist/solutions/ops_scale-executed.ipynb``: the solution run top to bottom, with plots;
- ``dist/grading/``: the TA guide, the Gradescope rubric text and the written-prompts PDF;
- ``dist/nbgrader/``: the nbgrader course (source notebook with nbgrader metadata, support
  package, ``nbgrader_config.py``).

Before the slow optional steps, the impostor audit (:mod:`labtools.release.impostor_audit`)
grades the built autograder on the untouched scaffold and on impostors of every graded function: the
build fails if any of them earns a point.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from labtools.grading.roster import ROSTER_FILE, load_roster
from labtools.grading.variant_codes import VARIANTS_FILE, CourseVariants, read_course_secret
from labtools.paths import (
    DIST,
    MASTER_SOURCE,
    NOTEBOOK_NAME,
    REPO,
    SOLUTION_NOTEBOOK,
    STUDENT_NOTEBOOK,
)
from labtools.release.autograder_zip import assemble_autograder_source, zip_folder
from labtools.release.course_options import load_course_options
from labtools.release.course_variants import (
    CODES_FILE,
    install_course_variants,
    roster_people,
)
from labtools.release.master import load_master
from labtools.release.nbgrader_course import build_course
from labtools.release.notebooks import read_normalised_text, write_normalised
from labtools.release.otter_assign import AssignOutput, run_otter_assign
from labtools.release.release_scan import scan_release, secret_lines
from labtools.release.student_files import write_student_files
from labtools.release.written_pdf import notebook_to_pdf
from labtools.rubric import (
    Rubric,
    load_rubric,
    render_gradescope_rubric,
    render_points_table,
    render_ta_guide,
)

if TYPE_CHECKING:
    from labtools.release.impostor_audit import AuditReport

__all__ = ["BuildResult", "build", "stale_generated_files", "README_TABLE_MARKERS"]

README = REPO / "README.md"
README_TABLE_MARKERS = ("<!-- points-table:start -->", "<!-- points-table:end -->")


@dataclass
class BuildResult:
    """Where the build put things, and how long the slow steps took."""

    dist: Path
    student_zip: Path
    autograder_zip: Path
    autograder_source: Path
    student_dir: Path
    solution_notebook: Path
    executed_solution: Path | None = None
    prompts_pdf: Path | None = None
    nbgrader_course: Path | None = None  # dist/nbgrader: the nbgrader course
    audit: AuditReport | None = None  # the impostor audit of the built autograder
    timings_s: dict[str, float] = field(default_factory=dict)


def _readme_with_table(readme_text: str, rubric: Rubric) -> str:
    start, end = README_TABLE_MARKERS
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(readme_text):
        raise ValueError(f"README.md lacks the markers {start} ... {end}")
    return pattern.sub(f"{start}\n{render_points_table(rubric)}\n{end}", readme_text)


def _student_release(assign: AssignOutput, dist: Path) -> tuple[Path, Path]:
    student = dist / "student"
    if student.exists():
        shutil.rmtree(student)
    shutil.copytree(assign.student, student, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    write_normalised(nbformat.read(assign.student_notebook, 4), student / NOTEBOOK_NAME)
    write_student_files(student)
    return student, zip_folder(student, dist / "ops_scale-student.zip")


def execute_solution(assign: AssignOutput, destination: Path, *, timeout_s: int = 300) -> float:
    """Run the solution notebook top to bottom (public and hidden checks included).

    Returns the wall time in seconds. The full reference is importable here, so
    ``grader.check`` runs the hidden cases too: a failing one raises.
    """
    from nbclient import NotebookClient

    workdir = destination.parent / "solution-run"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    shutil.copytree(assign.autograder / "tests", workdir / "tests")
    # otter.Notebook(...) in the first cell opens the notebook file by name.
    shutil.copy2(assign.solution_notebook, workdir / NOTEBOOK_NAME)
    nb = nbformat.read(assign.solution_notebook, 4)
    for cell in nb.cells:
        # The export cell asks JupyterLab to save; headless, there is no JupyterLab.
        if cell.cell_type == "code" and "ops_lab_submit" in cell.source:
            cell.source = "# The export cell runs in the student's JupyterLab only."
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout_s, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, destination)
    failures = [
        out.get("data", {}).get("text/plain", "")
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "failed" in str(out.get("data", {}).get("text/plain", "")).lower()
    ]
    if failures:
        raise RuntimeError(f"the solution fails its own checks:\n{failures[:3]}")
    return elapsed


def build(
    dist: Path = DIST,
    *,
    write_committed: bool = True,
    execute: bool = True,
    pdf: bool = True,
    roster: Path | None = None,
    audit: bool = True,
    variants: str | None = None,
    course_secret: Path | None = None,
) -> BuildResult:
    """Build every artefact; see the module docstring for where each goes.

    ``roster`` (a CSV of student -> track, :mod:`labtools.grading.roster`) binds tracks to
    students: it goes into the autograder and the nbgrader course. ``audit`` runs the
    impostor audit (:func:`labtools.release.impostor_audit.run_audit`, about half a
    minute), which raises :class:`~labtools.release.impostor_audit.AuditFailed` if anything
    earns points for nothing.

    ``variants`` (``"tracks"`` or ``"per-student"``) overrides ``assignment/course.toml``;
    per-student variants need ``roster`` and ``course_secret`` (a file holding the course
    secret): the secret goes to the graders and ``grading/variant-codes.csv`` lists each
    student's code (:mod:`labtools.release.course_variants`).
    """
    checked_roster = load_roster(roster) if roster is not None else None
    options = load_course_options(variants=variants)
    secret = None
    if options.per_student:
        if checked_roster is None or course_secret is None:
            raise ValueError(
                "per-student variants need --roster (who the students are) and "
                "--course-secret (the file holding the course secret)"
            )
        secret = read_course_secret(course_secret)
    timings: dict[str, float] = {}
    rubric = load_rubric()
    dist.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    assign = run_otter_assign(dist / ".work")
    timings["otter_assign"] = time.perf_counter() - t0

    student_dir, student_zip = _student_release(assign, dist)
    secrets = secret_lines(load_master(MASTER_SOURCE), assign.autograder / "tests")
    if secret is not None and checked_roster is not None:
        course = CourseVariants(secret)
        secrets["course secret"] = {secret.decode()}
        secrets["variant code"] = {
            course.code_for(p.student) for p in roster_people(checked_roster)
        }
    leaks = scan_release(student_zip, secrets)
    if leaks:
        shown = "\n".join(f"  {leak.kind} in {leak.file}: {leak.line}" for leak in leaks[:20])
        raise RuntimeError(f"the student release leaks {len(leaks)} secret lines:\n{shown}")
    solution = write_normalised(
        nbformat.read(assign.solution_notebook, 4), dist / "solutions" / NOTEBOOK_NAME
    )
    if write_committed:
        shutil.copy2(student_dir / NOTEBOOK_NAME, STUDENT_NOTEBOOK)
        SOLUTION_NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(solution, SOLUTION_NOTEBOOK)
        README.write_text(_readme_with_table(README.read_text(), rubric))

    source = assemble_autograder_source(
        dist / "autograder" / "source",
        otter_autograder=assign.autograder,
        rubric=rubric,
        release_notebook=student_dir / NOTEBOOK_NAME,
    )
    if checked_roster is not None:
        shutil.copy2(roster, source / ROSTER_FILE)
    grading = dist / "grading"
    grading.mkdir(parents=True, exist_ok=True)
    (grading / CODES_FILE).unlink(missing_ok=True)
    if secret is not None and checked_roster is not None:
        install_course_variants(
            secret, checked_roster, graders=[source], codes_file=grading / CODES_FILE
        )
    autograder_zip = zip_folder(source, dist / "ops_scale-autograder.zip")

    (grading / "ta-guide.md").write_text(render_ta_guide(rubric))
    (grading / "gradescope-rubric.txt").write_text(render_gradescope_rubric(rubric))

    result = BuildResult(
        dist, student_zip, autograder_zip, source, student_dir, solution, timings_s=timings
    )
    t0 = time.perf_counter()
    result.nbgrader_course = build_course(
        dist / "nbgrader", otter_tests=assign.autograder / "tests"
    ).course_dir
    # A roster or secret of an earlier build must not outlive this one's options.
    for earlier in (ROSTER_FILE, VARIANTS_FILE):
        (result.nbgrader_course / earlier).unlink(missing_ok=True)
    if checked_roster is not None:
        shutil.copy2(roster, result.nbgrader_course / ROSTER_FILE)
    if secret is not None and checked_roster is not None:
        install_course_variants(
            secret,
            checked_roster,
            graders=[result.nbgrader_course],
            codes_file=grading / CODES_FILE,
        )
    timings["nbgrader_course"] = time.perf_counter() - t0
    if audit:
        from labtools.release.impostor_audit import check_report, run_audit

        t0 = time.perf_counter()
        # With variants on, every track is audited on a student's variant too (the first
        # roster student's code: the hidden tests behave the same for every code).
        audited = (
            (CourseVariants(secret).code_for(roster_people(checked_roster)[0].student),)
            if secret is not None and checked_roster is not None
            else ()
        )
        result.audit = run_audit(
            source, solution, student_dir / NOTEBOOK_NAME, variant_codes=audited
        )
        timings["impostor_audit"] = time.perf_counter() - t0
        check_report(result.audit)
    if pdf:
        t0 = time.perf_counter()
        result.prompts_pdf = notebook_to_pdf(
            student_dir / NOTEBOOK_NAME,
            grading / "written-prompts.pdf",
            title="Operations at Scale: written questions",
        )
        timings["prompts_pdf"] = time.perf_counter() - t0
    if execute:
        executed = dist / "solutions" / "ops_scale-executed.ipynb"
        timings["execute_solution"] = execute_solution(assign, executed)
        result.executed_solution = executed
    return result


def stale_generated_files(dist: Path, *, build_result: BuildResult | None = None) -> list[str]:
    """Committed generated files that differ from a fresh build into ``dist``.

    Builds without touching the committed files, then compares normalised texts.
    ``build_result`` is such a build already made (``write_committed=False``): it is compared
    instead of building again.
    """
    result = build_result or build(
        dist, write_committed=False, execute=False, pdf=False, audit=False
    )
    stale = []
    pairs = [
        (STUDENT_NOTEBOOK, result.student_dir / NOTEBOOK_NAME),
        (SOLUTION_NOTEBOOK, result.solution_notebook),
    ]
    for committed, fresh in pairs:
        if not committed.exists() or read_normalised_text(committed) != read_normalised_text(fresh):
            stale.append(str(committed.relative_to(REPO)))
    if README.read_text() != _readme_with_table(README.read_text(), load_rubric()):
        stale.append("README.md (points table)")
    return stale
