"""Sequential validation: Wald's SPRT on Bernoulli request failures.

A canary is watched request by request. H0: its failure rate is ``p0`` (the new model is
fine); H1: it is ``p1 > p0`` (it regressed). After ``n`` requests with ``d`` failures the
log-likelihood ratio is

    LLR = d ln(p1 / p0) + (n - d) ln((1 - p1) / (1 - p0)),

and the test rolls back when ``LLR >= ln((1 - beta) / alpha)``, promotes when
``LLR <= ln(beta / (1 - alpha))``, and otherwise keeps watching. On average it decides
with about half the requests of the fixed-size test with the same error rates.

Shipped to students: the dashboards draw it, and no graded answer is computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from ._validation import (
    InvalidInputError,
    check_int,
    check_probability,
    check_real,
    check_real_array,
)

__all__ = [
    "SPRTBoundaries",
    "SPRTSimulation",
    "sprt_boundaries",
    "sprt_llr",
    "sprt_decision",
    "sprt_simulate",
    "sprt_default_horizon",
    "fixed_n_for_errors",
]

Decision = Literal["promote", "rollback", "continue"]


# --------------------------------------------------------------------------- validation


def _check_rates(p0: float, p1: float) -> tuple[float, float]:
    p0 = check_probability("p0", p0)
    p1 = check_probability("p1", p1)
    if not p1 > p0:
        raise InvalidInputError(f"p1 must be in (p0, 1) = ({p0:g}, 1), got {p1!r}")
    return p0, p1


def _check_errors(alpha: float, beta: float) -> tuple[float, float]:
    alpha = check_probability("alpha", alpha)
    beta = check_probability("beta", beta)
    # alpha + beta < 1 puts log_b < 0 < log_a: otherwise the test decides before any data.
    if not alpha + beta < 1.0:
        raise InvalidInputError(
            f"beta must be in (0, 1 - alpha) = (0, {1.0 - alpha:g}), got {beta!r}"
        )
    return alpha, beta


def _llr_steps(p0: float, p1: float) -> tuple[float, float]:
    """LLR increment of a failure, ln(p1/p0), and of a success, ln((1 - p1)/(1 - p0)).

    Both are written as ``log1p`` of a small difference: ``p1 - p0`` is exact when the
    rates are within a factor of two (Sterbenz) and otherwise rounds once, so each step
    is accurate to a few ulps whether the rates are tiny, close together or far apart.
    ``log(p1 / p0)`` loses digits when ``p1 / p0`` is near 1, and
    ``log1p(-p1) - log1p(-p0)`` cancels when ``p0`` and ``p1`` are close.
    """
    failure_step = math.log1p((p1 - p0) / p0)
    success_step = math.log1p((p0 - p1) / (1.0 - p0))
    return failure_step, success_step


def _llr(failures: np.ndarray | float, n: np.ndarray | float, p0: float, p1: float):
    # One formula for sprt_llr, sprt_decision and sprt_simulate: the simulation decides
    # exactly where sprt_decision would, not where a rearranged formula rounds.
    failure_step, success_step = _llr_steps(p0, p1)
    return failures * failure_step + (n - failures) * success_step


# ------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SPRTBoundaries:
    """Decision boundaries of Wald's SPRT, on the LLR and as failure-count lines.

    Attributes
    ----------
    p0, p1 : float
        Failure rate under H0 (fine) and H1 (regressed), ``0 < p0 < p1 < 1``.
    alpha, beta : float
        Target type-I error (rolling back a fine model) and type-II error (promoting a
        regressed one).
    log_a : float
        Roll-back boundary ``ln((1 - beta) / alpha)`` on the LLR.
    log_b : float
        Promote boundary ``ln(beta / (1 - alpha))`` on the LLR.
    slope : float
        Failures per request along both lines,
        ``ln((1 - p0)/(1 - p1)) / (ln(p1/p0) + ln((1 - p0)/(1 - p1)))``, between p0 and p1.
    h1 : float
        Intercept of the roll-back line, ``log_a / (ln(p1/p0) + ln((1 - p0)/(1 - p1)))``.
    h0 : float
        Intercept (subtracted) of the promote line, ``-log_b / (same denominator)``.
    """

    p0: float
    p1: float
    alpha: float
    beta: float
    log_a: float
    log_b: float
    slope: float
    h1: float
    h0: float

    def rollback_line(self, n: float | np.ndarray) -> float | np.ndarray:
        """Failure count at and above which the test rolls back after ``n`` requests.

        Parameters
        ----------
        n : float >= 0, or array of them
            Requests seen.

        Returns
        -------
        float or ndarray
            ``slope * n + h1``; roll back when ``d >= rollback_line(n)``.

        Raises
        ------
        InvalidInputError
            If ``n`` is negative, NaN, infinite or not a number.
        """
        return self._line(n, self.h1)

    def promote_line(self, n: float | np.ndarray) -> float | np.ndarray:
        """Failure count at and below which the test promotes after ``n`` requests.

        Parameters
        ----------
        n : float >= 0, or array of them
            Requests seen.

        Returns
        -------
        float or ndarray
            ``slope * n - h0``; promote when ``d <= promote_line(n)``.

        Raises
        ------
        InvalidInputError
            If ``n`` is negative, NaN, infinite or not a number.
        """
        return self._line(n, -self.h0)

    def _line(self, n: float | np.ndarray, intercept: float) -> float | np.ndarray:
        """``slope * n + intercept``: a float for scalar ``n``, else an array of its shape."""
        scalar = np.ndim(n) == 0 and not isinstance(n, np.ndarray)
        x = check_real_array("n", n, low=0.0)
        line = self.slope * x + intercept
        return float(line) if scalar else np.asarray(line, dtype=float)


@dataclass(frozen=True)
class SPRTSimulation:
    """Operating characteristics of the SPRT estimated by Monte Carlo.

    Attributes
    ----------
    mean_sample_number : float
        Mean number of requests until the decision (runs cut at ``max_n`` count as
        ``max_n``).
    rollback_rate : float
        Fraction of runs that rolled back.
    promote_rate : float
        Fraction of runs that promoted.
    undecided_rate : float
        Fraction of runs still undecided after ``max_n`` requests. The three rates sum
        to 1; read the other two only together with this one (an error rate measured on
        runs that mostly never decided says nothing about the test).
    runs : int
        Number of simulated runs.
    max_n : int
        The horizon used: requests after which a run still undecided was stopped.
    """

    mean_sample_number: float
    rollback_rate: float
    promote_rate: float
    undecided_rate: float
    runs: int
    max_n: int

    def summary(self) -> str:
        """One line with every rate, the undecided share included, for a notebook's output.

        Returns
        -------
        str
            Mean sample number, rollback, promote and undecided shares, runs and horizon.

        Examples
        --------
        >>> SPRTSimulation(1547.2, 0.031, 0.969, 0.0, 20_000, 400_000).summary()
        'mean 1,547 requests to decide; rollback 3.1%, promote 96.9%, undecided 0.0% (20,000 runs, horizon 400,000 requests)'
        """  # noqa: E501
        return (
            f"mean {self.mean_sample_number:,.0f} requests to decide; "
            f"rollback {self.rollback_rate:.1%}, promote {self.promote_rate:.1%}, "
            f"undecided {self.undecided_rate:.1%} "
            f"({self.runs:,} runs, horizon {self.max_n:,} requests)"
        )


# ------------------------------------------------------------------------------- public API


def sprt_boundaries(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.20
) -> SPRTBoundaries:
    """Wald's SPRT boundaries for Bernoulli failures.

    Parameters
    ----------
    p0 : float in (0, 1)
        Failure rate of a fine model (H0).
    p1 : float in (p0, 1)
        Failure rate of a regressed model (H1).
    alpha : float in (0, 1), default 0.05
        Target probability of rolling back a fine model.
    beta : float in (0, 1 - alpha), default 0.20
        Target probability of promoting a regressed model.

    Returns
    -------
    SPRTBoundaries
        ``log_a = ln((1 - beta) / alpha)``, ``log_b = ln(beta / (1 - alpha))`` and the
        equivalent failure-count lines ``d >= slope * n + h1`` (roll back) and
        ``d <= slope * n - h0`` (promote).

    Raises
    ------
    InvalidInputError
        If a rate or error is not in (0, 1), ``p1 <= p0``, or ``alpha + beta >= 1``.

    Notes
    -----
    Wald's boundaries [1]_ are approximations: because the LLR jumps past a boundary
    rather than landing on it, the actual error rates are somewhat below ``alpha`` and
    ``beta``. With ``g1 = ln(p1/p0)`` and ``g0 = ln((1 - p0)/(1 - p1))``, the LLR is
    ``d (g1 + g0) - n g0``, which gives the lines: ``slope = g0 / (g1 + g0)``,
    ``h1 = log_a / (g1 + g0)``, ``h0 = -log_b / (g1 + g0)``.

    References
    ----------
    .. [1] A. Wald, "Sequential tests of statistical hypotheses", Annals of Mathematical
       Statistics 16(2), 117-186, 1945.

    Examples
    --------
    >>> b = sprt_boundaries(0.001, 0.003)
    >>> round(b.log_a, 6), round(b.log_b, 6)
    (2.772589, -1.558145)
    >>> round(b.rollback_line(0), 3), round(b.promote_line(1000), 3)  # failure counts
    (2.519, 0.405)
    """
    p0, p1 = _check_rates(p0, p1)
    alpha, beta = _check_errors(alpha, beta)
    log_a = math.log((1.0 - beta) / alpha)
    log_b = math.log(beta / (1.0 - alpha))
    failure_step, success_step = _llr_steps(p0, p1)
    spread = failure_step - success_step  # g1 + g0 > 0
    return SPRTBoundaries(
        p0=p0,
        p1=p1,
        alpha=alpha,
        beta=beta,
        log_a=log_a,
        log_b=log_b,
        slope=-success_step / spread,
        h1=log_a / spread,
        h0=-log_b / spread,
    )


def _check_count_arrays(failures, n):
    d = check_real_array("failures", failures, low=0.0)
    m = check_real_array("n", n, low=0.0)
    if np.any(np.floor(d) != d):
        raise InvalidInputError(f"failures must be integers >= 0, got {failures!r}")
    if np.any(np.floor(m) != m):
        raise InvalidInputError(f"n must be integers >= 0, got {n!r}")
    try:
        d_b, m_b = np.broadcast_arrays(d, m)
    except ValueError as exc:
        raise InvalidInputError(
            f"failures and n must broadcast together, got shapes {np.shape(d)} and {np.shape(m)}"
        ) from exc
    if np.any(d_b > m_b):
        raise InvalidInputError(f"failures must be in [0, n], got failures={failures!r}, n={n!r}")
    return d, m


def sprt_llr(
    failures: int | np.ndarray, n: int | np.ndarray, p0: float, p1: float
) -> float | np.ndarray:
    """Log-likelihood ratio of H1 (regressed) against H0 (fine) after ``n`` requests.

    Parameters
    ----------
    failures : int in [0, n], or array of them
        Failures d seen.
    n : int >= 0, or array of them
        Requests seen; broadcast against ``failures``.
    p0 : float in (0, 1)
        Failure rate under H0.
    p1 : float in (p0, 1)
        Failure rate under H1.

    Returns
    -------
    float or ndarray
        ``d ln(p1/p0) + (n - d) ln((1 - p1)/(1 - p0))``; a Python float when both
        ``failures`` and ``n`` are scalars, else the broadcast array.

    Raises
    ------
    InvalidInputError
        If counts are negative, non-integer, NaN, not numbers, do not broadcast, or
        ``failures > n``; if ``p0``, ``p1`` are not ``0 < p0 < p1 < 1``.

    Notes
    -----
    The two logarithms are computed as ``log1p((p1 - p0) / p0)`` and
    ``log1p((p0 - p1) / (1 - p0))``: accurate to a few ulps for tiny rates (where
    ``1 - p`` rounds) and for close rates (where a difference of logs cancels).

    Examples
    --------
    >>> round(sprt_llr(0, 1000, 0.001, 0.003), 4)  # a clean thousand: evidence for H0
    -2.004
    >>> sprt_llr([0, 3], [1000, 1000], 0.001, 0.003).round(4)
    array([-2.004 ,  1.2978])
    """
    scalar = all(np.ndim(x) == 0 and not isinstance(x, np.ndarray) for x in (failures, n))
    d, m = _check_count_arrays(failures, n)
    p0, p1 = _check_rates(p0, p1)
    llr = _llr(d, m, p0, p1)
    return float(llr) if scalar else np.asarray(llr, dtype=float)


def sprt_decision(
    failures: int, n: int, p0: float, p1: float, alpha: float = 0.05, beta: float = 0.20
) -> Decision:
    """The SPRT's decision after ``n`` requests with ``failures`` failures.

    Parameters
    ----------
    failures : int in [0, n]
        Failures d seen.
    n : int >= 0
        Requests seen.
    p0 : float in (0, 1)
        Failure rate under H0 (fine).
    p1 : float in (p0, 1)
        Failure rate under H1 (regressed).
    alpha : float in (0, 1), default 0.05
        Target probability of rolling back a fine model.
    beta : float in (0, 1 - alpha), default 0.20
        Target probability of promoting a regressed model.

    Returns
    -------
    {"promote", "rollback", "continue"}
        ``"rollback"`` when ``LLR >= log_a``, ``"promote"`` when ``LLR <= log_b``,
        ``"continue"`` otherwise.

    Raises
    ------
    InvalidInputError
        As for :func:`sprt_llr` and :func:`sprt_boundaries`.

    Notes
    -----
    The decision is taken on the LLR itself, not on the failure-count lines rounded to
    integers, so a point on a boundary is decided as the inequality says. The decision
    looks only at the current counts; a caller walking requests one by one stops at the
    first decision.

    Examples
    --------
    >>> sprt_decision(0, 800, 0.001, 0.003)
    'promote'
    >>> sprt_decision(3, 200, 0.001, 0.003)
    'rollback'
    >>> sprt_decision(1, 800, 0.001, 0.003)
    'continue'
    """
    m = check_int("n", n, low=0)
    d = check_int("failures", failures, low=0)
    if d > m:
        raise InvalidInputError(f"failures must be in [0, n] = [0, {m}], got {failures!r}")
    bounds = sprt_boundaries(p0, p1, alpha, beta)
    llr = float(_llr(d, m, bounds.p0, bounds.p1))
    if llr >= bounds.log_a:
        return "rollback"
    if llr <= bounds.log_b:
        return "promote"
    return "continue"


def _promote_position(
    failures: np.ndarray, last_position: np.ndarray, bounds: SPRTBoundaries
) -> np.ndarray:
    """First request index m > last_position with LLR(failures, m) <= log_b."""
    failure_step, success_step = _llr_steps(bounds.p0, bounds.p1)
    # LLR(d, m) = d g1 + (m - d) s with s < 0: solve LLR = log_b for m, then correct the
    # float estimate by evaluating the exact LLR at the neighbours.
    estimate = np.ceil(failures + (bounds.log_b - failures * failure_step) / success_step)
    m = np.maximum(estimate.astype(np.int64), last_position + 1)

    def above(mm: np.ndarray) -> np.ndarray:
        return _llr(failures, mm, bounds.p0, bounds.p1) > bounds.log_b

    while np.any(step_up := above(m)):
        m = m + step_up
    while np.any(step_down := (m - 1 > last_position) & ~above(m - 1)):
        m = m - step_down
    return m


def sprt_simulate(
    p_true: float,
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.20,
    runs: int = 10_000,
    seed: int = 0,
    max_n: int | None = None,
) -> SPRTSimulation:
    """Monte Carlo of the SPRT's error rates and mean sample number.

    Parameters
    ----------
    p_true : float in [0, 1]
        The canary's true failure rate.
    p0 : float in (0, 1)
        Failure rate under H0 (fine).
    p1 : float in (p0, 1)
        Failure rate under H1 (regressed).
    alpha : float in (0, 1), default 0.05
        Target probability of rolling back a fine model.
    beta : float in (0, 1 - alpha), default 0.20
        Target probability of promoting a regressed model.
    runs : int >= 1, default 10_000
        Number of independent simulated canaries.
    seed : int >= 0, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same result.
    max_n : int >= 1 or None, default None
        Requests after which a run still undecided is stopped. None (the default) takes
        :func:`sprt_default_horizon`, a horizon that scales with the rates (100 times
        Wald's largest mean sample number), so that the test decides on every run at any
        ``p0``, ``p1``: a fixed horizon is short for tiny rates (Edge Guardian's
        p0 = 2e-7 needs millions of requests) and wasted on large ones.

    Returns
    -------
    SPRTSimulation
        Mean sample number and the rollback, promote and undecided rates, and the
        horizon used.

    Raises
    ------
    InvalidInputError
        If ``p_true`` is outside [0, 1], ``runs`` is not an integer >= 1, ``max_n`` is
        neither None nor an integer >= 1, ``seed`` not an integer >= 0, or the SPRT
        parameters are invalid (see :func:`sprt_boundaries`).

    Notes
    -----
    The simulation jumps from failure to failure instead of walking request by request:
    the gap to the next failure is geometric with parameter ``p_true``. Between failures
    the LLR only falls, so the test can only promote there, at the first request where
    ``LLR <= log_b`` (known in closed form for the current failure count); at a failure
    the LLR only rises, so the test can only roll back there. Each step draws one gap
    for every run still undecided (vectorised), so the work is the number of failures
    before a decision, not the number of requests. Decisions are made with the same LLR
    formula as :func:`sprt_decision`. A run that has not decided within ``max_n``
    requests is undecided and counts ``max_n`` in the mean sample number; its share is
    ``undecided_rate``, which a caller must show beside the error rates (with a horizon
    too short for the rates, most runs end undecided and the "rollback rate" is
    meaningless). With the default horizon no run of any lab track ends undecided.

    The Monte Carlo standard error of the mean sample number is the sample-number
    standard deviation over ``sqrt(runs)``; for p0 = 0.001, p1 = 0.003 it is about 4
    requests at 100,000 runs.

    References
    ----------
    .. [1] A. Wald, "Sequential tests of statistical hypotheses", Annals of Mathematical
       Statistics 16(2), 117-186, 1945.

    Examples
    --------
    A fine canary (p = p0) is promoted after about 1,550 requests on average, against
    3,024 for the fixed-size test with the same error rates:

    >>> sim = sprt_simulate(0.001, 0.001, 0.003, runs=100_000)
    >>> 1500 < sim.mean_sample_number < 1600, sim.rollback_rate < 0.05, sim.undecided_rate
    (True, True, 0.0)

    At tiny rates the default horizon grows with them: Edge Guardian's pair decides on
    every run, and a regressed model is rolled back about 80% of the time (1 - beta):

    >>> sim = sprt_simulate(1e-6, 2e-7, 1e-6, runs=20_000, seed=1)
    >>> sim.undecided_rate, round(sim.rollback_rate, 2)
    (0.0, 0.8)
    """
    p = check_real("p_true", p_true, low=0.0, high=1.0)
    bounds = sprt_boundaries(p0, p1, alpha, beta)
    n_runs = check_int("runs", runs, low=1)
    seed = check_int("seed", seed, low=0)
    if max_n is None:
        limit = sprt_default_horizon(bounds.p0, bounds.p1, bounds.alpha, bounds.beta)
    else:
        limit = check_int("max_n", max_n, low=1)
    rng = np.random.default_rng(seed)

    failures = np.zeros(n_runs, dtype=np.int64)
    position = np.zeros(n_runs, dtype=np.int64)  # index of the last failure (0: none)
    sample_number = np.full(n_runs, limit, dtype=np.int64)
    promoted = np.zeros(n_runs, dtype=bool)
    rolled_back = np.zeros(n_runs, dtype=bool)
    active = np.arange(n_runs)

    while active.size:
        d = failures[active]
        last = position[active]
        promote_at = _promote_position(d, last, bounds)
        if p > 0.0:
            # Gaps beyond the horizon all mean "no failure in time"; clipping them first
            # keeps last + gap in int64 (numpy saturates the geometric draw at 2**63 - 1
            # for p below about 1e-19).
            gap = np.minimum(rng.geometric(p, size=active.size), limit + 1 - last)
            next_failure = last + gap
        else:
            next_failure = np.full(active.size, limit + 1, dtype=np.int64)  # never fails
        # The run promotes if the LLR reaches log_b on a success before the next failure.
        promotes = promote_at < next_failure
        done = promotes.copy()
        win = promotes & (promote_at <= limit)
        promoted[active[win]] = True
        sample_number[active[win]] = promote_at[win]
        # Otherwise the next failure arrives (if within max_n) and may trigger rollback.
        fails = ~promotes & (next_failure <= limit)
        done |= ~promotes & ~fails  # next failure beyond max_n: undecided
        d_new = d + 1
        llr = _llr(d_new, next_failure, bounds.p0, bounds.p1)
        rolls = fails & (llr >= bounds.log_a)
        rolled_back[active[rolls]] = True
        sample_number[active[rolls]] = next_failure[rolls]
        done |= rolls
        keep = fails & ~rolls
        failures[active[keep]] = d_new[keep]
        position[active[keep]] = next_failure[keep]
        active = active[~done]

    n_promoted = int(promoted.sum())
    n_rolled_back = int(rolled_back.sum())
    return SPRTSimulation(
        mean_sample_number=float(sample_number.mean()),
        rollback_rate=n_rolled_back / n_runs,
        promote_rate=n_promoted / n_runs,
        undecided_rate=(n_runs - n_promoted - n_rolled_back) / n_runs,
        runs=n_runs,
        max_n=limit,
    )


#: The default horizon is this many times Wald's largest mean sample number.
HORIZON_FACTOR = 100


def sprt_default_horizon(p0: float, p1: float, alpha: float = 0.05, beta: float = 0.20) -> int:
    """The horizon :func:`sprt_simulate` uses by default: it scales with the rates.

    Parameters
    ----------
    p0 : float in (0, 1)
        Failure rate under H0 (fine).
    p1 : float in (p0, 1)
        Failure rate under H1 (regressed).
    alpha : float in (0, 1), default 0.05
        Target probability of rolling back a fine model.
    beta : float in (0, 1 - alpha), default 0.20
        Target probability of promoting a regressed model.

    Returns
    -------
    int
        ``ceil(100 * E_max)`` requests, where ``E_max = -log_a * log_b / E[Z**2]`` is
        Wald's approximation of the largest mean sample number over all true rates.

    Raises
    ------
    InvalidInputError
        As for :func:`sprt_boundaries`.

    Notes
    -----
    The mean sample number is largest where the LLR has no drift, at ``p_true = slope``
    (:attr:`SPRTBoundaries.slope`); there Wald's approximation [1]_ gives
    ``E[N] = -log_a * log_b / E[Z**2]``, with ``Z`` the LLR step of one request
    (``ln(p1/p0)`` with probability ``slope``, ``ln((1 - p1)/(1 - p0))`` otherwise).
    Every other rate decides sooner on average. Wald's value ignores the overshoot of the
    boundaries and falls short of the exact one (2,233 against 1,962 for p0 = 0.001,
    p1 = 0.003), so the horizon is some 90 times the exact largest mean sample number,
    not 100. The sample number has an exponential
    tail: for a driftless walk between boundaries ``a = log_a`` and ``b = -log_b``,
    ``P(N > t)`` falls like ``exp(-pi**2 E[Z**2] t / (2 (a + b)**2))``, so at
    ``t = 100 E_max`` the share still undecided is about
    ``exp(-50 pi**2 a b / (a + b)**2)``, below 1e-40 for alpha = 0.05, beta = 0.20.
    The horizon is a guard that ends the loop; it never shapes the result at these
    error rates. The undecided share is reported all the same.

    References
    ----------
    .. [1] A. Wald, "Sequential tests of statistical hypotheses", Annals of Mathematical
       Statistics 16(2), 117-186, 1945.

    Examples
    --------
    >>> sprt_default_horizon(0.001, 0.003)
    196223
    >>> sprt_default_horizon(2e-7, 1e-6) > 300_000_000  # Edge Guardian: tiny rates
    True
    """
    bounds = sprt_boundaries(p0, p1, alpha, beta)
    failure_step, success_step = _llr_steps(bounds.p0, bounds.p1)
    s = bounds.slope
    step_second_moment = s * failure_step**2 + (1.0 - s) * success_step**2
    largest_asn = -bounds.log_a * bounds.log_b / step_second_moment
    return max(1, math.ceil(HORIZON_FACTOR * largest_asn))


def _smallest_n_with_power(critical: np.ndarray, p1: float, beta: float) -> np.ndarray:
    """For each c, the smallest n with P(D <= c - 1 | n, p1) <= beta (type II)."""
    # At n = c - 1 the CDF is 1: never enough. Double the upper end until it is.
    lo = critical - 1
    hi = np.maximum(critical, np.ceil(2.0 * critical / p1).astype(np.int64))
    while np.any(short := stats.binom.cdf(critical - 1, hi, p1) > beta):
        lo = np.where(short, hi, lo)
        hi = np.where(short, 2 * hi, hi)
    # Bisection, all c at once; the CDF decreases in n.
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        ok = stats.binom.cdf(critical - 1, mid, p1) <= beta
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


def fixed_n_for_errors(p0: float, p1: float, alpha: float = 0.05, beta: float = 0.20) -> int:
    """Smallest fixed sample size of the exact one-sided binomial test with these errors.

    The test watches ``n`` requests and rolls back when it sees at least ``c`` failures.
    The answer is the smallest ``n`` for which some critical count ``c`` gives
    ``P(D >= c | n, p0) <= alpha`` (type I) and ``P(D < c | n, p1) <= beta`` (type II).

    Parameters
    ----------
    p0 : float in (0, 1)
        Failure rate of a fine model (H0).
    p1 : float in (p0, 1)
        Failure rate of a regressed model (H1).
    alpha : float in (0, 1), default 0.05
        Largest allowed probability of rolling back a fine model.
    beta : float in (0, 1 - alpha), default 0.20
        Largest allowed probability of promoting a regressed model.

    Returns
    -------
    int
        The sample size n.

    Raises
    ------
    InvalidInputError
        As for :func:`sprt_boundaries`.

    Notes
    -----
    The test is exact and non-randomised (binomial tail probabilities, no normal
    approximation). For a fixed ``c`` the type-I error grows with ``n`` and the type-II
    error falls, so the sizes that work with ``c`` form an interval starting at
    ``N2(c)``, the smallest ``n`` meeting the type-II bound; that interval is non-empty
    exactly when the type-I bound holds at ``N2(c)``. ``N2`` increases with ``c``, so
    the answer is ``N2(c*)`` for the smallest such ``c*``; the candidates ``c`` are
    scanned in blocks, with ``N2`` found by a vectorised bisection on ``scipy.stats.binom``.

    Because the test is discrete, the set of sizes that work is not an interval in ``n``:
    for p0 = 0.001, p1 = 0.003 the answer is 3,024 (roll back at 7 or more failures),
    yet some sizes between 3,024 and 3,410 meet both bounds with no ``c`` (every size
    from 3,410 to 60,000, as far as checked, works). The normal approximation
    ``((z_a sqrt(p0 q0) + z_b sqrt(p1 q1)) / (p1 - p0))**2`` gives about 2,400, far off
    at these small expected failure counts.

    Examples
    --------
    >>> fixed_n_for_errors(0.001, 0.003)
    3024
    """
    p0, p1 = _check_rates(p0, p1)
    alpha, beta = _check_errors(alpha, beta)
    start = 1
    block = 64
    while True:
        critical = np.arange(start, start + block, dtype=np.int64)
        n_power = _smallest_n_with_power(critical, p1, beta)
        # P(D >= c | n, p0) = sf(c - 1): the type-I error at the smallest powerful n.
        size_ok = stats.binom.sf(critical - 1, n_power, p0) <= alpha
        if np.any(size_ok):
            return int(n_power[np.argmax(size_ok)])
        start += block
        block *= 2
