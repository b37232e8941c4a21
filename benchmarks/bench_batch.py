"""Benchmark: batch grading of 40 submissions with ``--jobs 1`` against ``--jobs 2``.

The submissions are copies of the solution notebook with ``TRACK`` set to each of the four
tracks in turn, and every fifth one the blank student release (its cells raise, its tests
fail: the cheap end of grading). Each configuration grades the same 40 submissions into a
fresh output folder (no resume), in its own child process, so that its resource figures
are its own:

- wall time of the whole batch, and the speed-up ``wall(jobs 1) / wall(jobs 2)``;
- peak memory: the largest sum, over the batch's process tree (batch, fork server,
  workers, sandbox supervisors and kernels), of each process's proportional set size (PSS,
  shared pages split between their users), sampled from ``/proc`` every 0.2 s; and the
  largest resident set of a single process seen in those samples;
- CPU seconds (user + system) of the whole tree, two ways: ``RUSAGE_CHILDREN`` of this
  script (which makes itself a child subreaper, so that a process orphaned in the tree is
  still reaped and counted here), which misses processes nobody waits for, such as those
  of a sandbox's PID namespace killed with its init; and the sum
  over every process seen in the samples of its last ``utime + stime`` from
  ``/proc/PID/stat``, which includes them but misses up to 0.2 s per process;
- the mean and largest per-submission wall time, from the gradebook.

The two gradebooks must agree on every total (parallelism must not change a grade); the
script says so. Figures vary with the machine and its load (the load average is printed):
on two shared cores a clean 2x is out of reach.

Run: ``.venv/bin/python benchmarks/bench_batch.py`` (several minutes: 80 gradings).
Options: ``--count N`` submissions, ``--autograder PATH`` to skip the build, ``--keep`` to
keep the outputs.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SAMPLE_EVERY_S = 0.2
PR_SET_CHILD_SUBREAPER = 36
BLANK_EVERY = 5  # every fifth submission is the blank release


def make_submissions(folder: Path, count: int) -> None:
    """``count`` notebooks: the solution on each track in turn, every fifth one blank."""
    import nbformat

    from labtools.grading.notebook_format import with_track
    from labtools.paths import SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK
    from opsmodel.tracks import TRACKS

    folder.mkdir(parents=True)
    solution = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    tracks = [t.name for t in TRACKS.values()]
    for i in range(count):
        path = folder / f"student{i:03d}.ipynb"
        if i % BLANK_EVERY == BLANK_EVERY - 1:
            shutil.copyfile(STUDENT_NOTEBOOK, path)
        else:
            nbformat.write(with_track(solution, tracks[i % len(tracks)]), path)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_table() -> dict[int, tuple[int, int, float]]:
    """pid -> (parent pid, start time in ticks, CPU seconds so far) of every process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: split after the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            # Fields after the name, from 0: state, ppid, ..., utime 11, stime 12, start 19.
            cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            table[int(stat.parent.name)] = (int(fields[1]), int(fields[19]), cpu_s)
        except (OSError, IndexError, ValueError):
            continue
    return table


