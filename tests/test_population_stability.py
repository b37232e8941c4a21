"""Tests of opsmodel.population_stability: PSI of samples and of proportions, and the verbal bands.

Independent references: a plain-Python PSI with explicit loops and exact ``Fraction``
arithmetic for quantiles, bin counts and proportions (only the logarithm is a float), the
spec's two worked numbers, hand-derived proportions, and scipy's ``entropy`` (KL
divergence) for the Jeffreys-divergence identity.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy

from opsmodel.population_stability import psi, psi_band, psi_from_proportions

# --- independent plain-Python reference -------------------------------------------------


def _quantile_type7(sorted_values: list[Fraction], prob: Fraction) -> Fraction:
    """Hyndman-Fan type 7 (numpy's default 'linear') quantile, exactly."""
    h = (len(sorted_values) - 1) * prob
    lo = math.floor(h)
    if lo + 1 >= len(sorted_values):
        return sorted_values[-1]
    return sorted_values[lo] + (h - lo) * (sorted_values[lo + 1] - sorted_values[lo])


def _psi_plain(reference, current, n_bins: int = 10, eps: float = 1e-4) -> float:
    """PSI by the spec's words, with loops and Fractions (no numpy)."""
    ref = sorted(Fraction(x) for x in reference)
    cur = [Fraction(x) for x in current]
    edges = sorted({_quantile_type7(ref, Fraction(k, n_bins)) for k in range(1, n_bins)})

    def bin_of(x: Fraction) -> int:
        # searchsorted(edges, x, side="right") == number of edges <= x
        count = 0
        for edge in edges:
            if edge <= x:
                count += 1
        return count

    n_cells = len(edges) + 1
    ref_counts = [0] * n_cells
    for x in ref:
        ref_counts[bin_of(x)] += 1
    cur_counts = [0] * n_cells
    for x in cur:
        cur_counts[bin_of(x)] += 1
    floor = Fraction(eps)
    total = 0.0
    for r, c in zip(ref_counts, cur_counts, strict=True):
        e = max(Fraction(r, len(ref)), floor)
        a = max(Fraction(c, len(cur)), floor)
        total += float(a - e) * math.log(a / e)
    return total


# --- the spec's worked numbers ----------------------------------------------------------


def test_spec_example_reference_1_to_100_current_11_to_110_four_bins():
    # Expected 0.0847297860 from the spec (Part 3).
    assert psi(range(1, 101), range(11, 111), n_bins=4) == pytest.approx(0.0847297860, abs=1e-10)


def test_spec_example_by_hand_proportions():
    # Quartile edges 25.75, 50.5, 75.25: reference 25/25/25/25; current 11..110 puts
    # 15 values (11..25) below 25.75, 25 in each middle bin and 35 (76..110) above.
    by_hand = (0.15 - 0.25) * math.log(0.15 / 0.25) + (0.35 - 0.25) * math.log(0.35 / 0.25)
    assert psi(np.arange(1, 101), np.arange(11, 111), n_bins=4) == pytest.approx(by_hand, rel=1e-14)


def test_spec_example_from_proportions():
    # Expected 0.2282174096 from the spec (Part 3).
    assert psi_from_proportions([0.25] * 4, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(
        0.2282174096, abs=1e-10
    )


# --- agreement with the independent computation ----------------------------------------


@pytest.mark.parametrize("n_bins", [2, 3, 5, 10, 20])
def test_matches_plain_python_on_continuous_seeded_data(n_bins):
    # Continuous data: no value lies within rounding error of an edge, so float and exact
    # edges bin identically and only the final logs are floats.
    rng = np.random.default_rng(12345)
    reference = rng.normal(size=400)
    current = rng.normal(loc=0.3, scale=1.2, size=300)
    expected = _psi_plain(reference.tolist(), current.tolist(), n_bins)
    assert psi(reference, current, n_bins=n_bins) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    reference=st.lists(st.integers(-20, 20), min_size=1, max_size=60),
    current=st.lists(st.integers(-25, 25), min_size=1, max_size=60),
    n_bins=st.sampled_from([2, 4, 8]),
)
def test_matches_plain_python_on_integers_with_ties(reference, current, n_bins):
    # Integers and power-of-two bin counts make numpy's quantile positions and edges exact,
    # so ties with edges (side="right") and merged tied quantiles are compared exactly.
    expected = _psi_plain(reference, current, n_bins)
    assert psi(reference, current, n_bins=n_bins) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_value_on_an_edge_goes_to_the_bin_above():
    # reference [1, 2, 3], 2 bins: the median 2 is the one edge, so e = (1/3, 2/3).
    # Current [2, 2, 2] sits on the edge; side="right" puts it in the upper bin: a = (0, 1),
    # clipped to (1e-4, 1). With side="left" it would be a = (1, 0) instead.
    e1, e2, a1, a2 = 1 / 3, 2 / 3, 1e-4, 1.0
    by_hand = (a1 - e1) * math.log(a1 / e1) + (a2 - e2) * math.log(a2 / e2)
    assert psi([1, 2, 3], [2, 2, 2], n_bins=2) == pytest.approx(by_hand, rel=1e-14)


def test_empty_bins_are_clipped_at_eps_not_renormalised():
    # reference 1..100, 4 bins: e = 1/4 each. Current all in the bottom quartile:
    # a = (1, 0, 0, 0), clipped to (1, eps, eps, eps), which then sums to 1 + 3 eps.
    eps = 1e-3
    clipped = (1 - 0.25) * math.log(1 / 0.25) + 3 * (eps - 0.25) * math.log(eps / 0.25)
    a = [1 / (1 + 3 * eps)] + [eps / (1 + 3 * eps)] * 3
    renormalised = sum((ai - 0.25) * math.log(ai / 0.25) for ai in a)
    value = psi(range(1, 101), range(1, 21), n_bins=4, eps=eps)
    assert value == pytest.approx(clipped, rel=1e-14)
    assert value != pytest.approx(renormalised, rel=1e-6)


def test_constant_reference_gives_two_bins():
    # All quantiles of [5]*10 are 5, so unique() leaves one edge: bins (<5) and (>=5).
    # e = (0, 1) clipped to (1e-4, 1); current [4, 5, 6] gives a = (1/3, 2/3).
    e1, e2, a1, a2 = 1e-4, 1.0, 1 / 3, 2 / 3
    by_hand = (a1 - e1) * math.log(a1 / e1) + (a2 - e2) * math.log(a2 / e2)
    assert psi([5] * 10, [4, 5, 6], n_bins=10) == pytest.approx(by_hand, rel=1e-14)


def test_far_drift_falls_in_the_open_outer_bins():
    # Outer bins are open: a current far above every reference value is still counted,
    # in the top bin. Reference 1..100 with 4 bins, current all above 1000: a = (0,0,0,1).
    eps = 1e-4
    by_hand = 3 * (eps - 0.25) * math.log(eps / 0.25) + (1 - 0.25) * math.log(1 / 0.25)
    assert psi(range(1, 101), [1e6] * 50, n_bins=4) == pytest.approx(by_hand, rel=1e-14)


def test_single_values_are_valid_samples():
    # One reference value: all quantiles equal it; one current value equal to it lands in
    # the same (upper) bin, so the proportions agree and PSI is 0.
    assert psi([3.0], [3.0]) == 0.0


# --- properties ---------------------------------------------------------------------------

finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(
    reference=st.lists(finite_floats, min_size=1, max_size=80),
    current=st.lists(finite_floats, min_size=1, max_size=80),
    n_bins=st.integers(2, 20),
)
def test_psi_is_non_negative(reference, current, n_bins):
    assert psi(reference, current, n_bins=n_bins) >= 0.0


@settings(max_examples=60, deadline=None)
@given(values=st.lists(finite_floats, min_size=1, max_size=80), n_bins=st.integers(2, 20))
def test_psi_of_identical_samples_is_exactly_zero(values, n_bins):
    # Same bins, same counts: every term is (e - e) * log(1) = 0.
    assert psi(values, values, n_bins=n_bins) == 0.0
    assert psi(values, list(reversed(values)), n_bins=n_bins) == 0.0


proportion_vectors = st.lists(st.integers(1, 1000), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_psi_from_proportions_is_symmetric_and_the_jeffreys_divergence(data):
    weights_e = data.draw(proportion_vectors)
    weights_a = data.draw(
        st.lists(st.integers(1, 1000), min_size=len(weights_e), max_size=len(weights_e))
    )
    e = np.array(weights_e) / sum(weights_e)
    a = np.array(weights_a) / sum(weights_a)
    forward = psi_from_proportions(e, a, eps=1e-6)
    backward = psi_from_proportions(a, e, eps=1e-6)
    # Symmetric: (a - e) ln(a/e) = (e - a) ln(e/a); only the rounding of a/e vs e/a differs.
    assert forward == pytest.approx(backward, rel=1e-12, abs=1e-15)
    # Every proportion is >= 1/12001 > eps, so no clipping: PSI = KL(a||e) + KL(e||a),
    # computed here by scipy.stats.entropy.
    assert forward == pytest.approx(entropy(a, e) + entropy(e, a), rel=1e-9, abs=1e-14)
    assert forward >= 0.0
    assert psi_from_proportions(e, e) == 0.0


# --- bands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, "stable"),
        (0.0999999, "stable"),
        (0.10, "moderate"),  # spec: 0.10-0.25 moderate, the edge belongs to the band above
        (0.2499999, "moderate"),
        (0.25, "significant"),  # spec: >= 0.25 significant
        (4.0, "significant"),
    ],
)
def test_psi_band_edges(value, band):
    assert psi_band(value) == band


