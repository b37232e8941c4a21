"""Run Otter Assign on the master notebook with the student support package beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from labtools.paths import STUDENT_FILES
from labtools.release.master import write_master_ipynb
from labtools.release.public_notice import add_public_notice
from labtools.release.support_package import stage_support_package, verify_support_package

#: The export helper the notebook's last cell imports (see its module docstring).
EXPORT_HELPER = "ops_lab_submit.py"

__all__ = ["EXPORT_HELPER", "AssignOutput", "run_otter_assign"]


@dataclass(frozen=True)
class AssignOutput:
    """Folders written by Otter Assign."""

    student: Path  # notebook without solutions, public tests, support package
    autograder: Path  # solution notebook, every test, otter_config.json

    @property
    def student_notebook(self) -> Path:
        return next(self.student.glob("*.ipynb"))

    @property
    def solution_notebook(self) -> Path:
        return next(self.autograder.glob("*.ipynb"))


def run_otter_assign(workdir: Path) -> AssignOutput:
    """Stage the master and the support package in ``workdir`` and run ``otter assign``.

    Raises
    ------
    RuntimeError
        If Otter Assign fails (its output is included) or the support package leaks.
    """
    staging = workdir / "master"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    stage_support_package(staging)
    verify_support_package(staging)
    # Named in the config's `files:` too: Otter copies it beside the student notebook.
    shutil.copy2(STUDENT_FILES / EXPORT_HELPER, staging / EXPORT_HELPER)
    master = write_master_ipynb(staging)
    out = workdir / "otter"
    if out.exists():
        shutil.rmtree(out)
    # The CLI is Otter's stable interface; `files:` in the config names `opsmodel`, which
    # Otter copies into the student folder and the autograder.
    result = subprocess.run(
        [sys.executable, "-m", "otter", "assign", master.name, str(out.resolve())],
        cwd=staging,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"otter assign failed:\n{result.stdout}\n{result.stderr}")
    # Otter's own zip runs stock Otter in the student's kernel; ours replaces it.
    for stray in (out / "autograder").glob("*.zip"):
        stray.unlink()
    add_public_notice(out / "student" / "tests")
    return AssignOutput(student=out / "student", autograder=out / "autograder")
