"""Import the TAs' filled score sheet: check it whole, then write nbgrader and the gradebook.

``ops-lab ta-import PACKET/scores.csv`` does three things, in this order, and stops at the
first that fails so that nothing is half imported:

1. :func:`read_scores` checks every row of the sheet against the packet's key and the
   rubric: each item a number from 0 to its points (empty: not graded yet, reported), no
   unknown student, label or column, no student twice. Any bad row and the whole file is
   refused, with every bad row listed by line number.
2. :func:`write_nbgrader_scores` (nbgrader courses) writes, per student and written
   question, the manual score (the sum of its items) and a comment listing each item's
   points into the course's gradebook through :class:`nbgrader.api.Gradebook`, in one
   transaction.
3. :func:`write_combined_gradebook` writes one CSV for the LMS: per student the autograded
   and written points per part, every question, the totals and the maximum, from the batch's
   ``gradebook.csv`` (or nbgrader's gradebook) plus the imported written scores.

A question whose items are only partly filled is "not graded yet": it is reported and not
imported, never imported as a partial sum. The sheet stays the record of the TAs' scores;
importing it again rewrites the same values.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from labtools.files import write_atomic
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
    "NbgraderWrite",
    "ImportSummary",
    "read_scores",
    "nbgrader_comment",
    "write_nbgrader_scores",
    "combined_rows",
    "write_combined_gradebook",
    "import_scores",
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


def _check_row(
    line: int,
    row: list[str],
    header: list[str],
    where: dict[str, int],
    students: dict[str, KeyStudent],
    seen: dict[str, int],
    questions: list[RubricQuestion],
) -> tuple[list[SheetProblem], list[QuestionScore], list[PendingQuestion]]:
    problems: list[SheetProblem] = []

    def cell(column: str) -> str:
        k = where.get(column)
        return row[k].strip() if k is not None and k < len(row) else ""

    extra = [v for k, v in enumerate(row) if v.strip() and (k >= len(header) or not header[k])]
    if extra:
        problems.append(SheetProblem(line, f"values outside the named columns: {extra!r}"))
    key, label = cell(KEY_COLUMN), cell(LABEL_COLUMN)
    who = f"{label or '?'} ({key or 'no student_key'})"
    student = students.get(key)
    if student is None:
        problems.append(SheetProblem(line, f"{who}: unknown student {key!r}, not in the packet"))
    elif label != student.label:
        problems.append(
            SheetProblem(
                line,
                f"{who}: label {label!r} is not this student's label {student.label!r} "
                "(rows or labels mixed up?)",
            )
        )
    if key and key in seen:
        problems.append(
            SheetProblem(line, f"{who}: student appears again (first on line {seen[key]})")
        )
    elif key:
        seen[key] = line
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
        number, negative or above its item's points; an unknown student (not in the key);
        a label that is not the student's; a student twice; an unknown, repeated or
        missing column; values outside the named columns; a sheet whose first line names
        another seed than the key's (the sheet of another packet).
    InvalidInputError
        If the sheet or the key cannot be read.

    Notes
    -----
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
    expected = sheet_columns(rubric)
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
    header_problems, where = _check_header(header_line, header, expected)
    problems += header_problems
    students = {s.key: s for s in packet_key.students}
    seen: dict[str, int] = {}
    scores: list[QuestionScore] = []
    pending: list[PendingQuestion] = []
    if KEY_COLUMN in where and LABEL_COLUMN in where:
        for line, row in records[1:]:
            found, done, todo = _check_row(line, row, header, where, students, seen, questions)
            problems += found
            scores += done
            pending += todo
    if problems:
        raise ScoreSheetError(sheet, problems)
    pending += [
        PendingQuestion(q.name, s, tuple(i.id for i in q.items), 0)
        for s in packet_key.students
        if s.key not in seen
        for q in questions
    ]
    return ScoreSheet(sheet, packet_key, tuple(scores), tuple(pending), tuple(notes))


# --------------------------------------------------------------------------- nbgrader


@dataclass(frozen=True)
class NbgraderWrite:
    """What :func:`write_nbgrader_scores` wrote.

    Attributes
    ----------
    gradebook : Path
        The ``gradebook.db`` written.
    written : int
        (student, question) scores written.
    missing_students : tuple of str
        Students of the sheet without a submission in the gradebook (not written).
    """

    gradebook: Path
    written: int
    missing_students: tuple[str, ...]


def nbgrader_comment(score: QuestionScore) -> str:
    """The manual comment of a question: its score, each item's points, the TA's comment.

    Examples
    --------
    >>> from labtools.ta.sheet import KeyStudent
    >>> s = QuestionScore("r1", "Reflection 1", KeyStudent("S-01", "k", "k"),
    ...     (ItemScore("r1.a", 1.0, 1.0, "Names A."), ItemScore("r1.b", 0.5, 2.0, "Shows B.")),
    ...     "Good start.", 3)
    >>> print(nbgrader_comment(s))
    Reflection 1: 1.5 / 3
    [1/1] r1.a: Names A.
    [0.5/2] r1.b: Shows B.
    TA: Good start.
    """
    lines = [f"{score.title}: {score.score:g} / {score.possible:g}"]
    lines += [f"[{i.points:g}/{i.possible:g}] {i.item_id}: {i.text}" for i in score.items]
    if score.comment:
        lines.append(f"TA: {score.comment}")
    return "\n".join(lines)


def _gradebook_url(course: Path) -> tuple[Path, str]:
    db = Path(course) / "gradebook.db"
    if not db.is_file():
        raise InvalidInputError(
            f"nbgrader_course must hold gradebook.db (run nbgrader generate_assignment and "
            f"autograde first), got {str(course)!r}"
        )
    return db, f"sqlite:///{db.resolve()}"


def write_nbgrader_scores(
    sheet: ScoreSheet,
    course: Path,
    *,
    rubric: Rubric | None = None,
    course_id: str | None = None,
    assignment: str | None = None,
) -> NbgraderWrite:
    """Write the sheet's graded questions into an nbgrader course's gradebook.

    Parameters
    ----------
    sheet : ScoreSheet
        A checked sheet (:func:`read_scores`).
    course : Path
        The nbgrader course folder holding ``gradebook.db``.
    rubric : Rubric or None
        Each question's points, checked against the gradebook's; None loads the rubric.
    course_id : str or None
        The gradebook's course id; None: ``ops-scale``.
    assignment : str or None
        The assignment; None: ``ops_scale``.

    Returns
    -------
    NbgraderWrite
        How many scores were written and which students the gradebook lacks.

    Raises
    ------
    InvalidInputError
        If the course has no gradebook, or a written question's maximum in the gradebook
        differs from the rubric's (a gradebook of another build); nothing is written then.

    Notes
    -----
    For each graded (student, question): ``Grade.manual_score`` is the sum of the items,
    ``Grade.needs_manual_grade`` becomes False (as the Formgrader does when a score is
    entered), and ``Comment.manual_comment`` lists the items (:func:`nbgrader_comment`).
    The grade cell and the comment's solution cell are the question's answer cell, whose
    grade id is the question's name. Everything is committed once, at the end; any error
    rolls the whole import back.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from labtools.nbgrader_course.cells import ASSIGNMENT_ID
    from labtools.nbgrader_course.config import COURSE_ID
    from labtools.paths import NOTEBOOK_NAME

    rubric = rubric or load_rubric()
    db, url = _gradebook_url(course)
    assignment = assignment or ASSIGNMENT_ID
    notebook = Path(NOTEBOOK_NAME).stem
    missing: list[str] = []
    written = 0
    with Gradebook(url, course_id or COURSE_ID) as gb:
        try:
            for score in sheet.scores:
                student = score.student.student_id
                if student in missing:
                    continue
                try:
                    grade = gb.find_grade(score.question, notebook, assignment, student)
                    comment = gb.find_comment(score.question, notebook, assignment, student)
                except MissingEntry:
                    missing.append(student)
                    continue
                expected = rubric.question(score.question).points
                if not math.isclose(float(grade.max_score), expected):
                    raise InvalidInputError(
                        f"nbgrader_course's gradebook gives {score.question} "
                        f"{float(grade.max_score):g} points, the rubric {expected:g}: "
                        f"a gradebook of another build, got {str(course)!r}"
                    )
                grade.manual_score = score.score
                grade.needs_manual_grade = False
                comment.manual_comment = nbgrader_comment(score)
                written += 1
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise
    return NbgraderWrite(db, written, tuple(missing))


