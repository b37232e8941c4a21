"""The kernel factory the harness uses: a :class:`~labtools.sandbox.SandboxedKernel` per job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labtools.grading.harness import GradingConfig, KernelFactory
from labtools.sandbox import SandboxedKernel, SandboxLimits
from labtools.sandbox.kernel_env import ensure_kernel_env

__all__ = ["GRADING_LIMITS", "sandbox_kernel_factory"]

#: Limits for grading this lab: the solution runs in about 15 s; a cell gets 60 s (a slow
#: but honest loop), the whole notebook 10 minutes, 3 GiB of address space. No images: the
#: harness reads no cell output but errors, and the lab's six figures are about a fifth of a
#: grading's CPU (benchmarks/bench_display_images.py); nbgrader, whose feedback shows the
#: outputs, turns them back on.
GRADING_LIMITS = SandboxLimits(cell_timeout_s=60.0, total_timeout_s=600.0, display_images=False)


def sandbox_kernel_factory(
    *, limits: SandboxLimits = GRADING_LIMITS, kernel_python: Path | None = None
) -> KernelFactory:
    """A factory that starts a sandboxed kernel in each job folder.

    The kernel environment is built (or reused) once, here, so that a batch pays for it once.
    """
    python = kernel_python or ensure_kernel_env()

    @contextmanager
    def open_kernel(job: Path, config: GradingConfig) -> Iterator[SandboxedKernel]:
        with SandboxedKernel(
            job, limits=limits, kernel_python=python, hidden_paths=config.hidden_paths
        ) as kernel:
            yield kernel

    return open_kernel
