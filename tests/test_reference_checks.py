"""Unit tests of :mod:`labtools.grading.reference_checks`: the hidden tests' verdicts, fast.

Each check is given a student's function written here from the lab's spec (the master
notebook's prompts and :mod:`opsmodel`'s documented formulas), never taken from the
reference package, and must accept it; and a function with one typical mistake, which it
must refuse. The spec's own worked numbers, derived by hand in the comments, pin the
implementations written here.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest

from labtools.grading import reference_checks as rc
from opsmodel.ensemble import run_ensemble
from opsmodel.toil_params import ToilParams
from opsmodel.tracks import TRACKS, get_track

TRACK_NAMES = [t.name for t in TRACKS.values()]
DEFAULTS = ToilParams()

# --------------------------------------------------------------------------- Part 1 by spec


def toil_hours(n_models: Any, h: float, p: ToilParams = DEFAULTS) -> Any:
    """alert N + deploy N log2 N (0 at N = 0) + dependency h N (N - 1) / 2."""
    n = np.asarray(n_models, dtype=float)
    n_log_n = np.where(n > 0, n * np.log2(np.where(n > 0, n, 1.0)), 0.0)
    hours = p.alert_hours * n + p.deploy_hours * n_log_n + p.dependency_hours * h * n * (n - 1) / 2
    return float(hours) if hours.ndim == 0 else hours


def platform_cost(n_models: float, p: ToilParams = DEFAULTS) -> float:
    """CapEx plus the platform's upkeep hours, in dollars over the horizon."""
    return p.platform_capex_usd + p.platform_hours * n_models * p.hourly_cost_usd * p.horizon_years


def roi(n_models: float, h: float, p: ToilParams = DEFAULTS) -> float:
    """Manual toil in dollars minus the platform's cost."""
    return toil_hours(n_models, h, p) * p.hourly_cost_usd * p.horizon_years - platform_cost(
        n_models, p
    )


def break_even(h: float, p: ToilParams = DEFAULTS, n_max: int = 1_000_000) -> int | None:
    """The smallest whole N in [1, n_max] with ROI > 0 (strictly), by trying them all."""
    n = np.arange(1, n_max + 1, dtype=float)
    positive = np.flatnonzero(roi(n, h, p) > 0)
    return int(n[positive[0]]) if positive.size else None


def test_the_spec_implementations_give_the_specs_numbers() -> None:
    # N = 16, h = 0.5, default parameters: 50*16 = 800 alert hours, 20*16*log2(16) = 1280
    # deploy hours, 10*0.5*16*15/2 = 600 dependency hours.
    assert toil_hours(16, 0.5) == 2680.0
    # 500,000 CapEx + 10 h * 16 models * $125 = 520,000; manual 2680 h * $125 = 335,000.
    assert platform_cost(16) == 520_000.0
    assert roi(16, 0.5) == -185_000.0
    # The tie: with alert 90 and deploy 40 hours (no dependency or platform hours), h = 0,
    # 16 models cost 125 * (90*16 + 40*16*4) = 500,000 = the CapEx: ROI 0 is no break-even.
    tie = ToilParams(alert_hours=90.0, deploy_hours=40.0, dependency_hours=0.0, platform_hours=0.0)
    assert roi(16, 0.0, tie) == 0.0
    assert break_even(0.0, tie, 10_000) == 17


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_toil_checks_accept_the_spec_and_refuse_a_missing_half(track: str) -> None:
    assert rc.check_toil_on_track(toil_hours, track)
    assert rc.check_toil_random(toil_hours)
    assert rc.check_toil_vectorised(toil_hours)

    def every_pair_twice(n_models: Any, h: float, p: ToilParams = DEFAULTS) -> Any:
        # Counts ordered pairs: h N (N - 1) instead of h N (N - 1) / 2.
        return (
            toil_hours(n_models, h, p)
            + p.dependency_hours
            * h
            * np.asarray(n_models, dtype=float)
            * (np.asarray(n_models, dtype=float) - 1)
            / 2
        )

    assert not rc.check_toil_on_track(every_pair_twice, track)
    assert not rc.check_toil_random(every_pair_twice)


