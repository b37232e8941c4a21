"""The impostor audit's kernel: IPython's shell in this process, with the sandbox's kernel side.

The audit grades hundreds of submissions (every question x track x impostor); starting a
sandboxed kernel for each would take minutes. It runs only the solution and its own
impostors, so it needs no isolation, only the same calls and the same JSON results as the
sandbox: :class:`InProcessSandbox` gives exactly that.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import secrets
import time
import types
from dataclasses import dataclass
from typing import Any

from labtools.grading.kernel_calls import (
    forget_snapshots,
    snapshots_in_process,
)

__all__ = ["InProcessSandbox", "copied"]

_RESULT_MIME = "application/vnd.ops-audit.result+json"
_ATOMIC = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


@dataclass(frozen=True)
class _Cell:
    status: str
    error_name: str | None = None
    error_value: str | None = None


@dataclass(frozen=True)
class _Call:
    ok: bool
    value: Any = None
    error: str | None = None
    status: str = "ok"
    elapsed_s: float = 0.0


class InProcessSandbox:
    """The calls the grader makes of its sandboxed kernel, on IPython's shell in this process.

    The sandbox's own kernel side (:mod:`labtools.sandbox._kernel_side`) is installed in the
    shell, so a call's result becomes JSON exactly as in the sandbox. There is no isolation:
    the audit runs only the solution and its own impostors. :meth:`close` gives the shell back
    as it found it (display publisher, event callbacks, attributes) and empty.
    """

    def __init__(self) -> None:
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell

        published: list[Any] = []
        self._published = published

        class _Publisher(DisplayPublisher):
            def publish(self, data, metadata=None, *args, **kwargs):  # noqa: ANN001
                if isinstance(data, dict) and _RESULT_MIME in data:
                    published.append(data[_RESULT_MIME])

        self.shell = InteractiveShell.instance()
        self._saved_publisher = self.shell.display_pub
        self._saved_attributes = set(self.shell.__dict__)
        self._saved_callbacks = {k: list(v) for k, v in self.shell.events.callbacks.items()}
        self.shell.display_pub = _Publisher(shell=self.shell)

    def close(self) -> None:
        forget_snapshots(self.shell.user_ns)
        self.shell.reset(new_session=True)
        self.shell.display_pub = self._saved_publisher
        for name in set(self.shell.__dict__) - self._saved_attributes:
            del self.shell.__dict__[name]  # the snapshots, the kernel side's ask_exit
        for event, callbacks in self._saved_callbacks.items():
            self.shell.events.callbacks[event][:] = callbacks

    def reset(self) -> None:
        """An empty notebook with the sandbox's kernel side, as in a freshly started sandbox."""
        from labtools.sandbox.calls import KERNEL_SIDE_SCRIPT as _KERNEL_SIDE

        forget_snapshots(self.shell.user_ns)
        self.shell.reset(new_session=True)
        for event, callbacks in self._saved_callbacks.items():
            self.shell.events.callbacks[event][:] = callbacks
        config = json.dumps(
            {"max_output_chars": 1 << 20, "max_result_bytes": 1 << 20, "mime": _RESULT_MIME}
        )
        # run_cell redirects sys.stdout to a StringIO: the kernel side's output cap (which
        # patches ipykernel's stream class) finds nothing to patch in this process.
        setup = self.run_cell(
            _KERNEL_SIDE.read_text()
            + f"\n_ops_sandbox_install({config!r})\ndel _ops_sandbox_install\n"
        )
        if setup.status != "ok":
            raise RuntimeError(f"the sandbox's kernel side did not install: {setup}")

    @property
    def user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns

    @property
    def snapshots(self) -> dict[str, dict[str, Any]]:
        return snapshots_in_process(self.shell.user_ns)

    def run_cell(self, code: str) -> _Cell:
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = self.shell.run_cell(code, silent=True, store_history=False)
        if result.success:
            return _Cell("ok")
        error = result.error_in_exec or result.error_before_exec
        return _Cell("error", type(error).__name__, str(error)[:300])

    def _call(self, mode: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
        # The request the sandbox sends (labtools.sandbox.calls), answered by its kernel side.
        token = secrets.token_hex(8)
        request = json.dumps(
            {"token": token, "mode": mode, "name": name, "args": list(args), "kwargs": kwargs}
        )
        self._published.clear()
        start = time.perf_counter()
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            self.shell.user_ns["__ops_sandbox_call__"](request)
        elapsed = time.perf_counter() - start
        mine = [p for p in self._published if isinstance(p, dict) and p.get("token") == token]
        if len(mine) != 1:
            return _Call(False, error="malformed reply", status="error", elapsed_s=elapsed)
        if mine[0].get("ok") is not True:
            return _Call(False, error=mine[0].get("error"), status="error", elapsed_s=elapsed)
        return _Call(True, json.loads(mine[0]["json"]), elapsed_s=elapsed)

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> _Call:
        return self._call("call", name, args, kwargs)

    def get(self, name: str) -> _Call:
        return self._call("get", name, (), {})

    def copy_globals(self) -> dict[str, Any]:
        """The notebook's globals, see :func:`copied`."""
        hidden = set(self.shell.user_ns_hidden)
        return copied({k: v for k, v in self.shell.user_ns.items()}, keep=hidden)

    def restore_globals(self, saved: dict[str, Any]) -> None:
        # The same dict object: the notebook's functions look their globals up in it.
        self.shell.user_ns.clear()
        self.shell.user_ns.update(saved)


def copied(names: dict[str, Any], keep: set[str] = frozenset()) -> dict[str, Any]:
    """``names`` with each value copied deeply where it can be (a later cell may change an
    object in place); modules, functions, classes, dunder names and ``keep`` as they are."""
    memo: dict[int, Any] = {}
    out: dict[str, Any] = {}
    for name, value in names.items():
        if name in keep or name.startswith("__") or isinstance(value, _ATOMIC):
            out[name] = value
            continue
        try:
            out[name] = copy.deepcopy(value, memo)
        except Exception:  # not copyable: shared, as a shallow copy would be
            out[name] = value
    return out
