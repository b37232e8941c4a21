"""The canary planner: the 10-iteration rule, the shadow-capacity / live-exposure trade-off,
the staged rollout, and the hidden check of 2c.

Independent references: the clean requests each target needs from plain powers of
(1 - p), and every plan's timeline by brute force, a fine time grid (0.01 h) on which the
traffic shares are constant within each step, summed with ``numpy.cumsum`` and
interpolated in the step where the evidence reaches the target (exact when the plan's
hours are multiples of the step), rather than the planner's stage-by-stage algebra.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from canary_search import bisect_at_cap

from labtools.grading.reference_checks import check_canary_plan, reference_canary_outcome
from opsmodel.canary_planner import (
    DEFAULT_STAGE_HOURS,
    MAX_ITERATIONS,
    CanaryPlanner,
    StagedRollout,
    evaluate_plan,
)
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.tracks import TRACKS, Track, get_track

ALL = list(TRACKS.values())
LADDER = (0.01, 0.05, 0.25, 1.0)
STEP = 0.01  # hours, the brute-force grid

#: One feasible plan per track (the shadow cap, then one-day live stages from this hour),
#: and the window of shadow durations that works at the cap, from docs/canary-plan.md.
GOOD_START_HOURS = {"cloud_titan": 140.0, "edge_guardian": 160.0, "mobile_nomad": 120.0,
                    "tiny_pioneer": 80.0}  # fmt: skip
WINDOWS = {
    "cloud_titan": (122.1, 167.7),
    "edge_guardian": (152.0, 167.9),
    "mobile_nomad": (92.4, 166.9),
    "tiny_pioneer": (56.1, 101.1),
}


def _clean_requests(p: float, confidence: float) -> int:
    """Smallest n with (1 - p)^n <= 1 - C, confirmed with plain powers on either side."""
    n = max(1, math.ceil(math.log(1 - confidence) / math.log(1 - p)) - 2)
    while (1 - p) ** n > 1 - confidence:
        n += 1
    assert n == 1 or (1 - p) ** (n - 1) > 1 - confidence
    return n


def _brute_force(track: Track, f: float, start: float | None, stage: float = 24.0,
                 fractions: tuple[float, ...] = LADDER) -> tuple[float, float]:  # fmt: skip
    """(hours until the target, live requests by then) on a 0.01-hour grid."""
    n = _clean_requests(track.p_max, track.confidence)
    per_hour = track.request_rate_per_s * 3600
    if start is None:
        return n / (per_hour * f), 0.0
    end = start + len(fractions) * stage + n / per_hour + 1
    mid = (np.arange(round(end / STEP)) + 0.5) * STEP  # step midpoints: no boundary ties
    k = np.floor((mid - start) / stage).astype(int)
    live_share = np.where(mid < start, 0.0, np.asarray(fractions)[np.clip(k, 0, None).clip(
        max=len(fractions) - 1)])  # fmt: skip
    evidence = np.cumsum(per_hour * (live_share + f * (1 - live_share)) * STEP)
    live = np.cumsum(per_hour * live_share * STEP)
    i = int(np.argmax(evidence >= n))
    assert evidence[i] >= n
    before = evidence[i - 1] if i else 0.0
    part = (n - before) / (evidence[i] - before)  # rates are constant within the step
    live_before = live[i - 1] if i else 0.0
    return i * STEP + part * STEP, live_before + part * (live[i] - live_before)


def _reference(track: Track, f: float, staged=None):
    return evaluate_plan(
        track,
        shadow_fraction=f,
        staged=staged,
        zero_failure_sample_size=zero_failure_sample_size,
        shadow_hours=shadow_hours,
    )


def _planner(track: Track, **functions) -> CanaryPlanner:
    functions = {
        "zero_failure_sample_size": zero_failure_sample_size,
        "shadow_hours": shadow_hours,
    } | functions
    return CanaryPlanner(track, **functions)


def _good_plan(track: Track) -> StagedRollout:
    return StagedRollout(start_hours=GOOD_START_HOURS[track.key])


# --------------------------------------------------------------- the timeline, by brute force


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
@pytest.mark.parametrize(
    "plan",
    [
        ("start", None),
        ("cap", None),
        ("cap", 0.0),
        ("cap", "good"),
        ("cap", 150.0),
        ("start", 100.0),
    ],
    ids=str,
)
def test_timeline_matches_the_brute_force_grid(track: Track, plan) -> None:
    which, start = plan
    f = track.shadow_fraction if which == "start" else track.max_shadow_fraction
    if start == "good":
        start = GOOD_START_HOURS[track.key]
    staged = None if start is None else StagedRollout(start_hours=start)
    out = _reference(track, f, staged)
    hours, live = _brute_force(track, f, start)
    # The grid sums up to some 10^5 float steps: agreement to 1e-9 relative.
    assert out.hours == pytest.approx(hours, rel=1e-9)
    assert out.live_requests == pytest.approx(live, rel=1e-9, abs=1e-6)
    assert out.expected_live_failures == pytest.approx(track.p_max * live, rel=1e-9, abs=1e-12)
    assert out.requests == _clean_requests(track.p_max, track.confidence)


def test_longer_and_custom_stages_by_brute_force() -> None:
    t = get_track("tiny_pioneer")
    for stage, fractions, start in [(72.0, LADDER, 0.0), (12.0, (0.1, 0.5), 30.0)]:
        staged = StagedRollout(start_hours=start, stage_hours=stage, fractions=fractions)
        out = _reference(t, t.max_shadow_fraction, staged)
        hours, live = _brute_force(t, t.max_shadow_fraction, start, stage, fractions)
        assert out.hours == pytest.approx(hours, rel=1e-9)
        assert out.live_requests == pytest.approx(live, rel=1e-9)


def test_a_shadow_window_that_already_meets_the_target_goes_live_for_nothing() -> None:
    t = get_track("cloud_titan")
    out = _reference(t, t.max_shadow_fraction, StagedRollout(start_hours=500))
    assert out.hours == pytest.approx(2995 / 16.2, rel=1e-12) and out.live_requests == 0.0


# --------------------------------------------------------- the 10-iteration rule on every track


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_the_starting_plan_misses_the_week(track: Track) -> None:
    planner = _planner(track)
    first = planner.try_plan(shadow_fraction=track.shadow_fraction)
    hours, _ = _brute_force(track, track.shadow_fraction, None)
    assert not first.feasible and first.hours == pytest.approx(hours, rel=1e-12)
    assert first.hours > track.release_cycle_hours
    assert any("release cycle" in r for r in first.reasons)


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_no_one_click_fix(track: Track) -> None:
    # Shadow mode alone never works: above the cap it is over capacity, at or below it the
    # target takes longer than the week (brute force at the cap; hours fall with f).
    for f in (track.shadow_fraction, track.max_shadow_fraction, 1.0, 0.5):
        assert not _reference(track, f).feasible
    assert _brute_force(track, track.max_shadow_fraction, None)[0] > track.release_cycle_hours
    over = _reference(track, 1.0)
    assert over.hours <= track.release_cycle_hours  # fast enough, but...
    assert any("capacity" in r for r in over.reasons)  # ...over capacity
    # Going live at once is too risky, and a shadow window of the whole week too slow:
    # the feasible shadow durations lie strictly inside the week (the trade-off).
    cap = track.max_shadow_fraction
    now = _reference(track, cap, StagedRollout(start_hours=0))
    assert [("Safety Lead" in r) for r in now.reasons] == [True]
    late = _reference(track, cap, StagedRollout(start_hours=track.release_cycle_hours))
    assert [("release cycle" in r) for r in late.reasons] == [True]
    # And a staged rollout at the starting share is too risky too: the cap must be found.
    assert not _reference(track, track.shadow_fraction, _good_plan(track)).feasible


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_the_window_of_shadow_durations_at_the_cap(track: Track) -> None:
    # Just inside the documented window: feasible; 0.2 h outside: not (brute force).
    low, high = WINDOWS[track.key]
    cap = track.max_shadow_fraction
    for start, ok in [(low - 0.2, False), (low + 0.1, True), (high - 0.1, True),
                      (high + 0.2, False)]:  # fmt: skip
        hours, live = _brute_force(track, cap, start)
        brute_ok = (
            hours <= track.release_cycle_hours and track.p_max * live <= track.live_failure_budget
        )
        assert brute_ok == ok, (start, hours, live)
        assert _reference(track, cap, StagedRollout(start_hours=start)).feasible == ok


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_a_feasible_plan_within_ten_tries_needs_at_least_two(track: Track, capsys) -> None:
    planner = _planner(track)
    planner.try_plan(shadow_fraction=track.shadow_fraction)  # the notebook's first try
    bisect_at_cap(planner)
    plan = planner.final_plan()
    assert plan["feasible"] and 2 <= plan["iteration"] <= MAX_ITERATIONS
    assert plan["staged"]["start_hours"] > 0
    hours, live = _brute_force(track, plan["shadow_fraction"], plan["staged"]["start_hours"])
    assert plan["hours"] == pytest.approx(hours, rel=1e-9)
    assert hours <= track.release_cycle_hours
    assert track.p_max * live <= track.live_failure_budget
    assert check_canary_plan(plan, track.key)
    assert "FEASIBLE" in capsys.readouterr().out


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_tries_the_bisection_takes_per_track(track: Track) -> None:
    # Midpoints 84, 126, 147, 157.5 h: the windows above put Tiny Pioneer's plan at the
    # first, Cloud Titan's and Mobile Nomad's at the second, Edge Guardian's at the fourth.
    planner = _planner(track)
    planner.try_plan(shadow_fraction=track.shadow_fraction)
    bisect_at_cap(planner)
    tries = {"cloud_titan": 3, "edge_guardian": 5, "mobile_nomad": 3, "tiny_pioneer": 2}
    assert len(planner.attempts) == tries[track.key]


# ---------------------------------------------------------------- the hidden check of 2c


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_check_rejects_the_untouched_plan_and_accepts_a_good_one(track: Track) -> None:
    planner = _planner(track)
    planner.try_plan(shadow_fraction=track.shadow_fraction)
    untouched = planner.final_plan()  # no feasible try: the last one
    assert untouched["iteration"] == 1 and not check_canary_plan(untouched, track.key)
    planner.try_plan(shadow_fraction=track.max_shadow_fraction, staged=_good_plan(track))
    good = planner.final_plan()
    assert good["iteration"] == 2 and check_canary_plan(good, track.key)
    # What the grader receives went through JSON: tuples become lists.
    assert check_canary_plan(json.loads(json.dumps(good)), track.key)


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_a_plan_does_not_transfer_to_another_track(track: Track) -> None:
    plan = {"iteration": 2, "shadow_fraction": track.max_shadow_fraction,
            "staged": {"start_hours": GOOD_START_HOURS[track.key]}}  # fmt: skip
    assert check_canary_plan(plan, track.key)
    for other in ALL:
        if other is not track:
            assert not check_canary_plan(plan, other.key), other.key


def test_check_uses_the_reference_functions_not_the_students() -> None:
    # A shadow_hours that ignores the fraction makes the starting plan look 20 times
    # faster: the planner (on the student's functions) calls it feasible, the check does not.
    t = get_track("tiny_pioneer")
    planner = _planner(t, shadow_hours=lambda n, r, f: n / (r * 3600))
    assert planner.try_plan(shadow_fraction=t.shadow_fraction).feasible
    assert not check_canary_plan(planner.final_plan(), t.key)
    # A wrong sample size does not cost a plan that is good with the reference.
    planner = _planner(t, zero_failure_sample_size=lambda p, c: 10)
    planner.try_plan(shadow_fraction=t.max_shadow_fraction, staged=_good_plan(t))
    assert check_canary_plan(planner.final_plan(), t.key)
    outcome = reference_canary_outcome(planner.final_plan(), t.key)
    assert outcome is not None and outcome.requests == 46_050


@pytest.mark.parametrize(
    "change",
    [
        {"iteration": 11},
        {"iteration": 0},
        {"iteration": "two"},
        {"shadow_fraction": 0.0},
        {"shadow_fraction": "cap"},
        {"staged": {"start_hours": -1}},
        {"staged": {"start_hours": 80, "stage_hours": 0}},
        {"staged": {"start_hours": 80, "fractions": [0.5, 0.1]}},
        {"staged": {"hours": 80}},
        {"staged": 80},
    ],
    ids=str,
)
def test_check_rejects_malformed_plans(change: dict) -> None:
    t = get_track("tiny_pioneer")
    plan = {"iteration": 2, "shadow_fraction": t.max_shadow_fraction,
            "staged": {"start_hours": 80.0}} | change  # fmt: skip
    assert not check_canary_plan(plan, t.key)
    for bad in (None, [], "plan", {"shadow_fraction": 0.1}):
        assert not check_canary_plan(bad, t.key)


def test_a_legacy_plan_without_staged_is_shadow_only() -> None:
    t = get_track("cloud_titan")
    legacy = {"iteration": 2, "shadow_fraction": 1.0, "requests": 2995, "hours": 0.03}
    assert not check_canary_plan(legacy, t.key)  # over capacity
    assert reference_canary_outcome(legacy, t.key).live_requests == 0.0


# ------------------------------------------------------------------- the planner's mechanics


@pytest.fixture
def planner() -> CanaryPlanner:
    return _planner(get_track("Tiny Pioneer"))


def test_a_try_is_computed_with_the_functions_given(planner, capsys):
    t = planner.track
    attempt = planner.try_plan(shadow_fraction=0.1)
    n = zero_failure_sample_size(t.p_max, t.confidence)
    assert attempt.requests == n
    # hours = n / (rate * 3600 * fraction), computed here by hand
    assert attempt.hours == pytest.approx(n / (t.request_rate_per_s * 3600 * 0.1))
    assert attempt.feasible == (attempt.hours <= t.release_cycle_hours) is False
    assert attempt.staged is None and attempt.live_requests == 0.0
    assert "iteration 1 of 10" in capsys.readouterr().out


def test_the_first_feasible_plan_is_final(planner):
    t = planner.track
    slow = planner.try_plan(shadow_fraction=0.001)
    good = planner.try_plan(shadow_fraction=t.max_shadow_fraction, staged=_good_plan(t))
    planner.try_plan(shadow_fraction=t.max_shadow_fraction, staged={"start_hours": 90})
    assert not slow.feasible and good.feasible
    final = planner.final_plan()
    assert final["iteration"] == 2
    assert final["staged"] == {"start_hours": 80.0, "stage_hours": DEFAULT_STAGE_HOURS,
                               "fractions": LADDER}  # fmt: skip
    assert len(planner.canary_plans()) == 3


def test_the_verdict_names_each_broken_constraint(planner, capsys):
    t = planner.track
    planner.try_plan(shadow_fraction=1.0, staged=StagedRollout(start_hours=0, stage_hours=1))
    out = capsys.readouterr().out
    assert "OVER CAPACITY" in out and "TOO RISKY" in out and "TOO SLOW" not in out
    assert "live 1% -> 5% -> 25% -> 100% from hour 0 (1 h each)" in out
    planner.try_plan(shadow_fraction=t.max_shadow_fraction, staged=_good_plan(t))
    assert "FEASIBLE" in capsys.readouterr().out
    assert "12%" in planner.rules() and "2 expected failures" in planner.rules()


def test_students_own_functions_are_used():
    planner = _planner(
        get_track("Cloud Titan"),
        zero_failure_sample_size=lambda p, c: 7,
        shadow_hours=lambda n, r, f: 1000.0,
    )
    attempt = planner.try_plan(shadow_fraction=0.0001)
    assert (attempt.requests, attempt.hours, attempt.feasible) == (7, 1000.0, False)
    assert planner.final_plan()["iteration"] == 1  # no feasible plan: the last one tried


def test_a_shadow_hours_that_returns_nonsense_is_named():
    planner = _planner(get_track("Cloud Titan"), shadow_hours=lambda n, r, f: 0.0)
    with pytest.raises(ValueError, match="shadow_hours must return a positive"):
        planner.try_plan(shadow_fraction=0.0001)


def test_the_eleventh_try_is_refused(planner):
    for _ in range(MAX_ITERATIONS):
        planner.try_plan(shadow_fraction=0.01)
    with pytest.raises(ValueError, match="10 tries"):
        planner.try_plan(shadow_fraction=1.0)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan"), "half", None])
def test_bad_fraction_names_the_argument(planner, fraction):
    with pytest.raises(ValueError, match="shadow_fraction"):
        planner.try_plan(shadow_fraction=fraction)


@pytest.mark.parametrize(
    ("staged", "name"),
    [
        ({"start_hours": -1.0}, "start_hours"),
        ({"start_hours": float("inf")}, "start_hours"),
        ({"start_hours": 10, "stage_hours": 0}, "stage_hours"),
        ({"start_hours": 10, "fractions": []}, "fractions"),
        ({"start_hours": 10, "fractions": (0.05, 0.05)}, "fractions"),
        ({"start_hours": 10, "fractions": (0.0, 0.5)}, "fractions"),
        ({"start_hours": 10, "fractions": "1%"}, "fractions"),
        ({"stage_hours": 10}, "start_hours"),
        ({"start_hours": 10, "ramp": 2}, "staged"),
        (120, "staged"),
        ("yes", "staged"),
    ],
    ids=str,
)
def test_bad_staged_names_the_field(planner, staged, name):
    with pytest.raises(ValueError, match=name):
        planner.try_plan(shadow_fraction=0.1, staged=staged)
    assert not planner.attempts  # a refused try does not count


def test_no_plan_yet_is_a_clear_error(planner):
    with pytest.raises(ValueError, match="no plan tried yet"):
        planner.final_plan()


def test_staged_rollout_record():
    s = StagedRollout(start_hours=150, fractions=np.array([0.05, 1.0]))
    assert (s.start_hours, s.stage_hours, s.fractions) == (150.0, 24.0, (0.05, 1.0))
    assert StagedRollout.coerce(None) is None and StagedRollout.coerce(s) is s
    assert StagedRollout.coerce({"start_hours": 150, "fractions": [0.05, 1.0]}) == s
    with pytest.raises(AttributeError):
        s.start_hours = 1.0  # type: ignore[misc]


def test_docstring_examples_run():
    import doctest

    import opsmodel.canary_planner as module

    result = doctest.testmod(module)
    assert result.attempted >= 10 and result.failed == 0


def test_ships_without_the_reference_only_modules():
    # The planner runs in the student release, where shadow and sample_size are absent.
    import subprocess
    import sys

    code = (
        "import sys, opsmodel.canary_planner; "
        "bad = [m for m in sys.modules if m in ('opsmodel.shadow', 'opsmodel.sample_size')]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
