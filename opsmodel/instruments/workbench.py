"""The three workbenches: sliders and toggles around the static instruments.

Each workbench has a static twin that returns the Figure for given values and needs no
ipywidgets (headless tests, PDF export, a notebook without widgets):

============================  ==============================  =========================
workbench (ipywidgets VBox)   static figure                   instrument
============================  ==============================  =========================
:func:`roi_workbench`         :func:`roi_figure`              :class:`OpsBreakEvenPlot`
:func:`canary_workbench`      :func:`canary_figure`           :class:`ShadowModeDashboard`
:func:`ensemble_workbench`    :func:`ensemble_figure`         :class:`EnsembleTrace`
============================  ==============================  =========================

ipywidgets is imported inside the workbench functions only, so this module imports
without it. A workbench redraws by rendering the figure to PNG and setting its Output
widget's ``outputs``: that works the same in JupyterLab, Notebook 7, Voila and a plain
Python process (where ``with output:`` capture needs a running kernel), and leaves no
figure behind in pyplot.

Errors raised by the passed functions (a student's unfinished function) are shown in the
workbench, in red, instead of vanishing into the front-end's log.

Controls show their whole description and value: descriptions take the width they need
(``description_width: "initial"``) and each control is wide enough for its description
plus its own field, since ipywidgets otherwise squeezes the field (a version menu showed
only "v").
"""

from __future__ import annotations

import base64
import html
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from ..ensemble import UPSTREAM_VERSIONS
from ..rollout import DEFAULT_FRACTIONS
from . import _common
from .breakeven_plot import CostFunctions, OpsBreakEvenPlot
from .ensemble_trace import EnsembleTrace
from .math_peek import math_peek_toggle
from .palette import colour
from .shadow_dashboard import ShadowModeDashboard

__all__ = [
    "roi_figure",
    "roi_workbench",
    "canary_figure",
    "canary_workbench",
    "ensemble_figure",
    "ensemble_workbench",
]

# Resolution of the PNG a workbench shows: sharp enough on a laptop screen, small enough
# (about 100-200 kB) to redraw smoothly over the kernel's comm channel.
_WIDGET_DPI = 90

# Width estimate of widget text: JupyterLab's widget font is 13 px, and its characters
# average under 7.5 px; the margin covers the label's padding and a checkbox's box.
_CHAR_PX = 7.5
_LABEL_MARGIN_PX = 24


def _width_for(description: str, field_px: int) -> str:
    # A control's CSS width: its description in full plus room for its own field.
    return f"{round(len(description) * _CHAR_PX) + _LABEL_MARGIN_PX + field_px}px"


# ------------------------------------------------------------------------------ helpers


def _show_figure(output: Any, fig: Figure) -> None:
    png = base64.b64encode(_common.figure_png(fig, dpi=_WIDGET_DPI)).decode("ascii")
    width, height = fig.get_size_inches() * _WIDGET_DPI
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {"image/png": png, "text/plain": f"<Figure size {width:.0f}x{height:.0f}>"},
            "metadata": {},
        },
    )


def _show_error(output: Any, exc: BaseException) -> None:
    text = "".join(traceback.format_exception_only(type(exc), exc))
    output.outputs = ({"output_type": "stream", "name": "stderr", "text": text},)


def _error_html(exc: BaseException) -> str:
    message = html.escape(f"{type(exc).__name__}: {exc}")
    return (
        f"<span style='color:{colour('alarm')}'><b>Could not draw:</b> {message}<br>"
        "Fix the function named above and move a control to redraw.</span>"
    )


def _roi_default_n_max(track: Any) -> int:
    # Fixed for the life of the workbench, so the axes stay put while N moves.
    return int(max(100, 2 * track.n_models))


def _roi_plot(
    track: Any,
    *,
    n_models: int | None,
    heterogeneity: float | None,
    n_max: int | None,
    functions: Mapping[str, Callable[..., Any] | None],
    reference: CostFunctions | Mapping[str, Callable[..., Any]] | None,
) -> OpsBreakEvenPlot:
    return OpsBreakEvenPlot.for_track(
        track,
        current_n=track.n_models if n_models is None else n_models,
        heterogeneity=track.heterogeneity if heterogeneity is None else heterogeneity,
        n_max=n_max,
        reference=reference,
        **functions,
    )


