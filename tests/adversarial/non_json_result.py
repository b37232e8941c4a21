"""Attack 18: a function returns something JSON cannot carry (a set) to the grader.

Expected: refused in the kernel, never approximated; q2b earns 0 with a message naming the
type; the grader carries on.
"""

GROUP = "snoop"

CELLS = [
    (
        "def shadow_hours(",
        r'''
import sys as _adv_sys


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


_adv_own_hours = shadow_hours


def shadow_hours(n_requests, request_rate_per_s, shadow_fraction=1.0):
    value = _adv_own_hours(n_requests, request_rate_per_s, shadow_fraction)
    return {value} if _adv_by_grader() else value
''',
    )
]

SCORES = {"q2b_shadow_hours": 0.0}
CELL_PROBLEM = None
PHRASES = {"q2b_shadow_hours": ["value of type set is not JSON-safe"]}
