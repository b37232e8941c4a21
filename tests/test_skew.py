"""Tests of opsmodel.skew: the skew verdict and the SkewReport mapping.

Expected PSI values come from the spec's worked example (0.0847297860 for 1..100 against
11..110 with 4 bins) and from hand-derived proportions; contract hashes from hashlib.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping

import numpy as np
import pytest

from opsmodel.contracts import contract_hash
from opsmodel.skew import SkewReport, skew_check

SCHEMA = {"feature": "embedding", "version": "v1", "dims": 2}
FLIPPED = {"feature": "embedding", "version": "v1-signflip", "dims": 2}
SPEC_PSI = 0.0847297860  # spec, Part 3: 1..100 against 11..110, 4 bins


def _two_features(shift_second: float = 0.0, sign: float = 1.0):
    rng = np.random.default_rng(7)
    train = rng.normal(size=(3000, 2))
    serving = sign * rng.normal(size=(3000, 2))
    serving[:, 1] += shift_second
    return train, serving


def test_same_distribution_and_contract_is_not_skewed():
    train, serving = _two_features()
    report = skew_check(train, serving, SCHEMA, dict(reversed(list(SCHEMA.items()))))
    assert report["contract_ok"] is True
    assert report["skewed"] is False
    assert report.reasons == ()
    assert len(report["psi"]) == 2
    # Two independent samples of 3000: PSI is a sampling fluctuation of about
    # (bins - 1) * (1/n1 + 1/n2) = 0.006, far below the 0.10 "stable" limit.
    assert report["max_psi"] < 0.05


def test_spec_example_column_against_threshold():
    # One feature (1-D input): PSI 0.0847 (spec) is below the default 0.25 but above 0.05.
    train, serving = np.arange(1, 101), np.arange(11, 111)
    low = skew_check(train, serving, SCHEMA, SCHEMA, n_bins=4)
    assert low["psi"] == [pytest.approx(SPEC_PSI, abs=1e-10)]
    assert low["max_psi"] == pytest.approx(SPEC_PSI, abs=1e-10)
    assert low["skewed"] is False
    high = skew_check(train, serving, SCHEMA, SCHEMA, psi_threshold=0.05, n_bins=4)
    assert high["skewed"] is True
    assert high.reasons == ("feature 0: PSI 0.085 >= 0.05 (stable)",)


def test_threshold_is_inclusive():
    # A PSI exactly at the threshold counts as skewed (spec: "any PSI >= threshold").
    train, serving = np.arange(1, 101), np.arange(11, 111)
    value = skew_check(train, serving, SCHEMA, SCHEMA, n_bins=4)["max_psi"]
    at = skew_check(train, serving, SCHEMA, SCHEMA, psi_threshold=value, n_bins=4)
    above = skew_check(
        train, serving, SCHEMA, SCHEMA, psi_threshold=math.nextafter(value, 1.0), n_bins=4
    )
    assert at["skewed"] is True
    assert above["skewed"] is False


def test_shifted_feature_is_skewed_and_named():
    # A shift of 2 standard deviations empties most reference deciles: PSI well above 0.25.
    train, serving = _two_features(shift_second=2.0)
    report = skew_check(train, serving, SCHEMA, SCHEMA)
    assert report["contract_ok"] is True
    assert report["skewed"] is True
    assert report["psi"][0] < 0.10 <= 0.25 <= report["psi"][1]
    assert report["max_psi"] == report["psi"][1]
    assert len(report.reasons) == 1 and report.reasons[0].startswith("feature 1: PSI")


def test_sign_flip_passes_psi_but_fails_the_contract():
    # Standard normals are symmetric, so negation leaves every marginal unchanged.
    train, serving = _two_features(sign=-1.0)
    report = skew_check(train, serving, SCHEMA, FLIPPED)
    assert report["max_psi"] < 0.10
    assert report["contract_ok"] is False
    assert report["skewed"] is True
    assert report.reasons[0].startswith("contract mismatch")


def test_contracts_may_be_hashes_in_either_case():
    train, serving = _two_features()
    digest = hashlib.sha256(b'{"dims":2,"feature":"embedding","version":"v1"}').hexdigest()
    assert skew_check(train, serving, SCHEMA, digest)["contract_ok"] is True
    assert skew_check(train, serving, digest.upper(), SCHEMA)["contract_ok"] is True
    assert skew_check(train, serving, digest, contract_hash(FLIPPED))["contract_ok"] is False


def test_one_dimensional_and_column_inputs_agree():
    rng = np.random.default_rng(3)
    train, serving = rng.normal(size=500), rng.normal(0.5, 1.0, size=400)
    flat = skew_check(train, serving, SCHEMA, SCHEMA)
    column = skew_check(train[:, None], serving[:, None], SCHEMA, SCHEMA)
    assert flat == column
    assert len(flat["psi"]) == 1


def test_report_is_a_read_only_mapping_with_exactly_four_keys():
    train, serving = _two_features(shift_second=2.0)
    report = skew_check(train, serving, SCHEMA, FLIPPED)
    assert isinstance(report, Mapping) and isinstance(report, SkewReport)
    assert list(report) == ["psi", "max_psi", "contract_ok", "skewed"]
    assert len(report) == 4
    assert "reasons" not in report
    with pytest.raises(KeyError):
        report["reasons"]
    assert isinstance(report["psi"], list)
    assert all(isinstance(v, float) for v in report["psi"])
    assert isinstance(report["contract_ok"], bool) and isinstance(report["skewed"], bool)
    # Attribute access mirrors the keys.
    assert list(report.psi) == report["psi"]
    assert report.max_psi == report["max_psi"]
    # A plain dict with the same items compares equal.
    assert report == dict(report)
    # Read-only: no item assignment, no attribute assignment, and the list handed out is
    # a copy.
    with pytest.raises(TypeError):
        report["skewed"] = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.skewed = False
    report["psi"].append(99.0)
    assert len(report["psi"]) == 2


BAD_FEATURES = [
    None,
    "features",
    [[1.0, float("nan")], [2.0, 3.0]],
    [[1.0, float("inf")], [2.0, 3.0]],
    np.zeros((0, 2)),
    np.zeros((3, 0)),
    np.zeros((2, 2, 2)),
    5.0,
    [["a", "b"]],
]


@pytest.mark.parametrize("bad", BAD_FEATURES, ids=range(len(BAD_FEATURES)))
def test_rejects_bad_train_features(bad):
    with pytest.raises(ValueError, match="train_features"):
        skew_check(bad, np.ones((5, 2)), SCHEMA, SCHEMA)


@pytest.mark.parametrize("bad", BAD_FEATURES, ids=range(len(BAD_FEATURES)))
def test_rejects_bad_serving_features(bad):
    with pytest.raises(ValueError, match="serving_features"):
        skew_check(np.ones((5, 2)), bad, SCHEMA, SCHEMA)


def test_rejects_different_numbers_of_features():
    with pytest.raises(ValueError, match="serving_features must have the same number"):
        skew_check(np.ones((5, 2)), np.ones((5, 3)), SCHEMA, SCHEMA)


BAD_CONTRACTS = [None, 42, ["v1"], "v1", "z" * 64, "a" * 63, {"x": float("nan")}, {1: "a"}]


@pytest.mark.parametrize("bad", BAD_CONTRACTS)
def test_rejects_bad_train_contract(bad):
    with pytest.raises(ValueError, match="train_contract"):
        skew_check(np.ones((5, 2)), np.ones((5, 2)), bad, SCHEMA)


@pytest.mark.parametrize("bad", BAD_CONTRACTS)
def test_rejects_bad_serving_contract(bad):
    with pytest.raises(ValueError, match="serving_contract"):
        skew_check(np.ones((5, 2)), np.ones((5, 2)), SCHEMA, bad)


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf"), "0.25", None])
def test_rejects_bad_threshold(bad):
    with pytest.raises(ValueError, match="psi_threshold"):
        skew_check(np.ones((5, 2)), np.ones((5, 2)), SCHEMA, SCHEMA, psi_threshold=bad)


def test_rejects_bad_binning_options():
    with pytest.raises(ValueError, match="n_bins"):
        skew_check(np.ones((5, 2)), np.ones((5, 2)), SCHEMA, SCHEMA, n_bins=1)
    with pytest.raises(ValueError, match="eps"):
        skew_check(np.ones((5, 2)), np.ones((5, 2)), SCHEMA, SCHEMA, eps=0.0)
