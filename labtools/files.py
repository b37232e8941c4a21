"""Files the tooling writes and archives it unpacks: atomic writes, fresh unzips, named callables.

One copy of each, for the grader (``results.json``), batch grading (per-submission results,
gradebooks), the TA workflow (sheets, packets) and the self-check.
"""

from __future__ import annotations

import importlib
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["write_atomic", "unzip_fresh", "import_callable"]


def write_atomic(path: Path, text: str, *, durable: bool = True, make_parents: bool = True) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half.

    Parameters
    ----------
    path : Path
        The file to write; its folder is created if missing.
    text : str
        UTF-8 text.
    durable : bool, default True
        Flush to disk before the rename, so that a finished file survives a crash of the
        machine too (a batch's results); False for files that are cheap to write again.
    make_parents : bool, default True
        Create the folder if missing. False where the folder's absence means its owner
        removed it on purpose (a batch cleaning up a worker it gave up on): the write then
        raises ``FileNotFoundError`` instead of bringing the folder back.

    Notes
    -----
    The temporary file sits beside ``path`` (``os.replace`` is atomic only within one file
    system) and carries the process id, so two processes writing the same file never share
    a temporary.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as stream:
        stream.write(text)
        if durable:
            stream.flush()
            os.fsync(stream.fileno())
    os.replace(tmp, path)


def unzip_fresh(archive: Path, destination: Path) -> Path:
    """Unpack ``archive`` into an emptied ``destination`` and return ``destination``.

    ``ZipFile.extractall`` drops absolute and ``..`` member paths, so no member lands
    outside ``destination``. Whatever was in ``destination`` before is removed first: a
    stale file from an earlier unpacking must never be read as part of this archive.

    Raises
    ------
    zipfile.BadZipFile
        If ``archive`` is not a zip file.
    """
    destination = Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(destination)
    return destination


def import_callable(spec: str, *, argument: str) -> Callable[..., Any]:
    """The object named by ``"module:attribute"``, imported now.

    Parameters
    ----------
    spec : str
        ``"package.module:function"``.
    argument : str
        The name of the option that gave ``spec``, for the error message.

    Raises
    ------
    ValueError
        If ``spec`` is not of the form ``module:attribute``, or names nothing importable.
    """
    module_name, sep, attribute = str(spec).partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{argument} must be 'module:function', got {spec!r}")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{argument} names nothing importable ({spec!r}): {exc}") from exc
