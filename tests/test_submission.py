"""Finding the notebook in what a student uploaded, and the messages when it is not there."""

from __future__ import annotations

import zipfile

import nbformat
import pytest

from labtools.grading.submission import SubmissionProblem, find_notebook

NAME = "ops_scale.ipynb"


def notebook_bytes(marker: str = "x = 1") -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(marker)])
    return nbformat.writes(nb).encode()


def test_the_expected_notebook_is_found(tmp_path):
    (tmp_path / NAME).write_bytes(notebook_bytes("a = 1"))
    found = find_notebook(tmp_path, NAME)
    assert found.notebook.cells[0].source == "a = 1" and found.note == ""


def test_an_export_zip_is_opened(tmp_path):
    with zipfile.ZipFile(tmp_path / "ops_scale_2026.zip", "w") as archive:
        archive.writestr(NAME, notebook_bytes("b = 2"))
        archive.writestr("__MACOSX/._ops_scale.ipynb", b"junk")
    assert find_notebook(tmp_path, NAME).notebook.cells[0].source == "b = 2"


def test_a_renamed_notebook_is_graded_with_a_note(tmp_path):
    (tmp_path / "my lab (1).ipynb").write_bytes(notebook_bytes())
    found = find_notebook(tmp_path, NAME)
    assert "not ops_scale.ipynb" in found.note


def test_the_expected_name_wins_among_several(tmp_path):
    (tmp_path / "scratch.ipynb").write_bytes(notebook_bytes("no = 0"))
    (tmp_path / NAME).write_bytes(notebook_bytes("yes = 1"))
    found = find_notebook(tmp_path, NAME)
    assert found.notebook.cells[0].source == "yes = 1" and "Several notebooks" in found.note


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "No notebook found"),
        ({"notes.txt": b"hello"}, "it held: notes.txt"),
        ({NAME: b"{not json"}, "not a valid notebook file"),
        ({NAME: b'{"cells": 3}'}, "not a valid Jupyter notebook"),
        ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, "several notebooks"),
        ({"sub.zip": b"PK not a zip"}, "not a valid zip file"),
    ],
)
def test_unusable_submissions_get_a_message(tmp_path, files, message):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(SubmissionProblem, match=message):
        find_notebook(tmp_path, NAME)


def test_a_huge_notebook_is_refused_unread(tmp_path, monkeypatch):
    import labtools.grading.submission as submission

    monkeypatch.setattr(submission, "MAX_NOTEBOOK_BYTES", 1000)
    (tmp_path / NAME).write_bytes(notebook_bytes("x = '" + "a" * 2000 + "'"))
    with pytest.raises(SubmissionProblem, match="Clear Outputs"):
        find_notebook(tmp_path, NAME)
