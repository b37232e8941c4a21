#!/usr/bin/env bash
# The test suite, after setting everything up. Extra arguments go to pytest, which runs the
# suite in parallel (pyproject.toml's addopts: pytest-xdist, grouped by tests/conftest.py);
# `bash scripts/test.sh -n 0` runs it in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