# --------------------------------------------------------------------------- combined CSV


def _num(value: float | None) -> str:
    return "" if value is None else format(round(value, 6), ".10g")


def _float_or_none(text: str | None) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class _AutoRow:
    key: str
    student_id: str
    name: str
    email: str
    scores: dict[str, float | None]


def _auto_from_batch(batch: Path, auto_questions: list[str]) -> list[_AutoRow]:
    path = batch if batch.is_file() else batch / "gradebook.csv"
    if not path.is_file():
        raise InvalidInputError(
            f"batch must be a batch output folder with gradebook.csv, or that file, "
            f"got {str(batch)!r}"
        )
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        _AutoRow(
            r.get("submission", ""),
            r.get("student_id", "") or r.get("submission", ""),
            r.get("name", "") or "",
            r.get("email", "") or "",
            {q: _float_or_none(r.get(q)) for q in auto_questions},
        )
        for r in rows
        if r.get("submission")
    ]


def _auto_from_nbgrader(
    course: Path, auto_questions: list[str], key: PacketKey, course_id: str | None
) -> list[_AutoRow]:
    from nbgrader.api import Gradebook

    from labtools.nbgrader_course.cells import ASSIGNMENT_ID, parse_case_grade_id
    from labtools.nbgrader_course.config import COURSE_ID

    _, url = _gradebook_url(course)
    key_of = {s.student_id: s.key for s in key.students}
    rows = []
    with Gradebook(url, course_id or COURSE_ID) as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT_ID):
            student = submission.student.id
            scores: dict[str, float | None] = dict.fromkeys(auto_questions)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    parsed = parse_case_grade_id(grade.name)
                    if parsed is None or parsed[0] not in scores:
                        continue
                    if grade.auto_score is None and grade.manual_score is None:
                        continue  # not autograded yet
                    scores[parsed[0]] = (scores[parsed[0]] or 0.0) + float(grade.score)
            rows.append(_AutoRow(key_of.get(student, student), student, "", "", scores))
    return rows


