"""Calling a notebook's function from the grader: the request, the kernel side, the reply.

A call is a silent cell ``__ops_sandbox_call__('<request JSON>')``. The kernel side
(``_kernel_side.py``, installed in every kernel right after it starts) looks the global up,
calls or reads it, and publishes ``{"token", "ok", "json" | "error"}`` under
:data:`~labtools.sandbox.execution.RESULT_MIME`. The reply is trusted for nothing: it must
carry the request's random token, its result must be JSON text under the size cap, and it
is parsed here, never unpickled or evaluated.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from .errors import SandboxInputError
from .execution import MAX_ERROR_CHARS, RESULT_MIME, ExecutionOutcome, text_field
from .limits import SandboxLimits
from .results import CallResult

__all__ = ["KERNEL_SIDE_SCRIPT", "call_request", "kernel_side_installer", "read_call_result"]

#: Source of the kernel side: run in each kernel as a silent cell before any student code.
KERNEL_SIDE_SCRIPT = Path(__file__).with_name("_kernel_side.py")


def kernel_side_installer(limits: SandboxLimits) -> str:
    """Return the cell that installs the kernel side with the caps of ``limits``.

    Parameters
    ----------
    limits : SandboxLimits
        Output cap per cell, result cap per call, and whether displays render images.

    Returns
    -------
    str
        Python source; it leaves only ``__ops_sandbox_call__`` in the notebook's globals.
    """
    config = json.dumps(
        {
            "max_output_chars": limits.max_output_bytes,
            "max_result_bytes": limits.max_result_bytes,
            "mime": RESULT_MIME,
            "display_images": limits.display_images,
        }
    )
    return (
        KERNEL_SIDE_SCRIPT.read_text()
        + f"\n_ops_sandbox_install({config!r})\ndel _ops_sandbox_install\n"
    )


def call_request(
    mode: str, name: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, str]:
    """Return the cell that calls (``mode="call"``) or reads (``"get"``) the global ``name``.

    Parameters
    ----------
    mode : {"call", "get"}
        Call the global with the arguments, or read its value.
    name : Any
        The global's name, checked to be an identifier.
    args, kwargs : tuple and dict
        JSON-serialisable arguments.

    Returns
    -------
    code : str
        The cell to run (silently).
    token : str
        The random token the reply must carry.

    Raises
    ------
    SandboxInputError
        If ``name`` is not an identifier or the arguments are not JSON-serialisable.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise SandboxInputError(f"name must be a Python identifier, got {name!r}")
    token = secrets.token_hex(16)
    try:
        request = json.dumps(
            {"token": token, "mode": mode, "name": name, "args": list(args), "kwargs": kwargs}
        )
    except (TypeError, ValueError) as exc:
        raise SandboxInputError(f"args and kwargs must be JSON-serialisable: {exc}") from None
    return f"__ops_sandbox_call__({request!r})", token


def read_call_result(outcome: ExecutionOutcome, token: str, max_result_bytes: int) -> CallResult:
    """Return the value the call's reply carries, or why there is none.

    Parameters
    ----------
    outcome : ExecutionOutcome
        The execution of the cell from :func:`call_request`.
    token : str
        The request's token; payloads without it are ignored.
    max_result_bytes : int
        Largest JSON text accepted.

    Returns
    -------
    CallResult
        ``ok`` with the parsed value; otherwise the execution's failure (timeout, dead
        kernel, ...), the student's exception, or what is wrong with the reply.
    """
    cell = outcome.cell
    if cell.status != "ok":
        return CallResult(
            False,
            error=f"{cell.error_name}: {cell.error_value}",
            status=cell.status,
            elapsed_s=cell.elapsed_s,
        )

    def fail(why: str) -> CallResult:
        return CallResult(False, error=why, status="error", elapsed_s=cell.elapsed_s)

    mine = [p for p in outcome.payloads if isinstance(p, dict) and p.get("token") == token]
    if len(mine) != 1:
        return fail(f"malformed reply: expected one result, got {len(mine)}")
    payload = mine[0]
    if payload.get("ok") is not True:
        error = text_field(payload.get("error"), MAX_ERROR_CHARS)
        return fail(error or "malformed reply: no error text")
    text = payload.get("json")
    if not isinstance(text, str):
        return fail("malformed reply: result is not JSON text")
    if len(text.encode("utf-8", "replace")) > max_result_bytes:
        return fail(f"result is larger than {max_result_bytes} bytes")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return fail(f"malformed reply: {type(exc).__name__}")
    return CallResult(True, value=value, status="ok", elapsed_s=cell.elapsed_s)
