"""Which cells of a submitted notebook the grader runs."""

from __future__ import annotations

import re

import nbformat

__all__ = ["gradable_cells", "is_grader_boilerplate"]

# Cells that only drive Otter in the student's JupyterLab: the grader has its own copy of
# every test, so running them would only import otter and re-run public checks.
_BOILERPLATE = re.compile(
    r"^\s*(?:#.*\n\s*)*(?:import otter\s*\n\s*grader\s*=\s*otter\.Notebook\(.*\)"
    r"|grader\.check\(.*\)|grader\.check_all\(\)|grader\.export\(.*\))\s*$",
    re.S,
)


def is_grader_boilerplate(source: str) -> bool:
    """Whether a code cell only initialises Otter, runs a public check or exports."""
    return bool(_BOILERPLATE.match(source))


def gradable_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, source) of every code cell the grader executes, in notebook order."""
    return [
        (i, cell.source)
        for i, cell in enumerate(nb.cells)
        if cell.get("cell_type") == "code"
        and isinstance(cell.get("source"), str)
        and cell.source.strip()
        and not is_grader_boilerplate(cell.source)
    ]
