"""Benchmark: grading the solution with the kernel's image rendering on and off.

The Gradescope and batch harness read no cell output but errors, so their sandboxed kernels
render no images (``SandboxLimits.display_images=False``); nbgrader, whose feedback shows the
outputs, renders them. This grades the solution notebook (Cloud Titan) through the real
harness and sandbox with each setting, alternating, ``--rounds`` times each, and prints each
grading's wall time, the medians and the ratio off / on. (CPU time is not shown: the kernel
runs in a PID namespace whose processes this script never waits for, so its rusage misses
them; ``bench_batch.py`` samples /proc for that.) Both settings must give the same score.

Run as root: ``.venv/bin/python benchmarks/bench_display_images.py`` (about a minute).
Options: ``--rounds N`` (default 3).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labtools.grading.grading_kernel import GRADING_LIMITS, sandbox_kernel_factory  # noqa: E402
from labtools.grading.harness import grade_submission, load_grading_config  # noqa: E402
from labtools.paths import NOTEBOOK_NAME, SOLUTION_NOTEBOOK  # noqa: E402
from labtools.release.pipeline import build  # noqa: E402


def _grade(source: Path, folder: Path, images: bool) -> tuple[float, float]:
    limits = dataclasses.replace(GRADING_LIMITS, display_images=images)
    config = load_grading_config(source)
    submission = folder / "submission"
    submission.mkdir(parents=True)
    nbformat.write(nbformat.read(SOLUTION_NOTEBOOK, as_version=4), submission / NOTEBOOK_NAME)
    t0 = time.perf_counter()
    report = grade_submission(
        submission,
        folder / "results.json",
        config,
        kernel_factory=sandbox_kernel_factory(limits=limits),
    )
    return time.perf_counter() - t0, float(report.results["score"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        built = build(
            Path(tmp) / "dist", write_committed=False, execute=False, pdf=False, audit=False
        )
        times: dict[bool, list[float]] = {True: [], False: []}
        scores = set()
        for round_ in range(args.rounds):
            for images in (True, False):
                wall, score = _grade(
                    built.autograder_source, Path(tmp) / f"r{round_}-{images}", images
                )
                times[images].append(wall)
                scores.add(score)
                print(
                    f"round {round_ + 1} images {'on ' if images else 'off'}: "
                    f"wall {wall:5.1f} s, score {score:g}"
                )
    on_wall, off_wall = statistics.median(times[True]), statistics.median(times[False])
    print(f"median wall: on {on_wall:.1f} s, off {off_wall:.1f} s, off/on {off_wall / on_wall:.2f}")
    print("same score either way" if len(scores) == 1 else f"SCORES DIFFER: {sorted(scores)}")
    return 0 if len(scores) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
