"""Attack 5: a submission zip with a crafted ``.OTTER_LOG`` pickle, and path-traversal members.

The snoop group's notebook is submitted inside a zip (as ``grader.export()`` makes) that also
holds an ``.OTTER_LOG`` whose unpickling would create a marker file, a second copy of that
pickle next to the zip, and members named ``../results/results.json`` (a forged result) and
``../source/tests/q3a_psi.py`` (a rewritten test). Expected: nothing is unpickled or extracted
(the marker never appears, the grader's files are unchanged), and the notebook is graded
normally, with the snoop group's scores.
"""

import pickle
import zipfile
from pathlib import Path

GROUP = "snoop"


class _CreateOnLoad:
    """Unpickling this calls ``open(marker, "w")``: the file appears only if loaded."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def package(folder: Path, notebook: bytes, layout) -> None:
    """Write the submission: the zip, and the pickle again beside it."""
    payload = pickle.dumps(_CreateOnLoad(str(layout.marker)))
    with zipfile.ZipFile(folder / "ops_scale-export.zip", "w") as archive:
        archive.writestr("ops_scale.ipynb", notebook)
        archive.writestr(".OTTER_LOG", payload)
        archive.writestr("../results/results.json", '{"score": 999, "output": "FORGED"}')
        archive.writestr("../source/tests/q3a_psi.py", "OK_FORMAT = True\ntest = {}\n")
    (folder / ".OTTER_LOG").write_bytes(payload)


SIDE_EFFECTS_ABSENT = ["@MARKER@"]
RESULTS_EXCLUDE = ["FORGED"]
