"""Private helpers shared by the instruments: calling passed functions, money labels, PNGs.

The instruments draw functions they are given (in the student release, the student's own),
so every call goes through a helper that tolerates a scalar-only implementation and turns
a wrong return value (``None`` from an unfinished function, a string, NaN) into an error
that names the function, instead of a matplotlib traceback three frames later.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .._validation import InvalidInputError, check_real

__all__ = [
    "check_callable",
    "check_figsize",
    "as_real",
    "call_number",
    "evaluate_on_grid",
    "format_usd",
    "escape_dollars",
    "format_hours",
    "format_share",
    "usd_formatter",
    "count_formatter",
    "DISPLAY_WIDTH_PX",
    "FIGURE_WIDTH_IN",
    "FIGURE_DPI",
    "InstrumentFigure",
    "new_figure",
    "figure_png",
    "save_figure",
]


def check_callable(name: str, fn: Any, *, required: bool = True) -> Callable[..., Any] | None:
    """Return ``fn`` if it is callable (or ``None`` when not required), else raise."""
    if fn is None and not required:
        return None
    if not callable(fn):
        raise InvalidInputError(f"{name} must be a callable (a function), got {fn!r}")
    return fn


def as_real(name: str, value: Any, where: str) -> float:
    """Return what ``name`` returned (at ``where``) as a finite float, or raise naming it."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return as_real(name, value.item(), where)
    if not is_real:
        raise InvalidInputError(
            f"{name} returned {value!r} for {where}; expected a finite real number"
            + (" (is the function finished?)" if value is None else "")
        )
    x = float(value)
    if not math.isfinite(x):
        raise InvalidInputError(f"{name} returned {value!r} for {where}; expected a finite number")
    return x


def check_figsize(figsize: Any) -> tuple[float, float]:
    """Return ``figsize`` as a pair of positive floats (inches), or raise."""
    try:
        width, height = figsize
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"figsize must be a pair (width, height), got {figsize!r}") from exc
    return (
        check_real("figsize width", width, low=0.0, low_open=True),
        check_real("figsize height", height, low=0.0, low_open=True),
    )