def test_the_vectorised_check_refuses_a_scalar_answer_for_an_array() -> None:
    def first_only(n_models: Any, h: float, p: ToilParams = DEFAULTS) -> float:
        return toil_hours(np.ravel(n_models)[0], h, p)

    assert not rc.check_toil_vectorised(first_only)


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_cost_and_roi_checks(track: str) -> None:
    assert rc.check_platform_cost(platform_cost, track)
    assert rc.check_roi(roi, track)

    def capex_only(n_models: float, p: ToilParams = DEFAULTS) -> float:
        return p.platform_capex_usd

    def roi_one_year(n_models: float, h: float, p: ToilParams = DEFAULTS) -> float:
        # Forgets the horizon: right only when it is one year.
        return toil_hours(n_models, h, p) * p.hourly_cost_usd - (
            p.platform_capex_usd + p.platform_hours * n_models * p.hourly_cost_usd
        )

    assert not rc.check_platform_cost(capex_only, track)
    assert not rc.check_roi(roi_one_year, track)  # the random cases have 2- and 3-year horizons


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_break_even_checks(track: str) -> None:
    assert rc.check_break_even_on_track(break_even, track)
    assert rc.check_break_even_edges(break_even)
    assert rc.check_break_even_sweep(break_even)

    def at_or_above(h: float, p: ToilParams = DEFAULTS, n_max: int = 1_000_000) -> Any:
        # ROI >= 0: wrong at an exact tie only.
        n = np.arange(1, n_max + 1, dtype=float)
        found = np.flatnonzero(roi(n, h, p) >= 0)
        return int(n[found[0]]) if found.size else None

    def as_float(h: float, p: ToilParams = DEFAULTS, n_max: int = 1_000_000) -> Any:
        found = break_even(h, p, n_max)
        return None if found is None else float(found)

    assert not rc.check_break_even_edges(at_or_above)
    assert not rc.check_break_even_on_track(as_float, track)  # a count is a whole number
    assert not rc.check_break_even_sweep(lambda h, p, n_max=10: 0)


# --------------------------------------------------------------------------- Part 2 by spec


def sample_size(p_max: float, confidence: float) -> int:
    """The smallest n >= 1 with (1 - p)^n <= 1 - C, from 50-digit logarithms.

    The spec fixes the boundary: a ratio within 1e-9 (relative) of an integer is that integer.
    """
    with localcontext() as ctx:
        ctx.prec = 50
        ratio = (1 - Decimal(confidence)).ln() / (1 - Decimal(p_max)).ln()
        nearest = ratio.to_integral_value()
        n = nearest if abs(ratio - nearest) <= Decimal("1e-9") * ratio else ratio.__ceil__()
    return max(1, int(n))


def hours_to_see(n_requests: float, rate_per_s: float, fraction: float = 1.0) -> float:
    """n / (rate * 3600 * fraction)."""
    return n_requests / (rate_per_s * 3600.0 * fraction)


def naive_sample_size(p_max: float, confidence: float) -> int:
    return max(1, math.ceil(math.log(1 - confidence) / math.log(1 - p_max)))


