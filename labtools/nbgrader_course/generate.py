"""The master notebook (Otter Assign format) -> the nbgrader source notebook.

Every cell of the master has one place in the nbgrader notebook:

===============================================  =============================================
master                                           nbgrader source notebook
===============================================  =============================================
``# ASSIGNMENT CONFIG``, question/test/solution  dropped (they are markup, not content)
boundaries (raw cells)
markdown outside a solution block                read-only cell (instructions)
code without solution markers                    read-only cell (setup, instruments, prints)
code with solution markers                       autograded answer cell (``solution``); in a
                                                 manual question, a manually graded answer
markdown between ``# BEGIN/END SOLUTION``        manually graded answer (written reflection)
test cell (one Otter case)                       locked test cell with the case's points;
                                                 hidden cases inside the hidden-tests markers
===============================================  =============================================

Solution markup is rewritten into nbgrader's: ``# BEGIN SOLUTION`` blocks stay as they are
(nbgrader looks for ``BEGIN SOLUTION`` anywhere in a line, so even a block inside a string
keeps the master's exact text), and a line ``name = value  # SOLUTION`` becomes
``name = (`` / the value in a solution region / ``)``, so that nbgrader, with the stub ``...``
(:data:`~labtools.nbgrader_course.cells.CODE_STUB`), releases ``name = (...)``: the same
program as Otter's ``name = ...``. :func:`check_against_otter` proves both halves of that
claim on every build: the released answer cells parse to the same syntax trees as Otter's
student notebook would, and the test cells turn back into Otter's own test files.
"""

from __future__ import annotations

import ast
import copy
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from otter.assign.blocks import BlockType, is_assignment_config_cell, is_block_boundary_cell
from otter.assign.solutions import (
    begin_solution_regex,
    replace_solutions,
    skip_suffixes,
    solution_assignment_regex,
    solution_line_regex,
)
from otter.assign.tests_manager import BEGIN_TEST_CONFIG_REGEX, END_TEST_CONFIG_REGEX

from labtools.grading.notebook_format import is_grader_boilerplate
from labtools.nbgrader_course.cells import (
    CODE_STUB,
    SOLUTION_BEGIN,
    SOLUTION_END,
    TEXT_STUB,
    CaseSpec,
    case_from_cell,
    case_grade_id,
    nbgrader_metadata,
    render_test_cell,
)
from labtools.rubric import Rubric

__all__ = [
    "MasterFormatError",
    "Question",
    "GeneratedNotebook",
    "nbgrader_solution_source",
    "generate_source_notebook",
    "check_against_otter",
    "released_view",
]


class MasterFormatError(ValueError):
    """The master uses markup this generator does not translate (it says which, and where)."""


@dataclass(frozen=True)
class Question:
    """One question of the master, as the nbgrader notebook carries it.

    Attributes
    ----------
    name : str
        Otter's question name (the rubric's too).
    points : float
        Its points in the master.
    manual : bool
        Graded by a person (one manually graded answer cell) or by tests.
    cases : tuple of CaseSpec
        Otter's test cases, in order (empty for a manual question).
    grade_ids : tuple of str
        The nbgrader grade cells that score it (one per case, or the one manual answer).
    """

    name: str
    points: float
    manual: bool
    cases: tuple[CaseSpec, ...] = ()
    grade_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratedNotebook:
    """The nbgrader source notebook and what it holds."""

    notebook: nbformat.NotebookNode
    questions: tuple[Question, ...]
    answer_ids: tuple[str, ...]  # autograded answer cells, in notebook order

    @property
    def auto_points(self) -> float:
        return sum(q.points for q in self.questions if not q.manual)

    @property
    def manual_points(self) -> float:
        return sum(q.points for q in self.questions if q.manual)


# The note a student reads on JupyterHub where the master speaks of Otter's check cells.
#: Marks a master cell meant for the Gradescope release only (the submission text).
GRADESCOPE_ONLY = "<!-- gradescope-only -->"