# ------------------------------------------------------------------------------ Part 1


def roi_figure(
    track: Any,
    *,
    manual_toil_usd: Callable[..., Any],
    platform_cost_usd: Callable[..., Any],
    break_even_models: Callable[..., Any] | None = None,
    manual_toil_breakdown_hours: Callable[..., Any] | None = None,
    reference: CostFunctions | Mapping[str, Callable[..., Any]] | None = None,
    n_models: int | None = None,
    heterogeneity: float | None = None,
    n_max: int | None = None,
) -> Figure:
    """The ROI workbench's figure for given slider values, without widgets.

    Parameters
    ----------
    track : Track
        The student's track (its ``toil_params``, ``n_models``, ``heterogeneity``).
    manual_toil_usd, platform_cost_usd : callable
        The cost functions to draw (the student's own in the release).
    break_even_models : callable, optional
        ``(heterogeneity, params) -> int | None``; otherwise N* is read off the grid.
    manual_toil_breakdown_hours : callable, optional
        Stacks the O(N), O(N log N) and O(N^2) terms beneath the manual line.
    reference : CostFunctions or mapping, optional
        Reference functions drawn dashed beside the student's.
    n_models : int >= 1, optional
        The N slider's value (default the track's fleet).
    heterogeneity : float in [0, 1], optional
        The heterogeneity slider's value (default the track's).
    n_max : int, optional
        Largest N plotted (default ``max(100, 2 * track.n_models)``, as the workbench).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidInputError
        If a value is out of range or a function returns something that is not a number.
    """
    return _roi_plot(
        track,
        n_models=n_models,
        heterogeneity=heterogeneity,
        n_max=_roi_default_n_max(track) if n_max is None else n_max,
        functions={
            "manual_toil_usd": manual_toil_usd,
            "platform_cost_usd": platform_cost_usd,
            "break_even_models": break_even_models,
            "manual_toil_breakdown_hours": manual_toil_breakdown_hours,
        },
        reference=reference,
    ).figure()


