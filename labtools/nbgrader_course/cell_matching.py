"""A student's notebook, in Otter's (Gradescope) or nbgrader's format, matched onto the release.

Students add cells, delete them and move them; the nbgrader course grades a notebook whose
cells are the release's, in the release's order, each with its ``metadata.nbgrader``. This
module builds that notebook from whatever the student handed in, and says what it did.

Each cell of the student's notebook finds its place in this order:

1. its nbgrader ``grade_id``, when it carries one of the release's (a notebook from the hub);
2. Otter's own cells: a ``grader.check("q")`` cell marks where question ``q``'s test cells
   are; Otter's set-up and export cells are dropped (nbgrader needs neither);
3. a read-only cell of the release with the same text (comments of HTML aside, whitespace
   folded): it marks a place;
4. an answer cell of the release whose names it binds (``def psi``, ``TRACK = ...``): it
   fills that answer, wherever the student moved it; a cell that answers several questions
   fills the first and stands for the others;
5. by position: a cell right after a place, where the release has an answer cell of the same
   type still empty (a written answer after its prompt, an answer whose names were renamed);
   written answers Otter tagged and nothing else placed fill the written answers left, in
   order.

Every other cell is the student's own (a scratch cell, a helper, an edited copy of a
read-only cell): it is kept, unlocked and without nbgrader metadata, right after the place
that precedes it in the student's notebook, so that it runs where the student ran it
relative to the answers and checks around it. Nothing the student wrote is dropped except
Otter's own statements. A read-only cell the student deleted is put back, and one the student
edited is put back with the student's version kept after it.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import nbformat
from nbformat.notebooknode import NotebookNode

from labtools.grading.notebook_format import (
    ANSWER_CELL_TAGS,
    checked_questions,
    is_grader_boilerplate,
    without_grader_calls,
)
from labtools.nbgrader_course.cells import parse_case_grade_id
from labtools.nbgrader_course.generate import GRADESCOPE_ONLY

__all__ = [
    "MatchedSubmission",
    "MatchReport",
    "NotThisAssignment",
    "match_submission",
    "submission_from_otter",
]

#: Below this share of the release's read-only cells found in a notebook, it is another
#: assignment's (or another build's) and is refused rather than guessed at.
MIN_READONLY_SHARE = 0.5

#: The place of a cell left out (Otter's own): it marks no place.
_DROPPED = -2
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DEF_LINE = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.M)
_ASSIGN_LINE = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.M)


class NotThisAssignment(ValueError):
    """The notebook shares too little with the release to be a submission of it."""


@dataclass(frozen=True)
class MatchReport:
    """What :func:`match_submission` did with each cell, for the instructor.

    Attributes
    ----------
    by_id, by_names, by_position : tuple of str
        Answer cells (grade ids) filled from the student's cell with the same nbgrader id,
        with the same bound names, or by position.
    moved : tuple of str
        Answer cells whose student cell was out of the release's order (filled anyway).
    covered : tuple of (str, str)
        ``(answer, by)``: an answer cell emptied because the student's cell filling ``by``
        also defines all its names (a merged cell).
    unanswered : tuple of str
        Answer cells no student cell filled: left as released.
    extra_cells : tuple of str
        The first line of each of the student's own cells, kept.
    edited_readonly : tuple of str
        Read-only cells (grade ids) the student changed: the release's text is back, the
        student's version follows it as an extra cell.
    restored_readonly : tuple of str
        Read-only code cells the student deleted, put back.
    dropped_otter_cells : int
        Otter's own cells left out: set-up, export, Gradescope's submission text, an
        unchanged answer placeholder followed by the answer.
    readonly_found : tuple of int
        ``(found, total)`` read-only cells of the release found in the notebook.
    """

    by_id: tuple[str, ...] = ()
    by_names: tuple[str, ...] = ()
    by_position: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    covered: tuple[tuple[str, str], ...] = ()
    unanswered: tuple[str, ...] = ()
    extra_cells: tuple[str, ...] = ()
    edited_readonly: tuple[str, ...] = ()
    restored_readonly: tuple[str, ...] = ()
    dropped_otter_cells: int = 0
    readonly_found: tuple[int, int] = (0, 0)

    def lines(self) -> list[str]:
        """The report as short lines (only what happened)."""
        out = []
        filled = len(self.by_id) + len(self.by_names) + len(self.by_position)
        out.append(
            f"answers filled: {filled} (by nbgrader id {len(self.by_id)}, by names "
            f"{len(self.by_names)}, by position {len(self.by_position)})"
        )
        found, total = self.readonly_found
        out.append(f"read-only cells found: {found} of {total}")
        named = [
            ("moved answer cells (placed back in order)", self.moved),
            ("answers left as released", self.unanswered),
            ("read-only cells edited (release text restored, student's version kept after)",
             self.edited_readonly),
            ("read-only cells deleted (restored)", self.restored_readonly),
        ]  # fmt: skip
        for title, items in named:
            if items:
                out.append(f"{title}: {', '.join(items)}")
        for answer, by in self.covered:
            out.append(f"{answer}: answered in the student's cell of {by} (merged cells)")
        if self.extra_cells:
            out.append(f"student's own cells kept: {len(self.extra_cells)}")
            out += [f"  + {first}" for first in self.extra_cells]
        if self.dropped_otter_cells:
            out.append(f"Otter's own cells left out: {self.dropped_otter_cells}")
        return out


@dataclass(frozen=True)
class MatchedSubmission:
    """The submission in the course's format, and how it was made."""

    notebook: NotebookNode
    report: MatchReport


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _normalized(source: str) -> str:
    return " ".join(_HTML_COMMENT.sub("", source).split())


