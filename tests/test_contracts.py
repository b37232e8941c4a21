"""Tests of opsmodel.contracts: the schema fingerprint a consumer pins.

Independent references: ``hashlib.sha256`` over canonical JSON text written out by hand
(not produced by ``json.dumps``), and the key-order independence the spec promises.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsmodel.contracts import canonical_json, contract_hash


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_matches_hashlib_on_hand_written_canonical_text():
    schema = {"version": "v1", "dims": 4, "feature": "embedding", "scale": 0.5, "ok": True}
    # Sorted keys, no spaces, JSON literals: written by hand from the spec's rule.
    text = '{"dims":4,"feature":"embedding","ok":true,"scale":0.5,"version":"v1"}'
    assert canonical_json(schema) == text
    assert contract_hash(schema) == _sha(text)


def test_nested_schema_matches_hashlib():
    schema = {"transform": {"sign": -1, "shift": [3.0, -2.0]}, "feature": "f", "none": None}
    text = '{"feature":"f","none":null,"transform":{"shift":[3.0,-2.0],"sign":-1}}'
    assert contract_hash(schema) == _sha(text)


def test_empty_schema_is_the_sha256_of_braces():
    # sha256("{}") is the well-known digest 44136fa3...aff8a.
    assert contract_hash({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_non_ascii_is_escaped_so_the_hash_is_encoding_independent():
    # json.dumps escapes non-ASCII by default: "é" becomes \u00e9 in the hashed text.
    assert contract_hash({"unit": "é"}) == _sha('{"unit":"\\u00e9"}')


def test_hash_is_64_lowercase_hex():
    digest = contract_hash({"a": 1})
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _reversed_order(value):
    """The same content with every dict's insertion order reversed."""
    if isinstance(value, dict):
        return {k: _reversed_order(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_order(v) for v in value]
    return value


@settings(max_examples=100, deadline=None)
@given(schema=st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_key_order_does_not_change_the_hash(schema):
    assert contract_hash(_reversed_order(schema)) == contract_hash(schema)


def test_any_change_of_content_changes_the_hash():
    base = {"feature": "embedding", "version": "v1", "transform": {"sign": 1}}
    flipped = {"feature": "embedding", "version": "v1", "transform": {"sign": -1}}
    renamed = {"feature": "embedding", "version": "v1-signflip", "transform": {"sign": 1}}
    assert len({contract_hash(base), contract_hash(flipped), contract_hash(renamed)}) == 3


def test_tuple_and_list_hash_alike():
    # JSON has one array type (documented in contract_hash's Notes).
    assert contract_hash({"shift": (1, 2)}) == contract_hash({"shift": [1, 2]})


def _circular():
    schema: dict = {"a": 1}
    schema["self"] = schema
    return schema


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "schema",
        ["feature", "v1"],
        42,
        {"values": {1, 2}},  # a set is not JSON
        {"obj": object()},
        {"n": np.int64(3)},  # numpy integers are not JSON (convert with int())
        {"x": float("nan")},
        {"x": float("inf")},
        {1: "a"},  # would silently collide with {"1": "a"}
        {"outer": {2: "b"}},
        {"list": [{3: "c"}]},
        _circular(),
    ],
)
def test_rejects_bad_schema(bad):
    with pytest.raises(ValueError, match="schema"):
        contract_hash(bad)


def test_canonical_json_rejects_bad_schema_too():
    with pytest.raises(ValueError, match="schema"):
        canonical_json([1, 2])
