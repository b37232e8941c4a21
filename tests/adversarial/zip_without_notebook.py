"""Attack 19: a zip that holds no notebook (the export of the wrong folder).

Expected: no kernel starts; score 0, and a message saying no notebook was found and what
to upload.
"""

import zipfile
from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    with zipfile.ZipFile(folder / "ops_scale-export.zip", "w") as archive:
        archive.writestr("README.md", "my lab\n")
        archive.writestr("data/results.csv", "a,b\n1,2\n")


PHRASES = {"summary": ["No notebook found in your submission", "Upload ops_scale.ipynb"]}
