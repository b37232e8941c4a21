"""A function that is slow (3 s, under the cell timeout) on every call from the grader.

``manual_toil_hours`` sleeps 3 s whenever the grader calls it; q1a's cases call it about 27
times, more than this group's total budget of 25 s. Expected: whatever q1a earns, the other
questions keep their points: one slow question must not use up the time of all the
questions graded after it.
"""

GROUP = "slow"
# This group's sandbox: the default cell timeout, a total budget of 25 s; the grader's own
# budget of 30 s for one question's calls, more than the notebook's total.
LIMITS = {"total_timeout_s": 25.0}
CALL_BUDGET_S = 30.0

CELLS = [
    (
        "def manual_toil_hours(",
        r'''
import sys as _adv_sys
import time as _adv_time


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


_adv_own_toil = manual_toil_hours


def manual_toil_hours(n_models, heterogeneity, params=ToilParams()):
    if _adv_by_grader():
        _adv_time.sleep(3)
    return _adv_own_toil(n_models, heterogeneity, params)
''',
    )
]

SCORES: dict[str, float] = {}
FREE = ("q1a_manual_toil",)
CELL_PROBLEM = None
