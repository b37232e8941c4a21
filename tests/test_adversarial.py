"""Adversarial and broken submissions through the real grader, each with its exact outcome.

The corpus is ``tests/adversarial/``: one file per submission, plain Python, read here with
:func:`runpy.run_path`. Each file's docstring says what the submission does and why it
expects what it expects; its globals say how to make it and what must come out:

``GROUP``
    The notebook it joins. Submissions of one group are applied to one copy of the solution
    notebook (full marks, 36 autograded points) and graded together, in one sandboxed kernel,
    when their effects cannot interact; each keeps its own assertions. ``""``: a stand-alone
    submission (a broken upload) that must never reach a kernel.
``CELLS``
    ``(anchor, source)`` pairs: a code cell inserted after the first solution cell containing
    ``anchor`` (``""``: at the end). ``@SOURCE@``, ``@RESULTS@``, ``@SUBMISSION@``, ``@REPO@``,
    ``@SECRET@``, ``@ENV_SECRET@`` and ``@MARKER@`` stand for the real paths and secrets of this
    run, as if they had leaked to the student.
``edit(nb)``, ``package(folder, notebook_bytes, layout)``, ``submission(folder, layout)``
    Recipes: change the notebook in place (cells it touches are tagged with
    ``metadata["adversarial"]``); write the group's submission folder (default: the notebook
    as ``ops_scale.ipynb``); write a stand-alone submission.
``SCORES``
    Questions this submission owns, with their exact expected scores. Every question of a
    group that no submission owns must keep full marks ("the honest parts keep their
    points"); ``FREE`` lists owned questions whose score is not asserted.
``CELL_PROBLEM`` (``CELL_PROBLEM_OPTIONAL``)
    A phrase the summary's problem naming each inserted or tagged cell must contain;
    ``None``: no problem may name it; optional: the cell may go unnamed.
``HONEST_CELLS_MAY_FAIL``
    Cells of the solution may fail (a deleted definition); otherwise every problem in the
    summary must name a cell of an attack.
``PHRASES``
    ``"summary"`` or a question name -> phrases its text must contain.
``PROBES``, ``PROBES_EXCLUDE``
    Globals the grader reads from the kernel after grading (what an attack found) and their
    exact expected value, or strings their JSON must not contain.
``RESULTS_EXCLUDE``, ``SIDE_EFFECTS_ABSENT``
    Strings ``results.json`` must not contain; paths that must not exist after grading.
``LIMITS``
    Sandbox limits of the group, over the corpus defaults (5 s per cell, 120 s in all).
``CALL_BUDGET_S``
    Seconds the student's functions may run within one question's tests, for the group
    (the corpus default is 12 s, the grader's is 30 s: the solution needs under 1 s).

For every graded submission the tests also check: the Gradescope schema; no hidden test line
(:func:`labtools.release.release_scan.hidden_test_lines`) anywhere in ``results.json``; no
internal error of the grader; the grader's files byte for byte unchanged; nothing but
``results.json`` in the results folder.

Expected values come from the corpus files, derived by hand from what each submission does
and what each test case checks; none is copied from a run of the grader. A test that fails
here marks a hole in the grader (see the corpus file's docstring for the correct outcome).
The grader is called as Gradescope's entry point calls it (``grade_submission`` with
``load_grading_config(source, results_dir=results)`` in a simulated ``/autograder`` layout),
with a sandbox whose limits keep timeouts short.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import pickle
import runpy
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from student_text import grader_internals

from labtools.paths import NOTEBOOK_NAME, REPO, SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK
from labtools.release.release_scan import hidden_test_lines

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="the grading sandbox switches user and creates namespaces: run as root (CI does)",
    ),
]

CORPUS_DIR = Path(__file__).with_name("adversarial")
#: The corpus's sandbox: short timeouts, so hangs cost seconds; the rest as for grading.
DEFAULT_LIMITS = {"cell_timeout_s": 5.0, "total_timeout_s": 120.0, "interrupt_grace_s": 2.0}
#: The corpus's budget of a question's calls (GradingConfig.question_call_budget_s): a
#: function that hangs when the grader calls it is stopped three times (after 5, 10 and 15
#: s, a public case, another, a hidden one), not six.
DEFAULT_CALL_BUDGET_S = 12.0
#: The grader's environment holds this secret while grading; no kernel may read it.
ENV_SECRET_NAME = "OPS_LAB_ADVERSARIAL_SECRET"
STANDALONE = ""

_KNOWN_GLOBALS = {
    "GROUP",
    "CELLS",
    "SCORES",
    "FREE",
    "CELL_PROBLEM",
    "CELL_PROBLEM_OPTIONAL",
    "HONEST_CELLS_MAY_FAIL",
    "PHRASES",
    "PROBES",
    "PROBES_EXCLUDE",
    "RESULTS_EXCLUDE",
    "SIDE_EFFECTS_ABSENT",
    "LIMITS",
    "CALL_BUDGET_S",
}


# ----------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Attack:
    """One corpus file, read."""

    name: str
    group: str
    cells: tuple[tuple[str, str], ...] = ()
    edit: Callable[[Any], None] | None = None
    package: Callable[..., None] | None = None
    submission: Callable[..., None] | None = None
    scores: dict[str, float] = field(default_factory=dict)
    free: tuple[str, ...] = ()
    cell_problem: str | None = None
    cell_problem_optional: bool = False
    honest_cells_may_fail: bool = False
    phrases: dict[str, list[str]] = field(default_factory=dict)
    probes: dict[str, Any] = field(default_factory=dict)
    probes_exclude: dict[str, list[str]] = field(default_factory=dict)
    results_exclude: tuple[str, ...] = ()
    side_effects_absent: tuple[str, ...] = ()
    limits: dict[str, float] = field(default_factory=dict)
    call_budget_s: float | None = None

    @property
    def group_key(self) -> str:
        """Submissions graded together share a key; a stand-alone one has its own."""
        return self.group or f"standalone:{self.name}"


def _load(path: Path) -> Attack:
    ns = runpy.run_path(str(path))
    unknown = {k for k in ns if k.isupper() and not k.startswith("_")} - _KNOWN_GLOBALS
    if unknown:  # a typo would silently drop an expectation
        raise ValueError(f"{path.name}: unknown corpus globals {sorted(unknown)}")
    if not (ns.get("__doc__") or "").strip():
        raise ValueError(f"{path.name}: say in a docstring what it does and why it expects it")
    attack = Attack(
        name=path.stem,
        group=ns["GROUP"],
        cells=tuple(ns.get("CELLS", ())),
        edit=ns.get("edit"),
        package=ns.get("package"),
        submission=ns.get("submission"),
        scores=dict(ns.get("SCORES", {})),
        free=tuple(ns.get("FREE", ())),
        cell_problem=ns.get("CELL_PROBLEM"),
        cell_problem_optional=bool(ns.get("CELL_PROBLEM_OPTIONAL", False)),
        honest_cells_may_fail=bool(ns.get("HONEST_CELLS_MAY_FAIL", False)),
        phrases=dict(ns.get("PHRASES", {})),
        probes=dict(ns.get("PROBES", {})),
        probes_exclude=dict(ns.get("PROBES_EXCLUDE", {})),
        results_exclude=tuple(ns.get("RESULTS_EXCLUDE", ())),
        side_effects_absent=tuple(ns.get("SIDE_EFFECTS_ABSENT", ())),
        limits=dict(ns.get("LIMITS", {})),
        call_budget_s=ns.get("CALL_BUDGET_S"),
    )
    if (attack.group == STANDALONE) != (attack.submission is not None):
        raise ValueError(f"{path.name}: a stand-alone submission needs submission(), only it")
    return attack


ATTACKS = [_load(p) for p in sorted(CORPUS_DIR.glob("*.py"))]
GROUPS: dict[str, list[Attack]] = {}
for _attack in ATTACKS:
    GROUPS.setdefault(_attack.group_key, []).append(_attack)


# ----------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class Layout:
    """A simulated ``/autograder`` folder for one group, and what its attacks may know."""

    root: Path
    secret: str
    env_secret: str
    solution: nbformat.NotebookNode
    blank: nbformat.NotebookNode
    repo: Path = REPO

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def marker(self) -> Path:
        """A file only a loaded pickle would create."""
        return self.root / "pickle-was-loaded"

    @property
    def solution_bytes(self) -> bytes:
        return nbformat.writes(self.solution).encode()

    def fill(self, text: str) -> str:
        """Put this run's real paths and secrets in place of the placeholders."""
        for key, value in {
            "@SOURCE@": self.source,
            "@RESULTS@": self.results,
            "@SUBMISSION@": self.submission,
            "@REPO@": self.repo,
            "@SECRET@": self.secret,
            "@ENV_SECRET@": self.env_secret,
            "@MARKER@": self.marker,
        }.items():
            text = text.replace(key, str(value))
        return text


