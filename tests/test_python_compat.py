"""The shipped code (``opsmodel/`` and ``labtools/``, both in the Gradescope autograder zip)
runs on the oldest Python the project supports: Gradescope's default image is Ubuntu 22.04,
whose Python is 3.10.

`vermin <https://github.com/netromdk/vermin>`_ reads the source and names every module,
function, argument or syntax newer than the target (``tomllib`` and ``datetime.UTC`` are
3.11, say). It follows ``if sys.version_info >= (3, 11):`` guards, so version-dependent
imports such as :mod:`labtools._toml` pass. A deliberate exception takes a ``# novm`` comment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from labtools._toml import tomllib
from labtools.paths import LABTOOLS, OPSMODEL, REPO
from labtools.release.autograder_zip import grader_requirements

SHIPPED = (OPSMODEL, LABTOOLS)


def _oldest_python() -> str:
    """``3.10`` from ``requires-python = ">=3.10"``: the vermin target follows pyproject."""
    with (REPO / "pyproject.toml").open("rb") as f:
        spec = tomllib.load(f)["project"]["requires-python"]
    found = re.fullmatch(r"\s*>=\s*(3\.\d+)\s*", spec)
    assert found, f"requires-python {spec!r} is not of the form '>=3.N'"
    return found.group(1)


def _vermin(files: list[Path]) -> subprocess.CompletedProcess[str]:
    args = [
        f"--target={_oldest_python()}-",  # the code must run on this version and later
        "--violations",  # report only what breaks the target
        "--no-tips",
        # Annotations taken as evaluated: stricter, and annotations that 3.10 evaluates fine
        # (``X | None``, ``list[int]``, under ``from __future__ import annotations`` or not)
        # still pass. Union types are not flagged (vermin's union-types feature stays off).
        "--eval-annotations",
        # Source that today's interpreter cannot parse counts as incompatible, not as clean.
        "--pessimistic",
        "--processes=1",
        *map(str, files),
    ]
    return subprocess.run(
        [sys.executable, "-c", "import sys; from vermin import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _violations(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr).strip()


def _clean(result: subprocess.CompletedProcess[str]) -> bool:
    # vermin exits 0 on a file it cannot parse (newer syntax than the running interpreter's,
    # with --violations), saying "error:" about it instead.
    return result.returncode == 0 and not re.search(r"^\s*error:", result.stdout, re.MULTILINE)


def test_shipped_code_runs_on_the_oldest_supported_python() -> None:
    files = sorted(p for root in SHIPPED for p in root.rglob("*.py"))
    assert len(files) > 50, "the shipped packages were not found"
    result = _vermin(files)
    if not _clean(result):
        pytest.fail(
            f"code in opsmodel/ or labtools/ needs a Python newer than {_oldest_python()} "
            f"(the Gradescope image's), per vermin:\n{_violations(result)}",
            pytrace=False,
        )


def test_vermin_flags_newer_apis_and_passes_guarded_ones(tmp_path: Path) -> None:
    """The check can fail, and does not fail on what 3.10 runs."""
    new_api = tmp_path / "new_api.py"
    new_api.write_text(
        "import datetime\nimport tomllib\n\nNOW = datetime.datetime.now(datetime.UTC)\n"
    )
    result = _vermin([new_api])
    assert not _clean(result)
    assert "'tomllib' module requires" in result.stdout
    assert "'datetime.UTC' member requires" in result.stdout

    new_syntax = tmp_path / "new_syntax.py"  # PEP 695, Python 3.12
    new_syntax.write_text("def first[T](xs: list[T]) -> T:\n    return xs[0]\n")
    assert not _clean(_vermin([new_syntax]))

    fine = tmp_path / "fine.py"
    fine.write_text(
        textwrap.dedent(
            """\
            from __future__ import annotations

            import datetime
            import sys

            if sys.version_info >= (3, 11):
                import tomllib
            else:
                import tomli as tomllib


            def f(x: int | None, ys: list[dict[str, float]]) -> tuple[int, ...] | None:
                match x:
                    case None:
                        return None
                return (x, *map(len, ys))


            NOW = datetime.datetime.now(datetime.timezone.utc)
            LOADS = tomllib.loads
            """
        )
    )
    plain = tmp_path / "plain.py"  # annotations evaluated at definition time on 3.10
    plain.write_text("def g(x: int | None = None) -> list[str] | None:\n    return None\n")
    result = _vermin([fine, plain])
    assert _clean(result), _violations(result)


def test_toml_comes_from_the_standard_library_or_its_declared_backport() -> None:
    assert tomllib.__name__ == ("tomllib" if sys.version_info >= (3, 11) else "tomli")
    assert tomllib.loads("[a]\nb = 1\n") == {"a": {"b": 1}}
    # The backport is a dependency where it is needed, so it lands in the grader's
    # requirements.txt (made from pyproject) and Gradescope's Python 3.10 installs it.
    requirements = [Requirement(r) for r in grader_requirements()]
    tomli = [r for r in requirements if r.name == "tomli"]
    assert tomli, "tomli is missing from the grader's requirements"
    assert tomli[0].marker is not None
    assert tomli[0].marker.evaluate({"python_version": "3.10"})
    assert not tomli[0].marker.evaluate({"python_version": "3.11"})
