"""The instructor's course options (``assignment/course.toml``), read and checked once.

Today one option: whether students share their track's numbers or each get a per-student
variant (:mod:`labtools.grading.variant_codes`). The command line may override it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labtools._toml import tomllib
from labtools.paths import COURSE_OPTIONS

__all__ = ["VARIANT_MODES", "CourseOptions", "load_course_options"]

#: ``[variants] mode``: shared track numbers, or each student's own.
VARIANT_MODES = ("tracks", "per-student")


@dataclass(frozen=True)
class CourseOptions:
    """What ``course.toml`` says (defaults where it is silent)."""

    variants: str = "tracks"

    def __post_init__(self) -> None:
        if self.variants not in VARIANT_MODES:
            raise ValueError(
                f"[variants] mode must be one of {', '.join(map(repr, VARIANT_MODES))}, "
                f"got {self.variants!r}"
            )

    @property
    def per_student(self) -> bool:
        """Whether each student gets their own variant."""
        return self.variants == "per-student"


def load_course_options(
    path: Path = COURSE_OPTIONS, *, variants: str | None = None
) -> CourseOptions:
    """Read ``path`` (missing: the defaults); ``variants`` overrides its ``[variants] mode``.

    Raises
    ------
    ValueError
        If the file is not TOML or a value is not one it may take; the message names it.
    """
    data: dict = {}
    if Path(path).exists():
        try:
            with Path(path).open("rb") as f:
                data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path} is not valid TOML: {exc}") from None
    mode = variants if variants is not None else data.get("variants", {}).get("mode", "tracks")
    return CourseOptions(variants=mode)
