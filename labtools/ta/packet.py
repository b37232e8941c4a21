"""The TAs' grading packet: every written answer beside its rubric, blind, in a shuffled order.

``ops-lab ta-packet SUBMISSIONS -o PACKET`` reads a batch of submissions (a folder of
notebooks or zips, per-student folders, a Gradescope export, or an nbgrader course and its
``submitted/``) and writes into ``PACKET``:

``packet.html``
    One self-contained page (:mod:`labtools.ta.packet_html`): per written question its prompt
    and rubric, then every student's answer beside the rubric items, with the student's
    context (:mod:`labtools.ta.packet_entries`): the track, the numbers of their governance
    ledger (read from the source, never run) and the autograded ledger items' results.
    Students appear under anonymous labels (``S-07``).
``scores.csv``
    The sheet to fill (:mod:`labtools.ta.sheet`): one row per student in the packet's order,
    named by its anonymous label only, one column per rubric item, a comment column per
    question.
``key.json`` (or the ``key_file`` given, e.g. outside the folder the TAs get)
    Seed, rubric digest, and the label -> student mapping (neither the page nor the sheet
    shows it): the instructor's, read back by ``ops-lab ta-import``.
``gradescope-rubric.txt``
    The same rubric in the form Gradescope's rubric editor takes (one item a line with its
    points), for courses that grade the written-answers PDF on Gradescope instead.
``pdf/<key>.pdf`` (with ``pdfs=True``)
    Each student's written answers as a PDF
    (:func:`labtools.release.written_pdf.notebook_to_pdf`), for uploading to Gradescope's
    manual-grading assignment on the students' behalf.

Order: one seeded shuffle of the students, the same in every question and in the sheet (see
:func:`labtools.ta.packet_order.shuffled_order` for why).

This module puts the packet together (:func:`write_packet`): where the submissions are, each
student read in packet order, the files written.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labtools.files import unzip_fresh, write_atomic
from labtools.paths import NOTEBOOK_NAME, STUDENT_NOTEBOOK
from labtools.rubric import Rubric, RubricQuestion, load_rubric, render_gradescope_rubric
from labtools.ta.answers import (
    LedgerContext,
    WrittenAnswer,
    extract_written_answers,
    read_ledger,
    written_prompts,
)
from labtools.ta.packet_entries import (
    LEDGER_QUESTION,
    AutoLedger,
    PacketEntry,
    ledger_from_results,
    ledgers_from_nbgrader,
)
from labtools.ta.packet_html import render_packet_html
from labtools.ta.packet_order import MAX_SEED, anonymous_labels, draw_seed, shuffled_order
from labtools.ta.sheet import KeyStudent, PacketKey, render_blank_sheet, rubric_digest
from labtools.ta.variant_numbers import reference_numbers
from opsmodel._validation import InvalidInputError, check_int

__all__ = ["PacketSummary", "locate_input", "write_packet"]


@dataclass(frozen=True)
class PacketSummary:
    """What :func:`write_packet` wrote.

    Attributes
    ----------
    html, sheet, key, gradescope_rubric : Path
        ``packet.html``, ``scores.csv``, ``key.json``, ``gradescope-rubric.txt``.
    pdfs : tuple of Path
        The per-student PDFs written (``pdfs=True``).
    seed : int
        The shuffle's seed.
    form : str
        The input form.
    entries : tuple of PacketEntry
        The students in packet order.
    warnings : tuple of str
        What the TA should know (unreadable submissions, ignored files).
    """

    html: Path
    sheet: Path
    key: Path
    gradescope_rubric: Path
    pdfs: tuple[Path, ...]
    seed: int
    form: str
    entries: tuple[PacketEntry, ...]
    warnings: tuple[str, ...]

    def describe(self) -> str:
        """A few lines for the terminal."""
        blank = {
            q: sum(e.answer(q).blank for e in self.entries)
            for q in (a.question for a in (self.entries[0].answers if self.entries else ()))
        }
        lines = [
            f"packet of {len(self.entries)} students ({self.form}), seed {self.seed}",
            f"packet:     {self.html}",
            f"score sheet:{self.sheet}",
            f"key:        {self.key} (label -> student; keep it from the graders)",
            f"gradescope: {self.gradescope_rubric}",
        ]
        if self.pdfs:
            lines.append(f"pdfs:       {len(self.pdfs)} in {self.pdfs[0].parent}")
        lines += [f"blank answers to {q}: {n}" for q, n in blank.items() if n]
        lines += [f"note: {w}" for w in self.warnings]
        return "\n".join(lines)


def locate_input(submissions: Path) -> tuple[Path, Path | None]:
    """The folder of submissions, and the nbgrader course when the input is one.

    An nbgrader course folder (it holds ``nbgrader_config.py``) stands for its
    ``submitted/``; so does ``submitted/`` itself, whose parent is then the course.
    """
    path = Path(submissions)
    if (path / "nbgrader_config.py").is_file():
        return path / "submitted", path
    if path.name == "submitted" and (path.parent / "nbgrader_config.py").is_file():
        return path, path.parent
    return path, None


def _read_submission(path: Path, notebook_name: str) -> nbformat.NotebookNode:
    from labtools.grading.submission import find_notebook

    if path.is_dir():
        return find_notebook(path, notebook_name).notebook
    # A lone notebook or zip is read as the grader reads it: alone in a folder.
    with tempfile.TemporaryDirectory(prefix="ta-packet-") as tmp:
        name = notebook_name if path.suffix.lower() == ".ipynb" else path.name
        shutil.copyfile(path, Path(tmp) / name)
        return find_notebook(Path(tmp), notebook_name).notebook


# --------------------------------------------------------------------------- the steps


def _sheet_path(output: Path, force: bool) -> Path:
    """``scores.csv`` in ``output``, refused if one is there already and ``force`` is false."""
    sheet_path = output / "scores.csv"
    if sheet_path.exists() and not force:
        raise InvalidInputError(
            f"output must not hold a score sheet already (it may hold a TA's work): "
            f"{sheet_path} exists; pass force=True (--force) to replace it"
        )
    return sheet_path


def _results_folder(results: Path | None) -> Path | None:
    """A batch's ``results/`` folder, given the batch output folder or that folder."""
    if results is None:
        return None
    results = Path(results)
    if (results / "results").is_dir():
        results = results / "results"
    if not results.is_dir():
        raise InvalidInputError(
            f"results must be a batch output folder or its results/, got {str(results)!r}"
        )
    return results


