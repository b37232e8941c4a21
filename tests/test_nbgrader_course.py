"""The nbgrader course: generated from the master, graded in the sandbox, scored as Gradescope.

Fast tests check the generator, the cell formats and the config against independent
statements of what they must be (Otter Assign's own conversions, nbgrader's own defaults and
validator, the rubric). The slow module fixture runs the whole instructor cycle on a fresh
build in a temporary course: ``generate_assignment``, ``autograde`` (sandboxed), manual scores,
``generate_feedback`` and ``export`` from the command line, and grades the same sample
notebooks through the Gradescope harness for the parity check.
"""

from __future__ import annotations

import ast
import copy
import csv
import html
import json
import math
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import ClearHiddenTests, Execute
from nbgrader_cycle import (
    ATTACKS,
    CYCLE_CELL_TIMEOUT_S,
    HOSTILE_MARKDOWN,
    LIVE_PAYLOADS,
    copy_course,
    sha,
    student_id,
)
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from labtools._toml import tomllib
from labtools.grading.grading_kernel import GRADING_LIMITS
from labtools.nbgrader_course.cells import (
    CODE_STUB,
    CaseSpec,
    case_from_cell,
    case_grade_id,
    nbgrader_metadata,
    parse_case_grade_id,
    render_test_cell,
)
from labtools.nbgrader_course.config import (
    AUTOGRADE_PREPROCESSORS,
    COURSE_ID,
    CourseSettings,
    render_config,
    write_config,
)
from labtools.nbgrader_course.course import submission_from_otter
from labtools.nbgrader_course.execute import SandboxedExecute, resolve_factory
from labtools.nbgrader_course.generate import (
    MasterFormatError,
    check_against_otter,
    generate_source_notebook,
    nbgrader_solution_source,
    released_view,
)
from labtools.paths import MASTER_SOURCE, RUBRIC, SAMPLE_SUBMISSIONS
from labtools.release.master import load_master
from labtools.release.release_scan import hidden_test_lines, scan_release, secret_lines
from labtools.rubric import Rubric, load_rubric
from labtools.selfcheck.samples import sample_submissions

# The graded functions students write, named in the master's prompts (1a..3b).
GRADED_FUNCTIONS = (
    "manual_toil_hours",
    "platform_cost_usd",
    "platform_roi_usd",
    "break_even_models",
    "zero_failure_sample_size",
    "shadow_hours",
    "psi",
    "skew_check",
)


@pytest.fixture(scope="module")
def master() -> nbformat.NotebookNode:
    return load_master()


@pytest.fixture(scope="module")
def generated(master):
    return generate_source_notebook(master, rubric=load_rubric())


@pytest.fixture(scope="module")
def rubric_points() -> dict[str, tuple[float, str]]:
    # Read straight from the TOML, not through labtools.rubric: question -> (points, grader).
    with RUBRIC.open("rb") as f:
        data = tomllib.load(f)
    return {q["name"]: (float(q["points"]), q["graded_by"]) for q in data["question"]}


def _meta(cell) -> dict:
    return cell.metadata["nbgrader"]


def _by_id(nb) -> dict[str, nbformat.NotebookNode]:
    return {_meta(c)["grade_id"]: c for c in nb.cells}


# ------------------------------------------------------------------ cell formats


def test_a_solution_line_becomes_a_region_that_releases_as_otters_stub():
    source = nbgrader_solution_source('TRACK = "Cloud Titan"  # SOLUTION\ntrack = get(TRACK)')
    assert source.splitlines() == [
        "TRACK = (",
        "    # BEGIN SOLUTION",
        '    "Cloud Titan"',
        "    # END SOLUTION",
        ")",
        "track = get(TRACK)",
    ]
    # The solution runs as the master line did, and the release is Otter's `TRACK = ...`.
    assert ast.dump(ast.parse(source)) == ast.dump(
        ast.parse('TRACK = "Cloud Titan"\ntrack = get(TRACK)')
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "a"}
    released = released_view(nbformat.v4.new_notebook(cells=[cell])).cells[0].source
    assert ast.dump(ast.parse(released)) == ast.dump(ast.parse("TRACK = ...\ntrack = get(TRACK)"))


def test_solution_blocks_keep_the_masters_text():
    # nbgrader finds "BEGIN SOLUTION" anywhere, so a block (even inside a string) is kept.
    block = 'x = """\n# BEGIN SOLUTION\nsecret words\n# END SOLUTION\n"""'
    assert nbgrader_solution_source(block) == block