@dataclass
class Graded:
    """What grading one group produced, and what the tests need to judge it."""

    attacks: list[Attack]
    layout: Layout
    notebook: nbformat.NotebookNode | None
    results: dict[str, Any]
    problems: list[str]
    observed: dict[str, Any]
    digest_before: dict[str, str]
    digest_after: dict[str, str]
    kernel_started: bool
    elapsed_s: float
    protections: str

    def score(self, question: str) -> float:
        return next(float(t["score"]) for t in self.results["tests"] if t["name"] == question)

    def output(self, question: str) -> str:
        if question == "summary":
            return self.results["output"]
        return next(t["output"] for t in self.results["tests"] if t["name"] == question)

    def tagged_cells(self, name: str | None = None) -> list[int]:
        """1-based numbers of the cells an attack inserted or touched (as the grader counts)."""
        if self.notebook is None:
            return []
        return [
            i + 1
            for i, cell in enumerate(self.notebook.cells)
            if cell.metadata.get("adversarial") and name in (None, cell.metadata["adversarial"])
        ]

    def cell_problems(self, number: int) -> list[str]:
        """Problem lines of the summary that name cell ``number``."""
        prefix = f"- Cell {number} (`"
        return [line for line in self.results["output"].splitlines() if line.startswith(prefix)]