def _submissions_folder(submissions: Path, output: Path) -> tuple[Path, Path | None]:
    """The folder to read submissions from, and the nbgrader course when it is one.

    A zip (Gradescope's "Export Submissions") is unpacked into ``output/.export`` first, as
    the batch reads it.
    """
    if submissions.is_dir() and output.resolve().is_relative_to(submissions.resolve()):
        raise InvalidInputError(
            f"output must not be inside submissions (it would be read as a submission), "
            f"got {str(output)!r} inside {str(submissions)!r}"
        )
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        submissions = unzip_fresh(submissions, output / ".export")
    return locate_input(submissions)


def _read_answers(
    path: Path, notebook_name: str, rubric: Rubric, prompts: dict[str, str]
) -> tuple[nbformat.NotebookNode | None, dict[str, WrittenAnswer], LedgerContext, str]:
    """One submission's notebook, written answers, ledger, and why it could not be read.

    An unreadable submission (no or an invalid notebook) gets blank answers, an empty
    ledger and the reason; the notebook is None then.
    """
    from labtools.grading.submission import SubmissionProblem

    nb = None
    try:
        nb = _read_submission(path, notebook_name)
        return nb, extract_written_answers(nb, rubric, prompts=prompts), read_ledger(nb), ""
    except SubmissionProblem as exc:
        blank = {q.name: WrittenAnswer(q.name, "", True) for q in rubric.questions if q.manual}
        return nb, blank, LedgerContext(tuple()), str(exc)


def _autograded_ledger(
    key: str,
    student_id: str,
    question: RubricQuestion,
    results: Path | None,
    from_nbgrader: dict[str, AutoLedger],
) -> tuple[AutoLedger | None, str]:
    """A student's autograded ledger items, and what the TA should know about them ("": nothing).

    From the batch's ``results/<key>.json`` when ``results`` is given, else from the nbgrader
    gradebook's (``from_nbgrader``, by student id).
    """
    if results is None:
        return from_nbgrader.get(student_id), ""
    auto, status = ledger_from_results(results / f"{key}.json", question)
    if auto is None:
        return None, f"no batch result for {question.name}"
    if status not in (None, "ok"):
        return auto, f"its batch result has status {status!r}"
    return auto, ""


