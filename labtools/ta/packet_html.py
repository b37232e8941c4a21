"""The packet's page: one self-contained, blind HTML document, every student text escaped.

Per written question its prompt and rubric, then every student's answer (under their label)
beside the rubric items, with the student's context: their governance ledger as written and
the autograded ledger items (:mod:`labtools.ta.packet_entries`). Inline CSS only; no script,
no external resource (:func:`render_packet_html` says how that is enforced).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from labtools.rubric import Rubric, RubricQuestion
from labtools.ta.answers import LEDGER_FIELDS
from labtools.ta.packet_entries import LEDGER_QUESTION, AutoLedger, PacketEntry
from labtools.ta.sheet import comment_column

__all__ = ["render_packet_html"]

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
        # The case's message as the grader recorded it: the master's failure message, and for
        # a public case what went wrong (which may quote the student's code: escaped).
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
    numbers = ""
    if entry.numbers:
        cells = "".join(
            f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>" for label, value in entry.numbers
        )
        numbers = (
            "<p><b>Their own numbers</b> (the reference, for their track and variant)</p>"
            f"<table>{cells}</table>"
        )
    return (
        "<div class='ctx'><p><b>Their governance ledger</b> (as written; not run)</p>"
        f"<table>{rows}</table>{note}{numbers}{_auto_html(entry.auto, LEDGER_QUESTION)}</div>"
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
