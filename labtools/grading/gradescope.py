"""Gradescope entry point: ``python -m labtools.grading.gradescope --root /autograder``.

Reads ``ROOT/source/ops_lab.json``, grades ``ROOT/submission`` in the sandbox and writes
``ROOT/results/results.json``. When the grader itself cannot start (a broken image, a missing
package), the student gets a result saying so instead of Gradescope's "the autograder failed
to produce results".

One case writes no results on purpose: a host on which student code cannot run safely
(:mod:`labtools.grading.host`). Gradescope then shows the submission as not graded, which
the instructor can regrade once the image is fixed, rather than a 0. ``--check-host`` runs
that check alone; ``setup.sh`` calls it, so such an image fails to build.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

_BROKEN_GRADER = (
    "The autograder could not start, so your submission was not graded. This is not your "
    "fault: your instructor has been told. Resubmitting later will grade it."
)


def _write_fallback(results_path: Path) -> None:
    """A results.json from the standard library alone, for when the grader cannot run."""
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(
        json.dumps({"score": 0, "output": _BROKEN_GRADER, "visibility": "visible", "tests": []})
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Grade the submission of a Gradescope layout; exit 0 whenever results were written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument(
        "--check-host",
        action="store_true",
        help="only check that this host can grade safely (exit 1 with the reason if not)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("labtools.grading")
    root = args.root.resolve()
    results_dir = root / "results"
    results = results_dir / "results.json"
    try:
        from labtools.grading.grading_kernel import sandbox_kernel_factory
        from labtools.grading.harness import grade_submission, load_grading_config
        from labtools.grading.host import HostCannotGrade, check_host, make_private
        from labtools.grading.roster import gradescope_identities

        # Gradescope's image decides the modes of these folders: make them the grader's
        # alone before anything else, as the sandbox may have no mount namespace to hide them.
        results_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = load_grading_config(root / "source", results_dir=results_dir)
        make_private(config.hidden_paths)
    except Exception:
        log.error("the grader cannot start:\n%s", traceback.format_exc())
        _write_fallback(results)
        return 1
    try:
        protections = check_host(config.hidden_paths)
    except HostCannotGrade as exc:  # a bad OPS_SANDBOX_REFUSE arrives as one too
        print(f"ops-lab grader: {exc}", file=sys.stderr)
        log.error("not grading, and writing no results: %s", exc)
        return 1
    log.info("sandbox on this host: %s", protections.summary())
    if args.check_host:
        return 0
    try:
        factory = sandbox_kernel_factory()
    except Exception:
        log.error("the grader cannot start:\n%s", traceback.format_exc())
        _write_fallback(results)
        return 1
    report = grade_submission(
        root / "submission",
        results,
        config,
        kernel_factory=factory,
        identities=gradescope_identities(root / "submission_metadata.json"),
    )
    log.info(
        "graded in %.1f s: score %s; sandbox %s",
        report.elapsed_s,
        report.results.get("score"),
        report.protections,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
