"""The sandboxed kernel: limits, the host's protections, and :class:`SandboxedKernel`.

See the package docstring (:mod:`labtools.sandbox`) for the threat model and the layers.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from opsmodel._validation import InvalidInputError, check_int, check_real

from . import _host
from .kernel_env import MPL_CACHE_SUBDIR, KernelEnvError, ensure_kernel_env

__all__ = [
    "LAYERS",
    "CallResult",
    "CellResult",
    "Protections",
    "SandboxError",
    "SandboxLimits",
    "SandboxWarning",
    "SandboxedKernel",
    "default_hidden_paths",
    "probe_protections",
    "refused_layers",
]

_log = logging.getLogger("labtools.sandbox")

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
_SUPERVISOR = Path(__file__).with_name("_supervisor.py")
_KERNEL_SIDE = Path(__file__).with_name("_kernel_side.py")
_RESULT_MIME = "application/vnd.ops-sandbox.result+json"
# AF_UNIX paths hold at most 107 bytes; ipykernel appends "-<port>" to the prefix.
_MAX_IPC_PREFIX = 100
# ipykernel publishes "idle" right after the reply; past this, iopub lost something.
_IOPUB_GRACE_S = 1.0
# After a message that fails to verify or parse, wait this long for a valid reply before
# declaring the kernel's messaging broken (a student who patched json.dumps).
_GARBAGE_GRACE_S = 1.0
_MAX_ERROR_CHARS = 4000
_MAX_TRACEBACK_CHARS = 20000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

Status = Literal["ok", "error", "timeout", "dead", "output_limit"]

#: Protection layers, in the order they are reported.
LAYERS = (
    "switch_user",
    "rlimits",
    "no_new_privs",
    "network_namespace",
    "pid_namespace",
    "mount_namespace",
    "ipc_namespace",
    "uts_namespace",
    "cgroup",
)


class SandboxError(RuntimeError):
    """The sandbox cannot start (or restart) a kernel with the protections asked for."""


class SandboxWarning(UserWarning):
    """The host allows fewer protection layers than the sandbox can use."""


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed kernel.

    The defaults suit grading a 45-minute lab notebook: imports of numpy, scipy, pandas and
    matplotlib fit in the memory limit, a cell may run for a minute, and the whole notebook
    (cells, calls and replays after restarts) for fifteen.

    Parameters
    ----------
    cell_timeout_s : float in (0, inf)
        Wall-clock limit of one cell or call; past it the kernel is interrupted (SIGINT).
    total_timeout_s : float in (0, inf)
        Wall-clock budget of all executions of the kernel, replays included; once spent,
        further cells and calls return ``"timeout"`` without running. Also sets the CPU-time
        rlimit of each kernel process (this plus 10 s).
    memory_bytes : int in [256 MiB, inf)
        Address-space limit (RLIMIT_AS) of each kernel process and, where cgroups are usable,
        the memory limit of all the job's processes together.
    max_processes : int in [16, 65536]
        Processes and threads of the sandbox uid (RLIMIT_NPROC; the kernel itself uses about
        ten threads) and, with cgroups, the task limit of the job.
    max_output_bytes : int in [1 KiB, inf)
        Output of one cell kept on the trusted side (stdout, stderr and text outputs
        together, UTF-8); the rest is dropped with a marker. A cell whose output stream goes
        past eight times this is interrupted (``"output_limit"``).
    max_file_bytes : int in [1 MiB, inf)
        Largest file the kernel may write (RLIMIT_FSIZE).
    max_result_bytes : int in [1 KiB, inf)
        Largest JSON text :meth:`SandboxedKernel.call` accepts as a result.
    max_message_bytes : int in [64 KiB, inf)
        Largest single message frame accepted from the kernel; a larger one is refused by
        ZMQ and reported as ``"output_limit"``.
    interrupt_grace_s : float in (0, inf)
        Time the kernel gets to come back after SIGINT before it is killed, restarted and
        the earlier successful cells replayed.
    startup_timeout_s : float in (0, inf)
        Time a kernel gets to answer its first request.
    tmp_bytes : int in [1 MiB, inf)
        Size of the private ``/tmp`` and ``/dev/shm`` (tmpfs, with a mount namespace).

    Raises
    ------
    InvalidInputError
        If a field is not a number of the right kind or lies outside its range.

    Examples
    --------
    >>> SandboxLimits(cell_timeout_s=5.0).cell_timeout_s
    5.0
    """

    cell_timeout_s: float = 60.0
    total_timeout_s: float = 900.0
    memory_bytes: int = 3 * GiB
    max_processes: int = 64
    max_output_bytes: int = 1 * MiB
    max_file_bytes: int = 256 * MiB
    max_result_bytes: int = 1 * MiB
    max_message_bytes: int = 8 * MiB
    interrupt_grace_s: float = 3.0
    startup_timeout_s: float = 30.0
    tmp_bytes: int = 256 * MiB

    def __post_init__(self) -> None:
        floors = {
            "memory_bytes": 256 * MiB,
            "max_processes": 16,
            "max_output_bytes": KiB,
            "max_file_bytes": MiB,
            "max_result_bytes": KiB,
            "max_message_bytes": 64 * KiB,
            "tmp_bytes": MiB,
        }
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_s"):
                checked: float | int = check_real(f.name, value, low=0.0, low_open=True)
            else:
                high = 65536 if f.name == "max_processes" else None
                checked = check_int(f.name, value, low=floors[f.name], high=high)
            object.__setattr__(self, f.name, checked)


# --------------------------------------------------------------------------- protections


