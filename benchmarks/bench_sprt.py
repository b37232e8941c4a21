"""Benchmark: vectorised SPRT Monte Carlo against a plain request-by-request Python loop.

``sprt_simulate`` jumps from failure to failure for all runs at once (numpy). The baseline
walks each run one request at a time in plain Python, as a student's first version would.
The loop is timed on a subsample of runs and scaled to the full count; both are measured
in the same process, one after the other.

Run: ``.venv/bin/python benchmarks/bench_sprt.py``
"""

from __future__ import annotations

import math
import random
import time

from opsmodel.sprt import sprt_boundaries, sprt_simulate

P0, P1 = 0.001, 0.003
RUNS = 100_000
LOOP_RUNS = 400  # subsample for the plain loop, scaled up to RUNS
MAX_N = 100_000


def plain_loop(p_true: float, runs: int, seed: int) -> tuple[float, float]:
    """Mean sample number and rollback rate, one Bernoulli draw per request."""
    b = sprt_boundaries(P0, P1)
    fail_step = math.log(P1 / P0)
    pass_step = math.log((1 - P1) / (1 - P0))
    rng = random.Random(seed)
    total_n = rollbacks = 0
    for _ in range(runs):
        llr = 0.0
        n = 0
        while n < MAX_N:
            n += 1
            llr += fail_step if rng.random() < p_true else pass_step
            if llr >= b.log_a:
                rollbacks += 1
                break
            if llr <= b.log_b:
                break
        total_n += n
    return total_n / runs, rollbacks / runs


def best_of(repeats: int, func, *args, **kwargs) -> tuple[float, object]:
    best = math.inf
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    print(f"SPRT Monte Carlo, p0={P0}, p1={P1}, alpha=0.05, beta=0.20, {RUNS:,} runs")
    header = (
        f"{'p_true':>7} {'vectorised s':>13} {'loop s (scaled)':>16} {'speed-up':>9} "
        f"{'ASN vec':>8} {'ASN loop':>9}"
    )
    print(header)
    print("-" * len(header))
    for p_true in (P0, P1):
        t_vec, sim = best_of(3, sprt_simulate, p_true, P0, P1, runs=RUNS, seed=0, max_n=MAX_N)
        t_loop, (asn_loop, _) = best_of(1, plain_loop, p_true, LOOP_RUNS, 0)
        t_loop_scaled = t_loop * RUNS / LOOP_RUNS
        print(
            f"{p_true:>7} {t_vec:>13.4f} {t_loop_scaled:>16.2f} {t_loop_scaled / t_vec:>8.0f}x "
            f"{sim.mean_sample_number:>8.1f} {asn_loop:>9.1f}"
        )
    print(f"(loop timed on {LOOP_RUNS} runs and scaled by {RUNS // LOOP_RUNS}; its ASN is from")
    print(" those runs only, so it is noisier: SE about 60 requests)")


if __name__ == "__main__":
    main()
