"""Where things live in the repository, in one place."""

from __future__ import annotations

from pathlib import Path

#: The repository root (this file is ``labtools/paths.py``).
REPO = Path(__file__).resolve().parent.parent

#: The one master notebook, in jupytext percent format: the only file edited for content.
MASTER_SOURCE = REPO / "assignment" / "source" / "ops_scale.py"
#: The instructor's course options (per-student variants).
COURSE_OPTIONS = REPO / "assignment" / "course.toml"
#: The rubric of every question, auto-graded and manual.
RUBRIC = REPO / "assignment" / "rubric.toml"
#: Notebook file name students receive and submit.
NOTEBOOK_NAME = "ops_scale.ipynb"
#: Generated and committed: the student notebook and the solution notebook.
STUDENT_NOTEBOOK = REPO / "assignment" / NOTEBOOK_NAME
SOLUTION_NOTEBOOK = REPO / "solutions" / NOTEBOOK_NAME
#: Files students receive beside the notebook: the export helper and the student README.
STUDENT_FILES = REPO / "assignment" / "student_files"
#: Gradescope entry scripts copied into the autograder zip.
AUTOGRADER_TEMPLATES = REPO / "autograder"
#: Hand-written sample submissions of the self-check (authored with the assignment).
SAMPLE_SUBMISSIONS = REPO / "assignment" / "samples"
#: Everything else the build makes goes here (ignored by git).
DIST = REPO / "dist"
#: The reference package and the tooling, bundled into the autograder zip.
OPSMODEL = REPO / "opsmodel"
LABTOOLS = REPO / "labtools"
