"""The nbgrader path, with or without JupyterHub: a course generated from the one master notebook.

Modules, in the order a build uses them:

- :mod:`~labtools.nbgrader_course.cells`: the cell formats (one locked test cell per Otter
  case, grade ids, stubs) and their conversion back to Otter's test files;
- :mod:`~labtools.nbgrader_course.generate`: master notebook -> nbgrader source notebook,
  checked against Otter Assign's output of the same master;
- :mod:`~labtools.nbgrader_course.config`: the course's ``nbgrader_config.py``;
- :mod:`~labtools.nbgrader_course.execute`: ``SandboxedExecute``, the autograde step that runs
  student code in the grading sandbox and the tests on the trusted side, as Gradescope does;
- :mod:`~labtools.nbgrader_course.course`: run nbgrader's commands, place a submission,
  read per-question scores from the gradebook;
- :mod:`~labtools.nbgrader_course.submission_format`: the check that a submitted notebook is
  one nbgrader can autograde, run before nbgrader's own steps;
- :mod:`~labtools.nbgrader_course.parallel_autograde`: ``ops-lab nbgrader-autograde``, N
  students at a time, and a log that explains its warnings once; its workers are
  :mod:`~labtools.nbgrader_course.worker_pool` and
  :mod:`~labtools.nbgrader_course.autograde_worker`;
- :mod:`~labtools.nbgrader_course.cell_matching`: a student's notebook (Otter's format, or
  nbgrader's with cells added, deleted or moved) matched onto the release;
- :mod:`~labtools.nbgrader_course.importing`: ``ops-lab nbgrader-import``, notebooks into
  ``submitted/``, atomically, never over a submission without ``force``, originals kept.

The course scores every autograded question exactly as the Gradescope autograder does: the
same test cases (rebuilt from the gradebook), the same runner
(:func:`labtools.grading.test_runner.run_question`), the same sandboxed kernel and limits.
"""
