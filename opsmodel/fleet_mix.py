"""Fleet heterogeneity: how mixed the model types of a fleet are.

The O(N^2) term of manual toil counts coordination work between pairs of models of
*different* types (a recommender and a fraud model share a feature pipeline; two
recommenders built from one template do not need a meeting). Hurlbert's probability of
interspecific encounter (PIE) is exactly the fraction of all model pairs that are
cross-type pairs, so ``heterogeneity * N * (N - 1) / 2`` counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ._validation import InvalidInputError, check_int

__all__ = ["heterogeneity", "cross_type_pairs"]


def _counts(type_counts: Any) -> list[int]:
    """Validate ``type_counts`` and return it as a list of Python ints (exact arithmetic)."""
    # A string is a Sequence too, but "abc" is never a list of counts.
    if isinstance(type_counts, np.ndarray):
        if type_counts.ndim != 1:
            raise InvalidInputError(
                f"type_counts must be a 1-D sequence of non-negative integers, "
                f"got an array of shape {type_counts.shape}"
            )
        items = type_counts.tolist()
    elif isinstance(type_counts, Sequence) and not isinstance(type_counts, (str, bytes)):
        items = list(type_counts)
    else:
        raise InvalidInputError(
            f"type_counts must be a 1-D sequence of non-negative integers, got {type_counts!r}"
        )
    return [check_int("type_counts", n, low=0) for n in items]


def heterogeneity(type_counts: Sequence[int] | np.ndarray) -> float:
    """Probability that two distinct models of the fleet are of different types.

    Hurlbert's probability of interspecific encounter (PIE) [1]_ applied to model types:
    draw two different models without replacement; ``heterogeneity`` is the probability
    that their types differ,

    .. math:: h = 1 - \\frac{\\sum_i n_i (n_i - 1)}{N (N - 1)}, \\quad N = \\sum_i n_i .

    Parameters
    ----------
    type_counts : sequence of int >= 0, or 1-D integer array
        Number of models of each type. Zero counts are allowed (a type with no model
        changes nothing). An empty sequence is a fleet of N = 0 models.

    Returns
    -------
    float
        ``h`` in [0, 1]; 0.0 when N < 2 (no pair can be drawn, so there is no cross-type
        pair: this keeps ``h * N * (N - 1) / 2`` equal to the pair count).

    Raises
    ------
    InvalidInputError
        If ``type_counts`` is not a 1-D sequence, or an element is negative, non-integer,
        NaN, infinite, a bool or not a number.

    See Also
    --------
    cross_type_pairs : the exact integer number of cross-type pairs.

    Notes
    -----
    The convention is the *without replacement* one (Hurlbert's PIE), not Simpson's
    ``1 - sum(p_i**2)`` (with replacement): with it, ``h * N (N - 1) / 2`` is exactly the
    number of unordered cross-type pairs, which is what the O(N^2) toil term counts.
    The ratio is computed in exact rational arithmetic and rounded once to float.

    References
    ----------
    .. [1] S. H. Hurlbert, "The nonconcept of species diversity: a critique and
       alternative parameters", Ecology 52(4), 577-586, 1971.

    Examples
    --------
    A fleet of ten recommenders, five fraud models and five forecasters: 250 of its
    380 ordered pairs of distinct models are cross-type.

    >>> heterogeneity([10, 5, 5])
    0.6578947368421053
    >>> heterogeneity([20])  # one type: no cross-type pair
    0.0
    >>> heterogeneity([1, 1, 1, 1])  # all different
    1.0
    """
    counts = _counts(type_counts)
    total = sum(counts)
    if total < 2:
        return 0.0
    same_type = sum(n * (n - 1) for n in counts)
    return float(1 - Fraction(same_type, total * (total - 1)))


def cross_type_pairs(type_counts: Sequence[int] | np.ndarray) -> int:
    """Exact number of unordered pairs of models of different types.

    Parameters
    ----------
    type_counts : sequence of int >= 0, or 1-D integer array
        Number of models of each type, as for :func:`heterogeneity`.

    Returns
    -------
    int
        ``sum over i < j of n_i * n_j``, computed as ``(N**2 - sum(n_i**2)) / 2`` in
        Python integers (exact for any fleet size). 0 for an empty fleet.

    Raises
    ------
    InvalidInputError
        If ``type_counts`` is not a valid list of counts (see :func:`heterogeneity`).

    Notes
    -----
    ``heterogeneity(c) * N * (N - 1) / 2`` equals this count up to float rounding; this
    function gives the integer exactly.

    Examples
    --------
    >>> cross_type_pairs([10, 5, 5])  # 10*5 + 10*5 + 5*5
    125
    >>> cross_type_pairs([])
    0
    """
    counts = _counts(type_counts)
    total = sum(counts)
    # N^2 - sum n_i^2 = 2 * sum_{i<j} n_i n_j, always even.
    return (total * total - sum(n * n for n in counts)) // 2
