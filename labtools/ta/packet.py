"""The TAs' grading packet: every written answer beside its rubric, blind, in a shuffled order.

``ops-lab ta-packet SUBMISSIONS -o PACKET`` reads a batch of submissions (a folder of
notebooks or zips, per-student folders, a Gradescope export, or an nbgrader course and its
``submitted/``) and writes into ``PACKET``:

``packet.html``
    One self-contained page (inline CSS, no script, no external resource, a
    Content-Security-Policy that forbids both): per written question its prompt and rubric,
    then every student's answer beside the rubric items, with the student's context: the
    track, the numbers of their governance ledger (read from the source, never run) and the
    autograded ledger items' results. Students appear under anonymous labels (``S-07``).
``scores.csv``
    The sheet to fill (:mod:`labtools.ta.sheet`): one row per student in the packet's order,
    one column per rubric item, a comment column per question.
``key.json``
    Seed, rubric digest, and the label -> student mapping (the packet never shows it).
``gradescope-rubric.txt``
    The same rubric in the form Gradescope's rubric editor takes (one item a line with its
    points), for courses that grade the written-answers PDF on Gradescope instead.
``pdf/<key>.pdf`` (with ``pdfs=True``)
    Each student's written answers as a PDF (:func:`labtools.release.written_pdf.notebook_to_pdf`),
    for uploading to Gradescope's manual-grading assignment on the students' behalf.

Order: one seeded shuffle of the students, the same in every question and in the sheet (see
:func:`shuffled_order` for why).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import random
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labtools.files import unzip_fresh, write_atomic
from labtools.paths import NOTEBOOK_NAME, STUDENT_NOTEBOOK
from labtools.rubric import Rubric, RubricQuestion, load_rubric, render_gradescope_rubric
from labtools.ta.answers import (
    LEDGER_FIELDS,
    LedgerContext,
    WrittenAnswer,
    extract_written_answers,
    read_ledger,
    written_prompts,
)
from labtools.ta.sheet import (
    KeyStudent,
    PacketKey,
    comment_column,
    render_blank_sheet,
    rubric_digest,
)
from opsmodel._validation import InvalidInputError, check_int

__all__ = [
    "LEDGER_QUESTION",
    "AutoItem",
    "AutoLedger",
    "PacketEntry",
    "PacketSummary",
    "shuffled_order",
    "anonymous_labels",
    "locate_input",
    "render_packet_html",
    "write_packet",
]

#: The autograded question whose results the packet shows beside every answer.
LEDGER_QUESTION = "q5_ledger"
#: Largest seed accepted (and drawn): short enough to read aloud, type and note down.
MAX_SEED = 2**31 - 1
_DEFAULT_SEED_BELOW = 1_000_000


# --------------------------------------------------------------------------- order, labels


def shuffled_order(keys: Sequence[str], seed: int) -> tuple[str, ...]:
    """The packet's order of ``keys``: a shuffle seeded with ``seed``, never the roster's.

    Parameters
    ----------
    keys : sequence of str
        The students' keys, in any order, no repeats.
    seed : int in [0, 2**31 - 1]
        The seed (recorded in the packet, the sheet and the key).

    Returns
    -------
    tuple of str
        The keys in packet order.

    Raises
    ------
    InvalidInputError
        If ``seed`` is not a whole number in range, or a key repeats.

    Notes
    -----
    The keys are sorted first, so the order depends on the seed and the set of students
    only, not on how the folder was listed: the same seed on the same batch gives the same
    packet. The shuffle is :meth:`random.Random.shuffle` (Fisher-Yates over the Mersenne
    Twister seeded with ``seed``). Should it return the sorted roster itself (probability
    1/n!, certain for n = 1), it shuffles again from the same generator, so the order never
    follows the roster when there are two students or more.

    One order serves every question, on purpose: the labels then run S-01, S-02, ... in
    every question's section and down the sheet, so the TA fills the sheet row by row
    without looking anything up, which is where transcription slips happen. The order is
    random with respect to the roster (alphabetical or by submission time), which is what
    removes the systematic part of position effects; a course that wants positions to vary
    across questions too can give each question to a different TA or make a second packet
    with another seed.

    Examples
    --------
    >>> order = shuffled_order(["ann", "bob", "cy", "dee"], 7)
    >>> order == shuffled_order(["dee", "cy", "bob", "ann"], 7)  # listing order does not matter
    True
    >>> order == ("ann", "bob", "cy", "dee")  # never the roster's
    False
    """
    seed = check_int("seed", seed, low=0, high=MAX_SEED)
    roster = sorted(keys)
    if len(set(roster)) != len(roster):
        repeated = sorted({k for k in roster if roster.count(k) > 1})
        raise InvalidInputError(f"keys must not repeat, got {', '.join(repeated)} twice")
    order = list(roster)
    rng = random.Random(seed)
    rng.shuffle(order)
    while len(order) > 1 and order == roster:
        rng.shuffle(order)
    return tuple(order)


def anonymous_labels(n: int) -> tuple[str, ...]:
    """Labels ``S-01`` ... for ``n`` students (zero-padded to at least two digits).

    Examples
    --------
    >>> anonymous_labels(3)
    ('S-01', 'S-02', 'S-03')
    >>> anonymous_labels(120)[-1]
    'S-120'
    """
    n = check_int("n", n, low=0)
    width = max(2, len(str(n)))
    return tuple(f"S-{k:0{width}d}" for k in range(1, n + 1))


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class AutoItem:
    """One autograded item of the ledger question and how the student did on it."""

    item_id: str
    points: float
    text: str
    passed: bool | None  # None: not known (not graded yet)
    message: str = ""


@dataclass(frozen=True)
class AutoLedger:
    """The autograded ledger question's result for one student.

    Attributes
    ----------
    score, possible : float or None
        Points earned and possible (``score`` None when not graded).
    items : tuple of AutoItem
        Per rubric item, when the grader's cases map onto the items one for one.
    source : str
        Where it comes from (``batch results`` or ``nbgrader gradebook``).
    """

    score: float | None
    possible: float | None
    items: tuple[AutoItem, ...]
    source: str


def _pair_items(
    question: RubricQuestion, outcomes: list[tuple[bool | None, str]]
) -> tuple[AutoItem, ...]:
    """Rubric items of an autograded question with the cases' outcomes, in order.

    The rubric lists an autograded question's items in the order of its test cases (a test
    checks that the points agree); when the counts differ, the items are shown unpaired.
    """
    if len(outcomes) != len(question.items):
        return tuple(AutoItem(i.id, i.points, i.text, None) for i in question.items)
    return tuple(
        AutoItem(i.id, i.points, i.text, passed, message)
        for i, (passed, message) in zip(question.items, outcomes, strict=True)
    )


def _auto_from_results(
    path: Path, question: RubricQuestion
) -> tuple[AutoLedger | None, str | None]:
    """The ledger question in a batch ``results/<key>.json`` (None if absent); the status."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    tests = data.get("tests") if isinstance(data, dict) else None
    entry = next(
        (t for t in tests or [] if isinstance(t, dict) and t.get("name") == question.name), None
    )
    if entry is None:
        return None, None
    # The cases' outcomes as the grader recorded them (labtools.grading.results.case_record).
    cases = (entry.get("extra_data") or {}).get("cases") or []
    outcomes: list[tuple[bool | None, str]] = [
        (bool(c.get("passed")), str(c.get("message", "")).split(" test: ", 1)[-1])
        for c in cases
        if isinstance(c, dict)
    ]
    meta = data.get("extra_data", {}).get("batch", {}) if isinstance(data, dict) else {}
    status = meta.get("status") if isinstance(meta, dict) else None
    score = entry.get("score")
    possible = entry.get("max_score")
    return (
        AutoLedger(
            None if score is None else float(score),
            None if possible is None else float(possible),
            _pair_items(question, outcomes),
            "batch results",
        ),
        status,
    )