def _descendants(root: int, table: dict[int, tuple[int, int, float]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _field_kib(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB; PSS falls back to RSS where smaps is unreadable."""
    rss = _field_kib(f"/proc/{pid}/status", "VmRSS:")
    return _field_kib(f"/proc/{pid}/smaps_rollup", "Pss:") or rss, rss


def _reap_orphans(timeout_s: float = 15.0) -> None:
    """Wait for the descendants re-parented to this subreaper (the fork server, mostly)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def run_one(args: argparse.Namespace) -> int:
    """Child mode: one batch, then its own figures as JSON on stdout."""
    from labtools.batch import run_batch

    start = time.perf_counter()
    summary = run_batch(
        args.submissions,
        args.output,
        autograder_source=args.autograder,
        jobs=args.jobs,
        kernel_factory=args.kernel_factory,
    )
    wall_s = time.perf_counter() - start
    print(json.dumps({"wall_s": wall_s, "graded": len(summary.graded)}))
    return 0


def measure(jobs: int, submissions: Path, output: Path, args: argparse.Namespace) -> dict:
    """Run one configuration in a child process, sampling its tree's memory meanwhile."""
    command = [
        sys.executable,
        __file__,
        "--one",
        "--jobs",
        str(jobs),
        "--submissions",
        str(submissions),
        "--output",
        str(output),
        "--autograder",
        str(args.autograder),
        "--kernel-factory",
        args.kernel_factory,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    peak_pss_kib = peak_rss_kib = 0
    last_cpu_s: dict[tuple[int, int], float] = {}  # (pid, start time): pids are reused
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_pss_kib, peak_rss_kib
        while not done.is_set():
            table = _process_table()
            tree = [pid for pid in _descendants(process.pid, table) if pid in table]
            sizes = [_memory_kib(pid) for pid in tree]
            peak_pss_kib = max(peak_pss_kib, sum(pss for pss, _ in sizes))
            peak_rss_kib = max([peak_rss_kib, *(rss for _, rss in sizes)])
            for pid in tree:
                last_cpu_s[(pid, table[pid][1])] = table[pid][2]
            done.wait(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"the jobs={jobs} batch failed with code {process.returncode}")
    figures = json.loads(out.decode().strip().splitlines()[-1])
    figures["peak_tree_pss_mib"] = peak_pss_kib / 1024
    figures["max_process_rss_mib"] = peak_rss_kib / 1024
    figures["tree_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures["sampled_cpu_s"] = sum(last_cpu_s.values())

    import pandas as pd

    table = pd.read_csv(output / "gradebook.csv").set_index("submission")
    figures["per_submission_mean_s"] = float(table["elapsed_s"].mean())
    figures["per_submission_max_s"] = float(table["elapsed_s"].max())
    figures["totals"] = table["total"].to_dict()
    figures["ok"] = int((table["status"] == "ok").sum())
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--autograder", type=Path, default=None)
    parser.add_argument(
        "--kernel-factory", default="labtools.grading.grading_kernel:sandbox_kernel_factory"
    )
    parser.add_argument("--keep", action="store_true")
    # Child mode (internal).
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--submissions", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return run_one(args)

    # Orphans of the tree are re-parented here and reaped, so that RUSAGE_CHILDREN counts
    # their CPU.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    workdir = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        if args.autograder is None:
            from labtools.release.pipeline import build

            t0 = time.perf_counter()
            # write_committed=False: a benchmark must not rewrite the committed notebooks.
            built = build(workdir / "dist", write_committed=False, execute=False, pdf=False)
            args.autograder = built.autograder_source
            print(f"autograder built in {time.perf_counter() - t0:.1f} s")
        submissions = workdir / "submissions"
        make_submissions(submissions, args.count)
        blank = sum(1 for i in range(args.count) if i % BLANK_EVERY == BLANK_EVERY - 1)
        print(
            f"{args.count} submissions ({args.count - blank} solutions on 4 tracks, "
            f"{blank} blank); cores available: {len(os.sched_getaffinity(0))}; "
            f"load average before: {os.getloadavg()[0]:.2f}"
        )
        runs = {jobs: measure(jobs, submissions, workdir / f"out-j{jobs}", args) for jobs in (1, 2)}
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"outputs kept in {workdir}")

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    one, two = runs[1], runs[2]
    rows = [
        ("wall time (s)", "wall_s", "{:.1f}"),
        ("per-submission mean (s)", "per_submission_mean_s", "{:.1f}"),
        ("per-submission max (s)", "per_submission_max_s", "{:.1f}"),
        ("CPU, reaped tree (s)", "tree_cpu_s", "{:.1f}"),
        ("CPU, sampled tree (s)", "sampled_cpu_s", "{:.1f}"),
        ("peak PSS, whole tree (MiB)", "peak_tree_pss_mib", "{:.0f}"),
        ("largest process RSS (MiB)", "max_process_rss_mib", "{:.0f}"),
        ("graded ok", "ok", "{}"),
    ]
    print(f"\n{'':28} {'--jobs 1':>10} {'--jobs 2':>10} {'ratio 1/2':>10}")
    for label, key, fmt in rows:
        ratio = one[key] / two[key] if two[key] else float("nan")
        print(f"{label:28} {fmt.format(one[key]):>10} {fmt.format(two[key]):>10} {ratio:>10.2f}")
    print(f"\nspeed-up with --jobs 2: {one['wall_s'] / two['wall_s']:.2f}x")
    same = one["totals"] == two["totals"]
    print(f"gradebooks agree on every total: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
