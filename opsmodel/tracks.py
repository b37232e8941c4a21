"""The lab's four tracks: persona, mission, crisis and every number each part of the lab uses.

Each track is one frozen :class:`Track` record. Part 1 reads its fleet (model types and
counts) and its own :class:`~opsmodel.toil_params.ToilParams`; Part 2 its request rate,
shadow fraction, failure rate to rule out, confidence and SPRT pair; Part 3 its upstream
and downstream models and the seed of the ensemble simulation; the crisis its own
parameter record (:class:`CloudTitanCrisis`, :class:`EdgeGuardianCrisis`,
:class:`MobileNomadCrisis`, :class:`TinyPioneerCrisis`), from which
:mod:`opsmodel.crisis_data` draws the crisis data.

The numbers differ between tracks on purpose, so that no answer (break-even fleet size,
shadow sample size and hours, crisis answer) can be copied from a neighbour on another
track. Each number carries a comment saying where it comes from.

This module ships to students: it holds parameters, never an answer.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import textwrap
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._validation import InvalidInputError, check_int, check_probability, check_real
from .fleet_mix import heterogeneity as _heterogeneity
from .toil_params import ToilParams

__all__ = [
    "CloudTitanCrisis",
    "EdgeGuardianCrisis",
    "MobileNomadCrisis",
    "FeatureVersionSpec",
    "TinyPioneerCrisis",
    "Crisis",
    "Track",
    "TRACKS",
    "TRACK_KEYS",
    "get_track",
    "describe_track",
]

# One week: the release cycle the Safety Lead's shadow window must fit in (mission plan,
# Part 2). Kept here as a plain number because the shadow module is reference-only.
_ONE_WEEK_HOURS = 168.0


# ----------------------------------------------------------------------------- helpers


def _check_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _check_names(name: str, value: Any, *, min_len: int = 1) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise InvalidInputError(f"{name} must be a tuple of strings, got {value!r}")
    items = tuple(_check_name(name, v) for v in value)
    if len(items) < min_len:
        raise InvalidInputError(f"{name} must hold at least {min_len} names, got {value!r}")
    if len(set(items)) != len(items):
        raise InvalidInputError(f"{name} must not repeat a name, got {value!r}")
    return items


def _set(obj: Any, name: str, value: Any) -> None:
    # Frozen dataclasses: store the normalised value without going through __setattr__.
    object.__setattr__(obj, name, value)


# ------------------------------------------------------------------ crisis parameter records


@dataclass(frozen=True, kw_only=True)
class CloudTitanCrisis:
    """Parameters of Cloud Titan's crisis, "The N-Models Explosion" (threshold discovery).

    Parameters
    ----------
    n_models : int >= 1, default 50
        LLM versions served (one per customer), as in the crisis text.
    metrics_per_model : int >= 1
        Monitored metrics per model, each with its own alert threshold.
    checks_per_day : int >= 1, default 288
        Alert evaluations per metric per day (every 5 minutes: 24 * 60 / 5 = 288).
    false_alerts_per_day_budget : float > 0
        False alerts a day the on-call rotation can absorb across the whole fleet.

    Raises
    ------
    InvalidInputError
        If a field is out of range or the budget is at least the number of checks a day
        (then every check could alarm and no threshold exists).
    """

    n_models: int = 50
    metrics_per_model: int
    checks_per_day: int = 288
    false_alerts_per_day_budget: float

    def __post_init__(self) -> None:
        _set(self, "n_models", check_int("n_models", self.n_models, low=1))
        _set(
            self, "metrics_per_model", check_int("metrics_per_model", self.metrics_per_model, low=1)
        )
        _set(self, "checks_per_day", check_int("checks_per_day", self.checks_per_day, low=1))
        checks = self.n_models * self.metrics_per_model * self.checks_per_day
        budget = check_real(
            "false_alerts_per_day_budget",
            self.false_alerts_per_day_budget,
            low=0.0,
            high=float(checks),
            low_open=True,
            high_open=True,
        )
        _set(self, "false_alerts_per_day_budget", budget)


@dataclass(frozen=True, kw_only=True)
class EdgeGuardianCrisis:
    """Parameters of Edge Guardian's crisis, "The Rollout Jitter" (per-hardware rollback).

    The shadow test runs the new perception model on every hardware version of the fleet;
    "p99 <= budget" is the statement ``P(latency > budget) <= p99_exceedance_max``.

    Parameters
    ----------
    fleet_size : int >= 1, default 500_000
        Vehicles in the fleet being updated.
    latency_budget_ms : float > 0, default 10.0
        Deadline of the deterministic safety loop, milliseconds.
    tail_ms : float > latency_budget_ms, default 100.0
        Typical latency of the oldest hardware's overruns, milliseconds.
    p99_exceedance_max : float in (0, 1), default 0.01
        Largest tolerated share of requests over the budget (0.01 for a p99 target).
    confidence : float in [0.5, 1)
        Confidence of the one-sided Clopper-Pearson bounds behind each decision.
    hardware_versions : tuple of str, newest first
        Hardware generations in the fleet; the oldest is last.
    shadow_requests_per_version : int >= 1
        Shadow requests logged on each hardware version during the window.
    over_budget_rate_per_version : tuple of float in [0, 1)
        True share of requests over the budget on each version (one per version), the
        rates :func:`~opsmodel.crisis_data.edge_latency_samples` draws from.
    seed : int >= 0
        Seed of the data generator.

    Raises
    ------
    InvalidInputError
        If a field is out of range or the per-version tuples differ in length.
    """

    fleet_size: int = 500_000
    latency_budget_ms: float = 10.0
    tail_ms: float = 100.0
    p99_exceedance_max: float = 0.01
    confidence: float
    hardware_versions: tuple[str, ...]
    shadow_requests_per_version: int
    over_budget_rate_per_version: tuple[float, ...]
    seed: int

    def __post_init__(self) -> None:
        _set(self, "fleet_size", check_int("fleet_size", self.fleet_size, low=1))
        budget = check_real("latency_budget_ms", self.latency_budget_ms, low=0.0, low_open=True)
        _set(self, "latency_budget_ms", budget)
        _set(self, "tail_ms", check_real("tail_ms", self.tail_ms, low=budget, low_open=True))
        _set(
            self,
            "p99_exceedance_max",
            check_probability("p99_exceedance_max", self.p99_exceedance_max),
        )
        # Below 0.5 the one-sided upper bound can fall under the lower one, and "promote"
        # and "rollback" could both hold.
        confidence = check_real("confidence", self.confidence, low=0.5, high=1.0, high_open=True)
        _set(self, "confidence", confidence)
        versions = _check_names("hardware_versions", self.hardware_versions)
        _set(self, "hardware_versions", versions)
        n = check_int("shadow_requests_per_version", self.shadow_requests_per_version, low=1)
        _set(self, "shadow_requests_per_version", n)
        rates = self.over_budget_rate_per_version
        if isinstance(rates, (str, bytes)) or not isinstance(rates, (tuple, list)):
            raise InvalidInputError(
                f"over_budget_rate_per_version must be a tuple of rates in [0, 1), got {rates!r}"
            )
        rates = tuple(
            check_real("over_budget_rate_per_version", r, low=0.0, high=1.0, high_open=True)
            for r in rates
        )
        if len(rates) != len(versions):
            raise InvalidInputError(
                "over_budget_rate_per_version must give one rate per hardware version "
                f"({len(versions)}), got {len(rates)}"
            )
        _set(self, "over_budget_rate_per_version", rates)
        _set(self, "seed", check_int("seed", self.seed, low=0))


@dataclass(frozen=True, kw_only=True)
class MobileNomadCrisis:
    """Parameters of Mobile Nomad's crisis, "The App-OS Skew" (slice-level monitoring).

    A system update changed the NPU power policy; per-region session FPS is logged before
    and after it. :func:`~opsmodel.crisis_data.nomad_fps_samples` draws the data: the
    ``regressed_regions`` lose ``regressed_drop_fraction`` of their mean FPS, the
    ``decoy_regions`` lose a small but statistically clear ``decoy_drop_fraction``, every
    other region gains ``other_gain_fraction``, so the fleet-wide mean barely moves
    (about 1% with one regressed region of ten; with two, raise ``other_gain_fraction``
    to keep the fleet-wide change under 2%).

    Parameters
    ----------
    target_fps : float > 0, default 60.0
        The display's frame rate (vsync): no session averages above it.
    regions : tuple of 10 str
        The monitored regions (slices).
    samples_per_region : int >= 2
        Sessions logged per region, before and after the update each.
    regression_fraction : float in (0, 1), default 0.10
        Smallest relative drop of the mean FPS that counts as a regression.
    alpha : float in (0, 1), default 0.05
        Family-wise error rate, split over the regions (Bonferroni).
    regressed_regions : tuple of str
        The regions that truly regressed (one or two), a subset of ``regions``.
    seed : int >= 0
        Seed of the data generator.
    regressed_drop_fraction : float in (regression_fraction, 1), default 0.15
        True relative drop of the mean FPS in the regressed regions.
    decoy_regions : tuple of str, default ()
        Regions with a real but small drop (below ``regression_fraction``): a significance
        test alone would flag them.
    decoy_drop_fraction : float in [0, regression_fraction), default 0.04
        True relative drop in the decoy regions.
    other_gain_fraction : float in [0, 0.1], default 0.01
        True relative gain in every other region (the new policy lets cool regions boost).
    fps_sd : float > 0, default 2.5
        Standard deviation of a session's mean FPS within a region.

    Raises
    ------
    InvalidInputError
        If a field is out of range, a region is unknown or listed twice, or the regressed
        and decoy regions overlap.
    """

    target_fps: float = 60.0
    regions: tuple[str, ...]
    samples_per_region: int
    regression_fraction: float = 0.10
    alpha: float = 0.05
    regressed_regions: tuple[str, ...]
    seed: int
    regressed_drop_fraction: float = 0.15
    decoy_regions: tuple[str, ...] = ()
    decoy_drop_fraction: float = 0.04
    other_gain_fraction: float = 0.01
    fps_sd: float = 2.5

    def __post_init__(self) -> None:
        _set(self, "target_fps", check_real("target_fps", self.target_fps, low=0.0, low_open=True))
        regions = _check_names("regions", self.regions, min_len=2)
        _set(self, "regions", regions)
        _set(
            self,
            "samples_per_region",
            check_int("samples_per_region", self.samples_per_region, low=2),
        )
        fraction = check_probability("regression_fraction", self.regression_fraction)
        _set(self, "regression_fraction", fraction)
        _set(self, "alpha", check_probability("alpha", self.alpha))
        regressed = _check_names("regressed_regions", self.regressed_regions, min_len=1)
        decoys = _check_names("decoy_regions", self.decoy_regions, min_len=0)
        for name, chosen in (("regressed_regions", regressed), ("decoy_regions", decoys)):
            unknown = [r for r in chosen if r not in regions]
            if unknown:
                raise InvalidInputError(
                    f"{name} must be among regions {regions}, got unknown {tuple(unknown)}"
                )
        if set(regressed) & set(decoys):
            raise InvalidInputError(
                f"decoy_regions must not overlap regressed_regions, got {decoys} and {regressed}"
            )
        _set(self, "regressed_regions", regressed)
        _set(self, "decoy_regions", decoys)
        _set(self, "seed", check_int("seed", self.seed, low=0))
        drop = check_real(
            "regressed_drop_fraction",
            self.regressed_drop_fraction,
            low=fraction,
            high=1.0,
            low_open=True,
            high_open=True,
        )
        _set(self, "regressed_drop_fraction", drop)
        decoy = check_real(
            "decoy_drop_fraction", self.decoy_drop_fraction, low=0.0, high=fraction, high_open=True
        )
        _set(self, "decoy_drop_fraction", decoy)
        gain = check_real("other_gain_fraction", self.other_gain_fraction, low=0.0, high=0.1)
        _set(self, "other_gain_fraction", gain)
        _set(self, "fps_sd", check_real("fps_sd", self.fps_sd, low=0.0, low_open=True))


# Schema values a feature contract may hold (JSON scalars).
SchemaValue = str | int | float | bool | None


@dataclass(frozen=True)
class FeatureVersionSpec:
    """One registered version of a feature and its schema (the contract consumers pin).

    The schema is stored as sorted ``(key, value)`` pairs so that the record stays
    immutable and hashable; :attr:`schema` gives it back as a fresh ``dict`` for
    :func:`~opsmodel.contracts.contract_hash` and the feature store.

    Parameters
    ----------
    version : str
        Version label, e.g. ``"v2"``.
    schema_items : tuple of (str, scalar) pairs
        The schema's entries. Use :meth:`from_schema` to build from a dict.
    """

    version: str
    schema_items: tuple[tuple[str, SchemaValue], ...]

    def __post_init__(self) -> None:
        _check_name("version", self.version)
        items = self.schema_items
        if isinstance(items, Mapping):
            items = tuple(items.items())
        if not isinstance(items, (tuple, list)) or not all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in items
        ):
            raise InvalidInputError(
                f"schema_items must be (str, value) pairs, got {self.schema_items!r}"
            )
        _set(self, "schema_items", tuple(sorted(items)))

    @classmethod
    def from_schema(cls, version: str, schema: Mapping[str, SchemaValue]) -> FeatureVersionSpec:
        """Build from a version label and a schema mapping."""
        if not isinstance(schema, Mapping):
            raise InvalidInputError(f"schema must be a mapping, got {schema!r}")
        return cls(version, tuple(schema.items()))

    @property
    def schema(self) -> dict[str, SchemaValue]:
        """The schema as a new ``dict`` (changing it changes nothing here)."""
        return dict(self.schema_items)


@dataclass(frozen=True, kw_only=True)
class TinyPioneerCrisis:
    """Parameters of Tiny Pioneer's crisis, "The Dependency Domino" (stale feature pins).

    Parameters
    ----------
    feature : str, default "noise_isolation_embedding"
        The feature the noise-isolation model produces and downstream models consume.
    versions : tuple of FeatureVersionSpec
        Registered versions of the feature, oldest first.
    pins : tuple of (consumer, version) pairs
        Each downstream consumer and the feature version it was trained on.
    serving_version : str
        The version serving provides now.

    Raises
    ------
    InvalidInputError
        If a version label repeats, a pin or ``serving_version`` names an unknown
        version, or a consumer is pinned twice.
    """

    feature: str = "noise_isolation_embedding"
    versions: tuple[FeatureVersionSpec, ...]
    pins: tuple[tuple[str, str], ...]
    serving_version: str

    def __post_init__(self) -> None:
        _check_name("feature", self.feature)
        versions = self.versions
        if (
            not isinstance(versions, (tuple, list))
            or not versions
            or not all(isinstance(v, FeatureVersionSpec) for v in versions)
        ):
            raise InvalidInputError(
                f"versions must be a non-empty tuple of FeatureVersionSpec, got {versions!r}"
            )
        labels = [v.version for v in versions]
        if len(set(labels)) != len(labels):
            raise InvalidInputError(f"versions must not repeat a version label, got {labels}")
        _set(self, "versions", tuple(versions))
        pins = self.pins
        if not isinstance(pins, (tuple, list)) or not all(
            isinstance(p, tuple) and len(p) == 2 for p in pins
        ):
            raise InvalidInputError(f"pins must be (consumer, version) pairs, got {pins!r}")
        consumers = [_check_name("pins", c) for c, _ in pins]
        if len(set(consumers)) != len(consumers):
            raise InvalidInputError(f"pins must pin each consumer once, got {consumers}")
        for consumer, version in pins:
            if version not in labels:
                raise InvalidInputError(
                    f"pins must name a registered version {tuple(labels)}, "
                    f"got {version!r} for {consumer!r}"
                )
        _set(self, "pins", tuple(pins))
        if self.serving_version not in labels:
            raise InvalidInputError(
                f"serving_version must be one of {tuple(labels)}, got {self.serving_version!r}"
            )

    def schema_of(self, version: str) -> dict[str, SchemaValue]:
        """The schema of ``version`` as a new dict."""
        for v in self.versions:
            if v.version == version:
                return v.schema
        raise InvalidInputError(
            f"version must be one of {tuple(v.version for v in self.versions)}, got {version!r}"
        )


Crisis = CloudTitanCrisis | EdgeGuardianCrisis | MobileNomadCrisis | TinyPioneerCrisis


# ------------------------------------------------------------------------------- Track


@dataclass(frozen=True, kw_only=True)
class Track:
    """One track of the lab: who the student is, what they run, and every number they use.

    Parameters
    ----------
    key : str
        Identifier: ``"cloud_titan"``, ``"edge_guardian"``, ``"mobile_nomad"``,
        ``"tiny_pioneer"``.
    name : str
        Display name: ``"Cloud Titan"``, ...
    persona, mission, crisis_title, crisis_text : str
        The storyboard's texts: persona, fixed north-star mission, the title of the ops
        crisis and its story.
    model_types : tuple of str
        Part 1: the model types of the fleet.
    model_type_counts : tuple of int >= 0
        Part 1: the fleet's models of each type today (one count per type).
    toil_params : ToilParams
        Part 1: the track's own cost and toil numbers.
    request_rate_per_s : float > 0
        Part 2: requests per second reaching the model being updated.
    shadow_fraction : float in (0, 1]
        Part 2: starting share of that traffic mirrored to the shadow model.
    max_shadow_fraction : float in (0, 1]
        Part 2: the largest share the shadow capacity allows (mirroring runs the model a
        second time). At this cap shadow mode alone misses the release cycle on every
        track, so a plan needs live stages (see :mod:`opsmodel.canary_planner`).
    p_max : float in (0, 1)
        Part 2: the failure rate the shadow test must rule out.
    confidence : float in (0, 1)
        Part 2: the Safety Lead's confidence target.
    release_cycle_hours : float > 0, default 168.0
        Part 2: the release cycle the shadow window must fit in (one week).
    live_failure_budget : float >= 0
        Part 2: the Safety Lead's limit on live exposure, in expected failures reaching
        users before the target is met if the new model fails at exactly ``p_max``
        (``p_max * live requests``).
    p0, p1 : float in (0, 1), p1 > p0
        Part 2: Wald's SPRT pair, failure rate of a fine model (H0) and of a regressed
        one (H1).
    sprt_checkpoint_failures : float > 0, default 5.0
        Part 2: where the SPRT's lines are read, in failures a fine model is expected to
        have by then: the checkpoint is :attr:`sprt_checkpoint_requests`, about
        ``sprt_checkpoint_failures / p0`` requests.
    upstream_model, downstream_model : str
        Part 3: the feature extractor and the model that consumes its features.
    ensemble_seed : int >= 0
        Part 3: seed of the ensemble simulation.
    crisis : CloudTitanCrisis, EdgeGuardianCrisis, MobileNomadCrisis or TinyPioneerCrisis
        The parameters of the track's crisis (a different record type per track).
    variant : str or None, default None
        The student's variant code when the numbers are a per-student variant of the track
        (:func:`opsmodel.variants.student_track`); ``None`` for the track itself.

    Raises
    ------
    InvalidInputError
        If a field is out of range or of the wrong kind; the message names the field.

    Examples
    --------
    >>> t = get_track("Tiny Pioneer")
    >>> t.key, t.upstream_model, t.downstream_model
    ('tiny_pioneer', 'noise_isolation', 'wake_word')
    >>> t.n_models == sum(t.model_type_counts)
    True
    """

    key: str
    name: str
    persona: str
    mission: str
    crisis_title: str
    crisis_text: str
    # Part 1
    model_types: tuple[str, ...]
    model_type_counts: tuple[int, ...]
    toil_params: ToilParams
    # Part 2
    request_rate_per_s: float
    shadow_fraction: float
    max_shadow_fraction: float
    p_max: float
    confidence: float
    release_cycle_hours: float = _ONE_WEEK_HOURS
    live_failure_budget: float
    p0: float
    p1: float
    sprt_checkpoint_failures: float = 5.0
    # Part 3
    upstream_model: str
    downstream_model: str
    ensemble_seed: int
    # Crisis
    crisis: Crisis
    # Per-student variant (opsmodel.variants)
    variant: str | None = None

    def __post_init__(self) -> None:
        for name in ("key", "name", "persona", "mission", "crisis_title", "crisis_text"):
            _check_name(name, getattr(self, name))
        types_ = _check_names("model_types", self.model_types)
        _set(self, "model_types", types_)
        counts = self.model_type_counts
        if isinstance(counts, (str, bytes)) or not isinstance(counts, (tuple, list)):
            raise InvalidInputError(f"model_type_counts must be a tuple of ints, got {counts!r}")
        counts = tuple(check_int("model_type_counts", c, low=0) for c in counts)
        if len(counts) != len(types_):
            raise InvalidInputError(
                f"model_type_counts must give one count per model type ({len(types_)}), "
                f"got {len(counts)}"
            )
        _set(self, "model_type_counts", counts)
        if not isinstance(self.toil_params, ToilParams):
            raise InvalidInputError(
                f"toil_params must be a ToilParams instance, got {self.toil_params!r}"
            )
        rate = check_real("request_rate_per_s", self.request_rate_per_s, low=0.0, low_open=True)
        _set(self, "request_rate_per_s", rate)
        fraction = check_real(
            "shadow_fraction", self.shadow_fraction, low=0.0, high=1.0, low_open=True
        )
        _set(self, "shadow_fraction", fraction)
        cap = check_real(
            "max_shadow_fraction", self.max_shadow_fraction, low=0.0, high=1.0, low_open=True
        )
        _set(self, "max_shadow_fraction", cap)
        _set(self, "p_max", check_probability("p_max", self.p_max))
        _set(self, "confidence", check_probability("confidence", self.confidence))
        cycle = check_real("release_cycle_hours", self.release_cycle_hours, low=0.0, low_open=True)
        _set(self, "release_cycle_hours", cycle)
        budget = check_real("live_failure_budget", self.live_failure_budget, low=0.0)
        _set(self, "live_failure_budget", budget)
        p0 = check_probability("p0", self.p0)
        p1 = check_probability("p1", self.p1)
        if not p1 > p0:
            raise InvalidInputError(f"p1 must be greater than p0 = {p0!r}, got {p1!r}")
        _set(self, "p0", p0)
        _set(self, "p1", p1)
        checkpoint = check_real(
            "sprt_checkpoint_failures", self.sprt_checkpoint_failures, low=0.0, low_open=True
        )
        _set(self, "sprt_checkpoint_failures", checkpoint)
        _check_name("upstream_model", self.upstream_model)
        _check_name("downstream_model", self.downstream_model)
        _set(self, "ensemble_seed", check_int("ensemble_seed", self.ensemble_seed, low=0))
        if not isinstance(
            self.crisis,
            (CloudTitanCrisis, EdgeGuardianCrisis, MobileNomadCrisis, TinyPioneerCrisis),
        ):
            raise InvalidInputError(
                f"crisis must be a crisis parameter record, got {self.crisis!r}"
            )
        if self.variant is not None:
            _check_name("variant", self.variant)

    @property
    def n_models(self) -> int:
        """Number of models in the fleet today, ``sum(model_type_counts)``."""
        return sum(self.model_type_counts)

    @property
    def sprt_checkpoint_requests(self) -> int:
        """Requests at the SPRT checkpoint: ``round(sprt_checkpoint_failures / p0)``.

        Examples
        --------
        >>> get_track("mobile_nomad").sprt_checkpoint_requests
        5000
        """
        return int(round(self.sprt_checkpoint_failures / self.p0))

    @property
    def heterogeneity(self) -> float:
        """Hurlbert's PIE of the fleet: ``heterogeneity(model_type_counts)``."""
        return _heterogeneity(self.model_type_counts)

    def replace(self, **changes: Any) -> Track:
        """A copy with some fields changed (validated again), for what-if exploration.

        Examples
        --------
        >>> get_track("cloud_titan").replace(shadow_fraction=0.01).shadow_fraction
        0.01
        """
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------- the four tracks

# Cloud Titan: an LLM platform team serving Llama-3-70B fine-tunes for customers.
_CLOUD_TITAN = Track(
    key="cloud_titan",
    name="Cloud Titan",
    persona="LLM Architect",
    mission="Maximize Llama-3-70B serving.",
    crisis_title="The N-Models Explosion",
    crisis_text=(
        "You are serving 50 different LLM versions for different customers. Your 'Alert "
        "Noise' has made it impossible to find real drift. You must automate 'Threshold "
        "Discovery'."
    ),
    # 50 models: the crisis's "50 different LLM versions", and the textbook chapter's
    # "around 50 models" where operational load outgrows one team. Mostly per-customer
    # 70B chat fine-tunes, plus the retrieval and safety models around them.
    model_types=(
        "chat_llm_70b",
        "code_llm_70b",
        "summarizer_llm_8b",
        "embedding_encoder",
        "safety_classifier",
    ),
    model_type_counts=(24, 10, 8, 5, 3),
    toil_params=ToilParams(
        # Bay Area ML infrastructure engineer: about $300k a year loaded over 2,000 hours.
        hourly_cost_usd=150.0,
        # Spec defaults (SRE book ch. 5 style toil per model): containerised serving keeps
        # alert and deploy work at the baseline.
        alert_hours=50.0,
        deploy_hours=20.0,
        dependency_hours=10.0,
        platform_hours=10.0,
        # The mission plan's "$500k platform investment" Lock.
        platform_capex_usd=500_000.0,
    ),
    # One customer's 70B endpoint: about 25 requests/s (a large customer's chat traffic).
    request_rate_per_s=25.0,
    # Mirroring a 70B request doubles its GPU cost, and the shadow copies of all 50
    # versions share one spare GPU pool: finance funds 0.005% of this endpoint's traffic
    # to start (4.5 requests an hour; 665.6 h for the target)...
    shadow_fraction=5.0e-5,
    # ...and the pool can give it at most 0.018% (16.2 requests an hour): 184.9 h, still
    # over the week.
    max_shadow_fraction=1.8e-4,
    # The mission plan's Lock: "95% confident ... a '1-in-1,000' edge case".
    p_max=1.0e-3,
    confidence=0.95,
    release_cycle_hours=_ONE_WEEK_HOURS,
    # One harmful answer reaching a customer's user, expected, if the new version is as
    # bad as the 1-in-1,000 bar (1,000 live requests). Live traffic then has to supply at
    # most a third of the 2,995 requests: go live after about 122 h of shadow at the cap.
    live_failure_budget=1.0,
    # SPRT on every track: H1 is the failure rate the shadow test must rule out (p1 =
    # p_max), H0 today's model, here four times better (the spec's example uses 3x). The
    # ratio differs by track (4, 5, 2, 3), so the SPRT's failure-count lines do too.
    p0=2.5e-4,
    p1=1.0e-3,
    upstream_model="embedding_encoder",
    downstream_model="safety_classifier",
    ensemble_seed=1101,
    crisis=CloudTitanCrisis(
        n_models=50,
        # Four metrics per model: time-to-first-token p99, tokens/s, refusal rate and
        # embedding drift score.
        metrics_per_model=4,
        # Checked every 5 minutes, the textbook's 288 checks a day.
        checks_per_day=288,
        # One false page a day for the whole fleet: the SRE book (ch. 11) caps on-call
        # at two events per 12-hour shift, and real incidents need the other slot.
        false_alerts_per_day_budget=1.0,
    ),
)