@pytest.mark.parametrize(
    "source, what",
    [
        ("x = 1  # SOLUTION NO PROMPT", "unsupported"),
        ("# BEGIN PROMPT", "unsupported"),
        ("x = 1  # SOLUTION is here", "must end its line"),
        ("# BEGIN SOLUTION\nx = 1", "not closed"),
        ("x = 1\n# END SOLUTION", "without BEGIN"),
        ("# BEGIN SOLUTION NO PROMPT\nx = 1\n# END SOLUTION", "unsupported or nested"),
    ],
)
def test_otter_markup_without_an_nbgrader_equivalent_fails_loudly(source, what):
    with pytest.raises(MasterFormatError, match=what):
        nbgrader_solution_source(source)


def test_a_test_cell_turns_back_into_otters_doctest_body():
    case = CaseSpec(
        code="_r = f({'v': 1})  # noqa: E712\nassert _r == 2",
        hidden=True,
        points=1.5,
        failure_message='f is "wrong" – check it',
    )
    source = render_test_cell("q9_demo", 2, 3, case)
    assert source.splitlines()[0] == (
        "# q9_demo: test 2 of 3 (hidden, 1.5 points); it runs when your notebook is graded."
    )
    back = case_from_cell(source, 1.5)
    # Expected body written by hand in Otter's OK format: comments gone, code unparsed.
    assert back.code == ">>> _r = f({'v': 1})\n>>> assert _r == 2\n"
    assert (back.hidden, back.points, back.failure_message) == (True, 1.5, case.failure_message)
    # The hidden region (code and message) disappears under nbgrader's ClearHiddenTests.
    cell = nbformat.v4.new_code_cell(source)
    ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(cell)
    assert cell.source == source.splitlines()[0]


def test_case_grade_ids_round_trip_and_reject_other_ids():
    assert parse_case_grade_id(case_grade_id("q1a_manual_toil", 12)) == ("q1a_manual_toil", 12)
    for other in ("r1_heterogeneity", "q1a_answer", "q1a_case0", "_case1x", ""):
        assert parse_case_grade_id(other) is None


def test_bad_cell_inputs_are_refused():
    with pytest.raises(ValueError, match="points"):
        nbgrader_metadata("q_case1", grade=True)
    with pytest.raises(ValueError, match="points"):
        nbgrader_metadata("q_readonly1", points=1.0)
    with pytest.raises(ValueError, match="one JSON string"):
        case_from_cell('# On failure: "bad \\x escape"\nx = 1', 1.0)
    with pytest.raises(ValueError, match="one JSON string"):
        case_from_cell('# On failure: "two" "strings"\nx = 1', 1.0)
    with pytest.raises(ValueError, match="kernel_factory"):
        resolve_factory("labtools.grading.grading_kernel.sandbox_kernel_factory", limits=None)


# ------------------------------------------------------------------ generated notebook


def test_every_cell_carries_valid_nbgrader_metadata(generated):
    nb = copy.deepcopy(generated.notebook)
    MetadataValidator().validate_nb(nb)  # nbgrader's own validator (unique ids, points)
    assert all("nbgrader" in c.metadata for c in nb.cells)
    assert all(_meta(c)["schema_version"] == 3 for c in nb.cells)


def test_each_graded_function_has_one_autograded_answer_cell(generated):
    for name in GRADED_FUNCTIONS:
        cells = [
            c
            for c in generated.notebook.cells
            if c.cell_type == "code" and re.search(rf"^def {name}\(", c.source, re.M)
        ]
        assert len(cells) == 1, name
        meta = _meta(cells[0])
        assert meta["solution"] and not meta["grade"] and not meta["locked"], name


def test_points_per_question_are_the_rubrics(generated, rubric_points):
    by_id = _by_id(generated.notebook)
    assert {q.name for q in generated.questions} == set(rubric_points)
    for q in generated.questions:
        points, grader = rubric_points[q.name]
        cells = [by_id[g] for g in q.grade_ids]
        assert math.isclose(sum(_meta(c)["points"] for c in cells), points), q.name
        assert q.manual == (grader == "ta"), q.name
    assert math.isclose(generated.auto_points + generated.manual_points, 46)  # README total