_PLATFORM_NOTE = (
    "**On JupyterHub (nbgrader).** This notebook has no `grader.check` cells: the locked test "
    "cell after each question is its check. Run it to see the public tests pass. A test cell "
    "that says *hidden* holds a test that runs only when your submission is graded, on your "
    "track's numbers and on fresh inputs. Do not delete or edit test cells (a deleted one is "
    "put back at grading time)."
)
_SUBMIT_NOTE = (
    "## Submission\n\nSave the notebook, then submit it from the *Assignments* tab of "
    "JupyterHub. Your written answers (the reflections and the ledger justification) are "
    "graded by your TAs in this same notebook."
)


def _source_lines(cell: nbformat.NotebookNode) -> list[str]:
    return cell.source.split("\n")


def _yaml_config(cell: nbformat.NotebookNode, where: str) -> dict:
    lines = _source_lines(cell)[1:]
    data = yaml.safe_load("\n".join(lines)) or {}
    if not isinstance(data, dict):
        raise MasterFormatError(f"{where}: the config must be a YAML mapping, got {data!r}")
    return data


def _parse_test_cell(source: str, where: str) -> CaseSpec:
    """Otter's test-cell rule: a ``TEST CONFIG`` docstring, then the test code."""
    lines = source.split("\n")
    if not re.match(BEGIN_TEST_CONFIG_REGEX, lines[0], flags=re.IGNORECASE):
        raise MasterFormatError(
            f"{where}: a test cell must open with a TEST CONFIG docstring (hidden, points, "
            f"failure_message); got {lines[0]!r}"
        )
    end = next(
        (i for i, line in enumerate(lines) if re.match(END_TEST_CONFIG_REGEX, line, flags=re.I)),
        None,
    )
    if end is None:
        raise MasterFormatError(f"{where}: TEST CONFIG is not closed")
    config = yaml.safe_load("\n".join(lines[1:end])) or {}
    unknown = set(config) - {"hidden", "points", "failure_message", "success_message"}
    if unknown:
        raise MasterFormatError(f"{where}: unknown TEST CONFIG keys {sorted(unknown)}")
    if not isinstance(config.get("points"), (int, float)) or isinstance(config["points"], bool):
        raise MasterFormatError(f"{where}: every case needs numeric points, got {config!r}")
    code = "\n".join(lines[end + 1 :]).strip("\n")
    if not code.strip():
        raise MasterFormatError(f"{where}: the test cell has no code")
    return CaseSpec(
        code=code,
        hidden=bool(config.get("hidden", False)),
        points=float(config["points"]),
        failure_message=config.get("failure_message"),
        success_message=config.get("success_message"),
    )


def _has_solution_markup(source: str) -> bool:
    return any(
        begin_solution_regex.match(line)
        or line.rstrip().endswith("# END SOLUTION")
        or solution_line_regex.match(line)
        for line in source.split("\n")
    )


