"""From Gradescope into nbgrader: students' notebooks matched onto the release, imported safely.

The notebooks are realistic: the self-check's samples (made from the generated solution and
student notebooks) with cells added, deleted, moved and merged as students do. The expected
answers are read from the unmodified notebook's answer cells (Otter's tags), independently
of the matching code (the edits are ``tests/nbgrader_variants.py``'s). Grading the imported
notebooks with nbgrader is in ``tests/test_nbgrader_autograde.py``.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import nbformat
import pytest
from nbgrader_variants import at, gradescope_export, with_added_cells

from labtools.cli import main
from labtools.grading.notebook_format import ANSWER_CELL_TAGS, is_grader_boilerplate
from labtools.nbgrader_course.cell_matching import (
    NotThisAssignment,
    match_submission,
    submission_from_otter,
)
from labtools.nbgrader_course.cells import TEXT_STUB
from labtools.nbgrader_course.generate import generate_source_notebook, released_view
from labtools.nbgrader_course.importing import import_submissions
from labtools.nbgrader_course.submission_format import CourseCells, format_problems
from labtools.paths import NOTEBOOK_NAME
from labtools.release.master import load_master
from labtools.rubric import load_rubric
from labtools.selfcheck.samples import sample_submissions


@pytest.fixture(scope="module")
def release() -> nbformat.NotebookNode:
    """The release as nbgrader hands it out (solutions and hidden tests cleared)."""
    return released_view(generate_source_notebook(load_master(), rubric=load_rubric()).notebook)


@pytest.fixture(scope="module")
def samples() -> dict[str, nbformat.NotebookNode]:
    return {s.name: s.notebook for s in sample_submissions()}


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _by_id(nb) -> dict[str, nbformat.NotebookNode]:
    return {_gid(c): c for c in nb.cells if _gid(c)}


def _answer_ids(release) -> list[str]:
    return [
        _gid(c)
        for c in release.cells
        if c.metadata["nbgrader"].get("solution") and c.cell_type == "code"
    ]


def _paired_answers(nb, release) -> dict[str, str]:
    """An unedited Otter notebook's code answers by pairing code cells one for one: its code
    cells less Otter's own are the release's code cells less the tests, in order."""
    theirs = [c for c in nb.cells if c.cell_type == "code" and not is_grader_boilerplate(c.source)]
    ours = [
        c
        for c in release.cells
        if c.cell_type == "code"
        and (c.metadata["nbgrader"].get("solution") or not c.metadata["nbgrader"].get("grade"))
    ]
    assert len(theirs) == len(ours)
    return {
        _gid(mine): other.source
        for mine, other in zip(ours, theirs, strict=True)
        if mine.metadata["nbgrader"].get("solution")
    }


def _release_id(release, start: str) -> str:
    """The grade id of the release's cell whose text starts with ``start``."""
    return _gid(release.cells[at(release, start)])


def _before(release, grade_id: str) -> str:
    """The grade id of the release's cell just before ``grade_id``'s."""
    ids = [_gid(c) for c in release.cells]
    return ids[ids.index(grade_id) - 1]


def _ids_around(nb, grade_id: str, before: int = 1, after: int = 2) -> list[str | None]:
    ids = [_gid(c) for c in nb.cells]
    i = ids.index(grade_id)
    return ids[i - before : i + after + 1]


# ------------------------------------------------------------------ the samples


def test_every_sample_fills_each_answer_with_its_own_cell(release, samples):
    # Unedited notebooks pair up cell for cell: that pairing is the expected result.
    for name, nb in samples.items():
        matched = match_submission(nb, release)
        by_id = _by_id(matched.notebook)
        expected = _paired_answers(nb, release)
        assert sorted(expected) == sorted(_answer_ids(release)), name
        for grade_id, source in expected.items():
            assert by_id[grade_id].source == source, (name, grade_id)
        # Every answer Otter tagged is in (a placeholder left as it was aside).
        tagged = [c for c in nb.cells if ANSWER_CELL_TAGS & set(c.metadata.get("tags", []))]
        kept = {x.source for x in matched.notebook.cells}
        assert all(c.source in kept for c in tagged if c.source != TEXT_STUB), name
        report = matched.report
        assert not (report.unanswered or report.edited_readonly or report.extra_cells), name
        # Every read-only cell of the release is there as released (locked cells restored).
        for grade_id, cell in _by_id(release).items():
            if not cell.metadata["nbgrader"].get("solution"):
                assert by_id[grade_id].source == cell.source, (name, grade_id)


