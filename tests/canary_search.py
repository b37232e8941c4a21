"""The 2c solution's search, for tests that need a feasible plan found as students find it."""

from __future__ import annotations

from opsmodel.canary_planner import MAX_ITERATIONS, CanaryPlanner, StagedRollout


def bisect_at_cap(planner: CanaryPlanner) -> None:
    """At the shadow capacity cap, halve the interval of shadow durations until a try is
    feasible or the ten tries are spent (the master's solution of 2c)."""
    t = planner.track
    low, high = 0.0, t.release_cycle_hours
    while not planner.attempts[-1].feasible and len(planner.attempts) < MAX_ITERATIONS:
        start = (low + high) / 2
        a = planner.try_plan(
            shadow_fraction=t.max_shadow_fraction, staged=StagedRollout(start_hours=start)
        )
        if a.expected_live_failures > t.live_failure_budget:
            low = start  # too risky: more shadow first
        elif a.hours > t.release_cycle_hours:
            high = start  # too slow: go live sooner
