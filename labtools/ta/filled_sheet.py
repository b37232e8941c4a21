"""A TA's filled score sheet, read and checked whole against the packet's key and the rubric.

:func:`read_scores` checks each row of ``scores.csv``: each item a number from 0 to its points
(empty: not graded yet, reported), no unknown label or column, no student twice. The sheet
names students by their anonymous label only; the key maps each label back to its student.
Any bad row and the whole file is refused (:class:`ScoreSheetError`), with every bad row
listed by line number, so that nothing is half imported. A question whose items are only
partly filled is "not graded yet" (:class:`PendingQuestion`), never a partial sum.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labtools.rubric import Rubric, RubricQuestion, load_rubric
from labtools.ta.sheet import (
    KEY_COLUMN,
    LABEL_COLUMN,
    KeyStudent,
    PacketKey,
    comment_column,
    read_key,
    rubric_digest,
    sheet_columns,
)
from opsmodel._validation import InvalidInputError

__all__ = [
    "SheetProblem",
    "ScoreSheetError",
    "ItemScore",
    "QuestionScore",
    "PendingQuestion",
    "ScoreSheet",
    "read_scores",
]

_DELIMITERS = (",", ";", "\t")
# A decimal comma ("0,5") as spreadsheets in many locales write it, in ';'-separated files.
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SheetProblem:
    """One bad line of a sheet: its 1-based line number in the file and what is wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ScoreSheetError(InvalidInputError):
    """The sheet was refused; :attr:`problems` lists every bad line (nothing was imported)."""

    def __init__(self, path: Path, problems: list[SheetProblem]) -> None:
        self.path = Path(path)
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"sheet {self.path} refused, nothing imported: {len(self.problems)} "
            f"problem{'s' if len(self.problems) != 1 else ''}\n{listing}"
        )


@dataclass(frozen=True)
class ItemScore:
    """Points given for one rubric item."""

    item_id: str
    points: float  # awarded
    possible: float  # the item's points
    text: str


@dataclass(frozen=True)
class QuestionScore:
    """One student's fully graded written question."""

    question: str
    title: str
    student: KeyStudent
    items: tuple[ItemScore, ...]
    comment: str
    line: int

    @property
    def score(self) -> float:
        """The question's score: the sum of its items."""
        return math.fsum(i.points for i in self.items)

    @property
    def possible(self) -> float:
        """The question's points."""
        return math.fsum(i.possible for i in self.items)


@dataclass(frozen=True)
class PendingQuestion:
    """A written question not (fully) graded in the sheet: left out of the import."""

    question: str
    student: KeyStudent
    missing_items: tuple[str, ...]
    line: int  # 0 when the student has no row


@dataclass(frozen=True)
class ScoreSheet:
    """A checked sheet.

    Attributes
    ----------
    path : Path
        The sheet read.
    key : PacketKey
        The packet's key it was checked against.
    scores : tuple of QuestionScore
        Every fully graded (student, question), in sheet order.
    pending : tuple of PendingQuestion
        Every (student, question) not graded yet, students without a row included.
    notes : tuple of str
        Things worth knowing that are not errors (the rubric changed since the packet, the
        file was not UTF-8).
    """

    path: Path
    key: PacketKey
    scores: tuple[QuestionScore, ...]
    pending: tuple[PendingQuestion, ...]
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- reading


def _decode(data: bytes) -> tuple[str, str]:
    """The text of the file, and a note when it was not UTF-8."""
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        # Excel's "CSV" (not "CSV UTF-8") on Windows: the ANSI code page.
        return data.decode("cp1252", errors="replace"), "the sheet is not UTF-8; read as cp1252"


