"""Population Stability Index (PSI): has one feature's distribution moved?

PSI compares the binned distribution of a feature at serving time (``current``) with the
distribution it had when the model was trained (``reference``). It is the symmetrised
Kullback-Leibler divergence (Jeffreys divergence) of the two binned distributions, so it
is 0 when the bins hold the same proportions and grows with every shift of mass between
bins. The bin edges come from the reference only: monitoring compares every new window
with the one fixed training distribution, never with a moving target.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._validation import InvalidInputError, check_int, check_real, check_real_array

__all__ = ["psi", "psi_from_proportions", "psi_band", "PSI_STABLE_BELOW", "PSI_SIGNIFICANT_AT"]

#: PSI below this is "stable" (the industry rule of thumb, see :func:`psi_band`).
PSI_STABLE_BELOW = 0.10
#: PSI at or above this is a "significant" shift.
PSI_SIGNIFICANT_AT = 0.25

# How far from 1 a vector of proportions may sum: float division of counts is exact to
# about 1e-16 per entry, so 1e-6 only rejects vectors that are not proportions at all.
_SUM_TOLERANCE = 1e-6


def _sample(name: str, value: Any) -> np.ndarray:
    """Validate a 1-D, non-empty array-like of finite reals and return it as floats."""
    try:
        # Convert first so that an error message shows numpy's abbreviated repr, not a
        # million-element list.
        value = np.asarray(value)
    except (ValueError, TypeError):
        pass  # ragged input: check_real_array words the error
    arr = check_real_array(name, value)
    if not isinstance(arr, np.ndarray) or arr.ndim != 1:
        shape = np.shape(arr)
        raise InvalidInputError(f"{name} must be a 1-D array of finite reals, got shape {shape}")
    if arr.size == 0:
        raise InvalidInputError(f"{name} must be non-empty, got 0 values")
    return arr


def _proportions(name: str, value: Any) -> np.ndarray:
    """Validate a vector of proportions: 1-D, non-empty, >= 0, summing to 1 (within 1e-6)."""
    arr = _sample(name, value)
    if np.any(arr < 0.0):
        bad = arr[arr < 0.0][0]
        raise InvalidInputError(f"{name} must be non-negative proportions, got {bad!r}")
    total = float(np.sum(arr))
    if abs(total - 1.0) > _SUM_TOLERANCE:
        raise InvalidInputError(f"{name} must sum to 1 (within {_SUM_TOLERANCE:g}), got {total!r}")
    return arr


def _check_eps(eps: Any) -> float:
    return check_real("eps", eps, low=0.0, high=1.0, low_open=True, high_open=True)


def _psi_sum(expected: np.ndarray, actual: np.ndarray, eps: float) -> float:
    """The PSI sum on already validated proportions (clipped below at eps, not renormalised)."""
    e = np.maximum(expected, eps)
    a = np.maximum(actual, eps)
    # Each term is >= 0 even in floating point: a - e and log(a / e) have the same sign
    # (a > e gives a rounded ratio >= 1), so the sum is never negative.
    return float(np.sum((a - e) * np.log(a / e)))


def _bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin, bin of x = ``searchsorted(edges, x, side="right")``, from sorted values.

    Bins 0..j hold exactly the values below ``edges[j]`` (bin(x) <= j iff x < edges[j]), so
    the cumulative counts are ``searchsorted(sorted_values, edges, side="left")``: the
    same integers as a per-value ``searchsorted`` plus ``bincount``, at the cost of one
    sort (numpy's sort is vectorised; a million binary searches are not).
    """
    below = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_values.size])))


