"""A fake kernel for fast grading tests: IPython's own shell in this process.

It makes the calls the grader makes of the sandboxed kernel (``run_cell``, ``call``,
``get``) and gives back what the sandbox gives back: a status, plain JSON data (anything else
is an error, as the sandbox refuses it), an error's name and message, and the wall time of
the call. The sandbox itself is tested in ``test_sandbox.py``; grading through it, by the
self-check and the adversarial corpus.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from otter.test_files.ok_test import OKTestFile

from labtools.grading.kernel_calls import forget_snapshots

__all__ = ["CallResult", "InProcessKernel", "ok_test_file"]


@dataclass
class CallResult:
    """A cell's or a call's result, with the attributes the grader reads."""

    status: str
    value: Any = None
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _numpy_as_plain(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not plain data")


class InProcessKernel:
    """The calls the grader makes of a kernel, on IPython's own shell, results as JSON."""

    def __init__(self) -> None:
        self.shell = InteractiveShell.instance()
        forget_snapshots(self.shell.user_ns)
        self.shell.reset(new_session=True)
        self.ran: list[str] = []
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def run_cell(self, code: str) -> CallResult:
        self.ran.append(code)
        result = self.shell.run_cell(code, silent=True, store_history=False)
        return CallResult("ok" if result.success else "error")

    def call(self, name: str, *args: Any, **kwargs: Any) -> CallResult:
        self.calls.append((name, args))
        start = time.perf_counter()
        try:
            value = self.shell.user_ns[name](*args, **kwargs)
            # Plain data only, as the sandbox, which also turns numpy's arrays into lists.
            plain = json.loads(json.dumps(value, default=_numpy_as_plain))
        except Exception as exc:
            elapsed = time.perf_counter() - start
            return CallResult("error", error=f"{type(exc).__name__}: {exc}", elapsed_s=elapsed)
        return CallResult("ok", plain, elapsed_s=time.perf_counter() - start)

    def get(self, name: str) -> CallResult:
        return self.call("__ops_grader_value", name)


def ok_test_file(folder: Path, name: str, *cases: dict[str, Any]) -> OKTestFile:
    """An Otter OK test file ``folder/name.py`` with ``cases``.

    Each case is a dict with ``code`` and optionally ``hidden``, ``points``,
    ``failure_message`` and ``success_message``; the defaults are a public case worth 1
    point. ``code`` is a doctest if it holds ``>>>`` (statements and expected outputs), else
    statements only, one a line (indented lines continue the one above).
    """
    specs = []
    for case in cases:
        code = case["code"]
        if ">>>" not in code:
            code = "".join(
                f"... {line}\n" if line.startswith((" ", "\t")) else f">>> {line}\n"
                for line in code.strip().splitlines()
            )
        spec = {
            "code": code,
            "hidden": case.get("hidden", False),
            "locked": False,
            "points": case.get("points", 1),
        }
        for key in ("failure_message", "success_message"):
            if key in case:
                spec[key] = case[key]
        specs.append(spec)
    body = {
        "name": name,
        "points": sum(s["points"] for s in specs),
        "suites": [
            {"cases": specs, "scored": True, "setup": "", "teardown": "", "type": "doctest"}
        ],
    }
    path = folder / f"{name}.py"
    path.write_text(f"OK_FORMAT = True\n\ntest = {body!r}\n")
    return OKTestFile.from_file(str(path))