def test_written_answers_come_across(release, samples):
    # The solution notebook holds the reflections; the blank one Otter's placeholder.
    solution = _by_id(match_submission(samples["solution-cloud_titan"], release).notebook)
    assert "dependencies grow with each *pair*" in solution["r1_heterogeneity"].source
    assert "Wald's SPRT" in solution["r2_sequential"].source
    blank = _by_id(match_submission(samples["blank"], release).notebook)
    assert blank["r1_heterogeneity"].source == TEXT_STUB


def test_a_name_reused_later_is_not_taken_for_an_answer(release, samples):
    # reuse-names rebinds psi, shadow_hours, ... as values in the ledger cell: the function
    # answers stay the defs, and the ledger cell keeps the extra code.
    by_id = _by_id(match_submission(samples["reuse-names"], release).notebook)
    assert by_id["q3a_psi_answer"].source.lstrip().startswith("def psi(")
    assert "psi = psi(np.linspace" in by_id["q5_ledger_answer"].source


# ------------------------------------------------------------------ students' edits


def test_added_cells_are_kept_where_the_student_put_them(release, samples):
    base = samples["solution-tiny_pioneer"]
    matched = match_submission(with_added_cells(base), release)
    out, expected = matched.notebook, _by_id(match_submission(base, release).notebook)
    for grade_id in _answer_ids(release):
        assert _by_id(out)[grade_id].source == expected[grade_id].source, grade_id
    # The helper sits before the answer that uses it, the scratch call after it and before
    # the question's tests, the note after q1a's tests (where its check cell was).
    around = _ids_around(out, "q3a_psi_answer", before=2, after=2)
    prompt = _before(release, "q3a_psi_answer")
    assert around == [prompt, None, "q3a_psi_answer", None, "q3a_psi_case1"]
    psi_at = [_gid(c) for c in out.cells].index("q3a_psi_answer")
    assert out.cells[psi_at - 1].source.startswith("def _edges(")
    assert out.cells[psi_at + 1].source.startswith("psi([0.1")
    note_at = next(i for i, c in enumerate(out.cells) if c.source.startswith("My notes"))
    last_q1a_test = [g for g in _by_id(release) if g.startswith("q1a_manual_toil_case")][-1]
    assert _gid(out.cells[note_at - 1]) == last_q1a_test
    extras = [c for c in out.cells if not _gid(c)]
    assert len(extras) == 3 and all("nbgrader" not in c.metadata for c in extras)
    assert len(matched.report.extra_cells) == 3
    nbformat.validate(out)  # unique cell ids, valid cells
    strict = submission_from_otter(with_added_cells(base), release)
    assert [c.source for c in strict.cells] == [c.source for c in out.cells]


def test_deleted_cells_are_put_back_or_left_as_released(release, samples):
    nb = copy.deepcopy(samples["partial"])
    for start in ('print(f"Upstream', 'grader.check("q3a_psi")', "def shadow_hours("):
        del nb.cells[at(nb, start)]
    matched = match_submission(nb, release)
    by_id, released = _by_id(matched.notebook), _by_id(release)
    upstream = _release_id(release, 'print(f"Upstream')
    # The read-only cell and the tests are the release's; the deleted answer is its stub.
    assert by_id[upstream].source == released[upstream].source
    assert by_id["q3a_psi_case1"].source == released["q3a_psi_case1"].source
    assert by_id["q2b_shadow_hours_answer"].source == released["q2b_shadow_hours_answer"].source
    assert matched.report.unanswered == ("q2b_shadow_hours_answer",)
    assert matched.report.restored_readonly == (upstream,)
    assert [_gid(c) for c in matched.notebook.cells] == [_gid(c) for c in release.cells]