def nbgrader_solution_source(source: str, *, where: str = "cell") -> str:
    """A master code cell's source with Otter's solution markup rewritten into nbgrader's.

    Parameters
    ----------
    source : str
        The master cell's code.
    where : str
        Where the cell is, for error messages.

    Returns
    -------
    str
        The source with nbgrader solution regions; with the comments removed, the same
        program as ``source``.

    Raises
    ------
    MasterFormatError
        For Otter markup with no nbgrader equivalent here (``# SOLUTION NO PROMPT``,
        ``# BEGIN PROMPT``, ``# SEED``, ``# BEGIN SOLUTION NO PROMPT``), a ``# SOLUTION``
        marker that does not end its line, or unbalanced blocks.

    Examples
    --------
    >>> print(nbgrader_solution_source("x = 40  # SOLUTION"))
    x = (
        # BEGIN SOLUTION
        40
        # END SOLUTION
    )
    """
    out: list[str] = []
    in_block = False
    for line in source.split("\n"):
        stripped = line.rstrip()
        if any(stripped.endswith(s) for s in skip_suffixes):
            raise MasterFormatError(f"{where}: unsupported Otter markup in {line!r}")
        begin = begin_solution_regex.match(line)
        if begin:
            if begin.group(2) or in_block:
                raise MasterFormatError(f"{where}: unsupported or nested BEGIN SOLUTION")
            in_block = True
            out.append(line)  # nbgrader finds "BEGIN SOLUTION" anywhere in a line
            continue
        if stripped.endswith("# END SOLUTION"):
            if not in_block:
                raise MasterFormatError(f"{where}: END SOLUTION without BEGIN SOLUTION")
            in_block = False
            out.append(line)
            continue
        if in_block or not solution_line_regex.match(line):
            out.append(line)
            continue
        if not re.search(r"#\s?SOLUTION$", stripped):
            raise MasterFormatError(f"{where}: '# SOLUTION' must end its line: {line!r}")
        indent = re.match(r"\s*", line).group(0)
        body = re.sub(r"\s*#\s?SOLUTION$", "", stripped)
        assignment = solution_assignment_regex.match(line)
        if assignment:
            target = assignment.group(1).rstrip()
            value = body[len(assignment.group(1)) :].strip()
            out += [
                f"{target} (",
                f"{indent}    {SOLUTION_BEGIN}",
                f"{indent}    {value}",
                f"{indent}    {SOLUTION_END}",
                f"{indent})",
            ]
        else:
            out += [indent + SOLUTION_BEGIN, body, indent + SOLUTION_END]
    if in_block:
        raise MasterFormatError(f"{where}: BEGIN SOLUTION is not closed")
    return "\n".join(out)


def _cell(
    cell_type: str, source: str, meta: dict, *, attachments: dict | None = None
) -> nbformat.NotebookNode:
    factory = {
        "markdown": nbformat.v4.new_markdown_cell,
        "code": nbformat.v4.new_code_cell,
    }[cell_type]
    new = factory(source)
    new.metadata = {"nbgrader": meta}
    if attachments:
        new.attachments = attachments
    return new


@dataclass
class _State:
    """Where the walk through the master is."""

    cells: list[nbformat.NotebookNode] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    answer_ids: list[str] = field(default_factory=list)
    question: dict | None = None
    in_tests: bool = False
    in_solution: bool = False
    cases: list[CaseSpec] = field(default_factory=list)
    manual_cells: list[str] = field(default_factory=list)
    readonly_count: int = 0
    used_ids: set[str] = field(default_factory=set)
    noted_platform: bool = False

    def new_id(self, wanted: str) -> str:
        grade_id, n = wanted, 1
        while grade_id in self.used_ids:
            n += 1
            grade_id = f"{wanted}{n}"
        self.used_ids.add(grade_id)
        return grade_id

    def readonly(self, cell_type: str, source: str, attachments: dict | None = None) -> None:
        self.readonly_count += 1
        prefix = self.question["name"] if self.question else "text"
        grade_id = self.new_id(f"{prefix}_readonly{self.readonly_count}")
        self.cells.append(
            _cell(
                cell_type, source, nbgrader_metadata(grade_id, locked=True), attachments=attachments
            )
        )


def _first_assigned_name(source: str) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "cell"
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id.lower()
        if isinstance(node, ast.FunctionDef):
            return node.name.lower()
    return "cell"


def _close_question(state: _State, where: str) -> None:
    q = state.question
    assert q is not None
    if q["manual"]:
        if len(state.manual_cells) != 1 or state.cases:
            raise MasterFormatError(
                f"{where}: manual question {q['name']} needs exactly one answer cell and no "
                f"tests, got {len(state.manual_cells)} answer cells"
            )
        grade_ids: tuple[str, ...] = tuple(state.manual_cells)
    else:
        if not state.cases:
            raise MasterFormatError(f"{where}: question {q['name']} has no test cases")
        total = sum(c.points for c in state.cases)
        if not math.isclose(total, q["points"]):
            raise MasterFormatError(
                f"{where}: the cases of {q['name']} add up to {total:g}, not {q['points']:g}"
            )
        grade_ids = tuple(case_grade_id(q["name"], k) for k in range(1, len(state.cases) + 1))
    state.questions.append(
        Question(q["name"], q["points"], q["manual"], tuple(state.cases), grade_ids)
    )
    state.question, state.cases, state.manual_cells = None, [], []


