"""Seeded data of each track's crisis, drawn from the track's crisis parameter record.

- Edge Guardian: per-hardware-version shadow latencies (:func:`edge_latency_samples`) and
  their over-budget counts (:func:`edge_over_budget_counts`).
- Mobile Nomad: per-region session FPS before and after the NPU power-policy change
  (:func:`nomad_fps_samples`).
- Tiny Pioneer: the feature store with the wake-word detector pinned to the old
  noise-isolation version while serving provides the new one (:func:`pioneer_feature_store`).

Cloud Titan's crisis needs no data: its numbers are its parameters.

:func:`crisis_inputs` gathers, for any track, everything its crisis task works from, and
:func:`describe_crisis` states the task and the form of the answer.

Every generator is deterministic: the same record gives the same data, on every machine
(numpy's ``default_rng``, one child seed per slice from ``SeedSequence(seed).spawn``, so
a slice's data does not depend on how many slices come after it). The data only draw;
the decisions belong to the student (and to the reference, which never ships).

This module ships to students.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from ._validation import InvalidInputError
from .feature_store import FeatureStore
from .tracks import (
    CloudTitanCrisis,
    EdgeGuardianCrisis,
    MobileNomadCrisis,
    TinyPioneerCrisis,
    Track,
    get_track,
)

__all__ = [
    "CRISIS_KINDS",
    "by_crisis_kind",
    "crisis_inputs",
    "describe_crisis",
    "edge_latency_samples",
    "edge_over_budget_counts",
    "nomad_fps_samples",
    "pioneer_feature_store",
]

#: The four kinds of crisis record, one per track. Whatever treats each kind its own way
#: (the inputs, the task text, the reference answer) goes through :func:`by_crisis_kind`.
CRISIS_KINDS = (CloudTitanCrisis, EdgeGuardianCrisis, MobileNomadCrisis, TinyPioneerCrisis)

_T = TypeVar("_T")


def by_crisis_kind(track: Track, handlers: Mapping[type, Callable[[Any, Track], _T]]) -> _T:
    """Call the handler of the track's kind of crisis: ``handler(track.crisis, track)``.

    Parameters
    ----------
    track : Track
        The track whose ``crisis`` record decides the handler.
    handlers : mapping of crisis record type to callable
        One handler per kind of :data:`CRISIS_KINDS`; each takes the record and the track.

    Returns
    -------
    object
        What the handler returns.

    Raises
    ------
    InvalidInputError
        If the track's crisis record is of no kind ``handlers`` knows.
    ValueError
        If ``handlers`` misses a kind of :data:`CRISIS_KINDS` (a new kind must be handled
        everywhere, not only where it was first added).
    """
    missing = [kind.__name__ for kind in CRISIS_KINDS if kind not in handlers]
    if missing:
        raise ValueError(f"handlers must cover every kind of crisis, missing {missing}")
    handler = handlers.get(type(track.crisis))
    if handler is None:
        raise InvalidInputError(f"track has an unknown crisis record: {track.crisis!r}")
    return handler(track.crisis, track)


# Within-budget latencies are ``budget * Beta(12, 8)``: mean 0.6 of the budget (6 ms of
# 10 ms), standard deviation about 0.11 of it, and always strictly under the budget.
_BODY_BETA = (12.0, 8.0)
# Overruns on current hardware: just past the deadline, budget * (1.05 + Exp(0.2)),
# i.e. 10.5 ms and up, typically 12.5 ms.
_OVERRUN_MIN = 1.05
_OVERRUN_SCALE = 0.2
# The oldest hardware's overruns: lognormal around tail_ms with a 25% spread.
_TAIL_SIGMA = 0.25
# Per-region mean FPS before the update, as a share of the target (hot regions and older
# phones run a little lower); drawn once per region from the seed.
_BASE_FPS_SHARE = (0.92, 0.97)


def _check_crisis(crisis: Any, kind: type, track: str) -> None:
    if not isinstance(crisis, kind):
        raise InvalidInputError(
            f"crisis must be a {kind.__name__} (get_track({track!r}).crisis), got {crisis!r}"
        )


def _child_rngs(seed: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def edge_latency_samples(crisis: EdgeGuardianCrisis) -> dict[str, np.ndarray]:
    """Shadow-mode latencies of the new perception model on each hardware version.

    Parameters
    ----------
    crisis : EdgeGuardianCrisis
        Edge Guardian's crisis record (``get_track("edge_guardian").crisis``).

    Returns
    -------
    dict of str to ndarray of float
        Hardware version (newest first, as in ``crisis.hardware_versions``) to its
        ``crisis.shadow_requests_per_version`` latencies in milliseconds.

    Raises
    ------
    InvalidInputError
        If ``crisis`` is not an :class:`~opsmodel.tracks.EdgeGuardianCrisis`.

    Notes
    -----
    Each request is over budget with the version's true rate
    (``crisis.over_budget_rate_per_version``), independently. A request within budget
    takes ``budget * Beta(12, 8)`` ms (about 6 ms for a 10 ms budget), strictly under the
    budget. An over-budget request on every version but the oldest just misses the
    deadline, ``budget * (1.05 + Exp(0.2))`` ms; on the oldest (the last version) it falls
    in the long tail, lognormal around ``crisis.tail_ms`` (100 ms), never under
    ``1.05 * budget``. So the count of requests over budget is binomial with the true rate,
    and every version but the oldest keeps its p99 well under the budget.

    Examples
    --------
    >>> from opsmodel.tracks import get_track
    >>> samples = edge_latency_samples(get_track("edge_guardian").crisis)
    >>> list(samples)
    ['hw4', 'hw3', 'hw2', 'hw1']
    >>> samples["hw1"].size
    2000
    """
    _check_crisis(crisis, EdgeGuardianCrisis, "edge_guardian")
    budget = crisis.latency_budget_ms
    n = crisis.shadow_requests_per_version
    versions = crisis.hardware_versions
    oldest = len(versions) - 1
    out: dict[str, np.ndarray] = {}
    for i, (version, rate, rng) in enumerate(
        zip(
            versions,
            crisis.over_budget_rate_per_version,
            _child_rngs(crisis.seed, len(versions)),
            strict=True,
        )
    ):
        over = rng.random(n) < rate
        # Draw every component for every request, then pick: the stream of random numbers
        # then does not depend on which requests overran.
        body = budget * rng.beta(*_BODY_BETA, size=n)
        # Beta draws lie in (0, 1), but keep "within budget" strict even after rounding.
        body = np.minimum(body, np.nextafter(budget, 0.0))
        if i == oldest:
            tail = crisis.tail_ms * rng.lognormal(0.0, _TAIL_SIGMA, size=n)
            overrun = np.maximum(tail, _OVERRUN_MIN * budget)
        else:
            overrun = budget * (_OVERRUN_MIN + rng.exponential(_OVERRUN_SCALE, size=n))
        out[version] = np.where(over, overrun, body)
    return out


def edge_over_budget_counts(crisis: EdgeGuardianCrisis) -> dict[str, tuple[int, int]]:
    """Requests over the latency budget on each hardware version: ``(k, n)``.

    Parameters
    ----------
    crisis : EdgeGuardianCrisis
        Edge Guardian's crisis record.

    Returns
    -------
    dict of str to (int, int)
        Hardware version to ``(k, n)``: ``k`` requests strictly over
        ``crisis.latency_budget_ms`` among the ``n`` of :func:`edge_latency_samples`.

    Raises
    ------
    InvalidInputError
        If ``crisis`` is not an :class:`~opsmodel.tracks.EdgeGuardianCrisis`.

    Notes
    -----
    "Over budget" is ``latency > budget``: a request that takes exactly the budget meets
    its deadline (the p99 statement is ``P(latency > budget) <= 0.01``).

    Examples
    --------
    >>> from opsmodel.tracks import get_track
    >>> counts = edge_over_budget_counts(get_track("edge_guardian").crisis)
    >>> k, n = counts["hw1"]
    >>> n, k > 0.01 * n
    (2000, True)
    """
    samples = edge_latency_samples(crisis)
    budget = crisis.latency_budget_ms
    return {v: (int(np.count_nonzero(x > budget)), int(x.size)) for v, x in samples.items()}


def nomad_fps_samples(crisis: MobileNomadCrisis) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-region session FPS before and after the NPU power-policy change.

    Parameters
    ----------
    crisis : MobileNomadCrisis
        Mobile Nomad's crisis record (``get_track("mobile_nomad").crisis``).

    Returns
    -------
    dict of str to (ndarray, ndarray)
        Region (in ``crisis.regions`` order) to ``(before, after)``: the mean FPS of
        ``crisis.samples_per_region`` sessions each, in [0, target_fps].

    Raises
    ------
    InvalidInputError
        If ``crisis`` is not a :class:`~opsmodel.tracks.MobileNomadCrisis`.

    Notes
    -----
    Each region runs at its own mean before the update, ``target_fps * U(0.92, 0.97)``
    (drawn from the seed), with session-to-session spread ``crisis.fps_sd``. After the
    update its mean changes by a fixed share: ``-regressed_drop_fraction`` (15%) in the
    regressed regions, ``-decoy_drop_fraction`` (4%) in the decoy regions, and
    ``+other_gain_fraction`` (1%) elsewhere. Sessions are normal around the region's mean
    and clipped to ``[0, target_fps]``: a session cannot average above the display's
    vsync. With one regressed region of ten, the regressed slice drops about 15% while
    the fleet-wide mean moves about 1%: the fleet dashboard looks flat.

    Examples
    --------
    >>> from opsmodel.tracks import get_track
    >>> data = nomad_fps_samples(get_track("mobile_nomad").crisis)
    >>> len(data)
    10
    >>> before, after = data["uae"]
    >>> bool(after.mean() < 0.9 * before.mean())
    True
    """
    _check_crisis(crisis, MobileNomadCrisis, "mobile_nomad")
    n = crisis.samples_per_region
    target = crisis.target_fps
    sd = crisis.fps_sd
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for region, rng in zip(
        crisis.regions, _child_rngs(crisis.seed, len(crisis.regions)), strict=True
    ):
        if region in crisis.regressed_regions:
            change = -crisis.regressed_drop_fraction
        elif region in crisis.decoy_regions:
            change = -crisis.decoy_drop_fraction
        else:
            change = crisis.other_gain_fraction
        base = target * rng.uniform(*_BASE_FPS_SHARE)
        before = np.clip(rng.normal(base, sd, size=n), 0.0, target)
        after = np.clip(rng.normal(base * (1.0 + change), sd, size=n), 0.0, target)
        out[region] = (before, after)
    return out


