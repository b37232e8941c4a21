"""Tests of opsmodel.bounds: one-sided Clopper-Pearson bounds and zero-failure confidence.

Independent references: the bounds' defining equations solved with ``scipy.optimize.brentq``
on ``scipy.stats.binom`` (``P(X <= k | n, p_u) = 1 - C`` and ``P(X >= k | n, p_l) = 1 - C``),
the closed form ``1 - (1 - C)**(1/n)`` at k = 0, the spec's Edge Guardian numbers
(n = 1,000, C = 0.95: promote for k <= 4, roll back for k >= 16), and exact ``Fraction``
powers for ``1 - (1 - p)**n``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import binom

from opsmodel.bounds import clopper_pearson_lower, clopper_pearson_upper, zero_failure_confidence
from opsmodel.sample_size import zero_failure_sample_size


def _upper_by_root(k: int, n: int, c: float) -> float:
    """Solve binom.cdf(k, n, p) = 1 - c for p (the CDF falls in p)."""
    return brentq(lambda p: binom.cdf(k, n, p) - (1 - c), 1e-300, 1.0, xtol=1e-300, rtol=1e-14)


def _lower_by_root(k: int, n: int, c: float) -> float:
    """Solve P(X >= k) = binom.sf(k - 1, n, p) = 1 - c for p (the tail rises in p)."""
    return brentq(lambda p: binom.sf(k - 1, n, p) - (1 - c), 1e-300, 1.0, xtol=1e-300, rtol=1e-14)


CASES = [(0, 10, 0.95), (1, 10, 0.9), (3, 50, 0.95), (7, 3024, 0.95), (0, 2995, 0.95),
         (15, 1000, 0.99), (499, 1000, 0.8), (9, 10, 0.95)]  # fmt: skip


@pytest.mark.parametrize(("k", "n", "c"), CASES)
def test_upper_solves_the_binomial_tail_equation(k: int, n: int, c: float) -> None:
    # brentq and beta.ppf agree to ~1e-10 relative (both near machine precision).
    assert math.isclose(clopper_pearson_upper(k, n, c), _upper_by_root(k, n, c), rel_tol=1e-9)


@pytest.mark.parametrize(("k", "n", "c"), [(k, n, c) for k, n, c in CASES if k > 0])
def test_lower_solves_the_binomial_tail_equation(k: int, n: int, c: float) -> None:
    assert math.isclose(clopper_pearson_lower(k, n, c), _lower_by_root(k, n, c), rel_tol=1e-9)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5000), st.floats(0.5, 0.9999))
def test_upper_at_zero_failures_has_closed_form(n: int, c: float) -> None:
    # k = 0: (1 - p)^n = 1 - C, so p = 1 - (1 - C)^(1/n), computed stably.
    expected = -math.expm1(math.log1p(-c) / n)
    assert math.isclose(clopper_pearson_upper(0, n, c), expected, rel_tol=1e-10)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 500), st.data(), st.floats(0.5, 0.999))
def test_lower_below_upper_and_both_in_unit_interval(n: int, data, c: float) -> None:
    k = data.draw(st.integers(0, n))
    lo, hi = clopper_pearson_lower(k, n, c), clopper_pearson_upper(k, n, c)
    assert 0.0 <= lo < hi <= 1.0
    assert lo <= k / n <= hi


def test_edge_cases_all_failed_no_failure_no_data() -> None:
    # Spec: upper is 1.0 when k = n; lower is 0.0 when k = 0. n = 0 is both: [0, 1].
    assert clopper_pearson_upper(5, 5, 0.95) == 1.0
    assert clopper_pearson_lower(0, 1000, 0.95) == 0.0
    assert clopper_pearson_upper(0, 0, 0.95) == 1.0
    assert clopper_pearson_lower(0, 0, 0.95) == 0.0
    # k = n > 0: lower = (1 - C)^(1/n) by the mirror closed form.
    assert math.isclose(clopper_pearson_lower(5, 5, 0.95), 0.05 ** (1 / 5), rel_tol=1e-12)


def test_edge_guardian_decision_thresholds() -> None:
    # Spec: n = 1,000, C = 0.95: promote for k <= 4, roll back for k >= 16 (budget 1%).
    assert clopper_pearson_upper(4, 1000, 0.95) <= 0.01 < clopper_pearson_upper(5, 1000, 0.95)
    assert clopper_pearson_lower(15, 1000, 0.95) <= 0.01 < clopper_pearson_lower(16, 1000, 0.95)


def test_returns_python_floats() -> None:
    assert type(clopper_pearson_upper(3, 100, 0.9)) is float
    assert type(clopper_pearson_lower(3, 100, 0.9)) is float


# --- zero-failure confidence -----------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), [(2995, "0.001"), (1, "0.5"), (10, "0.1"), (700, "0.003")])
def test_zero_failure_confidence_matches_exact_fractions(n: int, p: str) -> None:
    # Reference: 1 - (1 - p)^n in exact rationals of float(p) (the value the code sees).
    expected = 1 - (1 - Fraction(float(p))) ** n
    assert math.isclose(zero_failure_confidence(n, float(p)), float(expected), rel_tol=1e-13)


def test_zero_failure_confidence_accurate_for_tiny_p() -> None:
    # p = 1e-12, n = 1: exactly p. The naive 1 - (1 - p) gives 1.000088900582341e-12.
    assert math.isclose(zero_failure_confidence(1, 1e-12), 1e-12, rel_tol=1e-15)
    assert not math.isclose(1 - (1 - 1e-12), 1e-12, rel_tol=1e-6)


def test_zero_failure_confidence_at_zero_requests_is_plus_zero() -> None:
    value = zero_failure_confidence(0, 0.01)
    assert value == 0.0 and math.copysign(1.0, value) == 1.0


def test_zero_failure_confidence_vectorised() -> None:
    n = np.array([[0, 1], [2, 3]])
    out = zero_failure_confidence(n, 0.5)
    # By hand: 1 - 0.5^n.
    np.testing.assert_allclose(out, [[0.0, 0.5], [0.75, 0.875]], rtol=1e-15)
    assert out.shape == (2, 2)
    assert type(zero_failure_confidence(3, 0.5)) is float


@settings(max_examples=80, deadline=None)
@given(st.floats(1e-6, 0.5), st.floats(0.5, 0.999))
def test_zero_failure_confidence_inverts_sample_size(p: float, c: float) -> None:
    # The sample size is the first n whose confidence reaches C, up to the spec's 1e-9
    # integer snap: n >= r (1 - 1e-9) allows (1 - p)^n up to (1 - C)(1 + 1e-9 |ln(1 - C)|),
    # and |ln(1 - C)| < 7 here, so a slack of 1e-8 (1 - C) covers it.
    n = zero_failure_sample_size(p, c)
    slack = 1e-8 * (1 - c)
    assert zero_failure_confidence(n, p) >= c - slack
    if n > 1:
        assert zero_failure_confidence(n - 1, p) < c + slack


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), float("inf"), "1", None, True, 11])
def test_bad_failures(bad) -> None:
    for func in (clopper_pearson_upper, clopper_pearson_lower):
        with pytest.raises(ValueError, match="failures"):
            func(bad, 10, 0.95)


@pytest.mark.parametrize("bad", [-1, 2.5, float("nan"), float("inf"), "10", None, True])
def test_bad_n(bad) -> None:
    for func in (clopper_pearson_upper, clopper_pearson_lower):
        with pytest.raises(ValueError, match=r"^n must"):
            func(0, bad, 0.95)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.5, float("nan"), float("inf"), "0.95", None])
def test_bad_confidence(bad) -> None:
    for func in (clopper_pearson_upper, clopper_pearson_lower):
        with pytest.raises(ValueError, match="confidence"):
            func(1, 10, bad)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "5", None, [1, -1], True])
def test_bad_n_requests(bad) -> None:
    with pytest.raises(ValueError, match="n_requests"):
        zero_failure_confidence(bad, 0.01)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, float("nan"), "0.01", None])
def test_bad_p_max(bad) -> None:
    with pytest.raises(ValueError, match="p_max"):
        zero_failure_confidence(10, bad)
