"""Tests of opsmodel.toil_params and opsmodel.toil: manual toil, platform cost, break-even.

Independent references: exact ``Fraction`` arithmetic at fleet sizes that are powers of
two (where log2 N is an integer), a plain loop that adds each model's and each pair's
hours one by one elsewhere, a plain-Python scan for the smallest fleet with ROI > 0, and
the spec's worked numbers (defaults: N* about 29 at h = 0, about 19 at h = 1; the tie
alert 90 / deploy 40 / dependency 0 / platform 0 at N = 16 giving 17).
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsmodel.toil import (
    ToilBreakdown,
    break_even_models,
    break_even_point,
    manual_toil_breakdown_hours,
    manual_toil_hours,
    manual_toil_usd,
    platform_cost_usd,
    platform_roi_usd,
    platform_toil_hours,
)
from opsmodel.toil_params import ToilParams

# The spec's tie: ROI is exactly 0 at N = 16 (log2 16 = 4) with h = 0.
TIE = ToilParams(alert_hours=90, deploy_hours=40, dependency_hours=0, platform_hours=0)


# --- independent references --------------------------------------------------------------


def _manual_hours_exact_pow2(k: int, h: float, params: ToilParams) -> Fraction:
    """Manual hours at N = 2**k in exact rationals (log2 N = k exactly)."""
    n = 2**k
    return (
        Fraction(params.alert_hours) * n
        + Fraction(params.deploy_hours) * n * k
        + Fraction(params.dependency_hours) * Fraction(h) * n * (n - 1) / 2
    )


def _manual_hours_loop(n: int, h: float, params: ToilParams) -> float:
    """Manual hours by adding each model's and each pair's toil, one at a time."""
    hours = 0.0
    for _model in range(n):
        hours += params.alert_hours + params.deploy_hours * math.log2(n)
    for i in range(n):
        for _j in range(i + 1, n):
            hours += params.dependency_hours * h
    return hours


def _roi_plain(n: int, h: float, params: ToilParams) -> float:
    """ROI by the spec's words, scalar Python floats."""
    manual = params.alert_hours * n + params.deploy_hours * n * math.log2(n)
    manual += params.dependency_hours * h * n * (n - 1) / 2
    rate = params.hourly_cost_usd * params.horizon_years
    return manual * rate - (params.platform_capex_usd + params.platform_hours * n * rate)


def _break_even_by_scan(h: float, params: ToilParams, n_max: int) -> int | None:
    for n in range(1, n_max + 1):
        if _roi_plain(n, h, params) > 0:
            return n
    return None


params_strategy = st.builds(
    ToilParams,
    hourly_cost_usd=st.integers(1, 300),
    alert_hours=st.integers(0, 100),
    deploy_hours=st.integers(0, 50),
    dependency_hours=st.integers(0, 20),
    platform_hours=st.integers(0, 60),
    platform_capex_usd=st.integers(0, 2_000_000),
    horizon_years=st.sampled_from([0.5, 1.0, 3.0]),
)


# --- ToilParams ---------------------------------------------------------------------------


def test_toil_params_defaults_match_spec_table() -> None:
    p = ToilParams()
    assert (p.hourly_cost_usd, p.alert_hours, p.deploy_hours, p.dependency_hours) == (
        125.0,
        50.0,
        20.0,
        10.0,
    )
    assert (p.platform_hours, p.platform_capex_usd, p.horizon_years) == (10.0, 500_000.0, 1.0)


def test_toil_params_is_frozen_and_stores_floats() -> None:
    p = ToilParams(alert_hours=40)
    assert type(p.alert_hours) is float
    assert p == ToilParams(alert_hours=40.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.alert_hours = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ToilParams)])
@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "10", None, True])
def test_toil_params_rejects_bad_fields(field: str, bad) -> None:
    with pytest.raises(ValueError, match=field):
        ToilParams(**{field: bad})


def test_toil_params_rejects_zero_horizon_but_allows_zero_costs() -> None:
    with pytest.raises(ValueError, match="horizon_years"):
        ToilParams(horizon_years=0.0)
    ToilParams(hourly_cost_usd=0, platform_capex_usd=0, alert_hours=0)  # no error