def pioneer_feature_store(crisis: TinyPioneerCrisis) -> FeatureStore:
    """The feature store of Tiny Pioneer's crisis, in the state the update left it.

    Parameters
    ----------
    crisis : TinyPioneerCrisis
        Tiny Pioneer's crisis record (``get_track("tiny_pioneer").crisis``).

    Returns
    -------
    FeatureStore
        A new store with every version of ``crisis.feature`` registered (oldest first),
        every consumer pinned as in ``crisis.pins``, and serving providing
        ``crisis.serving_version``.

    Raises
    ------
    InvalidInputError
        If ``crisis`` is not a :class:`~opsmodel.tracks.TinyPioneerCrisis`.

    Notes
    -----
    Nothing is random here; the store is rebuilt on every call, so a student who edits
    it (pins, serving) can start over.

    Examples
    --------
    >>> from opsmodel.tracks import get_track
    >>> store = pioneer_feature_store(get_track("tiny_pioneer").crisis)
    >>> store.served("noise_isolation_embedding").version
    'v2'
    >>> [(p.consumer, p.version) for p in store.pins()]
    [('voice_activity', 'v2'), ('wake_word', 'v1')]
    """
    _check_crisis(crisis, TinyPioneerCrisis, "tiny_pioneer")
    store = FeatureStore()
    for spec in crisis.versions:
        store.register(crisis.feature, spec.version, spec.schema)
    for consumer, version in crisis.pins:
        store.pin(consumer, crisis.feature, version)
    store.serve(crisis.feature, crisis.serving_version)
    return store


