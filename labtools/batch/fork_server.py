"""The fork server: one process per batch that imports the grader once and forks the workers.

Run as ``python -m labtools.batch.fork_server`` by :class:`~labtools.batch.workers.ForkServer`,
which documents why and the protocol (JSON lines on stdin and stdout). The server never
grades: each worker it forks runs :func:`~labtools.batch.grading_worker.worker_process`.

Nothing in :mod:`labtools.batch` imports this module: ``python -m`` on a module its package
had already imported would warn on the server's stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

from labtools.batch.grading_worker import die_with_parent, worker_process
from labtools.batch.workers import POLL_S, TERMINATE_GRACE_S
from labtools.files import import_callable

__all__ = ["main"]


def _signal_worker(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)  # the worker and everything it started
    except ProcessLookupError:  # forked, but not yet in its own session
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _fork_worker(task: dict[str, Any], protocol_fd: int) -> int:
    """Fork one worker; in the child, grade and ``os._exit`` (never return)."""
    server_pid = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        # A worker holding the protocol pipe would hide the server's death from the batch.
        os.close(protocol_fd)
        worker_process(task, server_pid)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        # _exit: no atexit handler or inherited buffer of the server runs in a worker.
        os._exit(code)


def _prepare_kernel_factory(spec: str) -> None:
    """Make the kernel factory once, before any worker.

    The sandbox's builds its kernel environment on first use (about 20 s, once per machine),
    which is then neither charged to one submission's time cap nor raced by several workers.
    A failure is said here, in the server's log; each worker then meets it again and records
    it as that submission's error.
    """
    try:
        import_callable(spec, argument="--kernel-factory")()
    except Exception:
        print(f"the kernel factory {spec} could not be prepared:", file=sys.stderr)
        traceback.print_exc()


def _reap(workers: dict[str, int], report: Callable[[dict[str, Any]], None]) -> None:
    """Report every worker that ended, and forget it."""
    for key, pid in list(workers.items()):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            del workers[key]
            report({"id": key, "exit": os.waitstatus_to_exitcode(status)})


def _serve(protocol: TextIO) -> dict[str, int]:
    """Fork, signal and reap workers as asked until the end of input; return those left."""
    workers: dict[str, int] = {}

    def report(message: dict[str, Any]) -> None:
        # Flushed at once: a worker forked later must not inherit unwritten output.
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    buffer = b""
    while True:
        _reap(workers, report)
        if not select.select([0], [], [], POLL_S)[0]:
            continue
        data = os.read(0, 65536)
        if not data:
            return workers  # end of input: the batch finished, was interrupted or died
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if message["op"] == "grade":
                workers[message["id"]] = _fork_worker(message["task"], protocol.fileno())
                report({"id": message["id"], "pid": workers[message["id"]]})
            elif message["op"] == "signal" and message["id"] in workers:
                _signal_worker(workers[message["id"]], int(message["signal"]))


def _stop_workers(workers: dict[str, int]) -> None:
    """Stop what still runs: SIGTERM (the sandbox cleans up), then SIGKILL after the grace."""
    for pid in workers.values():
        _signal_worker(pid, signal.SIGTERM)
    deadline = time.monotonic() + TERMINATE_GRACE_S
    while workers:
        for key, pid in list(workers.items()):
            if os.waitpid(pid, os.WNOHANG)[0]:
                del workers[key]
        if time.monotonic() > deadline:
            for pid in workers.values():
                _signal_worker(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(POLL_S)


def main(argv: list[str]) -> int:
    """``python -m labtools.batch.fork_server``: serve one batch, then stop what still runs.

    Parameters
    ----------
    argv : list of str
        ``--kernel-factory MODULE:CALLABLE --parent-pid PID``.

    Returns
    -------
    int
        0 once the input ended and every worker was stopped.
    """
    parser = argparse.ArgumentParser(prog="python -m labtools.batch.fork_server")
    parser.add_argument("--kernel-factory", required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    # The protocol gets stdout's pipe to itself; whatever else prints (an import, a warning)
    # goes to stderr, the server's log.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    import labtools.grading.harness  # noqa: F401 - the point: workers start with it loaded

    _prepare_kernel_factory(args.kernel_factory)
    _stop_workers(_serve(protocol))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
