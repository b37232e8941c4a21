"""The TAs' workflow for the written answers: a blind grading packet, then the scores' import.

Modules, in the order a TA meets them:

- :mod:`~labtools.ta.answers`: the written answers and the governance ledger of one notebook
  (Otter or nbgrader form), read statically, never run;
- :mod:`~labtools.ta.packet`: ``ops-lab ta-packet``: the packet put together (where the
  submissions are, each student read, the files written), from

  - :mod:`~labtools.ta.packet_order`: the seeded shuffle and the anonymous labels;
  - :mod:`~labtools.ta.packet_entries`: one student's part: answers, ledger, and the
    autograded ledger items (batch ``results.json`` data or nbgrader's gradebook);
  - :mod:`~labtools.ta.packet_html`: the one offline, blind HTML page;

- :mod:`~labtools.ta.sheet`: the blind score sheet's columns (labels only) and the key file;
- :mod:`~labtools.ta.score_import`: ``ops-lab ta-import``, in these steps:

  - :mod:`~labtools.ta.filled_sheet`: the filled sheet read and checked whole, each label
    mapped back to its student through the key;
  - :mod:`~labtools.ta.nbgrader_gradebook`: nbgrader's SQLite gradebook (autograded test
    cells read, written scores written);
  - :mod:`~labtools.ta.combined_gradebook`: the full combined gradebook CSV, from a batch's
    ``gradebook.csv`` or nbgrader's gradebook;
  - :mod:`~labtools.ta.lms_grades`: one final grade per submission and its students, named
    from the grader and the roster;
  - :mod:`~labtools.ta.canvas_gradebook` and :mod:`~labtools.ta.moodle_gradebook`: the files
    Canvas's and Moodle's grade imports read;

- :mod:`~labtools.ta.cli`: the two subcommands' options.
"""