def _read_entries(
    submissions: Sequence[Any],
    seed: int,
    rubric: Rubric,
    prompts: dict[str, str],
    notebook_name: str,
    ledger_question: RubricQuestion,
    results: Path | None,
    from_nbgrader: dict[str, AutoLedger],
) -> tuple[list[PacketEntry], dict[str, nbformat.NotebookNode], list[str]]:
    """Every student in packet order: their entry, their notebook (by key), warnings.

    ``submissions`` are the batch's detected submissions (``key``, ``path``, ``student_id``,
    ``name``, ``email``).
    """
    by_key = {s.key: s for s in submissions}
    order = shuffled_order(list(by_key), seed)
    manual = [q.name for q in rubric.questions if q.manual]
    entries, notebooks, warnings = [], {}, []
    for key, label in zip(order, anonymous_labels(len(order)), strict=True):
        sub = by_key[key]
        nb, answers, ledger, problem = _read_answers(sub.path, notebook_name, rubric, prompts)
        if nb is not None:
            notebooks[key] = nb
        if problem:
            warnings.append(f"{key} ({label}): no readable notebook: {problem}")
        auto, note = _autograded_ledger(
            key, sub.student_id, ledger_question, results, from_nbgrader
        )
        if note:
            warnings.append(f"{key} ({label}): {note}")
        student = KeyStudent(label, key, sub.student_id, sub.name, sub.email, problem)
        numbers = tuple(reference_numbers(ledger.track, ledger.variant)) if ledger.track else ()
        entries.append(
            PacketEntry(student, tuple(answers[q] for q in manual), ledger, auto, numbers)
        )
    return entries, notebooks, warnings


def _key_path(output: Path, key_file: Path | None, force: bool) -> Path:
    """Where the key goes: ``key_file``, else ``output/key.json``.

    A ``key_file`` elsewhere that exists is refused unless ``force``: it may be the only key
    of another packet, without which that packet's sheet names no one.
    """
    if key_file is None:
        return output / "key.json"
    key_file = Path(key_file)
    if key_file.exists() and not force:
        raise InvalidInputError(
            f"key_file must not exist already (it may be another packet's key): {key_file} "
            "exists; pass force=True (--force) to replace it"
        )
    return key_file


def _write_files(
    output: Path,
    sheet_path: Path,
    key_path: Path,
    entries: Sequence[PacketEntry],
    key: PacketKey,
    rubric: Rubric,
    prompts: dict[str, str],
) -> tuple[Path, Path, Path]:
    """Write the page, the key, Gradescope's rubric and the blank sheet; their paths."""
    output.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    html_path = output / "packet.html"
    gradescope_path = output / "gradescope-rubric.txt"
    write_atomic(
        html_path,
        render_packet_html(entries, rubric, prompts=prompts, seed=key.seed, created=key.created),
    )
    write_atomic(key_path, key.to_json())
    write_atomic(gradescope_path, render_gradescope_rubric(rubric))
    write_atomic(sheet_path, render_blank_sheet(key, rubric))
    return html_path, key_path, gradescope_path


def _written_pdf(nb: nbformat.NotebookNode, pdf: Path) -> None:
    from labtools.release.written_pdf import notebook_to_pdf

    with tempfile.TemporaryDirectory(prefix="ta-pdf-") as tmp:
        path = Path(tmp) / NOTEBOOK_NAME
        nbformat.write(nb, path)
        notebook_to_pdf(path, pdf, title="Written answers")


def _write_pdfs(
    output: Path, entries: Sequence[PacketEntry], notebooks: dict[str, nbformat.NotebookNode]
) -> tuple[list[Path], list[str]]:
    """``pdf/<key>.pdf`` of every readable submission; the PDFs written, and warnings."""
    written, warnings = [], []
    for entry in entries:
        nb = notebooks.get(entry.student.key)
        if nb is None:
            continue
        pdf = output / "pdf" / f"{entry.student.key}.pdf"
        try:
            _written_pdf(nb, pdf)
        except (ValueError, RuntimeError) as exc:
            warnings.append(f"{entry.student.key}: no PDF ({exc})")
            continue
        written.append(pdf)
    return written, warnings


# --------------------------------------------------------------------------- the packet