def test_test_cells_are_locked_one_per_otter_case(generated, master):
    by_id = _by_id(generated.notebook)
    # Count the master's test cells per question independently: TEST CONFIG docstrings.
    text = MASTER_SOURCE.read_text()
    blocks = re.split(r"# BEGIN QUESTION\n# name: ", text)[1:]
    expected = {b.split("\n")[0]: b.count("# BEGIN TEST CONFIG") for b in blocks}
    for q in generated.questions:
        assert len(q.grade_ids) == (1 if q.manual else expected[q.name]), q.name
        if q.manual:
            continue
        for k, grade_id in enumerate(q.grade_ids, start=1):
            cell = by_id[grade_id]
            assert grade_id == f"{q.name}_case{k}"
            assert _meta(cell)["grade"] and _meta(cell)["locked"] and not _meta(cell)["solution"]
            hidden = "### BEGIN HIDDEN TESTS" in cell.source
            assert hidden == q.cases[k - 1].hidden
            if hidden:  # the hidden part is what compares against the reference
                assert "labtools.grading.reference_checks" in cell.source


def test_written_answers_are_manually_graded_with_rubric_points(generated, rubric_points):
    by_id = _by_id(generated.notebook)
    for name, cell_type in (
        ("r1_heterogeneity", "markdown"),
        ("r2_sequential", "markdown"),
        ("r3_ledger", "code"),
    ):
        cell = by_id[name]
        meta = _meta(cell)
        assert cell.cell_type == cell_type
        assert meta["grade"] and meta["solution"] and not meta["locked"]
        assert meta["points"] == rubric_points[name][0]


def test_instructions_and_instruments_are_read_only(generated):
    for cell in generated.notebook.cells:
        meta = _meta(cell)
        if cell.cell_type == "markdown" and not meta["solution"]:
            assert meta["locked"] and not meta["grade"]
    instruments = [
        c
        for c in generated.notebook.cells
        if c.cell_type == "code"
        and re.search(
            r"\b(OpsBreakEvenPlot|ShadowModeDashboard|EnsembleTrace|\w+_workbench)\b", c.source
        )
    ]
    assert len(instruments) >= 5
    assert all(_meta(c)["locked"] and not _meta(c)["solution"] for c in instruments)


def test_the_release_view_holds_no_solution_and_no_hidden_test(generated, master):
    released = released_view(generated.notebook)
    text = "\n".join(c.source for c in released.cells)
    assert "BEGIN HIDDEN TESTS" not in text and "labtools" not in text
    assert "BEGIN SOLUTION" not in text
    for cell in released.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)  # every released code cell is valid Python
    # The master's distinctive solution lines (as the release scan defines them) are gone.
    from labtools.release.release_scan import solution_lines

    folded = " ".join(text.split())
    assert not [line for line in solution_lines(load_master(MASTER_SOURCE)) if line in folded]


def test_a_rubric_that_disagrees_with_the_master_is_refused(master):
    rubric = load_rubric()
    changed = Rubric(
        tuple(
            q
            if q.name != "q3a_psi"
            else type(q)(q.name, q.title, q.part, 4.0, q.graded_by, q.items)
            for q in rubric.questions
        )
    )
    with pytest.raises(MasterFormatError, match="q3a_psi"):
        generate_source_notebook(master, rubric=changed)


def test_a_malformed_master_is_refused(master):
    broken = copy.deepcopy(master)
    test_cell = next(c for c in broken.cells if "# BEGIN TEST CONFIG" in c.source)
    test_cell.source = test_cell.source.replace("points: 1\n", "", 1)
    with pytest.raises(MasterFormatError, match="numeric points"):
        generate_source_notebook(broken)
    unclosed = copy.deepcopy(master)
    unclosed.cells = [c for c in unclosed.cells if c.source.strip() != "# END QUESTION"]
    with pytest.raises(MasterFormatError, match="BEGIN QUESTION inside"):
        generate_source_notebook(unclosed)


def test_generated_test_cells_reproduce_otters_test_files(generated, master, autograder_tests):
    assert check_against_otter(generated, master, autograder_tests) == []


def test_a_changed_test_cell_is_caught_by_the_otter_comparison(generated, master, autograder_tests):
    altered = copy.deepcopy(generated)
    cell = _by_id(altered.notebook)["q3a_psi_case2"]
    cell.source = cell.source.replace("> 0.1", "> 0.2")
    assert check_against_otter(altered, master, autograder_tests) == [
        "q3a_psi case 2: the doctest body differs from Otter's"
    ]