def test_the_sample_size_by_spec_gives_the_worked_boundaries() -> None:
    # (1 - 0.99)^2 = 1e-4 = 1 - 0.9999; 0.5^2 = 0.25; 0.5^3 = 0.125; 0.9^2 = 0.81 = 1 - 0.19.
    assert [sample_size(*c) for c in [(0.99, 0.9999), (0.5, 0.75), (0.5, 0.875), (0.1, 0.19)]] == [
        2,
        2,
        3,
        2,
    ]
    # ln(0.05) / ln(0.999) = 2994.2: the rule of three's 3,000, nearly.
    assert sample_size(0.001, 0.95) == 2995
    assert naive_sample_size(0.99, 0.9999) == 3  # the float ratio is a hair above 2


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_sample_size_checks(track: str) -> None:
    assert rc.check_sample_size_on_track(sample_size, track)
    assert rc.check_sample_size_boundaries(sample_size)
    assert rc.check_sample_size_random(sample_size)
    assert not rc.check_sample_size_boundaries(naive_sample_size)
    # Right on the public example only: the track's neighbouring targets catch it.
    assert not rc.check_sample_size_on_track(lambda p, c: 2995, track)
    assert not rc.check_sample_size_random(lambda p, c: float(sample_size(p, c)))


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_shadow_hours_checks(track: str) -> None:
    assert hours_to_see(2995, 0.01) == pytest.approx(83.19, abs=0.01)  # the spec's example
    assert rc.check_shadow_hours(hours_to_see, track)
    assert not rc.check_shadow_hours(lambda n, r, f=1.0: n / (r * 3600.0), track)  # no fraction
    assert not rc.check_shadow_hours(lambda n, r, f=1.0: n / (r * 60.0 * f), track)  # minutes


# Cloud Titan: 25 requests/s, at most 0.018% mirrored (25 * 3600 * 0.00018 = 16.2 requests an
# hour), p_max 0.001 at 95% (2,995 requests), a 168 h cycle and 1 expected live failure.
TITAN = get_track("Cloud Titan")


def test_the_cloud_titan_numbers_by_hand() -> None:
    assert TITAN.request_rate_per_s * 3600 * TITAN.max_shadow_fraction == pytest.approx(16.2)
    assert sample_size(TITAN.p_max, TITAN.confidence) == 2995
    # Shadow alone at the cap: 2995 / 16.2 = 184.9 h, beyond the 168 h cycle.
    assert hours_to_see(2995, TITAN.request_rate_per_s, TITAN.max_shadow_fraction) > 168


def _plan(fraction: float, start_hours: float | None, iteration: int = 3) -> dict[str, Any]:
    staged = None if start_hours is None else {"start_hours": start_hours}
    return {"shadow_fraction": fraction, "staged": staged, "iteration": iteration}


def test_canary_plan_check_on_plans_worked_by_hand() -> None:
    cap = TITAN.max_shadow_fraction
    # 150 h of shadow see 150 * 16.2 = 2,430 requests; the 1% stage (1% live, plus the mirror
    # of the other 99%) sees the remaining 565 in well under its 24 h: about 0.6 h, 555 of
    # them live, 0.56 expected failures under the budget of 1: feasible within 168 h.
    assert rc.check_canary_plan(_plan(cap, 150.0), "Cloud Titan")
    assert not rc.check_canary_plan(_plan(cap, None), "Cloud Titan")  # 184.9 h > 168 h
    # All traffic mirrored is quick (2995 / 90,000 per hour) but beyond the shadow capacity.
    assert not rc.check_canary_plan(_plan(1.0, None), "Cloud Titan")
    # A plan found in more than 10 tries, or with no try count, earns nothing.
    assert not rc.check_canary_plan(_plan(cap, 150.0, iteration=11), "Cloud Titan")
    assert not rc.check_canary_plan(_plan(cap, 150.0, iteration=0), "Cloud Titan")
    no_count = _plan(cap, 150.0)
    del no_count["iteration"]
    assert not rc.check_canary_plan(no_count, "Cloud Titan")


def test_canary_plan_numbers_in_the_dict_are_not_believed() -> None:
    # The plan's own "hours" and "requests" are recomputed from its knobs, never read.
    lying = {**_plan(TITAN.max_shadow_fraction, None), "hours": 1.0, "requests": 10}
    assert not rc.check_canary_plan(lying, "Cloud Titan")


@pytest.mark.parametrize(
    "plan",
    [None, [], {"shadow_fraction": "half", "iteration": 1}, {"iteration": 1}, "plan"],
    ids=["None", "list", "text fraction", "no fraction", "string"],
)
def test_a_malformed_plan_fails_without_raising(plan: Any) -> None:
    assert not rc.check_canary_plan(plan, "Cloud Titan")


