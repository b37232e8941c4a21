"""The main job: build everything, then grade the sample submissions as Gradescope would.

Each sample is graded by the real autograder zip in a simulated Gradescope layout
(``source/`` unzipped from the zip, ``submission/``, ``results/`` in a temporary folder),
running its ``run_autograder`` with the installed environment instead of Gradescope's
``setup.sh``. The self-check fails when a sample's scores differ from what it expects.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labtools.files import unzip_fresh
from labtools.grading.host import HostCannotGrade
from labtools.grading.variant_codes import read_course_secret
from labtools.paths import DIST, NOTEBOOK_NAME
from labtools.release.course_variants import autograder_with_variants
from labtools.release.pipeline import BuildResult, build
from labtools.selfcheck.samples import (
    SAMPLE_ROSTER,
    SAMPLE_SECRET,
    SampleSubmission,
    sample_submissions,
)

__all__ = ["GradedSample", "grade_in_gradescope_layout", "run_selfcheck", "format_table"]


@dataclass(frozen=True)
class GradedSample:
    """One sample's results and whether they are what was expected."""

    sample: SampleSubmission
    results: dict[str, Any]
    mismatches: tuple[str, ...]

    def score(self, question: str) -> float:
        for test in self.results.get("tests", []):
            if test.get("name") == question:
                return float(test.get("score", 0.0))
        return 0.0


def grade_in_gradescope_layout(
    autograder_zip: Path,
    notebook: nbformat.NotebookNode,
    workdir: Path,
    *,
    timeout_s: float = 900,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Grade ``notebook`` with ``autograder_zip`` in a simulated ``/autograder`` folder.

    ``metadata`` becomes ``submission_metadata.json`` (Gradescope's record of the
    submitters). The grader's output is kept in ``workdir/run_autograder.log``. Raises
    :class:`~labtools.grading.host.HostCannotGrade` when the grader refused to grade.
    """
    source, submission, results = (workdir / d for d in ("source", "submission", "results"))
    for folder in (source, submission, results):
        folder.mkdir(parents=True)
    unzip_fresh(autograder_zip, source)
    (source / "run_autograder").chmod(0o755)
    nbformat.write(notebook, submission / NOTEBOOK_NAME)
    if metadata is not None:
        (workdir / "submission_metadata.json").write_text(json.dumps(metadata))
    env = {**os.environ, "AUTOGRADER_ROOT": str(workdir), "OPS_LAB_PYTHON": sys.executable}
    proc = subprocess.run(
        ["bash", str(source / "run_autograder")],
        env=env,
        # Not the repository: "python -m" puts the working folder first on sys.path, and
        # the grader must import the zip's packages, as on Gradescope.
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    # What the instructor would read in Gradescope's autograder output: the sandbox's layers.
    (workdir / "run_autograder.log").write_text(proc.stdout + proc.stderr)
    results_file = results / "results.json"
    if not results_file.exists():
        # Only a host that cannot grade safely leaves no results: the instructor's problem.
        said = [ln for ln in proc.stderr.splitlines() if ln.startswith("ops-lab grader:")]
        raise HostCannotGrade(
            f"run_autograder wrote no results (exit {proc.returncode}): "
            + (said[-1] if said else proc.stderr.strip()[-2000:])
        )
    return json.loads(results_file.read_text())


def _mismatches(sample: SampleSubmission, results: dict[str, Any]) -> tuple[str, ...]:
    scores = {t["name"]: float(t.get("score", 0)) for t in results["tests"] if "max_score" in t}
    possible = {t["name"]: float(t["max_score"]) for t in results["tests"] if "max_score" in t}
    expected = possible if sample.full_marks else {q: sample.expected.get(q, 0.0) for q in scores}
    problems = [
        f"{q}: got {scores.get(q, 0):g}, expected {e:g}"
        for q, e in expected.items()
        if not math.isclose(scores.get(q, 0.0), e, abs_tol=1e-9)
    ]
    total = sum(expected.values())
    if not math.isclose(float(results.get("score", -1)), total, abs_tol=1e-9):
        problems.append(f"total: got {results.get('score')}, expected {total:g}")
    return tuple(problems)


def format_table(graded: list[GradedSample]) -> str:
    """Question x submission scores, as a plain-text table."""
    questions = [
        t["name"] for t in graded[0].results["tests"] if "max_score" in t and t["max_score"]
    ]
    names = [g.sample.name for g in graded]
    width = max(len(q) for q in [*questions, "question", "TOTAL"])
    cols = [max(len(n), 6) for n in names]
    header = (
        "question".ljust(width)
        + " | max  | "
        + " | ".join(n.rjust(c) for n, c in zip(names, cols, strict=True))
    )
    lines = [header, "-" * len(header)]
    for q in questions:
        possible = next(t["max_score"] for t in graded[0].results["tests"] if t["name"] == q)
        cells = " | ".join(f"{g.score(q):g}".rjust(c) for g, c in zip(graded, cols, strict=True))
        lines.append(f"{q.ljust(width)} | {possible:<4g} | {cells}")
    totals = " | ".join(
        f"{g.results['score']:g}".rjust(c) for g, c in zip(graded, cols, strict=True)
    )
    lines.append(f"{'TOTAL'.ljust(width)} |      | {totals}")
    verdicts = " | ".join(
        ("ok" if not g.mismatches else "WRONG").rjust(c) for g, c in zip(graded, cols, strict=True)
    )
    lines.append(f"{'as expected'.ljust(width)} |      | {verdicts}")
    return "\n".join(lines)


def run_selfcheck(
    dist: Path = DIST, *, build_result: BuildResult | None = None, jobs: int = 1
) -> list[GradedSample]:
    """Build (unless given a build) and grade every sample submission.

    Parameters
    ----------
    dist : Path
        Where to build, when no build is given.
    build_result : BuildResult or None
        A build to grade with instead of building.
    jobs : int >= 1
        Samples graded at the same time (each in its own ``run_autograder`` process and
        sandbox). The results are in the samples' order whatever the order they finish in.

    Returns
    -------
    list of GradedSample
        One per sample of :func:`~labtools.selfcheck.samples.sample_submissions`.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}")
    result = build_result or build(dist)
    samples = sample_submissions()
    with tempfile.TemporaryDirectory(prefix="ops-selfcheck-") as tmp:
        # The same autograder with per-student variants on, for the variant samples: what
        # `ops-lab build --variants per-student` makes with the samples' roster and secret.
        with_variants = autograder_with_variants(
            result.autograder_source,
            SAMPLE_ROSTER,
            read_course_secret(SAMPLE_SECRET),
            Path(tmp) / "variants" / "ops_scale-autograder.zip",
            codes_file=Path(tmp) / "variants" / "variant-codes.csv",
        )

        def grade(sample: SampleSubmission) -> GradedSample:
            results = grade_in_gradescope_layout(
                with_variants if sample.variants else result.autograder_zip,
                sample.notebook,
                Path(tmp) / sample.name,
                metadata=sample.metadata,
            )
            return GradedSample(sample, results, _mismatches(sample, results))

        # Threads suffice: each sample is graded by a run_autograder process of its own.
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(grade, samples))
