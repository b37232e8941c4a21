"""The score sheet's format: the blind CSV a TA fills, and the packet's key file kept apart.

``scores.csv``::

    # ops-lab ta-packet; seed 4711; 120 students; fill each item with 0 to its points ...
    label,r1.pairs,r1.entanglement,r1.evidence,r1_heterogeneity.comment,r2.test,...
    S-001,,,,,,...

One row per student, in the packet's (shuffled) order, named by the anonymous label only;
one column per rubric item of every written question, then that question's comment column.
The first line is a comment that records the packet (its seed); a reader skips leading lines
whose first field starts with ``#``, which survives a round trip through a spreadsheet.

``key.json`` holds the seed, the rubric's digest, where the submissions came from, and every
student's label, key, id, name and email: the only label -> student mapping, which stays with
the instructor and is read back at import.

Sheets written before the sheet was blind also have a ``student_key`` column first
(:data:`KEY_COLUMN`); the import still reads them, checking each key against its label.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labtools.rubric import Rubric

__all__ = [
    "KEY_COLUMN",
    "LABEL_COLUMN",
    "KEY_FORMAT",
    "comment_column",
    "sheet_columns",
    "rubric_digest",
    "KeyStudent",
    "PacketKey",
    "render_blank_sheet",
    "read_key",
]

#: The student's key: a column of the sheets written before they were blind (read, never written).
KEY_COLUMN = "student_key"
LABEL_COLUMN = "label"
#: Format tag of ``key.json``; a reader refuses any other.
KEY_FORMAT = "ops-lab ta-packet key 1"
_COMMENT_SUFFIX = ".comment"


def comment_column(question: str) -> str:
    """The comment column of ``question`` (``r1_heterogeneity.comment``)."""
    return f"{question}{_COMMENT_SUFFIX}"


def sheet_columns(rubric: Rubric) -> list[str]:
    """Every column of the sheet, in order: the label, then per written question its items
    and its comment column."""
    columns = [LABEL_COLUMN]
    for q in (q for q in rubric.questions if q.manual):
        columns += [item.id for item in q.items]
        columns.append(comment_column(q.name))
    return columns


def rubric_digest(rubric: Rubric) -> str:
    """SHA-256 of the written questions' items and points (what the sheet depends on)."""
    lines = [
        f"{q.name}|{item.id}|{item.points!r}"
        for q in rubric.questions
        if q.manual
        for item in q.items
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class KeyStudent:
    """One student of a packet: the anonymous label and who it stands for.

    Attributes
    ----------
    label : str
        The packet's label (``S-07``).
    key : str
        The batch key (``results/<key>.json``; the combined gradebook's ``student_key``).
    student_id : str
        The id in the course (nbgrader's student id, Gradescope's SIDs joined by ``;``).
    name, email : str
        When known (Gradescope exports).
    problem : str
        Why no notebook could be read, else empty.
    """

    label: str
    key: str
    student_id: str
    name: str = ""
    email: str = ""
    problem: str = ""


@dataclass(frozen=True)
class PacketKey:
    """What ``key.json`` records of a packet.

    Attributes
    ----------
    seed : int
        The shuffle's seed.
    rubric_sha256 : str
        :func:`rubric_digest` of the rubric the packet was made with.
    form : str
        The input form (``files``, ``folders``, ``gradescope``, ``nbgrader``).
    submissions : str
        The folder read.
    nbgrader_course : str
        The nbgrader course folder when the input was one, else empty.
    results : str
        The batch output folder the autograded context came from, else empty.
    students : tuple of KeyStudent
        In packet order.
    created : str
        ISO time of writing.
    """

    seed: int
    rubric_sha256: str
    form: str
    submissions: str
    nbgrader_course: str
    results: str
    students: tuple[KeyStudent, ...]
    created: str = ""

    def to_json(self) -> str:
        """The ``key.json`` text."""
        data: dict[str, Any] = {
            "format": KEY_FORMAT,
            "seed": self.seed,
            "created": self.created,
            "rubric_sha256": self.rubric_sha256,
            "form": self.form,
            "submissions": self.submissions,
            "nbgrader_course": self.nbgrader_course,
            "results": self.results,
            "students": [s.__dict__ for s in self.students],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_key(path: Path) -> PacketKey:
    """Read a packet's ``key.json``.

    Raises
    ------
    ValueError
        If the file is not a key of this format (naming the path and what is wrong).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"key {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        raise ValueError(f"key {path} is not a ta-packet key (format {KEY_FORMAT!r})")
    try:
        students = tuple(KeyStudent(**s) for s in data["students"])
        return PacketKey(
            seed=int(data["seed"]),
            rubric_sha256=str(data["rubric_sha256"]),
            form=str(data["form"]),
            submissions=str(data["submissions"]),
            nbgrader_course=str(data.get("nbgrader_course") or ""),
            results=str(data.get("results") or ""),
            students=students,
            created=str(data.get("created", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"key {path} is malformed: {exc!r}") from exc


def render_blank_sheet(key: PacketKey, rubric: Rubric) -> str:
    """The CSV text of the sheet to fill: the comment line, the header, one empty row each.

    Rows carry the label only: who a label stands for is in the key, never in the sheet.
    """
    out = io.StringIO()
    out.write(
        f"# ops-lab ta-packet; seed {key.seed}; {len(key.students)} students in packet order; "
        "fill each item with 0 to its points (empty: not graded yet); "
        "then run ops-lab ta-import\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    columns = sheet_columns(rubric)
    writer.writerow(columns)
    for s in key.students:
        writer.writerow([s.label] + [""] * (len(columns) - 1))
    return out.getvalue()
