#!/usr/bin/env bash
# Gradescope image build: the grader's environment (root only) and the sandbox kernel's
# environment (world-readable, without the reference package).
set -euo pipefail
source_dir=/autograder/source
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip
python3 -m pip install --break-system-packages -q -r "$source_dir/requirements.txt"
PYTHONPATH="$source_dir/lib" python3 -m labtools.sandbox.kernel_env
# The reference package, the tests and the config stay readable by root only.
chmod -R go-rwx "$source_dir"