def roi_workbench(
    track: Any,
    *,
    manual_toil_usd: Callable[..., Any],
    platform_cost_usd: Callable[..., Any],
    break_even_models: Callable[..., Any] | None = None,
    manual_toil_breakdown_hours: Callable[..., Any] | None = None,
    reference: CostFunctions | Mapping[str, Callable[..., Any]] | None = None,
    n_max: int | None = None,
) -> Any:
    """Part 1's workbench: slide N and heterogeneity, watch the Ops cost curve.

    Parameters
    ----------
    track : Track
        The student's track.
    manual_toil_usd, platform_cost_usd, break_even_models, manual_toil_breakdown_hours, \
reference
        As in :func:`roi_figure`.
    n_max : int, optional
        Largest N on the slider and the plot (default ``max(100, 2 * track.n_models)``).

    Returns
    -------
    ipywidgets.VBox
        Controls (``IntSlider`` "Models N", ``FloatSlider`` "Heterogeneity h"), a readout
        line (``HTML``), the plot (``Output``) and the Math Peek toggle.

    Raises
    ------
    ImportError
        If ipywidgets is not installed.
    """
    import ipywidgets as widgets

    limit = _roi_default_n_max(track) if n_max is None else int(n_max)
    functions = {
        "manual_toil_usd": manual_toil_usd,
        "platform_cost_usd": platform_cost_usd,
        "break_even_models": break_even_models,
        "manual_toil_breakdown_hours": manual_toil_breakdown_hours,
    }
    style = {"description_width": "initial"}
    n_slider = widgets.IntSlider(
        value=min(track.n_models, limit),
        min=1,
        max=limit,
        step=1,
        description="Models N",
        continuous_update=False,
        style=style,
        layout=widgets.Layout(width="420px"),
    )
    h_slider = widgets.FloatSlider(
        value=round(track.heterogeneity, 2),
        min=0.0,
        max=1.0,
        step=0.01,
        description="Heterogeneity h",
        continuous_update=False,
        readout_format=".2f",
        style=style,
        layout=widgets.Layout(width="420px"),
    )
    readout = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: Any = None) -> None:
        try:
            plot = _roi_plot(
                track,
                n_models=n_slider.value,
                heterogeneity=h_slider.value,
                n_max=limit,
                functions=functions,
                reference=reference,
            )
            data = plot.data()
            _show_figure(output, plot.figure())
        except Exception as exc:  # shown to the student, not lost in the browser log
            readout.value = _error_html(exc)
            _show_error(output, exc)
            return
        index = n_slider.value - 1
        manual, platform = data.manual_usd[index], data.platform_usd[index]
        roi = manual - platform
        years = track.toil_params.horizon_years
        verdict = "the platform pays off" if roi > 0 else "manual is still cheaper"
        n_star = "none on this range" if data.n_star is None else f"{data.n_star} models"
        readout.value = (
            f"<b>N = {n_slider.value} models, h = {h_slider.value:.2f}</b>: manual toil "
            f"{_common.format_usd(manual)} vs platform {_common.format_usd(platform)} over "
            f"{years:g} year{'' if years == 1 else 's'}; ROI "
            f"<b style='color:{colour('ok' if roi > 0 else 'alarm')}'>"
            f"{'+' if roi >= 0 else ''}{_common.format_usd(roi)}</b> ({verdict}). "
            f"Break-even N* = <b>{n_star}</b>."
        )

    n_slider.observe(redraw, names="value")
    h_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [
            widgets.HTML(f"<h3>Platform ROI audit: {html.escape(track.name)}</h3>"),
            widgets.HBox([n_slider, h_slider]),
            readout,
            output,
            math_peek_toggle("roi").container,
        ]
    )


# ------------------------------------------------------------------------------ Part 2


def _dashboard(
    track: Any,
    *,
    zero_failure_sample_size: Callable[[float, float], int],
    shadow_hours: Callable[[float, float, float], float],
    confidence: float | None,
    p_max: float | None,
    request_rate_per_s: float | None,
    shadow_fraction: float | None,
    staged: bool,
    stage_hours: float | Sequence[float] | None,
    plans: Any,
    seed: int,
) -> ShadowModeDashboard:
    overrides = {
        "confidence": confidence,
        "p_max": p_max,
        "request_rate_per_s": request_rate_per_s,
        "shadow_fraction": shadow_fraction,
    }
    kwargs: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if p_max is not None:
        # The SPRT watches the same regression the clock rules out: keep the track's
        # p1/p0 ratio and put p1 at the slider's p_max.
        ratio = track.p1 / track.p0
        kwargs["p1"] = p_max
        kwargs["p0"] = p_max / ratio
    return ShadowModeDashboard.for_track(
        track,
        zero_failure_sample_size=zero_failure_sample_size,
        shadow_hours=shadow_hours,
        staged=staged,
        stage_hours=stage_hours,
        plans=plans,
        seed=seed,
        **kwargs,
    )


