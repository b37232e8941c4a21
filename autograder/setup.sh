#!/usr/bin/env bash
# Gradescope image build, run once as root: the grader's environment (root only) and the
# sandbox kernel's environment (world-readable, without the reference package).
#
# Both are venvs of their own, made from the system interpreter. Nothing is installed into
# the system Python: on Ubuntu 24.04 (and Debian 12+) it is "externally managed" and pip
# refuses, and the option that overrides that (--break-system-packages) is unknown to the
# pip 22.0 of Ubuntu 22.04, Gradescope's default base image. A venv behaves the same on
# Python 3.10 to 3.13, whatever the image's pip.
set -euo pipefail

source_dir=/autograder/source
grader_venv=/autograder/venv  # run_autograder's interpreter; keep both in step
python=/usr/bin/python3       # the kernel venv is made from it too (kernel_env's default)

step() { printf '\n== setup.sh: %s (%(%T)T)\n' "$*" -1; }

# Packages are downloaded once into a throw-away cache (the kernel venv reuses the grader's
# wheels), so that the image does not keep a second copy of numpy and scipy under /root.
PIP_CACHE_DIR="$(mktemp -d)"
export PIP_CACHE_DIR PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
trap 'rm -rf "$PIP_CACHE_DIR"' EXIT

step "system packages"
# A base image may be as bare as a minimal Debian or Ubuntu: python3-venv brings ensurepip
# (Debian and Ubuntu split it out of python3), ca-certificates lets pip verify PyPI, passwd
# has the useradd that creates the sandbox's users.
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3 python3-venv ca-certificates passwd

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: $python is $("$python" --version 2>&1); the grader needs Python 3.10+." \
        "Pick a newer base image (Ubuntu 22.04 or later)." >&2
    exit 1
fi

step "grader venv $grader_venv ($("$python" --version 2>&1))"
# --clear: a rebuilt image must not inherit packages from an earlier attempt.
"$python" -m venv --clear "$grader_venv"
"$grader_venv/bin/python" -m pip --version
# The venv's own pip is whatever the image bundles (22.0 on Ubuntu 22.04): upgrade it first,
# with options every pip since 20 knows, and only then install with the current resolver.
"$grader_venv/bin/python" -m pip install -q --upgrade pip
"$grader_venv/bin/python" -m pip --version
"$grader_venv/bin/python" -m pip install -q -r "$source_dir/requirements.txt"

step "sandbox kernel venv"
# Its packages are pinned to the versions just installed in the grader's venv, so student
# code and the reference compute on the same numpy and scipy. umask 022: the kernel runs
# as other users and must be able to read its interpreter and packages.
(umask 022 && PYTHONPATH="$source_dir/lib" "$grader_venv/bin/python" -m labtools.sandbox.kernel_env)

step "permissions"
# The reference package, the hidden tests and the config stay readable by root only: where
# the sandbox has no mount namespace to hide them, these permissions are what does.
chmod -R go-rwx "$source_dir" "$grader_venv"
# Except the student support package (students download it anyway): the grader copies it
# into each job folder with its modes, and the kernel, another user, must read the copy.
# The source folder's own mode (0700) still keeps others out of files/ here.
chmod -R a+rX "$source_dir/files"

step "can this image grade safely?"
# Fails the build (with the reason) on an image where student code would run as root or
# without limits, rather than every submission failing later.
PYTHONPATH="$source_dir/lib" "$grader_venv/bin/python" -m labtools.grading.gradescope \
    --root /autograder --check-host
step "done"
