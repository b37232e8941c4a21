"""Starting one incarnation of a sandboxed kernel, and killing it.

A kernel is started afresh after every crash or hang ("incarnation" ``n`` of the job). Each
one gets its socket folder ``k<n>`` in the job's runtime folder, a connection file with a
new key, and a supervisor process (``_supervisor.py run``, as root, out of the grader's
session) that receives the kernel's whole configuration (uid, rlimits, namespaces, the
allow-list root, the environment) as its first line, starts the kernel in its namespaces and
reports ``started`` (with the PID of the job's init) and then ``ready``.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _host
from .channel import ChannelClosed, SupervisorChannel
from .errors import SandboxError
from .kernel_env import MPL_CACHE_SUBDIR
from .limits import KiB, MiB, SandboxLimits
from .protections import SUPERVISOR_SCRIPT, Protections

__all__ = ["Incarnation", "KernelLauncher", "kernel_environment", "log_tail"]

# Folders of the kernel's HOME (in the job folder's .sandbox/), one per variable that points
# a library's config, cache or runtime files somewhere.
_HOME_DIRS = (
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
_NAMESPACE_LAYERS = (
    ("net", "network_namespace"),
    ("mount", "mount_namespace"),
    ("ipc", "ipc_namespace"),
    ("uts", "uts_namespace"),
    ("pid", "pid_namespace"),
)


def kernel_environment(kernel_python: Path, user_name: str, home: Path) -> dict[str, str]:
    """Return the whole environment of the kernel: nothing is inherited from the grader.

    Parameters
    ----------
    kernel_python : pathlib.Path
        The kernel's interpreter; its folder comes first on ``PATH``.
    user_name : str
        The sandbox user's name, for ``USER`` and ``LOGNAME``.
    home : pathlib.Path
        The kernel's HOME; every config and cache folder lies inside.

    Returns
    -------
    dict of str to str
        Variable names and values.
    """
    env = {
        "PATH": f"{kernel_python.parent}:/usr/local/bin:/usr/bin:/bin",
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
        "USER": user_name,
        "LOGNAME": user_name,
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


def log_tail(runtime: Path | None, number: int) -> str:
    """Return the end of incarnation ``number``'s kernel and supervisor logs, for an error.

    Parameters
    ----------
    runtime : pathlib.Path or None
        The job's runtime folder (``None``: nothing to read).
    number : int
        The incarnation.

    Returns
    -------
    str
        Up to 1500 bytes of each non-empty log under a header line, or ``""``.
    """
    if runtime is None:
        return ""
    parts = []
    for name in (f"k{number}.log", f"supervisor{number}.log"):
        try:
            text = (runtime / name).read_bytes()[-1500:].decode("utf-8", "replace")
        except OSError:
            continue
        if text.strip():
            parts.append(f"\n--- {name} ---\n{text.strip()}")
    return "".join(parts)


@dataclass
class Incarnation:
    """One run of the kernel: its supervisor, the channel to it, and the job's init.

    Attributes
    ----------
    number : int
        Which incarnation of the job this is (1 for the first start).
    proc : subprocess.Popen
        The supervisor process.
    chan : SupervisorChannel
        The channel to the supervisor.
    init_pidfd : int or None
        A pidfd of the job's init (its PID namespace's first process), once it has started.
    """

    number: int
    proc: subprocess.Popen[bytes]
    chan: SupervisorChannel
    init_pidfd: int | None = None

    def wait_until_ready(
        self,
        config: dict[str, Any],
        *,
        protections: Protections,
        timeout_s: float,
        log_tail: Callable[[], str],
    ) -> None:
        """Send the supervisor its configuration and wait until the kernel answers.

        Parameters
        ----------
        config : dict
            From :meth:`KernelLauncher.configure`.
        protections : Protections
            The layers in force: the supervisor must confirm that it applied the
            namespaces that matter most.
        timeout_s : float
            Time to wait for ``ready``.
        log_tail : callable
            Returns the end of the logs, appended to error messages.

        Raises
        ------
        SandboxError
            If the kernel fails to start, misses a probed layer, or is not ready in time.
        """
        deadline = time.monotonic() + timeout_s
        try:
            self.chan.send(config)
            started = False
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError("kernel did not become ready in time" + log_tail())
                event = self.chan.read(left)
                if event is None:
                    continue
                kind = event["ev"]
                if kind == "started" and not started:
                    started = True
                    self._on_started(event, protections)
                elif kind == "ready":
                    return
                elif kind in ("error", "exit"):
                    detail = event.get("error") or f"kernel exited with code {event.get('code')}"
                    raise SandboxError(f"kernel failed to start: {detail}" + log_tail())
        except ChannelClosed as exc:
            raise SandboxError(f"kernel failed to start: {exc}" + log_tail()) from None

    def _on_started(self, event: dict[str, Any], protections: Protections) -> None:
        self._adopt_init(event.get("init_pid"))
        applied = event.get("applied") or {}
        for layer in ("network_namespace", "mount_namespace", "pid_namespace"):
            if getattr(protections, layer) and not applied.get(layer):
                raise SandboxError(f"{layer} was probed but not applied")

    def _adopt_init(self, pid: Any) -> None:
        # A pidfd taken while the init is surely alive (it outlives the kernel) keeps later
        # kills from ever reaching a recycled PID.
        if isinstance(pid, int) and pid > 1:
            try:
                self.init_pidfd = os.pidfd_open(pid)
            except OSError:
                self.init_pidfd = None

    def kill(self) -> None:
        """Stop the supervisor and kill the job's init (and so its PID namespace)."""
        try:
            self.chan.send({"op": "kill"}, timeout_s=0.5)
        except ChannelClosed:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.init_pidfd is not None:
            try:
                signal.pidfd_send_signal(self.init_pidfd, signal.SIGKILL)
            except OSError:
                pass
            os.close(self.init_pidfd)
            self.init_pidfd = None


