"""The batch's side of its worker processes: the fork server it starts, asks and watches.

Each submission is graded in its own worker process, at most ``jobs`` at a time, watched and
stopped by the batch itself rather than through a
:class:`concurrent.futures.ProcessPoolExecutor`: a pool cannot stop one running task, and
killing one of its workers breaks the whole pool (every pending future fails with
``BrokenProcessPool``). Each worker leads its own session, so the batch enforces the
wall-time cap on exactly one submission and everything it started (SIGTERM, which lets the
sandbox stop its kernel, then SIGKILL after a grace period), and a worker that crashes, runs
out of memory or hangs costs only its own submission. One process per submission is also
how Gradescope runs the harness: no state of one student's grading reaches another's.

Workers are forked from a small fork server (:mod:`labtools.batch.fork_server`, one per
batch) that has imported the grader and never grades: a ``python`` started per submission
would pay about 1.2 s of CPU for the grader's imports, a third of grading a whole notebook.
What a worker does is :mod:`labtools.batch.grading_worker`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "FORK_SERVER_MODULE",
    "POLL_S",
    "SERVER_LOST",
    "TERMINATE_GRACE_S",
    "ForkServer",
    "log_tail",
]

#: The module the fork server runs as (``python -m``). Nothing the package imports may import
#: it: ``-m`` on a module already imported by its package's ``__init__`` warns on stderr.
FORK_SERVER_MODULE = "labtools.batch.fork_server"
#: Seconds between SIGTERM (the sandbox cleans up) and SIGKILL of a stopped worker.
TERMINATE_GRACE_S = 10.0
#: Seconds between two looks at the workers, in the batch and in the fork server.
POLL_S = 0.05
#: Recorded for the workers of a fork server that died under them (no exit code is this low:
#: negative codes are signal numbers).
SERVER_LOST = -1000
# Worker output copied into batch.log at most (its tail: where the error is).
_MAX_WORKER_LOG_CHARS = 20_000


def log_tail(path: Path, limit: int = _MAX_WORKER_LOG_CHARS) -> str:
    """The last ``limit`` characters of a process's log ("" if there is none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text if len(text) <= limit else "... (earlier lines cut)\n" + text[-limit:]


class ForkServer:
    """The batch's handle on ``python -m labtools.batch.fork_server``.

    One clean interpreter per batch that imports the grader, makes the kernel factory once
    (the sandbox's kernel environment is built then, if missing), never grades, and forks one
    worker per submission on request: a fresh interpreter per submission would pay about
    1.2 s of CPU for the grader's imports (nbformat's JSON-schema checker, Otter), a third of
    grading a whole notebook here. Each worker starts in a few milliseconds in the state a
    fresh interpreter would reach, sharing the imported pages copy-on-write. The batch
    process itself is never forked, so it may have threads (a Jupyter kernel does), and the
    caller's ``__main__`` is never imported again (as :mod:`multiprocessing`'s own fork
    server would). The server owns its workers' process ids, so only it signals them: a pid
    is never signalled after it was reaped and possibly reused.

    Protocol, JSON lines: in, ``{"op": "grade", "id", "task"}`` and ``{"op": "signal", "id",
    "signal"}``; out, ``{"id", "pid"}`` when a worker started and ``{"id", "exit"}`` (the exit
    code, negative for a signal) when it ended. End of input stops the workers and the server.

    Parameters
    ----------
    kernel_factory : str
        ``module:callable`` returning the KernelFactory the workers grade with.
    workdir : Path
        The server's working folder; its stderr goes to ``fork-server.log`` there.
    """

    def __init__(self, kernel_factory: str, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "fork-server.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-P",  # the working folder stays off sys.path
                    "-m",
                    FORK_SERVER_MODULE,
                    "--kernel-factory",
                    kernel_factory,
                    "--parent-pid",
                    str(os.getpid()),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=workdir,
                start_new_session=True,  # Ctrl-C reaches the batch only, which stops workers
            )
        self.exits: dict[str, int] = {}
        self.running: set[str] = set()
        self._buffer = b""
        self.alive = True

    def _send(self, message: dict[str, Any]) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(message).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._lost()

    def grade(self, key: str, task: dict[str, Any]) -> None:
        """Ask for a worker grading ``task``, known by ``key`` from now on."""
        self.running.add(key)
        self._send({"op": "grade", "id": key, "task": task})

    def signal(self, key: str, signum: int) -> None:
        """Send ``signum`` to the worker ``key`` and all it started, if it still runs."""
        if key in self.running:
            self._send({"op": "signal", "id": key, "signal": int(signum)})

    def _lost(self) -> None:
        """The server died: every worker it had is lost (they die with it)."""
        self.alive = False
        for key in self.running:
            self.exits.setdefault(key, SERVER_LOST)
        self.running.clear()

    def poll(self) -> None:
        """Read what the server reported, without blocking."""
        stdout = self.process.stdout
        assert stdout is not None
        while self.alive and select.select([stdout], [], [], 0)[0]:
            data = os.read(stdout.fileno(), 65536)
            if not data:
                self._lost()
                break
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                if "exit" in message:
                    self.running.discard(message["id"])
                    self.exits[message["id"]] = int(message["exit"])

    def exit_code(self, key: str) -> int | None:
        """The exit code of the worker ``key`` once it ended (given once), else None."""
        return self.exits.pop(key, None)

    def close(self, *, timeout_s: float = TERMINATE_GRACE_S + 5) -> None:
        """End of input: the server stops its workers (if any), then itself."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.alive = False
