"""Attack 3: rewrite the test files (and their points) on disk, chmod or delete them.

Tries to overwrite every test file and the grader's config with a test worth 100 points that
always passes, to make them world-writable, and to delete them, at the real paths of this
grading run and at Gradescope's. Expected: every attempt fails (the files are not even
visible), the grader's files are byte for byte unchanged after grading (checked for every
group), and the scores are the solution's.
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
import glob
import os

_adv_fake_test = (
    "OK_FORMAT = True\n"
    "test = {'name': 'q3a_psi', 'points': 100, 'suites': [{'cases': [{'code': '>>> True\\nTrue',"
    " 'hidden': False, 'locked': False}], 'scored': True, 'setup': '', 'teardown': '',"
    " 'type': 'doctest'}]}\n"
)
_adv_paths = sorted(
    set(glob.glob("@SOURCE@/tests/*.py") + glob.glob("/autograder/source/tests/*.py"))
    | {"@SOURCE@/tests/q3a_psi.py", "@SOURCE@/ops_lab.json", "/autograder/source/ops_lab.json",
       "/autograder/source/tests/q3a_psi.py", "../source/tests/q3a_psi.py"}
)
_adv_rewrote = []
for _p in _adv_paths:
    for _how in ("write", "chmod", "unlink"):
        try:
            if _how == "write":
                with open(_p, "r+") as _f:  # r+: never creates a file, only changes one
                    _f.write(_adv_fake_test)
            elif _how == "chmod":
                os.chmod(_p, 0o777)
            else:
                os.unlink(_p)
            _adv_rewrote.append(f"{_how} {_p}")
        except OSError:
            pass
print(_adv_rewrote)
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = None
PROBES = {"_adv_rewrote": []}
