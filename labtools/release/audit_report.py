"""The impostor audit's report: what each submission earned, the table, and the verdict.

:mod:`labtools.release.impostor_audit` fills an :class:`AuditReport`; this module turns it into
the question x impostor table the build prints and decides whether the audit failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "AuditFailed",
    "AuditOutcome",
    "AuditReport",
    "COLUMNS",
    "KNOWN_PENDING",
    "check_report",
    "failure_lines",
    "format_table",
]

#: The audit's columns: the untouched scaffold, then each kind of impostor.
COLUMNS: tuple[str, ...] = (
    "scaffold",
    "0",
    "1",
    "-1",
    "0.0",
    "1.0",
    "public answer",
    "x1.01",
    "+1",
    "other track",
    "raises",
    "public inputs",
)

#: (question, column) cells known to earn points until a fix owned elsewhere lands, and why:
#: the audit reports them (``*`` in the table) and neither the build nor the test fails on them.
KNOWN_PENDING: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class AuditOutcome:
    """One question graded on one submission of one track."""

    track: str
    question: str
    column: str  # "solution" or one of COLUMNS
    variant: str  # what exactly was tried, e.g. "psi = constant 0.0"
    score: float
    possible: float
    function: str | None = None  # the function the impostor stands in for
    passed: tuple[int, ...] = ()  # indices of the cases that passed (with or without points)
    hidden: tuple[bool, ...] = ()  # per case: hidden or public
    earned_by: tuple[str, ...] = ()  # the cases that earned points, for the message


@dataclass
class AuditReport:
    """Every outcome of the audit, and what it took."""

    questions: dict[str, float]  # question -> points possible, in notebook order
    outcomes: list[AuditOutcome] = field(default_factory=list)
    tracks: tuple[str, ...] = ()
    reach: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function -> questions
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def table(self) -> dict[str, dict[str, float | None]]:
        """question -> "solution" (least over tracks) or column (most) -> points; None where
        nothing of that kind was tried."""
        cells = {q: dict.fromkeys(("solution", *COLUMNS)) for q in self.questions}
        for o in self.outcomes:
            row = cells.setdefault(o.question, dict.fromkeys(("solution", *COLUMNS)))
            seen = row.get(o.column)
            pick = min if o.column == "solution" else max
            row[o.column] = o.score if seen is None else pick(seen, o.score)
        return cells

    def failures(self, *, pending: Iterable[tuple[str, str]] = KNOWN_PENDING) -> list[AuditOutcome]:
        """Points for nothing: the scaffold or an impostor earned some (outside ``pending``)."""
        allowed = set(pending)
        return [
            o
            for o in self.outcomes
            if o.column != "solution" and o.score > 0 and (o.question, o.column) not in allowed
        ]

    def shortfalls(self) -> list[AuditOutcome]:
        """The control: the solution short of full marks (the self-check's business too)."""
        return [o for o in self.outcomes if o.column == "solution" and o.score < o.possible - 1e-9]


class AuditFailed(RuntimeError):
    """Something earned points for nothing."""


def format_table(report: AuditReport, *, pending: Iterable[tuple[str, str]] = KNOWN_PENDING) -> str:
    """The audit as a question x impostor table: the most points earned over the tracks."""
    allowed = set(pending)
    table = report.table()
    heads = ["pts", "solution", *COLUMNS]
    width = max(len(q) for q in [*table, "question"])
    cols = [max(len(h), 4) for h in heads]

    def cell(q: str, h: str, value: float | None) -> str:
        if value is None:
            return "-"
        text = f"{value:g}"
        if h in COLUMNS and value > 0:
            text += "*" if (q, h) in allowed else "!"
        return text

    header = (
        "question".ljust(width)
        + " | "
        + " | ".join(h.rjust(c) for h, c in zip(heads, cols, strict=True))
    )
    lines = [header, "-" * len(header)]
    for q, row in table.items():
        values = [report.questions.get(q), *(row[h] for h in heads[1:])]
        shown = [cell(q, h, v) for h, v in zip(heads, values, strict=True)]
        lines.append(
            q.ljust(width)
            + " | "
            + " | ".join(s.rjust(c) for s, c in zip(shown, cols, strict=True))
        )
    lines.append(
        f"Most points earned over {len(report.tracks)} track(s) ('solution': the least). "
        "'-': no impostor of that kind reaches the question; '!': points for nothing."
    )
    for (q, c), why in KNOWN_PENDING.items():
        if (q, c) in allowed and (table.get(q, {}).get(c) or 0) > 0:
            lines.append(f"'*' {q} / {c}: known, pending: {why}.")
    short = sorted({o.question for o in report.shortfalls()})
    if short:
        lines.append(
            f"WARNING: the solution misses points on {', '.join(short)} (see 'solution'): fix "
            "the solution or its tests; the zeros above still hold."
        )
    return "\n".join(lines)


def failure_lines(wrong: Sequence[AuditOutcome], *, at_most: int = 30) -> str:
    """One line per outcome: track, question, points, what earned them and by which cases."""
    lines = [
        f"  {o.track}: {o.question} earned {o.score:g} of {o.possible:g} with {o.variant}"
        + (f" ({'; '.join(o.earned_by)})" if o.earned_by else "")
        for o in wrong[:at_most]
    ]
    if len(wrong) > at_most:
        lines.append(f"  ... and {len(wrong) - at_most} more")
    return "\n".join(lines)


def check_report(
    report: AuditReport, *, pending: Iterable[tuple[str, str]] = KNOWN_PENDING
) -> None:
    """Raise :class:`AuditFailed`, with each failure and the table, if anything failed."""
    wrong = report.failures(pending=pending)
    if wrong:
        raise AuditFailed(
            f"the impostor audit failed {len(wrong)} time(s):\n{failure_lines(wrong)}\n\n"
            f"{format_table(report, pending=pending)}\n"
            "(`ops-lab build --no-audit` builds without the audit.)"
        )


# ------------------------------------------------------------------------ the engine