def test_moved_cells_fill_their_answers_and_are_reported(release, samples):
    base = samples["solution-mobile_nomad"]
    nb = copy.deepcopy(base)
    skew = nb.cells.pop(at(nb, "def skew_check("))
    nb.cells.insert(at(nb, "def psi("), skew)  # skew_check above psi
    track = nb.cells.pop(at(nb, "TRACK ="))
    nb.cells.append(track)  # TRACK at the very end
    matched = match_submission(nb, release)
    expected = _by_id(match_submission(base, release).notebook)
    for grade_id in _answer_ids(release):
        assert _by_id(matched.notebook)[grade_id].source == expected[grade_id].source, grade_id
    assert set(matched.report.moved) == {"answer_track", "q3b_skew_check_answer"}
    assert [_gid(c) for c in matched.notebook.cells] == [_gid(c) for c in release.cells]


def test_a_merged_cell_answers_each_question_it_defines(release, samples):
    nb = copy.deepcopy(samples["solution-cloud_titan"])
    psi_at, skew_at = at(nb, "def psi("), at(nb, "def skew_check(")
    nb.cells[psi_at].source += "\n\n\n" + nb.cells[skew_at].source
    del nb.cells[skew_at]
    matched = match_submission(nb, release)
    by_id = _by_id(matched.notebook)
    assert "def skew_check(" in by_id["q3a_psi_answer"].source
    assert "def skew_check(" not in by_id["q3b_skew_check_answer"].source
    assert matched.report.covered == (("q3b_skew_check_answer", "q3a_psi_answer"),)


def test_an_edited_read_only_cell_is_restored_and_kept_or_refused(release, samples):
    nb = copy.deepcopy(samples["partial"])
    nb.cells[at(nb, 'print(f"Upstream')].source = "print('my own upstream note')"
    matched = match_submission(nb, release)
    out = matched.notebook
    upstream = _release_id(release, 'print(f"Upstream')
    kept_at = [_gid(c) for c in out.cells].index(upstream)
    assert out.cells[kept_at].source == _by_id(release)[upstream].source
    assert out.cells[kept_at + 1].source == "print('my own upstream note')"
    assert matched.report.edited_readonly == (upstream,)
    with pytest.raises(ValueError, match="differs from the Otter notebook"):
        submission_from_otter(nb, release)  # the strict form, for notebooks of one build


def test_a_hub_notebook_is_matched_by_its_nbgrader_ids(release, samples):
    # A notebook in the course's own format, with a cell added and an answer moved.
    hub = submission_from_otter(samples["solution-edge_guardian"], release)
    moved = copy.deepcopy(hub)
    ids = [_gid(c) for c in moved.cells]
    cell = moved.cells.pop(ids.index("q1b_platform_cost_answer"))
    moved.cells.insert(0, cell)
    moved.cells.insert(5, nbformat.v4.new_code_cell("x_scratch = 1"))
    matched = match_submission(moved, release)
    assert len(matched.report.by_id) == len(_answer_ids(release)) + 2  # + r1, r2
    for grade_id, cell in _by_id(hub).items():
        assert _by_id(matched.notebook)[grade_id].source == cell.source, grade_id
    assert matched.report.extra_cells == ("x_scratch = 1",)


def test_another_assignment_is_refused(release):
    other = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Lab 3"), nbformat.v4.new_code_cell("x = 1")]
    )
    with pytest.raises(NotThisAssignment, match="not a submission of this assignment"):
        match_submission(other, release)


# ------------------------------------------------------------------ format check


def _cells(release) -> CourseCells:
    ids = [_gid(c) for c in release.cells]
    meta = {g: c.metadata["nbgrader"] for g, c in _by_id(release).items()}
    return CourseCells(
        source_ids=tuple(ids),
        grade_ids=tuple(g for g in ids if meta[g].get("grade")),
        solution_ids=frozenset(g for g in ids if meta[g].get("solution")),
    )


def test_the_format_check_names_an_otter_notebook_and_unrestorable_deletions(release, samples):
    cells = _cells(release)
    assert format_problems(release, cells) == []
    [otter] = format_problems(samples["partial"], cells)
    assert "Otter's format" in otter and "ops-lab nbgrader-import" in otter
    hub = submission_from_otter(samples["partial"], release)
    # A deleted test cell goes back after its answer: nbgrader can do that.
    kept = copy.deepcopy(hub)
    kept.cells = [c for c in kept.cells if _gid(c) != "q3a_psi_case1"]
    assert format_problems(kept, cells) == []
    # A deleted written answer would go back after its prompt, a read-only cell nbgrader
    # does not track as graded: its KeyError, named instead.
    lost = copy.deepcopy(hub)
    lost.cells = [c for c in lost.cells if _gid(c) != "r1_heterogeneity"]
    [problem] = format_problems(lost, cells)
    assert f"r1_heterogeneity (after {_before(release, 'r1_heterogeneity')})" in problem


