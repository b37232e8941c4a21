"""Tests of opsmodel.crisis_data: deterministic crisis data with the properties the story needs.

The properties are checked on the tracks' own records and on ten other seeds, since hidden
tests draw fresh data under other seeds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from opsmodel.crisis_data import (
    crisis_inputs,
    describe_crisis,
    edge_latency_samples,
    edge_over_budget_counts,
    nomad_fps_samples,
    pioneer_feature_store,
)
from opsmodel.feature_store import FeatureStore
from opsmodel.tracks import TRACKS

EDGE = TRACKS["edge_guardian"].crisis
NOMAD = TRACKS["mobile_nomad"].crisis
PIONEER = TRACKS["tiny_pioneer"].crisis
SEEDS = range(10)


# ------------------------------------------------------------------ Edge Guardian


def test_edge_samples_are_deterministic_and_depend_on_the_seed() -> None:
    a, b = edge_latency_samples(EDGE), edge_latency_samples(EDGE)
    for version in EDGE.hardware_versions:
        np.testing.assert_array_equal(a[version], b[version])
    other = edge_latency_samples(dataclasses.replace(EDGE, seed=EDGE.seed + 1))
    assert not np.array_equal(a["hw1"], other["hw1"])


def test_edge_slice_data_do_not_depend_on_later_slices() -> None:
    # One child seed per slice: dropping the oldest version leaves the others' data alone.
    fewer = dataclasses.replace(
        EDGE,
        hardware_versions=EDGE.hardware_versions[:-1],
        over_budget_rate_per_version=EDGE.over_budget_rate_per_version[:-1],
    )
    a, b = edge_latency_samples(EDGE), edge_latency_samples(fewer)
    # hw2 is now the oldest, so its overruns move to the long tail; the others are equal.
    for version in fewer.hardware_versions[:-1]:
        np.testing.assert_array_equal(a[version], b[version])
    budget = EDGE.latency_budget_ms
    hw2_a, hw2_b = a["hw2"], b["hw2"]
    np.testing.assert_array_equal(hw2_a > budget, hw2_b > budget)
    np.testing.assert_array_equal(hw2_a[hw2_a <= budget], hw2_b[hw2_b <= budget])


def test_edge_samples_shape_order_and_values() -> None:
    samples = edge_latency_samples(EDGE)
    assert tuple(samples) == EDGE.hardware_versions  # newest first, oldest last
    for x in samples.values():
        assert x.shape == (EDGE.shadow_requests_per_version,)
        assert x.dtype == np.float64
        assert np.all(np.isfinite(x)) and np.all(x > 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_edge_newer_versions_meet_p99_and_oldest_has_the_100ms_tail(seed: int) -> None:
    crisis = dataclasses.replace(EDGE, seed=seed)
    budget = crisis.latency_budget_ms
    samples = edge_latency_samples(crisis)
    *newer, oldest = crisis.hardware_versions
    for version in newer:
        # Well under the budget: the empirical p99 is under it (true p99 about 8.5 ms).
        assert np.quantile(samples[version], 0.99) < budget
    x = samples[oldest]
    tail = x[x > budget]
    assert tail.size > crisis.p99_exceedance_max * x.size
    # The overruns sit around tail_ms (lognormal, median tail_ms, 25% spread).
    assert 0.7 * crisis.tail_ms < np.median(tail) < 1.3 * crisis.tail_ms
    assert np.quantile(x, 0.99) > 5 * budget


@pytest.mark.parametrize("seed", SEEDS)
def test_edge_over_budget_counts_are_binomial_with_the_true_rates(seed: int) -> None:
    crisis = dataclasses.replace(EDGE, seed=seed)
    samples = edge_latency_samples(crisis)
    counts = edge_over_budget_counts(crisis)
    assert tuple(counts) == crisis.hardware_versions
    for version, rate in zip(
        crisis.hardware_versions, crisis.over_budget_rate_per_version, strict=True
    ):
        k, n = counts[version]
        assert isinstance(k, int) and isinstance(n, int)
        # Independent count with a plain loop.
        assert k == sum(1 for v in samples[version].tolist() if v > crisis.latency_budget_ms)
        assert n == crisis.shadow_requests_per_version
        # Two-sided exact binomial test against the true rate: 40 tests in all, so a
        # 1e-4 level leaves room while catching a wrong rate (a 2x error has p ~ 1e-9
        # for the oldest version and ~ 1e-4 or less for the others).
        assert stats.binomtest(k, n, rate).pvalue > 1e-4


def test_edge_counts_of_the_track_record() -> None:
    # The oldest slice rolls back clearly at the track's confidence: its exact lower bound
    # (scipy beta, independent of the package's bounds) is far above 1%.
    k, n = edge_over_budget_counts(EDGE)["hw1"]
    assert stats.beta.ppf(1 - EDGE.confidence, k, n - k + 1) > 2 * EDGE.p99_exceedance_max


def test_edge_within_budget_draws_stay_strictly_under_the_budget() -> None:
    # With every true rate at 0, no request may be over (or at) the budget.
    crisis = dataclasses.replace(EDGE, over_budget_rate_per_version=(0.0, 0.0, 0.0, 0.0))
    samples = edge_latency_samples(crisis)
    assert all(np.all(x < crisis.latency_budget_ms) for x in samples.values())
    assert all(k == 0 for k, _ in edge_over_budget_counts(crisis).values())


# ------------------------------------------------------------------- Mobile Nomad


def test_nomad_samples_are_deterministic_and_depend_on_the_seed() -> None:
    a, b = nomad_fps_samples(NOMAD), nomad_fps_samples(NOMAD)
    for region in NOMAD.regions:
        np.testing.assert_array_equal(a[region][0], b[region][0])
        np.testing.assert_array_equal(a[region][1], b[region][1])
    other = nomad_fps_samples(dataclasses.replace(NOMAD, seed=NOMAD.seed + 1))
    assert not np.array_equal(a["uae"][1], other["uae"][1])


def test_nomad_samples_shape_and_range() -> None:
    data = nomad_fps_samples(NOMAD)
    assert tuple(data) == NOMAD.regions and len(data) == 10
    for before, after in data.values():
        for x in (before, after):
            assert x.shape == (NOMAD.samples_per_region,)
            assert np.all(x >= 0) and np.all(x <= NOMAD.target_fps)  # vsync cap


def _drop(before: np.ndarray, after: np.ndarray) -> float:
    return (before.mean() - after.mean()) / before.mean()


@pytest.mark.parametrize("seed", [NOMAD.seed, *SEEDS])
def test_nomad_regressed_region_drops_while_fleet_mean_barely_moves(seed: int) -> None:
    crisis = dataclasses.replace(NOMAD, seed=seed)
    data = nomad_fps_samples(crisis)
    k = len(crisis.regions)
    for region, (before, after) in data.items():
        drop = _drop(before, after)
        p = stats.ttest_ind(before, after, equal_var=False, alternative="greater").pvalue
        if region in crisis.regressed_regions:
            assert drop >= crisis.regression_fraction
            assert p <= crisis.alpha / k
        elif region in crisis.decoy_regions:
            # Significant but small: only the size gate keeps it out.
            assert 0 < drop < crisis.regression_fraction
            assert p <= crisis.alpha / k
        else:
            assert drop < 0.5 * crisis.regression_fraction
    all_before = np.concatenate([b for b, _ in data.values()])
    all_after = np.concatenate([a for _, a in data.values()])
    assert abs(_drop(all_before, all_after)) < 0.02


# ------------------------------------------------------------------- Tiny Pioneer


def test_pioneer_store_has_the_stale_wake_word_pin() -> None:
    store = pioneer_feature_store(PIONEER)
    assert isinstance(store, FeatureStore)
    feature = "noise_isolation_embedding"
    assert store.versions(feature) == ("v1", "v2")
    assert store.served(feature).version == "v2"
    assert {(p.consumer, p.version) for p in store.pins()} == {
        ("wake_word", "v1"),
        ("voice_activity", "v2"),
    }
    [mismatch] = store.consistency_check()
    assert (mismatch.consumer, mismatch.pinned_version, mismatch.served_version) == (
        "wake_word",
        "v1",
        "v2",
    )
    # A silent failure: same dims and dtype, another normalisation, so another contract.
    assert mismatch.pinned_hash != mismatch.served_hash
    v1, v2 = store.get(feature, "v1").schema, store.get(feature, "v2").schema
    assert (v1["dims"], v1["dtype"]) == (v2["dims"], v2["dtype"])


def test_pioneer_store_is_rebuilt_on_every_call() -> None:
    first = pioneer_feature_store(PIONEER)
    first.pin("wake_word", "noise_isolation_embedding", "v2")  # retrain the detector ...
    assert first.consistency_check() == ()
    assert len(pioneer_feature_store(PIONEER).consistency_check()) == 1  # ... only there


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "function", [edge_latency_samples, edge_over_budget_counts, nomad_fps_samples]
)
@pytest.mark.parametrize("bad", [None, "edge_guardian", 42, PIONEER])
def test_generators_reject_the_wrong_record(function, bad) -> None:
    with pytest.raises(ValueError, match="crisis"):
        function(bad)


@pytest.mark.parametrize("bad", [None, "tiny_pioneer", EDGE, NOMAD])
def test_pioneer_store_rejects_the_wrong_record(bad) -> None:
    with pytest.raises(ValueError, match="crisis"):
        pioneer_feature_store(bad)


# ---------------------------------------------------- crisis_inputs and describe_crisis

INPUT_KEYS = {
    "cloud_titan": {
        "n_models",
        "metrics_per_model",
        "checks_per_day",
        "false_alerts_per_day_budget",
    },
    "edge_guardian": {
        "latency_samples",
        "over_budget_counts",
        "latency_budget_ms",
        "exceedance_max",
        "confidence",
    },
    "mobile_nomad": {"fps_samples", "target_fps", "regression_fraction", "alpha"},
    "tiny_pioneer": {"feature_store", "feature", "upstream_model", "downstream_model"},
}


@pytest.mark.parametrize("key", list(INPUT_KEYS))
def test_crisis_inputs_keys_and_describe_crisis_names_them(key: str) -> None:
    inputs = crisis_inputs(TRACKS[key].name)
    assert set(inputs) == INPUT_KEYS[key]
    text = describe_crisis(key)
    assert text.splitlines()[0] == f"{TRACKS[key].name}: {TRACKS[key].crisis_title}"
    flat = " ".join(text.split())
    for name in INPUT_KEYS[key]:
        assert name in flat
    assert "Answer: crisis_answer =" in flat


def test_crisis_inputs_carry_the_record_and_its_data() -> None:
    ct = crisis_inputs("cloud_titan")
    record = TRACKS["cloud_titan"].crisis
    assert (ct["n_models"], ct["metrics_per_model"], ct["checks_per_day"]) == (
        record.n_models,
        record.metrics_per_model,
        record.checks_per_day,
    )
    eg = crisis_inputs("edge_guardian")
    assert eg["over_budget_counts"] == edge_over_budget_counts(EDGE)
    assert (eg["exceedance_max"], eg["confidence"]) == (EDGE.p99_exceedance_max, EDGE.confidence)
    np.testing.assert_array_equal(eg["latency_samples"]["hw1"], edge_latency_samples(EDGE)["hw1"])
    mn = crisis_inputs("mobile_nomad")
    np.testing.assert_array_equal(mn["fps_samples"]["uae"][1], nomad_fps_samples(NOMAD)["uae"][1])
    assert (mn["regression_fraction"], mn["alpha"]) == (0.10, 0.05)
    tp = crisis_inputs("tiny_pioneer")
    assert [m.consumer for m in tp["feature_store"].consistency_check()] == ["wake_word"]
    assert (tp["upstream_model"], tp["downstream_model"]) == ("noise_isolation", "wake_word")


def test_crisis_inputs_are_fresh_on_every_call() -> None:
    first = crisis_inputs("mobile_nomad")
    first["fps_samples"]["uae"][1][:] = 0.0  # vandalise the returned arrays
    assert crisis_inputs("mobile_nomad")["fps_samples"]["uae"][1].min() > 0


def test_describe_crisis_states_the_rule_not_the_answer() -> None:
    # The answers (crises.crisis_answer) must not appear in the task text.
    assert "uae" not in describe_crisis("mobile_nomad")
    assert "wake_word" not in describe_crisis("tiny_pioneer")
    assert "4.14" not in describe_crisis("cloud_titan")
    assert "Clopper-" in describe_crisis("edge_guardian")
    assert "Bonferroni" in describe_crisis("mobile_nomad")


@pytest.mark.parametrize("function", [crisis_inputs, describe_crisis])
@pytest.mark.parametrize("bad", [None, "Cloud Titn", 3, EDGE])
def test_crisis_inputs_and_describe_reject_bad_tracks(function, bad) -> None:
    with pytest.raises(ValueError, match="name"):
        function(bad)


def test_every_crisis_function_handles_every_kind_of_crisis() -> None:
    # One place knows the kinds: a handler table that misses one is refused, whatever the track.
    from opsmodel.crisis_data import CRISIS_KINDS, by_crisis_kind
    from opsmodel.tracks import TRACKS

    track = TRACKS["cloud_titan"]
    handlers = {kind: (lambda crisis, t, k=kind: k.__name__) for kind in CRISIS_KINDS}
    assert by_crisis_kind(track, handlers) == "CloudTitanCrisis"
    assert {type(t.crisis) for t in TRACKS.values()} == set(CRISIS_KINDS)
    del handlers[CRISIS_KINDS[-1]]
    with pytest.raises(ValueError, match="TinyPioneerCrisis"):
        by_crisis_kind(track, handlers)
