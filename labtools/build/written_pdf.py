"""PDFs of the written questions, rendered offline with nbconvert and headless Chromium.

Two uses: at build time, the prompts of every manually graded question (the outline of the
Gradescope manual-grading assignment); at grading time, one student's written answers, for
that assignment's submissions and for the TAs.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

__all__ = ["find_chromium", "written_cells", "notebook_to_pdf", "html_to_pdf"]

# Otter Assign wraps each manually graded question of the student notebook in these markers.
BEGIN_MARK = "<!-- BEGIN QUESTION -->"
END_MARK = "<!-- END QUESTION -->"

_CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")
# Flags for a closed network: without the background-networking ones Chromium keeps
# trying (and failing) to reach update and sync services.
_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def find_chromium() -> str:
    """Path of a Chromium binary.

    Raises
    ------
    FileNotFoundError
        If none is installed (``apt-get install chromium`` on Debian).
    """
    for candidate in _CHROMIUM_CANDIDATES:
        found = shutil.which(candidate) or (candidate if Path(candidate).exists() else None)
        if found:
            return found
    raise FileNotFoundError("Chromium not found: install it with `apt-get install chromium`")


def written_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` holding only the cells of manually graded questions.

    Raises
    ------
    ValueError
        If the notebook has no marked question (not a notebook of this assignment, or its
        markers were deleted).
    """
    kept, inside = [], False
    for cell in nb.cells:
        source = cell.get("source", "")
        if cell.get("cell_type") == "markdown" and BEGIN_MARK in source:
            inside = True
        if inside:
            kept.append(copy.deepcopy(cell))
        if cell.get("cell_type") == "markdown" and END_MARK in source:
            inside = False
    if not kept:
        raise ValueError("the notebook has no written questions (no BEGIN QUESTION markers)")
    filtered = copy.deepcopy(nb)
    filtered.cells = kept
    return filtered


def html_to_pdf(html: str, pdf_path: Path, *, timeout_s: float = 120.0) -> Path:
    """Print an HTML document to PDF with headless Chromium (no network needed)."""
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="written-pdf-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                chromium,
                *_CHROMIUM_FLAGS,
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--print-to-pdf={pdf_path.resolve()}",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    if result.returncode != 0 or not pdf_path.exists():
        raise RuntimeError(f"Chromium could not print the PDF:\n{result.stderr[-2000:]}")
    return pdf_path


def notebook_to_pdf(notebook: Path, pdf_path: Path, *, title: str | None = None) -> Path:
    """Render the written questions of ``notebook`` (prompts and answers) to ``pdf_path``."""
    nb = written_cells(nbformat.read(notebook, as_version=4))
    nb.metadata["title"] = title or f"Written answers: {notebook.stem}"
    exporter = HTMLExporter(template_name="classic")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    html, _ = exporter.from_notebook_node(nb)
    return html_to_pdf(html, pdf_path)
