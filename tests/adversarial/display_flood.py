"""Attack 14: a flood of output as one 20 MB display message (over the message size cap).

Expected: the frame is refused, the channel recovers, later cells run; full marks, and the
summary says the cell printed too much output.
"""

GROUP = "crash"

CELLS = [
    (
        "def skew_check(",
        "from IPython.display import display\n\n"
        'display({"text/plain": "y" * 20_000_000}, raw=True)\n',
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "printed too much output"
