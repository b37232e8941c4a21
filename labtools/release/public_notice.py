"""Make every public check say plainly that hidden tests run after submission.

Otter prints "All test cases passed!" when a question's *public* cases pass, which students
read as full marks. The build adds a success message to the last public case of each
student test file, so that every passing check ends with this notice.
"""

from __future__ import annotations

import ast
import pprint
from pathlib import Path

__all__ = ["PUBLIC_NOTICE", "add_public_notice"]

PUBLIC_NOTICE = (
    "These were the public checks only. Hidden tests, on your track's numbers and on fresh "
    "inputs, run after you submit."
)


def add_public_notice(tests_dir: Path) -> None:
    """Rewrite each OK-format test file of ``tests_dir`` with the notice on its last case."""
    for path in sorted(tests_dir.glob("*.py")):
        module = ast.parse(path.read_text())
        assign = next(
            node
            for node in module.body
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "test"
        )
        spec = ast.literal_eval(assign.value)
        cases = [c for suite in spec["suites"] for c in suite["cases"] if not c.get("hidden")]
        if not cases:
            raise ValueError(f"{path.name}: a question needs at least one public test")
        cases[-1]["success_message"] = PUBLIC_NOTICE
        path.write_text(f"OK_FORMAT = True\n\ntest = {pprint.pformat(spec, indent=4, width=100)}\n")
