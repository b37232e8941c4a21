"""Tests of opsmodel.crises: the reference answers of the four track crises."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from opsmodel.crises import (
    ThresholdResult,
    crisis_answer,
    false_alerts_per_day,
    fleet_rollback,
    regressed_regions,
    rollback_decision,
    stale_pins,
    threshold_discovery,
)
from opsmodel.crisis_data import edge_latency_samples, pioneer_feature_store
from opsmodel.feature_store import FeatureStore
from opsmodel.tracks import TRACKS

NAN, INF = float("nan"), float("inf")


# -------------------------------------------------------------------- Cloud Titan


def test_threshold_discovery_spec_numbers() -> None:
    # Spec: N = 50, m = 1, c = 288, B = 1 -> q = 6.944e-5, z = 3.8101.
    r = threshold_discovery(50, 1, 288, 1.0)
    assert isinstance(r, ThresholdResult)
    assert r.per_check_false_alarm == float(Fraction(1, 50 * 1 * 288))  # exact 1/14,400
    assert round(r.per_check_false_alarm, 9) == 6.9444e-5
    assert round(r.z_threshold, 4) == 3.8101
    # Independent inverse: the standard library's NormalDist (another algorithm). 1 - q
    # is exact to about 1e-16 absolute, which moves z by about 1e-12.
    z = statistics.NormalDist().inv_cdf(1 - 1 / 14_400)
    assert r.z_threshold == pytest.approx(z, rel=1e-9)


@pytest.mark.parametrize(
    ("n", "m", "c", "b"), [(50, 4, 288, 1.0), (100, 10, 288, 5.0), (1, 1, 1, 0.5), (7, 3, 96, 2)]
)
def test_threshold_tail_probability_equals_the_budget_share(n, m, c, b) -> None:
    r = threshold_discovery(n, m, c, b)
    assert r.per_check_false_alarm == pytest.approx(float(Fraction(b) / (n * m * c)), rel=1e-15)
    # The tail above z is q again (scipy's normal survival function), and the expected
    # number of false alerts a day is the budget.
    assert stats.norm.sf(r.z_threshold) == pytest.approx(r.per_check_false_alarm, rel=1e-12)
    assert n * m * c * stats.norm.sf(r.z_threshold) == pytest.approx(b, rel=1e-12)


def test_threshold_rises_as_the_budget_shrinks() -> None:
    zs = [threshold_discovery(50, 4, 288, b).z_threshold for b in (10.0, 1.0, 0.1)]
    assert zs[0] < zs[1] < zs[2]
    # q = 1/2: the median, z = 0 (B = N m c / 2).
    assert threshold_discovery(1, 1, 2, 1.0).z_threshold == pytest.approx(0.0, abs=1e-15)


def test_false_alerts_per_day_textbook_tax() -> None:
    # Textbook: 100 models x 10 metrics x 288 checks x 0.003 = 864 false alerts a day.
    value = false_alerts_per_day(100, 10, 288, 0.003)
    assert value == pytest.approx(float(100 * 10 * 288 * Fraction("0.003")), rel=1e-15)
    assert value == pytest.approx(864.0, rel=1e-15)
    assert false_alerts_per_day(50, 1, 288, 0.0) == 0.0
    assert false_alerts_per_day(2, 3, 4, 1.0) == 24.0


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0, 1, 288, 1.0), "n_models"),
        ((50.5, 1, 288, 1.0), "n_models"),
        ((None, 1, 288, 1.0), "n_models"),
        ((50, 0, 288, 1.0), "metrics_per_model"),
        ((50, "1", 288, 1.0), "metrics_per_model"),
        ((50, 1, -288, 1.0), "checks_per_day"),
        ((50, 1, NAN, 1.0), "checks_per_day"),
        ((50, 1, 288, 0.0), "false_alerts_per_day_budget"),
        ((50, 1, 288, -1.0), "false_alerts_per_day_budget"),
        ((50, 1, 288, 14_400.0), "false_alerts_per_day_budget"),  # every check may alarm
        ((50, 1, 288, NAN), "false_alerts_per_day_budget"),
        ((50, 1, 288, INF), "false_alerts_per_day_budget"),
        ((50, 1, 288, "1"), "false_alerts_per_day_budget"),
    ],
)
def test_threshold_discovery_bad_input(args, name) -> None:
    with pytest.raises(ValueError, match=name):
        threshold_discovery(*args)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0, 10, 288, 0.003), "n_models"),
        ((100, True, 288, 0.003), "metrics_per_model"),
        ((100, 10, 0, 0.003), "checks_per_day"),
        ((100, 10, 288, 1.5), "per_check_false_alarm"),
        ((100, 10, 288, -0.1), "per_check_false_alarm"),
        ((100, 10, 288, NAN), "per_check_false_alarm"),
        ((100, 10, 288, None), "per_check_false_alarm"),
    ],
)
def test_false_alerts_per_day_bad_input(args, name) -> None:
    with pytest.raises(ValueError, match=name):
        false_alerts_per_day(*args)


# ------------------------------------------------------------------ Edge Guardian


def _expected_decision(k: int, n: int, limit: float, c: float, end: bool) -> str:
    # Straight from scipy.stats.beta (the spec's formulas), not through opsmodel.bounds.
    upper = 1.0 if k == n else stats.beta.ppf(c, k + 1, n - k)
    lower = 0.0 if k == 0 else stats.beta.ppf(1 - c, k, n - k + 1)
    if upper <= limit:
        return "promote"
    if lower > limit:
        return "rollback"
    return "rollback" if end else "continue"


def test_rollback_boundaries_at_n_1000_spec() -> None:
    # Spec: n = 1,000, C = 0.95: promote for k <= 4, roll back for k >= 16.
    decisions = [rollback_decision(k, 1000) for k in range(0, 41)]
    assert decisions[:5] == ["promote"] * 5
    assert decisions[5:16] == ["continue"] * 11
    assert decisions[16:] == ["rollback"] * 25
    for k, d in enumerate(decisions):
        assert d == _expected_decision(k, 1000, 0.01, 0.95, end=False)


def test_rollback_boundaries_by_binomial_duality() -> None:
    # The upper bound is <= p exactly when P(X <= k | n, p) <= 1 - C (binomial CDF), and
    # the lower bound > p exactly when P(X >= k | n, p) < 1 - C: an independent route.
    for k in range(0, 41):
        promote = stats.binom.cdf(k, 1000, 0.01) <= 0.05
        rollback = stats.binom.sf(k - 1, 1000, 0.01) < 0.05
        expected = "promote" if promote else "rollback" if rollback else "continue"
        assert rollback_decision(k, 1000) == expected, k


@pytest.mark.parametrize("k", [0, 3, 4, 5, 10, 15, 16, 30])
def test_end_of_window_turns_only_undecided_slices_into_rollbacks(k: int) -> None:
    during = rollback_decision(k, 1000)
    after = rollback_decision(k, 1000, end_of_window=True)
    assert after == ("rollback" if during == "continue" else during)


@pytest.mark.parametrize(
    ("k", "n", "limit", "c"),
    [(0, 300, 0.01, 0.95), (0, 299, 0.01, 0.95), (2, 2000, 0.001, 0.99), (7, 50, 0.2, 0.9)],
)
def test_rollback_matches_scipy_beta_on_other_cases(k, n, limit, c) -> None:
    for end in (False, True):
        got = rollback_decision(k, n, exceedance_max=limit, confidence=c, end_of_window=end)
        assert got == _expected_decision(k, n, limit, c, end)


def test_rollback_edge_counts() -> None:
    # Zero-failure rule of three: 299 clean requests cannot rule out 1% at 95%
    # ((0.99)^299 = 0.0495 ... just under 0.05, so 299 promotes, 298 does not).
    assert 0.99**299 < 0.05 < 0.99**298
    assert rollback_decision(0, 299) == "promote"
    assert rollback_decision(0, 298) == "continue"
    # No data: nothing is known; fail safe at the end of the window.
    assert rollback_decision(0, 0) == "continue"
    assert rollback_decision(0, 0, end_of_window=True) == "rollback"
    # Every request over budget.
    assert rollback_decision(5, 5) == "rollback"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"over_budget": 11, "n": 10}, "over_budget"),
        ({"over_budget": -1, "n": 10}, "over_budget"),
        ({"over_budget": 2.5, "n": 10}, "over_budget"),
        ({"over_budget": None, "n": 10}, "over_budget"),
        ({"over_budget": "3", "n": 10}, "over_budget"),
        ({"over_budget": NAN, "n": 10}, "over_budget"),
        ({"over_budget": 0, "n": -1}, "n must"),
        ({"over_budget": 0, "n": INF}, "n must"),
        ({"over_budget": 0, "n": 10, "exceedance_max": 0.0}, "exceedance_max"),
        ({"over_budget": 0, "n": 10, "exceedance_max": 1.0}, "exceedance_max"),
        ({"over_budget": 0, "n": 10, "exceedance_max": NAN}, "exceedance_max"),
        ({"over_budget": 0, "n": 10, "confidence": 0.4}, "confidence"),
        ({"over_budget": 0, "n": 10, "confidence": 1.0}, "confidence"),
        ({"over_budget": 0, "n": 10, "confidence": "0.95"}, "confidence"),
        ({"over_budget": 0, "n": 10, "end_of_window": "yes"}, "end_of_window"),
        ({"over_budget": 0, "n": 10, "end_of_window": 1}, "end_of_window"),
        ({"over_budget": 0, "n": 10, "end_of_window": None}, "end_of_window"),
    ],
)
def test_rollback_decision_bad_input(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        rollback_decision(**kwargs)


def test_rollback_parameters_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        rollback_decision(0, 10, 0.01)  # type: ignore[misc]


def test_fleet_rollback() -> None:
    assert fleet_rollback({"hw4": "promote", "hw3": "continue", "hw1": "rollback"}) is True
    assert fleet_rollback({"hw4": "promote", "hw3": "continue"}) is False
    assert fleet_rollback(["promote", "promote"]) is False
    assert fleet_rollback(("rollback",)) is True
    assert fleet_rollback(d for d in ["continue", "rollback"]) is True  # any iterable
    assert fleet_rollback({}) is False  # an empty fleet has nothing to roll back


@pytest.mark.parametrize(
    "bad", ["rollback", None, 3, {"hw1": "Rollback"}, ["promote", "abort"], [None]]
)
def test_fleet_rollback_bad_input(bad) -> None:
    with pytest.raises(ValueError, match="decisions"):
        fleet_rollback(bad)


# ------------------------------------------------------------------- Mobile Nomad


def _welch_p_greater(before, after) -> float:
    # Welch's t statistic and Welch-Satterthwaite degrees of freedom with numpy formulas,
    # and the one-sided upper tail from scipy's t distribution.
    b, a = np.asarray(before, float), np.asarray(after, float)
    vb, va = b.var(ddof=1) / b.size, a.var(ddof=1) / a.size
    t = (b.mean() - a.mean()) / math.sqrt(vb + va)
    df = (vb + va) ** 2 / (vb**2 / (b.size - 1) + va**2 / (a.size - 1))
    return float(stats.t.sf(t, df))


# A 12.7% drop with p = 0.00918 (one-sided Welch): significant at 0.05 / K for K <= 5,
# not for K >= 6 (0.05 / 6 = 0.00833).
MID_BEFORE = [60.0, 52.0, 58.0, 50.0, 56.0, 54.0]
MID_AFTER = [52.0, 44.0, 50.0, 42.0, 54.0, 46.0]
STEADY = [55.0, 56.0, 54.0, 55.0]


def test_independent_welch_p_matches_scipy_for_the_fixture() -> None:
    p = _welch_p_greater(MID_BEFORE, MID_AFTER)
    assert p == pytest.approx(0.009183836086882691, rel=1e-9)  # recorded scipy 1.17 value
    assert p == pytest.approx(
        stats.ttest_ind(MID_BEFORE, MID_AFTER, equal_var=False, alternative="greater").pvalue,
        rel=1e-12,
    )


@pytest.mark.parametrize(("k", "flagged"), [(1, True), (5, True), (6, False), (10, False)])
def test_bonferroni_over_k_regions(k: int, flagged: bool) -> None:
    samples = {"mid": (MID_BEFORE, MID_AFTER)}
    samples.update({f"steady{i}": (STEADY, STEADY) for i in range(k - 1)})
    expected = ("mid",) if _welch_p_greater(MID_BEFORE, MID_AFTER) <= 0.05 / k else ()
    assert expected == (("mid",) if flagged else ())
    assert regressed_regions(samples) == expected


def test_both_gates_are_needed() -> None:
    rng = np.random.default_rng(0)
    big_before = rng.normal(56.0, 2.0, 2000)
    samples = {
        # 4% drop, hugely significant: below the size gate.
        "dip": (big_before, big_before * 0.96),
        # 30% drop in a tiny, noisy slice: not significant (independent p checked below).
        "noisy": ([60.0, 20.0, 55.0], [20.0, 58.0, 30.0]),
        "real": (big_before, big_before * 0.85),
    }
    assert _welch_p_greater(*samples["dip"]) < 1e-10
    assert _welch_p_greater(*samples["noisy"]) > 0.05
    assert regressed_regions(samples) == ("real",)
    # Without the size gate the dip would count; a looser size gate flags it.
    assert regressed_regions(samples, regression_fraction=0.03) == ("dip", "real")


def test_exact_ten_percent_drop_counts() -> None:
    before = [53.0, 55.0, 53.0, 55.0, 54.0]
    after = [47.7, 49.5, 47.7, 49.5, 48.6]  # exactly 0.9 x before in decimals
    # In exact decimal arithmetic the drop is 1/10.
    total_before = sum(Fraction(str(v)) for v in before)
    total_after = sum(Fraction(str(v)) for v in after)
    assert (total_before - total_after) / total_before == Fraction(1, 10)
    float_drop = (np.mean(before) - np.mean(after)) / np.mean(before)
    assert float_drop < 0.1  # floating point lands just under the bar ...
    assert regressed_regions({"r": (before, after)}) == ("r",)  # ... and still counts
    just_under = [v * 0.901 for v in before]  # a 9.9% drop does not
    assert regressed_regions({"r": (before, just_under)}) == ()


def test_regions_keep_the_mapping_order_and_improvements_never_count() -> None:
    up = ([50.0, 51.0, 49.0, 50.0], [60.0, 59.0, 60.0, 58.0])
    down = ([60.0, 59.0, 60.0, 58.0], [40.0, 41.0, 39.0, 40.0])
    assert regressed_regions({"z": down, "up": up, "a": down}) == ("z", "a")


def test_constant_samples() -> None:
    # Equal constants: no drop, test undefined (NaN): not flagged, no warning escapes.
    assert regressed_regions({"r": ([60.0, 60.0], [60.0, 60.0])}) == ()
    # Different constants: the drop is certain (scipy: t = inf, p = 0).
    assert regressed_regions({"r": ([60.0, 60.0], [50.0, 50.0])}) == ("r",)


@pytest.mark.parametrize(
    ("samples", "match"),
    [
        (None, "samples"),
        ({}, "samples"),
        ([("r", ([1.0, 2.0], [1.0, 2.0]))], "samples"),
        ({"r": [1.0, 2.0, 3.0]}, "samples"),
        ({"r": ([1.0, NAN], [1.0, 2.0])}, "before"),
        ({"r": ([1.0, 2.0], [1.0, INF])}, "after"),
        ({"r": ([1.0], [1.0, 2.0])}, "before"),
        ({"r": ([1.0, 2.0], [-1.0, 2.0])}, "after"),
        ({"r": ([[1.0, 2.0]], [1.0, 2.0])}, "before"),
        ({"r": (["a", "b"], [1.0, 2.0])}, "before"),
        ({"r": ([True, False], [1.0, 2.0])}, "before"),
        ({"r": (None, [1.0, 2.0])}, "before"),
        ({"r": ([0.0, 0.0], [0.0, 0.0])}, "before"),  # a mean of 0 has no relative drop
    ],
)
def test_regressed_regions_bad_samples(samples, match) -> None:
    with pytest.raises(ValueError, match=match):
        regressed_regions(samples)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"regression_fraction": 0.0}, "regression_fraction"),
        ({"regression_fraction": 1.0}, "regression_fraction"),
        ({"regression_fraction": NAN}, "regression_fraction"),
        ({"regression_fraction": "0.1"}, "regression_fraction"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": None}, "alpha"),
    ],
)
def test_regressed_regions_bad_parameters(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        regressed_regions({"mid": (MID_BEFORE, MID_AFTER)}, **kwargs)


def test_regressed_regions_parameters_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        regressed_regions({"mid": (MID_BEFORE, MID_AFTER)}, 0.1)  # type: ignore[misc]


# ------------------------------------------------------------------- Tiny Pioneer


def _store() -> FeatureStore:
    store = FeatureStore()
    store.register("emb", "v1", {"dims": 8, "norm": "a"})
    store.register("emb", "v2", {"dims": 8, "norm": "b"})
    store.register("pitch", "v1", {"hz": 100})
    store.register("pitch", "v2", {"hz": 200})
    return store


def test_stale_pins() -> None:
    store = _store()
    store.pin("wake_word", "emb", "v1")
    store.pin("vad", "emb", "v2")
    store.serve("emb", "v2")
    assert stale_pins(store) == ("wake_word",)
    store.pin("wake_word", "emb", "v2")  # retrained on v2
    assert stale_pins(store) == ()


def test_stale_pins_lists_a_consumer_once_and_sorted() -> None:
    store = _store()
    for feature in ("emb", "pitch"):
        store.pin("zeta", feature, "v1")
        store.pin("alpha", feature, "v1")
        store.serve(feature, "v2")
    assert stale_pins(store) == ("alpha", "zeta")
    assert len(store.consistency_check()) == 4  # two features each


def test_stale_pins_counts_an_unserved_feature() -> None:
    store = _store()
    store.pin("wake_word", "emb", "v1")  # serving provides no version of emb
    assert stale_pins(store) == ("wake_word",)


@pytest.mark.parametrize("bad", [None, "store", {}, TRACKS["tiny_pioneer"].crisis])
def test_stale_pins_bad_input(bad) -> None:
    with pytest.raises(ValueError, match="store"):
        stale_pins(bad)


# ---------------------------------------------------------------- crisis answers


def test_cloud_titan_answer() -> None:
    # The track's record: N = 50, m = 4, c = 288, B = 1 -> q = 1/57,600.
    # The answer is the z threshold (the form describe_crisis asks for).
    answer = crisis_answer("Cloud Titan")
    assert isinstance(answer, float)
    z = statistics.NormalDist().inv_cdf(1 - 1 / 57_600)
    assert answer == pytest.approx(z, rel=1e-9)
    assert round(answer, 4) == 4.1401
    assert stats.norm.sf(answer) * 50 * 4 * 288 == pytest.approx(1.0, rel=1e-12)


def test_edge_guardian_answer() -> None:
    crisis = TRACKS["edge_guardian"].crisis
    answer = crisis_answer("edge-guardian")
    assert set(answer) == {"decisions", "fleet_rollback"}
    samples = edge_latency_samples(crisis)
    expected = {}
    for version, x in samples.items():
        k = int(np.sum(x > crisis.latency_budget_ms))
        expected[version] = _expected_decision(
            k, x.size, crisis.p99_exceedance_max, crisis.confidence, end=True
        )
    assert dict(answer["decisions"]) == expected
    # The story: only the oldest hardware rolls back, and it takes the fleet with it.
    assert expected == {"hw4": "promote", "hw3": "promote", "hw2": "promote", "hw1": "rollback"}
    assert answer["fleet_rollback"] is True
    with pytest.raises(TypeError):
        answer["decisions"]["hw1"] = "promote"  # read-only
    with pytest.raises(TypeError):
        answer["fleet_rollback"] = False  # read-only


def test_mobile_nomad_answer() -> None:
    crisis = TRACKS["mobile_nomad"].crisis
    assert crisis_answer("MOBILE NOMAD") == crisis.regressed_regions == ("uae",)


def test_tiny_pioneer_answer() -> None:
    assert crisis_answer("tiny_pioneer") == ("wake_word",)
    # Independent: from the store's own check, without the wrapper.
    store = pioneer_feature_store(TRACKS["tiny_pioneer"].crisis)
    assert tuple(m.consumer for m in store.consistency_check()) == ("wake_word",)


def test_crisis_answer_accepts_a_track_and_rejects_unknown_names() -> None:
    assert crisis_answer(TRACKS["tiny_pioneer"]) == ("wake_word",)
    with pytest.raises(ValueError, match="name"):
        crisis_answer("Tiny Pionner")
    with pytest.raises(ValueError, match="name"):
        crisis_answer(None)  # type: ignore[arg-type]
