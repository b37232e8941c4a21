"""Every example in :mod:`opsmodel`'s docstrings runs and shows what it says.

The reference model documents itself with examples (about 170, most of them worked numbers
of the lab's spec); students read the shipped modules' docstrings. Each module's examples run
here with :mod:`doctest`, one test per module, so a changed result cannot leave a stale
example behind.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import opsmodel


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(opsmodel.__path__, "opsmodel."))


MODULES = _modules()
#: Modules without an example of their own (private helpers, packages' __init__).
WITHOUT_EXAMPLES = {
    name
    for name in MODULES
    if not any(t.examples for t in doctest.DocTestFinder().find(importlib.import_module(name)))
}


@pytest.mark.parametrize("module_name", sorted(set(MODULES) - WITHOUT_EXAMPLES))
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    output = io.StringIO()
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=output.write)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0
    assert results.failed == 0, output.getvalue()


def test_the_examples_are_found() -> None:
    # A finder that silently found nothing would pass every test above.
    examples = sum(
        len(t.examples)
        for name in MODULES
        for t in doctest.DocTestFinder().find(importlib.import_module(name))
    )
    assert examples >= 150, examples
    assert {"opsmodel.toil", "opsmodel.sample_size", "opsmodel.sprt"} <= set(MODULES)
