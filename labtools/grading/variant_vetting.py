"""Which variants a course hands out: only those that keep every teaching point of the lab.

A variant code redraws a track's numbers at random within plausible ranges
(:mod:`opsmodel.variants`). Most draws keep the lab's teaching points; a few in a hundred
do not: Mobile Nomad's fleet drawn a model or two below its own break-even size (its
story is a fleet past it), or an Edge Guardian generation without the tail that sampled
enough slow requests by chance to be rolled back. The student's side cannot see this
without the reference answers, and must not: so the instructor's side looks, when it
issues a code. :func:`labtools.grading.variant_codes.variant_code` tries an identity's
codes in turn and hands out the first that :func:`keeps_teaching_points` on every track
(the student may pick any of them).

Each teaching point is checked with the reference model, the way the lab's solution
reaches it (the canary plan is searched as the solution of 2c searches it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from labtools.grading.reference_checks import reference_ensemble_verdicts, reference_sprt_lines
from opsmodel import crises, toil
from opsmodel.canary_planner import MAX_ITERATIONS, PlanOutcome, StagedRollout, evaluate_plan
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.tracks import (
    TRACK_KEYS,
    TRACKS,
    CloudTitanCrisis,
    EdgeGuardianCrisis,
    MobileNomadCrisis,
    Track,
)
from opsmodel.variants import student_track

__all__ = [
    "BREAK_EVEN_RANGE",
    "TEACHING_POINTS",
    "keeps_teaching_points",
    "missed_teaching_points",
    "search_at_cap",
]

#: The break-even fleet sizes a variant may have: the lab's plot and its questions read
#: well between 5 and 60 models.
BREAK_EVEN_RANGE = (5, 60)

#: The teaching points, in the order of the lab, as :func:`missed_teaching_points` names them.
TEACHING_POINTS = ("break_even", "canary_plan", "sprt_lines", "sign_flip", "crisis")

#: A try of a canary plan: ``try_plan(shadow_fraction=..., staged=...)`` returning an outcome
#: with ``feasible``, ``hours`` and ``expected_live_failures`` (a
#: :meth:`~opsmodel.canary_planner.CanaryPlanner.try_plan` or :func:`_reference_try`).
TryPlan = Callable[..., Any]


def search_at_cap(track: Track, try_plan: TryPlan, tries_so_far: int) -> list[Any]:
    """The solution of 2c: at the shadow cap, bisect the shadow window until a plan is feasible.

    Parameters
    ----------
    track : Track
        The (student's) track.
    try_plan : callable
        Tries one plan (keyword arguments ``shadow_fraction`` and ``staged``) and returns
        its outcome.
    tries_so_far : int
        Tries already spent before the search (the lab's rule allows
        :data:`~opsmodel.canary_planner.MAX_ITERATIONS` in all).

    Returns
    -------
    list
        The outcomes of the search's tries, the feasible one last if it found one.
    """
    low, high = 0.0, track.release_cycle_hours
    outcomes: list[Any] = []
    while (
        not (outcomes and outcomes[-1].feasible) and tries_so_far + len(outcomes) < MAX_ITERATIONS
    ):
        start = (low + high) / 2
        outcome = try_plan(
            shadow_fraction=track.max_shadow_fraction, staged=StagedRollout(start_hours=start)
        )
        outcomes.append(outcome)
        if outcome.expected_live_failures > track.live_failure_budget:
            low = start  # too risky: more shadow first
        elif outcome.hours > track.release_cycle_hours:
            high = start  # too slow: go live sooner
    return outcomes


def _reference_try(track: Track) -> TryPlan:
    def try_plan(*, shadow_fraction: float, staged: StagedRollout | None = None) -> PlanOutcome:
        return evaluate_plan(
            track,
            shadow_fraction=shadow_fraction,
            staged=staged,
            zero_failure_sample_size=zero_failure_sample_size,
            shadow_hours=shadow_hours,
        )

    return try_plan


@functools.cache
def _track_platform_pays(key: str) -> bool:
    # The story of each track's fleet: Tiny Pioneer's platform does not pay yet, everyone
    # else's does. Fixed per track, so worked out once.
    base = TRACKS[key]
    return base.n_models >= toil.break_even_models(base.heterogeneity, base.toil_params)


def _break_even_kept(track: Track) -> bool:
    # N* in range, and the fleet on the same side of it as the track's fleet of the track's.
    n_star = toil.break_even_models(track.heterogeneity, track.toil_params)
    low, high = BREAK_EVEN_RANGE
    if n_star is None or not low <= n_star <= high:
        return False
    return (track.n_models >= n_star) == _track_platform_pays(track.key)


def _canary_plan_kept(track: Track) -> bool:
    # The starting plan and shadow alone at the cap both miss the cycle (staging is the
    # lesson), and the solution's search finds a plan within the ten tries.
    try_plan = _reference_try(track)
    shadow_alone = [
        try_plan(shadow_fraction=f) for f in (track.shadow_fraction, track.max_shadow_fraction)
    ]
    if any(o.feasible or o.hours <= track.release_cycle_hours for o in shadow_alone):
        return False
    found = search_at_cap(track, try_plan, tries_so_far=len(shadow_alone))
    return bool(found) and found[-1].feasible


def _sprt_lines_kept(track: Track) -> bool:
    promote_max, rollback_min = reference_sprt_lines(track)
    return -1 <= promote_max < rollback_min <= track.sprt_checkpoint_requests


def _sign_flip_kept(track: Track) -> bool:
    verdicts = reference_ensemble_verdicts(track)
    return verdicts["v1-signflip"] == {"silent_failure": True, "caught_by": "contract"} and bool(
        verdicts["v2"]["silent_failure"]
    )


def _crisis_kept(track: Track) -> bool:
    answer = crises.crisis_answer(track)
    crisis = track.crisis
    if isinstance(crisis, CloudTitanCrisis):
        return math.isfinite(answer) and 3.0 < answer < 6.0
    if isinstance(crisis, EdgeGuardianCrisis):
        # Exactly the generations with the tail roll back (none by chance of the sample).
        rates = crisis.over_budget_rate_per_version
        tail = {
            v
            for v, r in zip(crisis.hardware_versions, rates, strict=True)
            if r >= crisis.p99_exceedance_max
        }
        rolled_back = {v for v, d in answer["decisions"].items() if d == "rollback"}
        return bool(tail) and rolled_back == tail
    if isinstance(crisis, MobileNomadCrisis):
        return set(answer) == set(crisis.regressed_regions)  # never the decoy
    stale = {consumer for consumer, version in crisis.pins if version != crisis.serving_version}
    return "wake_word" in stale and set(answer) == stale


_CHECKS: dict[str, Callable[[Track], bool]] = {
    "break_even": _break_even_kept,
    "canary_plan": _canary_plan_kept,
    "sprt_lines": _sprt_lines_kept,
    "sign_flip": _sign_flip_kept,
    "crisis": _crisis_kept,
}


def missed_teaching_points(track: Track) -> tuple[str, ...]:
    """The teaching points a (variant of a) track misses, by name; empty when it keeps all.

    Parameters
    ----------
    track : Track
        A track or a student's variant of it (:func:`opsmodel.variants.student_track`).

    Returns
    -------
    tuple of str
        Names from :data:`TEACHING_POINTS`, in the lab's order.

    Examples
    --------
    >>> missed_teaching_points(student_track("Mobile Nomad"))
    ()
    """
    return tuple(name for name in TEACHING_POINTS if not _CHECKS[name](track))


def keeps_teaching_points(code: str) -> bool:
    """Whether the variant ``code`` keeps every teaching point on every track.

    Parameters
    ----------
    code : str
        A variant code (see :func:`opsmodel.variants.normalise_variant_code`).

    Returns
    -------
    bool
        True when :func:`missed_teaching_points` is empty for the code's variant of each
        track.
    """
    variants = (student_track(key, code) for key in TRACK_KEYS)
    return all(check(t) for t in variants for check in _CHECKS.values())
