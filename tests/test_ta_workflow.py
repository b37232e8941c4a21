"""The TAs' workflow for written answers (labtools.ta): packet, score sheet, import.

Submissions are derived from the committed student notebook by writing distinct answers into
its answer cells (one answer holds markup, one student left everything blank, one file is not
a notebook). Expected values come from the test's own statements: the answers written here,
the points read straight from ``assignment/rubric.toml`` with :mod:`tomllib`, scores added
with :class:`fractions.Fraction`; never from the code under test.

The nbgrader tests use a real course: :func:`write_course` into a temporary folder, the real
``nbgrader generate_assignment`` (which creates ``gradebook.db``), then students and
submissions added through ``nbgrader.api.Gradebook.add_submission``, the call ``nbgrader
autograde`` itself starts with (autograding would add a sandboxed run per student and tell
nothing more about the written answers). ``nbgrader export`` then reads the imported scores
back through nbgrader's own command.
"""

from __future__ import annotations

import argparse
import copy
import csv
import html
import io
import json
import re
import time
import zipfile
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from labtools._toml import tomllib
from labtools.batch import rebuild_gradebook
from labtools.grading.notebook_format import replace_definitions, with_track
from labtools.grading.results import case_record
from labtools.grading.test_runner import CaseOutcome
from labtools.paths import RUBRIC, STUDENT_NOTEBOOK
from labtools.rubric import load_rubric
from labtools.ta.answers import extract_written_answers, read_ledger, written_prompts
from labtools.ta.cli import add_import_arguments, add_packet_arguments, main_import, main_packet
from labtools.ta.filled_sheet import ScoreSheetError, read_scores
from labtools.ta.packet import write_packet
from labtools.ta.packet_order import anonymous_labels, shuffled_order
from labtools.ta.score_import import import_scores
from opsmodel import toil
from opsmodel.variants import student_track, variant_code_from_bytes

# --------------------------------------------------------------------------- the rubric, read
# straight from the TOML (not through labtools.rubric)

with RUBRIC.open("rb") as _f:
    _TOML = tomllib.load(_f)["question"]
MANUAL = {q["name"]: q for q in _TOML if q["graded_by"] == "ta"}
AUTO = {q["name"]: Fraction(str(q["points"])) for q in _TOML if q["graded_by"] == "autograder"}
ITEM_POINTS = {i["id"]: Fraction(str(i["points"])) for q in MANUAL.values() for i in q["items"]}
PART = {q["name"]: q["part"] for q in _TOML}
# The README's points table: 46 in all, 36 autograded and 10 written.
TOTAL_POINTS, AUTO_POINTS = Fraction(46), Fraction(36)

SEED = 4711
BLANK_STUB = "_Type your answer here, replacing this text._"

# --------------------------------------------------------------------------- submissions

SCRIPT_ANSWER = "Pairs grow as N^2. <script>alert('x')</script> & that is the point."
EXTERNAL_ANSWER = (
    'SPRT with p0, p1. <img src="https://evil.example/p.png"> '
    '<a href="http://evil.example/">see</a>; <link rel="stylesheet" href="//evil.example/s.css">'
)

#: key -> (track, r1, r2, r3, ledger assignments as source); None: the release untouched.
# Fox is on a per-student variant (any well-formed code: the packet reads it, never grades it).
FOX_CODE = variant_code_from_bytes(b"fox's code")
STUDENTS: dict[str, tuple | None] = {
    "stu_adams": (
        "Cloud Titan",
        "Adams R1: dependency work grows with cross-type pairs h N(N-1)/2; CACE.",
        "Adams R2: SPRT with p0 = 0.001 and p1 = 0.01, alpha = beta = 0.05.",
        "Adams R3: the skew invariant says a model is valid only on its training features.",
        {
            "ledger_policy": '"strict_immutable_contracts"',
            "ledger_break_even_models": "37",
            "ledger_shadow_fraction": "0.25",
            "ledger_shadow_requests": "2995",
            "ledger_shadow_hours": "41.6",
            "ledger_release_feasible": "True",
            "ledger_sequential_strategy": '"sprt"',
        },
    ),
    "stu_baker": (
        "Edge Guardian",
        SCRIPT_ANSWER,
        EXTERNAL_ANSWER,
        "Baker R3: PSI flagged v2, only the contract hash caught the sign flip.",
        {"ledger_shadow_hours": 'canary_plan["hours"]', "ledger_policy": '"loose_versioning"'},
    ),
    "stu_chen": None,
    "stu_diaz": (
        "Mobile Nomad",
        "Diaz R1: heterogeneity multiplies interfaces.",
        "Diaz R2: staged rollout 1% to 100%.",
        "Diaz R3: strict contracts.",
        {"ledger_break_even_models": 'open(SENTINEL, "w").write("ran")'},
    ),
    "stu_evans": (
        "Tiny Pioneer",
        "Evans R1: quadratic coordination.",
        "Evans R2: fixed n is slower.",
        "Evans R3: pins per consumer.",
        {},
    ),
    "stu_fox": (
        "Cloud Titan",
        "Fox R1: CACE.",
        "Fox R2: Wald.",
        "Fox R3: hashes.",
        {"VARIANT_CODE": repr(FOX_CODE)},  # per-student variants: fox's own numbers
    ),
    "stu_gus": None,  # not a notebook at all (written below)
}
UNREADABLE = "stu_gus"
BLANK = "stu_chen"
TEXTS = {key: dict(zip(MANUAL, spec[1:4], strict=True)) for key, spec in STUDENTS.items() if spec}


def _student_notebook() -> nbformat.NotebookNode:
    return nbformat.read(STUDENT_NOTEBOOK, as_version=4)


def _otter_submission(spec: tuple, sentinel: Path) -> nbformat.NotebookNode:
    """The released notebook with a track, the three written answers and ledger values."""
    track, r1, r2, r3, ledger = spec
    nb = with_track(_student_notebook(), track)
    answer_cells = [
        c
        for c in nb.cells
        if c.cell_type == "markdown" and "otter_answer_cell" in c.metadata.get("tags", [])
    ]
    assert len(answer_cells) == 2  # Reflections 1 and 2, in notebook order
    answer_cells[0].source, answer_cells[1].source = r1, r2
    justification = next(
        c for c in nb.cells if c.cell_type == "code" and "ledger_justification =" in c.source
    )
    justification.source = f'ledger_justification = """\n{r3}\n"""'
    if ledger:
        nb = replace_definitions(nb, "\n".join(f"{k} = {v}" for k, v in ledger.items()) + "\n")
    # A cell that would leave a trace if the packet ran student code.
    nb.cells.insert(5, nbformat.v4.new_code_cell(f'SENTINEL = "{sentinel}"\nopen(SENTINEL, "w")'))
    return nb


def _write_folder(folder: Path, sentinel: Path) -> None:
    folder.mkdir(parents=True)
    for key, spec in STUDENTS.items():
        if key == UNREADABLE:
            (folder / f"{key}.ipynb").write_text("this is not a notebook")
        elif spec is None:
            nbformat.write(_student_notebook(), folder / f"{key}.ipynb")
        else:
            nbformat.write(_otter_submission(spec, sentinel), folder / f"{key}.ipynb")