def _sprt_lines_by_scan(track: str) -> tuple[int, int]:
    """At n = 5 / p0: the LLR of d failures is d ln(p1/p0) + (n - d) ln((1-p1)/(1-p0));
    promote when it is <= ln(beta / (1 - alpha)), roll back when >= ln((1 - beta) / alpha),
    alpha = 0.05, beta = 0.20 (the spec's defaults). Scan d upwards."""
    t = get_track(track)
    n = round(5 / t.p0)
    upper, lower = math.log(0.80 / 0.05), math.log(0.20 / 0.95)
    promote_max = rollback_min = None
    for d in range(n + 1):
        llr = d * math.log(t.p1 / t.p0) + (n - d) * math.log((1 - t.p1) / (1 - t.p0))
        if llr <= lower:
            promote_max = d
        if llr >= upper:
            rollback_min = d
            break
    return (-1 if promote_max is None else promote_max), (
        -1 if rollback_min is None else rollback_min
    )


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_sprt_lines_check(track: str) -> None:
    promote_max, rollback_min = _sprt_lines_by_scan(track)
    assert 0 <= promote_max < rollback_min
    assert rc.check_sprt_lines(promote_max, rollback_min, track)
    assert not rc.check_sprt_lines(promote_max + 1, rollback_min, track)
    assert not rc.check_sprt_lines(promote_max, rollback_min - 1, track)
    assert not rc.check_sprt_lines(float(promote_max), rollback_min, track)
    assert not rc.check_sprt_lines(True, rollback_min, track)


# --------------------------------------------------------------------------- Part 3 by spec


def psi(reference: Any, current: Any, n_bins: int = 10, eps: float = 1e-4) -> float:
    """Inner edges unique(quantile(reference, k / n_bins)); bins [edge_i-1, edge_i), open at
    both ends; proportions clipped below at eps; sum (a - e) ln(a / e)."""
    reference, current = np.asarray(reference, float), np.asarray(current, float)
    edges = np.unique(np.quantile(reference, np.arange(1, n_bins) / n_bins))
    bins = len(edges) + 1

    def shares(x: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=bins)
        return np.maximum(counts / len(x), eps)

    e, a = shares(reference), shares(current)
    return float(np.sum((a - e) * np.log(a / e)))


def test_psi_by_spec_gives_the_worked_example() -> None:
    # 1..100 against 11..110 in quartiles (edges 25.75, 50.5, 75.25): the reference has 25%
    # in each; the current 15%, 25%, 25%, 35%. PSI = -0.1 ln(0.6) + 0.1 ln(1.4).
    assert psi(np.arange(1, 101), np.arange(11, 111), 4) == pytest.approx(0.1 * math.log(1.4 / 0.6))


def test_psi_checks() -> None:
    assert rc.check_psi_examples(psi)
    assert rc.check_psi_random(psi)

    def equal_width(reference: Any, current: Any, n_bins: int = 10) -> float:
        edges = np.histogram_bin_edges(reference, bins=n_bins)[1:-1]
        e = np.maximum(np.bincount(np.searchsorted(edges, reference, "right"), minlength=n_bins), 1)
        a = np.maximum(np.bincount(np.searchsorted(edges, current, "right"), minlength=n_bins), 1)
        e, a = e / e.sum(), a / a.sum()
        return float(np.sum((a - e) * np.log(a / e)))

    def ties_below(reference: Any, current: Any, n_bins: int = 10) -> float:
        # A value on an edge goes to the bin below it (side="left"): wrong with ties.
        reference, current = np.asarray(reference, float), np.asarray(current, float)
        edges = np.unique(np.quantile(reference, np.arange(1, n_bins) / n_bins))
        e = np.maximum(
            np.bincount(np.searchsorted(edges, reference), minlength=len(edges) + 1)
            / len(reference),
            1e-4,
        )
        a = np.maximum(
            np.bincount(np.searchsorted(edges, current), minlength=len(edges) + 1) / len(current),
            1e-4,
        )
        return float(np.sum((a - e) * np.log(a / e)))

    assert not rc.check_psi_examples(equal_width)
    assert not rc.check_psi_random(equal_width)
    assert not rc.check_psi_examples(ties_below)


