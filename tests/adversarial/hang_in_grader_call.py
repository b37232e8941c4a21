"""Attack 17: a function that hangs only when the grader calls it (``while True`` in psi).

The notebook's own cells, and ``skew_check``'s calls to ``psi``, get the real function; a call
coming straight from the grader loops for ever. Expected: each call is interrupted at the
cell timeout; q3a earns 0 with a timeout message; q3b (whose ``skew_check`` calls ``psi``
itself) and everything else keep their points; the grader finishes.
"""

GROUP = "snoop"

CELLS = [
    (
        "def psi(",
        r'''
import sys as _adv_sys


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


_adv_own_psi = psi


def psi(reference, current, n_bins=10):
    if _adv_by_grader():
        while True:
            pass
    return _adv_own_psi(reference, current, n_bins)
''',
    )
]

SCORES = {"q3a_psi": 0.0}
CELL_PROBLEM = None
PHRASES = {"q3a_psi": ["your psi(...) failed: Timeout"]}
