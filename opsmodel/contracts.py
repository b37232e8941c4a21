"""Feature contracts: a fingerprint of what a feature *means*, not how it is distributed.

A downstream model is valid only on the feature definition it was trained on. Drift
statistics (PSI, Jensen-Shannon) watch the distribution; a definition change that keeps
the distribution (a sign flip of a symmetric feature, a unit change hidden by
re-standardisation) passes them unseen. The contract hash catches it: the consumer pins
the hash of the schema it was trained on, and serving refuses a feature whose schema hash
differs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ._validation import InvalidInputError

__all__ = ["contract_hash", "canonical_json"]


def _check_keys(value: Any, path: str) -> None:
    """Reject non-string dictionary keys anywhere in the schema (see contract_hash Notes)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(
                    f"schema keys must be strings, got {key!r} at {path or 'top level'}"
                )
            _check_keys(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_keys(item, f"{path}[{i}]")


def canonical_json(schema: dict[str, Any]) -> str:
    """Canonical JSON text of a schema: the exact string :func:`contract_hash` hashes.

    Parameters
    ----------
    schema : dict with str keys, JSON-serialisable
        The feature schema.

    Returns
    -------
    str
        ``json.dumps(schema, sort_keys=True, separators=(",", ":"))``.

    Raises
    ------
    InvalidInputError
        As :func:`contract_hash`.

    Examples
    --------
    >>> canonical_json({"version": "v1", "dims": 4})
    '{"dims":4,"version":"v1"}'
    """
    if not isinstance(schema, dict):
        raise InvalidInputError(f"schema must be a dict, got {type(schema).__name__}: {schema!r}")
    try:
        _check_keys(schema, "")
        # allow_nan=False changes nothing for valid schemas; it rejects NaN and infinity,
        # which are not JSON and which would make two "equal" schemas compare unequal.
        return json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except RecursionError as exc:
        raise InvalidInputError("schema must not contain itself (circular reference)") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"schema must be JSON-serialisable: {exc}") from exc


def contract_hash(schema: dict[str, Any]) -> str:
    """SHA-256 fingerprint of a feature schema, independent of key order.

    Parameters
    ----------
    schema : dict with str keys, JSON-serialisable
        The feature's schema: name, version, dimensions, transform definition, ... Values
        may be str, int, float (finite), bool, None, lists, tuples and nested dicts.

    Returns
    -------
    str
        64 lowercase hex digits: ``sha256(json.dumps(schema, sort_keys=True,
        separators=(",", ":")).encode("utf-8")).hexdigest()``.

    Raises
    ------
    InvalidInputError
        If ``schema`` is not a dict, holds a value JSON cannot encode (a set, an object, a
        numpy scalar), a NaN or infinite float, a non-string key, or a circular reference.

    Notes
    -----
    Sorting keys and dropping whitespace makes the text canonical, so two dicts with the
    same content hash alike whatever their insertion order. ``json.dumps`` ensures ASCII
    output, so the UTF-8 encoding is unambiguous. Two choices make the hash safe to
    compare:

    - Keys must be strings. JSON would silently turn ``{1: "a"}`` into ``{"1": "a"}``,
      two different schemas with one hash, and fails to sort mixed int/str keys.
    - NaN and infinity are rejected: they are not valid JSON.

    A tuple and a list with the same items encode, and so hash, alike (JSON has one array
    type). Hashing only sees the schema: the values the feature takes are the business of
    drift statistics, the definition is the business of the contract [1]_.

    References
    ----------
    .. [1] E. Breck, S. Cai, E. Nielsen, M. Salib and D. Sculley, "The ML Test Score: A
       Rubric for ML Production Readiness and Technical Debt Reduction", IEEE Big Data,
       2017.

    Examples
    --------
    >>> a = contract_hash({"feature": "embedding", "version": "v1", "dims": 4})
    >>> b = contract_hash({"dims": 4, "version": "v1", "feature": "embedding"})
    >>> a == b, len(a)
    (True, 64)
    >>> a == contract_hash({"feature": "embedding", "version": "v2", "dims": 4})
    False
    """
    text = canonical_json(schema)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
