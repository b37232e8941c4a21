"""Tests of opsmodel.instruments: the plots, the workbenches and the Math Peek.

What is checked, and against what:
- every figure renders headless (Agg) to a valid PNG for each of the four tracks, and a
  notebook shows it as an image without a magic (checked in a real kernel with nbclient);
- no text of any figure is smaller than 9 px when the figure is shown 1000 px wide;
- the drawn data are the passed functions' values, read back from the Axes' artists, and
  agree with a plain-Python formula of the spec (math.log2, a loop), not the code path;
- a different "student" function changes the drawn line; a scalar-only one draws too;
- the SPRT trace's stop agrees with a plain request-by-request loop of Wald's rule;
- the workbenches react to control changes; the package imports without ipywidgets and
  without the reference-only modules (in a subprocess);
- bad input raises ValueError naming the argument.
"""

from __future__ import annotations

import ast
import base64
import doctest
import importlib
import io
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless, whatever MPLBACKEND says

import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from nbclient import NotebookClient
from PIL import Image

import opsmodel.instruments as instruments
from opsmodel import toil
from opsmodel.ensemble import run_ensemble
from opsmodel.instruments import (
    PANELS,
    TOPICS,
    CanaryPlan,
    EnsembleTrace,
    InstrumentFigure,
    OpsBreakEvenPlot,
    ShadowModeDashboard,
    canary_figure,
    canary_workbench,
    colour,
    ensemble_figure,
    ensemble_workbench,
    math_peek,
    math_peek_toggle,
    radar_scores,
    roi_figure,
    roi_workbench,
    sprt_trace,
)
from opsmodel.instruments.palette import OKABE_ITO, ROLE_COLOURS
from opsmodel.sample_size import zero_failure_sample_size
from opsmodel.shadow import shadow_hours
from opsmodel.skew import skew_check
from opsmodel.toil_params import ToilParams
from opsmodel.tracks import TRACKS, get_track

TRACK_KEYS = sorted(TRACKS)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REFERENCE_ONLY = ("toil", "sample_size", "shadow", "psi", "population_stability", "skew", "crises")

ROI_FUNCTIONS = {
    "manual_toil_usd": toil.manual_toil_usd,
    "platform_cost_usd": toil.platform_cost_usd,
    "break_even_models": toil.break_even_models,
    "manual_toil_breakdown_hours": toil.manual_toil_breakdown_hours,
}
CANARY_FUNCTIONS = {
    "zero_failure_sample_size": zero_failure_sample_size,
    "shadow_hours": shadow_hours,
}


# ------------------------------------------------------------------ independent formulas


def _manual_usd_by_hand(n: int, h: float, p: ToilParams) -> float:
    """The spec's manual toil in dollars, one N at a time with math.log2."""
    n_log_n = 0.0 if n == 0 else n * math.log2(n)
    hours = p.alert_hours * n + p.deploy_hours * n_log_n + p.dependency_hours * h * n * (n - 1) / 2
    return hours * p.hourly_cost_usd * p.horizon_years


def _platform_usd_by_hand(n: int, p: ToilParams) -> float:
    """The spec's platform cost: CapEx + platform hours x cost x horizon."""
    return p.platform_capex_usd + p.platform_hours * n * p.hourly_cost_usd * p.horizon_years


def _break_even_by_loop(h: float, p: ToilParams, n_max: int = 10_000) -> int | None:
    """Smallest N >= 1 where the platform is strictly cheaper, by walking N upwards."""
    for n in range(1, n_max + 1):
        if _manual_usd_by_hand(n, h, p) > _platform_usd_by_hand(n, p):
            return n
    return None


def _sprt_stop_by_loop(
    failures: set[int], max_n: int, p0: float, p1: float, alpha: float, beta: float
) -> tuple[str, int]:
    """Wald's SPRT request by request: the first n where the LLR crosses a boundary."""
    log_a = math.log((1 - beta) / alpha)
    log_b = math.log(beta / (1 - alpha))
    d = 0
    for n in range(1, max_n + 1):
        d += n in failures
        llr = d * math.log(p1 / p0) + (n - d) * math.log((1 - p1) / (1 - p0))
        if llr >= log_a:
            return "rollback", n
        if llr <= log_b:
            return "promote", n
    return "continue", max_n


# ------------------------------------------------------------------------------ helpers


def _lines(fig: Figure, gid: str) -> list[Any]:
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]


def _one_line(fig: Figure, gid: str) -> Any:
    found = _lines(fig, gid)
    assert len(found) == 1, f"expected one line with gid {gid!r}, found {len(found)}"
    return found[0]


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)
    with Image.open(path) as image:
        image.verify()  # raises on a truncated or corrupt file


def _walk(widget: Any) -> list[Any]:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(_walk(child))
    return found


def _control(container: Any, description: str) -> Any:
    matches = [w for w in _walk(container) if getattr(w, "description", None) == description]
    assert len(matches) == 1, f"no single control {description!r}"
    return matches[0]


def _of_type(container: Any, name: str) -> list[Any]:
    return [w for w in _walk(container) if type(w).__name__ == name]


def _png_of(output: Any) -> str:
    (item,) = output.outputs
    return item["data"]["image/png"]


# -------------------------------------------------------------- every figure, every track


def _instrument_figures(track: Any) -> dict[str, Figure]:
    return {
        "breakeven": OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).figure(),
        "shadow": ShadowModeDashboard.for_track(
            track, stage_hours=12.0, **CANARY_FUNCTIONS
        ).figure(),
        "ensemble": EnsembleTrace.for_track(track, "v2", False, skew_check=skew_check).figure(),
    }


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_every_instrument_renders_to_png_for_every_track(key: str, tmp_path: Path) -> None:
    track = get_track(key)
    for name, fig in _instrument_figures(track).items():
        assert isinstance(fig, Figure)
        path = tmp_path / f"{key}_{name}.png"
        fig.savefig(path, dpi=30)
        _assert_png(path)


def test_static_workbench_figures_render_to_png(tmp_path: Path) -> None:
    # Thin wrappers over the instruments above, at values other than the track's.
    track = get_track("mobile_nomad")
    figures = {
        "roi": roi_figure(track, n_models=7, heterogeneity=0.3, **ROI_FUNCTIONS),
        "canary": canary_figure(track, shadow_fraction=1.0, p_max=0.01, **CANARY_FUNCTIONS),
        "ensemble": ensemble_figure(track, skew_check=skew_check, upstream_version="v1-signflip"),
    }
    for name, fig in figures.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=30)
        _assert_png(path)
    assert _one_line(figures["roi"], "current_n").get_xdata()[0] == 7
    n = zero_failure_sample_size(0.01, track.confidence)
    expected_hours = shadow_hours(n, track.request_rate_per_s, 1.0)
    assert _one_line(figures["canary"], "target_reached").get_xdata()[0] == expected_hours


def test_save_methods_write_png(tmp_path: Path) -> None:
    track = get_track("tiny_pioneer")
    written = [
        OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).save(tmp_path / "a.png", dpi=30),
        ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS).save(tmp_path / "b", dpi=30),
        EnsembleTrace.for_track(track, "v1", True).save(tmp_path / "c.png", dpi=30),
    ]
    for path in written:
        _assert_png(path)


def test_instruments_have_png_repr() -> None:
    # A notebook shows the instrument itself as an image, with no backend set up.
    track = get_track("mobile_nomad")
    png = EnsembleTrace.for_track(track, "v1", False)._repr_png_()
    assert png.startswith(PNG_MAGIC)