# ------------------------------------------------------------------ config


def test_autograde_replaces_only_nbgraders_execute():
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = [import_item(name) for name in AUTOGRADE_PREPROCESSORS]
    assert [SandboxedExecute if p is Execute else p for p in defaults] == ours


def test_config_loads_with_a_sqlite_gradebook_timeouts_and_feedback_without_hidden_tests(
    tmp_path,
):
    path = write_config(tmp_path)
    cfg = PyFileConfigLoader(path.name, path=str(tmp_path)).load_config()
    assert cfg.CourseDirectory.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert cfg.CourseDirectory.course_id == COURSE_ID
    # The per-cell timeout is the Gradescope grader's, for the sandbox and for nbgrader.
    assert cfg.SandboxedExecute.timeout == GRADING_LIMITS.cell_timeout_s == cfg.Execute.timeout
    assert cfg.SandboxedExecute.hidden_paths == [str(tmp_path)]
    assert cfg.ClearSolutions.code_stub == {"python": CODE_STUB}
    feedback = [import_item(p) for p in cfg.GenerateFeedback.preprocessors]
    assert ClearHiddenTests in feedback
    assert set(GenerateFeedback.class_traits()["preprocessors"].default()) <= set(feedback)
    assert cfg.OverwriteCells.add_missing_cells is True


@pytest.mark.parametrize(
    "field, value",
    [
        ("cell_timeout_s", 0),
        ("cell_timeout_s", 1.5),
        ("total_timeout_s", True),
        ("total_timeout_s", None),
        ("course_id", ""),
        ("kernel_factory", "no.colon"),
    ],
)
def test_bad_course_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        CourseSettings(**{field: value})


def test_rendered_config_is_valid_python_naming_the_sandboxed_step():
    text = render_config(CourseSettings(cell_timeout_s=7))
    ast.parse(text)
    assert "c.SandboxedExecute.timeout = 7" in text and "c.Execute.timeout = 7" in text


# ------------------------------------------------------------------ the autograde step


class _InProcessKernel:
    """A stand-in for the sandboxed kernel (the real one runs in the slow tests)."""

    def __init__(self, job: Path) -> None:
        self.ns: dict = {}
        self.ran: list[str] = []
        self.job_notebook = (job / "ops_scale.ipynb").read_text()

    def run_cell(self, code: str):
        import contextlib
        import io

        from labtools.sandbox import CellResult

        self.ran.append(code)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(code, self.ns)
        except Exception as exc:
            return CellResult("error", error_name=type(exc).__name__, error_value=str(exc))
        return CellResult("ok", stdout=out.getvalue())

    def call(self, name: str, *args):
        from labtools.sandbox import CallResult

        return CallResult(True, self.ns[name](*args))

    def get(self, name: str):
        from labtools.sandbox import CallResult

        return CallResult(True, self.ns[name])


