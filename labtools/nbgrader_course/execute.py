"""nbgrader's autograde execution step, replaced: student code in the sandbox, tests on our side.

:class:`SandboxedExecute` takes the place of nbgrader's ``Execute`` in
``Autograde.autograde_preprocessors`` (the course's ``nbgrader_config.py`` names it). For one
submitted notebook it does what the Gradescope harness
(:func:`labtools.grading.harness.grade_submission`) does, with the same code:

1. read the test cells' sources and points from the **gradebook** (never from the submitted
   file) and turn each question's cells back into Otter's test file
   (:func:`~labtools.nbgrader_course.cells.test_file_from_cases`);
2. copy the notebook, hidden tests removed, with the student support package into a fresh job
   folder outside the course, and run its code cells one by one in the sandboxed kernel the
   Gradescope path uses; the course folder (``source/``, ``gradebook.db``, other students'
   submissions) is a hidden path of the sandbox;
3. run the cells and every question's cases through the one grading loop
   (:func:`labtools.grading.grading_loop.run_and_grade`): each question is graded on the
   notebook as it stood where its test cells are, with the student's functions as proxies
   into the kernel;
4. write into each test cell what the Gradescope results say of its case: a ``stdout`` line
   when it passed, an ``error`` output carrying only the case's message when it failed (the
   message of a hidden case is its authored failure message and the student-side reason,
   never the test's source or assert line). nbgrader's ``SaveAutoGrades`` then gives the cell
   its points or 0, so each question's nbgrader score is Otter's partial score.

Student cells get their own text outputs back (stdout, stderr, text results, errors), so the
feedback shows the student what their code printed and where it failed.
"""

from __future__ import annotations

import copy
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbgrader_utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer, List, Unicode

from labtools.files import import_callable
from labtools.grading.grading_kernel import GRADING_LIMITS
from labtools.grading.grading_loop import PlannedCell, run_and_grade
from labtools.grading.harness import GradingConfig
from labtools.grading.notebook_format import is_grader_boilerplate, without_grader_calls
from labtools.grading.roster import load_roster
from labtools.grading.test_runner import KernelSession, QuestionOutcome
from labtools.grading.track_binding import NOTEBOOK_NAMES, TrackBinding
from labtools.grading.variant_codes import load_course_variants
from labtools.nbgrader_course.cells import (
    CaseSpec,
    case_from_cell,
    case_grade_id,
    parse_case_grade_id,
    test_file_from_cases,
)
from labtools.sandbox import SandboxLimits

__all__ = [
    "SandboxNeedsRoot",
    "SandboxedExecute",
    "TestCellSpec",
    "load_test_cells",
    "needs_root_message",
    "resolve_factory",
]

KernelFactory = Callable[[Path, GradingConfig], AbstractContextManager[KernelSession]]

#: ``ename`` of the error output written into a failed test cell.
FAILED_CASE = "TestFailed"


class SandboxNeedsRoot(RuntimeError):
    """The sandbox could not start because this process is not root (the Formgrader's
    autograde button, or ``nbgrader autograde`` from an instructor's own account)."""


def needs_root_message() -> str:
    """Why autograding needs root here, and what to run instead."""
    user = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() != 0 else "root"
    return (
        "Autograding runs each student's code in the grading sandbox, as another, "
        "unprivileged Linux user in its own namespaces; starting it takes root, and this "
        f"process runs as {user!r} (uid {os.geteuid()}). The Formgrader's autograde button "
        "runs as the hub user, so it cannot start the sandbox. Autograde from a root shell on "
        "the grading host instead: `sudo .venv/bin/ops-lab nbgrader-autograde COURSE --jobs 2` "
        "(or `nbgrader autograde ops_scale` in the course folder); the Formgrader shows the "
        "scores afterwards."
    )


@dataclass(frozen=True)
class TestCellSpec:
    """A test cell as the gradebook stores it.

    Attributes
    ----------
    grade_id : str
        ``<question>_case<k>``.
    question : str
        The Otter question it belongs to.
    k : int >= 1
        Its case number within the question.
    case : CaseSpec
        The case, its code as Otter's doctest body, its points from the gradebook.
    """

    __test__: ClassVar[bool] = False  # not a pytest class, whatever its name

    grade_id: str
    question: str
    k: int
    case: CaseSpec