# Autograded scores of the batch, per student and question (made up here: the sum of points
# of the rubric for adams and fox, half of each question for baker, and so on).
def _auto_scores(key: str) -> dict[str, Fraction]:
    share = {"stu_adams": 1, "stu_baker": Fraction(1, 2), "stu_chen": 0}.get(key, Fraction(3, 4))
    scores = {q: p * share for q, p in AUTO.items()}
    if key == "stu_adams":
        scores["q5_ledger"] = Fraction(5, 2)  # public 0.5 + numbers 2: passed; the rest failed
    return scores


Q5_OUTPUT_ADAMS = (
    "q5_ledger: 2.5 / 4 points\n- public test: passed\n- hidden test: passed\n"
    "- hidden test: FAILED. The policy is not consistent with your evidence.\n"
    "- hidden test: FAILED. The justification must be 60 to 200 words."
)
# The same four cases as the grader records them in extra_data (what the packet reads).
Q5_CASES_ADAMS = [
    case_record(CaseOutcome(0, False, 0.5, True, "public test: passed")),
    case_record(CaseOutcome(1, True, 2.0, True, "hidden test: passed")),
    case_record(
        CaseOutcome(
            2,
            True,
            1.0,
            False,
            "hidden test: FAILED. The policy is not consistent with your evidence.",
        )
    ),
    case_record(
        CaseOutcome(
            3, True, 0.5, False, "hidden test: FAILED. The justification must be 60 to 200 words."
        )
    ),
]


def _write_batch(out: Path, keys: list[str]) -> None:
    """Batch results as labtools.batch writes them, and its gradebook.csv."""
    for key in keys:
        scores = _auto_scores(key)
        tests = [
            {
                "name": q,
                "score": float(s),
                "max_score": float(AUTO[q]),
                "output": Q5_OUTPUT_ADAMS
                if (q, key) == ("q5_ledger", "stu_adams")
                else f"{q}: {float(s):g} / {float(AUTO[q]):g} points",
                **(
                    {"extra_data": {"cases": Q5_CASES_ADAMS}}
                    if (q, key) == ("q5_ledger", "stu_adams")
                    else {}
                ),
            }
            for q, s in scores.items()
        ]
        results = {
            "score": float(sum(scores.values())),
            "tests": tests,
            "extra_data": {
                "batch": {
                    "student_id": key,
                    "questions": list(AUTO),
                    "possible": float(AUTO_POINTS),
                    "status": "ok",
                }
            },
        }
        (out / "results").mkdir(parents=True, exist_ok=True)
        (out / "results" / f"{key}.json").write_text(json.dumps(results))
    rebuild_gradebook(out)


@pytest.fixture(scope="module")
def folder_batch(tmp_path_factory):
    """A folder of notebooks, its batch results, and the packet made from them."""
    root = tmp_path_factory.mktemp("ta")
    sentinel = root / "student-code-ran"
    _write_folder(root / "in", sentinel)
    batch = [k for k in STUDENTS if k != UNREADABLE]
    _write_batch(root / "batch", batch)
    t0 = time.perf_counter()
    summary = write_packet(root / "in", root / "packet", seed=SEED, results=root / "batch")
    elapsed = time.perf_counter() - t0
    print(f"\npacket of {len(STUDENTS)} notebooks written in {elapsed:.2f} s")
    return {
        "root": root,
        "summary": summary,
        "html": (root / "packet" / "packet.html").read_text(encoding="utf-8"),
        "key": json.loads((root / "packet" / "key.json").read_text(encoding="utf-8")),
        "sentinel": sentinel,
    }


def _label_of(key_json: dict) -> dict[str, str]:
    return {s["key"]: s["label"] for s in key_json["students"]}


def _card(page: str, question: str, label: str) -> str:
    match = re.search(rf"<article class='card' id='{question}-{label}'>(.*?)</article>", page, re.S)
    assert match, f"no card for {label} in {question}"
    return match.group(1)


