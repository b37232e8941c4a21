"""Tests of opsmodel.sprt: Wald's SPRT boundaries, LLR, decisions, simulation, fixed n.

Independent references: the closed-form boundaries (ln 16 and ln(0.2/0.95) for the spec's
alpha = 0.05, beta = 0.20), the LLR written with ``math.log`` of ratios (the code uses
``log1p``), a plain request-by-request walk with ``sprt_decision``, the *exact* operating
characteristics by dynamic programming over (requests, failures) (the spec's mean sample
numbers 1,547 under H0 and 1,702 under H1), the same exact characteristics by a dynamic
programme over failures (fast enough for Edge Guardian's millions of requests), Wald's
likelihood-ratio bounds on the error rates, and a brute-force scan over n of the exact
binomial test for the fixed sample size (the spec's 3,024).
"""

from __future__ import annotations

import dataclasses
import math
import time
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter
from scipy.stats import binom

from opsmodel.sprt import (
    SPRTBoundaries,
    SPRTSimulation,
    fixed_n_for_errors,
    sprt_boundaries,
    sprt_decision,
    sprt_default_horizon,
    sprt_llr,
    sprt_simulate,
)
from opsmodel.tracks import TRACKS

P0, P1 = 0.001, 0.003
ALPHA, BETA = 0.05, 0.20
#: Monte Carlo runs of the per-track tests, and the band in standard errors: 4.5 SE is a
#: two-sided miss of about 7e-6 per comparison, so some thirty comparisons stay far from a
#: false alarm while a real bias of a few SE would show.
RUNS = 100_000
Z = 4.5


def _llr_plain(d: int, n: int, p0: float, p1: float) -> float:
    """The spec's LLR with math.log of the ratios."""
    return d * math.log(p1 / p0) + (n - d) * math.log((1 - p1) / (1 - p0))


def _exact_operating_characteristics(
    p: float, p0: float, p1: float, alpha: float, beta: float
) -> tuple[float, float, float]:
    """(mean sample number, its standard deviation, rollback probability), exactly.

    Dynamic programming over the failure count of the runs still undecided after n
    requests, until less than 1e-15 of the probability mass is left.
    """
    log_a = math.log((1 - beta) / alpha)
    log_b = math.log(beta / (1 - alpha))
    alive = {0: 1.0}
    first = second = rollback = 0.0
    n = 0
    while sum(alive.values()) > 1e-15:
        n += 1
        moved: dict[int, float] = {}
        for d, mass in alive.items():
            moved[d + 1] = moved.get(d + 1, 0.0) + mass * p
            moved[d] = moved.get(d, 0.0) + mass * (1 - p)
        alive = {}
        for d, mass in moved.items():
            llr = _llr_plain(d, n, p0, p1)
            if llr >= log_a or llr <= log_b:
                first += n * mass
                second += n * n * mass
                rollback += mass if llr >= log_a else 0.0
            else:
                alive[d] = mass
    return first, math.sqrt(second - first * first), rollback


