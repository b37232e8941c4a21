"""Grading what is to be graded, ``jobs`` submissions at a time, each in its own worker.

The scheduler starts a worker per submission through the fork server
(:class:`~labtools.batch.workers.ForkServer`), enforces the time cap of each (SIGTERM, then
SIGKILL after a grace period), and records each submission as soon as its worker ends
(:func:`~labtools.batch.records.write_record`). A failure of the batch itself on one
submission is logged and the batch goes on; Ctrl-C (or SIGTERM, through ``ops-lab batch``)
stops every worker, and nothing of theirs is recorded.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labtools.batch.inputs import BatchSubmission
from labtools.batch.log import BatchLog
from labtools.batch.outcomes import worker_outcome
from labtools.batch.progress import Progress
from labtools.batch.records import Outcome, write_record
from labtools.batch.workers import POLL_S, TERMINATE_GRACE_S, ForkServer, log_tail

__all__ = ["BatchSettings", "Scheduler"]

#: Share of the time cap given to the notebook's cells when the cap is below the harness's
#: budget, leaving the rest for kernel start and the tests.
_CELL_BUDGET_SHARE = 2 / 3


@dataclass(frozen=True)
class BatchSettings:
    """How one batch grades.

    Attributes
    ----------
    output : Path
        The output folder (absolute: workers run in their own working folder).
    source : Path
        The autograder's unzipped source folder.
    notebook_name : str
        The name the grader expects the notebook under.
    questions : dict of str to float
        The autograded questions and their points, in notebook order.
    autograder_digest : str
        The autograder hash recorded with every result.
    jobs : int
        Submissions graded at once.
    timeout_s : float
        Wall-time cap of one submission.
    kernel_factory : str
        ``module:callable`` returning the KernelFactory workers grade with.
    hide : tuple of Path
        Folders the sandbox hides from the student's code (the output, the other
        submissions).
    """

    output: Path
    source: Path
    notebook_name: str
    questions: dict[str, float]
    autograder_digest: str
    jobs: int
    timeout_s: float
    kernel_factory: str
    hide: tuple[Path, ...]


@dataclass
class _Running:
    submission: BatchSubmission
    submission_hash: str
    work: Path
    tmp: Path  # the worker's temporary folder (the harness's job folder goes inside)
    started: float
    stop_sent_at: float | None = None
    killed: bool = False

    def clean(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Scheduler:
    """The state of one run: what is running, what finished, the fork server.

    Attributes
    ----------
    settings : BatchSettings
        How the batch grades.
    log : BatchLog
        Where each submission's end and each failure go.
    graded : list of str
        Keys recorded in this run, in order.
    problems_now : int
        How many of them have status ``problem``.
    server : ForkServer or None
        The fork server, started with the first worker (again if it died).
    """

    settings: BatchSettings
    log: BatchLog
    graded: list[str] = field(default_factory=list)
    problems_now: int = 0
    server: ForkServer | None = None

    # ------------------------------------------------------------------ worker start

    def _submission_dir(self, submission: BatchSubmission, work: Path) -> Path:
        """The folder graded as Gradescope's ``submission/``."""
        if submission.path.is_dir():
            return submission.path
        # A lone notebook or zip is graded as Gradescope would: alone in submission/. A
        # notebook is named as expected: its file name is the student id, not the
        # student's choice, so the grader's "your notebook is named ..." note would mislead.
        submission_dir = work / "submission"
        submission_dir.mkdir()
        is_notebook = submission.path.suffix.lower() == ".ipynb"
        name = self.settings.notebook_name if is_notebook else submission.path.name
        shutil.copyfile(submission.path, submission_dir / name)
        return submission_dir

    def _live_server(self) -> ForkServer:
        if self.server is not None and not self.server.alive:
            self.log.write("NOTE    the fork server stopped; starting another")
            self.close_server()
        if self.server is None:
            self.server = ForkServer(self.settings.kernel_factory, self.settings.output / ".work")
        return self.server

    def _task(
        self, submission: BatchSubmission, submission_dir: Path, work: Path, tmp: Path
    ) -> dict[str, Any]:
        """What the worker grades and how (JSON, for the fork server's protocol)."""
        settings = self.settings
        return {
            "submission": str(submission_dir),
            "work": str(work),
            "tmp": str(tmp),
            "source": str(settings.source),
            # The notebook's cells get what the cap leaves for kernel start and tests.
            "budget_s": settings.timeout_s * _CELL_BUDGET_SHARE,
            "kernel_factory": settings.kernel_factory,
            "hide": [str(p) for p in settings.hide],
            # Who submitted, for the roster's track (SIDs, emails, or the file's own name).
            "identities": [
                part
                for joined in (submission.student_id, submission.email)
                for part in joined.split(";")
                if part
            ],
        }

    def start(self, submission: BatchSubmission, submission_hash: str) -> _Running:
        """Start a worker grading ``submission``."""
        work = self.settings.output / ".work" / submission.key
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        submission_dir = self._submission_dir(submission, work)
        server = self._live_server()
        # The harness's job folder (a copy of the notebook) goes in here, in the system's
        # temporary folder as usual, so that the parent removes it even after a crash.
        tmp = Path(tempfile.mkdtemp(prefix=f"ops-batch-{submission.key[:40]}-"))
        server.grade(submission.key, self._task(submission, submission_dir, work, tmp))
        return _Running(submission, submission_hash, work, tmp, time.monotonic())

    # ------------------------------------------------------------------ worker end

    def commit(self, submission: BatchSubmission, submission_hash: str, outcome: Outcome) -> None:
        """Record one finished submission; the results file, written last, is the commit."""
        settings = self.settings
        results = write_record(
            settings.output,
            submission,
            submission_hash,
            outcome,
            autograder_digest=settings.autograder_digest,
            questions=settings.questions,
        )
        self.graded.append(submission.key)
        self.problems_now += outcome.status == "problem"
        score = f"{float(results.get('score', 0)):g}/{sum(settings.questions.values()):g}"
        message = (
            f"{outcome.status.upper():7} {submission.key}: {score} in {outcome.elapsed_s:.1f} s"
        )
        if outcome.detail:
            message += f": {outcome.detail}"
        # The worker's own output (warnings, the grader's tracebacks) goes with a problem,
        # or with any submission where the grader said something.
        self.log.write(message, outcome.worker_log if outcome.worker_log.strip() else "")

    def finish(self, run: _Running, code: int) -> None:
        """Record the submission of a worker that ended with ``code``, and clean up after it."""
        try:
            outcome = worker_outcome(
                run.work,
                code,
                timed_out=run.stop_sent_at is not None,
                elapsed_s=time.monotonic() - run.started,
                questions=self.settings.questions,
                timeout_s=self.settings.timeout_s,
            )
            self.commit(run.submission, run.submission_hash, outcome)
        except Exception:  # the batch's own failure on one submission: log it, go on
            self.log.write(f"ERROR   {run.submission.key}: not recorded", traceback.format_exc())
        finally:
            run.clean()

    # ------------------------------------------------------------------ scheduling

    def run(
        self, todo: list[tuple[BatchSubmission, str]], progress: Progress
    ) -> tuple[bool, list[str]]:
        """Grade ``todo`` (submissions and their hashes); return (interrupted, keys unfinished)."""
        queue = deque(todo)
        running: list[_Running] = []
        try:
            while queue or running:
                while queue and len(running) < self.settings.jobs:
                    submission, digest = queue.popleft()
                    try:
                        running.append(self.start(submission, digest))
                    except Exception:
                        self.log.write(
                            f"ERROR   {submission.key}: worker not started", traceback.format_exc()
                        )
                self.poll(running)
                progress.update(len(self.graded), self.problems_now, len(running))
                if running:
                    time.sleep(POLL_S)
        except KeyboardInterrupt:
            unfinished = [r.submission.key for r in running] + [s.key for s, _ in queue]
            self.stop_all(running)
            return True, unfinished
        finally:
            self.close_server()
        return False, []

    def close_server(self) -> None:
        """Stop the fork server; what it wrote on stderr (normally nothing) goes to the log."""
        if self.server is None:
            return
        self.server.close()
        said = log_tail(self.server.log_path)
        if said.strip():
            self.log.write("NOTE    the fork server wrote:", said)
        self.server.log_path.unlink(missing_ok=True)
        self.server = None

    def poll(self, running: list[_Running]) -> None:
        """Record the workers that ended; stop those over the time cap."""
        assert self.server is not None or not running
        if self.server is None:
            return
        self.server.poll()
        now = time.monotonic()
        for run in list(running):
            code = self.server.exit_code(run.submission.key)
            if code is not None:
                running.remove(run)
                self.finish(run, code)
            elif run.stop_sent_at is None and now - run.started > self.settings.timeout_s:
                self.server.signal(run.submission.key, signal.SIGTERM)
                run.stop_sent_at = now
            elif (
                run.stop_sent_at is not None
                and not run.killed
                and now - run.stop_sent_at > TERMINATE_GRACE_S
            ):
                self.server.signal(run.submission.key, signal.SIGKILL)
                run.killed = True

    def stop_all(self, running: list[_Running]) -> None:
        """Stop every worker (interrupted batch): nothing of theirs is recorded."""
        self.close_server()  # end of input: the server stops its workers, then itself
        for run in running:
            run.clean()
            self.log.write(f"STOPPED {run.submission.key}: batch interrupted, not recorded")
