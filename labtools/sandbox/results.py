"""What a cell or a call produced, as the trusted side reports it.

:class:`CellResult` for a cell, :class:`CallResult` for a call of (or a read of) a notebook
global; both carry one of the :data:`Status` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CallResult", "CellResult", "Status"]

Status = Literal["ok", "error", "timeout", "dead", "output_limit"]


@dataclass(frozen=True)
class CellResult:
    """What running one cell produced, as seen from the trusted side.

    Attributes
    ----------
    status : {"ok", "error", "timeout", "dead", "output_limit"}
        ``"error"``: the cell raised; ``"timeout"``: it ran past the cell limit (or the total
        budget was spent); ``"dead"``: the kernel died or its messages stopped making sense;
        ``"output_limit"``: a message over the size cap was dropped or the output flooded.
    stdout, stderr : str
        Streams, truncated with a marker (together with ``outputs``) to ``max_output_bytes``.
    outputs : tuple of str
        ``text/plain`` of the cell's results and displays.
    error_name, error_value : str or None
        Exception class name and message (truncated), or the sandbox's ``Timeout``,
        ``KernelDied``, ``OutputLimit`` and a sentence.
    traceback : str
        The kernel's traceback without colour codes (truncated), or ``""``.
    elapsed_s : float
        Wall-clock time of the cell, including any kill and restart (not the replay).
    truncated : bool
        Output was dropped (by the cap or with a lost message).
    restarted : bool
        The kernel was killed and restarted because of this cell; earlier successful cells
        were replayed (see :attr:`SandboxedKernel.dropped_cells`).
    """

    status: Status
    stdout: str = ""
    stderr: str = ""
    outputs: tuple[str, ...] = ()
    error_name: str | None = None
    error_value: str | None = None
    traceback: str = ""
    elapsed_s: float = 0.0
    truncated: bool = False
    restarted: bool = False


@dataclass(frozen=True)
class CallResult:
    """The result of calling (or reading) a notebook global.

    Attributes
    ----------
    ok : bool
        A value came back.
    value : None, bool, int, float, str, list or dict
        The JSON-parsed result (plain Python data; ``NaN`` and infinities are allowed), or
        ``None`` when not ``ok``.
    error : str or None
        Why there is no value: the student's exception, a non-serialisable result, a timeout,
        a dead kernel, a result over the size cap or a malformed reply.
    status : {"ok", "error", "timeout", "dead", "output_limit"}
        As for :class:`CellResult`.
    elapsed_s : float
        Wall-clock time of the call.
    """

    ok: bool
    value: Any = None
    error: str | None = None
    status: Status = "ok"
    elapsed_s: float = 0.0