def _bound_names(source: str) -> set[tuple[str, str]]:
    """``(kind, name)`` of what a cell binds at top level: ``def`` for functions and classes,
    ``value`` for assignments. A cell that does not parse is read line by line."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {("def", n) for n in _DEF_LINE.findall(source)} | {
            ("value", n) for n in _ASSIGN_LINE.findall(source)
        }
    names: set[tuple[str, str]] = set()
    pending = list(tree.body)
    while pending:  # module-level statements, inside if/for/while/with/try blocks too
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(("def", node.name))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(("value", n.id) for n in ast.walk(target) if isinstance(n, ast.Name))
        else:
            for name in ("body", "orelse", "finalbody", "handlers"):
                pending += [n for n in getattr(node, name, []) if isinstance(n, ast.AST)]
    return names


def _answer_names(source: str) -> set[tuple[str, str]]:
    """An answer cell's names: what it binds, and a bare name it shows (``crisis_answer``,
    which the student's cell binds)."""
    names = _bound_names(source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return names
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Name):
            names.add(("value", node.value.id))
    return names


@dataclass
class _Release:
    """The release's cells, classified once."""

    cells: list[NotebookNode]
    index_of_id: dict[str, int] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)  # solution cells (code or written)
    readonly: list[int] = field(default_factory=list)
    tests_of: dict[str, list[int]] = field(default_factory=dict)
    names_of: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    text_of: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def read(cls, release: NotebookNode) -> _Release:
        self = cls(list(release.cells))
        for i, cell in enumerate(self.cells):
            meta = _meta(cell)
            grade_id = meta.get("grade_id")
            if grade_id:
                self.index_of_id.setdefault(grade_id, i)
            if meta.get("solution"):
                self.answers.append(i)
                if cell.cell_type == "code":
                    self.names_of[i] = _answer_names(cell.source)
            elif meta.get("grade") and cell.cell_type == "code":
                parsed = parse_case_grade_id(grade_id or "")
                if parsed:
                    self.tests_of.setdefault(parsed[0], []).append(i)
            else:
                self.readonly.append(i)
                key = (cell.cell_type, _normalized(cell.source))
                self.text_of.setdefault(key, []).append(i)
        return self


@dataclass
class _Walk:
    """Where each student cell went."""

    place: dict[int, int] = field(default_factory=dict)  # student index -> release index
    filled: dict[int, int] = field(default_factory=dict)  # release answer -> student index
    how: dict[int, str] = field(default_factory=dict)  # release answer -> id/names/position
    covered: dict[int, int] = field(default_factory=dict)  # release answer -> release answer
    readonly_seen: set[int] = field(default_factory=set)
    dropped: int = 0
    extra_source: dict[int, str] = field(default_factory=dict)  # student index -> its code


def _by_id(student: list[NotebookNode], rel: _Release, walk: _Walk) -> None:
    for s, cell in enumerate(student):
        grade_id = _meta(cell).get("grade_id")
        r = rel.index_of_id.get(grade_id) if grade_id else None
        if r is None or r in walk.place.values() or rel.cells[r].cell_type != cell.cell_type:
            continue
        walk.place[s] = r
        if r in rel.answers:
            walk.filled[r], walk.how[r] = s, "id"
        elif r in rel.readonly and _normalized(cell.source) == _normalized(rel.cells[r].source):
            walk.readonly_seen.add(r)


