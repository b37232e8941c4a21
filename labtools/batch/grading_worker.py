"""One worker's life: the process forked for one submission, which grades it and exits.

The worker grades with :func:`~labtools.grading.harness.grade_submission`, which writes
``results.json`` on every path, and adds ``report.json``: what the batch needs for the
gradebook and the log (the questions whose tests ran, the problems, the grader's own errors).
Its exit code, reported by the fork server, says whether it got that far.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from labtools.files import import_callable, write_atomic

__all__ = ["die_with_parent", "worker_process"]


class _ErrorRecords(logging.Handler):
    """Keeps the grader's ERROR records (its internal errors, with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def die_with_parent(parent: int) -> None:
    """SIGTERM when the parent process ends: no worker or server outlives the batch.

    Raises
    ------
    SystemExit
        If ``parent`` already ended (before the request took effect).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        raise SystemExit(3)


def _stop_on_signal(signum: int, _frame: Any) -> None:
    # SystemExit unwinds through the harness's ``finally`` and the kernel's context manager,
    # which stops the sandboxed kernel; the parent then records the time limit.
    raise SystemExit(128 + signum)


def _lazy_kernel_factory(spec: str) -> Callable[..., Any]:
    """The KernelFactory named by ``spec``, imported at the first kernel start only.

    A submission without a readable notebook never starts a kernel, so it is graded even
    where the sandbox cannot run; an import failure becomes the grader's error on the
    submissions that need a kernel.
    """

    def factory(job: Path, config: Any) -> Any:
        return import_callable(spec, argument="kernel_factory")()(job, config)

    return factory


def _output_to_log(work: Path) -> None:
    """stdin from /dev/null; stdout and stderr, of this process and all it starts, to the log."""
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(work / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)  # the sandbox's helper processes inherit these too
    os.close(null)
    os.close(log)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def _grade(task: dict[str, Any], work: Path, errors: _ErrorRecords) -> None:
    """Grade the task's submission into ``work/results.json``, then write ``report.json``."""
    from labtools.grading.harness import grade_submission, load_grading_config

    results = work / "results.json"
    config = load_grading_config(Path(task["source"]), results_dir=work)
    config = replace(
        config,
        hidden_paths=(*config.hidden_paths, *map(Path, task["hide"])),
        total_timeout_s=min(config.total_timeout_s, float(task["budget_s"])),
    )
    report = grade_submission(
        Path(task["submission"]),
        results,
        config,
        kernel_factory=_lazy_kernel_factory(task["kernel_factory"]),
        identities=task.get("identities", ()),
    )
    write_atomic(
        work / "report.json",
        json.dumps(
            {
                "elapsed_s": report.elapsed_s,
                "questions_run": [q.name for q in report.questions],
                "problems": report.problems,
                "notes": report.notes,
                "grader_errors": errors.messages,
                "protections": report.protections,
            },
            default=str,
        ),
        make_parents=False,  # the batch made the folder; gone means it gave up on us
    )


def worker_process(task: dict[str, Any], server_pid: int) -> None:
    """A worker's life, in the process forked for one submission; the exit code is the result.

    It leads a new session (the parent stops it and all it started with one ``killpg``),
    writes its stdout and stderr to ``worker.log`` in its working folder, and grades with
    :func:`~labtools.grading.harness.grade_submission`, which writes ``results.json`` on
    every path; ``report.json`` adds what the parent needs for the gradebook and the log.

    Parameters
    ----------
    task : dict
        What to grade and how, as :class:`~labtools.batch.scheduler.Scheduler` sends it:
        ``submission``, ``work``, ``tmp``, ``source``, ``budget_s``, ``kernel_factory``,
        ``hide``, ``identities``.
    server_pid : int
        The fork server's process id: the worker ends when the server does.
    """
    os.setsid()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    die_with_parent(server_pid)
    work = Path(task["work"])
    os.chdir(work)
    tempfile.tempdir = task["tmp"]
    _output_to_log(work)
    errors = _ErrorRecords()
    logging.getLogger("labtools").addHandler(errors)
    _grade(task, work, errors)
