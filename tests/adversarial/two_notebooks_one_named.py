"""Attack 19: two notebooks, one with the expected name (the forks group's notebook).

The other is the blank release saved as ``ops_scale-Copy1.ipynb``. Expected: the one named
``ops_scale.ipynb`` is graded, with a note saying several were submitted.
"""

from pathlib import Path

import nbformat

GROUP = "forks"


def package(folder: Path, notebook: bytes, layout) -> None:
    """The notebook under its own name, and a stray copy of the blank release."""
    (folder / "ops_scale.ipynb").write_bytes(notebook)
    nbformat.write(layout.blank, folder / "ops_scale-Copy1.ipynb")


PHRASES = {"summary": ["Several notebooks were submitted; graded ops_scale.ipynb"]}
