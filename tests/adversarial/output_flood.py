"""Attack 14: a flood of output, one ``print`` of 100 MB.

Expected: the sandbox keeps at most its per-cell cap of the output (the student never sees a
cell's output in the results anyway); full marks. The cell may be named for its output
("printed too much output") but for nothing else.
"""

GROUP = "crash"

CELLS = [("def skew_check(", 'print("x" * 100_000_000)\n')]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "printed too much output"
CELL_PROBLEM_OPTIONAL = True