def load_test_cells(db_url: str, notebook_id: str, assignment_id: str) -> list[TestCellSpec]:
    """Every test cell of a notebook, from the gradebook, by question and case number.

    The gradebook holds what ``generate_assignment`` saved from the source notebook, so
    nothing a student does to the submitted file changes a test or its points.

    Parameters
    ----------
    db_url : str
        The gradebook's SQLAlchemy URL.
    notebook_id, assignment_id : str
        The notebook (file name without ``.ipynb``) and its assignment.

    Returns
    -------
    list of TestCellSpec
        Sorted by question, then case number.

    Raises
    ------
    RuntimeError
        If a question's case numbers are not 1..n (the gradebook does not hold what
        ``generate_assignment`` wrote from the generated source notebook).
    """
    specs: list[TestCellSpec] = []
    with Gradebook(db_url) as gb:
        notebook = gb.find_notebook(notebook_id, assignment_id)
        solutions = {c.name for c in notebook.solution_cells}
        for cell in notebook.grade_cells:
            parsed = parse_case_grade_id(cell.name)
            if cell.cell_type != "code" or cell.name in solutions or parsed is None:
                continue
            source = gb.find_source_cell(cell.name, notebook_id, assignment_id).source
            specs.append(
                TestCellSpec(
                    cell.name, parsed[0], parsed[1], case_from_cell(source, cell.max_score)
                )
            )
    specs.sort(key=lambda s: (s.question, s.k))
    by_question: dict[str, list[int]] = {}
    for s in specs:
        by_question.setdefault(s.question, []).append(s.k)
    for question, ks in by_question.items():
        if ks != list(range(1, len(ks) + 1)):
            raise RuntimeError(f"test cells of {question} in the gradebook are numbered {ks}")
    return specs


def resolve_factory(path: str, *, limits: SandboxLimits) -> KernelFactory:
    """The kernel factory named by ``"module:function"``, made with ``function(limits=...)``.

    The default, :func:`labtools.grading.grading_kernel.sandbox_kernel_factory`, is the
    Gradescope harness's own factory.

    Parameters
    ----------
    path : str
        ``"module:function"``.
    limits : SandboxLimits
        The sandbox limits to build the factory with (the course's timeouts).

    Returns
    -------
    callable
        ``(job folder, GradingConfig) -> context manager of a kernel session``.

    Raises
    ------
    ValueError
        If ``path`` is not of the form ``module:function``.
    """
    return import_callable(path, argument="kernel_factory")(limits=limits)


def _student_frames(traceback: str) -> str:
    """An IPython traceback with the library frames taken out.

    A frame starts with ``Cell In[n], line k`` (the student's own cells) or ``File <path>``
    (library code, in the grader's kernel environment, whose paths mean nothing to the
    student). The student's frames and the final error line stay.
    """
    kept: list[str] = []
    keep = True
    for line in traceback.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("Cell In["):
            keep = True
        elif stripped.startswith("File "):
            keep = False
        elif line and not line[0].isspace() and not stripped.startswith("-"):
            keep = True  # the exception's own line: "ZeroDivisionError: division by zero"
        if keep:
            kept.append(line)
    return "\n".join(kept)


def _cell_outputs(result: Any, timeout_s: float) -> list[NotebookNode]:
    new = nbformat.v4.new_output
    outputs = []
    if getattr(result, "stdout", ""):
        outputs.append(new("stream", name="stdout", text=result.stdout))
    if getattr(result, "stderr", ""):
        outputs.append(new("stream", name="stderr", text=result.stderr))
    for text in getattr(result, "outputs", ()) or ():
        outputs.append(new("display_data", data={"text/plain": text}))
    status = getattr(result, "status", "ok")
    if status == "ok":
        return outputs
    why = {
        "timeout": f"The cell did not finish within {timeout_s:g} s and was stopped "
        "(an endless loop?).",
        "dead": "The cell stopped the Python kernel (os._exit, a crash or too much memory); "
        "it was restarted.",
        "output_limit": "The cell printed too much output; the rest was dropped.",
    }.get(status)
    ename = getattr(result, "error_name", None) or status
    evalue = why or (getattr(result, "error_value", None) or "")
    trace = _student_frames(getattr(result, "traceback", "")) if status == "error" else ""
    outputs.append(
        new(
            "error",
            ename=ename,
            evalue=evalue,
            traceback=(trace or f"{ename}: {evalue}").splitlines(),
        )
    )
    return outputs


def _case_outputs(passed: bool, message: str) -> list[NotebookNode]:
    new = nbformat.v4.new_output
    if passed:
        return [new("stream", name="stdout", text=message + "\n")]
    first, _, _ = message.partition("\n")
    return [new("error", ename=FAILED_CASE, evalue=first, traceback=message.splitlines())]


