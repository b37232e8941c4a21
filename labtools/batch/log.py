"""``batch.log``: what went wrong where, appended run after run, with the grader's own errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

__all__ = ["BatchLog"]


class BatchLog:
    """``batch.log``: appended, one timestamped line per event, blocks indented.

    Parameters
    ----------
    path : Path
        The log file, opened for appending (line-buffered: a killed batch loses no line).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream = path.open("a", encoding="utf-8", buffering=1)

    def write(self, message: str, block: str = "") -> None:
        """Log ``message`` on one line, then ``block`` (a worker's output) indented under it."""
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self._stream.write(f"{stamp} {message}\n")
        if block.strip():
            self._stream.write("".join(f"    | {line}\n" for line in block.rstrip().splitlines()))

    def close(self) -> None:
        self._stream.close()
