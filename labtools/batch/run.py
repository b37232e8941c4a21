"""One batch from start to end: check the arguments, find the submissions, grade, summarise.

:func:`run_batch` takes the output folder's lock, unpacks the autograder and the export if
zipped, decides which submissions need grading (:func:`~labtools.batch.fingerprints.needs_grading`),
grades them (:class:`~labtools.batch.scheduler.Scheduler`), rebuilds the gradebook from every
finished result and returns a :class:`BatchSummary`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from labtools.batch.fingerprints import autograder_hash, content_hash, lib_mismatches, needs_grading
from labtools.batch.gradebook import rebuild_gradebook
from labtools.batch.inputs import (
    BatchSubmission,
    DetectedSubmissions,
    detect_submissions,
    unpack_autograder,
    unpack_submissions,
)
from labtools.batch.lock import output_lock
from labtools.batch.log import BatchLog
from labtools.batch.outcomes import unreadable_outcome
from labtools.batch.progress import Progress, clock
from labtools.batch.records import batch_meta, finished_results
from labtools.batch.scheduler import BatchSettings, Scheduler
from opsmodel._validation import InvalidInputError, check_int, check_real

__all__ = ["DEFAULT_KERNEL_FACTORY", "DEFAULT_TIMEOUT_S", "BatchSummary", "run_batch"]

#: ``module:callable`` returning the KernelFactory each worker grades with.
DEFAULT_KERNEL_FACTORY = "labtools.grading.grading_kernel:sandbox_kernel_factory"
#: Wall-time cap of one submission, enforced by the parent. Above the harness's own 600 s
#: budget for the notebook's cells, so that budget normally ends a slow notebook first and
#: the points of the tests that then run are kept; this cap is for a grader that hangs.
DEFAULT_TIMEOUT_S = 900.0
_FACTORY_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    form : str
        The input form (one of :data:`~labtools.batch.inputs.FORMS`).
    output, gradebook, log : Path
        The output folder, its ``gradebook.csv`` and its ``batch.log``.
    found : int
        Submissions found in the input.
    graded : tuple of str
        Keys graded in this run.
    skipped : tuple of str
        Keys left alone: finished before, submission and autograder unchanged.
    problems : tuple of str
        Keys whose current result has status ``problem`` (graded now or before).
    unfinished : tuple of str
        Keys without a finished result (the batch was interrupted before them).
    interrupted : bool
        Whether the batch was stopped (Ctrl-C, SIGTERM) before the end.
    elapsed_s : float
        Wall time of the run, in seconds.
    autograder_hash : str
        The autograder hash the results were checked against.
    """

    form: str
    output: Path
    gradebook: Path
    log: Path
    found: int
    graded: tuple[str, ...]
    skipped: tuple[str, ...]
    problems: tuple[str, ...]
    unfinished: tuple[str, ...]
    interrupted: bool
    elapsed_s: float
    autograder_hash: str

    def describe(self) -> str:
        """A few lines for the terminal."""
        state = "interrupted" if self.interrupted else "finished"
        lines = [
            f"batch {state} in {clock(self.elapsed_s)}: {self.found} submissions ({self.form}), "
            f"{len(self.graded)} graded, {len(self.skipped)} unchanged, "
            f"{len(self.problems)} with problems, {len(self.unfinished)} not finished",
            f"gradebook: {self.gradebook}",
            f"log:       {self.log}",
        ]
        if self.problems:
            shown = ", ".join(self.problems[:20]) + (" ..." if len(self.problems) > 20 else "")
            lines.append(f"problems:  {shown} (see the log and the detail column)")
        return "\n".join(lines)


# --------------------------------------------------------------------------- arguments


def _inside(path: Path, other: Path) -> bool:
    return path.resolve().is_relative_to(other.resolve())


def _default_jobs() -> int:
    """The cores this process may run on (the affinity mask, as a container sets it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def _check_arguments(
    submissions: Path, output: Path, jobs: int | None, timeout_s: float, kernel_factory: str
) -> tuple[int, float]:
    """The number of jobs and the time cap, checked; raises InvalidInputError on bad input."""
    jobs = _default_jobs() if jobs is None else check_int("jobs", jobs, low=1)
    timeout_s = check_real("timeout_s", timeout_s, low=0.0, low_open=True)
    for name, value in (("submissions", submissions), ("output", output)):
        if not isinstance(value, (str, os.PathLike)):
            raise InvalidInputError(f"{name} must be a path, got {value!r}")
    if not Path(submissions).exists():
        raise InvalidInputError(f"submissions must exist, got {str(submissions)!r}")
    if Path(submissions).is_dir() and _inside(Path(output), Path(submissions)):
        raise InvalidInputError(
            f"output must not be inside submissions (it would be read as a submission), "
            f"got {str(output)!r} inside {str(submissions)!r}"
        )
    if not isinstance(kernel_factory, str) or not _FACTORY_SPEC.fullmatch(kernel_factory):
        raise InvalidInputError(f"kernel_factory must be 'module:callable', got {kernel_factory!r}")
    return jobs, timeout_s


def _grading_config(source: Path, autograder_source: Path, kernel_factory: str) -> Any:
    """The autograder's ``GradingConfig``, once the host is known to grade safely."""
    from labtools.grading.harness import load_grading_config

    try:
        config = load_grading_config(source)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"autograder_source has an unreadable ops_lab.json ({type(exc).__name__}: "
            f"{exc}), got {str(autograder_source)!r}"
        ) from exc
    if kernel_factory == DEFAULT_KERNEL_FACTORY:
        from labtools.grading.host import check_host

        # Once, before any submission: a host that cannot grade safely is the
        # instructor's to fix, not a 0 for every student.
        check_host(config.hidden_paths)
    return config


