"""Make the submission zip from exactly the notebook you ran.

The last cell of the lab calls :func:`export`. JupyterLab keeps the notebook in the browser
and writes it to disk only when it saves, so a zip made from the file on disk can hold an
older version than the one on your screen (another ``TRACK``, no outputs). This module asks
JupyterLab to save first, then compares the saved file with what your Python kernel actually
ran, and only then writes the zip. If the two disagree it writes nothing and tells you what
to do.

It runs in your JupyterLab only; the grader ignores this cell.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

__all__ = ["SUBMISSION_ZIP", "NotSubmittable", "export", "unsaved_problems"]

#: One zip per assignment: every export replaces it, so the one to upload is never in doubt.
SUBMISSION_ZIP = "ops_scale-submission.zip"

# How long to wait for JupyterLab to write the notebook after asking it to save.
_SAVE_TIMEOUT_S = 15.0
_MARKER = "ops_lab_submit.export("


class NotSubmittable(Exception):
    """The saved notebook is not what you ran; the message says what to do."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the message is all a student needs.
        return [f"Not exported: {self}"]


def _normalise(source: Any) -> str:
    text = "".join(source) if isinstance(source, list) else str(source)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _first_line(source: str) -> str:
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return line if len(line) <= 50 else line[:47] + "..."


#: How often the export asks JupyterLab to save before it gives up, and the pause that grows
#: between two tries (seconds): 1, then 2 (a saved file that lags the kernel is a matter of
#: a moment; one that differs for good is the student's to fix).
SAVE_ATTEMPTS = 3
SAVE_RETRY_S = 1.0


def unsaved_problems(notebook: dict[str, Any], executed: list[str]) -> list[str]:
    """What differs between a saved notebook and the cells the kernel ran.

    Parameters
    ----------
    notebook : dict
        The saved notebook (nbformat 4 JSON).
    executed : list of str
        The kernel's inputs by execution count (IPython's ``In``: ``executed[k]`` is the
        source of the cell that ran as ``[k]``).

    Returns
    -------
    list of str
        One sentence per code cell whose saved state is not what ran (never run, changed
        after it ran, or saved before it ran); empty when the file is what you see.
    """
    problems = []
    number = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = _normalise(cell.get("source", ""))
        if not source or _MARKER in source:
            continue
        where = f"code cell {number} (`{_first_line(source)}`)"
        count = cell.get("execution_count")
        if not isinstance(count, int) or not 0 < count < len(executed):
            problems.append(f"{where} has not run in this session")
        elif _normalise(executed[count]) != source:
            problems.append(f"{where} was changed after it ran")
    return problems


def _executed_inputs() -> list[str]:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise NotSubmittable("run this cell inside the notebook, not as a script.")
    # The raw inputs, as typed: ``In`` holds them after IPython's transformations.
    return list(shell.history_manager.input_hist_raw)


def _ask_frontend_to_save(nb_path: str) -> bool:
    # Otter's helper asks JupyterLab (through ipylab) and the classic notebook to save, and
    # waits until the file's modification time moves.
    from otter.check.utils import save_notebook

    return bool(save_notebook(nb_path, timeout=_SAVE_TIMEOUT_S))


@contextlib.contextmanager
def _quiet_check_kernel() -> Iterator[None]:
    # Otter re-runs the zip in a fresh kernel and passes that kernel's start-up log ("Kernel
    # is running over TCP without encryption") on as a RuntimeWarning, and the kernel itself
    # writes it to the inherited stderr: it concerns the check, not you.
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        check_kernel_log = warnings.catch_warnings()
        with check_kernel_log:
            warnings.filterwarnings("ignore", message=r"(?s).*without encryption")
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def export(grader: Any, *, run_tests: bool = True) -> str:
    """Save the notebook, check it is what you ran, and write the submission zip.

    Parameters
    ----------
    grader : otter.Notebook
        The ``grader`` made in the notebook's first cell.
    run_tests : bool, default True
        Re-run the zipped notebook against the public checks and print the report.

    Returns
    -------
    str
        The zip's file name (:data:`SUBMISSION_ZIP`), to upload to Gradescope.

    Raises
    ------
    NotSubmittable
        If the saved notebook still differs from what ran: nothing is written then.
    """
    nb_path = grader._notebook  # the file name given to otter.Notebook(...)
    executed = _executed_inputs()
    for attempt in range(SAVE_ATTEMPTS):
        if attempt:
            # On a busy machine JupyterLab can save before it has taken in the last cells'
            # replies (their execution counts): give it a moment and ask again.
            time.sleep(SAVE_RETRY_S * attempt)
        saved = _ask_frontend_to_save(nb_path)
        with open(nb_path, encoding="utf-8") as f:
            problems = unsaved_problems(json.load(f), executed)
        if not problems or not saved:
            break
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        listed = "; ".join(problems[:3]) + more
        how = (
            "Run > Run All Cells, then run this cell again"
            if saved
            else "Save the notebook (Ctrl+S, or File > Save Notebook), then run this cell again"
        )
        raise NotSubmittable(f"the saved notebook is not what you ran: {listed}. {how}.")
    if os.path.exists(SUBMISSION_ZIP):
        os.remove(SUBMISSION_ZIP)
    with _quiet_check_kernel():
        grader.export(
            nb_path, export_path=SUBMISSION_ZIP, pdf=False, run_tests=run_tests, force_save=False
        )
    with zipfile.ZipFile(SUBMISSION_ZIP) as archive:
        archive.getinfo(os.path.basename(nb_path))  # the notebook is in it
    stamp = time.strftime("%H:%M:%S")
    print(f"\n{stamp}: wrote {SUBMISSION_ZIP} from the notebook as you ran it.")
    print("Upload that file to Gradescope.")
    return SUBMISSION_ZIP
