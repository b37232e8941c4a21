"""A seeded two-model ensemble: an upstream feature extractor feeding a downstream classifier.

This is the CACE principle ("Changing Anything Changes Everything", Sculley et al. 2015)
made concrete. The upstream team ships a better extractor; the downstream classifier,
trained on the old features, collapses. Three upstream versions:

- ``"v1"``: the extractor the classifier was trained on.
- ``"v2"``: a better extractor (a linear probe on its features beats one on v1's) whose
  feature space is rotated by 90 degrees and shifted relative to v1. The v1 classifier
  reads it as noise; PSI sees the shift at once.
- ``"v1-signflip"``: v1 with every feature negated, a changed *definition* with unchanged
  marginal distributions (v1's features are symmetric about 0), so PSI stays near 0 while
  the classifier's accuracy collapses below chance. Only the contract check catches it.

Everything is numpy with a seeded generator, and the classifier is least squares, so a run
is deterministic and cheap; the data and fitted weights are cached per
``(seed, n_train, n_test)`` so a widget can call :func:`run_ensemble` on every redraw.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._validation import InvalidInputError, check_int

__all__ = [
    "UPSTREAM_VERSIONS",
    "CHANCE_ACCURACY",
    "N_FEATURES",
    "EnsembleRun",
    "run_ensemble",
    "upstream_contract",
]

UpstreamVersion = Literal["v1", "v2", "v1-signflip"]

#: The upstream extractor versions the simulation knows.
UPSTREAM_VERSIONS: tuple[str, ...] = ("v1", "v2", "v1-signflip")

#: Accuracy of guessing on the balanced binary task (labels are exactly half 1 when the
#: sample size is even).
CHANCE_ACCURACY = 0.5

#: Dimension of the extractor's output (the same for every version).
N_FEATURES = 4

# Class means of the latent signal are +MU (label 1) and -MU (label 0). |MU| = 1.2 and the
# noise levels below put the best linear accuracy of v1 at Phi(1.2 / sqrt(1 + 1.0**2)),
# about 0.80, and of v2 at Phi(1.2 / sqrt(1 + 0.3**2)), about 0.88: a gap of about 0.07,
# several standard errors at the default 4,000 test samples. All four components carry
# signal, so no feature is ignorable.
_MU = 1.2 * np.array([0.6, 0.5, 0.5, 0.37]) / np.linalg.norm([0.6, 0.5, 0.5, 0.37])
_V1_NOISE_SD = 1.0
_V2_NOISE_SD = 0.3

# v2's rotation: 90 degrees in the (0, 1) and (2, 3) planes, (a, b, c, d) -> (-b, a, -d, c).
# It is a complex structure (J^T = -J), so v . J v = 0 for every vector v: whatever class
# direction the v1 classifier learned, it is orthogonal to where v2 puts that direction,
# and the v1 classifier sees no signal in v2's features.
_V2_ROTATION = np.array(
    [
        [0.0, -1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, -1.0],
        [0.0, 0.0, 1.0, 0.0],
    ]
)
# v2's shift (in units of v1's feature spread, about 1.5): large enough that PSI flags
# every feature and the v1 classifier's scores are dominated by a constant.
_V2_SHIFT = np.array([3.0, -2.0, 2.5, 1.5])

# The transform each version applies to the latent signal z = y * MU + N(0, I), as the
# contract states it. JSON-ready (plain str/int/float), so contract_hash accepts it.
_TRANSFORMS: dict[str, dict[str, Any]] = {
    "v1": {"definition": "z + N(0, sd**2 I)", "noise_sd": _V1_NOISE_SD, "sign": 1},
    "v2": {
        "definition": "R @ (z + N(0, sd**2 I)) + shift",
        "noise_sd": _V2_NOISE_SD,
        "rotation": _V2_ROTATION.tolist(),
        "shift": _V2_SHIFT.tolist(),
    },
    "v1-signflip": {"definition": "-(z + N(0, sd**2 I))", "noise_sd": _V1_NOISE_SD, "sign": -1},
}


@dataclass(frozen=True, eq=False)
class EnsembleRun:
    """One deployment of the ensemble: which extractor serves, and how the system fares.

    Attributes
    ----------
    upstream_version : str
        The extractor version serving now, one of :data:`UPSTREAM_VERSIONS`.
    retrained : bool
        Whether the downstream classifier was retrained on this version's features.
    system_accuracy : float
        Test accuracy of the deployed classifier on the serving features: trained on v1,
        or on this version when ``retrained``.
    probe_accuracy : float
        Test accuracy of a fresh linear probe trained on this version's features: how good
        the extractor is on its own. Equal to ``system_accuracy`` when ``retrained`` (the
        retrained classifier *is* a fresh probe).
    baseline_accuracy : float
        Test accuracy of the original system, v1 extractor with the v1 classifier.
    train_features : ndarray, shape (n_train, 4), read-only
        The features the deployed classifier was trained on.
    serving_features : ndarray, shape (n_test, 4), read-only
        The features serving feeds it now.
    train_contract : dict
        The schema the classifier was trained on (see :func:`upstream_contract`).
    serving_contract : dict
        The schema of the features served now.
    upstream_name : str
        Name of the upstream model (the feature in the contracts).
    downstream_name : str
        Name of the downstream model (the consumer of the feature).
    chance_accuracy : float
        Accuracy of guessing, 0.5 (:data:`CHANCE_ACCURACY`).
    """

    upstream_version: str
    retrained: bool
    system_accuracy: float
    probe_accuracy: float
    baseline_accuracy: float
    train_features: np.ndarray = field(repr=False)
    serving_features: np.ndarray = field(repr=False)
    train_contract: dict[str, Any] = field(repr=False)
    serving_contract: dict[str, Any] = field(repr=False)
    upstream_name: str = "feature_extractor"
    downstream_name: str = "classifier"
    chance_accuracy: float = CHANCE_ACCURACY


@dataclass(frozen=True)
class _Split:
    """Features of one extractor version on the training and test samples."""

    train: np.ndarray
    test: np.ndarray
    weights: np.ndarray  # least-squares classifier fitted on ``train``, intercept last


@dataclass(frozen=True)
class _World:
    """Everything expensive about one seed: labels, features of every version, fits."""

    y_train: np.ndarray
    y_test: np.ndarray
    splits: dict[str, _Split]


def _read_only(arr: np.ndarray) -> np.ndarray:
    # The arrays live in an lru_cache shared by every caller: a caller writing into one
    # would silently change every later run.
    arr.setflags(write=False)
    return arr


def _balanced_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """Exactly floor(n/2) or ceil(n/2) ones, shuffled: chance accuracy is exactly 0.5."""
    return rng.permutation(np.arange(n) % 2)


def _design(features: np.ndarray) -> np.ndarray:
    return np.column_stack([features, np.ones(features.shape[0])])


def _fit(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Least-squares linear classifier on targets -1/+1 (Fisher's discriminant direction)."""
    targets = 2.0 * labels - 1.0
    weights, *_ = np.linalg.lstsq(_design(features), targets, rcond=None)
    return weights


