"""Input validation shared by every public function of :mod:`opsmodel`.

Every check raises :class:`InvalidInputError`, which is both a ``ValueError`` and a
``TypeError``: the spec asks that one ``except ValueError`` clause catches every bad
input, while code written in the numpy/scipy habit may still catch ``TypeError`` for
the wrong kind of value. Messages name the argument, the allowed range and the value,
in the form ``confidence must be in (0, 1), got 1.0``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "InvalidInputError",
    "check_real",
    "check_real_array",
    "check_int",
    "check_probability",
]


class InvalidInputError(ValueError, TypeError):
    """Bad input to an :mod:`opsmodel` function (wrong kind, NaN, infinity or out of range)."""


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def _in_range(
    x: np.ndarray | float, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
    ok = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        ok &= (x > low) if low_open else (x >= low)
    if high is not None:
        ok &= (x < high) if high_open else (x <= high)
    return bool(np.all(ok))


def _is_real_scalar(value: Any) -> bool:
    # bool is an int subclass, but True as a number of models is a bug, not an input.
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


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

    Raises
    ------
    InvalidInputError
        If ``value`` is not a real number, is NaN or infinite, or lies outside the interval.
    """
    interval = _interval(low, high, low_open, high_open)
    if not _is_real_scalar(value):
        raise InvalidInputError(f"{name} must be a real number in {interval}, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    if not _in_range(x, low, high, low_open, high_open):
        raise InvalidInputError(f"{name} must be in {interval}, got {value!r}")
    return x


def check_real_array(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float | np.ndarray:
    """Like :func:`check_real`, but also accept an array-like of reals (checked elementwise).

    Returns a float for scalar input and a float ndarray (same shape) otherwise.
    """
    if _is_real_scalar(value):
        return check_real(name, value, low=low, high=high, low_open=low_open, high_open=high_open)
    interval = _interval(low, high, low_open, high_open)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise InvalidInputError(
            f"{name} must be a real number or array of reals, got {value!r}"
        ) from exc
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise InvalidInputError(
            f"{name} must be a real number or array of reals in {interval}, got {value!r}"
        )
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    if not _in_range(arr, low, high, low_open, high_open):
        bad = arr[~_elementwise_ok(arr, low, high, low_open, high_open)].ravel()[0]
        raise InvalidInputError(
            f"{name} must be in {interval}, got {bad!r} among {arr.size} values"
        )
    return arr


def _elementwise_ok(
    arr: np.ndarray, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> np.ndarray:
    ok = np.ones(arr.shape, dtype=bool)
    if low is not None:
        ok &= (arr > low) if low_open else (arr >= low)
    if high is not None:
        ok &= (arr < high) if high_open else (arr <= high)
    return ok


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]``, or raise.

    Integral floats (``3.0``) are accepted; ``3.5``, bools, NaN and strings are not.
    """
    interval = _interval(low, high, False, False).replace("-inf", "-inf")
    if not _is_real_scalar(value):
        raise InvalidInputError(f"{name} must be an integer in {interval}, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x != math.floor(x):
        raise InvalidInputError(f"{name} must be an integer in {interval}, got {value!r}")
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise InvalidInputError(f"{name} must be in {interval}, got {value!r}")
    return n


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in the open interval (0, 1), or raise."""
    return check_real(name, value, low=0.0, high=1.0, low_open=True, high_open=True)
