"""The student release holds no solution, no hidden test and no reference implementation."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from otter.test_files.ok_test import OKTestFile

from labtools.paths import MASTER_SOURCE, NOTEBOOK_NAME
from labtools.release.master import load_master
from labtools.release.release_scan import scan_release, secret_lines
from labtools.release.support_package import (
    REFERENCE_ONLY_MODULES,
    SHIPPED_MODULES,
    all_opsmodel_modules,
)


@pytest.fixture(scope="module")
def secrets(autograder_tests: Path) -> dict[str, set[str]]:
    return secret_lines(load_master(MASTER_SOURCE), autograder_tests)


def test_every_module_is_either_shipped_or_reference_only():
    shipped, reference = set(SHIPPED_MODULES), set(REFERENCE_ONLY_MODULES)
    assert not shipped & reference
    assert all_opsmodel_modules() == shipped | reference


def test_secrets_are_found_where_they_belong(built, secrets):
    # The scanner must be able to fail: the solution notebook and the autograder hold every
    # kind of secret, so scanning them finds each kind.
    assert all(secrets.values()), "each kind of secret has lines to look for"
    solution_leaks = scan_release(built.solution_notebook.parent, secrets)
    assert {leak.kind for leak in solution_leaks} >= {"solution"}
    autograder_leaks = scan_release(built.autograder_source, secrets)
    assert {leak.kind for leak in autograder_leaks} >= {"solution", "hidden test", "reference"}


def test_student_release_has_no_secret(built, secrets):
    assert scan_release(built.student_zip, secrets) == []
    assert scan_release(built.student_dir, secrets) == []


def test_a_leak_pasted_into_the_release_is_caught(built, secrets, tmp_path):
    copy = tmp_path / "release"
    shutil.copytree(built.student_dir, copy)
    reference = sorted(secrets["reference"])[0]
    (copy / "opsmodel" / "helpers.py").write_text(f"def f():\n    {reference}\n")
    shutil.copy(Path("opsmodel/toil.py"), copy / "opsmodel" / "toil.py")
    leaks = scan_release(copy, secrets)
    assert any(leak.kind == "reference" and leak.file == "opsmodel/helpers.py" for leak in leaks)
    assert any(leak.kind == "file" and leak.file == "opsmodel/toil.py" for leak in leaks)


def test_student_tests_are_public_only(built):
    files = sorted((built.student_dir / "tests").glob("*.py"))
    assert files
    for path in files:
        assert not any(case.hidden for case in OKTestFile.from_file(str(path)).test_cases), path


def test_release_zip_contents(built):
    with zipfile.ZipFile(built.student_zip) as archive:
        names = set(archive.namelist())
    assert NOTEBOOK_NAME in names
    assert "opsmodel/tracks.py" in names and "opsmodel/instruments/__init__.py" in names
    for module in REFERENCE_ONLY_MODULES:
        assert f"opsmodel/{module}" not in names


def test_every_public_check_says_hidden_tests_run_later(built):
    from labtools.release.public_notice import PUBLIC_NOTICE

    for path in sorted((built.student_dir / "tests").glob("*.py")):
        public = [c for c in OKTestFile.from_file(str(path)).test_cases if not c.hidden]
        assert public, f"{path.name} has no public check"
        assert public[-1].success_message == PUBLIC_NOTICE, path.name


def test_students_can_type_in_every_answer_cell(built):
    # Otter locks a question's cells unless they sit in a SOLUTION block: a locked answer
    # cell cannot be edited in JupyterLab. Every cell with a "..." to replace must be open.
    import nbformat

    nb = nbformat.read(built.student_dir / NOTEBOOK_NAME, as_version=4)
    stubs = [c for c in nb.cells if c.cell_type == "code" and "..." in c.source]
    assert len(stubs) >= 15
    locked = [c.source[:40] for c in stubs if c.metadata.get("editable") is False]
    assert locked == []
