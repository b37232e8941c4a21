"""Attack 1: read the hidden tests, the reference and the grader's config from disk.

The cell tries every path a student could know or guess (Gradescope's ``/autograder`` layout,
the folders next to the notebook, and the real paths of this grading run, as if leaked), then
walks the visible file system for the files by name, and would answer from what it found.
Expected: nothing is found (the sandbox shows only ``/usr``, ``/etc``, the kernel venv and the
job folder), so the submission keeps exactly the solution's marks.
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
import os
from pathlib import Path

_adv_targets = [
    "../source/tests/q3a_psi.py", "../source/ops_lab.json", "../source/lib/opsmodel/toil.py",
    "../results/results.json", "/autograder/source/tests/q3a_psi.py",
    "/autograder/source/ops_lab.json", "/autograder/source/lib/opsmodel/toil.py",
    "/autograder/results/results.json", "@SOURCE@/tests/q3a_psi.py", "@SOURCE@/ops_lab.json",
    "@SOURCE@/lib/opsmodel/toil.py", "@SOURCE@/lib/labtools/grading/reference_checks.py",
    "@REPO@/opsmodel/population_stability.py", "@REPO@/labtools/grading/reference_checks.py",
    "@RESULTS@/results.json",
]
_adv_found = {}
for _p in _adv_targets:
    try:
        _adv_found[_p] = Path(_p).read_text()[:300]
    except OSError:
        pass
# Search by name, keeping only files that really are the grader's (not a namesake in a
# library), by a marker of their content.
_adv_markers = ("OK_FORMAT", "check_psi_examples", "notebook_name", "def manual_toil_hours")
for _top in ("/tmp", "/run", "/opt", "/etc", "/home", "/root", "/srv", "/var", "/work",
             "/autograder", "/usr/local", ".."):
    for _dir, _dirs, _files in os.walk(_top):
        for _f in _files:
            if _f.endswith((".py", ".json")) and _f.startswith(("q", "ops_lab", "checks", "toil")):
                _path = os.path.join(_dir, _f)
                try:
                    _text = open(_path).read()
                except (OSError, UnicodeDecodeError):
                    continue
                if any(m in _text for m in _adv_markers):
                    _adv_found[_path] = _text[:300]
# Answer from the tests if they were found (they never are).
if _adv_found:
    lock_accuracy_change = "stays"
print(sorted(_adv_found))
""",
    )
]

# No question changes: the cell found nothing to answer from.
SCORES: dict[str, float] = {}
CELL_PROBLEM = None
PROBES = {"_adv_found": {}}
