"""Attack 12: a growing list that takes all the memory it can get, keeps it, and fails.

``_adv_hog`` (a global) grows by 8 MB arrays until ``MemoryError``, then by 1.6 MB ones until
``MemoryError`` again, and the cell ends with that error. The list keeps what it got, so the
kernel is left with under 2 MB of address space (the two steps make that deterministic; with
one size, what is left, and so which later cells fail, varies from run to run). Expected:
the grader treats a cell that ran out of memory like one that crashed the kernel (restart,
replay of the cells that succeeded, without it), so the later cells run and keep their
points; full marks, and the summary names the cell.
"""

GROUP = "memory"

CELLS = [
    (
        "def shadow_hours",
        r"""
_adv_hog = []
for _adv_size in (10**6, 2 * 10**5):
    try:
        while True:
            _adv_hog.append(np.zeros(_adv_size))
    except MemoryError:
        pass
raise MemoryError(f"kept {len(_adv_hog)} arrays")
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = "raised MemoryError: kept"
