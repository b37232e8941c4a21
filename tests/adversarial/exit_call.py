"""``exit()`` left in a cell after the track is chosen (students do leave ``exit()``/``quit()``).

In ipykernel, ``exit()`` returns at once but stops the kernel's event loop, so the kernel
exits a moment later, during whichever cell runs then. Expected: the grader does not let
``exit()`` end the kernel (or, failing that, does not blame and drop honest cells for it):
full marks, and no honest cell is named in the summary.
"""

GROUP = "exit"
# This group's sandbox: a total budget of 30 s keeps the run short whatever happens.
LIMITS = {"total_timeout_s": 30.0}

CELLS = [("TRACK = ", "exit()\n")]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "exit"
CELL_PROBLEM_OPTIONAL = True
