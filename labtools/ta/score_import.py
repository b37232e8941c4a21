"""``ops-lab ta-import``: the TAs' filled score sheet checked whole, then written to the gradebooks.

``ops-lab ta-import PACKET/scores.csv`` checks every input first (the sheet, the key, the
batch, the roster, the Canvas export), then writes, in this order, so that nothing is half
imported:

1. :func:`~labtools.ta.filled_sheet.read_scores` checks every row of the sheet against the
   packet's key and the rubric: each item a number from 0 to its points (empty: not graded
   yet, reported), no unknown label or column, no student twice. Any bad row and
   the whole file is refused, with every bad row listed by line number.
2. :func:`~labtools.ta.nbgrader_gradebook.write_nbgrader_scores` (nbgrader courses) writes,
   per student and written question, the manual score (the sum of its items) and a comment
   listing each item's points into the course's gradebook through
   :class:`nbgrader.api.Gradebook`, in one transaction.
3. :func:`~labtools.ta.combined_gradebook.write_combined_gradebook` writes the full CSV:
   per student the autograded and written points per part, every question, the totals and
   the maximum, from the batch's ``gradebook.csv`` (or nbgrader's gradebook) plus the
   imported written scores; names and emails the grader lacks come from the roster.
4. On request, the files an LMS imports, one column for the lab's total:
   :func:`~labtools.ta.canvas_gradebook.write_canvas_gradebook` (Canvas's gradebook CSV,
   students matched through the course's Canvas export) and
   :func:`~labtools.ta.moodle_gradebook.write_moodle_grades` (Moodle's CSV grade import).
   Students an LMS file leaves out (no match, grade not final) are listed.

The sheet is blind (labels only); the key beside it, or given with ``key``, names the
students.

A question whose items are only partly filled is "not graded yet": it is reported and not
imported, never imported as a partial sum. The sheet stays the record of the TAs' scores;
importing it again rewrites the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labtools.grading.roster import Roster, load_roster
from labtools.rubric import Rubric, load_rubric
from labtools.ta.canvas_gradebook import CanvasExport, read_canvas_export, write_canvas_gradebook
from labtools.ta.combined_gradebook import (
    autograded_from_batch,
    combined_rows,
    write_combined_rows,
)
from labtools.ta.filled_sheet import ScoreSheet, read_scores
from labtools.ta.lms_grades import DEFAULT_ASSIGNMENT_NAME, LmsFile, final_grades
from labtools.ta.moodle_gradebook import MOODLE_IDENTIFIERS, write_moodle_grades
from labtools.ta.nbgrader_gradebook import NbgraderWrite, write_nbgrader_scores
from opsmodel._validation import InvalidInputError

#: File names of the LMS files, beside the combined gradebook.
CANVAS_FILE = "canvas-gradebook.csv"
MOODLE_FILE = "moodle-grades.csv"

__all__ = ["CANVAS_FILE", "MOODLE_FILE", "ImportSummary", "import_scores"]


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
    lms : tuple of LmsFile
        The LMS files written (Canvas, Moodle), with the students each leaves out.
    """

    sheet: ScoreSheet
    nbgrader: NbgraderWrite | None
    combined: Path
    lms: tuple[LmsFile, ...] = ()

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
        lines += [f.describe() for f in self.lms]
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
    roster: Path | None = None,
    canvas: bool = False,
    canvas_export: Path | None = None,
    canvas_assignment_id: int | None = None,
    moodle: bool = False,
    moodle_identifier: str = "email",
    assignment_name: str = DEFAULT_ASSIGNMENT_NAME,
) -> ImportSummary:
    """Check a filled sheet whole, then write nbgrader's gradebook, the combined CSV and the
    LMS files asked for.

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
    roster : Path or None
        The instructor's roster CSV (:mod:`labtools.grading.roster`; optional ``name`` and
        ``email`` columns): names and emails of students the grader knows by id only.
    canvas : bool
        Also write ``canvas-gradebook.csv`` beside the combined gradebook.
    canvas_export : Path or None
        The course's Canvas gradebook export: students are matched through it (implies
        ``canvas``).
    canvas_assignment_id : int or None
        The Canvas assignment's id: the column is titled ``Name (id)`` (implies ``canvas``).
    moodle : bool
        Also write ``moodle-grades.csv`` beside the combined gradebook.
    moodle_identifier : {"email", "idnumber"}
        The Moodle file's identifier column.
    assignment_name : str
        The LMS assignment's title (Canvas's column, Moodle's grade column).

    Returns
    -------
    ImportSummary
        What was imported, what is pending, where it went.

    Raises
    ------
    ScoreSheetError
        If any line of the sheet is bad (all listed); nothing is written.
    InvalidInputError
        If the key, the batch gradebook, the nbgrader gradebook, the roster or the Canvas
        export cannot be used, or the Moodle identifier is unknown; nothing is written.

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
    # Every input is checked before anything is written: a bad path must not leave a half
    # import.
    if batch is not None:
        autograded_from_batch(Path(batch), [])
    checked_roster = _roster(roster)
    export = _canvas_export(canvas_export)
    if moodle and moodle_identifier not in MOODLE_IDENTIFIERS:
        raise InvalidInputError(
            f"moodle identifier must be one of {', '.join(MOODLE_IDENTIFIERS)}, "
            f"got {moodle_identifier!r}"
        )
    written = None
    if course is not None:
        written = write_nbgrader_scores(checked, course, rubric=rubric, course_id=course_id)
    path = (
        Path(combined) if combined is not None else checked.path.parent / "combined-gradebook.csv"
    )
    columns, rows = combined_rows(
        checked,
        rubric=rubric,
        batch=batch,
        nbgrader_course=course,
        course_id=course_id,
        roster=checked_roster,
    )
    write_combined_rows(path, columns, rows)
    lms: list[LmsFile] = []
    canvas = canvas or export is not None or canvas_assignment_id is not None
    if canvas or moodle:
        grades = final_grades(rows, checked_roster)
        if canvas:
            lms.append(
                write_canvas_gradebook(
                    grades,
                    path.parent / CANVAS_FILE,
                    assignment_name=assignment_name,
                    assignment_id=canvas_assignment_id,
                    export=export,
                )
            )
        if moodle:
            lms.append(
                write_moodle_grades(
                    grades,
                    path.parent / MOODLE_FILE,
                    assignment_name=assignment_name,
                    identifier=moodle_identifier,
                )
            )
    return ImportSummary(checked, written, path, tuple(lms))


def _roster(path: Path | None) -> Roster | None:
    """The roster at ``path`` (None: no roster), its problems as bad input."""
    if path is None:
        return None
    try:
        return load_roster(Path(path))
    except OSError as exc:
        raise InvalidInputError(f"roster must be a readable CSV file, got {str(path)!r}") from exc
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc


def _canvas_export(path: Path | None) -> CanvasExport | None:
    return read_canvas_export(Path(path)) if path is not None else None
