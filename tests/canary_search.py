"""The 2c solution's search on a :class:`~opsmodel.canary_planner.CanaryPlanner`, for tests
that need a feasible plan found as students find it (printed verdicts and all)."""

from __future__ import annotations

from labtools.grading.variant_vetting import search_at_cap
from opsmodel.canary_planner import CanaryPlanner


def bisect_at_cap(planner: CanaryPlanner) -> None:
    """Try the search's plans on ``planner`` until one is feasible or the ten tries are spent."""
    search_at_cap(planner.track, planner.try_plan, tries_so_far=len(planner.attempts))
