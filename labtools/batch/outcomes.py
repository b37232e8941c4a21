"""What a worker's end means for its submission: status ``ok`` or ``problem``, and why.

A submission is ``ok`` when every question's tests ran (cells that raised cost points, not
the status); anything that kept it from being graded as a whole is a ``problem``: the time
limit, a worker that crashed or wrote nothing, a grader error, no or an invalid notebook. A
problem's results tell the student what they may know; the batch's log and the gradebook's
``detail`` column tell the instructor the rest.
"""

from __future__ import annotations

import signal
from pathlib import Path

from labtools.batch.records import Outcome, problem_results, read_json
from labtools.batch.workers import SERVER_LOST, log_tail

__all__ = ["exit_description", "worker_outcome", "unreadable_outcome"]


def exit_description(code: int) -> str:
    """Why a worker with this exit code (not 0) left no results, for the instructor."""
    if code == SERVER_LOST:
        return "the grader's fork server stopped while this submission was graded"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the grader process was killed by {name}{hint}"
    return f"the grader process exited with code {code}"


def _timed_out(
    questions: dict[str, float], timeout_s: float, elapsed_s: float, worker_log: str
) -> Outcome:
    return Outcome(
        problem_results(
            questions,
            f"Grading did not finish within the time limit ({timeout_s:g} s) and "
            "was stopped; your instructor will look at it.",
        ),
        "problem",
        f"stopped after the time limit of {timeout_s:g} s",
        elapsed_s,
        worker_log,
    )


def _stopped_unexpectedly(
    questions: dict[str, float], why: str, elapsed_s: float, worker_log: str
) -> Outcome:
    return Outcome(
        problem_results(
            questions,
            "The grader stopped unexpectedly while grading this submission; your "
            "instructor has the details.",
        ),
        "problem",
        why,
        elapsed_s,
        worker_log,
    )


def worker_outcome(
    work: Path,
    code: int,
    *,
    timed_out: bool,
    elapsed_s: float,
    questions: dict[str, float],
    timeout_s: float,
) -> Outcome:
    """The outcome of one worker, from its exit code and the files it left in ``work``.

    Parameters
    ----------
    work : Path
        The worker's working folder: ``results.json``, ``report.json``, ``worker.log``.
    code : int
        Its exit code (negative: the signal that killed it; :data:`SERVER_LOST`).
    timed_out : bool
        Whether the batch stopped it at the time limit.
    elapsed_s : float
        Wall time since it started.
    questions : dict of str to float
        The autograded questions and their points.
    timeout_s : float
        The time limit, for the messages.

    Returns
    -------
    Outcome
        The worker's results when it graded the submission, else results worth nothing
        that say what happened.
    """
    worker_log = log_tail(work / "worker.log")
    if timed_out:
        return _timed_out(questions, timeout_s, elapsed_s, worker_log)
    results = read_json(work / "results.json")
    report = read_json(work / "report.json")
    if code != 0 or results is None or report is None:
        why = exit_description(code) if code != 0 else "the grader process wrote no results"
        return _stopped_unexpectedly(questions, why, elapsed_s, worker_log)
    errors = [str(e) for e in report.get("grader_errors", [])]
    problems = [str(p) for p in report.get("problems", [])]
    # "ok": every question's tests ran (cells that raised cost points, not the status).
    all_ran = set(questions) <= set(report.get("questions_run", []))
    if errors:
        # The last line of the logged traceback names the exception.
        lines = [line.strip() for line in errors[0].splitlines() if line.strip()]
        detail = "grader internal error: " + (lines[-1] if lines else "see the log")
    else:
        detail = problems[0] if problems else ("" if all_ran else "the tests did not run")
    status = "ok" if all_ran and not errors else "problem"
    return Outcome(results, status, detail, elapsed_s, worker_log)


def unreadable_outcome(questions: dict[str, float], error: OSError) -> Outcome:
    """The outcome of a submission whose files could not be read (never given to a worker)."""
    return Outcome(
        problem_results(questions, "Your submission could not be read by the grader's computer."),
        "problem",
        f"unreadable: {error}",
        0.0,
    )
