"""The Ops cost curve (Part 1): manual toil against the ML platform, and the break-even N*.

:class:`OpsBreakEvenPlot` draws the total cost over the ROI horizon against the number of
models N: the manual-toil line, split into its O(N) alert, O(N log N) deployment and
O(N^2) dependency terms stacked beneath it (so the super-linear part shows), and the
platform line (CapEx plus the residual platform toil). It marks the break-even
point N* and the track's current fleet.

It draws the functions it is given. In the student release the notebook passes the
student's own ``manual_toil_usd`` (or ``manual_toil_hours``) and ``platform_cost_usd``; an
optional ``reference`` set is drawn dashed beside them ("your ..." against
"reference ..."). The three terms come from ``manual_toil_breakdown_hours`` when it is
given, otherwise from the Math Peek's formula at the plot's own parameters and
heterogeneity: the notebook may pass only the student's total (``manual_toil_hours``), and
the split must show all the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .._validation import InvalidInputError, check_int, check_real
from ..toil_params import ToilParams
from . import _common
from .palette import REFERENCE_LINESTYLE, colour

__all__ = ["CostFunctions", "BreakEvenData", "OpsBreakEvenPlot"]

# Upper end of the grid scanned to choose the plotted range when n_max is not given.
_AUTO_SCAN_MAX = 2000
# The plotted range reaches this factor beyond N* and the current fleet, so both sit
# inside the plot with room to see the curves diverge after the crossing.
_AUTO_MARGIN = 1.6
_AUTO_MIN_N = 40

_BREAKDOWN_TERMS: tuple[tuple[str, str, str], ...] = (
    # (attribute of the breakdown record, palette role, legend label)
    ("alerts_hours", "alerts", "alerts, $O(N)$"),
    ("deploy_hours", "deploy", r"deployments, $O(N \log N)$"),
    ("dependency_hours", "dependencies", r"dependencies, $O(N^2)$"),
)
# The student's total and the sum of the formula's terms count as the same line within
# this relative gap (float rounding of a different but equivalent expression is ~1e-15).
_SAME_TOTAL_RTOL = 1e-6
# Text sizes in points. Figures are FIGURE_WIDTH_IN = 10 inches wide and shown at 1000 px,
# so 1 pt is 1.39 px on screen: the smallest text here (10 pt) is about 14 px.
_TEXT_PT = 10.0
_TITLE_PT = 12.5
# The y axis reaches this factor above the highest line, leaving an empty strip at the
# top for the N* and fleet labels, in two rows (axes fractions).
_HEADROOM = 1.24
_STRIP_ROWS = (0.955, 0.88)
# Width of one character of a bold 10 pt label, in inches (DejaVu Sans averages about
# 0.6 em), to decide whether a label fits right of its line or goes to its left.
_CHAR_WIDTH_IN = 0.6 * _TEXT_PT / 72.0


@dataclass(frozen=True)
class CostFunctions:
    """The cost functions one set of lines is drawn from.

    The manual line needs ``manual_toil_usd(n, h, params)`` or
    ``manual_toil_hours(n, h, params)`` (converted with ``hourly_cost_usd`` and
    ``horizon_years``); the platform line needs ``platform_cost_usd(n, params)`` or
    ``platform_toil_hours(n, params)`` (``platform_capex_usd`` is added). The dollar form
    wins when both are given.

    Parameters
    ----------
    manual_toil_usd : callable or None
        ``(n_models, heterogeneity, params) -> US dollars`` over the horizon.
    platform_cost_usd : callable or None
        ``(n_models, params) -> US dollars`` (CapEx + platform toil).
    manual_toil_hours : callable or None
        ``(n_models, heterogeneity, params) -> hours per year``.
    platform_toil_hours : callable or None
        ``(n_models, params) -> hours per year``.
    manual_toil_breakdown_hours : callable or None
        ``(n_models, heterogeneity, params)`` -> a record with ``alerts_hours``,
        ``deploy_hours`` and ``dependency_hours``; when given, the three terms are stacked.
    break_even_models : callable or None
        ``(heterogeneity, params) -> int | None``; when given, N* is its answer, otherwise
        N* is read off the plotted grid.

    Raises
    ------
    InvalidInputError
        If a given field is not callable, or neither form of a line is given.
    """

    manual_toil_usd: Callable[..., Any] | None = None
    platform_cost_usd: Callable[..., Any] | None = None
    manual_toil_hours: Callable[..., Any] | None = None
    platform_toil_hours: Callable[..., Any] | None = None
    manual_toil_breakdown_hours: Callable[..., Any] | None = None
    break_even_models: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            _common.check_callable(f.name, getattr(self, f.name), required=False)
        if self.manual_toil_usd is None and self.manual_toil_hours is None:
            raise InvalidInputError(
                "manual_toil_usd must be given (or manual_toil_hours), got neither"
            )
        if self.platform_cost_usd is None and self.platform_toil_hours is None:
            raise InvalidInputError(
                "platform_cost_usd must be given (or platform_toil_hours), got neither"
            )

    @classmethod
    def coerce(cls, value: Any, *, name: str = "reference") -> CostFunctions:
        """Return ``value`` as a :class:`CostFunctions` (from itself or a mapping of names)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise InvalidInputError(
                    f"{name} has unknown function names {unknown}; allowed: {sorted(known)}"
                )
            return cls(**dict(value))
        raise InvalidInputError(
            f"{name} must be a CostFunctions or a mapping of function names, got {value!r}"
        )

    def manual_usd(self, grid: np.ndarray, heterogeneity: float, params: ToilParams) -> np.ndarray:
        """Manual toil in US dollars over the horizon at every N of ``grid``."""
        if self.manual_toil_usd is not None:
            return _common.evaluate_on_grid(
                "manual_toil_usd", self.manual_toil_usd, grid, heterogeneity, params
            )
        hours = _common.evaluate_on_grid(
            "manual_toil_hours", self.manual_toil_hours, grid, heterogeneity, params
        )
        return hours * params.hourly_cost_usd * params.horizon_years

    def platform_usd(self, grid: np.ndarray, params: ToilParams) -> np.ndarray:
        """Platform cost (CapEx + platform toil) in US dollars at every N of ``grid``."""
        if self.platform_cost_usd is not None:
            return _common.evaluate_on_grid(
                "platform_cost_usd", self.platform_cost_usd, grid, params
            )
        hours = _common.evaluate_on_grid(
            "platform_toil_hours", self.platform_toil_hours, grid, params
        )
        return params.platform_capex_usd + hours * params.hourly_cost_usd * params.horizon_years

    def breakdown_usd(
        self, grid: np.ndarray, heterogeneity: float, params: ToilParams
    ) -> Mapping[str, np.ndarray] | None:
        """The three manual-toil terms in US dollars (keyed by attribute), or None."""
        if self.manual_toil_breakdown_hours is None:
            return None
        usd_per_hour = params.hourly_cost_usd * params.horizon_years
        return MappingProxyType(
            {
                attribute: usd_per_hour
                * _common.evaluate_on_grid(
                    "manual_toil_breakdown_hours",
                    self.manual_toil_breakdown_hours,
                    grid,
                    heterogeneity,
                    params,
                    attribute=attribute,
                )
                for attribute, _role, _label in _BREAKDOWN_TERMS
            }
        )

    def n_star(self, heterogeneity: float, params: ToilParams) -> int | None:
        """N* from ``break_even_models`` (None when it is not given or finds none)."""
        if self.break_even_models is None:
            return None
        result = self.break_even_models(heterogeneity, params)
        if result is None:
            return None
        value = _common.as_real("break_even_models", result, f"h = {heterogeneity}")
        if value != math.floor(value) or value < 1:
            raise InvalidInputError(
                f"break_even_models returned {result!r}; expected an integer >= 1 or None"
            )
        return int(value)