class _Tags(HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


# --------------------------------------------------------------------------- the packet


def test_html_is_self_contained_and_shows_student_markup_as_text(folder_batch):
    page = folder_batch["html"]
    parser = _Tags()
    parser.feed(page)
    tags = {t for t, _ in parser.tags}
    # Nothing that loads or runs anything: no script, img, link, iframe, object, form.
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "form", "base"}
    for tag, attrs in parser.tags:
        assert "src" not in attrs, tag
        if "href" in attrs:
            assert attrs["href"].startswith("#"), attrs  # in-page links only
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page
    csp = [a for t, a in parser.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in csp[0]["content"]
    # The student's markup is there, as text.
    labels = _label_of(folder_batch["key"])
    r1 = _card(page, "r1_heterogeneity", labels["stu_baker"])
    assert html.escape(SCRIPT_ANSWER, quote=True) in r1
    assert html.escape(EXTERNAL_ANSWER, quote=True) in _card(
        page, "r2_sequential", labels["stu_baker"]
    )
    # Every in-page link has its target.
    ids = {a["id"] for _, a in parser.tags if "id" in a}
    assert {a["href"][1:] for _, a in parser.tags if "href" in a} <= ids


def test_every_answer_is_shown_under_its_label_beside_the_rubric(folder_batch):
    page, labels = folder_batch["html"], _label_of(folder_batch["key"])
    for key, texts in TEXTS.items():
        for question, text in texts.items():
            card = _card(page, question, labels[key])
            assert html.escape(text, quote=True) in card
            for item in MANUAL[question]["items"]:
                assert f"<code>{item['id']}</code>" in card
                assert html.escape(item["text"], quote=True) in card
    for question in MANUAL:
        assert "badge blank" in _card(page, question, labels[BLANK])
        assert "No readable notebook" in _card(page, question, labels[UNREADABLE])
        assert "badge blank" not in _card(page, question, labels["stu_adams"])


def test_the_packet_is_blind(folder_batch):
    page = folder_batch["html"]
    for key in STUDENTS:
        assert key not in page
    # The mapping is in the key file, with the reason the unreadable one could not be read.
    students = {s["key"]: s for s in folder_batch["key"]["students"]}
    assert set(students) == set(STUDENTS)
    assert "not a valid notebook" in students[UNREADABLE]["problem"]


def test_context_shows_the_ledger_as_written_and_runs_no_student_code(folder_batch):
    page, labels = folder_batch["html"], _label_of(folder_batch["key"])
    adams = _card(page, "r3_ledger", labels["stu_adams"])
    # The literals written into adams' ledger cell, and the track set in the TRACK cell.
    for shown in ("37", "2995", "41.6", "True", "&#x27;sprt&#x27;", "&#x27;Cloud Titan&#x27;"):
        assert f"<td>{shown}</td>" in adams
    baker = _card(page, "r1_heterogeneity", labels["stu_baker"])
    assert "computed in the notebook: canary_plan[&#x27;hours&#x27;]" in baker
    assert "<td>&#x27;loose_versioning&#x27;</td>" in baker
    assert "... (not filled in)" in _card(page, "r1_heterogeneity", labels[BLANK])
    assert not folder_batch["sentinel"].exists()  # diaz's ledger would have created it


def test_context_shows_each_students_own_numbers_and_never_their_code(folder_batch):
    page, labels = folder_batch["html"], _label_of(folder_batch["key"])
    adams = _card(page, "r3_ledger", labels["stu_adams"])
    assert "<td>Cloud Titan (no variant)</td>" in adams
    base = student_track("Cloud Titan")
    base_star = toil.break_even_models(base.heterogeneity, base.toil_params)
    assert f"<th>N* (reference)</th><td>{base_star}</td>" in adams
    fox = _card(page, "r3_ledger", labels["stu_fox"])
    mine = student_track("Cloud Titan", FOX_CODE)
    n_star = toil.break_even_models(mine.heterogeneity, mine.toil_params)
    assert "<td>their own variant of Cloud Titan</td>" in fox
    assert f"<th>N* (reference)</th><td>{n_star}</td>" in fox
    assert f"<td>{mine.n_models} models, heterogeneity {mine.heterogeneity:.3f}</td>" in fox
    assert FOX_CODE not in page  # the packet is blind: a code stands for one student


def test_context_shows_the_autograded_ledger_items_from_batch_results(folder_batch):
    page, labels = folder_batch["html"], _label_of(folder_batch["key"])
    adams = _card(page, "r2_sequential", labels["stu_adams"])
    assert "q5_ledger (autograded, batch results): 2.5 / 4" in adams
    # q5's items in rubric order: fields and numbers passed, policy and length failed.
    marks = re.findall(
        r"<td class='(ok|fail)'>(passed|failed)</td><td class='nowrap'>"
        r"<code>(q5\.\w+)</code>",
        adams,
    )
    assert [(m[2], m[1]) for m in marks] == [
        ("q5.fields", "passed"),
        ("q5.numbers", "passed"),
        ("q5.policy", "failed"),
        ("q5.length", "failed"),
    ]
    assert "The justification must be 60 to 200 words." in adams
    # No batch result for the unreadable submission: said so, and warned.
    assert "no result given" in _card(page, "r1_heterogeneity", labels[UNREADABLE])
    assert any(UNREADABLE in w for w in folder_batch["summary"].warnings)


def test_order_is_a_reproducible_shuffle_not_the_roster(folder_batch, tmp_path):
    key = folder_batch["key"]
    order = [s["key"] for s in key["students"]]
    assert key["seed"] == SEED and f"seed {SEED}" in folder_batch["html"]
    assert sorted(order) == sorted(STUDENTS) and order != sorted(STUDENTS)
    assert [s["label"] for s in key["students"]] == [f"S-0{k}" for k in range(1, 8)]
    # Sections list the cards in label order, the same in every question.
    for question in MANUAL:
        found = re.findall(rf"id='{question}-(S-\d+)'", folder_batch["html"])
        assert found == [s["label"] for s in key["students"]]
    again = write_packet(folder_batch["root"] / "in", tmp_path / "again", seed=SEED)
    assert [e.student.key for e in again.entries] == order
    other = write_packet(folder_batch["root"] / "in", tmp_path / "other", seed=SEED + 1)
    assert [e.student.key for e in other.entries] != order


def test_sheet_has_one_row_per_label_in_packet_order_and_a_column_per_item(folder_batch):
    text = (folder_batch["root"] / "packet" / "scores.csv").read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    assert first.startswith("#") and f"seed {SEED}" in first and "," not in first
    rows = list(csv.reader(io.StringIO(rest)))
    expected = ["label"]
    for name, q in MANUAL.items():  # the TOML's items, in its order, then the comment column
        expected += [i["id"] for i in q["items"]] + [f"{name}.comment"]
    assert rows[0] == expected
    assert [r[0] for r in rows[1:]] == [s["label"] for s in folder_batch["key"]["students"]]
    assert all(cell == "" for r in rows[1:] for cell in r[1:])
    # Blind: no key, id, name or email of any student anywhere in the sheet the TAs edit.
    for student in folder_batch["key"]["students"]:
        for secret in (student["key"], student["student_id"], student["name"], student["email"]):
            assert not secret or secret not in text


def test_gradescope_rubric_has_one_item_a_line_with_its_points(folder_batch):
    text = (folder_batch["root"] / "packet" / "gradescope-rubric.txt").read_text()
    blocks = text.strip().split("\n\n")
    assert len(blocks) == len(MANUAL)
    for block, q in zip(blocks, MANUAL.values(), strict=True):
        head, *lines = block.splitlines()
        assert head == f"{q['title']} ({q['points']:g} pts)"
        assert lines == [f"{i['points']:g} | {i['text']}" for i in q["items"]]


def test_an_existing_sheet_is_not_overwritten_without_force(folder_batch):
    with pytest.raises(ValueError, match="output must not hold a score sheet"):
        write_packet(folder_batch["root"] / "in", folder_batch["root"] / "packet", seed=1)


def test_bad_packet_inputs_are_refused(folder_batch, tmp_path):
    source = folder_batch["root"] / "in"
    with pytest.raises(ValueError, match="output must not be inside submissions"):
        write_packet(source, source / "packet", seed=1)
    with pytest.raises(ValueError, match="results must be a batch output folder"):
        write_packet(source, tmp_path / "p", seed=1, results=tmp_path / "missing")
    with pytest.raises(ValueError, match="seed"):
        write_packet(source, tmp_path / "p", seed=-3)
    with pytest.raises(ValueError, match="submissions"):
        write_packet(tmp_path / "missing", tmp_path / "p", seed=1)


def test_gradescope_export_zip_keeps_names_out_of_the_packet(tmp_path):
    export = tmp_path / "assignment_1_export"
    export.mkdir()
    (export / "submission_metadata.yml").write_text(
        "submission_11:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: 'x1815'\n"
        "    :email: ada@example.edu\n"
        "submission_12:\n  :submitters:\n  - :name: Alan Turing\n    :sid: 'x1912'\n"
        "    :email: alan@example.edu\n"
    )
    for sub, key in (("submission_11", "stu_adams"), ("submission_12", "stu_fox")):
        (export / sub).mkdir()
        nbformat.write(_otter_submission(STUDENTS[key], tmp_path / "s"), export / sub / "x.ipynb")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(export.rglob("*")):
            z.write(path, path.relative_to(tmp_path))
    summary = write_packet(archive, tmp_path / "packet", seed=5)
    page = summary.html.read_text()
    assert summary.form == "gradescope"
    for secret in ("Lovelace", "Turing", "example.edu", "x1815", "x1912"):
        assert secret not in page
    key = json.loads(summary.key.read_text())
    assert {(s["student_id"], s["name"]) for s in key["students"]} == {
        ("x1815", "Ada Lovelace"),
        ("x1912", "Alan Turing"),
    }


def test_pdfs_of_written_answers_for_gradescopes_manual_assignment(tmp_path):
    # One notebook: Chromium prints about one PDF in 2 s here.
    from pypdf import PdfReader

    folder = tmp_path / "in"
    folder.mkdir()
    nbformat.write(_otter_submission(STUDENTS["stu_diaz"], tmp_path / "s"), folder / "d.ipynb")
    summary = write_packet(folder, tmp_path / "packet", seed=2, pdfs=True)
    assert summary.pdfs == (tmp_path / "packet" / "pdf" / "d.pdf",)
    text = " ".join(page.extract_text() for page in PdfReader(summary.pdfs[0]).pages)
    for answer in TEXTS["stu_diaz"].values():
        assert " ".join(answer.split()) in " ".join(text.split())


# --------------------------------------------------------------------------- reading answers


def test_written_answers_are_found_by_prompt_even_when_blocks_move():
    rubric = load_rubric()
    prompts = written_prompts(_student_notebook(), rubric)
    nb = _otter_submission(STUDENTS["stu_adams"], Path("/nonexistent"))
    # Move Reflection 1's whole block (prompt to END marker) after the ledger's.

    def marks(word: str) -> list[int]:
        return [i for i, c in enumerate(nb.cells) if f"<!-- {word} QUESTION -->" in c.source]

    begin, end = marks("BEGIN")[0], marks("END")[0]
    block = nb.cells[begin : end + 1]
    del nb.cells[begin : end + 1]
    last_end = marks("END")[-1]
    nb.cells[last_end + 1 : last_end + 1] = block
    assert [c.source for c in nb.cells if "BEGIN QUESTION" in c.source][-1] == block[0].source
    answers = extract_written_answers(nb, rubric, prompts=prompts)
    assert {q: a.text for q, a in answers.items()} == TEXTS["stu_adams"]


def test_nbgrader_form_answers_are_read_by_grade_id():
    cells = [
        nbformat.v4.new_markdown_cell("Prompt"),
        nbformat.v4.new_markdown_cell("My reflection."),
        nbformat.v4.new_code_cell('ledger_justification = """\nBecause.\n"""'),
    ]
    cells[1].metadata["nbgrader"] = {"grade_id": "r1_heterogeneity", "solution": True}
    cells[2].metadata["nbgrader"] = {"grade_id": "r3_ledger", "solution": True}
    answers = extract_written_answers(nbformat.v4.new_notebook(cells=cells), load_rubric())
    assert answers["r1_heterogeneity"].text == "My reflection."
    assert answers["r3_ledger"].text == "Because."
    assert answers["r2_sequential"].blank and "no answer cell" in answers["r2_sequential"].note


def test_ledger_values_follow_names_to_their_last_assignment_before_the_ledger():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('%matplotlib inline\nTRACK = "Tiny Pioneer"\nn = 10'),
            nbformat.v4.new_code_cell(
                'n = 12\nm = n\ngovernance_ledger = {"track": TRACK, '
                '"break_even_models": m, "policy": f"{TRACK}"}'
            ),
            nbformat.v4.new_code_cell("n = 99"),  # after the ledger: not what it holds
        ]
    )
    ledger = read_ledger(nb)
    assert ledger.track == "Tiny Pioneer"
    assert ledger.get("break_even_models").display == "12"
    assert ledger.get("policy").display.startswith("computed in the notebook: f")
    assert ledger.get("shadow_hours").display == "(missing)"
    no_ledger = read_ledger(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))
    assert "no governance_ledger" in no_ledger.note


