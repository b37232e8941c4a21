"""Tracks bound to students: the instructor's optional roster, and who submitted.

Without a roster, a submission is graded on the track its ``TRACK`` names, as before. With
one (``roster.csv`` in the autograder source; ``ops-lab build --roster FILE`` puts it there),
the hidden tests use the track the roster gives the submitter, whatever ``TRACK`` says, and
a ``TRACK`` that disagrees gets a plain message.

The roster is a CSV with a header and two columns, ``student`` and ``track``: the student's
email or id (Gradescope's email, SID or user id; nbgrader's student id) and a track's name
or key (``Edge Guardian`` or ``edge_guardian``). Emails match without regard to case.

Two more columns are optional, ``name`` and ``email``: the grader never reads them, the
gradebooks for the LMS do (:mod:`labtools.ta`), to name students whose submission does not
(an nbgrader student id, a file name). A ``student`` that is an email stands for the email
too. Other columns are ignored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opsmodel.tracks import get_track

__all__ = [
    "ROSTER_FILE",
    "Roster",
    "RosterPerson",
    "gradescope_identities",
    "load_roster",
    "track_note",
]

#: File name of the roster in the autograder's source folder.
ROSTER_FILE = "roster.csv"


def _key(identity: str) -> str:
    return identity.strip().casefold()


@dataclass(frozen=True)
class RosterPerson:
    """What the roster says of one student besides the track (empty when not given)."""

    student: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Roster:
    """Student identity -> track display name (``"Edge Guardian"``), and who the student is.

    Attributes
    ----------
    tracks : Mapping of str to str
        Casefolded identity (the ``student`` column) -> the track's display name.
    people : Mapping of str to RosterPerson
        Casefolded identity -> the row's ``student``, ``name`` and ``email``; the email too
        is a key when the row gives one.
    """

    tracks: Mapping[str, str]
    people: Mapping[str, RosterPerson] = field(default_factory=dict)

    def track_for(self, identities: Iterable[str]) -> str | None:
        """The track of the first identity the roster knows, or ``None``."""
        for identity in identities:
            track = self.tracks.get(_key(str(identity)))
            if track is not None:
                return track
        return None

    def person_for(self, identities: Iterable[str]) -> RosterPerson | None:
        """The roster's row of the first identity it knows (by ``student`` or ``email``)."""
        for identity in identities:
            person = self.people.get(_key(str(identity)))
            if person is not None:
                return person
        return None


def load_roster(path: Path) -> Roster:
    """Read and check a roster CSV.

    Parameters
    ----------
    path : pathlib.Path
        The CSV (columns ``student`` and ``track``; ``name`` and ``email`` optional).

    Returns
    -------
    Roster

    Raises
    ------
    ValueError
        If a column is missing, a row names no student or an unknown track, or a student
        appears twice with different tracks, or two rows give the same email to different
        students. Every bad row is listed.
    """
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().casefold() for f in reader.fieldnames or []}
    if not {"student", "track"} <= fields:
        raise ValueError(
            f"roster {path} must have the columns 'student' and 'track', got {reader.fieldnames}"
        )
    tracks: dict[str, str] = {}
    people: dict[str, RosterPerson] = {}
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        row = {k.strip().casefold(): (v or "").strip() for k, v in row.items() if k}
        student, name = row.get("student", ""), row.get("track", "")
        if not student:
            problems.append(f"line {line}: no student")
            continue
        try:
            track = get_track(name).name
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if tracks.get(_key(student), track) != track:
            problems.append(f"line {line}: {student} already has the track {tracks[_key(student)]}")
        tracks[_key(student)] = track
        email = row.get("email", "") or (student if "@" in student else "")
        person = RosterPerson(student, row.get("name", ""), email)
        for identity in {_key(student), _key(email)} - {""}:
            known = people.get(identity)
            if known is not None and _key(known.student) != _key(student):
                # One email for two students would give one student's grade to the other.
                problems.append(f"line {line}: {email} is already the email of {known.student}")
            people[identity] = person
    if problems:
        raise ValueError(f"roster {path} has bad rows: " + "; ".join(problems))
    return Roster(tracks, people)


def gradescope_identities(metadata_path: Path) -> list[str]:
    """Every email, SID and user id of the submitters in ``submission_metadata.json``.

    A missing or unreadable file gives no identity (the submission is then graded on its
    own ``TRACK``).
    """
    try:
        data = json.loads(Path(metadata_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    users = data.get("users") if isinstance(data, dict) else None
    found = []
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict):
            found += [str(user[k]) for k in ("email", "sid", "id") if user.get(k)]
    return found


def track_note(assigned: str, seen: object) -> str | None:
    """The student's message when their ``TRACK`` is not the one assigned to them."""
    try:
        if isinstance(seen, str) and get_track(seen).name == assigned:
            return None
    except ValueError:
        pass
    return (
        f"Your notebook sets TRACK = {seen!r}, but your instructor assigned you the track "
        f"{assigned!r}: the hidden tests used {assigned!r}'s numbers. Set TRACK = {assigned!r}, "
        "run your notebook again and resubmit."
    )
