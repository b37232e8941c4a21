"""The Gradescope autograder zip: our sandboxed grader instead of stock Otter's runner.

Layout inside the zip (Gradescope unpacks it to ``/autograder/source``)::

    run_autograder, setup.sh     entry point and image build (from ``autograder/``)
    requirements.txt             the grader's Python packages (from pyproject.toml)
    ops_lab.json                 grading config: notebook name, questions and points
    tests/                       every Otter test file, hidden cases included
    files/opsmodel/              the student support package, copied next to the notebook
    lib/opsmodel, lib/labtools   the reference and the grader (trusted side only)

Of ``labtools`` only what grading runs ships (:data:`GRADER_MODULES`): the grading harness
and the sandbox, never the release build, batch grading, nbgrader, the TA workflow or the
self-check.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat

from labtools._toml import tomllib
from labtools.grading.notebook_format import answer_cells_by_question
from labtools.paths import AUTOGRADER_TEMPLATES, LABTOOLS, NOTEBOOK_NAME, OPSMODEL, REPO
from labtools.release.support_package import stage_support_package
from labtools.rubric import Rubric

__all__ = ["GRADING_CONFIG_NAME", "assemble_autograder_source", "zip_folder"]

GRADING_CONFIG_NAME = "ops_lab.json"
# A fixed timestamp keeps the zip byte-identical across rebuilds of the same sources.
_EPOCH = (2026, 1, 1, 0, 0, 0)


def _is_cache(path: Path) -> bool:
    # Bytecode is the interpreter's business: it never ships, to students or to Gradescope.
    return "__pycache__" in path.parts or path.suffix == ".pyc"


def _ignore(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith(".pyc")}


#: What of ``labtools`` the Gradescope grader runs: its packages and top-level modules.
GRADER_MODULES = ("__init__.py", "_toml.py", "files.py", "grading", "sandbox")


def _copy_grader_library(destination: Path) -> None:
    """Copy :data:`GRADER_MODULES` of ``labtools`` into ``destination``."""
    destination.mkdir(parents=True)
    for name in GRADER_MODULES:
        source = LABTOOLS / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=_ignore)
        else:
            shutil.copy2(source, destination / name)


def grader_requirements() -> list[str]:
    """The packages the grader needs: the project's dependencies plus its grading extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["grading"]]


def assemble_autograder_source(
    destination: Path, *, otter_autograder: Path, rubric: Rubric, release_notebook: Path
) -> Path:
    """Lay out the autograder's source folder in ``destination`` (emptied first).

    ``release_notebook`` is the student notebook as released: its answer cells' ids let the
    grader find each question's state where a submission lost the question's check cell.
    """
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for script in ("run_autograder", "setup.sh"):
        shutil.copy2(AUTOGRADER_TEMPLATES / script, destination / script)
    (destination / "requirements.txt").write_text("\n".join(grader_requirements()) + "\n")
    shutil.copytree(otter_autograder / "tests", destination / "tests", ignore=_ignore)
    stage_support_package(destination / "files")
    lib = destination / "lib"
    shutil.copytree(OPSMODEL, lib / "opsmodel", ignore=_ignore)
    _copy_grader_library(lib / "labtools")
    questions = {q.name: q.points for q in rubric.questions if not q.manual}
    answer_cells = answer_cells_by_question(nbformat.read(release_notebook, as_version=4))
    config = {
        "notebook_name": NOTEBOOK_NAME,
        "questions": questions,
        "answer_cells": {q: ids for q, ids in answer_cells.items() if q in questions},
    }
    (destination / GRADING_CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    return destination


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """Zip ``folder``'s contents (not the folder itself), deterministically."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _is_cache(p)):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=_EPOCH)
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return zip_path
