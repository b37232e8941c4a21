"""Scan a student release for anything secret: solutions, hidden tests, reference code.

Used by the build (which refuses to finish on a leak) and by the tests. The scan compares
normalised lines (whitespace folded): a leaked line is found wherever it was pasted.
"""

from __future__ import annotations

import ast
import inspect
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import nbformat
from otter.test_files.ok_test import OKTestFile

from labtools.release.support_package import REFERENCE_ONLY_MODULES, SHIPPED_MODULES

__all__ = ["Leak", "secret_lines", "scan_release", "release_texts"]

# Lines shorter than this are too generic to mean anything (``return hours``, ``)``).
MIN_SECRET_CHARS = 30


@dataclass(frozen=True)
class Leak:
    """A secret line found in a released file."""

    kind: str  # "solution", "hidden test", "reference", "file"
    file: str
    line: str


def _norm(line: str) -> str:
    return " ".join(line.split())


def _distinctive(lines: Iterable[str]) -> set[str]:
    return {n for n in map(_norm, lines) if len(n) >= MIN_SECRET_CHARS and not n.startswith("#")}


def _inline_solution_lines(code: str) -> list[str]:
    """Lines of a code cell that Otter strips: BEGIN/END SOLUTION blocks and ``# SOLUTION``."""
    found, inside = [], False
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.endswith("# END SOLUTION"):
            inside = False
        elif stripped.endswith(("# BEGIN SOLUTION", "# BEGIN SOLUTION NO PROMPT")):
            inside = True
        elif inside:
            found.append(line)
        elif stripped.endswith("# SOLUTION"):
            found.append(stripped.removesuffix("# SOLUTION"))
    return found


def solution_lines(master: nbformat.NotebookNode) -> set[str]:
    """What the master marks as solution.

    Markdown cells inside a raw ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block are
    solutions whole; in code cells, the inline blocks and ``# SOLUTION`` lines are.
    """
    found, in_block = [], False
    for cell in master.cells:
        text = cell.get("source", "")
        if cell.get("cell_type") == "raw":
            first = text.strip().splitlines()[0] if text.strip() else ""
            if first == "# BEGIN SOLUTION":
                in_block = True
            elif first == "# END SOLUTION":
                in_block = False
            continue
        if cell.get("cell_type") == "markdown":
            found += text.splitlines() if in_block else []
        else:
            found += _inline_solution_lines(text)
    return _distinctive(found)


def hidden_test_lines(tests_dir: Path) -> set[str]:
    """Code lines of every hidden test case of the autograder's test files."""
    lines = []
    for path in sorted(tests_dir.glob("*.py")):
        for case in OKTestFile.from_file(str(path)).test_cases:
            if case.hidden:
                lines += [
                    ln[4:] for ln in case.body.splitlines() if ln.startswith((">>> ", "... "))
                ]
    return _distinctive(lines)


def _function_body_lines(module_name: str) -> list[str]:
    module = import_module(module_name)
    source_lines = inspect.getsource(module).splitlines()
    lines = []
    for node in ast.walk(ast.parse("\n".join(source_lines))):
        if isinstance(node, ast.FunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring describes; it is not the implementation
            for stmt in body:
                lines += source_lines[stmt.lineno - 1 : stmt.end_lineno]
    return lines


def reference_lines() -> set[str]:
    """Body lines of the reference-only modules' functions that no shipped module has.

    Lines the shipped modules share (argument checks, idioms) are not secrets.
    """
    secret = _distinctive(
        line
        for name in REFERENCE_ONLY_MODULES
        for line in _function_body_lines(f"opsmodel.{name.removesuffix('.py')}")
    )
    shipped_root = Path(import_module("opsmodel").__file__).parent
    shipped = _norm(
        "\n".join(
            path.read_text()
            for name in SHIPPED_MODULES
            for path in (
                sorted((shipped_root / name).rglob("*.py"))
                if name.endswith("/")
                else [shipped_root / name]
            )
        )
    )
    return {line for line in secret if line not in shipped}


def secret_lines(master: nbformat.NotebookNode, autograder_tests: Path) -> dict[str, set[str]]:
    """Every kind of secret, by kind."""
    return {
        "solution": solution_lines(master),
        "hidden test": hidden_test_lines(autograder_tests),
        "reference": reference_lines(),
    }


def release_texts(release: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every file of a release folder or zip."""
    if release.is_file() and release.suffix == ".zip":
        with zipfile.ZipFile(release) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield info.filename, archive.read(info).decode("utf-8", errors="replace")
        return
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        yield str(path.relative_to(release)), path.read_text(encoding="utf-8", errors="replace")


def _unexpected_files(names: Iterable[str]) -> list[str]:
    shipped = tuple(f"opsmodel/{m}" for m in SHIPPED_MODULES)
    return [
        n
        for n in names
        if n.startswith("opsmodel/") and not n.startswith(shipped) and "__pycache__" not in n
    ]


def scan_release(release: Path, secrets: dict[str, set[str]]) -> list[Leak]:
    """Every secret line found in ``release`` (a folder or a zip), plus unexpected modules.

    Files are compared as whitespace-folded text, after undoing the escapes of JSON
    (notebooks) and of Python reprs (Otter test files), so a secret is found inside a
    string as well as on a line of its own.
    """
    leaks, names = [], []
    for name, text in release_texts(release):
        names.append(name)
        unescaped = text.replace("\\n", "\n").replace('\\"', '"').replace("\\'", "'")
        folded = _norm(unescaped)
        for kind, secret in secrets.items():
            leaks += [Leak(kind, name, line) for line in sorted(secret) if line in folded]
    leaks += [Leak("file", n, "reference-only module shipped") for n in _unexpected_files(names)]
    return leaks
