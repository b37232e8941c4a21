"""The protection layers: which ones this host allows (probed once), and which are in force.

:data:`LAYERS` names them; :func:`probe_protections` tries each in a throwaway child and
caches the answer; ``$OPS_SANDBOX_REFUSE`` (:func:`refused_layers`) turns layers off, to
reproduce a weaker host on a full one; :func:`default_hidden_paths` names the trusted packages
no kernel may ever read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from . import _host
from .errors import SandboxInputError

__all__ = [
    "LAYERS",
    "REFUSE_ENV_VAR",
    "SUPERVISOR_SCRIPT",
    "Protections",
    "default_hidden_paths",
    "probe_protections",
    "refused_layers",
]

#: The supervisor script: run with "probe" here, with "run" for each kernel it starts.
SUPERVISOR_SCRIPT = Path(__file__).with_name("_supervisor.py")

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
    SandboxInputError
        If the variable names something that is not a layer (a ``ValueError``).
    """
    raw = os.environ.get(REFUSE_ENV_VAR, "")
    names = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(names - set(LAYERS))
    if unknown:
        raise SandboxInputError(
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
            [sys.executable, "-I", str(SUPERVISOR_SCRIPT), "probe"],
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
