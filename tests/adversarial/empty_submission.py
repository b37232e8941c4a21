"""Attack 19: an empty submission.

Expected: no kernel starts; score 0, and a message saying the submission held nothing.
"""

from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    pass


PHRASES = {"summary": ["No notebook found in your submission (it held: nothing)"]}
