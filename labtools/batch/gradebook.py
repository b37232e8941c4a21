"""The gradebook of a batch: ``gradebook.csv`` and ``feedback/``, rebuilt from the records.

``gradebook.csv`` has one row per finished submission: ``submission`` (the key naming its
files), ``student_id``, ``name``, ``email``, one column per autograded question in notebook
order, ``total``, ``possible``, ``status`` (``ok``, or ``problem`` when the submission could
not be graded as a whole: no or invalid notebook, a grader error, a crash, the time limit),
``elapsed_s``, ``graded_at`` and ``detail`` (the first problem met, if any).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labtools.batch.feedback import feedback_text
from labtools.batch.records import batch_meta, finished_results
from labtools.files import write_atomic

__all__ = ["rebuild_gradebook"]

_HEAD = ["submission", "student_id", "name", "email"]
_TAIL = ["total", "possible", "status", "elapsed_s", "graded_at", "detail"]


def _question_columns(finished: dict[str, dict[str, Any]]) -> list[str]:
    """Every question of the records, in notebook order (first met first)."""
    questions: list[str] = []
    for results in finished.values():
        for question in batch_meta(results).get("questions", []):
            if question not in questions:
                questions.append(question)
    return questions


def _gradebook_row(key: str, results: dict[str, Any]) -> dict[str, Any]:
    meta = batch_meta(results)
    scores = {t.get("name"): t.get("score") for t in results.get("tests", [])}
    return {
        "submission": key,
        "student_id": meta.get("student_id", key),
        "name": meta.get("name", ""),
        "email": meta.get("email", ""),
        **{q: scores.get(q) for q in meta.get("questions", [])},
        "total": results.get("score"),
        "possible": meta.get("possible"),
        "status": meta.get("status", "problem"),
        "elapsed_s": meta.get("elapsed_s"),
        "graded_at": meta.get("graded_at", ""),
        "detail": meta.get("detail", ""),
    }


def _refresh_feedback(output: Path, key: str, results: dict[str, Any]) -> None:
    """Rewrite ``feedback/<key>.txt`` only if its text changes (its date then means something)."""
    feedback = output / "feedback" / f"{key}.txt"
    text = feedback_text(results, student=batch_meta(results).get("student_id", key))
    if not feedback.is_file() or feedback.read_text(encoding="utf-8") != text:
        write_atomic(feedback, text)


def rebuild_gradebook(output: Path) -> Path:
    """Rewrite ``gradebook.csv`` and the feedback files from every finished result.

    Parameters
    ----------
    output : Path, a batch's output folder
        Holds ``results/<key>.json`` files written by :func:`~labtools.batch.run_batch`.

    Returns
    -------
    Path
        The gradebook written.

    Notes
    -----
    Question columns follow the notebook order recorded in the results; a question missing
    from an older result is left empty. Rows are sorted by key. A feedback file is rewritten
    only when its text changes.

    Examples
    --------
    >>> rebuild_gradebook(Path("grades"))  # doctest: +SKIP
    PosixPath('grades/gradebook.csv')
    """
    import pandas as pd

    output = Path(output)
    finished = finished_results(output)
    rows = []
    for key, results in finished.items():
        rows.append(_gradebook_row(key, results))
        _refresh_feedback(output, key, results)
    columns = [*_HEAD, *_question_columns(finished), *_TAIL]
    gradebook = output / "gradebook.csv"
    write_atomic(gradebook, pd.DataFrame(rows, columns=columns).to_csv(index=False))
    return gradebook
