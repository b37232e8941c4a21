"""The autograding workers: N processes, students handed out one at a time, stuck ones replaced.

Each slot keeps one :mod:`~labtools.nbgrader_course.autograde_worker` process, gives it the
next student waiting, and waits for its answer up to a time limit. A worker that passes the
limit, or dies (a crash, the out-of-memory killer), is killed with its process group and that
student is recorded as such; the slot starts a fresh worker for the next student. Handing
students out one at a time keeps the slots busy however long each notebook takes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkerAnswer", "run_workers"]


@dataclass(frozen=True)
class WorkerAnswer:
    """What became of one student.

    Attributes
    ----------
    student : str
        The student id.
    status : str
        ``done`` (nbgrader ran: see ``success``), ``timeout`` or ``died``.
    success : bool
        Whether nbgrader autograded without an error.
    seconds : float
        Time from handing the student out to the answer.
    log : str
        nbgrader's log of that student, and its traceback if any; for a worker that died,
        the end of its standard error.
    """

    student: str
    status: str
    success: bool
    seconds: float
    log: str


class _Worker:
    """One worker process and the bytes of its answers read so far."""

    def __init__(self, course_dir: Path, *, force: bool, stderr_path: Path) -> None:
        # nbgrader runs `alembic` from PATH: this interpreter's bin folder first.
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
        self.stderr_path = stderr_path
        with stderr_path.open("ab") as stderr:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "labtools.nbgrader_course.autograde_worker",
                    str(course_dir),
                    *(["--force"] if force else []),
                ],
                cwd=course_dir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                bufsize=0,
                start_new_session=True,  # its own process group, killed as one
            )
        self.buffer = b""

    def ask(self, student: str, timeout_s: float) -> WorkerAnswer:
        start = time.monotonic()
        try:
            self.proc.stdin.write((json.dumps(student) + "\n").encode())
            self.proc.stdin.flush()
            line = self._read_line(start + timeout_s)
        except (BrokenPipeError, EOFError):
            return WorkerAnswer(student, "died", False, time.monotonic() - start, self._stderr())
        if line is None:
            return WorkerAnswer(
                student, "timeout", False, time.monotonic() - start, f"over {timeout_s:g} s"
            )
        answer = json.loads(line)
        log = answer["log"] + (f"\n{answer['error']}" if answer.get("error") else "")
        return WorkerAnswer(student, "done", answer["success"], answer["seconds"], log)

    def _read_line(self, deadline: float) -> str | None:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise EOFError
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8")

    def _stderr(self) -> str:
        self.kill()
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "the worker process died; the end of its output:\n" + text[-4000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def close(self) -> None:
        """Let the worker finish: its input closes, it exits; killed if it does not."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


def run_workers(
    course_dir: Path,
    students: Iterable[str],
    *,
    jobs: int,
    force: bool,
    timeout_s: float,
    on_answer: Callable[[WorkerAnswer], None],
) -> None:
    """Autograde ``students``, ``jobs`` worker processes at a time (module docstring).

    Parameters
    ----------
    course_dir : Path
        The course folder.
    students : iterable of str
        Student ids, handed out in this order.
    jobs : int >= 1
        Worker processes at a time.
    force : bool
        nbgrader's ``--force``.
    timeout_s : float
        Time one student may take.
    on_answer : callable
        Called with each student's :class:`WorkerAnswer` as soon as it is known (from the
        slots' threads, one at a time).
    """
    pending = list(students)
    lock = threading.Lock()

    def next_student() -> str | None:
        with lock:
            return pending.pop(0) if pending else None

    def slot(k: int, logs: Path) -> None:
        worker = None
        while (student := next_student()) is not None:
            if worker is None:
                worker = _Worker(course_dir, force=force, stderr_path=logs / f"worker{k}.err")
            answer = worker.ask(student, timeout_s)
            if answer.status != "done":
                worker.kill()
                worker = None
            with lock:
                on_answer(answer)
        if worker is not None:
            worker.close()

    with tempfile.TemporaryDirectory(prefix="ops-autograde-") as tmp:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for future in [pool.submit(slot, k, Path(tmp)) for k in range(jobs)]:
                future.result()
