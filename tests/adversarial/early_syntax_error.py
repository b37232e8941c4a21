"""Attack 16 (extra cell): a syntax error in an early cell that defines nothing needed later.

Expected: that cell fails, every later cell runs; full marks, the summary names the cell.
"""

GROUP = "crash"

CELLS = [("lock_break_even_models = ", "def broken(:\n    pass\n")]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised SyntaxError"
