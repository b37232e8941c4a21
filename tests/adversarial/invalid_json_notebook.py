"""Attack 19: a notebook file that is not valid JSON (cut off mid-way).

Expected: no kernel starts; score 0 with every question listed at 0, and a message saying
the file is not JSON and how to get a good copy.
"""

from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    (folder / "ops_scale.ipynb").write_text('{"cells": [{"cell_type": "code", "sour')


PHRASES = {"summary": ["ops_scale.ipynb is not a valid notebook file (not JSON", "File > Download"]}
