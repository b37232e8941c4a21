"""Tests of opsmodel.shadow: the release cycle and the shadow window length.

Independent references: the spec's formula ``n / (rate * 3600 * fraction)`` evaluated in
exact ``Fraction`` arithmetic, and hand-computed windows.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsmodel.shadow import RELEASE_CYCLE_HOURS, shadow_hours


def test_release_cycle_is_one_week() -> None:
    # Spec: a release cycle is one week, 168 hours.
    assert RELEASE_CYCLE_HOURS == 168.0 == 7 * 24


def test_hand_computed_windows() -> None:
    # 3,600 requests at 1 per second: one hour; mirroring half the traffic: two hours.
    assert shadow_hours(3600, 1.0) == 1.0
    assert shadow_hours(3600, 1.0, shadow_fraction=0.5) == 2.0
    assert shadow_hours(0, 5.0) == 0.0
    # 2,995 requests (95% against 1 in 1,000) at 0.01/s: 2995 / 36 = 83.19 h, within a week;
    # at 10% mirroring, 831.9 h, five weeks.
    assert math.isclose(shadow_hours(2995, 0.01), 2995 / 36, rel_tol=1e-15)
    assert shadow_hours(2995, 0.01, 0.1) > RELEASE_CYCLE_HOURS


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0, 1e9),
    st.floats(1e-6, 1e6),
    st.floats(1e-6, 1.0),
)
def test_matches_exact_fraction_formula(n: float, rate: float, fraction: float) -> None:
    expected = Fraction(n) / (Fraction(rate) * 3600 * Fraction(fraction))
    # Three roundings in the float formula: 1e-15 relative is enough.
    assert math.isclose(shadow_hours(n, rate, fraction), float(expected), rel_tol=1e-15)


def test_returns_float() -> None:
    assert type(shadow_hours(10, 2)) is float


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "100", None, True])
def test_bad_n_requests(bad) -> None:
    with pytest.raises(ValueError, match="n_requests"):
        shadow_hours(bad, 1.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "1", None])
def test_bad_rate(bad) -> None:
    with pytest.raises(ValueError, match="request_rate_per_s"):
        shadow_hours(100, bad)


@pytest.mark.parametrize("bad", [0.0, 1.01, -0.5, float("nan"), float("inf"), "0.5", None])
def test_bad_fraction(bad) -> None:
    with pytest.raises(ValueError, match="shadow_fraction"):
        shadow_hours(100, 1.0, bad)
