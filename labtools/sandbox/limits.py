"""The resource limits of one sandboxed kernel (:class:`SandboxLimits`), checked on creation."""

from __future__ import annotations

from dataclasses import dataclass, fields

from .errors import SandboxInputError, check_int, check_real

__all__ = ["GiB", "KiB", "MiB", "SandboxLimits"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


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
    display_images : bool, default True
        Whether the kernel renders images for displays (PNG, JPEG, SVG, PDF: matplotlib
        figures, objects with ``_repr_png_``). A grader that never shows the outputs turns
        it off: rendering a figure takes CPU and nobody reads it. Text reprs stay.

    Raises
    ------
    SandboxInputError
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
    display_images: bool = True

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
            if f.name == "display_images":
                if not isinstance(value, bool):
                    raise SandboxInputError(f"display_images must be True or False, got {value!r}")
                continue
            if f.name.endswith("_s"):
                checked: float | int = check_real(f.name, value, low=0.0, low_open=True)
            else:
                high = 65536 if f.name == "max_processes" else None
                checked = check_int(f.name, value, low=floors[f.name], high=high)
            object.__setattr__(self, f.name, checked)
