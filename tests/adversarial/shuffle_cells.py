"""Attack 15: cells out of order: the crisis answer cell moved up, just after the imports.

Expected: it runs before ``track`` exists and fails with a NameError naming it; q4 earns 0
(``crisis_answer`` is never set); everything else keeps its points.
"""

GROUP = "edits"
HONEST_CELLS_MAY_FAIL = True


def edit(nb) -> None:
    """Move the cell computing crisis_answer to just after the imports cell."""
    index = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "crisis_inputs(track)" in c.source
    )
    cell = nb.cells.pop(index)
    cell.metadata["adversarial"] = "shuffle_cells"
    imports = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "from scipy import stats" in c.source
    )
    nb.cells.insert(imports + 1, cell)


SCORES = {"q4_crisis": 0.0}
CELL_PROBLEM = "raised NameError: name 'track' is not defined"
PHRASES = {"summary": ["`crisis_answer` is not defined in your notebook at the check of q4_crisis"]}
