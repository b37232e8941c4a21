"""The parameters of the platform-ROI model (Part 1), one frozen record.

This module ships to students: their own toil functions take the same ``ToilParams``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ._validation import check_real

__all__ = ["ToilParams"]


@dataclass(frozen=True)
class ToilParams:
    """Costs of running a fleet of models by hand or on a platform.

    Parameters
    ----------
    hourly_cost_usd : float >= 0, default 125.0
        Loaded engineer cost in dollars per hour (about $250k a year over 2,000 hours).
    alert_hours : float >= 0, default 50.0
        Alert triage per model per year: the O(N) term of manual toil.
    deploy_hours : float >= 0, default 20.0
        Manual deployment work per model per year, per ``log2 N``: the O(N log N) term.
    dependency_hours : float >= 0, default 10.0
        Coordination per cross-type model pair per year: the O(N^2) term.
    platform_hours : float >= 0, default 10.0
        Residual upkeep per model per year once a platform exists.
    platform_capex_usd : float >= 0, default 500_000.0
        One-off platform investment in dollars.
    horizon_years : float > 0, default 1.0
        Years over which toil is counted against the CapEx.

    Raises
    ------
    InvalidInputError
        If a field is not a real number, is NaN or infinite, is negative, or
        ``horizon_years`` is 0. The message names the field.

    Notes
    -----
    Every field is stored as a Python float, so that two records with the same values
    compare and hash equal whether built from ints or floats. A zero horizon is rejected
    because it would make every cost zero and the break-even point meaningless.

    Examples
    --------
    >>> ToilParams().hourly_cost_usd
    125.0
    >>> ToilParams(horizon_years=3).horizon_years
    3.0
    """

    hourly_cost_usd: float = 125.0
    alert_hours: float = 50.0
    deploy_hours: float = 20.0
    dependency_hours: float = 10.0
    platform_hours: float = 10.0
    platform_capex_usd: float = 500_000.0
    horizon_years: float = 1.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            # horizon_years multiplies every cost, so 0 would erase the comparison.
            low_open = field.name == "horizon_years"
            checked = check_real(field.name, value, low=0.0, low_open=low_open)
            # Frozen: bypass __setattr__ to store the normalised float.
            object.__setattr__(self, field.name, checked)
