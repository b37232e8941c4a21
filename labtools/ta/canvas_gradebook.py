"""Canvas's gradebook CSV: the lab's total as one assignment, students matched by Canvas's ids.

What Canvas's gradebook import reads (``Grades > Import``; Canvas's own exporter and importer,
``lib/gradebook_exporter.rb`` and ``app/models/gradebook_importer.rb`` in canvas-lms, write
and read the same layout):

- a header whose identity columns are ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section`` (the first two and ``Section`` are required; the SIS columns come together),
  then one column per assignment titled ``Name (id)``: the id picks an existing assignment,
  a title alone matches by title or creates a new assignment;
- a second row whose first cell holds ``Points Possible`` (Canvas writes
  ``"    Points Possible"``), with the assignment's points; ``(read only)`` marks computed
  columns of an export;
- one row per student, matched by Canvas user ``ID``, else by ``SIS User ID`` or
  ``SIS Login ID``, else by name.

:func:`read_canvas_export` reads the instructor's gradebook export (``Grades > Export``) for
each student's Canvas ID, SIS ids, name and section; :func:`match_canvas_students` pairs them
with the graded students (a Canvas ``SIS User ID`` or ``SIS Login ID`` equal to a student's
id or email, case ignored); :func:`write_canvas_gradebook` writes the file to import, one
column for the lab's total, never one per question. Without an export the rows carry what the
grader and roster know (the name, and the email as the SIS login), which Canvas matches by
login or name, so an export is the way to exact matches.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labtools.files import write_atomic
from labtools.ta.lms_grades import FinalGrade, LmsFile, Member
from opsmodel._validation import InvalidInputError

__all__ = [
    "CANVAS_IDENTITY_COLUMNS",
    "POINTS_POSSIBLE",
    "CanvasStudent",
    "CanvasExport",
    "CanvasRow",
    "read_canvas_export",
    "match_canvas_students",
    "canvas_assignment_header",
    "write_canvas_gradebook",
]

#: The identity columns of Canvas's gradebook CSV, in Canvas's order.
CANVAS_IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
#: First cell of the points-possible row, as Canvas's exporter writes it.
POINTS_POSSIBLE = "    Points Possible"
#: An assignment column of an export: ``Title (id)``.
_TITLE_WITH_ID = re.compile(r"^(?P<title>.*\S)\s+\((?P<id>\d+)\)$")
#: A row of an export that is not a student: muted or manually posted assignments.
_POSTING_ROW = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.I)
#: Canvas's "Test Student" (Student View), which every export lists and no one grades.
_TEST_STUDENT = {"student, test", "test student"}


@dataclass(frozen=True)
class CanvasStudent:
    """One student row of a Canvas gradebook export."""

    name: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    section: str
    line: int

    def describe(self) -> str:
        """``name (login, SIS id)`` for messages."""
        ids = [x for x in (self.sis_login_id, self.sis_user_id) if x]
        return f"{self.name} ({', '.join(ids) or 'Canvas ID ' + self.canvas_id})"


@dataclass(frozen=True)
class CanvasExport:
    """What a Canvas gradebook export says of the course.

    Attributes
    ----------
    path : Path
        The export read.
    students : tuple of CanvasStudent
        In the export's order (Canvas sorts by sortable name).
    assignments : dict of str to tuple of (str, str)
        Assignment id -> (its column header ``Title (id)``, its points possible as written).
    """

    path: Path
    students: tuple[CanvasStudent, ...]
    assignments: dict[str, tuple[str, str]]

    def assignment_titled(self, title: str) -> list[str]:
        """Ids of the export's assignments whose title is ``title``."""
        return [
            a
            for a, (header, _) in self.assignments.items()
            if (m := _TITLE_WITH_ID.match(header)) and m.group("title") == title
        ]


@dataclass(frozen=True)
class CanvasRow:
    """One row to write: a Canvas identity and the total points."""

    name: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    section: str
    total: str


# --------------------------------------------------------------------------- the export


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # re-saved by Excel on Windows


