"""Tests of opsmodel.divergence.js_divergence.

Independent references: ``scipy.spatial.distance.jensenshannon`` (which returns the square
root, the JS *distance*, so it is squared here), a plain-Python loop with ``math.log``,
and the closed-form values 0 (identical) and 1 bit (disjoint supports).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from opsmodel.divergence import js_divergence


def _js_plain(p, q, base=2.0):
    """JS divergence by definition, with loops (0 ln 0 = 0)."""
    sp, sq = sum(p), sum(q)
    p = [x / sp for x in p]
    q = [x / sq for x in q]
    total = 0.0
    for pi, qi in zip(p, q, strict=True):
        mi = (pi + qi) / 2
        if pi > 0:
            total += 0.5 * pi * math.log(pi / mi)
        if qi > 0:
            total += 0.5 * qi * math.log(qi / mi)
    return total / math.log(base)


weights = st.floats(min_value=0.0, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def distribution_pairs(draw):
    n = draw(st.integers(1, 12))
    p = draw(st.lists(weights, min_size=n, max_size=n).filter(lambda v: sum(v) > 1e-6))
    q = draw(st.lists(weights, min_size=n, max_size=n).filter(lambda v: sum(v) > 1e-6))
    return p, q


@settings(max_examples=100, deadline=None)
@given(pair=distribution_pairs())
def test_matches_scipy_distance_squared_and_lies_in_unit_interval(pair):
    p, q = pair
    value = js_divergence(p, q)
    # scipy returns sqrt(JS); squaring a value computed with rel_entr in another order
    # agrees to about 1e-15 absolute.
    assert value == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9, abs=1e-12)
    assert 0.0 <= value <= 1.0


@settings(max_examples=100, deadline=None)
@given(pair=distribution_pairs(), base=st.sampled_from([2.0, math.e, 10.0]))
def test_matches_plain_loop_and_is_symmetric(pair, base):
    p, q = pair
    value = js_divergence(p, q, base=base)
    assert value == pytest.approx(_js_plain(p, q, base), rel=1e-9, abs=1e-14)
    assert value == pytest.approx(js_divergence(q, p, base=base), rel=1e-12, abs=1e-15)
    # The range is [0, log_base 2].
    assert 0.0 <= value <= math.log(2.0) / math.log(base) + 1e-15


def test_identical_distributions_give_exactly_zero():
    assert js_divergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_disjoint_supports_give_exactly_one_bit():
    # m = (1/2, 1/2): KL(p || m) = KL(q || m) = ln 2, so JS = ln 2 nats = 1 bit.
    assert js_divergence([1, 0], [0, 1]) == 1.0
    assert js_divergence([0.5, 0.5, 0, 0], [0, 0, 0.3, 0.7]) == 1.0
    assert js_divergence([1, 0], [0, 1], base=math.e) == pytest.approx(math.log(2), rel=1e-15)


def test_known_value_against_scipy():
    # Spec's PSI example proportions; scipy's jensenshannon(...)**2 gives 0.04020158...
    expected = jensenshannon([0.25] * 4, [0.1, 0.2, 0.3, 0.4], base=2) ** 2
    assert js_divergence([0.25] * 4, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(expected, rel=1e-12)


def test_inputs_are_normalised_like_scipy():
    # Counts and proportions with the same shape give the same divergence.
    assert js_divergence([2, 2], [1, 3]) == pytest.approx(
        js_divergence([0.5, 0.5], [0.25, 0.75]), rel=1e-15
    )
    assert js_divergence(np.array([10, 30, 60]), [1, 1, 1]) == pytest.approx(
        jensenshannon([10, 30, 60], [1, 1, 1], base=2) ** 2, rel=1e-12
    )


def test_default_base_is_two():
    assert js_divergence([0.9, 0.1], [0.1, 0.9]) == js_divergence([0.9, 0.1], [0.1, 0.9], base=2)


BAD_VECTORS = [
    [0.5, -0.1, 0.6],
    [0.0, 0.0],
    [0.5, float("nan")],
    [0.5, float("inf")],
    [1e308, 1e308],  # the sum overflows
    ["a", "b"],
    "ab",
    None,
    [],
    [[0.5, 0.5]],
    0.5,
]


@pytest.mark.parametrize("bad", BAD_VECTORS)
def test_rejects_bad_p(bad):
    # Anchored: a bare "p" would also match words of a message about q.
    with pytest.raises(ValueError, match="^p must"):
        js_divergence(bad, [0.5, 0.5])


@pytest.mark.parametrize("bad", BAD_VECTORS)
def test_rejects_bad_q(bad):
    with pytest.raises(ValueError, match="^q must"):
        js_divergence([0.5, 0.5], bad)


def test_rejects_length_mismatch():
    with pytest.raises(ValueError, match="q must have the same length"):
        js_divergence([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("bad", [1, 1.0, 0.5, 0, -2, float("nan"), float("inf"), "2", None])
def test_rejects_bad_base(bad):
    with pytest.raises(ValueError, match="base"):
        js_divergence([0.5, 0.5], [0.2, 0.8], base=bad)
