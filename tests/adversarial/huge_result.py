"""Attack 18: a function returns a list of 10**8 elements to the grader.

Expected: the kernel-side conversion refuses it at the element cap, so nothing huge crosses;
q1b earns 0 with a message about the size; the grader carries on.
"""

GROUP = "snoop"

CELLS = [
    (
        "def platform_cost_usd(",
        r'''
import sys as _adv_sys


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


_adv_own_cost = platform_cost_usd


def platform_cost_usd(n_models, params=ToilParams()):
    if _adv_by_grader():
        return [0.0] * 10**8
    return _adv_own_cost(n_models, params)
''',
    )
]

SCORES = {"q1b_platform_cost": 0.0}
CELL_PROBLEM = None
PHRASES = {"q1b_platform_cost": ["your platform_cost_usd(...) failed", "result has more than"]}