def _hidden_from_students(output: Path, root: Path) -> tuple[Path, ...]:
    """The folders the sandbox hides: never show a student the other submissions or results."""
    temp_root = Path(tempfile.gettempdir()).resolve()
    return tuple(
        p.resolve()
        for p in (output, root)
        if not temp_root.is_relative_to(p.resolve())  # hiding /tmp would hide the job folder
    )


# --------------------------------------------------------------------------- the run


def run_batch(
    submissions: Path,
    output: Path,
    *,
    autograder_source: Path,
    jobs: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    regrade: bool = False,
    retry_problems: bool = False,
    progress: TextIO | None = None,
    kernel_factory: str = DEFAULT_KERNEL_FACTORY,
) -> BatchSummary:
    """Grade every submission of a folder or export, in parallel, resuming a previous run.

    Parameters
    ----------
    submissions : Path, an existing folder or zip
        The submissions, in one of the forms of :func:`detect_submissions`; a zip (Gradescope's
        export) is unpacked into ``output/.export`` first.
    output : Path, a folder outside ``submissions``
        Where the gradebook, feedback, results and log go; created if needed. Results already
        there are reused (see Notes).
    autograder_source : Path, the autograder zip or its unzipped source folder
        Gives the tests, the points (``ops_lab.json``) and the student support package.
    jobs : int >= 1 or None
        Submissions graded at once; None: the number of cores this process may use.
    timeout_s : float > 0
        Wall-time cap of one submission, enforced from the parent; a submission over it is
        recorded as a problem with a results file saying so.
    regrade : bool
        Grade every submission again, finished or not.
    retry_problems : bool
        Grade again the finished submissions whose status is ``problem``.
    progress : text stream or None
        Where the progress bar goes (redrawn in place on a terminal, a line per 10 %
        otherwise); None (the default) for silence. ``ops-lab batch`` uses stderr.
    kernel_factory : str, ``"module:callable"``
        The callable (no arguments) returning the KernelFactory workers grade with.

    Returns
    -------
    BatchSummary
        Counts, keys and paths. An interrupted batch (Ctrl-C, or SIGTERM through
        :func:`~labtools.batch.main_batch`) returns too, with ``interrupted=True``, after
        stopping its workers and rewriting the gradebook from what finished.

    Raises
    ------
    InvalidInputError
        If an argument is out of range or of the wrong type, the autograder source lacks
        ``ops_lab.json``, or the submissions cannot be read as a batch.
    BatchLockedError
        If another batch is writing to ``output``.

    Notes
    -----
    A submission is skipped when its finished result records the current submission hash and
    autograder hash (:func:`content_hash`, :func:`autograder_hash`). Results are committed one
    by one, atomically, as workers end, so an interrupted or killed batch resumes where it
    stopped. A problem of one submission (no notebook, a crash, a hang, a grader error) is
    recorded as that submission's result and logged; the batch goes on.

    Examples
    --------
    >>> summary = run_batch(Path("submissions"), Path("grades"),  # doctest: +SKIP
    ...                     autograder_source=Path("dist/autograder/source"), jobs=2)
    >>> summary.problems  # doctest: +SKIP
    ('jdoe',)
    """
    started = time.monotonic()
    jobs, timeout_s = _check_arguments(submissions, output, jobs, timeout_s, kernel_factory)
    # Absolute paths: workers run in their own working folder.
    output = Path(output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    with output_lock(output):
        source = unpack_autograder(Path(autograder_source), output).resolve()
        config = _grading_config(source, Path(autograder_source), kernel_factory)
        detected = detect_submissions(unpack_submissions(Path(submissions).resolve(), output))
        settings = BatchSettings(
            output=output,
            source=source,
            notebook_name=config.notebook_name,
            questions=config.questions,
            autograder_digest=autograder_hash(source),
            jobs=jobs,
            timeout_s=timeout_s,
            kernel_factory=kernel_factory,
            hide=_hidden_from_students(output, detected.root),
        )
        log = BatchLog(output / "batch.log")
        try:
            return _run_logged(
                detected,
                settings,
                log,
                regrade=regrade,
                retry_problems=retry_problems,
                progress=progress,
                started=started,
            )
        finally:
            log.close()


def _open_log(detected: DetectedSubmissions, settings: BatchSettings, log: BatchLog) -> None:
    """Say what this run grades, and what of its input it ignored or doubts."""
    log.write(
        f"=== batch started: {len(detected.submissions)} submissions ({detected.form}) in "
        f"{detected.root}; autograder {settings.source} (hash "
        f"{settings.autograder_digest[:12]}); jobs {settings.jobs}; "
        f"time limit {settings.timeout_s:g} s"
    )
    for warning in detected.warnings:
        log.write(f"NOTE    {warning}")
    mismatched = lib_mismatches(settings.source)
    if mismatched:
        log.write(
            f"NOTE    the autograder's lib/ differs from the installed {', '.join(mismatched)}; "
            "grading with the installed code (rebuild the autograder to match Gradescope)"
        )


def _to_grade(
    detected: DetectedSubmissions,
    scheduler: Scheduler,
    *,
    regrade: bool,
    retry_problems: bool,
) -> tuple[list[tuple[BatchSubmission, str]], list[str]]:
    """The submissions to grade (with their hashes) and the keys skipped as unchanged.

    A submission that cannot be read is recorded as a problem here, without a hash, so that
    it is tried again next time.
    """
    settings = scheduler.settings
    finished_before = finished_results(settings.output)
    todo: list[tuple[BatchSubmission, str]] = []
    skipped: list[str] = []
    for submission in detected.submissions:
        try:
            submission_hash = content_hash(submission.path)
        except OSError as exc:
            scheduler.commit(submission, "", unreadable_outcome(settings.questions, exc))
            continue
        meta = batch_meta(finished_before.get(submission.key, {}))
        if needs_grading(
            meta,
            submission_hash,
            settings.autograder_digest,
            regrade=regrade,
            retry_problems=retry_problems,
        ):
            todo.append((submission, submission_hash))
        else:
            skipped.append(submission.key)
    if skipped:
        scheduler.log.write(
            f"SKIP    {len(skipped)} unchanged since their finished result: " + ", ".join(skipped)
        )
    return todo, skipped


def _summarize(
    detected: DetectedSubmissions,
    scheduler: Scheduler,
    skipped: list[str],
    *,
    interrupted: bool,
    unfinished: list[str],
    started: float,
) -> BatchSummary:
    """Rebuild the gradebook from every finished result; say what the run did."""
    output, log = scheduler.settings.output, scheduler.log
    gradebook = rebuild_gradebook(output)
    current = finished_results(output)
    keys = [s.key for s in detected.submissions]
    problems = tuple(
        k for k in keys if k in current and batch_meta(current[k]).get("status") != "ok"
    )
    stale = sorted(set(current) - set(keys))
    if stale:
        log.write(
            f"NOTE    results without a submission in this input, kept in the gradebook: "
            f"{', '.join(stale)}"
        )
    summary = BatchSummary(
        form=detected.form,
        output=output,
        gradebook=gradebook,
        log=log.path,
        found=len(keys),
        graded=tuple(scheduler.graded),
        skipped=tuple(skipped),
        problems=problems,
        unfinished=tuple(k for k in keys if k not in current or k in unfinished),
        interrupted=interrupted,
        elapsed_s=time.monotonic() - started,
        autograder_hash=scheduler.settings.autograder_digest,
    )
    log.write(
        f"=== batch {'interrupted' if interrupted else 'finished'}: {len(summary.graded)} "
        f"graded, {len(summary.skipped)} unchanged, {len(summary.problems)} with problems, "
        f"{len(summary.unfinished)} not finished, in {summary.elapsed_s:.1f} s"
    )
    return summary


def _run_logged(
    detected: DetectedSubmissions,
    settings: BatchSettings,
    log: BatchLog,
    *,
    regrade: bool,
    retry_problems: bool,
    progress: TextIO | None,
    started: float,
) -> BatchSummary:
    _open_log(detected, settings, log)
    # Left by a killed batch (the lock says no other batch is running): never a result.
    shutil.rmtree(settings.output / ".work", ignore_errors=True)
    scheduler = Scheduler(settings, log)
    todo, skipped = _to_grade(detected, scheduler, regrade=regrade, retry_problems=retry_problems)
    bar = Progress(progress, len(detected.submissions), len(skipped))
    interrupted, unfinished = scheduler.run(todo, bar)
    bar.update(len(scheduler.graded), scheduler.problems_now, 0, final=True)
    with contextlib.suppress(OSError):
        (settings.output / ".work").rmdir()  # empty unless a worker could not be cleaned up
    return _summarize(
        detected,
        scheduler,
        skipped,
        interrupted=interrupted,
        unfinished=unfinished,
        started=started,
    )
