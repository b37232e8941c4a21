"""Tests of opsmodel.tracks: the four tracks, their lookup and the numbers each part uses."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import pytest

from opsmodel._validation import InvalidInputError
from opsmodel.crises import crisis_answer
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.toil import break_even_models
from opsmodel.toil_params import ToilParams
from opsmodel.tracks import (
    TRACK_KEYS,
    TRACKS,
    CloudTitanCrisis,
    EdgeGuardianCrisis,
    FeatureVersionSpec,
    MobileNomadCrisis,
    TinyPioneerCrisis,
    Track,
    describe_track,
    get_track,
)

# Expected texts: the 4-track storyboard table of the mission plan (shared/seed/mission-plan.md).
STORYBOARD = {
    "cloud_titan": ("Cloud Titan", "LLM Architect", "The N-Models Explosion"),
    "edge_guardian": ("Edge Guardian", "AV Systems Lead", "The Rollout Jitter"),
    "mobile_nomad": ("Mobile Nomad", "AR Glasses Dev", "The App-OS Skew"),
    "tiny_pioneer": ("Tiny Pioneer", "Hearable Lead", "The Dependency Domino"),
}
CRISIS_TYPES = {
    "cloud_titan": CloudTitanCrisis,
    "edge_guardian": EdgeGuardianCrisis,
    "mobile_nomad": MobileNomadCrisis,
    "tiny_pioneer": TinyPioneerCrisis,
}
ALL = list(TRACKS.values())


# ----------------------------------------------------------------- the four tracks


def test_four_tracks_in_storyboard_order_with_storyboard_texts() -> None:
    assert TRACK_KEYS == tuple(STORYBOARD)
    for key, (name, persona, title) in STORYBOARD.items():
        t = TRACKS[key]
        assert (t.key, t.name, t.persona, t.crisis_title) == (key, name, persona, title)
        assert isinstance(t.crisis, CRISIS_TYPES[key])


def test_mission_and_crisis_texts_quote_the_storyboard() -> None:
    # Key phrases of each row of the storyboard table.
    assert "Llama-3-70B" in TRACKS["cloud_titan"].mission
    assert "50 different LLM versions" in TRACKS["cloud_titan"].crisis_text
    assert "10ms" in TRACKS["edge_guardian"].mission
    assert "500,000 AVs" in TRACKS["edge_guardian"].crisis_text
    assert "100ms latency tail" in TRACKS["edge_guardian"].crisis_text
    assert "60FPS" in TRACKS["mobile_nomad"].mission
    assert "10 regions" in TRACKS["mobile_nomad"].crisis_text
    assert "1mW" in TRACKS["tiny_pioneer"].mission
    assert "Wake-Word" in TRACKS["tiny_pioneer"].crisis_text


def test_tracks_mapping_and_records_are_read_only() -> None:
    with pytest.raises(TypeError):
        TRACKS["cloud_titan"] = TRACKS["edge_guardian"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TRACKS["cloud_titan"].p_max = 0.5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TRACKS["edge_guardian"].crisis.seed = 1  # type: ignore[misc]


# -------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    "spelling",
    ["Cloud Titan", "cloud_titan", "cloud-titan", "CLOUD TITAN", "  cloud  titan ", "Cloud_Titan"],
)
def test_get_track_ignores_case_spaces_underscores_hyphens(spelling: str) -> None:
    assert get_track(spelling) is TRACKS["cloud_titan"]


@pytest.mark.parametrize("key", list(STORYBOARD))
def test_get_track_by_key_and_display_name(key: str) -> None:
    assert get_track(key) is TRACKS[key]
    assert get_track(STORYBOARD[key][0]) is TRACKS[key]
    assert get_track(TRACKS[key]) is TRACKS[key]  # a Track passes through


def test_typo_message_lists_the_four_tracks_and_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="name") as info:
        get_track("Edge Guardain")
    message = str(info.value)
    for name, _, _ in STORYBOARD.values():
        assert name in message
    assert "did you mean 'Edge Guardian'" in message
    assert "'Edge Guardain'" in message  # echoes the bad value


def test_unrelated_name_lists_tracks_without_suggestion() -> None:
    with pytest.raises(ValueError, match="name must be one of") as info:
        get_track("zzz")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("bad", [None, 3, 1.5, ["cloud_titan"], b"cloud_titan", ""])
def test_get_track_rejects_non_names(bad: object) -> None:
    with pytest.raises(ValueError, match="name"):
        get_track(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # InvalidInputError is a TypeError too
        get_track(bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------- every number valid


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_part1_fleet_is_consistent(track: Track) -> None:
    assert len(track.model_types) == len(track.model_type_counts) >= 2
    assert all(isinstance(c, int) and c >= 0 for c in track.model_type_counts)
    assert track.n_models == sum(track.model_type_counts)
    assert isinstance(track.toil_params, ToilParams)
    # Hurlbert's PIE computed independently in exact fractions.
    counts = track.model_type_counts
    n = sum(counts)
    expected = 1 - Fraction(sum(c * (c - 1) for c in counts), n * (n - 1))
    assert track.heterogeneity == pytest.approx(float(expected), rel=1e-15)
    assert 0.0 < track.heterogeneity < 1.0


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_part2_and_part3_numbers_are_valid(track: Track) -> None:
    assert track.request_rate_per_s > 0
    assert 0 < track.shadow_fraction <= 1
    # The starting share is within the shadow capacity, and below it (room to raise it).
    assert track.shadow_fraction < track.max_shadow_fraction <= 1
    assert track.live_failure_budget > 0
    assert 0 < track.p_max < 1
    assert 0 < track.confidence < 1
    assert track.release_cycle_hours == 168.0  # one week (mission plan, Part 2)
    assert 0 < track.p0 < track.p1 < 1
    # Design choice in tracks.py: SPRT's H1 is the rate the shadow test rules out.
    assert track.p1 == track.p_max
    # The ensemble's two models belong to the fleet of Part 1.
    assert track.upstream_model in track.model_types
    assert track.downstream_model in track.model_types
    assert track.upstream_model != track.downstream_model


def test_part3_pairs_of_the_brief() -> None:
    pairs = {t.key: (t.upstream_model, t.downstream_model) for t in ALL}
    assert pairs == {
        "cloud_titan": ("embedding_encoder", "safety_classifier"),
        "edge_guardian": ("camera_perception", "path_planner"),
        "mobile_nomad": ("text_detector", "translation_model"),
        "tiny_pioneer": ("noise_isolation", "wake_word"),
    }


def test_crisis_records_match_the_storyboard() -> None:
    ct = TRACKS["cloud_titan"].crisis
    assert (ct.n_models, ct.checks_per_day) == (50, 288)  # "50 LLM versions", every 5 min
    assert TRACKS["cloud_titan"].n_models == 50  # Part 1's fleet is the same 50 models
    eg = TRACKS["edge_guardian"].crisis
    assert (eg.fleet_size, eg.latency_budget_ms, eg.tail_ms) == (500_000, 10.0, 100.0)
    assert eg.p99_exceedance_max == 0.01
    # The oldest hardware (last) is the one with the high true over-budget rate.
    rates = eg.over_budget_rate_per_version
    assert rates[-1] == max(rates) > eg.p99_exceedance_max > max(rates[:-1])
    mn = TRACKS["mobile_nomad"].crisis
    assert (mn.target_fps, len(mn.regions), mn.regression_fraction, mn.alpha) == (
        60.0,
        10,
        0.10,
        0.05,
    )
    assert 1 <= len(mn.regressed_regions) <= 2
    tp = TRACKS["tiny_pioneer"].crisis
    assert tp.feature == "noise_isolation_embedding"
    assert dict(tp.pins)["wake_word"] != tp.serving_version


# --------------------------------------------- answers differ between tracks (Part 1, 2, crisis)


def _independent_sample_size(p_max: float, confidence: float) -> int:
    # Smallest n with (1 - p)^n <= 1 - C, found from the log estimate and confirmed with
    # plain powers on either side (not the reference's log1p / integer-snap code path).
    n = max(1, math.ceil(math.log(1 - confidence) / math.log(1 - p_max)) - 2)
    while (1 - p_max) ** n > 1 - confidence:
        n += 1
    assert n == 1 or (1 - p_max) ** (n - 1) > 1 - confidence
    return n


def _independent_break_even(track: Track) -> int:
    # Plain loop over the spec's ROI formula, in Python floats.
    p, h = track.toil_params, track.heterogeneity
    for n in range(1, 10_000):
        manual = p.alert_hours * n + p.deploy_hours * n * math.log2(n)
        manual += p.dependency_hours * h * n * (n - 1) / 2
        roi = (manual - p.platform_hours * n) * p.hourly_cost_usd * p.horizon_years
        if roi - p.platform_capex_usd > 0:
            return n
    raise AssertionError("no break-even under 10,000 models")


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_reference_answers_match_independent_computation(track: Track) -> None:
    assert break_even_models(track.heterogeneity, track.toil_params) == _independent_break_even(
        track
    )
    assert zero_failure_sample_size(track.p_max, track.confidence) == _independent_sample_size(
        track.p_max, track.confidence
    )


def _answers(track: Track) -> tuple[int, int, float]:
    n = zero_failure_sample_size(track.p_max, track.confidence)
    hours = shadow_hours(n, track.request_rate_per_s, track.shadow_fraction)
    return break_even_models(track.heterogeneity, track.toil_params), n, hours


def test_break_even_sample_size_and_hours_differ_between_tracks() -> None:
    answers = [_answers(t) for t in ALL]
    for i in range(3):
        values = [a[i] for a in answers]
        assert len(set(values)) == 4, values
    # Planned values (computed by hand from the spec's formulas when choosing the numbers).
    assert [a[0] for a in answers] == [19, 13, 20, 22]
    assert [a[1] for a in answers] == [2995, 4_605_168, 1151, 46_050]


def test_other_track_parameters_differ_between_tracks() -> None:
    for attr in (
        "p_max",
        "request_rate_per_s",
        "shadow_fraction",
        "max_shadow_fraction",
        "ensemble_seed",
        "p0",
        "p1",
    ):
        values = [getattr(t, attr) for t in ALL]
        assert len(set(values)) == 4, (attr, values)
    assert len({t.toil_params for t in ALL}) == 4
    assert len({t.toil_params.hourly_cost_usd for t in ALL}) == 4
    assert len({(t.upstream_model, t.downstream_model) for t in ALL}) == 4


def test_crisis_answers_differ_between_tracks() -> None:
    answers = [repr(crisis_answer(t)) for t in ALL]
    assert len(set(answers)) == 4


# Hours of shadow mode alone, by hand (n / (rate x 3600 x fraction)), at the starting share
# and at the capacity cap, with the numbers the comments in tracks.py give.
SHADOW_ALONE_HOURS = {
    # 2,995 / (25 x 3600 x 5e-5 = 4.5 an hour); 2,995 / 16.2
    "cloud_titan": (2995 / 4.5, 2995 / 16.2),
    # 4,605,168 / 10,800 an hour (6 cars); / 27,000 an hour (15 cars)
    "edge_guardian": (4_605_168 / 10_800, 4_605_168 / 27_000),
    # 1,151 / 1.8 an hour (10 glasses); / 5.76 an hour (32 glasses)
    "mobile_nomad": (1151 / 1.8, 1151 / 5.76),
    # 46,050 / 90 an hour (5%); / 216 an hour (12%)
    "tiny_pioneer": (46_050 / 90, 46_050 / 216),
}


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_shadow_mode_alone_misses_the_week_at_the_start_and_at_the_cap(track: Track) -> None:
    # The 10-iteration rule needs work on every track: the starting plan misses the week,
    # and so does the most shadow the capacity allows, so a plan needs live stages.
    n = _independent_sample_size(track.p_max, track.confidence)
    per_hour = track.request_rate_per_s * 3600
    start = n / (per_hour * track.shadow_fraction)
    at_cap = n / (per_hour * track.max_shadow_fraction)
    assert (start, at_cap) == pytest.approx(SHADOW_ALONE_HOURS[track.key], rel=1e-12)
    assert start > at_cap > track.release_cycle_hours
    # Live traffic is what can close the gap: a week of all traffic sees the target.
    assert n / per_hour <= track.release_cycle_hours
    # The Safety Lead's budget cannot cover all the evidence: live exposure of the whole
    # n would be p_max x n expected failures (about -ln(1 - C)), more than the budget.
    assert track.p_max * n > track.live_failure_budget


# --------------------------------------------------------------------- bad input


BASE = TRACKS["cloud_titan"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("p_max", 0.0),
        ("p_max", 1.0),
        ("p_max", float("nan")),
        ("p_max", "0.001"),
        ("confidence", 1.0),
        ("confidence", None),
        ("request_rate_per_s", 0.0),
        ("request_rate_per_s", float("inf")),
        ("shadow_fraction", 0.0),
        ("shadow_fraction", 1.5),
        ("max_shadow_fraction", 0.0),
        ("max_shadow_fraction", 1.01),
        ("max_shadow_fraction", "all"),
        ("live_failure_budget", -1.0),
        ("live_failure_budget", float("nan")),
        ("live_failure_budget", None),
        ("release_cycle_hours", -1.0),
        ("ensemble_seed", -1),
        ("ensemble_seed", 1.5),
        ("model_type_counts", (1, 2)),
        ("model_type_counts", (24, 10, 8, 5, -3)),
        ("model_type_counts", "24"),
        ("model_types", ("a", "a", "b", "c", "d")),
        ("toil_params", None),
        ("name", ""),
        ("upstream_model", 3),
        ("crisis", "threshold discovery"),
    ],
)
def test_track_rejects_bad_fields_naming_them(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        BASE.replace(**{field: value})


def test_track_requires_p1_above_p0() -> None:
    with pytest.raises(ValueError, match="p1 must be greater than p0"):
        BASE.replace(p0=0.002, p1=0.002)
    with pytest.raises(ValueError, match="p1"):
        BASE.replace(p1=float("nan"))


def test_track_replace_keeps_valid_changes() -> None:
    t = BASE.replace(shadow_fraction=1, ensemble_seed=7.0)
    assert t.shadow_fraction == 1.0 and isinstance(t.shadow_fraction, float)
    assert t.ensemble_seed == 7 and isinstance(t.ensemble_seed, int)
    assert BASE.shadow_fraction == 5e-5  # the original is untouched


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metrics_per_model": 0, "false_alerts_per_day_budget": 1.0}, "metrics_per_model"),
        ({"metrics_per_model": 1, "false_alerts_per_day_budget": 0.0}, "budget"),
        # 50 x 1 x 288 = 14,400 checks a day: a budget that large allows every check to alarm.
        ({"metrics_per_model": 1, "false_alerts_per_day_budget": 14_400}, "budget"),
        ({"metrics_per_model": 1, "false_alerts_per_day_budget": 1.0, "n_models": 0}, "n_models"),
        (
            {"metrics_per_model": 1, "false_alerts_per_day_budget": 1.0, "checks_per_day": 2.5},
            "checks_per_day",
        ),
    ],
)
def test_cloud_titan_crisis_rejects_bad_fields(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CloudTitanCrisis(**kwargs)


EDGE = TRACKS["edge_guardian"].crisis


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latency_budget_ms", 0.0),
        ("tail_ms", 5.0),  # a "tail" under the budget is no tail
        ("p99_exceedance_max", 1.0),
        ("confidence", 0.4),  # below 0.5 the one-sided bounds can cross
        ("confidence", 1.0),
        ("hardware_versions", "hw1"),
        ("shadow_requests_per_version", 0),
        ("over_budget_rate_per_version", (0.1, 0.2)),
        ("over_budget_rate_per_version", (0.1, 0.2, 0.3, 1.0)),
        ("over_budget_rate_per_version", (0.1, 0.2, 0.3, float("nan"))),
        ("seed", -1),
        ("seed", None),
    ],
)
def test_edge_guardian_crisis_rejects_bad_fields(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(EDGE, **{field: value})


NOMAD = TRACKS["mobile_nomad"].crisis


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_fps", -60.0),
        ("regions", ("a",)),
        ("samples_per_region", 1),
        ("regression_fraction", 0.0),
        ("alpha", 1.0),
        ("regressed_regions", ("atlantis",)),
        ("regressed_regions", ()),
        ("decoy_regions", ("uae",)),  # overlaps the regressed region
        ("regressed_drop_fraction", 0.05),  # a "regression" under the 10% bar
        ("decoy_drop_fraction", 0.2),  # a "decoy" over the bar
        ("other_gain_fraction", 0.5),
        ("fps_sd", 0.0),
        ("seed", "3030"),
    ],
)
def test_mobile_nomad_crisis_rejects_bad_fields(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(NOMAD, **{field: value})


PIONEER = TRACKS["tiny_pioneer"].crisis


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("versions", ()),
        ("versions", (PIONEER.versions[0], PIONEER.versions[0])),
        ("pins", (("wake_word", "v9"),)),
        ("pins", (("wake_word", "v1"), ("wake_word", "v2"))),
        ("pins", "wake_word"),
        ("serving_version", "v3"),
        ("feature", ""),
    ],
)
def test_tiny_pioneer_crisis_rejects_bad_fields(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(PIONEER, **{field: value})


def test_feature_version_spec_keeps_an_immutable_schema() -> None:
    spec = FeatureVersionSpec.from_schema("v1", {"dims": 64, "dtype": "float16"})
    schema = spec.schema
    schema["dims"] = 1  # editing the copy ...
    assert spec.schema == {"dims": 64, "dtype": "float16"}  # ... changes nothing
    assert PIONEER.schema_of("v2")["normalization"] == "pcen"
    with pytest.raises(ValueError, match="version"):
        PIONEER.schema_of("v9")
    with pytest.raises(ValueError, match="schema"):
        FeatureVersionSpec.from_schema("v1", [("dims", 64)])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="version"):
        FeatureVersionSpec("", ())


# ------------------------------------------------------------------ describe_track


@pytest.mark.parametrize("track", ALL, ids=lambda t: t.key)
def test_describe_track_names_the_story_and_inputs_but_no_answer(track: Track) -> None:
    text = describe_track(track.name)
    assert text == describe_track(track)  # name or record
    flat = " ".join(text.split())  # undo the line wrapping
    for expected in (track.name, track.persona, track.mission, track.crisis_title):
        assert expected in flat
    assert f"{track.n_models} models" in flat
    assert f"{track.upstream_model} -> {track.downstream_model}" in flat
    # Inputs only: neither the break-even fleet size nor the shadow sample size appears.
    n_star, n, _ = _answers(track)
    assert f"{n:,}" not in flat and f" {n} " not in flat
    assert f"N* = {n_star}" not in flat
    assert all(len(line) <= 88 for line in text.splitlines()[1:])


def test_describe_track_bad_name() -> None:
    with pytest.raises(ValueError, match="name"):
        describe_track("Cloud Titanic!")
