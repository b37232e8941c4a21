"""A notebook over the size limit (21 MiB of saved output, as after a runaway print).

Expected: refused unread; score 0, and a message saying to clear outputs and resubmit.
"""

from pathlib import Path

import nbformat

GROUP = ""


def submission(folder: Path, layout) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x' * 10**7)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (21 * 2**20))]
    nb.cells.append(cell)
    nbformat.write(nb, folder / "ops_scale.ipynb")


PHRASES = {"summary": ["over the 20 MiB limit", "Clear Outputs of All Cells"]}
