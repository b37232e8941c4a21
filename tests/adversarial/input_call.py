"""An honest mistake: ``input()`` left in a cell (the grader has no one to type an answer).

Expected: the call fails at once (the kernel allows no input requests) instead of waiting for
the cell timeout; the later cells run; full marks, and the summary names the cell.
"""

GROUP = "crash"

CELLS = [("lock_break_even_models = ", 'name = input("Your name? ")\n')]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised StdinNotImplementedError"
