"""The JupyterHub path: an nbgrader course generated from the one master notebook.

Modules, in the order a build uses them:

- :mod:`~labtools.nbgrader_course.cells`: the cell formats (one locked test cell per Otter
  case, grade ids, stubs) and their conversion back to Otter's test files;
- :mod:`~labtools.nbgrader_course.generate`: master notebook -> nbgrader source notebook,
  checked against Otter Assign's output of the same master;
- :mod:`~labtools.nbgrader_course.config`: the course's ``nbgrader_config.py``;
- :mod:`~labtools.nbgrader_course.execute`: ``SandboxedExecute``, the autograde step that runs
  student code in the grading sandbox and the tests on the trusted side, as Gradescope does;
- :mod:`~labtools.nbgrader_course.course`: write the course, run nbgrader's commands, map
  Otter-format notebooks into submissions, read per-question scores from the gradebook.

The course scores every autograded question exactly as the Gradescope autograder does: the
same test cases (rebuilt from the gradebook), the same runner
(:func:`labtools.grading.test_runner.run_question`), the same sandboxed kernel and limits.
"""
