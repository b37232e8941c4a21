"""Grade one submission: the one harness behind Gradescope, batch grading and the self-check.

Steps, each on the trusted side except the student's cells:

1. find and read the notebook (:mod:`labtools.grading.submission`);
2. copy it with the student support package into a fresh job folder;
3. execute its code cells one by one in a sandboxed kernel (another user, no network,
   limits on time, memory, processes and output; the reference, the tests and the results
   folder invisible to it);
4. run the Otter test files here, with the student's functions as proxies into the kernel;
5. write ``results.json`` on every path, keeping every point earned.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from labtools.grading.grading_loop import PlannedCell, run_and_grade
from labtools.grading.notebook_format import (
    checked_questions,
    is_grader_boilerplate,
    without_grader_calls,
)
from labtools.grading.results import build_results, write_results
from labtools.grading.roster import ROSTER_FILE, Roster, load_roster
from labtools.grading.submission import SubmissionProblem, find_notebook
from labtools.grading.test_runner import (
    QUESTION_CALL_BUDGET_S,
    KernelSession,
    QuestionOutcome,
    load_test_files,
)
from labtools.grading.track_binding import NOTEBOOK_NAMES, TrackBinding
from labtools.grading.variant_codes import VARIANTS_FILE, CourseVariants, load_course_variants

__all__ = ["GradingConfig", "GradeReport", "grade_submission", "load_grading_config"]

log = logging.getLogger("labtools.grading")

#: Problems listed per submission at most (a notebook failing everywhere says so once).
MAX_LISTED_PROBLEMS = 12
#: Characters of one error message shown to the student.
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class GradingConfig:
    """What the grader needs to know of the assignment (``ops_lab.json`` in the zip)."""

    notebook_name: str
    tests_dir: Path
    support_dir: Path  # holds the student support package ``opsmodel/``
    questions: dict[str, float]  # autograded question -> points, in notebook order
    hidden_paths: tuple[Path, ...] = ()  # what the sandbox must not see
    total_timeout_s: float = 600.0
    # question -> ids of its answer cells in the release: where a submission lost the
    # question's check cell, its state is taken after the last of these.
    answer_cells: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The instructor's roster, if the autograder has one: identity -> track.
    roster: Roster | None = None
    # Per-student variants, if the instructor turned them on: the course secret.
    variants: CourseVariants | None = None
    # Seconds the student's functions may run within one question's tests (the grader's
    # own tests shorten it; ops_lab.json does not set it).
    question_call_budget_s: float = QUESTION_CALL_BUDGET_S


def load_grading_config(source_dir: Path, *, results_dir: Path | None = None) -> GradingConfig:
    """Read ``ops_lab.json`` of an autograder source folder."""
    data = json.loads((source_dir / "ops_lab.json").read_text())
    hidden = [source_dir]
    if results_dir is not None:
        hidden.append(results_dir)
    return GradingConfig(
        notebook_name=data["notebook_name"],
        tests_dir=source_dir / "tests",
        support_dir=source_dir / "files",
        questions={k: float(v) for k, v in data["questions"].items()},
        hidden_paths=tuple(hidden),
        answer_cells={q: tuple(ids) for q, ids in data.get("answer_cells", {}).items()},
        roster=load_roster(roster) if (roster := source_dir / ROSTER_FILE).exists() else None,
        variants=load_course_variants(source_dir / VARIANTS_FILE),
    )


@dataclass
class GradeReport:
    """The results and what happened, for logs and batch gradebooks."""

    results: dict[str, Any]
    questions: list[QuestionOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    protections: str = ""  # the sandbox layers in force, for the grader's log


KernelFactory = Callable[[Path, GradingConfig], AbstractContextManager[KernelSession]]


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def _cell_label(index: int, source: str) -> str:
    """How a student finds the cell: its position and its first line of code."""
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    first = first if len(first) <= 60 else first[:57] + "..."
    return f"Cell {index + 1} (`{first}`)"


def _cell_problem(where: str, result: Any) -> str | None:
    status = getattr(result, "status", "ok")
    if status == "ok":
        return None
    if status == "error":
        return f"{where} raised {result.error_name}: {_short(result.error_value or '')}"
    if status == "timeout":
        return f"{where} did not finish in time and was stopped (an endless loop?)."
    if status == "dead":
        return (
            f"{where} stopped the Python kernel (os._exit, a crash or too much memory); "
            "it was restarted."
        )
    if status == "output_limit":
        return f"{where} printed too much output; the rest was dropped."
    return f"{where}: {status}"


def _prepare_job(job: Path, nb: nbformat.NotebookNode, config: GradingConfig) -> None:
    shutil.copytree(config.support_dir / "opsmodel", job / "opsmodel")
    nbformat.write(nb, job / config.notebook_name)


def plan_cells(nb: nbformat.NotebookNode, config: GradingConfig) -> list[PlannedCell]:
    """The grading loop's steps for an Otter notebook.

    Every code cell runs without its Otter statements; each question's state is taken right
    after its ``grader.check(...)`` cell, or, where the student deleted that cell, right
    after the last of the question's answer cells that is still there.
    """
    cells: list[PlannedCell] = []
    checked: set[str] = set()
    last_answer: dict[str, int] = {}  # question -> position in ``cells`` of its answer cell
    answer_of = {cid: q for q, ids in config.answer_cells.items() for cid in ids}
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        code = without_grader_calls(cell.source)
        questions = tuple(
            q for q in checked_questions(cell.source) if q in config.questions and q not in checked
        )
        checked.update(questions)
        if is_grader_boilerplate(cell.source):
            code = ""
        if not code and not questions:
            continue
        if cell.get("id") in answer_of:
            last_answer[answer_of[cell["id"]]] = len(cells)
        cells.append(PlannedCell(index, code, questions))
    for question, position in last_answer.items():
        if question not in checked:
            cell = cells[position]
            cells[position] = PlannedCell(cell.index, cell.code, (*cell.checkpoints, question))
    return cells


def _run_notebook_and_tests(
    nb: nbformat.NotebookNode,
    config: GradingConfig,
    kernel_factory: KernelFactory,
    report: GradeReport,
    binding: TrackBinding,
) -> None:
    test_files = load_test_files(config.tests_dir, order=config.questions)
    with tempfile.TemporaryDirectory(prefix="ops-grade-") as tmp:
        # Searchable but not listable: on a host without a mount namespace the kernel reaches
        # its job folder through this one, under another uid.
        os.chmod(tmp, 0o711)
        job = Path(tmp) / "job"
        job.mkdir()
        _prepare_job(job, nb, config)
        with kernel_factory(job, config) as kernel:
            protections = getattr(kernel, "protections", None)
            report.protections = protections.summary() if protections is not None else "unknown"
            out_of_time = False

            def record(cell: PlannedCell, result: Any) -> None:
                nonlocal out_of_time
                if result is None:
                    if not out_of_time:
                        out_of_time = True
                        report.problems.append(
                            "Your notebook took longer than the grader allows in total; "
                            "later cells were not run."
                        )
                    return
                problem = _cell_problem(_cell_label(cell.index, cell.code), result)
                if problem:
                    report.problems.append(problem)

            run = run_and_grade(
                plan_cells(nb, config),
                test_files,
                kernel,
                deadline=time.monotonic() + config.total_timeout_s,
                on_cell=record,
                fixed=binding.fixed_names,
                observe=NOTEBOOK_NAMES,
                call_budget_s=config.question_call_budget_s,
            )
            report.notes += run.notes
            report.questions = run.questions
            report.problems[:0] = binding.bind(run.observed).problems


def grade_submission(
    submission_dir: Path,
    results_path: Path,
    config: GradingConfig,
    *,
    kernel_factory: KernelFactory,
    identities: Sequence[str] = (),
) -> GradeReport:
    """Grade ``submission_dir`` and write ``results_path``, whatever happens.

    Never raises for anything a submission does: every failure becomes a message in the
    results, and the points of what did run are kept. ``identities`` are the submitter's
    (emails, ids): with a roster in ``config``, the hidden tests use the roster's track, and
    with variants the submitter's own variant of it (:mod:`labtools.grading.track_binding`).
    """
    binding = TrackBinding.for_submitter(config.roster, config.variants, identities)
    start = time.monotonic()
    report = GradeReport(results={})
    # A provisional result first: if this process is killed (Gradescope's own timeout), the
    # student still reads why, instead of "the autograder failed to produce results".
    write_results(
        build_results(
            [],
            possible_by_question=config.questions,
            problems=["Grading did not finish: the grader was stopped before the end."],
        ),
        results_path,
    )
    try:
        found = find_notebook(submission_dir, config.notebook_name)
        if found.note:
            report.notes.append(found.note)
        unlisted = binding.unlisted_note()
        if unlisted:
            report.notes.append(unlisted)
        _run_notebook_and_tests(found.notebook, config, kernel_factory, report, binding)
    except SubmissionProblem as problem:
        report.problems.append(str(problem))
    except Exception:  # the grader's own failure: the student gets a plain message
        log.error("grader error on %s:\n%s", submission_dir, traceback.format_exc())
        report.problems.append(
            "The grader hit an internal error while grading this submission; your instructor "
            "has the details. Points earned before it are kept."
        )
    finally:
        problems = report.problems
        if len(problems) > MAX_LISTED_PROBLEMS:
            more = len(problems) - MAX_LISTED_PROBLEMS
            problems = [
                *problems[:MAX_LISTED_PROBLEMS],
                f"... and {more} more cells with problems.",
            ]
        report.results = build_results(
            report.questions,
            possible_by_question=config.questions,
            problems=problems,
            notes=report.notes,
        )
        # The provisional write made the folder: if it is gone now, its owner removed it
        # (a batch that gave up on this worker), and the result must not bring it back.
        write_results(report.results, results_path, make_parents=False)
        report.elapsed_s = time.monotonic() - start
    return report