@cache
def _exact_by_failures(
    p: float, p0: float, p1: float, alpha: float = ALPHA, beta: float = BETA
) -> tuple[float, float, float, float]:
    """(mean sample number, its sd, rollback probability, mass left), exactly, per failure.

    Between failures the LLR only falls, so with d failures the test is alive on the
    requests n up to ``hi(d)``, the last n with LLR(d, n) > log_b, and promotes at
    ``hi(d) + 1`` if no failure comes first; a failure can only roll back. ``q[k]`` is the
    probability that the d-th failure came at request ``start + k`` with the test still
    running. The chance of the next failure at m > n is ``q(n) (1 - p)**(m - n - 1) p``,
    a geometric convolution, i.e. the recursion ``u(m) = (1 - p) u(m - 1) + q(m - 1)``
    (``scipy.signal.lfilter``). Works on the failure count, so Edge Guardian's millions of
    requests take a few dozen steps. Boundaries are found with the plain ``math.log`` LLR,
    independently of the module's ``log1p`` form.
    """
    log_a = math.log((1 - beta) / alpha)
    log_b = math.log(beta / (1 - alpha))
    g1 = math.log(p1 / p0)
    s = math.log((1 - p1) / (1 - p0))

    def llr(d: int, n: int) -> float:
        return d * g1 + (n - d) * s

    def last_alive(d: int) -> int:  # largest n >= d with LLR(d, n) > log_b
        n = max(d, d + math.floor((log_b - d * g1) / s))
        while llr(d, n + 1) > log_b:
            n += 1
        while llr(d, n) <= log_b:
            n -= 1
        return n

    def last_rollback(d: int) -> int:  # largest m >= d with LLR(d, m) >= log_a, or d - 1
        if llr(d, d) < log_a:
            return d - 1
        m = d + math.floor((log_a - d * g1) / s)
        while llr(d, m + 1) >= log_a:
            m += 1
        while m >= d and llr(d, m) < log_a:
            m -= 1
        return m

    start, q, d = 0, np.array([1.0]), 0
    first = second = rollback = 0.0
    while q.sum() > 1e-13:
        hi = last_alive(d)
        q = np.concatenate([q, np.zeros(hi - (start + q.size - 1))])
        u = lfilter([1.0], [1.0, -(1.0 - p)], q)  # u[k]: request start + k + 1
        promote_mass = (1.0 - p) * u[-1]  # no failure up to hi + 1
        first += (hi + 1) * promote_mass
        second += (hi + 1) ** 2 * promote_mass
        u *= p  # the (d + 1)-th failure at request start + k + 1
        cut = max(0, min(u.size, last_rollback(d + 1) - start))
        if cut:
            at = np.arange(start + 1, start + 1 + cut, dtype=float)
            rollback += u[:cut].sum()
            first += at @ u[:cut]
            second += (at**2) @ u[:cut]
        q, start, d = u[cut:], start + 1 + cut, d + 1
    return first, math.sqrt(second - first * first), rollback, float(q.sum())


def _wald_bands(p0: float, p1: float, alpha: float = ALPHA, beta: float = BETA):
    """Bounds on the true rollback probabilities at p0 and at p1 (Wald's identity).

    At a rollback the LLR lies in [log_a, log_a + ln(p1/p0)) (it jumps by one failure
    step past the boundary); at a promotion in (log_b + ln((1-p1)/(1-p0)), log_b]. Changing
    the measure, ``alpha' = E1[exp(-LLR); rollback]`` and ``beta' = E0[exp(LLR); promote]``,
    so with A = (1 - beta)/alpha and B = beta/(1 - alpha):

    - ``(1 - beta') / (A p1/p0) < alpha' <= (1 - beta') / A <= alpha / (1 - beta)``;
    - ``(1 - alpha') B (1-p1)/(1-p0) < beta' <= (1 - alpha') B <= beta / (1 - alpha)``.

    Using the outer bounds of the other error gives bands for each rate alone:
    (low, high) for the rollback probability at p0 (alpha') and at p1 (1 - beta').
    """
    a_inv, b = alpha / (1 - beta), beta / (1 - alpha)
    beta_hi = b
    alpha_hi = a_inv
    beta_lo = (1 - alpha_hi) * b * (1 - p1) / (1 - p0)
    alpha_lo = (1 - beta_hi) * a_inv * p0 / p1
    return (alpha_lo, alpha_hi), (1 - beta_hi, 1 - beta_lo)


# --- boundaries ---------------------------------------------------------------------------------


def test_spec_boundaries() -> None:
    b = sprt_boundaries(P0, P1)
    assert isinstance(b, SPRTBoundaries)
    # Spec: log_a = 2.772589, log_b = -1.558145; closed forms ln 16 and ln(4/19).
    assert round(b.log_a, 6) == 2.772589
    assert round(b.log_b, 6) == -1.558145
    assert math.isclose(b.log_a, math.log(16), rel_tol=1e-15)
    assert math.isclose(b.log_b, math.log(4 / 19), rel_tol=1e-15)
    assert (b.p0, b.p1, b.alpha, b.beta) == (P0, P1, 0.05, 0.20)


def test_failure_count_lines_closed_form() -> None:
    # d >= slope n + h1 and d <= slope n - h0, from LLR = d (g1 + g0) - n g0.
    b = sprt_boundaries(P0, P1)
    g1 = math.log(P1 / P0)
    g0 = math.log((1 - P0) / (1 - P1))
    assert math.isclose(b.slope, g0 / (g1 + g0), rel_tol=1e-12)
    assert math.isclose(b.h1, math.log(16) / (g1 + g0), rel_tol=1e-12)
    assert math.isclose(b.h0, -math.log(4 / 19) / (g1 + g0), rel_tol=1e-12)
    assert P0 < b.slope < P1  # the lines' slope lies between the two rates
    assert b.rollback_line(1000) == pytest.approx(b.slope * 1000 + b.h1, rel=1e-15)
    np.testing.assert_allclose(b.promote_line(np.array([0, 1000])), [-b.h0, 1000 * b.slope - b.h0])


