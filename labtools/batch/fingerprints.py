"""Fingerprints that decide whether a finished result still holds: content and autograder hashes.

A submission is skipped when ``results/<key>.json`` holds a finished result whose submission
hash (every file of the submission, names included) and autograder hash (``ops_lab.json``,
``tests/`` and ``files/`` of the autograder, plus the grader code that runs:
``labtools.grading``, ``labtools.sandbox`` and ``opsmodel``) are the current ones
(:func:`needs_grading`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["content_hash", "autograder_hash", "lib_mismatches", "needs_grading"]

_CODE_LITTER = {"__pycache__"}


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


def lib_mismatches(source_dir: Path) -> list[str]:
    """Packages of the autograder's ``lib/`` that differ from the installed grader code.

    Workers grade with the installed code, so a difference means the batch may not grade
    as Gradescope would with that autograder zip: the batch's log says so.
    """
    lib = source_dir / "lib"
    return [
        label
        for label, installed in _grader_code_dirs().items()
        if (lib / label).is_dir()
        and content_hash(lib / label, skip_code_litter=True)
        != content_hash(installed, skip_code_litter=True)
    ]


def needs_grading(
    meta: dict[str, Any],
    submission_hash: str,
    autograder_digest: str,
    *,
    regrade: bool,
    retry_problems: bool,
) -> bool:
    """Whether a submission with this finished result is graded again.

    Parameters
    ----------
    meta : dict
        The finished result's ``extra_data.batch`` ({} when there is none).
    submission_hash, autograder_digest : str
        The current :func:`content_hash` of the submission and :func:`autograder_hash`.
    regrade : bool
        Grade again whatever the result.
    retry_problems : bool
        Grade again a result whose status is not ``ok``.

    Returns
    -------
    bool
        True unless the result is finished, both hashes are the current ones, and neither
        option asks for grading again.
    """
    unchanged = (
        bool(meta)
        and meta.get("submission_hash") == submission_hash
        and meta.get("autograder_hash") == autograder_digest
    )
    retry = retry_problems and meta.get("status") != "ok"
    return regrade or retry or not unchanged