# --------------------------------------------------------------------------- order, labels


def test_shuffle_never_returns_the_roster_and_reaches_every_other_order():
    for seed in range(50):
        assert shuffled_order(["a", "b"], seed) == ("b", "a")
    seen = {shuffled_order(["a", "b", "c"], seed) for seed in range(200)}
    # 3! = 6 orders, less the roster's own.
    assert len(seen) == 5 and ("a", "b", "c") not in seen
    assert shuffled_order([], 3) == () and shuffled_order(["solo"], 3) == ("solo",)


@pytest.mark.parametrize("seed", [-1, 2.5, "7", None, True, float("nan"), 2**31])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        shuffled_order(["a", "b"], seed)


def test_repeated_keys_are_refused():
    with pytest.raises(ValueError, match="keys must not repeat"):
        shuffled_order(["a", "b", "a"], 1)


def test_labels_are_padded_to_the_class_size():
    assert anonymous_labels(2) == ("S-01", "S-02")
    assert anonymous_labels(100)[0] == "S-001"
    with pytest.raises(ValueError, match="n"):
        anonymous_labels(-1)


# --------------------------------------------------------------------------- the import


def _key_of_label(key: Path) -> dict[str, str]:
    """label -> student key, from a packet's key.json (what the instructor holds)."""
    return {s["label"]: s["key"] for s in json.loads(key.read_text(encoding="utf-8"))["students"]}


def _fill(
    sheet: Path,
    values: dict[str, dict[str, str]],
    out: Path | None = None,
    key: Path | None = None,
) -> Path:
    """Write ``values`` (student_key -> column -> text) into the sheet, as a TA would.

    The sheet names labels only: the test finds each label's student in the key (beside the
    sheet unless given), as the TA cannot.
    """
    first, rest = sheet.read_text(encoding="utf-8").split("\n", 1)
    rows = list(csv.DictReader(io.StringIO(rest)))
    student_of = _key_of_label(key or sheet.parent / "key.json")
    for row in rows:
        row.update(values.get(student_of[row["label"]], {}))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target = out or sheet
    target.write_text(first + "\n" + buffer.getvalue(), encoding="utf-8")
    return target


def _items(question: str, values: list[str], comment: str = "") -> dict[str, str]:
    ids = [i["id"] for i in MANUAL[question]["items"]]
    return {**dict(zip(ids, values, strict=True)), f"{question}.comment": comment}


#: What the TA gives (strings, as typed); fox's r2 is half graded, gus has no scores.
FILLED = {
    "stu_adams": {
        **_items("r1_heterogeneity", ["1", "0.5", "1"], "Cites N* = 37."),
        **_items("r2_sequential", ["1", "1", "0"]),
        **_items("r3_ledger", ["1", "1", "1", "0.5"], "Policy cost thin."),
    },
    "stu_baker": {
        **_items("r1_heterogeneity", ["0", "0", "0"], "Only markup."),
        **_items("r2_sequential", ["0.5", "0", "0"]),
        **_items("r3_ledger", ["0", "1", "1", "0"]),
    },
    "stu_chen": {
        **_items("r1_heterogeneity", ["0", "0", "0"], "Blank."),
        **_items("r2_sequential", ["0", "0", "0"]),
        **_items("r3_ledger", ["0", "0", "0", "0"]),
    },
    "stu_diaz": {
        **_items("r1_heterogeneity", ["1", "1", "0"]),
        **_items("r2_sequential", ["0", "1", "1"]),
        **_items("r3_ledger", ["1", "0", "0", "1"]),
    },
    "stu_evans": {
        **_items("r1_heterogeneity", ["1", "1", "1"]),
        **_items("r2_sequential", ["1", "1", "1"]),
        **_items("r3_ledger", ["1", "1", "1", "1"]),
    },
    "stu_fox": {
        **_items("r1_heterogeneity", ["0,5", "0", "1"]),  # a decimal comma, as some locales type
        **_items("r2_sequential", ["1", "", ""]),
        **_items("r3_ledger", ["0", "0", "1", "0"]),
    },
}


def _expected_manual(values: dict[str, str], question: str) -> Fraction | None:
    ids = [i["id"] for i in MANUAL[question]["items"]]
    cells = [values.get(i, "") for i in ids]
    if any(c == "" for c in cells):
        return None
    return sum((Fraction(c.replace(",", ".")) for c in cells), Fraction(0))


def _as_fraction(cell: str) -> Fraction | None:
    return None if cell == "" else Fraction(cell)


