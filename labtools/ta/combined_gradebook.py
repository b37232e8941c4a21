"""The combined gradebook for the LMS: autograded and written points, one CSV row per student.

The written points come from a checked sheet (:mod:`labtools.ta.filled_sheet`); the
autograded ones from one of two places, read here apart:

- a batch's ``gradebook.csv`` (``ops-lab batch``, Gradescope-format results): one column per
  autograded question (:func:`autograded_from_batch`);
- an nbgrader course's gradebook: its test cells summed per question
  (:func:`autograded_from_nbgrader`, reading
  :func:`labtools.ta.nbgrader_gradebook.read_case_grades`).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from labtools.files import write_atomic
from labtools.grading.roster import Roster
from labtools.rubric import Rubric, load_rubric
from labtools.ta.filled_sheet import ScoreSheet
from labtools.ta.lms_grades import members
from labtools.ta.nbgrader_gradebook import read_case_grades
from labtools.ta.sheet import PacketKey
from opsmodel._validation import InvalidInputError

__all__ = [
    "AutogradedRow",
    "autograded_from_batch",
    "autograded_from_nbgrader",
    "combined_rows",
    "write_combined_gradebook",
    "write_combined_rows",
]


# --------------------------------------------------------------------------- helpers


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
class AutogradedRow:
    """One student's autograded scores, per question (None: no score for it)."""

    key: str
    student_id: str
    name: str
    email: str
    scores: dict[str, float | None]


# --------------------------------------------------------------------------- autograded scores


def autograded_from_batch(batch: Path, auto_questions: list[str]) -> list[AutogradedRow]:
    """The autograded scores in a batch's ``gradebook.csv``, one row per submission.

    Parameters
    ----------
    batch : Path
        A batch output folder, or its ``gradebook.csv``.
    auto_questions : list of str
        The questions to read (a missing or non-numeric cell is None).

    Raises
    ------
    InvalidInputError
        If there is no such gradebook.
    """
    path = batch if batch.is_file() else batch / "gradebook.csv"
    if not path.is_file():
        raise InvalidInputError(
            f"batch must be a batch output folder with gradebook.csv, or that file, "
            f"got {str(batch)!r}"
        )
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        AutogradedRow(
            r.get("submission", ""),
            r.get("student_id", "") or r.get("submission", ""),
            r.get("name", "") or "",
            r.get("email", "") or "",
            {q: _float_or_none(r.get(q)) for q in auto_questions},
        )
        for r in rows
        if r.get("submission")
    ]


def autograded_from_nbgrader(
    course: Path, auto_questions: list[str], key: PacketKey, course_id: str | None
) -> list[AutogradedRow]:
    """The autograded scores in an nbgrader course's gradebook, one row per submission.

    A question's score is the sum of its graded test cells; None while none is graded.
    Students are keyed as in the packet's ``key`` (their nbgrader id when not in it).
    """
    key_of = {s.student_id: s.key for s in key.students}
    rows = []
    for student, cases in read_case_grades(course, course_id=course_id).items():
        scores: dict[str, float | None] = dict.fromkeys(auto_questions)
        for case in cases:
            if case.question in scores and case.score is not None:
                scores[case.question] = (scores[case.question] or 0.0) + case.score
        rows.append(AutogradedRow(key_of.get(student, student), student, "", "", scores))
    return rows


# --------------------------------------------------------------------------- the CSV


def combined_rows(
    sheet: ScoreSheet,
    *,
    rubric: Rubric | None = None,
    batch: Path | None = None,
    nbgrader_course: Path | None = None,
    course_id: str | None = None,
    roster: Roster | None = None,
) -> tuple[list[str], list[dict[str, str]]]:
    """The combined gradebook's columns and rows (see :func:`write_combined_gradebook`)."""
    rubric = rubric or load_rubric()
    auto_q = [q.name for q in rubric.questions if not q.manual]
    if batch is not None:
        auto_rows = autograded_from_batch(Path(batch), auto_q)
    elif nbgrader_course is not None:
        auto_rows = autograded_from_nbgrader(Path(nbgrader_course), auto_q, sheet.key, course_id)
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
    if roster is not None:
        for key, known in people.items():
            named = members({"student_key": key, **known}, roster)
            known["name"] = known["name"] or "; ".join(m.name for m in named if m.name)
            known["email"] = known["email"] or ";".join(m.email for m in named if m.email)
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
    roster: Roster | None = None,
) -> Path:
    """Write the combined gradebook: autograded and written points, one row per student.

    Parameters
    ----------
    sheet : ScoreSheet
        A checked sheet (:func:`labtools.ta.filled_sheet.read_scores`).
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
    roster : Roster or None
        The instructor's roster: names and emails of students the grader knows by id only
        (an nbgrader student, a file name); the grader's own are kept.

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
        sheet,
        rubric=rubric,
        batch=batch,
        nbgrader_course=nbgrader_course,
        course_id=course_id,
        roster=roster,
    )
    return write_combined_rows(path, columns, rows)


def write_combined_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    """Write rows of :func:`combined_rows` as the combined gradebook CSV (atomically)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    write_atomic(path, out.getvalue())
    return path
