"""Part 2: how many shadow or canary requests a release must see.

A regression that makes a fraction ``p_max`` of requests fail is ruled out at confidence
``C`` once enough requests are seen with few enough failures. These functions give the
smallest such number of requests.

Reference-only: students write these functions themselves.
"""

from __future__ import annotations

import math

from scipy.stats import binom

from ._validation import check_int, check_probability

__all__ = ["zero_failure_sample_size", "failure_tolerant_sample_size"]

# Relative distance from an integer within which a ratio of logarithms is taken to *be*
# that integer: the decimal inputs (0.99, 0.9999) are not exact binary floats, so an exact
# boundary such as (1 - 0.99)**2 == 1 - 0.9999 lands a few ulps off either side.
_INTEGER_SNAP_RTOL = 1e-9


def zero_failure_sample_size(p_max: float, confidence: float) -> int:
    """Smallest number of failure-free requests that rules out a failure rate ``p_max``.

    The smallest ``n >= 1`` with ``(1 - p_max) ** n <= 1 - confidence``: if the true
    failure rate were ``p_max`` or more, seeing ``n`` requests without a failure would
    happen with probability at most ``1 - confidence``.

    Parameters
    ----------
    p_max : float in (0, 1)
        Failure rate to rule out.
    confidence : float in (0, 1)
        Confidence level C.

    Returns
    -------
    int
        The sample size n >= 1.

    Raises
    ------
    InvalidInputError
        If ``p_max`` or ``confidence`` is not in the open interval (0, 1), is NaN,
        infinite or not a number.

    See Also
    --------
    failure_tolerant_sample_size : the same with up to ``k`` failures allowed.

    Notes
    -----
    With ``r = log1p(-confidence) / log1p(-p_max)`` (``log1p`` keeps full accuracy for
    tiny ``p_max``), the answer is ``ceil(r)``, except that when ``r`` lies within 1e-9
    (relative) of an integer, that integer is the answer. The naive
    ``ceil(log(1 - C) / log(1 - p))`` is wrong at exact boundaries: for ``p = 0.99`` and
    ``C = 0.9999``, ``(1 - p)**2 = 1 - C`` exactly in decimals, so 2 requests suffice, but
    the float ratio is ``2.000000000000025`` and its ceiling 3. The snap is relative,
    as the spec fixes it: above ``r`` of about 5e8 the window ``1e-9 * r`` exceeds one
    half, so the answer is the integer nearest to ``r`` and may be one below ``ceil(r)``
    (p = 1e-12, C = 0.95 gives 2,995,732,273,552 for r = 2,995,732,273,552.49), a
    relative shortfall below 1e-9. For small ``p`` the answer is close to Hanley and
    Lippman-Hand's rule of three, ``3 / p`` at 95% [1]_.

    References
    ----------
    .. [1] J. A. Hanley and A. Lippman-Hand, "If nothing goes wrong, is everything all
       right? Interpreting zero numerators", JAMA 249(13), 1743-1745, 1983.

    Examples
    --------
    To be 95% sure that a 1-in-1,000 failure mode is absent:

    >>> zero_failure_sample_size(0.001, 0.95)  # the rule of three says 3,000
    2995
    >>> zero_failure_sample_size(0.99, 0.9999)
    2
    """
    p = check_probability("p_max", p_max)
    c = check_probability("confidence", confidence)
    ratio = math.log1p(-c) / math.log1p(-p)
    nearest = round(ratio)
    if abs(ratio - nearest) <= _INTEGER_SNAP_RTOL * ratio:
        n = nearest
    else:
        n = math.ceil(ratio)
    return max(1, int(n))


def failure_tolerant_sample_size(p_max: float, confidence: float, max_failures: int) -> int:
    """Smallest number of requests that rules out ``p_max`` even with some failures seen.

    The smallest ``n`` with ``binom.cdf(max_failures, n, p_max) <= 1 - confidence``: if
    the true failure rate were ``p_max``, seeing at most ``max_failures`` failures in
    ``n`` requests would happen with probability at most ``1 - confidence``.

    Parameters
    ----------
    p_max : float in (0, 1)
        Failure rate to rule out.
    confidence : float in (0, 1)
        Confidence level C.
    max_failures : int >= 0
        Number of failures k the release may show and still pass.

    Returns
    -------
    int
        The sample size n (at least ``max_failures + 1``). For ``max_failures = 0`` this
        is :func:`zero_failure_sample_size`.

    Raises
    ------
    InvalidInputError
        If ``p_max`` or ``confidence`` is not in (0, 1), or ``max_failures`` is not an
        integer >= 0.

    Notes
    -----
    ``binom.cdf(k, n, p)`` decreases strictly in ``n`` (for ``n > k``), so the answer is
    found by bisection on integers: the lower end starts at the zero-failure size (the
    CDF with ``k`` failures is at least the one with none), the upper end doubles until
    the condition holds. The CDF is scipy's, which evaluates the regularised incomplete
    beta function and stays accurate for tiny ``p`` (unlike
    ``binomtest(...).proportion_ci()``, two-sided by default and about 1e-7 accurate).

    For ``k = 0`` the zero-failure rule, with its integer snap, is used directly, so the
    two functions agree exactly; the float CDF ``(1 - p)**n`` would reproduce the exact-
    boundary error the snap exists to avoid.

    This is the sample size of the one-sided Clopper-Pearson bound [1]_: with ``n``
    requests and ``k`` failures, ``clopper_pearson_upper(k, n, C) <= p_max``.

    References
    ----------
    .. [1] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits
       illustrated in the case of the binomial", Biometrika 26(4), 404-413, 1934.

    Examples
    --------
    Allowing one failure in the window costs about 60% more requests:

    >>> failure_tolerant_sample_size(0.001, 0.95, 0)
    2995
    >>> failure_tolerant_sample_size(0.001, 0.95, 1)
    4742
    """
    p = check_probability("p_max", p_max)
    c = check_probability("confidence", confidence)
    k = check_int("max_failures", max_failures, low=0)
    if k == 0:
        return zero_failure_sample_size(p, c)
    target = 1.0 - c

    def passes(n: int) -> bool:
        return bool(binom.cdf(k, n, p) <= target)

    # Invariant: passes(hi) and not passes(lo). At n <= k the CDF is 1: never passes.
    lo = max(k, zero_failure_sample_size(p, c) - 1)
    step = max(lo, 1)
    hi = lo + step
    while not passes(hi):
        lo = hi
        step *= 2
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi
