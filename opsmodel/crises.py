"""Reference answers of the four track crises.

- Cloud Titan, "The N-Models Explosion": :func:`threshold_discovery` (the per-check
  false-alarm probability and z threshold a daily false-alert budget allows) and
  :func:`false_alerts_per_day` (the false-alarm tax of a fixed threshold).
- Edge Guardian, "The Rollout Jitter": :func:`rollback_decision` per hardware slice from
  exact Clopper-Pearson bounds, and :func:`fleet_rollback` over the slices.
- Mobile Nomad, "The App-OS Skew": :func:`regressed_regions`, slice-level monitoring with
  a practical-size gate and a Bonferroni-corrected one-sided Welch test.
- Tiny Pioneer, "The Dependency Domino": :func:`stale_pins`, the consumers whose feature
  pin differs from what serving provides.

:func:`crisis_answer` gives the graded answer of a track's crisis from its data, in the
form :func:`~opsmodel.crisis_data.describe_crisis` asks of students.

Reference-only: these are the answers of graded tasks and never ship to students.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from ._validation import InvalidInputError, check_int, check_probability, check_real
from .bounds import clopper_pearson_lower, clopper_pearson_upper
from .crisis_data import (
    by_crisis_kind,
    edge_over_budget_counts,
    nomad_fps_samples,
    pioneer_feature_store,
)
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
    "ThresholdResult",
    "threshold_discovery",
    "false_alerts_per_day",
    "Decision",
    "rollback_decision",
    "fleet_rollback",
    "regressed_regions",
    "stale_pins",
    "crisis_answer",
]

Decision = Literal["promote", "rollback", "continue"]
_DECISIONS = ("promote", "rollback", "continue")


# ------------------------------------------------------------------- Cloud Titan


@dataclass(frozen=True)
class ThresholdResult:
    """The alert threshold a false-alert budget allows.

    Attributes
    ----------
    per_check_false_alarm : float in (0, 1)
        ``q``, the probability that one check of one metric alarms on a healthy model.
    z_threshold : float
        The one-sided z score whose upper tail is ``q``: alarm when a metric's
        standardised value exceeds it.
    """

    per_check_false_alarm: float
    z_threshold: float


def _check_fleet(n_models: Any, metrics_per_model: Any, checks_per_day: Any) -> int:
    n = check_int("n_models", n_models, low=1)
    m = check_int("metrics_per_model", metrics_per_model, low=1)
    c = check_int("checks_per_day", checks_per_day, low=1)
    return n * m * c


def threshold_discovery(
    n_models: int,
    metrics_per_model: int,
    checks_per_day: int,
    false_alerts_per_day_budget: float,
) -> ThresholdResult:
    """The per-check false-alarm probability and z threshold a daily budget allows.

    Parameters
    ----------
    n_models : int >= 1
        Models monitored, N.
    metrics_per_model : int >= 1
        Metrics per model, m, each with its own threshold.
    checks_per_day : int >= 1
        Evaluations of each metric a day, c (288 for every 5 minutes).
    false_alerts_per_day_budget : float in (0, N m c)
        False alerts a day the on-call rotation accepts across the fleet, B.

    Returns
    -------
    ThresholdResult
        ``q = B / (N m c)`` and ``z = norm.isf(q)``.

    Raises
    ------
    InvalidInputError
        If a count is not an integer >= 1 or the budget is not in (0, N m c): a budget of
        N m c or more allows every check to alarm, and no threshold exists.

    Notes
    -----
    On healthy models every check is a Bernoulli trial with probability ``q``, so the
    fleet raises ``N m c q`` false alerts a day on average; setting that to the budget
    gives ``q``. The threshold assumes a standardised, normally distributed metric and a
    one-sided test (alarm on degradation only). ``norm.isf`` computes the upper tail
    directly, accurate for tiny ``q`` where ``norm.ppf(1 - q)`` loses digits.

    Examples
    --------
    Fifty models, one metric each, checked every five minutes, one false page a day:

    >>> r = threshold_discovery(50, 1, 288, 1.0)
    >>> round(r.per_check_false_alarm, 9), round(r.z_threshold, 4)
    (6.9444e-05, 3.8101)
    """
    checks = _check_fleet(n_models, metrics_per_model, checks_per_day)
    budget = check_real(
        "false_alerts_per_day_budget",
        false_alerts_per_day_budget,
        low=0.0,
        high=float(checks),
        low_open=True,
        high_open=True,
    )
    q = budget / checks
    return ThresholdResult(per_check_false_alarm=q, z_threshold=float(stats.norm.isf(q)))


def false_alerts_per_day(
    n_models: int,
    metrics_per_model: int,
    checks_per_day: int,
    per_check_false_alarm: float,
) -> float:
    """Expected false alerts a day: the false-alarm tax of a fixed threshold.

    Parameters
    ----------
    n_models : int >= 1
        Models monitored, N.
    metrics_per_model : int >= 1
        Metrics per model, m.
    checks_per_day : int >= 1
        Evaluations of each metric a day, c.
    per_check_false_alarm : float in [0, 1]
        Probability q that one check alarms on a healthy model.

    Returns
    -------
    float
        ``N * m * c * q``.

    Raises
    ------
    InvalidInputError
        If a count is not an integer >= 1 or ``q`` is not in [0, 1].

    Examples
    --------
    The textbook's tax: 100 models x 10 metrics x 288 checks x 0.003.

    >>> round(false_alerts_per_day(100, 10, 288, 0.003), 9)
    864.0
    """
    checks = _check_fleet(n_models, metrics_per_model, checks_per_day)
    q = check_real("per_check_false_alarm", per_check_false_alarm, low=0.0, high=1.0)
    return checks * q


# ----------------------------------------------------------------- Edge Guardian


def rollback_decision(
    over_budget: int,
    n: int,
    *,
    exceedance_max: float = 0.01,
    confidence: float = 0.95,
    end_of_window: bool = False,
) -> Decision:
    """Promote, roll back or keep watching one hardware slice of a shadow test.

    Parameters
    ----------
    over_budget : int in [0, n]
        Shadow requests over the latency budget, k.
    n : int >= 0
        Shadow requests seen on the slice.
    exceedance_max : float in (0, 1), default 0.01
        Largest tolerated share of requests over budget ("p99 <= budget" is 0.01).
    confidence : float in [0.5, 1), default 0.95
        Confidence of the one-sided exact bounds.
    end_of_window : bool, default False
        True when the shadow window is over: an undecided slice then rolls back.

    Returns
    -------
    {"promote", "rollback", "continue"}
        ``"promote"`` when ``clopper_pearson_upper(k, n, C) <= exceedance_max`` (the slice
        meets its p99 with confidence C); ``"rollback"`` when
        ``clopper_pearson_lower(k, n, C) > exceedance_max`` (it breaks it with confidence
        C), or when neither holds at the end of the window; else ``"continue"``.

    Raises
    ------
    InvalidInputError
        If the counts are not integers with ``0 <= k <= n``, ``exceedance_max`` is not in
        (0, 1), ``confidence`` not in [0.5, 1), or ``end_of_window`` not a bool.

    Notes
    -----
    Promoting needs proof of safety, not the absence of proof of harm: a slice the data
    cannot decide is never promoted, and at the end of the window it rolls back (fail
    safe). Confidence below 0.5 is rejected because the two one-sided bounds can then
    cross, and both verdicts would hold. With no data (``n = 0``) the upper bound is 1,
    so the answer is ``"continue"`` (or ``"rollback"`` at the end of the window).

    References
    ----------
    .. [1] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits
       illustrated in the case of the binomial", Biometrika 26(4), 404-413, 1934.

    Examples
    --------
    At n = 1,000 and 95%, up to 4 slow requests promote and 16 or more roll back:

    >>> rollback_decision(4, 1000), rollback_decision(5, 1000), rollback_decision(16, 1000)
    ('promote', 'continue', 'rollback')
    >>> rollback_decision(5, 1000, end_of_window=True)
    'rollback'
    """
    limit = check_probability("exceedance_max", exceedance_max)
    c = check_real("confidence", confidence, low=0.5, high=1.0, high_open=True)
    if not isinstance(end_of_window, (bool, np.bool_)):
        raise InvalidInputError(f"end_of_window must be a bool, got {end_of_window!r}")
    # The bounds check the counts (k and n integers, 0 <= k <= n) and name the argument;
    # check over_budget here first so that its own name appears in the message.
    n_checked = check_int("n", n, low=0)
    k = check_int("over_budget", over_budget, low=0, high=n_checked)
    if clopper_pearson_upper(k, n_checked, c) <= limit:
        return "promote"
    if clopper_pearson_lower(k, n_checked, c) > limit:
        return "rollback"
    return "rollback" if end_of_window else "continue"


def fleet_rollback(decisions: Mapping[str, str] | Iterable[str]) -> bool:
    """Whether the fleet rolls back: True when any slice's decision is ``"rollback"``.

    Parameters
    ----------
    decisions : mapping of slice to decision, or iterable of decisions
        Each decision one of ``"promote"``, ``"rollback"``, ``"continue"``.

    Returns
    -------
    bool
        True if any decision is ``"rollback"``. An empty fleet does not roll back.

    Raises
    ------
    InvalidInputError
        If ``decisions`` is a string or not iterable, or holds another value.

    Notes
    -----
    A perception update ships to the whole fleet as one release, so one unsafe hardware
    generation stops it for all; "continue" slices only delay the verdict.

    Examples
    --------
    >>> fleet_rollback({"hw4": "promote", "hw1": "rollback"})
    True
    >>> fleet_rollback(["promote", "continue"])
    False
    """
    if isinstance(decisions, (str, bytes)):
        raise InvalidInputError(
            f"decisions must be a mapping or iterable of decisions, got {decisions!r}"
        )
    values = decisions.values() if isinstance(decisions, Mapping) else decisions
    try:
        items = list(values)
    except TypeError as exc:
        raise InvalidInputError(
            f"decisions must be a mapping or iterable of decisions, got {decisions!r}"
        ) from exc
    for d in items:
        if not isinstance(d, str) or d not in _DECISIONS:
            raise InvalidInputError(f"decisions must each be one of {_DECISIONS}, got {d!r}")
    return "rollback" in items


# ------------------------------------------------------------------ Mobile Nomad


def _check_fps(region: str, which: str, values: Any) -> np.ndarray:
    name = f"samples[{region!r}] {which}"
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise InvalidInputError(f"{name} must be a 1-D array of FPS, got {values!r}") from exc
    if arr.ndim != 1 or arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"{name} must be a 1-D array of real FPS values, got {values!r}")
    arr = arr.astype(float)
    if arr.size < 2:
        raise InvalidInputError(f"{name} must hold at least 2 values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must be finite, got a NaN or infinite value")
    if np.any(arr < 0):
        raise InvalidInputError(f"{name} must be in [0, inf), got {float(arr.min())!r}")
    return arr


def regressed_regions(
    samples: Mapping[str, tuple[Any, Any]],
    *,
    regression_fraction: float = 0.10,
    alpha: float = 0.05,
) -> tuple[str, ...]:
    """The regions whose FPS regressed: a large drop that is statistically clear.

    Parameters
    ----------
    samples : mapping of str to (array_like, array_like)
        Region to ``(before, after)`` FPS samples, each 1-D, at least 2 finite values
        >= 0, the ``before`` mean > 0.
    regression_fraction : float in (0, 1), default 0.10
        Smallest relative drop of the mean that counts.
    alpha : float in (0, 1), default 0.05
        Family-wise error rate over the K regions.

    Returns
    -------
    tuple of str
        The regions, in the mapping's order, whose relative mean drop
        ``(mean(before) - mean(after)) / mean(before)`` is at least
        ``regression_fraction`` AND whose one-sided Welch t-test
        (``scipy.stats.ttest_ind(before, after, equal_var=False, alternative="greater")``)
        gives ``p <= alpha / K``.

    Raises
    ------
    InvalidInputError
        If ``samples`` is not a non-empty mapping of pairs, an array is not valid, a
        ``before`` mean is 0, or ``regression_fraction`` or ``alpha`` is not in (0, 1).

    Notes
    -----
    Both gates matter. The size gate alone flags noise in a small, noisy slice; the test
    alone flags a real but harmless 3% dip in a large slice. Bonferroni (``alpha / K``)
    keeps the chance of any false flag among the K slices under ``alpha`` whatever their
    dependence. Welch's test does not assume equal variances before and after. The drop
    is compared with a relative tolerance of 1e-9, so that a drop of exactly 10% computed
    in floating point (0.09999999999999998) counts. When both samples are constant and
    equal the test is undefined (scipy returns NaN): that region is not flagged.

    Examples
    --------
    >>> before = [60.0, 59.0, 61.0, 60.0]
    >>> samples = {"a": (before, [50.0, 51.0, 49.0, 50.0]), "b": (before, before)}
    >>> regressed_regions(samples)
    ('a',)
    """
    if not isinstance(samples, Mapping) or len(samples) == 0:
        raise InvalidInputError(
            f"samples must be a non-empty mapping of region to (before, after), got {samples!r}"
        )
    fraction = check_probability("regression_fraction", regression_fraction)
    a = check_probability("alpha", alpha)
    threshold = a / len(samples)
    flagged = []
    for region, pair in samples.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidInputError(
                f"samples[{region!r}] must be a (before, after) pair, got {pair!r}"
            )
        before = _check_fps(region, "before", pair[0])
        after = _check_fps(region, "after", pair[1])
        mean_before = float(before.mean())
        if mean_before <= 0.0:
            raise InvalidInputError(
                f"samples[{region!r}] before must have a mean > 0, got {mean_before!r}"
            )
        drop = (mean_before - float(after.mean())) / mean_before
        big = drop >= fraction or math.isclose(drop, fraction, rel_tol=1e-9)
        if not big:
            continue
        with warnings.catch_warnings():
            # Nearly constant samples make scipy warn about precision; the p-value is
            # still the right one to compare (or NaN, handled below).
            warnings.simplefilter("ignore", RuntimeWarning)
            p = float(stats.ttest_ind(before, after, equal_var=False, alternative="greater").pvalue)
        if p <= threshold:  # NaN compares False: an undefined test flags nothing
            flagged.append(region)
    return tuple(flagged)


# ------------------------------------------------------------------- Tiny Pioneer


def stale_pins(store: FeatureStore) -> tuple[str, ...]:
    """The consumers whose feature pin differs from what serving provides.

    Parameters
    ----------
    store : FeatureStore
        The feature store to check.

    Returns
    -------
    tuple of str
        Consumer names, sorted, each once (a consumer stale on two features is listed
        once); empty when every pin matches.

    Raises
    ------
    InvalidInputError
        If ``store`` is not a :class:`~opsmodel.feature_store.FeatureStore`.

    Notes
    -----
    A thin wrapper over :meth:`FeatureStore.consistency_check`, which compares version
    and contract hash; the reasons are there.

    Examples
    --------
    >>> from opsmodel.crisis_data import pioneer_feature_store
    >>> from opsmodel.tracks import get_track
    >>> stale_pins(pioneer_feature_store(get_track("tiny_pioneer").crisis))
    ('wake_word',)
    """
    if not isinstance(store, FeatureStore):
        raise InvalidInputError(f"store must be a FeatureStore, got {store!r}")
    return tuple(sorted({m.consumer for m in store.consistency_check()}))


# ------------------------------------------------------------------- the answers


def crisis_answer(track: Track | str) -> float | Mapping[str, Any] | tuple[str, ...]:
    """The graded answer of a track's crisis, computed from its parameters and data.

    Parameters
    ----------
    track : Track or str
        The track, or its key or display name (see :func:`~opsmodel.tracks.get_track`).

    Returns
    -------
    float, mapping or tuple of str
        In the form :func:`~opsmodel.crisis_data.describe_crisis` asks of students:

        - Cloud Titan: the z threshold (float), ``threshold_discovery(N, m, c,
          B).z_threshold`` on the crisis record's numbers.
        - Edge Guardian: a read-only mapping ``{"decisions": {version: decision},
          "fleet_rollback": bool}``: each hardware version's :func:`rollback_decision` on
          :func:`~opsmodel.crisis_data.edge_over_budget_counts` at the end of the shadow
          window (the data are the whole window, so only "promote" or "rollback"), with
          the record's exceedance maximum and confidence, and :func:`fleet_rollback`.
        - Mobile Nomad: :func:`regressed_regions` of
          :func:`~opsmodel.crisis_data.nomad_fps_samples`, with the record's regression
          fraction and alpha (region order; graders compare as a set).
        - Tiny Pioneer: :func:`stale_pins` of
          :func:`~opsmodel.crisis_data.pioneer_feature_store`.

    Raises
    ------
    InvalidInputError
        If ``track`` names no track.

    Examples
    --------
    >>> crisis_answer("mobile_nomad")
    ('uae',)
    >>> crisis_answer("Edge Guardian")["fleet_rollback"]
    True
    >>> round(crisis_answer("cloud_titan"), 4)
    4.1401
    """
    return by_crisis_kind(
        get_track(track),
        {
            CloudTitanCrisis: _cloud_titan_answer,
            EdgeGuardianCrisis: _edge_guardian_answer,
            MobileNomadCrisis: _mobile_nomad_answer,
            TinyPioneerCrisis: _tiny_pioneer_answer,
        },
    )


def _cloud_titan_answer(crisis: CloudTitanCrisis, _track: Track) -> float:
    return threshold_discovery(
        crisis.n_models,
        crisis.metrics_per_model,
        crisis.checks_per_day,
        crisis.false_alerts_per_day_budget,
    ).z_threshold


def _edge_guardian_answer(crisis: EdgeGuardianCrisis, _track: Track) -> Mapping[str, Any]:
    decisions = {
        version: rollback_decision(
            k,
            n,
            exceedance_max=crisis.p99_exceedance_max,
            confidence=crisis.confidence,
            end_of_window=True,
        )
        for version, (k, n) in edge_over_budget_counts(crisis).items()
    }
    return types.MappingProxyType(
        {
            "decisions": types.MappingProxyType(decisions),
            "fleet_rollback": fleet_rollback(decisions),
        }
    )


def _mobile_nomad_answer(crisis: MobileNomadCrisis, _track: Track) -> tuple[str, ...]:
    return regressed_regions(
        nomad_fps_samples(crisis),
        regression_fraction=crisis.regression_fraction,
        alpha=crisis.alpha,
    )


def _tiny_pioneer_answer(crisis: TinyPioneerCrisis, _track: Track) -> tuple[str, ...]:
    return stale_pins(pioneer_feature_store(crisis))