def test_figures_do_not_touch_pyplot() -> None:
    # Built with the object API: nothing registered with pyplot, so widget redraws leak
    # no figures (pyplot is imported here only to look).
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    OpsBreakEvenPlot.for_track(get_track("cloud_titan"), **ROI_FUNCTIONS).figure()
    assert plt.get_fignums() == before


# ----------------------------------------------------------- shown as images, and legible

# A notebook's output area at JupyterLab's default width shows a figure about 1000 px wide:
# wider figures are scaled down to it (a 19-inch figure's 9 pt text came out near 5 px).
DISPLAY_PX = 1000
MIN_TEXT_PX = 9.0


def _text_px_at_display_width(fig: Figure) -> list[tuple[float, str]]:
    """(pixel size, text) of every drawn Text when the figure is shown DISPLAY_PX wide.

    A font of s points is s/72 inches; the figure's W inches become DISPLAY_PX pixels, so
    the text is s/72 * DISPLAY_PX/W pixels tall, whatever dpi it is rendered at.
    """
    fig.draw_without_rendering()  # creates the tick labels and runs the layout
    width_in = fig.get_size_inches()[0]
    return [
        (text.get_fontsize() * DISPLAY_PX / (72.0 * width_in), text.get_text())
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]


def _every_figure(track: Any) -> dict[str, Figure]:
    """Every instrument's figure and the workbenches' static twins, at the track's values."""
    return {
        "breakeven": OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).figure(),
        "breakeven_hours_only": OpsBreakEvenPlot.for_track(
            track,
            manual_toil_hours=toil.manual_toil_hours,
            platform_cost_usd=toil.platform_cost_usd,
            reference=ROI_FUNCTIONS,
        ).figure(),
        "shadow": ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS).figure(),
        "shadow_clock": ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS).figure(
            panels=["clock"]
        ),
        "ensemble_v2": EnsembleTrace.for_track(track, "v2", False, skew_check=skew_check).figure(),
        "ensemble_signflip": EnsembleTrace.for_track(
            track, "v1-signflip", False, skew_check=skew_check
        ).figure(),
        "ensemble_no_check": EnsembleTrace.for_track(track, "v2", False).figure(),
        "roi_figure": roi_figure(track, **ROI_FUNCTIONS),
        "canary_figure": canary_figure(track, **CANARY_FUNCTIONS),
        "ensemble_figure": ensemble_figure(track, skew_check=skew_check),
    }


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_no_text_smaller_than_9_px_when_shown_1000_px_wide(key: str) -> None:
    for name, fig in _every_figure(get_track(key)).items():
        sizes = _text_px_at_display_width(fig)
        assert len(sizes) > 10, name  # ticks, labels, titles, legends were all walked
        too_small = [(round(px, 1), text[:40]) for px, text in sizes if px < MIN_TEXT_PX]
        assert not too_small, (name, too_small)


def test_figures_are_as_wide_as_the_notebook_shows_them() -> None:
    # 10 inches at the 100 dpi of the notebook PNG: 1000 px, shown unscaled.
    for name, fig in _every_figure(get_track("edge_guardian")).items():
        assert fig.get_size_inches()[0] == pytest.approx(10.0), name
        assert isinstance(fig, InstrumentFigure), name
    png = _every_figure(get_track("edge_guardian"))["breakeven"]._repr_png_()
    with Image.open(io.BytesIO(png)) as image:
        assert image.size[0] == DISPLAY_PX


def test_a_figure_returned_by_figure_displays_as_a_png() -> None:
    # IPython asks the object itself, whatever the matplotlib backend: the bundle has a
    # PNG (base64, as a notebook stores it) beside the text repr.
    from IPython.core.formatters import DisplayFormatter

    fig = EnsembleTrace.for_track(get_track("tiny_pioneer"), "v1", True).figure()
    bundle = fig._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    assert "size 1000x780" in bundle["text/plain"]
    data, _metadata = DisplayFormatter().format(fig)
    assert {"image/png", "text/plain"} <= set(data)


@pytest.mark.slow
def test_cells_ending_in_an_instrument_or_its_figure_show_images_in_a_real_kernel(
    tmp_path: Path,
) -> None:
    # As in the lab: ipykernel with matplotlib-inline, no %matplotlib magic. A bare
    # Figure() is the control: it shows only as text, which is the bug being guarded.
    repo = Path(__file__).resolve().parents[1]
    cells = [
        f"import sys\nsys.path.insert(0, {str(repo)!r})\n"
        "from matplotlib.figure import Figure\n"
        "from opsmodel.instruments import EnsembleTrace, OpsBreakEvenPlot\n"
        "from opsmodel.tracks import get_track\n"
        "track = get_track('tiny_pioneer')\n"
        "def manual(n, h, p):\n    return 1000.0 * n**2\n"
        "def platform(n, p):\n    return 500_000.0 + 1250.0 * n",
        "OpsBreakEvenPlot.for_track(track, manual_toil_usd=manual, platform_cost_usd=platform)",
        "OpsBreakEvenPlot.for_track(track, manual_toil_usd=manual, "
        "platform_cost_usd=platform).figure()",
        "EnsembleTrace.for_track(track, 'v2', False).figure()",
        "import matplotlib.pyplot as plt  # pyplot loaded: still one image, not two\n"
        "EnsembleTrace.for_track(track, 'v1', True).figure()",
        "bare = Figure(); bare.add_subplot(); bare",
    ]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    for index in (1, 2, 3, 4):
        pngs = [out for out in outputs[index] if "image/png" in out.get("data", {})]
        assert len(pngs) == 1, (cells[index], outputs[index])
        assert base64.b64decode(pngs[0]["data"]["image/png"]).startswith(PNG_MAGIC)
    assert "image/png" not in outputs[5][0]["data"]  # the bare Figure: text only


# ------------------------------------------------------------------- Part 1: break-even


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_breakeven_lines_are_the_passed_functions(key: str) -> None:
    track = get_track(key)
    params, h = track.toil_params, track.heterogeneity
    fig = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).figure()
    platform = _one_line(fig, "platform")
    manual = _one_line(fig, "manual")
    n = np.asarray(platform.get_xdata(), dtype=float)
    assert n[0] == 1 and np.all(np.diff(n) == 1)
    # the passed function on the drawn grid, exactly
    np.testing.assert_array_equal(platform.get_ydata(), toil.platform_cost_usd(n, params))
    np.testing.assert_array_equal(manual.get_ydata(), toil.manual_toil_usd(n, h, params))
    # and the spec's formula, by hand (float rounding differs: rtol 1e-12)
    by_hand_manual = [_manual_usd_by_hand(int(x), h, params) for x in n]
    by_hand_platform = [_platform_usd_by_hand(int(x), params) for x in n]
    np.testing.assert_allclose(manual.get_ydata(), by_hand_manual, rtol=1e-12)
    np.testing.assert_allclose(platform.get_ydata(), by_hand_platform, rtol=1e-12)


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_breakeven_marker_sits_at_break_even_models(key: str) -> None:
    track = get_track(key)
    params, h = track.toil_params, track.heterogeneity
    plot = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS)
    n_star = _one_line(plot.figure(), "break_even").get_xdata()
    expected = toil.break_even_models(h, params)
    assert list(n_star) == [expected, expected]
    # the same N* by walking N upwards with the spec's formulas
    assert expected == _break_even_by_loop(h, params)
    assert plot.data().n_star_source == "break_even_models"