def crisis_inputs(track: Track | str) -> dict[str, Any]:
    """Everything a track's crisis task works from, in a new dict.

    Parameters
    ----------
    track : Track or str
        The track, or its key or display name (see :func:`~opsmodel.tracks.get_track`).

    Returns
    -------
    dict
        By track:

        - Cloud Titan: ``n_models``, ``metrics_per_model``, ``checks_per_day``,
          ``false_alerts_per_day_budget``.
        - Edge Guardian: ``latency_samples`` (:func:`edge_latency_samples`),
          ``over_budget_counts`` (:func:`edge_over_budget_counts`),
          ``latency_budget_ms``, ``exceedance_max``, ``confidence``.
        - Mobile Nomad: ``fps_samples`` (:func:`nomad_fps_samples`), ``target_fps``,
          ``regression_fraction``, ``alpha``.
        - Tiny Pioneer: ``feature_store`` (:func:`pioneer_feature_store`), ``feature``,
          ``upstream_model``, ``downstream_model``.

    Raises
    ------
    InvalidInputError
        If ``track`` names no track.

    Notes
    -----
    The data are drawn anew on every call (deterministically), so editing the returned
    arrays or store changes nothing for the next call.

    Examples
    --------
    >>> sorted(crisis_inputs("Cloud Titan"))
    ['checks_per_day', 'false_alerts_per_day_budget', 'metrics_per_model', 'n_models']
    """
    return by_crisis_kind(
        get_track(track),
        {
            CloudTitanCrisis: _cloud_titan_inputs,
            EdgeGuardianCrisis: _edge_guardian_inputs,
            MobileNomadCrisis: _mobile_nomad_inputs,
            TinyPioneerCrisis: _tiny_pioneer_inputs,
        },
    )


