"""Read the master notebook: jupytext percent source -> Otter Assign notebook."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat

from labtools.paths import MASTER_SOURCE

__all__ = ["load_master", "write_master_ipynb"]


def load_master(source: Path = MASTER_SOURCE) -> nbformat.NotebookNode:
    """The master notebook as nbformat, with a Python 3 kernelspec (Otter Assign needs one)."""
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata.pop("jupytext", None)
    return nb


def write_master_ipynb(destination: Path, source: Path = MASTER_SOURCE) -> Path:
    """Write the master as ``.ipynb`` into ``destination`` (a folder); return its path."""
    path = destination / (source.stem + ".ipynb")
    nbformat.write(load_master(source), path)
    return path
