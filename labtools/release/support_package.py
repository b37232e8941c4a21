"""The support package students receive: `opsmodel` without any reference implementation.

Students import the same package name as the reference (``opsmodel``), but their copy holds
only the modules listed in :data:`SHIPPED_MODULES`: tracks, instruments, simulations and
helpers. The modules in :data:`REFERENCE_ONLY_MODULES` implement a function the student
writes, or the answer of a graded task, and never leave the instructor's side. Every module
of ``opsmodel`` must be in exactly one of the two lists (a test enforces it), so a new module
forces a decision.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from labtools.paths import OPSMODEL

__all__ = [
    "SHIPPED_MODULES",
    "REFERENCE_ONLY_MODULES",
    "all_opsmodel_modules",
    "stage_support_package",
    "verify_support_package",
]

#: Modules (paths relative to ``opsmodel/``) that students receive.
SHIPPED_MODULES: tuple[str, ...] = (
    "__init__.py",
    "_validation.py",
    "fleet_mix.py",
    "toil_params.py",
    "bounds.py",
    "rollout.py",
    "sprt.py",
    "divergence.py",
    "contracts.py",
    "ensemble.py",
    "feature_store.py",
    "tracks.py",
    "crisis_data.py",
    "canary_planner.py",
    "variants.py",
    "instruments/",
)

#: Modules that hold a graded function's reference implementation or a graded answer.
REFERENCE_ONLY_MODULES: tuple[str, ...] = (
    "toil.py",  # manual_toil_hours, platform_cost_usd, platform_roi_usd, break_even_models
    "sample_size.py",  # zero_failure_sample_size (failure_tolerant with k = 0 is the same)
    "shadow.py",  # shadow_hours
    "population_stability.py",  # psi (psi_from_proportions is its second half)
    "skew.py",  # skew_check
    "crises.py",  # the answers of the four crisis tasks
)

#: What a student who reaches for the reference must find missing.
REFERENCE_ONLY_IMPORTS: tuple[str, ...] = tuple(
    f"opsmodel.{name.removesuffix('.py')}" for name in REFERENCE_ONLY_MODULES
)


def all_opsmodel_modules(root: Path = OPSMODEL) -> set[str]:
    """Top-level modules and subpackages of ``opsmodel``, named as in the lists above."""
    names = {p.name for p in root.glob("*.py")}
    names |= {f"{p.name}/" for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return names


def _ignore_caches(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith(".pyc")}


def stage_support_package(destination: Path, *, source: Path = OPSMODEL) -> Path:
    """Copy the shipped modules of ``source`` into ``destination/opsmodel``.

    Returns
    -------
    Path
        The staged package folder.
    """
    package = destination / "opsmodel"
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    for name in SHIPPED_MODULES:
        src = source / name.rstrip("/")
        if name.endswith("/"):
            shutil.copytree(src, package / src.name, ignore=_ignore_caches)
        else:
            shutil.copy2(src, package / name)
    return package


# The probe drops setuptools' editable-install finder, which would resolve
# `opsmodel.<anything>` to the repository: a student's interpreter has no such finder.
_PROBE = """
import importlib, sys
editable = [f for f in sys.meta_path if getattr(f, "__module__", "").startswith("__editable__")]
sys.meta_path[:] = [f for f in sys.meta_path if f not in editable]
sys.path.insert(0, sys.argv[1])
import opsmodel
assert opsmodel.__file__.startswith(sys.argv[1]), opsmodel.__file__
for name in sys.argv[2].split(","):
    importlib.import_module(name)
leaks = []
for name in sys.argv[3].split(","):
    try:
        importlib.import_module(name)
    except ImportError:
        continue
    leaks.append(name)
print(",".join(leaks))
"""


def verify_support_package(staged_parent: Path) -> None:
    """Import every shipped module from the staged copy, in a fresh interpreter.

    Raises
    ------
    RuntimeError
        If a shipped module fails to import there (it depends on a reference-only module),
        or a reference-only module can be imported.
    """
    shipped = [
        f"opsmodel.{n.rstrip('/').removesuffix('.py')}"
        for n in SHIPPED_MODULES
        if n not in ("__init__.py",)
    ]
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-B",  # no __pycache__ in the staged copy: students get sources only
            "-c",
            _PROBE,
            str(staged_parent),
            ",".join(shipped),
            ",".join(REFERENCE_ONLY_IMPORTS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the student support package does not import:\n{result.stderr}")
    leaks = result.stdout.strip()
    if leaks:
        raise RuntimeError(f"reference-only modules importable from the release: {leaks}")
