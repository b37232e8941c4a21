"""The grading loop's decisions, fast: a real IPython shell in this process stands in for the
sandboxed kernel (the sandbox itself is tested in ``test_sandbox.py`` and, with the loop, by
the self-check and the adversarial corpus).

What is pinned: each question is graded on the notebook as it stood right after its own
check, so a later cell can neither take points away nor add them; a question whose check
never ran is graded on the final state; the student is told when a later cell rebinds a
graded name; notes are said once.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from in_process_kernel import InProcessKernel
from otter.test_files.ok_test import OKTestFile

from labtools.grading.grading_loop import PlannedCell, run_and_grade
from labtools.grading.harness import GradingConfig, plan_cells


def _test_file(tmp_path: Path, name: str, *cases: tuple[str, bool]) -> OKTestFile:
    body = {
        "name": name,
        "points": len(cases),
        "suites": [
            {
                "cases": [
                    {"code": f">>> {code}\n", "hidden": hidden, "locked": False, "points": 1}
                    for code, hidden in cases
                ],
                "scored": True,
                "setup": "",
                "teardown": "",
                "type": "doctest",
            }
        ],
    }
    path = tmp_path / f"{name}.py"
    path.write_text(f"OK_FORMAT = True\n\ntest = {body!r}\n")
    return OKTestFile.from_file(str(path))


def _grade(cells: list[PlannedCell], files: list[OKTestFile]):
    kernel = InProcessKernel()
    return run_and_grade(cells, files, kernel, deadline=time.monotonic() + 60), kernel


def test_a_later_cell_reusing_the_name_costs_nothing(tmp_path: Path) -> None:
    double = _test_file(tmp_path, "qa", ("assert double(2) == 4", False))
    uses = _test_file(tmp_path, "qb", ("assert quadruple(2) == 8", True))
    run, _ = _grade(
        [
            PlannedCell(0, "def double(x):\n    return 2 * x", ("qa",)),
            PlannedCell(1, "def quadruple(x):\n    return double(double(x))", ("qb",)),
            PlannedCell(2, "double = double(21)\nquadruple = None"),
        ],
        [double, uses],
    )
    assert [q.score for q in run.questions] == [1, 1]  # quadruple still finds the function
    assert run.snapshots == ("qa", "qb")
    assert any("`double` was graded for qa" in n and "`int`" in n for n in run.notes), run.notes


def test_a_later_cell_cannot_earn_what_the_check_did_not_see(tmp_path: Path) -> None:
    double = _test_file(tmp_path, "qa", ("assert double(2) == 4", True))
    run, _ = _grade(
        [
            PlannedCell(0, "def double(x):\n    return x + 1", ("qa",)),
            PlannedCell(1, "def double(x):\n    return 2 * x"),  # after the check
        ],
        [double],
    )
    assert run.questions[0].score == 0


def test_values_are_read_as_they_were_at_the_check(tmp_path: Path) -> None:
    answer = _test_file(tmp_path, "qa", ("assert answer == 42", False))
    run, _ = _grade(
        [PlannedCell(0, "answer = 42", ("qa",)), PlannedCell(1, "answer = 'changed'")],
        [answer],
    )
    assert run.questions[0].score == 1


def test_without_a_check_the_final_state_is_graded(tmp_path: Path) -> None:
    answer = _test_file(tmp_path, "qa", ("assert answer == 42", False))
    run, _ = _grade(
        [PlannedCell(0, "answer = 1"), PlannedCell(1, "answer = 42")],
        [answer],
    )
    assert run.snapshots == () and run.questions[0].score == 1


def test_a_missing_name_is_noted_once_at_its_first_question(tmp_path: Path) -> None:
    first = _test_file(tmp_path, "qa", ("assert missing == 1", False))
    second = _test_file(tmp_path, "qb", ("assert missing == 1", False))
    run, _ = _grade(
        [PlannedCell(0, "x = 1", ("qa",)), PlannedCell(1, "y = 2", ("qb",))], [first, second]
    )
    assert run.notes == ["`missing` is not defined in your notebook at the check of qa."]


def test_out_of_time_cells_are_reported_not_run(tmp_path: Path) -> None:
    answer = _test_file(tmp_path, "qa", ("assert answer == 42", False))
    seen: list[tuple[int, Any]] = []
    kernel = InProcessKernel()
    run_and_grade(
        [PlannedCell(0, "answer = 42", ("qa",))],
        [answer],
        kernel,
        deadline=time.monotonic() - 1,
        on_cell=lambda cell, result: seen.append((cell.index, result)),
    )
    assert seen == [(0, None)] and "answer = 42" not in kernel.ran


def _otter_notebook(*sources: str, ids: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(textwrap.dedent(source))
        cell["id"] = ids[i] if i < len(ids) else f"c{i}"
        nb.cells.append(cell)
    return nb


def _config(**answer_cells: tuple[str, ...]) -> GradingConfig:
    return GradingConfig(
        notebook_name="nb.ipynb",
        tests_dir=Path("unused"),
        support_dir=Path("unused"),
        questions={"qa": 1.0, "qb": 1.0},
        answer_cells=answer_cells,
    )


def test_plan_takes_each_state_at_its_check_cell() -> None:
    nb = _otter_notebook(
        'import otter\ngrader = otter.Notebook("nb.ipynb")',
        "a = 1",
        'grader.check("qa")',
        'b = 2\ngrader.check("qb")\nc = 3',
    )
    planned = plan_cells(nb, _config())
    assert [(c.index, c.code, c.checkpoints) for c in planned] == [
        (1, "a = 1", ()),
        (2, "", ("qa",)),
        (3, "b = 2\nc = 3", ("qb",)),
    ]


def test_plan_falls_back_to_the_answer_cells_of_a_deleted_check() -> None:
    nb = _otter_notebook("a = 1", "x = 0", "a = 2", ids=("answer-a", "other", "late"))
    planned = plan_cells(nb, _config(qa=("answer-a",)))
    assert planned[0].checkpoints == ("qa",)  # right after its answer cell, not at the end
    assert all(not c.checkpoints for c in planned[1:])


@pytest.mark.parametrize("label", ["q 1", "1q", "q;import os"])
def test_snapshot_labels_must_be_identifiers(label: str) -> None:
    from labtools.grading.kernel_calls import snapshot_code

    with pytest.raises(ValueError, match="label"):
        snapshot_code(label)
