"""Attack 2: print hidden test files so they show in what the student sees at once.

With stock Otter, a test file printed from an answer cell appears in the visible "Public
Tests" output. Here the cell prints what it can read and also raises an error carrying it,
since a cell's error message is the one piece of cell output that reaches ``results.json``.
Expected: the files are not readable, the error names the cell and carries only "not found"
messages, and no hidden test line appears anywhere in ``results.json`` (checked for every
submission of the corpus).
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
_adv_text = []
for _p in ("@SOURCE@/tests/q3a_psi.py", "/autograder/source/tests/q1a_manual_toil.py",
           "../source/tests/q4_crisis.py"):
    try:
        _adv_text.append(open(_p).read())
    except OSError as _e:
        _adv_text.append(f"{type(_e).__name__} for {_p}")
print("\n".join(_adv_text))
raise RuntimeError("LEAK " + " | ".join(_adv_text))
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised RuntimeError: LEAK FileNotFoundError"
