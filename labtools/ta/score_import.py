"""``ops-lab ta-import``: the TAs' filled score sheet checked whole, then written to the gradebooks.

``ops-lab ta-import PACKET/scores.csv`` does three things, in this order, and stops at the
first that fails so that nothing is half imported:

1. :func:`~labtools.ta.filled_sheet.read_scores` checks every row of the sheet against the
   packet's key and the rubric: each item a number from 0 to its points (empty: not graded
   yet, reported), no unknown student, label or column, no student twice. Any bad row and
   the whole file is refused, with every bad row listed by line number.
2. :func:`~labtools.ta.nbgrader_gradebook.write_nbgrader_scores` (nbgrader courses) writes,
   per student and written question, the manual score (the sum of its items) and a comment
   listing each item's points into the course's gradebook through
   :class:`nbgrader.api.Gradebook`, in one transaction.
3. :func:`~labtools.ta.combined_gradebook.write_combined_gradebook` writes one CSV for the
   LMS: per student the autograded and written points per part, every question, the totals
   and the maximum, from the batch's ``gradebook.csv`` (or nbgrader's gradebook) plus the
   imported written scores.

A question whose items are only partly filled is "not graded yet": it is reported and not
imported, never imported as a partial sum. The sheet stays the record of the TAs' scores;
importing it again rewrites the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labtools.rubric import Rubric, load_rubric
from labtools.ta.combined_gradebook import autograded_from_batch, write_combined_gradebook
from labtools.ta.filled_sheet import ScoreSheet, read_scores
from labtools.ta.nbgrader_gradebook import NbgraderWrite, write_nbgrader_scores

__all__ = ["ImportSummary", "import_scores"]


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
        autograded_from_batch(Path(batch), [])
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
