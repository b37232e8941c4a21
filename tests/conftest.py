"""Shared fixtures: one build of the assignment per test session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    """A fresh build into a temporary dist (committed files untouched, no PDF, no run, no
    impostor audit: tests/test_impostor_audit.py runs that on this build)."""
    from labtools.release.pipeline import build

    return build(
        tmp_path_factory.mktemp("dist"),
        write_committed=False,
        execute=False,
        pdf=False,
        audit=False,
    )


@pytest.fixture(scope="session")
def autograder_tests(built) -> Path:
    """The autograder's test folder (every case, hidden included)."""
    return built.autograder_source / "tests"
