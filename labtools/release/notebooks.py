"""Deterministic notebook files, so that a rebuild of unchanged sources changes no byte."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

__all__ = ["normalise", "write_normalised", "read_normalised_text"]


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace Otter's random cell ids with positional ones and drop volatile metadata."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.get("metadata", {}).pop("execution", None)
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_normalised(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Write ``nb`` normalised, with sorted keys, so diffs stay small and stable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_text(normalise(nb)), encoding="utf-8")
    return path


def read_normalised_text(path: Path) -> str:
    """The normalised text of a notebook file, for freshness comparisons."""
    return _text(normalise(nbformat.read(path, as_version=4)))