def _emit_tests(state: _State) -> None:
    q = state.question
    assert q is not None
    for k, case in enumerate(state.cases, start=1):
        grade_id = case_grade_id(q["name"], k)
        if grade_id in state.used_ids:
            raise MasterFormatError(f"grade id {grade_id} is used twice")
        state.used_ids.add(grade_id)
        source = render_test_cell(q["name"], k, len(state.cases), case)
        meta = nbgrader_metadata(grade_id, grade=True, locked=True, points=case.points)
        state.cells.append(_cell("code", source, meta))


def _raw_boundary(state: _State, cell: nbformat.NotebookNode, where: str) -> None:
    if is_assignment_config_cell(cell):
        return
    if is_block_boundary_cell(cell, BlockType.QUESTION):
        if state.question is not None:
            raise MasterFormatError(f"{where}: BEGIN QUESTION inside {state.question['name']}")
        config = _yaml_config(cell, where)
        name, manual = config.get("name"), bool(config.get("manual", False))
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise MasterFormatError(f"{where}: a question needs a name (an identifier)")
        if not isinstance(config.get("points"), (int, float)):
            raise MasterFormatError(f"{where}: question {name} needs numeric points")
        state.question = {"name": name, "points": float(config["points"]), "manual": manual}
        return
    if is_block_boundary_cell(cell, BlockType.QUESTION, end=True):
        if state.question is None or state.in_tests or state.in_solution:
            raise MasterFormatError(f"{where}: END QUESTION out of place")
        _close_question(state, where)
        return
    if is_block_boundary_cell(cell, BlockType.TESTS):
        if state.question is None or state.in_tests:
            raise MasterFormatError(f"{where}: BEGIN TESTS outside a question")
        state.in_tests = True
        return
    if is_block_boundary_cell(cell, BlockType.TESTS, end=True):
        if not state.in_tests:
            raise MasterFormatError(f"{where}: END TESTS without BEGIN TESTS")
        state.in_tests = False
        _emit_tests(state)
        return
    if is_block_boundary_cell(cell, BlockType.SOLUTION):
        if state.question is None or state.in_solution:
            raise MasterFormatError(f"{where}: BEGIN SOLUTION outside a question, or nested")
        state.in_solution = True
        return
    if is_block_boundary_cell(cell, BlockType.SOLUTION, end=True):
        if not state.in_solution:
            raise MasterFormatError(f"{where}: END SOLUTION without BEGIN SOLUTION")
        state.in_solution = False
        return
    raise MasterFormatError(f"{where}: unknown raw cell {cell.source[:60]!r}")


def _manual_answer(state: _State, cell_type: str, source: str, where: str) -> None:
    q = state.question
    assert q is not None
    grade_id = state.new_id(q["name"])
    meta = nbgrader_metadata(grade_id, grade=True, solution=True, points=q["points"])
    state.cells.append(_cell(cell_type, source, meta))
    state.manual_cells.append(grade_id)