def test_psi_band_of_spec_examples():
    # 0.0847 is stable, 0.2282 moderate (spec numbers).
    assert psi_band(0.0847297860) == "stable"
    assert psi_band(0.2282174096) == "moderate"


# --- bad input ----------------------------------------------------------------------------

BAD_SAMPLES = [
    [1.0, float("nan")],
    [1.0, float("inf")],
    ["a", "b"],
    "abc",
    None,
    [],
    [[1.0, 2.0], [3.0, 4.0]],  # 2-D
    3.0,  # a scalar is not a sample
    [True, False],
    [[1.0], [2.0, 3.0]],  # ragged
]


@pytest.mark.parametrize("bad", BAD_SAMPLES)
def test_psi_rejects_bad_reference(bad):
    with pytest.raises(ValueError, match="reference"):
        psi(bad, [1.0, 2.0])


@pytest.mark.parametrize("bad", BAD_SAMPLES)
def test_psi_rejects_bad_current(bad):
    with pytest.raises(ValueError, match="current"):
        psi([1.0, 2.0], bad)


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, float("nan"), "10", None, True])
def test_psi_rejects_bad_n_bins(bad):
    with pytest.raises(ValueError, match="n_bins"):
        psi([1.0, 2.0, 3.0], [1.0, 2.0], n_bins=bad)


