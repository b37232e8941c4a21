"""The canary planner: records tries, keeps the 10-iteration rule, picks the first feasible plan."""

from __future__ import annotations

import pytest

from opsmodel.canary_planner import MAX_ITERATIONS, CanaryPlanner
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.tracks import get_track


@pytest.fixture
def planner():
    return CanaryPlanner(
        get_track("Tiny Pioneer"),
        zero_failure_sample_size=zero_failure_sample_size,
        shadow_hours=shadow_hours,
    )


def test_a_try_is_computed_with_the_functions_given(planner, capsys):
    t = planner.track
    attempt = planner.try_plan(shadow_fraction=0.5)
    n = zero_failure_sample_size(t.p_max, t.confidence)
    assert attempt.requests == n
    # hours = n / (rate * 3600 * fraction), computed here by hand
    assert attempt.hours == pytest.approx(n / (t.request_rate_per_s * 3600 * 0.5))
    assert attempt.feasible == (attempt.hours <= t.release_cycle_hours)
    assert "iteration 1 of 10" in capsys.readouterr().out


def test_the_first_feasible_plan_is_final(planner):
    slow = planner.try_plan(shadow_fraction=0.001)
    fast = planner.try_plan(shadow_fraction=1.0)
    planner.try_plan(shadow_fraction=0.9)
    assert not slow.feasible and fast.feasible
    assert planner.final_plan()["iteration"] == 2
    assert len(planner.canary_plans()) == 3


def test_students_own_functions_are_used():
    planner = CanaryPlanner(
        get_track("Cloud Titan"),
        zero_failure_sample_size=lambda p, c: 7,
        shadow_hours=lambda n, r, f: 1000.0,
    )
    attempt = planner.try_plan(shadow_fraction=0.2)
    assert (attempt.requests, attempt.hours, attempt.feasible) == (7, 1000.0, False)
    assert planner.final_plan()["iteration"] == 1  # no feasible plan: the last one tried


def test_the_eleventh_try_is_refused(planner):
    for _ in range(MAX_ITERATIONS):
        planner.try_plan(shadow_fraction=0.01)
    with pytest.raises(ValueError, match="10 tries"):
        planner.try_plan(shadow_fraction=1.0)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan"), "half", None])
def test_bad_fraction_names_the_argument(planner, fraction):
    with pytest.raises(ValueError, match="shadow_fraction"):
        planner.try_plan(shadow_fraction=fraction)


def test_no_plan_yet_is_a_clear_error(planner):
    with pytest.raises(ValueError, match="no plan tried yet"):
        planner.final_plan()
