"""Attack 8: call the reference implementation instead of writing the function.

Two cells. The first tries every way to reach the reference ``opsmodel.toil`` (a plain import,
the package's lazy attribute, ``importlib``, ``sys.path`` pointed at the autograder's ``lib``
and at the repository, loading the file by path, the grader's ``checks`` module) and records
each outcome. The second makes ``manual_toil_hours`` return the reference's value whenever
the grader calls it (the notebook's own cells keep the student's code, so nothing else
breaks). Expected: every route fails; q1a earns 0 and its message names the missing module;
every other question keeps its points.
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
import importlib
import importlib.util
import sys

_adv_reference = {}


def _adv_try(label, get):
    try:
        get()
        _adv_reference[label] = "FOUND"
    except Exception as exc:
        _adv_reference[label] = f"{type(exc).__name__}: {exc}"[:200]


def _adv_by_path(path):
    spec = importlib.util.spec_from_file_location("_adv_toil", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.manual_toil_hours


_adv_try("import", lambda: __import__("opsmodel.toil", fromlist=["x"]).manual_toil_hours)
_adv_try("attribute", lambda: __import__("opsmodel").manual_toil_hours)
_adv_try("importlib", lambda: importlib.import_module("opsmodel.population_stability").psi)
_adv_try("checks", lambda: importlib.import_module("labtools.grading.reference_checks").check_roi)
for _p in ("@SOURCE@/lib/opsmodel/toil.py", "/autograder/source/lib/opsmodel/toil.py",
           "@REPO@/opsmodel/toil.py"):
    _adv_try(f"file {_p}", lambda _p=_p: _adv_by_path(_p))
# sys.path pointed at the autograder's lib and the repository, with a fresh import.
_adv_saved = {k: v for k, v in sys.modules.items() if k == "opsmodel" or k.startswith("opsmodel.")}
for _k in _adv_saved:
    del sys.modules[_k]
sys.path[:0] = ["@SOURCE@/lib", "/autograder/source/lib", "@REPO@"]
_adv_try("sys.path", lambda: importlib.import_module("opsmodel.toil").manual_toil_hours)
del sys.path[:3]
for _k in [k for k in sys.modules if k == "opsmodel" or k.startswith("opsmodel.")]:
    del sys.modules[_k]
sys.modules.update(_adv_saved)
print(_adv_reference)
""",
    ),
    (
        "def manual_toil_hours(",
        r'''
import sys as _adv_sys


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


_adv_own_toil = manual_toil_hours


def manual_toil_hours(n_models, heterogeneity, params=ToilParams()):
    if _adv_by_grader():
        from opsmodel.toil import manual_toil_hours as reference

        return reference(n_models, heterogeneity, params)
    return _adv_own_toil(n_models, heterogeneity, params)
''',
    ),
]

SCORES = {"q1a_manual_toil": 0.0}
CELL_PROBLEM = None
PHRASES = {
    "q1a_manual_toil": ["your manual_toil_hours(...) failed", "No module named 'opsmodel.toil'"]
}
# Every route ends in an error: the values are error texts, never "FOUND".
PROBES_EXCLUDE = {"_adv_reference": ["FOUND"]}
