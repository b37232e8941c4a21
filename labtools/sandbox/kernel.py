"""The sandboxed kernel (:class:`SandboxedKernel`): its life from start to shutdown.

It prepares the job (the host's protections, the sandbox identity, the runtime folder, the
cgroup), starts incarnations of the kernel (:mod:`.launch`), runs cells and calls in them
(:mod:`.execution`, :mod:`.calls`), and restarts a kernel that died or hung, replaying the
cells that had succeeded. See the package docstring (:mod:`labtools.sandbox`) for the threat
model and the layers.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from . import _host
from .arguments import check_kernel_arguments, check_venv_not_hidden
from .calls import call_request, kernel_side_installer, read_call_result
from .errors import SandboxError, SandboxInputError, SandboxWarning
from .execution import ExecutionOutcome, budget_spent, execute
from .kernel_env import KernelEnvError, ensure_kernel_env
from .launch import Incarnation, KernelLauncher, log_tail
from .limits import SandboxLimits
from .protections import Protections, probe_protections
from .results import CallResult, CellResult

__all__ = ["SandboxedKernel"]

_log = logging.getLogger("labtools.sandbox")

# AF_UNIX paths hold at most 107 bytes; ipykernel appends "-<port>" to the prefix.
_MAX_IPC_PREFIX = 100
# The supervisor gets the kernel's own start-up time plus this to report it ready or failed.
_SUPERVISOR_SLACK_S = 5.0


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
    SandboxInputError
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
        args = check_kernel_arguments(
            job_dir,
            limits=limits,
            kernel_python=kernel_python,
            hidden_paths=hidden_paths,
            user=user,
            require=require,
            runtime_root=runtime_root,
        )
        self.job_dir = args.job_dir
        self.limits = args.limits
        self.hidden_paths: tuple[Path, ...] = args.hidden_paths
        self._kernel_python = args.kernel_python
        self._user = args.user
        self._require = args.require
        self._runtime_root = args.runtime_root
        self._history: list[str] = []
        self._dropped: list[str] = []
        self._restarts = 0
        self._spent_s = 0.0
        self._identity: _host.Identity | None = None
        self._cgroup: _host.JobCgroup | None = None
        self._runtime: Path | None = None
        self._launcher: KernelLauncher | None = None
        self._current: Incarnation | None = None
        # Incarnations started so far; the current one (or the last) has this number.
        self._incarnations = 0
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
        SandboxInputError
            If ``code`` is not a string.
        SandboxError
            If the kernel was never started or is shut down.
        """
        if not isinstance(code, str):
            raise SandboxInputError(f"code must be a string, got {type(code).__name__}")
        self._check_running()
        if self._broken is not None:
            return CellResult("dead", error_name="KernelDied", error_value=self._broken)
        outcome = self._execute(code, silent=False, timeout_s=self.limits.cell_timeout_s)
        restarted = False
        # A MemoryError leaves the memory it grabbed held by the cell's objects, and the next
        # honest cell would crash: restart and replay without this cell, as after a crash.
        if not outcome.kernel_ok or outcome.cell.error_name == "MemoryError":
            restarted = True
            self._recover()
        if outcome.succeeded:
            self._history.append(code)
        self._reap_strays()
        return dataclasses.replace(outcome.cell, restarted=restarted)

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
        SandboxInputError
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
        SandboxInputError
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
        """Everything a kernel needs before its first start, in the order it must happen."""
        host = self._host_with_required_layers()
        kernel_python = self._resolve_kernel_python()
        check_venv_not_hidden(kernel_python, self.hidden_paths)
        base = self._allocate_identity()
        runtime = self._make_runtime_folder(base)
        cgroup_ok = self._create_cgroup(host, runtime)
        if not host.mount_namespace:
            self._check_hidden_unreadable()
        assert self._identity is not None
        # Before any student code runs: hand the job folder itself to the sandbox uid.
        os.lchown(self.job_dir, self._identity.uid, self._identity.gid)
        os.chmod(self.job_dir, 0o700)
        self.protections = dataclasses.replace(
            host, cgroup=cgroup_ok, per_job_uid=self._identity.per_job
        )
        if self.protections.missing() or not self.protections.per_job_uid:
            message = f"sandbox runs with fewer protections: {self.protections.summary()}"
            warnings.warn(message, SandboxWarning, stacklevel=3)
            _log.warning(message)
        _log.info("sandbox protections: %s", self.protections.summary())
        self._launcher = KernelLauncher(
            job_dir=self.job_dir,
            limits=self.limits,
            kernel_python=kernel_python,
            identity=self._identity,
            runtime=runtime,
            hidden_paths=self.hidden_paths,
            protections=self.protections,
            cgroup_procs=tuple(self._cgroup.procs_files) if self._cgroup else (),
        )

    def _host_with_required_layers(self) -> Protections:
        host = probe_protections()
        missing = [name for name in self._require if not getattr(host, name)]
        if missing:
            why = dict(host.reasons)
            detail = "; ".join(f"{n}: {why.get(n, 'unavailable')}" for n in missing)
            raise SandboxError(f"required protections unavailable on this host: {detail}")
        return host

    def _resolve_kernel_python(self) -> Path:
        if self._kernel_python is None:
            try:
                self._kernel_python = ensure_kernel_env()
            except KernelEnvError as exc:
                raise SandboxError(f"no kernel environment: {exc}") from None
        return self._kernel_python

    def _allocate_identity(self) -> Path:
        """Reserve the uid the kernel runs as; return the root-owned base of runtime folders."""
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
        return base

    def _make_runtime_folder(self, base: Path) -> Path:
        self._runtime = runtime = Path(tempfile.mkdtemp(prefix="job-", dir=base))
        os.chmod(runtime, 0o711)
        (runtime / "root").mkdir(mode=0o755)
        if len(str(runtime / "k999" / "s")) > _MAX_IPC_PREFIX:
            raise SandboxError(f"runtime folder {runtime} is too deep for socket paths")
        return runtime

    def _create_cgroup(self, host: Protections, runtime: Path) -> bool:
        if not host.cgroup:
            return False
        try:
            self._cgroup = _host.JobCgroup.create(
                runtime.name,
                memory_bytes=self.limits.memory_bytes,
                max_tasks=self.limits.max_processes + 8,
            )
        except OSError as exc:
            _log.warning("cgroup creation failed: %s", exc)
            return False
        return True

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

    def _start_incarnation(self) -> None:
        """Start the next incarnation of the kernel, wait until it answers, set it up."""
        assert self._launcher is not None
        self._incarnations += 1
        config = self._launcher.configure(self._incarnations)
        self._current = self._launcher.spawn(self._incarnations)
        self._current.wait_until_ready(
            config,
            protections=self.protections,
            timeout_s=self.limits.startup_timeout_s + _SUPERVISOR_SLACK_S,
            log_tail=self._log_tail,
        )
        self._bootstrap()

    def _log_tail(self) -> str:
        return log_tail(self._runtime, self._incarnations)

    def _bootstrap(self) -> None:
        outcome = self._execute(
            kernel_side_installer(self.limits),
            silent=True,
            timeout_s=self.limits.startup_timeout_s,
            count=False,
        )
        if outcome.cell.status != "ok":
            raise SandboxError(
                f"kernel bootstrap failed: {outcome.cell.status} {outcome.cell.error_name}: "
                f"{outcome.cell.error_value}" + self._log_tail()
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

    def _execute(
        self, code: str, *, silent: bool, timeout_s: float, count: bool = True
    ) -> ExecutionOutcome:
        """Run ``code`` for at most ``timeout_s``, and (if ``count``) within the total budget."""
        budget = self._budget_left() if count else timeout_s
        if budget <= 0:
            return budget_spent(self.limits.total_timeout_s)
        assert self._current is not None
        outcome = execute(
            self._current.chan,
            code,
            silent=silent,
            limit_s=min(timeout_s, budget),
            limits=self.limits,
        )
        if count:
            self._spent_s += outcome.cell.elapsed_s
        return outcome

    def _call(
        self, mode: str, name: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> CallResult:
        code, token = call_request(mode, name, args, kwargs)
        self._check_running()
        if self._broken is not None:
            return CallResult(False, error=f"KernelDied: {self._broken}", status="dead")
        # Calls do not spend the notebook's total budget: the grader budgets them per
        # question, so one slow function cannot starve the questions after it.
        outcome = self._execute(
            code, silent=True, timeout_s=self.limits.cell_timeout_s, count=False
        )
        if not outcome.kernel_ok:
            self._recover()
        self._reap_strays()
        return read_call_result(outcome, token, self.limits.max_result_bytes)

    # ----------------------------------------------------------------- restart

    def _kill_incarnation(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            current.kill()
        if self._cgroup is not None:
            self._cgroup.kill()
        if self._identity is not None and self._identity.per_job:
            _host.kill_uid(self._identity.uid)
        if self._runtime is not None and self._incarnations:
            shutil.rmtree(self._runtime / f"k{self._incarnations}", ignore_errors=True)

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
