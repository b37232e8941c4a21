"""One autograding worker process: nbgrader imported once, then one student after another.

``python -m labtools.nbgrader_course.autograde_worker COURSE [--force]``, started by
:mod:`labtools.nbgrader_course.parallel_autograde`. It loads the course's configuration as
the ``nbgrader`` command and the Formgrader do (``nbgrader_config.py`` of the course folder
and of Jupyter's config folders), then reads one JSON line per student on its standard input
and autogrades that student with nbgrader's own API (``NbGraderAPI.autograde``, what the
Formgrader's button calls), writing one JSON line back: ``student``, ``success``,
``seconds``, ``log`` (nbgrader's log of that student) and ``error`` (a traceback).

One process per worker rather than per student: starting Python with nbgrader, Otter and the
grader takes about 4 s, as long as grading a short notebook. The answers go to a copy of the
original standard output; file descriptor 1 itself is pointed at standard error, so that
nothing else the process or its children print can garble them.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time
from pathlib import Path

from labtools.nbgrader_course.cells import ASSIGNMENT_ID

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Serve students read from standard input until it closes; 0 when it does."""
    args = list(sys.argv[1:] if argv is None else argv)
    force = "--force" in args
    course = Path(next(a for a in args if a != "--force")).resolve()
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints (nbgrader's, the kernel launcher's) go to stderr
    sys.stdout = sys.stderr

    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader

    os.chdir(course)  # nbgrader reads ./nbgrader_config.py, as in the course folder
    app = NbGrader()
    app.load_config_file()
    api = NbGraderAPI(config=app.config)
    for line in sys.stdin:
        if not line.strip():
            continue
        student = json.loads(line)
        start = time.perf_counter()
        # --student is a glob: a name with [, * or ? must match itself only.
        result = api.autograde(ASSIGNMENT_ID, glob.escape(student), force=force, create=True)
        answer = {
            "student": student,
            "success": bool(result.get("success")),
            "seconds": time.perf_counter() - start,
            "log": result.get("log", ""),
            "error": result.get("error", ""),
        }
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
