"""Jensen-Shannon divergence: a bounded, symmetric distance between two distributions.

PSI (the Jeffreys divergence of binned proportions) is unbounded and needs an ``eps``
floor for empty bins. The Jensen-Shannon divergence compares each distribution with their
average instead, so it is finite even when one distribution puts mass where the other has
none, and with base-2 logarithms it lies in [0, 1]: 0 for identical distributions, 1 for
disjoint supports.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import InvalidInputError, check_real, check_real_array

__all__ = ["js_divergence"]


def _distribution(name: str, value: Any) -> np.ndarray:
    """Validate non-negative weights (1-D, non-empty, positive sum); return them normalised."""
    try:
        value = np.asarray(value)  # numpy's abbreviated repr in error messages
    except (ValueError, TypeError):
        pass  # ragged input: check_real_array words the error
    arr = check_real_array(name, value)
    if not isinstance(arr, np.ndarray) or arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be a 1-D array of non-negative reals, got shape {np.shape(arr)}"
        )
    if arr.size == 0:
        raise InvalidInputError(f"{name} must be non-empty, got 0 values")
    if np.any(arr < 0.0):
        bad = arr[arr < 0.0][0]
        raise InvalidInputError(f"{name} must be non-negative, got {bad!r}")
    with np.errstate(over="ignore"):  # an overflowing sum is reported below, not warned
        total = float(np.sum(arr))
    if not total > 0.0 or not math.isfinite(total):
        # All zeros is no distribution; a sum that overflows cannot be normalised.
        raise InvalidInputError(f"{name} must have a finite positive sum, got {total!r}")
    return arr / total


def _kl_to_mixture(p: np.ndarray, m: np.ndarray) -> float:
    """``sum p_i ln(p_i / m_i)`` with the convention 0 ln 0 = 0 (m_i > 0 wherever p_i > 0)."""
    support = p > 0.0
    return float(np.sum(p[support] * np.log(p[support] / m[support])))


def js_divergence(p: Any, q: Any, base: float = 2) -> float:
    """Jensen-Shannon divergence of two discrete distributions.

    Parameters
    ----------
    p : 1-D array-like of reals >= 0 with a positive sum
        First distribution (weights or probabilities; normalised to sum to 1, see Notes).
    q : 1-D array-like of reals >= 0 with a positive sum, same length as ``p``
        Second distribution, on the same bins.
    base : float > 1, optional
        Base of the logarithm (default 2, giving bits and the range [0, 1]); ``math.e``
        gives nats and the range [0, ln 2].

    Returns
    -------
    float
        ``JS(p, q) = (KL(p || m) + KL(q || m)) / 2`` with ``m = (p + q) / 2``, in
        ``[0, log_base(2)]``: 0 when ``p`` and ``q`` are proportional, ``log_base(2)`` when
        their supports are disjoint. Symmetric in ``p`` and ``q``.

    Raises
    ------
    InvalidInputError
        If ``p`` or ``q`` is not a non-empty 1-D array of finite non-negative reals with a
        positive sum, the lengths differ, or ``base`` is not a finite real > 1.

    See Also
    --------
    opsmodel.population_stability.psi_from_proportions : the unbounded, eps-floored alternative.

    Notes
    -----
    Like :func:`scipy.spatial.distance.jensenshannon`, each input is divided by its sum
    before use, so counts can be passed directly (``[2, 2]`` is ``[0.5, 0.5]``). Unlike
    scipy, negative entries, an all-zero vector and mismatched lengths are rejected
    rather than producing NaN. Note that scipy returns the Jensen-Shannon *distance*, the
    square root of this divergence: ``js_divergence(p, q) ==
    jensenshannon(p, q, base=2) ** 2`` up to rounding. Terms with ``p_i = 0`` contribute 0
    (the limit of ``x ln x``); ``m_i > 0`` wherever ``p_i > 0``, so no ``eps`` is needed.
    The result is clipped into ``[0, log_base(2)]`` to remove rounding error of order
    1e-16 at the two ends [1]_.

    References
    ----------
    .. [1] J. Lin, "Divergence measures based on the Shannon entropy", IEEE Transactions
       on Information Theory 37(1), 145-151, 1991.

    Examples
    --------
    >>> js_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> js_divergence([1, 0], [0, 1])  # disjoint supports: the maximum, 1 bit
    1.0
    >>> round(js_divergence([0.25] * 4, [0.1, 0.2, 0.3, 0.4]), 6)
    0.040202
    """
    p_norm = _distribution("p", p)
    q_norm = _distribution("q", q)
    if p_norm.size != q_norm.size:
        raise InvalidInputError(
            f"q must have the same length as p ({p_norm.size}), got {q_norm.size}"
        )
    # A base below 1 would make every divergence negative: not a unit of information.
    b = check_real("base", base, low=1.0, low_open=True)
    m = 0.5 * (p_norm + q_norm)
    nats = 0.5 * (_kl_to_mixture(p_norm, m) + _kl_to_mixture(q_norm, m))
    upper = math.log(2.0)
    return min(max(nats, 0.0), upper) / math.log(b)
