"""Attack 4: a function returns an object whose ``__eq__`` always says True.

``zero_failure_sample_size`` returns such an object when the grader calls it (the notebook's
own cells keep the real function). Expected: the object is not plain data, so nothing comes
back to compare; q2a earns 0 with a message saying the value is not JSON-safe.
"""

GROUP = "snoop"

CELLS = [
    (
        "def zero_failure_sample_size(",
        r'''
import sys as _adv_sys


def _adv_by_grader():
    """Whether the function calling this was called by the grader's helper."""
    return _adv_sys._getframe(2).f_code.co_name == "__ops_grader_call"


class _AdvAlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __le__(self, other):
        return True

    def __ge__(self, other):
        return True

    __hash__ = object.__hash__


_adv_own_n = zero_failure_sample_size


def zero_failure_sample_size(p_max, confidence):
    if _adv_by_grader():
        return _AdvAlwaysEqual()
    return _adv_own_n(p_max, confidence)
''',
    )
]

SCORES = {"q2a_zero_failure": 0.0}
CELL_PROBLEM = None
PHRASES = {"q2a_zero_failure": ["value of type _AdvAlwaysEqual is not JSON-safe"]}
