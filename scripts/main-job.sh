#!/usr/bin/env bash
# The main job: build the assignment, then grade the sample submissions through the real
# autograder zip in a simulated Gradescope layout, and print the score table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/ops-lab selfcheck "$@"
