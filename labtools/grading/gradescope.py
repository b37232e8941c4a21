"""Gradescope entry point: ``python -m labtools.grading.gradescope --root /autograder``.

Reads ``ROOT/source/ops_lab.json``, grades ``ROOT/submission`` in the sandbox and writes
``ROOT/results/results.json``, always: even when the grader itself cannot start (a broken
image, a missing package), the student gets a result saying so instead of Gradescope's
"the autograder failed to produce results".
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("labtools.grading")
    root = args.root.resolve()
    results = root / "results" / "results.json"
    try:
        from labtools.grading.harness import grade_submission, load_grading_config
        from labtools.grading.sandbox_kernel import sandbox_kernel_factory

        config = load_grading_config(root / "source", results_dir=root / "results")
        factory = sandbox_kernel_factory()
    except Exception:
        log.error("the grader cannot start:\n%s", traceback.format_exc())
        _write_fallback(results)
        return 1
    report = grade_submission(root / "submission", results, config, kernel_factory=factory)
    log.info(
        "graded in %.1f s: score %s; sandbox %s",
        report.elapsed_s,
        report.results.get("score"),
        report.protections,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
