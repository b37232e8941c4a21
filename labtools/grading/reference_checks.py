"""Hidden-test comparisons: a student's answer against the reference :mod:`opsmodel`.

The hidden Otter test cases of the master notebook call these functions on the trusted side
of the grader. Each takes the student's function (a proxy that runs it in the student's
kernel) or answer, calls it on the track's inputs and on fresh inputs drawn here, and returns
``True`` only if every case agrees with the reference. A failing check returns ``False``:
the test case's own ``failure_message`` is what the student reads, so no expected value
leaves this module.

Random cases use seeds of their own, different from anything in the student notebook, so a
student cannot tune answers to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from opsmodel import crises, ensemble, skew, sprt, toil
from opsmodel.canary_planner import MAX_ITERATIONS, PlanOutcome, evaluate_plan
from opsmodel.population_stability import psi as ref_psi
from opsmodel.sample_size import zero_failure_sample_size as ref_sample_size
from opsmodel.shadow import shadow_hours as ref_shadow_hours
from opsmodel.toil_params import ToilParams
from opsmodel.tracks import get_track

# Floats from the student's numpy code differ from the reference's in the last bits only;
# 1e-9 relative leaves room for a different but equivalent order of operations.
RTOL = 1e-9
# PSI sums logs of clipped proportions: 1e-7 absolute tolerates summation order.
PSI_ATOL = 1e-7
# Seeds of the hidden random cases (not used anywhere a student can see).
_SEED = 20_261_128


def _close(actual: Any, expected: Any, *, rtol: float = RTOL, atol: float = 1e-9) -> bool:
    """Whether a student's numeric answer matches, False (not an error) on a bad type."""
    try:
        a = np.asarray(actual, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == e.shape and bool(np.allclose(a, e, rtol=rtol, atol=atol))


def _is_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _random_params(rng: np.random.Generator) -> ToilParams:
    return ToilParams(
        hourly_cost_usd=float(rng.uniform(60, 250)),
        alert_hours=float(rng.uniform(5, 120)),
        deploy_hours=float(rng.uniform(2, 60)),
        dependency_hours=float(rng.uniform(0.5, 30)),
        platform_hours=float(rng.uniform(0, 25)),
        platform_capex_usd=float(rng.uniform(1e5, 3e6)),
        horizon_years=float(rng.choice([1.0, 2.0, 3.0])),
    )


# ---------------------------------------------------------------- Part 1: toil and ROI


def check_toil_on_track(manual_toil_hours: Callable, track_name: str) -> bool:
    """The student's toil at the track's fleet size (and 1, 2 and twice it) matches."""
    t = get_track(track_name)
    sizes = (1, 2, t.n_models, 2 * t.n_models)
    return all(
        _close(
            manual_toil_hours(n, t.heterogeneity, t.toil_params),
            toil.manual_toil_hours(n, t.heterogeneity, t.toil_params),
        )
        for n in sizes
    )


def check_toil_random(manual_toil_hours: Callable) -> bool:
    """Twenty random fleets with random parameters."""
    rng = np.random.default_rng(_SEED + 1)
    for _ in range(20):
        n = int(rng.integers(0, 400))
        h = float(rng.uniform(0, 1))
        params = _random_params(rng)
        if not _close(manual_toil_hours(n, h, params), toil.manual_toil_hours(n, h, params)):
            return False
    return True


def check_toil_vectorised(manual_toil_hours: Callable) -> bool:
    """An array of N in gives an array of the same shape out."""
    n = np.array([0, 1, 2, 10, 100, 250])
    return _close(manual_toil_hours(n, 0.4, ToilParams()), toil.manual_toil_hours(n, 0.4))


def check_platform_cost(platform_cost_usd: Callable, track_name: str) -> bool:
    """Platform cost on the track's parameters and on random ones."""
    t = get_track(track_name)
    rng = np.random.default_rng(_SEED + 2)
    cases = [(n, t.toil_params) for n in (0, 1, t.n_models)]
    cases += [(int(rng.integers(0, 500)), _random_params(rng)) for _ in range(10)]
    return all(
        _close(platform_cost_usd(n, p), toil.platform_cost_usd(n, p), atol=1e-6) for n, p in cases
    )


def check_roi(platform_roi_usd: Callable, track_name: str) -> bool:
    """ROI on the track's fleet and on random fleets."""
    t = get_track(track_name)
    rng = np.random.default_rng(_SEED + 3)
    cases = [(n, t.heterogeneity, t.toil_params) for n in (1, t.n_models, 3 * t.n_models)]
    cases += [
        (int(rng.integers(1, 300)), float(rng.uniform(0, 1)), _random_params(rng))
        for _ in range(10)
    ]
    return all(
        _close(platform_roi_usd(n, h, p), toil.platform_roi_usd(n, h, p), atol=1e-6)
        for n, h, p in cases
    )


def check_break_even_on_track(break_even_models: Callable, track_name: str) -> bool:
    """N* for the track's parameters at its own heterogeneity, half of it and 1.

    Three heterogeneities, because one whole number in a narrow range could be another
    track's (or another variant's) N* by chance; three differing ones cannot.
    """
    t = get_track(track_name)
    for h in (t.heterogeneity, t.heterogeneity / 2, 1.0):
        answer = break_even_models(h, t.toil_params)
        if not _is_whole(answer) or int(answer) != toil.break_even_models(h, t.toil_params):
            return False
    return True


def check_break_even_edges(break_even_models: Callable) -> bool:
    """An exact tie is not break-even; a platform that never pays off gives None."""
    tie = ToilParams(alert_hours=90.0, deploy_hours=40.0, dependency_hours=0.0, platform_hours=0.0)
    never = ToilParams(alert_hours=5.0, deploy_hours=0.0, dependency_hours=0.0, platform_hours=10.0)
    tie_answer = break_even_models(0.0, tie, 10_000)
    never_answer = break_even_models(0.5, never, 10_000)
    return (
        _is_whole(tie_answer)
        and int(tie_answer) == toil.break_even_models(0.0, tie, 10_000)
        and never_answer is None
        and toil.break_even_models(0.5, never, 10_000) is None
    )


def check_break_even_sweep(break_even_models: Callable) -> bool:
    """N* over a sweep of heterogeneity with the default parameters."""
    for h in (0.0, 0.2, 0.45, 0.7, 1.0):
        answer = break_even_models(h, ToilParams())
        if not _is_whole(answer) or int(answer) != toil.break_even_models(h, ToilParams()):
            return False
    return True


# ---------------------------------------------------------------- Part 2: canary


def check_sample_size_on_track(zero_failure_sample_size: Callable, track_name: str) -> bool:
    """The track's own (p_max, confidence) target and the targets next to it.

    A track's target may be a public example's (Cloud Titan's is the rule of three's), so the
    neighbours (half and twice the rate, half the risk left) keep a function that is right
    only on the public inputs from earning this case.
    """
    t = get_track(track_name)
    risk = 1.0 - t.confidence
    targets = [
        (t.p_max, t.confidence),
        (t.p_max / 2, t.confidence),
        (2 * t.p_max, t.confidence),
        (t.p_max, 1.0 - risk / 2),
    ]
    for p, c in targets:
        answer = zero_failure_sample_size(p, c)
        if not (_is_whole(answer) and int(answer) == ref_sample_size(p, c)):
            return False
    return True


def check_sample_size_boundaries(zero_failure_sample_size: Callable) -> bool:
    """Exact boundaries, where the naive ceil of a float ratio is off by one."""
    cases = [(0.99, 0.9999), (0.5, 0.75), (0.5, 0.875), (0.1, 0.19), (0.001, 0.95)]
    return all(
        _is_whole(zero_failure_sample_size(p, c))
        and int(zero_failure_sample_size(p, c)) == ref_sample_size(p, c)
        for p, c in cases
    )


def check_sample_size_random(zero_failure_sample_size: Callable) -> bool:
    """Fifteen random (p_max, confidence) pairs."""
    rng = np.random.default_rng(_SEED + 4)
    for _ in range(15):
        p = float(10 ** rng.uniform(-6, -0.5))
        c = float(rng.uniform(0.5, 0.999))
        answer = zero_failure_sample_size(p, c)
        if not _is_whole(answer) or int(answer) != ref_sample_size(p, c):
            return False
    return True


def check_shadow_hours(shadow_hours: Callable, track_name: str) -> bool:
    """Shadow hours at the track's rate and fraction, and at random ones."""
    t = get_track(track_name)
    rng = np.random.default_rng(_SEED + 5)
    cases = [(ref_sample_size(t.p_max, t.confidence), t.request_rate_per_s, t.shadow_fraction)]
    cases += [
        (int(rng.integers(1, 10**6)), float(10 ** rng.uniform(-2, 4)), float(rng.uniform(0.01, 1)))
        for _ in range(10)
    ]
    return all(_close(shadow_hours(n, r, f), ref_shadow_hours(n, r, f)) for n, r, f in cases)


def reference_canary_outcome(plan: Any, track_name: str) -> PlanOutcome | None:
    """The reference outcome of a submitted plan dict, or None when the dict is malformed.

    Only the plan's knobs are read (``shadow_fraction`` and ``staged``, which is None,
    missing, or a mapping of ``start_hours``, ``stage_hours``, ``fractions``); the
    timeline, live exposure and feasibility are recomputed with the reference sample size
    and shadow hours, never taken from the dict. For the ledger's numbers as well.
    """
    t = get_track(track_name)
    try:
        fraction = float(plan["shadow_fraction"])
        staged = plan.get("staged")
        return evaluate_plan(
            t,
            shadow_fraction=fraction,
            staged=staged,
            zero_failure_sample_size=ref_sample_size,
            shadow_hours=ref_shadow_hours,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def check_canary_plan(plan: Mapping[str, Any], track_name: str) -> bool:
    """The plan meets the target within the cycle, the shadow capacity and the live budget.

    Re-evaluated with the reference functions (:func:`reference_canary_outcome`), so a
    wrong sample size or shadow-hours function does not turn an infeasible plan feasible,
    and a plan found with them is not punished twice. The plan must have been found in at
    most 10 tries. The track's starting plan (its ``shadow_fraction``, shadow only) is
    infeasible on every track by design, so the untouched cell earns nothing.
    """
    try:
        iteration = int(plan["iteration"])
    except (KeyError, TypeError, ValueError):
        return False
    if not 1 <= iteration <= MAX_ITERATIONS:
        return False
    outcome = reference_canary_outcome(plan, track_name)
    return outcome is not None and outcome.feasible


def _first_failure_count(n: int, t: Any, decision: str) -> int | None:
    """Smallest d in [0, n] at which the SPRT decides ``decision`` or beyond, by bisection.

    The LLR grows with d (p1 > p0), so along d the decision runs promote -> continue ->
    rollback: "promote or beyond" is "not promote" for the first non-promoting d.
    """

    def reached(d: int) -> bool:
        v = sprt.sprt_decision(d, n, t.p0, t.p1)
        return v == "rollback" if decision == "rollback" else v != "promote"

    if not reached(n):
        return None
    low, high = 0, n
    while low < high:
        mid = (low + high) // 2
        if reached(mid):
            high = mid
        else:
            low = mid + 1
    return low


def reference_sprt_lines(track_name: str) -> tuple[int, int]:
    """(largest promoting, smallest rolling-back) failure count at the track's checkpoint."""
    t = get_track(track_name)
    n = t.sprt_checkpoint_requests
    first_not_promote = _first_failure_count(n, t, "not promote")
    promote_max = n if first_not_promote is None else first_not_promote - 1
    rollback_min = _first_failure_count(n, t, "rollback")
    return promote_max, (-1 if rollback_min is None else rollback_min)


def check_sprt_lines(promote_max: Any, rollback_min: Any, track_name: str) -> bool:
    """Largest promoting and smallest rolling-back failure counts at the checkpoint."""
    if not (_is_whole(promote_max) and _is_whole(rollback_min)):
        return False
    return (int(promote_max), int(rollback_min)) == reference_sprt_lines(track_name)


# ---------------------------------------------------------------- Part 3: skew


def check_psi_examples(psi: Callable) -> bool:
    """The spec's worked example, repeated values (merged edges) and values out of range."""
    ties = np.repeat([1.0, 2.0, 3.0], [50, 30, 20])
    cases = [
        (np.arange(1, 101), np.arange(11, 111), 4),
        (ties, np.repeat([1.0, 2.0, 3.0, 4.0], [20, 30, 30, 20]), 10),
        (np.linspace(0, 1, 200), np.linspace(2, 3, 50), 5),
    ]
    return all(
        _close(psi(ref, cur, bins), ref_psi(ref, cur, bins), rtol=1e-7, atol=PSI_ATOL)
        for ref, cur, bins in cases
    )


def check_psi_random(psi: Callable) -> bool:
    """Random features: other sizes, shifts, scales and bin counts."""
    rng = np.random.default_rng(_SEED + 6)
    for bins in (5, 10, 20):
        ref = rng.normal(0, 1, int(rng.integers(200, 1500)))
        cur = rng.normal(
            rng.uniform(-0.5, 0.5), rng.uniform(0.7, 1.5), int(rng.integers(200, 1500))
        )
        if not _close(psi(ref, cur, bins), ref_psi(ref, cur, bins), rtol=1e-7, atol=PSI_ATOL):
            return False
    return True


def _same_report(answer: Any, expected: Mapping[str, Any]) -> bool:
    if not isinstance(answer, Mapping):
        return False
    try:
        return (
            _close(list(answer["psi"]), list(expected["psi"]), rtol=1e-7, atol=PSI_ATOL)
            and _close(answer["max_psi"], expected["max_psi"], rtol=1e-7, atol=PSI_ATOL)
            and bool(answer["contract_ok"]) == bool(expected["contract_ok"])
            and bool(answer["skewed"]) == bool(expected["skewed"])
        )
    except (KeyError, TypeError):
        return False


# Rows of the ensemble's features sent to the student's kernel: enough for stable PSI with
# ten bins, small enough to keep each call's message well under the sandbox's size cap.
_ROWS = 1000


def _track_ensemble(t: Any, version: str) -> ensemble.EnsembleRun:
    """The track's ensemble (its seed and models) with ``version`` upstream, not retrained."""
    return ensemble.run_ensemble(
        version,
        False,
        seed=t.ensemble_seed,
        upstream_name=t.upstream_model,
        downstream_name=t.downstream_model,
    )


def check_skew_on_ensemble(skew_check: Callable, track_name: str) -> bool:
    """The ensemble's unchanged, rotated (v2) and sign-flipped upstream features."""
    t = get_track(track_name)
    for version in ensemble.UPSTREAM_VERSIONS:
        run = _track_ensemble(t, version)
        args = (
            run.train_features[:_ROWS],
            run.serving_features[:_ROWS],
            run.train_contract,
            run.serving_contract,
        )
        if not _same_report(skew_check(*args), skew.skew_check(*args)):
            return False
    return True


def check_skew_contracts(skew_check: Callable) -> bool:
    """A contract mismatch alone is skew; the threshold argument is honoured."""
    rng = np.random.default_rng(_SEED + 7)
    base = rng.normal(size=(800, 2))
    shifted = base + np.array([0.45, 0.0])
    v1, v2 = {"feature": "f", "version": 1}, {"feature": "f", "version": 2}
    cases = [
        ((base, base.copy(), v1, v2), {}),
        ((base, shifted, v1, v1), {"psi_threshold": 0.05}),
        ((base, shifted, v1, v1), {"psi_threshold": 5.0}),
    ]
    return all(
        _same_report(skew_check(*args, **kwargs), skew.skew_check(*args, **kwargs))
        for args, kwargs in cases
    )


def reference_ensemble_verdicts(track_name: str) -> dict[str, dict[str, Any]]:
    """What the reference ensemble and skew check show for each risky upstream change."""
    t = get_track(track_name)
    verdicts = {}
    for version in ("v2", "v1-signflip"):
        run = _track_ensemble(t, version)
        report = skew.skew_check(
            run.train_features, run.serving_features, run.train_contract, run.serving_contract
        )
        drifted = report["max_psi"] >= 0.25
        caught = {
            (True, False): "both",
            (True, True): "psi",
            (False, False): "contract",
            (False, True): "neither",
        }[(drifted, bool(report["contract_ok"]))]
        verdicts[version] = {
            "silent_failure": run.system_accuracy < run.baseline_accuracy - 0.05,
            "caught_by": caught,
        }
    return verdicts


def check_ensemble_verdicts(verdicts: Any, track_name: str) -> bool:
    """Both verdicts (silent failure, which check catches it) match the reference."""
    if not isinstance(verdicts, Mapping):
        return False
    expected = reference_ensemble_verdicts(track_name)
    try:
        return all(
            bool(verdicts[v]["silent_failure"]) == e["silent_failure"]
            and verdicts[v]["caught_by"] == e["caught_by"]
            for v, e in expected.items()
        )
    except (KeyError, TypeError):
        return False


# ---------------------------------------------------------------- crises and ledger


def answers_match(answer: Any, expected: Any, *, rtol: float = 1e-6) -> bool:
    """Structural equality: floats within ``rtol``, sequences and mappings element-wise.

    Sequences of strings compare as sets of names (order carries no meaning in a list of
    regions or consumers).
    """
    if isinstance(expected, Mapping):
        return (
            isinstance(answer, Mapping)
            and set(map(str, answer)) == set(map(str, expected))
            and all(answers_match(answer[k], v, rtol=rtol) for k, v in expected.items())
        )
    if isinstance(expected, str):
        return isinstance(answer, str) and answer == expected
    if isinstance(expected, bool):
        return isinstance(answer, (bool, np.bool_)) and bool(answer) == expected
    if isinstance(expected, (int, float, np.integer, np.floating)):
        return _close(answer, expected, rtol=rtol, atol=1e-12)
    if isinstance(expected, Sequence):
        if not isinstance(answer, Sequence) or isinstance(answer, str):
            return False
        if all(isinstance(x, str) for x in expected):
            return sorted(map(str, answer)) == sorted(expected)
        return len(answer) == len(expected) and all(
            answers_match(a, e, rtol=rtol) for a, e in zip(answer, expected, strict=True)
        )
    return answer == expected


def check_crisis_answer(answer: Any, track_name: str) -> bool:
    """The track's crisis answer against the reference analysis of its data."""
    return answers_match(answer, crises.crisis_answer(get_track(track_name)))


def check_ledger_numbers(ledger: Any, track_name: str) -> bool:
    """N*, the plan's requests and hours (re-evaluated from its knobs) and feasibility.

    The ledger's ``shadow_fraction`` and ``staged`` are the plan's knobs; the hours until
    the target is met are recomputed with the reference (:func:`reference_canary_outcome`),
    and ``release_feasible`` must say whether those hours fit in one release cycle.
    """
    t = get_track(track_name)
    try:
        n_star = ledger["break_even_models"]
        requests = ledger["shadow_requests"]
        hours = float(ledger["shadow_hours"])
        fraction = float(ledger["shadow_fraction"])
        feasible = ledger["release_feasible"]
        knobs = {"shadow_fraction": fraction, "staged": ledger.get("staged")}
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    if not (0.0 < fraction <= 1.0) or not math.isfinite(hours):
        return False
    outcome = reference_canary_outcome(knobs, track_name)
    if outcome is None:
        return False
    return (
        _is_whole(n_star)
        and int(n_star) == toil.break_even_models(t.heterogeneity, t.toil_params)
        and _is_whole(requests)
        and int(requests) == outcome.requests
        and _close(hours, outcome.hours, rtol=1e-6)
        and isinstance(feasible, (bool, np.bool_))
        and bool(feasible) == (outcome.hours <= t.release_cycle_hours)
    )


def check_ledger_policy(ledger: Any, track_name: str) -> bool:
    """Strict contracts whenever the evidence shows a silent failure."""
    try:
        policy = ledger["policy"]
    except (KeyError, TypeError):
        return False
    evidence = reference_ensemble_verdicts(track_name)
    silent = any(v["silent_failure"] for v in evidence.values())
    allowed = (
        {"strict_immutable_contracts"}
        if silent
        else {
            "strict_immutable_contracts",
            "loose_versioning",
        }
    )
    return policy in allowed


#: Word bounds of the ledger's justification.
JUSTIFICATION_WORDS = (60, 200)


def check_ledger_length(ledger: Any) -> bool:
    """The justification is a string of 60 to 200 words."""
    try:
        text = ledger["justification"]
    except (KeyError, TypeError):
        return False
    if not isinstance(text, str):
        return False
    low, high = JUSTIFICATION_WORDS
    return low <= len(text.split()) <= high
