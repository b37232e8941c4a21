"""An immutable, versioned feature store with consumer pins and a consistency check.

Two rules stop the dependency domino of an ML ensemble (an upstream change silently
breaking a downstream model):

1. A registered ``(feature, version)`` never changes. Re-registering it with the same
   schema is harmless; with a different schema it is an error: publish a new version.
2. Every consumer pins the ``(feature, version, hash)`` it was trained on. Before serving
   switches a feature to another version, :meth:`FeatureStore.consistency_check` lists
   every consumer whose pin differs from what serving would provide.

Plain Python, no I/O: the store lives in memory, for the lab's scenarios and tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ._validation import InvalidInputError
from .contracts import canonical_json, contract_hash

__all__ = ["FeatureStore", "FeatureVersion", "Pin", "PinMismatch", "ImmutableVersionError"]


class ImmutableVersionError(ValueError):
    """A registered ``(feature, version)`` was registered again with a different schema."""


@dataclass(frozen=True)
class FeatureVersion:
    """One registered version of a feature.

    Attributes
    ----------
    feature : str
        Feature name.
    version : str
        Version label.
    schema : dict
        A copy of the registered schema (editing it changes nothing in the store).
    hash : str
        Its :func:`~opsmodel.contracts.contract_hash`.
    """

    feature: str
    version: str
    schema: dict[str, Any]
    hash: str

    # A dict field makes the generated hash fail; the contract hash identifies the record.
    def __hash__(self) -> int:
        return hash((self.feature, self.version, self.hash))


@dataclass(frozen=True)
class Pin:
    """A consumer's pin: the feature version, and its schema hash, it was trained on."""

    consumer: str
    feature: str
    version: str
    hash: str


@dataclass(frozen=True)
class PinMismatch:
    """A consumer whose pin differs from what serving provides.

    Attributes
    ----------
    consumer, feature : str
        Who is affected, and through which feature.
    pinned_version, pinned_hash : str
        What the consumer was trained on.
    served_version, served_hash : str or None
        What serving provides; None when serving provides no version of the feature.
    reason : str
        One human-readable sentence.
    """

    consumer: str
    feature: str
    pinned_version: str
    pinned_hash: str
    served_version: str | None
    served_hash: str | None
    reason: str


def _check_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
    return value


