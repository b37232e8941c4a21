"""Batch grading for instructors, without docker: many submissions in, one gradebook out.

``ops-lab batch SUBMISSIONS -o OUT`` grades every submission with the autograder (its zip or
its unzipped ``source`` folder), in parallel, with the same harness and sandbox as Gradescope
(:func:`labtools.grading.harness.grade_submission`).

Input forms, detected by :func:`detect_submissions`:

``files``
    A folder of notebooks or zips, one per student (``jdoe.ipynb``, ``asmith.zip``); the
    student id is the file name without its extension. Other files are ignored (and logged).
``folders``
    A folder of sub-folders, one per student (``jdoe/ops_scale.ipynb``); the student id is the
    sub-folder's name. The sub-folder is graded as Gradescope's ``submission/`` would be.
``gradescope``
    Gradescope's "Export Submissions": ``submission_metadata.yml`` next to one
    ``submission_<id>`` folder per submission. Names, SIDs and emails of the submitters come
    from the metadata (a group submission lists them all, joined by ``;``). The export's zip,
    or a folder holding the unzipped export folder, are accepted as they are.

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
Each submission is graded in its own worker process, at most ``jobs`` at a time, watched and
stopped by the parent itself rather than through a
:class:`concurrent.futures.ProcessPoolExecutor`: a pool cannot stop one running task, and
killing one of its workers breaks the whole pool (every pending future fails with
``BrokenProcessPool``). Each worker leads its own session, so the parent enforces the
wall-time cap on exactly one submission and everything it started (SIGTERM, which lets the
sandbox stop its kernel, then SIGKILL after a grace period), and a worker that crashes, runs
out of memory or hangs costs only its own submission. One process per submission is also
how Gradescope runs the harness: no state of one student's grading reaches another's.
Workers are forked from a small fork server of this module (``python -m
labtools.grading.batch --fork-server``, one per batch) that has imported the grader and never
grades: a ``python`` started per submission would pay about 1.2 s of CPU for the grader's
imports, a third of grading a whole notebook.

Resuming: a submission is skipped when ``results/<key>.json`` holds a finished result whose
submission hash (every file of the submission, names included) and autograder hash
(``ops_lab.json``, ``tests/`` and ``files/`` of the autograder, plus the grader code that runs:
``labtools.grading``, ``labtools.sandbox`` and ``opsmodel``) are the current ones. Each result
is written atomically (``os.replace``) by the parent as soon as its worker ends, so killing a
batch loses only the submissions in flight; the gradebook and feedback files are rebuilt from
all finished results at the end (:func:`rebuild_gradebook` does it alone).

Examples
--------
>>> from labtools.grading.batch import run_batch
>>> summary = run_batch(Path("export.zip"), Path("grades"),  # doctest: +SKIP
...                     autograder_source=Path("dist/ops_scale-autograder.zip"), jobs=2)
>>> print(summary.describe())  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import yaml

from labtools.files import import_callable, unzip_fresh, write_atomic
from opsmodel._validation import InvalidInputError, check_int, check_real

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

#: The input forms :func:`detect_submissions` recognises.
FORMS = ("files", "folders", "gradescope")
#: ``module:callable`` returning the KernelFactory each worker grades with.
DEFAULT_KERNEL_FACTORY = "labtools.grading.grading_kernel:sandbox_kernel_factory"
#: Wall-time cap of one submission, enforced by the parent. Above the harness's own 600 s
#: budget for the notebook's cells, so that budget normally ends a slow notebook first and
#: the points of the tests that then run are kept; this cap is for a grader that hangs.
DEFAULT_TIMEOUT_S = 900.0
#: Share of the time cap given to the notebook's cells when the cap is below the harness's
#: budget, leaving the rest for kernel start and the tests.
_CELL_BUDGET_SHARE = 2 / 3
#: Seconds between SIGTERM (the sandbox cleans up) and SIGKILL of a stopped worker.
TERMINATE_GRACE_S = 10.0
_POLL_S = 0.05
METADATA_NAME = "submission_metadata.yml"
_SUBMISSION_SUFFIXES = (".ipynb", ".zip")
# Operating-system litter that is never a submission.
_LITTER = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}
_FACTORY_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._@+-]+")
_MAX_KEY_CHARS = 100
# Worker output copied into batch.log at most (its tail: where the error is).
_MAX_WORKER_LOG_CHARS = 20_000
_CODE_LITTER = {"__pycache__"}


# --------------------------------------------------------------------------- input forms


@dataclass(frozen=True)
class BatchSubmission:
    """One submission of the batch and who it belongs to.

    Attributes
    ----------
    key : str
        File-name-safe name, unique in the batch: ``results/<key>.json``,
        ``feedback/<key>.txt``.
    path : Path
        The notebook or zip file (``files`` form) or the folder graded.
    student_id : str
        The file or folder name, or the submitters' SIDs (Gradescope), joined by ``;``.
    name, email : str
        The submitters' names and emails when known (Gradescope), joined by ``;``.
    """

    key: str
    path: Path
    student_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class DetectedSubmissions:
    """What :func:`detect_submissions` found: the form, the submissions, what it ignored."""

    form: str
    root: Path
    submissions: tuple[BatchSubmission, ...]
    warnings: tuple[str, ...] = ()


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _LITTER


def _safe_key(text: str) -> str:
    key = _UNSAFE_KEY_CHARS.sub("_", text).strip("._")
    return key[:_MAX_KEY_CHARS] or "submission"


def _with_unique_keys(
    items: list[BatchSubmission], warnings: list[str]
) -> tuple[BatchSubmission, ...]:
    """Disambiguate keys that collide (``a b`` and ``a_b``, ``jdoe.ipynb`` and ``jdoe.zip``)."""
    taken: set[str] = set()
    unique = []
    for item in sorted(items, key=lambda s: (s.key, str(s.path))):
        key, n = item.key, 1
        while key.lower() in taken:  # lower(): case-insensitive file systems collide too
            n += 1
            key = f"{item.key}~{n}"
        if key != item.key:
            warnings.append(f"{item.path.name}: key {item.key!r} already used, named {key!r}")
        taken.add(key.lower())
        unique.append(replace(item, key=key))
    return tuple(unique)


class _LenientLoader(yaml.SafeLoader):
    """SafeLoader that reads Ruby-tagged nodes (``!ruby/object:...``) as plain data."""


def _construct_tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_LenientLoader.add_multi_constructor("!", _construct_tagged)


def _field(record: dict[Any, Any], name: str) -> Any:
    # Gradescope writes Ruby symbols as keys (":submitters", ":sid"); accept plain keys too.
    return record.get(f":{name}", record.get(name))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _read_metadata(path: Path) -> dict[str, list[dict[str, str]]]:
    """Submission folder -> its submitters (name, sid, email), from Gradescope's metadata."""
    try:
        # _LenientLoader is a SafeLoader: tags build plain data, never Python objects.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LenientLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"submissions: {path} is not readable YAML ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"submissions: {path} must map each submission folder to its submitters, "
            f"got {type(data).__name__}"
        )
    people: dict[str, list[dict[str, str]]] = {}
    for folder, record in data.items():
        submitters = _field(record, "submitters") if isinstance(record, dict) else None
        people[str(folder)] = [
            {k: _text(_field(s, k)) for k in ("name", "sid", "email")}
            for s in (submitters if isinstance(submitters, list) else [])
            if isinstance(s, dict)
        ]
    return people