def canary_figure(
    track: Any,
    *,
    zero_failure_sample_size: Callable[[float, float], int],
    shadow_hours: Callable[[float, float, float], float],
    confidence: float | None = None,
    p_max: float | None = None,
    request_rate_per_s: float | None = None,
    shadow_fraction: float | None = None,
    staged: bool = True,
    stage_hours: float | Sequence[float] | None = None,
    plans: Any = None,
    seed: int = 0,
    panels: Sequence[str] | None = None,
) -> Figure:
    """The canary workbench's figure for given slider values, without widgets.

    Parameters
    ----------
    track : Track
        The student's track (its Part 2 numbers are the defaults).
    zero_failure_sample_size : callable
        ``(p_max, confidence) -> int`` (the student's own in the release).
    shadow_hours : callable
        ``(n_requests, request_rate_per_s, shadow_fraction) -> hours``.
    confidence : float in (0, 1), optional
        Target confidence (a fraction, not a percentage).
    p_max : float in (0, 1), optional
        Failure rate to rule out. When given, the SPRT's ``p1`` is set to it and ``p0``
        keeps the track's ``p1 / p0`` ratio.
    request_rate_per_s : float > 0, optional
        Fleet request rate.
    shadow_fraction : float in (0, 1], optional
        Share of traffic mirrored.
    staged : bool, default True
        Draw the staged rollout (1% -> 5% -> 25% -> 100%) on the Confidence Clock.
    stage_hours : float >= 0 or sequence of them, optional
        Length of each rollout stage in hours (default: the release cycle split evenly
        over the stages).
    plans : sequence of CanaryPlan or mapping, optional
        Plans for the radar (for instance ``CanaryPlanner.canary_plans()``).
    seed : int >= 0, default 0
        Seed of the simulated SPRT sequence.
    panels : sequence of {"clock", "radar", "sprt"}, optional
        The dashboard's panels to draw (default all three, stacked).

    Returns
    -------
    InstrumentFigure
        A matplotlib figure that a notebook cell shows as an image.

    Raises
    ------
    InvalidInputError
        If a value is out of range or a function returns something that is not a number.
    """
    return _dashboard(
        track,
        zero_failure_sample_size=zero_failure_sample_size,
        shadow_hours=shadow_hours,
        confidence=confidence,
        p_max=p_max,
        request_rate_per_s=request_rate_per_s,
        shadow_fraction=shadow_fraction,
        staged=staged,
        stage_hours=stage_hours,
        plans=plans,
        seed=seed,
    ).figure(panels)


