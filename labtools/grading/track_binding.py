"""Which numbers a submission's hidden tests use, and what the student is told about it.

A submission is graded on its own ``TRACK`` unless the instructor's roster assigns the
submitter a track (:mod:`labtools.grading.roster`). With per-student variants
(:mod:`labtools.grading.variant_codes`) the tests use the submitter's own variant of that
track: the code is recomputed from the identity the platform reports, never taken from the
notebook, so a notebook copied from a classmate is graded on the submitter's numbers, and
the values worked out on the classmate's numbers do not match. Both graders (the Gradescope
and batch harness, nbgrader's sandboxed step) decide it here, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labtools.grading.roster import Roster, track_note
from labtools.grading.variant_codes import CourseVariants, variant_note
from opsmodel.variants import normalise_variant_code, student_track

__all__ = ["NOTEBOOK_NAMES", "Binding", "TrackBinding"]

#: The notebook's names the binding reads (final values, after the notebook ran).
NOTEBOOK_NAMES = ("TRACK", "VARIANT_CODE", "STUDENT_ID")


@dataclass(frozen=True)
class Binding:
    """What the tests get and what the student reads.

    Attributes
    ----------
    fixed : dict
        Names the tests get from the grader (``TRACK``: a track name, or the variant's
        :class:`~opsmodel.tracks.Track`), whatever the notebook says.
    problems : list of str
        Messages for the student about their track or variant, shown first.
    """

    fixed: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrackBinding:
    """The submitter's track and variant, as far as the roster and variants know them."""

    assigned_track: str | None = None
    student: str | None = None
    variants: CourseVariants | None = None
    listed: bool = True

    @classmethod
    def for_submitter(
        cls, roster: Roster | None, variants: CourseVariants | None, identities: Iterable[str]
    ) -> TrackBinding:
        """The binding of whoever ``identities`` name (emails, ids; maybe none)."""
        identities = [str(i) for i in identities]
        person = roster.person_for(identities) if roster is not None else None
        # The roster row found by id or email names the track, whichever identity found it.
        keys = [person.student] if person is not None else identities
        return cls(
            assigned_track=roster.track_for(keys) if roster is not None else None,
            student=person.student if person is not None else None,
            variants=variants,
            listed=roster is None or not identities or person is not None,
        )

    def unlisted_note(self) -> str | None:
        """The note for a submitter the roster does not list (``None`` if it does)."""
        if self.listed:
            return None
        note = "Your instructor's roster does not list you, so your notebook's own TRACK was graded"
        if self.variants is not None:
            note += " with your notebook's own VARIANT_CODE"
        return note + ": ask your instructor to check the roster."

    def bind(self, notebook: Mapping[str, Any]) -> Binding:
        """The tests' ``TRACK`` and the student's messages, given the notebook's final values
        of :data:`NOTEBOOK_NAMES` (missing names are left out of ``notebook``)."""
        seen_track = notebook.get("TRACK")
        problems = []
        if self.assigned_track is not None and "TRACK" in notebook:
            mismatch = track_note(self.assigned_track, seen_track)
            if mismatch:
                problems.append(mismatch)
        if self.variants is None:
            fixed = {"TRACK": self.assigned_track} if self.assigned_track else {}
            return Binding(fixed, problems)
        code = self._code(notebook, problems)
        try:
            track = student_track(self.assigned_track or seen_track, code)
        except ValueError:  # no track to vary: the tests fail on the notebook's own TRACK
            return Binding({}, problems)
        return Binding({"TRACK": track}, problems)

    def fixed_names(self, notebook: Mapping[str, Any]) -> dict[str, Any]:
        """What the tests get from the grader (:attr:`Binding.fixed` of :meth:`bind`): the
        ``fixed`` callable of :func:`labtools.grading.grading_loop.run_and_grade`."""
        return self.bind(notebook).fixed

    def _code(self, notebook: Mapping[str, Any], problems: list[str]) -> str | None:
        seen_code, seen_id = notebook.get("VARIANT_CODE"), notebook.get("STUDENT_ID")
        if self.student is not None and self.variants is not None:
            expected = self.variants.code_for(self.student)
            mismatch = variant_note(expected, self.student, seen_code, seen_id)
            if mismatch:
                problems.append(mismatch)
            return expected
        # Nobody to recompute a code for (not on the roster, no identity): the notebook's own.
        try:
            return normalise_variant_code(seen_code) if seen_code is not None else None
        except ValueError as exc:
            problems.append(f"Your notebook's VARIANT_CODE cannot be used: {exc}.")
            return None