def test_breakeven_marker_found_on_grid_without_break_even_function() -> None:
    track = get_track("mobile_nomad")
    params, h = track.toil_params, track.heterogeneity
    plot = OpsBreakEvenPlot.for_track(
        track, manual_toil_usd=toil.manual_toil_usd, platform_cost_usd=toil.platform_cost_usd
    )
    data = plot.data()
    assert data.n_star_source == "grid"
    assert data.n_star == _break_even_by_loop(h, params)
    assert _one_line(plot.figure(), "break_even").get_xdata()[0] == data.n_star


def test_breakeven_notes_when_n_star_is_off_the_plot() -> None:
    track = get_track("cloud_titan")
    # N* = 19 exists but the plot stops at N = 10: a note, no vertical line.
    short = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS, n_max=10, current_n=5).figure()
    texts = [t.get_text() for ax in short.axes for t in ax.texts]
    star = toil.break_even_models(track.heterogeneity, track.toil_params)
    assert f"N* = {star}: beyond the plotted range" in texts
    assert not _lines(short, "break_even")
    # A platform so dear that manual work stays cheaper on the whole grid: no N*.
    dear = ToilParams(platform_capex_usd=1e12)
    data = OpsBreakEvenPlot(
        0.0,
        dear,
        manual_toil_usd=toil.manual_toil_usd,
        platform_cost_usd=toil.platform_cost_usd,
        n_max=50,
    )
    assert data.data().n_star is None and data.data().n_star_source == "none"
    texts = [t.get_text() for ax in data.figure().axes for t in ax.texts]
    assert "no break-even on this range" in texts


def test_breakeven_stack_is_the_breakdown_in_dollars() -> None:
    track = get_track("edge_guardian")
    p, h = track.toil_params, track.heterogeneity
    data = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).data()
    n = data.n_models
    usd = p.hourly_cost_usd * p.horizon_years
    # the three terms of the spec, by hand
    np.testing.assert_allclose(data.breakdown_usd["alerts_hours"], p.alert_hours * n * usd)
    np.testing.assert_allclose(
        data.breakdown_usd["deploy_hours"], [p.deploy_hours * x * math.log2(x) * usd for x in n]
    )
    np.testing.assert_allclose(
        data.breakdown_usd["dependency_hours"], p.dependency_hours * h * n * (n - 1) / 2 * usd
    )
    fig = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).figure()
    gids = {c.get_gid() for ax in fig.axes for c in ax.collections}
    assert {"alerts", "deploy", "dependencies"} <= gids


def _legend_texts(fig: Figure) -> list[str]:
    """Every legend entry of the figure, its subfigures' too."""
    return [t.get_text() for legend in fig.findobj(Legend) for t in legend.get_texts()]


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_breakeven_splits_a_bare_total_into_the_formulas_three_terms(key: str) -> None:
    # The notebook passes the student's manual_toil_hours only: the three terms come
    # from the Math Peek's formula at the track's numbers, and add up to the total.
    track = get_track(key)
    p, h = track.toil_params, track.heterogeneity
    plot = OpsBreakEvenPlot.for_track(
        track,
        manual_toil_hours=toil.manual_toil_hours,
        platform_cost_usd=toil.platform_cost_usd,
        break_even_models=toil.break_even_models,
    )
    data = plot.data()
    assert data.breakdown_source == "formula" and data.breakdown_matches_manual is True
    usd = p.hourly_cost_usd * p.horizon_years
    by_hand = {
        "alerts_hours": [p.alert_hours * x * usd for x in data.n_models],
        "deploy_hours": [p.deploy_hours * x * math.log2(x) * usd for x in data.n_models],
        "dependency_hours": [p.dependency_hours * h * x * (x - 1) / 2 * usd for x in data.n_models],
    }
    for term, expected in by_hand.items():
        np.testing.assert_allclose(data.breakdown_usd[term], expected, rtol=1e-12, atol=1e-9)
    # the stack's top is the manual line (the spec's total, by hand)
    total = sum(np.asarray(v) for v in by_hand.values())
    np.testing.assert_allclose(
        total, [_manual_usd_by_hand(int(x), h, p) for x in data.n_models], rtol=1e-12
    )
    fig = plot.figure()
    gids = {c.get_gid() for ax in fig.axes for c in ax.collections}
    assert {"alerts", "deploy", "dependencies"} <= gids
    labels = _legend_texts(fig)
    # named in the legend, top-down as stacked, right under the manual total
    assert labels[:4] == [
        "manual toil (total)",
        r"dependencies, $O(N^2)$",
        r"deployments, $O(N \log N)$",
        r"alerts, $O(N)$",
    ]
    assert not [t for t in fig.findobj(Text) if t.get_gid() == "terms_note"]


def test_breakeven_says_when_the_terms_do_not_add_up_to_the_students_total() -> None:
    track = get_track("mobile_nomad")

    def forgot_dependencies(n: Any, h: float, p: ToilParams) -> Any:
        n = np.asarray(n, dtype=float)
        return p.alert_hours * n + p.deploy_hours * n * np.log2(n)

    plot = OpsBreakEvenPlot.for_track(
        track, manual_toil_hours=forgot_dependencies, platform_cost_usd=toil.platform_cost_usd
    )
    assert plot.data().breakdown_matches_manual is False
    (note,) = [t for t in plot.figure().findobj(Text) if t.get_gid() == "terms_note"]
    assert "do not add up to your manual line" in note.get_text()


def test_breakeven_terms_can_be_turned_off_and_a_passed_breakdown_wins() -> None:
    track = get_track("cloud_titan")
    off = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS, show_terms=False)
    assert off.data().breakdown_usd is None and off.data().breakdown_source == "none"
    gids = {c.get_gid() for ax in off.figure().axes for c in ax.collections}
    assert not gids & {"alerts", "deploy", "dependencies"}

    # A passed breakdown function is drawn as given (here: every term doubled).
    def doubled(n: Any, h: float, p: ToilParams) -> Any:
        b = toil.manual_toil_breakdown_hours(n, h, p)
        return type(b)(2 * b.alerts_hours, 2 * b.deploy_hours, 2 * b.dependency_hours)

    functions = {**ROI_FUNCTIONS, "manual_toil_breakdown_hours": doubled}
    data = OpsBreakEvenPlot.for_track(track, **functions).data()
    assert data.breakdown_source == "manual_toil_breakdown_hours"
    assert data.breakdown_matches_manual is False
    with pytest.raises(ValueError, match="show_terms"):
        OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS, show_terms="yes")


def test_breakeven_labels_sit_above_every_line() -> None:
    # The N* and fleet labels live in the strip the y limit leaves above the highest
    # line, so they cover no curve.
    track = get_track("edge_guardian")
    fig = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).figure()
    (ax,) = fig.axes
    fig.draw_without_rendering()
    lines = [line for line in ax.get_lines() if line.get_gid() in ("manual", "platform")]
    highest = max(np.max(line.get_ydata()) for line in lines)
    highest_px = ax.transData.transform((0.0, highest))[1]
    labels = [t for t in ax.texts if t.get_gid() in ("break_even_label", "current_label")]
    assert len(labels) == 2
    for label in labels:
        assert label.get_window_extent().y0 > highest_px, label.get_text()


