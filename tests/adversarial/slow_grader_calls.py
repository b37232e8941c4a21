"""A function that is slow (3 s, under the cell timeout) on every call from the grader.

``manual_toil_hours`` sleeps 3 s whenever the grader calls it; q1a's cases would call it
about 27 times. Its calls stop at the question's budget of 15 s (five calls), which with the
notebook's own cells (about 3 s) is more than this group's total budget of 15 s. Expected:
whatever q1a earns, the other questions keep their points: one slow question must not use
up the time of all the questions graded after it.
"""

GROUP = "slow"
# This group's sandbox: the default cell timeout, a total budget of 15 s (five times what the
# notebook's cells take); a budget of 15 s for one question's calls: together more than the
# total, so a grader that counted calls against the total would starve every later question.
LIMITS = {"total_timeout_s": 15.0}
CALL_BUDGET_S = 15.0

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