# Edge Guardian: the perception stack of an autonomous-vehicle fleet.
_EDGE_GUARDIAN = Track(
    key="edge_guardian",
    name="Edge Guardian",
    persona="AV Systems Lead",
    mission="Deterministic 10ms safety loop.",
    crisis_title="The Rollout Jitter",
    crisis_text=(
        "You are updating the perception model on 500,000 AVs. A 'Shadow Mode' test "
        "reveals that the new model has a 100ms latency tail on older hardware versions. "
        "You must 'Rollback' the fleet."
    ),
    # A perception-to-planning stack: cameras, lidar, fusion, planner and the driver
    # monitor, each with per-region and per-sensor-suite variants.
    model_types=(
        "camera_perception",
        "lidar_perception",
        "sensor_fusion",
        "path_planner",
        "driver_monitoring",
    ),
    model_type_counts=(6, 4, 3, 3, 2),
    toil_params=ToilParams(
        # Automotive safety engineer: about $280k a year loaded.
        hourly_cost_usd=140.0,
        # Every perception alert gets a safety review (ISO 26262 style): heavy triage.
        alert_hours=80.0,
        # OTA deployment with a safety case sign-off per release.
        deploy_hours=40.0,
        dependency_hours=15.0,
        # The safety case still needs upkeep on a platform.
        platform_hours=20.0,
        platform_capex_usd=500_000.0,
    ),
    # 500,000 vehicles x 10 Hz perception x about 5% on the road at any moment.
    request_rate_per_s=250_000.0,
    # Shadow inference needs a spare accelerator, which only development cars carry: 6 of
    # the 500,000 vehicles are free to start (1.2e-5 of the frames; 426.4 h)...
    shadow_fraction=1.2e-5,
    # ...15 at most (3e-5; 170.6 h, just over the week).
    max_shadow_fraction=3.0e-5,
    # A missed detection per frame must be ruled out at one in a million, at 99%.
    p_max=1.0e-6,
    confidence=0.99,
    release_cycle_hours=_ONE_WEEK_HOURS,
    # The strictest budget: half an expected missed detection on public roads (500,000
    # live frames at the bar). Nearly all evidence must come from shadow: go live after
    # 152 h at the cap, in the last 16 hours of the week.
    live_failure_budget=0.5,
    # Today's perception stack is five times below the bar (a mature model).
    p0=2.0e-7,
    p1=1.0e-6,
    upstream_model="camera_perception",
    downstream_model="path_planner",
    ensemble_seed=2202,
    crisis=EdgeGuardianCrisis(
        fleet_size=500_000,
        # The mission's deterministic 10 ms loop, and a 100 ms tail (the crisis text).
        latency_budget_ms=10.0,
        tail_ms=100.0,
        p99_exceedance_max=0.01,
        confidence=0.95,
        # Four hardware generations, newest first.
        hardware_versions=("hw4", "hw3", "hw2", "hw1"),
        # 2,000 shadow requests per generation: 200 s of one car's 10 Hz loop, a few
        # minutes of the shadow cohort.
        shadow_requests_per_version=2_000,
        # Newer boards overrun rarely; the oldest one's accelerator spills the new model
        # out of on-chip memory and 5% of frames hit the 100 ms tail.
        over_budget_rate_per_version=(0.001, 0.002, 0.004, 0.05),
        seed=2024,
    ),
)

