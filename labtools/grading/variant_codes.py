"""Per-student variants on the instructor's side: the course secret and each student's code.

With variants on (``[variants] mode = "per-student"`` in ``assignment/course.toml``), every
student on the roster gets their own numbers (:mod:`opsmodel.variants`). Their *variant
code* is an HMAC-SHA256 of their roster identity under the course secret: the instructor
hands each student their code (``variant-codes.csv``, written by the build), the student
enters it in the notebook, and the grader recomputes it from the identity Gradescope or
nbgrader reports, so the hidden tests always use the submitter's own variant. Only codes
whose variants keep every teaching point of the lab are handed out
(:mod:`labtools.grading.variant_vetting`).

The secret stays with the instructor and the graders: it goes into the Gradescope autograder
(beside the hidden tests) and the nbgrader course's instructor folder as
:data:`VARIANTS_FILE`, never into the student release (the release scan looks for it).
Without it, a code cannot be made for an identity, so a student cannot work out a
classmate's numbers from the classmate's id.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labtools.files import write_atomic
from labtools.grading.variant_vetting import keeps_teaching_points
from opsmodel.variants import normalise_variant_code, variant_code_from_bytes

__all__ = [
    "MIN_SECRET_BYTES",
    "VARIANTS_FILE",
    "CourseVariants",
    "code_draw",
    "load_course_variants",
    "new_course_secret",
    "read_course_secret",
    "variant_code",
    "variant_note",
    "write_course_variants",
]

#: File name of the variants' settings (with the secret) in the autograder source folder and
#: in the nbgrader course.
VARIANTS_FILE = "variants.json"

#: A shorter secret could be guessed; 16 bytes (32 hex digits) is what ``secrets`` suggests.
MIN_SECRET_BYTES = 16

# Draws of codes tried for one identity. About 2% of draws miss a teaching point, so the
# chance that 16 in a row do is under 1e-26: reaching the limit means the lab is broken.
_MAX_DRAWS = 16
# Mixed into every code, so that a secret reused in another assignment gives other codes.
_PURPOSE = "ops_scale variant code"


def _identity_key(student: str) -> str:
    # The roster matches identities without regard to case or surrounding spaces: so does this.
    return student.strip().casefold()


def variant_code(secret: bytes, student: str) -> str:
    """The variant code of one student: the HMAC of their identity under the course secret.

    Of the codes the identity's HMAC draws in turn (the plain HMAC first, then salted with a
    counter), the first whose variant keeps every teaching point of the lab on every track
    (:func:`labtools.grading.variant_vetting.keeps_teaching_points`). Most identities keep
    their first draw.

    Parameters
    ----------
    secret : bytes
        The course secret (at least :data:`MIN_SECRET_BYTES` bytes).
    student : str
        The student's identity as the roster's ``student`` column gives it (case and
        surrounding spaces do not matter).

    Returns
    -------
    str
        A code as :func:`opsmodel.variants.variant_code_from_bytes` writes it.

    Raises
    ------
    ValueError
        If ``secret`` is too short or ``student`` is empty.
    RuntimeError
        If none of the identity's draws keeps the teaching points (never seen: a broken lab).
    """
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes")
    if not isinstance(student, str) or not student.strip():
        raise ValueError(f"student must be a non-empty identity, got {student!r}")
    return _first_vetted_code(secret, _identity_key(student))


def code_draw(secret: bytes, identity: str, attempt: int = 0) -> str:
    """One of an identity's draws of a code, vetted or not (:func:`variant_code` picks one).

    Parameters
    ----------
    secret : bytes
        The course secret.
    identity : str
        The student's identity, as the roster matches it (stripped and casefolded).
    attempt : int, default 0
        Which draw: 0 is the identity's plain HMAC, later ones are salted with the number.

    Returns
    -------
    str
        A code as :func:`opsmodel.variants.variant_code_from_bytes` writes it.
    """
    message = f"{_PURPOSE}|{identity}" + (f"|{attempt}" if attempt else "")
    return variant_code_from_bytes(hmac.new(secret, message.encode(), hashlib.sha256).digest())


@functools.lru_cache(maxsize=4096)
def _first_vetted_code(secret: bytes, identity: str) -> str:
    # Cached: a build asks for each roster student's code several times, and each draw's
    # vetting runs the reference model (about 30 ms). A draw whose variant misses a teaching
    # point is passed over for the next (a few identities in a hundred).
    for attempt in range(_MAX_DRAWS):
        code = code_draw(secret, identity, attempt)
        if keeps_teaching_points(code):
            return code
    raise RuntimeError(f"no variant of {identity!r} in {_MAX_DRAWS} draws keeps the lab's points")


def new_course_secret() -> str:
    """A fresh course secret, as the text to keep in the secret file (64 hex digits)."""
    return secrets.token_hex(32)


def read_course_secret(path: Path) -> bytes:
    """The course secret kept in ``path`` (its text, surrounding whitespace removed).

    Raises
    ------
    ValueError
        If the file cannot be read or holds fewer than :data:`MIN_SECRET_BYTES` bytes.
    """
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"course secret {path} cannot be read: {exc.strerror}") from None
    secret = text.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"course secret {path} must hold at least {MIN_SECRET_BYTES} characters "
            f"(`ops-lab course-secret` writes one), got {len(secret)}"
        )
    return secret


@dataclass(frozen=True)
class CourseVariants:
    """The grader's view of per-student variants: the secret that makes every code."""

    secret: bytes

    def code_for(self, student: str) -> str:
        """``student``'s variant code (see :func:`variant_code`)."""
        return variant_code(self.secret, student)