def _walk(master: nbformat.NotebookNode) -> _State:
    state = _State()
    for index, cell in enumerate(master.cells):
        where = f"master cell {index}"
        if cell.cell_type == "raw":
            _raw_boundary(state, cell, where)
        elif state.in_tests:
            if cell.cell_type != "code":
                raise MasterFormatError(f"{where}: only code cells may sit between the TESTS")
            state.cases.append(_parse_test_cell(cell.source, where))
        elif GRADESCOPE_ONLY in cell.get("source", "") or (
            cell.cell_type == "code" and is_grader_boilerplate(cell.source)
        ):
            # Gradescope's submission step (the export cell and its text): nbgrader students
            # submit through nbgrader, whose own note ends the notebook.
            continue
        elif cell.cell_type == "markdown":
            if state.in_solution:
                _manual_answer(state, "markdown", cell.source, where)
            else:
                state.readonly("markdown", cell.source, cell.get("attachments"))
                if not state.noted_platform and "grader.check" in cell.source:
                    state.noted_platform = True
                    state.readonly("markdown", _PLATFORM_NOTE)
        elif cell.cell_type == "code":
            # A solution block's code cells are answer cells (Otter leaves them editable);
            # their inline solution markup says what the student writes.
            if not _has_solution_markup(cell.source):
                state.readonly("code", cell.source)
                continue
            source = nbgrader_solution_source(cell.source, where=where)
            if state.question is not None and state.question["manual"]:
                _manual_answer(state, "code", source, where)
                continue
            wanted = (
                f"{state.question['name']}_answer"
                if state.question
                else f"answer_{_first_assigned_name(cell.source)}"
            )
            grade_id = state.new_id(wanted)
            meta = nbgrader_metadata(grade_id, solution=True)
            state.cells.append(_cell("code", source, meta))
            state.answer_ids.append(grade_id)
        else:
            raise MasterFormatError(f"{where}: unknown cell type {cell.cell_type!r}")
    if state.question is not None or state.in_tests or state.in_solution:
        raise MasterFormatError("the master ends inside a question, tests or solution block")
    state.readonly("markdown", _SUBMIT_NOTE)
    return state


def _check_rubric(questions: Iterable[Question], rubric: Rubric) -> None:
    for q in questions:
        try:
            entry = rubric.question(q.name)
        except KeyError as exc:
            raise MasterFormatError(f"question {q.name} is not in the rubric") from exc
        if entry.manual != q.manual or not math.isclose(entry.points, q.points):
            raise MasterFormatError(
                f"question {q.name}: the master says {q.points:g} points "
                f"({'manual' if q.manual else 'auto'}), the rubric {entry.points:g} "
                f"({entry.graded_by})"
            )
    names = {q.name for q in questions}
    missing = [q.name for q in rubric.questions if q.name not in names]
    if missing:
        raise MasterFormatError(f"rubric questions missing from the master: {missing}")


def generate_source_notebook(
    master: nbformat.NotebookNode, *, rubric: Rubric | None = None
) -> GeneratedNotebook:
    """The nbgrader source notebook of ``master`` (see the module docstring).

    Parameters
    ----------
    master : NotebookNode
        The master notebook (:func:`labtools.release.master.load_master`).
    rubric : Rubric or None
        When given, every question's points and grader must agree with it.

    Returns
    -------
    GeneratedNotebook
        The notebook (valid nbformat, every cell with ``metadata.nbgrader``), its questions
        with their grade ids, and its autograded answer cells.

    Raises
    ------
    MasterFormatError
        On markup the generator does not translate, or a disagreement with the rubric.

    Notes
    -----
    Grade ids: ``<question>_case<k>`` for test cells, ``<question>_answer`` for autograded
    answers (``answer_<name>`` outside a question, e.g. ``answer_track``), the question's
    name for a manually graded answer, ``<question or text>_readonly<n>`` for read-only
    cells. A read-only note for JupyterHub follows the first cell that mentions
    ``grader.check``, and a submission note closes the notebook.
    """
    state = _walk(master)
    if rubric is not None:
        _check_rubric(state.questions, rubric)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": copy.deepcopy(
            master.metadata.get(
                "kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"}
            )
        ),
        "language_info": {"name": "python"},
    }
    nb.cells = state.cells
    nbformat.validate(nb)
    return GeneratedNotebook(nb, tuple(state.questions), tuple(state.answer_ids))