# Mobile Nomad: real-time translation on AR glasses.
_MOBILE_NOMAD = Track(
    key="mobile_nomad",
    name="Mobile Nomad",
    persona="AR Glasses Dev",
    mission="60FPS AR translation.",
    crisis_title="The App-OS Skew",
    crisis_text=(
        "A system update changed the NPU power-policy. Now, the AR filter's 'FPS' is "
        "drifting differently across 10 regions. You must implement 'Slice-level "
        "Monitoring'."
    ),
    # Text detection and translation per language pair, plus tracking and depth.
    model_types=("text_detector", "translation_model", "hand_tracking", "slam_depth"),
    model_type_counts=(8, 10, 3, 3),
    toil_params=ToilParams(
        # Mobile ML engineer: about $220k a year loaded.
        hourly_cost_usd=110.0,
        alert_hours=40.0,
        # App-store releases tested across the OS-version x device matrix.
        deploy_hours=30.0,
        dependency_hours=12.0,
        platform_hours=10.0,
        platform_capex_usd=500_000.0,
    ),
    # About 100,000 glasses translating a few signs a day: about 5 requests/s.
    request_rate_per_s=5.0,
    # Running a second translation model drains the glasses' battery, so the shadow runs
    # only on the internal dogfood program: 10 of about 100,000 glasses to start (0.01%;
    # 639.4 h)...
    shadow_fraction=1.0e-4,
    # ...32 at most (0.032%; 199.8 h).
    max_shadow_fraction=3.2e-4,
    # A wrong translation in 1 in 500 requests is the regression to rule out, at 90%.
    p_max=2.0e-3,
    confidence=0.90,
    release_cycle_hours=_ONE_WEEK_HOURS,
    # A wrong sign translation annoys but rarely harms: 1.2 expected (600 live requests),
    # half of the 1,151 needed. Going live after 93 to 166 h of shadow at the cap works.
    live_failure_budget=1.2,
    # Translation quality today is only twice better than the bar: a hard SPRT.
    p0=1.0e-3,
    p1=2.0e-3,
    upstream_model="text_detector",
    downstream_model="translation_model",
    ensemble_seed=3303,
    crisis=MobileNomadCrisis(
        # The mission's 60 FPS.
        target_fps=60.0,
        # Ten regions, as in the crisis text.
        regions=(
            "us_west",
            "us_east",
            "brazil",
            "uk",
            "germany",
            "india",
            "japan",
            "korea",
            "uae",
            "australia",
        ),
        # 400 sessions per region before and after the update.
        samples_per_region=400,
        regression_fraction=0.10,
        alpha=0.05,
        # The new power policy throttles the NPU hard in the hottest region...
        regressed_regions=("uae",),
        # ...and a little in another hot one: significant, but under the 10% bar.
        decoy_regions=("india",),
        regressed_drop_fraction=0.15,
        decoy_drop_fraction=0.04,
        other_gain_fraction=0.01,
        fps_sd=2.5,
        seed=3030,
    ),
)

