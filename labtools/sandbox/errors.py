"""The sandbox's own errors and warning, and the small checks of its numeric arguments.

The sandbox runs any code under limits, so it owns its errors rather than borrow those of the
lab's model. :class:`SandboxInputError` is both a ``ValueError`` and a ``TypeError``: one
``except ValueError`` catches every bad argument, while code that catches ``TypeError`` for
the wrong kind of value still does. Messages name the argument, the allowed range and the
value, in the form ``cell_timeout_s must be in (0, inf), got 0``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = [
    "SandboxError",
    "SandboxInputError",
    "SandboxWarning",
    "check_int",
    "check_real",
]


class SandboxError(RuntimeError):
    """The sandbox cannot start (or restart) a kernel with the protections asked for."""


class SandboxWarning(UserWarning):
    """The host allows fewer protection layers than the sandbox can use."""


class SandboxInputError(ValueError, TypeError):
    """Bad argument to the sandbox (wrong kind of value, or out of its range)."""


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def _is_real_scalar(value: Any) -> bool:
    # bool is an int subclass, but True as a time limit is a bug, not an input.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given interval, or raise.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : Any
        The value to check.
    low, high : float or None
        Bounds of the allowed interval; ``None`` means unbounded.
    low_open, high_open : bool
        Whether the bound itself is excluded.

    Returns
    -------
    float
        ``value`` as a float.

    Raises
    ------
    SandboxInputError
        If ``value`` is not a real number, is NaN or infinite, or lies outside the interval.

    Examples
    --------
    >>> check_real("cell_timeout_s", 5, low=0.0, low_open=True)
    5.0
    """
    interval = _interval(low, high, low_open, high_open)
    if not _is_real_scalar(value):
        raise SandboxInputError(f"{name} must be a real number in {interval}, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise SandboxInputError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (x <= low if low_open else x < low)
    too_high = high is not None and (x >= high if high_open else x > high)
    if too_low or too_high:
        raise SandboxInputError(f"{name} must be in {interval}, got {value!r}")
    return x


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]``, or raise.

    Integral floats (``3.0``) are accepted; ``3.5``, bools, NaN and strings are not.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : Any
        The value to check.
    low, high : int or None
        Inclusive bounds; ``None`` means unbounded.

    Returns
    -------
    int
        ``value`` as an int.

    Raises
    ------
    SandboxInputError
        If ``value`` is not an integral number or lies outside ``[low, high]``.

    Examples
    --------
    >>> check_int("max_processes", 64.0, low=16, high=65536)
    64
    """
    interval = _interval(low, high, False, False)
    if not _is_real_scalar(value):
        raise SandboxInputError(f"{name} must be an integer in {interval}, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x != math.floor(x):
        raise SandboxInputError(f"{name} must be an integer in {interval}, got {value!r}")
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise SandboxInputError(f"{name} must be in {interval}, got {value!r}")
    return n