# --- toil hours ---------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 2, 4, 6, 10])
@pytest.mark.parametrize("h", [0.0, 0.3, 250 / 380, 1.0])
def test_manual_hours_match_exact_fractions_at_powers_of_two(k: int, h: float) -> None:
    params = ToilParams(alert_hours=37.5, deploy_hours=12.25, dependency_hours=3.0)
    expected = _manual_hours_exact_pow2(k, h, params)
    # One float rounding per term and sum: 1e-14 relative is ample.
    assert math.isclose(manual_toil_hours(2**k, h, params), float(expected), rel_tol=1e-14)


@pytest.mark.parametrize("n", [3, 7, 29, 100])
def test_manual_hours_match_plain_loop(n: int) -> None:
    h = 0.4
    expected = _manual_hours_loop(n, h, ToilParams())
    # The loop adds up to ~5,000 terms: its own rounding is below 1e-12 relative.
    assert math.isclose(manual_toil_hours(n, h), expected, rel_tol=1e-12)


def test_spec_example_values_by_hand() -> None:
    # N = 16, h = 0.5, defaults: 50*16 + 20*16*4 + 10*0.5*120 = 800 + 1280 + 600 = 2680 h.
    assert manual_toil_hours(16, 0.5) == 2680.0
    assert manual_toil_usd(16, 0.5) == 2680.0 * 125.0
    # Platform at N = 30: 500,000 + 10*30*125 = 537,500 $.
    assert platform_toil_hours(30) == 300.0
    assert platform_cost_usd(30) == 537_500.0
    assert platform_roi_usd(16, 0.5) == 335_000.0 - 520_000.0


def test_zero_models_is_zero_toil_everywhere() -> None:
    # Spec: N = 0 gives 0 (N log2 N taken as 0); the platform still costs its CapEx.
    assert manual_toil_hours(0, 1.0) == 0.0
    breakdown = manual_toil_breakdown_hours(0, 1.0)
    assert (breakdown.alerts_hours, breakdown.deploy_hours, breakdown.dependency_hours) == (
        0.0,
        0.0,
        0.0,
    )
    assert platform_toil_hours(0) == 0.0
    assert platform_cost_usd(0) == 500_000.0
    assert not np.any(np.isnan(manual_toil_hours(np.array([0.0, 1.0]), 0.5)))


def test_one_model_has_no_deploy_log_or_pair_term() -> None:
    # log2 1 = 0 and there is no pair: only the alert term remains.
    assert manual_toil_hours(1, 1.0) == 50.0


def test_non_integer_fleet_size_is_continuous() -> None:
    # N = 2.5: 50*2.5 + 20*2.5*log2(2.5) + 10*0.2*2.5*1.5/2 (plain floats by hand).
    expected = 125.0 + 50.0 * math.log2(2.5) + 3.75
    assert math.isclose(manual_toil_hours(2.5, 0.2), expected, rel_tol=1e-15)


def test_breakdown_terms_and_total() -> None:
    b = manual_toil_breakdown_hours(64, 0.25)
    assert isinstance(b, ToilBreakdown)
    # By hand: 50*64; 20*64*6; 10*0.25*64*63/2.
    assert (b.alerts_hours, b.deploy_hours, b.dependency_hours) == (3200.0, 7680.0, 5040.0)
    assert b.total_hours == 15920.0 == manual_toil_hours(64, 0.25)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.alerts_hours = 0.0  # type: ignore[misc]


def test_vectorised_shape_and_values_match_scalars() -> None:
    n = np.array([[0.0, 1.0, 2.0], [10.0, 29.5, 100.0]])
    out = manual_toil_hours(n, 0.7)
    assert isinstance(out, np.ndarray) and out.shape == n.shape
    for value, expected_n in zip(out.ravel(), n.ravel(), strict=True):
        assert value == manual_toil_hours(float(expected_n), 0.7)
    for func in (platform_toil_hours, platform_cost_usd):
        assert func(n).shape == n.shape
    for func in (manual_toil_usd, platform_roi_usd):
        assert func(n, 0.7).shape == n.shape
    b = manual_toil_breakdown_hours([1, 2, 4], 1.0)
    np.testing.assert_array_equal(b.total_hours, manual_toil_hours([1, 2, 4], 1.0))


def test_scalar_in_gives_python_float_out() -> None:
    for n in (5, 5.0, np.float64(5.0), np.int64(5)):
        for value in (
            manual_toil_hours(n, 0.5),
            platform_toil_hours(n),
            manual_toil_usd(n, 0.5),
            platform_cost_usd(n),
            platform_roi_usd(n, 0.5),
            manual_toil_breakdown_hours(n, 0.5).deploy_hours,
        ):
            assert type(value) is float


