"""The canary planner of the lab's "10-iteration rule".

A student searches for a canary plan that meets the Safety Lead's confidence target within
one release cycle, in at most ten tries. The planner records each try; it computes nothing
itself, but calls the sample-size and shadow-duration functions it is given, so that in the
student release it runs on the student's own implementations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ._validation import InvalidInputError, check_real

__all__ = ["MAX_ITERATIONS", "CanaryAttempt", "CanaryPlanner"]

#: The lab's rule: a plan must be found in at most this many tries.
MAX_ITERATIONS = 10


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
        Shadow requests needed for the track's target (zero failures).
    hours : float
        Shadow hours needed to see ``requests`` at this fraction.
    feasible : bool
        Whether ``hours`` fits in the release cycle.
    """

    iteration: int
    shadow_fraction: float
    requests: int
    hours: float
    feasible: bool


class CanaryPlanner:
    """Record canary plans tried against a track's confidence target and release cycle.

    Parameters
    ----------
    track : opsmodel.tracks.Track
        The student's track: its ``p_max``, ``confidence``, ``request_rate_per_s`` and
        ``release_cycle_hours`` define the target.
    zero_failure_sample_size : callable
        ``(p_max, confidence) -> int``, the student's implementation.
    shadow_hours : callable
        ``(n_requests, request_rate_per_s, shadow_fraction) -> float``, the student's
        implementation.

    Examples
    --------
    >>> planner = CanaryPlanner(track, zero_failure_sample_size=zfss, shadow_hours=sh)
    ... # doctest: +SKIP
    >>> planner.try_plan(shadow_fraction=0.05)  # doctest: +SKIP
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

    def try_plan(self, *, shadow_fraction: float) -> CanaryAttempt:
        """Evaluate and record one plan; print a one-line verdict.

        Raises
        ------
        InvalidInputError
            If ``shadow_fraction`` is not in (0, 1], or ten tries were already used.
        """
        fraction = check_real("shadow_fraction", shadow_fraction, low=0.0, high=1.0, low_open=True)
        if len(self.attempts) >= MAX_ITERATIONS:
            raise InvalidInputError(
                f"the 10-iteration rule allows {MAX_ITERATIONS} tries; all are used "
                "(make a new CanaryPlanner to start over)"
            )
        t = self.track
        requests = int(self._sample_size(t.p_max, t.confidence))
        hours = float(self._shadow_hours(requests, t.request_rate_per_s, fraction))
        attempt = CanaryAttempt(
            iteration=len(self.attempts) + 1,
            shadow_fraction=fraction,
            requests=requests,
            hours=hours,
            feasible=hours <= t.release_cycle_hours,
        )
        self.attempts.append(attempt)
        verdict = "fits the release cycle" if attempt.feasible else "TOO SLOW for the release cycle"
        print(
            f"iteration {attempt.iteration} of {MAX_ITERATIONS}: shadow {fraction:.2%} of traffic, "
            f"{requests:,} requests, {hours:,.1f} h of {t.release_cycle_hours:g} h: {verdict}"
        )
        return attempt

    def final_plan(self) -> dict[str, Any]:
        """The first feasible plan as a plain dict (the graded answer), or the last one tried.

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