def skew_check(
    train: Any, serving: Any, train_contract: Any, serving_contract: Any, psi_threshold=0.25
) -> dict[str, Any]:
    """PSI per feature column; skewed when any PSI >= threshold or the contracts differ."""
    train, serving = np.asarray(train, float), np.asarray(serving, float)
    if train.ndim == 1:
        train, serving = train[:, None], serving[:, None]
    values = [psi(train[:, j], serving[:, j]) for j in range(train.shape[1])]
    contract_ok = train_contract == serving_contract
    return {
        "psi": values,
        "max_psi": max(values),
        "contract_ok": contract_ok,
        "skewed": max(values) >= psi_threshold or not contract_ok,
    }


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_skew_checks(track: str) -> None:
    assert rc.check_skew_on_ensemble(skew_check, track)
    assert rc.check_skew_contracts(skew_check)

    def psi_only(train: Any, serving: Any, tc: Any, sc: Any, psi_threshold=0.25) -> dict:
        return {**skew_check(train, serving, tc, sc, psi_threshold), "contract_ok": True}

    def fixed_threshold(train: Any, serving: Any, tc: Any, sc: Any, psi_threshold=0.25) -> dict:
        return skew_check(train, serving, tc, sc)

    assert not rc.check_skew_contracts(psi_only)
    assert not rc.check_skew_contracts(fixed_threshold)
    assert not rc.check_skew_on_ensemble(lambda *a, **k: "no skew", track)


def verdicts_by_spec(track: str) -> dict[str, dict[str, Any]]:
    """3c's prompt: silent failure when accuracy falls more than 5 points below the v1
    baseline; caught by "psi" (some PSI >= 0.25, contract matching), "contract" (only the
    contract check), "both" or "neither"."""
    t = get_track(track)
    verdicts = {}
    for version in ("v2", "v1-signflip"):
        run = run_ensemble(
            version,
            False,
            seed=t.ensemble_seed,
            upstream_name=t.upstream_model,
            downstream_name=t.downstream_model,
        )
        report = skew_check(
            run.train_features, run.serving_features, run.train_contract, run.serving_contract
        )
        drifted, broken = report["max_psi"] >= 0.25, not report["contract_ok"]
        caught = {(True, True): "both", (True, False): "psi", (False, True): "contract"}.get(
            (drifted, broken), "neither"
        )
        verdicts[version] = {
            "silent_failure": run.system_accuracy < run.baseline_accuracy - 0.05,
            "caught_by": caught,
        }
    return verdicts


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_ensemble_verdicts_check(track: str) -> None:
    right = verdicts_by_spec(track)
    assert rc.check_ensemble_verdicts(right, track)
    for version in right:
        flipped = {k: dict(v) for k, v in right.items()}
        flipped[version]["silent_failure"] = not flipped[version]["silent_failure"]
        assert not rc.check_ensemble_verdicts(flipped, track)
        others = {"psi", "contract", "both", "neither"} - {right[version]["caught_by"]}
        for wrong in others:
            renamed = {k: dict(v) for k, v in right.items()}
            renamed[version]["caught_by"] = wrong
            assert not rc.check_ensemble_verdicts(renamed, track)
    assert not rc.check_ensemble_verdicts({"v2": right["v2"]}, track)
    assert not rc.check_ensemble_verdicts([right], track)


# --------------------------------------------------------------------------- ledger


