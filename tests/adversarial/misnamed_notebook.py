"""Attack 19: the notebook submitted under another name (the crash group's notebook).

Expected: it is the only notebook, so it is graded anyway, with a note naming both names.
"""

from pathlib import Path

GROUP = "crash"


def package(folder: Path, notebook: bytes, layout) -> None:
    """Save the notebook as a browser download renames a second copy."""
    (folder / "ops_scale (1).ipynb").write_bytes(notebook)


PHRASES = {"summary": ["Your notebook is named ops_scale (1).ipynb, not ops_scale.ipynb"]}
