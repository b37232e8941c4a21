"""A corrupt zip (a truncated download) as the only file.

Expected: score 0, and a message saying the zip is not valid and how to remake it.
"""

from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    (folder / "ops_scale-export.zip").write_bytes(b"PK\x03\x04 truncated download")


PHRASES = {"summary": ["ops_scale-export.zip is not a valid zip file"]}