def test_lines_agree_with_llr_thresholds_away_from_ties() -> None:
    b = sprt_boundaries(P0, P1)
    for n in range(0, 5000, 37):
        for d in range(0, 20):
            if d > n:
                continue
            llr = _llr_plain(d, n, P0, P1)
            if abs(llr - b.log_a) > 1e-9:
                assert (d >= b.rollback_line(n)) == (llr >= b.log_a)
            if abs(llr - b.log_b) > 1e-9:
                assert (d <= b.promote_line(n)) == (llr <= b.log_b)


def test_boundaries_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        sprt_boundaries(P0, P1).log_a = 0.0  # type: ignore[misc]


# --- LLR and decision ---------------------------------------------------------------------------


def _llr_decimal(d: int, n: int, p0: float, p1: float) -> Decimal:
    """The spec's LLR in 40-digit decimal arithmetic on the exact binary inputs."""
    with localcontext() as ctx:
        ctx.prec = 40
        q0, q1 = Decimal(p0), Decimal(p1)
        return d * (q1 / q0).ln() + (n - d) * ((1 - q1) / (1 - q0)).ln()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 100_000), st.data(), st.floats(1e-9, 0.4), st.floats(1.01, 2.4))
def test_llr_matches_high_precision_formula(n: int, data, p0: float, ratio: float) -> None:
    d = data.draw(st.integers(0, min(n, 1000)))
    p1 = p0 * ratio
    expected = _llr_decimal(d, n, p0, p1)
    # Each step is accurate to a few ulps of itself (log1p of a small difference), so the
    # error is bounded by 1e-14 of the sizes of the two terms.
    scale = d * math.log(ratio) + (n - d) * abs(math.log1p(-p0 * (ratio - 1) / (1 - p0)))
    assert abs(Decimal(sprt_llr(d, n, p0, p1)) - expected) <= Decimal(1e-14 * scale + 1e-300)


def test_llr_log1p_beats_naive_log_for_tiny_rates() -> None:
    # At p ~ 1e-9 the naive ln((1 - p1)/(1 - p0)) is off by ~1e-7 relative; log1p is not.
    exact = _llr_decimal(0, 10**6, 1e-9, 2e-9)
    assert abs(Decimal(sprt_llr(0, 10**6, 1e-9, 2e-9)) / exact - 1) < Decimal(1e-13)
    assert abs(Decimal(_llr_plain(0, 10**6, 1e-9, 2e-9)) / exact - 1) > Decimal(1e-9)


def test_llr_vectorised_broadcasts() -> None:
    out = sprt_llr(np.array([[0], [3]]), np.array([1000, 2000]), P0, P1)
    assert out.shape == (2, 2)
    assert math.isclose(out[1, 0], _llr_plain(3, 1000, P0, P1), rel_tol=1e-12)
    assert type(sprt_llr(0, 10, P0, P1)) is float


def test_decision_follows_llr() -> None:
    b = sprt_boundaries(P0, P1)
    assert sprt_decision(0, 0, P0, P1) == "continue"  # LLR = 0 lies between the boundaries
    for n in range(0, 3000, 13):
        for d in range(0, min(n, 12) + 1):
            llr = _llr_plain(d, n, P0, P1)
            if min(abs(llr - b.log_a), abs(llr - b.log_b)) < 1e-9:
                continue  # a float tie: the two formulas may round to either side
            expected = "rollback" if llr >= b.log_a else "promote" if llr <= b.log_b else "continue"
            assert sprt_decision(d, n, P0, P1) == expected


def test_decision_examples() -> None:
    # 3 failures in 200: LLR = 3 ln 3 + 197 ln(0.997/0.999) = 2.90 >= ln 16.
    assert sprt_decision(3, 200, P0, P1) == "rollback"
    # 0 failures in 778: LLR = 778 ln(0.997/0.999) = -1.559 <= -1.558; 777 not yet.
    assert sprt_decision(0, 778, P0, P1) == "promote"
    assert sprt_decision(0, 777, P0, P1) == "continue"