def test_student_function_changes_the_drawn_line_and_reference_is_dashed() -> None:
    track = get_track("cloud_titan")
    params, h = track.toil_params, track.heterogeneity

    def student_manual(n: Any, heterogeneity: float, p: ToilParams) -> Any:
        # a deliberately wrong student: forgot the dependency term
        n = np.asarray(n, dtype=float)
        return (p.alert_hours * n + p.deploy_hours * n * np.log2(n)) * p.hourly_cost_usd

    reference = {
        "manual_toil_usd": toil.manual_toil_usd,
        "platform_cost_usd": toil.platform_cost_usd,
        "break_even_models": toil.break_even_models,
    }
    plot = OpsBreakEvenPlot.for_track(
        track,
        manual_toil_usd=student_manual,
        platform_cost_usd=toil.platform_cost_usd,
        reference=reference,
        n_max=80,
    )
    fig = plot.figure()
    n = _one_line(fig, "manual").get_xdata()
    drawn = _one_line(fig, "manual").get_ydata()
    ref = _one_line(fig, "reference_manual")
    np.testing.assert_allclose(drawn, [student_manual(x, h, params) for x in n])
    np.testing.assert_allclose(ref.get_ydata(), [_manual_usd_by_hand(int(x), h, params) for x in n])
    assert not np.allclose(drawn[1:], ref.get_ydata()[1:])  # N = 1 has no pair: equal there
    assert ref.get_linestyle() == "--"
    assert _one_line(fig, "reference_break_even").get_xdata()[0] == _break_even_by_loop(h, params)
    # the student's N* read off the grid: the first N where the student's manual > platform
    student_star = next(
        int(x) for x in n if student_manual(x, h, params) > _platform_usd_by_hand(int(x), params)
    )
    assert _one_line(fig, "break_even").get_xdata()[0] == student_star


def test_scalar_only_student_function_draws_the_same_line() -> None:
    # A student who wrote math.log2 (fails on arrays) gets a per-point evaluation.
    track = get_track("tiny_pioneer")

    def scalar_manual(n: int, h: float, p: ToilParams) -> float:
        return _manual_usd_by_hand(int(n), h, p)

    fig = OpsBreakEvenPlot.for_track(
        track, manual_toil_usd=scalar_manual, platform_cost_usd=toil.platform_cost_usd, n_max=60
    ).figure()
    n = _one_line(fig, "manual").get_xdata()
    np.testing.assert_allclose(
        _one_line(fig, "manual").get_ydata(),
        toil.manual_toil_usd(n, track.heterogeneity, track.toil_params),
        rtol=1e-12,
    )


def test_hours_functions_are_converted_to_dollars() -> None:
    track = get_track("cloud_titan")
    p, h = track.toil_params, track.heterogeneity
    data = OpsBreakEvenPlot.for_track(
        track,
        manual_toil_hours=toil.manual_toil_hours,
        platform_toil_hours=toil.platform_toil_hours,
        n_max=50,
    ).data()
    np.testing.assert_allclose(
        data.manual_usd, [_manual_usd_by_hand(int(x), h, p) for x in data.n_models], rtol=1e-12
    )
    np.testing.assert_allclose(
        data.platform_usd, [_platform_usd_by_hand(int(x), p) for x in data.n_models], rtol=1e-12
    )


def test_roi_at_current_fleet_is_the_gap_between_the_lines() -> None:
    track = get_track("cloud_titan")
    p, h = track.toil_params, track.heterogeneity
    data = OpsBreakEvenPlot.for_track(track, **ROI_FUNCTIONS).data()
    n = track.n_models
    assert data.current_n == n
    assert data.roi_at_current_usd == pytest.approx(
        _manual_usd_by_hand(n, h, p) - _platform_usd_by_hand(n, p), rel=1e-12
    )
    assert data.n_models[-1] >= n  # the fleet is on the plot


def test_unfinished_student_function_is_named_in_the_error() -> None:
    def unfinished(n: Any, h: float, p: ToilParams) -> None:
        return None

    plot = OpsBreakEvenPlot(
        0.5, manual_toil_usd=unfinished, platform_cost_usd=toil.platform_cost_usd, n_max=10
    )
    with pytest.raises(ValueError, match="manual_toil_usd"):
        plot.figure()


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf"), "0.5", None])
def test_breakeven_rejects_bad_heterogeneity(bad: Any) -> None:
    with pytest.raises(ValueError, match="heterogeneity"):
        OpsBreakEvenPlot(bad, **ROI_FUNCTIONS)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"manual_toil_usd": "f", "platform_cost_usd": toil.platform_cost_usd}, "manual_toil_usd"),
        ({"platform_cost_usd": toil.platform_cost_usd}, "manual_toil_usd"),
        ({"manual_toil_usd": toil.manual_toil_usd}, "platform_cost_usd"),
        ({**ROI_FUNCTIONS, "n_max": 1}, "n_max"),
        ({**ROI_FUNCTIONS, "n_max": 2.5}, "n_max"),
        ({**ROI_FUNCTIONS, "current_n": 0}, "current_n"),
        ({**ROI_FUNCTIONS, "params": "defaults"}, "params"),
        ({**ROI_FUNCTIONS, "reference": 3}, "reference"),
        ({**ROI_FUNCTIONS, "reference": {"nonsense": toil.manual_toil_usd}}, "reference"),
        ({**ROI_FUNCTIONS, "figsize": (0, 3)}, "figsize"),
    ],
)
def test_breakeven_rejects_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        OpsBreakEvenPlot(0.5, **kwargs)


# ---------------------------------------------------------------- Part 2: the dashboard


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_clock_curve_and_marker_match_the_formula(key: str) -> None:
    track = get_track(key)
    dash = ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS)
    fig = dash.figure()
    curve = _one_line(fig, "clock_constant")
    t = np.asarray(curve.get_xdata())
    per_hour = track.request_rate_per_s * 3600 * track.shadow_fraction
    # 1 - (1 - p)^n by plain float pow, in percent (abs 1e-7 points: pow vs expm1 rounding)
    expected = [100 * (1 - (1 - track.p_max) ** (per_hour * x)) for x in t]
    np.testing.assert_allclose(curve.get_ydata(), expected, atol=1e-7)
    # the marker: the passed functions' answer, at the target confidence
    marker = _one_line(fig, "target_reached")
    n = zero_failure_sample_size(track.p_max, track.confidence)
    assert marker.get_xdata()[0] == shadow_hours(n, track.request_rate_per_s, track.shadow_fraction)
    assert marker.get_ydata()[0] == pytest.approx(100 * track.confidence)
    # with correct functions the marker sits on the curve: n requests reach >= C
    assert 1 - (1 - track.p_max) ** n >= track.confidence - 1e-12
    assert _one_line(fig, "release_cycle").get_xdata()[0] == track.release_cycle_hours
    assert _one_line(fig, "target").get_ydata()[0] == pytest.approx(100 * track.confidence)


def test_student_shadow_hours_moves_the_marker() -> None:
    track = get_track("mobile_nomad")

    def slow_student(n: float, rate: float, fraction: float = 1.0) -> float:
        return 2.0 * n / (rate * 3600 * fraction)  # a factor of two too slow

    good = ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS)
    bad = ShadowModeDashboard.for_track(
        track, zero_failure_sample_size=zero_failure_sample_size, shadow_hours=slow_student
    )
    x_good = _one_line(good.figure(), "target_reached").get_xdata()[0]
    x_bad = _one_line(bad.figure(), "target_reached").get_xdata()[0]
    assert x_bad == pytest.approx(2 * x_good)


def test_fake_functions_drive_the_dashboard_numbers() -> None:
    # Constant fakes: the dashboard reports exactly what it is given.
    dash = ShadowModeDashboard(
        p_max=0.001,
        confidence=0.95,
        request_rate_per_s=10.0,
        shadow_fraction=0.5,
        zero_failure_sample_size=lambda p, c: 1234,
        shadow_hours=lambda n, r, f=1.0: 42.0,
    )
    summary = dash.summary()
    assert summary["required_requests"] == 1234
    assert summary["hours_to_target"] == 42.0
    assert summary["meets_release_cycle"] is True
    assert summary["fixed_n_zero_failure"] == 1234