def _formula_breakdown_usd(
    grid: np.ndarray, heterogeneity: float, params: ToilParams
) -> Mapping[str, np.ndarray]:
    # The three terms of the Math Peek's formula ("roi"), in dollars over the horizon:
    # a N, d N log2 N and k h N(N - 1)/2 hours a year. Written out here because the
    # instruments ship to students without the reference module that holds them.
    n = np.asarray(grid, dtype=float)
    n_log2_n = np.where(n > 0.0, n * np.log2(np.where(n > 0.0, n, 1.0)), 0.0)
    usd_per_hour = params.hourly_cost_usd * params.horizon_years
    return MappingProxyType(
        {
            "alerts_hours": usd_per_hour * params.alert_hours * n,
            "deploy_hours": usd_per_hour * params.deploy_hours * n_log2_n,
            "dependency_hours": usd_per_hour
            * params.dependency_hours
            * heterogeneity
            * n
            * (n - 1.0)
            / 2.0,
        }
    )


@dataclass(frozen=True)
class BreakEvenData:
    """The numbers an :class:`OpsBreakEvenPlot` draws.

    Attributes
    ----------
    n_models : ndarray of float
        The x grid, 1, 2, ..., n_max.
    manual_usd, platform_usd : ndarray of float
        The two cost lines, US dollars over the horizon.
    breakdown_usd : mapping of str to ndarray, or None
        ``alerts_hours``, ``deploy_hours``, ``dependency_hours`` terms in US dollars
        (None when the plot is drawn with ``show_terms=False``).
    breakdown_source : str
        Where the terms come from: ``"manual_toil_breakdown_hours"`` (the passed
        function), ``"formula"`` (the Math Peek's formula at the plot's parameters and
        heterogeneity) or ``"none"``.
    breakdown_matches_manual : bool or None
        Whether the three terms add up to the drawn manual line (relative gap at most
        1e-6 everywhere); None without terms. False means the manual function and the
        formula disagree.
    n_star : int or None
        Break-even number of models: the smallest N where the platform is strictly cheaper.
    n_star_source : str
        ``"break_even_models"`` (the passed function), ``"grid"`` (read off the plotted
        grid) or ``"none"`` (no crossing on the grid).
    current_n : int or None
        The fleet's current number of models.
    roi_at_current_usd : float or None
        Manual minus platform cost at ``current_n`` (from the drawn functions).
    reference_manual_usd, reference_platform_usd : ndarray or None
        The reference lines, when a reference set is given.
    reference_n_star : int or None
        N* of the reference set.
    """

    n_models: np.ndarray
    manual_usd: np.ndarray
    platform_usd: np.ndarray
    breakdown_usd: Mapping[str, np.ndarray] | None
    breakdown_source: str
    breakdown_matches_manual: bool | None
    n_star: int | None
    n_star_source: str
    current_n: int | None
    roi_at_current_usd: float | None
    reference_manual_usd: np.ndarray | None = None
    reference_platform_usd: np.ndarray | None = None
    reference_n_star: int | None = None