# ------------------------------------------------------------------ import into a course


def _course(tmp_path: Path, release) -> Path:
    course = tmp_path / "course"
    (course / "release" / "ops_scale").mkdir(parents=True)
    nbformat.write(release, course / "release" / "ops_scale" / NOTEBOOK_NAME)
    return course


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_keeps_originals_and_never_overwrites_without_force(tmp_path, release, samples):
    course = _course(tmp_path, release)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    nbformat.write(with_added_cells(samples["partial"]), uploads / "jdoe.ipynb")
    [first] = import_submissions(course, [("jdoe", uploads / "jdoe.ipynb")])
    submitted = course / "submitted" / "jdoe" / "ops_scale" / NOTEBOOK_NAME
    assert first.status == "imported" and first.submission == submitted
    assert (submitted.parent / "timestamp.txt").read_text().endswith(" UTC")
    original = first.archive / "original" / "jdoe.ipynb"
    assert _sha(original) == _sha(uploads / "jdoe.ipynb")  # byte for byte
    assert "student's own cells kept: 3" in (first.archive / "import.txt").read_text()
    before = _sha(submitted)

    nbformat.write(samples["solution-cloud_titan"], uploads / "jdoe.ipynb")
    [again] = import_submissions(course, [("jdoe", uploads / "jdoe.ipynb")])
    assert again.status == "kept" and "--force" in again.detail
    assert _sha(submitted) == before

    [forced] = import_submissions(course, [("jdoe", uploads / "jdoe.ipynb")], force=True)
    assert forced.status == "replaced" and forced.archive != first.archive
    assert _sha(forced.archive / "replaced" / NOTEBOOK_NAME) == before
    assert "dependencies grow" in _by_id(nbformat.read(submitted, 4))["r1_heterogeneity"].source
    leftovers = [p.name for p in submitted.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []  # written through a temporary file and a rename


def test_a_bad_upload_is_a_problem_and_others_are_imported(tmp_path, release, samples):
    course = _course(tmp_path, release)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "broken.ipynb").write_text("{not json")
    nbformat.write(samples["blank"], uploads / "fine.ipynb")
    outcomes = import_submissions(
        course,
        [("broken", uploads / "broken.ipynb"), ("fine", uploads / "fine.ipynb"), ("../x", uploads)],
    )
    assert [o.status for o in outcomes] == ["problem", "imported", "problem"]
    assert "not a valid notebook" in outcomes[0].detail
    assert not (course / "submitted" / "broken").exists()
    with pytest.raises(FileNotFoundError, match="generate_assignment"):
        import_submissions(tmp_path / "no-course", [])


def test_ops_lab_nbgrader_import_reads_a_gradescope_export(tmp_path, release, samples, capsys):
    course = _course(tmp_path, release)
    export = gradescope_export(
        tmp_path / "assignment_9_export",
        {
            "submission_101": with_added_cells(samples["partial"]),
            "submission_202": samples["solution-cloud_titan"],
        },
    )
    assert main(["nbgrader-import", str(export), str(course)]) == 0
    out = capsys.readouterr().out
    assert "1815: imported" in out and "1912: imported" in out and "2 imported" in out
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["1815", "1912"]
    assert main(["nbgrader-import", str(export), str(course)]) == 0  # again: both kept
    assert "2 kept" in capsys.readouterr().out


def test_the_otter_boilerplate_never_reaches_the_course(release, samples):
    out = match_submission(samples["solution-cloud_titan"], release).notebook
    code = "\n".join(c.source for c in out.cells if c.cell_type == "code")
    for otter_only in ("grader.check(", "otter.Notebook(", "ops_lab_submit"):
        assert otter_only not in code, otter_only
    assert not [c for c in out.cells if "gradescope-only" in c.source]
