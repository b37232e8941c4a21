"""What students receive beside the notebook: their README and a pinned requirements file.

The requirements pin the versions the build ran with, which are the versions the grading
kernel gets (:func:`labtools.sandbox.kernel_env.kernel_requirements` pins the kernel to the
grader's environment), so a student working locally computes on the same numpy and scipy as
the grader. Otter and ipylab are what the notebook's first and last cells need; JupyterLab is
the editor the lab is written for.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from labtools.paths import STUDENT_FILES
from labtools.sandbox.kernel_env import kernel_requirements

__all__ = ["STUDENT_README", "student_requirements", "write_student_files"]

STUDENT_README = "README.md"
# Beyond the kernel's scientific stack: Otter (checks and export), ipylab (lets the export
# cell ask JupyterLab to save), JupyterLab itself.
_FRONTEND_PACKAGES = ("otter-grader", "ipylab", "jupyterlab")


def student_requirements() -> list[str]:
    """The pinned requirements of the student release, one ``name==version`` per line.

    Returns
    -------
    list of str
        The grading kernel's packages, then the frontend packages, each pinned to the version
        installed where the build runs (unpinned if it is not installed there).
    """
    pins = list(kernel_requirements())
    for name in _FRONTEND_PACKAGES:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def write_student_files(student_dir: Path) -> None:
    """Put the student README and ``requirements.txt`` into the release folder."""
    shutil.copy2(STUDENT_FILES / STUDENT_README, student_dir / STUDENT_README)
    lines = [
        "# Packages to work on the lab on your own machine (Python 3.11 to 3.13):",
        "#     python -m pip install -r requirements.txt",
        "# The versions are those the grader uses.",
        *student_requirements(),
    ]
    (student_dir / "requirements.txt").write_text("\n".join(lines) + "\n")