def _compose(attacks: list[Attack], layout: Layout) -> nbformat.NotebookNode:
    """The solution with every attack of a group applied: edits first, then inserted cells."""
    nb = copy.deepcopy(layout.solution)
    for attack in attacks:
        if attack.edit is not None:
            attack.edit(nb)
    for attack in attacks:
        for anchor, source in attack.cells:
            cell = nbformat.v4.new_code_cell(layout.fill(source).strip("\n"))
            cell.metadata["adversarial"] = attack.name
            if not anchor:
                nb.cells.append(cell)
                continue
            at = next(
                (
                    i
                    for i, c in enumerate(nb.cells)
                    if c.cell_type == "code"
                    and anchor in c.source
                    and not c.metadata.get("adversarial")
                ),
                None,
            )
            if at is None:
                raise KeyError(f"{attack.name}: no solution cell contains {anchor!r}")
            at += 1  # after the anchor and after cells inserted there before, in corpus order
            while at < len(nb.cells) and nb.cells[at].metadata.get("adversarial"):
                at += 1
            nb.cells.insert(at, cell)
    nbformat.validate(nb)
    return nb


def _digest(folder: Path) -> dict[str, str]:
    """Content and mode of every file under ``folder``."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        found[str(path.relative_to(folder))] = f"{content} {path.stat().st_mode:o}"
    return found


def _observing(factory: Callable, names: set[str], observed: dict[str, Any]) -> Callable:
    """A kernel factory that, once the grader is done, reads the attacks' probe globals."""

    @contextmanager
    def open_kernel(job: Path, config: Any) -> Iterator[Any]:
        with factory(job, config) as kernel:
            try:
                yield kernel
            finally:
                observed["protections"] = kernel.protections.summary()
                for name in sorted(names):
                    observed[name] = kernel.get(name)

    return open_kernel


