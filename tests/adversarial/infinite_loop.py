"""Attack 9: an infinite loop (``while True: pass``) in an extra cell after the imports.

Expected: interrupted at the cell timeout (SIGINT), the kernel keeps its state, later cells
run; full marks, and the summary names the cell as an endless loop.
"""

GROUP = "crash"

CELLS = [("from scipy import stats", "while True:\n    pass\n")]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "did not finish in time and was stopped"
