"""The canary planner of the lab's "10-iteration rule": a shadow window, then a staged rollout.

A student searches for a canary plan that meets the Safety Lead's confidence target within
one release cycle, in at most ten tries. Two things make it a trade-off rather than a
single click:

- **Shadow capacity.** Mirroring a request runs the new model a second time (GPUs, a spare
  accelerator, battery), so each track can mirror at most ``track.max_shadow_fraction`` of
  its traffic; at that cap, shadow mode alone needs longer than the week.
- **Live exposure.** A staged live rollout (1% -> 5% -> 25% -> 100% of traffic) after a
  shadow window adds evidence much faster, because live traffic is not capped, but every
  live request served before the target is met is a real user on an unproven model. If
  the model is exactly as bad as the failure rate the test must rule out (``p_max``), about
  ``p_max * live_requests`` users meet a failure; the Safety Lead allows at most
  ``track.live_failure_budget`` of them.

A plan is feasible when the target is met within the release cycle, the shadow fraction
is within capacity and the live exposure within budget: the shadow window must be long
enough for the Safety Lead and short enough for the week.

The planner records each try. It computes the timeline itself, but every duration comes
from the sample-size and shadow-duration functions it is given, so that in the student
release it runs on the student's own implementations; the hidden test calls
:func:`evaluate_plan` with the reference functions. This module ships to students: it
must not import the reference-only modules ``shadow`` and ``sample_size``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._validation import InvalidInputError, check_real
from .rollout import DEFAULT_FRACTIONS

__all__ = [
    "MAX_ITERATIONS",
    "DEFAULT_STAGE_HOURS",
    "StagedRollout",
    "PlanOutcome",
    "evaluate_plan",
    "CanaryAttempt",
    "CanaryPlanner",
]

#: The lab's rule: a plan must be found in at most this many tries.
MAX_ITERATIONS = 10

#: Default length of each live stage: one day, so that every stage sees a full daily cycle
#: of traffic (a shorter window sees an unrepresentative mix).
DEFAULT_STAGE_HOURS = 24.0


def _pct(fraction: float) -> str:
    """A traffic share as a short percentage: 0.00018 -> '0.018%', 0.12 -> '12%'."""
    return f"{100.0 * fraction:.4g}%"


@dataclass(frozen=True)
class StagedRollout:
    """A staged live rollout that starts after a shadow window.

    Parameters
    ----------
    start_hours : float >= 0
        Hours of shadow mode alone before the first live stage (the shadow duration).
    stage_hours : float > 0, default 24.0
        Length of each live stage but the last, which lasts until the target is met.
    fractions : sequence of float in (0, 1], increasing, default (0.01, 0.05, 0.25, 1.0)
        Share of traffic the new model serves live in each stage.

    Raises
    ------
    InvalidInputError
        If a duration is negative (or ``stage_hours`` zero), NaN, infinite or not a
        number, or ``fractions`` is empty, outside (0, 1] or not increasing.

    Examples
    --------
    >>> StagedRollout(start_hours=150)
    StagedRollout(start_hours=150.0, stage_hours=24.0, fractions=(0.01, 0.05, 0.25, 1.0))
    """

    start_hours: float
    stage_hours: float = DEFAULT_STAGE_HOURS
    fractions: tuple[float, ...] = DEFAULT_FRACTIONS

    def __post_init__(self) -> None:
        start = check_real("start_hours", self.start_hours, low=0.0)
        stage = check_real("stage_hours", self.stage_hours, low=0.0, low_open=True)
        raw = self.fractions
        if isinstance(raw, np.ndarray):
            raw = raw.tolist()
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence) or not raw:
            raise InvalidInputError(
                f"fractions must be a non-empty sequence of traffic shares, got {raw!r}"
            )
        fractions = tuple(check_real("fractions", f, low=0.0, high=1.0, low_open=True) for f in raw)
        if any(b <= a for a, b in zip(fractions, fractions[1:], strict=False)):
            raise InvalidInputError(f"fractions must increase stage by stage, got {fractions}")
        object.__setattr__(self, "start_hours", start)
        object.__setattr__(self, "stage_hours", stage)
        object.__setattr__(self, "fractions", fractions)

    @classmethod
    def coerce(cls, value: Any) -> StagedRollout | None:
        """None, a :class:`StagedRollout`, or its fields as a mapping (a plan dict's ``staged``).

        Raises
        ------
        InvalidInputError
            If ``value`` is none of these, or a field is invalid.
        """
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"start_hours", "stage_hours", "fractions"}
            if unknown or "start_hours" not in value:
                raise InvalidInputError(
                    "staged must give start_hours (and optionally stage_hours, fractions), "
                    f"got {dict(value)!r}"
                )
            return cls(**value)
        raise InvalidInputError(
            f"staged must be None or StagedRollout(start_hours=...), got {value!r}"
        )

    def describe(self) -> str:
        """The schedule in words, e.g. 'live 1% -> 5% -> 25% -> 100% from hour 150 (24 h each)'."""
        ladder = " -> ".join(_pct(f) for f in self.fractions)
        return f"live {ladder} from hour {self.start_hours:g} ({self.stage_hours:g} h each)"


@dataclass(frozen=True)
class PlanOutcome:
    """What a canary plan achieves, and why it is or is not feasible.

    Attributes
    ----------
    requests : int
        Clean requests the confidence target needs (the sample-size function's answer).
    hours : float
        Hours from the start until the target is met (the plan's validation window).
    live_requests : float
        Requests the new model served live before the target was met (0 in shadow only).
    expected_live_failures : float
        ``p_max * live_requests``: users who meet a failure before the target is met, if
        the new model fails at exactly ``p_max``.
    feasible : bool
        True when ``reasons`` is empty.
    reasons : tuple of str
        Each constraint the plan breaks, in words: shadow capacity, release cycle, live
        failure budget.
    """

    requests: int
    hours: float
    live_requests: float
    expected_live_failures: float
    feasible: bool
    reasons: tuple[str, ...]


def _clean_requests(value: Any) -> int:
    """The sample-size function's answer as a positive whole number, or a clear error.

    A fractional answer is rounded up (a student whose 2a forgets the ceiling can still
    plan; 2a's own check costs that), anything else that is not a positive, finite number
    (an unfinished function returns None) is named.
    """
    try:
        n = float(value)
    except (TypeError, ValueError):
        n = math.nan
    if not (math.isfinite(n) and n > 0.0):
        raise InvalidInputError(
            "zero_failure_sample_size must return a positive number of requests, "
            f"got {value!r} (is it finished?)"
        )
    return math.ceil(n)


def _positive_hours(value: Any, n: float) -> float:
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0.0):
        raise InvalidInputError(
            f"shadow_hours must return a positive, finite number of hours, got {value!r} "
            f"for n_requests={n!r}"
        )
    return hours


def evaluate_plan(
    track: Any,
    *,
    shadow_fraction: float,
    staged: StagedRollout | Mapping[str, Any] | None = None,
    zero_failure_sample_size: Callable[[float, float], int],
    shadow_hours: Callable[[float, float, float], float],
) -> PlanOutcome:
    """Timeline, exposure and feasibility of one canary plan on a track.

    Parameters
    ----------
    track : opsmodel.tracks.Track
        Reads ``p_max``, ``confidence``, ``request_rate_per_s``, ``release_cycle_hours``,
        ``max_shadow_fraction`` and ``live_failure_budget``.
    shadow_fraction : float in (0, 1]
        Share of traffic mirrored to the shadow model, for the whole window. A share above
        ``track.max_shadow_fraction`` is evaluated but infeasible.
    staged : StagedRollout, mapping of its fields, or None, default None
        The live rollout after the shadow window; None: shadow mode only.
    zero_failure_sample_size : callable
        ``(p_max, confidence) -> int``: the clean requests the target needs.
    shadow_hours : callable
        ``(n_requests, request_rate_per_s, fraction) -> float``: hours to see
        ``n_requests`` when ``fraction`` of the traffic reaches the new model.

    Returns
    -------
    PlanOutcome

    Raises
    ------
    InvalidInputError
        If ``shadow_fraction`` is not in (0, 1], ``staged`` is invalid, or
        ``shadow_hours`` returns a duration that is not positive and finite.

    Notes
    -----
    Every request the new model sees counts as evidence, shadow or live. In shadow mode
    alone the target takes ``T0 = shadow_hours(n, rate, f)`` hours. With a staged rollout
    starting at hour ``H < T0``, the shadow window sees ``n H / T0`` requests; in a live
    stage serving a share ``phi`` the new model sees ``phi`` of the traffic live plus the
    mirrored ``f`` of the rest, ``e = phi + f (1 - phi)``, so the rest of the evidence
    takes ``shadow_hours(remaining, rate, e)`` hours, of which the live share is
    ``phi / e``. A stage that cannot finish in ``stage_hours`` contributes
    ``remaining * stage_hours / that``; the last stage runs until the target is met.
    Requests are counted as a continuous flow (no flooring), so every quantity is linear
    in the durations the functions return.

    Examples
    --------
    Cloud Titan's reference numbers: 2,995 clean requests; at the 0.018% shadow cap
    (16.2 requests an hour) shadow mode alone takes 184.9 h, over the week. Going live
    after 150 h of shadow leaves 565 requests to see; the 1% stage sees them in 0.6 h,
    555 of them live: 0.56 expected failures against a budget of 1:

    >>> from opsmodel.tracks import get_track
    >>> from opsmodel.sample_size import zero_failure_sample_size as n_needed
    >>> from opsmodel.shadow import shadow_hours as hours
    >>> t = get_track("cloud_titan")
    >>> alone = evaluate_plan(t, shadow_fraction=t.max_shadow_fraction,
    ...                       zero_failure_sample_size=n_needed, shadow_hours=hours)
    >>> round(alone.hours, 1), alone.feasible
    (184.9, False)
    >>> out = evaluate_plan(t, shadow_fraction=t.max_shadow_fraction,
    ...                     staged=StagedRollout(start_hours=150),
    ...                     zero_failure_sample_size=n_needed, shadow_hours=hours)
    >>> round(out.hours, 1), round(out.live_requests), round(out.expected_live_failures, 2)
    (150.6, 555, 0.56)
    >>> out.feasible
    True
    """
    f = check_real("shadow_fraction", shadow_fraction, low=0.0, high=1.0, low_open=True)
    plan = StagedRollout.coerce(staged)
    rate = track.request_rate_per_s
    n = _clean_requests(zero_failure_sample_size(track.p_max, track.confidence))
    shadow_alone = _positive_hours(shadow_hours(n, rate, f), n)

    live = 0.0
    if plan is None or shadow_alone <= plan.start_hours:
        hours = shadow_alone  # the shadow window alone meets the target
    else:
        remaining = n * (1.0 - plan.start_hours / shadow_alone)
        hours = plan.start_hours
        last = len(plan.fractions) - 1
        for i, phi in enumerate(plan.fractions):
            share = phi + f * (1.0 - phi)  # live, plus the mirror of the rest
            needed = _positive_hours(shadow_hours(remaining, rate, share), remaining)
            if i == last or needed <= plan.stage_hours:
                live += remaining * phi / share
                hours += needed
                break
            seen = remaining * plan.stage_hours / needed
            live += seen * phi / share
            remaining -= seen
            hours += plan.stage_hours

    expected = track.p_max * live
    reasons = []
    if f > track.max_shadow_fraction:
        reasons.append(
            f"shadow fraction {_pct(f)} is above the {_pct(track.max_shadow_fraction)} "
            "of traffic the shadow capacity allows"
        )
    if hours > track.release_cycle_hours:
        reasons.append(
            f"the target is met after {hours:,.1f} h, beyond the "
            f"{track.release_cycle_hours:g} h release cycle"
        )
    if expected > track.live_failure_budget:
        reasons.append(
            f"{live:,.0f} live requests before the target: {expected:.2f} expected failures "
            f"reach users if the model is as bad as p_max, above the Safety Lead's budget "
            f"of {track.live_failure_budget:g}"
        )
    return PlanOutcome(
        requests=n,
        hours=hours,
        live_requests=live,
        expected_live_failures=expected,
        feasible=not reasons,
        reasons=tuple(reasons),
    )


@dataclass(frozen=True)
class CanaryAttempt:
    """One recorded try of the planner.

    Attributes
    ----------
    iteration : int
        1-based number of the try.
    shadow_fraction : float
        Share of live traffic mirrored to the shadow model, in (0, 1].
    requests : int
        Clean requests needed for the track's target (zero failures).
    hours : float
        Hours until the target is met: the shadow window alone, or the shadow window and
        the live stages.
    feasible : bool
        Whether the plan meets the target within the release cycle, the shadow capacity
        and the live failure budget.
    staged : StagedRollout or None
        The live rollout after the shadow window (None: shadow mode only). In
        :meth:`CanaryPlanner.final_plan` it becomes a dict of its fields.
    live_requests : float
        Requests served live before the target was met.
    expected_live_failures : float
        ``p_max * live_requests``.
    reasons : tuple of str
        The constraints the plan breaks (empty when feasible).
    """

    iteration: int
    shadow_fraction: float
    requests: int
    hours: float
    feasible: bool
    staged: StagedRollout | None = None
    live_requests: float = 0.0
    expected_live_failures: float = 0.0
    reasons: tuple[str, ...] = ()


class CanaryPlanner:
    """Record canary plans tried against a track's target, release cycle and constraints.

    Parameters
    ----------
    track : opsmodel.tracks.Track
        The student's track: its ``p_max``, ``confidence``, ``request_rate_per_s``,
        ``release_cycle_hours``, ``max_shadow_fraction`` and ``live_failure_budget``
        define the problem.
    zero_failure_sample_size : callable
        ``(p_max, confidence) -> int``, the student's implementation.
    shadow_hours : callable
        ``(n_requests, request_rate_per_s, shadow_fraction) -> float``, the student's
        implementation.

    Notes
    -----
    See :func:`evaluate_plan` for the timeline. Shadow mode alone is safe but capped; a
    staged live rollout is fast but exposes users. The plan to find is a shadow window
    long enough that little evidence is left for the live stages (the Safety Lead) and
    short enough that the whole fits the release cycle (Product).

    Examples
    --------
    >>> from opsmodel.tracks import get_track
    >>> from opsmodel.sample_size import zero_failure_sample_size as n_needed
    >>> from opsmodel.shadow import shadow_hours as hours
    >>> t = get_track("edge_guardian")
    >>> planner = CanaryPlanner(t, zero_failure_sample_size=n_needed, shadow_hours=hours)
    >>> planner.try_plan(shadow_fraction=t.shadow_fraction).feasible
    iteration 1 of 10: TOO SLOW
        plan: shadow 0.0012%, shadow only
        target: 4,605,168 requests after 426.4 h (cycle 168 h)
        exposure: 0 live requests = 0.00 expected failures (budget 0.5)
        - the target is met after 426.4 h, beyond the 168 h release cycle
    False
    >>> planner.try_plan(shadow_fraction=t.max_shadow_fraction,
    ...                  staged=StagedRollout(start_hours=160)).feasible
    iteration 2 of 10: FEASIBLE
        plan: shadow 0.003%, live 1% -> 5% -> 25% -> 100% from hour 160 (24 h each)
        target: 4,605,168 requests after 160.0 h (cycle 168 h)
        exposure: 284,324 live requests = 0.28 expected failures (budget 0.5)
    True
    >>> planner.final_plan()["iteration"]
    2
    """

    def __init__(
        self,
        track: Any,
        *,
        zero_failure_sample_size: Callable[[float, float], int],
        shadow_hours: Callable[[float, float, float], float],
    ) -> None:
        self.track = track
        self._sample_size = zero_failure_sample_size
        self._shadow_hours = shadow_hours
        self.attempts: list[CanaryAttempt] = []

    def rules(self) -> str:
        """The problem in three lines: target, shadow capacity, live failure budget."""
        t = self.track
        return (
            f"Target: rule out p_max = {t.p_max:g} at {t.confidence:.0%} confidence within "
            f"the {t.release_cycle_hours:g} h release cycle.\n"
            f"Shadow capacity: mirror at most {_pct(t.max_shadow_fraction)} of the "
            f"{t.request_rate_per_s:,g} requests/s.\n"
            f"Safety Lead: at most {t.live_failure_budget:g} expected failures may reach "
            "users before the target is met (p_max x live requests)."
        )

    def try_plan(
        self,
        *,
        shadow_fraction: float,
        staged: StagedRollout | Mapping[str, Any] | None = None,
    ) -> CanaryAttempt:
        """Evaluate and record one plan; print a one-line verdict.

        Parameters
        ----------
        shadow_fraction : float in (0, 1]
            Share of traffic mirrored to the shadow model.
        staged : StagedRollout, mapping of its fields, or None, default None
            The live rollout after the shadow window, e.g.
            ``StagedRollout(start_hours=120)``; None: shadow mode only.

        Returns
        -------
        CanaryAttempt

        Raises
        ------
        InvalidInputError
            If ``shadow_fraction`` is not in (0, 1], ``staged`` is invalid, or ten tries
            were already used.
        """
        fraction = check_real("shadow_fraction", shadow_fraction, low=0.0, high=1.0, low_open=True)
        plan = StagedRollout.coerce(staged)
        if len(self.attempts) >= MAX_ITERATIONS:
            raise InvalidInputError(
                f"the 10-iteration rule allows {MAX_ITERATIONS} tries; all are used "
                "(make a new CanaryPlanner to start over)"
            )
        t = self.track
        outcome = evaluate_plan(
            t,
            shadow_fraction=fraction,
            staged=plan,
            zero_failure_sample_size=self._sample_size,
            shadow_hours=self._shadow_hours,
        )
        attempt = CanaryAttempt(
            iteration=len(self.attempts) + 1,
            shadow_fraction=fraction,
            requests=outcome.requests,
            hours=outcome.hours,
            feasible=outcome.feasible,
            staged=plan,
            live_requests=outcome.live_requests,
            expected_live_failures=outcome.expected_live_failures,
            reasons=outcome.reasons,
        )
        self.attempts.append(attempt)
        print(self._verdict(attempt))
        return attempt

    def _verdict(self, a: CanaryAttempt) -> str:
        t = self.track
        schedule = "shadow only" if a.staged is None else a.staged.describe()
        labels = []
        if a.shadow_fraction > t.max_shadow_fraction:
            labels.append("OVER CAPACITY")
        if a.hours > t.release_cycle_hours:
            labels.append("TOO SLOW")
        if a.expected_live_failures > t.live_failure_budget:
            labels.append("TOO RISKY")
        lines = [
            f"iteration {a.iteration} of {MAX_ITERATIONS}: "
            f"{', '.join(labels) if labels else 'FEASIBLE'}",
            f"    plan: shadow {_pct(a.shadow_fraction)}, {schedule}",
            f"    target: {a.requests:,} requests after {a.hours:,.1f} h "
            f"(cycle {t.release_cycle_hours:g} h)",
            f"    exposure: {a.live_requests:,.0f} live requests = "
            f"{a.expected_live_failures:.2f} expected failures (budget {t.live_failure_budget:g})",
        ]
        return "\n".join(lines + [f"    - {reason}" for reason in a.reasons])

    def final_plan(self) -> dict[str, Any]:
        """The first feasible plan as a plain dict (the graded answer), or the last one tried.

        Returns
        -------
        dict
            The fields of :class:`CanaryAttempt`; ``staged`` is None or a dict with
            ``start_hours``, ``stage_hours`` and ``fractions``.

        Raises
        ------
        InvalidInputError
            If no plan was tried yet.
        """
        if not self.attempts:
            raise InvalidInputError("no plan tried yet: call planner.try_plan(shadow_fraction=...)")
        chosen = next((a for a in self.attempts if a.feasible), self.attempts[-1])
        return asdict(chosen)

    def canary_plans(self) -> list[dict[str, Any]]:
        """Every recorded try as plain dicts, for the dashboard's radar."""
        return [asdict(a) for a in self.attempts]
