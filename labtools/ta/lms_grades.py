"""The grades an LMS file is made of: one final grade per submission, and who its students are.

The combined gradebook (:mod:`labtools.ta.combined_gradebook`) has one row per submission,
named as the grader knew it: Gradescope's SIDs, names and emails (several, ``;``-joined, for
a group submission), nbgrader's student id alone, or a file name. An LMS wants one row per
student, named as the LMS knows them. This module splits each submission into its
:class:`Member` students and fills what the grader did not know (names, emails) from the
instructor's roster (:mod:`labtools.grading.roster`); the Canvas and Moodle writers
(:mod:`labtools.ta.canvas_gradebook`, :mod:`labtools.ta.moodle_gradebook`) take it from there.

A submission with a question still pending (a written question not graded, or no autograder
result) has no final grade: the LMS files leave it out and say so, never a partial sum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from labtools.grading.roster import Roster

__all__ = [
    "DEFAULT_ASSIGNMENT_NAME",
    "Member",
    "FinalGrade",
    "LmsFile",
    "members",
    "final_grades",
]

#: The LMS assignment's name when none is given: the lab's title.
DEFAULT_ASSIGNMENT_NAME = "Operations at Scale"


@dataclass(frozen=True)
class Member:
    """One student of a submission, as an LMS file names them.

    Attributes
    ----------
    key : str
        The submission (the combined gradebook's ``student_key``).
    student_id : str
        This student's id in the grader (an SID, an nbgrader id, a file name), or empty.
    name, email : str
        From the grader, else from the roster; empty when neither knows.
    """

    key: str
    student_id: str
    name: str
    email: str

    @property
    def identities(self) -> tuple[str, ...]:
        """Every id and email known for this student, casefolded (what LMS ids match)."""
        return tuple(
            dict.fromkeys(i.strip().casefold() for i in (self.student_id, self.email) if i.strip())
        )

    def describe(self) -> str:
        """``name <email> (id; submission key)``, with what is known."""
        who = self.name or self.student_id or self.key
        extra = [x for x in (self.email, self.student_id) if x and x != who]
        if self.key not in (self.student_id, who):
            extra.append(f"submission {self.key}")
        return f"{who} ({', '.join(extra)})" if extra else who


@dataclass(frozen=True)
class FinalGrade:
    """One submission's final grade for the LMS.

    Attributes
    ----------
    key : str
        The submission.
    members : tuple of Member
        Its students (one, or a group's).
    total : str
        The total points as the combined gradebook writes them; empty when pending.
    possible : str
        The assignment's points.
    pending : tuple of str
        What is not graded yet (written questions, ``autograder``); empty when final.
    """

    key: str
    members: tuple[Member, ...]
    total: str
    possible: str
    pending: tuple[str, ...]

    @property
    def final(self) -> bool:
        """True when every question has its score."""
        return not self.pending


@dataclass(frozen=True)
class LmsFile:
    """One LMS file written, and who is not in it.

    Attributes
    ----------
    lms : str
        ``Canvas`` or ``Moodle``.
    path : Path
        The file.
    written : int
        Student rows written.
    not_written : tuple of str
        One line per student left out, with the reason.
    notes : tuple of str
        What the instructor should know before importing.
    """

    lms: str
    path: Path
    written: int
    not_written: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [f"{self.lms}: {self.path} ({self.written} students)"]
        if self.not_written:
            lines.append(f"{self.lms}: not in the file ({len(self.not_written)}):")
            lines += [f"  {line}" for line in self.not_written]
        lines += [f"{self.lms}: note: {note}" for note in self.notes]
        return "\n".join(lines)


def _split(text: str, sep: str = ";") -> list[str]:
    return [part.strip() for part in text.split(sep) if part.strip()]


def members(row: Mapping[str, str], roster: Roster | None = None) -> tuple[Member, ...]:
    """The students of one combined-gradebook row, named from the row and the roster.

    Parameters
    ----------
    row : mapping
        A combined gradebook row (``student_key``, ``student_id``, ``name``, ``email``).
    roster : Roster or None
        Names and emails for students the grader knows by id only.

    Returns
    -------
    tuple of Member
        One per SID of a group submission (names and emails paired with SIDs only when the
        row has as many of each), else one.

    Examples
    --------
    >>> [m.describe() for m in members({"student_key": "ann", "student_id": "ann",
    ...                                  "name": "", "email": "ann@uni.edu"})]
    ['ann (ann@uni.edu)']
    """
    key = row.get("student_key", "")
    ids = _split(row.get("student_id", ""))
    names = _split(row.get("name", ""))
    emails = _split(row.get("email", ""))
    if len(ids) <= 1:
        found = [(ids[0] if ids else "", "; ".join(names), ";".join(emails))]
    elif len(names) == len(ids) and len(emails) == len(ids):
        found = list(zip(ids, names, emails, strict=True))
    else:
        # Gradescope lists only the emails it has: pairing them by position could swap two
        # students, so a group's names and emails come from the roster only.
        found = [(sid, "", "") for sid in ids]
    result = []
    for student_id, name, email in found:
        person = roster.person_for([student_id, email]) if roster is not None else None
        if person is not None:
            name = name or person.name
            email = email or person.email
        result.append(Member(key, student_id, name, email))
    return tuple(result)


def final_grades(
    rows: Sequence[Mapping[str, str]], roster: Roster | None = None
) -> list[FinalGrade]:
    """Every combined-gradebook row as a :class:`FinalGrade`, in the rows' order."""
    grades = []
    for row in rows:
        pending = tuple(_split(row.get("pending", "")))
        grades.append(
            FinalGrade(
                key=row.get("student_key", ""),
                members=members(row, roster),
                total="" if pending else row.get("total", ""),
                possible=row.get("max", ""),
                pending=pending,
            )
        )
    return grades
