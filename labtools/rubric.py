"""The assignment's rubric: one file, validated, rendered for TAs, Gradescope and the README."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from labtools._toml import tomllib
from labtools.paths import RUBRIC

__all__ = [
    "RubricItem",
    "RubricQuestion",
    "Rubric",
    "load_rubric",
    "render_ta_guide",
    "render_gradescope_rubric",
    "render_points_table",
]

GRADERS = ("autograder", "ta")


@dataclass(frozen=True)
class RubricItem:
    """One scored item of a question."""

    id: str
    points: float
    text: str


@dataclass(frozen=True)
class RubricQuestion:
    """A question: its points, who grades it, and its items."""

    name: str
    title: str
    part: str
    points: float
    graded_by: str
    items: tuple[RubricItem, ...]

    @property
    def manual(self) -> bool:
        return self.graded_by == "ta"


@dataclass(frozen=True)
class Rubric:
    """Every question of the assignment, in notebook order."""

    questions: tuple[RubricQuestion, ...]

    def question(self, name: str) -> RubricQuestion:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(f"no question {name!r} in the rubric")

    @property
    def auto_points(self) -> float:
        return sum(q.points for q in self.questions if not q.manual)

    @property
    def manual_points(self) -> float:
        return sum(q.points for q in self.questions if q.manual)

    @property
    def manual_items(self) -> tuple[tuple[RubricQuestion, RubricItem], ...]:
        return tuple((q, i) for q in self.questions if q.manual for i in q.items)


def _fail(path: Path, message: str) -> None:
    raise ValueError(f"{path}: {message}")


def load_rubric(path: Path = RUBRIC) -> Rubric:
    """Read and validate the rubric.

    Raises
    ------
    ValueError
        Naming the question when a field is missing, a grader is unknown, an item id repeats
        or the items do not add up to the question's points.
    """
    with path.open("rb") as f:
        data = tomllib.load(f)
    questions, seen_ids = [], set()
    for raw in data.get("question", []):
        name = raw.get("name", "<unnamed>")
        for key in ("name", "title", "part", "points", "graded_by", "items"):
            if key not in raw:
                _fail(path, f"question {name!r} lacks {key!r}")
        if raw["graded_by"] not in GRADERS:
            _fail(path, f"question {name!r}: graded_by must be one of {GRADERS}")
        items = []
        for item in raw["items"]:
            if item["id"] in seen_ids:
                _fail(path, f"item id {item['id']!r} appears twice")
            seen_ids.add(item["id"])
            items.append(RubricItem(item["id"], float(item["points"]), item["text"]))
        total = sum(i.points for i in items)
        if not math.isclose(total, float(raw["points"])):
            _fail(path, f"question {name!r}: items add up to {total}, not {raw['points']}")
        questions.append(
            RubricQuestion(
                name,
                raw["title"],
                raw["part"],
                float(raw["points"]),
                raw["graded_by"],
                tuple(items),
            )
        )
    if not questions:
        _fail(path, "no [[question]] tables")
    return Rubric(tuple(questions))


def _pts(value: float) -> str:
    return f"{value:g}"


def render_ta_guide(rubric: Rubric) -> str:
    """Markdown grading guide of the TA-graded questions (and, for context, the auto ones)."""
    lines = ["# Grading guide: Operations at Scale", ""]
    lines.append(
        f"Written questions: {_pts(rubric.manual_points)} points, graded by TAs. "
        f"Autograded: {_pts(rubric.auto_points)} points (listed last for context)."
    )
    for manual in (True, False):
        lines += ["", "## Written questions (TA)" if manual else "## Autograded questions", ""]
        for q in (q for q in rubric.questions if q.manual == manual):
            lines.append(f"### {q.title} (`{q.name}`, {_pts(q.points)} points)")
            lines.append("")
            lines += [f"- [{_pts(i.points)}] `{i.id}`: {i.text}" for i in q.items]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_gradescope_rubric(rubric: Rubric) -> str:
    """Gradescope's rubric editor form: per question a heading, then one item a line."""
    blocks = []
    for q in (q for q in rubric.questions if q.manual):
        lines = [f"{q.title} ({_pts(q.points)} pts)"]
        lines += [f"{_pts(i.points)} | {i.text}" for i in q.items]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_points_table(rubric: Rubric) -> str:
    """The README's table: question, part, points, auto or manual."""
    lines = ["| question | what | part | points | graded by |", "|---|---|---|---|---|"]
    for q in rubric.questions:
        who = "TA (manual)" if q.manual else "autograder"
        lines.append(f"| `{q.name}` | {q.title} | {q.part} | {_pts(q.points)} | {who} |")
    lines.append(
        f"| **total** | | | **{_pts(rubric.auto_points + rubric.manual_points)}** | "
        f"{_pts(rubric.auto_points)} auto + {_pts(rubric.manual_points)} manual |"
    )
    return "\n".join(lines)
