"""The PDF of written answers renders offline with Chromium, and a student's answer is in it."""

from __future__ import annotations

import nbformat
import pytest
from pypdf import PdfReader

from labtools.paths import STUDENT_NOTEBOOK
from labtools.release.written_pdf import find_chromium, notebook_to_pdf, typeset_math, written_cells


def test_a_students_written_answer_is_in_the_pdf(tmp_path):
    find_chromium()  # CI installs Debian's chromium: its absence is a failure, not a skip
    nb = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    answer = "Quadratic coordination between heterogeneous model pairs swamps the team"
    answer_cells = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    answer_cells[0].source = answer
    submission = tmp_path / "submission.ipynb"
    nbformat.write(nb, submission)

    pdf = notebook_to_pdf(submission, tmp_path / "written.pdf")

    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert " ".join(answer.split()) in " ".join(text.split())
    assert "Reflection 1" in text and "Ledger justification" in text
    # Only the written questions: no code of the autograded parts.
    assert "def manual_toil_hours" not in text


def test_a_notebook_without_written_questions_is_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("hello")])
    with pytest.raises(ValueError, match="no written questions"):
        written_cells(nb)


def test_math_is_typeset_offline_and_no_placeholder_or_script_survives(tmp_path):
    nb = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    answer_cells = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    # A student's own formula and a script they typed: the first is drawn, the second inert.
    answer_cells[
        0
    ].source = "Pairs grow as $N(N-1)/2$.\n\n<script>document.body.innerHTML = 'PWNED'</script>"
    submission = tmp_path / "submission.ipynb"
    nbformat.write(nb, submission)

    pdf = notebook_to_pdf(submission, tmp_path / "written.pdf")

    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    # Raw TeX would show its delimiters and backslash commands; MathML shows the symbols.
    assert "$" not in text and "\\le" not in text and "^2" not in text
    assert "≤" in text  # (1 - p)^n <= 1 - C in Part 2's introduction
    assert "{track." not in text and "PWNED" not in text
    assert "Pairs grow as" in text


def test_typeset_math_keeps_escaped_dollars_and_converts_formulas():
    out = typeset_math(r"A \$500k platform; $O(N^2)$ and $$\ln(1-C)$$")
    assert r"\$500k" in out
    assert out.count("<math") == 2 and 'display="block"' in out
    assert "$" not in out.replace(r"\$500k", "")