class FeatureStore:
    """In-memory registry of immutable feature versions, consumer pins and serving state.

    Examples
    --------
    The Tiny Pioneer's domino: the wake-word model was trained on noise-isolation v1.

    >>> store = FeatureStore()
    >>> _ = store.register("noise_isolation", "v1", {"dims": 40, "window_ms": 25})
    >>> _ = store.register("noise_isolation", "v2", {"dims": 40, "window_ms": 20})
    >>> _ = store.pin("wake_word", "noise_isolation", "v1")
    >>> _ = store.serve("noise_isolation", "v1")
    >>> store.consistency_check()
    ()
    >>> _ = store.serve("noise_isolation", "v2")
    >>> [m.consumer for m in store.consistency_check()]
    ['wake_word']
    """

    def __init__(self) -> None:
        # feature -> version -> (canonical JSON text, contract hash); dicts keep
        # registration order.
        self._schemas: dict[str, dict[str, tuple[str, str]]] = {}
        self._pins: dict[tuple[str, str], Pin] = {}
        self._served: dict[str, str] = {}

    def _record(self, feature: str, version: str) -> FeatureVersion:
        text, digest = self._schemas[feature][version]
        # A new dict from the stored text on every call: no caller can edit the store.
        return FeatureVersion(feature, version, json.loads(text), digest)

    def _require(self, feature: str, version: str) -> None:
        if version not in self._schemas.get(feature, {}):
            known = tuple(self._schemas.get(feature, {}))
            raise InvalidInputError(
                f"version {version!r} of feature {feature!r} is not registered; "
                f"registered versions: {known}"
            )

    def register(self, feature: str, version: str, schema: dict[str, Any]) -> FeatureVersion:
        """Register ``(feature, version)`` with its schema; the pair is then immutable.

        Parameters
        ----------
        feature : str, non-empty
            Feature name.
        version : str, non-empty
            Version label.
        schema : dict with str keys, JSON-serialisable
            The feature's schema (see :func:`~opsmodel.contracts.contract_hash`).

        Returns
        -------
        FeatureVersion
            The registered record.

        Raises
        ------
        ImmutableVersionError
            If ``(feature, version)`` is already registered with a schema of a different
            contract hash. The same schema again (in any key order) is a no-op.
        InvalidInputError
            If a name is not a non-empty string or ``schema`` cannot be hashed.
        """
        name = _check_name("feature", feature)
        label = _check_name("version", version)
        text = canonical_json(schema)
        digest = contract_hash(schema)
        existing = self._schemas.get(name, {}).get(label)
        if existing is not None and existing[1] != digest:
            raise ImmutableVersionError(
                f"feature {name!r} version {label!r} is already registered with schema hash "
                f"{existing[1][:12]}, not {digest[:12]}: versions are immutable, "
                "register a new version"
            )
        self._schemas.setdefault(name, {})[label] = (text, digest)
        return self._record(name, label)

    def get(self, feature: str, version: str) -> FeatureVersion:
        """The registered record of ``(feature, version)``.

        Raises
        ------
        InvalidInputError
            If a name is not a non-empty string or the pair is not registered.
        """
        name = _check_name("feature", feature)
        label = _check_name("version", version)
        self._require(name, label)
        return self._record(name, label)

    def versions(self, feature: str) -> tuple[str, ...]:
        """Registered versions of ``feature`` in registration order (empty if none)."""
        return tuple(self._schemas.get(_check_name("feature", feature), {}))

    def pin(self, consumer: str, feature: str, version: str) -> Pin:
        """Pin ``consumer`` to ``(feature, version)`` and the hash of its registered schema.

        A consumer has one pin per feature; pinning again (after retraining on another
        version) replaces it.

        Raises
        ------
        InvalidInputError
            If a name is not a non-empty string or the pair is not registered.
        """
        who = _check_name("consumer", consumer)
        record = self.get(feature, version)
        pin = Pin(who, record.feature, record.version, record.hash)
        self._pins[(who, record.feature)] = pin
        return pin

    def pins(self) -> tuple[Pin, ...]:
        """Every pin, sorted by consumer and feature."""
        return tuple(self._pins[key] for key in sorted(self._pins))

    def serve(self, feature: str, version: str) -> FeatureVersion:
        """Make serving provide ``(feature, version)``; returns its record.

        Raises
        ------
        InvalidInputError
            If a name is not a non-empty string or the pair is not registered.
        """
        record = self.get(feature, version)
        self._served[record.feature] = record.version
        return record

    def served(self, feature: str) -> FeatureVersion | None:
        """The record serving provides for ``feature``, or None when it serves none."""
        name = _check_name("feature", feature)
        version = self._served.get(name)
        return None if version is None else self._record(name, version)

    def consistency_check(self) -> tuple[PinMismatch, ...]:
        """Every consumer whose pin differs (in version or hash) from what serving provides.

        Returns
        -------
        tuple of PinMismatch
            Sorted by consumer and feature; empty when every pin matches. A feature that
            serving provides no version of is a mismatch for every consumer pinned to it.

        Notes
        -----
        Versions are immutable, so a pinned version's hash cannot change under it; the
        hash still matters because two versions can share a schema (a re-release): the
        reason then says the schema is the same and only the label moved.
        """
        mismatches = []
        for pin in self.pins():
            served = self.served(pin.feature)
            if served is None:
                reason = (
                    f"{pin.consumer} is pinned to {pin.feature} {pin.version} "
                    f"({pin.hash[:12]}), but serving provides no version of {pin.feature}"
                )
            elif served.version == pin.version and served.hash == pin.hash:
                continue
            elif served.hash == pin.hash:
                reason = (
                    f"{pin.consumer} is pinned to {pin.feature} {pin.version}, serving "
                    f"provides {served.version} (same schema hash {pin.hash[:12]})"
                )
            else:
                reason = (
                    f"{pin.consumer} is pinned to {pin.feature} {pin.version} "
                    f"({pin.hash[:12]}), serving provides {served.version} "
                    f"({served.hash[:12]}): schema changed, retrain or roll back"
                )
            mismatches.append(
                PinMismatch(
                    consumer=pin.consumer,
                    feature=pin.feature,
                    pinned_version=pin.version,
                    pinned_hash=pin.hash,
                    served_version=None if served is None else served.version,
                    served_hash=None if served is None else served.hash,
                    reason=reason,
                )
            )
        return tuple(mismatches)