def combined_rows(
    sheet: ScoreSheet,
    *,
    rubric: Rubric | None = None,
    batch: Path | None = None,
    nbgrader_course: Path | None = None,
    course_id: str | None = None,
) -> tuple[list[str], list[dict[str, str]]]:
    """The combined gradebook's columns and rows (see :func:`write_combined_gradebook`)."""
    rubric = rubric or load_rubric()
    auto_q = [q.name for q in rubric.questions if not q.manual]
    if batch is not None:
        auto_rows = _auto_from_batch(Path(batch), auto_q)
    elif nbgrader_course is not None:
        auto_rows = _auto_from_nbgrader(Path(nbgrader_course), auto_q, sheet.key, course_id)
    else:
        auto_rows = []
    parts: list[str] = []
    for q in rubric.questions:
        if q.part not in parts:
            parts.append(q.part)
    part_columns = []
    for part in parts:
        kinds = {q.manual for q in rubric.questions if q.part == part}
        if False in kinds:
            part_columns.append((part, False, f"{part} [auto]"))
        if True in kinds:
            part_columns.append((part, True, f"{part} [manual]"))
    columns = ["student_key", "student_id", "name", "email"]
    columns += [c for _, _, c in part_columns]
    columns += [q.name for q in rubric.questions]
    columns += ["auto_total", "manual_total", "total", "max", "pending"]

    people: dict[str, dict[str, str]] = {}
    auto: dict[str, dict[str, float | None]] = {}
    for r in auto_rows:
        people[r.key] = {"student_id": r.student_id, "name": r.name, "email": r.email}
        auto[r.key] = r.scores
    for s in sheet.key.students:
        known = people.setdefault(s.key, {"student_id": s.student_id, "name": "", "email": ""})
        known["name"] = known["name"] or s.name
        known["email"] = known["email"] or s.email
    written = {(s.student.key, s.question): s.score for s in sheet.scores}
    maximum = math.fsum(q.points for q in rubric.questions)
    rows = []
    for key in sorted(people):
        scores: dict[str, float | None] = dict(auto.get(key, dict.fromkeys(auto_q)))
        scores.update({q.name: written.get((key, q.name)) for q in rubric.questions if q.manual})
        pending = [q.name for q in rubric.questions if q.manual and scores[q.name] is None]
        if any(scores[q] is None for q in auto_q):
            pending.append("autograder")  # no result, or a question without a score
        row = {"student_key": key, **people[key]}
        for part, manual, column in part_columns:
            values = [
                scores[q.name]
                for q in rubric.questions
                if q.part == part and q.manual == manual and scores[q.name] is not None
            ]
            row[column] = _num(math.fsum(values)) if values else ""
        row.update({q.name: _num(scores[q.name]) for q in rubric.questions})
        auto_values = [v for q, v in scores.items() if q in auto_q and v is not None]
        manual_values = [v for q, v in scores.items() if q not in auto_q and v is not None]
        row["auto_total"] = _num(math.fsum(auto_values)) if auto_values else ""
        row["manual_total"] = _num(math.fsum(manual_values)) if manual_values else ""
        row["total"] = _num(math.fsum(auto_values + manual_values))
        row["max"] = _num(maximum)
        row["pending"] = ";".join(pending)
        rows.append(row)
    return columns, rows


