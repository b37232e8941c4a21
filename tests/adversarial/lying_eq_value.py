"""Attack 4: an answer variable whose ``__eq__`` always says True.

``crisis_answer`` is replaced by an object equal to everything. Expected: it cannot be read
as plain data, so the tests see no ``crisis_answer``; q4 earns 0 and the summary says the
value must be plain data.
"""

GROUP = "snoop"

CELLS = [
    (
        "crisis_inputs(track)",
        r"""
class _AdvEqualToAll:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


crisis_answer = _AdvEqualToAll()
""",
    )
]

SCORES = {"q4_crisis": 0.0}
CELL_PROBLEM = None
PHRASES = {"summary": ["`crisis_answer` could not be read: its value must be plain data"]}
