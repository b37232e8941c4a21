"""The one grading loop: run the student's cells, keep each question's state, test it.

Both graders use it: the Gradescope and batch harness (:mod:`labtools.grading.harness`, Otter
notebooks) and nbgrader's sandboxed autograde step
(:mod:`labtools.nbgrader_course.execute`). Each plans the cells of its own notebook format
(:class:`PlannedCell`: the code to run, and the questions whose state is taken right after
it); this loop runs them, takes a snapshot of the notebook's globals at each question's
check (:func:`labtools.grading.kernel_calls.snapshot_code`), and runs every question's tests
against its own snapshot. A later cell that reuses a graded name (``psi = psi(a, b)``)
therefore neither costs nor earns that question anything. A question whose check the loop
never reached is graded on the final state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from otter.test_files.ok_test import OKTestFile

from labtools.grading.kernel_calls import snapshot_code
from labtools.grading.test_runner import (
    QUESTION_CALL_BUDGET_S,
    KernelSession,
    QuestionOutcome,
    final_values,
    install_helpers,
    names_used,
    run_question,
    student_namespace,
)

__all__ = ["GradedRun", "PlannedCell", "run_and_grade"]


@dataclass(frozen=True)
class PlannedCell:
    """One step of the loop.

    Attributes
    ----------
    index : int
        The cell's position in the submitted notebook (for messages and outputs).
    code : str
        What runs in the kernel; empty when the cell only marks a check.
    checkpoints : tuple of str
        Questions graded on the notebook as it stands right after this cell.
    """

    index: int
    code: str
    checkpoints: tuple[str, ...] = ()


@dataclass
class GradedRun:
    """What the loop found: each question's outcome and the notes for the student."""

    questions: list[QuestionOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    snapshots: tuple[str, ...] = ()  # the questions graded at their own check
    # For each fixed name a test read: the value the notebook had (first question reading it).
    replaced: dict[str, Any] = field(default_factory=dict)
    # The notebook's final values of the names the caller asked to observe.
    observed: dict[str, Any] = field(default_factory=dict)


#: Called after each planned cell with code: its result, or ``None`` when the notebook's
#: total time was used up and the cell was not run.
CellCallback = Callable[[PlannedCell, Any], None]

#: Names the tests get from the grader: a mapping, or a function of the notebook's final
#: values of the observed names that returns one (the variant of the submitter's track).
Fixed = Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]]


def run_and_grade(
    cells: Sequence[PlannedCell],
    test_files: Iterable[OKTestFile],
    kernel: KernelSession,
    *,
    deadline: float,
    on_cell: CellCallback | None = None,
    fixed: Fixed | None = None,
    observe: Sequence[str] = (),
    call_budget_s: float = QUESTION_CALL_BUDGET_S,
) -> GradedRun:
    """Run ``cells`` in ``kernel``, then grade every test file against its snapshot.

    Parameters
    ----------
    cells : sequence of PlannedCell
        The notebook's cells in the order they run.
    test_files : iterable of OKTestFile
        One per autograded question, in the order the questions are reported.
    kernel : KernelSession
        A started kernel (the sandbox, or a fake in unit tests).
    deadline : float
        ``time.monotonic()`` value after which no further cell runs.
    on_cell : callable, optional
        ``on_cell(cell, result)`` after each cell with code (see :data:`CellCallback`).
    fixed : mapping or callable, optional
        Names whose value the tests get from the grader, whatever the notebook says (the
        roster's ``TRACK``); what the notebook had is kept in :attr:`GradedRun.replaced`. A
        callable gets :attr:`GradedRun.observed` once the notebook has run and returns the
        mapping (:meth:`labtools.grading.track_binding.TrackBinding.bind`).
    observe : sequence of str, optional
        Names whose final values (plain data only) go into :attr:`GradedRun.observed`.
    call_budget_s : float, optional
        Seconds the student's functions may run within each question's tests (see
        :func:`labtools.grading.test_runner.student_namespace`).

    Returns
    -------
    GradedRun
        The outcomes in ``test_files`` order, and the notes, each said once.
    """
    snapped: set[str] = set()
    for cell in cells:
        if cell.code:
            if time.monotonic() > deadline:
                if on_cell is not None:
                    on_cell(cell, None)
                continue
            result = kernel.run_cell(cell.code)
            if on_cell is not None:
                on_cell(cell, result)
        for question in cell.checkpoints:
            taken = kernel.run_cell(snapshot_code(question))
            if getattr(taken, "status", "ok") == "ok":
                snapped.add(question)
    run = GradedRun(snapshots=tuple(sorted(snapped)))
    installed = install_helpers(kernel)
    if not installed:
        run.notes.append("The grader could not prepare your kernel after your notebook ran.")
    if installed and observe:
        run.observed = final_values(kernel, observe)
    fixed_names = fixed(run.observed) if callable(fixed) else (fixed or {})
    noted: set[str] = set()
    for test_file in test_files:
        namespace, notes = student_namespace(
            kernel,
            names_used([test_file]) if installed else set(),
            snapshot=test_file.name if test_file.name in snapped else None,
            question=test_file.name,
            noted=noted,
            call_budget_s=call_budget_s,
        )
        run.notes += notes
        for name, value in fixed_names.items():
            if name in names_used([test_file]):
                run.replaced.setdefault(name, namespace.get(name))
                namespace[name] = value
        run.questions.append(run_question(test_file, namespace))
    return run