# --- simulation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("p_true", "spec_asn"), [(P0, 1547), (P1, 1702)])
def test_simulation_matches_exact_operating_characteristics(p_true: float, spec_asn: int) -> None:
    mean, sd, rollback = _exact_operating_characteristics(p_true, P0, P1, 0.05, 0.20)
    # Spec: the exact mean sample number is about 1,547 under H0 and 1,702 under H1.
    assert round(mean) == spec_asn
    runs = 100_000
    sim = sprt_simulate(p_true, P0, P1, runs=runs, seed=0)
    # Monte Carlo tolerance: 4.5 standard errors, SE = sd / sqrt(runs) (about 3.6 requests
    # under H0 and 4.2 under H1), and for the rollback rate sqrt(r (1 - r) / runs).
    assert abs(sim.mean_sample_number - mean) <= 4.5 * sd / math.sqrt(runs)
    assert abs(sim.rollback_rate - rollback) <= 4.5 * math.sqrt(rollback * (1 - rollback) / runs)
    assert sim.undecided_rate == 0.0
    assert sim.runs == runs


def test_wald_error_rates_are_conservative() -> None:
    # Overshoot makes the actual errors smaller than the targets (exact DP).
    _, _, type_one = _exact_operating_characteristics(P0, P0, P1, 0.05, 0.20)
    _, _, power = _exact_operating_characteristics(P1, P0, P1, 0.05, 0.20)
    assert type_one < 0.05 and 1 - power < 0.205


def test_never_failing_canary_promotes_where_the_walk_does() -> None:
    # Reference: walk n = 1, 2, ... with sprt_decision until it says promote.
    n = 1
    while sprt_decision(0, n, P0, P1) != "promote":
        n += 1
    sim = sprt_simulate(0.0, P0, P1, runs=1000)
    assert (sim.mean_sample_number, sim.promote_rate) == (float(n), 1.0)


def test_always_failing_canary_rolls_back_where_the_walk_does() -> None:
    n = 1
    while sprt_decision(n, n, P0, P1) != "rollback":
        n += 1
    sim = sprt_simulate(1.0, P0, P1, runs=1000)
    assert (sim.mean_sample_number, sim.rollback_rate) == (float(n), 1.0)  # n = 3


def test_simulation_seeded_and_rates_sum_to_one() -> None:
    a = sprt_simulate(0.002, P0, P1, runs=5000, seed=7)
    b = sprt_simulate(0.002, P0, P1, runs=5000, seed=7)
    c = sprt_simulate(0.002, P0, P1, runs=5000, seed=8)
    assert a == b and a != c
    assert isinstance(a, SPRTSimulation)
    assert math.isclose(a.rollback_rate + a.promote_rate + a.undecided_rate, 1.0)


def test_max_n_leaves_runs_undecided() -> None:
    # Nothing can decide in one request (rollback needs 3 failures, promotion 778 clean).
    sim = sprt_simulate(P0, P0, P1, runs=1000, max_n=1)
    assert (sim.undecided_rate, sim.mean_sample_number) == (1.0, 1.0)
    # Near the slope the walk is slow: some runs run out of 2,000 requests.
    sim = sprt_simulate(0.0018, P0, P1, runs=2000, max_n=2000)
    assert 0.0 < sim.undecided_rate < 1.0
    assert sim.mean_sample_number <= 2000


def test_hundred_thousand_runs_well_under_a_second() -> None:
    start = time.perf_counter()
    sprt_simulate(P1, P0, P1, runs=100_000, seed=1)
    assert time.perf_counter() - start < 1.0  # measured about 0.03 s


# --- every track, with the default arguments ------------------------------------------------------

TRACK_LIST = list(TRACKS.values())


def test_the_failure_dynamic_programme_agrees_with_the_request_one() -> None:
    # Two exact methods, two different recursions: they agree to rounding.
    for p in (P0, P1):
        mean, sd, rollback = _exact_operating_characteristics(p, P0, P1, ALPHA, BETA)
        mean2, sd2, rollback2, left = _exact_by_failures(p, P0, P1)
        assert left < 1e-12
        assert mean2 == pytest.approx(mean, rel=1e-9)
        assert sd2 == pytest.approx(sd, rel=1e-7)
        assert rollback2 == pytest.approx(rollback, rel=1e-9)


