"""Attack 15: the answer cell of q3a (``def psi``) deleted.

Expected: ``psi`` is undefined, so exactly the questions that need it lose their points: q3a
(psi itself), q3b (``skew_check`` calls ``psi``), q3c (the verdicts call ``skew_check``) and
q5 (the ledger holds the verdicts, so ``governance_ledger`` is never built). Everything else
keeps its points, and the summary says ``psi`` is not defined.
"""

GROUP = "edits"
# Cells after the deleted one fail for want of psi: that is the expected outcome here.
HONEST_CELLS_MAY_FAIL = True


def edit(nb) -> None:
    """Remove the code cell that defines psi."""
    index = next(
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "def psi(" in c.source
    )
    del nb.cells[index]


SCORES = {"q3a_psi": 0.0, "q3b_skew_check": 0.0, "q3c_verdicts": 0.0, "q5_ledger": 0.0}
PHRASES = {
    "summary": ["`psi` is not defined in your notebook at the check of q3a_psi"],
    "q3b_skew_check": ["your skew_check(...) failed: NameError: name 'psi' is not defined"],
}
