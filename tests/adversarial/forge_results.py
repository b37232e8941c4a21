"""Attack 6 (without the kill): write a forged ``results.json`` into every plausible path.

Expected: only the job folder and the private ``/tmp`` are writable; the real results folder
(whose path the cell is given) does not even exist in the sandbox's view, and the
``results.json`` the grader writes holds the real scores, with no trace of the forgery.
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
import json
import os

_adv_forged = []
_adv_fake = json.dumps({"score": 999, "output": "FORGED", "tests": []})
for _p in ("results.json", "../results/results.json", "../../results/results.json",
           "/autograder/results/results.json", "@RESULTS@/results.json",
           "@SUBMISSION@/../results/results.json", "/tmp/results.json"):
    try:
        with open(_p, "w") as _f:
            _f.write(_adv_fake)
        _adv_forged.append(os.path.abspath(_p))
    except OSError:
        pass
_adv_results_visible = os.path.exists("@RESULTS@")
print(_adv_forged, _adv_results_visible)
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = None
PROBES = {"_adv_results_visible": False}
PROBES_EXCLUDE = {"_adv_forged": ["@RESULTS@", "/autograder"]}
RESULTS_EXCLUDE = ["FORGED"]
