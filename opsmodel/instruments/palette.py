"""The one colour palette of every instrument: Okabe-Ito, by role.

Every figure of :mod:`opsmodel.instruments` takes its colours from here, by the role a
line plays ("manual", "platform", "safety", ...), never by a literal hex code, so that one
quantity has one colour across the whole lab.

The eight colours are the Okabe-Ito set [1]_, chosen to stay distinguishable under the
common forms of colour-vision deficiency (protanopia, deuteranopia, tritanopia). Where two
roles can share a figure they get different colours; where a colour must repeat
(the student's line and the reference line of the same quantity), the line style tells
them apart (:data:`REFERENCE_LINESTYLE`).

References
----------
.. [1] M. Okabe and K. Ito, "Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people", J*Fly, 2002/2008.
   https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

from types import MappingProxyType

from .._validation import InvalidInputError

__all__ = [
    "OKABE_ITO",
    "ROLE_COLOURS",
    "PLAN_COLOURS",
    "REFERENCE_LINESTYLE",
    "colour",
]

#: The eight Okabe-Ito colours, by their published names.
OKABE_ITO: MappingProxyType[str, str] = MappingProxyType(
    {
        "black": "#000000",
        "orange": "#E69F00",
        "sky_blue": "#56B4E9",
        "bluish_green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish_purple": "#CC79A7",
    }
)

# Roles that appear in the same figure must not share a colour:
# break-even plot: manual, platform, alerts, deploy, dependencies, break_even, current;
# shadow dashboard: safety, velocity, staged, release_cycle, rollback, promote, trace, fixed_n;
# ensemble trace: probe, system, baseline, threshold, ok, alarm.
_ROLES: dict[str, str] = {
    # Part 1: the Ops cost curve
    "manual": OKABE_ITO["vermillion"],
    "platform": OKABE_ITO["blue"],
    "alerts": OKABE_ITO["orange"],
    "deploy": OKABE_ITO["sky_blue"],
    "dependencies": OKABE_ITO["reddish_purple"],
    "break_even": OKABE_ITO["black"],
    "current": OKABE_ITO["bluish_green"],
    # Part 2: the shadow-mode dashboard
    "safety": OKABE_ITO["bluish_green"],
    "velocity": OKABE_ITO["orange"],
    "staged": OKABE_ITO["reddish_purple"],
    "release_cycle": OKABE_ITO["vermillion"],
    "rollback": OKABE_ITO["vermillion"],
    "promote": OKABE_ITO["bluish_green"],
    "trace": OKABE_ITO["blue"],
    "fixed_n": OKABE_ITO["black"],
    # Part 3: the ensemble trace
    "probe": OKABE_ITO["sky_blue"],
    "system": OKABE_ITO["blue"],
    "baseline": OKABE_ITO["bluish_green"],
    "threshold": OKABE_ITO["black"],
    "ok": OKABE_ITO["bluish_green"],
    "alarm": OKABE_ITO["vermillion"],
    # text and guides
    "neutral": "#666666",
}

#: Colour of each role, read-only. See :func:`colour`.
ROLE_COLOURS: MappingProxyType[str, str] = MappingProxyType(_ROLES)

#: Colours for a list of comparable items (the canary plans of the radar), in order.
#: Yellow is left out: it is too light for a thin line on white.
PLAN_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
)

#: Line style of a reference line drawn beside the student's own (same colour, dashed).
REFERENCE_LINESTYLE: str = "--"


def colour(role: str) -> str:
    """Return the hex colour of a role.

    Parameters
    ----------
    role : str, one of the keys of :data:`ROLE_COLOURS`
        What the coloured element stands for ("manual", "platform", "safety", ...).

    Returns
    -------
    str
        A ``#RRGGBB`` hex string from the Okabe-Ito set (or grey for "neutral").

    Raises
    ------
    InvalidInputError
        If ``role`` is not a known role; the message lists the known ones.

    Examples
    --------
    >>> colour("manual")
    '#D55E00'
    """
    if not isinstance(role, str) or role not in ROLE_COLOURS:
        known = ", ".join(sorted(ROLE_COLOURS))
        raise InvalidInputError(f"role must be one of {known}, got {role!r}")
    return ROLE_COLOURS[role]
