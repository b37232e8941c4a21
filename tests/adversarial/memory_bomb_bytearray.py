"""Attack 12: a memory bomb, ``bytearray(50 GiB)``, in a middle cell.

Expected: refused by the address-space limit at once (``MemoryError``), nothing is held;
full marks, and the summary names the cell.
"""

GROUP = "crash"

CELLS = [("def psi(", "_adv_big = bytearray(50 * 2**30)\n")]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised MemoryError"
