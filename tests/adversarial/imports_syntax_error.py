"""Attack 16: a syntax error in the imports cell (an unfinished ``import numpy as``).

Expected: the imports cell fails as a whole, so nothing it imports exists (``np``, ``stats``,
``ToilParams``, ``get_track``...); every later cell still runs. Derived cell by cell from the
solution: ``TRACK`` is set before ``get_track`` fails; the three locks are plain literals
(1 + 1 + 1); ``shadow_hours`` is plain arithmetic and right on every case (2); every other
answer needs numpy, a ToilParams default or ``track`` and earns 0. Total 5, and the summary
shows later cells failing for want of the imports.
"""

GROUP = "imports"
HONEST_CELLS_MAY_FAIL = True


def edit(nb) -> None:
    """Append an unfinished import to the imports cell."""
    cell = next(
        c for c in nb.cells if c.cell_type == "code" and "from scipy import stats" in c.source
    )
    cell.source = cell.source.rstrip() + "\nimport numpy as\n"
    cell.metadata["adversarial"] = "imports_syntax_error"


SCORES = {
    "lock_part1": 1.0,
    "q1a_manual_toil": 0.0,
    "q1b_platform_cost": 0.0,
    "q1c_platform_roi": 0.0,
    "q1d_break_even": 0.0,
    "lock_part2": 1.0,
    "q2a_zero_failure": 0.0,
    "q2b_shadow_hours": 2.0,
    "q2c_canary_plan": 0.0,
    "q2d_sprt_lines": 0.0,
    "lock_part3": 1.0,
    "q3a_psi": 0.0,
    "q3b_skew_check": 0.0,
    "q3c_verdicts": 0.0,
    "q4_crisis": 0.0,
    "q5_ledger": 0.0,
}
CELL_PROBLEM = "raised SyntaxError"
PHRASES = {"summary": ["raised NameError: name 'student_track' is not defined"]}