def _otter_cells(student: list[NotebookNode], rel: _Release, walk: _Walk) -> None:
    for s, cell in enumerate(student):
        if s in walk.place or _meta(cell):
            continue
        if GRADESCOPE_ONLY in cell.source:  # Gradescope's submission step, as the release
            walk.dropped += 1
            walk.place[s] = _DROPPED
            continue
        if cell.cell_type != "code":
            continue
        checks = [q for q in checked_questions(cell.source) if q in rel.tests_of]
        if checks:
            walk.place[s] = max(rel.tests_of[q][-1] for q in checks)
        if is_grader_boilerplate(cell.source):
            if not checks:
                walk.dropped += 1
                walk.place[s] = _DROPPED
            continue
        if checks:  # the student's own code in a check cell runs after the tests
            walk.extra_source[s] = _without_otter(cell.source)


def _by_text(student: list[NotebookNode], rel: _Release, walk: _Walk) -> None:
    for s, cell in enumerate(student):
        if s in walk.place:
            continue
        candidates = rel.text_of.get((cell.cell_type, _normalized(cell.source)), [])
        free = [r for r in candidates if r not in walk.readonly_seen]
        if free:
            walk.place[s] = free[0]
            walk.readonly_seen.add(free[0])


def _by_names(student: list[NotebookNode], rel: _Release, walk: _Walk) -> None:
    """Fill each answer cell, in the release's order, with the student cell binding its names.

    A function answer wants a ``def`` of its name (``psi = psi(a, b)`` later in the notebook
    is a use, not an answer). Of several cells that fit, the one in its natural place (only
    answer cells of the release between the place before it and the answer) wins, then the
    closer fit, then the first. A cell binding every name of later answers too (merged
    cells) stands for them, unless another cell of the student answers them.
    """
    before = {s: _previous_place(s, walk) for s in range(len(student))}
    fits: dict[int, list[tuple[bool, float, int, int]]] = {}
    for s, cell in enumerate(student):
        if s in walk.place or cell.cell_type != "code":
            continue
        names = _bound_names(cell.source)
        for r, wanted in rel.names_of.items():
            common = len(wanted & names)
            if wanted and common and common / len(wanted) >= 0.5:
                between = range(before[s] + 1, r)
                natural = before[s] < r and all(i in rel.answers for i in between)
                fits.setdefault(r, []).append((natural, common / len(wanted), common, -s))
    used: dict[int, int] = {}  # student cell -> the answer it fills
    for r in sorted(fits):
        if r in walk.filled:
            continue
        free = [f for f in fits[r] if -f[3] not in used]
        if free:
            s = -max(free)[3]
            used[s] = r
            walk.place[s], walk.filled[r], walk.how[r] = r, s, "names"
            continue
        whole = [-f[3] for f in fits[r] if f[1] == 1.0 and used[-f[3]] < r]
        if whole:
            walk.covered[r] = used[min(whole)]


def _previous_place(s: int, walk: _Walk) -> int:
    """The release index of the nearest placed student cell before ``s`` (-1: the top)."""
    for earlier in range(s - 1, -1, -1):
        r = walk.place.get(earlier)
        if r is not None and r >= 0:
            return r
    return -1


def _by_position(student: list[NotebookNode], rel: _Release, walk: _Walk) -> None:
    for s, cell in enumerate(student):
        if s in walk.place:
            continue
        nxt = _previous_place(s, walk) + 1
        if (
            nxt not in rel.answers
            or nxt in walk.filled
            or nxt in walk.covered
            or rel.cells[nxt].cell_type != cell.cell_type
        ):
            continue
        # Otter's solution notebook keeps the answer's placeholder before the answer: an
        # unchanged placeholder followed by another cell of the same type yields to it.
        unchanged = _normalized(cell.source) == _normalized(rel.cells[nxt].source)
        following = student[s + 1] if s + 1 < len(student) else None
        if unchanged and following is not None and following.cell_type == cell.cell_type:
            if s + 1 not in walk.place:
                walk.place[s] = _DROPPED
                walk.dropped += 1
                continue
        walk.place[s], walk.filled[nxt], walk.how[nxt] = nxt, s, "position"
    # Written answers Otter tagged, still unplaced, fill the written answers left, in order.
    tagged = [
        s
        for s, cell in enumerate(student)
        if s not in walk.place
        and cell.cell_type == "markdown"
        and ANSWER_CELL_TAGS & set(cell.get("metadata", {}).get("tags", []))
    ]
    empty = [
        r for r in rel.answers if rel.cells[r].cell_type == "markdown" and r not in walk.filled
    ]
    if tagged and len(tagged) == len(empty):
        for s, r in zip(tagged, empty, strict=True):
            walk.place[s], walk.filled[r], walk.how[r] = r, s, "position"


