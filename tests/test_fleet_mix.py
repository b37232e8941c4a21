"""Tests of opsmodel.fleet_mix: Hurlbert's PIE and the cross-type pair count.

Independent references: the spec's worked example ([10, 5, 5] -> 250/380 and 125 pairs),
and a plain loop over every pair of individual models, counted and divided in exact
``Fraction`` arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsmodel.fleet_mix import cross_type_pairs, heterogeneity


def _pairs_by_loop(counts: list[int]) -> tuple[int, int]:
    """(cross-type pairs, all pairs), by listing every model and every pair of models."""
    labels = [t for t, n in enumerate(counts) for _ in range(n)]
    cross = total = 0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            total += 1
            cross += labels[i] != labels[j]
    return cross, total


def test_spec_worked_example_10_5_5() -> None:
    # Spec: counts [10, 5, 5] give h = 250/380 and 125 pairs.
    assert heterogeneity([10, 5, 5]) == float(Fraction(250, 380))
    assert cross_type_pairs([10, 5, 5]) == 125
    assert isinstance(cross_type_pairs([10, 5, 5]), int)


def test_pie_times_pair_count_is_cross_type_pairs_for_spec_example() -> None:
    # Spec: h * N (N - 1) / 2 is exactly the number of cross-type pairs (exact fractions).
    assert Fraction(250, 380) * 20 * 19 / 2 == 125


@pytest.mark.parametrize("counts", [[], [0], [1], [0, 1], [1, 0, 0], (0, 0)])
def test_fewer_than_two_models_gives_zero(counts: list[int]) -> None:
    # Spec: 0.0 when N < 2 (an empty sequence is N = 0).
    assert heterogeneity(counts) == 0.0
    assert cross_type_pairs(counts) == 0


def test_single_type_and_all_distinct_extremes() -> None:
    # One type: no pair differs (0); every model its own type: every pair differs (1).
    assert heterogeneity([20]) == 0.0
    assert heterogeneity([20, 0, 0]) == 0.0
    assert heterogeneity([1] * 7) == 1.0
    assert cross_type_pairs([1] * 7) == 21  # C(7, 2)


def test_accepts_tuples_and_integer_arrays_alike() -> None:
    # Same fleet as the spec example in several containers: same exact answer.
    expected = float(Fraction(250, 380))
    assert heterogeneity((10, 5, 5)) == expected
    assert heterogeneity(np.array([10, 5, 5], dtype=np.int64)) == expected
    assert heterogeneity(np.array([10.0, 5.0, 5.0])) == expected  # integral floats
    assert cross_type_pairs(np.array([10, 5, 5], dtype=np.uint8)) == 125


def test_large_counts_are_exact() -> None:
    # Python-int arithmetic: (N^2 - sum n_i^2) / 2 with N = 3 * 10**12, by hand.
    n = 10**12
    assert cross_type_pairs([n, n, n]) == 3 * n * n
    # h = 1 - 3 n (n - 1) / (3n (3n - 1)) = 2n / (3n - 1), exactly.
    assert heterogeneity([n, n, n]) == float(Fraction(2 * n, 3 * n - 1))


@given(st.lists(st.integers(min_value=0, max_value=12), max_size=6))
def test_matches_pairwise_loop(counts: list[int]) -> None:
    # Reference: enumerate all pairs of individual models (plain loop, exact Fraction).
    cross, total = _pairs_by_loop(counts)
    assert cross_type_pairs(counts) == cross
    expected = float(Fraction(cross, total)) if total else 0.0
    assert heterogeneity(counts) == expected
    assert 0.0 <= heterogeneity(counts) <= 1.0


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=8), st.randoms())
def test_order_of_types_does_not_matter(counts: list[int], rnd) -> None:
    # A fleet's heterogeneity is a property of the multiset of counts.
    shuffled = list(counts)
    rnd.shuffle(shuffled)
    assert heterogeneity(shuffled) == heterogeneity(counts)
    assert cross_type_pairs(shuffled) == cross_type_pairs(counts)


@pytest.mark.parametrize(
    "bad",
    [
        [-1, 3],
        [1.5, 2],
        [float("nan")],
        [float("inf")],
        [True, 2],
        ["a", 2],
        [None],
        "abc",
        None,
        5,
        {1, 2},
        np.array([[1, 2], [3, 4]]),
    ],
)
def test_bad_input_is_rejected(bad) -> None:
    with pytest.raises(ValueError, match="type_counts"):
        heterogeneity(bad)
    with pytest.raises(ValueError, match="type_counts"):
        cross_type_pairs(bad)