def write_packet(
    submissions: Path,
    output: Path,
    *,
    seed: int | None = None,
    results: Path | None = None,
    rubric: Rubric | None = None,
    student_notebook: Path = STUDENT_NOTEBOOK,
    notebook_name: str = NOTEBOOK_NAME,
    course_id: str | None = None,
    pdfs: bool = False,
    force: bool = False,
    key_file: Path | None = None,
) -> PacketSummary:
    """Write the grading packet of a batch of submissions.

    Parameters
    ----------
    submissions : Path, an existing folder or zip
        A folder of notebooks or zips, of per-student folders, a Gradescope export or its
        zip (as :func:`labtools.batch.detect_submissions` reads them), or an nbgrader
        course folder or its ``submitted/``.
    output : Path
        The packet folder (created if needed).
    seed : int in [0, 2**31 - 1] or None
        The shuffle's seed; None draws one (below a million, easy to note) and records it.
    results : Path or None
        A batch output folder (or its ``results/``): the autograded ledger items of each
        student come from ``results/<key>.json``. For an nbgrader course they come from its
        gradebook unless this is given.
    rubric : Rubric or None
        None loads ``assignment/rubric.toml``.
    student_notebook : Path
        The released student notebook: the prompts, and the blocks' order.
    notebook_name : str
        The notebook students submit (``ops_scale.ipynb``).
    course_id : str or None
        The nbgrader gradebook's course id (None: the course's default, ``ops-scale``).
    pdfs : bool
        Also write each student's written answers as ``pdf/<key>.pdf`` (needs Chromium;
        Otter-form notebooks only).
    force : bool
        Replace an existing ``scores.csv`` (otherwise refused: it may hold a TA's work), or
        an existing ``key_file``.
    key_file : Path or None
        Where to write the key (label -> student); None: ``output/key.json``. A path
        outside ``output`` keeps the key out of the folder handed to the TAs.

    Returns
    -------
    PacketSummary
        The paths written, the seed, the students in packet order, warnings.

    Raises
    ------
    InvalidInputError
        If ``submissions`` holds no submission in a known form, ``seed`` is out of range,
        ``results`` is not a folder, ``output`` is inside ``submissions``, or ``output``
        already holds a score sheet and ``force`` is false.

    Examples
    --------
    >>> summary = write_packet(Path("export"), Path("packet"), seed=4711)  # doctest: +SKIP
    >>> print(summary.describe())  # doctest: +SKIP
    """
    from labtools.batch import detect_submissions

    rubric = rubric or load_rubric()
    seed = check_int("seed", draw_seed() if seed is None else seed, low=0, high=MAX_SEED)
    output = Path(output)
    sheet_path = _sheet_path(output, force)
    key_path = _key_path(output, key_file, force)
    results = _results_folder(results)
    folder, course = _submissions_folder(Path(submissions), output)
    detected = detect_submissions(folder)
    prompts = written_prompts(nbformat.read(student_notebook, as_version=4), rubric)
    ledger_question = rubric.question(LEDGER_QUESTION)
    from_nbgrader: dict[str, AutoLedger] = {}
    if course is not None and results is None:
        from_nbgrader = ledgers_from_nbgrader(course, ledger_question, course_id)
    entries, notebooks, read_warnings = _read_entries(
        detected.submissions,
        seed,
        rubric,
        prompts,
        notebook_name,
        ledger_question,
        results,
        from_nbgrader,
    )
    key = PacketKey(
        seed=seed,
        rubric_sha256=rubric_digest(rubric),
        form="nbgrader" if course is not None else detected.form,
        submissions=str(folder.resolve()),
        nbgrader_course=str(course.resolve()) if course is not None else "",
        results=str(results.resolve()) if results is not None else "",
        students=tuple(e.student for e in entries),
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    html_path, key_path, gradescope_path = _write_files(
        output, sheet_path, key_path, entries, key, rubric, prompts
    )
    written_pdfs, pdf_warnings = _write_pdfs(output, entries, notebooks) if pdfs else ([], [])
    return PacketSummary(
        html=html_path,
        sheet=sheet_path,
        key=key_path,
        gradescope_rubric=gradescope_path,
        pdfs=tuple(written_pdfs),
        seed=seed,
        form=key.form,
        entries=tuple(entries),
        warnings=tuple([*detected.warnings, *read_warnings, *pdf_warnings]),
    )