def _gradescope(root: Path) -> DetectedSubmissions:
    warnings: list[str] = []
    metadata = _read_metadata(root / METADATA_NAME)
    folders = {p.name: p for p in root.iterdir() if p.is_dir() and _visible(p)}
    items = []
    for name, folder in sorted(folders.items()):
        if name not in metadata and not name.startswith("submission_"):
            warnings.append(f"{name}/: not a submission folder of the export, ignored")
            continue
        submitters = metadata.get(name)
        if submitters is None:
            warnings.append(f"{name}/: missing from {METADATA_NAME}, graded without names")
            submitters = []
        sids = [s["sid"] for s in submitters if s["sid"]]
        everyone_has_sid = bool(submitters) and len(sids) == len(submitters)
        items.append(
            BatchSubmission(
                key=_safe_key("+".join(sids) if everyone_has_sid else name),
                path=folder,
                student_id=";".join(sids) or name,
                name="; ".join(s["name"] for s in submitters if s["name"]),
                email=";".join(s["email"] for s in submitters if s["email"]),
            )
        )
    warnings += [
        f"{name}: listed in {METADATA_NAME} but its folder is missing"
        for name in sorted(set(metadata) - set(folders))
    ]
    return DetectedSubmissions(
        "gradescope", root, _with_unique_keys(items, warnings), tuple(warnings)
    )


def detect_submissions(submissions: Path) -> DetectedSubmissions:
    """Find every submission in a folder, and the form the folder has.

    Parameters
    ----------
    submissions : Path, an existing folder
        A folder of notebooks or zips (``files``), of per-student sub-folders (``folders``),
        or a Gradescope export (``gradescope``: ``submission_metadata.yml`` in the folder, or
        in its only sub-folder).

    Returns
    -------
    DetectedSubmissions
        The form, the folder the submissions are in, the submissions sorted by key, and what
        was ignored or renamed (for the log).

    Raises
    ------
    InvalidInputError
        If ``submissions`` is not a folder, holds no submission, mixes notebook files with
        sub-folders (ambiguous: move one or the other), or has unreadable metadata.

    Notes
    -----
    Hidden entries (a leading dot) and operating-system litter (``__MACOSX``,
    ``.ipynb_checkpoints``) are never submissions. Keys are the student ids with characters
    outside ``A-Za-z0-9._@+-`` replaced by ``_``; colliding keys get ``~2``, ``~3``.

    Examples
    --------
    >>> detect_submissions(Path("export")).form  # doctest: +SKIP
    'gradescope'
    """
    root = Path(submissions)
    if not root.is_dir():
        raise InvalidInputError(
            f"submissions must be a folder or a zip of a Gradescope export, got {str(root)!r}"
        )
    if (root / METADATA_NAME).is_file():
        return _gradescope(root)
    children = sorted(p for p in root.iterdir() if _visible(p))
    # Gradescope's zip unpacks to one ``assignment_<id>_export/`` folder.
    if len(children) == 1 and (children[0] / METADATA_NAME).is_file():
        return _gradescope(children[0])
    files = [p for p in children if p.is_file() and p.suffix.lower() in _SUBMISSION_SUFFIXES]
    folders = [p for p in children if p.is_dir()]
    warnings = [
        f"{p.name}: not a notebook, zip or folder, ignored"
        for p in children
        if p.is_file() and p not in files
    ]
    if files and folders:
        raise InvalidInputError(
            f"submissions must hold either notebook/zip files or per-student sub-folders, "
            f"not both; {root} has {len(files)} files ({files[0].name}, ...) and "
            f"{len(folders)} sub-folders ({folders[0].name}, ...)"
        )
    if not files and not folders:
        raise InvalidInputError(
            f"submissions must hold notebooks, zips, sub-folders or a Gradescope export; "
            f"{root} holds none"
        )
    form, entries = ("files", files) if files else ("folders", folders)
    items = [
        BatchSubmission(
            key=_safe_key(p.stem if form == "files" else p.name),
            path=p,
            student_id=p.stem if form == "files" else p.name,
        )
        for p in entries
    ]
    return DetectedSubmissions(form, root, _with_unique_keys(items, warnings), tuple(warnings))


