"""A function that raises only on the hidden cases' inputs: is the student told why?

``platform_roi_usd`` raises ``ZeroDivisionError`` when the grader calls it with a fleet of one
model or more; q1c's public case uses an empty fleet and passes. Expected: q1c earns 0 (its
public case is feedback only, worth no points: nothing for nothing), and the hidden case's
message names the student's own error (the test runner appends the student's exception to a
hidden case's authored message, never the test's text), rather than only "disagrees with the
reference", which would send the student looking for a wrong formula. q1d earns 0 too: each
of its cases needs ``platform_roi_usd`` to match the reference (N* rests on it), and the grader
now calls it directly there, where it raises.
"""

GROUP = "snoop"

CELLS = [
    (
        "def platform_roi_usd(",
        r'''
import sys as _adv_sys


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


_adv_own_roi = platform_roi_usd


def platform_roi_usd(n_models, heterogeneity, params=ToilParams()):
    if _adv_by_grader() and n_models != 0:
        return 1 / 0
    return _adv_own_roi(n_models, heterogeneity, params)
''',
    )
]

SCORES = {"q1c_platform_roi": 0.0, "q1d_break_even": 0.0}
CELL_PROBLEM = None
PHRASES = {
    "q1c_platform_roi": [
        "hidden test: FAILED. platform_roi_usd disagrees",
        "your platform_roi_usd(...) failed: ZeroDivisionError",
    ],
    "q1d_break_even": [
        "or platform_roi_usd (1c), which N* rests on, disagrees with the reference",
        "your platform_roi_usd(...) failed: ZeroDivisionError",
    ],
}