def test_the_autograde_step_runs_tests_on_the_trusted_side_only(monkeypatch):
    from contextlib import contextmanager

    from labtools.nbgrader_course import execute
    from labtools.nbgrader_course.execute import TestCellSpec

    public = render_test_cell("q", 1, 2, CaseSpec("assert x == 1", False, 0.5, "x must be 1"))
    hidden = render_test_cell("q", 2, 2, CaseSpec("assert x == 2", True, 1.0, "x must be 2"))
    specs = [
        TestCellSpec("q_case1", "q", 1, case_from_cell(public, 0.5)),
        TestCellSpec("q_case2", "q", 2, case_from_cell(hidden, 1.0)),
    ]

    def cell(source, grade_id, *, grade=False, solution=False, locked=False, points=None):
        new = nbformat.v4.new_code_cell(source)
        new.metadata["nbgrader"] = nbgrader_metadata(
            grade_id, grade=grade, solution=solution, locked=locked, points=points
        )
        return new

    nb = nbformat.v4.new_notebook(
        cells=[
            cell("x = 1", "q_answer", solution=True),
            cell(public, "q_case1", grade=True, locked=True, points=0.5),
            cell(hidden, "q_case2", grade=True, locked=True, points=1.0),
            # A relabelled copy: nbgrader restores the test's source into it, flags aside.
            cell(hidden, "q_case2", locked=True),
            nbformat.v4.new_code_cell("print('hi')"),
        ]
    )
    kernels, seen_limits = [], []

    def factory_maker(path, *, limits):
        seen_limits.append(limits)

        @contextmanager
        def open_kernel(job, config):
            kernels.append(_InProcessKernel(job))
            yield kernels[-1]

        return open_kernel

    monkeypatch.setattr(execute, "load_test_cells", lambda *args: specs)
    monkeypatch.setattr(execute, "resolve_factory", factory_maker)
    resources = {
        "nbgrader": {
            "notebook": "ops_scale",
            "assignment": "a",
            "student": "s",
            "db_url": "sqlite:////nonexistent/gradebook.db",
        }
    }
    SandboxedExecute(timeout=7).preprocess(nb, resources)
    kernel = kernels[0]
    assert seen_limits[0].cell_timeout_s == 7  # the course's timeout reaches the sandbox
    assert "x = 1" in kernel.ran and "print('hi')" in kernel.ran
    for text in (*kernel.ran, kernel.job_notebook):
        assert "assert x == 2" not in text and "x must be 2" not in text
    assert nb.cells[1].outputs[0]["text"] == "public test: passed\n"
    failed = nb.cells[2].outputs[0]
    assert failed["output_type"] == "error" and failed["ename"] == "TestFailed"
    assert failed["traceback"] == ["hidden test: FAILED. x must be 2"]  # no test source
    assert nb.cells[3].outputs == []  # the relabelled copy neither ran nor was scored
    assert nb.cells[4].outputs[0]["text"] == "hi\n"


def test_the_autograde_step_grades_the_rosters_track(monkeypatch, tmp_path):
    from contextlib import contextmanager

    from labtools.nbgrader_course import execute
    from labtools.nbgrader_course.execute import TestCellSpec

    test = render_test_cell("q", 1, 1, CaseSpec("assert TRACK == 'Edge Guardian'", True, 1.0, "x"))
    specs = [TestCellSpec("q_case1", "q", 1, case_from_cell(test, 1.0))]
    track_cell = nbformat.v4.new_code_cell("TRACK = 'Cloud Titan'")
    track_cell.metadata["nbgrader"] = nbgrader_metadata("answer_track", solution=True)
    case_cell = nbformat.v4.new_code_cell(test)
    case_cell.metadata["nbgrader"] = nbgrader_metadata(
        "q_case1", grade=True, locked=True, points=1.0
    )
    nb = nbformat.v4.new_notebook(cells=[track_cell, case_cell])

    def factory_maker(path, *, limits):
        @contextmanager
        def open_kernel(job, config):
            yield _InProcessKernel(job)

        return open_kernel

    monkeypatch.setattr(execute, "load_test_cells", lambda *args: specs)
    monkeypatch.setattr(execute, "resolve_factory", factory_maker)
    roster = tmp_path / "roster.csv"
    roster.write_text("student,track\njdoe,Edge Guardian\n")
    resources = {
        "nbgrader": {
            "notebook": "ops_scale",
            "assignment": "a",
            "student": "jdoe",
            "db_url": "sqlite:////nonexistent/gradebook.db",
        }
    }
    SandboxedExecute(roster=str(roster)).preprocess(nb, resources)
    assert nb.cells[1].outputs[0]["text"] == "hidden test: passed\n"
    note = nb.cells[0].outputs[-1]
    assert note["name"] == "stderr" and "assigned you the track 'Edge Guardian'" in note["text"]


# ------------------------------------------------------------------ Otter -> nbgrader samples


def test_otter_samples_map_into_the_release_by_position(generated):
    release = released_view(generated.notebook)
    partial = next(s for s in sample_submissions() if s.name == "partial")
    mapped = submission_from_otter(partial.notebook, release)
    by_id = _by_id(mapped)
    # partial.py's shadow_hours forgets the fraction: its line is now in the answer cell.
    assert (
        "return n_requests / (request_rate_per_s * 3600)" in by_id["q2b_shadow_hours_answer"].source
    )
    assert "Mobile Nomad" in by_id["answer_track"].source
    for grade_id, cell in _by_id(release).items():
        if not _meta(cell)["solution"]:
            assert by_id[grade_id].source == cell.source, grade_id
    stale = copy.deepcopy(partial.notebook)
    stale_cell = next(c for c in stale.cells if c.source.startswith('print(f"Upstream'))
    stale_cell.source = "print('edited')"
    with pytest.raises(ValueError, match="differs from the Otter notebook"):
        submission_from_otter(stale, release)