def _auto_from_nbgrader(
    course: Path, students: Sequence[str], question: RubricQuestion, course_id: str
) -> dict[str, AutoLedger]:
    """The ledger question's test cells per student, from the course's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    from labtools.nbgrader_course.cells import ASSIGNMENT_ID, parse_case_grade_id

    db = course / "gradebook.db"
    if not db.is_file():
        return {}
    found: dict[str, AutoLedger] = {}
    notebook_id = Path(NOTEBOOK_NAME).stem
    with Gradebook(f"sqlite:///{db.resolve()}", course_id) as gb:
        for student in students:
            try:
                submitted = gb.find_submission_notebook(notebook_id, ASSIGNMENT_ID, student)
            except MissingEntry:
                continue
            cases = []
            for grade in submitted.grades:
                parsed = parse_case_grade_id(grade.name)
                if parsed and parsed[0] == question.name:
                    cases.append((parsed[1], grade.auto_score, float(grade.max_score)))
            cases.sort()
            if not cases or any(score is None for _, score, _ in cases):
                continue  # not autograded yet
            outcomes: list[tuple[bool | None, str]] = [
                (math.isclose(score, most) or score >= most, f"{score:g} / {most:g}")
                for _, score, most in cases
            ]
            found[student] = AutoLedger(
                sum(s for _, s, _ in cases),
                sum(m for _, _, m in cases),
                _pair_items(question, outcomes),
                "nbgrader gradebook",
            )
    return found


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class PacketEntry:
    """One student in the packet.

    Attributes
    ----------
    student : KeyStudent
        Label and identity (the identity never reaches the HTML).
    answers : tuple of WrittenAnswer
        One per written question, in rubric order.
    ledger : LedgerContext
        The governance ledger as written.
    auto : AutoLedger or None
        The autograded ledger items, when results were given.
    """

    student: KeyStudent
    answers: tuple[WrittenAnswer, ...]
    ledger: LedgerContext
    auto: AutoLedger | None = None

    def answer(self, question: str) -> WrittenAnswer:
        """The answer to ``question``."""
        return next(a for a in self.answers if a.question == question)


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


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#f4f4f1}
header.top,main{max-width:1200px;margin:0 auto;padding:0 18px}
header.top{padding-top:18px}
h1{font-size:1.5em;margin:.3em 0}h2{margin:1.6em 0 .4em;border-bottom:2px solid #444}
h3{margin:0 0 .5em;font-size:1.05em}
.meta{color:#555}.toc a{margin-right:1em}
.prompt{white-space:pre-wrap;background:#fff;border-left:4px solid #888;padding:8px 12px}
table{border-collapse:collapse}td,th{padding:3px 6px;vertical-align:top;text-align:left}
table.rubric td,table.rubric th{border-bottom:1px solid #ddd}
.card{background:#fff;border:1px solid #ccc;border-radius:6px;margin:14px 0;padding:12px;
break-inside:avoid;page-break-inside:avoid}
.cols{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
.answer pre{white-space:pre-wrap;overflow-wrap:anywhere;font:15px/1.5 Georgia,"Times New Roman",
serif;margin:0}
.badge{font-size:.8em;border-radius:3px;padding:1px 6px;margin-left:6px;background:#eee}
.badge.blank{background:#f6d5d5;color:#7a0000}.words{color:#666;font-size:.85em}
.note{color:#7a4b00;font-size:.9em}.blanktext{color:#7a0000;font-style:italic}
.box{width:1.2em;height:1.2em;border:1px solid #555;display:inline-block}
.items td{border-bottom:1px solid #eee;font-size:.9em}.items code{font-weight:600}
.nowrap{white-space:nowrap}
.ctx{margin-top:10px;font-size:.85em;background:#f7f7f7;padding:6px;border-radius:4px}
.ok{color:#05620f}.fail{color:#9a0000}.unknown{color:#666}
@media print{body{background:#fff}.card{border-color:#999}}
"""


