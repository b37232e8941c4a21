"""Driving the student release in real JupyterLab and Debian Chromium, for tests/test_browser.py.

How (see the team's field notes on browser testing): a JupyterLab server of its own (free
port, token, its own config, data, runtime, settings and workspace folders, its own process
group, stopped by PID), Debian's Chromium driven by Playwright's Python package (no
``playwright install``: it cannot download here and is not needed), every request not to
127.0.0.1 blocked, and every wait bounded by a timeout on a condition, never a fixed sleep.

JupyterLab's menu command ids and CSS classes are internal: pyproject pins its version.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labtools.release.written_pdf import CHROMIUM_OFFLINE_FLAGS

#: The real Chromium binary (``/usr/bin/chromium`` is a wrapper script Playwright cannot use).
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium",)
# The PDF renderer's flags for a closed network, one list for both uses of Chromium.
CHROMIUM_ARGS = list(CHROMIUM_OFFLINE_FLAGS)

#: JupyterLab user settings: no news popup over the page, every cell rendered (the default
#: windowing renders visible cells only), and no autosave: the notebook on disk changes only
#: when someone (the student, or the product on their behalf) saves, never by a timer's luck.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 15.0


def find_chromium() -> str | None:
    """The Chromium binary Playwright can launch, or None."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server is started with no port retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- the notebook to open


_MARKER_LINE = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$")
_MARKER_TAIL = re.compile(r"\s*# SOLUTION\s*$")


def _without_solution_markers(source: str) -> str:
    lines = [ln for ln in source.splitlines() if not _MARKER_LINE.match(ln)]
    return "\n".join(_MARKER_TAIL.sub("", ln) for ln in lines)


def _has_placeholder(source: str) -> bool:
    """Whether a student cell holds an ``...`` for the student to replace."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "..." in source
    return any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(tree)) or (
        "\n...\n" in source
    )


def answered_notebook(
    student: nbformat.NotebookNode, solution: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, list[int]]:
    """The student notebook with the solution's code typed into every answer cell.

    Code cells are matched in order (the solution notebook adds only markdown cells, its
    written answers). Every other cell, the export cell included, stays the student's own.

    Returns
    -------
    (notebook, answered)
        The filled notebook and the indices of the cells that were filled in.

    Raises
    ------
    AssertionError
        If the two notebooks' code cells no longer line up.
    """
    nb = copy.deepcopy(student)
    mine = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    theirs = [c for c in solution.cells if c.cell_type == "code"]
    assert len(mine) == len(theirs), (
        f"student and solution notebooks have {len(mine)} and {len(theirs)} code cells"
    )
    answered = []
    for index, sol in zip(mine, theirs, strict=True):
        cell = nb.cells[index]
        if cell.source == sol.source:
            continue
        assert _has_placeholder(cell.source), (
            f"student cell {index} differs from its solution cell but has no `...` to fill:\n"
            f"{cell.source[:300]}"
        )
        cell.source = _without_solution_markers(sol.source)
        answered.append(index)
    return nb, answered


def set_track_line(source: str, track_name: str) -> str:
    """``source`` with its ``TRACK = ...`` line set to ``track_name``."""
    new, n = re.subn(r"(?m)^TRACK = .*$", f"TRACK = {json.dumps(track_name)}", source)
    assert n == 1, f"no single `TRACK = ` line in:\n{source}"
    return new


def set_identity_lines(source: str, student: str, code: str) -> str:
    """``source`` with its ``STUDENT_ID = ...`` and ``VARIANT_CODE = ...`` lines set."""
    for name, value in (("STUDENT_ID", student), ("VARIANT_CODE", code)):
        source, n = re.subn(rf"(?m)^{name} = .*$", f"{name} = {json.dumps(value)}", source)
        assert n == 1, f"no single `{name} = ` line in:\n{source}"
    return source


def track_line(source: str) -> str | None:
    """The ``TRACK = ...`` line of a cell's source, without its trailing comment."""
    for line in source.splitlines():
        if line.startswith("TRACK ="):
            return line.split("#", 1)[0].rstrip()
    return None


