"""Attack 4: monkeypatch the comparisons and the test machinery inside the kernel.

After the answers, the last cell makes ``numpy.isclose``/``allclose``/``testing``,
``math.isclose``, ``builtins.all``/``any`` always agree, makes doctest report success,
plants fake ``otter`` and ``labtools.grading.reference_checks`` modules whose every check
returns True,
and defines its own ``__ops_grader_call``. Expected: no effect at all (the comparisons and
the tests run on the grader's side; the grader's helpers are defined after the notebook), so
the scores are the solution's.
"""

GROUP = "snoop"

CELLS = [
    (
        "",
        r"""
import builtins
import doctest
import math
import sys
import types

import numpy

numpy.isclose = lambda *a, **k: True
numpy.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.all = lambda iterable: True
builtins.any = lambda iterable: True
doctest.DocTestRunner.run = lambda self, test, *a, **k: doctest.TestResults(0, len(test.examples))


def _adv_fake_module(name):
    module = types.ModuleType(name)
    module.__path__ = []
    module.__getattr__ = lambda attr: (lambda *a, **k: True)
    return module


for _name in ("otter", "otter.test_files", "otter.test_files.ok_test", "labtools",
              "labtools.grading", "labtools.grading.reference_checks",
              "labtools.grading.test_runner"):
    sys.modules[_name] = _adv_fake_module(_name)


def __ops_grader_call(name, payload, **kwargs):
    return True
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = None
