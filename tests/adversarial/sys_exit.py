"""``sys.exit(1)`` in a cell (the field notes: swallowed by the kernel).

Expected: the cell ends with ``SystemExit``, the kernel lives on; full marks, and the summary
names the cell.
"""

GROUP = "crash"

CELLS = [("lock_accuracy_change = ", "import sys\n\nsys.exit(1)\n")]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised SystemExit"
