"""One batch per output folder: two would grade the same submissions twice."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

__all__ = ["BatchLockedError", "output_lock"]


class BatchLockedError(RuntimeError):
    """Another batch is writing to the same output folder."""


@contextlib.contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold ``output/.batch.lock`` while the block runs.

    Raises
    ------
    BatchLockedError
        If another process holds it. The lock is the kernel's (``flock``): it ends with the
        process holding it, so a killed batch never leaves the folder locked.
    """
    with (output / ".batch.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BatchLockedError(f"another batch is writing to {output}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