# ------------------------------------------------------------------ the whole cycle (slow)


def _page_text(page: Path) -> str:
    """An HTML page's text, whitespace folded (highlighting splits code into many spans)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).split())


@pytest.fixture(scope="module")
def cycle(built, nbgrader_autograded, tmp_path_factory, request):
    """The instructor's whole cycle on a copy of the autograded course (conftest's
    ``nbgrader_autograded``: plain ``nbgrader autograde`` of every sample student), with step
    times, and the Gradescope autograder's scores of the same samples (the self-check's:
    conftest's ``graded_samples``)."""
    from nbgrader.api import Gradebook

    from labtools.nbgrader_course.course import question_scores, run_nbgrader

    course = copy_course(nbgrader_autograded, tmp_path_factory.mktemp("nbgrader") / "course")
    times = dict(nbgrader_autograded["times"])
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db_url, COURSE_ID) as gb:  # a TA's manual score
        grade = gb.find_grade("r1_heterogeneity", "ops_scale", "ops_scale", "partial")
        grade.manual_score = 2.0
        gb.db.commit()
    times["generate_feedback"] = run_nbgrader(course, "generate_feedback", "ops_scale")
    times["export"] = run_nbgrader(course, "export")
    samples = [s for s in sample_submissions() if s.name in nbgrader_autograded["samples"]]
    # Asked for last: another worker may be grading them meanwhile.
    questions = json.loads((built.autograder_source / "ops_lab.json").read_text())["questions"]
    gradescope = {
        g.sample.name: {
            t["name"]: float(t["score"]) for t in g.results["tests"] if t["name"] in questions
        }
        for g in request.getfixturevalue("graded_samples")
    }
    assert set(gradescope) >= {s.name for s in samples}
    print("\nnbgrader cycle step times: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return {
        "course": course,
        "samples": samples,
        "nbgrader": {s: question_scores(course, s) for s in nbgrader_autograded["students"]},
        "gradescope": gradescope,
        "source_hash": nbgrader_autograded["source_hash"],
        "db_url": db_url,
        "times": times,
    }


needs_sandbox = pytest.mark.skipif(
    os.geteuid() != 0, reason="the sandbox switches user: run as root"
)


@pytest.mark.slow
@needs_sandbox
def test_each_question_scores_as_the_gradescope_autograder(cycle, rubric_points):
    auto = [q for q, (_, grader) in rubric_points.items() if grader == "autograder"]
    with (SAMPLE_SUBMISSIONS / "partial.toml").open("rb") as f:
        partial_expected = tomllib.load(f)["expected"]  # derived by hand, question by question
    for sample in cycle["samples"]:
        ours = cycle["nbgrader"][student_id(sample)]
        theirs = cycle["gradescope"][sample.name]
        for q in auto:
            assert ours[q] == pytest.approx(theirs[q], abs=1e-9), (sample.name, q)
            expected = (
                rubric_points[q][0]
                if sample.full_marks
                else (partial_expected if sample.name == "partial" else sample.expected).get(q, 0.0)
            )
            assert ours[q] == pytest.approx(expected, abs=1e-9), (sample.name, q)


@pytest.mark.slow
@needs_sandbox
def test_the_untouched_release_scores_nothing(cycle):
    assert all(score == 0 for score in cycle["nbgrader"]["untouched"].values())
    # An answered written question waits for a TA (None), it is not scored 0.
    assert cycle["nbgrader"]["solution-tiny_pioneer"]["r3_ledger"] is None


