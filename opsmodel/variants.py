"""Per-student variants: a track's numbers redrawn from the student's variant code.

With variants on, every student works on their own copy of their track: the same story, the
same questions, other numbers. :func:`student_track` turns a track and a *variant code* into
that copy, deterministically: the same code always gives the same numbers, on the student's
machine and on the grader's.

The code is what makes a variant private. The course's instructor derives each student's
code from a course secret and the student's identity (``labtools.grading.variant_codes``,
on the instructor's side only) and hands it to the student; this module never sees the
secret. Without someone's code a student cannot rebuild their numbers: the code carries 75
random bits, and nothing else the release holds depends on it.

What a variant redraws, and the ranges (``docs/variants.md`` gives the reasons):

- Part 1: each model type's count (x0.75 to x1.3 of the track's, at least one), the
  engineer's hourly cost (x0.9 to x1.1, to $5), and the four toil figures (x0.8 to x1.25,
  to half an hour). The $500k platform stays: it is the mission plan's Lock.
- Part 2: the request rate (x0.8 to x1.25, four significant figures); the shadow capacity
  (the shadow requests per hour at the cap, x :data:`SHADOW_CAPACITY_RANGE` of the track's)
  and the starting share (x0.85 to x1.15 of the track's starting rate of shadow requests);
  the SPRT's p0 (the ratio p1 / p0 x0.85 to x1.25) and its checkpoint (3 to 9 expected
  failures of a fine model instead of 5). The failure rate to rule out, the
  confidence, the release cycle and the live failure budget are the Safety Lead's: they
  stay.
- Part 3: the ensemble's seed (the simulation's teaching point, a silent failure that the
  contract catches and PSI misses for the sign flip, holds for every seed tried).
- The crisis: Cloud Titan's metrics per model and false-page budget; Edge Guardian's
  hardware generations with the latency tail and every generation's overrun rate and seed;
  Mobile Nomad's throttled and decoy regions, drops and seed; Tiny Pioneer's pins of the
  voice-activity and hearing-profile consumers.

This module ships to students: it holds parameters, never an answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any

import numpy as np

from ._validation import InvalidInputError
from .toil_params import ToilParams
from .tracks import (
    CloudTitanCrisis,
    EdgeGuardianCrisis,
    MobileNomadCrisis,
    TinyPioneerCrisis,
    Track,
    get_track,
)

__all__ = [
    "CODE_ALPHABET",
    "SHADOW_CAPACITY_RANGE",
    "normalise_variant_code",
    "student_track",
    "variant_code_from_bytes",
]

#: Crockford's base 32: digits and capitals without I, L, O and U, so that a code read
#: aloud or copied by hand has no look-alike characters.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# 15 random characters (75 bits) and one check character, shown as four groups of four.
_DATA_CHARS = 15
_GROUP = 4

#: Per track, the range of the variant's shadow capacity (shadow requests per hour at the
#: cap) as a multiple of the track's own. The capacity decides whether shadow mode alone can
#: meet the target within the week, and how much live exposure the staged rollout needs:
#: each range keeps shadow alone over the week and a staged plan within the live failure
#: budget (``tests/test_variants.py`` checks both on many variants). Edge Guardian's
#: window is the narrowest: at its cap shadow mode alone misses the week by 2.6 hours.
SHADOW_CAPACITY_RANGE: dict[str, tuple[float, float]] = {
    "cloud_titan": (0.92, 1.08),
    "edge_guardian": (0.97, 1.0),
    "mobile_nomad": (0.9, 1.15),
    "tiny_pioneer": (0.9, 1.2),
}


# ------------------------------------------------------------------------- the codes


def _check_char(data: str) -> str:
    # Odd weights are invertible modulo 32, so every one-character typo changes the sum; a
    # swap of two neighbours changes it unless the two are 16 apart in the alphabet.
    total = sum((2 * i + 1) * CODE_ALPHABET.index(c) for i, c in enumerate(data))
    return CODE_ALPHABET[total % len(CODE_ALPHABET)]


def _grouped(chars: str) -> str:
    return "-".join(chars[i : i + _GROUP] for i in range(0, len(chars), _GROUP))


def variant_code_from_bytes(raw: bytes) -> str:
    """A well-formed variant code from at least 10 random bytes (75 bits are used).

    Parameters
    ----------
    raw : bytes
        Random or secret-derived bytes (an HMAC digest on the instructor's side).

    Returns
    -------
    str
        Sixteen characters of :data:`CODE_ALPHABET` in four groups (``"K7QF-2M9X-..."``),
        the last one a check character.

    Raises
    ------
    InvalidInputError
        If ``raw`` is not bytes or is shorter than 10 bytes.

    Examples
    --------
    >>> variant_code_from_bytes(bytes(10))
    '0000-0000-0000-0000'
    >>> normalise_variant_code(variant_code_from_bytes(b"0123456789")) is not None
    True
    """
    if not isinstance(raw, (bytes, bytearray)) or len(raw) < 10:
        raise InvalidInputError(f"raw must be at least 10 bytes, got {raw!r}")
    number = int.from_bytes(bytes(raw[:10]), "big") >> 5  # 80 bits -> 75
    data = "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_DATA_CHARS)))
    return _grouped(data + _check_char(data))


def normalise_variant_code(code: Any) -> str:
    """A variant code in its one written form, or a clear error if it cannot be one.

    Case, spaces and hyphens do not matter, and the look-alikes O, I and L read as 0, 1
    and 1.

    Parameters
    ----------
    code : str
        The code as the student typed it.

    Returns
    -------
    str
        The code in four groups of four capitals and digits.

    Raises
    ------
    InvalidInputError
        If ``code`` is not a string of 16 code characters, or its check character does not
        match (a typo).

    Examples
    --------
    >>> normalise_variant_code("0000 0000 0000 000o")
    '0000-0000-0000-0000'
    """
    if not isinstance(code, str):
        raise InvalidInputError(
            f"variant_code must be the code your instructor gave you (a str), got {code!r}"
        )
    chars = code.upper().replace("O", "0").replace("I", "1").replace("L", "1")
    chars = "".join(c for c in chars if c not in " -_\t")
    if len(chars) != _DATA_CHARS + 1 or any(c not in CODE_ALPHABET for c in chars):
        raise InvalidInputError(
            f"variant_code must be 16 letters and digits like 'K7QF-2M9X-0B4T-8RZC', got "
            f"{code!r}: copy it again from your instructor's message"
        )
    if _check_char(chars[:-1]) != chars[-1]:
        raise InvalidInputError(
            f"variant_code {code!r} has a typo (its last character does not match the "
            "others): copy it again from your instructor's message"
        )
    return _grouped(chars)


# ------------------------------------------------------------------------ the draws


def _rng(track: Track, code: str) -> np.random.Generator:
    digest = hashlib.sha256(f"ops_scale variant|{track.key}|{code}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant figures."""
    if value == 0:
        return 0.0
    return float(round(value, digits - 1 - math.floor(math.log10(abs(value)))))


def _step(value: float, step: float) -> float:
    """``value`` rounded to a multiple of ``step`` (at least one step)."""
    return float(max(step, round(value / step) * step))


def _scaled(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _fleet(track: Track, rng: np.random.Generator) -> dict[str, Any]:
    counts = tuple(
        max(1, round(c * _scaled(rng, 0.75, 1.3))) if c else 0 for c in track.model_type_counts
    )
    p = track.toil_params
    params = ToilParams(
        hourly_cost_usd=_step(p.hourly_cost_usd * _scaled(rng, 0.9, 1.1), 5.0),
        alert_hours=_step(p.alert_hours * _scaled(rng, 0.8, 1.25), 0.5),
        deploy_hours=_step(p.deploy_hours * _scaled(rng, 0.8, 1.25), 0.5),
        dependency_hours=_step(p.dependency_hours * _scaled(rng, 0.8, 1.25), 0.5),
        platform_hours=_step(p.platform_hours * _scaled(rng, 0.8, 1.25), 0.5),
        platform_capex_usd=p.platform_capex_usd,
        horizon_years=p.horizon_years,
    )
    return {"model_type_counts": counts, "toil_params": params}


def _shadow_test(track: Track, rng: np.random.Generator) -> dict[str, Any]:
    # Four significant figures: with three, two classmates' shadow hours coincide for about
    # one pair in 200, and a copied number would pass.
    rate = _significant(track.request_rate_per_s * _scaled(rng, 0.8, 1.25), 4)
    low, high = SHADOW_CAPACITY_RANGE[track.key]
    # Shadow requests per hour at the cap and at the start, as multiples of the track's;
    # the shares follow from the new rate.
    capacity = _scaled(rng, low, high)
    start = capacity * _scaled(rng, 0.85, 1.15)
    cap_fraction = _significant(
        track.max_shadow_fraction * capacity * track.request_rate_per_s / rate, 4
    )
    start_fraction = _significant(
        track.shadow_fraction * start * track.request_rate_per_s / rate, 4
    )
    ratio = (track.p1 / track.p0) * _scaled(rng, 0.85, 1.25)
    return {
        "request_rate_per_s": rate,
        "max_shadow_fraction": min(cap_fraction, 1.0),
        "shadow_fraction": min(start_fraction, cap_fraction, 1.0),
        "p0": _significant(track.p1 / ratio),
        # The SPRT's checkpoint, in failures a fine model expects by then (the track: 5).
        "sprt_checkpoint_failures": float(rng.integers(3, 10)),
    }


def _cloud_titan_crisis(crisis: CloudTitanCrisis, rng: np.random.Generator, n: int) -> Any:
    return dataclasses.replace(
        crisis,
        n_models=n,
        metrics_per_model=int(rng.integers(3, 7)),
        false_alerts_per_day_budget=float(rng.choice([0.5, 0.75, 1.0, 1.25, 1.5, 2.0])),
    )


def _edge_guardian_crisis(crisis: EdgeGuardianCrisis, rng: np.random.Generator, _n: int) -> Any:
    versions = crisis.hardware_versions
    # The tail hits some of the three older generations, at least one (the story: older
    # hardware); the others overrun well under the 1% limit, so every decision is clear-cut.
    older = range(1, len(versions))
    culprits = {i for i in older if rng.random() < 0.5} or {int(rng.choice(list(older)))}
    rates = tuple(
        _significant(_scaled(rng, 0.03, 0.08) if i in culprits else _scaled(rng, 0.0005, 0.003), 2)
        for i in range(len(versions))
    )
    return dataclasses.replace(
        crisis, over_budget_rate_per_version=rates, seed=int(rng.integers(0, 2**31))
    )


def _mobile_nomad_crisis(crisis: MobileNomadCrisis, rng: np.random.Generator, _n: int) -> Any:
    regressed, decoy = rng.choice(len(crisis.regions), size=2, replace=False)
    return dataclasses.replace(
        crisis,
        regressed_regions=(crisis.regions[int(regressed)],),
        decoy_regions=(crisis.regions[int(decoy)],),
        regressed_drop_fraction=_significant(_scaled(rng, 0.14, 0.2), 2),
        decoy_drop_fraction=_significant(_scaled(rng, 0.03, 0.05), 2),
        seed=int(rng.integers(0, 2**31)),
    )


def _tiny_pioneer_crisis(crisis: TinyPioneerCrisis, rng: np.random.Generator, _n: int) -> Any:
    old = crisis.versions[0].version
    serving = crisis.serving_version
    # The wake-word detector is the story's broken consumer; the other two were retrained
    # or not, each a coin toss.
    pins = [("wake_word", old)]
    pins += [
        (c, serving if rng.random() < 0.5 else old) for c in ("voice_activity", "hearing_profile")
    ]
    return dataclasses.replace(crisis, pins=tuple(pins))


_CRISES = {
    CloudTitanCrisis: _cloud_titan_crisis,
    EdgeGuardianCrisis: _edge_guardian_crisis,
    MobileNomadCrisis: _mobile_nomad_crisis,
    TinyPioneerCrisis: _tiny_pioneer_crisis,
}


def student_track(track: str | Track, variant_code: str | None = None) -> Track:
    """The track a student works on: the track itself, or its variant for their code.

    Parameters
    ----------
    track : str or Track
        The track, or its key or display name (see :func:`~opsmodel.tracks.get_track`).
    variant_code : str or None, optional
        The student's variant code (see :func:`normalise_variant_code`); ``None`` gives the
        track unchanged (a course without variants).

    Returns
    -------
    Track
        A track with the variant's numbers, its ``variant`` field set to the code. Drawn
        afresh from the code each call: the same code always gives an equal track.

    Raises
    ------
    InvalidInputError
        If ``track`` names no track or ``variant_code`` is not a well-formed code.

    Examples
    --------
    >>> base = student_track("Cloud Titan")
    >>> base.variant is None
    True
    >>> mine = student_track("Cloud Titan", "0000-0000-0000-0000")
    >>> mine.variant, mine.name, mine.p_max
    ('0000-0000-0000-0000', 'Cloud Titan', 0.001)
    >>> mine == student_track("cloud_titan", "0000 0000 0000 0000")
    True
    """
    base = get_track(track)
    if variant_code is None:
        return base
    if base.variant is not None:
        raise InvalidInputError(f"track is already the variant {base.variant!r} of {base.name}")
    code = normalise_variant_code(variant_code)
    rng = _rng(base, code)
    fleet = _fleet(base, rng)
    shadow = _shadow_test(base, rng)
    seed = int(rng.integers(10_000, 2**31))
    n_models = sum(fleet["model_type_counts"])
    crisis = _CRISES[type(base.crisis)](base.crisis, rng, n_models)
    text = base.crisis_text
    if isinstance(crisis, CloudTitanCrisis):
        # The story's "50 different LLM versions" is the fleet itself.
        text = text.replace(f"{base.crisis.n_models} different", f"{n_models} different")
    return base.replace(
        **fleet, **shadow, ensemble_seed=seed, crisis=crisis, crisis_text=text, variant=code
    )