@pytest.mark.parametrize("track", TRACK_LIST, ids=lambda t: t.key)
def test_exact_error_rates_lie_in_walds_bands(track) -> None:
    (a_lo, a_hi), (r_lo, r_hi) = _wald_bands(track.p0, track.p1)
    alpha_exact = _exact_by_failures(track.p0, track.p0, track.p1)[2]
    power_exact = _exact_by_failures(track.p1, track.p0, track.p1)[2]
    assert a_lo < alpha_exact <= a_hi
    assert r_lo < power_exact <= r_hi
    # The bands themselves: 1 - beta' within [0.789, 0.803] on every track (beta = 0.2).
    assert 0.789 < r_lo and r_hi < 0.803


@pytest.mark.parametrize("track", TRACK_LIST, ids=lambda t: t.key)
def test_rollback_rate_is_near_one_minus_beta_at_p1_on_every_track(track) -> None:
    # The issue: Edge Guardian rolled back 0.4% of regressed canaries (99.5% undecided at
    # the old fixed 100,000-request horizon). With the default arguments every run decides
    # and the rollback rate sits in Wald's band around 1 - beta = 0.8, widened by Z
    # binomial standard errors of RUNS runs.
    sim = sprt_simulate(track.p1, track.p0, track.p1, runs=RUNS, seed=3)
    _, (low, high) = _wald_bands(track.p0, track.p1)
    se = math.sqrt(0.8 * 0.2 / RUNS)  # about 0.0013
    assert sim.undecided_rate == 0.0
    assert low - Z * se <= sim.rollback_rate <= high + Z * se


@pytest.mark.parametrize("track", TRACK_LIST, ids=lambda t: t.key)
def test_rollback_rate_is_near_alpha_at_p0_on_every_track(track) -> None:
    sim = sprt_simulate(track.p0, track.p0, track.p1, runs=RUNS, seed=4)
    (low, high), _ = _wald_bands(track.p0, track.p1)
    se = math.sqrt(high * (1 - high) / RUNS)  # the largest SE in the band, about 0.0008
    assert sim.undecided_rate == 0.0
    assert low - Z * se <= sim.rollback_rate <= high + Z * se


@pytest.mark.parametrize("track", TRACK_LIST, ids=lambda t: t.key)
@pytest.mark.parametrize("which", ["p0", "p1"])
def test_simulation_matches_the_exact_operating_characteristics_on_every_track(
    track, which: str
) -> None:
    p = getattr(track, which)
    mean, sd, rollback, left = _exact_by_failures(p, track.p0, track.p1)
    assert left < 1e-12
    sim = sprt_simulate(p, track.p0, track.p1, runs=RUNS, seed=5)
    assert sim.undecided_rate == 0.0
    assert abs(sim.rollback_rate - rollback) <= Z * math.sqrt(rollback * (1 - rollback) / RUNS)
    assert abs(sim.mean_sample_number - mean) <= Z * sd / math.sqrt(RUNS)


def test_the_old_fixed_horizon_left_edge_guardian_undecided() -> None:
    # The bug, kept visible: at max_n = 100,000 almost no Edge Guardian run decides (the
    # exact mean sample number is about 2.9 million), and the undecided share says so.
    t = TRACKS["edge_guardian"]
    sim = sprt_simulate(t.p1, t.p0, t.p1, runs=2000, seed=1, max_n=100_000)
    assert sim.undecided_rate > 0.95 and sim.max_n == 100_000
    assert "undecided 9" in sim.summary()


def test_default_horizon_is_a_hundred_times_walds_largest_mean_sample_number() -> None:
    # By hand: at zero drift, E[N] = -log_a log_b / E[Z^2], with the drift-free rate
    # s = g0 / (g1 + g0) (g1 = ln 3, g0 = ln(0.999/0.997)) taking the failure step.
    g1, g0 = math.log(3), math.log(0.999 / 0.997)
    s = g0 / (g1 + g0)
    largest = math.log(16) * -math.log(4 / 19) / (s * g1**2 + (1 - s) * g0**2)
    assert largest == pytest.approx(1962.2, abs=0.1)
    assert sprt_default_horizon(P0, P1) == math.ceil(100 * largest)
    # Wald's approximation ignores the overshoot and so falls short of the exact mean at
    # the drift-free rate (2,233 here), but the horizon is still over 80 times that mean.
    exact_at_s = _exact_by_failures(s, P0, P1)[0]
    assert largest < exact_at_s < sprt_default_horizon(P0, P1) / 80
    assert sprt_simulate(P0, P0, P1, runs=10).max_n == sprt_default_horizon(P0, P1)