def released_view(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What ``nbgrader generate_assignment`` makes of the solution and hidden-test regions.

    It runs nbgrader's own :class:`ClearSolutions` (with this course's stubs) and
    :class:`ClearHiddenTests` on a copy, cell by cell.

    Parameters
    ----------
    nb : NotebookNode
        A notebook with nbgrader metadata (the generated source notebook).

    Returns
    -------
    NotebookNode
        The copy, as students would receive it (outputs and locks aside).
    """
    nb = copy.deepcopy(nb)
    clear = ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB)
    hide = ClearHiddenTests()
    resources = {"language": "python"}
    for index, cell in enumerate(nb.cells):
        clear.preprocess_cell(cell, resources, index)
        hide.preprocess_cell(cell, resources, index)
    return nb


def _tree(source: str) -> str:
    return ast.dump(ast.parse(source))


def check_against_otter(
    generated: GeneratedNotebook, master: nbformat.NotebookNode, otter_tests: Path
) -> list[str]:
    """Differences between the nbgrader notebook and what Otter Assign makes of the master.

    Checked: (1) every test cell, turned back into a doctest, gives exactly the cases of
    Otter's test file of its question (body, hidden, points, messages), and every test file
    has its question; (2) each answer cell, in the source and as nbgrader releases it, has
    the same syntax tree as the master cell and as Otter's student version of it (markers
    are comments, and ``x = (...)`` is ``x = ...``); (3) hidden cases leave no code in
    the release and public cases are released as they are.

    Parameters
    ----------
    generated : GeneratedNotebook
        The output of :func:`generate_source_notebook` for ``master``.
    master : NotebookNode
        The master notebook.
    otter_tests : Path
        Otter Assign's ``autograder/tests`` folder for the same master.

    Returns
    -------
    list of str
        Empty when the two agree.
    """
    from otter.test_files.ok_test import OKTestFile

    problems: list[str] = []
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in generated.notebook.cells}
    auto = {q.name: q for q in generated.questions if not q.manual}
    files = {p.stem: p for p in sorted(otter_tests.glob("*.py"))}
    for extra in sorted(set(files) - set(auto)):
        problems.append(f"Otter has tests for {extra}, the nbgrader notebook has none")
    for name, q in auto.items():
        if name not in files:
            problems.append(f"{name}: no Otter test file")
            continue
        otter_cases = OKTestFile.from_file(str(files[name])).test_cases
        ours = [
            case_from_cell(by_id[g].source, by_id[g].metadata["nbgrader"]["points"])
            for g in q.grade_ids
        ]
        if len(ours) != len(otter_cases):
            problems.append(f"{name}: {len(ours)} test cells, Otter has {len(otter_cases)} cases")
            continue
        for k, (mine, theirs) in enumerate(zip(ours, otter_cases, strict=True), start=1):
            for attr in ("hidden", "points", "failure_message", "success_message"):
                if getattr(mine, attr) != getattr(theirs, attr):
                    problems.append(
                        f"{name} case {k}: {attr} {getattr(mine, attr)!r} != Otter's "
                        f"{getattr(theirs, attr)!r}"
                    )
            if mine.code != theirs.body:
                problems.append(f"{name} case {k}: the doctest body differs from Otter's")
    released = {
        c.metadata["nbgrader"]["grade_id"]: c for c in released_view(generated.notebook).cells
    }
    master_code = [
        c.source for c in master.cells if c.cell_type == "code" and _has_solution_markup(c.source)
    ]
    answers = [
        g for g, c in by_id.items() if c.cell_type == "code" and c.metadata["nbgrader"]["solution"]
    ]
    if len(master_code) != len(answers):
        problems.append(f"{len(answers)} code answer cells, the master has {len(master_code)}")
    for grade_id, source in zip(answers, master_code, strict=False):
        if _tree(by_id[grade_id].source) != _tree(source):
            problems.append(f"{grade_id}: the solution differs from the master's")
        otter_student = "\n".join(replace_solutions(source.split("\n"), "python"))
        if _tree(released[grade_id].source) != _tree(otter_student):
            problems.append(f"{grade_id}: the released stub differs from Otter's student cell")
    for q in auto.values():
        for g, case in zip(q.grade_ids, q.cases, strict=True):
            left = ast.parse(released[g].source).body
            if case.hidden and left:
                problems.append(f"{g}: code of a hidden case survives the release")
            if not case.hidden and released[g].source != by_id[g].source:
                problems.append(f"{g}: a public case changes in the release")
    return problems
