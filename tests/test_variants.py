"""Per-student variants: the codes, the numbers, and that every variant still teaches the lab.

The property tests draw students (identities) with hypothesis, issue their codes as a course
does, and check each teaching point of the mission plan on the variant's numbers with the
reference model, the way the lab's solution reaches it (the canary plan is searched as the
solution searches it). These checks are written here from the mission plan, apart from the
vetting that issues codes (``labtools.grading.variant_vetting``), so that each checks the
other.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import math

import numpy as np
import pytest
from canary_search import bisect_at_cap
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labtools.grading.reference_checks import (
    check_ledger_numbers,
    reference_ensemble_verdicts,
    reference_sprt_lines,
)
from labtools.grading.variant_codes import read_course_secret, variant_code
from labtools.grading.variant_vetting import keeps_teaching_points, missed_teaching_points
from labtools.selfcheck.samples import SAMPLE_SECRET
from opsmodel import crises, ensemble, toil
from opsmodel.canary_planner import MAX_ITERATIONS, CanaryPlanner
from opsmodel.crisis_data import edge_over_budget_counts
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.skew import skew_check
from opsmodel.tracks import (
    TRACK_KEYS,
    TRACKS,
    CloudTitanCrisis,
    EdgeGuardianCrisis,
    MobileNomadCrisis,
    TinyPioneerCrisis,
)
from opsmodel.variants import (
    CODE_ALPHABET,
    normalise_variant_code,
    student_track,
    variant_code_from_bytes,
)

SECRET = b"a course secret of at least sixteen bytes"

# Any code a student might type, and the codes a course hands out (vetted at issue).
any_codes = st.binary(min_size=10, max_size=10).map(variant_code_from_bytes)
identities = st.text(min_size=1, max_size=12).filter(str.strip)
codes = identities.map(lambda student: variant_code(SECRET, student))
tracks = st.sampled_from(TRACK_KEYS)
# Each example runs the reference model a few times: fewer examples than hypothesis's 100,
# no deadline (the machine is shared), and each property on every track.
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------ codes


def test_a_code_is_sixteen_characters_in_four_groups_and_reads_back() -> None:
    code = variant_code_from_bytes(bytes(range(10)))
    assert len(code) == 19 and code.count("-") == 3
    assert all(c in CODE_ALPHABET for c in code.replace("-", ""))
    assert normalise_variant_code(code.lower().replace("-", " ")) == code


@pytest.mark.parametrize("seed", range(5))
def test_every_one_character_typo_and_nearly_every_neighbour_swap_is_caught(seed: int) -> None:
    code = variant_code_from_bytes(np.random.default_rng(seed).bytes(10)).replace("-", "")
    for i in range(len(code)):
        for c in CODE_ALPHABET.replace(code[i], ""):
            with pytest.raises(ValueError, match="typo"):
                normalise_variant_code(code[:i] + c + code[i + 1 :])
        # A swap goes unnoticed only of two characters 16 apart in the alphabet.
        apart = abs(CODE_ALPHABET.index(code[i]) - CODE_ALPHABET.index(code[(i + 1) % 16]))
        if i + 1 < len(code) and apart not in (0, 16):
            with pytest.raises(ValueError, match="typo"):
                normalise_variant_code(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


@pytest.mark.parametrize(
    ("bad", "says"),
    [(None, "a str"), (1234, "a str"), ("K7QF-2M9X", "16 letters"), ("K7QF-2M9X-0B4T-8RZ!", "16")],
)
def test_a_malformed_code_names_the_argument(bad: object, says: str) -> None:
    with pytest.raises(ValueError, match="variant_code") as raised:
        normalise_variant_code(bad)
    assert says in str(raised.value)


def test_codes_come_from_the_secret_and_the_identity_only() -> None:
    code = variant_code(SECRET, "s1001")
    assert variant_code(SECRET, "  S1001 ") == code  # as the roster matches identities
    assert variant_code(SECRET, "s1002") != code
    assert variant_code(SECRET + b"!", "s1001") != code
    assert normalise_variant_code(code) == code
    with pytest.raises(ValueError, match="secret"):
        variant_code(b"short", "s1001")
    with pytest.raises(ValueError, match="student"):
        variant_code(SECRET, " ")


# ----------------------------------------------------------------------- the numbers


def test_no_code_is_the_track_itself_and_a_code_always_gives_the_same_numbers() -> None:
    assert student_track("Edge Guardian") is TRACKS["edge_guardian"]
    code = variant_code(SECRET, "s1003")
    assert student_track("edge_guardian", code) == student_track("Edge Guardian", code.lower())


@given(track=tracks, code=any_codes)
@PROPERTY
def test_a_variant_keeps_the_story_and_the_safety_leads_rules(track: str, code: str) -> None:
    base, mine = TRACKS[track], student_track(track, code)
    assert mine.variant == code and base.variant is None
    for kept in ("key", "name", "persona", "mission", "crisis_title", "model_types", "p_max"):
        assert getattr(mine, kept) == getattr(base, kept)
    for kept in ("confidence", "release_cycle_hours", "live_failure_budget", "p1"):
        assert getattr(mine, kept) == getattr(base, kept)
    assert mine.toil_params.platform_capex_usd == 500_000.0  # the mission plan's Lock
    assert type(mine.crisis) is type(base.crisis)
    assert mine.shadow_fraction <= mine.max_shadow_fraction <= 1.0
    # Plausible: within the stated ranges of the track's own numbers (docs/variants.md).
    assert 0.79 <= mine.request_rate_per_s / base.request_rate_per_s <= 1.26
    for c, b in zip(mine.model_type_counts, base.model_type_counts, strict=True):
        assert max(1, math.floor(0.75 * b)) <= c <= math.ceil(1.3 * b)


# --------------------------------------------------------------- the teaching points


@given(track=tracks, code=codes)
@PROPERTY
def test_part1_a_break_even_fleet_size_exists_on_the_same_side_of_the_fleet(
    track: str, code: str
) -> None:
    base, mine = TRACKS[track], student_track(track, code)
    n_star = toil.break_even_models(mine.heterogeneity, mine.toil_params)
    assert n_star is not None and 5 <= n_star <= 60
    base_star = toil.break_even_models(base.heterogeneity, base.toil_params)
    assert (mine.n_models >= n_star) == (base.n_models >= base_star)


def _search(t):  # the solution's 2c, after the starting plan and shadow alone at the cap
    with contextlib.redirect_stdout(io.StringIO()):
        planner = CanaryPlanner(
            t, zero_failure_sample_size=zero_failure_sample_size, shadow_hours=shadow_hours
        )
        planner.try_plan(shadow_fraction=t.shadow_fraction)
        cap_alone = planner.try_plan(shadow_fraction=t.max_shadow_fraction)
        bisect_at_cap(planner)
    return planner, cap_alone


@given(track=tracks, code=codes)
@PROPERTY
def test_part2_the_starting_plan_misses_the_week_and_a_plan_is_found_in_ten_tries(
    track: str, code: str
) -> None:
    t = student_track(track, code)
    planner, cap_alone = _search(t)
    first = planner.attempts[0]
    assert not first.feasible and first.hours > t.release_cycle_hours
    assert not cap_alone.feasible and cap_alone.hours > t.release_cycle_hours
    assert planner.attempts[-1].feasible and len(planner.attempts) <= MAX_ITERATIONS
    promote, rollback = reference_sprt_lines(t)
    assert -1 <= promote < rollback <= t.sprt_checkpoint_requests


@given(track=tracks, code=codes)
@PROPERTY
def test_part3_the_sign_flip_is_invisible_to_psi_and_caught_by_the_contract(
    track: str, code: str
) -> None:
    t = student_track(track, code)
    run = ensemble.run_ensemble(
        "v1-signflip",
        False,
        seed=t.ensemble_seed,
        upstream_name=t.upstream_model,
        downstream_name=t.downstream_model,
    )
    report = skew_check(
        run.train_features, run.serving_features, run.train_contract, run.serving_contract
    )
    assert report["max_psi"] < 0.25 and not report["contract_ok"]
    verdicts = reference_ensemble_verdicts(t)
    assert verdicts["v1-signflip"] == {"silent_failure": True, "caught_by": "contract"}
    assert verdicts["v2"]["silent_failure"]


@given(track=tracks, code=codes)
@PROPERTY
def test_the_crisis_has_one_clear_answer(track: str, code: str) -> None:
    t = student_track(track, code)
    answer = crises.crisis_answer(t)
    crisis = t.crisis
    if isinstance(crisis, CloudTitanCrisis):
        assert math.isfinite(answer) and 3.0 < answer < 6.0
    elif isinstance(crisis, EdgeGuardianCrisis):
        # The generations with the tail are exactly those rolled back.
        tail = {
            v
            for v, r in zip(
                crisis.hardware_versions, crisis.over_budget_rate_per_version, strict=True
            )
            if r >= crisis.p99_exceedance_max
        }
        assert tail and {v for v, d in answer["decisions"].items() if d == "rollback"} == tail
        assert set(edge_over_budget_counts(crisis)) == set(crisis.hardware_versions)
        assert answer["fleet_rollback"]
    elif isinstance(crisis, MobileNomadCrisis):
        assert set(answer) == set(crisis.regressed_regions)  # never the decoy
    else:
        assert isinstance(crisis, TinyPioneerCrisis)
        stale = {c for c, v in crisis.pins if v != crisis.serving_version}
        assert "wake_word" in stale and set(answer) == stale


# ----------------------------------------------------- only vetted codes are handed out


def _fleet_side(t) -> bool:  # whether the platform pays at the fleet's size
    return t.n_models >= toil.break_even_models(t.heterogeneity, t.toil_params)


def test_a_draw_can_miss_a_teaching_point_and_the_vetting_names_it() -> None:
    # Found by hypothesis on CI: Mobile Nomad's fleet of 21 drawn below its break-even size
    # of 22, where the track's fleet of 24 is past its 20: the story's platform pays.
    fleet = student_track("mobile_nomad", "02Q1-0FCP-PK1C-NV9Y")
    assert (fleet.n_models, toil.break_even_models(fleet.heterogeneity, fleet.toil_params)) == (
        21,
        22,
    )
    assert _fleet_side(TRACKS["mobile_nomad"]) and not _fleet_side(fleet)
    assert missed_teaching_points(fleet) == ("break_even",)
    # Found by a sweep: hw4 overruns at 0.29%, well under the 1% of the p99, yet its 2,000
    # shadow requests sampled too many slow ones to promote, so it rolls back with hw2.
    jitter = student_track("edge_guardian", "S1KE-8Z2S-19V4-DF48")
    crisis = jitter.crisis
    rates = dict(zip(crisis.hardware_versions, crisis.over_budget_rate_per_version, strict=True))
    assert rates["hw4"] < 0.01 and crises.crisis_answer(jitter)["decisions"]["hw4"] == "rollback"
    assert missed_teaching_points(jitter) == ("crisis",)
    assert not keeps_teaching_points("02Q1-0FCP-PK1C-NV9Y")
    for key in TRACK_KEYS:
        assert missed_teaching_points(TRACKS[key]) == ()


def test_a_student_whose_first_draw_misses_a_point_gets_the_next_that_keeps_them_all() -> None:
    # s1018's first draw (the plain HMAC of its identity) puts Mobile Nomad's fleet below
    # its break-even size; the code handed out is a later draw that keeps every point.
    first = variant_code_from_bytes(
        hmac.new(SECRET, b"ops_scale variant code|s1018", hashlib.sha256).digest()
    )
    assert first == "Y5K6-VP7J-29FF-V0Q3"
    assert not _fleet_side(student_track("mobile_nomad", first))
    issued = variant_code(SECRET, "s1018")
    assert issued != first and variant_code(SECRET, " S1018") == issued
    assert _fleet_side(student_track("mobile_nomad", issued))
    assert keeps_teaching_points(issued)


def test_codes_a_course_already_handed_out_stay_the_same() -> None:
    # The sample class's codes as the first build with variants issued them (their first
    # draws kept every point): vetting changes no code that was fine.
    secret = read_course_secret(SAMPLE_SECRET)
    assert [variant_code(secret, f"s100{i}") for i in range(1, 6)] == [
        "E7PN-ZRTR-X81Q-D731",
        "X6W1-SK58-YFPA-QGKJ",
        "J2DV-E9SK-YKD7-43JH",
        "D8QP-75K5-W9P3-MKMX",
        "5GAP-PBK7-PHY6-E1E8",
    ]


# ------------------------------------------------------------- copied answers fail


@given(track=tracks, mine=codes, theirs=codes)
@PROPERTY
def test_a_classmates_ledger_numbers_fail_on_my_variant(track: str, mine: str, theirs: str) -> None:
    if mine == theirs:
        return
    t = student_track(track, theirs)
    planner, _ = _search(t)
    plan = planner.final_plan()
    ledger = {
        "break_even_models": toil.break_even_models(t.heterogeneity, t.toil_params),
        "shadow_requests": plan["requests"],
        "shadow_hours": plan["hours"],
        "shadow_fraction": plan["shadow_fraction"],
        "staged": plan["staged"],
        "release_feasible": plan["hours"] <= t.release_cycle_hours,
    }
    assert check_ledger_numbers(ledger, t)  # the control: right on their own variant
    assert not check_ledger_numbers(ledger, student_track(track, mine))


@pytest.mark.parametrize("track", TRACK_KEYS)
def test_classmates_rarely_share_an_answer(track: str) -> None:
    """Over 200 pairs of classmates on one track, how often a copied answer is right anyway.

    N* is a whole number in a narrow range (it repeats for about a fifth of pairs); the
    crisis answer repeats for at most a quarter (Tiny Pioneer's four possible answers); the
    SPRT lines for a few percent; the shadow hours never.
    """
    rng = np.random.default_rng(2026)
    same = {"n_star": 0, "crisis": 0, "sprt": 0, "hours": 0}
    pairs = 200
    for _ in range(pairs):
        a, b = (student_track(track, variant_code_from_bytes(rng.bytes(10))) for _ in range(2))
        same["n_star"] += toil.break_even_models(
            a.heterogeneity, a.toil_params
        ) == toil.break_even_models(b.heterogeneity, b.toil_params)
        same["sprt"] += reference_sprt_lines(a) == reference_sprt_lines(b)
        n = zero_failure_sample_size(a.p_max, a.confidence)
        same["hours"] += math.isclose(
            shadow_hours(n, a.request_rate_per_s, a.shadow_fraction),
            shadow_hours(n, b.request_rate_per_s, b.shadow_fraction),
            rel_tol=1e-6,
        )
        ca, cb = crises.crisis_answer(a), crises.crisis_answer(b)
        if isinstance(ca, float):
            same["crisis"] += math.isclose(ca, cb, rel_tol=1e-6)
        elif isinstance(ca, tuple):
            same["crisis"] += set(ca) == set(cb)
        else:
            same["crisis"] += dict(ca["decisions"]) == dict(cb["decisions"])
    assert same["hours"] == 0
    assert same["n_star"] <= 0.35 * pairs
    assert same["crisis"] <= 0.3 * pairs
    assert same["sprt"] <= 0.1 * pairs
