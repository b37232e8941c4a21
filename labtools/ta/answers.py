"""What a TA needs from one notebook, read statically: the written answers and the ledger.

Nothing here runs student code. Answers are cell text; the governance ledger's values are
read from the syntax tree of the notebook's top-level assignments (:func:`ast.literal_eval`
on each value, following plain names back to their last assignment). A value the student
computed (``canary_plan["hours"]``) is shown as its expression, never evaluated.

Two notebook forms carry the same answers:

Otter (Gradescope, a folder of notebooks)
    Each manually graded question sits between ``<!-- BEGIN QUESTION -->`` and
    ``<!-- END QUESTION -->`` markdown markers (see :mod:`labtools.release.written_pdf`); the
    answer is every cell in between except the prompt: the ``otter_answer_cell`` markdown
    cells, and for the ledger the ``ledger_justification = \"\"\"...\"\"\"`` code cell.
nbgrader (``submitted/``)
    The manually graded answer cell carries ``metadata.nbgrader.grade_id`` equal to the
    question's name (``r1_heterogeneity``, ``r2_sequential``, ``r3_ledger``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

import nbformat

from labtools.grading.notebook_format import BEGIN_MARK, END_MARK
from labtools.rubric import Rubric

__all__ = [
    "BLANK_TEXTS",
    "LEDGER_FIELDS",
    "WrittenAnswer",
    "LedgerField",
    "LedgerContext",
    "written_prompts",
    "extract_written_answers",
    "read_ledger",
]

#: What a written answer holds when the student left it as released: Otter's and nbgrader's
#: text stub, the code stub inside the justification string, nothing at all.
BLANK_TEXTS = frozenset({"", "...", "_Type your answer here, replacing this text._"})

#: The ledger fields shown to the TA, in the order the notebook defines them, with the
#: label the packet prints. ``skew_evidence`` and ``justification`` are left out: the first
#: is autograded (q3c), the second is the answer itself.
LEDGER_FIELDS: tuple[tuple[str, str], ...] = (
    ("track", "track"),
    ("policy", "policy"),
    ("break_even_models", "N* (break-even models)"),
    ("shadow_fraction", "shadow fraction"),
    ("shadow_requests", "shadow requests"),
    ("shadow_hours", "shadow hours"),
    ("release_feasible", "fits the release cycle"),
    ("sequential_strategy", "sequential strategy"),
)

# How many plain-name hops are followed (``"track": TRACK`` -> ``TRACK = "Cloud Titan"``).
_MAX_NAME_HOPS = 5


@dataclass(frozen=True)
class WrittenAnswer:
    """One student's answer to one written question.

    Attributes
    ----------
    question : str
        The rubric question's name.
    text : str
        The answer as the student wrote it (markdown source, or the justification string);
        code cells that are not a plain string are included as code, marked ``[code cell]``.
    blank : bool
        True when nothing was written (the released stub, or no answer cell at all).
    note : str
        What went wrong when reading it (cells missing, a string that is not a literal);
        empty normally.
    """

    question: str
    text: str
    blank: bool
    note: str = ""

    @property
    def words(self) -> int:
        """Number of words (the ledger's justification must have 60 to 200)."""
        return 0 if self.blank else len(self.text.split())


@dataclass(frozen=True)
class LedgerField:
    """One field of ``governance_ledger`` as the source states it.

    Attributes
    ----------
    name : str
        The dictionary key (``"break_even_models"``).
    source : str
        The expression the value comes from, after following plain names
        (``canary_plan["hours"]``, or ``37``); empty when the field is missing.
    value : object
        The literal value when ``literal`` is true, else None.
    literal : bool
        Whether ``source`` is a Python literal (a number, string, bool, None, ``...``).
    """

    name: str
    source: str
    value: object = None
    literal: bool = False

    @property
    def display(self) -> str:
        """The value for a person: the literal, or the expression marked as computed."""
        if not self.source:
            return "(missing)"
        if self.literal:
            if self.value is Ellipsis:
                return "... (not filled in)"
            return repr(self.value) if isinstance(self.value, str) else str(self.value)
        return f"computed in the notebook: {self.source}"


@dataclass(frozen=True)
class LedgerContext:
    """The student's ``governance_ledger``, read from the source without running it.

    Attributes
    ----------
    fields : tuple of LedgerField
        The fields of :data:`LEDGER_FIELDS`, in that order.
    note : str
        Why the ledger could not be read (no ``governance_ledger = {...}``), else empty.
    variant : str
        The notebook's ``VARIANT_CODE`` when it is a literal string (per-student variants),
        else empty.
    """

    fields: tuple[LedgerField, ...]
    note: str = ""
    variant: str = ""

    def get(self, name: str) -> LedgerField:
        """The field named ``name`` (a missing field has an empty source)."""
        for f in self.fields:
            if f.name == name:
                return f
        return LedgerField(name, "")

    @property
    def track(self) -> str:
        """The student's track when it is a literal, else an empty string."""
        f = self.get("track")
        return f.value if f.literal and isinstance(f.value, str) else ""


# --------------------------------------------------------------------------- prompts


def _blocks(nb: nbformat.NotebookNode) -> list[tuple[str, list[nbformat.NotebookNode]]]:
    """Otter's question blocks: (prompt cell source, the cells after it up to the END mark)."""
    blocks: list[tuple[str, list[nbformat.NotebookNode]]] = []
    inside = False
    for cell in nb.cells:
        source = cell.get("source", "")
        is_markdown = cell.get("cell_type") == "markdown"
        if is_markdown and END_MARK in source and inside:
            inside = False
            # The END cell is locked and holds the next section's text: never an answer.
            if BEGIN_MARK not in source:
                continue
        if is_markdown and BEGIN_MARK in source:
            blocks.append((_without_marks(source), []))
            inside = True
            continue
        if inside:
            blocks[-1][1].append(cell)
    return blocks


def _without_marks(source: str) -> str:
    return source.replace(BEGIN_MARK, "").replace(END_MARK, "").strip()


def written_prompts(student_notebook: nbformat.NotebookNode, rubric: Rubric) -> dict[str, str]:
    """Each written question's prompt, from the released student notebook (Otter form).

    Parameters
    ----------
    student_notebook : NotebookNode
        The notebook students received (``assignment/ops_scale.ipynb``).
    rubric : Rubric
        Its manual questions name the blocks, in notebook order.

    Returns
    -------
    dict
        Question name -> prompt markdown (markers removed).

    Raises
    ------
    ValueError
        If the notebook's marked blocks are not one per manual question of the rubric (the
        notebook and the rubric come from different builds).
    """
    manual = [q.name for q in rubric.questions if q.manual]
    blocks = _blocks(student_notebook)
    if len(blocks) != len(manual):
        raise ValueError(
            f"the student notebook has {len(blocks)} written-question blocks, the rubric "
            f"{len(manual)} manual questions ({', '.join(manual)}): rebuild the notebook"
        )
    return {name: prompt for name, (prompt, _) in zip(manual, blocks, strict=True)}


# --------------------------------------------------------------------------- answers


def _string_assignment(source: str) -> str | None:
    """The string of a cell that only assigns one string literal (the justification)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return None
    value = tree.body[0].value
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def _answer_from_cells(question: str, cells: Iterable[nbformat.NotebookNode]) -> WrittenAnswer:
    parts, note = [], ""
    for cell in cells:
        source = cell.get("source", "")
        if cell.get("cell_type") == "code":
            text = _string_assignment(source)
            if text is None:
                if source.strip():
                    parts.append("[code cell]\n" + source.strip())
                    note = "the answer cell is not a plain string assignment; shown as code"
                continue
            parts.append(text.strip())
        elif cell.get("cell_type") == "markdown":
            parts.append(source.strip())
    written = [p for p in parts if p not in BLANK_TEXTS]
    return WrittenAnswer(question, "\n\n".join(written), blank=not written, note=note)


def _nbgrader_answers(nb: nbformat.NotebookNode, names: list[str]) -> dict[str, WrittenAnswer]:
    found: dict[str, list[nbformat.NotebookNode]] = {n: [] for n in names}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in found:
            found[grade_id].append(cell)
    answers = {}
    for name, cells in found.items():
        answer = _answer_from_cells(name, cells)
        if not cells:
            answer = WrittenAnswer(name, "", True, "no answer cell with this grade id")
        answers[name] = answer
    return answers


def extract_written_answers(
    nb: nbformat.NotebookNode, rubric: Rubric, *, prompts: dict[str, str] | None = None
) -> dict[str, WrittenAnswer]:
    """Every written question's answer in a submitted notebook (Otter or nbgrader form).

    Parameters
    ----------
    nb : NotebookNode
        The submitted notebook.
    rubric : Rubric
        Its manual questions are the written ones.
    prompts : dict or None
        The released prompts (:func:`written_prompts`): an Otter block is matched to its
        question by its prompt, so a notebook whose blocks were reordered or lost one is
        still read right. Without them, blocks are matched by position.

    Returns
    -------
    dict
        Question name -> :class:`WrittenAnswer`, in rubric order; a question whose answer
        cannot be found is blank with a note saying why.

    Examples
    --------
    >>> import nbformat
    >>> from labtools.rubric import load_rubric
    >>> nb = nbformat.read("assignment/ops_scale.ipynb", as_version=4)  # doctest: +SKIP
    >>> extract_written_answers(nb, load_rubric())["r1_heterogeneity"].blank  # doctest: +SKIP
    True
    """
    names = [q.name for q in rubric.questions if q.manual]
    has_grade_ids = any(
        cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in names for cell in nb.cells
    )
    if has_grade_ids:
        return _nbgrader_answers(nb, names)
    blocks = _blocks(nb)
    by_question: dict[str, list[nbformat.NotebookNode]] = {}
    if prompts:
        wanted = {" ".join(p.split()): name for name, p in prompts.items()}
        for prompt, cells in blocks:
            name = wanted.get(" ".join(prompt.split()))
            if name is not None and name not in by_question:
                by_question[name] = cells
    if not by_question and len(blocks) == len(names):
        by_question = {name: cells for name, (_, cells) in zip(names, blocks, strict=True)}
    answers = {}
    for name in names:
        if name in by_question:
            answers[name] = _answer_from_cells(name, by_question[name])
        else:
            answers[name] = WrittenAnswer(
                name,
                "",
                True,
                f"the question's cells were not found ({len(blocks)} marked blocks in the "
                "notebook): open the notebook to check",
            )
    return answers


# --------------------------------------------------------------------------- the ledger


def _parse_cell(source: str) -> ast.Module | None:
    """The cell's syntax tree; IPython magics and shell lines are dropped first."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    kept = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(kept))
    except SyntaxError:
        return None


def _assigned(node: ast.stmt) -> list[tuple[str, ast.expr]]:
    if isinstance(node, ast.Assign):
        return [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target.id, node.value)]
    return []


