"""Tests of opsmodel.feature_store: immutability, pins and the consistency check.

Expected hashes come from hashlib over hand-written canonical JSON; expected mismatch
lists are worked out from the scenario each test sets up.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from opsmodel.feature_store import (
    FeatureStore,
    FeatureVersion,
    ImmutableVersionError,
    Pin,
    PinMismatch,
)

V1 = {"dims": 40, "window_ms": 25}
V2 = {"dims": 40, "window_ms": 20}
V1_HASH = hashlib.sha256(b'{"dims":40,"window_ms":25}').hexdigest()
V2_HASH = hashlib.sha256(b'{"dims":40,"window_ms":20}').hexdigest()


@pytest.fixture
def store() -> FeatureStore:
    s = FeatureStore()
    s.register("noise_isolation", "v1", V1)
    s.register("noise_isolation", "v2", V2)
    return s


def test_register_and_get_return_the_schema_and_its_hash(store):
    record = store.get("noise_isolation", "v1")
    assert record == FeatureVersion("noise_isolation", "v1", V1, V1_HASH)
    assert store.get("noise_isolation", "v2").hash == V2_HASH
    assert store.versions("noise_isolation") == ("v1", "v2")
    assert store.versions("unknown_feature") == ()


def test_registering_the_same_schema_again_is_a_no_op(store):
    again = store.register("noise_isolation", "v1", {"window_ms": 25, "dims": 40})
    assert again.hash == V1_HASH
    assert store.versions("noise_isolation") == ("v1", "v2")


def test_registering_a_different_schema_under_a_used_version_is_an_error(store):
    with pytest.raises(ImmutableVersionError, match="'noise_isolation' version 'v1'"):
        store.register("noise_isolation", "v1", {"dims": 40, "window_ms": 30})
    assert issubclass(ImmutableVersionError, ValueError)
    # The registered schema is untouched.
    assert store.get("noise_isolation", "v1").hash == V1_HASH


def test_the_store_keeps_its_own_copy_of_each_schema():
    s = FeatureStore()
    schema = {"dims": 40, "window_ms": 25}
    s.register("f", "v1", schema)
    schema["window_ms"] = 99  # the caller edits its dict afterwards
    fetched = s.get("f", "v1")
    assert fetched.schema == V1 and fetched.hash == V1_HASH
    fetched.schema["dims"] = 0  # and edits what it was given
    assert s.get("f", "v1").schema == V1


def test_records_are_frozen(store):
    record = store.get("noise_isolation", "v1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.version = "v9"
    pin = store.pin("wake_word", "noise_isolation", "v1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        pin.hash = "0" * 64
    assert hash(record) == hash(store.get("noise_isolation", "v1"))


def test_pin_records_the_registered_hash(store):
    assert store.pin("wake_word", "noise_isolation", "v1") == Pin(
        "wake_word", "noise_isolation", "v1", V1_HASH
    )
    assert store.pins() == (Pin("wake_word", "noise_isolation", "v1", V1_HASH),)


def test_consistency_check_empty_when_serving_matches_every_pin(store):
    store.pin("wake_word", "noise_isolation", "v1")
    store.serve("noise_isolation", "v1")
    assert store.consistency_check() == ()


def test_upgrading_serving_lists_every_consumer_still_on_the_old_version(store):
    store.pin("wake_word", "noise_isolation", "v1")
    store.pin("keyword_spotter", "noise_isolation", "v1")
    store.pin("speaker_id", "noise_isolation", "v2")  # already retrained on v2
    store.serve("noise_isolation", "v2")
    mismatches = store.consistency_check()
    # Sorted by consumer: keyword_spotter before wake_word; speaker_id matches v2.
    assert [m.consumer for m in mismatches] == ["keyword_spotter", "wake_word"]
    wake = mismatches[1]
    assert wake == PinMismatch(
        consumer="wake_word",
        feature="noise_isolation",
        pinned_version="v1",
        pinned_hash=V1_HASH,
        served_version="v2",
        served_hash=V2_HASH,
        reason=wake.reason,
    )
    assert "wake_word" in wake.reason and "v1" in wake.reason and "v2" in wake.reason
    assert "schema changed" in wake.reason


def test_repinning_after_retraining_clears_the_mismatch(store):
    store.pin("wake_word", "noise_isolation", "v1")
    store.serve("noise_isolation", "v2")
    assert len(store.consistency_check()) == 1
    store.pin("wake_word", "noise_isolation", "v2")
    assert store.consistency_check() == ()
    assert len(store.pins()) == 1  # one pin per (consumer, feature)


def test_nothing_served_is_a_mismatch(store):
    store.pin("wake_word", "noise_isolation", "v1")
    (mismatch,) = store.consistency_check()
    assert mismatch.served_version is None and mismatch.served_hash is None
    assert "no version" in mismatch.reason


def test_same_schema_under_another_version_is_still_a_mismatch(store):
    # A re-release of v1's schema as v3: the hash agrees, the version does not.
    store.register("noise_isolation", "v3", dict(V1))
    store.pin("wake_word", "noise_isolation", "v1")
    store.serve("noise_isolation", "v3")
    (mismatch,) = store.consistency_check()
    assert mismatch.pinned_hash == mismatch.served_hash == V1_HASH
    assert mismatch.served_version == "v3"
    assert "same schema" in mismatch.reason


def test_pins_on_different_features_are_checked_separately():
    s = FeatureStore()
    s.register("a", "v1", {"x": 1})
    s.register("b", "v1", {"y": 1})
    s.register("b", "v2", {"y": 2})
    s.pin("model", "a", "v1")
    s.pin("model", "b", "v1")
    s.serve("a", "v1")
    s.serve("b", "v2")
    assert [(m.consumer, m.feature) for m in s.consistency_check()] == [("model", "b")]
    assert s.served("b").version == "v2"
    assert s.served("unserved") is None


@pytest.mark.parametrize("bad", ["", None, 3, b"f"])
def test_bad_names_are_rejected_everywhere(store, bad):
    with pytest.raises(ValueError, match="feature"):
        store.register(bad, "v1", V1)
    with pytest.raises(ValueError, match="version"):
        store.register("f", bad, V1)
    with pytest.raises(ValueError, match="feature"):
        store.get(bad, "v1")
    with pytest.raises(ValueError, match="version"):
        store.get("noise_isolation", bad)
    with pytest.raises(ValueError, match="feature"):
        store.versions(bad)
    with pytest.raises(ValueError, match="consumer"):
        store.pin(bad, "noise_isolation", "v1")
    with pytest.raises(ValueError, match="feature"):
        store.pin("c", bad, "v1")
    with pytest.raises(ValueError, match="version"):
        store.serve("noise_isolation", bad)
    with pytest.raises(ValueError, match="feature"):
        store.served(bad)


@pytest.mark.parametrize("bad", [None, [1, 2], "schema", {"x": float("nan")}, {1: "a"}])
def test_bad_schema_is_rejected(store, bad):
    with pytest.raises(ValueError, match="schema"):
        store.register("f", "v1", bad)


def test_unregistered_versions_cannot_be_fetched_pinned_or_served(store):
    with pytest.raises(ValueError, match="version 'v9' of feature 'noise_isolation'"):
        store.get("noise_isolation", "v9")
    with pytest.raises(ValueError, match="not registered"):
        store.pin("wake_word", "noise_isolation", "v9")
    with pytest.raises(ValueError, match="not registered"):
        store.serve("other_feature", "v1")