def read_canvas_export(path: Path) -> CanvasExport:
    """Read a Canvas gradebook export (``Grades > Export > Export Entire Gradebook``).

    Parameters
    ----------
    path : Path, an existing CSV file
        The export as downloaded (``,`` or ``;`` separated, UTF-8 with or without BOM).

    Returns
    -------
    CanvasExport
        Its students (Canvas's Test Student left out) and its assignments.

    Raises
    ------
    InvalidInputError
        If the file cannot be read or its header is not a Canvas gradebook's (``Student``
        or ``LastName, FirstName``, then ``ID``, the SIS columns, ``Section``).

    Notes
    -----
    Rows that are not students are skipped as Canvas's importer skips them: the
    ``Points Possible`` row (read for each assignment's points) and the row that marks
    muted or manually posted assignments.
    """
    path = Path(path)
    try:
        text = _decode(path.read_bytes())
    except OSError as exc:
        raise InvalidInputError(
            f"canvas export must be a readable file, got {str(path)!r}"
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [h.strip() for h in rows[0]] if rows else []
    split_name = header[:2] == ["LastName", "FirstName"]
    name_columns = 2 if split_name else 1
    if (
        len(header) <= name_columns + 1
        or (not split_name and header[0] != "Student")
        or header[name_columns] != "ID"
        or "Section" not in header
    ):
        raise InvalidInputError(
            f"canvas export must be a Canvas gradebook export (Grades > Export): its header "
            f"starts Student, ID, [SIS User ID,] SIS Login ID, Section; {path} starts "
            f"{', '.join(header[:5]) or '(empty)'}"
        )
    at = {name: k for k, name in enumerate(header)}
    section = at["Section"]
    assignments = {
        m.group("id"): (name, "")
        for name in header[section + 1 :]
        if (m := _TITLE_WITH_ID.match(name))
    }

    def cell(row: list[str], column: str) -> str:
        k = at.get(column)
        return row[k].strip() if k is not None and k < len(row) else ""

    students = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if "Points Possible" in row[0]:
            for assignment, (name, _) in assignments.items():
                assignments[assignment] = (name, cell(row, name))
            continue
        if all(_POSTING_ROW.match(c) for c in row):
            continue
        name = f"{row[0].strip()}, {row[1].strip()}" if split_name else row[0].strip()
        if name.casefold() in _TEST_STUDENT:
            continue
        students.append(
            CanvasStudent(
                name,
                cell(row, "ID"),
                cell(row, "SIS User ID"),
                cell(row, "SIS Login ID"),
                cell(row, "Section"),
                line,
            )
        )
    return CanvasExport(path, tuple(students), assignments)


# --------------------------------------------------------------------------- matching


def match_canvas_students(
    grades: Sequence[FinalGrade], export: CanvasExport
) -> tuple[list[CanvasRow], list[str], list[str]]:
    """Pair graded students with the export's Canvas students.

    A Canvas student is a graded student's when its ``SIS User ID`` or ``SIS Login ID`` is
    that student's id or email (case ignored). Nothing is guessed from names.

    Returns
    -------
    rows : list of CanvasRow
        One per Canvas student matched to a final grade, in the export's order.
    not_written : list of str
        Graded students left out, and why: no Canvas student matches, several do, one Canvas
        student matches several submissions, or the grade is not final.
    canvas_only : list of str
        Canvas students no submission matches (no grade written for them).
    """
    owners: dict[int, list[tuple[FinalGrade, Member]]] = {}
    by_identity: dict[str, list[int]] = {}
    for k, student in enumerate(export.students):
        for identity in {student.sis_user_id.casefold(), student.sis_login_id.casefold()} - {""}:
            by_identity.setdefault(identity, []).append(k)
    not_written: list[str] = []
    for grade in grades:
        for member in grade.members:
            found = sorted({k for i in member.identities for k in by_identity.get(i, [])})
            if not found:
                not_written.append(
                    f"{member.describe()}: no Canvas student has this id or email as "
                    "SIS User ID or SIS Login ID"
                )
            elif len(found) > 1:
                names = "; ".join(export.students[k].describe() for k in found)
                not_written.append(f"{member.describe()}: matches several Canvas students: {names}")
            else:
                owners.setdefault(found[0], []).append((grade, member))
    rows: list[CanvasRow] = []
    canvas_only: list[str] = []
    for k, student in enumerate(export.students):
        claimed = owners.get(k, [])
        if not claimed:
            canvas_only.append(student.describe())
            continue
        if len(claimed) > 1:
            # Two submissions for one Canvas student: which grade counts is the instructor's call.
            others = ", ".join(member.describe() for _, member in claimed)
            not_written += [
                f"{member.describe()}: {student.describe()} is matched by several submissions "
                f"({others})"
                for _, member in claimed
            ]
            continue
        grade, member = claimed[0]
        if not grade.final:
            not_written.append(f"{member.describe()}: not graded yet ({', '.join(grade.pending)})")
            continue
        rows.append(
            CanvasRow(
                student.name,
                student.canvas_id,
                student.sis_user_id,
                student.sis_login_id,
                student.section,
                grade.total,
            )
        )
    return rows, not_written, canvas_only


def _rows_without_export(grades: Sequence[FinalGrade]) -> tuple[list[CanvasRow], list[str]]:
    """Rows named by the grader and the roster: name, and the email as the SIS login."""
    rows, not_written = [], []
    for grade in grades:
        for member in grade.members:
            if not grade.final:
                not_written.append(
                    f"{member.describe()}: not graded yet ({', '.join(grade.pending)})"
                )
            elif not (member.name or member.email):
                not_written.append(
                    f"{member.describe()}: no name or email to match in Canvas "
                    "(give a roster with name and email, or Canvas's export)"
                )
            else:
                rows.append(CanvasRow(member.name, "", "", member.email, "", grade.total))
    rows.sort(key=lambda r: (r.name.casefold(), r.sis_login_id))
    return rows, not_written


# --------------------------------------------------------------------------- the file


def canvas_assignment_header(
    name: str, assignment_id: int | None, export: CanvasExport | None, possible: str
) -> tuple[str, list[str]]:
    """The lab's column title in Canvas's form, and notes for the instructor.

    With an id: ``Name (id)``, the name as the export titles that assignment when it has
    it. Without one: the export's assignment of that title if there is exactly one, else the
    bare name (Canvas then creates a new assignment).
    """
    notes = []
    known: tuple[str, str] | None = None
    if assignment_id is not None:
        known = export.assignments.get(str(assignment_id)) if export is not None else None
        if export is not None and known is None:
            notes.append(
                f"the export has no assignment with id {assignment_id}: check the id "
                "(Canvas matches the column by it)"
            )
        header = known[0] if known else f"{name} ({assignment_id})"
    else:
        titled = export.assignment_titled(name) if export is not None else []
        if len(titled) == 1:
            known = export.assignments[titled[0]]  # type: ignore[union-attr]
            header = known[0]
        else:
            header = name
            notes.append(
                f"no assignment id given: Canvas will grade an assignment titled {name!r}, or "
                "create one (pass --canvas-assignment-id to pick an existing assignment)"
            )
    if known and known[1] and _same_points(known[1], possible) is False:
        notes.append(
            f"Canvas's {header} has {known[1]} points possible, this lab {possible}: "
            "set the assignment's points to match before importing"
        )
    return header, notes


def _same_points(canvas: str, possible: str) -> bool | None:
    try:
        return abs(float(canvas.replace(",", ".")) - float(possible)) < 1e-9
    except ValueError:
        return None


def write_canvas_gradebook(
    grades: Sequence[FinalGrade],
    path: Path,
    *,
    assignment_name: str,
    assignment_id: int | None = None,
    export: CanvasExport | None = None,
) -> LmsFile:
    """Write the lab's totals as Canvas's gradebook CSV, ready for ``Grades > Import``.

    Parameters
    ----------
    grades : sequence of FinalGrade
        One per submission (:func:`labtools.ta.lms_grades.final_grades`).
    path : Path
        The CSV to write (replaced atomically).
    assignment_name : str
        The Canvas assignment's title.
    assignment_id : int or None
        The Canvas assignment's id (in its URL, ``/assignments/<id>``): the column is then
        ``Name (id)`` and Canvas grades that assignment.
    export : CanvasExport or None
        The course's gradebook export: students are matched through it and their rows carry
        Canvas's own ID, SIS ids, name and section. None: rows carry the name and email the
        grader and roster know.

    Returns
    -------
    LmsFile
        The path, the rows written, every student left out with the reason, notes.

    Notes
    -----
    The file: the header (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
    ``Section``, the lab's column), the ``Points Possible`` row with the lab's points, one
    row per student with a final grade. A student whose grade is not final is left out
    rather than written empty: an empty cell would clear a score already in Canvas.
    """
    possible = next((g.possible for g in grades if g.possible), "")
    header, notes = canvas_assignment_header(assignment_name, assignment_id, export, possible)
    if export is not None:
        rows, not_written, canvas_only = match_canvas_students(grades, export)
        if canvas_only:
            notes.append(
                f"Canvas students without a graded submission here ({len(canvas_only)}; no "
                f"grade written): {'; '.join(canvas_only)}"
            )
    else:
        rows, not_written = _rows_without_export(grades)
        notes.append(
            "no Canvas export given: Canvas matches these rows by SIS login (the email) or "
            "name; pass --canvas-export for exact matches"
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY_COLUMNS, header])
    writer.writerow([POINTS_POSSIBLE, "", "", "", "", possible])
    for r in rows:
        writer.writerow([r.name, r.canvas_id, r.sis_user_id, r.sis_login_id, r.section, r.total])
    path = Path(path)
    write_atomic(path, out.getvalue())
    return LmsFile("Canvas", path, len(rows), tuple(not_written), tuple(notes))