def find_display_cell(nb: nbformat.NotebookNode, needle: str) -> int:
    """Index of the one code cell that displays an expression mentioning ``needle``.

    Displayed: the cell's last statement (its value), or a top-level ``display(...)`` call.
    Cells are found by what they show, not by position: the notebook's text moves.

    Raises
    ------
    AssertionError
        If there is not exactly one such cell.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        shown = [
            node
            for k, node in enumerate(tree.body)
            if isinstance(node, ast.Expr)
            and (
                k == len(tree.body) - 1
                or (
                    isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name)
                    and node.value.func.id == "display"
                )
            )
        ]
        if any(needle in (ast.get_source_segment(cell.source, n) or "") for n in shown):
            found.append(i)
    assert len(found) == 1, f"expected one code cell displaying {needle!r}, found cells {found}"
    return found[0]


def output_text(cell: dict[str, Any]) -> str:
    """Every text an nbformat code cell's outputs hold (streams, plain text, tracebacks)."""
    parts = []
    for out in cell.get("outputs", []):
        text = out.get("text")
        if text:
            parts.append("".join(text) if isinstance(text, list) else text)
        data = out.get("data", {})
        for mime in ("text/plain", "text/html", "text/markdown"):
            value = data.get(mime)
            if value:
                parts.append("".join(value) if isinstance(value, list) else value)
        if out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])))
    return "\n".join(parts)


def output_pngs(cell: dict[str, Any]) -> list[str]:
    """The base64 PNGs among an nbformat code cell's outputs."""
    pngs = []
    for out in cell.get("outputs", []):
        png = out.get("data", {}).get("image/png")
        if png:
            pngs.append(("".join(png) if isinstance(png, list) else png).replace("\n", ""))
    return pngs


# --------------------------------------------------------------------- the server


@dataclass
class LabServer:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-n:])


def _isolated_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "IPYTHON")) and k not in {"MPLBACKEND", "MPLCONFIGDIR"}
    }
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
    }
    for var, name in dirs.items():
        path = home / name
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    for rel, settings in LAB_SETTINGS.items():
        target = home / "lab-settings" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings, indent=2))
    return env


def _stop_group(process: subprocess.Popen) -> None:
    """Stop the server's own process group (it, its kernels, their children) by its PID."""
    for sig, wait_s in ((signal.SIGTERM, SERVER_STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return  # nothing left in the group
        try:
            process.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    # Kernels outlive a killed server if they ignored SIGTERM: take the group down for sure.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def lab_server(root: Path, home: Path) -> Iterator[LabServer]:
    """A JupyterLab server on ``root``, configured in ``home``; stopped on exit."""
    port, token = free_port(), secrets.token_hex(16)
    env = _isolated_env(home)
    log = home / "jupyterlab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop_group(process)


def _wait_ready(server: LabServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    status = f"{server.url}/api/status?token={server.token}"
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(status, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"jupyter lab not ready after {SERVER_START_TIMEOUT_S:.0f} s:\n{server.log_tail()}"
            )
        time.sleep(0.2)  # a poll interval, bounded by the deadline above


# ---------------------------------------------------------------------- the page

# The notebook panel in front (JupyterLab hides the others with lm-mod-hidden).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

#: JS: the state of the notebook in front: kernel status and name, every code cell's prompt.
JS_NOTEBOOK_STATE = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const kernelName = panel.querySelector('.jp-KernelName, .jp-Toolbar-kernelName');
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Notebook-cell')];
  return {
    status: indicator ? indicator.getAttribute('data-status') : null,
    kernel: kernelName ? kernelName.textContent.trim() : null,
    nCells: cells.length,
    prompts: cells.map(c => c.classList.contains('jp-CodeCell')
      ? (c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim() : null),
    dirty: !!document.querySelector('.lm-TabBar-tab.lm-mod-current.jp-mod-dirty'),
  };
}
"""


def prompt_number(prompt: str | None) -> int | None:
    """``[12]:`` -> 12; None for ``[ ]:``, ``[*]:`` or no prompt."""
    match = re.fullmatch(r"\[(\d+)\]:?", (prompt or "").strip())
    return int(match.group(1)) if match else None


def block_outside_requests(context: Any) -> list[str]:
    """Abort every request of ``context`` not to 127.0.0.1; return the list of those blocked."""
    from urllib.parse import urlparse

    blocked: list[str] = []

    def handle(route: Any) -> None:
        url = route.request.url
        if urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
    return blocked


def shots_dir() -> Path:
    """Where element screenshots go (``OPS_BROWSER_SHOTS``, else /tmp/ops-browser-shots)."""
    path = Path(os.environ.get("OPS_BROWSER_SHOTS") or "/tmp/ops-browser-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path