def write_combined_gradebook(
    sheet: ScoreSheet,
    path: Path,
    *,
    rubric: Rubric | None = None,
    batch: Path | None = None,
    nbgrader_course: Path | None = None,
    course_id: str | None = None,
) -> Path:
    """Write the combined gradebook: autograded and written points, one row per student.

    Parameters
    ----------
    sheet : ScoreSheet
        A checked sheet (:func:`read_scores`).
    path : Path
        The CSV to write (replaced atomically).
    rubric : Rubric or None
        Questions, parts and points; None loads the rubric.
    batch : Path or None
        A batch output folder (or its ``gradebook.csv``): the autograded scores.
    nbgrader_course : Path or None
        When ``batch`` is None, the autograded scores come from this course's gradebook
        (its test cells summed per question).
    course_id : str or None
        The nbgrader gradebook's course id.

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    Columns: ``student_key``, ``student_id``, ``name``, ``email``; per part of the rubric
    ``<part> [auto]`` and ``<part> [manual]`` (when the part has such questions); every
    question in rubric order; ``auto_total``, ``manual_total``, ``total``, ``max``;
    ``pending``, the written questions not graded yet (and ``autograder`` when an autograded
    question has no score for the student), ``;``-separated. A score not known is an empty
    cell, never 0; ``total`` adds the known scores. Rows are sorted by student key (the
    roster's order, not the packet's). Students of the batch without a packet row appear
    with their written questions pending.
    """
    columns, rows = combined_rows(
        sheet, rubric=rubric, batch=batch, nbgrader_course=nbgrader_course, course_id=course_id
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    write_atomic(path, out.getvalue())
    return path


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_scores` did.

    Attributes
    ----------
    sheet : ScoreSheet
        The checked sheet (its scores and pending questions).
    nbgrader : NbgraderWrite or None
        The nbgrader write, for an nbgrader course.
    combined : Path
        The combined gradebook written.
    """

    sheet: ScoreSheet
    nbgrader: NbgraderWrite | None
    combined: Path

    def describe(self) -> str:
        """A few lines for the terminal."""
        sheet = self.sheet
        lines = [f"imported {len(sheet.scores)} graded answers from {sheet.path}"]
        if self.nbgrader is not None:
            lines.append(
                f"nbgrader: {self.nbgrader.written} scores written to {self.nbgrader.gradebook}"
            )
            if self.nbgrader.missing_students:
                lines.append(
                    "nbgrader: not in the gradebook (not written): "
                    + ", ".join(self.nbgrader.missing_students)
                )
        lines.append(f"combined gradebook: {self.combined}")
        if sheet.pending:
            lines.append(f"not graded yet ({len(sheet.pending)}):")
            for p in sheet.pending:
                where = f"line {p.line}" if p.line else "no row"
                lines.append(
                    f"  {p.student.label} ({p.student.key}) {p.question}: "
                    f"{', '.join(p.missing_items)} empty ({where})"
                )
        lines += [f"note: {n}" for n in sheet.notes]
        return "\n".join(lines)


def import_scores(
    sheet: Path,
    *,
    key: Path | None = None,
    combined: Path | None = None,
    batch: Path | None = None,
    nbgrader_course: Path | None = None,
    use_nbgrader: bool = True,
    rubric: Rubric | None = None,
    course_id: str | None = None,
) -> ImportSummary:
    """Check a filled sheet whole, then write nbgrader's gradebook and the combined CSV.

    Parameters
    ----------
    sheet : Path, an existing CSV file
        The filled ``scores.csv``.
    key : Path or None
        The packet's ``key.json``; None: the one beside the sheet.
    combined : Path or None
        The combined gradebook to write; None: ``combined-gradebook.csv`` beside the sheet.
    batch : Path or None
        A batch output folder (or its ``gradebook.csv``) for the autograded scores; None:
        the batch whose results the packet used, if any.
    nbgrader_course : Path or None
        The nbgrader course to write into; None: the course the packet was made from, if
        any. A Gradescope or folder batch has none: only the combined CSV is written.
    use_nbgrader : bool
        False: never write an nbgrader gradebook.
    rubric : Rubric or None
        None loads ``assignment/rubric.toml``.
    course_id : str or None
        The nbgrader gradebook's course id (None: ``ops-scale``).

    Returns
    -------
    ImportSummary
        What was imported, what is pending, where it went.

    Raises
    ------
    ScoreSheetError
        If any line of the sheet is bad (all listed); nothing is written.
    InvalidInputError
        If the key, the batch gradebook or the nbgrader gradebook cannot be used; nothing
        is written.

    Examples
    --------
    >>> summary = import_scores(Path("packet/scores.csv"))  # doctest: +SKIP
    >>> print(summary.describe())  # doctest: +SKIP
    """
    rubric = rubric or load_rubric()
    checked = read_scores(sheet, key=key, rubric=rubric)
    packet = checked.key
    course = None
    if use_nbgrader:
        if nbgrader_course is not None:
            course = Path(nbgrader_course)
        elif packet.nbgrader_course:
            course = Path(packet.nbgrader_course)
    if batch is None and packet.results:
        batch = Path(packet.results).parent  # the packet recorded the batch's results/
    if batch is not None:
        # Checked before anything is written: a bad batch path must not leave a half import.
        _auto_from_batch(Path(batch), [])
    written = None
    if course is not None:
        written = write_nbgrader_scores(checked, course, rubric=rubric, course_id=course_id)
    path = (
        Path(combined) if combined is not None else checked.path.parent / "combined-gradebook.csv"
    )
    write_combined_gradebook(
        checked, path, rubric=rubric, batch=batch, nbgrader_course=course, course_id=course_id
    )
    return ImportSummary(checked, written, path)
