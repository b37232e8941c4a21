"""Tests of opsmodel.rollout: requests per stage and the failure rate ruled out.

Independent references: stage requests as ``floor`` of the decimal product in exact
``Fraction`` arithmetic, running sums by a plain loop, the zero-failure closed form
``1 - (1 - C)**(1/n)`` for the rate ruled out, and the source/import graph for the rule that
this shipped module never imports the reference-only ``shadow`` and ``sample_size``.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import opsmodel.rollout as rollout_module
from opsmodel.rollout import RolloutStage, staged_rollout


def _closed_form_ruled_out(n: int, c: float) -> float:
    """Zero failures in n requests: the rate p with (1 - p)^n = 1 - C (1.0 when n = 0)."""
    return 1.0 if n == 0 else -math.expm1(math.log1p(-c) / n)


def test_default_stages_by_hand() -> None:
    # 10 req/s for 6 h is 216,000 requests; 1%, 5%, 25%, 100% of it.
    stages = staged_rollout(10.0, 6.0)
    assert isinstance(stages, tuple) and all(isinstance(s, RolloutStage) for s in stages)
    assert [s.fraction for s in stages] == [0.01, 0.05, 0.25, 1.0]
    assert [s.requests for s in stages] == [2160, 10800, 54000, 216000]
    assert [s.cumulative_requests for s in stages] == [2160, 12960, 66960, 282960]
    assert [s.cumulative_hours for s in stages] == [6.0, 12.0, 18.0, 24.0]
    for s in stages:
        expected = _closed_form_ruled_out(s.cumulative_requests, 0.95)
        assert math.isclose(s.failure_rate_ruled_out, expected, rel_tol=1e-10)


def test_per_stage_hours_and_confidence() -> None:
    stages = staged_rollout(2.0, [1.0, 2.0, 4.0, 8.0], confidence=0.99)
    # 2 req/s * 3600 * fraction * hours: 72, 720, 7200, 57600.
    assert [s.requests for s in stages] == [72, 720, 7200, 57600]
    assert [s.hours for s in stages] == [1.0, 2.0, 4.0, 8.0]
    assert stages[-1].cumulative_hours == 15.0
    assert math.isclose(
        stages[0].failure_rate_ruled_out, _closed_form_ruled_out(72, 0.99), rel_tol=1e-10
    )


def test_float_rounding_never_drops_a_request() -> None:
    # 0.1 req/s * 3600 * 0.35 * 1 h = 126 exactly in decimals, 125.99999999999999 in floats.
    assert 0.1 * 3600.0 * 0.35 * 1.0 < 126
    (stage,) = staged_rollout(0.1, 1.0, fractions=(0.35,))
    assert stage.requests == 126
    # ...while a real fraction of a request is still floored: 59.18 * 3600 * 0.01 * 47.9
    # = 102,049.992 exactly (Fraction arithmetic), so 102,049 whole requests.
    assert Fraction("59.18") * 3600 * Fraction("0.01") * Fraction("47.9") == Fraction(
        102_049_992, 1000
    )
    (stage,) = staged_rollout(59.18, 47.9, fractions=(0.01,))
    assert stage.requests == 102_049


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 10_000).map(lambda x: x / 100),
    st.lists(st.integers(1, 100).map(lambda x: x / 100), min_size=1, max_size=5),
    st.integers(0, 480).map(lambda x: x / 10),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_matches_exact_decimal_floor_and_running_sums(rate, fractions, hours, c) -> None:
    stages = staged_rollout(rate, hours, fractions=fractions, confidence=c)
    total = 0
    for stage, fraction in zip(stages, fractions, strict=True):
        # Reference: the decimal inputs as exact Fractions, floored once.
        exact = Fraction(str(rate)) * 3600 * Fraction(str(fraction)) * Fraction(str(hours))
        assert stage.requests == math.floor(exact)
        total += math.floor(exact)
        assert stage.cumulative_requests == total
        expected = _closed_form_ruled_out(total, c)
        assert math.isclose(stage.failure_rate_ruled_out, expected, rel_tol=1e-10)
    rates = [s.failure_rate_ruled_out for s in stages]
    assert rates == sorted(rates, reverse=True)  # more traffic rules out more


def test_no_request_seen_rules_out_nothing() -> None:
    # Spec/brief: 1.0 when no request has been seen (0 hours, or a trickle of traffic).
    assert all(s.failure_rate_ruled_out == 1.0 for s in staged_rollout(5.0, 0.0))
    first = staged_rollout(1e-5, 1.0)[0]  # 0.00036 expected requests: floor 0
    assert first.requests == 0 and first.failure_rate_ruled_out == 1.0


def test_stage_is_frozen() -> None:
    stage = staged_rollout(1.0, 1.0)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stage.requests = 5  # type: ignore[misc]


def test_accepts_numpy_arrays() -> None:
    stages = staged_rollout(10.0, np.array([6.0, 6.0]), fractions=np.array([0.5, 1.0]))
    assert [s.requests for s in stages] == [108000, 216000]


def test_does_not_import_reference_only_modules() -> None:
    # Static: no import statement in the source names shadow or sample_size.
    tree = ast.parse(Path(rollout_module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not any("shadow" in name or "sample_size" in name for name in imported)
    # Dynamic: a fresh interpreter importing rollout loads neither module.
    code = (
        "import sys, opsmodel.rollout; "
        "bad = [m for m in sys.modules if m in ('opsmodel.shadow', 'opsmodel.sample_size')]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "10", None, True])
def test_bad_rate(bad) -> None:
    with pytest.raises(ValueError, match="request_rate_per_s"):
        staged_rollout(bad, 1.0)


@pytest.mark.parametrize(
    "bad", [-1.0, float("nan"), float("inf"), "1", None, [1.0, 2.0], [1.0, -1.0, 1.0, 1.0]]
)
def test_bad_stage_hours(bad) -> None:
    with pytest.raises(ValueError, match="stage_hours"):
        staged_rollout(10.0, bad)


@pytest.mark.parametrize("bad", [(), (0.0, 1.0), (0.5, 1.5), (float("nan"),), "abc", None, 0.5])
def test_bad_fractions(bad) -> None:
    with pytest.raises(ValueError, match="fractions"):
        staged_rollout(10.0, 1.0, fractions=bad)


@pytest.mark.parametrize("bad", [0.0, 1.0, float("nan"), "0.95", None])
def test_bad_confidence(bad) -> None:
    with pytest.raises(ValueError, match="confidence"):
        staged_rollout(10.0, 1.0, confidence=bad)
