"""The progress display of a batch: a bar redrawn in place on a terminal, lines otherwise."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress", "clock"]


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """A one-line progress bar on a TTY (redrawn in place), periodic lines otherwise.

    Parameters
    ----------
    stream : text stream or None
        Where it goes; None for silence.
    total : int
        Submissions of the batch.
    skipped : int
        Submissions left alone (unchanged since their finished result): done from the start.
    """

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
        eta = f", ~{clock(elapsed / graded * remaining)} left" if graded and remaining else ""
        return (
            f"[{bar}] {done}/{self.total} ({graded} graded, {self.skipped} unchanged, "
            f"{problems} problems, {running} running) {clock(elapsed)}{eta}"
        )

    def update(self, graded: int, problems: int, running: int, *, final: bool = False) -> None:
        """Show the counts, if it is time to (always when ``final``)."""
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
