"""The arguments of a sandboxed kernel, checked before anything touches the host.

:func:`check_kernel_arguments` turns what :class:`~labtools.sandbox.kernel.SandboxedKernel`
was given into real paths and defaults, or raises :class:`SandboxInputError` naming the
argument; :func:`check_venv_not_hidden` is the one check that waits for the kernel's venv.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import SandboxInputError
from .limits import SandboxLimits
from .protections import LAYERS, default_hidden_paths

__all__ = ["KernelArguments", "check_kernel_arguments", "check_venv_not_hidden"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class KernelArguments:
    """The checked arguments of a kernel (see :class:`SandboxedKernel` for each)."""

    job_dir: Path
    limits: SandboxLimits
    hidden_paths: tuple[Path, ...]
    kernel_python: Path | None
    user: str | int | None
    require: tuple[str, ...]
    runtime_root: PathLike | None


def check_kernel_arguments(
    job_dir: PathLike,
    *,
    limits: SandboxLimits | None,
    kernel_python: PathLike | None,
    hidden_paths: Iterable[PathLike],
    user: str | int | None,
    require: Iterable[str],
    runtime_root: PathLike | None,
) -> KernelArguments:
    """Return the arguments of :class:`SandboxedKernel` checked and with paths resolved.

    Parameters
    ----------
    job_dir, limits, kernel_python, hidden_paths, user, require, runtime_root
        As for :class:`~labtools.sandbox.kernel.SandboxedKernel`.

    Returns
    -------
    KernelArguments
        ``job_dir`` as a real path, the default limits for ``None``, and the hidden paths
        (real paths, with :func:`default_hidden_paths`) sorted.

    Raises
    ------
    SandboxInputError
        If an argument has the wrong type or value (paths that do not exist, overlap of
        ``job_dir`` with a hidden path or the kernel venv, unknown layer names).
    """
    job = _check_job_dir(job_dir)
    if limits is None:
        limits = SandboxLimits()
    if not isinstance(limits, SandboxLimits):
        raise SandboxInputError(f"limits must be a SandboxLimits, got {limits!r}")
    if user is not None and not (
        (isinstance(user, str) and re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", user))
        or (isinstance(user, int) and not isinstance(user, bool) and 0 < user < 2**31)
    ):
        raise SandboxInputError(
            f"user must be None, a user name or a uid in (0, 2**31), got {user!r}"
        )
    hidden = _check_hidden_paths(hidden_paths, job)
    required = tuple(require)
    unknown = [name for name in required if name not in LAYERS]
    if unknown:
        raise SandboxInputError(f"require must name layers from {LAYERS}, got {unknown}")
    if kernel_python is not None:
        _check_kernel_python(kernel_python, job)
    if runtime_root is not None and not (
        isinstance(runtime_root, (str, os.PathLike)) and os.path.isdir(runtime_root)
    ):
        raise SandboxInputError(f"runtime_root must be an existing folder, got {runtime_root!r}")
    return KernelArguments(
        job_dir=job,
        limits=limits,
        hidden_paths=hidden,
        kernel_python=None if kernel_python is None else Path(kernel_python),
        user=user,
        require=required,
        runtime_root=runtime_root,
    )


def check_venv_not_hidden(kernel_python: Path, hidden_paths: Iterable[Path]) -> None:
    """Raise if a hidden path is, or contains, the kernel's venv (it could not start).

    Parameters
    ----------
    kernel_python : pathlib.Path
        The kernel's interpreter, in ``<venv>/bin``.
    hidden_paths : iterable of pathlib.Path
        Real paths hidden from the kernel.

    Raises
    ------
    SandboxInputError
        If one of ``hidden_paths`` is the venv or one of its parents.
    """
    venv = Path(os.path.realpath(kernel_python.parent.parent))
    for h in hidden_paths:
        if h == venv or h in venv.parents:
            raise SandboxInputError(
                f"hidden_paths must not contain the kernel venv {venv}, got {h}"
            )


def _check_job_dir(job_dir: object) -> Path:
    if not isinstance(job_dir, (str, os.PathLike)):
        raise SandboxInputError(f"job_dir must be a path to a folder, got {job_dir!r}")
    job = Path(os.path.realpath(job_dir))
    if not job.is_dir():
        raise SandboxInputError(f"job_dir must be an existing folder, got {job_dir!r}")
    if job == Path("/") or len(job.parts) < 3:
        raise SandboxInputError(f"job_dir must be a dedicated job folder, got {job_dir!r}")
    return job


def _check_hidden_paths(hidden_paths: Iterable[PathLike], job: Path) -> tuple[Path, ...]:
    if isinstance(hidden_paths, (str, os.PathLike)):
        raise SandboxInputError(
            f"hidden_paths must be an iterable of paths, got the single path {hidden_paths!r}"
        )
    hidden: set[Path] = set(default_hidden_paths())
    for p in hidden_paths:
        if not isinstance(p, (str, os.PathLike)):
            raise SandboxInputError(f"hidden_paths must hold paths, got {p!r}")
        hidden.add(Path(os.path.realpath(p)))
    for h in hidden:
        if h == job or h in job.parents or job in h.parents:
            raise SandboxInputError(
                f"hidden_paths must not contain or lie inside job_dir, got {h} for {job}"
            )
    return tuple(sorted(hidden))


def _check_kernel_python(kernel_python: object, job: Path) -> None:
    if not isinstance(kernel_python, (str, os.PathLike)) or not os.path.exists(kernel_python):
        raise SandboxInputError(
            f"kernel_python must be an existing interpreter, got {kernel_python!r}"
        )
    venv = Path(os.path.realpath(Path(kernel_python).parent.parent))
    if venv == job or job in venv.parents or venv in job.parents:
        raise SandboxInputError(
            f"kernel_python's venv must not overlap job_dir, got {venv} for {job}"
        )
