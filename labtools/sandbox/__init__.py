"""Sandboxed Jupyter kernels for grading untrusted notebooks.

The grader (a trusted root process) starts a kernel for one job folder, runs the notebook's
code cells one by one, calls the student's functions by name with JSON arguments and gets
JSON data back, which it compares with the reference on its own side. This package is that
kernel layer; it does not grade.

Public API
----------
``SandboxLimits``
    Frozen record of the limits (cell and total timeouts, address space, processes, output
    kept per cell, file size, result and message size, interrupt grace, start-up time, size
    of the private ``/tmp``); the defaults suit a 45-minute lab notebook.
``probe_protections() -> Protections``
    What this host allows, probed once per process; ``Protections.summary()`` is the line
    for the grader's log. ``$OPS_SANDBOX_REFUSE`` (comma-separated layer names) turns layers
    off, to reproduce a weaker host on a full one.
``SandboxedKernel(job_dir, *, limits, kernel_python, hidden_paths, user, require, runtime_root)``
    Context manager. ``run_cell(code) -> CellResult``, ``call(name, /, *args, **kwargs) ->
    CallResult``, ``get(name) -> CallResult``, ``shutdown()``; ``protections`` records the
    layers actually in force, ``history``, ``dropped_cells`` and ``restarts`` what recovery
    did, ``startup_s`` how long the first start took.
``SandboxError``, ``SandboxInputError``, ``SandboxWarning``
    A kernel that cannot start with the protections asked for; a bad argument (both a
    ``ValueError`` and a ``TypeError``); a host that allows fewer layers than the sandbox
    can use.
``kernel_env.ensure_kernel_env(path=None) -> Path``
    Builds (or reuses) the kernel's venv; ``python -m labtools.sandbox.kernel_env``.

Modules, one idea each: ``errors`` (the sandbox's errors and argument checks), ``limits``
(:class:`SandboxLimits`), ``protections`` (the layers, the host's probe, hidden packages),
``arguments`` (the kernel's arguments checked), ``channel`` (the line-JSON pipe to the
supervisor), ``launch`` (starting and killing one incarnation of a kernel), ``execution``
(one execute request followed to its end), ``calls`` (the call protocol with the kernel
side), ``results`` (:class:`CellResult`, :class:`CallResult`) and ``kernel``
(:class:`SandboxedKernel`, from start through restarts to shutdown). The scripts
``_supervisor.py`` (root, outside the sandbox) and ``_kernel_side.py`` (inside the kernel)
run in other processes; ``_host.py`` holds the host-side helpers (uids, cgroups).

What the student's code can do, and what stops it
-------------------------------------------------
============================================  =============================================
threat                                        layer
============================================  =============================================
read the reference, hidden tests, config      allow-list root in a mount namespace (only
                                              ``/usr``, ``/etc``, the kernel venv, the job
                                              folder); hidden paths inside those masked;
                                              ``opsmodel`` not installed in the kernel venv
write outside the job folder                  read-only root, private ``/tmp``, ``/dev/shm``
                                              (tmpfs), another uid
reach the network or the grader's sockets     empty network namespace; ipc sockets in a
                                              root-owned folder outside the job folder
signal, trace or see other processes          another uid, own PID namespace and ``/proc``
exhaust memory, processes, disk, CPU          RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE,
                                              RLIMIT_CPU; cgroup memory and task limits
loop for ever, swallow KeyboardInterrupt      SIGINT at the cell timeout, then kill, restart
                                              and replay of the cells that succeeded
crash the kernel (``os._exit``, OOM)          noticed at once (the job's init exits);
                                              restart and replay
flood output, send huge messages              output cap per cell; frames over the size cap
                                              refused and reported; ZMQ buffers held by the
                                              supervisor under its own memory limit
lie through ``__eq__``, patch ``json``,       results cross as JSON text and are compared
patch the comparison                          on the trusted side; nothing is unpickled or
                                              evaluated; a malformed reply is an error for
                                              that call only
leave processes behind                        the PID namespace dies with its init; cgroup
                                              and per-job uid swept at shutdown
============================================  =============================================

Layers the host refuses (for example namespaces in a Docker container without
``CAP_SYS_ADMIN``) are left out with a :class:`SandboxWarning` and recorded in
``SandboxedKernel.protections``; ``require=`` names the layers without which a kernel must
not start (switching user and rlimits by default). Without a mount namespace the kernel
refuses to start while a hidden path is readable by the sandbox user.

Known limits: the job folder has no disk quota (only RLIMIT_FSIZE per file); replaying cells
repeats their side effects; with a shared named ``user`` jobs share a process limit and
files; a cell stuck in C code ignores SIGINT and costs the grace period plus a restart.
"""

from __future__ import annotations

import importlib
from typing import Any

# Resolved lazily, so that ``python -m labtools.sandbox.kernel_env`` does not import the
# kernel module (and its own import of kernel_env) before running kernel_env as __main__.
_HOMES = {
    "LAYERS": "protections",
    "CallResult": "results",
    "CellResult": "results",
    "Protections": "protections",
    "SandboxError": "errors",
    "SandboxInputError": "errors",
    "SandboxLimits": "limits",
    "SandboxWarning": "errors",
    "SandboxedKernel": "kernel",
    "default_hidden_paths": "protections",
    "probe_protections": "protections",
    "refused_layers": "protections",
}
__all__ = [
    "LAYERS",
    "CallResult",
    "CellResult",
    "Protections",
    "SandboxError",
    "SandboxInputError",
    "SandboxLimits",
    "SandboxWarning",
    "SandboxedKernel",
    "default_hidden_paths",
    "probe_protections",
    "refused_layers",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
