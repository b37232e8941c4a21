"""Dependencies point one way: every import in the code base, read from the source, obeys the
layers of ``docs/architecture.md``; and the autograder zip ships only what grading runs.

The layers, lowest first (a module may import its own layer and the ones below)::

    opsmodel  <-  labtools.sandbox  <-  labtools.grading  <-  {labtools.batch,
    labtools.nbgrader_course}  <-  labtools.release  <-  {labtools.selfcheck, labtools.ta,
    labtools.cli}

Imports inside functions count as much as those at the top: a lazy import is still a
dependency. ``labtools``'s own small modules (``paths``, ``_toml``, ``files``, ``rubric``)
sit below everything in ``labtools`` but above ``opsmodel``.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest

from labtools.paths import REPO

#: Layer of each package (its dotted prefix); a higher number may import lower ones.
LAYERS = {
    "opsmodel": 0,
    "labtools": 1,  # the package's __init__ only: every labtools module below has its own key
    "labtools.paths": 1,
    "labtools._toml": 1,
    "labtools.files": 1,
    "labtools.rubric": 1,
    "labtools.sandbox": 2,
    "labtools.grading": 3,
    "labtools.batch": 4,
    "labtools.nbgrader_course": 4,
    "labtools.release": 5,
    "labtools.selfcheck": 6,
    "labtools.ta": 6,
    "labtools.cli": 7,
}
#: Packages of one layer that must not import each other.
SIBLINGS = [("labtools.batch", "labtools.nbgrader_course"), ("labtools.selfcheck", "labtools.ta")]


def _package(module: str) -> str | None:
    """The :data:`LAYERS` key ``module`` belongs to (the longest matching prefix)."""
    best = None
    for key in LAYERS:
        if (module == key or module.startswith(key + ".")) and (
            best is None or len(key) > len(best)
        ):
            best = key
    return best


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # "from labtools import ta" imports the package ta.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _source_files() -> list[Path]:
    return sorted([*(REPO / "opsmodel").rglob("*.py"), *(REPO / "labtools").rglob("*.py")])


def wrong_way_imports() -> list[str]:
    """Every import that points up or sideways, as 'file:line: importer -> imported'."""
    wrong = []
    for path in _source_files():
        importer = _package(_module_name(path))
        assert importer is not None, f"{path} belongs to no layer: add it to LAYERS"
        seen = set()
        for line, module in _imports(path):
            imported = _package(module)
            if imported is None or imported == importer or (line, imported) in seen:
                continue
            seen.add((line, imported))
            sideways = (importer, imported) in SIBLINGS or (imported, importer) in SIBLINGS
            if LAYERS[imported] > LAYERS[importer] or sideways:
                where = f"{path.relative_to(REPO)}:{line}"
                wrong.append(f"{where}: {importer} -> {module}")
    return wrong


def test_no_import_points_up_or_sideways():
    assert wrong_way_imports() == []


def test_the_layer_check_catches_a_wrong_way_import():
    # A sandbox module importing the grading harness is caught, lazily imported or not.
    bad = REPO / "labtools" / "sandbox" / "_layer_probe.py"
    bad.write_text("def f():\n    from labtools.grading.harness import GradingConfig\n")
    try:
        found = wrong_way_imports()
    finally:
        bad.unlink()
    assert found == [
        "labtools/sandbox/_layer_probe.py:2: labtools.sandbox -> labtools.grading.harness"
    ]


def test_opsmodel_imports_nothing_of_the_tooling():
    for path in (REPO / "opsmodel").rglob("*.py"):
        assert not [m for _, m in _imports(path) if m.startswith("labtools")], path


def test_the_sandbox_is_generic():
    # It runs any code under limits: nothing of the lab's model, not even its errors.
    for path in (REPO / "labtools" / "sandbox").rglob("*.py"):
        assert not [m for _, m in _imports(path) if m.startswith("opsmodel")], path


@pytest.mark.slow
def test_the_autograder_zip_ships_only_what_grading_runs(built):
    from labtools.release.autograder_zip import GRADER_MODULES

    with zipfile.ZipFile(built.autograder_zip) as archive:
        names = archive.namelist()
    shipped = {n.split("/")[2] for n in names if n.startswith("lib/labtools/")}
    assert shipped == set(GRADER_MODULES)
    for absent in ("release", "ta", "nbgrader_course", "selfcheck", "batch", "cli.py"):
        assert not [n for n in names if n.startswith(f"lib/labtools/{absent}")], absent
    assert not [n for n in names if n.startswith("lib/labtools/grading/batch")]