def test_costs_scale_with_horizon_but_capex_does_not() -> None:
    # Spec: toil dollars x horizon_years; the CapEx counted once.
    three = ToilParams(horizon_years=3.0)
    assert manual_toil_usd(16, 0.5, three) == 3 * manual_toil_usd(16, 0.5)
    assert platform_cost_usd(30, three) == 500_000.0 + 3 * 37_500.0


# --- break-even -------------------------------------------------------------------------


def test_default_break_even_runs_29_to_19() -> None:
    # Spec: "about 29 models at h = 0 to about 19 at h = 1". The continuous roots are
    # 29.13 and 18.75; the smallest whole fleets with ROI > 0 are 30 and 19.
    assert break_even_models(0.0) == _break_even_by_scan(0.0, ToilParams(), 100) == 30
    assert break_even_models(1.0) == _break_even_by_scan(1.0, ToilParams(), 100) == 19
    assert 29.0 < break_even_point(0.0) < 29.2
    assert 18.7 < break_even_point(1.0) < 18.8


@pytest.mark.parametrize("h", [0.0, 0.25, 0.5, 250 / 380, 1.0])
def test_break_even_integer_is_first_positive_roi_plain_loop(h: float) -> None:
    n_star = break_even_models(h)
    assert n_star is not None
    # Plain-float ROI, independent of the vectorised code: positive at N*, not at N* - 1.
    assert _roi_plain(n_star, h, ToilParams()) > 0
    assert _roi_plain(n_star - 1, h, ToilParams()) <= 0


def test_exact_tie_is_not_break_even() -> None:
    # Spec: alert 90, deploy 40, dependency 0, platform 0, h = 0: tie at 16, answer 17.
    # Exact: ROI(16) = 125 * (90*16 + 40*16*4) - 500,000 = 0.
    assert 125 * (90 * 16 + 40 * 16 * 4) - 500_000 == 0
    # ROI(17) > 0 exactly, because log2 17 > 4: 125 * (90*17 + 40*17*4) > 500,000 already.
    assert 125 * (90 * 17 + 40 * 17 * 4) - 500_000 > 0
    assert platform_roi_usd(16, 0.0, TIE) == 0.0
    assert break_even_models(0.0, TIE) == 17
    assert math.ceil(break_even_point(0.0, TIE)) in (16, 17)  # ceil(root) alone is unsafe


def test_break_even_at_one_model() -> None:
    # No CapEx and less platform upkeep than alert work: the platform pays from N = 1.
    cheap = ToilParams(platform_capex_usd=0, platform_hours=5)
    assert break_even_models(0.0, cheap) == 1
    assert break_even_point(0.0, cheap) == 1.0
    # ROI(1) = 125 * (10 - 10) - 0 = 0 exactly: point 1.0, but the first ROI > 0 is N = 2.
    even = ToilParams(platform_capex_usd=0, alert_hours=10, platform_hours=10)
    assert platform_roi_usd(1, 0.0, even) == 0.0
    assert break_even_point(0.0, even) == 1.0
    assert break_even_models(0.0, even) == 2


def test_no_break_even_returns_none() -> None:
    # ROI identically 0 (nothing costs anything): never strictly cheaper.
    zero = ToilParams(
        alert_hours=0, deploy_hours=0, dependency_hours=0, platform_hours=0, platform_capex_usd=0
    )
    assert break_even_models(1.0, zero) is None
    # Free engineers: manual toil costs nothing, the CapEx never pays back.
    free = ToilParams(hourly_cost_usd=0)
    assert break_even_models(1.0, free) is None
    assert break_even_point(1.0, free) is None
    # Break-even at 30 (h = 0): not reached below it.
    assert break_even_models(0.0, n_max=29) is None
    assert break_even_models(0.0, n_max=30) == 30
    assert break_even_point(0.0, n_max=29) is None


def test_break_even_point_is_a_root() -> None:
    root = break_even_point(0.5)
    assert root is not None
    # ROI changes sign across the root, checked with the plain-float formula.
    assert (
        _roi_plain(root - 1e-6, 0.5, ToilParams()) < 0 < _roi_plain(root + 1e-6, 0.5, ToilParams())
    )


