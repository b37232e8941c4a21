"""The shadow-mode dashboard (Part 2): Confidence Clock, Risk-vs-Velocity Radar, SPRT trace.

:class:`ShadowModeDashboard` draws three panels for one canary setting, stacked one
above the other in a figure 10 inches (1000 px) wide, or any of them on its own:

1. **Confidence Clock**: the confidence that a failure rate ``p_max`` is ruled out,
   ``1 - (1 - p_max)^requests``, against hours, for a constant shadow fraction and for a
   staged rollout (1% -> 5% -> 25% -> 100% of traffic, by default one quarter of the
   release cycle per stage); the Safety Lead's target, the release-cycle limit and the
   time each schedule reaches the target.
2. **Risk-vs-Velocity Radar**: candidate canary plans (:class:`CanaryPlan`) on four
   normalised axes, outer is better (see :data:`RADAR_AXES`).
3. **SPRT trace**: cumulative failures against requests with Wald's roll-back and promote
   lines, beside the fixed-n sample sizes, so sequential validation's saving shows.

The sample-size and shadow-duration functions are passed in (in the student release,
the student's own); the shipped :mod:`opsmodel.bounds`, :mod:`opsmodel.rollout` and
:mod:`opsmodel.sprt` supply the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from .._validation import InvalidInputError, check_int, check_probability, check_real
from ..bounds import zero_failure_confidence
from ..rollout import DEFAULT_FRACTIONS, staged_rollout
from ..sprt import fixed_n_for_errors, sprt_boundaries, sprt_llr
from . import _common
from .palette import PLAN_COLOURS, colour

__all__ = [
    "PANELS",
    "RELEASE_CYCLE_HOURS",
    "RADAR_AXES",
    "CanaryPlan",
    "CanaryMetrics",
    "SPRTTrace",
    "radar_scores",
    "sprt_trace",
    "ShadowModeDashboard",
]

#: One release cycle, one week (the spec's default; the track may set its own).
RELEASE_CYCLE_HOURS: float = 168.0

#: The dashboard's panels, in drawing order: pass any of them to
#: :meth:`ShadowModeDashboard.figure` to draw only those.
PANELS: tuple[str, ...] = ("clock", "radar", "sprt")

# Height in inches of each panel in a 10-inch-wide figure (axes, title, legend below),
# and of the figure's own title: the figure is as tall as the panels it shows.
_PANEL_HEIGHT_IN = {"clock": 5.7, "radar": 4.7, "sprt": 5.3}
_SUPTITLE_HEIGHT_IN = 0.45
# Text sizes in points: at 10 inches shown 1000 px wide, 1 pt is 1.39 px, so the
# smallest text (10 pt) is about 14 px on screen.
_TEXT_PT = 10.0
_TITLE_PT = 12.0

# Fixed scales of the radar (not relative to the plans compared, so that adding a plan
# never moves the others). Each axis is 0 at the worst end and 1 at the best.
_SAFETY_FULL_NINES = 3.0  # confidence 99.9% (three nines) or more scores 1
_EXPOSURE_FULL_DECADES = 4.0  # 0.01% of traffic or less scores 1; 100% scores 0
_SENSITIVITY_WORST_LOG10 = -1.0  # p_max = 10% scores 0
_SENSITIVITY_FULL_DECADES = 5.0  # p_max = 1e-6 or smaller scores 1

#: The radar's axes, in drawing order, with how each is normalised to [0, 1].
RADAR_AXES: tuple[tuple[str, str], ...] = (
    ("Safety", "nines of confidence / 3: 90% -> 0.33, 99.9% -> 1"),
    ("Velocity", "1 - hours to release / release cycle (0 when over the cycle)"),
    ("Low exposure", "-log10(traffic share) / 4: 100% -> 0, 0.01% -> 1"),
    ("Sensitivity", "(-log10(p_max) - 1) / 5: p_max 10% -> 0, 1e-6 -> 1"),
)


def radar_scores(
    *,
    confidence: float,
    hours_to_release: float,
    release_cycle_hours: float,
    traffic_share: float,
    p_max: float,
) -> tuple[float, float, float, float]:
    """Normalise one plan's metrics onto the radar's four axes, each in [0, 1].

    Parameters
    ----------
    confidence : float in (0, 1)
        Confidence the plan reaches.
    hours_to_release : float >= 0
        Shadow hours before the plan can release.
    release_cycle_hours : float > 0
        The release-cycle limit.
    traffic_share : float in (0, 1]
        Share of live traffic the plan routes to the candidate.
    p_max : float in (0, 1)
        Smallest failure rate the plan rules out.

    Returns
    -------
    tuple of four floats in [0, 1]
        (safety, velocity, low exposure, sensitivity), outer (1) is better.

    Notes
    -----
    The scales are fixed, not relative to the plans compared, so a plan keeps its shape
    when another is added (see :data:`RADAR_AXES`). Safety counts nines,
    ``-log10(1 - C) / 3``; velocity is the share of the release cycle left,
    ``1 - hours / cycle``; exposure and sensitivity are in decades, because traffic
    shares and failure rates span orders of magnitude. Each is clipped to [0, 1].

    Examples
    --------
    >>> radar_scores(confidence=0.99, hours_to_release=84.0, release_cycle_hours=168.0,
    ...              traffic_share=0.01, p_max=1e-3)
    (0.6667, 0.5, 0.5, 0.4)
    """
    c = check_probability("confidence", confidence)
    hours = check_real("hours_to_release", hours_to_release, low=0.0)
    cycle = check_real("release_cycle_hours", release_cycle_hours, low=0.0, low_open=True)
    share = check_real("traffic_share", traffic_share, low=0.0, high=1.0, low_open=True)
    p = check_probability("p_max", p_max)

    def clip(x: float) -> float:
        return round(min(1.0, max(0.0, x)), 4)

    return (
        clip(-math.log10(1.0 - c) / _SAFETY_FULL_NINES),
        clip(1.0 - hours / cycle),
        clip(-math.log10(share) / _EXPOSURE_FULL_DECADES),
        clip((_SENSITIVITY_WORST_LOG10 - math.log10(p)) / _SENSITIVITY_FULL_DECADES),
    )


@dataclass(frozen=True)
class CanaryMetrics:
    """What one canary plan costs and buys, computed from the passed functions.

    Attributes
    ----------
    name : str
        The plan's name.
    required_requests : int
        Failure-free requests needed, ``zero_failure_sample_size(p_max, confidence)``.
    hours_to_release : float
        ``shadow_hours(required_requests, request_rate_per_s, shadow_fraction)``.
    traffic_share_exposed : float
        Share of live traffic routed to the candidate (the plan's shadow fraction).
    detectable_failure_rate : float
        The failure rate ruled out (the plan's ``p_max``).
    confidence : float
        The confidence reached.
    meets_release_cycle : bool
        ``hours_to_release <= release_cycle_hours``.
    scores : tuple of float
        The radar's normalised scores, in :data:`RADAR_AXES` order.
    """

    name: str
    required_requests: int
    hours_to_release: float
    traffic_share_exposed: float
    detectable_failure_rate: float
    confidence: float
    meets_release_cycle: bool
    scores: tuple[float, ...]


@dataclass(frozen=True)
class CanaryPlan:
    """One candidate canary plan for the radar.

    Parameters
    ----------
    name : str
        Legend label.
    shadow_fraction : float in (0, 1]
        Share of live traffic mirrored (or routed) to the candidate.
    confidence : float in (0, 1)
        The confidence the plan must reach.
    p_max : float in (0, 1)
        The failure rate to rule out.
    request_rate_per_s : float > 0
        Fleet request rate.
    release_cycle_hours : float > 0, default 168.0
        The release-cycle limit.

    Raises
    ------
    InvalidInputError
        If a field is out of range.
    """

    name: str
    shadow_fraction: float
    confidence: float
    p_max: float
    request_rate_per_s: float
    release_cycle_hours: float = RELEASE_CYCLE_HOURS

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError(f"name must be a non-empty string, got {self.name!r}")
        checked = {
            "shadow_fraction": check_real(
                "shadow_fraction", self.shadow_fraction, low=0.0, high=1.0, low_open=True
            ),
            "confidence": check_probability("confidence", self.confidence),
            "p_max": check_probability("p_max", self.p_max),
            "request_rate_per_s": check_real(
                "request_rate_per_s", self.request_rate_per_s, low=0.0, low_open=True
            ),
            "release_cycle_hours": check_real(
                "release_cycle_hours", self.release_cycle_hours, low=0.0, low_open=True
            ),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def metrics(
        self,
        *,
        zero_failure_sample_size: Callable[[float, float], int],
        shadow_hours: Callable[[float, float, float], float],
    ) -> CanaryMetrics:
        """Compute the plan's metrics with the given functions.

        Parameters
        ----------
        zero_failure_sample_size : callable
            ``(p_max, confidence) -> int`` requests.
        shadow_hours : callable
            ``(n_requests, request_rate_per_s, shadow_fraction) -> hours``.

        Returns
        -------
        CanaryMetrics
        """
        n = _required_requests(zero_failure_sample_size, self.p_max, self.confidence)
        hours = _common.call_number(
            "shadow_hours", shadow_hours, n, self.request_rate_per_s, self.shadow_fraction
        )
        if hours < 0:
            raise InvalidInputError(f"shadow_hours returned {hours!r}; expected hours >= 0")
        return CanaryMetrics(
            name=self.name,
            required_requests=n,
            hours_to_release=hours,
            traffic_share_exposed=self.shadow_fraction,
            detectable_failure_rate=self.p_max,
            confidence=self.confidence,
            meets_release_cycle=hours <= self.release_cycle_hours,
            scores=radar_scores(
                confidence=self.confidence,
                hours_to_release=hours,
                release_cycle_hours=self.release_cycle_hours,
                traffic_share=self.shadow_fraction,
                p_max=self.p_max,
            ),
        )


def _required_requests(fn: Callable[..., Any], p_max: float, confidence: float) -> int:
    value = _common.call_number("zero_failure_sample_size", fn, p_max, confidence)
    if value < 1 or value != math.floor(value):
        raise InvalidInputError(
            f"zero_failure_sample_size returned {value!r} for (p_max={p_max}, "
            f"confidence={confidence}); expected a whole number of requests >= 1"
        )
    return int(value)


# ---------------------------------------------------------------------------- SPRT trace


@dataclass(frozen=True)
class SPRTTrace:
    """One run of the SPRT on a sequence of requests.

    Attributes
    ----------
    failure_positions : ndarray of int
        1-based request number of each failure seen up to the stop (or ``max_n``).
    stop_n : int
        Request at which the test decided (``max_n`` when undecided).
    decision : str
        ``"promote"``, ``"rollback"`` or ``"continue"`` (undecided at ``max_n``).
    max_n : int
        Length of the sequence watched.
    """

    failure_positions: np.ndarray = field(repr=False)
    stop_n: int
    decision: str
    max_n: int

    @property
    def failures_at_stop(self) -> int:
        """Failures seen when the test stopped."""
        return int(np.count_nonzero(self.failure_positions <= self.stop_n))


def sprt_trace(
    failure_positions: Sequence[int] | np.ndarray,
    max_n: int,
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.20,
) -> SPRTTrace:
    """Run Wald's SPRT along a sequence of requests given by its failure positions.

    Parameters
    ----------
    failure_positions : sequence of int in [1, max_n], increasing
        1-based request numbers at which a failure occurred.
    max_n : int >= 1
        Number of requests in the sequence.
    p0, p1 : float in (0, 1), p1 > p0
        Failure rates under H0 (fine) and H1 (regressed).
    alpha, beta : float in (0, 1)
        Target error rates.

    Returns
    -------
    SPRTTrace

    Raises
    ------
    InvalidInputError
        If the positions are not increasing integers in [1, max_n] or a rate is invalid.

    Notes
    -----
    Event-driven, so millions of requests cost nothing: between failures the LLR only
    falls (each clean request adds ``ln((1 - p1)/(1 - p0)) < 0``), and at a failure it
    jumps up. So a roll-back can first happen at a failure and a promotion inside a run
    of clean requests, at the first ``n`` whose LLR is at or below ``ln(beta/(1-alpha))``.
    Every decision is read from :func:`opsmodel.sprt.sprt_llr` at candidate points (the
    spec's rule: decide from the LLR, not from rounded lines).
    """
    n_total = check_int("max_n", max_n, low=1)
    bounds = sprt_boundaries(p0, p1, alpha, beta)
    positions = np.asarray(failure_positions, dtype=np.int64).ravel()
    if positions.size and (
        positions[0] < 1 or positions[-1] > n_total or np.any(np.diff(positions) <= 0)
    ):
        raise InvalidInputError(
            f"failure_positions must be increasing integers in [1, {n_total}], got "
            f"{positions[:5].tolist()}..."
        )
    starts = np.concatenate([[0], positions])  # segment d starts at the d-th failure
    ends = np.concatenate([positions - 1, [n_total]])  # and ends before the next one
    d = np.arange(starts.size)
    at_start = np.asarray(sprt_llr(d, starts, bounds.p0, bounds.p1), dtype=float)
    at_end = np.asarray(sprt_llr(d, np.maximum(ends, starts), bounds.p0, bounds.p1), dtype=float)
    rollback = at_start >= bounds.log_a
    promote = (at_end <= bounds.log_b) & (ends >= starts)
    events = np.flatnonzero(rollback | promote)
    if events.size == 0:
        return SPRTTrace(positions, n_total, "continue", n_total)
    k = int(events[0])
    if rollback[k]:
        return SPRTTrace(positions, int(starts[k]), "rollback", n_total)
    # Inside segment k the LLR falls linearly: solve for the crossing, then read the exact
    # first n from sprt_llr on a small window around it (float rounding of the solve).
    g1 = math.log(bounds.p1 / bounds.p0)
    g0 = math.log((1.0 - bounds.p1) / (1.0 - bounds.p0))  # < 0
    n_cross = k + (bounds.log_b - k * g1) / g0
    low = int(max(starts[k], math.floor(n_cross) - 2))
    window = np.arange(low, min(int(ends[k]), low + 8) + 1)
    llr = np.asarray(sprt_llr(np.full(window.shape, k), window, bounds.p0, bounds.p1))
    hits = np.flatnonzero(llr <= bounds.log_b)
    stop = int(window[hits[0]]) if hits.size else int(ends[k])
    return SPRTTrace(positions, stop, "promote", n_total)


def _simulate_failures(p_true: float, max_n: int, seed: int) -> np.ndarray:
    # Failures of a Bernoulli(p_true) sequence, as positions: the gaps are geometric, so
    # drawing them costs O(failures), not O(requests) (Edge Guardian needs millions).
    rng = np.random.default_rng(seed)
    positions: list[np.ndarray] = []
    last = 0
    batch = int(p_true * max_n * 1.5) + 16
    while last <= max_n:
        chunk = last + np.cumsum(rng.geometric(p_true, size=batch))
        positions.append(chunk)
        last = int(chunk[-1])
    all_positions = np.concatenate(positions)
    return all_positions[all_positions <= max_n]


# ------------------------------------------------------------------------------ dashboard


@dataclass(frozen=True, kw_only=True)
class ShadowModeDashboard:
    """Confidence Clock, Risk-vs-Velocity Radar and SPRT trace for one canary setting.

    Parameters
    ----------
    p_max : float in (0, 1)
        Failure rate the shadow test must rule out.
    confidence : float in (0, 1)
        The Safety Lead's target confidence.
    request_rate_per_s : float > 0
        Fleet request rate reaching the model.
    shadow_fraction : float in (0, 1], default 1.0
        Share of that traffic mirrored to the candidate.
    zero_failure_sample_size : callable
        ``(p_max, confidence) -> int``, the function whose answer the clock marks.
    shadow_hours : callable
        ``(n_requests, request_rate_per_s, shadow_fraction) -> hours``.
    release_cycle_hours : float > 0, default 168.0
        The release-cycle limit.
    staged : bool, default True
        Draw the staged rollout on the clock beside the constant shadow fraction.
    stage_hours : float >= 0 or sequence of them, optional
        Duration of each rollout stage in hours: one number for every stage, or one per
        stage. By default the release cycle split evenly over the stages (42 h each for
        a 168-hour cycle and four stages), so the whole ramp fits one release cycle.
        Must not be given with ``staged=False``.
    rollout_fractions : sequence of float in (0, 1], default (0.01, 0.05, 0.25, 1.0)
        Traffic share of each rollout stage.
    plans : sequence of CanaryPlan or mapping, optional
        Plans for the radar. A mapping needs ``shadow_fraction`` and may give ``name``,
        ``confidence``, ``p_max``, ``request_rate_per_s`` (the dashboard's values fill
        the rest), so :meth:`opsmodel.canary_planner.CanaryPlanner.canary_plans` can be
        passed directly. By default: the current plan, ten times its traffic share,
        100% shadow and a stricter confidence; with ``max_shadow_fraction``, the current
        plan, the plan at that cap and a stricter confidence.
    max_shadow_fraction : float in (0, 1], optional
        The most traffic the shadow capacity can mirror (a track's
        ``max_shadow_fraction``): the default radar plans then stay within it, as the
        canary planner's do.
    p0, p1 : float in (0, 1), p1 > p0, optional
        SPRT rates (fine, regressed). Default ``p1 = p_max``, ``p0 = p_max / 3``.
    alpha, beta : float in (0, 1), defaults 0.05 and 0.20
        SPRT error targets.
    sprt_failure_positions : sequence of int, optional
        A given request sequence for the trace: 1-based positions of its failures, with
        ``sprt_max_n`` requests in all. By default a sequence is simulated.
    sprt_p_true : float in (0, 1), optional
        True failure rate of the simulated sequence (default ``p0``: a fine model).
    sprt_max_n : int >= 1, optional
        Requests in the sequence (default three times the larger fixed-n bound).
    seed : int >= 0, default 0
        Seed of the simulated sequence.
    title : str, optional
        Figure title (the track's name, for instance).
    figsize : tuple of two floats > 0, optional
        Figure size in inches. By default 10 inches wide (a notebook shows it at 1000 px,
        unscaled) and as tall as the panels drawn: 5.7 in for the clock, 4.7 in for the
        radar, 5.3 in for the SPRT trace, plus the title.

    Raises
    ------
    InvalidInputError
        If an argument is out of range or a function is not callable.

    Notes
    -----
    The clock draws ``requests(t) = rate * 3600 * fraction * t`` and the marker at
    ``shadow_hours(zero_failure_sample_size(p_max, C), rate, fraction)``: with correct
    functions the marker sits on the curve where it crosses the target, a visual check
    of the student's two functions. The staged curve counts the requests of
    :func:`opsmodel.rollout.staged_rollout` stage by stage (the traffic share of the
    stage under way, then 100% after the last stage) and marks where the required
    requests are reached and where each stage ends. Artists carry ``gid``s
    ("clock_constant", "clock_staged", "stage_switches", "target", "release_cycle",
    "target_reached", "target_reached_staged", "radar_<i>", "sprt_trace",
    "sprt_rollback", "sprt_promote", "fixed_n_zero_failure", "fixed_n_errors").

    Examples
    --------
    The rule of three at 10 requests per second, mirrored 5%: 2,995 clean requests take
    1.66 hours. The default staged rollout (42 h per stage) reaches them in its 1% stage:

    >>> def n_needed(p_max, confidence):
    ...     return 2995
    >>> def hours(n, rate, fraction=1.0):
    ...     return n / (rate * 3600 * fraction)
    >>> dash = ShadowModeDashboard(p_max=0.001, confidence=0.95, request_rate_per_s=10.0,
    ...     shadow_fraction=0.05, zero_failure_sample_size=n_needed, shadow_hours=hours)
    >>> round(dash.hours_to_target(), 2), round(dash.staged_hours_to_target(), 2)
    (1.66, 8.32)
    >>> fig = dash.figure(panels=["clock"])  # the clock alone, 10 inches wide
    """

    p_max: float
    confidence: float
    request_rate_per_s: float
    zero_failure_sample_size: Callable[[float, float], int]
    shadow_hours: Callable[[float, float, float], float]
    shadow_fraction: float = 1.0
    release_cycle_hours: float = RELEASE_CYCLE_HOURS
    staged: bool = True
    stage_hours: float | tuple[float, ...] | None = None
    rollout_fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    plans: tuple[CanaryPlan, ...] | None = None
    p0: float | None = None
    p1: float | None = None
    alpha: float = 0.05
    beta: float = 0.20
    sprt_failure_positions: tuple[int, ...] | None = None
    sprt_p_true: float | None = None
    sprt_max_n: int | None = None
    seed: int = 0
    title: str | None = None
    figsize: tuple[float, float] | None = None
    max_shadow_fraction: float | None = None

    def __post_init__(self) -> None:
        p_max = check_probability("p_max", self.p_max)
        fraction = check_real(
            "shadow_fraction", self.shadow_fraction, low=0.0, high=1.0, low_open=True
        )
        values: dict[str, Any] = {
            "p_max": p_max,
            "confidence": check_probability("confidence", self.confidence),
            "request_rate_per_s": check_real(
                "request_rate_per_s", self.request_rate_per_s, low=0.0, low_open=True
            ),
            "shadow_fraction": fraction,
            "release_cycle_hours": check_real(
                "release_cycle_hours", self.release_cycle_hours, low=0.0, low_open=True
            ),
            "alpha": check_probability("alpha", self.alpha),
            "beta": check_probability("beta", self.beta),
            "seed": check_int("seed", self.seed, low=0),
            "max_shadow_fraction": None
            if self.max_shadow_fraction is None
            else check_real(
                "max_shadow_fraction", self.max_shadow_fraction, low=0.0, high=1.0, low_open=True
            ),
            "figsize": None if self.figsize is None else _common.check_figsize(self.figsize),
            "rollout_fractions": tuple(
                check_real("rollout_fractions", f, low=0.0, high=1.0, low_open=True)
                for f in _sequence("rollout_fractions", self.rollout_fractions)
            ),
        }
        _common.check_callable("zero_failure_sample_size", self.zero_failure_sample_size)
        _common.check_callable("shadow_hours", self.shadow_hours)
        if not values["rollout_fractions"]:
            raise InvalidInputError("rollout_fractions must have at least one stage, got none")
        if not isinstance(self.staged, (bool, np.bool_)):
            raise InvalidInputError(f"staged must be True or False, got {self.staged!r}")
        values["staged"] = bool(self.staged)
        if not self.staged and self.stage_hours is not None:
            raise InvalidInputError(
                f"stage_hours must be None when staged is False, got {self.stage_hours!r}"
            )
        if self.staged and self.stage_hours is None:
            # The whole ramp in one release cycle, in equal stages: the schedule the text
            # promises, without the student having to pick stage lengths first.
            values["stage_hours"] = values["release_cycle_hours"] / len(values["rollout_fractions"])
        elif self.stage_hours is not None:
            if isinstance(self.stage_hours, (Sequence, np.ndarray)) and not isinstance(
                self.stage_hours, str
            ):
                values["stage_hours"] = tuple(
                    check_real("stage_hours", h, low=0.0)
                    for h in _sequence("stage_hours", self.stage_hours)
                )
                if len(values["stage_hours"]) != len(values["rollout_fractions"]):
                    raise InvalidInputError(
                        "stage_hours must give one duration per rollout stage "
                        f"({len(values['rollout_fractions'])}), got "
                        f"{len(values['stage_hours'])}"
                    )
            else:
                values["stage_hours"] = check_real("stage_hours", self.stage_hours, low=0.0)
        p1 = p_max if self.p1 is None else check_probability("p1", self.p1)
        p0 = p1 / 3.0 if self.p0 is None else check_probability("p0", self.p0)
        if not p1 > p0:
            raise InvalidInputError(f"p1 must be greater than p0 = {p0!r}, got {p1!r}")
        values["p0"], values["p1"] = p0, p1
        if self.sprt_p_true is not None:
            values["sprt_p_true"] = check_probability("sprt_p_true", self.sprt_p_true)
        if self.sprt_max_n is not None:
            values["sprt_max_n"] = check_int("sprt_max_n", self.sprt_max_n, low=1)
        if self.sprt_failure_positions is not None:
            if self.sprt_max_n is None:
                raise InvalidInputError(
                    "sprt_max_n must be given with sprt_failure_positions (the length of "
                    "the request sequence), got None"
                )
            values["sprt_failure_positions"] = tuple(
                check_int("sprt_failure_positions", x, low=1)
                for x in _sequence("sprt_failure_positions", self.sprt_failure_positions)
            )
        if self.plans is not None:
            values["plans"] = tuple(
                self._coerce_plan(plan, i) for i, plan in enumerate(_sequence("plans", self.plans))
            )
        values["title"] = None if self.title is None else str(self.title)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def for_track(cls, track: Any, **kwargs: Any) -> ShadowModeDashboard:
        """The dashboard at a track's canary numbers; keywords override them.

        Parameters
        ----------
        track : Track
            A record of :mod:`opsmodel.tracks` (``p_max``, ``confidence``,
            ``request_rate_per_s``, ``shadow_fraction``, ``release_cycle_hours``, ``p0``,
            ``p1``, ``name``).
        **kwargs
            ``zero_failure_sample_size`` and ``shadow_hours`` (required), and any other
            keyword of :class:`ShadowModeDashboard`.
        """
        for name in (
            "p_max",
            "confidence",
            "request_rate_per_s",
            "shadow_fraction",
            "release_cycle_hours",
            "p0",
            "p1",
        ):
            kwargs.setdefault(name, getattr(track, name))
        if getattr(track, "max_shadow_fraction", None) is not None:
            kwargs.setdefault("max_shadow_fraction", track.max_shadow_fraction)
        kwargs.setdefault("title", track.name)
        return cls(**kwargs)

    def _coerce_plan(self, plan: Any, index: int) -> CanaryPlan:
        if isinstance(plan, CanaryPlan):
            return plan
        if isinstance(plan, Mapping):
            if "shadow_fraction" not in plan:
                raise InvalidInputError(
                    f"plans[{index}] must give shadow_fraction, got keys {sorted(plan)}"
                )
            default_name = f"try {plan['iteration']}" if "iteration" in plan else f"plan {index}"
            return CanaryPlan(
                name=str(plan.get("name", default_name)),
                shadow_fraction=plan["shadow_fraction"],
                confidence=plan.get("confidence", self.confidence),
                p_max=plan.get("p_max", self.p_max),
                request_rate_per_s=plan.get("request_rate_per_s", self.request_rate_per_s),
                release_cycle_hours=plan.get("release_cycle_hours", self.release_cycle_hours),
            )
        raise InvalidInputError(f"plans[{index}] must be a CanaryPlan or a mapping, got {plan!r}")

    # ---------------------------------------------------------------------------- numbers

    def required_requests(self) -> int:
        """Failure-free requests needed: ``zero_failure_sample_size(p_max, confidence)``."""
        return _required_requests(self.zero_failure_sample_size, self.p_max, self.confidence)

    def hours_to_target(self) -> float:
        """Shadow hours to reach the target at the constant fraction (passed function)."""
        return _common.call_number(
            "shadow_hours",
            self.shadow_hours,
            self.required_requests(),
            self.request_rate_per_s,
            self.shadow_fraction,
        )

    def staged_hours_to_target(self) -> float | None:
        """Hours for the staged rollout to see the required requests (None if not staged)."""
        if self.stage_hours is None:
            return None
        hours, requests, last_rate = self._staged_knots()
        needed = float(self.required_requests())
        if needed <= requests[-1]:
            # requests(t) is piecewise linear and non-decreasing: invert by interpolation
            # on its strictly increasing part.
            first = int(np.flatnonzero(requests >= needed)[0])
            if first == 0:
                return 0.0
            h0, h1, r0, r1 = hours[first - 1], hours[first], requests[first - 1], requests[first]
            return float(h0 + (needed - r0) / (r1 - r0) * (h1 - h0))
        return float(hours[-1] + (needed - requests[-1]) / last_rate)

    def _staged_knots(self) -> tuple[np.ndarray, np.ndarray, float]:
        stages = staged_rollout(
            self.request_rate_per_s,
            self.stage_hours,
            fractions=self.rollout_fractions,
            confidence=self.confidence,
        )
        hours = np.array([0.0, *(s.cumulative_hours for s in stages)])
        requests = np.array([0.0, *(float(s.cumulative_requests) for s in stages)])
        last_rate = self.request_rate_per_s * 3600.0 * self.rollout_fractions[-1]
        return hours, requests, last_rate

    def _plans(self) -> tuple[CanaryPlan, ...]:
        if self.plans is not None:
            return self.plans
        common = {
            "p_max": self.p_max,
            "request_rate_per_s": self.request_rate_per_s,
            "release_cycle_hours": self.release_cycle_hours,
        }
        f, c = self.shadow_fraction, self.confidence
        plans = [CanaryPlan(f"current: {_common.format_share(f)} shadow", f, c, **common)]
        cap = self.max_shadow_fraction
        if cap is not None:
            # Within the shadow capacity, as the planner allows: the cap itself.
            if cap > f:
                label = f"at capacity: {_common.format_share(cap)} shadow"
                plans.append(CanaryPlan(label, cap, c, **common))
        elif 10.0 * f < 1.0:
            plans.append(
                CanaryPlan(f"wider: {_common.format_share(10 * f)} shadow", 10.0 * f, c, **common)
            )
        if cap is None and f < 1.0:
            plans.append(CanaryPlan("full shadow: 100%", 1.0, c, **common))
        stricter = 1.0 - (1.0 - c) / 10.0  # one more nine
        plans.append(
            CanaryPlan(f"stricter: {_common.format_share(stricter)} sure", f, stricter, **common)
        )
        return tuple(plans)

    def plan_metrics(self) -> tuple[CanaryMetrics, ...]:
        """The radar's plans with their metrics (from the passed functions)."""
        return tuple(
            plan.metrics(
                zero_failure_sample_size=self.zero_failure_sample_size,
                shadow_hours=self.shadow_hours,
            )
            for plan in self._plans()
        )

    def fixed_n_zero_failure(self) -> int:
        """The clock's fixed-n bound, :meth:`required_requests`, drawn on the SPRT panel.

        It answers a different question from the SPRT (rule out ``p_max`` with no failure
        at all, against tell ``p0`` from ``p1`` with errors ``alpha`` and ``beta``), so
        :func:`opsmodel.sprt.fixed_n_for_errors`, the fixed test with the SPRT's own error
        rates, is drawn beside it as the fair comparison.
        """
        return self.required_requests()

    def sprt(self) -> SPRTTrace:
        """Run the SPRT on the given or simulated request sequence."""
        if self.sprt_failure_positions is not None:
            assert self.sprt_max_n is not None  # checked in __post_init__
            positions = np.asarray(self.sprt_failure_positions, dtype=np.int64)
            max_n = self.sprt_max_n
        else:
            max_n = self.sprt_max_n or 3 * max(
                fixed_n_for_errors(self.p0, self.p1, self.alpha, self.beta),
                self.fixed_n_zero_failure(),
            )
            p_true = self.p0 if self.sprt_p_true is None else self.sprt_p_true
            positions = _simulate_failures(p_true, max_n, self.seed)
        return sprt_trace(positions, max_n, self.p0, self.p1, self.alpha, self.beta)

    def summary(self) -> dict[str, Any]:
        """The dashboard's numbers as a plain dict (for a readout or a test).

        Returns
        -------
        dict
            ``required_requests``, ``hours_to_target``, ``release_cycle_hours``,
            ``meets_release_cycle``, ``staged_hours_to_target`` (None when not staged),
            ``sprt_decision``, ``sprt_stop_n``, ``fixed_n_for_errors``,
            ``fixed_n_zero_failure``.
        """
        hours = self.hours_to_target()
        trace = self.sprt()
        return {
            "required_requests": self.required_requests(),
            "hours_to_target": hours,
            "release_cycle_hours": self.release_cycle_hours,
            "meets_release_cycle": hours <= self.release_cycle_hours,
            "staged_hours_to_target": self.staged_hours_to_target(),
            "sprt_decision": trace.decision,
            "sprt_stop_n": trace.stop_n,
            "fixed_n_for_errors": fixed_n_for_errors(self.p0, self.p1, self.alpha, self.beta),
            "fixed_n_zero_failure": self.fixed_n_zero_failure(),
        }

    # ---------------------------------------------------------------------------- drawing

    def figure(self, panels: Sequence[str] | None = None) -> _common.InstrumentFigure:
        """Draw the panels, stacked top to bottom in one figure 10 inches wide.

        Parameters
        ----------
        panels : sequence of {"clock", "radar", "sprt"}, optional
            The panels to draw, in this order; by default all three (:data:`PANELS`).
            ``["clock"]`` draws the Confidence Clock alone.

        Returns
        -------
        InstrumentFigure
            A new matplotlib figure (object API, not registered with pyplot), one
            subfigure per panel; a notebook cell ending with it shows it as an image.

        Raises
        ------
        InvalidInputError
            If ``panels`` is empty, names an unknown panel or one panel twice.
        """
        chosen = _check_panels(panels)
        heights = [_PANEL_HEIGHT_IN[name] for name in chosen]
        figsize = self.figsize or (
            _common.FIGURE_WIDTH_IN,
            sum(heights) + _SUPTITLE_HEIGHT_IN,
        )
        fig = _common.new_figure(figsize)
        # One subfigure per panel: each keeps its legend below or beside its own axes,
        # with the room for it reserved by the constrained layout.
        subfigures = fig.subfigures(len(chosen), 1, height_ratios=heights, squeeze=False)
        for (subfig,), name in zip(subfigures, chosen, strict=True):
            if name == "clock":
                self._draw_clock(subfig)
            elif name == "radar":
                self._draw_radar(subfig)
            else:
                self._draw_sprt(subfig)
        heading = "Shadow-mode dashboard"
        if self.title:
            heading = f"{heading}: {self.title}"
        fig.suptitle(heading, fontsize=_TITLE_PT + 2, fontweight="bold")
        return fig

    def _draw_clock(self, subfig: Any) -> None:
        ax = subfig.add_subplot()
        n_needed = self.required_requests()
        t_target = self.hours_to_target()
        t_staged = self.staged_hours_to_target()
        cycle = self.release_cycle_hours
        per_hour = self.request_rate_per_s * 3600.0 * self.shadow_fraction
        known = [t_target, cycle, n_needed / per_hour]
        knots = None
        if self.stage_hours is not None:
            knots = self._staged_knots()
            known += [t for t in (t_staged, knots[0][-1]) if t is not None]
        # Log time axis: targets run from seconds (Cloud-scale traffic) to months, and the
        # one-week limit must be on the plot either way.
        known = [t for t in known if t > 0]
        t_lo = 10 ** math.floor(math.log10(min(known) / 20.0))
        t_hi = 10 ** math.ceil(math.log10(max(known) * 3.0))
        t = np.logspace(math.log10(t_lo), math.log10(t_hi), 600)

        fits = t_target <= cycle
        ax.plot(
            t,
            100.0 * np.asarray(zero_failure_confidence(per_hour * t, self.p_max)),
            color=colour("trace"),
            linewidth=2.6,
            label=(
                f"constant {_common.format_share(self.shadow_fraction)} shadow: "
                f"{n_needed:,} requests after {_common.format_hours(t_target)}, "
                + ("fits the cycle" if fits else "MISSES the cycle")
            ),
            gid="clock_constant",
        )
        ax.plot(
            [t_target],
            [100.0 * self.confidence],
            marker="o",
            markersize=9,
            color=colour("ok" if fits else "alarm"),
            markeredgecolor="black",
            linestyle="none",
            gid="target_reached",
            # Above the staged square: where the two schedules reach the target at the
            # same hour (the first stage's share is the shadow fraction), both show.
            zorder=6,
        )
        if knots is not None and t_staged is not None:
            self._draw_staged(ax, t, knots, t_staged, t_lo, t_hi)
        ax.axhline(
            100.0 * self.confidence,
            color=colour("safety"),
            linewidth=1.8,
            linestyle=":",
            label=f"Safety Lead's target: {_common.format_share(self.confidence)}",
            gid="target",
        )
        ax.axvline(
            cycle,
            color=colour("release_cycle"),
            linewidth=2.0,
            label=f"release cycle: {cycle:g} h",
            gid="release_cycle",
        )
        ax.set_xscale("log")
        ax.set_xlim(t_lo, t_hi)
        ax.set_ylim(0, 102)
        ax.tick_params(labelsize=_TEXT_PT)
        ax.set_xlabel("Hours since the new model got traffic (log scale)", fontsize=_TEXT_PT + 1)
        ax.set_ylabel(
            f"Confidence that p > {self.p_max:.2g}\nis ruled out (%)", fontsize=_TEXT_PT + 1
        )
        ax.set_title(
            f"Confidence Clock: {self.request_rate_per_s:,.6g} requests/s, zero failures seen",
            fontsize=_TITLE_PT,
        )
        ax.grid(True, which="major", alpha=0.3)
        legend = subfig.legend(loc="outside lower center", ncol=1, fontsize=_TEXT_PT, frameon=False)
        # The verdicts in the legend read in the colour of their marker.
        for text in legend.get_texts():
            if text.get_text().endswith("MISSES the cycle"):
                text.set_color(colour("alarm"))
                text.set_fontweight("bold")

    def _draw_staged(
        self,
        ax: Any,
        t: np.ndarray,
        knots: tuple[np.ndarray, np.ndarray, float],
        t_staged: float,
        t_lo: float,
        t_hi: float,
    ) -> None:
        hours, requests, last_rate = knots
        # Requests seen by hour t: piecewise linear through the stage ends, then the last
        # stage's rate (100% by default) once the ramp is over.
        staged_requests = np.where(
            t <= hours[-1],
            np.interp(t, hours, requests),
            requests[-1] + (t - hours[-1]) * last_rate,
        )
        fits = t_staged <= self.release_cycle_hours
        ramp = " \u2192 ".join(_common.format_share(f) for f in self.rollout_fractions)
        if isinstance(self.stage_hours, float):
            lengths = f"{self.stage_hours:g} h per stage"
        else:
            lengths = "stages of " + ", ".join(f"{h:g}" for h in self.stage_hours) + " h"
        ax.plot(
            t,
            100.0 * np.asarray(zero_failure_confidence(staged_requests, self.p_max)),
            color=colour("staged"),
            linewidth=2.6,
            linestyle="--",
            label=(
                f"staged rollout {ramp} ({lengths}): target after "
                f"{_common.format_hours(t_staged)}{self._stage_reached(knots)}, "
                + ("fits the cycle" if fits else "MISSES the cycle")
            ),
            gid="clock_staged",
        )
        # Where each stage ends and the next, larger share begins.
        inside = (hours[1:] >= t_lo) & (hours[1:] <= t_hi)
        ends = hours[1:][inside]
        ax.plot(
            ends,
            100.0 * np.asarray(zero_failure_confidence(requests[1:][inside], self.p_max)),
            marker="|",
            markersize=14,
            markeredgewidth=2.2,
            color=colour("staged"),
            linestyle="none",
            label="end of a rollout stage",
            gid="stage_switches",
        )
        if t_lo <= t_staged <= t_hi:
            ax.plot(
                [t_staged],
                [100.0 * self.confidence],
                marker="s",
                markersize=13,
                color=colour("ok" if fits else "alarm"),
                markeredgecolor="black",
                linestyle="none",
                gid="target_reached_staged",
                zorder=5,
            )

    def _stage_reached(self, knots: tuple[np.ndarray, np.ndarray, float]) -> str:
        # " (in the 1% stage)": which stage's traffic completes the required requests.
        _hours, requests, _rate = knots
        needed = float(self.required_requests())
        reached = np.flatnonzero(requests[1:] >= needed)
        if reached.size == 0:
            return f" (after the ramp, at {_common.format_share(self.rollout_fractions[-1])})"
        return f" (in the {_common.format_share(self.rollout_fractions[reached[0]])} stage)"

    def _draw_radar(self, subfig: Any) -> None:
        ax = subfig.add_subplot(projection="polar")
        metrics = self.plan_metrics()
        names = [name for name, _how in RADAR_AXES]
        angles = np.linspace(0.0, 2.0 * np.pi, len(names), endpoint=False)
        closed = np.concatenate([angles, angles[:1]])
        for i, m in enumerate(metrics):
            plan_colour = PLAN_COLOURS[i % len(PLAN_COLOURS)]
            values = np.array([*m.scores, m.scores[0]])
            label = (
                f"{m.name}: {_common.format_hours(m.hours_to_release)}"
                f"{'' if m.meets_release_cycle else ' (over the cycle)'}"
            )
            ax.plot(closed, values, color=plan_colour, linewidth=2.2, label=label, gid=f"radar_{i}")
            ax.fill(closed, values, color=plan_colour, alpha=0.10)
        ax.set_xticks(angles)
        ax.set_xticklabels(names, fontsize=_TEXT_PT + 0.5, fontweight="bold")
        ax.xaxis.set_tick_params(pad=16)  # keep the axis names off the outer ring
        ax.set_ylim(0.0, 1.0)
        ax.set_yticks([0.25, 0.5, 0.75, 1.0])
        ax.set_yticklabels(["0.25", "0.5", "0.75", "1"], fontsize=_TEXT_PT, color=colour("neutral"))
        for tick_label in ax.get_yticklabels():
            # The plans' polygons cross the scale: a light box keeps its numbers legible.
            tick_label.set_bbox(
                {"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.7, "lw": 0}
            )
        ax.set_rlabel_position(45)
        ax.set_title("Risk-vs-Velocity Radar", fontsize=_TITLE_PT, pad=14)
        handles, labels = ax.get_legend_handles_labels()
        legend = subfig.legend(
            handles,
            labels,
            loc="outside right center",
            fontsize=_TEXT_PT,
            title=(
                "Scores from 0 (centre) to 1 (outer = better):\n"
                "  safety: nines of confidence / 3\n"
                "  velocity: 1 - hours to release / cycle\n"
                "  low exposure: -log10(traffic share) / 4\n"
                "  sensitivity: (-log10 p_max - 1) / 5\n"
                "\n"
                "Plans: hours to reach the target"
            ),
            title_fontsize=_TEXT_PT,
            alignment="left",
            frameon=False,
        )
        legend.set_gid("radar_legend")

    def _draw_sprt(self, subfig: Any) -> None:
        ax = subfig.add_subplot()
        bounds = sprt_boundaries(self.p0, self.p1, self.alpha, self.beta)
        trace = self.sprt()
        n_errors = fixed_n_for_errors(self.p0, self.p1, self.alpha, self.beta)
        n_zero = self.fixed_n_zero_failure()
        x_max = 1.12 * max(trace.stop_n, n_errors, n_zero)
        seen = trace.failure_positions[trace.failure_positions <= trace.stop_n]
        # A step function: d(n) jumps by one at each failure position.
        xs = np.concatenate([[0], np.repeat(seen, 2), [trace.stop_n]]).astype(float)
        ys = np.concatenate([[0], np.repeat(np.arange(seen.size + 1), 2)[1:]]).astype(float)
        ax.plot(
            xs,
            ys,
            color=colour("trace"),
            linewidth=2.4,
            label="cumulative failures seen",
            gid="sprt_trace",
        )
        n_line = np.linspace(0.0, x_max, 200)
        ax.plot(
            n_line,
            bounds.rollback_line(n_line),
            color=colour("rollback"),
            linewidth=2.0,
            label="roll back at or above this line",
            gid="sprt_rollback",
        )
        ax.plot(
            n_line,
            bounds.promote_line(n_line),
            color=colour("promote"),
            linewidth=2.0,
            label="promote at or below this line",
            gid="sprt_promote",
        )
        ax.axvline(
            n_errors,
            color=colour("fixed_n"),
            linestyle="--",
            linewidth=1.6,
            label=f"fixed-n test with the same errors: {n_errors:,}",
            gid="fixed_n_errors",
        )
        ax.axvline(
            n_zero,
            color=colour("neutral"),
            linestyle=":",
            linewidth=1.8,
            label=f"fixed-n zero-failure bound (the clock): {n_zero:,}",
            gid="fixed_n_zero_failure",
        )
        decided = trace.decision != "continue"
        if decided:
            ax.plot(
                [trace.stop_n],
                [trace.failures_at_stop],
                marker="*",
                markersize=17,
                color=colour("promote" if trace.decision == "promote" else "rollback"),
                markeredgecolor="black",
                linestyle="none",
                label=f"SPRT decides: {trace.decision} at {trace.stop_n:,}",
                gid="sprt_stop",
                zorder=5,
            )
        top = max(bounds.rollback_line(x_max), trace.failures_at_stop + 1.0)
        ax.set_xlim(0, x_max)
        ax.set_ylim(-0.5, top * 1.05)
        ax.xaxis.set_major_formatter(_common.count_formatter())
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # failures are whole
        ax.tick_params(labelsize=_TEXT_PT)
        ax.set_xlabel("Requests seen n (requests)", fontsize=_TEXT_PT + 1)
        ax.set_ylabel("Cumulative failures d", fontsize=_TEXT_PT + 1)
        outcome = (
            f"{trace.decision} after {trace.stop_n:,} requests"
            if decided
            else f"undecided after {trace.stop_n:,} requests"
        )
        ax.set_title(
            f"Sequential validation (SPRT): {outcome}\n"
            f"$p_0$ = {self.p0:.2g}, $p_1$ = {self.p1:.2g}, "
            rf"$\alpha$ = {self.alpha:g}, $\beta$ = {self.beta:g}",
            fontsize=_TITLE_PT,
        )
        ax.grid(True, alpha=0.3)
        subfig.legend(loc="outside lower center", ncol=2, fontsize=_TEXT_PT, frameon=False)

    def save(self, path: str | Path, *, dpi: float = 120) -> Path:
        """Draw the figure and save it (format from the suffix, PNG by default)."""
        return _common.save_figure(self.figure(), path, dpi=dpi)

    def _repr_png_(self) -> bytes:
        return _common.figure_png(self.figure())


def _check_panels(panels: Any) -> tuple[str, ...]:
    if panels is None:
        return PANELS
    chosen = tuple(_sequence("panels", panels))
    if not chosen or any(name not in PANELS for name in chosen) or len(set(chosen)) < len(chosen):
        raise InvalidInputError(
            f"panels must name some of {', '.join(PANELS)}, each once, got {panels!r}"
        )
    return chosen


def _sequence(name: str, value: Any) -> list[Any]:
    if isinstance(value, np.ndarray):
        return value.ravel().tolist()
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    raise InvalidInputError(f"{name} must be a sequence, got {value!r}")
