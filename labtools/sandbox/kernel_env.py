"""Create the interpreter that sandboxed kernels run: a venv that cannot import the reference.

The grader runs as root, from the project's venv, where ``opsmodel`` (the reference model) is
importable. A student's kernel must run under another user, so its interpreter and packages
must be readable by that user (a pyenv Python under ``/root``, mode 0700, is not), and it must
not be able to import the reference. This module builds such an environment: a venv made from
the system interpreter (``/usr/bin/python3``) in a world-readable folder outside ``/root``,
holding the lab's scientific stack and ``ipykernel``, and nothing of this project.

Run ``python -m labtools.sandbox.kernel_env [--path P]``: it builds the venv when missing or
incomplete (reuses it otherwise) and prints the path of its interpreter.

Versions follow the grader: where the running (trusted) environment has a package installed,
the kernel gets the same version, so that the student's numerics and the reference's run on
the same numpy and scipy; where it has not, the range of ``pyproject.toml`` applies.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.metadata
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = [
    "DEFAULT_KERNEL_VENV",
    "KERNEL_VENV_ENV_VAR",
    "KernelEnvError",
    "default_kernel_venv",
    "ensure_kernel_env",
    "kernel_requirements",
    "main",
]

#: Where the kernel venv lives unless told otherwise (world-readable, outside ``/root``).
DEFAULT_KERNEL_VENV = Path("/opt/ops-scale-lab/kernel-venv")
#: Environment variable that overrides :data:`DEFAULT_KERNEL_VENV`.
KERNEL_VENV_ENV_VAR = "OPS_SANDBOX_KERNEL_VENV"

# (distribution, range used when the trusted environment does not have it); the ranges are
# those of pyproject.toml, so a kernel never runs a stack the lab was not written for.
_PACKAGES: tuple[tuple[str, str], ...] = (
    ("numpy", ">=1.26,<3"),
    ("scipy", ">=1.11,<2"),
    ("pandas", ">=2.1,<4"),
    ("matplotlib", ">=3.8,<4"),
    ("ipykernel", ">=6.29,<8"),
    ("ipywidgets", ">=8.1,<9"),
)
# Import names that must resolve in the kernel venv, and those that must not: the reference
# model and the grading tooling stay on the trusted side.
_REQUIRED_MODULES = ("numpy", "scipy", "pandas", "matplotlib", "ipykernel", "ipywidgets")
_FORBIDDEN_MODULES = ("opsmodel", "labtools")
_MARKER = "ops-sandbox-kernel-env.json"
_MARKER_VERSION = 1
#: Matplotlib's font cache, built once here and copied into each job (else every kernel
#: spends about a second rebuilding it in its fresh MPLCONFIGDIR).
MPL_CACHE_SUBDIR = Path("share") / "ops-sandbox" / "mplconfig"


class KernelEnvError(RuntimeError):
    """The kernel environment cannot be created or fails its checks."""


def default_kernel_venv() -> Path:
    """Return the kernel venv location: ``$OPS_SANDBOX_KERNEL_VENV`` or the default.

    Returns
    -------
    pathlib.Path
        :data:`DEFAULT_KERNEL_VENV` unless the environment variable names another folder.
    """
    override = os.environ.get(KERNEL_VENV_ENV_VAR, "").strip()
    return Path(override) if override else DEFAULT_KERNEL_VENV


def kernel_requirements() -> tuple[str, ...]:
    """Return the pip requirements of the kernel venv.

    Returns
    -------
    tuple of str
        One requirement per package: ``name==version`` pinned to the running environment's
        version where that package is installed, else ``name`` with the project's range.
    """
    reqs = []
    for name, spec in _PACKAGES:
        try:
            reqs.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            reqs.append(f"{name}{spec}")
    return tuple(reqs)


def _check_traversable(path: Path) -> None:
    # Every ancestor must be searchable by "other", or the sandbox user cannot reach the
    # interpreter at all (the pyenv-under-/root trap).
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise KernelEnvError(
                f"path must be reachable by other users, but {parent} has mode "
                f"{stat.filemode(mode)}; choose a folder outside it (e.g. {DEFAULT_KERNEL_VENV})"
            )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Two pytest sessions (or graders) may build the same venv at once: serialise them.
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / f".{path.name}.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _clean_env() -> dict[str, str]:
    # The trusted venv's variables must not leak into the kernel venv's interpreter: a
    # PYTHONPATH pointing at the repository would make the reference importable in the checks.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHON") and k not in {"VIRTUAL_ENV", "PIP_USER", "PIP_TARGET"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: Sequence[str], *, what: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        list(cmd),
        capture_output=True,
        text=True,
        env=_clean_env() if env is None else env,
        cwd="/",
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-3000:]
        raise KernelEnvError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


_CHECK_SCRIPT = """
import importlib.util, json, sys
required = {required!r}
forbidden = {forbidden!r}
missing = [m for m in required if importlib.util.find_spec(m) is None]
leaked = [m for m in forbidden if importlib.util.find_spec(m) is not None]
print(json.dumps({{"missing": missing, "leaked": leaked, "prefix": sys.prefix}}))
"""


def _check(python: Path) -> dict[str, object]:
    script = _CHECK_SCRIPT.format(required=_REQUIRED_MODULES, forbidden=_FORBIDDEN_MODULES)
    # -I: ignore PYTHON* variables and the current folder, as the kernel's own checks would.
    out = _run([str(python), "-I", "-c", script], what="checking the kernel venv")
    return json.loads(out.strip().splitlines()[-1])


def _marker_content(base_python: Path) -> dict[str, object]:
    return {
        "version": _MARKER_VERSION,
        "base_python": str(base_python),
        "requirements": list(kernel_requirements()),
    }


def _is_complete(path: Path, base_python: Path) -> bool:
    marker = path / _MARKER
    python = path / "bin" / "python"
    if not (marker.is_file() and python.exists()):
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    if recorded != _marker_content(base_python):
        return False
    try:
        result = _check(python)
    except KernelEnvError:
        return False
    return not result["missing"] and not result["leaked"]


def _make_world_readable(path: Path) -> None:
    # pip honours the umask, but files copied from wheels may carry restrictive modes.
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                continue
            extra = stat.S_IRGRP | stat.S_IROTH
            if stat.S_ISDIR(st.st_mode) or st.st_mode & stat.S_IXUSR:
                extra |= stat.S_IXGRP | stat.S_IXOTH
            if st.st_mode & extra != extra:
                os.chmod(p, st.st_mode | extra)
    os.chmod(path, os.stat(path).st_mode | 0o755)


def _build(path: Path, base_python: Path) -> None:
    if path.exists():
        if not (path / "pyvenv.cfg").is_file() and any(path.iterdir()):
            raise KernelEnvError(f"path {path} exists and is not a venv; refusing to replace it")
        # An interrupted or outdated build: start again rather than patch it.
        shutil.rmtree(path)
    _run([str(base_python), "-m", "venv", str(path)], what=f"creating the venv {path}")
    python = path / "bin" / "python"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--only-binary=:all:",
            *kernel_requirements(),
        ],
        what="installing the kernel packages",
    )
    mpl_dir = path / MPL_CACHE_SUBDIR
    mpl_dir.mkdir(parents=True, exist_ok=True)
    env = _clean_env()
    env.update(MPLCONFIGDIR=str(mpl_dir), MPLBACKEND="Agg")
    _run(
        [str(python), "-I", "-c", "import matplotlib.font_manager"],
        what="building matplotlib's font cache",
        env=env,
    )
    _make_world_readable(path)


def ensure_kernel_env(
    path: str | os.PathLike[str] | None = None,
    *,
    base_python: str | os.PathLike[str] = "/usr/bin/python3",
) -> Path:
    """Create the kernel venv if it is missing or incomplete, and return its interpreter.

    Parameters
    ----------
    path : path-like or None
        Folder of the venv; ``None`` means :func:`default_kernel_venv`. Every ancestor must be
        searchable by other users.
    base_python : path-like
        Interpreter the venv is made from; it must be world-readable (``/usr/bin/python3``).

    Returns
    -------
    pathlib.Path
        ``PATH/bin/python``, the interpreter that :class:`~labtools.sandbox.SandboxedKernel`
        takes as ``kernel_python``.

    Raises
    ------
    KernelEnvError
        If the folder is not reachable by other users, exists and is not a venv, if pip
        fails, or if the finished venv misses a package or can import ``opsmodel``.

    Notes
    -----
    Idempotent: a marker file records the requirements and the base interpreter; when it
    matches and a quick check (every required module found, ``opsmodel`` and ``labtools``
    not found, with ``python -I``) passes, the venv is reused as it is (about 50 ms). A
    concurrent call waits on a file lock beside the venv. The build needs the package index
    (about 20 s here, 530 MB).

    Examples
    --------
    >>> python = ensure_kernel_env()  # doctest: +SKIP
    >>> str(python)  # doctest: +SKIP
    '/opt/ops-scale-lab/kernel-venv/bin/python'
    """
    venv = Path(os.path.abspath(default_kernel_venv() if path is None else path))
    base = Path(base_python)
    if not base.exists():
        raise KernelEnvError(f"base_python must be an existing interpreter, got {base}")
    _check_traversable(venv)
    with _umask(0o022), _locked(venv):
        if not _is_complete(venv, base):
            _build(venv, base)
            result = _check(venv / "bin" / "python")
            if result["missing"] or result["leaked"]:
                raise KernelEnvError(
                    f"kernel venv {venv} is wrong: missing {result['missing']}, "
                    f"importable but forbidden {result['leaked']}"
                )
            (venv / _MARKER).write_text(json.dumps(_marker_content(base), indent=2) + "\n")
            _check_traversable(venv / "bin" / "python")
    return venv / "bin" / "python"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build or reuse the kernel venv and print its interpreter path.

    Parameters
    ----------
    argv : sequence of str or None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 1 when the environment cannot be made (the reason goes to stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m labtools.sandbox.kernel_env",
        description="Create (or reuse) the venv that sandboxed grading kernels run.",
    )
    parser.add_argument(
        "--path",
        default=None,
        help=f"venv folder (default: ${KERNEL_VENV_ENV_VAR} or {DEFAULT_KERNEL_VENV})",
    )
    parser.add_argument("--base-python", default="/usr/bin/python3", help="interpreter to use")
    args = parser.parse_args(argv)
    try:
        python = ensure_kernel_env(args.path, base_python=args.base_python)
    except KernelEnvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