def call_number(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Call ``fn(*args, **kwargs)`` and return its result as a finite float, or raise.

    Raises
    ------
    InvalidInputError
        If the result is not a finite real number (``None``, a string, NaN, ...). Errors
        raised by ``fn`` itself propagate unchanged: they are the caller's to read.
    """
    where = ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    return as_real(name, fn(*args, **kwargs), f"({where})")


def evaluate_on_grid(
    name: str, fn: Callable[..., Any], grid: np.ndarray, *args: Any, attribute: str | None = None
) -> np.ndarray:
    """Evaluate ``fn(x, *args)`` on every ``x`` of a 1-D grid; return a float array.

    The vectorised call ``fn(grid, *args)`` is tried first. A function written for
    scalars only (``math.log2``, an ``if`` on the value) either raises on an array or
    returns the wrong shape; then it is called once per grid point, with plain Python
    ints where the grid is integral, so a student's scalar function draws as well as the
    reference's vectorised one.

    Parameters
    ----------
    name : str
        Name of the function, for error messages.
    fn : callable
        The function to evaluate.
    grid : ndarray, 1-D
        The x values.
    *args
        Further positional arguments, after ``x``.
    attribute : str, optional
        Read this attribute of the result (a breakdown record) instead of the result.

    Returns
    -------
    ndarray of float, same length as ``grid``

    Raises
    ------
    InvalidInputError
        If ``fn`` returns something that is not a finite real number at some point.
    """

    def pick(result: Any) -> Any:
        return getattr(result, attribute) if attribute is not None else result

    label = name if attribute is None else f"{name}(...).{attribute}"
    try:
        values = np.asarray(pick(fn(grid.astype(float), *args)), dtype=float)
        vectorised = values.shape == grid.shape and bool(np.all(np.isfinite(values)))
    except Exception:
        # Any failure of the array call (TypeError from math.log2, ValueError from an
        # `if n < 1`, ...) just means "scalar-only": the per-point loop below either
        # works or raises the function's own error at the first bad point.
        vectorised = False
    if vectorised:
        return values
    integral = bool(np.all(grid == np.round(grid)))
    out = np.empty(grid.shape, dtype=float)
    for i, x in enumerate(grid):
        point = int(x) if integral else float(x)
        out[i] = as_real(label, pick(fn(point, *args)), f"x = {point}")
    return out


def format_usd(value: float) -> str:
    """Money as a short label: ``$950``, ``$12.5k``, ``$1.25M``, ``-$300k``."""
    sign = "-" if value < 0 else ""
    x = abs(float(value))
    if x >= 1e9:
        text = f"{x / 1e9:.3g}B"
    elif x >= 1e6:
        text = f"{x / 1e6:.3g}M"
    elif x >= 1e3:
        text = f"{x / 1e3:.3g}k"
    else:
        text = f"{x:.0f}"
    return f"{sign}${text}"


def format_hours(hours: float) -> str:
    """A duration given in hours, in the unit a person would say: ``42 s``, ``12 min``,
    ``6.4 h``, ``21.3 days (511 h)``."""
    h = float(hours)
    if h < 1.0 / 60.0:
        return f"{h * 3600.0:.3g} s"
    if h < 1.0:
        return f"{h * 60.0:.3g} min"
    if h < 72.0:
        return f"{h:.3g} h"
    return f"{h / 24.0:.3g} days ({h:,.0f} h)"


def format_share(fraction: float) -> str:
    """A fraction as a percentage with enough digits: ``5%``, ``0.05%``, ``99.9%``."""
    percent = 100.0 * float(fraction)
    if percent >= 99.0 and percent < 100.0:
        # 99.9% and 99.99% are different promises: keep the nines.
        digits = 0
        while round(percent, digits) >= 100.0 or abs(round(percent, digits) - percent) > 1e-9:
            digits += 1
            if digits > 6:
                break
        return f"{percent:.{digits}f}%"
    return f"{percent:.3g}%"


def escape_dollars(text: str) -> str:
    """Escape ``$`` for matplotlib, which reads a pair of dollar signs as mathtext."""
    return text.replace("$", r"\$")


def usd_formatter() -> FuncFormatter:
    """A tick formatter for a US-dollar axis (``$500k``, ``$1.5M``)."""
    return FuncFormatter(lambda value, _pos: escape_dollars(format_usd(value)))


def format_count(value: float) -> str:
    """A count as a short tick label: ``950``, ``7,500``, ``250k``, ``4.6M``."""
    x = float(value)
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3g}M"
    if abs(x) >= 1e5:
        return f"{x / 1e3:.3g}k"
    return f"{x:,.0f}"


def count_formatter() -> FuncFormatter:
    """A tick formatter for a count axis (requests), without an offset text."""
    return FuncFormatter(lambda value, _pos: format_count(value))


#: Width in pixels a notebook shows a figure at: JupyterLab's and Notebook 7's output area
#: at their default width is about this wide, so a wider image is scaled down to it.
DISPLAY_WIDTH_PX: int = 1000

#: Width of every instrument's figure in inches. At the display resolution of
#: :data:`FIGURE_DPI` it is exactly :data:`DISPLAY_WIDTH_PX` wide, so text keeps its size:
#: 9 pt is 12.5 px on screen (a 19-inch figure shrunk to 1000 px made it 5 px).
FIGURE_WIDTH_IN: float = 10.0

#: Resolution of the PNG a figure shows as in a notebook (inches x 100 = pixels).
FIGURE_DPI: float = 100.0


class InstrumentFigure(Figure):
    """A matplotlib Figure that a notebook displays as a PNG image, with no magic.

    A Figure built without pyplot is shown only as its ``text/plain`` repr
    (``<Figure size 1000x600 with 1 Axes>``) by ipykernel 7 with matplotlib-inline 0.2,
    unless the student first runs ``%matplotlib inline``. IPython asks an object for
    ``_repr_mimebundle_`` and ``_repr_png_`` whatever the backend, so a cell ending in
    ``plot.figure()`` shows the image in JupyterLab, Notebook 7, nbclient/nbconvert and
    Voila alike. When the inline backend has registered its own PNG formatter for
    Figures, IPython uses that one instead: still an image, never two.
    """

    def _repr_png_(self) -> bytes:
        return figure_png(self, dpi=FIGURE_DPI)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # base64 text, as a notebook stores image/png: the bundle is JSON-ready as is.
        png = base64.b64encode(self._repr_png_()).decode("ascii")
        return {"image/png": png, "text/plain": repr(self)}


def new_figure(figsize: tuple[float, float]) -> InstrumentFigure:
    """A new figure with constrained layout, not registered with pyplot.

    Built with the object API (no ``pyplot`` state): a redraw in a widget leaves no
    figure behind in pyplot's registry, and nothing is shown twice by the inline backend.
    It is an :class:`InstrumentFigure`, so a notebook cell that ends with it shows it.
    """
    return InstrumentFigure(figsize=figsize, layout="constrained")


def figure_png(fig: Figure, *, dpi: float = 100) -> bytes:
    """Render a Figure to PNG bytes (Agg, headless)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path, *, dpi: float = 150) -> Path:
    """Save a Figure to ``path`` (format from the suffix, PNG by default); return the path."""
    target = Path(path)
    fig.savefig(target, dpi=dpi, format=None if target.suffix else "png")
    return target
