"""Tests of opsmodel.sample_size: zero-failure and failure-tolerant sample sizes.

Independent references: the spec's worked numbers (2,995 at p = 0.001, C = 0.95; 2 at
p = 0.99, C = 0.9999), exact big-integer / ``Fraction`` arithmetic on the decimal inputs
(``(1 - p)**n <= 1 - C`` decided without rounding), and a brute-force linear scan of
``scipy.stats.binom.cdf`` (and exact binomial sums) for the failure-tolerant size.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from opsmodel.sample_size import failure_tolerant_sample_size, zero_failure_sample_size


def _zero_failure_holds(p: Fraction, c: Fraction, n: int) -> bool:
    """(1 - p)**n <= 1 - c, exactly."""
    return (1 - p) ** n <= 1 - c


def _binom_cdf_exact(k: int, n: int, p: Fraction) -> Fraction:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))


# --- zero failures -------------------------------------------------------------------------


def test_spec_worked_numbers() -> None:
    # Spec: C = 0.95, p = 0.001 needs 2,995 (the rule of three, 3/p, says 3,000).
    assert zero_failure_sample_size(0.001, 0.95) == 2995
    # Spec: p = 0.99, C = 0.9999 needs 2: (0.01)^2 = 0.0001 exactly in decimals.
    assert zero_failure_sample_size(0.99, 0.9999) == 2


def test_naive_ceiling_is_wrong_at_the_exact_boundary() -> None:
    # The trap the integer snap avoids: the float ratio lands just above 2.
    assert math.ceil(math.log(1 - 0.9999) / math.log(1 - 0.99)) == 3
    assert _zero_failure_holds(Fraction("0.99"), Fraction("0.9999"), 2)  # exact: 2 suffices


@pytest.mark.parametrize(
    ("p", "c"),
    [("0.5", "0.75"), ("0.5", "0.875"), ("0.9", "0.999"), ("0.1", "0.19"), ("0.2", "0.36")],
)
def test_exact_decimal_ties_snap_to_the_integer(p: str, c: str) -> None:
    # (1 - p)^n == 1 - c exactly at n = 2 or 3: the tie itself is enough.
    pf, cf = Fraction(p), Fraction(c)
    n = zero_failure_sample_size(float(p), float(c))
    assert _zero_failure_holds(pf, cf, n)
    assert n == 1 or not _zero_failure_holds(pf, cf, n - 1)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 999), st.integers(1, 9999))
def test_matches_exact_decimal_arithmetic(p_milli: int, c_tenthousandths: int) -> None:
    # Reference: the decimal inputs as exact Fractions; the answer n satisfies the
    # inequality exactly and n - 1 does not.
    p = Fraction(p_milli, 1000)
    c = Fraction(c_tenthousandths, 10_000)
    n = zero_failure_sample_size(p_milli / 1000, c_tenthousandths / 10_000)
    assert n >= 1
    assert _zero_failure_holds(p, c, n)
    assert n == 1 or not _zero_failure_holds(p, c, n - 1)


def test_rule_of_three_neighbourhood() -> None:
    # For small p the 95% size approaches 3/p from below: -ln(0.05) = 2.9957.
    for p in (1e-3, 1e-4, 1e-6):
        n = zero_failure_sample_size(p, 0.95)
        assert 2.99 / p < n <= 3.0 / p


def test_tiny_p_uses_accurate_logs() -> None:
    # p = 1e-12: 1 - p rounds (relative error ~1e-4 in log(1 - p)), log1p does not.
    # Reference r = -ln(1 - C) / -ln(1 - p) with -ln(1 - p) = p (1 + p/2 + ...):
    # r = 2,995,732,273,552.49. Naive logs would miss by about 3e8.
    r = -math.log1p(-0.95) / (1e-12 * (1 + 1e-12 / 2))
    n = zero_failure_sample_size(1e-12, 0.95)
    # The spec's snap is relative (1e-9 of r, here about 3,000 requests), so for r above
    # ~5e8 it rounds to the nearest integer: 2,995,732,273,552, one below ceil(r).
    assert n == round(r)
    assert abs(n - r) <= 1e-9 * r


@settings(max_examples=100, deadline=None)
@given(
    st.floats(1e-6, 0.999),
    st.floats(0.01, 0.9999),
    st.floats(0.01, 0.9999),
)
def test_non_decreasing_in_confidence(p: float, c1: float, c2: float) -> None:
    lo, hi = sorted((c1, c2))
    assert zero_failure_sample_size(p, lo) <= zero_failure_sample_size(p, hi)


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-6, 0.999), st.floats(1e-6, 0.999), st.floats(0.01, 0.9999))
def test_non_increasing_in_p_max(p1: float, p2: float, c: float) -> None:
    lo, hi = sorted((p1, p2))
    assert zero_failure_sample_size(lo, c) >= zero_failure_sample_size(hi, c)


# --- failure tolerant ------------------------------------------------------------------------


def test_one_failure_example() -> None:
    # Reference: scipy's binomial CDF at the answer and one below it.
    n = failure_tolerant_sample_size(0.001, 0.95, 1)
    assert n == 4742
    assert binom.cdf(1, 4742, 0.001) <= 0.05 < binom.cdf(1, 4741, 0.001)


@pytest.mark.parametrize(("p", "c"), [(0.001, 0.95), (0.99, 0.9999), (1e-9, 0.5), (0.3, 0.01)])
def test_zero_failures_agrees_with_zero_failure_rule(p: float, c: float) -> None:
    assert failure_tolerant_sample_size(p, c, 0) == zero_failure_sample_size(p, c)


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-9, 0.999), st.floats(1e-3, 0.99999))
def test_zero_failures_agrees_everywhere(p: float, c: float) -> None:
    assert failure_tolerant_sample_size(p, c, 0) == zero_failure_sample_size(p, c)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 0.3), st.floats(0.5, 0.999), st.integers(1, 6))
def test_matches_linear_scan_of_scipy_cdf(p: float, c: float, k: int) -> None:
    # Reference: walk n = k+1, k+2, ... until binom.cdf(k, n, p) <= 1 - c.
    n = k + 1
    while binom.cdf(k, n, p) > 1 - c:
        n += 1
    assert failure_tolerant_sample_size(p, c, k) == n


@settings(max_examples=40, deadline=None)
@given(st.integers(5, 40), st.integers(50, 99), st.integers(1, 3))
def test_matches_exact_binomial_sums(p_percent: int, c_percent: int, k: int) -> None:
    # Reference: exact CDF in Fractions of the decimal inputs. Exact ties (CDF == 1 - C
    # at the answer or one below) are left out: there the float comparison is a coin toss.
    p, c = Fraction(p_percent, 100), Fraction(c_percent, 100)
    n = failure_tolerant_sample_size(p_percent / 100, c_percent / 100, k)
    assume(_binom_cdf_exact(k, n, p) != 1 - c and _binom_cdf_exact(k, n - 1, p) != 1 - c)
    assert _binom_cdf_exact(k, n, p) <= 1 - c < _binom_cdf_exact(k, n - 1, p)


def test_large_sample_sizes_are_bracketed() -> None:
    # p = 1e-7, C = 0.99, k = 3: n in the hundred millions; verified at n and n - 1.
    n = failure_tolerant_sample_size(1e-7, 0.99, 3)
    assert binom.cdf(3, n, 1e-7) <= 0.01 < binom.cdf(3, n - 1, 1e-7)
    assert 10**8 < n < 10**9


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 0.5), st.floats(0.05, 0.999), st.floats(0.05, 0.999), st.integers(0, 5))
def test_tolerant_non_decreasing_in_confidence(p: float, c1: float, c2: float, k: int) -> None:
    lo, hi = sorted((c1, c2))
    assert failure_tolerant_sample_size(p, lo, k) <= failure_tolerant_sample_size(p, hi, k)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 0.5), st.floats(1e-4, 0.5), st.floats(0.05, 0.999), st.integers(0, 5))
def test_tolerant_non_increasing_in_p_max(p1: float, p2: float, c: float, k: int) -> None:
    lo, hi = sorted((p1, p2))
    assert failure_tolerant_sample_size(lo, c, k) >= failure_tolerant_sample_size(hi, c, k)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 0.5), st.floats(0.05, 0.999), st.integers(0, 8))
def test_more_failures_allowed_needs_more_requests(p: float, c: float, k: int) -> None:
    assert failure_tolerant_sample_size(p, c, k) < failure_tolerant_sample_size(p, c, k + 1)


# --- bad input ---------------------------------------------------------------------------------

BAD_PROB = [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf"), "0.1", None, True]


@pytest.mark.parametrize("bad", BAD_PROB)
def test_bad_p_max(bad) -> None:
    with pytest.raises(ValueError, match="p_max"):
        zero_failure_sample_size(bad, 0.95)
    with pytest.raises(ValueError, match="p_max"):
        failure_tolerant_sample_size(bad, 0.95, 1)


@pytest.mark.parametrize("bad", BAD_PROB)
def test_bad_confidence(bad) -> None:
    with pytest.raises(ValueError, match="confidence"):
        zero_failure_sample_size(0.01, bad)
    with pytest.raises(ValueError, match="confidence"):
        failure_tolerant_sample_size(0.01, bad, 1)


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), float("inf"), "2", None, True])
def test_bad_max_failures(bad) -> None:
    with pytest.raises(ValueError, match="max_failures"):
        failure_tolerant_sample_size(0.01, 0.95, bad)