def _delimiter(text: str) -> str:
    """The separator of the header line (spreadsheets in some locales write ';')."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            counts = {d: line.count(d) for d in _DELIMITERS}
            best = max(_DELIMITERS, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(first line number, fields) of each CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, previous = [], 0
    for row in reader:
        records.append((previous + 1, row))
        previous = reader.line_num
    return records


def _number(raw: str) -> float | None:
    text = raw.strip()
    if _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_header(
    line: int, header: list[str], expected: list[str]
) -> tuple[list[SheetProblem], dict[str, int]]:
    problems: list[SheetProblem] = []
    where: dict[str, int] = {}
    for k, name in enumerate(header):
        if not name:
            continue  # an unnamed column: its values are checked to be empty
        if name in where:
            problems.append(SheetProblem(line, f"column {name!r} appears twice"))
        elif name not in expected:
            problems.append(
                SheetProblem(line, f"unknown column {name!r} (not a rubric item or comment)")
            )
        else:
            where[name] = k
    missing = [c for c in expected if c not in where]
    if missing:
        problems.append(SheetProblem(line, f"missing columns: {', '.join(missing)}"))
    return problems, where


def _row_student(
    line: int,
    cell: Callable[[str], str],
    by_label: dict[str, KeyStudent],
    by_key: dict[str, KeyStudent] | None,
    seen: dict[str, int],
) -> tuple[str, KeyStudent | None, list[SheetProblem]]:
    """Whom a row grades: how to name the row in messages, the student (None: unknown), problems.

    A blind sheet names the student by label only. An old sheet (``by_key`` given) names the
    key too, and the label must be that student's.
    """
    problems: list[SheetProblem] = []
    label = cell(LABEL_COLUMN)
    if by_key is None:
        who = label or "?"
        student = by_label.get(label)
        if not label:
            problems.append(
                SheetProblem(line, f"{who}: no label (every row starts with its label, S-01 ...)")
            )
        elif student is None:
            problems.append(
                SheetProblem(line, f"{who}: unknown label {label!r}, not in the packet")
            )
        ident = label
    else:
        key = cell(KEY_COLUMN)
        who = f"{label or '?'} ({key or 'no student_key'})"
        student = by_key.get(key)
        if student is None:
            problems.append(
                SheetProblem(line, f"{who}: unknown student {key!r}, not in the packet")
            )
        elif label != student.label:
            problems.append(
                SheetProblem(
                    line,
                    f"{who}: label {label!r} is not this student's label {student.label!r} "
                    "(rows or labels mixed up?)",
                )
            )
        ident = key
    if ident and ident in seen:
        problems.append(
            SheetProblem(line, f"{who}: student appears again (first on line {seen[ident]})")
        )
    elif ident:
        seen[ident] = line
    return who, student, problems


def _check_row(
    line: int,
    row: list[str],
    header: list[str],
    where: dict[str, int],
    by_label: dict[str, KeyStudent],
    by_key: dict[str, KeyStudent] | None,
    seen: dict[str, int],
    questions: list[RubricQuestion],
) -> tuple[list[SheetProblem], list[QuestionScore], list[PendingQuestion]]:
    def cell(column: str) -> str:
        k = where.get(column)
        return row[k].strip() if k is not None and k < len(row) else ""

    problems: list[SheetProblem] = []
    extra = [v for k, v in enumerate(row) if v.strip() and (k >= len(header) or not header[k])]
    if extra:
        problems.append(SheetProblem(line, f"values outside the named columns: {extra!r}"))
    who, student, found = _row_student(line, cell, by_label, by_key, seen)
    problems += found
    scores, pending = [], []
    for q in questions:
        awarded, missing = [], []
        for item in q.items:
            raw = cell(item.id)
            if not raw:
                missing.append(item.id)
                continue
            value = _number(raw)
            if value is None or not 0 <= value <= item.points:
                problems.append(
                    SheetProblem(
                        line,
                        f"{who}: {item.id} must be a number from 0 to {item.points:g}, got {raw!r}",
                    )
                )
                continue
            awarded.append(ItemScore(item.id, value, item.points, item.text))
        if student is None:
            continue
        if missing:
            pending.append(PendingQuestion(q.name, student, tuple(missing), line))
        elif len(awarded) == len(q.items):
            scores.append(
                QuestionScore(
                    q.name, q.title, student, tuple(awarded), cell(comment_column(q.name)), line
                )
            )
    return problems, scores, pending


def read_scores(
    sheet: Path, *, key: Path | None = None, rubric: Rubric | None = None
) -> ScoreSheet:
    """Read and check a filled score sheet, refusing it whole if any line is bad.

    Parameters
    ----------
    sheet : Path, an existing CSV file
        The sheet written by the packet (``scores.csv``), filled in.
    key : Path or None
        The packet's ``key.json``; None: the one beside the sheet.
    rubric : Rubric or None
        Items and points to check against; None loads ``assignment/rubric.toml``.

    Returns
    -------
    ScoreSheet
        The fully graded questions, the pending ones, notes.

    Raises
    ------
    ScoreSheetError
        Listing every bad line (line numbers of the file, 1-based): a value that is not a
        number, negative or above its item's points; a row without a label or with a label
        not in the key; a student twice; an unknown, repeated or missing column; values
        outside the named columns; a sheet whose first line names another seed than the
        key's (the sheet of another packet). In an old sheet that names students
        (``student_key``): an unknown key, or a label that is not that student's.
    InvalidInputError
        If the sheet or the key cannot be read.

    Notes
    -----
    The sheet is blind: a row names its student by the packet's label only, and the key
    (``key.json``, kept by the instructor) says who the label is. A sheet written before
    sheets were blind, with a ``student_key`` column, is read too (with a note).

    Empty rows are skipped, as are comment lines (first field starting with ``#``) before
    the header. Values may use a decimal comma (``0,5``); separators ``,``, ``;`` and tab
    are recognised from the header line. An empty item means "not graded yet": the
    question is reported pending and not imported.

    Examples
    --------
    >>> sheet = read_scores(Path("packet/scores.csv"))  # doctest: +SKIP
    >>> [(s.student.label, s.question, s.score) for s in sheet.scores][:1]  # doctest: +SKIP
    [('S-01', 'r1_heterogeneity', 2.0)]
    """
    rubric = rubric or load_rubric()
    sheet = Path(sheet)
    key_path = Path(key) if key is not None else sheet.parent / "key.json"
    try:
        packet_key = read_key(key_path)
    except ValueError as exc:
        raise InvalidInputError(f"key must be the packet's key.json: {exc}") from exc
    try:
        text, note = _decode(sheet.read_bytes())
    except OSError as exc:
        raise InvalidInputError(f"sheet must be a readable file, got {str(sheet)!r}") from exc
    notes = [note] if note else []
    if packet_key.rubric_sha256 != rubric_digest(rubric):
        notes.append("the rubric's items or points changed since the packet was made")
    questions = [q for q in rubric.questions if q.manual]
    records = [
        (line, row) for line, row in _records(text, _delimiter(text)) if any(c.strip() for c in row)
    ]
    problems: list[SheetProblem] = []
    while records and records[0][1][0].lstrip().startswith("#"):
        line, row = records.pop(0)
        # The packet's first line names its seed: a sheet of another packet is caught here,
        # before its rows are misread as unknown students.
        seed = re.search(r"\bseed (\d+)\b", ",".join(row))
        if seed and int(seed.group(1)) != packet_key.seed:
            problems.append(
                SheetProblem(
                    line,
                    f"this sheet is from the packet with seed {seed.group(1)}, the key from "
                    f"the packet with seed {packet_key.seed}: use the key beside the sheet",
                )
            )
    if not records:
        raise ScoreSheetError(
            sheet, [*problems, SheetProblem(1, "no header line: the sheet is empty")]
        )
    header_line, header = records[0]
    header = [h.strip() for h in header]
    # A sheet from before sheets were blind names each student's key beside the label.
    legacy = KEY_COLUMN in header
    expected = ([KEY_COLUMN] if legacy else []) + sheet_columns(rubric)
    header_problems, where = _check_header(header_line, header, expected)
    problems += header_problems
    by_label = {s.label: s for s in packet_key.students}
    by_key = {s.key: s for s in packet_key.students} if legacy else None
    if legacy:
        notes.append(
            f"the sheet names its students ({KEY_COLUMN} column, as sheets did before they were "
            "blind): each key was checked against its label"
        )
    seen: dict[str, int] = {}
    scores: list[QuestionScore] = []
    pending: list[PendingQuestion] = []
    if LABEL_COLUMN in where and (not legacy or KEY_COLUMN in where):
        for line, row in records[1:]:
            found, done, todo = _check_row(
                line, row, header, where, by_label, by_key, seen, questions
            )
            problems += found
            scores += done
            pending += todo
    if problems:
        raise ScoreSheetError(sheet, problems)
    graded = {s.student.key for s in scores} | {p.student.key for p in pending}
    pending += [
        PendingQuestion(q.name, s, tuple(i.id for i in q.items), 0)
        for s in packet_key.students
        if s.key not in graded
        for q in questions
    ]
    return ScoreSheet(sheet, packet_key, tuple(scores), tuple(pending), tuple(notes))