def ledger_by_spec(track: str, fraction: float) -> dict[str, Any]:
    """A shadow-only plan's ledger: N*, the requests, the hours, whether they fit the cycle."""
    t = get_track(track)
    n = sample_size(t.p_max, t.confidence)
    hours = hours_to_see(n, t.request_rate_per_s, fraction)
    return {
        "break_even_models": break_even(t.heterogeneity, t.toil_params),
        "shadow_requests": n,
        "shadow_hours": hours,
        "shadow_fraction": fraction,
        "staged": None,
        "release_feasible": hours <= t.release_cycle_hours,
        "policy": "strict_immutable_contracts",
        "justification": "word " * 100,
    }


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_ledger_numbers_check(track: str) -> None:
    t = get_track(track)
    for fraction in (t.shadow_fraction, t.max_shadow_fraction, 1.0):
        ledger = ledger_by_spec(track, fraction)
        assert rc.check_ledger_numbers(ledger, track), fraction
        for key, wrong in [
            ("break_even_models", ledger["break_even_models"] + 1),
            ("shadow_requests", ledger["shadow_requests"] - 1),
            ("shadow_hours", ledger["shadow_hours"] * 1.01),
            ("release_feasible", not ledger["release_feasible"]),
            ("release_feasible", "yes"),
            ("shadow_fraction", 0.0),
        ]:
            assert not rc.check_ledger_numbers({**ledger, key: wrong}, track), (fraction, key)
    assert not rc.check_ledger_numbers({"break_even_models": 3}, track)
    assert not rc.check_ledger_numbers(None, track)


def test_ledger_policy_follows_the_evidence() -> None:
    # Every track's evidence shows a silent failure (verdicts_by_spec), so only strict
    # immutable contracts are consistent with it.
    for track in TRACK_NAMES:
        silent = any(v["silent_failure"] for v in verdicts_by_spec(track).values())
        loose_ok = rc.check_ledger_policy({"policy": "loose_versioning"}, track)
        assert loose_ok is not silent
        assert rc.check_ledger_policy({"policy": "strict_immutable_contracts"}, track)
        assert not rc.check_ledger_policy({"policy": "whatever"}, track)
        assert not rc.check_ledger_policy({}, track)


@pytest.mark.parametrize(
    ("words", "passes"), [(59, False), (60, True), (130, True), (200, True), (201, False)]
)
def test_the_justification_is_60_to_200_words(words: int, passes: bool) -> None:
    text = " ".join(["because"] * words)
    assert rc.check_ledger_length({"justification": text}) is passes


@pytest.mark.parametrize("ledger", [{}, {"justification": ["a"] * 100}, None, "text"])
def test_a_ledger_without_a_text_justification_fails(ledger: Any) -> None:
    assert not rc.check_ledger_length(ledger)


# --------------------------------------------------------------------------- crisis answers


@pytest.mark.parametrize(
    ("answer", "expected", "matches"),
    [
        (1.0000001, 1.0, True),  # within the default 1e-6 relative
        (1.00001, 1.0, False),
        ("one", 1.0, False),
        (True, True, True),
        (np.bool_(False), False, True),
        (1, True, False),  # a number is not a yes/no
        ("uae", "uae", True),
        ("UAE", "uae", False),
        (["uk", "uae"], ["uae", "uk"], True),  # names: order carries no meaning
        (["uae"], ["uae", "uk"], False),
        ("uae", ["uae"], False),
        ([1.0, 2.0], [2.0, 1.0], False),  # numbers: order matters
        ([1.0, 2.0], (1.0, 2.0), True),
        ({"a": 1.0, "b": ["x"]}, {"a": 1.0, "b": ["x"]}, True),
        ({"a": 1.0}, {"a": 1.0, "b": 2.0}, False),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, {"a": 1.0, "b": 2.0}, False),
        ({"a": 1.1}, {"a": 1.0}, False),
        ([[1.0, 2.0]], [[1.0, 2.0]], True),
        (None, 1.0, False),
    ],
)
def test_answers_match(answer: Any, expected: Any, matches: bool) -> None:
    assert rc.answers_match(answer, expected) is matches


@pytest.mark.parametrize("track", TRACK_NAMES)
def test_a_wrong_crisis_answer_fails(track: str) -> None:
    assert not rc.check_crisis_answer(None, track)
    assert not rc.check_crisis_answer({"not": "it"}, track)