def _e(text: object) -> str:
    """Escaped for HTML text and attribute values alike (quotes included)."""
    return html.escape(str(text), quote=True)


def _pts(value: float) -> str:
    return f"{value:g}"


def _auto_html(auto: AutoLedger | None, question: str) -> str:
    if auto is None:
        return f"<p class='unknown'>{_e(question)} (autograded): no result given</p>"
    score = "not graded" if auto.score is None else _pts(auto.score)
    possible = "?" if auto.possible is None else _pts(auto.possible)
    rows = []
    for item in auto.items:
        cls, mark = {True: ("ok", "passed"), False: ("fail", "failed"), None: ("unknown", "?")}[
            item.passed
        ]
        # The grader's own failure message (authored in the master, never student text).
        why = f"<br><span class='fail'>{_e(item.message)}</span>" if item.passed is False else ""
        rows.append(
            f"<tr><td class='{cls}'>{mark}</td><td class='nowrap'><code>{_e(item.item_id)}</code> "
            f"[{_pts(item.points)}]</td><td>{_e(item.text)}{why}</td></tr>"
        )
    return (
        f"<p><b>{_e(question)} (autograded, {_e(auto.source)}): {score} / {possible}</b></p>"
        f"<table class='items'>{''.join(rows)}</table>"
    )


