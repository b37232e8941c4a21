"""Attack 11: ``os._exit(1)`` in a middle cell (after the shadow-hours answer).

Expected: the kernel dies, the grader notices at once, restarts it and replays the cells that
succeeded; the later cells run; full marks, and the summary says the cell stopped the kernel.
"""

GROUP = "crash"

CELLS = [("def shadow_hours", "import os\n\nos._exit(1)\n")]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "stopped the Python kernel"
