"""A retyped cell: the student wrote the q2d answer below ``grader.check`` in the check cell.

The answer cell's code is moved, unchanged, under ``grader.check("q2d_sprt_lines")`` in the
cell that follows it (as when a student merges the two cells). Run in order in JupyterLab the
notebook defines both answers. Expected: the grader runs the answer (it may skip the
``grader.check`` call, never the student's code after it), so q2d keeps its 2 points and no
problem is reported for that cell.
"""

GROUP = "edits"


def edit(nb) -> None:
    """Merge the q2d answer cell into the check cell below it, after the check call."""
    index = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "sprt_promote_max_failures = " in c.source
    )
    answer = nb.cells.pop(index)
    check = nb.cells[index]
    assert check.source.strip() == 'grader.check("q2d_sprt_lines")', check.source
    check.source = check.source.rstrip() + "\n" + answer.source
    check.metadata["adversarial"] = "code_after_check"


SCORES = {"q2d_sprt_lines": 2.0}
CELL_PROBLEM = None