def _cloud_titan_inputs(crisis: CloudTitanCrisis, _track: Track) -> dict[str, Any]:
    return {
        "n_models": crisis.n_models,
        "metrics_per_model": crisis.metrics_per_model,
        "checks_per_day": crisis.checks_per_day,
        "false_alerts_per_day_budget": crisis.false_alerts_per_day_budget,
    }


def _edge_guardian_inputs(crisis: EdgeGuardianCrisis, _track: Track) -> dict[str, Any]:
    return {
        "latency_samples": edge_latency_samples(crisis),
        "over_budget_counts": edge_over_budget_counts(crisis),
        "latency_budget_ms": crisis.latency_budget_ms,
        "exceedance_max": crisis.p99_exceedance_max,
        "confidence": crisis.confidence,
    }


def _mobile_nomad_inputs(crisis: MobileNomadCrisis, _track: Track) -> dict[str, Any]:
    return {
        "fps_samples": nomad_fps_samples(crisis),
        "target_fps": crisis.target_fps,
        "regression_fraction": crisis.regression_fraction,
        "alpha": crisis.alpha,
    }


def _tiny_pioneer_inputs(crisis: TinyPioneerCrisis, track: Track) -> dict[str, Any]:
    return {
        "feature_store": pioneer_feature_store(crisis),
        "feature": crisis.feature,
        "upstream_model": track.upstream_model,
        "downstream_model": track.downstream_model,
    }


def describe_crisis(track: Track | str) -> str:
    """The crisis task of a track: the story, the rule to apply and the answer's form.

    Parameters
    ----------
    track : Track or str
        The track, or its key or display name (see :func:`~opsmodel.tracks.get_track`).

    Returns
    -------
    str
        Plain text naming the inputs (the keys of :func:`crisis_inputs`), the decision
        rule and the exact form ``crisis_answer`` must take. It states the task, never
        its answer.

    Raises
    ------
    InvalidInputError
        If ``track`` names no track.

    Examples
    --------
    >>> print(describe_crisis("tiny_pioneer").splitlines()[0])
    Tiny Pioneer: The Dependency Domino
    """
    t = get_track(track)
    task = by_crisis_kind(
        t,
        {
            CloudTitanCrisis: _cloud_titan_task,
            EdgeGuardianCrisis: _edge_guardian_task,
            MobileNomadCrisis: _mobile_nomad_task,
            TinyPioneerCrisis: _tiny_pioneer_task,
        },
    )
    lines = [f"{t.name}: {t.crisis_title}"]
    lines += [textwrap.fill(text, width=88, subsequent_indent="  ") for text in task]
    return "\n".join(lines)


