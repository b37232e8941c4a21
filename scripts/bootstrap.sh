#!/usr/bin/env bash
# Set up everything this project needs on a fresh Debian machine, idempotently:
# Chromium (PDFs of written answers, the browser test), a venv with the project and its dev
# tools, and the world-readable kernel environment the grading sandbox runs student code in.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# Playwright (tests/test_browser.py) launches Debian's real binary; /usr/bin/chromium is a wrapper.
{ command -v chromium && [ -x /usr/lib/chromium/chromium ]; } >/dev/null 2>&1 || need_apt+=(chromium)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
  else
    echo "bootstrap: please install ${need_apt[*]} (apt-get install ${need_apt[*]})" >&2
  fi
fi

# A venv from the system Python: pyenv's Python under /root is unreadable to the
# sandbox user, and the grader's kernel environment is built from the same interpreter.
python_bin=/usr/bin/python3
[ -x "$python_bin" ] || python_bin=$(command -v python3)
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
# The dev extra brings Playwright's Python package and a pinned JupyterLab for the browser
# test, which drives Debian's Chromium: no `playwright install` (a download, not needed).
if [ "$(id -u)" -eq 0 ]; then
  .venv/bin/python -m labtools.sandbox.kernel_env >/dev/null
fi
echo "bootstrap: ready (.venv)"
