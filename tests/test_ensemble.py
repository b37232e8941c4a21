"""Tests of opsmodel.ensemble: the margins the lab's story rests on, and the API.

Independent references: the Bayes accuracy of the simulated task from scipy's normal
distribution (class means +-mu with |mu| = 1.2, isotropic noise), PSI from
opsmodel.population_stability (itself checked against exact arithmetic in
test_population_stability.py), and contract hashes compared
with each other.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from opsmodel import ensemble
from opsmodel.contracts import contract_hash
from opsmodel.ensemble import (
    CHANCE_ACCURACY,
    UPSTREAM_VERSIONS,
    EnsembleRun,
    run_ensemble,
    upstream_contract,
)
from opsmodel.population_stability import psi
from opsmodel.skew import skew_check

SEEDS = [0, 1, 2, 3]


def _per_feature_psi(run: EnsembleRun) -> list[float]:
    return [
        psi(run.train_features[:, j], run.serving_features[:, j])
        for j in range(run.train_features.shape[1])
    ]


def test_versions_and_chance():
    assert UPSTREAM_VERSIONS == ("v1", "v2", "v1-signflip")
    assert CHANCE_ACCURACY == 0.5
    assert run_ensemble("v1", False).chance_accuracy == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_v2_alone_beats_v1_alone_by_three_points(seed):
    v1 = run_ensemble("v1", False, seed=seed)
    v2 = run_ensemble("v2", False, seed=seed)
    assert v2.probe_accuracy - v1.probe_accuracy >= 0.03


@pytest.mark.parametrize("seed", SEEDS)
def test_v1_classifier_on_v2_features_collapses_to_chance(seed):
    run = run_ensemble("v2", False, seed=seed)
    assert run.system_accuracy <= run.chance_accuracy + 0.10
    # ... while the same system on v1 features was far better.
    assert run.baseline_accuracy >= run.chance_accuracy + 0.25


@pytest.mark.parametrize("seed", SEEDS)
def test_retraining_on_v2_is_the_best_system(seed):
    systems = {
        (version, retrain): run_ensemble(version, retrain, seed=seed).system_accuracy
        for version in UPSTREAM_VERSIONS
        for retrain in (False, True)
    }
    best = systems[("v2", True)]
    others = [acc for key, acc in systems.items() if key != ("v2", True)]
    assert best > max(others)
    assert best - run_ensemble("v1", False, seed=seed).baseline_accuracy >= 0.03


@pytest.mark.parametrize("seed", SEEDS)
def test_sign_flip_is_invisible_to_psi_but_caught_by_the_contract(seed):
    run = run_ensemble("v1-signflip", False, seed=seed)
    assert all(value < 0.10 for value in _per_feature_psi(run))
    assert run.system_accuracy <= 0.5
    assert contract_hash(run.train_contract) != contract_hash(run.serving_contract)
    report = skew_check(
        run.train_features, run.serving_features, run.train_contract, run.serving_contract
    )
    assert report["contract_ok"] is False and report["skewed"] is True
    assert report["max_psi"] < 0.10


@pytest.mark.parametrize("seed", SEEDS)
def test_sign_flip_inverts_every_decision(seed):
    # Negating the features negates the linear score (but not the intercept, which is 0
    # up to sampling); with a near-zero intercept almost every decision flips, so the
    # flipped accuracy is close to 1 - baseline.
    run = run_ensemble("v1-signflip", False, seed=seed)
    assert run.system_accuracy == pytest.approx(1.0 - run.baseline_accuracy, abs=0.02)
    # A probe is retrained from scratch, and the sign is no obstacle to it.
    assert run.probe_accuracy == pytest.approx(run.baseline_accuracy, abs=0.005)


def test_v2_rotation_and_shift_are_caught_by_psi():
    run = run_ensemble("v2", False)
    assert min(_per_feature_psi(run)) >= 0.25
    report = skew_check(
        run.train_features, run.serving_features, run.train_contract, run.serving_contract
    )
    assert report["skewed"] is True and report["contract_ok"] is False


def test_accuracies_match_the_bayes_rate_of_the_simulated_task():
    # Class means +-mu, |mu| = 1.2, identity latent noise plus extractor noise of sd s:
    # the best linear rule has accuracy Phi(|mu| / sqrt(1 + s**2)) (scipy's norm.cdf).
    # 4000 test samples give a standard error of about 0.0065; 0.025 allows ~4 SE.
    v1_bayes = norm.cdf(1.2 / math.sqrt(1 + 1.0**2))
    v2_bayes = norm.cdf(1.2 / math.sqrt(1 + 0.3**2))
    run = run_ensemble("v2", True)
    assert run.baseline_accuracy == pytest.approx(v1_bayes, abs=0.025)
    assert run.probe_accuracy == pytest.approx(v2_bayes, abs=0.025)


def test_retrained_system_is_a_fresh_probe_and_not_skewed():
    for version in UPSTREAM_VERSIONS:
        run = run_ensemble(version, True)
        assert run.retrained is True
        assert run.system_accuracy == run.probe_accuracy
        assert run.train_contract == run.serving_contract
        report = skew_check(
            run.train_features, run.serving_features, run.train_contract, run.serving_contract
        )
        assert report["skewed"] is False


def test_v1_without_retraining_is_the_baseline():
    run = run_ensemble("v1", False)
    assert run.system_accuracy == run.baseline_accuracy == run.probe_accuracy


def test_shapes_and_read_only_features():
    run = run_ensemble("v2", False, n_train=500, n_test=300)
    assert run.train_features.shape == (500, 4)
    assert run.serving_features.shape == (300, 4)
    with pytest.raises(ValueError):
        run.train_features[0, 0] = 1.0
    with pytest.raises(ValueError):
        run.serving_features[0, 0] = 1.0


def test_deterministic_per_seed_and_different_across_seeds():
    a = run_ensemble("v2", False, seed=11, n_train=400, n_test=400)
    ensemble._world.cache_clear()
    b = run_ensemble("v2", False, seed=11, n_train=400, n_test=400)
    c = run_ensemble("v2", False, seed=12, n_train=400, n_test=400)
    assert np.array_equal(a.train_features, b.train_features)
    assert np.array_equal(a.serving_features, b.serving_features)
    assert a.system_accuracy == b.system_accuracy
    assert not np.array_equal(a.serving_features, c.serving_features)


def test_repeated_calls_are_served_from_the_cache():
    run_ensemble("v1", False, seed=5, n_train=200, n_test=200)
    hits = ensemble._world.cache_info().hits
    for version in UPSTREAM_VERSIONS:
        run_ensemble(version, True, seed=5, n_train=200, n_test=200)
    assert ensemble._world.cache_info().hits == hits + 3


def test_contracts_name_the_upstream_and_differ_between_versions():
    run = run_ensemble("v1-signflip", False, upstream_name="noise_isolation")
    assert run.train_contract["feature"] == "noise_isolation"
    assert run.train_contract["version"] == "v1"
    assert run.serving_contract["version"] == "v1-signflip"
    assert run.serving_contract["dims"] == 4
    hashes = {contract_hash(upstream_contract(v)) for v in UPSTREAM_VERSIONS}
    assert len(hashes) == 3
    # Even under the same version label, the sign flip's definition differs.
    v1, flip = upstream_contract("v1"), upstream_contract("v1-signflip")
    flip["version"] = "v1"
    assert contract_hash(v1) != contract_hash(flip)


def test_editing_a_returned_contract_does_not_leak_into_later_runs():
    first = run_ensemble("v2", False)
    first.serving_contract["transform"]["shift"][0] = 0.0
    first.serving_contract["version"] = "edited"
    second = run_ensemble("v2", False)
    assert second.serving_contract["version"] == "v2"
    assert second.serving_contract["transform"]["shift"][0] == 3.0


def test_names_are_carried():
    run = run_ensemble("v1", False, upstream_name="up", downstream_name="down")
    assert (run.upstream_name, run.downstream_name) == ("up", "down")


@pytest.mark.parametrize("bad", ["v3", "V1", "", None, 1, ("v1",)])
def test_rejects_bad_upstream_version(bad):
    with pytest.raises(ValueError, match="upstream_version"):
        run_ensemble(bad, False)
    with pytest.raises(ValueError, match="upstream_version"):
        upstream_contract(bad)


@pytest.mark.parametrize("bad", ["yes", 1, 0, None, 1.0])
def test_rejects_bad_retrain(bad):
    with pytest.raises(ValueError, match="retrain"):
        run_ensemble("v1", bad)


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), "0", None, True])
def test_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        run_ensemble("v1", False, seed=bad)


@pytest.mark.parametrize("name", ["n_train", "n_test"])
@pytest.mark.parametrize("bad", [9, 0, -5, 100_001, 50.5, float("inf"), "4000", None])
def test_rejects_bad_sizes(name, bad):
    with pytest.raises(ValueError, match=name):
        run_ensemble("v1", False, **{name: bad})


@pytest.mark.parametrize("name", ["upstream_name", "downstream_name"])
@pytest.mark.parametrize("bad", ["", None, 3, b"up"])
def test_rejects_bad_names(name, bad):
    with pytest.raises(ValueError, match=name):
        run_ensemble("v1", False, **{name: bad})
