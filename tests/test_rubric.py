"""The rubric agrees with the master notebook and with the generated tests."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from otter.test_files.ok_test import OKTestFile

from labtools.paths import MASTER_SOURCE
from labtools.rubric import (
    load_rubric,
    render_gradescope_rubric,
    render_points_table,
    render_ta_guide,
)


def master_questions() -> dict[str, dict]:
    """Question configs straight from the master's BEGIN QUESTION raw cells (YAML)."""
    blocks = re.findall(r"# # BEGIN QUESTION\n((?:# .*\n)+)", MASTER_SOURCE.read_text())
    configs = [yaml.safe_load("".join(line[2:] for line in b.splitlines(True))) for b in blocks]
    return {c["name"]: c for c in configs}


def test_rubric_questions_match_the_master():
    rubric = load_rubric()
    master = master_questions()
    assert [q.name for q in rubric.questions] == list(master)
    for q in rubric.questions:
        assert q.points == master[q.name]["points"], q.name
        assert q.manual == bool(master[q.name].get("manual", False)), q.name


def test_autograded_points_equal_the_test_cases(autograder_tests: Path):
    rubric = load_rubric()
    for q in rubric.questions:
        path = autograder_tests / f"{q.name}.py"
        if q.manual:
            assert not path.exists()
            continue
        cases = OKTestFile.from_file(str(path)).test_cases
        assert math.isclose(sum(c.points for c in cases), q.points), q.name


def test_bad_rubric_is_rejected(tmp_path):
    bad = tmp_path / "rubric.toml"
    bad.write_text(
        '[[question]]\nname = "q"\ntitle = "t"\npart = "p"\npoints = 2\n'
        'graded_by = "ta"\nitems = [{ id = "a", points = 1, text = "x" }]\n'
    )
    with pytest.raises(ValueError, match="items add up to 1.0, not 2"):
        load_rubric(bad)


def test_renderings_list_every_manual_item():
    rubric = load_rubric()
    guide, gradescope, table = (
        render_ta_guide(rubric),
        render_gradescope_rubric(rubric),
        render_points_table(rubric),
    )
    for question, item in rubric.manual_items:
        assert item.id in guide and item.text in gradescope
        assert question.name in table
    # Gradescope's editor: one item a line, "points | text".
    assert all("|" in line for line in gradescope.splitlines() if line and "pts)" not in line)
