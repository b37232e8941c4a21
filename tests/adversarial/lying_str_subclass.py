"""Attack 4: a ``str`` subclass that compares equal to anything and hashes like each choice.

``lock_accuracy_change`` holds ``"nonsense"`` in a subclass whose ``__eq__`` always says True,
so ``x in ('drops', 'stays', 'rises')`` would pass in the kernel. Expected: the value crosses
as the plain string ``"nonsense"``; lock_part3 earns 0.
"""

GROUP = "snoop"

CELLS = [
    (
        "lock_accuracy_change = ",
        r"""
class _AdvLyingStr(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


lock_accuracy_change = _AdvLyingStr("nonsense")
""",
    )
]

SCORES = {"lock_part3": 0.0}
CELL_PROBLEM = None
