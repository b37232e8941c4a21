"""The reference numbers of one student's track or variant, for the TA reading their ledger.

With per-student variants every student's ledger cites other numbers, so a TA cannot judge
a justification against one answer key. The packet shows beside each ledger what the
reference model gives for that student's own track and variant code: the fleet, N*, the
shadow requests and hours, the SPRT's lines and the crisis answer.
"""

from __future__ import annotations

from typing import Any

from labtools.grading.reference_checks import reference_sprt_lines
from opsmodel import crises, toil
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.variants import student_track

__all__ = ["reference_numbers"]


def _crisis_text(answer: Any) -> str:
    if isinstance(answer, float):
        return f"{answer:.4f}"
    if isinstance(answer, tuple):
        return ", ".join(answer) or "none"
    decisions = ", ".join(f"{v}: {d}" for v, d in answer["decisions"].items())
    return f"{decisions}; fleet rollback: {answer['fleet_rollback']}"


def reference_numbers(track: str, variant_code: str | None = None) -> list[tuple[str, str]]:
    """(label, value) rows of the reference's numbers for ``track`` and ``variant_code``.

    Parameters
    ----------
    track : str
        The track's name or key, as the notebook's ``TRACK`` gives it.
    variant_code : str or None
        The notebook's ``VARIANT_CODE`` (``None`` or empty: the track's own numbers).

    Returns
    -------
    list of (str, str)
        Empty when the track or code cannot be read (the packet then shows none).
    """
    try:
        t = student_track(track, variant_code or None)
    except ValueError:
        return []
    n_star = toil.break_even_models(t.heterogeneity, t.toil_params)
    n = zero_failure_sample_size(t.p_max, t.confidence)
    promote, rollback = reference_sprt_lines(t)
    return [
        # Not the code itself: the packet is blind, and a code stands for one student.
        ("numbers of", f"their own variant of {t.name}" if t.variant else f"{t.name} (no variant)"),
        ("fleet", f"{t.n_models} models, heterogeneity {t.heterogeneity:.3f}"),
        ("N* (reference)", "none" if n_star is None else str(n_star)),
        (
            "shadow test (reference)",
            f"{n:,} requests; {shadow_hours(n, t.request_rate_per_s, t.shadow_fraction):.1f} h "
            f"at the starting share, "
            f"{shadow_hours(n, t.request_rate_per_s, t.max_shadow_fraction):.1f} h at the cap",
        ),
        (
            "SPRT lines (reference)",
            f"at {t.sprt_checkpoint_requests:,} requests: promote up to {promote} failures, "
            f"roll back from {rollback}",
        ),
        ("crisis answer (reference)", _crisis_text(crises.crisis_answer(t))),
    ]
