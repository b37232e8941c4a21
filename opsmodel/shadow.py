"""Part 2: how long a shadow deployment must run to see enough requests.

Reference-only: students write ``shadow_hours`` themselves.
"""

from __future__ import annotations

from ._validation import check_real

__all__ = ["RELEASE_CYCLE_HOURS", "shadow_hours"]

#: One release cycle, a week, in hours: the time budget a shadow window must fit in.
RELEASE_CYCLE_HOURS: float = 168.0


def shadow_hours(
    n_requests: float, request_rate_per_s: float, shadow_fraction: float = 1.0
) -> float:
    """Wall-clock hours a shadow deployment needs to see ``n_requests`` requests.

    ``n / (rate * 3600 * fraction)``.

    Parameters
    ----------
    n_requests : float >= 0
        Number of requests the shadow model must see (for instance a sample size from
        :func:`~opsmodel.sample_size.zero_failure_sample_size`).
    request_rate_per_s : float > 0
        Production traffic in requests per second.
    shadow_fraction : float in (0, 1], default 1.0
        Fraction of the traffic mirrored to the shadow model.

    Returns
    -------
    float
        Hours; compare with :data:`RELEASE_CYCLE_HOURS` (168, one week).

    Raises
    ------
    InvalidInputError
        If ``n_requests`` is negative, ``request_rate_per_s`` is not positive,
        ``shadow_fraction`` is outside (0, 1], or any of them is NaN, infinite or not a
        number.

    Notes
    -----
    The traffic is taken as a steady rate; real traffic has daily cycles, so a window
    shorter than a day sees an unrepresentative mix even when it sees enough requests.

    Examples
    --------
    2,995 requests (95% confidence against a 1-in-1,000 failure) at 0.01 requests per
    second, all mirrored, take about 83 hours; mirroring 10% takes ten times longer,
    beyond a one-week release cycle:

    >>> round(shadow_hours(2995, 0.01), 1)
    83.2
    >>> shadow_hours(2995, 0.01, shadow_fraction=0.1) > RELEASE_CYCLE_HOURS
    True
    """
    n = check_real("n_requests", n_requests, low=0.0)
    rate = check_real("request_rate_per_s", request_rate_per_s, low=0.0, low_open=True)
    fraction = check_real("shadow_fraction", shadow_fraction, low=0.0, high=1.0, low_open=True)
    return n / (rate * 3600.0 * fraction)