def _out_of_order(walk: _Walk, student_order: Iterable[int]) -> set[int]:
    """Release indices placed out of order: not on a longest increasing run of places."""
    seq = [walk.place[s] for s in student_order if walk.place.get(s, -1) >= 0]
    if not seq:
        return set()
    best_len = [1] * len(seq)
    prev = [-1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i] and best_len[j] + 1 > best_len[i]:
                best_len[i], prev[i] = best_len[j] + 1, j
    i = max(range(len(seq)), key=best_len.__getitem__)
    keep = set()
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return {seq[k] for k in range(len(seq)) if k not in keep}


def _without_otter(source: str) -> str:
    """``source`` less Otter's statements; unchanged (to the byte) when it has none."""
    stripped = without_grader_calls(source)
    return source if stripped.splitlines() == source.splitlines() else stripped


def _first_line(source: str) -> str:
    stripped = [ln.strip() for ln in source.splitlines() if ln.strip()]
    text = stripped[0] if stripped else "(empty)"
    return text if len(text) <= 70 else text[:67] + "..."


def _extra_cell(cell: NotebookNode, source: str, taken_ids: set[str]) -> NotebookNode:
    """A student's own cell as the course keeps it: unlocked, no nbgrader metadata."""
    extra = copy.deepcopy(cell)
    extra.source = source
    metadata = extra.get("metadata", {})
    for key in ("nbgrader", "deletable", "editable"):
        metadata.pop(key, None)
    if extra.get("id") in taken_ids or not extra.get("id"):
        extra["id"] = nbformat.v4.new_code_cell().id  # nbformat 4.5 wants unique ids
    taken_ids.add(extra["id"])
    return extra


