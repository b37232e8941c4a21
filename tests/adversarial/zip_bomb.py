"""A zip bomb: 300 MiB of zeros (about 300 KiB compressed) next to a notebook.

Expected: refused from the zip's directory, before anything is decompressed; score 0 and a
message that the zip is too large to be an export.
"""

import zipfile
from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    with zipfile.ZipFile(folder / "ops_scale-export.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ops_scale.ipynb", layout.solution_bytes)
        with archive.open("padding.bin", "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(300):
                member.write(block)


PHRASES = {"summary": ["ops_scale-export.zip is too large to be an export of this notebook"]}