def _refusing(started: list[bool]) -> Callable:
    """A kernel factory for submissions that must never reach a kernel: it records a start."""

    @contextmanager
    def open_kernel(job: Path, config: Any) -> Iterator[Any]:
        started.append(True)
        raise RuntimeError("a kernel was started for a submission that has no notebook")
        yield  # pragma: no cover

    return open_kernel


def _grade_group(key: str, base: Path, source: Path) -> Graded:
    from labtools.grading.grading_kernel import sandbox_kernel_factory
    from labtools.grading.harness import grade_submission, load_grading_config
    from labtools.sandbox import SandboxLimits

    attacks = GROUPS[key]
    root = base / key.replace(":", "-")
    root.mkdir()
    layout = Layout(
        root=root,
        secret=f"adv-token-{secrets.token_hex(12)}",
        env_secret=f"adv-env-{secrets.token_hex(12)}",
        solution=nbformat.read(SOLUTION_NOTEBOOK, as_version=4),
        blank=nbformat.read(STUDENT_NOTEBOOK, as_version=4),
    )
    # A fresh copy of the built autograder source per group, with a fake credential in its
    # config, as an instructor might leave one.
    shutil.copytree(source, layout.source)
    config_path = layout.source / "ops_lab.json"
    data = json.loads(config_path.read_text())
    data.update(token=layout.secret, gradescope_api_key=layout.secret)
    config_path.write_text(json.dumps(data, indent=2))
    layout.submission.mkdir()
    layout.results.mkdir()

    notebook = None
    observed: dict[str, Any] = {}
    started: list[bool] = []
    if key.startswith("standalone:"):
        attacks[0].submission(layout.submission, layout)
        factory = _refusing(started)
    else:
        notebook = _compose(attacks, layout)
        packagers = [a for a in attacks if a.package is not None]
        assert len(packagers) <= 1, f"group {key}: one packaging per group"
        if packagers:
            packagers[0].package(layout.submission, nbformat.writes(notebook).encode(), layout)
        else:
            nbformat.write(notebook, layout.submission / NOTEBOOK_NAME)
        limits = dict(DEFAULT_LIMITS)
        for attack in attacks:
            limits.update(attack.limits)
        probes = {n for a in attacks for n in (*a.probes, *a.probes_exclude)}
        factory = _observing(
            sandbox_kernel_factory(limits=SandboxLimits(**limits)), probes, observed
        )
        started.append(True)

    budgets = {a.call_budget_s for a in attacks if a.call_budget_s is not None}
    assert len(budgets) <= 1, f"group {key}: one call budget per group"
    config = dataclasses.replace(
        load_grading_config(layout.source, results_dir=layout.results),
        question_call_budget_s=budgets.pop() if budgets else DEFAULT_CALL_BUDGET_S,
    )
    before = _digest(layout.source)
    os.environ[ENV_SECRET_NAME] = layout.env_secret
    start = time.monotonic()
    try:
        report = grade_submission(
            layout.submission, layout.results / "results.json", config, kernel_factory=factory
        )
    finally:
        os.environ.pop(ENV_SECRET_NAME, None)
    elapsed = time.monotonic() - start
    return Graded(
        attacks=attacks,
        layout=layout,
        notebook=notebook,
        results=json.loads((layout.results / "results.json").read_text()),
        problems=report.problems,
        observed=observed,
        digest_before=before,
        digest_after=_digest(layout.source),
        kernel_started=bool(started),
        elapsed_s=elapsed,
        protections=str(observed.get("protections", report.protections)),
    )


@pytest.fixture(scope="module")
def grade(built, tmp_path_factory) -> Iterator[Callable[[str], Graded]]:
    """Grade a group on first use (each group once per module), then reuse its results."""
    base = tmp_path_factory.mktemp("adversarial")
    cache: dict[str, Graded] = {}

    def get(key: str) -> Graded:
        if key not in cache:
            cache[key] = _grade_group(key, base, built.autograder_source)
        return cache[key]

    yield get
    timings = ", ".join(f"{k} {g.elapsed_s:.1f} s" for k, g in cache.items())
    print(f"\nadversarial corpus, grading time per group: {timings}")