def psi(reference: Any, current: Any, n_bins: int = 10, eps: float = 1e-4) -> float:
    """Population Stability Index of one feature, with bins from the reference.

    Parameters
    ----------
    reference : 1-D array-like of finite reals, non-empty
        The feature's values at training time. The bin edges come from it alone.
    current : 1-D array-like of finite reals, non-empty
        The feature's values at serving time (any length).
    n_bins : int >= 2, optional
        Number of quantile bins requested (default 10, deciles). Fewer bins result when
        the reference has tied quantiles (see Notes).
    eps : float in (0, 1), optional
        Floor for an empty bin's proportion (default 1e-4), so that ``log(a / e)`` stays
        finite.

    Returns
    -------
    float
        ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` >= 0, where ``e_i`` and ``a_i`` are the
        fractions of ``reference`` and ``current`` in bin ``i``, each clipped below at
        ``eps``. Exactly 0.0 when both inputs fill the bins in the same proportions.

    Raises
    ------
    InvalidInputError
        If an input is not a non-empty 1-D array of finite reals (NaN, infinity, strings,
        None), ``n_bins`` is not an integer >= 2, or ``eps`` is not in (0, 1).

    See Also
    --------
    psi_from_proportions : the same sum on proportions already binned.
    psi_band : the verbal band of a PSI value.

    Notes
    -----
    The binning is exactly:

    1. inner edges ``unique(quantile(reference, k / n_bins))`` for ``k = 1 .. n_bins - 1``,
       with numpy's default (linear interpolation, Hyndman and Fan type 7) quantiles;
    2. the outer bins are open, to -inf and +inf, so every current value falls in a bin,
       however far it has drifted;
    3. a value ``x`` falls in bin ``searchsorted(edges, x, side="right")``: a value equal to
       an edge goes to the bin above it (bins are ``[edge_{i-1}, edge_i)``).

    Tied quantiles (a reference with few distinct values) are merged by ``unique``, so the
    number of bins can be smaller than ``n_bins``; a constant reference gives two bins,
    below and at-or-above its value. The proportions are clipped below at ``eps`` and not
    renormalised, the usual convention of monitoring tools; it keeps an empty bin's term
    finite and large (about ``a * ln(a / eps)``) rather than infinite. PSI is the Jeffreys
    divergence ``KL(a || e) + KL(e || a)`` of the binned distributions, which makes it
    symmetric in the two *proportion* vectors (though not in ``reference`` and
    ``current``, since the bins come from the reference) [1]_.

    References
    ----------
    .. [1] B. Yurdakul, "Statistical Properties of Population Stability Index",
       Western Michigan University, 2018.

    Examples
    --------
    A feature that drifted up by 10 units out of a range of 100: with quartile bins,
    15% of serving traffic now falls in the bottom quartile and 35% in the top one.

    >>> reference = range(1, 101)
    >>> current = range(11, 111)
    >>> round(psi(reference, current, n_bins=4), 10)
    0.084729786
    >>> psi([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    0.0
    """
    ref = _sample("reference", reference)
    cur = _sample("current", current)
    bins = check_int("n_bins", n_bins, low=2)
    floor = _check_eps(eps)

    ref_sorted = np.sort(ref)
    cur_sorted = np.sort(cur)
    # Quantiles are order statistics, so sorting first changes no edge (and makes
    # np.quantile's partition step nearly free).
    edges = np.unique(np.quantile(ref_sorted, np.arange(1, bins) / bins))
    expected = _bin_counts(ref_sorted, edges)
    actual = _bin_counts(cur_sorted, edges)
    return _psi_sum(expected / ref.size, actual / cur.size, floor)


def psi_from_proportions(expected: Any, actual: Any, eps: float = 1e-4) -> float:
    """Population Stability Index of two vectors of bin proportions.

    Parameters
    ----------
    expected : 1-D array-like of reals >= 0 summing to 1 (within 1e-6), non-empty
        Reference (training-time) proportion of each bin.
    actual : 1-D array-like of reals >= 0 summing to 1 (within 1e-6), same length
        Current (serving-time) proportion of each bin.
    eps : float in (0, 1), optional
        Floor for a proportion (default 1e-4), applied to both vectors.

    Returns
    -------
    float
        ``sum_i (a_i - e_i) * ln(a_i / e_i)`` >= 0 with both vectors clipped below at
        ``eps`` (not renormalised). Symmetric in ``expected`` and ``actual``.

    Raises
    ------
    InvalidInputError
        If a vector is not 1-D, is empty, holds a negative, NaN or infinite entry or a
        non-number, does not sum to 1 within 1e-6, or the two lengths differ; or if
        ``eps`` is not in (0, 1).

    See Also
    --------
    psi : bins raw samples first, then applies this sum.

    Notes
    -----
    The sum is the Jeffreys divergence ``KL(a || e) + KL(e || a)`` of the clipped
    vectors [1]_. Proportions are checked, not renormalised: a vector that does not sum
    to 1 is a bug upstream (counts passed instead of fractions), not something to repair.

    References
    ----------
    .. [1] B. Yurdakul, "Statistical Properties of Population Stability Index",
       Western Michigan University, 2018.

    Examples
    --------
    Four equal bins at training time; at serving time mass has moved to the upper bins.

    >>> round(psi_from_proportions([0.25] * 4, [0.1, 0.2, 0.3, 0.4]), 10)
    0.2282174096
    """
    e = _proportions("expected", expected)
    a = _proportions("actual", actual)
    if e.size != a.size:
        raise InvalidInputError(
            f"actual must have the same length as expected ({e.size}), got {a.size}"
        )
    return _psi_sum(e, a, _check_eps(eps))


def psi_band(value: float) -> Literal["stable", "moderate", "significant"]:
    """Verbal band of a PSI value, the monitoring rule of thumb.

    Parameters
    ----------
    value : float >= 0
        A PSI value.

    Returns
    -------
    {"stable", "moderate", "significant"}
        ``"stable"`` below 0.10, ``"moderate"`` for 0.10 <= PSI < 0.25, ``"significant"``
        at 0.25 and above.

    Raises
    ------
    InvalidInputError
        If ``value`` is negative (PSI never is), NaN, infinite or not a real number.

    Notes
    -----
    The band edges belong to the band above them: 0.10 is "moderate" and 0.25 is
    "significant", so a threshold check ``psi >= 0.25`` and this band always agree. The
    cut-offs are an industry convention, not a test with a stated error rate; Yurdakul
    derives the sampling distribution of PSI that such a test needs [1]_.

    References
    ----------
    .. [1] B. Yurdakul, "Statistical Properties of Population Stability Index",
       Western Michigan University, 2018.

    Examples
    --------
    >>> psi_band(0.08), psi_band(0.10), psi_band(0.25)
    ('stable', 'moderate', 'significant')
    """
    x = check_real("value", value, low=0.0)
    if x < PSI_STABLE_BELOW:
        return "stable"
    if x < PSI_SIGNIFICANT_AT:
        return "moderate"
    return "significant"
