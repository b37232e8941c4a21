"""Batch grading for instructors, without docker: many submissions in, one gradebook out.

``ops-lab batch SUBMISSIONS -o OUT`` grades every submission with the autograder (its zip or
its unzipped ``source`` folder), in parallel, with the same harness and sandbox as Gradescope
(:func:`labtools.grading.harness.grade_submission`).

Modules, one idea each, in the order a batch meets them:

``inputs``
    The input forms (a folder of files, of folders, a Gradescope export) and who submitted
    what: :func:`detect_submissions`; unpacking a zipped export or autograder.
``fingerprints``
    The submission and autograder hashes that decide whether a finished result still holds.
``lock``
    One batch per output folder.
``scheduler``, ``workers``, ``fork_server``, ``grading_worker``
    Grading ``jobs`` submissions at a time, each in a worker process forked by a fork server
    that imported the grader once; the time cap; what a worker does.
``outcomes``, ``records``
    What a worker's end means (``ok`` or ``problem``, and why), and the record written for it.
``feedback``, ``gradebook``
    The student's feedback text, and ``gradebook.csv`` rebuilt from the records.
``log``, ``progress``
    ``batch.log``, and the progress bar.
``run``, ``cli``
    :func:`run_batch`, which puts them together, and ``ops-lab batch``.

Output folder (created if needed):

``gradebook.csv``
    One row per submission: ``submission`` (the key naming its files), ``student_id``,
    ``name``, ``email``, one column per autograded question in notebook order, ``total``,
    ``possible``, ``status`` (``ok``, or ``problem`` when the submission could not be graded
    as a whole: no or invalid notebook, a grader error, a crash, the time limit),
    ``elapsed_s``, ``graded_at`` and ``detail`` (the first problem met, if any).
``feedback/<key>.txt``
    What the student may read of the results: the summary and each question's output.
``results/<key>.json``
    Gradescope's ``results.json`` for that submission, plus ``extra_data.batch`` (hashes,
    status, timings) from which the gradebook is rebuilt.
``batch.log``
    What went wrong where, appended run after run, with the grader's own errors.

Notes
-----
Each submission is graded in its own worker process, watched and stopped by the batch
itself (:mod:`labtools.batch.workers` says why not a process pool), so a worker that crashes,
runs out of memory or hangs costs only its own submission.

Resuming: a submission is skipped when ``results/<key>.json`` holds a finished result whose
submission hash and autograder hash are the current ones (:mod:`labtools.batch.fingerprints`).
Each result is written atomically (``os.replace``) by the batch as soon as its worker ends, so
killing a batch loses only the submissions in flight; the gradebook and feedback files are
rebuilt from all finished results at the end (:func:`rebuild_gradebook` does it alone).

Examples
--------
>>> from labtools.batch import run_batch
>>> summary = run_batch(Path("export.zip"), Path("grades"),  # doctest: +SKIP
...                     autograder_source=Path("dist/ops_scale-autograder.zip"), jobs=2)
>>> print(summary.describe())  # doctest: +SKIP
"""

from labtools.batch.cli import add_batch_arguments, main_batch
from labtools.batch.feedback import feedback_text
from labtools.batch.fingerprints import autograder_hash, content_hash
from labtools.batch.gradebook import rebuild_gradebook
from labtools.batch.inputs import FORMS, BatchSubmission, DetectedSubmissions, detect_submissions
from labtools.batch.lock import BatchLockedError
from labtools.batch.run import DEFAULT_KERNEL_FACTORY, DEFAULT_TIMEOUT_S, BatchSummary, run_batch

__all__ = [
    "DEFAULT_KERNEL_FACTORY",
    "DEFAULT_TIMEOUT_S",
    "FORMS",
    "BatchSubmission",
    "DetectedSubmissions",
    "BatchSummary",
    "detect_submissions",
    "content_hash",
    "autograder_hash",
    "feedback_text",
    "rebuild_gradebook",
    "run_batch",
    "add_batch_arguments",
    "main_batch",
    "BatchLockedError",
]