@pytest.fixture(scope="module")
def secret_lines(autograder_tests) -> set[str]:
    return hidden_test_lines(autograder_tests)


def _context(g: Graded) -> str:
    """What a failing assertion shows: scores and the summary."""
    scores = {t["name"]: t["score"] for t in g.results["tests"]}
    return f"scores {scores}\nsandbox: {g.protections}\nsummary:\n{g.results['output']}"


KERNEL_ATTACKS = [a for a in ATTACKS if a.group != STANDALONE]
STANDALONE_ATTACKS = [a for a in ATTACKS if a.group == STANDALONE]
KERNEL_GROUPS = sorted(k for k in GROUPS if not k.startswith("standalone:"))
BY_NAME = {"ids": lambda a: a.name}


# ----------------------------------------------------------------------------- per submission


@pytest.mark.parametrize("attack", ATTACKS, **BY_NAME)
def test_owned_questions_score_exactly_as_expected(attack, grade):
    g = grade(attack.group_key)
    for question, expected in attack.scores.items():
        assert g.score(question) == pytest.approx(expected), (
            f"{question}: got {g.score(question)}, expected {expected}\n{g.output(question)}\n"
            + _context(g)
        )


@pytest.mark.parametrize("attack", KERNEL_ATTACKS, **BY_NAME)
def test_each_attack_cell_is_named_as_expected(attack, grade):
    g = grade(attack.group_key)
    numbers = g.tagged_cells(attack.name)
    assert numbers or not (attack.cells or attack.cell_problem), attack.name
    for number in numbers:
        lines = g.cell_problems(number)
        if attack.cell_problem is None:
            assert not lines, f"cell {number} should not be reported\n" + _context(g)
        elif attack.cell_problem_optional:
            assert all(attack.cell_problem in line for line in lines), _context(g)
        else:
            assert any(attack.cell_problem in line for line in lines), (
                f"cell {number}: expected a problem with {attack.cell_problem!r}\n" + _context(g)
            )


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.phrases], **BY_NAME)
def test_messages_say_what_happened(attack, grade):
    g = grade(attack.group_key)
    for where, phrases in attack.phrases.items():
        text = g.output(where)
        for phrase in phrases:
            assert phrase in text, f"{where}: missing {phrase!r} in\n{text}\n" + _context(g)


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.probes or a.probes_exclude], **BY_NAME)
def test_what_the_attack_found_in_the_kernel(attack, grade):
    g = grade(attack.group_key)
    for name, expected in attack.probes.items():
        found = g.observed[name]
        assert found.ok, f"{name} could not be read: {found.error}"
        assert found.value == expected, f"{name} = {found.value!r}"
    for name, forbidden in attack.probes_exclude.items():
        found = g.observed[name]
        assert found.ok, f"{name} could not be read: {found.error}"
        text = json.dumps(found.value)
        leaked = [s for s in map(g.layout.fill, forbidden) if s in text]
        assert not leaked, f"{name} holds {leaked}: {text[:2000]}"


@pytest.mark.parametrize(
    "attack", [a for a in ATTACKS if a.results_exclude or a.side_effects_absent], **BY_NAME
)
def test_no_trace_of_the_attack_in_results_or_on_disk(attack, grade):
    g = grade(attack.group_key)
    text = json.dumps(g.results)
    leaked = [s for s in map(g.layout.fill, attack.results_exclude) if s in text]
    assert not leaked, f"results.json holds {leaked}"
    present = [p for p in map(g.layout.fill, attack.side_effects_absent) if Path(p).exists()]
    assert not present, f"side effects on disk: {present}"


@pytest.mark.parametrize("attack", STANDALONE_ATTACKS, **BY_NAME)
def test_broken_upload_gets_zero_and_no_kernel(attack, grade, built):
    g = grade(attack.group_key)
    questions = json.loads((built.autograder_source / "ops_lab.json").read_text())["questions"]
    assert not g.kernel_started
    assert g.results["score"] == 0
    graded = {t["name"]: t for t in g.results["tests"] if t["name"] != "Public Tests"}
    assert set(graded) == set(questions)
    assert all(t["score"] == 0 and t["max_score"] == questions[n] for n, t in graded.items())


