"""Training-serving skew check: distribution (PSI per feature) and definition (contract).

The Training-Serving Skew Invariant: a model is only valid on the feature distribution
*and* the feature definition it was trained on. The two halves need two checks. PSI per
feature watches the distribution; the contract hash watches the definition. Neither
replaces the other: a sign flip of a symmetric feature leaves every PSI near 0, and a
seasonal shift changes the distribution of a feature whose definition is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import InvalidInputError, check_real, check_real_array
from .contracts import contract_hash
from .population_stability import psi, psi_band

__all__ = ["SkewReport", "skew_check"]

_KEYS = ("psi", "max_psi", "contract_ok", "skewed")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, eq=False)
class SkewReport(Mapping[str, Any]):
    """Verdict of :func:`skew_check`: a frozen record that is also a read-only mapping.

    The mapping has exactly the keys ``psi``, ``max_psi``, ``contract_ok`` and ``skewed``
    (so ``dict(report)`` and ``report["skewed"]`` work as for a plain dict), and each key
    is also an attribute. ``reasons`` is an attribute only.

    Attributes
    ----------
    psi : tuple of float
        PSI of each feature, in column order. The mapping returns it as a new ``list``
        (``report["psi"]``), so the report itself cannot be changed through it.
    max_psi : float
        The largest per-feature PSI.
    contract_ok : bool
        True when the training and serving contract hashes agree.
    skewed : bool
        True when any PSI is at or above the threshold, or the contracts disagree.
    reasons : tuple of str
        One short sentence per cause of skew, empty when not skewed.

    Notes
    -----
    Equality is that of a mapping (``Mapping.__eq__``): a report equals any mapping with
    the same four items, including a plain dict with ``psi`` given as a list.
    """

    psi: tuple[float, ...]
    max_psi: float
    contract_ok: bool
    skewed: bool
    reasons: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        if key == "psi":
            return list(self.psi)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)


def _features(name: str, value: Any) -> np.ndarray:
    """Validate a feature matrix (2-D, n_samples x n_features) or one feature (1-D).

    Returns a 2-D float array; a 1-D input becomes one column.
    """
    try:
        value = np.asarray(value)  # numpy's abbreviated repr in error messages
    except (ValueError, TypeError):
        pass  # ragged input: check_real_array words the error
    arr = check_real_array(name, value)
    if not isinstance(arr, np.ndarray) or arr.ndim not in (1, 2):
        raise InvalidInputError(
            f"{name} must be a 1-D (one feature) or 2-D (n_samples x n_features) array "
            f"of finite reals, got shape {np.shape(arr)}"
        )
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(
            f"{name} must have at least one sample and one feature, got shape {arr.shape}"
        )
    return arr


def _contract(name: str, value: Any) -> str:
    """A contract is a schema dict (hashed here) or a SHA-256 hex digest; return the hash."""
    if isinstance(value, dict):
        try:
            return contract_hash(value)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{name}: {exc}") from exc
    if isinstance(value, str) and _SHA256_HEX.fullmatch(value):
        return value.lower()
    raise InvalidInputError(
        f"{name} must be a schema dict or a 64-hex-digit contract hash, got {value!r}"
    )


def skew_check(
    train_features: Any,
    serving_features: Any,
    train_contract: dict[str, Any] | str,
    serving_contract: dict[str, Any] | str,
    psi_threshold: float = 0.25,
    *,
    n_bins: int = 10,
    eps: float = 1e-4,
) -> SkewReport:
    """Check serving features against training features: distribution and definition.

    Parameters
    ----------
    train_features : array-like of finite reals, 2-D (n_samples, n_features) or 1-D
        The features the model was trained on; a 1-D array is one feature. Each column is
        the reference of its feature's PSI.
    serving_features : array-like of finite reals, same number of features
        What serving feeds the model now (any number of samples >= 1).
    train_contract : dict or str
        The schema the model was trained on, or its :func:`~opsmodel.contracts.contract_hash`
        (64 hex digits, either case).
    serving_contract : dict or str
        The schema serving provides now, or its hash.
    psi_threshold : float > 0, optional
        A feature is skewed when its PSI is at or above this (default 0.25, the start of
        the "significant" band).
    n_bins : int >= 2, optional
        Keyword-only: quantile bins per feature, passed to
        :func:`~opsmodel.population_stability.psi`.
    eps : float in (0, 1), optional
        Keyword-only: proportion floor, passed to :func:`~opsmodel.population_stability.psi`.

    Returns
    -------
    SkewReport
        A read-only mapping with keys ``psi`` (list of per-feature PSI), ``max_psi``,
        ``contract_ok`` and ``skewed``, plus a ``reasons`` attribute.

    Raises
    ------
    InvalidInputError
        If a feature array is not 1-D or 2-D, is empty, holds NaN, infinity or a
        non-number, or the two sides have different numbers of features; if a contract is
        neither a JSON-serialisable dict nor a 64-hex-digit string; if ``psi_threshold``
        is not a finite real > 0; or if ``n_bins`` or ``eps`` is out of range.

    Notes
    -----
    ``skewed = any(psi >= psi_threshold) or not contract_ok``. The contract check is what
    catches a changed definition with unchanged marginals (a sign flip of a symmetric
    feature); PSI is what catches a changed distribution under an unchanged definition.
    Hashes given as strings are compared case-insensitively.

    Examples
    --------
    The same definition and the same distribution: no skew.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(2000, 2))
    >>> serving = rng.normal(size=(2000, 2))
    >>> schema = {"feature": "embedding", "version": "v1", "dims": 2}
    >>> report = skew_check(train, serving, schema, schema)
    >>> report["skewed"], report["contract_ok"]
    (False, True)

    A sign flip: every PSI stays small, but the contract changed.

    >>> flipped = {"feature": "embedding", "version": "v1-signflip", "dims": 2}
    >>> report = skew_check(train, -serving, schema, flipped)
    >>> report["max_psi"] < 0.10, report["skewed"]
    (True, True)
    >>> report.reasons[0][:17]
    'contract mismatch'
    """
    train = _features("train_features", train_features)
    serving = _features("serving_features", serving_features)
    if train.shape[1] != serving.shape[1]:
        raise InvalidInputError(
            f"serving_features must have the same number of features as train_features "
            f"({train.shape[1]}), got {serving.shape[1]}"
        )
    train_hash = _contract("train_contract", train_contract)
    serving_hash = _contract("serving_contract", serving_contract)
    threshold = check_real("psi_threshold", psi_threshold, low=0.0, low_open=True)

    values = tuple(
        psi(train[:, j], serving[:, j], n_bins=n_bins, eps=eps) for j in range(train.shape[1])
    )
    contract_ok = train_hash == serving_hash

    reasons: list[str] = []
    if not contract_ok:
        reasons.append(
            f"contract mismatch: trained on {train_hash[:12]}, serving {serving_hash[:12]}"
        )
    reasons.extend(
        f"feature {j}: PSI {value:.3f} >= {threshold:g} ({psi_band(value)})"
        for j, value in enumerate(values)
        if value >= threshold
    )
    return SkewReport(
        psi=values,
        max_psi=max(values),
        contract_ok=contract_ok,
        skewed=bool(reasons),
        reasons=tuple(reasons),
    )