@pytest.mark.parametrize("p_true", [0.0, 1e-300, 1e-19])
def test_tiny_true_rates_promote_without_overflow(p_true: float) -> None:
    # numpy saturates geometric draws at 2**63 - 1 for tiny p: the gap is clipped first.
    n = 1
    while sprt_decision(0, n, P0, P1) != "promote":
        n += 1
    sim = sprt_simulate(p_true, P0, P1, runs=1000)
    assert (sim.promote_rate, sim.mean_sample_number) == (1.0, float(n))


def test_summary_names_every_share() -> None:
    sim = sprt_simulate(P1, P0, P1, runs=1000, seed=2)
    text = sim.summary()
    for word in ("rollback", "promote", "undecided", "1,000 runs"):
        assert word in text


# --- fixed n -------------------------------------------------------------------------------------


def _scan_fixed_n(p0: float, p1: float, alpha: float, beta: float, n_hi: int) -> tuple[int, int]:
    """First n in 1..n_hi for which the best critical count meets both error bounds."""
    for n in range(1, n_hi + 1):
        c = 0
        while binom.sf(c - 1, n, p0) > alpha:  # smallest c with P(D >= c | p0) <= alpha
            c += 1
        if binom.cdf(c - 1, n, p1) <= beta:
            return n, c
    raise AssertionError("no n found")


def test_fixed_n_spec_value_3024() -> None:
    # Spec: 3,024 for p0 = 0.001, p1 = 0.003, alpha 0.05, beta 0.20. Brute-force scan of
    # every n from 1 (scipy binomial tails): first feasible n is 3,024, with c = 7.
    assert fixed_n_for_errors(P0, P1) == 3024
    n, c = _scan_fixed_n(P0, P1, 0.05, 0.20, 3100)
    assert (n, c) == (3024, 7)


def test_fixed_n_small_case_exact_fractions() -> None:
    # p0 = 0.1, p1 = 0.5: at n = 8, c = 3 gives type I 0.038 and type II 37/256 = 0.145;
    # at n = 7 neither c = 2 (type I 0.150) nor c = 3 (type II 29/128 = 0.227) works.
    def tail_ge(c: int, n: int, p: Fraction) -> Fraction:
        return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(c, n + 1))

    p0, p1 = Fraction(1, 10), Fraction(1, 2)
    assert tail_ge(3, 8, p0) <= Fraction(5, 100) and 1 - tail_ge(3, 8, p1) <= Fraction(2, 10)
    assert tail_ge(2, 7, p0) > Fraction(5, 100) and 1 - tail_ge(3, 7, p1) > Fraction(2, 10)
    assert fixed_n_for_errors(0.1, 0.5) == 8


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([0.01, 0.02, 0.05]), st.sampled_from([2.0, 3.0, 4.0]))
def test_fixed_n_matches_scan(p0: float, ratio: float) -> None:
    assert (
        fixed_n_for_errors(p0, p0 * ratio, 0.05, 0.2)
        == _scan_fixed_n(p0, p0 * ratio, 0.05, 0.2, 5000)[0]
    )


def test_sprt_needs_about_half_the_fixed_n() -> None:
    mean_h0, _, _ = _exact_operating_characteristics(P0, P0, P1, 0.05, 0.20)
    assert mean_h0 / fixed_n_for_errors(P0, P1) < 0.55


# --- bad input ----------------------------------------------------------------------------------

BAD_PROB = [0.0, 1.0, -0.1, float("nan"), float("inf"), "0.1", None]


@pytest.mark.parametrize("bad", BAD_PROB)
def test_bad_p0(bad) -> None:
    for call in (
        lambda: sprt_boundaries(bad, P1),
        lambda: sprt_llr(1, 10, bad, P1),
        lambda: sprt_decision(1, 10, bad, P1),
        lambda: sprt_simulate(P0, bad, P1, runs=10),
        lambda: fixed_n_for_errors(bad, P1),
    ):
        with pytest.raises(ValueError, match="p0"):
            call()


