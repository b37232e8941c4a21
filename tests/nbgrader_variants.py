"""Realistic student edits of a notebook, and a Gradescope export to carry them.

Made from the generated notebooks (the self-check's samples), as students edit theirs: a
helper cell, a scratch call and a note added; a read-only cell and a check deleted; an
answer moved above another. Shared by ``test_nbgrader_import.py`` and
``test_nbgrader_autograde.py``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from labtools.paths import NOTEBOOK_NAME


def at(nb: nbformat.NotebookNode, start: str) -> int:
    """Index of the first cell whose text starts with ``start``."""
    return next(i for i, c in enumerate(nb.cells) if c.source.lstrip().startswith(start))


def with_added_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A helper before psi's answer, a scratch call after it, a note after q1a's check."""
    nb = copy.deepcopy(nb)
    psi_at = at(nb, "def psi(")
    nb.cells.insert(psi_at + 1, nbformat.v4.new_code_cell("psi([0.1, 0.2, 0.3], [0.2, 0.2, 0.3])"))
    nb.cells.insert(psi_at, nbformat.v4.new_code_cell("def _edges(values, n):\n    return n"))
    check_at = at(nb, 'grader.check("q1a_manual_toil")')
    nb.cells.insert(check_at + 1, nbformat.v4.new_markdown_cell("My notes: toil is quadratic."))
    return nb


def with_deleted_and_moved_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A read-only cell and psi's check deleted, skew_check's answer above psi's, a last cell."""
    nb = copy.deepcopy(nb)
    for start in ('print(f"Upstream', 'grader.check("q3a_psi")'):
        del nb.cells[at(nb, start)]
    skew = nb.cells.pop(at(nb, "def skew_check("))
    nb.cells.insert(at(nb, "def psi("), skew)
    nb.cells.append(nbformat.v4.new_code_cell("print('done')"))
    return nb


#: Gradescope's metadata of two submissions (Ruby symbols as keys, as Gradescope writes).
GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2026-11-20 10:00:00.000000000 -08:00
submission_202:
  :submitters:
  - :name: Alan Turing
    :sid: '1912'
    :email: alan@example.edu
"""


def gradescope_export(folder: Path, notebooks: dict[str, nbformat.NotebookNode]) -> Path:
    """A Gradescope "Export Submissions" folder: metadata, one folder per submission."""
    folder.mkdir(parents=True)
    (folder / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    for name, nb in notebooks.items():
        (folder / name).mkdir()
        nbformat.write(nb, folder / name / NOTEBOOK_NAME)
    return folder