@dataclass(frozen=True)
class KernelLauncher:
    """What every incarnation of one job's kernel is started with.

    Attributes
    ----------
    job_dir : pathlib.Path
        The job folder: the kernel's working folder, with its HOME in ``.sandbox/``.
    limits : SandboxLimits
        The kernel's limits.
    kernel_python : pathlib.Path
        The kernel's interpreter.
    identity : Identity
        The uid and gid the kernel runs as.
    runtime : pathlib.Path
        The job's runtime folder (sockets, logs, the allow-list root).
    hidden_paths : tuple of pathlib.Path
        Paths masked in the kernel's root.
    protections : Protections
        The layers in force.
    cgroup_procs : tuple of str
        ``cgroup.procs`` files the kernel's init joins (empty without a cgroup).
    """

    job_dir: Path
    limits: SandboxLimits
    kernel_python: Path
    identity: _host.Identity
    runtime: Path
    hidden_paths: tuple[Path, ...]
    protections: Protections
    cgroup_procs: tuple[str, ...] = ()

    def configure(self, number: int) -> dict[str, Any]:
        """Create incarnation ``number``'s socket folder and return its supervisor's config.

        Parameters
        ----------
        number : int
            The incarnation; its folder ``k<number>`` must not exist yet.

        Returns
        -------
        dict
            The configuration, sent as the supervisor's first line.
        """
        sock_dir = self.runtime / f"k{number}"
        sock_dir.mkdir(mode=0o700)
        conn, conn_file = self._write_connection_file(sock_dir)
        # The kernel binds its sockets here; the supervisor takes the folder back once ready.
        os.chown(sock_dir, self.identity.uid, self.identity.gid)
        home = self.job_dir / ".sandbox"
        venv = Path(os.path.realpath(self.kernel_python.parent.parent))
        lim = self.limits
        return {
            "uid": self.identity.uid,
            "gid": self.identity.gid,
            "kernel_argv": [
                str(self.kernel_python),
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
            "kernel_env": kernel_environment(self.kernel_python, self.identity.name, home),
            "cwd": str(self.job_dir),
            "home_dirs": [str(home / sub) for sub in _HOME_DIRS],
            "mpl_cache_src": str(venv / MPL_CACHE_SUBDIR),
            "mpl_cache_dst": str(home / "matplotlib"),
            "rlimits": self._rlimits(),
            "namespaces": [
                name for name, layer in _NAMESPACE_LAYERS if getattr(self.protections, layer)
            ],
            "root_dir": str(self.runtime / "root"),
            "ro_binds": ["/usr", "/etc", str(venv)],
            "rw_binds": [str(self.job_dir), str(sock_dir)],
            "hidden": [str(p) for p in self.hidden_paths],
            "tmp_bytes": lim.tmp_bytes,
            "cgroup_procs": list(self.cgroup_procs),
            "log_path": str(self.runtime / f"k{number}.log"),
            "socket_dir": str(sock_dir),
            "connection": conn,
            "max_message_bytes": lim.max_message_bytes,
            # Python, pyzmq and its threads take about 100 MiB of address space; the rest
            # is room for messages in flight.
            "supervisor_memory_bytes": 512 * MiB + 8 * lim.max_message_bytes,
            "startup_timeout_s": lim.startup_timeout_s,
        }

    def _write_connection_file(self, sock_dir: Path) -> tuple[dict[str, Any], Path]:
        conn = {
            "shell_port": 1,
            "iopub_port": 2,
            "stdin_port": 3,
            "control_port": 4,
            "hb_port": 5,
            "ip": str(sock_dir / "s"),
            "key": secrets.token_hex(32),
            "transport": "ipc",
            "signature_scheme": "hmac-sha256",
            "kernel_name": "",
        }
        conn_file = sock_dir / "connection.json"
        fd = os.open(conn_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(conn, fh)
        os.chown(conn_file, self.identity.uid, self.identity.gid)
        return conn, conn_file

    def _rlimits(self) -> dict[str, list[int]]:
        lim = self.limits
        cpu_s = math.ceil(lim.total_timeout_s) + 10
        return {
            "AS": [lim.memory_bytes, lim.memory_bytes],
            "NPROC": [lim.max_processes, lim.max_processes],
            "FSIZE": [lim.max_file_bytes, lim.max_file_bytes],
            "CPU": [cpu_s, cpu_s + 5],
            "CORE": [0, 0],
            "NOFILE": [1024, 1024],
        }

    def spawn(self, number: int) -> Incarnation:
        """Start incarnation ``number``'s supervisor, waiting for its configuration.

        Parameters
        ----------
        number : int
            The incarnation; its supervisor logs to ``supervisor<number>.log``.

        Returns
        -------
        Incarnation
            The running supervisor and the channel to it.
        """
        log = open(self.runtime / f"supervisor{number}.log", "ab")  # child's stderr
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(SUPERVISOR_SCRIPT), "run"],
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
        chan = SupervisorChannel(proc, 6 * self.limits.max_message_bytes + 64 * KiB)
        return Incarnation(number, proc, chan)
