"""One submission's record in the output folder: ``results/<key>.json`` and its bookkeeping.

A record is Gradescope's ``results.json`` for the submission plus ``extra_data.batch``: who
submitted, the submission and autograder hashes, the status, timings. It is written by the
batch process as soon as a worker ends, atomically and last (after the feedback file), so a
record on disk is a finished submission: killing a batch loses only the submissions in
flight. Resuming and the gradebook read the records back.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labtools.batch.feedback import feedback_text
from labtools.batch.inputs import BatchSubmission
from labtools.files import write_atomic

__all__ = [
    "Outcome",
    "problem_results",
    "write_record",
    "read_json",
    "batch_meta",
    "finished_results",
]

#: Characters of a problem's description kept in the record (and the gradebook's column).
_MAX_DETAIL_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    """One submission's end, as the batch records it.

    Attributes
    ----------
    results : dict
        Gradescope's ``results.json`` of the submission.
    status : str
        ``"ok"`` or ``"problem"``.
    detail : str
        The first problem met, for the instructor ("" when none).
    elapsed_s : float
        Wall time of the grading, in seconds.
    worker_log : str
        The tail of the worker's output, for the batch's log.
    """

    results: dict[str, Any]
    status: str
    detail: str
    elapsed_s: float
    worker_log: str = ""


def problem_results(questions: dict[str, float], student_message: str) -> dict[str, Any]:
    """A ``results.json`` worth no point, saying ``student_message``, for every question."""
    from labtools.grading.results import build_results

    return build_results([], possible_by_question=questions, problems=[student_message])


def write_record(
    output: Path,
    submission: BatchSubmission,
    submission_hash: str,
    outcome: Outcome,
    *,
    autograder_digest: str,
    questions: dict[str, float],
) -> dict[str, Any]:
    """Write the feedback file, then the record (last: it commits); return the results.

    Parameters
    ----------
    output : Path
        The batch's output folder.
    submission : BatchSubmission
        Whose record it is.
    submission_hash : str
        The submission's content hash ("" for a submission that could not be read: it is
        graded again next time).
    outcome : Outcome
        How its grading ended.
    autograder_digest : str
        The autograder hash it was graded with.
    questions : dict of str to float
        The autograded questions and their points, in notebook order.

    Returns
    -------
    dict
        The results written, with ``extra_data.batch``.
    """
    results = dict(outcome.results)
    results["extra_data"] = {
        "batch": {
            "student_id": submission.student_id,
            "name": submission.name,
            "email": submission.email,
            "source": str(submission.path),
            "submission_hash": submission_hash,
            "autograder_hash": autograder_digest,
            "questions": list(questions),
            "possible": sum(questions.values()),
            "status": outcome.status,
            "detail": " ".join(outcome.detail.split())[:_MAX_DETAIL_CHARS],
            "elapsed_s": round(outcome.elapsed_s, 2),
            "graded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
    }
    write_atomic(
        output / "feedback" / f"{submission.key}.txt",
        feedback_text(results, student=submission.student_id),
    )
    write_atomic(output / "results" / f"{submission.key}.json", json.dumps(results))
    return results


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def batch_meta(results: dict[str, Any]) -> dict[str, Any]:
    """A record's ``extra_data.batch`` ({} when it has none: not a finished record)."""
    extra = results.get("extra_data")
    meta = extra.get("batch") if isinstance(extra, dict) else None
    return meta if isinstance(meta, dict) else {}


def finished_results(output: Path) -> dict[str, dict[str, Any]]:
    """Every finished record in ``output/results``, by key."""
    found = {}
    for path in sorted((output / "results").glob("*.json")):
        data = read_json(path)
        if data is not None and batch_meta(data):
            found[path.stem] = data
    return found