@settings(max_examples=60, deadline=None)
@given(params_strategy, st.floats(0, 1), st.floats(0, 1))
def test_break_even_non_increasing_in_heterogeneity(params: ToilParams, h1: float, h2: float):
    # More cross-type pairs, more toil: the platform pays off no later.
    lo, hi = sorted((h1, h2))
    n_lo = break_even_models(lo, params, n_max=5_000)
    n_hi = break_even_models(hi, params, n_max=5_000)
    if n_lo is not None:
        assert n_hi is not None and n_hi <= n_lo
    p_lo = break_even_point(lo, params, n_max=5_000)
    p_hi = break_even_point(hi, params, n_max=5_000)
    if p_lo is not None:
        assert p_hi is not None and p_hi <= p_lo + 1e-9 * p_lo


@settings(max_examples=60, deadline=None)
@given(params_strategy, st.sampled_from([0.0, 0.1, 0.5, 1.0]))
def test_break_even_matches_plain_scan(params: ToilParams, h: float) -> None:
    # Reference: the first N in 1..2000 with plain-float ROI > 0.
    assert break_even_models(h, params, n_max=2_000) == _break_even_by_scan(h, params, 2_000)


@settings(max_examples=60, deadline=None)
@given(params_strategy, st.floats(0, 1))
def test_roi_is_convex_for_n_at_least_one(params: ToilParams, h: float) -> None:
    # Second differences on N >= 1 (integer and half-integer grids) are >= 0, up to
    # rounding: the tolerance is 1e-12 of the largest |ROI| involved.
    for step in (1.0, 0.5):
        n = np.arange(1.0, 400.0, step)
        roi = platform_roi_usd(n, h, params)
        second = roi[:-2] - 2 * roi[1:-1] + roi[2:]
        assert np.all(second >= -1e-12 * np.max(np.abs(roi)))


# --- bad input ----------------------------------------------------------------------------

BAD_N = [-1, 0.5, 1e-9, float("nan"), float("inf"), "10", None, True, [1, 0.5], [[2, -3]]]
BAD_H = [-0.1, 1.1, float("nan"), float("inf"), "0.5", None]


@pytest.mark.parametrize("bad", BAD_N)
def test_bad_n_models(bad) -> None:
    for call in (
        lambda: manual_toil_hours(bad, 0.5),
        lambda: manual_toil_breakdown_hours(bad, 0.5),
        lambda: platform_toil_hours(bad),
        lambda: manual_toil_usd(bad, 0.5),
        lambda: platform_cost_usd(bad),
        lambda: platform_roi_usd(bad, 0.5),
    ):
        with pytest.raises(ValueError, match="n_models"):
            call()


@pytest.mark.parametrize("bad", BAD_H)
def test_bad_heterogeneity(bad) -> None:
    for call in (
        lambda: manual_toil_hours(10, bad),
        lambda: manual_toil_breakdown_hours(10, bad),
        lambda: manual_toil_usd(10, bad),
        lambda: platform_roi_usd(10, bad),
        lambda: break_even_models(bad),
        lambda: break_even_point(bad),
    ):
        with pytest.raises(ValueError, match="heterogeneity"):
            call()


@pytest.mark.parametrize("bad", [None, "defaults", {"alert_hours": 1.0}])
def test_bad_params(bad) -> None:
    for call in (
        lambda: manual_toil_hours(10, 0.5, bad),
        lambda: manual_toil_breakdown_hours(10, 0.5, bad),
        lambda: platform_toil_hours(10, bad),
        lambda: manual_toil_usd(10, 0.5, bad),
        lambda: platform_cost_usd(10, bad),
        lambda: platform_roi_usd(10, 0.5, bad),
        lambda: break_even_models(0.5, bad),
        lambda: break_even_point(0.5, bad),
    ):
        with pytest.raises(ValueError, match="params"):
            call()


@pytest.mark.parametrize("bad", [0, -5, 1.5, float("nan"), float("inf"), "100", None])
def test_bad_n_max_models(bad) -> None:
    with pytest.raises(ValueError, match="n_max"):
        break_even_models(0.5, n_max=bad)


@pytest.mark.parametrize("bad", [0.5, -5, float("nan"), float("inf"), "100", None])
def test_bad_n_max_point(bad) -> None:
    with pytest.raises(ValueError, match="n_max"):
        break_even_point(0.5, n_max=bad)