def test_staged_rollout_time_to_target_by_hand() -> None:
    # 10 req/s, 6 h stages: 2,160 requests at 1% then 10,800 at 5% (the rollout
    # docstring's numbers). 2,995 needed: 6 h + (2,995 - 2,160) / (10 * 3600 * 0.05) h.
    dash = ShadowModeDashboard(
        p_max=0.001,
        confidence=0.95,
        request_rate_per_s=10.0,
        stage_hours=6.0,
        zero_failure_sample_size=lambda p, c: 2995,
        shadow_hours=shadow_hours,
    )
    assert dash.staged_hours_to_target() == pytest.approx(6 + 835 / 1800, rel=1e-12)
    # beyond the last stage (24 h, 282,960 requests) the 100% rate continues
    far = ShadowModeDashboard(
        p_max=0.001,
        confidence=0.95,
        request_rate_per_s=10.0,
        stage_hours=6.0,
        zero_failure_sample_size=lambda p, c: 282_960 + 36_000,
        shadow_hours=shadow_hours,
    )
    assert far.staged_hours_to_target() == pytest.approx(25.0, rel=1e-12)
    assert len(_lines(far.figure(), "clock_staged")) == 1


def _staged_requests_by_hand(
    t: float, rate: float, fractions: tuple[float, ...], stage: float
) -> float:
    """Requests seen by hour t: each stage's share of the traffic for its hours, in turn,
    then the last share for ever (a plain loop, not the rollout module)."""
    seen, start = 0.0, 0.0
    for fraction in fractions:
        seen += rate * 3600 * fraction * min(max(t - start, 0.0), stage)
        start += stage
    return seen + rate * 3600 * fractions[-1] * max(t - start, 0.0)


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_clock_draws_the_staged_rollout_by_default(key: str) -> None:
    # The text promises 1% -> 5% -> 25% -> 100% on the clock: drawn with no extra
    # argument, four equal stages filling one release cycle (42 h for a week).
    track = get_track(key)
    dash = ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS)
    stage = track.release_cycle_hours / 4
    assert dash.staged and dash.stage_hours == stage
    fig = dash.figure()
    curve = _one_line(fig, "clock_staged")
    fractions = (0.01, 0.05, 0.25, 1.0)
    t = np.asarray(curve.get_xdata())
    expected = [
        100
        * (
            1
            - (1 - track.p_max)
            ** _staged_requests_by_hand(x, track.request_rate_per_s, fractions, stage)
        )
        for x in t
    ]
    # rtol: the rollout floors each stage's requests to whole ones (at most one request
    # per stage, relative 1e-6 here); pow against expm1 rounding is far smaller.
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=1e-6, atol=1e-7)
    # The staged marker sits where the required requests are reached, by hand.
    n = zero_failure_sample_size(track.p_max, track.confidence)
    staged_hours = dash.staged_hours_to_target()
    seen = _staged_requests_by_hand(staged_hours, track.request_rate_per_s, fractions, stage)
    assert seen == pytest.approx(n, rel=1e-6)
    assert _one_line(fig, "target_reached_staged").get_xdata()[0] == staged_hours
    # The stage ends are marked on the curve and the schedule is named in the legend.
    ends = _one_line(fig, "stage_switches").get_xdata()
    assert set(ends) <= {stage, 2 * stage, 3 * stage, 4 * stage}
    legend_texts = _legend_texts(fig)
    assert any(
        text.startswith("staged rollout 1% \u2192 5% \u2192 25% \u2192 100% (42 h per stage)")
        for text in legend_texts
    )


def test_staged_rollout_reaches_tiny_pioneers_target_in_its_last_stage() -> None:
    # Tiny Pioneer: 46,050 requests at 0.5 req/s. 42-hour stages see 756, 3,780 and
    # 18,900 requests (23,436 by hour 126), then 1,800 an hour at 100%:
    # 126 + (46,050 - 23,436) / 1,800 = 138.563 h, inside the week; 5% constant: 511.7 h.
    track = get_track("tiny_pioneer")
    dash = ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS)
    assert dash.staged_hours_to_target() == pytest.approx(126 + 22_614 / 1_800, rel=1e-12)
    legend_texts = _legend_texts(dash.figure())
    (staged,) = [t for t in legend_texts if t.startswith("staged rollout")]
    assert "(in the 100% stage), fits the cycle" in staged
    (constant,) = [t for t in legend_texts if t.startswith("constant 5% shadow")]
    assert constant.endswith("MISSES the cycle")


def test_staged_rollout_can_be_turned_off_or_given_its_own_stages() -> None:
    track = get_track("cloud_titan")
    off = ShadowModeDashboard.for_track(track, staged=False, **CANARY_FUNCTIONS)
    assert off.stage_hours is None and off.summary()["staged_hours_to_target"] is None
    assert not _lines(off.figure(), "clock_staged")
    own = ShadowModeDashboard.for_track(track, stage_hours=(1, 2, 3, 4), **CANARY_FUNCTIONS)
    # 2,995 requests: 900 in the first hour at 1%, then 4,500 an hour at 5%.
    assert own.staged_hours_to_target() == pytest.approx(1 + 2_095 / 4_500, rel=1e-12)
    with pytest.raises(ValueError, match="stage_hours"):
        ShadowModeDashboard.for_track(track, staged=False, stage_hours=6.0, **CANARY_FUNCTIONS)
    with pytest.raises(ValueError, match="stage_hours"):
        ShadowModeDashboard.for_track(track, stage_hours=(1, 2), **CANARY_FUNCTIONS)
    with pytest.raises(ValueError, match="staged"):
        ShadowModeDashboard.for_track(track, staged="yes", **CANARY_FUNCTIONS)


def test_dashboard_panels_stack_or_draw_alone() -> None:
    track = get_track("mobile_nomad")
    dash = ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS)
    full = dash.figure()
    assert len(full.subfigs) == len(PANELS) == 3
    assert full.get_size_inches() == pytest.approx((10.0, 5.7 + 4.7 + 5.3 + 0.45))
    clock = dash.figure(panels=["clock"])
    assert clock.get_size_inches() == pytest.approx((10.0, 5.7 + 0.45))
    assert _lines(clock, "clock_constant") and not _lines(clock, "sprt_trace")
    sprt_then_radar = dash.figure(panels=("sprt", "radar"))
    assert _lines(sprt_then_radar, "sprt_trace") and _lines(sprt_then_radar, "radar_0")
    assert not _lines(sprt_then_radar, "clock_constant")
    for bad in ([], ["clock", "clock"], ["dial"], "clock"):
        with pytest.raises(ValueError, match="panels"):
            dash.figure(panels=bad)


def test_radar_scores_by_hand() -> None:
    # 99% = 2 nines -> 2/3; 84 of 168 h -> 0.5; 1% = 2 decades of 4 -> 0.5;
    # p_max 1e-3: (3 - 1) / 5 = 0.4.
    assert radar_scores(
        confidence=0.99,
        hours_to_release=84.0,
        release_cycle_hours=168.0,
        traffic_share=0.01,
        p_max=1e-3,
    ) == pytest.approx((2 / 3, 0.5, 0.5, 0.4), abs=1e-4)
    # clipped at both ends: 4 nines, over the cycle, full traffic, p = 1e-7
    assert radar_scores(
        confidence=0.9999,
        hours_to_release=500.0,
        release_cycle_hours=168.0,
        traffic_share=1.0,
        p_max=1e-7,
    ) == (1.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("confidence", 1.0),
        ("confidence", float("nan")),
        ("hours_to_release", -1.0),
        ("release_cycle_hours", 0.0),
        ("traffic_share", 0.0),
        ("traffic_share", "all"),
        ("p_max", None),
    ],
)
def test_radar_scores_rejects_bad_input(name: str, value: Any) -> None:
    args = {
        "confidence": 0.95,
        "hours_to_release": 10.0,
        "release_cycle_hours": 168.0,
        "traffic_share": 0.1,
        "p_max": 1e-3,
    }
    args[name] = value
    with pytest.raises(ValueError, match=name):
        radar_scores(**args)