def match_submission(student_nb: NotebookNode, release: NotebookNode) -> MatchedSubmission:
    """Build the course's submission from a student's notebook (see the module docstring).

    Parameters
    ----------
    student_nb : NotebookNode
        The student's notebook, in Otter's format (Gradescope) or nbgrader's (the hub).
    release : NotebookNode
        The course's nbgrader release notebook (``release/ops_scale/ops_scale.ipynb``).

    Returns
    -------
    MatchedSubmission
        The release's cells in the release's order, answers filled from the student's
        cells, the student's own cells kept in place; and the report of what went where.

    Raises
    ------
    NotThisAssignment
        If fewer than :data:`MIN_READONLY_SHARE` of the release's read-only cells are in the
        notebook and no cell carries a grade id of the release: another assignment.
    """
    rel = _Release.read(release)
    student = list(student_nb.cells)
    walk = _Walk()
    _by_id(student, rel, walk)
    _otter_cells(student, rel, walk)
    _by_text(student, rel, walk)
    _by_names(student, rel, walk)
    _by_position(student, rel, walk)

    total_readonly = len(rel.readonly)
    found = len(walk.readonly_seen)
    any_id = any(rel.index_of_id.get(_meta(c).get("grade_id", "")) is not None for c in student)
    if total_readonly and found < MIN_READONLY_SHARE * total_readonly and not any_id:
        raise NotThisAssignment(
            f"only {found} of the release's {total_readonly} read-only cells are in this "
            "notebook, and none of its cells carries the release's nbgrader ids: it is not a "
            "submission of this assignment (or comes from another build of it)"
        )

    # The student's own cells, each after the place that precedes it.
    extras_after: dict[int, list[int]] = {}
    for s in range(len(student)):
        if s in walk.extra_source:  # code in a check cell runs after that question's tests
            extras_after.setdefault(walk.place[s], []).append(s)
        elif s not in walk.place:
            extras_after.setdefault(_previous_place(s, walk), []).append(s)
    # Placed by id or text but not the release's read-only text: the student's version too.
    edited = []
    for s, r in walk.place.items():
        if r in rel.readonly and r not in walk.readonly_seen:
            edited.append(r)
            extras_after.setdefault(r, []).insert(0, s)
    # A deleted read-only code cell with a student cell where it was: an edited one.
    for r in rel.readonly:
        if r in walk.readonly_seen or r in edited or rel.cells[r].cell_type != "code":
            continue
        before = max((p for p in walk.place.values() if 0 <= p < r), default=-1)
        here = extras_after.get(before, [])
        replacing = next((s for s in here if student[s].cell_type == "code"), None)
        if replacing is not None:  # the student's version runs after the release's
            edited.append(r)
            here.remove(replacing)
            extras_after.setdefault(r, []).insert(0, replacing)

    taken_ids = {c.get("id") for c in rel.cells}
    out_cells: list[NotebookNode] = []
    extra_lines: list[str] = []

    def emit_extras(after: int) -> None:
        for s in extras_after.get(after, []):
            source = walk.extra_source.get(s, student[s].source)
            if not source.strip():
                continue
            out_cells.append(_extra_cell(student[s], source, taken_ids))
            extra_lines.append(_first_line(source))

    emit_extras(-1)
    for r, cell in enumerate(rel.cells):
        new = copy.deepcopy(cell)
        if r in walk.filled:
            mine = student[walk.filled[r]]
            new.source = _without_otter(mine.source) if new.cell_type == "code" else mine.source
            if mine.get("attachments"):
                new["attachments"] = copy.deepcopy(mine["attachments"])
        elif r in walk.covered:
            new.source = (
                f"# Answered in the cell of {_meta(rel.cells[walk.covered[r]])['grade_id']}, "
                "where the student wrote it."
            )
        out_cells.append(new)
        emit_extras(r)

    nb = copy.deepcopy(release)
    nb.cells = out_cells
    nbformat.validate(nb)
    moved = _out_of_order(walk, range(len(student)))
    gid = [_meta(c).get("grade_id", f"cell {i}") for i, c in enumerate(rel.cells)]
    report = MatchReport(
        by_id=tuple(gid[r] for r in rel.answers if walk.how.get(r) == "id"),
        by_names=tuple(gid[r] for r in rel.answers if walk.how.get(r) == "names"),
        by_position=tuple(gid[r] for r in rel.answers if walk.how.get(r) == "position"),
        moved=tuple(gid[r] for r in rel.answers if r in moved and r in walk.filled),
        covered=tuple((gid[r], gid[by]) for r, by in sorted(walk.covered.items())),
        unanswered=tuple(
            gid[r] for r in rel.answers if r not in walk.filled and r not in walk.covered
        ),
        extra_cells=tuple(extra_lines),
        edited_readonly=tuple(gid[r] for r in sorted(edited)),
        restored_readonly=tuple(
            gid[r]
            for r in rel.readonly
            if r not in walk.readonly_seen and r not in edited and rel.cells[r].cell_type == "code"
        ),
        dropped_otter_cells=walk.dropped,
        readonly_found=(found, total_readonly),
    )
    return MatchedSubmission(nb, report)


def submission_from_otter(otter_notebook: NotebookNode, release: NotebookNode) -> NotebookNode:
    """An nbgrader submission with the answers of a notebook in Otter's format.

    :func:`match_submission`, for notebooks whose read-only code must be the release's:
    added, deleted and moved cells are taken as they come, an edited read-only code cell
    is refused (the self-check's samples, and any notebook whose set-up code must be the
    release's; ``ops-lab nbgrader-import`` keeps such edits instead).

    Parameters
    ----------
    otter_notebook : NotebookNode
        A notebook in Otter's format (the student or solution notebook, or a submission).
    release : NotebookNode
        The nbgrader release notebook (``release/ops_scale/ops_scale.ipynb``).

    Returns
    -------
    NotebookNode
        The release's cells with the answers in place and the student's own cells kept.

    Raises
    ------
    ValueError
        If a read-only code cell of the release was changed (naming the first), or the
        notebook is another assignment's (:class:`NotThisAssignment`).
    """
    matched = match_submission(otter_notebook, release)
    if matched.report.edited_readonly:
        first = matched.report.edited_readonly[0]
        rel = _Release.read(release)
        r = rel.index_of_id[first]
        code_cells = [i for i in rel.readonly + rel.answers if rel.cells[i].cell_type == "code"]
        k = sorted(code_cells).index(r)
        raise ValueError(
            f"code cell {k} ({first}) differs from the Otter notebook's: "
            f"{rel.cells[r].source[:60]!r} was changed or replaced"
        )
    return matched.notebook