# Tiny Pioneer: hearables with neural noise isolation and an always-on wake word.
_TINY_PIONEER = Track(
    key="tiny_pioneer",
    name="Tiny Pioneer",
    persona="Hearable Lead",
    mission="Neural isolation in <10ms under 1mW.",
    crisis_title="The Dependency Domino",
    crisis_text=(
        "You updated the noise-isolation model, but it broke the downstream 'Wake-Word' "
        "detector. You must fix the 'Feature Store' versioning to prevent "
        "'Training-Serving Skew'."
    ),
    # A small audio chain whose models all feed on one another.
    model_types=("noise_isolation", "wake_word", "voice_activity", "hearing_profile"),
    model_type_counts=(5, 4, 2, 1),
    toil_params=ToilParams(
        # Embedded audio engineer: about $190k a year loaded.
        hourly_cost_usd=95.0,
        # Few online metrics come back from earbuds: light alerting.
        alert_hours=30.0,
        # Firmware OTA through the phone companion app.
        deploy_hours=25.0,
        # The audio chain is tightly coupled (the crisis): heavy coordination per pair.
        dependency_hours=15.0,
        platform_hours=8.0,
        platform_capex_usd=500_000.0,
    ),
    # 2 million earbuds x about 20 wake-word events a day is about 460 events/s; only
    # opted-in diagnostic uploads (about 0.1%) reach the evaluator: 0.5 events/s.
    request_rate_per_s=0.5,
    # Running two models doubles power against the 1 mW budget: 5% of devices to start
    # (511.7 h)...
    shadow_fraction=0.05,
    # ...and the battery team allows at most 12% (213.2 h).
    max_shadow_fraction=0.12,
    # A missed wake word in 1 in 10,000 events, ruled out at 99%.
    p_max=1.0e-4,
    confidence=0.99,
    release_cycle_hours=_ONE_WEEK_HOURS,
    # A missed wake word only makes the user repeat it: 2 expected (20,000 live events).
    # Traffic is so thin that the live ladder itself takes days: with one-day stages, go
    # live after 56 to 101 h of shadow at the cap; with longer stages, sooner.
    live_failure_budget=2.0,
    # The wake-word detector misses about 1 in 30,000 today, three times below the bar.
    p0=1.0e-4 / 3,
    p1=1.0e-4,
    upstream_model="noise_isolation",
    downstream_model="wake_word",
    ensemble_seed=4404,
    crisis=TinyPioneerCrisis(
        feature="noise_isolation_embedding",
        versions=(
            FeatureVersionSpec.from_schema(
                "v1",
                {
                    "feature": "noise_isolation_embedding",
                    "version": "v1",
                    "dims": 64,
                    "dtype": "float16",
                    "frame_ms": 10,
                    "sample_rate_hz": 16_000,
                    "normalization": "log_mel_mean_var",
                },
            ),
            # Same shape and dtype (nothing crashes), a different normalisation: the
            # silent failure of the crisis.
            FeatureVersionSpec.from_schema(
                "v2",
                {
                    "feature": "noise_isolation_embedding",
                    "version": "v2",
                    "dims": 64,
                    "dtype": "float16",
                    "frame_ms": 10,
                    "sample_rate_hz": 16_000,
                    "normalization": "pcen",
                },
            ),
        ),
        # The wake-word detector was trained on v1 and never retrained; voice activity
        # detection was retrained on v2.
        pins=(("wake_word", "v1"), ("voice_activity", "v2")),
        serving_version="v2",
    ),
)