def _accuracy(weights: np.ndarray, features: np.ndarray, labels: np.ndarray) -> float:
    predictions = (_design(features) @ weights > 0.0).astype(labels.dtype)
    return float(np.mean(predictions == labels))


def _extract(version: str, z: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Apply one extractor version to latent signals ``z`` with standard-normal ``noise``."""
    if version == "v1":
        return z + _V1_NOISE_SD * noise
    if version == "v1-signflip":
        return -(z + _V1_NOISE_SD * noise)
    return (z + _V2_NOISE_SD * noise) @ _V2_ROTATION.T + _V2_SHIFT


# At the size cap an entry holds 3 versions x 200,000 x 4 floats (about 20 MB); 8 entries
# bound the cache near 160 MB, and at the default sizes it is under 1 MB per entry.
@functools.lru_cache(maxsize=8)
def _world(seed: int, n_train: int, n_test: int) -> _World:
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    labels = _balanced_labels(rng, n_train), _balanced_labels(rng, n_test)
    y = np.concatenate(labels)
    z = np.outer(2.0 * y - 1.0, _MU) + rng.standard_normal((n, N_FEATURES))
    # v1 and v1-signflip share one noise draw (the same extractor, negated); v2 has its own.
    noise_v1 = rng.standard_normal((n, N_FEATURES))
    noise_v2 = rng.standard_normal((n, N_FEATURES))
    splits = {}
    for version in UPSTREAM_VERSIONS:
        noise = noise_v2 if version == "v2" else noise_v1
        features = _extract(version, z, noise)
        train, test = features[:n_train], features[n_train:]
        splits[version] = _Split(
            train=_read_only(train.copy()),
            test=_read_only(test.copy()),
            weights=_read_only(_fit(train, labels[0])),
        )
    return _World(
        y_train=_read_only(labels[0]),
        y_test=_read_only(labels[1]),
        splits=splits,
    )


def _check_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _check_version(value: Any) -> str:
    if not isinstance(value, str) or value not in UPSTREAM_VERSIONS:
        raise InvalidInputError(
            f"upstream_version must be one of {UPSTREAM_VERSIONS}, got {value!r}"
        )
    return value


def upstream_contract(
    upstream_version: UpstreamVersion, *, upstream_name: str = "feature_extractor"
) -> dict[str, Any]:
    """The schema (contract) of one extractor version's output.

    Parameters
    ----------
    upstream_version : {"v1", "v2", "v1-signflip"}
        The extractor version.
    upstream_name : str, non-empty, optional
        Name of the upstream model, recorded as the contract's ``feature``.

    Returns
    -------
    dict
        A new JSON-ready dict with keys ``feature``, ``version``, ``dims``, ``dtype`` and
        ``transform`` (the definition, including the sign and, for v2, the rotation and
        shift). Every version has a different :func:`~opsmodel.contracts.contract_hash`.

    Raises
    ------
    InvalidInputError
        If ``upstream_version`` is not one of :data:`UPSTREAM_VERSIONS` or
        ``upstream_name`` is not a non-empty string.

    Examples
    --------
    >>> upstream_contract("v1-signflip")["transform"]["sign"]
    -1
    """
    version = _check_version(upstream_version)
    name = _check_name("upstream_name", upstream_name)
    # A fresh copy each call: the caller may edit the dict it receives.
    transform = copy.deepcopy(_TRANSFORMS[version])
    return {
        "feature": name,
        "version": version,
        "dims": N_FEATURES,
        "dtype": "float64",
        "transform": transform,
    }


def run_ensemble(
    upstream_version: UpstreamVersion,
    retrain: bool,
    *,
    seed: int = 0,
    n_train: int = 4000,
    n_test: int = 4000,
    upstream_name: str = "feature_extractor",
    downstream_name: str = "classifier",
) -> EnsembleRun:
    """Deploy one upstream extractor version under the downstream classifier.

    Parameters
    ----------
    upstream_version : {"v1", "v2", "v1-signflip"}
        The extractor version serving now.
    retrain : bool
        False: the classifier stays the one trained on v1 features. True: it is retrained
        on this version's training features (what the downstream team must do after an
        upstream change).
    seed : int >= 0, optional
        Seed of the generator (labels, latent signal, extractor noise).
    n_train : int in [10, 100_000], optional
        Training samples (default 4,000).
    n_test : int in [10, 100_000], optional
        Test (serving) samples (default 4,000).
    upstream_name : str, non-empty, optional
        Name of the upstream model, used in the contracts.
    downstream_name : str, non-empty, optional
        Name of the downstream model, carried in the result for labels.

    Returns
    -------
    EnsembleRun
        Accuracies (system, probe, baseline), the training and serving features of the
        deployed classifier, and the two contracts to compare.

    Raises
    ------
    InvalidInputError
        If ``upstream_version`` is unknown, ``retrain`` is not a bool, ``seed`` is not an
        integer >= 0, ``n_train`` or ``n_test`` is not an integer in [10, 100,000], or a
        name is not a non-empty string.

    Notes
    -----
    The task: labels ``y`` in {0, 1}, exactly balanced (shuffled), latent signal
    ``z = (2y - 1) * mu + N(0, I_4)`` with ``|mu| = 1.2``. v1 adds ``N(0, 1)`` noise
    per feature; v2 adds only ``N(0, 0.3**2)`` but then rotates by 90 degrees in two planes
    and shifts by ``(3, -2, 2.5, 1.5)``; v1-signflip negates v1. Every classifier is least
    squares on targets -1/+1 with an intercept, thresholded at 0 (deterministic, closed
    form, Fisher's discriminant direction). Expected accuracies with the defaults: about
    0.80 for v1, 0.88 for v2 alone, 0.5 for the v1 classifier on v2 (no signal left), and
    about 0.20 for the v1 classifier on sign-flipped features (every decision inverted).

    Labels, features and fits are cached per ``(seed, n_train, n_test)``
    (:func:`functools.lru_cache`, 8 entries); the feature arrays are read-only views of
    the cache. Contracts are new dicts on every call.

    References
    ----------
    .. [1] D. Sculley et al., "Hidden Technical Debt in Machine Learning Systems",
       NeurIPS 2015 (the CACE principle).

    Examples
    --------
    >>> v2 = run_ensemble("v2", retrain=False)
    >>> v2.probe_accuracy > v2.baseline_accuracy  # the new extractor is better alone
    True
    >>> abs(v2.system_accuracy - v2.chance_accuracy) < 0.10  # but the system collapses
    True
    >>> run_ensemble("v2", retrain=True).system_accuracy > v2.baseline_accuracy
    True
    """
    version = _check_version(upstream_version)
    if not isinstance(retrain, (bool, np.bool_)):
        raise InvalidInputError(f"retrain must be a bool, got {retrain!r}")
    seed_ = check_int("seed", seed, low=0)
    n_train_ = check_int("n_train", n_train, low=10, high=100_000)
    n_test_ = check_int("n_test", n_test, low=10, high=100_000)
    up = _check_name("upstream_name", upstream_name)
    down = _check_name("downstream_name", downstream_name)

    world = _world(seed_, n_train_, n_test_)
    serving = world.splits[version]
    trained_on = version if retrain else "v1"
    deployed = world.splits[trained_on]
    baseline = world.splits["v1"]
    return EnsembleRun(
        upstream_version=version,
        retrained=bool(retrain),
        system_accuracy=_accuracy(deployed.weights, serving.test, world.y_test),
        probe_accuracy=_accuracy(serving.weights, serving.test, world.y_test),
        baseline_accuracy=_accuracy(baseline.weights, baseline.test, world.y_test),
        train_features=deployed.train,
        serving_features=serving.test,
        train_contract=upstream_contract(trained_on, upstream_name=up),
        serving_contract=upstream_contract(version, upstream_name=up),
        upstream_name=up,
        downstream_name=down,
    )
