"""The self-check's sample submissions, made from the generated notebooks, never by hand.

- ``solution-<track>``: the solution notebook with ``TRACK`` set to each track;
- ``reuse-names``: a solution whose last answer cell reuses graded function names as
  variables (``psi = psi(a, b)``), an honest habit that must cost nothing: each question is
  graded as it stood at its own check;
- ``blank``: the student release as downloaded;
- ``partial``: the student release with the definitions of ``assignment/samples/partial.py``
  put in place of the release's own (found by name, wherever the cell is), expected scores
  in ``partial.toml``;
- ``variant-<track>`` (graded with per-student variants on, the roster and course secret of
  ``assignment/samples/``): the solution with one roster student's ``STUDENT_ID`` and
  ``VARIANT_CODE``, submitted by that student: full marks on their own numbers;
- ``copied-variant``: ``variant-cloud_titan`` (student s1001's finished notebook) submitted by
  s1002, a classmate on the same track: what depends on the numbers is lost, expected scores
  in ``copied-variant.toml``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labtools._toml import tomllib
from labtools.grading.notebook_format import replace_definitions, with_track
from labtools.grading.roster import load_roster
from labtools.grading.variant_codes import read_course_secret, variant_code
from labtools.paths import SAMPLE_SUBMISSIONS, SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK

__all__ = [
    "SAMPLE_ROSTER",
    "SAMPLE_SECRET",
    "SampleSubmission",
    "sample_submissions",
    "variant_samples",
]

#: The self-check's fictional class and its course secret (never a real course's).
SAMPLE_ROSTER = SAMPLE_SUBMISSIONS / "roster.csv"
SAMPLE_SECRET = SAMPLE_SUBMISSIONS / "course-secret.txt"


@dataclass(frozen=True)
class SampleSubmission:
    """A notebook to grade and the autograded scores it must get (None: full marks)."""

    name: str
    notebook: nbformat.NotebookNode
    expected: dict[str, float] | None  # question -> points; missing questions expect 0
    full_marks: bool = False
    # Gradescope's submission_metadata.json of the submitter (None: none is written).
    metadata: dict[str, Any] | None = None
    # Graded with per-student variants on (the samples' roster and course secret).
    variants: bool = False


#: Appended to the ledger's answer cell of ``reuse-names``: after the checks of 2a, 2b, 3a and
#: 3b, before that of the ledger (which reads none of these names).
REUSED_NAMES_CODE = """

# Exploring after the checks, reusing the functions' names for their results.
psi = psi(np.linspace(0, 1, 200), np.linspace(0.2, 1.2, 200))
zero_failure_sample_size = zero_failure_sample_size(track.p_max, track.confidence)
shadow_hours = round(shadow_hours(zero_failure_sample_size, track.request_rate_per_s, 1.0), 2)
skew_check = None
print(psi, zero_failure_sample_size, shadow_hours)
"""


def with_reused_names(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with :data:`REUSED_NAMES_CODE` at the end of the ledger's answer cell."""
    nb = copy.deepcopy(nb)
    cell = next(
        c for c in nb.cells if c.cell_type == "code" and "governance_ledger = {" in c.source
    )
    cell.source = cell.source.rstrip() + REUSED_NAMES_CODE
    return nb


def sample_submissions(
    *,
    student_notebook: Path = STUDENT_NOTEBOOK,
    solution_notebook: Path = SOLUTION_NOTEBOOK,
    samples_dir: Path = SAMPLE_SUBMISSIONS,
) -> list[SampleSubmission]:
    """Every sample submission of the self-check."""
    from opsmodel.tracks import TRACKS

    solution = nbformat.read(solution_notebook, as_version=4)
    student = nbformat.read(student_notebook, as_version=4)
    samples = [
        SampleSubmission(f"solution-{key}", with_track(solution, t.name), None, full_marks=True)
        for key, t in TRACKS.items()
    ]
    samples.append(
        SampleSubmission(
            "reuse-names",
            with_reused_names(with_track(solution, "Tiny Pioneer")),
            None,
            full_marks=True,
        )
    )
    samples.append(SampleSubmission("blank", student, {}))
    partial_code = (samples_dir / "partial.py").read_text()
    with (samples_dir / "partial.toml").open("rb") as f:
        expected = tomllib.load(f)["expected"]
    samples.append(
        SampleSubmission("partial", replace_definitions(student, partial_code), expected)
    )
    return samples + variant_samples(solution, samples_dir=samples_dir)


def _metadata(student: str, email: str) -> dict[str, Any]:
    # The fields of Gradescope's submission_metadata.json that the grader reads.
    return {"users": [{"email": email, "sid": student, "name": student}]}


def with_identity(nb: nbformat.NotebookNode, student: str, code: str) -> nbformat.NotebookNode:
    """``nb`` with ``STUDENT_ID`` and ``VARIANT_CODE`` set, as a student enters them."""
    return replace_definitions(nb, f"STUDENT_ID = {student!r}\nVARIANT_CODE = {code!r}\n")


def variant_samples(
    solution: nbformat.NotebookNode, *, samples_dir: Path = SAMPLE_SUBMISSIONS
) -> list[SampleSubmission]:
    """The samples graded with per-student variants (see the module docstring)."""
    roster = load_roster(samples_dir / "roster.csv")
    secret = read_course_secret(samples_dir / "course-secret.txt")
    people = {p.student: p for p in roster.people.values()}
    # The first roster student of each track.
    first: dict[str, str] = {}
    for student in sorted(people):
        first.setdefault(str(roster.track_for([student])), student)
    samples = []
    for track, student in first.items():
        nb = with_identity(with_track(solution, track), student, variant_code(secret, student))
        key = track.lower().replace(" ", "_")
        meta = _metadata(student, people[student].email)
        samples.append(
            SampleSubmission(f"variant-{key}", nb, None, True, metadata=meta, variants=True)
        )
    with (samples_dir / "copied-variant.toml").open("rb") as f:
        spec = tomllib.load(f)
    owner, submitter = spec["owner"], spec["submitter"]
    copied = with_identity(
        with_track(solution, str(roster.track_for([owner]))), owner, variant_code(secret, owner)
    )
    samples.append(
        SampleSubmission(
            "copied-variant",
            copied,
            spec["expected"],
            metadata=_metadata(submitter, people[submitter].email),
            variants=True,
        )
    )
    return samples