def write_course_variants(folder: Path, secret: bytes) -> Path:
    """Write :data:`VARIANTS_FILE` into ``folder`` (an autograder source, a course)."""
    path = Path(folder) / VARIANTS_FILE
    text = json.dumps({"mode": "per-student", "secret": secret.decode()}, indent=2)
    write_atomic(path, text + "\n")
    path.chmod(0o600)
    return path


def load_course_variants(path: Path) -> CourseVariants | None:
    """The variants kept in ``path`` (a :data:`VARIANTS_FILE`), or ``None`` when it is absent.

    Raises
    ------
    ValueError
        If the file is there but is not what :func:`write_course_variants` writes.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        secret = str(data["secret"]).encode()
        mode = data["mode"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a variants file: {exc}") from None
    if mode != "per-student" or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} is not a variants file: mode {mode!r}")
    return CourseVariants(secret)


def variant_note(expected_code: str, student: str, seen_code: Any, seen_id: Any) -> str | None:
    """The student's message when their notebook's ``VARIANT_CODE``/``STUDENT_ID`` are not theirs.

    ``None`` when the code is theirs and the id (if given) is theirs too. The message never
    shows the expected code.
    """
    try:
        code_ok = seen_code is not None and normalise_variant_code(seen_code) == expected_code
    except ValueError:
        code_ok = False
    id_ok = seen_id is None or (
        isinstance(seen_id, str) and _identity_key(seen_id) == _identity_key(student)
    )
    if code_ok and id_ok:
        return None
    rerun = (
        "the hidden tests used your own variant's numbers, so answers worked out on other "
        "numbers do not match. Set VARIANT_CODE to the code your instructor sent you and "
        f"STUDENT_ID = {student!r}, run all cells again and resubmit."
    )
    if seen_code is None:
        return (
            "Your instructor gives each student their own numbers, but your notebook leaves "
            f"VARIANT_CODE = None: {rerun}"
        )
    if not code_ok:
        return (
            f"Your notebook's VARIANT_CODE = {seen_code!r} is not the code of {student!r}, "
            f"who submitted it: {rerun}"
        )
    return (
        f"Your notebook's STUDENT_ID = {seen_id!r} is not {student!r}, who submitted it "
        "(your VARIANT_CODE is right, so your numbers were): set STUDENT_ID to yours."
    )