def _context_html(entry: PacketEntry) -> str:
    rows = "".join(
        f"<tr><th>{_e(label)}</th><td>{_e(entry.ledger.get(name).display)}</td></tr>"
        for name, label in LEDGER_FIELDS
    )
    note = f"<p class='note'>{_e(entry.ledger.note)}</p>" if entry.ledger.note else ""
    return (
        "<div class='ctx'><p><b>Their governance ledger</b> (as written; not run)</p>"
        f"<table>{rows}</table>{note}{_auto_html(entry.auto, LEDGER_QUESTION)}</div>"
    )


def _card_html(entry: PacketEntry, question: RubricQuestion) -> str:
    answer = entry.answer(question.name)
    label = entry.student.label
    badges = ""
    if answer.blank:
        badges += "<span class='badge blank'>blank</span>"
    else:
        badges += f"<span class='words'>{answer.words} words</span>"
    if entry.student.problem:
        body = (
            "<p class='blanktext'>No readable notebook in this submission (the reason is in "
            "key.json).</p>"
        )
    elif answer.blank:
        body = "<p class='blanktext'>No answer: the cell was left as released.</p>"
    else:
        body = f"<pre>{_e(answer.text)}</pre>"
    if answer.note:
        body += f"<p class='note'>{_e(answer.note)}</p>"
    items = "".join(
        f"<tr><td><span class='box'></span></td><td><code>{_e(i.id)}</code></td>"
        f"<td class='nowrap'>0&ndash;{_pts(i.points)}</td><td>{_e(i.text)}</td></tr>"
        for i in question.items
    )
    items += (
        f"<tr><td></td><td><code>{_e(comment_column(question.name))}</code></td>"
        "<td></td><td>comment (optional)</td></tr>"
    )
    anchor = _e(f"{question.name}-{label}")
    return (
        f"<article class='card' id='{anchor}'>"
        f"<h3>{_e(label)} &middot; {_e(question.title)} {badges}</h3>"
        f"<div class='cols'><div class='answer'>{body}</div>"
        f"<aside><table class='items'>{items}</table>{_context_html(entry)}</aside></div>"
        "</article>"
    )


