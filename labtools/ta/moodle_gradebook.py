"""Moodle's grade import: a CSV of one identifier column and the lab's grade column.

Moodle's "Import grades from CSV" (``Grades > Import > CSV file``) previews the file, then asks
which column identifies the user ("Map from") and by which user field ("Map to": ``Email
address`` to ``useremail``, or ``ID number`` to ``useridnumber``), and which grade item each
other column fills. :func:`write_moodle_grades` writes exactly those two columns, so the
mapping is two choices: the identifier, and the lab's grade item.

Moodle's importer (``grade/import/csv/classes/load_data.php``) refuses the whole file when a
row names a user it does not know, and reads an empty grade as "no grade", clearing one that
is there; a row with an empty identifier is not checked at all. So every row written has its
identifier and a final grade: students without either are left out and listed instead.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from labtools.files import write_atomic
from labtools.ta.lms_grades import FinalGrade, LmsFile, Member

__all__ = ["MOODLE_IDENTIFIERS", "write_moodle_grades"]

#: Identifier -> its column title (as Moodle's own export titles it) and its "Map to" field.
MOODLE_IDENTIFIERS = {
    "email": ("Email address", "useremail"),
    "idnumber": ("ID number", "useridnumber"),
}


def write_moodle_grades(
    grades: Sequence[FinalGrade],
    path: Path,
    *,
    assignment_name: str,
    identifier: str = "email",
) -> LmsFile:
    """Write the lab's totals as a CSV for Moodle's "Import grades from CSV".

    Parameters
    ----------
    grades : sequence of FinalGrade
        One per submission (:func:`labtools.ta.lms_grades.final_grades`).
    path : Path
        The CSV to write (replaced atomically).
    assignment_name : str
        The grade column's title (map it to the lab's grade item).
    identifier : {"email", "idnumber"}
        Which student field identifies rows: the email (grader's or roster's), or the
        student's id in the grader (Gradescope SID, nbgrader id), which must be Moodle's
        "ID number".

    Returns
    -------
    LmsFile
        The path, the rows written, every student left out with the reason, notes.

    Raises
    ------
    ValueError
        If ``identifier`` is not one of :data:`MOODLE_IDENTIFIERS`.

    Examples
    --------
    The file for two students::

        Email address,Operations at Scale
        ann@uni.edu,41.5
        bo@uni.edu,38
    """
    if identifier not in MOODLE_IDENTIFIERS:
        raise ValueError(
            f"identifier must be one of {', '.join(MOODLE_IDENTIFIERS)}, got {identifier!r}"
        )
    column, map_to = MOODLE_IDENTIFIERS[identifier]
    candidates: list[tuple[str, FinalGrade, Member]] = []
    not_written = []
    for grade in grades:
        for member in grade.members:
            value = member.email if identifier == "email" else member.student_id
            if not grade.final:
                not_written.append(
                    f"{member.describe()}: not graded yet ({', '.join(grade.pending)})"
                )
            elif not value:
                not_written.append(f"{member.describe()}: no {column.lower()} known")
            else:
                candidates.append((value, grade, member))
    count = Counter(value.casefold() for value, _, _ in candidates)
    rows = []
    for value, grade, member in candidates:
        if count[value.casefold()] > 1:
            # Two rows for one Moodle user: Moodle would keep whichever came last.
            not_written.append(
                f"{member.describe()}: {value} is on {count[value.casefold()]} submissions; "
                "none written"
            )
        else:
            rows.append((value, grade.total))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column, assignment_name])
    writer.writerows(sorted(rows, key=lambda r: r[0].casefold()))
    notes = (
        f'in Moodle map from "{column}" to "{map_to}", and "{assignment_name}" to the '
        "lab's grade item; Moodle refuses the whole file if it does not know a row's user",
    )
    path = Path(path)
    write_atomic(path, out.getvalue())
    return LmsFile("Moodle", path, len(rows), tuple(not_written), notes)