def canary_workbench(
    track: Any,
    *,
    zero_failure_sample_size: Callable[[float, float], int],
    shadow_hours: Callable[[float, float, float], float],
    staged: bool = True,
    stage_hours: float | None = None,
    plans: Any = None,
    seed: int = 0,
) -> Any:
    """Part 2's workbench: tune the canary, read the Confidence Clock.

    Parameters
    ----------
    track : Track
        The student's track (the sliders start at its numbers).
    zero_failure_sample_size, shadow_hours : callable
        The student's functions (the readout and the clock's marker come from them).
    staged : bool, default True
        Draw the staged rollout (1% -> 5% -> 25% -> 100%) and give its stage length a
        slider.
    stage_hours : float > 0, optional
        Starting value of the stage-length slider (default: the release cycle split
        evenly over the four stages, 42 h for a one-week cycle).
    plans, seed
        As in :func:`canary_figure`.

    Returns
    -------
    ipywidgets.VBox
        Sliders "Target confidence (%)", "Failure rate p_max", "Fleet requests/s",
        "Shadow fraction" and (when staged) "Hours per rollout stage"; a readout
        (required requests, shadow hours against the release cycle, the staged
        rollout's hours); the dashboard (``Output``); Math Peek toggles (zero-failure,
        SPRT).

    Raises
    ------
    ImportError
        If ipywidgets is not installed.
    """
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    width = widgets.Layout(width="440px")
    confidence = widgets.FloatSlider(
        value=round(100.0 * track.confidence, 2),
        min=80.0,
        max=99.9,
        step=0.1,
        description="Target confidence (%)",
        readout_format=".1f",
        continuous_update=False,
        style=style,
        layout=width,
    )

    def log_slider(value: float, exponents: tuple[float, float], description: str, fmt: str) -> Any:
        return widgets.FloatLogSlider(
            value=value,
            base=10,
            min=exponents[0],
            max=exponents[1],
            step=0.05,
            description=description,
            readout_format=fmt,
            continuous_update=False,
            style=style,
            layout=width,
        )

    p_max = log_slider(track.p_max, (-7, -1), "Failure rate p_max", ".1e")
    rate = log_slider(track.request_rate_per_s, (-1, 7), "Fleet requests/s", ",.3g")
    fraction = log_slider(track.shadow_fraction, (-5, 0), "Shadow fraction", ".2e")
    rows = [widgets.HBox([confidence, p_max]), widgets.HBox([rate, fraction])]
    stage = None
    if staged:
        # From six minutes to the whole release cycle per stage, on a log scale.
        cycle = float(track.release_cycle_hours)
        start = cycle / len(DEFAULT_FRACTIONS) if stage_hours is None else float(stage_hours)
        stage = log_slider(start, (-1.0, math.log10(cycle)), "Hours per rollout stage", ".3g")
        rows.append(widgets.HBox([stage]))
    readout = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: Any = None) -> None:
        try:
            dashboard = _dashboard(
                track,
                zero_failure_sample_size=zero_failure_sample_size,
                shadow_hours=shadow_hours,
                confidence=confidence.value / 100.0,
                p_max=p_max.value,
                request_rate_per_s=rate.value,
                shadow_fraction=min(fraction.value, 1.0),
                staged=staged,
                stage_hours=None if stage is None else stage.value,
                plans=plans,
                seed=seed,
            )
            n = dashboard.required_requests()
            hours = dashboard.hours_to_target()
            staged_hours = dashboard.staged_hours_to_target()
            _show_figure(output, dashboard.figure())
        except Exception as exc:  # shown to the student, not lost in the browser log
            readout.value = _error_html(exc)
            _show_error(output, exc)
            return
        cycle = dashboard.release_cycle_hours
        readout.value = (
            f"Required: <b>{n:,}</b> failure-free requests to be "
            f"{_common.format_share(dashboard.confidence)} sure that p &lt; "
            f"{dashboard.p_max:.2g}. Shadow time at "
            f"{_common.format_share(dashboard.shadow_fraction)} of "
            f"{dashboard.request_rate_per_s:,.4g} req/s: <b>{_common.format_hours(hours)}</b> "
            f"against the {cycle:g} h release cycle: {_verdict_html(hours, cycle)}."
        )
        if staged_hours is not None:
            ramp = " &rarr; ".join(_common.format_share(f) for f in dashboard.rollout_fractions)
            readout.value += (
                f"<br>Staged rollout {ramp}, {stage.value:.3g} h per stage: "
                f"<b>{_common.format_hours(staged_hours)}</b>: "
                f"{_verdict_html(staged_hours, cycle)}."
            )

    controls = [confidence, p_max, rate, fraction] + ([stage] if stage is not None else [])
    for control in controls:
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [
            widgets.HTML(f"<h3>Canary duration: {html.escape(track.name)}</h3>"),
            *rows,
            readout,
            output,
            widgets.HBox(
                [math_peek_toggle("zero_failure").container, math_peek_toggle("sprt").container]
            ),
        ]
    )


def _verdict_html(hours: float, cycle: float) -> str:
    fits = hours <= cycle
    margin = (
        f"{_common.format_hours(cycle - hours)} to spare"
        if fits
        else f"{_common.format_hours(hours - cycle)} too long"
    )
    return (
        f"<b style='color:{colour('ok' if fits else 'alarm')}'>"
        f"{'fits' if fits else 'TOO SLOW'}</b> ({margin})"
    )


# ------------------------------------------------------------------------------ Part 3


