"""Attacks 1 and 2 through IPython's shell escape: ``!cat`` the hidden tests, ``!ls`` around.

Expected: the shell runs inside the same sandbox, so it lists only the job's own view and
reads none of the grader's files; the scores are the solution's.
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
_adv_cmd = (
    "cat @SOURCE@/tests/*.py /autograder/source/tests/*.py ../source/tests/*.py 2>&1; "
    "ls -a / .. /autograder 2>&1"
)
_adv_shell = !{_adv_cmd}
_adv_shell = list(_adv_shell)
print(_adv_shell)
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = None
# OK_FORMAT and check_ begin every test file and every hidden case.
PROBES_EXCLUDE = {"_adv_shell": ["OK_FORMAT", "check_", "ops_lab.json"]}