def test_canary_plan_metrics_come_from_the_passed_functions() -> None:
    plan = CanaryPlan("p", shadow_fraction=0.25, confidence=0.99, p_max=1e-4, request_rate_per_s=2)
    m = plan.metrics(zero_failure_sample_size=lambda p, c: 46_050, shadow_hours=shadow_hours)
    assert m.required_requests == 46_050
    assert m.hours_to_release == pytest.approx(46_050 / (2 * 3600 * 0.25))
    assert m.meets_release_cycle is True
    assert m.traffic_share_exposed == 0.25 and m.detectable_failure_rate == 1e-4


def test_radar_draws_one_polygon_per_plan_and_accepts_planner_dicts() -> None:
    track = get_track("tiny_pioneer")
    planner_tries = [
        {"iteration": 1, "shadow_fraction": 0.05, "requests": 1, "hours": 1.0, "feasible": False},
        {"iteration": 2, "shadow_fraction": 1.0, "requests": 1, "hours": 1.0, "feasible": True},
    ]
    dash = ShadowModeDashboard.for_track(track, plans=planner_tries, **CANARY_FUNCTIONS)
    metrics = dash.plan_metrics()
    assert [m.name for m in metrics] == ["try 1", "try 2"]
    fig = dash.figure()
    for i, m in enumerate(metrics):
        radial = _one_line(fig, f"radar_{i}").get_ydata()
        np.testing.assert_allclose(radial, [*m.scores, m.scores[0]])


def test_sprt_trace_matches_a_request_by_request_loop() -> None:
    rng = np.random.default_rng(7)
    p0, p1, alpha, beta = 0.01, 0.05, 0.05, 0.20
    outcomes_seen = set()
    for p_true in (0.005, 0.01, 0.03, 0.05, 0.08):
        for _ in range(6):
            max_n = 3000
            positions = np.flatnonzero(rng.random(max_n) < p_true) + 1
            trace = sprt_trace(positions, max_n, p0, p1, alpha, beta)
            expected = _sprt_stop_by_loop(set(positions.tolist()), max_n, p0, p1, alpha, beta)
            assert (trace.decision, trace.stop_n) == expected
            outcomes_seen.add(trace.decision)
    assert {"promote", "rollback"} <= outcomes_seen  # both branches exercised
    # too short to decide: no failure in 10 requests
    assert sprt_trace([], 10, p0, p1).decision == "continue"


def test_sprt_panel_lines_and_fixed_n_markers() -> None:
    track = get_track("cloud_titan")
    dash = ShadowModeDashboard.for_track(track, **CANARY_FUNCTIONS)
    fig = dash.figure()
    b = _one_line(fig, "sprt_rollback")
    n = np.asarray(b.get_xdata())
    # Wald's lines from p0, p1, alpha, beta, by hand
    g = math.log(track.p1 * (1 - track.p0) / (track.p0 * (1 - track.p1)))
    slope = math.log((1 - track.p0) / (1 - track.p1)) / g
    np.testing.assert_allclose(b.get_ydata(), slope * n + math.log(0.8 / 0.05) / g, rtol=1e-9)
    np.testing.assert_allclose(
        _one_line(fig, "sprt_promote").get_ydata(), slope * n - math.log(0.95 / 0.2) / g, rtol=1e-9
    )
    n_zero = zero_failure_sample_size(track.p_max, track.confidence)
    assert _one_line(fig, "fixed_n_zero_failure").get_xdata()[0] == n_zero
    trace = _one_line(fig, "sprt_trace")
    assert trace.get_xdata()[-1] == dash.sprt().stop_n


def test_given_sprt_sequence_rolls_back() -> None:
    # Failures at requests 1..4 with p0 = 0.001, p1 = 0.003: the LLR after 3 failures in
    # 3 requests is 3 ln 3 = 3.30 > ln(0.8/0.05) = 2.77, so the test rolls back at n = 3.
    dash = ShadowModeDashboard(
        p_max=0.003,
        confidence=0.95,
        request_rate_per_s=1.0,
        p0=0.001,
        p1=0.003,
        sprt_failure_positions=(1, 2, 3, 4),
        sprt_max_n=1000,
        **CANARY_FUNCTIONS,
    )
    trace = dash.sprt()
    assert (trace.decision, trace.stop_n, trace.failures_at_stop) == ("rollback", 3, 3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p_max": 0.0}, "p_max"),
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": float("nan")}, "confidence"),
        ({"request_rate_per_s": 0.0}, "request_rate_per_s"),
        ({"shadow_fraction": 0.0}, "shadow_fraction"),
        ({"shadow_fraction": "half"}, "shadow_fraction"),
        ({"p0": 0.01, "p1": 0.005}, "p1"),
        ({"zero_failure_sample_size": None}, "zero_failure_sample_size"),
        ({"sprt_failure_positions": (3, 5)}, "sprt_max_n"),
        ({"stage_hours": -1.0}, "stage_hours"),
        ({"plans": [{"name": "x"}]}, "shadow_fraction"),
    ],
)
def test_dashboard_rejects_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    args = {
        "p_max": 0.001,
        "confidence": 0.95,
        "request_rate_per_s": 10.0,
        **CANARY_FUNCTIONS,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        ShadowModeDashboard(**args)


def test_unfinished_sample_size_is_named_in_the_error() -> None:
    dash = ShadowModeDashboard(
        p_max=0.001,
        confidence=0.95,
        request_rate_per_s=10.0,
        zero_failure_sample_size=lambda p, c: None,
        shadow_hours=shadow_hours,
    )
    with pytest.raises(ValueError, match="zero_failure_sample_size"):
        dash.figure()


def test_sprt_trace_rejects_bad_positions() -> None:
    with pytest.raises(ValueError, match="failure_positions"):
        sprt_trace([5, 3], 10, 0.01, 0.05)
    with pytest.raises(ValueError, match="failure_positions"):
        sprt_trace([11], 10, 0.01, 0.05)
    with pytest.raises(ValueError, match="max_n"):
        sprt_trace([], 0, 0.01, 0.05)


# ----------------------------------------------------------------- Part 3: the ensemble


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_ensemble_bars_are_the_simulation_accuracies(key: str) -> None:
    track = get_track(key)
    trace = EnsembleTrace.for_track(track, "v2", False, skew_check=skew_check)
    run = run_ensemble(
        "v2",
        False,
        seed=track.ensemble_seed,
        upstream_name=track.upstream_model,
        downstream_name=track.downstream_model,
    )
    fig = trace.figure()
    heights = {
        p.get_gid(): p.get_height()
        for ax in fig.axes
        for p in ax.patches
        if (p.get_gid() or "").startswith("accuracy_")
    }
    assert heights["accuracy_probe"] == pytest.approx(100 * run.probe_accuracy)
    assert heights["accuracy_system"] == pytest.approx(100 * run.system_accuracy)
    assert heights["accuracy_baseline"] == pytest.approx(100 * run.baseline_accuracy)
    report = skew_check(
        run.train_features, run.serving_features, run.train_contract, run.serving_contract
    )
    psi_bars = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "psi_bars"]
    np.testing.assert_allclose([p.get_height() for p in psi_bars], np.maximum(report["psi"], 1e-3))


