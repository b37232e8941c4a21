"""The committed generated files are what the build makes from the master today."""

from __future__ import annotations

from labtools.release.pipeline import stale_generated_files


def test_committed_generated_files_are_fresh(built):
    # conftest's shared build is the one stale_generated_files makes: no committed file written.
    stale = stale_generated_files(built.dist, build_result=built)
    assert stale == [], f"regenerate with `.venv/bin/ops-lab build`: stale {stale}"
