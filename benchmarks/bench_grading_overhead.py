"""Benchmark: grading one submission in the sandbox against running the same notebook bare.

Both sides run the same code cells of the solution notebook (Otter's own cells removed):
"bare" executes them with nbclient in a plain kernel, as a student's JupyterLab would;
"graded" is the whole grading harness (sandboxed kernel, replay-ready execution, hidden and
public tests on the trusted side, results.json). Run as root, after `ops-lab build`:

    .venv/bin/python benchmarks/bench_grading_overhead.py [--rounds 3]

Prints each round side by side (alternating, so load drifts hit both) and the median ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from labtools.grading.grading_kernel import sandbox_kernel_factory
from labtools.grading.harness import grade_submission, load_grading_config
from labtools.grading.notebook_format import gradable_cells
from labtools.paths import DIST, NOTEBOOK_NAME, SOLUTION_NOTEBOOK


def bare_run(source: Path) -> float:
    """Seconds to execute the solution's gradable cells with nbclient, kernel start included."""
    nb = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    cells = [nbformat.v4.new_code_cell(code) for _, code in gradable_cells(nb)]
    bare = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(source / "files" / "opsmodel", Path(tmp) / "opsmodel")
        start = time.perf_counter()
        NotebookClient(bare, timeout=300, resources={"metadata": {"path": tmp}}).execute()
        return time.perf_counter() - start


def graded_run(source: Path, factory) -> tuple[float, float]:
    """Seconds to grade the solution with the harness, and the score it got."""
    with tempfile.TemporaryDirectory() as tmp:
        submission = Path(tmp) / "submission"
        submission.mkdir()
        shutil.copy2(SOLUTION_NOTEBOOK, submission / NOTEBOOK_NAME)
        config = load_grading_config(source, results_dir=Path(tmp) / "results")
        start = time.perf_counter()
        report = grade_submission(
            submission, Path(tmp) / "results" / "results.json", config, kernel_factory=factory
        )
        return time.perf_counter() - start, float(report.results["score"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source", type=Path, default=DIST / "autograder" / "source")
    args = parser.parse_args()
    factory = sandbox_kernel_factory()  # builds or reuses the kernel venv once, untimed
    bare_times, graded_times = [], []
    print(f"{'round':>5} | {'bare nbclient':>13} | {'graded (sandbox+tests)':>22} | ratio")
    for i in range(args.rounds):
        b = bare_run(args.source)
        g, score = graded_run(args.source, factory)
        bare_times.append(b)
        graded_times.append(g)
        print(f"{i + 1:>5} | {b:>11.2f} s | {g:>14.2f} s ({score:g} pt) | {g / b:.2f}")
    b, g = statistics.median(bare_times), statistics.median(graded_times)
    print(f"median: bare {b:.2f} s, graded {g:.2f} s, graded/bare = {g / b:.2f}")


if __name__ == "__main__":
    main()
