"""Attack 19: two notebooks, neither with the expected name.

Expected: no kernel starts (the grader will not guess); score 0, and a message naming both
and asking for ops_scale.ipynb alone.
"""

from pathlib import Path

import nbformat

GROUP = ""


def submission(folder: Path, layout) -> None:
    nbformat.write(layout.solution, folder / "lab_v1.ipynb")
    nbformat.write(layout.blank, folder / "lab_v2.ipynb")


PHRASES = {
    "summary": [
        "Found several notebooks (lab_v1.ipynb, lab_v2.ipynb) and none named ops_scale.ipynb"
    ]
}
