"""Attack 10: an infinite loop that swallows ``KeyboardInterrupt``.

Expected: SIGINT does not stop it, so the kernel is killed, restarted, and the cells that
succeeded before are replayed; full marks, and the summary names the cell.
"""

GROUP = "crash"

CELLS = [
    (
        "from scipy import stats",
        r"""
while True:
    try:
        while True:
            pass
    except KeyboardInterrupt:
        pass
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "did not finish in time and was stopped"
