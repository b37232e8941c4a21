"""Attack 13 with ``subprocess.Popen`` in a loop, after the last answer.

``sleep`` processes are started until the process limit refuses more. Expected: the cell
ends with ``BlockingIOError`` (no endless growth, nothing outside the job touched), the
grader's calls still work; full marks, and the summary names the cell.
"""

GROUP = "forks"

CELLS = [
    (
        "",
        r"""
import subprocess

_adv_children = []
while True:
    _adv_children.append(subprocess.Popen(["sleep", "1000"]))
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised BlockingIOError"
