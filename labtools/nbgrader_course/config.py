"""The course's ``nbgrader_config.py``: every nbgrader setting of the course, in one file.

The file is generated (never edited by hand) and finds its own folder through ``__file__``,
so the course folder can be moved or copied and every command run from inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labtools.grading.grading_kernel import GRADING_LIMITS
from labtools.nbgrader_course.cells import CODE_STUB, TEXT_STUB

__all__ = [
    "COURSE_ID",
    "SANITIZE_PREPROCESSORS",
    "AUTOGRADE_PREPROCESSORS",
    "FEEDBACK_PREPROCESSORS",
    "CourseSettings",
    "render_config",
    "write_config",
]

#: The course id in the gradebook (pass it to ``nbgrader.api.Gradebook``).
COURSE_ID = "ops-scale"

#: nbgrader's default ``Autograde.sanitize_preprocessors`` after the format check, which must
#: come first: it stops on a notebook nbgrader's own steps would fail on, before they run.
SANITIZE_PREPROCESSORS: tuple[str, ...] = (
    "labtools.nbgrader_course.submission_format.CheckSubmissionFormat",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
)

#: nbgrader's default ``Autograde.autograde_preprocessors`` with ``Execute`` replaced by the
#: sandboxed step; the order is nbgrader's (SaveAutoGrades must follow execution).
AUTOGRADE_PREPROCESSORS: tuple[str, ...] = (
    "labtools.nbgrader_course.execute.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
)

#: nbgrader's default ``GenerateFeedback.preprocessors`` plus ``ClearHiddenTests``, so the
#: feedback never shows a hidden test's source (the outputs hold only its message).
FEEDBACK_PREPROCESSORS: tuple[str, ...] = (
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)


@dataclass(frozen=True)
class CourseSettings:
    """The few settings an instructor may want to change (by regenerating the course).

    Attributes
    ----------
    course_id : str
        The gradebook's course id.
    cell_timeout_s : int in [1, inf)
        Per-cell timeout of a student cell when autograding (and of ``nbgrader validate``);
        by default the Gradescope autograder's, so that both score slow cells alike.
    total_timeout_s : int in [1, inf)
        Time all the student cells of one notebook may take together (the Gradescope
        autograder's by default).
    kernel_factory : str
        ``module:function`` giving the sandboxed kernel factory of the Gradescope harness.
    exchange_root : str or None
        Absolute path of nbgrader's exchange folder (``Exchange.root``), shared by the
        instructor and the students' Linux accounts, without JupyterHub; ``None``: nbgrader's
        default (``/srv/nbgrader/exchange``).
    """

    course_id: str = COURSE_ID
    cell_timeout_s: int = int(GRADING_LIMITS.cell_timeout_s)
    total_timeout_s: int = int(GRADING_LIMITS.total_timeout_s)
    kernel_factory: str = "labtools.grading.grading_kernel:sandbox_kernel_factory"
    exchange_root: str | None = None

    def __post_init__(self) -> None:
        for name in ("cell_timeout_s", "total_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of seconds >= 1, got {value!r}")
        if not self.course_id or not isinstance(self.course_id, str):
            raise ValueError(f"course_id must be a non-empty string, got {self.course_id!r}")
        if self.exchange_root is not None and not Path(str(self.exchange_root)).is_absolute():
            raise ValueError(f"exchange_root must be an absolute path, got {self.exchange_root!r}")
        if ":" not in self.kernel_factory:
            raise ValueError(
                f"kernel_factory must be 'module:function', got {self.kernel_factory!r}"
            )


def _list(items: tuple[str, ...]) -> str:
    return "[\n" + "".join(f"    {item!r},\n" for item in items) + "]"


def _exchange_line(settings: CourseSettings) -> str:
    if settings.exchange_root is None:
        return "# The exchange is nbgrader's default folder (/srv/nbgrader/exchange).\n"
    return (
        "# The exchange folder shared with the students' accounts (no JupyterHub needed).\n"
        f"c.Exchange.root = {str(settings.exchange_root)!r}\n"
    )


def render_config(settings: CourseSettings = CourseSettings()) -> str:
    """The text of ``nbgrader_config.py``."""
    return f'''"""nbgrader configuration of the Operations-at-Scale course.

Generated by `ops-lab nbgrader` from the master notebook's build; do not edit: regenerate.
Run every nbgrader command from this folder (nbgrader reads ./nbgrader_config.py).
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

HERE = os.path.dirname(os.path.abspath(__file__))

# --- the course folder and its SQLite gradebook
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = {settings.course_id!r}
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
{_exchange_line(settings)}
# --- generate_assignment: the blanks students see are Otter Assign's, so both releases match
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
c.ClearSolutions.text_stub = {TEXT_STUB!r}

# --- autograde: a submission not in the course's format (a Gradescope notebook copied in as
# it is) stops with a message naming `ops-lab nbgrader-import`, before nbgrader's own steps.
c.Autograde.sanitize_preprocessors = {_list(SANITIZE_PREPROCESSORS)}
# Student cells run in the grading sandbox (another user, no network, no view
# of this folder), test cells run here through labtools.grading.test_runner. The order is
# nbgrader's own, with Execute replaced: SaveAutoGrades must come after the execution step.
c.Autograde.autograde_preprocessors = {_list(AUTOGRADE_PREPROCESSORS)}
c.SandboxedExecute.timeout = {settings.cell_timeout_s}
c.SandboxedExecute.total_timeout = {settings.total_timeout_s}
c.SandboxedExecute.kernel_factory = {settings.kernel_factory!r}
c.SandboxedExecute.support_dir = os.path.join(HERE, "source", "{{assignment_id}}")
c.SandboxedExecute.hidden_paths = [HERE]
# The instructor's optional roster (labtools.grading.roster): the tracks of the students.
if os.path.exists(os.path.join(HERE, "roster.csv")):
    c.SandboxedExecute.roster = os.path.join(HERE, "roster.csv")
# Per-student variants (labtools.grading.variant_codes): the course secret, never released.
if os.path.exists(os.path.join(HERE, "variants.json")):
    c.SandboxedExecute.variants = os.path.join(HERE, "variants.json")
# A deleted test cell is put back (and scored), instead of silently missing.
c.OverwriteCells.add_missing_cells = True
# The same per-cell timeout for nbgrader's own Execute (nbgrader validate on the source).
c.Execute.timeout = {settings.cell_timeout_s}

# --- generate_feedback: hidden tests are cleared from the feedback's cells, and what
# students wrote in markdown is sanitized (no script, handler, image or non-web URL)
c.GenerateFeedback.preprocessors = {_list(FEEDBACK_PREPROCESSORS)}
c.GenerateFeedback.exporter_class = "labtools.nbgrader_course.feedback.SanitizedHTMLExporter"
'''


def write_config(course_dir: Path, settings: CourseSettings = CourseSettings()) -> Path:
    """Write ``course_dir/nbgrader_config.py``; return its path."""
    path = course_dir / "nbgrader_config.py"
    path.write_text(render_config(settings))
    return path
