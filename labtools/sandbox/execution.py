"""One execute request in the kernel: sending it, following its events, and judging the end.

The kernel answers an ``execute_request`` on two channels: the ``execute_reply`` on shell,
and the cell's outputs followed by an ``idle`` status on iopub. :func:`execute` sends the
request through the supervisor and follows the events until both are in, enforcing on the
way the time limit (SIGINT, then a grace period before the kernel counts as lost), the
output cap (eight times ``max_output_bytes`` received interrupts the cell) and the sanity
of the messages (garbage that does not stop within a second means the kernel's messaging is
broken). What it saw becomes an :class:`ExecutionOutcome`: the :class:`CellResult` the
grader sees, and what the kernel class needs to decide on a restart.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .channel import ChannelClosed, SupervisorChannel
from .limits import SandboxLimits
from .results import CellResult, Status

__all__ = ["RESULT_MIME", "ExecutionOutcome", "budget_spent", "execute", "text_field"]

#: MIME type under which the kernel side publishes call results (never shown as output).
RESULT_MIME = "application/vnd.ops-sandbox.result+json"
# ipykernel publishes "idle" right after the reply; past this, iopub lost something.
_IOPUB_GRACE_S = 1.0
# After a message that fails to verify or parse, wait this long for a valid reply before
# declaring the kernel's messaging broken (a student who patched json.dumps).
_GARBAGE_GRACE_S = 1.0
_MAX_ERROR_NAME_CHARS = 200
MAX_ERROR_CHARS = 4000
_MAX_TRACEBACK_CHARS = 20000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class ExecutionOutcome:
    """What one execution produced, and what it says about the kernel.

    Attributes
    ----------
    cell : CellResult
        The result as the grader sees it (``restarted`` is left to the kernel class).
    kernel_ok : bool
        The kernel is still usable: it was neither killed after an interrupt nor found dead.
    succeeded : bool
        The code ran to completion without an exception and without an interrupt: a cell
        worth replaying after a restart.
    payloads : tuple
        Data the kernel side published under :data:`RESULT_MIME` (call results).
    """

    cell: CellResult
    kernel_ok: bool
    succeeded: bool
    payloads: tuple[Any, ...] = ()


def budget_spent(total_timeout_s: float) -> ExecutionOutcome:
    """Return the outcome of code that cannot run because the notebook's budget is spent.

    Parameters
    ----------
    total_timeout_s : float
        The spent budget, for the message.

    Returns
    -------
    ExecutionOutcome
        A ``"timeout"`` that took no time and leaves the kernel as it was.
    """
    cell = CellResult(
        "timeout",
        error_name="Timeout",
        error_value=f"total time budget of {total_timeout_s:g} s is spent",
    )
    return ExecutionOutcome(cell, kernel_ok=True, succeeded=False)


def text_field(value: Any, limit: int) -> str | None:
    """Return ``value`` if it is a string, cut to ``limit`` characters with a marker.

    Parameters
    ----------
    value : Any
        A field of a message from the kernel (which may hold anything).
    limit : int
        Characters kept.

    Returns
    -------
    str or None
        The text, with lone surrogates replaced; ``None`` if ``value`` is not a string.
    """
    if not isinstance(value, str):
        return None
    # Lone surrogates (valid in JSON escapes) would break a later encode: replace them.
    clean = value[: limit + 1].encode("utf-8", "replace").decode("utf-8")
    return clean if len(clean) <= limit else clean[:limit] + " [truncated]"


def execute(
    chan: SupervisorChannel,
    code: str,
    *,
    silent: bool,
    limit_s: float,
    limits: SandboxLimits,
) -> ExecutionOutcome:
    """Run ``code`` in the kernel behind ``chan`` and return what came of it.

    Parameters
    ----------
    chan : SupervisorChannel
        The channel to the kernel's supervisor.
    code : str
        The code to run.
    silent : bool
        Run without publishing results or storing history (the sandbox's own requests).
    limit_s : float
        Wall-clock limit; past it the kernel is interrupted, and after
        ``limits.interrupt_grace_s`` more it is given up (``kernel_ok`` is false).
    limits : SandboxLimits
        Output cap, message cap and interrupt grace.

    Returns
    -------
    ExecutionOutcome
        The cell's result and the state of the kernel.
    """
    start = time.monotonic()
    run = _Execution(chan, limits, deadline=start + limit_s, limit_s=limit_s)
    run.follow(code, silent)
    return run.outcome(time.monotonic() - start)


class _Collector:
    """Keeps at most ``cap`` bytes of a cell's text output, with a marker where cut."""

    def __init__(self, cap: int) -> None:
        self.cap, self.used, self.received = cap, 0, 0
        self.streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.outputs: list[str] = []
        self.truncated = False

    def add(self, kind: str, text: Any) -> None:
        if not isinstance(text, str):
            return
        data = text.encode("utf-8", "replace")
        self.received += len(data)
        if self.truncated:
            return
        left = self.cap - self.used
        if len(data) > left:
            self.truncated = True
            kept = data[: max(left, 0)].decode("utf-8", "ignore")
            text = kept + f"\n[output truncated by the sandbox after {self.cap} bytes]\n"
            self.used = self.cap
        else:
            text = data.decode("utf-8")
            self.used += len(data)
        if kind in self.streams:
            self.streams[kind].append(text)
        else:
            self.outputs.append(text)


class _Execution:
    """The state of one execute request in flight, and the steps that move it on."""

    def __init__(
        self, chan: SupervisorChannel, limits: SandboxLimits, *, deadline: float, limit_s: float
    ) -> None:
        self.chan, self.limits = chan, limits
        self.deadline, self.limit_s = deadline, limit_s
        self.msg_id = uuid.uuid4().hex
        self.out = _Collector(limits.max_output_bytes)
        self.reply: dict[str, Any] | None = None
        self.error_msg: dict[str, Any] | None = None
        self.payloads: list[Any] = []
        self.idle = self.lost_output = self.barrier_done = self.killed = False
        self.barrier_id: str | None = None
        self.shell_done_at: float | None = None
        self.garbage_at: float | None = None
        self.interrupt_at: float | None = None
        # Why the kernel was interrupted, if it was.
        self.reason: Status = "timeout"
        self.dead_detail: str | None = None

    # ------------------------------------------------------------------ following events

    def follow(self, code: str, silent: bool) -> None:
        """Send the request and follow its events until it ends, one way or another."""
        try:
            self._check_kernel_alive()
            self._send_request(code, silent)
            while True:
                now = time.monotonic()
                if self._time_to_stop(now):
                    break
                event = self.chan.read(self._seconds_to_next_check(now))
                if event is not None and self._take(event, now):
                    break
        except ChannelClosed as exc:
            self.dead_detail = self.dead_detail or str(exc)

    def _check_kernel_alive(self) -> None:
        # Events left over from earlier executions (late output, a late reply) are dropped;
        # an exit among them means the kernel is already gone.
        for event in self.chan.drain():
            if event["ev"] == "exit":
                raise ChannelClosed(f"kernel exited with code {event.get('code')}")

    def _send_request(self, code: str, silent: bool) -> None:
        self.chan.send(
            {
                "op": "execute",
                "msg_id": self.msg_id,
                "code": code,
                "silent": silent,
                "store_history": not silent,
            }
        )

    def _interrupt(self) -> None:
        try:
            self.chan.send({"op": "interrupt"}, timeout_s=1.0)
        except ChannelClosed:
            pass

    def _time_to_stop(self, now: float) -> bool:
        """Enforce the time limits; return whether following the events is over."""
        if self.reply is not None or self.barrier_done:
            self.shell_done_at = self.shell_done_at or now
            if self.idle:
                return True
            if now - self.shell_done_at > _IOPUB_GRACE_S:
                self.lost_output = True
                return True
        if self.interrupt_at is None and now >= self.deadline:
            self._interrupt()
            self.interrupt_at = now
        if self.interrupt_at is not None and now >= self.interrupt_at + self._grace_s:
            self.killed = True
            return True
        if self.garbage_at is not None and now >= self.garbage_at + _GARBAGE_GRACE_S:
            self.dead_detail = "the kernel's messages are malformed (json patched?)"
            return True
        return False

    @property
    def _grace_s(self) -> float:
        return self.limits.interrupt_grace_s

    def _seconds_to_next_check(self, now: float) -> float:
        wake = [self.deadline if self.interrupt_at is None else self.interrupt_at + self._grace_s]
        if self.shell_done_at is not None:
            wake.append(self.shell_done_at + _IOPUB_GRACE_S)
        if self.garbage_at is not None:
            wake.append(self.garbage_at + _GARBAGE_GRACE_S)
        return max(min(wake) - now, 0.0) + 0.001

    def _take(self, event: dict[str, Any], now: float) -> bool:
        """Take one event from the supervisor; return whether it ends the execution."""
        kind = event["ev"]
        if kind == "exit":
            self.dead_detail = f"kernel exited with code {event.get('code')}"
            return True
        if kind == "error":
            self.dead_detail = f"supervisor: {event.get('error')}"
            return True
        if kind == "garbage":
            self.garbage_at = self.garbage_at or now
            return False
        # A valid message after garbage: the kernel's messaging still works.
        self.garbage_at = None
        if kind == "lost":
            self._on_lost(event)
        elif kind == "msg":
            self._on_message(event)
        return False

    def _on_lost(self, event: dict[str, Any]) -> None:
        self.lost_output = True
        if event.get("ch") == "shell" and self.reply is None and self.barrier_id is None:
            # The reply may have been the message that was dropped: a kernel_info request
            # queues behind the execution and marks its end.
            self.barrier_id = uuid.uuid4().hex
            self.chan.send({"op": "kernel_info", "msg_id": self.barrier_id})

    def _on_message(self, event: dict[str, Any]) -> None:
        content = event.get("content")
        if not isinstance(content, dict):
            return
        parent, msg_type = event.get("parent"), event.get("type")
        if event.get("ch") == "shell":
            if parent == self.msg_id and msg_type == "execute_reply":
                self.reply = content
            elif self.barrier_id is not None and parent == self.barrier_id:
                self.barrier_done = True
            return
        if parent != self.msg_id:
            return
        self._on_iopub(msg_type, content)
        if self.out.received > 8 * self.limits.max_output_bytes and self.interrupt_at is None:
            self.reason = "output_limit"
            self._interrupt()
            self.interrupt_at = time.monotonic()

    def _on_iopub(self, msg_type: Any, content: dict[str, Any]) -> None:
        if msg_type == "stream":
            name = content.get("name")
            self.out.add("stderr" if name == "stderr" else "stdout", content.get("text"))
        elif msg_type in ("execute_result", "display_data"):
            data = content.get("data")
            if isinstance(data, dict):
                if RESULT_MIME in data:
                    self.payloads.append(data[RESULT_MIME])
                else:
                    self.out.add("outputs", data.get("text/plain"))
        elif msg_type == "error":
            self.error_msg = content
        elif msg_type == "status" and content.get("execution_state") == "idle":
            self.idle = True

    # ------------------------------------------------------------------ judging the end

    def outcome(self, elapsed_s: float) -> ExecutionOutcome:
        """Return what the events followed so far amount to."""
        kernel_ok = not self.killed and self.dead_detail is None
        reply_ok = self.reply is not None and self.reply.get("status") == "ok"
        error_name, error_value, traceback = self._kernel_error()
        status, error_name, error_value = self._verdict(error_name, error_value)
        cell = CellResult(
            status=status,
            stdout="".join(self.out.streams["stdout"]),
            stderr="".join(self.out.streams["stderr"]),
            outputs=tuple(self.out.outputs),
            error_name=error_name,
            error_value=error_value,
            traceback=traceback,
            elapsed_s=elapsed_s,
            truncated=self.out.truncated or self.lost_output,
        )
        succeeded = kernel_ok and self.interrupt_at is None and reply_ok
        return ExecutionOutcome(cell, kernel_ok, succeeded, tuple(self.payloads))

    def _kernel_error(self) -> tuple[str | None, str | None, str]:
        """The exception the kernel reported: name, message and traceback, all cut."""
        reply = self.reply
        source = reply if reply is not None and reply.get("status") == "error" else self.error_msg
        if source is None:
            return None, None, ""
        traceback = ""
        frames = source.get("traceback")
        if isinstance(frames, list):
            joined = "\n".join(t for t in frames if isinstance(t, str))
            traceback = text_field(_ANSI.sub("", joined), _MAX_TRACEBACK_CHARS) or ""
        return (
            text_field(source.get("ename"), _MAX_ERROR_NAME_CHARS),
            text_field(source.get("evalue"), MAX_ERROR_CHARS),
            traceback,
        )

    def _verdict(
        self, error_name: str | None, error_value: str | None
    ) -> tuple[Status, str | None, str | None]:
        """Status, error name and error message, the sandbox's own reasons first."""
        if self.dead_detail is not None:
            return "dead", "KernelDied", self.dead_detail
        if self.killed or self.interrupt_at is not None:
            what = "did not stop after SIGINT; restarted" if self.killed else "interrupted"
            if self.reason == "timeout":
                return "timeout", "Timeout", f"execution exceeded {self.limit_s:g} s; {what}"
            cap = 8 * self.limits.max_output_bytes
            return self.reason, "OutputLimit", f"output exceeded {cap} bytes; {what}"
        if self.reply is None or self.lost_output:
            return (
                "output_limit",
                error_name or "OutputLimit",
                error_value
                or (
                    f"a kernel message was refused (a frame over "
                    f"{self.limits.max_message_bytes} bytes, or more than the relay could "
                    "buffer) and output or the reply was lost"
                ),
            )
        if self.reply.get("status") == "ok":
            return "ok", error_name, error_value
        return "error", error_name or "Error", error_value