@pytest.mark.parametrize("key", TRACK_KEYS)
def test_ensemble_verdicts_per_scenario(key: str) -> None:
    track = get_track(key)

    def summary(version: str, retrain: bool, check: Any = skew_check) -> dict[str, Any]:
        return EnsembleTrace.for_track(track, version, retrain, skew_check=check).summary()

    # The Software Lead's plan: the better extractor, no retrain -> silent failure, caught.
    v2 = summary("v2", False)
    assert v2["verdict"].startswith("SILENT FAILURE")
    assert v2["below_baseline"] and v2["caught_by_skew_check"] is True
    assert v2["probe_accuracy"] > v2["baseline_accuracy"]  # the extractor IS better
    # The sign flip: PSI sees nothing, only the contract catches it.
    flip = summary("v1-signflip", False)
    assert flip["verdict"].startswith("SILENT FAILURE")
    assert flip["max_psi"] < 0.25 and flip["contract_ok"] is False
    assert "PSI alone would miss it" in flip["verdict"]
    # Retrained on v2: no failure, no skew.
    ok = summary("v2", True)
    assert ok["verdict"].startswith("OK") and ok["skewed"] is False
    # A student check that always passes misses the silent failure.
    lenient = summary(
        "v2",
        False,
        lambda *a, **k: {"psi": [0.0], "max_psi": 0.0, "contract_ok": True, "skewed": False},
    )
    assert lenient["verdict"].startswith("SILENT FAILURE") and "Missed" in lenient["verdict"]
    assert lenient["caught_by_skew_check"] is False
    # No check at all.
    none = summary("v2", False, None)
    assert none["skewed"] is None and "No skew check ran" in none["verdict"]


def test_ensemble_without_a_check_speaks_to_the_student() -> None:
    # The workbench's consistency check switched off: said in the student's words, not
    # as a hint to the programmer ("(pass skew_check=...)").
    fig = EnsembleTrace.for_track(get_track("mobile_nomad"), "v2", False).figure()
    (note,) = [t for t in fig.findobj(Text) if t.get_gid() == "no_skew_check"]
    assert note.get_text().startswith("Your skew_check is not run here:")
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert not [t for t in texts if "=..." in t or "pass skew_check" in t]


def test_ensemble_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="upstream_version"):
        EnsembleTrace("v3", False)
    with pytest.raises(ValueError, match="retrain"):
        EnsembleTrace("v2", "yes")
    with pytest.raises(ValueError, match="skew_check"):
        EnsembleTrace("v2", False, skew_check="psi")
    with pytest.raises(ValueError, match="psi_threshold"):
        EnsembleTrace("v2", False, psi_threshold=0.0)
    with pytest.raises(ValueError, match="skew_check"):
        EnsembleTrace("v2", False, skew_check=lambda *a, **k: None).summary()


# ---------------------------------------------------------------------------- Math Peek


@pytest.mark.parametrize(
    ("topic", "pieces"),
    [
        ("roi", [r"\mathrm{ROI}", r"\text{CapEx}", r"\log_2 N", r"\frac{N(N-1)}{2}"]),
        ("zero_failure", [r"(1 - p_{\max})^n \le 1 - C", r"\ln(1 - C)", "2995"]),
        ("sprt", [r"\Lambda_n", r"\ln\frac{1-\beta}{\alpha}", r"\ln\frac{\beta}{1-\alpha}"]),
        ("psi", [r"(a_i - e_i) \ln\frac{a_i}{e_i}", "0.25", "contract"]),
    ],
)
def test_math_peek_has_the_formula(topic: str, pieces: list[str]) -> None:
    text = math_peek(topic)
    for piece in pieces:
        assert piece in text
    assert text.count("$$") % 2 == 0  # display math is balanced


def test_math_peek_covers_every_topic() -> None:
    assert set(TOPICS) == {"roi", "zero_failure", "sprt", "psi"}


@pytest.mark.parametrize("bad", ["ROI", "nope", "", None, 3])
def test_math_peek_rejects_unknown_topic(bad: Any) -> None:
    with pytest.raises(ValueError, match="topic"):
        math_peek(bad)
    with pytest.raises(ValueError, match="topic"):
        math_peek_toggle(bad)


def test_math_peek_toggle_shows_and_hides() -> None:
    peek = math_peek_toggle("sprt")
    assert not peek.shown and "Lambda" in peek.panel.value
    peek.button.value = True
    assert peek.shown
    peek.button.value = False
    assert not peek.shown


# --------------------------------------------------------------------------- workbenches


def test_roi_workbench_redraws_on_slider_change() -> None:
    track = get_track("cloud_titan")
    box = roi_workbench(track, **ROI_FUNCTIONS)
    assert type(box).__name__ == "VBox"
    (output,) = _of_type(box, "Output")
    readout = _of_type(box, "HTML")[1]
    before_png, before_text = _png_of(output), readout.value
    assert f"N = {track.n_models} models" in before_text
    _control(box, "Models N").value = 5
    assert _png_of(output) != before_png and "N = 5 models" in readout.value
    after_n = _png_of(output)
    _control(box, "Heterogeneity h").value = 0.0
    assert _png_of(output) != after_n and "h = 0.00" in readout.value
    # N* in the readout is break_even_models at the slider's h
    expected = toil.break_even_models(0.0, track.toil_params)
    assert f"N* = <b>{expected} models" in readout.value
    assert _of_type(box, "ToggleButton")  # the Math Peek is there


def test_canary_workbench_reports_requests_and_hours() -> None:
    track = get_track("tiny_pioneer")
    box = canary_workbench(track, **CANARY_FUNCTIONS)
    (output,) = _of_type(box, "Output")
    readout = _of_type(box, "HTML")[1]
    n = zero_failure_sample_size(track.p_max, track.confidence)
    constant, staged = readout.value.split("<br>")
    assert f"<b>{n:,}</b>" in constant and "TOO SLOW" in constant
    # the default staged rollout (42 h stages) reaches it in 138.6 h: 29.4 h to spare
    assert "42 h per stage" in staged and "(139 h)" in staged and "29.4 h to spare" in staged
    before = _png_of(output)
    _control(box, "Shadow fraction").value = 1.0  # all traffic: 25.6 h, fits the week
    assert "fits" in readout.value.split("<br>")[0] and _png_of(output) != before
    _control(box, "Target confidence (%)").value = 95.0
    n95 = zero_failure_sample_size(track.p_max, 0.95)
    assert f"<b>{n95:,}</b>" in readout.value


def test_canary_workbench_stage_length_slider_moves_the_staged_curve() -> None:
    track = get_track("tiny_pioneer")
    box = canary_workbench(track, **CANARY_FUNCTIONS)
    (output,) = _of_type(box, "Output")
    readout = _of_type(box, "HTML")[1]
    stage = _control(box, "Hours per rollout stage")
    assert stage.value == pytest.approx(42.0)
    before_png, before_text = _png_of(output), readout.value
    stage.value = 6.0  # 6-hour stages: the ramp is over after 24 h, then 1,800 req/h
    assert _png_of(output) != before_png and readout.value != before_text
    # 756 / 7 = 108 requests per 6 h at 1%, 540 at 5%, 2,700 at 25%, 10,800 at 100%:
    # 14,148 by hour 24, then (46,050 - 14,148) / 1,800 = 17.72 h more.
    assert "6 h per stage" in readout.value and "41.7 h" in readout.value
    plain = canary_workbench(track, staged=False, **CANARY_FUNCTIONS)
    assert not [w for w in _walk(plain) if getattr(w, "description", "") == stage.description]
    assert "<br>" not in _of_type(plain, "HTML")[1].value