def ensemble_figure(
    track: Any,
    *,
    skew_check: Callable[..., Mapping[str, Any]] | None,
    upstream_version: str = "v2",
    retrain: bool = False,
) -> Figure:
    """The ensemble workbench's figure for given control values, without widgets.

    Parameters
    ----------
    track : Track
        The student's track (model names and ensemble seed).
    skew_check : callable or None
        The skew check (the student's own in the release); None runs no check.
    upstream_version : {"v1", "v2", "v1-signflip"}, default "v2"
        The upstream extractor version deployed.
    retrain : bool, default False
        Whether the downstream model was retrained on it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return EnsembleTrace.for_track(track, upstream_version, retrain, skew_check=skew_check).figure()


def ensemble_workbench(
    track: Any,
    *,
    skew_check: Callable[..., Mapping[str, Any]],
    upstream_version: str = "v2",
    retrain: bool = False,
) -> Any:
    """Part 3's workbench: swap the upstream, retrain or not, run the consistency check.

    Parameters
    ----------
    track : Track
        The student's track.
    skew_check : callable
        The skew check (the student's own in the release).
    upstream_version : {"v1", "v2", "v1-signflip"}, default "v2"
        Starting value of the version selector (the Software Lead's proposal).
    retrain : bool, default False
        Starting value of the retrain toggle.

    Returns
    -------
    ipywidgets.VBox
        ``Dropdown`` "Upstream version", ``Checkbox`` "Retrain downstream", ``Checkbox``
        "Feature-store consistency check" (off: no check runs), a consistency line and a
        verdict line (``HTML``), the trace (``Output``) and the Math Peek toggle (PSI).

    Raises
    ------
    ImportError
        If ipywidgets is not installed.
    """
    import ipywidgets as widgets

    _common.check_callable("skew_check", skew_check)
    style = {"description_width": "initial"}
    version_text = f"Upstream version ({track.upstream_model})"
    # The menu's own field fits its longest option ("v1-signflip") and the arrow.
    menu_px = round(max(len(v) for v in UPSTREAM_VERSIONS) * _CHAR_PX) + 60
    version = widgets.Dropdown(
        options=list(UPSTREAM_VERSIONS),
        value=upstream_version,
        description=version_text,
        style=style,
        layout=widgets.Layout(width=_width_for(version_text, menu_px)),
    )
    retrain_text = f"Retrain downstream ({track.downstream_model})"
    retrain_box = widgets.Checkbox(
        value=bool(retrain),
        description=retrain_text,
        style=style,
        indent=False,
        layout=widgets.Layout(width=_width_for(retrain_text, 24)),
    )
    check_text = "Feature-store consistency check"
    check_box = widgets.Checkbox(
        value=True,
        description=check_text,
        style=style,
        indent=False,
        layout=widgets.Layout(width=_width_for(check_text, 24)),
    )
    consistency = widgets.HTML()
    verdict = widgets.HTML()
    output = widgets.Output()
    cache: dict[tuple[str, bool, bool], EnsembleTrace] = {}

    def redraw(_change: Any = None) -> None:
        key = (version.value, bool(retrain_box.value), bool(check_box.value))
        try:
            if key not in cache:
                cache[key] = EnsembleTrace.for_track(
                    track, key[0], key[1], skew_check=skew_check if key[2] else None
                )
            trace = cache[key]
            summary = trace.summary()
            _show_figure(output, trace.figure())
        except Exception as exc:  # shown to the student, not lost in the browser log
            consistency.value = ""
            verdict.value = _error_html(exc)
            _show_error(output, exc)
            return
        if summary["skewed"] is None:
            consistency.value = (
                f"<span style='color:{colour('alarm')}'><b>Feature-store consistency "
                "check: OFF.</b> Your skew_check is not run, so nothing compares the "
                "serving features with the training ones.</span>"
            )
        else:
            ok = not summary["skewed"]
            consistency.value = (
                f"<b>Feature-store consistency check:</b> contract "
                f"{'matches' if summary['contract_ok'] else '<b>MISMATCH</b>'}, max PSI "
                f"{summary['max_psi']:.3f} (threshold {trace.psi_threshold:g}): "
                f"<b style='color:{colour('ok' if ok else 'alarm')}'>"
                f"{'consistent' if ok else 'SKEWED'}</b>."
            )
        failing = summary["verdict"].startswith("SILENT FAILURE")
        verdict.value = (
            f"<b style='color:{colour('alarm' if failing else 'ok')}'>"
            f"{html.escape(summary['verdict'])}</b>"
        )

    for control in (version, retrain_box, check_box):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [
            widgets.HTML(f"<h3>Ensemble lockdown: {html.escape(track.name)}</h3>"),
            # Two rows: the three controls side by side are wider than a notebook.
            widgets.HBox([version]),
            widgets.HBox([retrain_box, check_box]),
            consistency,
            verdict,
            output,
            math_peek_toggle("psi").container,
        ]
    )