@dataclass(frozen=True)
class Protections:
    """Which protection layers a host allows, or a kernel actually runs under.

    Parameters
    ----------
    switch_user : bool
        The kernel runs as an unprivileged uid with no supplementary groups.
    rlimits : bool
        Address space, processes, file size, CPU time and core dumps are limited.
    no_new_privs : bool
        ``PR_SET_NO_NEW_PRIVS``: no setuid binary can raise the kernel's privileges.
    network_namespace : bool
        An empty network namespace (not even loopback is up).
    pid_namespace : bool
        Its own PID namespace, whose init dies with the job and takes every process along.
    mount_namespace : bool
        An allow-list root: only ``/usr``, ``/etc``, the kernel venv, the job folder, the
        socket folder, a minimal ``/dev``, private ``/tmp`` and ``/dev/shm``; hidden paths
        inside these are masked.
    ipc_namespace, uts_namespace : bool
        Own System V IPC and host name.
    cgroup : bool
        A memory and task limit over all the job's processes together.
    per_job_uid : bool
        The uid belongs to this job alone (so its files, processes and process limit are
        not shared with other jobs).
    reasons : tuple of (str, str)
        For each missing layer, why the host refused it.

    Examples
    --------
    >>> p = Protections(switch_user=True, rlimits=True)
    >>> "network_namespace" in p.missing()
    True
    """

    switch_user: bool = False
    rlimits: bool = False
    no_new_privs: bool = False
    network_namespace: bool = False
    pid_namespace: bool = False
    mount_namespace: bool = False
    ipc_namespace: bool = False
    uts_namespace: bool = False
    cgroup: bool = False
    per_job_uid: bool = False
    reasons: tuple[tuple[str, str], ...] = ()

    def active(self) -> tuple[str, ...]:
        """Return the names of the layers in force, in :data:`LAYERS` order."""
        return tuple(name for name in LAYERS if getattr(self, name))

    def missing(self) -> tuple[str, ...]:
        """Return the names of the layers not in force, in :data:`LAYERS` order."""
        return tuple(name for name in LAYERS if not getattr(self, name))

    def summary(self) -> str:
        """Return a one-line description for the grader's log."""
        why = dict(self.reasons)
        missing = [f"{n} ({why[n]})" if n in why else n for n in self.missing()]
        uid = "per-job uid" if self.per_job_uid else "shared uid"
        return (
            f"active: {', '.join(self.active()) or 'none'}; {uid}; "
            f"missing: {', '.join(missing) or 'none'}"
        )


_probe_lock = threading.Lock()
_probe_cache: Protections | None = None

#: Environment variable naming layers to leave out even where the host allows them
#: (comma-separated names from :data:`LAYERS`): how an instructor reproduces, on a full host,
#: the container their platform gives them, and how the tests grade in each degraded mode.
#: It can only take layers away, never add one.
REFUSE_ENV_VAR = "OPS_SANDBOX_REFUSE"


def refused_layers() -> tuple[str, ...]:
    """Return the layers that ``$OPS_SANDBOX_REFUSE`` turns off, in :data:`LAYERS` order.

    Returns
    -------
    tuple of str
        Layer names; empty when the variable is unset or blank.

    Raises
    ------
    ValueError
        If the variable names something that is not a layer.
    """
    raw = os.environ.get(REFUSE_ENV_VAR, "")
    names = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(names - set(LAYERS))
    if unknown:
        raise InvalidInputError(
            f"{REFUSE_ENV_VAR} must name layers from {LAYERS}, got {', '.join(unknown)}"
        )
    return tuple(name for name in LAYERS if name in names)


def probe_protections(*, refresh: bool = False) -> Protections:
    """Find out once which protection layers this host allows.

    Each layer is tried in a throwaway child process (switching to ``nobody``, setting
    rlimits, ``unshare`` of each namespace, an allow-list root with ``pivot_root``, a PID
    namespace with its own ``/proc``) and a throwaway cgroup is created and removed.

    Parameters
    ----------
    refresh : bool
        Probe again instead of returning the cached record.

    Returns
    -------
    Protections
        What the host allows, with the reason for each refusal. Without root every layer is
        missing.

    Notes
    -----
    About 60 ms, once per process. A Docker container without ``CAP_SYS_ADMIN`` typically
    allows ``switch_user`` and ``rlimits`` only; the kernel then runs with those and says so.
    Layers named in ``$OPS_SANDBOX_REFUSE`` (:func:`refused_layers`) are reported missing
    whatever the host allows.
    """
    global _probe_cache
    with _probe_lock:
        if _probe_cache is not None and not refresh:
            return _probe_cache
        if os.geteuid() != 0:
            reasons = tuple((name, "not running as root") for name in LAYERS)
            _probe_cache = Protections(reasons=reasons)
            return _probe_cache
        proc = subprocess.run(
            [sys.executable, "-I", str(_SUPERVISOR), "probe"],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
            timeout=60,
        )
        try:
            found = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            found = {}
        values: dict[str, bool] = {}
        reasons: list[tuple[str, str]] = []
        for name in LAYERS[:-1]:
            ok, why = found.get(name, (False, f"probe failed: {proc.stderr.strip()[-200:]}"))
            values[name] = bool(ok)
            if not ok:
                reasons.append((name, str(why)))
        cg_ok, cg_why = _host.probe_cgroup()
        if not cg_ok:
            reasons.append(("cgroup", cg_why))
        values["cgroup"] = cg_ok
        for name in refused_layers():
            if values[name]:
                values[name] = False
                reasons.append((name, f"turned off by {REFUSE_ENV_VAR}"))
        _probe_cache = Protections(
            **values, per_job_uid=values["switch_user"], reasons=tuple(reasons)
        )
        return _probe_cache


def default_hidden_paths() -> tuple[Path, ...]:
    """Return the folders of the trusted packages (``opsmodel``, ``labtools``).

    They are always hidden from the kernel, whatever ``hidden_paths`` says: the reference must
    never be readable by student code, even if it is installed under ``/usr``.

    Returns
    -------
    tuple of pathlib.Path
        Real paths of the packages' folders, as the trusted interpreter finds them.
    """
    import importlib.util

    found = []
    for name in ("opsmodel", "labtools"):
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            found.append(Path(os.path.realpath(location)))
    return tuple(found)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CellResult:
    """What running one cell produced, as seen from the trusted side.

    Attributes
    ----------
    status : {"ok", "error", "timeout", "dead", "output_limit"}
        ``"error"``: the cell raised; ``"timeout"``: it ran past the cell limit (or the total
        budget was spent); ``"dead"``: the kernel died or its messages stopped making sense;
        ``"output_limit"``: a message over the size cap was dropped or the output flooded.
    stdout, stderr : str
        Streams, truncated with a marker (together with ``outputs``) to ``max_output_bytes``.
    outputs : tuple of str
        ``text/plain`` of the cell's results and displays.
    error_name, error_value : str or None
        Exception class name and message (truncated), or the sandbox's ``Timeout``,
        ``KernelDied``, ``OutputLimit`` and a sentence.
    traceback : str
        The kernel's traceback without colour codes (truncated), or ``""``.
    elapsed_s : float
        Wall-clock time of the cell, including any kill and restart (not the replay).
    truncated : bool
        Output was dropped (by the cap or with a lost message).
    restarted : bool
        The kernel was killed and restarted because of this cell; earlier successful cells
        were replayed (see :attr:`SandboxedKernel.dropped_cells`).
    """

    status: Status
    stdout: str = ""
    stderr: str = ""
    outputs: tuple[str, ...] = ()
    error_name: str | None = None
    error_value: str | None = None
    traceback: str = ""
    elapsed_s: float = 0.0
    truncated: bool = False
    restarted: bool = False


