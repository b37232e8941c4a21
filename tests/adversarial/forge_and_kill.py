"""Attack 6: write a forged ``results.json`` everywhere, then try to kill the grader.

The cell writes a forged result (score 999) into every plausible path, including the real
results folder of this run, then sends SIGKILL to its parent, to every process it may signal
(``kill -9 -1``) and to every PID it sees in ``/proc``, and ends with ``os._exit(0)``.
Expected: the grader is out of reach (other PID namespace, other user); the kernel dies, is
restarted and the other cells replayed; the ``results.json`` the grader writes holds full
marks and no trace of the forgery.
"""

GROUP = "crash"

CELLS = [
    (
        "TRACK = ",
        r"""
import json
import os
import signal

_adv_fake = json.dumps({"score": 999, "output": "FORGED", "tests": []})
for _p in ("results.json", "../results/results.json", "/autograder/results/results.json",
           "@RESULTS@/results.json", "@SUBMISSION@/../results/results.json"):
    try:
        with open(_p, "w") as _f:
            _f.write(_adv_fake)
    except OSError:
        pass
for _target in [os.getppid(), -1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if _target != os.getpid():
        try:
            os.kill(_target, signal.SIGKILL)
        except OSError:
            pass
os._exit(0)
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "stopped the Python kernel"
RESULTS_EXCLUDE = ["FORGED"]
