"""Exact one-sided confidence bounds on a failure rate (Clopper-Pearson).

After ``n`` requests with ``k`` failures, the one-sided exact bounds say which failure
rates the data rule out at a confidence level. Shipped to students: the dashboards and
the Edge Guardian crisis use these bounds, and no graded answer is computed here.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta

from ._validation import InvalidInputError, check_int, check_probability, check_real_array

__all__ = ["clopper_pearson_upper", "clopper_pearson_lower", "zero_failure_confidence"]


def _check_counts(failures: int, n: int) -> tuple[int, int]:
    n_checked = check_int("n", n, low=0)
    k = check_int("failures", failures, low=0)
    if k > n_checked:
        raise InvalidInputError(f"failures must be in [0, n] = [0, {n_checked}], got {failures!r}")
    return k, n_checked


def clopper_pearson_upper(failures: int, n: int, confidence: float) -> float:
    """One-sided exact upper confidence bound on a failure rate.

    Parameters
    ----------
    failures : int in [0, n]
        Number of failures k seen.
    n : int >= 0
        Number of requests seen.
    confidence : float in (0, 1)
        Confidence level C.

    Returns
    -------
    float
        ``beta.ppf(C, k + 1, n - k)``: the largest failure rate ``p`` not ruled out, i.e.
        the ``p`` with ``P(X <= k | n, p) = 1 - C``. 1.0 when ``k = n`` (nothing is ruled
        out; this includes ``n = 0``, no data).

    Raises
    ------
    InvalidInputError
        If ``n`` is not an integer >= 0, ``failures`` not an integer in [0, n], or
        ``confidence`` not in (0, 1).

    Notes
    -----
    The bound inverts the binomial CDF exactly [1]_, through the identity
    ``P(X <= k | n, p) = 1 - I_p(k + 1, n - k)`` with ``I`` the regularised incomplete
    beta function. It is conservative: its coverage is at least C for every true rate.
    With ``k = 0`` it has the closed form ``1 - (1 - C) ** (1 / n)``, about ``3 / n`` at
    95% (the rule of three).

    References
    ----------
    .. [1] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits
       illustrated in the case of the binomial", Biometrika 26(4), 404-413, 1934.

    Examples
    --------
    Three thousand clean requests rule out a failure rate just under 1 in 1,000:

    >>> round(clopper_pearson_upper(0, 3000, 0.95), 6)
    0.000998
    >>> clopper_pearson_upper(5, 5, 0.95)
    1.0
    """
    k, n_checked = _check_counts(failures, n)
    c = check_probability("confidence", confidence)
    if k == n_checked:
        # beta(k + 1, 0) is degenerate: with every request failed, no rate is ruled out.
        return 1.0
    return float(beta.ppf(c, k + 1, n_checked - k))


def clopper_pearson_lower(failures: int, n: int, confidence: float) -> float:
    """One-sided exact lower confidence bound on a failure rate.

    Parameters
    ----------
    failures : int in [0, n]
        Number of failures k seen.
    n : int >= 0
        Number of requests seen.
    confidence : float in (0, 1)
        Confidence level C.

    Returns
    -------
    float
        ``beta.ppf(1 - C, k, n - k + 1)``: the smallest failure rate ``p`` not ruled out,
        the ``p`` with ``P(X >= k | n, p) = 1 - C``. 0.0 when ``k = 0`` (no failure seen;
        this includes ``n = 0``).

    Raises
    ------
    InvalidInputError
        If ``n`` is not an integer >= 0, ``failures`` not an integer in [0, n], or
        ``confidence`` not in (0, 1).

    Notes
    -----
    The mirror image of :func:`clopper_pearson_upper` [1]_: a release whose lower bound
    exceeds the budget has regressed with confidence at least C.

    References
    ----------
    .. [1] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits
       illustrated in the case of the binomial", Biometrika 26(4), 404-413, 1934.

    Examples
    --------
    Sixteen slow requests out of 1,000 prove a p99 budget (1%) is broken at 95%:

    >>> clopper_pearson_lower(16, 1000, 0.95) > 0.01
    True
    >>> clopper_pearson_lower(0, 1000, 0.95)
    0.0
    """
    k, n_checked = _check_counts(failures, n)
    c = check_probability("confidence", confidence)
    if k == 0:
        # beta(0, n + 1) is degenerate: with no failure, a rate of 0 is never ruled out.
        return 0.0
    return float(beta.ppf(1.0 - c, k, n_checked - k + 1))


def zero_failure_confidence(n_requests: float | np.ndarray, p_max: float) -> float | np.ndarray:
    """Confidence that a failure rate ``p_max`` is ruled out after failure-free requests.

    ``1 - (1 - p_max) ** n``: the probability that a release failing at rate ``p_max``
    would have shown at least one failure in ``n`` requests.

    Parameters
    ----------
    n_requests : float >= 0, or array of them
        Number of failure-free requests seen. Non-integer values are allowed (smooth
        curves on a dashboard).
    p_max : float in (0, 1)
        Failure rate to rule out.

    Returns
    -------
    float or ndarray
        Confidence in [0, 1); a Python float for scalar ``n_requests``, else an array of
        the same shape. 0.0 at ``n = 0``.

    Raises
    ------
    InvalidInputError
        If ``n_requests`` is negative, NaN, infinite or not a number, or ``p_max`` is not
        in (0, 1).

    Notes
    -----
    Computed as ``-expm1(n * log1p(-p_max))``: for small ``p_max`` and ``n``,
    ``1 - (1 - p)**n`` cancels catastrophically (``1 - p`` already rounds away the
    digits of a tiny ``p``), while this form keeps full relative accuracy. It is the
    inverse of :func:`~opsmodel.sample_size.zero_failure_sample_size`.

    Examples
    --------
    >>> round(zero_failure_confidence(2995, 0.001), 4)
    0.95
    >>> zero_failure_confidence([0, 1], 0.5)
    array([0. , 0.5])
    """
    scalar = np.ndim(n_requests) == 0 and not isinstance(n_requests, np.ndarray)
    n = check_real_array("n_requests", n_requests, low=0.0)
    p = check_probability("p_max", p_max)
    # "+ 0.0" turns the -0.0 of -expm1(0) at n = 0 into 0.0.
    result = -np.expm1(n * np.log1p(-p)) + 0.0
    return float(result) if scalar else np.asarray(result, dtype=float)