@dataclass(frozen=True)
class CallResult:
    """The result of calling (or reading) a notebook global.

    Attributes
    ----------
    ok : bool
        A value came back.
    value : None, bool, int, float, str, list or dict
        The JSON-parsed result (plain Python data; ``NaN`` and infinities are allowed), or
        ``None`` when not ``ok``.
    error : str or None
        Why there is no value: the student's exception, a non-serialisable result, a timeout,
        a dead kernel, a result over the size cap or a malformed reply.
    status : {"ok", "error", "timeout", "dead", "output_limit"}
        As for :class:`CellResult`.
    elapsed_s : float
        Wall-clock time of the call.
    """

    ok: bool
    value: Any = None
    error: str | None = None
    status: Status = "ok"
    elapsed_s: float = 0.0


@dataclass
class _Outcome:
    status: Status
    kernel_ok: bool
    succeeded: bool
    elapsed_s: float
    stdout: str = ""
    stderr: str = ""
    outputs: tuple[str, ...] = ()
    error_name: str | None = None
    error_value: str | None = None
    traceback: str = ""
    truncated: bool = False
    payloads: list[Any] = field(default_factory=list)


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    # Lone surrogates (valid in JSON escapes) would break a later encode: replace them.
    clean = value[: limit + 1].encode("utf-8", "replace").decode("utf-8")
    return clean if len(clean) <= limit else clean[:limit] + " [truncated]"


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


class _ChannelClosed(Exception):
    pass


class _Channel:
    """Line-JSON pipe to the supervisor, read with timeouts and a cap on line length."""

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
            raise _ChannelClosed("the supervisor's output exceeded its bounds")

    def read(self, timeout_s: float) -> dict[str, Any] | None:
        """Return the next event, ``None`` on timeout; raise _ChannelClosed at the end."""
        if not self.lines and not self.closed:
            if select.select([self.rfd], [], [], max(timeout_s, 0.0))[0]:
                self._fill()
        if self.lines:
            line = self.lines.popleft()
            self.queued -= len(line)
            try:
                event = json.loads(line)
            except ValueError:
                raise _ChannelClosed("unreadable line from the supervisor") from None
            if not isinstance(event, dict) or not isinstance(event.get("ev"), str):
                raise _ChannelClosed("malformed event from the supervisor")
            return event
        if self.closed:
            raise _ChannelClosed("supervisor closed its output")
        return None

    def send(self, obj: dict[str, Any], timeout_s: float = 10.0) -> None:
        """Write one command; keep reading meanwhile so neither side blocks the other."""
        data = memoryview((json.dumps(obj) + "\n").encode())
        end = time.monotonic() + timeout_s
        while data:
            left = end - time.monotonic()
            if left <= 0:
                raise _ChannelClosed("supervisor does not read its input")
            readable, writable, _ = select.select([self.rfd], [self.wfd], [], left)
            if readable:
                self._fill()
            if writable:
                try:
                    n = os.write(self.wfd, data)
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise _ChannelClosed("supervisor has gone") from None
                data = data[n:]

    def drain(self) -> list[dict[str, Any]]:
        """Return the events already waiting, without blocking."""
        events = []
        while True:
            event = self.read(0.0)
            if event is None:
                return events
            events.append(event)


# --------------------------------------------------------------------------- kernel