@pytest.mark.slow
@needs_sandbox
def test_a_hostile_submission_reaches_neither_source_nor_gradebook(cycle):
    course = cycle["course"]
    # Tampering with test cells changes nothing: the scores are the partial sample's.
    tamperer = {q: s for q, s in cycle["nbgrader"]["tamperer"].items() if q != "r1_heterogeneity"}
    partial = {q: s for q, s in cycle["nbgrader"]["partial"].items() if q != "r1_heterogeneity"}
    assert tamperer == partial
    graded = nbformat.read(course / "autograded" / "tamperer" / "ops_scale" / "ops_scale.ipynb", 4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in graded.cells]
    assert "q2a_zero_failure_case4" in ids  # the deleted test cell was put back and scored
    for name, (_, errors) in ATTACKS.items():
        cell = next(c for c in graded.cells if c.source.startswith(f"# attack: {name}\n"))
        enames = {o.get("ename") for o in cell.outputs if o.output_type == "error"}
        assert enames & errors, (name, cell.outputs)
    loop = next(c for c in graded.cells if c.source.startswith("# attack: endless_loop\n"))
    assert f"within {CYCLE_CELL_TIMEOUT_S} s" in loop.outputs[-1]["evalue"]
    assert sha(course / "source" / "ops_scale" / "ops_scale.ipynb") == cycle["source_hash"]
    from nbgrader.api import Gradebook

    with Gradebook(cycle["db_url"], COURSE_ID) as gb:
        for student in ("tamperer", "partial"):
            grades = gb.find_submission_notebook("ops_scale", "ops_scale", student).grades
            assert all(g.manual_score != 99 for g in grades)


@pytest.mark.slow
@needs_sandbox
def test_feedback_shows_no_hidden_test(cycle, autograder_tests):
    secrets = hidden_test_lines(autograder_tests)
    assert secrets
    for student in cycle["nbgrader"]:
        page = cycle["course"] / "feedback" / student / "ops_scale" / "ops_scale.html"
        text = _page_text(page)
        assert not [s for s in secrets if s in text], student
        # Positive control: a public test line is found the same way.
        assert "assert manual_toil_hours(0, 0.5, ToilParams()) == 0" in text, student
    partial_page = cycle["course"] / "feedback" / "partial" / "ops_scale" / "ops_scale.html"
    text = _page_text(partial_page)
    assert "hidden test: FAILED. zero_failure_sample_size is off by one" in text


@pytest.mark.slow
@needs_sandbox
def test_feedback_runs_no_student_html(cycle):
    page = (cycle["course"] / "feedback" / "tamperer" / "ops_scale" / "ops_scale.html").read_text()
    assert "Heterogeneity hurts" in page  # the answer itself is shown
    assert not [p for p in LIVE_PAYLOADS if p in page]


def test_the_feedback_exporter_sanitizes_student_markdown():
    from labtools.nbgrader_course.feedback import SanitizedHTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN)])
    page, _ = SanitizedHTMLExporter(template_name="classic").from_notebook_node(nb)
    assert "<strong>O(N^2)</strong>" in page and "click me" in page
    assert not [p for p in LIVE_PAYLOADS if p in page]
    # Positive control: nbconvert's own exporter lets the script, handlers and frames through.
    from nbconvert.exporters import HTMLExporter

    raw, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    assert {"<script>document.title", "onerror=", "<svg", "<iframe"} <= {
        p for p in LIVE_PAYLOADS if p in raw
    }


def test_the_course_config_names_the_sanitizing_exporter():
    from labtools.nbgrader_course.config import render_config

    assert "SanitizedHTMLExporter" in render_config(CourseSettings())


@pytest.mark.slow
@needs_sandbox
def test_export_and_gradebook_rows(cycle, rubric_points):
    from nbgrader.api import Gradebook

    total = sum(points for points, _ in rubric_points.values())
    with (cycle["course"] / "grades.csv").open() as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(cycle["nbgrader"])
    # partial: its autograded points (partial.toml) + the TA's 2 for Reflection 1.
    with (SAMPLE_SUBMISSIONS / "partial.toml").open("rb") as f:
        partial_total = tomllib.load(f)["expected_total"]["score"] + 2
    assert float(rows["partial"]["raw_score"]) == pytest.approx(partial_total)
    assert float(rows["solution-cloud_titan"]["raw_score"]) == pytest.approx(36.0)
    assert all(float(r["max_score"]) == pytest.approx(total) for r in rows.values())
    with Gradebook(cycle["db_url"], COURSE_ID) as gb:
        assert gb.find_submission("ops_scale", "partial").score == pytest.approx(partial_total)
        grade = gb.find_grade("r3_ledger", "ops_scale", "ops_scale", "solution-tiny_pioneer")
        assert grade.needs_manual_grade and grade.max_score == rubric_points["r3_ledger"][0]


@pytest.mark.slow
@needs_sandbox
def test_the_nbgrader_release_has_no_secret(cycle, autograder_tests):
    secrets = secret_lines(load_master(MASTER_SOURCE), autograder_tests)
    assert scan_release(cycle["course"] / "release" / "ops_scale", secrets) == []