def render_packet_html(
    entries: Sequence[PacketEntry],
    rubric: Rubric,
    *,
    prompts: dict[str, str],
    seed: int,
    created: str = "",
) -> str:
    """The packet page: self-contained, blind, every student text escaped.

    Parameters
    ----------
    entries : sequence of PacketEntry
        The students, in packet order.
    rubric : Rubric
        Its manual questions make the sections.
    prompts : dict
        Question name -> prompt text (:func:`labtools.ta.answers.written_prompts`).
    seed : int
        Printed in the header.
    created : str
        Time of writing, printed in the header.

    Returns
    -------
    str
        A complete HTML document.

    Notes
    -----
    No script, no link, no image, no font is loaded; a Content-Security-Policy meta tag
    (``default-src 'none'``) makes the browser refuse any that a bug might let through, so
    the page works offline and an answer holding markup can neither run nor call out. Every
    text from a submission goes through :func:`html.escape` and is shown as written (plain
    text, markdown unrendered). Student keys, ids, names and emails never appear.
    """
    questions = [q for q in rubric.questions if q.manual]
    toc = "".join(f"<a href='#q-{_e(q.name)}'>{_e(q.title)}</a>" for q in questions)
    sections = []
    for q in questions:
        rubric_rows = "".join(
            f"<tr><td><code>{_e(i.id)}</code></td><td>{_pts(i.points)}</td>"
            f"<td>{_e(i.text)}</td></tr>"
            for i in q.items
        )
        cards = "".join(_card_html(e, q) for e in entries)
        blank = sum(e.answer(q.name).blank for e in entries)
        sections.append(
            f"<section id='q-{_e(q.name)}'><h2>{_e(q.title)} "
            f"(<code>{_e(q.name)}</code>, {_pts(q.points)} points)</h2>"
            f"<div class='prompt'>{_e(prompts.get(q.name, ''))}</div>"
            f"<p class='meta'>{len(entries)} answers, {blank} blank. Rubric:</p>"
            "<table class='rubric'><tr><th>column</th><th>points</th><th>item</th></tr>"
            f"{rubric_rows}</table>{cards}</section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Grading packet: written answers</title>
<style>{_CSS}</style></head>
<body><header class="top">
<h1>Grading packet: Operations at Scale, written answers</h1>
<p class="meta">{len(entries)} students under anonymous labels, in a shuffled order (seed {seed},
the same order in every question and in <code>scores.csv</code>). {_e(created)}</p>
<p>Grade one question at a time. For each answer, write each item's points (from 0 to the
item's points) in the row of its label in <code>scores.csv</code>, in the column named by the
item; leave a cell empty if you have not graded it yet. The numbers beside each answer are
the student's own, as written in their ledger (not run), and their autograded ledger items.
Then run <code>ops-lab ta-import</code>.</p>
<nav class="toc">{toc}</nav></header>
<main>{"".join(sections)}</main></body></html>
"""


# --------------------------------------------------------------------------- the packet


def _written_pdf(nb: nbformat.NotebookNode, pdf: Path) -> None:
    from labtools.release.written_pdf import notebook_to_pdf

    with tempfile.TemporaryDirectory(prefix="ta-pdf-") as tmp:
        path = Path(tmp) / NOTEBOOK_NAME
        nbformat.write(nb, path)
        notebook_to_pdf(path, pdf, title="Written answers")


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
) -> PacketSummary:
    """Write the grading packet of a batch of submissions.

    Parameters
    ----------
    submissions : Path, an existing folder or zip
        A folder of notebooks or zips, of per-student folders, a Gradescope export or its
        zip (as :func:`labtools.grading.batch.detect_submissions` reads them), or an
        nbgrader course folder or its ``submitted/``.
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
        Replace an existing ``scores.csv`` (otherwise refused: it may hold a TA's work).

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
    from labtools.grading.batch import detect_submissions
    from labtools.grading.submission import SubmissionProblem
    from labtools.nbgrader_course.config import COURSE_ID

    rubric = rubric or load_rubric()
    if seed is None:
        seed = secrets.randbelow(_DEFAULT_SEED_BELOW)
    seed = check_int("seed", seed, low=0, high=MAX_SEED)
    output = Path(output)
    sheet_path = output / "scores.csv"
    if sheet_path.exists() and not force:
        raise InvalidInputError(
            f"output must not hold a score sheet already (it may hold a TA's work): "
            f"{sheet_path} exists; pass force=True (--force) to replace it"
        )
    if results is not None:
        results = Path(results)
        if (results / "results").is_dir():
            results = results / "results"
        if not results.is_dir():
            raise InvalidInputError(
                f"results must be a batch output folder or its results/, got {str(results)!r}"
            )
    submissions = Path(submissions)
    if submissions.is_dir() and output.resolve().is_relative_to(submissions.resolve()):
        raise InvalidInputError(
            f"output must not be inside submissions (it would be read as a submission), "
            f"got {str(output)!r} inside {str(submissions)!r}"
        )
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        # Gradescope's "Export Submissions" zip, read as the batch reads it: unpacked.
        submissions = unzip_fresh(submissions, output / ".export")
    folder, course = locate_input(submissions)
    detected = detect_submissions(folder)
    form = "nbgrader" if course is not None else detected.form
    manual = [q for q in rubric.questions if q.manual]
    prompts = written_prompts(nbformat.read(student_notebook, as_version=4), rubric)
    ledger_q = rubric.question(LEDGER_QUESTION)

    by_key = {s.key: s for s in detected.submissions}
    order = shuffled_order(list(by_key), seed)
    labels = anonymous_labels(len(order))
    nbgrader_auto: dict[str, AutoLedger] = {}
    if course is not None and results is None:
        nbgrader_auto = _auto_from_nbgrader(
            course,
            [by_key[k].student_id for k in order],
            ledger_q,
            course_id or COURSE_ID,
        )
    warnings = list(detected.warnings)
    entries, notebooks = [], {}
    for key, label in zip(order, labels, strict=True):
        sub = by_key[key]
        problem = ""
        try:
            nb = _read_submission(sub.path, notebook_name)
            notebooks[key] = nb
            answers = extract_written_answers(nb, rubric, prompts=prompts)
            ledger = read_ledger(nb)
        except SubmissionProblem as exc:
            problem = str(exc)
            warnings.append(f"{key} ({label}): no readable notebook: {problem}")
            answers = {q.name: WrittenAnswer(q.name, "", True) for q in manual}
            ledger = LedgerContext(tuple())
        auto = None
        if results is not None:
            auto, status = _auto_from_results(results / f"{key}.json", ledger_q)
            if auto is None:
                warnings.append(f"{key} ({label}): no batch result for {LEDGER_QUESTION}")
            elif status not in (None, "ok"):
                warnings.append(f"{key} ({label}): its batch result has status {status!r}")
        else:
            auto = nbgrader_auto.get(sub.student_id)
        student = KeyStudent(label, key, sub.student_id, sub.name, sub.email, problem)
        entries.append(PacketEntry(student, tuple(answers[q.name] for q in manual), ledger, auto))

    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    key_record = PacketKey(
        seed=seed,
        rubric_sha256=rubric_digest(rubric),
        form=form,
        submissions=str(folder.resolve()),
        nbgrader_course=str(course.resolve()) if course is not None else "",
        results=str(results.resolve()) if results is not None else "",
        students=tuple(e.student for e in entries),
        created=created,
    )
    output.mkdir(parents=True, exist_ok=True)
    html_path = output / "packet.html"
    key_path = output / "key.json"
    gradescope_path = output / "gradescope-rubric.txt"
    write_atomic(
        html_path,
        render_packet_html(entries, rubric, prompts=prompts, seed=seed, created=created),
    )
    write_atomic(key_path, key_record.to_json())
    write_atomic(gradescope_path, render_gradescope_rubric(rubric))
    write_atomic(sheet_path, render_blank_sheet(key_record, rubric))
    written_pdfs = []
    if pdfs:
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
            written_pdfs.append(pdf)
    return PacketSummary(
        html=html_path,
        sheet=sheet_path,
        key=key_path,
        gradescope_rubric=gradescope_path,
        pdfs=tuple(written_pdfs),
        seed=seed,
        form=form,
        entries=tuple(entries),
        warnings=tuple(warnings),
    )
