"""The line-JSON pipe between the grader and a kernel's supervisor, read with timeouts.

The supervisor (``_supervisor.py``, run as root outside the sandbox) relays the kernel's ZMQ
messages as one JSON event per line (``{"ev": "msg" | "lost" | "garbage" | "started" |
"ready" | "error" | "exit", ...}``) and takes lines the same way: the kernel's configuration
first, then commands (``{"op": "execute" | "kernel_info" | "interrupt" | "kill", ...}``).
Lines and the queue of unread lines are capped, so a flooding kernel cannot grow the
grader's memory; anything unreadable closes the channel.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections import deque
from typing import Any

__all__ = ["ChannelClosed", "SupervisorChannel"]


class ChannelClosed(Exception):
    """The supervisor has gone, or what it sent cannot be trusted any more."""


class SupervisorChannel:
    """Line-JSON pipe to the supervisor, read with timeouts and a cap on line length.

    Parameters
    ----------
    proc : subprocess.Popen
        The supervisor, started with pipes for its stdin and stdout.
    max_line : int
        Longest line accepted; twice this may wait unread.
    """

    def __init__(self, proc: subprocess.Popen[bytes], max_line: int) -> None:
        assert proc.stdout is not None and proc.stdin is not None
        self.proc, self.max_line = proc, max_line
        self.rfd, self.wfd = proc.stdout.fileno(), proc.stdin.fileno()
        os.set_blocking(self.rfd, False)
        os.set_blocking(self.wfd, False)
        self.buf = bytearray()
        self.lines: deque[bytes] = deque()
        self.queued = 0
        self.closed = False

    def _fill(self) -> None:
        try:
            data = os.read(self.rfd, 1 << 20)
        except BlockingIOError:
            return
        if not data:
            self.closed = True
            return
        self.buf += data
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                break
            line = bytes(self.buf[:i])
            del self.buf[: i + 1]
            self.lines.append(line)
            self.queued += len(line)
        if len(self.buf) > self.max_line or self.queued > 2 * self.max_line:
            raise ChannelClosed("the supervisor's output exceeded its bounds")

    def read(self, timeout_s: float) -> dict[str, Any] | None:
        """Return the next event, ``None`` on timeout; raise ChannelClosed at the end."""
        if not self.lines and not self.closed:
            if select.select([self.rfd], [], [], max(timeout_s, 0.0))[0]:
                self._fill()
        if self.lines:
            line = self.lines.popleft()
            self.queued -= len(line)
            try:
                event = json.loads(line)
            except ValueError:
                raise ChannelClosed("unreadable line from the supervisor") from None
            if not isinstance(event, dict) or not isinstance(event.get("ev"), str):
                raise ChannelClosed("malformed event from the supervisor")
            return event
        if self.closed:
            raise ChannelClosed("supervisor closed its output")
        return None

    def send(self, obj: dict[str, Any], timeout_s: float = 10.0) -> None:
        """Write one command; keep reading meanwhile so neither side blocks the other."""
        data = memoryview((json.dumps(obj) + "\n").encode())
        end = time.monotonic() + timeout_s
        while data:
            left = end - time.monotonic()
            if left <= 0:
                raise ChannelClosed("supervisor does not read its input")
            readable, writable, _ = select.select([self.rfd], [self.wfd], [], left)
            if readable:
                self._fill()
            if writable:
                try:
                    n = os.write(self.wfd, data)
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise ChannelClosed("supervisor has gone") from None
                data = data[n:]

    def drain(self) -> list[dict[str, Any]]:
        """Return the events already waiting, without blocking."""
        events = []
        while True:
            event = self.read(0.0)
            if event is None:
                return events
            events.append(event)
