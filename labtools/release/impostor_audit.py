"""Nothing for nothing: the impostor audit of a built autograder.

For each track, the solution notebook runs once, cell by cell, in IPython's shell in this
process, with the sandbox's own kernel side installed (so results cross as the sandbox's JSON),
planned by the grader's :func:`~labtools.grading.harness.plan_cells` and with the grader's
snapshot at each question's check (:func:`~labtools.grading.kernel_calls.snapshot_code`). Then each
question is graded by the grader's own :func:`~labtools.grading.test_runner.student_namespace`
and :func:`~labtools.grading.test_runner.run_question`, with the built test files (hidden cases
included), on submissions that must earn nothing:

- **scaffold**: the notebook's globals put back as they were before the question's answer
  cells (values copied deeply, so a later cell's mutation does not leak back), the release's
  scaffold of those cells run in their place, then the cells up to the question's check;
- **impostors** of each graded function, defined in the shell and put in place of the function
  at its own question's snapshot and at every later question whose tests call it, directly or
  through another graded function (``skew_check`` calls ``psi``): the constants 0, 1, -1, 0.0
  and 1.0; each answer a public case expects of the function; the reference's answer with the
  right type and a wrong value (x 1.01, + 1); the reference on another track's parameters
  (ignoring the given ones; for functions with track parameters); a function that raises; and
  one that returns the reference's answer exactly on the inputs the public cases give it (read
  by running the public cases with a recorder) and a wrong one elsewhere.

The solution itself is graded too, as the control that the audit grades at all: it must earn
full marks (:meth:`AuditReport.shortfalls`: the table warns, the test fails, as does the
self-check). The table has a row per question and a column per impostor; each cell is the most
points any track earned: all 0 when nothing earns something for nothing.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from otter.test_files.ok_test import OKTestFile

from labtools.grading.harness import GradingConfig, load_grading_config, plan_cells
from labtools.grading.kernel_calls import (
    CALL_HELPER,
    put_snapshot,
    snapshot_code,
)
from labtools.grading.notebook_format import (
    answer_cells_by_question,
    replace_definitions,
    with_track,
    without_grader_calls,
)
from labtools.grading.test_runner import (
    QuestionOutcome,
    install_helpers,
    load_test_files,
    names_used,
    run_question,
    student_namespace,
)
from labtools.release.audit_kernel import InProcessSandbox, copied
from labtools.release.audit_report import (
    COLUMNS,
    KNOWN_PENDING,
    AuditFailed,
    AuditOutcome,
    AuditReport,
    check_report,
    failure_lines,
    format_table,
)

__all__ = [
    "AuditFailed",
    "AuditOutcome",
    "AuditReport",
    "COLUMNS",
    "GRADED_FUNCTIONS",
    "KNOWN_PENDING",
    "check_report",
    "failure_lines",
    "format_table",
    "run_audit",
]

#: The functions students write, whose impostors the audit tries.
GRADED_FUNCTIONS: tuple[str, ...] = (
    "manual_toil_hours",
    "platform_cost_usd",
    "platform_roi_usd",
    "break_even_models",
    "zero_failure_sample_size",
    "shadow_hours",
    "psi",
    "skew_check",
)

#: The table's impostor columns, in order.
# Arguments of the graded functions that carry a track's parameters, and where a track keeps
# them: the "other track" impostor replaces exactly these.
_TRACK_ARGUMENTS = {
    "heterogeneity": "heterogeneity",
    "params": "toil_params",
    "p_max": "p_max",
    "confidence": "confidence",
    "request_rate_per_s": "request_rate_per_s",
    "shadow_fraction": "shadow_fraction",
}

_FACTORY = "__ops_audit_impostor"

#: Run in the shell once per track, after the notebook: makes each impostor (and the recorder
#: of the public cases' calls) as a function defined in the shell, so the grader calls it
#: through its proxies and JSON like any student's function.
IMPOSTOR_SOURCE = f"""
def {_FACTORY}(kind, reference, argument=None):
    import copy as _copy
    import inspect as _inspect
    import sys as _sys

    import numpy as _np

    signature = _inspect.signature(reference)

    def bound(args, kwargs):
        try:
            b = signature.bind(*args, **kwargs)
        except TypeError:
            return None
        b.apply_defaults()
        return dict(b.arguments)

    def off(value, how):
        # The same type and shape, another value: x 1.01 ("scale") or + 1 ("shift").
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (bool, _np.bool_)):
            return not value
        if isinstance(value, (int, _np.integer)):
            changed = int(round(value * 1.01)) if how == "scale" else value + 1
            return type(value)(changed if changed != value else value + 1)
        if isinstance(value, (float, _np.floating)):
            return type(value)(value * 1.01 if how == "scale" and value != 0 else value + 1)
        if isinstance(value, _np.ndarray):
            if value.dtype.kind in "iuf":
                moved = value * 1.01 + (value == 0) if how == "scale" else value + 1
                return moved.astype(value.dtype)
            return value
        if isinstance(value, dict):
            return {{k: off(v, how) for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            return type(value)(off(v, how) for v in value)
        return value

    def same(a, b):
        try:
            if isinstance(a, _np.ndarray) or isinstance(b, _np.ndarray):
                a, b = _np.asarray(a), _np.asarray(b)
                return a.shape == b.shape and bool(_np.array_equal(a, b))
            if isinstance(a, dict) and isinstance(b, dict):
                return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
            if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
                return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
            return bool(a == b)
        except Exception:
            return False

    if kind == "constant":
        def impostor(*args, **kwargs):
            return _copy.deepcopy(argument)
    elif kind == "off":
        def impostor(*args, **kwargs):
            return off(reference(*args, **kwargs), argument)
    elif kind == "raises":
        def impostor(*args, **kwargs):
            raise RuntimeError("this impostor always raises")
    elif kind == "other_track":
        from opsmodel.tracks import get_track

        track = get_track(argument)
        replaced = {_TRACK_ARGUMENTS!r}

        def impostor(*args, **kwargs):
            given = bound(args, kwargs)
            if given is None:
                return reference(*args, **kwargs)
            for name, attribute in replaced.items():
                if name in given:
                    given[name] = getattr(track, attribute)
            return reference(**given)
    elif kind == "recorder":
        # argument: a list that receives (called by the test itself, arguments, answer).
        def impostor(*args, **kwargs):
            value = reference(*args, **kwargs)
            direct = _sys._getframe(1).f_code.co_name == {CALL_HELPER!r}
            argument.append((direct, _copy.deepcopy(bound(args, kwargs)), _copy.deepcopy(value)))
            return value
    elif kind == "public_inputs":
        # argument: the recorder's list; right on those inputs, + 1 anywhere else.
        def impostor(*args, **kwargs):
            given = bound(args, kwargs)
            for _direct, known, value in argument:
                if given is not None and same(given, known):
                    return _copy.deepcopy(value)
            return off(reference(*args, **kwargs), "shift")
    else:
        raise ValueError(kind)
    impostor.__name__ = reference.__name__
    return impostor
"""


def _called_names(function: Any) -> set[str]:
    """Global names a function's code (and its nested code) reads."""
    code = getattr(function, "__code__", None)
    found: set[str] = set()
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        found.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return found


def _public_only(test_file: OKTestFile) -> OKTestFile:
    public = copy.copy(test_file)
    public.test_cases = [c for c in test_file.test_cases if not c.hidden]
    return public


def _grade(kernel: InProcessSandbox, test_file: OKTestFile, run: _TrackRun) -> QuestionOutcome:
    """The grader's own grading of one question on its snapshot (with the grader's ``TRACK``
    for a variant, as :mod:`labtools.grading.track_binding` fixes it)."""
    names = names_used([test_file])
    namespace, _notes = student_namespace(
        kernel, names, snapshot=test_file.name, question=test_file.name
    )
    if run.tests_track is not None and "TRACK" in names:
        namespace["TRACK"] = run.tests_track
    return run_question(test_file, namespace)


def _outcome(
    track: str,
    column: str,
    variant: str,
    graded: QuestionOutcome,
    function: str | None = None,
) -> AuditOutcome:
    return AuditOutcome(
        track=track,
        question=graded.name,
        column=column,
        variant=variant,
        score=graded.score,
        possible=graded.possible,
        function=function,
        passed=tuple(c.index for c in graded.cases if c.passed),
        hidden=tuple(c.hidden for c in graded.cases),
        earned_by=tuple(
            f"case {c.index + 1}, {'hidden' if c.hidden else 'public'}, {c.points:g} pts"
            for c in graded.cases
            if c.passed and c.points
        ),
    )


@dataclass
class _TrackRun:
    """The solution run of one track: what the audit changes and puts back."""

    track: str
    cells: list[Any]
    cell_ids: list[str | None]
    first_answer: dict[str, int]  # question -> position in ``cells`` of its first answer cell
    checkpoint: dict[str, int]  # question -> position of the cell its snapshot follows
    before: dict[str, dict[str, Any]]  # question -> globals before its answer cells
    final: dict[str, Any]  # globals after the notebook and the grader's helpers
    originals: dict[str, dict[str, Any]]  # question -> a copy of its snapshot
    variant: str | None = None  # the student's variant code, if the run is a variant
    tests_track: Any = None  # the variant's Track, which the tests get as TRACK

    @property
    def label(self) -> str:
        """The track, and the variant if any, as the report names them."""
        return self.track if self.variant is None else f"{self.track} variant {self.variant}"


def _run_solution(
    kernel: InProcessSandbox,
    solution: nbformat.NotebookNode,
    config: GradingConfig,
    answer_cells: dict[str, list[str]],
    track: str,
    variant: str | None = None,
) -> _TrackRun:
    nb = with_track(solution, track)
    tests_track = None
    if variant is not None:
        from opsmodel.variants import student_track

        nb = replace_definitions(nb, f"VARIANT_CODE = {variant!r}\n")
        tests_track = student_track(track, variant)
    cells = plan_cells(nb, config)
    ids = [nb.cells[c.index].get("id") for c in cells]
    answer_of = {cid: q for q, cids in answer_cells.items() for cid in cids}
    first: dict[str, int] = {}
    for pos, cid in enumerate(ids):
        if cid in answer_of:
            first.setdefault(answer_of[cid], pos)
    checkpoint = {q: pos for pos, c in enumerate(cells) for q in c.checkpoints}
    starts: dict[int, list[str]] = {}
    for q, pos in first.items():
        starts.setdefault(pos, []).append(q)
    kernel.reset()
    before: dict[str, dict[str, Any]] = {}
    for pos, cell in enumerate(cells):
        if pos in starts:
            saved = kernel.copy_globals()
            for q in starts[pos]:
                before[q] = saved
        if cell.code:
            kernel.run_cell(cell.code)
        for q in cell.checkpoints:
            kernel.run_cell(snapshot_code(q))
    if not install_helpers(kernel) or kernel.run_cell(IMPOSTOR_SOURCE).status != "ok":
        raise RuntimeError(f"{track}: the grader's helpers could not be installed")
    originals = {q: dict(s) for q, s in kernel.snapshots.items()}
    return _TrackRun(
        track,
        cells,
        ids,
        first,
        checkpoint,
        before,
        dict(kernel.user_ns),
        originals,
        variant,
        tests_track,
    )


def _scaffold_outcome(
    kernel: InProcessSandbox, run: _TrackRun, test_file: OKTestFile, scaffold: dict[str, str]
) -> AuditOutcome | None:
    """Grade the question with its answer cells as released (``scaffold``: solution cell id
    -> the release's code of that cell); everything before them as the solution left it."""
    q = test_file.name
    if q not in run.first_answer or q not in run.checkpoint:
        return None
    kernel.restore_globals(copied(run.before[q]))
    try:
        for pos in range(run.first_answer[q], run.checkpoint[q] + 1):
            cid = run.cell_ids[pos]
            code = scaffold[cid] if cid in scaffold else run.cells[pos].code
            if code:
                kernel.run_cell(code)
        kernel.run_cell(snapshot_code(q))
        install_helpers(kernel)
        graded = _grade(kernel, test_file, run)
    finally:
        # A copy: impostors are patched into it.
        put_snapshot(kernel.user_ns, q, dict(run.originals[q]))
        kernel.restore_globals(run.final)
    return _outcome(run.label, "scaffold", "answer cells as released", graded)


def _reached_by(
    function: str, test_files: Sequence[OKTestFile], originals: dict[str, dict[str, Any]]
) -> list[OKTestFile]:
    """The questions whose tests call ``function``, directly or through a graded function
    that calls it (read from the solution's code at each question's snapshot)."""
    reached = []
    for tf in test_files:
        snap = originals.get(tf.name)
        if snap is None or function not in snap:
            continue
        frontier = [n for n in names_used([tf]) if n in GRADED_FUNCTIONS]
        seen: set[str] = set()
        while frontier:
            name = frontier.pop()
            if name not in seen:
                seen.add(name)
                frontier += [n for n in _called_names(snap.get(name)) if n in GRADED_FUNCTIONS]
        if function in seen:
            reached.append(tf)
    return reached


def _impostor_outcomes(
    kernel: InProcessSandbox,
    run: _TrackRun,
    function: str,
    reached: Sequence[OKTestFile],
    tracks: Sequence[str],
) -> list[AuditOutcome]:
    """Every impostor of ``function``, in its place at every question in ``reached``."""
    if not reached:
        return []
    make = kernel.user_ns[_FACTORY]
    reference = run.originals[reached[0].name][function]

    @contextlib.contextmanager
    def standing_in(impostor: Any):
        for tf in reached:
            kernel.snapshots[tf.name][function] = impostor
        try:
            yield
        finally:
            for tf in reached:
                kernel.snapshots[tf.name][function] = run.originals[tf.name][function]

    # The calls the public cases make of the function, directly or through another one.
    calls: list[tuple[bool, Any, Any]] = []
    with standing_in(make("recorder", reference, calls)):
        for tf in reached:
            _grade(kernel, _public_only(tf), run)
    answers: list[Any] = []
    for direct, _args, value in calls:
        if direct and not any(_same_value(value, a) for a in answers):
            answers.append(value)

    variants: list[tuple[str, str, Any]] = [
        (text, f"constant {text}", make("constant", reference, value))
        for text, value in (("0", 0), ("1", 1), ("-1", -1), ("0.0", 0.0), ("1.0", 1.0))
    ]
    variants += [
        ("public answer", f"constant {_short(a)}", make("constant", reference, a)) for a in answers
    ]
    variants += [
        ("x1.01", "the reference x 1.01", make("off", reference, "scale")),
        ("+1", "the reference + 1", make("off", reference, "shift")),
    ]
    if set(inspect.signature(reference).parameters) & set(_TRACK_ARGUMENTS):
        # A variant's student could also use their track's shared numbers: one more other.
        others = [t for t in tracks if t != run.track or run.variant is not None]
        variants += [
            ("other track", f"the reference on {other}", make("other_track", reference, other))
            for other in others
        ]
    variants += [
        ("raises", "raises RuntimeError", make("raises", reference)),
        (
            "public inputs",
            "right only on the public cases' inputs",
            make("public_inputs", reference, calls),
        ),
    ]
    outcomes = []
    for column, variant, impostor in variants:
        with standing_in(impostor):
            for tf in reached:
                graded = _grade(kernel, tf, run)
                outcomes.append(
                    _outcome(run.label, column, f"{function} = {variant}", graded, function)
                )
    return outcomes


def _same_value(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and repr(a) == repr(b)
    except Exception:
        return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _scaffold_cells(
    solution: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each question's answer cells in the solution, and solution cell id -> the release's
    code of the same answer cell (ids differ: the solution keeps cells the release drops, so
    the cells are paired in order, question by question)."""
    ours = answer_cells_by_question(solution)
    theirs = answer_cells_by_question(release)
    code = {c.get("id"): c.source for c in release.cells}
    scaffold: dict[str, str] = {}
    for q, ids in ours.items():
        released = theirs.get(q, [])
        if len(released) != len(ids):
            raise ValueError(
                f"{q}: {len(ids)} answer cells in the solution, {len(released)} released"
            )
        for mine, other in zip(ids, released, strict=True):
            scaffold[mine] = without_grader_calls(code[other])
    return ours, scaffold


def run_audit(
    autograder_source: Path,
    solution_notebook: Path,
    student_notebook: Path,
    *,
    tracks: Sequence[str] | None = None,
    questions: Sequence[str] | None = None,
    functions: Sequence[str] = GRADED_FUNCTIONS,
    variant_codes: Sequence[str] = (),
) -> AuditReport:
    """Grade the solution, the scaffold and every impostor on every question and track.

    Parameters
    ----------
    autograder_source : Path
        The built autograder's ``source`` folder (``ops_lab.json`` and ``tests/``).
    solution_notebook, student_notebook : Path
        The built solution notebook and the student release (its answer cells' scaffold).
    tracks : sequence of str, optional
        Track names to audit (default: every track).
    questions : sequence of str, optional
        Only these questions (default: every autograded question).
    functions : sequence of str
        The graded functions whose impostors are tried.
    variant_codes : sequence of str, optional
        Per-student variant codes: each track is audited on each of these variants too, as
        the grader grades a variant (the tests get the variant's ``TRACK``), with the
        track's shared numbers as one more "other track" impostor.

    Returns
    -------
    AuditReport
    """
    from opsmodel.tracks import TRACKS

    start = time.perf_counter()
    config = load_grading_config(autograder_source)
    test_files = load_test_files(config.tests_dir, order=config.questions)
    if questions is not None:
        test_files = [tf for tf in test_files if tf.name in set(questions)]
    solution = nbformat.read(solution_notebook, as_version=4)
    release = nbformat.read(student_notebook, as_version=4)
    answer_cells, scaffold = _scaffold_cells(solution, release)
    every_track = tuple(t.name for t in TRACKS.values())
    chosen = tuple(tracks) if tracks is not None else every_track
    units = [(t, None) for t in chosen] + [(t, c) for t in chosen for c in variant_codes]
    report = AuditReport(
        questions={tf.name: config.questions.get(tf.name, 0.0) for tf in test_files},
        tracks=tuple(t if c is None else f"{t} variant {c}" for t, c in units),
    )
    kernel = InProcessSandbox()
    try:
        for track, code in units:
            run = _run_solution(kernel, solution, config, answer_cells, track, code)
            for tf in test_files:
                report.outcomes.append(
                    _outcome(run.label, "solution", "the solution", _grade(kernel, tf, run))
                )
            for tf in test_files:
                found = _scaffold_outcome(kernel, run, tf, scaffold)
                if found is None:
                    report.notes.append(f"{run.label}: {tf.name} has no answer cell or no check")
                else:
                    report.outcomes.append(found)
            for function in functions:
                reached = _reached_by(function, test_files, run.originals)
                report.reach.setdefault(function, tuple(tf.name for tf in reached))
                report.outcomes += _impostor_outcomes(kernel, run, function, reached, every_track)
    finally:
        kernel.close()
    report.elapsed_s = time.perf_counter() - start
    return report
