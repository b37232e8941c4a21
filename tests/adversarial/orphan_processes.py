"""Attack 13, quieter: a cell that returns at once but leaves busy processes behind.

Four forked children spin on the CPU (for at most 10 s, to bound the harm to this machine)
while the notebook goes on; a later cell lists the job's live processes (zombies excluded)
other than the namespace's init and the kernel. In a batch, such processes take the CPU of
every other submission graded alongside. Expected: the grader stops what a cell leaves
running before the next cell, so the list is empty; full marks; no honest cell is blamed for
the slowdown. (A message about the stopped processes may name the forking cell.)
"""

GROUP = "forks"

CELLS = [
    (
        "TRACK = ",
        r"""
import os
import time

_adv_t0 = time.time()
for _ in range(4):
    if os.fork() == 0:
        while time.time() < _adv_t0 + 10:
            pass
        os._exit(0)
""",
    ),
    (
        "lock_break_even_models = ",
        r"""
import os


def _adv_live(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


_adv_orphans = sorted(
    int(p) for p in os.listdir("/proc")
    if p.isdigit() and int(p) not in (1, os.getpid()) and _adv_live(p)
)
print(_adv_orphans)
""",
    ),
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "process"
CELL_PROBLEM_OPTIONAL = True
PROBES = {"_adv_orphans": []}