def _student_view(nb: NotebookNode) -> NotebookNode:
    """The notebook as the student has it: no hidden-test region in any cell, no outputs.

    Every cell, not only the test cells: a submission that relabels a cell with a test's
    grade id gets the test's source restored into it by nbgrader, whatever its flags.
    """
    view = copy.deepcopy(nb)
    hide = ClearHiddenTests(enforce_metadata=False)
    for cell in view.cells:
        hide._remove_hidden_test_region(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return view


class SandboxedExecute(NbGraderPreprocessor):
    """Autograde step: student cells in the sandbox, test cells on the trusted side.

    Registered in ``Autograde.autograde_preprocessors`` in place of nbgrader's ``Execute``
    (see the module docstring for the steps). A failure of the grader itself (the sandbox
    cannot start, the gradebook lacks the notebook) raises, so nbgrader reports that
    submission as not autograded instead of recording zeros.
    """

    timeout = Integer(
        int(GRADING_LIMITS.cell_timeout_s),
        help="Per-cell timeout in seconds of a student cell in the sandboxed kernel. The "
        "default is the Gradescope autograder's; another value can change scores of slow cells.",
    ).tag(config=True)
    total_timeout = Integer(
        int(GRADING_LIMITS.total_timeout_s),
        help="Seconds all the student cells of one notebook may take; later cells are not run.",
    ).tag(config=True)
    kernel_factory = Unicode(
        "labtools.grading.grading_kernel:sandbox_kernel_factory",
        help="'module:function'; the function returns the kernel factory of the Gradescope "
        "harness, (job folder, GradingConfig) -> context manager of a sandboxed kernel.",
    ).tag(config=True)
    support_dir = Unicode(
        "",
        help="Folder whose files (not notebooks) go next to the notebook in the job folder; "
        "'{assignment_id}' is replaced. Normally the assignment's source folder.",
    ).tag(config=True)
    hidden_paths = List(
        Unicode(),
        help="Paths the sandboxed kernel must not see (the course folder at least); the "
        "gradebook file is always added.",
    ).tag(config=True)
    roster = Unicode(
        "",
        help="Optional roster CSV (columns student, track; labtools.grading.roster): the "
        "hidden tests use the track it gives the student id, whatever TRACK says.",
    ).tag(config=True)
    variants = Unicode(
        "",
        help="Optional variants file (variants.json, labtools.grading.variant_codes; needs "
        "the roster): the hidden tests use the student's own variant of their track.",
    ).tag(config=True)

    def _support_files(self, assignment_id: str) -> tuple[Path, list[Path]]:
        if not self.support_dir:
            return Path("."), []
        folder = Path(self.support_dir.format(assignment_id=assignment_id))
        if not folder.is_dir():
            raise RuntimeError(f"SandboxedExecute.support_dir {folder} is not a folder")
        files = [
            p
            for p in folder.iterdir()
            if p.suffix != ".ipynb" and p.name not in ("__pycache__", ".ipynb_checkpoints")
        ]
        return folder, files

    def _prepare_job(self, job: Path, view: NotebookNode, notebook_id: str, assignment: str):
        _, files = self._support_files(assignment)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
        for path in files:
            if path.is_dir():
                shutil.copytree(path, job / path.name, ignore=ignore)
            else:
                shutil.copy2(path, job / path.name)
        nbformat.write(view, job / f"{notebook_id}.ipynb")

    def _hidden(self, db_url: str) -> tuple[Path, ...]:
        hidden = [Path(p) for p in self.hidden_paths]
        if db_url.startswith("sqlite:///"):
            hidden.append(Path(db_url.removeprefix("sqlite:///")))
        return tuple(p for p in hidden if p.exists())

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, Any]:
        info = resources["nbgrader"]
        notebook_id, assignment = info["notebook"], info["assignment"]
        specs = load_test_cells(info["db_url"], notebook_id, assignment)
        # Cells holding a test's grade id never run in the kernel, whatever their flags say.
        ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]
        test_ids = {s.grade_id for s in specs}
        test_indices = {i for i, grade_id in enumerate(ids) if grade_id in test_ids}
        index_of = {
            grade_id: i
            for i, grade_id in enumerate(ids)
            if grade_id in test_ids and nbgrader_utils.is_grade(nb.cells[i])
        }
        missing = sorted(test_ids - set(index_of))
        if missing:  # nbgrader's add_missing_cells puts deleted ones back before this step
            self.log.warning("test cells missing from the submission: %s", missing)

        # Questions in the order their test cells appear (the harness uses notebook order).
        order: dict[str, int] = {}
        for s in specs:
            order[s.question] = min(order.get(s.question, 10**9), index_of.get(s.grade_id, 10**9))
        questions = sorted({s.question for s in specs}, key=lambda q: (order[q], q))
        test_files = [
            test_file_from_cases(q, [s.case for s in specs if s.question == q]) for q in questions
        ]
        config = GradingConfig(
            notebook_name=f"{notebook_id}.ipynb",
            tests_dir=Path(tempfile.gettempdir()) / "unused",  # the tests come from the gradebook
            support_dir=self._support_files(assignment)[0],
            questions={tf.name: float(sum(c.points for c in tf.test_cases)) for tf in test_files},
            hidden_paths=self._hidden(info["db_url"]),
            total_timeout_s=float(self.total_timeout),
        )
        binding = TrackBinding.for_submitter(
            load_roster(Path(self.roster)) if self.roster else None,
            load_course_variants(Path(self.variants)) if self.variants else None,
            [info["student"]],
        )
        limits = replace(
            GRADING_LIMITS,
            cell_timeout_s=float(self.timeout),
            total_timeout_s=float(self.total_timeout),
            display_images=True,  # the feedback shows the student's figures
        )
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="ops-nbgrader-") as tmp:
            job = Path(tmp) / "job"
            job.mkdir()
            view = _student_view(nb)
            self._prepare_job(job, view, notebook_id, assignment)
            with self._open_kernel(job, config, limits) as kernel:
                protections = getattr(kernel, "protections", None)
                self.log.info(
                    "sandbox for %s: %s",
                    info["student"],
                    protections.summary() if protections is not None else "unknown protections",
                )
                # As in the harness, the notebook's budget starts once the kernel is up.
                run = run_and_grade(
                    self._plan_cells(nb, view, test_indices, order),
                    test_files,
                    kernel,
                    deadline=time.monotonic() + self.total_timeout,
                    on_cell=self._cell_recorder(nb),
                    fixed=binding.fixed_names,
                    observe=NOTEBOOK_NAMES,
                )
                notes, outcomes = run.notes, run.questions
        for problem in binding.bind(run.observed).problems:
            self._note_track(nb, problem)
        for note in notes:
            self.log.info("%s: %s", info["student"], note)
        self._write_outcomes(nb, outcomes, index_of)
        self.log.info(
            "graded %s in %.1f s: %s",
            info["student"],
            time.monotonic() - start,
            {q.name: q.score for q in outcomes},
        )
        return nb, resources

    @contextmanager
    def _open_kernel(
        self, job: Path, config: GradingConfig, limits: SandboxLimits
    ) -> Iterator[KernelSession]:
        """The configured kernel factory's kernel; a start that fails without root says why."""
        with ExitStack() as stack:
            try:
                factory = resolve_factory(self.kernel_factory, limits=limits)
                kernel = stack.enter_context(factory(job, config))
            except Exception as exc:
                if os.geteuid() == 0:
                    raise
                raise SandboxNeedsRoot(
                    f"{needs_root_message()} ({type(exc).__name__}: {exc})"
                ) from exc
            yield kernel

    @staticmethod
    def _plan_cells(
        nb: NotebookNode, view: NotebookNode, test_indices: set[int], first_test: dict[str, int]
    ) -> list[PlannedCell]:
        """The student's code cells (their :func:`_student_view` source), in order, with each
        question's state taken where its first test cell is."""
        checks_at: dict[int, list[str]] = {}
        for question, index in first_test.items():
            checks_at.setdefault(index, []).append(question)
        cells = []
        for index, cell in enumerate(nb.cells):
            if index in checks_at:
                cells.append(PlannedCell(index, "", tuple(sorted(checks_at[index]))))
            if cell.cell_type != "code" or index in test_indices:
                continue
            cell.outputs, cell.execution_count = [], None
            source = without_grader_calls(view.cells[index].source)
            if not is_grader_boilerplate(source):
                cells.append(PlannedCell(index, source))
        return cells

    def _cell_recorder(self, nb: NotebookNode) -> Callable[[PlannedCell, Any], None]:
        """What the loop calls after each cell: the cell's outputs go back into ``nb``."""
        count = 0

        def record(planned: PlannedCell, result: Any) -> None:
            nonlocal count
            cell = nb.cells[planned.index]
            if result is None:
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename="NotRun",
                        evalue="The notebook took longer than the grader allows in total; "
                        "this cell was not run.",
                        traceback=[],
                    )
                ]
                return
            count += 1
            cell.execution_count = count
            cell.outputs = _cell_outputs(result, self.timeout)

        return record

    @staticmethod
    def _note_track(nb: NotebookNode, note: str | None) -> None:
        """Put a track or variant message under the cell that sets ``TRACK``, where it is fixed."""
        if not note:
            return
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.lstrip().startswith("TRACK"):
                cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
                return

    @staticmethod
    def _write_outcomes(
        nb: NotebookNode, outcomes: list[QuestionOutcome], index_of: dict[str, int]
    ) -> None:
        for outcome in outcomes:
            for case in outcome.cases:
                grade_id = case_grade_id(outcome.name, case.index + 1)
                if grade_id not in index_of:
                    continue
                cell = nb.cells[index_of[grade_id]]
                cell.outputs = _case_outputs(case.passed, case.message)
                cell.execution_count = None
