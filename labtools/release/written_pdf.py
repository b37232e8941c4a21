"""PDFs of the written questions, rendered offline with nbconvert and headless Chromium.

Two uses: at build time, the prompts of every manually graded question (the outline of the
Gradescope manual-grading assignment); at grading time, one student's written answers, for
that assignment's submissions and for the TAs.
"""

from __future__ import annotations

import copy
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
from latex2mathml.converter import convert as convert_to_mathml
from nbconvert import HTMLExporter

from labtools.grading.notebook_format import BEGIN_MARK, END_MARK

__all__ = ["find_chromium", "written_cells", "notebook_to_pdf", "html_to_pdf", "typeset_math"]


_CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")
# Flags for a closed network: without the background-networking ones Chromium keeps
# trying (and failing) to reach update and sync services.
CHROMIUM_OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_CHROMIUM_FLAGS = (*CHROMIUM_OFFLINE_FLAGS, "--no-pdf-header-footer")


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


# $$display$$ first, then $inline$; a dollar escaped as \$ (a price) is not a delimiter.
_DISPLAY_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)")
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)


def _mathml(latex: str, display: str) -> str:
    try:
        return convert_to_mathml(latex.strip(), display=display)
    except Exception:  # a formula the converter cannot read stays as written
        return html.escape(f"${latex}$")


def typeset_math(markdown: str) -> str:
    """Replace the TeX formulas of a markdown text by MathML, which Chromium draws itself.

    Notebooks write math as ``$...$`` and ``$$...$$`` for MathJax, which nbconvert's page
    loads from a CDN: offline, the PDF would show the TeX source. MathML needs no script and
    no network. A formula the converter cannot parse is kept as written.

    Parameters
    ----------
    markdown : str
        A markdown cell's text.

    Returns
    -------
    str
        The text with every formula replaced by a ``<math>`` element.
    """
    markdown = _DISPLAY_MATH.sub(lambda m: _mathml(m.group(1), "block"), markdown)
    return _INLINE_MATH.sub(lambda m: _mathml(m.group(1), "inline"), markdown)


def notebook_to_pdf(notebook: Path, pdf_path: Path, *, title: str | None = None) -> Path:
    """Render the written questions of ``notebook`` (prompts and answers) to ``pdf_path``.

    Math is typeset as MathML (:func:`typeset_math`) and every script is dropped: the page
    is printed offline, and nothing a student wrote runs in the printing browser.
    """
    nb = written_cells(nbformat.read(notebook, as_version=4))
    nb.metadata["title"] = title or f"Written answers: {notebook.stem}"
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            cell.source = typeset_math(cell.source)
    exporter = HTMLExporter(template_name="classic")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    page, _ = exporter.from_notebook_node(nb)
    return html_to_pdf(_SCRIPT.sub("", page), pdf_path)