#: The four tracks by key, read-only.
TRACKS: Mapping[str, Track] = types.MappingProxyType(
    {t.key: t for t in (_CLOUD_TITAN, _EDGE_GUARDIAN, _MOBILE_NOMAD, _TINY_PIONEER)}
)

#: The four track keys, in the storyboard's order.
TRACK_KEYS: tuple[str, ...] = tuple(TRACKS)


def _normalise(name: str) -> str:
    # "Cloud Titan", "cloud-titan", " CLOUD_titan " all become "cloud_titan".
    return re.sub(r"[\s_\-]+", "_", name.strip().lower()).strip("_")


def get_track(name: str | Track) -> Track:
    """The track of a given key or display name.

    Parameters
    ----------
    name : str or Track
        A key (``"cloud_titan"``) or display name (``"Cloud Titan"``); case, spaces,
        underscores and hyphens do not matter (``"cloud-titan"`` works). A
        :class:`Track` is returned unchanged.

    Returns
    -------
    Track

    Raises
    ------
    InvalidInputError
        If ``name`` is not a string or names no track. The message lists the four
        tracks and suggests the closest one.

    Examples
    --------
    >>> get_track("Edge Guardian").key
    'edge_guardian'
    >>> get_track("MOBILE-nomad").name
    'Mobile Nomad'
    """
    if isinstance(name, Track):
        return name
    if not isinstance(name, str):
        raise InvalidInputError(
            f"name must be a track name (str), one of {_valid_names()}, got {name!r}"
        )
    key = _normalise(name)
    if key in TRACKS:
        return TRACKS[key]
    message = f"name must be one of {_valid_names()}, got {name!r}"
    close = difflib.get_close_matches(key, list(TRACKS), n=1, cutoff=0.5)
    if close:
        message += f"; did you mean {TRACKS[close[0]].name!r}?"
    raise InvalidInputError(message)


