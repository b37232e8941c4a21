"""A submission whose notebook is a symlink to the grader's config (and one to a test file).

If the grader followed it, it would read (and maybe echo) ``ops_lab.json``, which holds the
fake token of this run. Expected: links are never followed; no notebook is found, score 0,
and neither the token nor the test text appears in the results.
"""

from pathlib import Path

GROUP = ""


def submission(folder: Path, layout) -> None:
    (folder / "ops_scale.ipynb").symlink_to(layout.source / "ops_lab.json")
    (folder / "answers.ipynb").symlink_to(layout.source / "tests" / "q3a_psi.py")


PHRASES = {"summary": ["No notebook found in your submission"]}
RESULTS_EXCLUDE = ["@SECRET@", "check_psi_examples"]
