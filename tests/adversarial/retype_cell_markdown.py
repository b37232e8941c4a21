"""Attack 15: an answer cell retyped as markdown (Lock 1's ``lock_break_even_models = 40``).

Expected: the cell does not run, so lock_part1 earns 0 with a note that the name is not
defined; the print cell that shows the lock fails for want of it; nothing else changes.
"""

GROUP = "edits"
HONEST_CELLS_MAY_FAIL = True


def edit(nb) -> None:
    """Turn the Lock 1 answer cell into a markdown cell with the same text."""
    import nbformat

    index = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.startswith("lock_break_even_models = ")
    )
    nb.cells[index] = nbformat.v4.new_markdown_cell(nb.cells[index].source)


SCORES = {"lock_part1": 0.0}
PHRASES = {
    "summary": [
        "`lock_break_even_models` is not defined in your notebook at the check of lock_part1"
    ]
}
