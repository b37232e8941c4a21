"""The lab's instruments: the plots and widgets of the three parts.

- Part 1: :class:`OpsBreakEvenPlot` (the Ops cost curve) and :func:`roi_workbench`.
- Part 2: :class:`ShadowModeDashboard` (Confidence Clock, Risk-vs-Velocity Radar, SPRT
  trace) and :func:`canary_workbench`.
- Part 3: :class:`EnsembleTrace` and :func:`ensemble_workbench`.
- Everywhere: :func:`math_peek` / :func:`math_peek_toggle`, the formula behind each plot.

Instruments draw the functions they are given: in the student release the notebook
passes the student's own. They never import the reference-only modules. Figures are built
with matplotlib's object API and render headless; ipywidgets is imported only inside the
functions that build widgets, so ``import opsmodel.instruments`` works without it. Every
colour comes from :mod:`opsmodel.instruments.palette` (Okabe-Ito).

A notebook shows an instrument, or the figure its ``figure()`` returns (an
:class:`InstrumentFigure`), as a PNG image without ``%matplotlib inline``. Figures are
10 inches wide, the width a notebook shows unscaled at 1000 px, and no text in them is
smaller than 10 pt (about 14 px on screen).
"""

from __future__ import annotations

from ._common import InstrumentFigure
from .breakeven_plot import BreakEvenData, CostFunctions, OpsBreakEvenPlot
from .ensemble_trace import EnsembleTrace
from .math_peek import TOPICS, MathPeek, math_peek, math_peek_toggle
from .palette import OKABE_ITO, ROLE_COLOURS, colour
from .shadow_dashboard import (
    PANELS,
    RADAR_AXES,
    CanaryMetrics,
    CanaryPlan,
    ShadowModeDashboard,
    SPRTTrace,
    radar_scores,
    sprt_trace,
)
from .workbench import (
    canary_figure,
    canary_workbench,
    ensemble_figure,
    ensemble_workbench,
    roi_figure,
    roi_workbench,
)

__all__ = [
    "BreakEvenData",
    "CanaryMetrics",
    "CanaryPlan",
    "CostFunctions",
    "EnsembleTrace",
    "InstrumentFigure",
    "MathPeek",
    "OKABE_ITO",
    "OpsBreakEvenPlot",
    "PANELS",
    "RADAR_AXES",
    "ROLE_COLOURS",
    "SPRTTrace",
    "ShadowModeDashboard",
    "TOPICS",
    "canary_figure",
    "canary_workbench",
    "colour",
    "ensemble_figure",
    "ensemble_workbench",
    "math_peek",
    "math_peek_toggle",
    "radar_scores",
    "roi_figure",
    "roi_workbench",
    "sprt_trace",
]
