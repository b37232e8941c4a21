"""Find the student's notebook in what they submitted, and say plainly when it is not there.

Gradescope puts the upload in ``submission/``: the zip that ``grader.export()`` makes, a
bare notebook, or whatever else a student chose. Every outcome is either a readable
notebook or a :class:`SubmissionProblem` whose message the student can act on.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["SubmissionProblem", "FoundNotebook", "find_notebook", "MAX_NOTEBOOK_BYTES"]

#: A notebook larger than this is refused unread (outputs of a runaway loop, or a bomb).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
# Zips from grader.export() hold one notebook and small files; a zip bomb holds more.
_MAX_ZIP_MEMBERS = 200
_MAX_ZIP_TOTAL_BYTES = 50 * 1024 * 1024


class SubmissionProblem(Exception):
    """The submission cannot be graded as it is; the message is for the student."""


@dataclass(frozen=True)
class FoundNotebook:
    """The notebook to grade."""

    notebook: nbformat.NotebookNode
    origin: str  # where it was found, for the student's report
    note: str = ""  # a warning for the student (another name, several notebooks)


def _too_large(origin: str, size: int) -> SubmissionProblem:
    return SubmissionProblem(
        f"{origin} is {size / 2**20:.0f} MiB, over the {MAX_NOTEBOOK_BYTES // 2**20} MiB "
        "limit: clear all outputs (Edit > Clear Outputs of All Cells), save and resubmit."
    )


def _read_notebook(data: bytes, origin: str) -> nbformat.NotebookNode:
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise _too_large(origin, len(data))
    try:
        text = data.decode("utf-8")
        json.loads(text)  # a plain JSON error reads better than nbformat's
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionProblem(
            f"{origin} is not a valid notebook file (not JSON: {exc}). Download it again from "
            "JupyterLab with File > Download and resubmit."
        ) from exc
    except Exception as exc:  # nbformat's ValidationError and shape errors
        raise SubmissionProblem(
            f"{origin} is not a valid Jupyter notebook ({type(exc).__name__}). "
            "Open it in JupyterLab, save it, and resubmit."
        ) from exc
    if nb.get("nbformat", 0) < 4:
        raise SubmissionProblem(
            f"{origin} uses notebook format {nb.get('nbformat')}; save it in JupyterLab."
        )
    return nb


def _choose(candidates: list[tuple[str, bytes]], expected_name: str) -> FoundNotebook:
    exact = [(n, d) for n, d in candidates if Path(n).name == expected_name]
    if len(exact) == 1:
        name, data = exact[0]
        note = (
            ""
            if len(candidates) == 1
            else (
                f"Several notebooks were submitted; graded {name}, the one named {expected_name}."
            )
        )
        return FoundNotebook(_read_notebook(data, name), name, note)
    if len(candidates) == 1:
        name, data = candidates[0]
        return FoundNotebook(
            _read_notebook(data, name),
            name,
            f"Your notebook is named {Path(name).name}, not {expected_name}; it was graded anyway.",
        )
    names = ", ".join(sorted(Path(n).name for n, _ in candidates))
    raise SubmissionProblem(
        f"Found several notebooks ({names}) and none named {expected_name}: "
        f"submit only {expected_name}."
    )


def _from_zip(path: Path, expected_name: str) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if (
                len(members) > _MAX_ZIP_MEMBERS
                or sum(m.file_size for m in members) > _MAX_ZIP_TOTAL_BYTES
            ):
                raise SubmissionProblem(
                    f"{path.name} is too large to be an export of this notebook."
                )
            return [
                (m.filename, archive.read(m))
                for m in members
                if m.filename.endswith(".ipynb")
                and "__MACOSX" not in m.filename
                and ".ipynb_checkpoints" not in m.filename
            ]
    except zipfile.BadZipFile as exc:
        raise SubmissionProblem(
            f"{path.name} is not a valid zip file: re-run the export cell."
        ) from exc


def find_notebook(submission_dir: Path, expected_name: str) -> FoundNotebook:
    """Find and read the notebook to grade in ``submission_dir``.

    Looks for notebooks at any depth (never following links), then inside zips.

    Raises
    ------
    SubmissionProblem
        With a message the student can act on: nothing found, several candidates and none
        with the expected name, a file that is not a notebook, one that is too large.
    """
    files = [p for p in sorted(submission_dir.rglob("*")) if p.is_file() and not p.is_symlink()]
    candidates = [
        (str(p.relative_to(submission_dir)), p.read_bytes())
        for p in files
        if p.suffix == ".ipynb"
        and ".ipynb_checkpoints" not in p.parts
        and p.stat().st_size <= MAX_NOTEBOOK_BYTES
    ]
    oversized = [p for p in files if p.suffix == ".ipynb" and p.stat().st_size > MAX_NOTEBOOK_BYTES]
    if not candidates:
        for archive in (p for p in files if p.suffix == ".zip"):
            candidates += _from_zip(archive, expected_name)
    if not candidates and oversized:
        raise _too_large(oversized[0].name, oversized[0].stat().st_size)
    if not candidates:
        listing = ", ".join(p.name for p in files[:10]) or "nothing"
        raise SubmissionProblem(
            f"No notebook found in your submission (it held: {listing}). Upload {expected_name} "
            "or the zip file that the notebook's last cell makes."
        )
    return _choose(candidates, expected_name)