class SandboxedKernel:
    """An IPython kernel for untrusted notebooks, run as another user in namespaces.

    Parameters
    ----------
    job_dir : path-like
        Existing folder holding only the student's notebook and the shipped support files.
        It becomes the kernel's working folder and is handed to the sandbox uid (its own
        contents keep their owners); the kernel's HOME and caches go to ``.sandbox/`` inside.
    limits : SandboxLimits or None
        Resource limits; ``None`` means the defaults.
    kernel_python : path-like or None
        Interpreter of the kernel, readable by other users and unable to import
        ``opsmodel``; ``None`` means :func:`~labtools.sandbox.kernel_env.ensure_kernel_env`.
    hidden_paths : iterable of path-like
        Files or folders the kernel must not see (reference package, hidden tests, grader
        config, results folder). :func:`default_hidden_paths` are always added. None may
        contain or lie inside ``job_dir``.
    user : str, int or None
        ``None`` (default): a fresh uid for this job alone, with no passwd entry. A name: that
        system user, created with ``useradd`` if missing. An int: that uid.
    require : iterable of str
        Layers (names from :data:`LAYERS`) without which the kernel must not start.
    runtime_root : path-like or None
        Root-owned folder, not writable by others, where each kernel's runtime folder
        (sockets, logs) and the per-job uid locks go; ``None`` means ``/run/ops-sandbox``
        (or ``ops-sandbox`` in the temporary folder). Must be short: socket paths hold at
        most 107 bytes.

    Raises
    ------
    InvalidInputError
        If an argument has the wrong type or value (paths that do not exist, overlap of
        ``job_dir`` with a hidden path or the kernel venv, unknown layer names).
    SandboxError
        From :meth:`start`, if a required layer is missing, a hidden path would be readable
        without a mount namespace, or the kernel does not start.

    Notes
    -----
    Not thread-safe: one grader thread per kernel. Every message from the kernel reaches this
    process through the supervisor as parsed JSON (never a pickle, never evaluated); sizes are
    capped at each hop, and every field is type-checked before use. The supervisor process
    holds the ZMQ buffers under its own memory limit, so a kernel flooding its sockets kills
    the supervisor (and so its own job), not the grader.

    Examples
    --------
    >>> with SandboxedKernel(job, hidden_paths=[reference_dir]) as kernel:  # doctest: +SKIP
    ...     kernel.run_cell("def double(x):\\n    return 2 * x")
    ...     kernel.call("double", 21).value
    42
    """

    def __init__(
        self,
        job_dir: str | os.PathLike[str],
        *,
        limits: SandboxLimits | None = None,
        kernel_python: str | os.PathLike[str] | None = None,
        hidden_paths: Iterable[str | os.PathLike[str]] = (),
        user: str | int | None = None,
        require: Iterable[str] = ("switch_user", "rlimits"),
        runtime_root: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(job_dir, (str, os.PathLike)):
            raise InvalidInputError(f"job_dir must be a path to a folder, got {job_dir!r}")
        job = Path(os.path.realpath(job_dir))
        if not job.is_dir():
            raise InvalidInputError(f"job_dir must be an existing folder, got {job_dir!r}")
        if job == Path("/") or len(job.parts) < 3:
            raise InvalidInputError(f"job_dir must be a dedicated job folder, got {job_dir!r}")
        if limits is None:
            limits = SandboxLimits()
        if not isinstance(limits, SandboxLimits):
            raise InvalidInputError(f"limits must be a SandboxLimits, got {limits!r}")
        if user is not None and not (
            (isinstance(user, str) and re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", user))
            or (isinstance(user, int) and not isinstance(user, bool) and 0 < user < 2**31)
        ):
            raise InvalidInputError(
                f"user must be None, a user name or a uid in (0, 2**31), got {user!r}"
            )
        if isinstance(hidden_paths, (str, os.PathLike)):
            raise InvalidInputError(
                f"hidden_paths must be an iterable of paths, got the single path {hidden_paths!r}"
            )
        hidden: set[Path] = set(default_hidden_paths())
        for p in hidden_paths:
            if not isinstance(p, (str, os.PathLike)):
                raise InvalidInputError(f"hidden_paths must hold paths, got {p!r}")
            hidden.add(Path(os.path.realpath(p)))
        for h in hidden:
            if h == job or h in job.parents or job in h.parents:
                raise InvalidInputError(
                    f"hidden_paths must not contain or lie inside job_dir, got {h} for {job}"
                )
        required = tuple(require)
        unknown = [name for name in required if name not in LAYERS]
        if unknown:
            raise InvalidInputError(f"require must name layers from {LAYERS}, got {unknown}")
        if kernel_python is not None:
            if not isinstance(kernel_python, (str, os.PathLike)) or not os.path.exists(
                kernel_python
            ):
                raise InvalidInputError(
                    f"kernel_python must be an existing interpreter, got {kernel_python!r}"
                )
            venv = Path(os.path.realpath(Path(kernel_python).parent.parent))
            if venv == job or job in venv.parents or venv in job.parents:
                raise InvalidInputError(
                    f"kernel_python's venv must not overlap job_dir, got {venv} for {job}"
                )
        if runtime_root is not None and not (
            isinstance(runtime_root, (str, os.PathLike)) and os.path.isdir(runtime_root)
        ):
            raise InvalidInputError(
                f"runtime_root must be an existing folder, got {runtime_root!r}"
            )

        self.job_dir = job
        self.limits = limits
        self.hidden_paths: tuple[Path, ...] = tuple(sorted(hidden))
        self._kernel_python = None if kernel_python is None else Path(kernel_python)
        self._user = user
        self._require = required
        self._runtime_root = runtime_root
        self._history: list[str] = []
        self._dropped: list[str] = []
        self._restarts = 0
        self._spent_s = 0.0
        self._identity: _host.Identity | None = None
        self._cgroup: _host.JobCgroup | None = None
        self._runtime: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._chan: _Channel | None = None
        self._init_pidfd: int | None = None
        self._incarnation = 0
        self._broken: str | None = None
        self._started = False
        self._closed = False
        self.protections = Protections()
        self.startup_s: float | None = None

    # ----------------------------------------------------------------- public API

    @property
    def uid(self) -> int | None:
        """The uid the kernel runs as (``None`` before :meth:`start`)."""
        return None if self._identity is None else self._identity.uid

    @property
    def history(self) -> tuple[str, ...]:
        """Cells that ran to completion without an exception; replayed after a restart."""
        return tuple(self._history)

    @property
    def dropped_cells(self) -> tuple[str, ...]:
        """Cells removed from the history because they misbehaved again during a replay."""
        return tuple(self._dropped)

    @property
    def restarts(self) -> int:
        """How many times the kernel was killed and restarted."""
        return self._restarts

    def start(self) -> SandboxedKernel:
        """Start the kernel and wait until it answers; return ``self``.

        Raises
        ------
        SandboxError
            If a required protection layer is missing on this host, a hidden path would be
            readable by the sandbox user (without a mount namespace), or the kernel fails to
            start.
        """
        if self._started:
            raise SandboxError("kernel already started")
        self._started = True
        try:
            self._prepare()
            t0 = time.monotonic()
            self._start_incarnation()
            self.startup_s = time.monotonic() - t0
        except BaseException:
            self.shutdown()
            raise
        return self

    def __enter__(self) -> SandboxedKernel:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def run_cell(self, code: str) -> CellResult:
        """Run one code cell in the kernel.

        Parameters
        ----------
        code : str
            The cell's source.

        Returns
        -------
        CellResult
            Status, truncated outputs and error. On a timeout the kernel is interrupted; if it
            does not come back within ``interrupt_grace_s`` (or it died) it is killed,
            restarted and the earlier successful cells are replayed (``restarted`` is set).

        Raises
        ------
        InvalidInputError
            If ``code`` is not a string.
        SandboxError
            If the kernel was never started or is shut down.
        """
        if not isinstance(code, str):
            raise InvalidInputError(f"code must be a string, got {type(code).__name__}")
        self._check_running()
        if self._broken is not None:
            return CellResult("dead", error_name="KernelDied", error_value=self._broken)
        outcome = self._execute(code, silent=False, timeout_s=self.limits.cell_timeout_s)
        restarted = False
        # A MemoryError leaves the memory it grabbed held by the cell's objects, and the next
        # honest cell would crash: restart and replay without this cell, as after a crash.
        if not outcome.kernel_ok or outcome.error_name == "MemoryError":
            restarted = True
            self._recover()
        if outcome.succeeded:
            self._history.append(code)
        self._reap_strays()
        return CellResult(
            status=outcome.status,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            outputs=outcome.outputs,
            error_name=outcome.error_name,
            error_value=outcome.error_value,
            traceback=outcome.traceback,
            elapsed_s=outcome.elapsed_s,
            truncated=outcome.truncated,
            restarted=restarted,
        )

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> CallResult:
        """Call the notebook's global ``name`` with JSON-safe arguments.

        Parameters
        ----------
        name : str
            A Python identifier naming a callable global of the notebook.
        *args, **kwargs
            JSON-serialisable arguments (they travel as JSON; tuples arrive as lists).

        Returns
        -------
        CallResult
            ``ok`` with the JSON-parsed value, or the reason there is none. A call that
            hangs gets the cell timeout (and a restart with replay if it ignores SIGINT).

        Raises
        ------
        InvalidInputError
            If ``name`` is not an identifier or the arguments are not JSON-serialisable.
        SandboxError
            If the kernel was never started or is shut down.
        """
        return self._call("call", name, args, kwargs)

    def get(self, name: str) -> CallResult:
        """Read the notebook's global ``name`` as JSON-safe data (see :meth:`call`).

        Parameters
        ----------
        name : str
            A Python identifier naming a global of the notebook.

        Returns
        -------
        CallResult
            ``ok`` with the JSON-parsed value, or the reason there is none.

        Raises
        ------
        InvalidInputError
            If ``name`` is not an identifier.
        SandboxError
            If the kernel was never started or is shut down.
        """
        return self._call("get", name, (), {})

    def shutdown(self) -> None:
        """Kill the kernel and every process of the job, and remove the runtime folder.

        Safe to call more than once. Afterwards no process of the sandbox uid remains (for a
        per-job uid this is checked; the lock on the uid is then released).
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._kill_incarnation()
        finally:
            if self._cgroup is not None:
                self._cgroup.kill()
                self._cgroup.remove()
                self._cgroup = None
            if self._identity is not None:
                if self._identity.per_job:
                    survivors = _host.kill_uid(self._identity.uid)
                    if survivors:
                        _log.error("sandbox uid %s still has processes %s", self.uid, survivors)
                    else:
                        self._identity.release()
            if self._runtime is not None:
                shutil.rmtree(self._runtime, ignore_errors=True)
                self._runtime = None

    # ----------------------------------------------------------------- set-up

    def _check_running(self) -> None:
        if not self._started or self._closed:
            raise SandboxError("kernel is not running (use start() or a with-block)")

    def _prepare(self) -> None:
        host = probe_protections()
        missing = [name for name in self._require if not getattr(host, name)]
        if missing:
            why = dict(host.reasons)
            detail = "; ".join(f"{n}: {why.get(n, 'unavailable')}" for n in missing)
            raise SandboxError(f"required protections unavailable on this host: {detail}")
        if self._kernel_python is None:
            try:
                self._kernel_python = ensure_kernel_env()
            except KernelEnvError as exc:
                raise SandboxError(f"no kernel environment: {exc}") from None
        venv = Path(os.path.realpath(self._kernel_python.parent.parent))
        for h in self.hidden_paths:
            if h == venv or h in venv.parents:
                raise InvalidInputError(
                    f"hidden_paths must not contain the kernel venv {venv}, got {h}"
                )
        try:
            if self._runtime_root is not None:
                base = _host.secure_dir(Path(self._runtime_root), mode=0o711)
            else:
                parent = Path("/run") if os.path.isdir("/run") else Path(tempfile.gettempdir())
                base = _host.secure_dir(parent / "ops-sandbox", mode=0o711)
            self._identity = (
                _host.named_identity(self._user)
                if self._user is not None
                else _host.allocate_job_identity(base / "uids")
            )
        except (OSError, RuntimeError) as exc:
            raise SandboxError(f"cannot prepare the sandbox: {exc}") from None
        self._runtime = Path(tempfile.mkdtemp(prefix="job-", dir=base))
        os.chmod(self._runtime, 0o711)
        (self._runtime / "root").mkdir(mode=0o755)
        if len(str(self._runtime / "k999" / "s")) > _MAX_IPC_PREFIX:
            raise SandboxError(f"runtime folder {self._runtime} is too deep for socket paths")
        cgroup_ok = False
        if host.cgroup:
            try:
                self._cgroup = _host.JobCgroup.create(
                    self._runtime.name,
                    memory_bytes=self.limits.memory_bytes,
                    max_tasks=self.limits.max_processes + 8,
                )
                cgroup_ok = True
            except OSError as exc:
                _log.warning("cgroup creation failed: %s", exc)
        if not host.mount_namespace:
            self._check_hidden_unreadable()
        # Before any student code runs: hand the job folder itself to the sandbox uid.
        os.lchown(self.job_dir, self._identity.uid, self._identity.gid)
        os.chmod(self.job_dir, 0o700)
        self.protections = Protections(
            switch_user=host.switch_user,
            rlimits=host.rlimits,
            no_new_privs=host.no_new_privs,
            network_namespace=host.network_namespace,
            pid_namespace=host.pid_namespace,
            mount_namespace=host.mount_namespace,
            ipc_namespace=host.ipc_namespace,
            uts_namespace=host.uts_namespace,
            cgroup=cgroup_ok,
            per_job_uid=self._identity.per_job,
            reasons=host.reasons,
        )
        if self.protections.missing() or not self.protections.per_job_uid:
            message = f"sandbox runs with fewer protections: {self.protections.summary()}"
            warnings.warn(message, SandboxWarning, stacklevel=3)
            _log.warning(message)
        _log.info("sandbox protections: %s", self.protections.summary())

    def _check_hidden_unreadable(self) -> None:
        # Without a mount namespace, permissions are the only guard: check them as the
        # sandbox user would see them, rather than reasoning about modes and ACLs.
        assert self._identity is not None and self._kernel_python is not None
        paths = [str(p) for p in self.hidden_paths if p.exists()]
        if not paths:
            return
        script = (
            "import os, sys\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').close()\n"
            "        print(p)\n"
            "    except OSError:\n"
            "        pass\n"
        )
        proc = subprocess.run(
            [str(self._kernel_python), "-I", "-S", "-c", script, *paths],
            capture_output=True,
            text=True,
            user=self._identity.uid,
            group=self._identity.gid,
            extra_groups=[],
            cwd="/",
            check=False,
        )
        readable = proc.stdout.split()
        if readable or proc.returncode != 0:
            raise SandboxError(
                "no mount namespace on this host, and the sandbox user can read hidden paths "
                f"{readable or proc.stderr.strip()}: remove their permissions for others"
            )

    def _kernel_env(self, home: Path) -> dict[str, str]:
        assert self._kernel_python is not None and self._identity is not None
        env = {
            "PATH": f"{self._kernel_python.parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "IPYTHONDIR": str(home / "ipython"),
            "MPLCONFIGDIR": str(home / "matplotlib"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_CONFIG_DIR": str(home / "jupyter"),
            "JUPYTER_DATA_DIR": str(home / "jupyter" / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "USER": self._identity.name,
            "LOGNAME": self._identity.name,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            # One arena per thread would reserve gigabytes of address space under RLIMIT_AS.
            "MALLOC_ARENA_MAX": "2",
        }
        for var in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS",
            "BLIS_NUM_THREADS",
        ):
            env[var] = "1"
        # Set on some processors of this workplace because older OpenBLAS miscomputes there.
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if var in os.environ:
                env[var] = os.environ[var]
        return env

    def _start_incarnation(self) -> None:
        assert self._runtime is not None and self._identity is not None
        assert self._kernel_python is not None
        self._incarnation += 1
        n = self._incarnation
        uid, gid = self._identity.uid, self._identity.gid
        sock_dir = self._runtime / f"k{n}"
        sock_dir.mkdir(mode=0o700)
        key = secrets.token_hex(32)
        conn = {
            "shell_port": 1,
            "iopub_port": 2,
            "stdin_port": 3,
            "control_port": 4,
            "hb_port": 5,
            "ip": str(sock_dir / "s"),
            "key": key,
            "transport": "ipc",
            "signature_scheme": "hmac-sha256",
            "kernel_name": "",
        }
        conn_file = sock_dir / "connection.json"
        fd = os.open(conn_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(conn, fh)
        os.chown(conn_file, uid, gid)
        # The kernel binds its sockets here; the supervisor takes the folder back once ready.
        os.chown(sock_dir, uid, gid)
        home = self.job_dir / ".sandbox"
        venv = Path(os.path.realpath(self._kernel_python.parent.parent))
        lim = self.limits
        cpu_s = math.ceil(lim.total_timeout_s) + 10
        cfg = {
            "uid": uid,
            "gid": gid,
            "kernel_argv": [
                str(self._kernel_python),
                # Not -I: the job folder must stay on sys.path (as "python -m" puts it) for
                # the shipped support files; -E -s -B drop PYTHON* variables, the user site
                # and bytecode writing.
                "-E",
                "-s",
                "-B",
                "-m",
                "ipykernel_launcher",
                "-f",
                str(conn_file),
                "--HistoryManager.enabled=False",
            ],
            "kernel_env": self._kernel_env(home),
            "cwd": str(self.job_dir),
            "home_dirs": [
                str(home / sub)
                for sub in (
                    "tmp",
                    "ipython",
                    "matplotlib",
                    "config",
                    "cache",
                    "data",
                    "state",
                    "runtime",
                    "jupyter",
                )
            ],
            "mpl_cache_src": str(venv / MPL_CACHE_SUBDIR),
            "mpl_cache_dst": str(home / "matplotlib"),
            "rlimits": {
                "AS": [lim.memory_bytes, lim.memory_bytes],
                "NPROC": [lim.max_processes, lim.max_processes],
                "FSIZE": [lim.max_file_bytes, lim.max_file_bytes],
                "CPU": [cpu_s, cpu_s + 5],
                "CORE": [0, 0],
                "NOFILE": [1024, 1024],
            },
            "namespaces": [
                name
                for name, layer in (
                    ("net", "network_namespace"),
                    ("mount", "mount_namespace"),
                    ("ipc", "ipc_namespace"),
                    ("uts", "uts_namespace"),
                    ("pid", "pid_namespace"),
                )
                if getattr(self.protections, layer)
            ],
            "root_dir": str(self._runtime / "root"),
            "ro_binds": ["/usr", "/etc", str(venv)],
            "rw_binds": [str(self.job_dir), str(sock_dir)],
            "hidden": [str(p) for p in self.hidden_paths],
            "tmp_bytes": lim.tmp_bytes,
            "cgroup_procs": list(self._cgroup.procs_files) if self._cgroup else [],
            "log_path": str(self._runtime / f"k{n}.log"),
            "socket_dir": str(sock_dir),
            "connection": conn,
            "max_message_bytes": lim.max_message_bytes,
            # Python, pyzmq and its threads take about 100 MiB of address space; the rest
            # is room for messages in flight.
            "supervisor_memory_bytes": 512 * MiB + 8 * lim.max_message_bytes,
            "startup_timeout_s": lim.startup_timeout_s,
        }
        log = open(self._runtime / f"supervisor{n}.log", "ab")  # child's stderr
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(_SUPERVISOR), "run"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd="/",
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "MALLOC_ARENA_MAX": "2"},
                close_fds=True,
                # Out of the grader's session: a Ctrl-C at the grader's terminal is the
                # grader's business, not a signal to every job.
                start_new_session=True,
            )
        finally:
            log.close()
        # An ASCII JSON line of a frame of n bytes is at most 6 n (\\u escapes) long.
        self._chan = _Channel(self._proc, 6 * lim.max_message_bytes + 64 * KiB)
        deadline = time.monotonic() + lim.startup_timeout_s + 5.0
        try:
            self._chan.send(cfg)
            started = ready = False
            while not ready:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError("kernel did not become ready in time" + self._log_tail())
                event = self._chan.read(left)
                if event is None:
                    continue
                kind = event["ev"]
                if kind == "started" and not started:
                    started = True
                    self._adopt_init(event.get("init_pid"))
                    applied = event.get("applied") or {}
                    for layer in ("network_namespace", "mount_namespace", "pid_namespace"):
                        if getattr(self.protections, layer) and not applied.get(layer):
                            raise SandboxError(f"{layer} was probed but not applied")
                elif kind == "ready":
                    ready = True
                elif kind in ("error", "exit"):
                    detail = event.get("error") or f"kernel exited with code {event.get('code')}"
                    raise SandboxError(f"kernel failed to start: {detail}" + self._log_tail())
        except _ChannelClosed as exc:
            raise SandboxError(f"kernel failed to start: {exc}" + self._log_tail()) from None
        self._bootstrap()

    def _adopt_init(self, pid: Any) -> None:
        # A pidfd taken while the init is surely alive (it outlives the kernel) keeps later
        # kills from ever reaching a recycled PID.
        if isinstance(pid, int) and pid > 1:
            try:
                self._init_pidfd = os.pidfd_open(pid)
            except OSError:
                self._init_pidfd = None

    def _log_tail(self) -> str:
        if self._runtime is None:
            return ""
        parts = []
        for name in (f"k{self._incarnation}.log", f"supervisor{self._incarnation}.log"):
            try:
                text = (self._runtime / name).read_bytes()[-1500:].decode("utf-8", "replace")
            except OSError:
                continue
            if text.strip():
                parts.append(f"\n--- {name} ---\n{text.strip()}")
        return "".join(parts)

    def _bootstrap(self) -> None:
        config = json.dumps(
            {
                "max_output_chars": self.limits.max_output_bytes,
                "max_result_bytes": self.limits.max_result_bytes,
                "mime": _RESULT_MIME,
            }
        )
        code = (
            _KERNEL_SIDE.read_text()
            + f"\n_ops_sandbox_install({config!r})\ndel _ops_sandbox_install\n"
        )
        outcome = self._execute(
            code, silent=True, timeout_s=self.limits.startup_timeout_s, count=False
        )
        if outcome.status != "ok":
            raise SandboxError(
                f"kernel bootstrap failed: {outcome.status} {outcome.error_name}: "
                f"{outcome.error_value}" + self._log_tail()
            )

    # ----------------------------------------------------------------- execution

    def _reap_strays(self) -> None:
        """Kill processes the student's code left running (a forked spinner, a Popen).

        Only with a per-job uid, where every process of the uid belongs to this job: they
        would otherwise take the CPU of the cells, calls and jobs that follow.
        """
        if self._identity is not None and self._identity.per_job:
            killed = _host.kill_all_but_oldest(self._identity.uid)
            if killed:
                _log.info("killed %d processes left running by the notebook", len(killed))

    def _budget_left(self) -> float:
        return self.limits.total_timeout_s - self._spent_s

    def _interrupt(self) -> None:
        assert self._chan is not None
        try:
            self._chan.send({"op": "interrupt"}, timeout_s=1.0)
        except _ChannelClosed:
            pass

    def _execute(  # one state machine, easier to audit in one place
        self, code: str, *, silent: bool, timeout_s: float, count: bool = True
    ) -> _Outcome:
        lim = self.limits
        start = time.monotonic()
        budget = self._budget_left() if count else timeout_s
        if budget <= 0:
            return _Outcome(
                "timeout",
                kernel_ok=True,
                succeeded=False,
                elapsed_s=0.0,
                error_name="Timeout",
                error_value=f"total time budget of {lim.total_timeout_s:g} s is spent",
            )
        assert self._chan is not None
        chan = self._chan
        msg_id = uuid.uuid4().hex
        out = _Collector(lim.max_output_bytes)
        reply: dict[str, Any] | None = None
        error_msg: dict[str, Any] | None = None
        payloads: list[Any] = []
        idle = lost_output = barrier_done = False
        barrier_id: str | None = None
        shell_done_at: float | None = None
        garbage_at: float | None = None
        interrupt_at: float | None = None
        reason: Status = "timeout"
        dead_detail: str | None = None
        killed = False
        deadline = start + min(timeout_s, budget)
        try:
            for event in chan.drain():
                if event["ev"] == "exit":
                    raise _ChannelClosed(f"kernel exited with code {event.get('code')}")
            chan.send(
                {
                    "op": "execute",
                    "msg_id": msg_id,
                    "code": code,
                    "silent": silent,
                    "store_history": not silent,
                }
            )
            while True:
                now = time.monotonic()
                if reply is not None or barrier_done:
                    shell_done_at = shell_done_at or now
                    if idle:
                        break
                    if now - shell_done_at > _IOPUB_GRACE_S:
                        lost_output = True
                        break
                if interrupt_at is None and now >= deadline:
                    self._interrupt()
                    interrupt_at = now
                if interrupt_at is not None and now >= interrupt_at + lim.interrupt_grace_s:
                    killed = True
                    break
                if garbage_at is not None and now >= garbage_at + _GARBAGE_GRACE_S:
                    dead_detail = "the kernel's messages are malformed (json patched?)"
                    break
                wake = [deadline if interrupt_at is None else interrupt_at + lim.interrupt_grace_s]
                if shell_done_at is not None:
                    wake.append(shell_done_at + _IOPUB_GRACE_S)
                if garbage_at is not None:
                    wake.append(garbage_at + _GARBAGE_GRACE_S)
                event = chan.read(max(min(wake) - now, 0.0) + 0.001)
                if event is None:
                    continue
                kind = event["ev"]
                if kind == "exit":
                    dead_detail = f"kernel exited with code {event.get('code')}"
                    break
                if kind == "error":
                    dead_detail = f"supervisor: {event.get('error')}"
                    break
                if kind == "garbage":
                    garbage_at = garbage_at or now
                    continue
                # A valid message after garbage: the kernel's messaging still works.
                garbage_at = None
                if kind == "lost":
                    lost_output = True
                    if event.get("ch") == "shell" and reply is None and barrier_id is None:
                        # The reply may have been the message that was dropped: a
                        # kernel_info request queues behind the execution and marks its end.
                        barrier_id = uuid.uuid4().hex
                        chan.send({"op": "kernel_info", "msg_id": barrier_id})
                    continue
                if kind != "msg":
                    continue
                content = event.get("content")
                if not isinstance(content, dict):
                    continue
                parent, msg_type, channel = event.get("parent"), event.get("type"), event.get("ch")
                if channel == "shell":
                    if parent == msg_id and msg_type == "execute_reply":
                        reply = content
                    elif barrier_id is not None and parent == barrier_id:
                        barrier_done = True
                    continue
                if parent != msg_id:
                    continue
                if msg_type == "stream":
                    name = content.get("name")
                    out.add("stderr" if name == "stderr" else "stdout", content.get("text"))
                elif msg_type in ("execute_result", "display_data"):
                    data = content.get("data")
                    if isinstance(data, dict):
                        if _RESULT_MIME in data:
                            payloads.append(data[_RESULT_MIME])
                        else:
                            out.add("outputs", data.get("text/plain"))
                elif msg_type == "error":
                    error_msg = content
                elif msg_type == "status" and content.get("execution_state") == "idle":
                    idle = True
                if out.received > 8 * lim.max_output_bytes and interrupt_at is None:
                    reason = "output_limit"
                    self._interrupt()
                    interrupt_at = time.monotonic()
        except _ChannelClosed as exc:
            dead_detail = dead_detail or str(exc)
        elapsed = time.monotonic() - start
        if count:
            self._spent_s += elapsed
        kernel_ok = not killed and dead_detail is None
        stdout = "".join(out.streams["stdout"])
        stderr = "".join(out.streams["stderr"])
        outcome = _Outcome(
            status="ok",
            kernel_ok=kernel_ok,
            succeeded=False,
            elapsed_s=elapsed,
            stdout=stdout,
            stderr=stderr,
            outputs=tuple(out.outputs),
            truncated=out.truncated or lost_output,
            payloads=payloads,
        )
        source = reply if reply is not None and reply.get("status") == "error" else error_msg
        if source is not None:
            outcome.error_name = _text(source.get("ename"), 200)
            outcome.error_value = _text(source.get("evalue"), _MAX_ERROR_CHARS)
            tb = source.get("traceback")
            if isinstance(tb, list):
                joined = "\n".join(t for t in tb if isinstance(t, str))
                outcome.traceback = _text(_ANSI.sub("", joined), _MAX_TRACEBACK_CHARS) or ""
        if dead_detail is not None:
            outcome.status = "dead"
            outcome.error_name, outcome.error_value = "KernelDied", dead_detail
        elif killed or interrupt_at is not None:
            outcome.status = reason
            what = "did not stop after SIGINT; restarted" if killed else "interrupted"
            if reason == "timeout":
                limit_s = min(timeout_s, budget)
                outcome.error_name = "Timeout"
                outcome.error_value = f"execution exceeded {limit_s:g} s; {what}"
            else:
                outcome.error_name = "OutputLimit"
                outcome.error_value = f"output exceeded {8 * lim.max_output_bytes} bytes; {what}"
        elif reply is None or lost_output:
            outcome.status = "output_limit"
            outcome.error_name = outcome.error_name or "OutputLimit"
            outcome.error_value = outcome.error_value or (
                f"a kernel message was refused (a frame over {lim.max_message_bytes} bytes, "
                "or more than the relay could buffer) and output or the reply was lost"
            )
        elif reply.get("status") == "ok":
            outcome.status = "ok"
        else:
            outcome.status = "error"
            outcome.error_name = outcome.error_name or "Error"
        outcome.succeeded = (
            kernel_ok and interrupt_at is None and reply is not None and reply.get("status") == "ok"
        )
        return outcome

    def _call(
        self, mode: str, name: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> CallResult:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInputError(f"name must be a Python identifier, got {name!r}")
        token = secrets.token_hex(16)
        try:
            request = json.dumps(
                {"token": token, "mode": mode, "name": name, "args": list(args), "kwargs": kwargs}
            )
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"args and kwargs must be JSON-serialisable: {exc}") from None
        self._check_running()
        if self._broken is not None:
            return CallResult(False, error=f"KernelDied: {self._broken}", status="dead")
        # Calls do not spend the notebook's total budget: the grader budgets them per
        # question, so one slow function cannot starve the questions after it.
        outcome = self._execute(
            f"__ops_sandbox_call__({request!r})",
            silent=True,
            timeout_s=self.limits.cell_timeout_s,
            count=False,
        )
        if not outcome.kernel_ok:
            self._recover()
        self._reap_strays()
        if outcome.status != "ok":
            return CallResult(
                False,
                error=f"{outcome.error_name}: {outcome.error_value}",
                status=outcome.status,
                elapsed_s=outcome.elapsed_s,
            )
        return self._parse_payload(outcome, token)

    def _parse_payload(self, outcome: _Outcome, token: str) -> CallResult:
        def fail(why: str) -> CallResult:
            return CallResult(False, error=why, status="error", elapsed_s=outcome.elapsed_s)

        mine = [p for p in outcome.payloads if isinstance(p, dict) and p.get("token") == token]
        if len(mine) != 1:
            return fail(f"malformed reply: expected one result, got {len(mine)}")
        payload = mine[0]
        if payload.get("ok") is not True:
            error = _text(payload.get("error"), _MAX_ERROR_CHARS)
            return fail(error or "malformed reply: no error text")
        text = payload.get("json")
        if not isinstance(text, str):
            return fail("malformed reply: result is not JSON text")
        if len(text.encode("utf-8", "replace")) > self.limits.max_result_bytes:
            return fail(f"result is larger than {self.limits.max_result_bytes} bytes")
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return fail(f"malformed reply: {type(exc).__name__}")
        return CallResult(True, value=value, status="ok", elapsed_s=outcome.elapsed_s)

    # ----------------------------------------------------------------- restart

    def _kill_incarnation(self) -> None:
        proc, chan = self._proc, self._chan
        self._proc = self._chan = None
        if proc is not None:
            if chan is not None:
                try:
                    chan.send({"op": "kill"}, timeout_s=0.5)
                except _ChannelClosed:
                    pass
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._init_pidfd is not None:
            try:
                signal.pidfd_send_signal(self._init_pidfd, signal.SIGKILL)
            except OSError:
                pass
            os.close(self._init_pidfd)
            self._init_pidfd = None
        if self._cgroup is not None:
            self._cgroup.kill()
        if self._identity is not None and self._identity.per_job:
            _host.kill_uid(self._identity.uid)
        if self._runtime is not None and self._incarnation:
            shutil.rmtree(self._runtime / f"k{self._incarnation}", ignore_errors=True)

    def _recover(self) -> None:
        """Kill, restart and replay the successful cells; drop cells that misbehave again."""
        self._restarts += 1
        while True:
            self._kill_incarnation()
            try:
                self._start_incarnation()
            except SandboxError as exc:
                self._broken = f"restart failed: {exc}"
                _log.error("sandbox restart failed: %s", exc)
                return
            kept: list[str] = []
            pending = list(self._history)
            restart_again = False
            # With the time budget spent nothing can run: keep the rest for the record
            # rather than drop cells that did nothing wrong.
            while pending and self._budget_left() > 0:
                code = pending.pop(0)
                outcome = self._execute(code, silent=False, timeout_s=self.limits.cell_timeout_s)
                if outcome.succeeded:
                    kept.append(code)
                    continue
                self._dropped.append(code)
                if not outcome.kernel_ok:
                    self._restarts += 1
                    restart_again = True
                    break
            self._history = kept + pending
            if not restart_again:
                return
