"""Can nbgrader autograde this submitted notebook? The check before nbgrader changes anything.

nbgrader's autograde meets a notebook that is not in the course's format (a Gradescope
notebook in Otter's format, copied in as it is) with a ``KeyError`` deep in
``OverwriteCells`` (``'lock_part1_answer'``): it puts back each deleted grade cell after the
cell that precedes it in the source notebook, and that cell is missing too. It then removes
the autograded folder it was writing, and a reader of the log learns nothing.

:func:`format_problems` predicts that failure from the notebook and the gradebook, with a
message that says what the notebook is and what to do (``ops-lab nbgrader-import``).
:class:`CheckSubmissionFormat` runs it first among ``Autograde.sanitize_preprocessors`` (the
course's config puts it there), so ``nbgrader autograde`` stops on such a notebook with that
message before any of its own steps. (nbgrader's ``pre_convert_hook`` would run earlier, but
nbgrader logs a failing hook and carries on.) nbgrader then removes the autograded folder
it had just started for this run; an older autograded folder of the student is gone by then
in any case, since nbgrader empties it before grading again (``--force`` or a newer
submission). ``ops-lab nbgrader-autograde`` runs the same check on every submission before
it starts nbgrader at all, so nbgrader never touches the folders of a student whose
notebook fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = [
    "CourseCells",
    "SubmissionFormatError",
    "CheckSubmissionFormat",
    "course_cells",
    "format_problems",
]

#: What the instructor does about a notebook that is not in the course's format.
IMPORT_HINT = (
    "Put it into the course with `ops-lab nbgrader-import NOTEBOOK_OR_EXPORT COURSE --force` "
    "(it matches the student's cells to the release's, keeping every cell the student "
    "wrote); the submitted file was not changed."
)


class SubmissionFormatError(RuntimeError):
    """A submitted notebook nbgrader cannot autograde as it is; the message says why."""


@dataclass(frozen=True)
class CourseCells:
    """The source notebook's cells as the gradebook holds them.

    Attributes
    ----------
    source_ids : tuple of str
        Grade ids of every cell nbgrader tracks, in the gradebook's order (the order
        nbgrader's ``OverwriteCells`` uses to put deleted cells back).
    grade_ids : tuple of str
        The graded cells (tests, manually graded answers), in the gradebook's order.
    solution_ids : frozenset of str
        The answer cells.
    """

    source_ids: tuple[str, ...]
    grade_ids: tuple[str, ...]
    solution_ids: frozenset[str]


def course_cells(db_url: str, notebook_id: str, assignment_id: str) -> CourseCells:
    """The notebook's cells from the gradebook (what ``generate_assignment`` saved).

    Raises
    ------
    nbgrader.api.MissingEntry
        If the gradebook has no such notebook (``generate_assignment`` was not run).
    """
    with Gradebook(db_url) as gb:
        notebook = gb.find_notebook(notebook_id, assignment_id)
        return CourseCells(
            source_ids=tuple(c.name for c in notebook.source_cells),
            grade_ids=tuple(c.name for c in notebook.grade_cells),
            solution_ids=frozenset(c.name for c in notebook.solution_cells),
        )


def format_problems(nb: NotebookNode, cells: CourseCells) -> list[str]:
    """Why nbgrader could not autograde ``nb``; empty when it can.

    Parameters
    ----------
    nb : NotebookNode
        The submitted notebook, as it is on disk.
    cells : CourseCells
        The course's cells (:func:`course_cells`).

    Returns
    -------
    list of str
        Empty, or one sentence: the notebook carries none of the course's cells (another
        format), or it lost cells that nbgrader cannot put back.

    Notes
    -----
    The second case follows nbgrader 0.9's ``OverwriteCells.add_missing_grade_cells``: a
    missing grade cell goes back after the source cell before it, which must be a graded
    or answer cell of the submission (or one put back just before).
    """
    known = set(cells.source_ids)
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
    if not known & set(ids):
        return [
            "no cell carries this course's nbgrader metadata: it is not the course's release "
            "notebook (a notebook in Otter's format, from Gradescope?), and nbgrader cannot "
            "autograde it as it is. " + IMPORT_HINT
        ]
    present = set()
    for cell, grade_id in zip(nb.cells, ids, strict=True):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if grade_id and (meta.get("grade") or meta.get("solution")):
            present.add(grade_id)
    lost = []
    for grade_id in cells.grade_ids:
        if grade_id in present:
            continue
        position = cells.source_ids.index(grade_id)
        before = cells.source_ids[position - 1] if position else None
        if before is not None and before not in present:
            lost.append(f"{grade_id} (after {before})")
            continue
        present.add(grade_id)
    if lost:
        return [
            f"cells were deleted that nbgrader cannot put back, because the cell before each "
            f"is missing too: {', '.join(lost)}. " + IMPORT_HINT
        ]
    return []


class CheckSubmissionFormat(NbGraderPreprocessor):
    """Autograde's first sanitizing step: stop on a notebook nbgrader cannot autograde.

    Registered first in ``Autograde.sanitize_preprocessors`` by the course's config.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, Any]:
        info = resources["nbgrader"]
        cells = course_cells(info["db_url"], info["notebook"], info["assignment"])
        problems = format_problems(nb, cells)
        if problems:
            where = f"submitted/{info['student']}/{info['assignment']}/{info['notebook']}.ipynb"
            message = f"{where}: {problems[0]}"
            self.log.error(message)
            raise SubmissionFormatError(message)
        return nb, resources
