"""Gradescope entry point: ``python -m labtools.grading.gradescope --root /autograder``.

Reads ``ROOT/source/ops_lab.json``, grades ``ROOT/submission`` in the sandbox and writes
``ROOT/results/results.json`` (always). Run by the zip's ``run_autograder``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from labtools.grading.harness import grade_submission, load_grading_config
from labtools.grading.sandbox_kernel import sandbox_kernel_factory

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Grade the submission of a Gradescope layout; exit 0 whenever results were written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    root = args.root.resolve()
    results = root / "results" / "results.json"
    config = load_grading_config(root / "source", results_dir=root / "results")
    report = grade_submission(
        root / "submission", results, config, kernel_factory=sandbox_kernel_factory()
    )
    logging.getLogger("labtools.grading").info(
        "graded in %.1f s: score %s; protections %s",
        report.elapsed_s,
        report.results.get("score"),
        report.protections,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
