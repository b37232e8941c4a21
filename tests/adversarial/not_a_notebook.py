"""Attack 19: valid JSON that is not a notebook (a results file renamed ``.ipynb``).

Expected: no kernel starts; score 0 with every question at 0, and a message saying it is not
a valid Jupyter notebook.
"""

from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    (folder / "ops_scale.ipynb").write_text('{"score": 36, "tests": []}')


PHRASES = {"summary": ["ops_scale.ipynb is not a valid Jupyter notebook"]}