# ----------------------------------------------------------------------------- per graded notebook


@pytest.mark.parametrize("key", KERNEL_GROUPS)
def test_honest_parts_keep_their_points(key, grade):
    g = grade(key)
    owned = {q for a in g.attacks for q in (*a.scores, *a.free)}
    for test in g.results["tests"]:
        if test["name"] != "Public Tests" and test["name"] not in owned:
            assert test["score"] == test["max_score"], (
                f"{test['name']} lost points\n{test['output']}\n" + _context(g)
            )


@pytest.mark.parametrize("key", [k for k in KERNEL_GROUPS if not any(a.free for a in GROUPS[k])])
def test_total_is_the_sum_of_expected_scores(key, grade):
    g = grade(key)
    owned = {q: s for a in g.attacks for q, s in a.scores.items()}
    expected = sum(
        owned.get(t["name"], t["max_score"])
        for t in g.results["tests"]
        if t["name"] != "Public Tests"
    )
    assert g.results["score"] == pytest.approx(expected), _context(g)


@pytest.mark.parametrize(
    "key", [k for k in KERNEL_GROUPS if not any(a.honest_cells_may_fail for a in GROUPS[k])]
)
def test_no_honest_cell_is_blamed(key, grade):
    g = grade(key)
    attack_cells = set(g.tagged_cells())
    blamed = [
        line
        for line in g.results["output"].splitlines()
        if line.startswith("- Cell ") and int(line.split()[2]) not in attack_cells
    ]
    assert not blamed, f"honest cells reported: {blamed}\n" + _context(g)


@pytest.mark.parametrize("key", sorted(GROUPS))
def test_results_follow_gradescopes_schema(key, grade):
    g = grade(key)
    r = g.results
    assert isinstance(r["score"], (int, float)) and isinstance(r["output"], str)
    for test in r["tests"]:
        assert {"name", "score", "max_score", "visibility", "output"} <= set(test)
        assert 0 <= test["score"] <= test["max_score"] or test["name"] == "Public Tests"
    assert r["score"] == pytest.approx(sum(t["score"] for t in r["tests"]))
    assert "internal error" not in r["output"], r["output"]


@pytest.mark.parametrize("key", sorted(GROUPS))
def test_no_hidden_test_text_reaches_the_student(key, grade, secret_lines):
    g = grade(key)
    text = " ".join(json.dumps(g.results).split())
    assert not [s for s in secret_lines if s in text]


@pytest.mark.parametrize("key", sorted(GROUPS))
def test_no_grader_internals_reach_the_student(key, grade):
    # A "- Cell N ..." problem quotes the student's own error, paths the attack built included.
    g = grade(key)
    texts = [g.results["output"], *(t.get("output", "") for t in g.results["tests"])]
    shown = [
        line
        for text in texts
        for line in grader_internals(text)
        if not line.lstrip().startswith("- Cell ")
    ]
    assert not shown, shown


@pytest.mark.parametrize("key", sorted(GROUPS))
def test_grader_files_are_untouched(key, grade):
    g = grade(key)
    assert g.digest_after == g.digest_before
    assert sorted(p.name for p in g.layout.results.iterdir()) == ["results.json"]


def test_the_crafted_pickle_creates_its_marker_when_loaded(tmp_path):
    """Control for ``crafted_pickle``: its marker check can fail, since loading does create it."""
    attack = next(a for a in ATTACKS if a.name == "crafted_pickle")
    blank = nbformat.v4.new_notebook()
    layout = Layout(root=tmp_path, secret="", env_secret="", solution=blank, blank=blank)
    layout.submission.mkdir()
    attack.package(layout.submission, b"{}", layout)
    assert not layout.marker.exists()
    pickle.loads((layout.submission / ".OTTER_LOG").read_bytes()).close()
    assert layout.marker.exists()
