"""Write the nbgrader course of a build: source notebook, support package and config.

The course folder (``dist/nbgrader/`` in a build) is a standard nbgrader course::

    nbgrader_config.py                     generated settings (SQLite gradebook, sandbox, ...)
    source/ops_scale/ops_scale.ipynb       generated from the master, nbgrader metadata
    source/ops_scale/opsmodel/             the student support package (no reference modules)

and, once the instructor runs nbgrader, ``gradebook.db``, ``release/``, ``submitted/``,
``autograded/``, ``feedback/`` and ``grades.csv``. Only ``source/ops_scale/`` and the config
are written here; a live course's gradebook and submissions are left alone. Running
nbgrader on the course is :mod:`labtools.nbgrader_course.course`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labtools.nbgrader_course.cells import ASSIGNMENT_ID
from labtools.nbgrader_course.config import CourseSettings, write_config
from labtools.nbgrader_course.generate import (
    GeneratedNotebook,
    check_against_otter,
    generate_source_notebook,
)
from labtools.paths import MASTER_SOURCE, NOTEBOOK_NAME
from labtools.release.master import load_master
from labtools.release.support_package import stage_support_package, verify_support_package
from labtools.rubric import Rubric, load_rubric

__all__ = ["CourseBuild", "build_course", "write_course"]


@dataclass(frozen=True)
class CourseBuild:
    """What :func:`build_course` wrote."""

    course_dir: Path
    config: Path
    source_notebook: Path
    generated: GeneratedNotebook


def build_course(
    course_dir: Path,
    *,
    otter_tests: Path,
    master_source: Path = MASTER_SOURCE,
    rubric: Rubric | None = None,
    settings: CourseSettings | None = None,
) -> CourseBuild:
    """Generate the course's source notebook, support package and config into ``course_dir``.

    Parameters
    ----------
    course_dir : Path
        The course folder (created if missing).
    otter_tests : Path
        Otter Assign's ``autograder/tests`` of the same master: the generated test cells must
        reproduce these files exactly.
    master_source : Path
        The master notebook (jupytext percent).
    rubric : Rubric or None
        Points and graders to agree with; ``None`` loads ``assignment/rubric.toml``.
    settings : CourseSettings or None
        Course id, timeouts, kernel factory; ``None``: the defaults.

    Returns
    -------
    CourseBuild
        The paths written and the generated notebook with its questions.

    Raises
    ------
    labtools.nbgrader_course.generate.MasterFormatError
        On markup the generator does not translate.
    RuntimeError
        If the generated notebook disagrees with Otter's build, or the support package leaks.
    """
    master = load_master(master_source)
    generated = generate_source_notebook(master, rubric=rubric or load_rubric())
    problems = check_against_otter(generated, master, otter_tests)
    if problems:
        raise RuntimeError(
            "the nbgrader notebook disagrees with Otter Assign's build:\n  " + "\n  ".join(problems)
        )
    assignment_dir = course_dir / "source" / ASSIGNMENT_ID
    if assignment_dir.exists():
        shutil.rmtree(assignment_dir)
    assignment_dir.mkdir(parents=True)
    stage_support_package(assignment_dir)
    verify_support_package(assignment_dir)
    for cache in list(assignment_dir.rglob("__pycache__")):  # left by the import probe
        shutil.rmtree(cache)
    notebook = assignment_dir / NOTEBOOK_NAME
    nbformat.write(generated.notebook, notebook)
    config = write_config(course_dir, settings or CourseSettings())
    return CourseBuild(course_dir, config, notebook, generated)


def write_course(
    course_dir: Path, *, workdir: Path, settings: CourseSettings | None = None
) -> CourseBuild:
    """Run Otter Assign on the master into ``workdir``, then :func:`build_course`.

    For ``ops-lab nbgrader``: the course without the rest of the build.

    Parameters
    ----------
    course_dir : Path
        The course folder.
    workdir : Path
        Scratch folder of the build (``dist/.work``).
    settings : CourseSettings or None
        As for :func:`build_course`.

    Returns
    -------
    CourseBuild
        As for :func:`build_course`.
    """
    from labtools.release.otter_assign import run_otter_assign

    assign = run_otter_assign(workdir)
    return build_course(course_dir, otter_tests=assign.autograder / "tests", settings=settings)
