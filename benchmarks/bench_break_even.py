"""Benchmark: ROI and toil over 10,000 fleet sizes, vectorised against a scalar loop.

The vectorised call passes one numpy array of N values; the baseline calls the scalar
function once per N in a Python loop (what a plot written naively would do). Both use
the public, validating functions and are measured in the same process.

Run: ``.venv/bin/python benchmarks/bench_break_even.py``
"""

from __future__ import annotations

import math
import time

import numpy as np

from opsmodel.toil import break_even_models, manual_toil_hours, platform_roi_usd

N_VALUES = np.linspace(1.0, 500.0, 10_000)
H = 0.5


def best_of(repeats: int, func) -> tuple[float, object]:
    best = math.inf
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    print(f"{len(N_VALUES):,} fleet sizes in [1, 500], h = {H}")
    header = f"{'function':<20} {'vectorised s':>13} {'scalar loop s':>14} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    n_list = N_VALUES.tolist()
    for name, func in (
        ("platform_roi_usd", lambda n: platform_roi_usd(n, H)),
        ("manual_toil_hours", lambda n: manual_toil_hours(n, H)),
    ):
        t_vec, vec = best_of(5, lambda f=func: f(N_VALUES))
        t_loop, loop = best_of(3, lambda f=func: [f(n) for n in n_list])
        assert np.array_equal(vec, np.array(loop))  # same numbers either way
        print(f"{name:<20} {t_vec:>13.5f} {t_loop:>14.4f} {t_loop / t_vec:>8.0f}x")
    t_be, n_star = best_of(5, lambda: break_even_models(H))
    print(f"break_even_models(h={H}) = {n_star} in {t_be * 1e3:.2f} ms (brentq + neighbours)")


if __name__ == "__main__":
    main()
