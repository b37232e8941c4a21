"""Can this host grade safely? The check every grading entry point runs before any submission.

The sandbox degrades layer by layer: without a mount, PID or network namespace, or without
cgroups, it still grades, because another uid, rlimits and file permissions keep the
student's code away from the reference, the tests and the other jobs. Two things it cannot
do without: running the student's code as another user, and limiting its resources. And
without a mount namespace, the hidden paths must be unreadable by that other user.

A host that fails this check is the instructor's problem, never a student's: the Gradescope
entry point then writes no results (Gradescope shows "the autograder failed", not a 0), and
``setup.sh`` and the self-check stop with the same message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from labtools.sandbox import (
    Protections,
    SandboxInputError,
    default_hidden_paths,
    probe_protections,
)

__all__ = ["REQUIRED_LAYERS", "HostCannotGrade", "check_host", "make_private"]

#: Without these, student code would run as root or without limits: no safe mode exists.
REQUIRED_LAYERS = ("switch_user", "rlimits")


class HostCannotGrade(RuntimeError):
    """This host offers no safe way to run student code; the message says what to change."""


def make_private(paths: Iterable[Path]) -> None:
    """Take every permission of group and others away from each existing path.

    The grader's own folders (the autograder source with the reference and the hidden
    tests, the results folder) must be private before a kernel starts: on a host without a
    mount namespace, permissions are all that keeps the student's code out of them. A folder
    without the others' search bit hides everything below it, so its contents keep their
    modes.

    Parameters
    ----------
    paths : iterable of pathlib.Path
        Files or folders owned by the grader; missing ones are skipped.
    """
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            continue
        os.chmod(path, stat.S_IMODE(mode) & ~0o077)


def _reachable_by_others(path: Path) -> bool:
    # Whether a user with no group in common could get at it: every ancestor searchable by
    # others, and the path readable (or, for a folder, searchable: its files can then be
    # opened by name) by others. ACLs are left to the sandbox's own check, which tries as
    # the sandbox user before the kernel starts.
    for parent in reversed(path.parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & (stat.S_IROTH | stat.S_IXOTH))


def check_host(hidden_paths: Iterable[Path] = ()) -> Protections:
    """Return the protections this host allows, or raise if it cannot grade safely.

    Parameters
    ----------
    hidden_paths : iterable of pathlib.Path
        What the kernel must not read, besides the trusted packages that
        :func:`labtools.sandbox.default_hidden_paths` always adds.

    Returns
    -------
    labtools.sandbox.Protections
        The layers in force; every missing one has its reason.

    Raises
    ------
    HostCannotGrade
        If a layer of :data:`REQUIRED_LAYERS` is missing (not root, or a container that
        refuses ``setuid`` or ``setrlimit``), or if, without a mount namespace, a hidden path
        is readable by other users, or if ``$OPS_SANDBOX_REFUSE`` names something that is
        not a layer.
    """
    try:
        host = probe_protections()
    except SandboxInputError as exc:  # a bad $OPS_SANDBOX_REFUSE: the host's settings
        raise HostCannotGrade(str(exc)) from exc
    why = dict(host.reasons)
    missing = [name for name in REQUIRED_LAYERS if not getattr(host, name)]
    if missing:
        detail = "; ".join(f"{name}: {why.get(name, 'unavailable')}" for name in missing)
        raise HostCannotGrade(
            "this host cannot grade safely: student code would run without "
            f"{' and '.join(missing)} ({detail}). Run the grader as root on a host that "
            "allows setuid and setrlimit (any Gradescope base image does); see docs/grading.md."
        )
    if not host.mount_namespace:
        exposed = [
            str(p)
            for p in {*default_hidden_paths(), *map(Path, hidden_paths)}
            if p.exists() and _reachable_by_others(p)
        ]
        if exposed:
            raise HostCannotGrade(
                "this host has no mount namespace, so file permissions alone must hide the "
                f"reference and the tests from student code, but other users can read "
                f"{', '.join(sorted(exposed))}: remove the permissions of others "
                "(chmod o-rwx) or install the grader in a private folder."
            )
    return host