def _cloud_titan_task(crisis: CloudTitanCrisis, _track: Track) -> list[str]:
    return [
        f"You monitor N = {crisis.n_models} models x m = {crisis.metrics_per_model} "
        f"metrics, each checked c = {crisis.checks_per_day} times a day. On-call can "
        f"absorb B = {crisis.false_alerts_per_day_budget:g} false alert(s) a day across "
        "the fleet.",
        "Find the per-check false-alarm probability q that makes the expected number of "
        "false alerts a day equal to B, and the one-sided z threshold whose upper "
        "normal tail is q (alarm when a standardised metric exceeds it).",
        "Inputs: crisis_inputs(track) with keys n_models, metrics_per_model, "
        "checks_per_day, false_alerts_per_day_budget.",
        "Answer: crisis_answer = the z threshold, a float.",
    ]


def _edge_guardian_task(crisis: EdgeGuardianCrisis, _track: Track) -> list[str]:
    versions = ", ".join(crisis.hardware_versions)
    return [
        f"The shadow window is over: {crisis.shadow_requests_per_version:,} shadow "
        f"requests per hardware version ({versions}; oldest last). 'p99 <= "
        f"{crisis.latency_budget_ms:g} ms' means P(latency > {crisis.latency_budget_ms:g}"
        f" ms) <= {crisis.p99_exceedance_max:g}.",
        "For each version with k of n requests over budget: promote when the one-sided "
        f"Clopper-Pearson upper bound at confidence {crisis.confidence:g} is <= "
        f"{crisis.p99_exceedance_max:g}; roll back when the lower bound is > "
        f"{crisis.p99_exceedance_max:g}; a version still undecided at the end of the "
        "window rolls back (fail safe). The fleet rolls back if any version does.",
        "Inputs: crisis_inputs(track) with keys over_budget_counts ({version: (k, n)}), "
        "latency_samples, latency_budget_ms, exceedance_max, confidence.",
        'Answer: crisis_answer = {"decisions": {version: "promote" or "rollback"}, '
        '"fleet_rollback": True or False}.',
    ]


def _mobile_nomad_task(crisis: MobileNomadCrisis, _track: Track) -> list[str]:
    k = len(crisis.regions)
    return [
        f"Session FPS (target {crisis.target_fps:g}) before and after the NPU "
        f"power-policy change, in {k} regions.",
        "A region regressed when its mean FPS dropped by at least "
        f"{crisis.regression_fraction:.0%} AND a one-sided Welch t-test (before > after) "
        f"gives p <= {crisis.alpha:g} / {k} (Bonferroni over the {k} regions).",
        "Inputs: crisis_inputs(track) with keys fps_samples ({region: (before, after)}), "
        "target_fps, regression_fraction, alpha.",
        "Answer: crisis_answer = the list of regressed region names (order ignored).",
    ]


def _tiny_pioneer_task(crisis: TinyPioneerCrisis, track: Track) -> list[str]:
    return [
        f"The {track.upstream_model} model was updated: serving now provides a new version "
        f"of the feature {crisis.feature!r}. Downstream consumers pinned the version "
        "(and contract hash) they were trained on.",
        "Find every consumer whose pin differs from what serving provides: each is a "
        "silent training-serving skew.",
        "Inputs: crisis_inputs(track) with keys feature_store (a FeatureStore: pins(), "
        "served(feature), consistency_check()), feature, upstream_model, "
        "downstream_model.",
        "Answer: crisis_answer = the list of stale consumer names (order ignored).",
    ]
