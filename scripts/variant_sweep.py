"""How often a random variant misses a teaching point, and what vetting costs a course.

Draws ``--codes`` random variant codes (a fixed ``--seed``), and for each track counts the
draws whose variant misses each teaching point
(:func:`labtools.grading.variant_vetting.missed_teaching_points`); then issues the codes of
``--students`` identities under a random secret, as a build does, and counts how many kept
their first draw, the most draws one needed, and the time an issue takes.

Run on demand: ``.venv/bin/python scripts/variant_sweep.py`` (about two minutes).
Options: ``--codes N`` (default 3000), ``--students N`` (default 500), ``--seed N``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labtools.grading.variant_codes import code_draw, variant_code  # noqa: E402
from labtools.grading.variant_vetting import TEACHING_POINTS, missed_teaching_points  # noqa: E402
from opsmodel.tracks import TRACK_KEYS  # noqa: E402
from opsmodel.variants import student_track, variant_code_from_bytes  # noqa: E402


def _misses(codes: list[str]) -> tuple[Counter, int]:
    misses: Counter = Counter()
    any_track = 0
    for code in codes:
        missed = {key: missed_teaching_points(student_track(key, code)) for key in TRACK_KEYS}
        misses.update((key, name) for key, names in missed.items() for name in names)
        any_track += any(missed.values())
    return misses, any_track


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=3000)
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    codes = [variant_code_from_bytes(rng.bytes(10)) for _ in range(args.codes)]
    started = time.perf_counter()
    misses, any_track = _misses(codes)
    seconds = time.perf_counter() - started
    print(f"{args.codes} random codes, {seconds:.0f} s: draws missing a teaching point")
    print(f"{'track':<15}" + "".join(f"{name:>13}" for name in TEACHING_POINTS))
    for key in TRACK_KEYS:
        print(f"{key:<15}" + "".join(f"{misses[key, name]:>13}" for name in TEACHING_POINTS))
    print(f"codes missing a point on some track: {any_track} ({any_track / args.codes:.2%})")

    secret = rng.bytes(32).hex().encode()
    students = [f"student{i:05d}" for i in range(args.students)]
    started = time.perf_counter()
    issued = [variant_code(secret, s) for s in students]
    seconds = time.perf_counter() - started
    kept_first = sum(code == code_draw(secret, s) for s, code in zip(students, issued, strict=True))
    _, still_missing = _misses(issued)
    each_ms = 1000 * seconds / args.students
    later = args.students - kept_first
    print(f"{args.students} students issued in {seconds:.1f} s ({each_ms:.0f} ms each):")
    print(f"  {kept_first} kept their first draw, {later} got a later one")
    print(f"  issued codes missing a teaching point: {still_missing}")


if __name__ == "__main__":
    main()
