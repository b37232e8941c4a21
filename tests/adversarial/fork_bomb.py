"""Attack 13: a fork bomb, ``os.fork()`` in an endless loop (every child loops too).

Expected: the process limit stops the growth, the cell times out, SIGINT cannot stop every
copy, so the kernel and all its processes are killed (PID namespace) and the earlier cells
replayed; full marks, and the summary names the cell.
"""

GROUP = "forks"

CELLS = [
    (
        "from scipy import stats",
        r"""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "did not finish in time and was stopped"
