"""What a student downloads: sources only, a README, pinned requirements, an honest export.

The export helper's decision (is the saved notebook what the kernel ran?) is tested here on
notebooks written by hand; the whole export, in JupyterLab, is in ``test_browser.py``.
"""

from __future__ import annotations

import importlib.util
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from labtools.grading.notebook_format import gradable_cells
from labtools.paths import STUDENT_FILES


def _load_submit_helper():
    spec = importlib.util.spec_from_file_location(
        "ops_lab_submit", STUDENT_FILES / "ops_lab_submit.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


submit = _load_submit_helper()


def _notebook(*cells: tuple[str, int | None]) -> dict:
    nb = nbformat.v4.new_notebook()
    for source, count in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.execution_count = count
        nb.cells.append(cell)
    nb.cells.append(
        nbformat.v4.new_code_cell("import ops_lab_submit\nops_lab_submit.export(grader)")
    )
    return nb


def test_a_notebook_saved_after_it_ran_is_submittable() -> None:
    executed = ["", "TRACK = 'Edge Guardian'", "x = 1\n", "print(x)"]
    nb = _notebook(("TRACK = 'Edge Guardian'", 1), ("x = 1", 2), ("print(x)", 3))
    assert submit.unsaved_problems(nb, executed) == []


def test_a_stale_save_is_refused_cell_by_cell() -> None:
    # What Run All did before: the file on disk is from before the student changed TRACK
    # and ran everything.
    executed = ["", "TRACK = 'Edge Guardian'", "x = 1", "print(x)"]
    stale = _notebook(("TRACK = 'Cloud Titan'", 1), ("x = 1", None), ("print(x)", 3))
    problems = submit.unsaved_problems(stale, executed)
    assert problems == [
        "code cell 1 (`TRACK = 'Cloud Titan'`) was changed after it ran",
        "code cell 2 (`x = 1`) has not run in this session",
    ]


def test_an_execution_count_from_another_session_is_not_trusted() -> None:
    executed = ["", "x = 1"]  # a restarted kernel ran one cell
    nb = _notebook(("x = 1", 1), ("y = 2", 7))
    assert submit.unsaved_problems(nb, executed) == [
        "code cell 2 (`y = 2`) has not run in this session"
    ]


def test_refusal_reads_as_one_sentence_not_a_traceback() -> None:
    error = submit.NotSubmittable("the saved notebook is not what you ran")
    assert error._render_traceback_() == ["Not exported: the saved notebook is not what you ran"]


def test_the_grader_never_runs_the_export_cell() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("import ops_lab_submit\n\nops_lab_submit.export(grader)"),
    ]
    assert gradable_cells(nb) == [(0, "x = 1")]


@pytest.fixture(scope="module")
def student_zip(built) -> zipfile.ZipFile:
    with zipfile.ZipFile(built.student_zip) as archive:
        yield archive


def test_the_download_holds_sources_only(student_zip: zipfile.ZipFile) -> None:
    names = student_zip.namelist()
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert {"ops_scale.ipynb", "README.md", "requirements.txt", "ops_lab_submit.py"} <= set(names)


def test_the_requirements_pin_every_package_the_lab_imports(
    student_zip: zipfile.ZipFile,
) -> None:
    lines = [
        ln
        for ln in student_zip.read("requirements.txt").decode().splitlines()
        if ln and not ln.startswith("#")
    ]
    pinned = dict(ln.split("==") for ln in lines)
    assert set(pinned) >= {
        "numpy",
        "scipy",
        "pandas",
        "matplotlib",
        "ipykernel",
        "ipywidgets",
        "otter-grader",
        "ipylab",
        "jupyterlab",
    }
    assert all(re.fullmatch(r"\d+(\.\d+)*", v) for v in pinned.values()), pinned


def test_the_readme_says_how_to_work_and_submit(student_zip: zipfile.ZipFile) -> None:
    readme = student_zip.read("README.md").decode()
    for needle in ("JupyterHub", "pip install -r requirements.txt", "ops_scale-submission.zip"):
        assert needle in readme


def test_the_last_cell_exports_through_the_helper(student_zip: zipfile.ZipFile) -> None:
    nb = nbformat.reads(student_zip.read("ops_scale.ipynb").decode(), 4)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert "ops_lab_submit.export(grader)" in last.source
    assert not any("grader.export(" in c.source for c in nb.cells if c.cell_type == "code")


def test_helper_module_is_importable_beside_the_notebook(tmp_path: Path) -> None:
    # It must not need anything the student release lacks (no labtools, no opsmodel).
    source = (STUDENT_FILES / "ops_lab_submit.py").read_text()
    assert "labtools" not in source and "opsmodel" not in source


def test_every_name_a_test_reads_is_named_in_its_question(built) -> None:
    from labtools.grading.test_runner import load_test_files, names_used

    nb = nbformat.read(built.student_dir / "ops_scale.ipynb", as_version=4)
    text_by_question: dict[str, str] = {}
    prose: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            prose.append(cell.source)
        found = re.search(r'grader\.check\("(\w+)"\)', cell.source)
        if cell.cell_type == "code" and found:
            text_by_question[found.group(1)] = "\n".join(prose)
            prose = []
    tests = load_test_files(built.autograder_source / "tests")
    unnamed = {
        t.name: sorted(
            n for n in names_used([t]) - {"TRACK"} if f"`{n}" not in text_by_question[t.name]
        )
        for t in tests
    }
    assert not {q: names for q, names in unnamed.items() if names}
    assert "Set `TRACK` (a `str`)" in "\n".join(c.source for c in nb.cells)