@pytest.mark.parametrize("bad", [*BAD_PROB, P0, 0.0005])
def test_bad_p1(bad) -> None:
    for call in (
        lambda: sprt_boundaries(P0, bad),
        lambda: sprt_llr(1, 10, P0, bad),
        lambda: sprt_decision(1, 10, P0, bad),
        lambda: sprt_simulate(P0, P0, bad, runs=10),
        lambda: fixed_n_for_errors(P0, bad),
    ):
        with pytest.raises(ValueError, match="p1"):
            call()


@pytest.mark.parametrize(("alpha", "beta", "name"), [
    (0.0, 0.2, "alpha"), (1.0, 0.2, "alpha"), (float("nan"), 0.2, "alpha"), ("x", 0.2, "alpha"),
    (0.05, 0.0, "beta"), (0.05, 0.95, "beta"), (0.5, 0.6, "beta"), (0.05, None, "beta"),
])  # fmt: skip
def test_bad_error_rates(alpha, beta, name: str) -> None:
    for call in (
        lambda: sprt_boundaries(P0, P1, alpha, beta),
        lambda: sprt_decision(1, 10, P0, P1, alpha, beta),
        lambda: sprt_simulate(P0, P0, P1, alpha, beta, runs=10),
        lambda: fixed_n_for_errors(P0, P1, alpha, beta),
    ):
        with pytest.raises(ValueError, match=name):
            call()


@pytest.mark.parametrize("bad", [-1, 1.5, 11, float("nan"), "1", None])
def test_bad_failures(bad) -> None:
    with pytest.raises(ValueError, match="failures"):
        sprt_llr(bad, 10, P0, P1)
    with pytest.raises(ValueError, match="failures"):
        sprt_decision(bad, 10, P0, P1)


@pytest.mark.parametrize("bad", [-1, 2.5, float("inf"), "10", None])
def test_bad_n(bad) -> None:
    with pytest.raises(ValueError, match=r"^n must"):
        sprt_llr(0, bad, P0, P1)
    with pytest.raises(ValueError, match=r"^n must"):
        sprt_decision(0, bad, P0, P1)
    if bad != 2.5:  # the lines take real n (plots); the counts must be whole
        with pytest.raises(ValueError, match=r"^n must"):
            sprt_boundaries(P0, P1).rollback_line(bad)
        with pytest.raises(ValueError, match=r"^n must"):
            sprt_boundaries(P0, P1).promote_line(bad)


def test_llr_shapes_must_broadcast() -> None:
    with pytest.raises(ValueError, match="broadcast"):
        sprt_llr([0, 1, 2], [10, 20], P0, P1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p_true": -0.1}, "p_true"),
        ({"p_true": 1.1}, "p_true"),
        ({"p_true": float("nan")}, "p_true"),
        ({"p_true": "0.1"}, "p_true"),
        ({"runs": 0}, "runs"),
        ({"runs": 2.5}, "runs"),
        ({"seed": -1}, "seed"),
        ({"seed": None}, "seed"),
        ({"max_n": 0}, "max_n"),
        ({"max_n": "10"}, "max_n"),
        ({"max_n": 2.5}, "max_n"),
    ],
)
def test_bad_simulation_arguments(kwargs: dict, name: str) -> None:
    args = {"p_true": P0, "p0": P0, "p1": P1, "runs": 10} | kwargs
    with pytest.raises(ValueError, match=name):
        sprt_simulate(**args)


def test_sprt_simulate_takes_the_spec_signature_positionally() -> None:
    # The spec writes sprt_simulate(p_true, p0, p1, alpha, beta, runs, seed, max_n).
    positional = sprt_simulate(0.001, 0.001, 0.003, 0.05, 0.20, 500, 7, 50_000)
    named = sprt_simulate(
        p_true=0.001, p0=0.001, p1=0.003, alpha=0.05, beta=0.20, runs=500, seed=7, max_n=50_000
    )
    assert positional == named and positional.runs == 500


def test_docstring_examples_run() -> None:
    import doctest

    import opsmodel.sprt as module

    result = doctest.testmod(module)
    assert result.attempted >= 15 and result.failed == 0