def _resolve(expr: ast.expr, names: dict[str, ast.expr]) -> LedgerField:
    seen: set[str] = set()
    for _ in range(_MAX_NAME_HOPS):
        if not isinstance(expr, ast.Name) or expr.id in seen or expr.id not in names:
            break
        seen.add(expr.id)
        expr = names[expr.id]
    source = ast.unparse(expr)
    try:
        value = ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return LedgerField("", source)
    return LedgerField("", source, value, literal=True)


def read_ledger(nb: nbformat.NotebookNode) -> LedgerContext:
    """The student's ``governance_ledger`` fields, read from the source (never run).

    Parameters
    ----------
    nb : NotebookNode
        The submitted notebook (Otter or nbgrader form).

    Returns
    -------
    LedgerContext
        One :class:`LedgerField` per entry of :data:`LEDGER_FIELDS`.

    Notes
    -----
    The last top-level ``governance_ledger = {...}`` of the notebook is read; each value
    that is a plain name is replaced by that name's last top-level assignment *before* the
    ledger, as running the notebook top to bottom would bind it. Only literals are
    evaluated (:func:`ast.literal_eval`); anything else is reported as its expression.
    Code inside functions, loops or ``if`` blocks is not followed.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'TRACK = "Edge Guardian"\\nn = 37\\ngovernance_ledger = {"track": TRACK, '
    ...     '"break_even_models": n, "shadow_hours": plan["hours"]}')])
    >>> ledger = read_ledger(nb)
    >>> ledger.track, ledger.get("break_even_models").display
    ('Edge Guardian', '37')
    >>> ledger.get("shadow_hours").display
    "computed in the notebook: plan['hours']"
    """
    names: dict[str, ast.expr] = {}
    ledger: tuple[ast.Dict, dict[str, ast.expr]] | None = None
    not_a_dict = False
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tree = _parse_cell(cell.get("source", ""))
        if tree is None:
            continue
        for node in tree.body:
            for name, value in _assigned(node):
                if name == "governance_ledger":
                    if isinstance(value, ast.Dict):
                        ledger, not_a_dict = (value, dict(names)), False
                    else:
                        not_a_dict = True
                names[name] = value
    code = _resolve(names["VARIANT_CODE"], names) if "VARIANT_CODE" in names else None
    variant = (
        code.value if code is not None and code.literal and isinstance(code.value, str) else ""
    )
    if ledger is None or not_a_dict:
        why = (
            "governance_ledger is not a {...} literal"
            if not_a_dict
            else "no governance_ledger = {...} in the notebook"
        )
        track = _resolve(names["TRACK"], names) if "TRACK" in names else LedgerField("", "")
        fields = [LedgerField("track", track.source, track.value, track.literal)]
        fields += [LedgerField(key, "") for key, _ in LEDGER_FIELDS[1:]]
        return LedgerContext(tuple(fields), note=why, variant=variant)
    node, bound = ledger
    entries = {
        k.value: v
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }
    fields = []
    for key, _ in LEDGER_FIELDS:
        if key not in entries:
            fields.append(LedgerField(key, ""))
            continue
        found = _resolve(entries[key], bound)
        fields.append(LedgerField(key, found.source, found.value, found.literal))
    return LedgerContext(tuple(fields), variant=variant)
