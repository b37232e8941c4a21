"""The committed generated files are what the build makes from the master today."""

from __future__ import annotations

from labtools.release.pipeline import stale_generated_files


def test_committed_generated_files_are_fresh(tmp_path):
    stale = stale_generated_files(tmp_path / "dist")
    assert stale == [], f"regenerate with `.venv/bin/ops-lab build`: stale {stale}"
