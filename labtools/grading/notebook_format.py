"""The lab's notebook format: the code graders run, Otter's markers, definitions by name.

One module for what every path knows about a notebook's cells: the answer cells of each
question, the grader and export calls a grader strips, the written-question markers of the
student notebook, and putting a definition in place of the notebook's own (a track, a
sample's answers).
"""

from __future__ import annotations

import ast
import copy

import nbformat

__all__ = [
    "BEGIN_MARK",
    "END_MARK",
    "replace_definitions",
    "with_track",
    "answer_cells_by_question",
    "checked_questions",
    "gradable_cells",
    "is_grader_boilerplate",
    "without_grader_calls",
]


# Otter Assign wraps each manually graded question of the student notebook in these markers.
BEGIN_MARK = "<!-- BEGIN QUESTION -->"
END_MARK = "<!-- END QUESTION -->"

#: Modules that only drive the student's JupyterLab: Otter, and the lab's export helper
#: (``ops_lab_submit``, shipped beside the notebook and absent from every grader).
_FRONTEND_MODULES = frozenset({"otter", "ops_lab_submit"})
#: Names whose method calls are frontend-only: Otter's ``grader`` and the export helper.
_FRONTEND_OBJECTS = frozenset({"grader", "ops_lab_submit"})


def _is_grader_statement(node: ast.stmt) -> bool:
    """``import otter``, ``grader = otter.Notebook(...)``, a ``grader.<method>(...)`` call, or
    the export helper's ``import ops_lab_submit`` and ``ops_lab_submit.export(grader)``."""
    if isinstance(node, ast.Import):
        return all(alias.name in _FRONTEND_MODULES for alias in node.names)
    if isinstance(node, ast.Assign):
        value = node.value
        return (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and isinstance(value.func.value, ast.Name)
            and value.func.value.id == "otter"
        )
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in _FRONTEND_OBJECTS
        )
    return False


def without_grader_calls(source: str) -> str:
    """``source`` without its top-level Otter statements (init, checks, export).

    They only drive Otter in the student's JupyterLab: the grader has its own copy of every
    test. Everything else in the cell is kept, line for line, so a student's code written
    after a ``grader.check(...)`` still runs. A cell that does not parse is returned as it
    is: the kernel reports its syntax error.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines()
    drop = set()
    for node in tree.body:
        if _is_grader_statement(node):
            drop.update(range(node.lineno - 1, node.end_lineno))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def _only_comments(code: str) -> bool:
    return all(ln.strip().startswith("#") for ln in code.splitlines() if ln.strip())


def is_grader_boilerplate(source: str) -> bool:
    """Whether a code cell holds nothing but Otter statements (and comments)."""
    return _only_comments(without_grader_calls(source))


def gradable_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, code) of every code cell the grader executes, in notebook order."""
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        code = without_grader_calls(cell.source)
        if not _only_comments(code):
            cells.append((i, code))
    return cells


def checked_questions(source: str) -> list[str]:
    """The questions a cell checks: the names in its top-level ``grader.check("...")`` calls."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "check"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "grader"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            names.append(call.args[0].value)
    return names


#: Tags Otter Assign gives the cells a student answers in.
ANSWER_CELL_TAGS = frozenset({"otter_assign_solution_cell", "otter_answer_cell"})


def answer_cells_by_question(release: nbformat.NotebookNode) -> dict[str, list[str]]:
    """Cell ids of each autograded question's answer cells in the released notebook.

    A question's answer cells are the tagged cells since the previous check cell. The grader
    uses them where a submission lost a question's check cell: the question is then graded
    on the notebook as it stood right after its last answer cell.
    """
    found: dict[str, list[str]] = {}
    pending: list[str] = []
    for cell in release.cells:
        if cell.get("cell_type") != "code":
            continue  # written answers are graded by hand, not at a check
        if ANSWER_CELL_TAGS & set(cell.get("metadata", {}).get("tags", [])) and cell.get("id"):
            pending.append(cell["id"])
        else:
            questions = checked_questions(cell.get("source", ""))
            for question in questions:
                found[question] = list(pending)
            if questions:
                pending = []
    return found


def _top_level_definitions(source: str) -> dict[str, ast.stmt]:
    """Top-level statements of ``source`` by the name they bind (def or simple assignment)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def replace_definitions(nb: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    """Put each top-level definition of ``code`` in place of the notebook's own.

    Raises
    ------
    KeyError
        If the notebook defines no such name (the sample is stale).
    """
    nb = copy.deepcopy(nb)
    lines = code.splitlines()
    for name, node in _top_level_definitions(code).items():
        start = node.lineno - 1 - len(getattr(node, "decorator_list", []))
        snippet = "\n".join(lines[start : node.end_lineno])
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            target = _top_level_definitions(cell.source).get(name)
            if target is None:
                continue
            cell_lines = cell.source.splitlines()
            cell_lines[target.lineno - 1 : target.end_lineno] = snippet.splitlines()
            cell.source = "\n".join(cell_lines)
            break
        else:
            raise KeyError(f"the notebook does not define {name!r}")
    return nb


def with_track(nb: nbformat.NotebookNode, track: str) -> nbformat.NotebookNode:
    """The notebook with ``TRACK`` set to ``track``."""
    return replace_definitions(nb, f"TRACK = {track!r}\n")