def _grid_n_star(grid: np.ndarray, manual: np.ndarray, platform: np.ndarray) -> int | None:
    # Strictly cheaper: an exact tie is not break-even (the spec's convention).
    cheaper = np.flatnonzero(manual > platform)
    return int(grid[cheaper[0]]) if cheaper.size else None


@dataclass(frozen=True, init=False)
class OpsBreakEvenPlot:
    """Total cost against the number of models: manual toil, platform, and N*.

    Parameters
    ----------
    heterogeneity : float in [0, 1]
        Model-type heterogeneity h (Hurlbert's PIE) the lines are drawn at.
    params : ToilParams, optional
        Cost parameters (default ``ToilParams()``).
    manual_toil_usd, platform_cost_usd, manual_toil_hours, platform_toil_hours, \
manual_toil_breakdown_hours, break_even_models : callable, keyword-only
        The functions to draw; see :class:`CostFunctions` for which are needed.
    reference : CostFunctions or mapping of name to callable, optional, keyword-only
        A second set drawn dashed beside the first, for comparison.
    n_max : int in [2, 100000], optional, keyword-only
        Largest N on the x axis. By default chosen so that N* and ``current_n`` sit inside
        the plot with room after them (at least 40).
    current_n : int >= 1, optional, keyword-only
        The fleet's current number of models, marked with its ROI.
    show_terms : bool, default True, keyword-only
        Shade manual toil's three terms (alerts O(N), deployments O(N log N),
        dependencies O(N^2)) stacked under the manual line: from
        ``manual_toil_breakdown_hours`` when it is given, otherwise from the Math Peek's
        formula at ``params`` and ``heterogeneity``.
    title : str, optional, keyword-only
        Second title line (the track's name, for instance).
    figsize : tuple of two floats > 0, default (10.0, 6.4), keyword-only
        Figure size in inches. The text is sized for the default 10-inch width, which a
        notebook shows at 1000 px without scaling.

    Raises
    ------
    InvalidInputError
        If an argument is out of range, a function is not callable, or a line has no
        function to draw it.

    Notes
    -----
    N* comes from ``break_even_models`` when it is given (an integer), otherwise it is
    the smallest grid N where the manual line lies strictly above the platform line.
    Either way it is drawn as a vertical line with ``gid="break_even"``. Every drawn
    artist carries a ``gid`` ("manual", "platform", "break_even", "break_even_label",
    "current_n", "current_label", "reference_manual", "reference_platform",
    "reference_break_even", "alerts", "deploy", "dependencies") so a test or a notebook
    can find it. The labels of N* and of the current fleet sit in a strip above the
    highest line, so they cover no curve; the legend sits below the plot.

    When the terms do not add up to the manual line drawn (a manual function that
    disagrees with the formula), the plot says so in a note above its legend
    (``gid="terms_note"``) instead of silently stacking bands that end elsewhere.

    Examples
    --------
    A made-up student's functions (the notebook passes the real ones):

    >>> def manual(n, h, params):
    ...     return 1000.0 * n**2
    >>> def platform(n, params):
    ...     return 500_000.0 + 1250.0 * n
    >>> plot = OpsBreakEvenPlot(0.5, manual_toil_usd=manual, platform_cost_usd=platform)
    >>> plot.data().n_star  # the first N with 1000 N^2 > 500,000 + 1,250 N
    23
    >>> fig = plot.figure()
    """

    heterogeneity: float
    params: ToilParams
    functions: CostFunctions
    reference: CostFunctions | None
    n_max: int | None
    current_n: int | None
    show_terms: bool
    title: str | None
    figsize: tuple[float, float]

    def __init__(
        self,
        heterogeneity: float,
        params: ToilParams | None = None,
        *,
        manual_toil_usd: Callable[..., Any] | None = None,
        platform_cost_usd: Callable[..., Any] | None = None,
        manual_toil_hours: Callable[..., Any] | None = None,
        platform_toil_hours: Callable[..., Any] | None = None,
        manual_toil_breakdown_hours: Callable[..., Any] | None = None,
        break_even_models: Callable[..., Any] | None = None,
        reference: CostFunctions | Mapping[str, Callable[..., Any]] | None = None,
        n_max: int | None = None,
        current_n: int | None = None,
        show_terms: bool = True,
        title: str | None = None,
        figsize: tuple[float, float] = (_common.FIGURE_WIDTH_IN, 6.4),
    ) -> None:
        params = ToilParams() if params is None else params
        if not isinstance(params, ToilParams):
            raise InvalidInputError(f"params must be a ToilParams instance, got {params!r}")
        if not isinstance(show_terms, (bool, np.bool_)):
            raise InvalidInputError(f"show_terms must be True or False, got {show_terms!r}")
        functions = CostFunctions(
            manual_toil_usd=manual_toil_usd,
            platform_cost_usd=platform_cost_usd,
            manual_toil_hours=manual_toil_hours,
            platform_toil_hours=platform_toil_hours,
            manual_toil_breakdown_hours=manual_toil_breakdown_hours,
            break_even_models=break_even_models,
        )
        values = {
            "heterogeneity": check_real("heterogeneity", heterogeneity, low=0.0, high=1.0),
            "params": params,
            "functions": functions,
            "reference": None if reference is None else CostFunctions.coerce(reference),
            "n_max": None if n_max is None else check_int("n_max", n_max, low=2, high=100_000),
            "current_n": None if current_n is None else check_int("current_n", current_n, low=1),
            "show_terms": bool(show_terms),
            "title": None if title is None else str(title),
            "figsize": _common.check_figsize(figsize),
        }
        # Frozen dataclass with a hand-written __init__ (keyword functions, not a record):
        # object.__setattr__ is the documented way to set fields once.
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def for_track(cls, track: Any, **kwargs: Any) -> OpsBreakEvenPlot:
        """The plot at a track's heterogeneity, parameters and fleet size.

        Parameters
        ----------
        track : Track
            A record of :mod:`opsmodel.tracks` (``heterogeneity``, ``toil_params``,
            ``n_models``, ``name``).
        **kwargs
            The functions to draw and any other keyword of :class:`OpsBreakEvenPlot`;
            ``heterogeneity``, ``current_n`` and ``title`` override the track's.
        """
        kwargs.setdefault("current_n", track.n_models)
        kwargs.setdefault("title", track.name)
        heterogeneity = kwargs.pop("heterogeneity", track.heterogeneity)
        return cls(heterogeneity, track.toil_params, **kwargs)

    # ----------------------------------------------------------------------------- data

    def _plot_range(self) -> int:
        if self.n_max is not None:
            return self.n_max
        wanted = float(_AUTO_MIN_N)
        if self.current_n is not None:
            wanted = max(wanted, _AUTO_MARGIN * self.current_n)
        scan = np.arange(1, _AUTO_SCAN_MAX + 1, dtype=float)
        for functions in (self.functions, self.reference):
            if functions is None:
                continue
            n_star = functions.n_star(self.heterogeneity, self.params)
            if n_star is None:
                n_star = _grid_n_star(
                    scan,
                    functions.manual_usd(scan, self.heterogeneity, self.params),
                    functions.platform_usd(scan, self.params),
                )
            if n_star is not None:
                wanted = max(wanted, _AUTO_MARGIN * n_star)
        return int(min(math.ceil(wanted), _AUTO_SCAN_MAX))

    def data(self) -> BreakEvenData:
        """Evaluate the passed functions on the plotted grid.

        Returns
        -------
        BreakEvenData
            The lines, N* and the ROI at the current fleet, exactly as drawn.
        """
        grid = np.arange(1, self._plot_range() + 1, dtype=float)
        h, params = self.heterogeneity, self.params
        manual = self.functions.manual_usd(grid, h, params)
        platform = self.functions.platform_usd(grid, params)
        n_star = self.functions.n_star(h, params)
        source = "break_even_models"
        if self.functions.break_even_models is None:
            n_star = _grid_n_star(grid, manual, platform)
            source = "grid" if n_star is not None else "none"
        elif n_star is None:
            source = "none"
        roi = None
        if self.current_n is not None:
            point = np.array([float(self.current_n)])
            roi = float(
                self.functions.manual_usd(point, h, params)[0]
                - self.functions.platform_usd(point, params)[0]
            )
        ref_manual = ref_platform = ref_n_star = None
        if self.reference is not None:
            ref_manual = self.reference.manual_usd(grid, h, params)
            ref_platform = self.reference.platform_usd(grid, params)
            ref_n_star = self.reference.n_star(h, params)
            if self.reference.break_even_models is None:
                ref_n_star = _grid_n_star(grid, ref_manual, ref_platform)
        breakdown, breakdown_source, matches = None, "none", None
        if self.show_terms:
            breakdown = self.functions.breakdown_usd(grid, h, params)
            breakdown_source = "manual_toil_breakdown_hours"
            if breakdown is None:
                breakdown = _formula_breakdown_usd(grid, h, params)
                breakdown_source = "formula"
            total = sum(breakdown[attr] for attr, _role, _label in _BREAKDOWN_TERMS)
            matches = bool(np.allclose(total, manual, rtol=_SAME_TOTAL_RTOL, atol=1e-6))
        return BreakEvenData(
            n_models=grid,
            manual_usd=manual,
            platform_usd=platform,
            breakdown_usd=breakdown,
            breakdown_source=breakdown_source,
            breakdown_matches_manual=matches,
            n_star=n_star,
            n_star_source=source,
            current_n=self.current_n,
            roi_at_current_usd=roi,
            reference_manual_usd=ref_manual,
            reference_platform_usd=ref_platform,
            reference_n_star=ref_n_star,
        )

    # -------------------------------------------------------------------------- drawing

    def figure(self) -> _common.InstrumentFigure:
        """Draw the cost curve.

        Returns
        -------
        InstrumentFigure
            A new matplotlib figure (object API, not registered with pyplot) with one
            Axes; a notebook cell ending with it shows it as an image.
        """
        d = self.data()
        fig = _common.new_figure(self.figsize)
        ax = fig.add_subplot()
        grid = d.n_models
        # With a reference beside them, the passed functions' lines say whose they are.
        mine = "your " if self.reference is not None else ""

        manual_label = "manual toil (total)"
        platform_label = "platform (CapEx + toil)"
        ax.plot(
            grid,
            d.manual_usd,
            color=colour("manual"),
            linewidth=2.8,
            label=mine + manual_label,
            gid="manual",
            zorder=3,
        )
        if d.breakdown_usd is not None:
            self._draw_terms(ax, d)
        ax.plot(
            grid,
            d.platform_usd,
            color=colour("platform"),
            linewidth=2.8,
            label=mine + platform_label,
            gid="platform",
            zorder=3,
        )
        if d.reference_manual_usd is not None and d.reference_platform_usd is not None:
            ax.plot(
                grid,
                d.reference_manual_usd,
                color=colour("manual"),
                linestyle=REFERENCE_LINESTYLE,
                linewidth=1.8,
                label=f"reference {manual_label}",
                gid="reference_manual",
                zorder=3,
            )
            ax.plot(
                grid,
                d.reference_platform_usd,
                color=colour("platform"),
                linestyle=REFERENCE_LINESTYLE,
                linewidth=1.8,
                label=f"reference {platform_label}",
                gid="reference_platform",
                zorder=3,
            )

        # Every drawn line fits, the reference's and the stacked terms' too (a student's
        # manual line may run lower than the formula's terms add up to).
        drawn = [d.manual_usd, d.platform_usd, d.reference_manual_usd, d.reference_platform_usd]
        if d.breakdown_usd is not None:
            drawn.append(sum(d.breakdown_usd[attr] for attr, _r, _l in _BREAKDOWN_TERMS))
        top = float(max(np.max(y) for y in drawn if y is not None))
        ax.set_xlim(0, grid[-1])
        ax.set_ylim(0, _HEADROOM * top if top > 0 else 1.0)
        self._mark_n_star(ax, d)
        self._mark_current(ax, d)

        ax.yaxis.set_major_formatter(_common.usd_formatter())
        ax.tick_params(labelsize=_TEXT_PT)
        ax.set_xlabel("Number of models N (models in the fleet)", fontsize=_TEXT_PT + 1)
        years = self.params.horizon_years
        ax.set_ylabel(
            _common.escape_dollars(
                f"Total cost over {years:g} year{'' if years == 1 else 's'} (US$)"
            ),
            fontsize=_TEXT_PT + 1,
        )
        heading = "Ops cost curve: manual toil vs. ML platform"
        detail = f"heterogeneity h = {self.heterogeneity:.2f}"
        if self.title:
            detail = f"{self.title}, {detail}"
        ax.set_title(f"{heading}\n{detail}", fontsize=_TITLE_PT)
        ax.grid(True, alpha=0.3)
        # The legend lists the manual total, then its three terms top-down as they are
        # stacked (matplotlib would list them bottom-up), then the rest.
        handles, labels = ax.get_legend_handles_labels()
        stacked = {role: i for i, (_a, role, _l) in enumerate(_BREAKDOWN_TERMS)}

        def rank(item: tuple[Any, str]) -> tuple[int, int]:
            gid = item[0].get_gid()
            if gid == "manual":
                return (0, 0)
            if gid in stacked:
                return (1, -stacked[gid])
            return (2, 0)

        ordered = sorted(zip(handles, labels, strict=True), key=rank)
        # Below the plot, not on it: inside, it hid the N* line of small fleets. One row
        # when it fits the width (five entries), else three columns.
        legend = fig.legend(
            [h for h, _l in ordered],
            [lab for _h, lab in ordered],
            loc="outside lower center",
            ncol=len(ordered) if len(ordered) <= 5 else 3,
            fontsize=_TEXT_PT,
            frameon=False,
            columnspacing=1.2,
            handlelength=1.6,
            handletextpad=0.5,
        )
        if d.breakdown_matches_manual is False:
            # Said where the terms are named, in the student's terms: the shaded bands
            # and the manual line come from two different sources that disagree.
            where = (
                "the formula's three terms (Math Peek)"
                if d.breakdown_source == "formula"
                else "your manual_toil_breakdown_hours"
            )
            legend.set_title(
                f"Shaded: {where} at h = {self.heterogeneity:.2f}.\nThey do not add up "
                "to your manual line: check your manual toil against the formula.",
                prop={"size": _TEXT_PT, "weight": "bold"},
            )
            legend.get_title().set_color(colour("alarm"))
            legend.get_title().set_gid("terms_note")
        return fig

    def _draw_terms(self, ax: Any, d: BreakEvenData) -> None:
        assert d.breakdown_usd is not None
        terms = [d.breakdown_usd[attr] for attr, _role, _label in _BREAKDOWN_TERMS]
        areas = ax.stackplot(
            d.n_models,
            *terms,
            colors=[colour(role) for _attr, role, _label in _BREAKDOWN_TERMS],
            labels=[label for _attr, _role, label in _BREAKDOWN_TERMS],
            alpha=0.45,
            linewidth=0.0,
            zorder=1,
        )
        for area, (_attr, role, _label) in zip(areas, _BREAKDOWN_TERMS, strict=True):
            area.set_gid(role)

    def _strip_label(
        self, ax: Any, d: BreakEvenData, x: float, row: int, text: str, role: str, gid: str
    ) -> None:
        # Labels live in the strip above the highest line (the y limit leaves it empty),
        # one row each, beside their vertical line: they never cover a curve or a band.
        # Right of the line, or left of it when the label would run past the right edge.
        x_share = x / d.n_models[-1]
        width_share = len(text) * _CHAR_WIDTH_IN / (0.86 * self.figsize[0])
        right_side = x_share + width_share <= 0.98
        ax.annotate(
            _common.escape_dollars(text),
            xy=(x, _STRIP_ROWS[row]),
            xycoords=ax.get_xaxis_transform(),
            xytext=(6 if right_side else -6, 0),
            textcoords="offset points",
            ha="left" if right_side else "right",
            va="center",
            fontsize=_TEXT_PT,
            fontweight="bold",
            color=colour(role),
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none"},
            gid=gid,
            zorder=5,
        )

    def _mark_n_star(self, ax: Any, d: BreakEvenData) -> None:
        if d.n_star is not None and d.n_star <= d.n_models[-1]:
            ax.axvline(
                d.n_star,
                color=colour("break_even"),
                linestyle="--",
                linewidth=1.6,
                gid="break_even",
            )
            ax.axvspan(d.n_star, d.n_models[-1], color=colour("platform"), alpha=0.05)
            index = int(np.searchsorted(d.n_models, d.n_star))
            ax.plot(
                [d.n_star],
                [d.platform_usd[index]],
                marker="o",
                markersize=8,
                color=colour("break_even"),
                linestyle="none",
                gid="break_even_point",
                zorder=4,
            )
            self._strip_label(
                ax,
                d,
                d.n_star,
                0,
                f"N* = {d.n_star}: platform cheaper from here",
                "break_even",
                "break_even_label",
            )
        else:
            note = (
                f"N* = {d.n_star}: beyond the plotted range"
                if d.n_star is not None
                else "no break-even on this range"
            )
            ax.text(
                0.99,
                _STRIP_ROWS[0],
                note,
                transform=ax.transAxes,
                ha="right",
                va="center",
                fontsize=_TEXT_PT,
                fontweight="bold",
                color=colour("break_even"),
                gid="break_even_label",
            )
        if d.reference_n_star is not None and d.reference_n_star <= d.n_models[-1]:
            ax.axvline(
                d.reference_n_star,
                color=colour("neutral"),
                linestyle=":",
                linewidth=1.6,
                label=f"reference N* = {d.reference_n_star}",
                gid="reference_break_even",
            )

    def _mark_current(self, ax: Any, d: BreakEvenData) -> None:
        if d.current_n is None or d.roi_at_current_usd is None:
            return
        if d.current_n > d.n_models[-1]:
            return
        ax.axvline(
            d.current_n,
            color=colour("current"),
            linestyle="-.",
            linewidth=1.6,
            gid="current_n",
        )
        # The ROI is the vertical gap between the two lines at the current fleet.
        index = int(np.searchsorted(d.n_models, d.current_n))
        ax.annotate(
            "",
            xy=(d.current_n, d.manual_usd[index]),
            xytext=(d.current_n, d.platform_usd[index]),
            arrowprops={"arrowstyle": "<->", "color": colour("current"), "linewidth": 1.8},
            zorder=4,
        )
        roi = d.roi_at_current_usd
        sign = "+" if roi >= 0 else ""
        self._strip_label(
            ax,
            d,
            d.current_n,
            1,
            f"your fleet: N = {d.current_n}, ROI = {sign}{_common.format_usd(roi)}",
            "current",
            "current_label",
        )

    def save(self, path: str | Path, *, dpi: float = 150) -> Path:
        """Draw the figure and save it (format from the suffix, PNG by default).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        return _common.save_figure(self.figure(), path, dpi=dpi)

    def _repr_png_(self) -> bytes:
        # Shown as an image in a notebook even when no matplotlib backend is set up.
        return _common.figure_png(self.figure())