def test_filled_sheet_lands_in_the_combined_gradebook(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    sheet = _fill(packet / "scores.csv", FILLED, out=tmp_path / "scores.csv")
    summary = import_scores(sheet, key=packet / "key.json", combined=tmp_path / "combined.csv")
    assert summary.nbgrader is None  # a folder batch: the combined CSV only
    pending = {(p.student.key, p.question) for p in summary.sheet.pending}
    assert pending == {("stu_fox", "r2_sequential")} | {(UNREADABLE, q) for q in MANUAL}
    with (tmp_path / "combined.csv").open() as f:
        rows = {r["student_key"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(STUDENTS)
    for key, row in rows.items():
        auto = _auto_scores(key) if key != UNREADABLE else {}
        manual = {q: _expected_manual(FILLED.get(key, {}), q) for q in MANUAL}
        for q in AUTO:
            assert _as_fraction(row[q]) == auto.get(q)
        for q in MANUAL:
            assert _as_fraction(row[q]) == manual[q]
        for part in dict.fromkeys(PART.values()):
            in_part = [q for q in AUTO if PART[q] == part]
            if in_part:
                expected = sum((auto[q] for q in in_part), Fraction(0)) if auto else None
                assert _as_fraction(row[f"{part} [auto]"]) == expected
            graded = [manual[q] for q in MANUAL if PART[q] == part and manual[q] is not None]
            if any(PART[q] == part for q in MANUAL):
                assert _as_fraction(row[f"{part} [manual]"]) == (sum(graded) if graded else None)
        known = sum(auto.values(), Fraction(0)) + sum(
            (m for m in manual.values() if m is not None), Fraction(0)
        )
        assert _as_fraction(row["total"]) == known
        assert _as_fraction(row["max"]) == TOTAL_POINTS
    assert rows["stu_fox"]["pending"] == "r2_sequential"
    assert rows[UNREADABLE]["pending"] == ";".join([*MANUAL, "autograder"])
    assert rows["stu_evans"]["pending"] == ""
    # evans: 3/4 of every autograded point (27) plus all 10 written points.
    assert _as_fraction(rows["stu_evans"]["total"]) == Fraction(27) + 10


def test_a_bad_sheet_is_refused_whole_with_every_bad_line(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    bad = copy.deepcopy(FILLED)
    bad["stu_adams"]["r1.pairs"] = "2"  # over the item's 1 point
    bad["stu_baker"]["r3.v2"] = "x"  # a letter
    bad["stu_diaz"]["r2.cost"] = "-0.5"  # negative
    sheet = _fill(packet / "scores.csv", bad, out=tmp_path / "scores.csv")
    lines = sheet.read_text().splitlines()
    lines.append("S-99" + "," * (len(lines[1].split(",")) - 1))  # a label not in the packet
    # Line numbers of the file: 1 the comment, 2 the header, rows from 3 in packet order.
    row_line = {s["key"]: n for n, s in enumerate(folder_batch["key"]["students"], start=3)}
    lines.append(lines[row_line["stu_evans"] - 1])  # evans' (valid) row again
    sheet.write_text("\n".join(lines) + "\n")
    combined = tmp_path / "combined.csv"
    with pytest.raises(ScoreSheetError) as caught:
        import_scores(sheet, key=packet / "key.json", combined=combined)
    problems = {(p.line, p.message.split(": ", 1)[1]) for p in caught.value.problems}
    assert problems == {
        (row_line["stu_adams"], "r1.pairs must be a number from 0 to 1, got '2'"),
        (row_line["stu_baker"], "r3.v2 must be a number from 0 to 1, got 'x'"),
        (row_line["stu_diaz"], "r2.cost must be a number from 0 to 1, got '-0.5'"),
        (len(lines) - 1, "unknown label 'S-99', not in the packet"),
        (len(lines), f"student appears again (first on line {row_line['stu_evans']})"),
    }
    assert str(caught.value).count("\n  line ") == 5
    assert not combined.exists()


def _legacy_sheet(sheet: Path, key: Path, out: Path) -> Path:
    """``sheet`` as packets wrote sheets before they were blind: ``student_key`` first."""
    first, header, *rows = sheet.read_text().splitlines()
    student_of = _key_of_label(key)
    lines = [first, "student_key," + header]
    lines += [f"{student_of[row.split(',', 1)[0]]},{row}" for row in rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out


def test_an_old_sheet_naming_students_still_imports_checked_against_the_key(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    (tmp_path / "blind").mkdir()
    blind = _fill(packet / "scores.csv", FILLED, out=tmp_path / "blind" / "scores.csv")
    new = import_scores(blind, key=packet / "key.json")
    old = _legacy_sheet(blind, packet / "key.json", tmp_path / "old" / "scores.csv")
    summary = import_scores(old, key=packet / "key.json")
    assert any("student_key" in n and "checked against its label" in n for n in summary.sheet.notes)
    assert [(s.student.key, s.question, s.score) for s in summary.sheet.scores] == [
        (s.student.key, s.question, s.score) for s in new.sheet.scores
    ]
    assert summary.combined.read_text() == new.combined.read_text()


def _bad_columns_and_label(sheet: Path, label_at: int, packet: Path, tmp_path: Path) -> list[str]:
    """``sheet`` with a renamed and an extra column and its first row's label (column
    ``label_at``) set to the last student's; the problems reading it raises, which must
    name both columns and the missing one."""
    first, header, *rows = sheet.read_text().splitlines()
    header = header.replace("r2.cost", "r2.price") + ",notes"
    swapped = rows[0].split(",")
    swapped[label_at] = "S-07"
    text = "\n".join([first, header, ",".join(swapped) + ",", *(r + "," for r in rows[1:])])
    (tmp_path / "scores.csv").write_text(text + "\n")
    with pytest.raises(ValueError, match="sheet") as caught:
        read_scores(tmp_path / "scores.csv", key=packet / "key.json")
    messages = [str(p) for p in caught.value.problems]
    assert any("line 2: unknown column 'r2.price'" in m for m in messages)
    assert any("line 2: unknown column 'notes'" in m for m in messages)
    assert any("line 2: missing columns: r2.cost" in m for m in messages)
    return messages


def test_bad_columns_and_repeated_labels_are_refused(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    # The first row labelled as the last student.
    messages = _bad_columns_and_label(packet / "scores.csv", 0, packet, tmp_path)
    assert any(m == "line 9: S-07: student appears again (first on line 3)" for m in messages)


def test_an_old_sheet_with_bad_columns_and_mixed_up_labels_is_refused(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    old = _legacy_sheet(packet / "scores.csv", packet / "key.json", tmp_path / "old.csv")
    # The first student's row with the last student's label.
    messages = _bad_columns_and_label(old, 1, packet, tmp_path)
    assert any("line 3:" in m and "is not this student's label 'S-01'" in m for m in messages)


def test_a_sheet_checked_against_another_packets_key_is_refused(folder_batch, tmp_path):
    other = write_packet(folder_batch["root"] / "in", tmp_path / "other", seed=SEED + 2)
    with pytest.raises(ScoreSheetError) as caught:
        read_scores(folder_batch["root"] / "packet" / "scores.csv", key=other.key)
    assert str(caught.value.problems[0]).startswith(
        f"line 1: this sheet is from the packet with seed {SEED}, the key from the packet "
        f"with seed {SEED + 2}"
    )


def test_a_semicolon_sheet_from_a_spreadsheet_is_read(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    sheet = _fill(packet / "scores.csv", FILLED, out=tmp_path / "comma.csv")
    rows = list(csv.reader(io.StringIO(sheet.read_text().split("\n", 1)[1])))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    semicolon = tmp_path / "scores.csv"
    semicolon.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())  # Excel's BOM
    checked = read_scores(semicolon, key=packet / "key.json")
    fox = {s.question: s.score for s in checked.scores if s.student.key == "stu_fox"}
    assert fox == {"r1_heterogeneity": 1.5, "r3_ledger": 1.0}


def test_cli_refuses_a_bad_sheet_and_lists_it(folder_batch, tmp_path, capsys):
    packet = folder_batch["root"] / "packet"
    bad = {"stu_adams": {"r1.pairs": "1.5"}}
    sheet = _fill(packet / "scores.csv", bad, out=tmp_path / "scores.csv")
    parser = add_import_arguments(argparse.ArgumentParser())
    args = parser.parse_args([str(sheet), "--key", str(packet / "key.json")])
    assert main_import(args) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err and "r1.pairs must be a number from 0 to 1, got '1.5'" in err
    parser = add_packet_arguments(argparse.ArgumentParser())
    args = parser.parse_args([str(folder_batch["root"] / "in"), "-o", str(tmp_path / "p")])
    assert main_packet(args) == 0
    assert "seed" in capsys.readouterr().out


# --------------------------------------------------------------------------- LMS files

#: The instructor's roster: the grader's columns (student, track) and the optional name and
#: email. Baker's email is typed in capitals; Chen has none; Evans gave a private email that
#: Canvas does not know; Gus is missing.
ROSTER = """student,track,name,email
stu_adams,Cloud Titan,Ada Adams,ada.adams@uni.example
stu_baker,Edge Guardian,Bo Baker,BO.Baker@uni.example
stu_chen,Cloud Titan,Cy Chen,
stu_diaz,Mobile Nomad,Dee Diaz,dee.diaz@uni.example
stu_evans,Tiny Pioneer,Eve Evans,eve@home.example
stu_fox,Cloud Titan,Flo Fox,flo.fox@uni.example
"""

#: A Canvas gradebook export as Canvas writes it (Grades > Export, with SIS ids): the identity
#: columns, two assignments titled "Title (id)", the read-only totals, the "Points Possible"
#: row, students sorted by sortable name, and the Test Student last. Chen's SIS User ID is
#: the grader's id; Hill never submitted.
CANVAS_TOTALS = [
    f"{group}{kind}"
    for group in ("Assignments ", "")
    for kind in ("Current Score", "Unposted Current Score", "Final Score", "Unposted Final Score")
]
CANVAS_EXPORT = "\n".join(
    [
        ",".join(
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
            + ["Week 1 Check-in (88101)", "Operations at Scale (88102)", *CANVAS_TOTALS]
        ),
        "    Points Possible,,,,,5.00,46.00" + ",(read only)" * 8,
        '"Adams, Ada",4101,A0001,ada.adams@uni.example,ML Systems 01,5.00,' + ",100.00" * 8,
        '"Baker, Bo",4102,A0002,bo.baker@uni.example,ML Systems 01,4.00,' + ",80.00" * 8,
        '"Chen, Cy",4103,stu_chen,cy.chen@uni.example,ML Systems 02,5.00,' + ",100.00" * 8,
        '"Diaz, Dee",4104,A0004,dee.diaz@uni.example,ML Systems 02,3.00,' + ",60.00" * 8,
        '"Evans, Eve",4105,A0005,eve.evans@uni.example,ML Systems 02,5.00,' + ",100.00" * 8,
        '"Fox, Flo",4106,A0006,flo.fox@uni.example,ML Systems 01,5.00,' + ",100.00" * 8,
        '"Hill, Hal",4108,A0008,hal.hill@uni.example,ML Systems 01,,' + "," * 8,
        '"Student, Test",4199,,3f9c2a7be1d04c8e,ML Systems 01,,' + "," * 8,
    ]
)


def _expected_total(key: str) -> Fraction | None:
    """A submission's final total from the test's own numbers; None while anything is pending."""
    if key == UNREADABLE:
        return None
    manual = [_expected_manual(FILLED[key], q) for q in MANUAL]
    if any(m is None for m in manual):
        return None
    return sum(_auto_scores(key).values(), Fraction(0)) + sum(manual, Fraction(0))


@pytest.fixture
def lms_inputs(folder_batch, tmp_path):
    packet = folder_batch["root"] / "packet"
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "canvas.csv").write_bytes(b"\xef\xbb\xbf" + CANVAS_EXPORT.encode())  # Canvas's BOM
    (tmp_path / "out").mkdir()
    sheet = _fill(packet / "scores.csv", FILLED, out=tmp_path / "out" / "scores.csv")
    return {"sheet": sheet, "key": packet / "key.json", "dir": tmp_path}


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_canvas_and_moodle_files_match_students_through_the_export_and_roster(lms_inputs, capsys):
    inputs = lms_inputs["dir"]
    parser = add_import_arguments(argparse.ArgumentParser())
    args = parser.parse_args(
        [
            str(lms_inputs["sheet"]),
            "--key",
            str(lms_inputs["key"]),
            "--roster",
            str(inputs / "roster.csv"),
            "--canvas-export",
            str(inputs / "canvas.csv"),
            "--canvas-assignment-id",
            "88102",
            "--moodle",
        ]
    )
    assert main_import(args) == 0
    out = capsys.readouterr().out

    canvas = _csv_rows(inputs / "out" / "canvas-gradebook.csv")
    # Canvas's identity columns, one column for the lab titled as the export titles it.
    assert canvas[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Operations at Scale (88102)",
    ]
    assert canvas[1] == ["    Points Possible", "", "", "", "", str(TOTAL_POINTS)]
    # Rows carry Canvas's own identity, in the export's order: adams and diaz by login (the
    # roster's email), baker by login whatever the case, chen by SIS User ID (his grader id).
    identities = {
        "stu_adams": ["Adams, Ada", "4101", "A0001", "ada.adams@uni.example", "ML Systems 01"],
        "stu_baker": ["Baker, Bo", "4102", "A0002", "bo.baker@uni.example", "ML Systems 01"],
        "stu_chen": ["Chen, Cy", "4103", "stu_chen", "cy.chen@uni.example", "ML Systems 02"],
        "stu_diaz": ["Diaz, Dee", "4104", "A0004", "dee.diaz@uni.example", "ML Systems 02"],
    }
    assert [r[:5] for r in canvas[2:]] == list(identities.values())
    for row, key in zip(canvas[2:], identities, strict=True):
        assert Fraction(row[5]) == _expected_total(key)
    # Never silently dropped: evans (an email Canvas does not know), fox (Reflection 2 half
    # graded) and gus (no notebook, no result) are listed; so are the Canvas students
    # without a grade here, and the Test Student is not one of them.
    assert "Canvas: not in the file (3):" in out
    assert "eve@home.example" in out and "no Canvas student has this id or email" in out
    assert "Flo Fox" in out and "not graded yet (r2_sequential)" in out
    assert "stu_gus: no Canvas student" in out
    assert "Canvas students without a graded submission here (2; no grade written)" in out
    assert "Evans, Eve (eve.evans@uni.example, A0005)" in out and "Hill, Hal" in out
    assert "Student, Test" not in out

    moodle = _csv_rows(inputs / "out" / "moodle-grades.csv")
    assert moodle[0] == ["Email address", "Operations at Scale"]
    by_email = {
        "ada.adams@uni.example": "stu_adams",
        "BO.Baker@uni.example": "stu_baker",
        "dee.diaz@uni.example": "stu_diaz",
        "eve@home.example": "stu_evans",
    }
    assert [r[0] for r in moodle[1:]] == list(by_email)
    for email, total in moodle[1:]:
        assert Fraction(total) == _expected_total(by_email[email])
    assert "Moodle: not in the file (3):" in out and "Cy Chen (stu_chen): no email address" in out
    assert 'map from "Email address" to "useremail"' in out

    # The full CSV keeps every student, named from the roster where the grader had no name.
    with (inputs / "out" / "combined-gradebook.csv").open() as f:
        combined = {r["student_key"]: r for r in csv.DictReader(f)}
    assert set(combined) == set(STUDENTS)
    assert (combined["stu_adams"]["name"], combined["stu_adams"]["email"]) == (
        "Ada Adams",
        "ada.adams@uni.example",
    )
    assert (combined[UNREADABLE]["name"], combined[UNREADABLE]["email"]) == ("", "")


def test_canvas_file_without_an_export_names_students_from_the_roster(lms_inputs):
    summary = import_scores(
        lms_inputs["sheet"],
        key=lms_inputs["key"],
        roster=lms_inputs["dir"] / "roster.csv",
        canvas=True,
        moodle=True,
        moodle_identifier="idnumber",
        assignment_name="Lab 7: Operations at Scale",
    )
    canvas, moodle = summary.lms
    rows = _csv_rows(canvas.path)
    assert rows[0][5] == "Lab 7: Operations at Scale"  # no id: Canvas matches by title
    assert rows[1] == ["    Points Possible", "", "", "", "", str(TOTAL_POINTS)]
    named = {
        "Ada Adams": ("ada.adams@uni.example", "stu_adams"),
        "Bo Baker": ("BO.Baker@uni.example", "stu_baker"),
        "Cy Chen": ("", "stu_chen"),
        "Dee Diaz": ("dee.diaz@uni.example", "stu_diaz"),
        "Eve Evans": ("eve@home.example", "stu_evans"),
    }
    assert [r[:5] for r in rows[2:]] == [[n, "", "", e, ""] for n, (e, _) in named.items()]
    for row, (_, key) in zip(rows[2:], named.values(), strict=True):
        assert Fraction(row[5]) == _expected_total(key)
    assert any("no Canvas export given" in n for n in canvas.notes)
    assert len(canvas.not_written) == 2  # fox and gus: not graded yet
    # Moodle by ID number: the grader's ids.
    rows = _csv_rows(moodle.path)
    assert rows[0] == ["ID number", "Lab 7: Operations at Scale"]
    graded = [k for k in STUDENTS if _expected_total(k) is not None]
    assert [r[0] for r in rows[1:]] == sorted(graded)
    assert all(Fraction(total) == _expected_total(key) for key, total in rows[1:])


def test_canvas_export_variants_and_conflicts(tmp_path):
    from labtools.ta.canvas_gradebook import read_canvas_export, write_canvas_gradebook
    from labtools.ta.lms_grades import FinalGrade, members

    # Semicolons, LastName/FirstName columns, no SIS User ID (a TA's export), and the row
    # Canvas adds for manually posted assignments.
    export = tmp_path / "export.csv"
    export.write_text(
        "LastName;FirstName;ID;SIS Login ID;Section;Operations at Scale (501);Current Score\n"
        ";;;;;Manual Posting;\n"
        "    Points Possible;;;;;40,00;(read only)\n"
        "Lovelace;Ada;11;ada@uni.example;A;;\n"
        "Turing;Alan;12;alan@uni.example;A;;\n"
    )
    read = read_canvas_export(export)
    assert [(s.name, s.canvas_id, s.sis_user_id, s.sis_login_id) for s in read.students] == [
        ("Lovelace, Ada", "11", "", "ada@uni.example"),
        ("Turing, Alan", "12", "", "alan@uni.example"),
    ]
    assert read.assignments == {"501": ("Operations at Scale (501)", "40,00")}
    # A Gradescope group submission: two SIDs, two names, two emails, paired in order; a
    # second submission by Alan alone. Alan's Canvas row has two submissions: neither is
    # written, both are listed.
    group = {
        "student_key": "g1",
        "student_id": "x1;x2",
        "name": "Ada Lovelace; Alan Turing",
        "email": "ada@uni.example;alan@uni.example",
    }
    alone = {"student_key": "g2", "student_id": "x2", "name": "", "email": "ALAN@uni.example"}
    grades = [FinalGrade(r["student_key"], members(r), "30", "46", ()) for r in (group, alone)]
    assert [m.email for m in grades[0].members] == ["ada@uni.example", "alan@uni.example"]
    written = write_canvas_gradebook(
        grades, tmp_path / "canvas.csv", assignment_name="Operations at Scale", export=read
    )
    rows = _csv_rows(written.path)
    assert rows[0][5] == "Operations at Scale (501)"  # found by title in the export
    assert rows[2:] == [["Lovelace, Ada", "11", "", "ada@uni.example", "A", "30"]]
    assert len(written.not_written) == 2
    assert all("is matched by several submissions" in line for line in written.not_written)
    assert any("40,00 points possible, this lab 46" in n for n in written.notes)
    # Not a Canvas export: refused, naming what it starts with.
    (tmp_path / "bad.csv").write_text("name,email,grade\n")
    with pytest.raises(ValueError, match="canvas export must be a Canvas gradebook export"):
        read_canvas_export(tmp_path / "bad.csv")


def test_the_key_can_stay_outside_the_folder_given_to_the_tas(folder_batch, tmp_path):
    key = tmp_path / "instructor" / "key.json"
    summary = write_packet(
        folder_batch["root"] / "in", tmp_path / "packet", seed=SEED, key_file=key
    )
    assert summary.key == key and not (tmp_path / "packet" / "key.json").exists()
    students = json.loads(key.read_text())["students"]
    for path in (tmp_path / "packet").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not any(s["key"] in text for s in students), path
    sheet = _fill(summary.sheet, FILLED, key=key)
    with pytest.raises(ValueError, match="key must be the packet's key.json"):
        import_scores(sheet, use_nbgrader=False)  # no key beside the sheet
    imported = import_scores(sheet, key=key, batch=folder_batch["root"] / "batch")
    assert {s.student.key for s in imported.sheet.scores} == set(FILLED) - {"stu_gus"}
    with pytest.raises(ValueError, match="key_file must not exist already"):
        write_packet(folder_batch["root"] / "in", tmp_path / "p2", seed=1, key_file=key)


# --------------------------------------------------------------------------- nbgrader


def _nbgrader_submission(release: nbformat.NotebookNode, spec: tuple) -> nbformat.NotebookNode:
    """The nbgrader release with the answers of ``spec`` in its answer cells (by grade id)."""
    track, r1, r2, r3, ledger = spec
    nb = copy.deepcopy(release)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    by_id["answer_track"].source = f'TRACK = "{track}"\nSTUDENT_ID = None\nVARIANT_CODE = None'
    by_id["r1_heterogeneity"].source = r1
    by_id["r2_sequential"].source = r2
    by_id["r3_ledger"].source = f'ledger_justification = """\n{r3}\n"""'
    if ledger:
        nb = replace_definitions(nb, "\n".join(f"{k} = {v}" for k, v in ledger.items()) + "\n")
    return nb


#: nbgrader students and whose answers and scores they take: ann is autograded (full marks),
#: bo is not yet (and his Reflection 2 is half graded), cy is missing from the gradebook
#: (collected but never entered).
NB_STUDENTS = {"nb_ann": "stu_adams", "nb_bo": "stu_fox", "nb_cy": "stu_evans"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    from labtools.nbgrader_course.cells import parse_case_grade_id
    from labtools.nbgrader_course.config import COURSE_ID
    from labtools.nbgrader_course.course import run_nbgrader, submit
    from labtools.release.nbgrader_course import write_course

    root = tmp_path_factory.mktemp("nbgrader")
    folder = root / "course"
    times = {}
    t0 = time.perf_counter()
    write_course(folder, workdir=root / "work")
    times["write_course"] = time.perf_counter() - t0
    times["generate_assignment"] = run_nbgrader(folder, "generate_assignment", "ops_scale")
    release = nbformat.read(folder / "release" / "ops_scale" / "ops_scale.ipynb", as_version=4)
    for student, like in NB_STUDENTS.items():
        submit(folder, student, _nbgrader_submission(release, STUDENTS[like]))
    db_url = f"sqlite:///{folder / 'gradebook.db'}"
    with Gradebook(db_url, COURSE_ID) as gb:
        for student in ("nb_ann", "nb_bo"):
            gb.update_or_create_student(student)
            gb.add_submission("ops_scale", student)
        # ann's test cells as autograde leaves them on a full-marks notebook.
        submitted = gb.find_submission_notebook("ops_scale", "ops_scale", "nb_ann")
        for grade in submitted.grades:
            if parse_case_grade_id(grade.name):
                grade.auto_score = grade.max_score
                grade.needs_manual_grade = False
        gb.db.commit()
    print("\nnbgrader course: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return {"folder": folder, "db_url": db_url, "course_id": COURSE_ID}


def _manual_grades(course: dict) -> dict[tuple[str, str], tuple]:
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(course["db_url"], course["course_id"]) as gb:
        for student in ("nb_ann", "nb_bo"):
            for q in MANUAL:
                grade = gb.find_grade(q, "ops_scale", "ops_scale", student)
                comment = gb.find_comment(q, "ops_scale", "ops_scale", student)
                found[(student, q)] = (
                    grade.manual_score,
                    grade.needs_manual_grade,
                    comment.manual_comment,
                )
    return found


# nbgrader's own Gradebook.add_submission (the fixture's) warns through SQLAlchemy.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_nbgrader_packet_then_import_reads_back_from_the_gradebook(course, tmp_path):
    from labtools.nbgrader_course.course import run_nbgrader

    summary = write_packet(course["folder"], tmp_path / "packet", seed=11)
    assert summary.form == "nbgrader"
    key = json.loads(summary.key.read_text())
    assert key["nbgrader_course"] == str(course["folder"].resolve())
    labels = {s["key"]: s["label"] for s in key["students"]}
    page = summary.html.read_text()
    for student, like in NB_STUDENTS.items():
        for q, text in TEXTS[like].items():
            assert html.escape(text, quote=True) in _card(page, q, labels[student])
    # ann's ledger items come from the gradebook; bo was not autograded yet.
    assert "q5_ledger (autograded, nbgrader gradebook): 4 / 4" in _card(
        page, "r1_heterogeneity", labels["nb_ann"]
    )
    assert "no result given" in _card(page, "r1_heterogeneity", labels["nb_bo"])

    # A bad sheet first: refused whole, the gradebook untouched.
    values = {s: FILLED[like] for s, like in NB_STUDENTS.items()}
    bad = copy.deepcopy(values)
    bad["nb_bo"]["r3.policy"] = "1.01"
    _fill(summary.sheet, bad)
    before = _manual_grades(course)
    with pytest.raises(ScoreSheetError, match="r3.policy must be a number from 0 to 1"):
        import_scores(summary.sheet)
    assert _manual_grades(course) == before
    assert all(score is None for score, _, _ in before.values())

    _fill(summary.sheet, values)
    t0 = time.perf_counter()
    # nbgrader knows students by id only: the roster names them.
    roster = tmp_path / "roster.csv"
    roster.write_text("student,track,name,email\nnb_ann,Cloud Titan,Ann Nadir,ann@uni.example\n")
    result = import_scores(summary.sheet, roster=roster, moodle=True)
    print(f"\nimport into nbgrader: {time.perf_counter() - t0:.2f} s")
    assert result.nbgrader is not None and result.nbgrader.missing_students == ("nb_cy",)
    after = _manual_grades(course)
    for student in ("nb_ann", "nb_bo"):
        given = values[student]
        for q in MANUAL:
            score, needs_manual, comment = after[(student, q)]
            expected = _expected_manual(given, q)
            if expected is None:  # bo's Reflection 2 is half graded: not written
                assert (score, needs_manual, comment) == (None, True, None)
                continue
            assert Fraction(score) == expected and needs_manual is False
            for item in MANUAL[q]["items"]:
                awarded = Fraction(given[item["id"]].replace(",", "."))
                assert f"[{float(awarded):g}/{item['points']:g}] {item['id']}: " in comment
            if given.get(f"{q}.comment"):
                assert comment.endswith("TA: " + given[f"{q}.comment"])

    # nbgrader's own export sees the manual scores: ann's raw score is 36 autograded
    # points plus her written ones.
    t0 = time.perf_counter()
    run_nbgrader(course["folder"], "export")
    print(f"nbgrader export: {time.perf_counter() - t0:.1f} s")
    with (course["folder"] / "grades.csv").open() as f:
        exported = {r["student_id"]: r for r in csv.DictReader(f)}
    ann_written = sum(_expected_manual(values["nb_ann"], q) for q in MANUAL)
    assert Fraction(exported["nb_ann"]["raw_score"]) == AUTO_POINTS + ann_written

    # The combined gradebook takes the autograded scores from nbgrader's gradebook.
    with result.combined.open() as f:
        rows = {r["student_key"]: r for r in csv.DictReader(f)}
    assert Fraction(rows["nb_ann"]["auto_total"]) == AUTO_POINTS
    assert Fraction(rows["nb_ann"]["total"]) == AUTO_POINTS + ann_written
    assert rows["nb_ann"]["pending"] == ""
    assert rows["nb_bo"]["auto_total"] == "" and "autograder" in rows["nb_bo"]["pending"]
    assert rows["nb_cy"]["pending"].endswith("autograder")
    assert (rows["nb_ann"]["name"], rows["nb_ann"]["email"]) == ("Ann Nadir", "ann@uni.example")
    assert (rows["nb_bo"]["name"], rows["nb_bo"]["email"]) == ("", "")
    (moodle,) = result.lms
    assert _csv_rows(moodle.path) == [
        ["Email address", "Operations at Scale"],
        ["ann@uni.example", rows["nb_ann"]["total"]],
    ]
