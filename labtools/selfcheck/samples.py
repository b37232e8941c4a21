"""The self-check's sample submissions, made from the generated notebooks, never by hand.

- ``solution-<track>``: the solution notebook with ``TRACK`` set to each track;
- ``reuse-names``: a solution whose last answer cell reuses graded function names as
  variables (``psi = psi(a, b)``), an honest habit that must cost nothing: each question is
  graded as it stood at its own check;
- ``blank``: the student release as downloaded;
- ``partial``: the student release with the definitions of ``assignment/samples/partial.py``
  put in place of the release's own (found by name, wherever the cell is), expected scores
  in ``partial.toml``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labtools._toml import tomllib
from labtools.grading.notebook_format import replace_definitions, with_track
from labtools.paths import SAMPLE_SUBMISSIONS, SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK

__all__ = ["SampleSubmission", "sample_submissions"]


@dataclass(frozen=True)
class SampleSubmission:
    """A notebook to grade and the autograded scores it must get (None: full marks)."""

    name: str
    notebook: nbformat.NotebookNode
    expected: dict[str, float] | None  # question -> points; missing questions expect 0
    full_marks: bool = False


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
    return samples