def _valid_names() -> str:
    return ", ".join(f"{t.name!r} ({t.key})" for t in TRACKS.values())


def describe_track(track: Track | str) -> str:
    """A plain-text card of a track: the story and the numbers each part starts from.

    Parameters
    ----------
    track : Track or str
        The track, or its key or display name (see :func:`get_track`).

    Returns
    -------
    str
        Several lines: name, persona, mission, crisis, the fleet (Part 1), the shadow
        test's inputs (Part 2) and the ensemble's two models (Part 3). Inputs only, never
        an answer.

    Raises
    ------
    InvalidInputError
        If ``track`` names no track.

    Examples
    --------
    >>> print(describe_track("tiny_pioneer").splitlines()[0])
    Tiny Pioneer (Hearable Lead)
    """
    t = get_track(track)
    fleet = ", ".join(f"{n} {m}" for m, n in zip(t.model_types, t.model_type_counts, strict=True))
    p = t.toil_params
    title = f"{t.name} ({t.persona})"
    if t.variant is not None:
        title += f", your variant {t.variant}"
    paragraphs = [
        title,
        f"Mission: {t.mission}",
        f"Crisis: {t.crisis_title}. {t.crisis_text}",
        f"Part 1 fleet: {t.n_models} models ({fleet}); heterogeneity {t.heterogeneity:.4f}. "
        f"${p.hourly_cost_usd:,.0f} per engineer-hour; per model and year: "
        f"{p.alert_hours:g} h alerts, {p.deploy_hours:g} h x log2 N deploys, "
        f"{p.dependency_hours:g} h per cross-type pair; platform "
        f"${p.platform_capex_usd:,.0f} + {p.platform_hours:g} h per model.",
        f"Part 2 shadow test: rule out p_max = {t.p_max:g} at {t.confidence:.0%} confidence; "
        f"{t.request_rate_per_s:,g} requests/s reach the model, shadow fraction "
        f"{t.shadow_fraction:g} (capacity allows up to {t.max_shadow_fraction:g}); release "
        f"cycle {t.release_cycle_hours:g} h; live failure budget {t.live_failure_budget:g} "
        f"expected failures; SPRT p0 = {t.p0:g}, p1 = {t.p1:g}, lines read after "
        f"{t.sprt_checkpoint_requests:,} requests.",
        f"Part 3 ensemble: {t.upstream_model} -> {t.downstream_model} (seed {t.ensemble_seed}).",
    ]
    # The first line is the title; the rest wrap for a notebook's output width.
    lines = [paragraphs[0]]
    lines += [
        textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="    ")
        for text in paragraphs[1:]
    ]
    return "\n".join(lines)