# --------------------------------------------------------------------------- hashes


def _files_under(folder: Path, *, skip_code_litter: bool) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        if skip_code_litter:
            dirnames[:] = [d for d in dirnames if d not in _CODE_LITTER]
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_symlink() or (skip_code_litter and name.endswith(".pyc")):
                continue  # the harness never reads links; caches do not change the code
            yield path.relative_to(folder).as_posix(), path


def content_hash(path: Path, *, skip_code_litter: bool = False) -> str:
    """SHA-256 of a file or of a folder's files (relative names and contents, in order).

    Parameters
    ----------
    path : Path, an existing file or folder
        What to hash. A file is hashed with its own name, so a renamed notebook (which the
        grader reports to the student) counts as a change.
    skip_code_litter : bool
        Leave out ``__pycache__`` folders and ``.pyc`` files (for code trees).

    Returns
    -------
    str
        64 hexadecimal digits.

    Raises
    ------
    OSError
        If a file cannot be read.

    Examples
    --------
    >>> content_hash(Path("submissions/jdoe.ipynb"))  # doctest: +SKIP
    '5f0c...'
    """
    path = Path(path)
    if path.is_dir():
        entries = sorted(_files_under(path, skip_code_litter=skip_code_litter))
    else:
        entries = [(path.name, path)]
    digest = hashlib.sha256()
    for name, file in entries:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        with file.open("rb") as stream:
            for block in iter(lambda s=stream: s.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _grader_code_dirs() -> dict[str, Path]:
    """The installed code a worker grades with (the reference included: hidden tests use it)."""
    import labtools.grading
    import labtools.sandbox
    import opsmodel

    return {
        "labtools/grading": Path(labtools.grading.__file__).parent,
        "labtools/sandbox": Path(labtools.sandbox.__file__).parent,
        "opsmodel": Path(opsmodel.__file__).parent,
    }


def autograder_hash(source_dir: Path) -> str:
    """SHA-256 of what decides a grade: the autograder's config, tests, support files, code.

    Parameters
    ----------
    source_dir : Path, an unzipped autograder source folder
        Holds ``ops_lab.json``, ``tests/`` and ``files/``.

    Returns
    -------
    str
        64 hexadecimal digits; it changes when a test, a point value, the student support
        package or the installed grader code (``labtools.grading``, ``labtools.sandbox``,
        ``opsmodel``) changes.

    Examples
    --------
    >>> autograder_hash(Path("dist/autograder/source"))  # doctest: +SKIP
    '8366b3ef...'
    """
    parts = {
        "ops_lab.json": source_dir / "ops_lab.json",
        "tests": source_dir / "tests",
        "files": source_dir / "files",
        **_grader_code_dirs(),
    }
    digest = hashlib.sha256()
    for label, path in parts.items():
        present = path.exists()
        value = content_hash(path, skip_code_litter=True) if present else "absent"
        digest.update(f"{label}={value}\n".encode())
    return digest.hexdigest()


def _lib_mismatches(source_dir: Path) -> list[str]:
    """Packages of the autograder's ``lib/`` that differ from the installed grader code."""
    lib = source_dir / "lib"
    return [
        label
        for label, installed in _grader_code_dirs().items()
        if (lib / label).is_dir()
        and content_hash(lib / label, skip_code_litter=True)
        != content_hash(installed, skip_code_litter=True)
    ]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class _Outcome:
    """One submission's end, as the parent records it."""

    results: dict[str, Any]
    status: str  # "ok" or "problem"
    detail: str
    elapsed_s: float
    worker_log: str = ""


def _problem_results(questions: dict[str, float], student_message: str) -> dict[str, Any]:
    from labtools.grading.results import build_results

    return build_results([], possible_by_question=questions, problems=[student_message])


def _batch_meta(results: dict[str, Any]) -> dict[str, Any]:
    extra = results.get("extra_data")
    meta = extra.get("batch") if isinstance(extra, dict) else None
    return meta if isinstance(meta, dict) else {}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def feedback_text(results: dict[str, Any], *, student: str) -> str:
    """The student-visible text of a ``results.json``: score, summary, each test's output.

    Parameters
    ----------
    results : dict
        Gradescope results (``score``, ``output``, ``tests``); ``extra_data`` is never shown.
    student : str
        Who it is for (the submission's key), named in the first line.

    Returns
    -------
    str
        Plain text ending with a newline.

    Examples
    --------
    >>> results = {"score": 2, "output": "Well done.", "tests": [
    ...     {"name": "q1", "score": 2, "max_score": 3, "output": "q1: 2 / 3 points"}]}
    >>> print(feedback_text(results, student="jdoe"))
    Autograder feedback for jdoe
    Autograded score: 2 / 3 (written answers are graded separately)
    <BLANKLINE>
    Well done.
    <BLANKLINE>
    == q1 ==
    q1: 2 / 3 points
    <BLANKLINE>
    """
    tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
    possible = sum(float(t.get("max_score", 0) or 0) for t in tests)
    lines = [
        f"Autograder feedback for {student}",
        f"Autograded score: {float(results.get('score', 0)):g} / {possible:g} "
        "(written answers are graded separately)",
        "",
        str(results.get("output", "")).rstrip(),
    ]
    for test in tests:
        lines += ["", f"== {test.get('name', '')} ==", str(test.get("output", "")).rstrip()]
    return "\n".join(lines) + "\n"


def _finished_results(output: Path) -> dict[str, dict[str, Any]]:
    """Every finished result in ``output/results``, by key."""
    found = {}
    for path in sorted((output / "results").glob("*.json")):
        data = _read_json(path)
        if data is not None and _batch_meta(data):
            found[path.stem] = data
    return found


def rebuild_gradebook(output: Path) -> Path:
    """Rewrite ``gradebook.csv`` and the feedback files from every finished result.

    Parameters
    ----------
    output : Path, a batch's output folder
        Holds ``results/<key>.json`` files written by :func:`run_batch`.

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
    finished = _finished_results(output)
    questions: list[str] = []
    rows = []
    for key, results in finished.items():
        meta = _batch_meta(results)
        for q in meta.get("questions", []):
            if q not in questions:
                questions.append(q)
        scores = {t.get("name"): t.get("score") for t in results.get("tests", [])}
        rows.append(
            {
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
        )
        feedback = output / "feedback" / f"{key}.txt"
        text = feedback_text(results, student=meta.get("student_id", key))
        if not feedback.is_file() or feedback.read_text(encoding="utf-8") != text:
            write_atomic(feedback, text)
    head = ["submission", "student_id", "name", "email"]
    tail = ["total", "possible", "status", "elapsed_s", "graded_at", "detail"]
    table = pd.DataFrame(rows, columns=[*head, *questions, *tail])
    gradebook = output / "gradebook.csv"
    write_atomic(gradebook, table.to_csv(index=False))
    return gradebook


# --------------------------------------------------------------------------- log, progress


class _BatchLog:
    """``batch.log``: appended, one timestamped line per event, blocks indented."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream = path.open("a", encoding="utf-8", buffering=1)

    def write(self, message: str, block: str = "") -> None:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self._stream.write(f"{stamp} {message}\n")
        if block.strip():
            self._stream.write("".join(f"    | {line}\n" for line in block.rstrip().splitlines()))

    def close(self) -> None:
        self._stream.close()


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class _Progress:
    """A one-line progress bar on a TTY (redrawn in place), periodic lines otherwise."""

    _WIDTH = 24
    _TTY_EVERY_S = 0.25
    _LINE_EVERY_S = 30.0

    def __init__(self, stream: TextIO | None, total: int, skipped: int) -> None:
        self.stream = stream
        self.total = total
        self.skipped = skipped
        self.start = time.monotonic()
        try:
            self.tty = bool(stream and stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self._last_draw = float("-inf")
        self._last_line_done = -1

    def _text(self, graded: int, problems: int, running: int) -> str:
        done = self.skipped + graded
        elapsed = time.monotonic() - self.start
        filled = round(self._WIDTH * done / self.total) if self.total else self._WIDTH
        bar = "#" * filled + "-" * (self._WIDTH - filled)
        remaining = self.total - done
        eta = f", ~{_clock(elapsed / graded * remaining)} left" if graded and remaining else ""
        return (
            f"[{bar}] {done}/{self.total} ({graded} graded, {self.skipped} unchanged, "
            f"{problems} problems, {running} running) {_clock(elapsed)}{eta}"
        )

    def update(self, graded: int, problems: int, running: int, *, final: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        done = self.skipped + graded
        if self.tty:
            if final or now - self._last_draw >= self._TTY_EVERY_S:
                end = "\n" if final else ""
                self.stream.write("\r" + self._text(graded, problems, running) + "\x1b[K" + end)
                self.stream.flush()
                self._last_draw = now
            return
        # Not a terminal (a log file, CI): a line per 10 % of the batch, or every 30 s.
        step = max(self.total // 10, 1)
        crossed = done // step != self._last_line_done // step
        if done != self._last_line_done and (
            final or crossed or now - self._last_draw > self._LINE_EVERY_S
        ):
            self.stream.write("batch " + self._text(graded, problems, running) + "\n")
            self.stream.flush()
            self._last_draw, self._last_line_done = now, done


# --------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    form : str
        The input form (one of :data:`FORMS`).
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
            f"batch {state} in {_clock(self.elapsed_s)}: {self.found} submissions ({self.form}), "
            f"{len(self.graded)} graded, {len(self.skipped)} unchanged, "
            f"{len(self.problems)} with problems, {len(self.unfinished)} not finished",
            f"gradebook: {self.gradebook}",
            f"log:       {self.log}",
        ]
        if self.problems:
            shown = ", ".join(self.problems[:20]) + (" ..." if len(self.problems) > 20 else "")
            lines.append(f"problems:  {shown} (see the log and the detail column)")
        return "\n".join(lines)


class BatchLockedError(RuntimeError):
    """Another batch is writing to the same output folder."""


@contextlib.contextmanager
def _output_lock(output: Path) -> Iterator[None]:
    """One batch per output folder: two would grade the same submissions twice."""
    with (output / ".batch.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BatchLockedError(f"another batch is writing to {output}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _autograder_dir(autograder_source: Path, output: Path) -> Path:
    path = Path(autograder_source)
    if path.is_file() and zipfile.is_zipfile(path):
        path = unzip_fresh(path, output / ".autograder")
    if not (path / "ops_lab.json").is_file():
        raise InvalidInputError(
            "autograder_source must be the autograder zip or its unzipped source folder "
            f"(with ops_lab.json; `ops-lab build` writes dist/autograder/source), "
            f"got {str(autograder_source)!r}"
        )
    return path


def _input_dir(submissions: Path, output: Path) -> Path:
    path = Path(submissions)
    if path.is_file() and zipfile.is_zipfile(path):
        return unzip_fresh(path, output / ".export")
    return path


def _inside(path: Path, other: Path) -> bool:
    return path.resolve().is_relative_to(other.resolve())


def _check_arguments(
    submissions: Path, output: Path, jobs: int | None, timeout_s: float
) -> tuple[int, float]:
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
    return jobs, timeout_s


def _default_jobs() -> int:
    """The cores this process may run on (the affinity mask, as a container sets it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


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


#: Recorded for the workers of a fork server that died under them (no exit code is this low:
#: negative codes are signal numbers).
_SERVER_LOST = -1000


class _ForkServer:
    """The parent's handle on ``python -m labtools.grading.batch --fork-server``.

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
                    __name__,
                    "--fork-server",
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
        self.running.add(key)
        self._send({"op": "grade", "id": key, "task": task})

    def signal(self, key: str, signum: int) -> None:
        if key in self.running:
            self._send({"op": "signal", "id": key, "signal": int(signum)})

    def _lost(self) -> None:
        """The server died: every worker it had is lost (they die with it)."""
        self.alive = False
        for key in self.running:
            self.exits.setdefault(key, _SERVER_LOST)
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


def _tail(path: Path, limit: int = _MAX_WORKER_LOG_CHARS) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text if len(text) <= limit else "... (earlier lines cut)\n" + text[-limit:]


def _exit_description(code: int) -> str:
    if code == _SERVER_LOST:
        return "the grader's fork server stopped while this submission was graded"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the grader process was killed by {name}{hint}"
    return f"the grader process exited with code {code}"


@dataclass
class _Batch:
    """The state of one run: configuration, what is running, what finished."""

    output: Path
    source: Path
    notebook_name: str
    questions: dict[str, float]
    autograder_hash: str
    jobs: int
    timeout_s: float
    kernel_factory: str
    hide: tuple[Path, ...]
    log: _BatchLog
    graded: list[str] = field(default_factory=list)
    problems_now: int = 0
    server: _ForkServer | None = None

    # ------------------------------------------------------------------ worker start

    def start(self, submission: BatchSubmission, submission_hash: str) -> _Running:
        work = self.output / ".work" / submission.key
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        if submission.path.is_dir():
            submission_dir = submission.path
        else:
            # A lone notebook or zip is graded as Gradescope would: alone in submission/. A
            # notebook is named as expected: its file name is the student id, not the
            # student's choice, so the grader's "your notebook is named ..." note would mislead.
            submission_dir = work / "submission"
            submission_dir.mkdir()
            is_notebook = submission.path.suffix.lower() == ".ipynb"
            name = self.notebook_name if is_notebook else submission.path.name
            shutil.copyfile(submission.path, submission_dir / name)
        if self.server is not None and not self.server.alive:
            self.log.write("NOTE    the fork server stopped; starting another")
            self.close_server()
        if self.server is None:
            self.server = _ForkServer(self.kernel_factory, self.output / ".work")
        # The harness's job folder (a copy of the notebook) goes in here, in the system's
        # temporary folder as usual, so that the parent removes it even after a crash.
        tmp = Path(tempfile.mkdtemp(prefix=f"ops-batch-{submission.key[:40]}-"))
        task = {
            "submission": str(submission_dir),
            "work": str(work),
            "tmp": str(tmp),
            "source": str(self.source),
            # The notebook's cells get what the cap leaves for kernel start and tests.
            "budget_s": self.timeout_s * _CELL_BUDGET_SHARE,
            "kernel_factory": self.kernel_factory,
            "hide": [str(p) for p in self.hide],
            # Who submitted, for the roster's track (SIDs, emails, or the file's own name).
            "identities": [
                part
                for field in (submission.student_id, submission.email)
                for part in field.split(";")
                if part
            ],
        }
        self.server.grade(submission.key, task)
        return _Running(submission, submission_hash, work, tmp, time.monotonic())

    # ------------------------------------------------------------------ worker end

    def outcome(self, run: _Running, code: int, *, timed_out: bool) -> _Outcome:
        elapsed_s = time.monotonic() - run.started
        worker_log = _tail(run.work / "worker.log")
        if timed_out:
            return _Outcome(
                _problem_results(
                    self.questions,
                    f"Grading did not finish within the time limit ({self.timeout_s:g} s) and "
                    "was stopped; your instructor will look at it.",
                ),
                "problem",
                f"stopped after the time limit of {self.timeout_s:g} s",
                elapsed_s,
                worker_log,
            )
        results = _read_json(run.work / "results.json")
        report = _read_json(run.work / "report.json")
        if code != 0 or results is None or report is None:
            why = _exit_description(code) if code != 0 else "the grader process wrote no results"
            return _Outcome(
                _problem_results(
                    self.questions,
                    "The grader stopped unexpectedly while grading this submission; your "
                    "instructor has the details.",
                ),
                "problem",
                why,
                elapsed_s,
                worker_log,
            )
        errors = [str(e) for e in report.get("grader_errors", [])]
        problems = [str(p) for p in report.get("problems", [])]
        # "ok": every question's tests ran (cells that raised cost points, not the status).
        all_ran = set(self.questions) <= set(report.get("questions_run", []))
        if errors:
            # The last line of the logged traceback names the exception.
            lines = [line.strip() for line in errors[0].splitlines() if line.strip()]
            detail = "grader internal error: " + (lines[-1] if lines else "see the log")
        else:
            detail = problems[0] if problems else ("" if all_ran else "the tests did not run")
        status = "ok" if all_ran and not errors else "problem"
        return _Outcome(results, status, detail, elapsed_s, worker_log)

    def commit(self, submission: BatchSubmission, submission_hash: str, outcome: _Outcome) -> None:
        """Record one finished submission; the results file, written last, is the commit."""
        results = dict(outcome.results)
        results["extra_data"] = {
            "batch": {
                "student_id": submission.student_id,
                "name": submission.name,
                "email": submission.email,
                "source": str(submission.path),
                "submission_hash": submission_hash,
                "autograder_hash": self.autograder_hash,
                "questions": list(self.questions),
                "possible": sum(self.questions.values()),
                "status": outcome.status,
                "detail": " ".join(outcome.detail.split())[:300],
                "elapsed_s": round(outcome.elapsed_s, 2),
                "graded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }
        }
        write_atomic(
            self.output / "feedback" / f"{submission.key}.txt",
            feedback_text(results, student=submission.student_id),
        )
        write_atomic(self.output / "results" / f"{submission.key}.json", json.dumps(results))
        self.graded.append(submission.key)
        self.problems_now += outcome.status == "problem"
        score = f"{float(results.get('score', 0)):g}/{sum(self.questions.values()):g}"
        message = (
            f"{outcome.status.upper():7} {submission.key}: {score} in {outcome.elapsed_s:.1f} s"
        )
        if outcome.detail:
            message += f": {outcome.detail}"
        # The worker's own output (warnings, the grader's tracebacks) goes with a problem,
        # or with any submission where the grader said something.
        self.log.write(message, outcome.worker_log if outcome.worker_log.strip() else "")

    def finish(self, run: _Running, code: int) -> None:
        try:
            outcome = self.outcome(run, code, timed_out=run.stop_sent_at is not None)
            self.commit(run.submission, run.submission_hash, outcome)
        except Exception:  # the batch's own failure on one submission: log it, go on
            self.log.write(f"ERROR   {run.submission.key}: not recorded", traceback.format_exc())
        finally:
            run.clean()

    # ------------------------------------------------------------------ scheduling

    def run(
        self, todo: list[tuple[BatchSubmission, str]], progress: _Progress
    ) -> tuple[bool, list[str]]:
        """Grade ``todo``; returns (interrupted, keys left unfinished)."""
        queue = deque(todo)
        running: list[_Running] = []
        try:
            while queue or running:
                while queue and len(running) < self.jobs:
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
                    time.sleep(_POLL_S)
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
        said = _tail(self.server.log_path)
        if said.strip():
            self.log.write("NOTE    the fork server wrote:", said)
        self.server.log_path.unlink(missing_ok=True)
        self.server = None

    def poll(self, running: list[_Running]) -> None:
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
            elif run.stop_sent_at is None and now - run.started > self.timeout_s:
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
        :func:`main_batch`) returns too, with ``interrupted=True``, after stopping its workers
        and rewriting the gradebook from what finished.

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
    jobs, timeout_s = _check_arguments(submissions, output, jobs, timeout_s)
    if not isinstance(kernel_factory, str) or not _FACTORY_SPEC.fullmatch(kernel_factory):
        raise InvalidInputError(f"kernel_factory must be 'module:callable', got {kernel_factory!r}")
    # Absolute paths: workers run in their own working folder.
    output = Path(output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    with _output_lock(output):
        from labtools.grading.harness import load_grading_config

        source = _autograder_dir(Path(autograder_source), output).resolve()
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
        detected = detect_submissions(_input_dir(Path(submissions).resolve(), output))
        digest = autograder_hash(source)
        log = _BatchLog(output / "batch.log")
        try:
            return _run_logged(
                detected,
                output,
                log,
                source=source,
                notebook_name=config.notebook_name,
                questions=config.questions,
                autograder_digest=digest,
                jobs=jobs,
                timeout_s=timeout_s,
                regrade=regrade,
                retry_problems=retry_problems,
                progress=progress,
                kernel_factory=kernel_factory,
                started=started,
            )
        finally:
            log.close()


def _needs_grading(
    meta: dict[str, Any],
    submission_hash: str,
    autograder_digest: str,
    *,
    regrade: bool,
    retry_problems: bool,
) -> bool:
    """Whether a submission with this finished result (``meta``, or {}) is graded again."""
    unchanged = (
        bool(meta)
        and meta.get("submission_hash") == submission_hash
        and meta.get("autograder_hash") == autograder_digest
    )
    retry = retry_problems and meta.get("status") != "ok"
    return regrade or retry or not unchanged


def _run_logged(
    detected: DetectedSubmissions,
    output: Path,
    log: _BatchLog,
    *,
    source: Path,
    notebook_name: str,
    questions: dict[str, float],
    autograder_digest: str,
    jobs: int,
    timeout_s: float,
    regrade: bool,
    retry_problems: bool,
    progress: TextIO | None,
    kernel_factory: str,
    started: float,
) -> BatchSummary:
    log.write(
        f"=== batch started: {len(detected.submissions)} submissions ({detected.form}) in "
        f"{detected.root}; autograder {source} (hash {autograder_digest[:12]}); jobs {jobs}; "
        f"time limit {timeout_s:g} s"
    )
    # Left by a killed batch (the lock says no other batch is running): never a result.
    shutil.rmtree(output / ".work", ignore_errors=True)
    for warning in detected.warnings:
        log.write(f"NOTE    {warning}")
    mismatched = _lib_mismatches(source)
    if mismatched:
        log.write(
            f"NOTE    the autograder's lib/ differs from the installed {', '.join(mismatched)}; "
            "grading with the installed code (rebuild the autograder to match Gradescope)"
        )
    # The sandbox must never show a student the other submissions or the results.
    temp_root = Path(tempfile.gettempdir()).resolve()
    hide = tuple(
        p.resolve()
        for p in (output, detected.root)
        if not temp_root.is_relative_to(p.resolve())  # hiding /tmp would hide the job folder
    )
    batch = _Batch(
        output,
        source,
        notebook_name,
        questions,
        autograder_digest,
        jobs,
        timeout_s,
        kernel_factory,
        hide,
        log,
    )
    finished_before = _finished_results(output)
    todo: list[tuple[BatchSubmission, str]] = []
    skipped: list[str] = []
    for submission in detected.submissions:
        try:
            submission_hash = content_hash(submission.path)
        except OSError as exc:
            batch.commit(
                submission,
                "",  # no hash: tried again next time
                _Outcome(
                    _problem_results(
                        questions, "Your submission could not be read by the grader's computer."
                    ),
                    "problem",
                    f"unreadable: {exc}",
                    0.0,
                ),
            )
            continue
        meta = _batch_meta(finished_before.get(submission.key, {}))
        if _needs_grading(
            meta,
            submission_hash,
            autograder_digest,
            regrade=regrade,
            retry_problems=retry_problems,
        ):
            todo.append((submission, submission_hash))
        else:
            skipped.append(submission.key)
    if skipped:
        log.write(
            f"SKIP    {len(skipped)} unchanged since their finished result: " + ", ".join(skipped)
        )
    bar = _Progress(progress, len(detected.submissions), len(skipped))
    interrupted, unfinished = batch.run(todo, bar)
    bar.update(len(batch.graded), batch.problems_now, 0, final=True)
    with contextlib.suppress(OSError):
        (output / ".work").rmdir()  # empty unless a worker could not be cleaned up
    gradebook = rebuild_gradebook(output)
    current = _finished_results(output)
    keys = [s.key for s in detected.submissions]
    problems = tuple(
        k for k in keys if k in current and _batch_meta(current[k]).get("status") != "ok"
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
        graded=tuple(batch.graded),
        skipped=tuple(skipped),
        problems=problems,
        unfinished=tuple(k for k in keys if k not in current or k in unfinished),
        interrupted=interrupted,
        elapsed_s=time.monotonic() - started,
        autograder_hash=autograder_digest,
    )
    log.write(
        f"=== batch {'interrupted' if interrupted else 'finished'}: {len(summary.graded)} "
        f"graded, {len(summary.skipped)} unchanged, {len(summary.problems)} with problems, "
        f"{len(summary.unfinished)} not finished, in {summary.elapsed_s:.1f} s"
    )
    return summary


# --------------------------------------------------------------------------- command line


def add_batch_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Declare the options of ``ops-lab batch`` on ``parser``, each with its help text.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The ``batch`` sub-command's parser (any parser, in tests).

    Returns
    -------
    argparse.ArgumentParser
        ``parser``, for chaining.

    Examples
    --------
    >>> args = add_batch_arguments(argparse.ArgumentParser()).parse_args(["in", "-o", "out"])
    >>> args.jobs is None, args.timeout
    (True, 900.0)
    """
    from labtools.paths import DIST

    parser.add_argument(
        "submissions",
        type=Path,
        nargs="?",
        help="folder of notebooks/zips, of per-student folders, or a Gradescope export "
        "(folder or zip); not needed with --gradebook-only",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--autograder",
        type=Path,
        default=DIST / "autograder" / "source",
        help="autograder zip or unzipped source folder (default: %(default)s)",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=None, help="submissions graded at once (default: cores)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="wall-time cap per submission, seconds (default: %(default)g)",
    )
    parser.add_argument("--regrade", action="store_true", help="grade everything again")
    parser.add_argument(
        "--retry-problems", action="store_true", help="grade again the results with problems"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--kernel-factory",
        default=DEFAULT_KERNEL_FACTORY,
        help="MODULE:CALLABLE returning the kernel factory workers grade with "
        "(default: %(default)s, the sandbox)",
    )
    parser.add_argument(
        "--gradebook-only",
        action="store_true",
        help="only rebuild gradebook.csv and feedback/ from the results in the output folder",
    )
    return parser


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main_batch(args: argparse.Namespace) -> int:
    """Run ``ops-lab batch`` with the options of :func:`add_batch_arguments`.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    int
        0 when the batch finished (submissions with problems included: see the log), 130 when
        it was interrupted, 2 on bad input (the message goes to stderr).

    Notes
    -----
    SIGTERM is handled like Ctrl-C while the batch runs: workers are stopped, finished
    results are kept and the gradebook is rewritten from them. The summary goes to stdout,
    the progress bar to stderr.
    """
    from labtools.grading.host import HostCannotGrade

    if args.gradebook_only:
        if not (args.output / "results").is_dir():
            print(f"ops-lab batch: {args.output} holds no results/ folder", file=sys.stderr)
            return 2
        print(rebuild_gradebook(args.output))
        return 0
    if args.submissions is None:
        print("ops-lab batch: the submissions folder or zip is required", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = run_batch(
            args.submissions,
            args.output,
            autograder_source=args.autograder,
            jobs=args.jobs,
            timeout_s=args.timeout,
            regrade=args.regrade,
            retry_problems=args.retry_problems,
            progress=None if args.no_progress else sys.stderr,
            kernel_factory=args.kernel_factory,
        )
    except (InvalidInputError, BatchLockedError, HostCannotGrade) as exc:
        print(f"ops-lab batch: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary.describe())
    return 130 if summary.interrupted else 0


# --------------------------------------------------------------------------- worker


class _ErrorRecords(logging.Handler):
    """Keeps the grader's ERROR records (its internal errors, with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _die_with_parent(parent: int) -> None:
    """SIGTERM when the parent process ends: no worker or server outlives the batch."""
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


def _worker_process(task: dict[str, Any], server_pid: int) -> None:
    """A worker's life, in the process forked for one submission; the exit code is the result.

    It leads a new session (the parent stops it and all it started with one ``killpg``),
    writes its stdout and stderr to ``worker.log`` in its working folder, and grades with
    :func:`~labtools.grading.harness.grade_submission`, which writes ``results.json`` on
    every path; ``report.json`` adds what the parent needs for the gradebook and the log.
    """
    os.setsid()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    _die_with_parent(server_pid)
    work = Path(task["work"])
    os.chdir(work)
    tempfile.tempdir = task["tmp"]
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
    errors = _ErrorRecords()
    logging.getLogger("labtools").addHandler(errors)

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
    )


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
        _worker_process(task, server_pid)
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


def _fork_server_main(argv: list[str]) -> int:
    """``python -m labtools.grading.batch --fork-server``: see :class:`_ForkServer`."""
    parser = argparse.ArgumentParser(prog="labtools.grading.batch --fork-server")
    parser.add_argument("--fork-server", action="store_true", required=True)
    parser.add_argument("--kernel-factory", required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    _die_with_parent(args.parent_pid)
    # The protocol gets stdout's pipe to itself; whatever else prints (an import, a warning)
    # goes to stderr, the server's log.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    import labtools.grading.harness  # noqa: F401 - the point: workers start with it loaded

    # Make the kernel factory once before any worker: the sandbox's builds its kernel
    # environment on first use (about 20 s, once per machine), which is then neither charged
    # to one submission's time cap nor raced by several workers. A failure is said here, in
    # the log; each worker then meets it again and records it as that submission's error.
    try:
        import_callable(args.kernel_factory, argument="--kernel-factory")()
    except Exception:
        print(f"the kernel factory {args.kernel_factory} could not be prepared:", file=sys.stderr)
        traceback.print_exc()
    workers: dict[str, int] = {}

    def report(message: dict[str, Any]) -> None:
        # Flushed at once: a worker forked later must not inherit unwritten output.
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    buffer = b""
    while True:
        for key, pid in list(workers.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                del workers[key]
                report({"id": key, "exit": os.waitstatus_to_exitcode(status)})
        if not select.select([0], [], [], _POLL_S)[0]:
            continue
        data = os.read(0, 65536)
        if not data:
            break  # end of input: the batch finished, was interrupted or died
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if message["op"] == "grade":
                workers[message["id"]] = _fork_worker(message["task"], protocol.fileno())
                report({"id": message["id"], "pid": workers[message["id"]]})
            elif message["op"] == "signal" and message["id"] in workers:
                _signal_worker(workers[message["id"]], int(message["signal"]))
    # Stop what still runs: SIGTERM (the sandbox cleans up), then SIGKILL.
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
        time.sleep(_POLL_S)
    return 0


if __name__ == "__main__":
    sys.exit(_fork_server_main(sys.argv[1:]))
