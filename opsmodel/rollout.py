"""Staged rollout: traffic seen at each stage and the failure rate it rules out.

A canary release ramps traffic up in stages (1% -> 5% -> 25% -> 100% by default). After
each stage, the requests seen so far with zero failures rule out, at a confidence level,
every failure rate above the one-sided Clopper-Pearson upper bound.

Shipped to students (the ``ShadowModeDashboard`` draws it); it must not import the
reference-only modules ``shadow`` and ``sample_size``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import InvalidInputError, check_probability, check_real
from .bounds import clopper_pearson_upper

__all__ = ["RolloutStage", "staged_rollout"]

DEFAULT_FRACTIONS: tuple[float, ...] = (0.01, 0.05, 0.25, 1.0)

# A product such as rate * 3600 * fraction * hours that is an integer in decimals can land
# a few ulps below it in binary (0.1 * 3600 * 0.35 = 125.99999999999999, not 126); flooring
# that would lose a request. Four float factors carry a relative error of a few 1e-16, so
# a product within 1e-12 (relative) of an integer is taken as that integer: a wide margin
# over rounding, and far below one request (1e-12 * count) for any real stage.
_INTEGER_SNAP_RTOL = 1e-12


@dataclass(frozen=True)
class RolloutStage:
    """One stage of a staged rollout, and what the traffic so far proves.

    Attributes
    ----------
    fraction : float
        Fraction of production traffic sent to the new model in this stage, in (0, 1].
    hours : float
        Duration of this stage in hours.
    requests : int
        Requests the new model serves in this stage,
        ``floor(rate * 3600 * fraction * hours)``.
    cumulative_requests : int
        Requests served by the new model from the first stage to this one.
    cumulative_hours : float
        Hours from the start of the rollout to the end of this stage.
    failure_rate_ruled_out : float
        With zero failures in ``cumulative_requests`` requests, the one-sided
        Clopper-Pearson upper bound at the rollout's confidence: every failure rate above
        it is ruled out. 1.0 when no request has been seen.
    """

    fraction: float
    hours: float
    requests: int
    cumulative_requests: int
    cumulative_hours: float
    failure_rate_ruled_out: float


def _floor_requests(expected: float) -> int:
    nearest = round(expected)
    if abs(expected - nearest) <= _INTEGER_SNAP_RTOL * expected:
        return int(nearest)
    return math.floor(expected)


def _as_list(name: str, value: Any) -> list[Any]:
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    raise InvalidInputError(f"{name} must be a 1-D sequence of numbers, got {value!r}")


def staged_rollout(
    request_rate_per_s: float,
    stage_hours: float | Sequence[float],
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    confidence: float = 0.95,
) -> tuple[RolloutStage, ...]:
    """Requests seen at each stage of a rollout and the failure rate they rule out.

    Parameters
    ----------
    request_rate_per_s : float > 0
        Production traffic in requests per second.
    stage_hours : float >= 0, or sequence of them
        Duration of each stage in hours: one number for every stage, or one per stage
        (same length as ``fractions``). A stage of 0 hours sees no request.
    fractions : sequence of float in (0, 1], default (0.01, 0.05, 0.25, 1.0)
        Traffic fraction of each stage, non-empty.
    confidence : float in (0, 1), default 0.95
        Confidence level of the failure rate ruled out.

    Returns
    -------
    tuple of RolloutStage
        One record per stage, in order.

    Raises
    ------
    InvalidInputError
        If ``request_rate_per_s`` is not positive; ``stage_hours`` is negative or its
        length differs from ``fractions``; ``fractions`` is empty or has an entry outside
        (0, 1]; ``confidence`` is not in (0, 1); or any value is NaN, infinite or not a
        number.

    Notes
    -----
    The requests of a stage are ``floor(rate * 3600 * fraction * hours)`` (whole
    requests only), where a product within 1e-12 (relative) of an integer counts as that
    integer, so that float rounding of decimal inputs never drops a request. The rate
    ruled out after ``n`` clean requests is
    ``clopper_pearson_upper(0, n, confidence) = 1 - (1 - confidence) ** (1 / n)``,
    about ``3 / n`` at 95% [1]_. Stages need not ramp up; the record follows the order
    given.

    References
    ----------
    .. [1] J. A. Hanley and A. Lippman-Hand, "If nothing goes wrong, is everything all
       right? Interpreting zero numerators", JAMA 249(13), 1743-1745, 1983.

    Examples
    --------
    At 10 requests per second and 6 hours per stage, the 1% canary alone sees 2,160
    requests and rules out failure rates above about 1 in 720:

    >>> stages = staged_rollout(10.0, 6.0)
    >>> [s.requests for s in stages]
    [2160, 10800, 54000, 216000]
    >>> round(stages[0].failure_rate_ruled_out, 5)
    0.00139
    >>> stages[-1].cumulative_hours
    24.0
    """
    rate = check_real("request_rate_per_s", request_rate_per_s, low=0.0, low_open=True)
    fraction_list = [
        check_real("fractions", f, low=0.0, high=1.0, low_open=True)
        for f in _as_list("fractions", fractions)
    ]
    if not fraction_list:
        raise InvalidInputError("fractions must have at least one stage, got an empty sequence")
    if isinstance(stage_hours, (Sequence, np.ndarray)) and not isinstance(
        stage_hours, (str, bytes)
    ):
        hours_list = [
            check_real("stage_hours", h, low=0.0) for h in _as_list("stage_hours", stage_hours)
        ]
        if len(hours_list) != len(fraction_list):
            raise InvalidInputError(
                f"stage_hours must have one entry per stage ({len(fraction_list)}), "
                f"got {len(hours_list)}"
            )
    else:
        hours_list = [check_real("stage_hours", stage_hours, low=0.0)] * len(fraction_list)
    c = check_probability("confidence", confidence)

    stages = []
    cumulative_requests = 0
    cumulative_hours = 0.0
    for fraction, hours in zip(fraction_list, hours_list, strict=True):
        requests = _floor_requests(rate * 3600.0 * fraction * hours)
        cumulative_requests += requests
        cumulative_hours += hours
        stages.append(
            RolloutStage(
                fraction=fraction,
                hours=hours,
                requests=requests,
                cumulative_requests=cumulative_requests,
                cumulative_hours=cumulative_hours,
                # n = 0 gives 1.0 (the k = n branch): nothing is ruled out yet.
                failure_rate_ruled_out=clopper_pearson_upper(0, cumulative_requests, c),
            )
        )
    return tuple(stages)