BAD_EPS = [0.0, 1.0, -1e-4, float("nan"), float("inf"), "1e-4", None]


@pytest.mark.parametrize("bad", BAD_EPS)
def test_psi_rejects_bad_eps(bad):
    with pytest.raises(ValueError, match="eps"):
        psi([1.0, 2.0, 3.0], [1.0, 2.0], eps=bad)


BAD_PROPORTIONS = [
    [0.5, 0.6],  # sums to 1.1
    [1.2, -0.2],  # negative
    [0.5, float("nan")],
    [float("inf"), 0.0],
    [],
    ["0.5", "0.5"],
    None,
    [[0.5, 0.5]],  # 2-D
    [25, 25, 25, 25],  # counts, not proportions
]


@pytest.mark.parametrize("bad", BAD_PROPORTIONS)
def test_psi_from_proportions_rejects_bad_expected(bad):
    with pytest.raises(ValueError, match="expected"):
        psi_from_proportions(bad, [0.5, 0.5])


@pytest.mark.parametrize("bad", BAD_PROPORTIONS)
def test_psi_from_proportions_rejects_bad_actual(bad):
    with pytest.raises(ValueError, match="actual"):
        psi_from_proportions([0.5, 0.5], bad)


def test_psi_from_proportions_rejects_length_mismatch():
    with pytest.raises(ValueError, match="actual must have the same length"):
        psi_from_proportions([0.5, 0.5], [0.2, 0.3, 0.5])


def test_psi_from_proportions_accepts_sum_within_tolerance():
    # 1e-7 off is within the stated 1e-6 tolerance; the value is that of the exact vector
    # up to the size of the perturbation.
    close = psi_from_proportions([0.25] * 4, [0.1, 0.2, 0.3, 0.4 + 1e-7])
    assert close == pytest.approx(0.2282174096, abs=1e-6)


@pytest.mark.parametrize("bad", BAD_EPS)
def test_psi_from_proportions_rejects_bad_eps(bad):
    with pytest.raises(ValueError, match="eps"):
        psi_from_proportions([0.5, 0.5], [0.5, 0.5], eps=bad)


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf"), "0.1", None, True])
def test_psi_band_rejects_bad_value(bad):
    with pytest.raises(ValueError, match="value"):
        psi_band(bad)