@pytest.mark.parametrize("make", ["roi", "canary", "ensemble"])
def test_workbench_controls_have_room_for_their_whole_text(make: str) -> None:
    # ipywidgets gives a control 300 px and its label 80 px unless told otherwise: long
    # descriptions were cut and the version menu squeezed to "v". Every control takes
    # its description at full width and keeps room for its own field beside it.
    track = get_track("cloud_titan")  # the longest model names
    box = {
        "roi": lambda: roi_workbench(track, **ROI_FUNCTIONS),
        "canary": lambda: canary_workbench(track, **CANARY_FUNCTIONS),
        "ensemble": lambda: ensemble_workbench(track, skew_check=skew_check),
    }[make]()
    controls = [w for w in _walk(box) if getattr(w, "description", "") and hasattr(w, "style")]
    controls = [w for w in controls if type(w).__name__ != "ToggleButton"]  # Math Peek
    assert controls
    field_px = {"Dropdown": 100, "Checkbox": 20}
    for control in controls:
        kind = type(control).__name__
        assert control.style.description_width == "initial", control.description
        width = control.layout.width
        assert width and width.endswith("px"), (control.description, width)
        # 8 px a character is wider than JupyterLab's 13 px UI font on average
        room = int(width[:-2]) - 8 * len(control.description)
        assert room >= field_px.get(kind, 150), (control.description, width)
    # No row is wider than the notebook's output area.
    for row in _of_type(box, "HBox"):
        widths = [int(c.layout.width[:-2]) for c in row.children if c in controls]
        assert sum(widths) <= 1000, [c.description for c in row.children]


def test_ensemble_workbench_reacts_to_version_retrain_and_check() -> None:
    track = get_track("tiny_pioneer")
    box = ensemble_workbench(track, skew_check=skew_check)
    (output,) = _of_type(box, "Output")
    consistency, verdict = _of_type(box, "HTML")[1:3]
    assert "SILENT FAILURE" in verdict.value and "MISMATCH" in consistency.value
    first = _png_of(output)
    _control(box, f"Retrain downstream ({track.downstream_model})").value = True
    assert "OK" in verdict.value and "consistent" in consistency.value
    assert _png_of(output) != first
    _control(box, f"Retrain downstream ({track.downstream_model})").value = False
    _control(box, "Feature-store consistency check").value = False
    assert "OFF" in consistency.value and "No skew check ran" in verdict.value
    _control(box, f"Upstream version ({track.upstream_model})").value = "v1"
    assert verdict.value.startswith("<b") and "OK" in verdict.value


def test_workbench_shows_a_student_error_instead_of_crashing() -> None:
    def unfinished(n: Any, h: float, p: ToilParams) -> Any:
        raise NotImplementedError("write manual_toil_usd first")

    box = roi_workbench(
        get_track("mobile_nomad"),
        manual_toil_usd=unfinished,
        platform_cost_usd=toil.platform_cost_usd,
    )
    readout = _of_type(box, "HTML")[1]
    assert "NotImplementedError" in readout.value and "write manual_toil_usd" in readout.value
    (output,) = _of_type(box, "Output")
    assert output.outputs[0]["output_type"] == "stream"


def test_canary_and_ensemble_workbenches_show_student_errors() -> None:
    track = get_track("cloud_titan")
    box = canary_workbench(
        track, zero_failure_sample_size=lambda p, c: None, shadow_hours=shadow_hours
    )
    assert "zero_failure_sample_size" in _of_type(box, "HTML")[1].value
    box = ensemble_workbench(track, skew_check=lambda *a, **k: {"psi": [0.1]})
    assert "skew_check" in _of_type(box, "HTML")[2].value


# --------------------------------------------------------- imports: release conditions


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def test_import_works_without_ipywidgets_and_reference_modules() -> None:
    # The student release: no reference-only modules, maybe no ipywidgets. Blocking a
    # name in sys.modules makes its import raise ImportError.
    blocked = ", ".join(repr(f"opsmodel.{m}") for m in REFERENCE_ONLY)
    result = _run_python(
        f"""
        import sys
        sys.modules["ipywidgets"] = None
        for name in [{blocked}]:
            sys.modules[name] = None
        import opsmodel.instruments as ins
        from opsmodel.tracks import get_track
        track = get_track("edge_guardian")
        fig = ins.EnsembleTrace.for_track(track, "v2", False).figure()
        fig.savefig("/dev/null", format="png", dpi=20)
        try:
            ins.math_peek_toggle("roi")
        except ImportError:
            print("toggle needs ipywidgets")
        assert "matplotlib.pyplot" not in sys.modules
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["toggle", "needs", "ipywidgets", "ok"]


def test_instruments_never_import_reference_only_modules() -> None:
    # Statically too: no import statement of the subpackage reaches a reference-only
    # module, and no docstring example uses one (it would fail in the release).
    package = Path(instruments.__file__).parent
    forbidden = {f"opsmodel.{m}" for m in REFERENCE_ONLY}
    for source in package.glob("*.py"):
        text = source.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                # level 2 is "from ..x import": x is a sibling of instruments in opsmodel
                base = "opsmodel" if node.level == 2 else "opsmodel.instruments"
                module = node.module or ""
                full = (f"{base}.{module}" if node.level else module).rstrip(".")
                names = {full, *(f"{full}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            else:
                continue
            assert not names & forbidden, (source.name, names & forbidden)
        for module in forbidden:
            assert f"{module} import" not in text, (source.name, module)


@pytest.mark.parametrize(
    "module",
    ["palette", "_common", "breakeven_plot", "shadow_dashboard", "ensemble_trace", "math_peek"],
)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"opsmodel.instruments.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


# ------------------------------------------------------------------------------ palette


def test_palette_is_okabe_ito_and_roles_in_one_figure_differ() -> None:
    okabe = set(OKABE_ITO.values())
    assert len(okabe) == 8
    assert all(c in okabe for role, c in ROLE_COLOURS.items() if role != "neutral")
    same_figure = [
        ("manual", "platform", "alerts", "deploy", "dependencies", "break_even", "current"),
        ("safety", "staged", "release_cycle", "trace"),
        ("rollback", "promote", "trace", "fixed_n"),
        ("probe", "system", "baseline", "alarm"),
    ]
    for roles in same_figure:
        colours = [colour(r) for r in roles]
        assert len(set(colours)) == len(colours), roles


@pytest.mark.parametrize("bad", ["magenta", "", None])
def test_colour_rejects_unknown_role(bad: Any) -> None:
    with pytest.raises(ValueError, match="role"):
        colour(bad)


def test_public_names_are_exported() -> None:
    for name in instruments.__all__:
        assert hasattr(instruments, name)


def test_the_track_dashboards_default_plans_stay_within_the_shadow_capacity() -> None:
    # The planner calls a fraction above the track's cap OVER CAPACITY: the radar's default
    # plans must not offer one (a "full shadow: 100%" plan fitting the week would contradict it).
    from opsmodel.instruments import ShadowModeDashboard
    from opsmodel.sample_size import zero_failure_sample_size
    from opsmodel.shadow import shadow_hours
    from opsmodel.tracks import TRACKS

    for track in TRACKS.values():
        dash = ShadowModeDashboard.for_track(
            track, zero_failure_sample_size=zero_failure_sample_size, shadow_hours=shadow_hours
        )
        fractions = [m.traffic_share_exposed for m in dash.plan_metrics()]
        assert max(fractions) == track.max_shadow_fraction, track.name
        assert track.shadow_fraction in fractions
