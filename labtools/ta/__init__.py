"""The TAs' workflow for the written answers: a blind grading packet, then the scores' import.

Modules, in the order a TA meets them:

- :mod:`~labtools.ta.answers`: the written answers and the governance ledger of one notebook
  (Otter or nbgrader form), read statically, never run;
- :mod:`~labtools.ta.packet`: ``ops-lab ta-packet``: the packet (one offline HTML page, every
  answer beside the rubric, anonymous labels, a seeded shuffle), the score sheet, the key;
- :mod:`~labtools.ta.sheet`: the score sheet's columns and the key file;
- :mod:`~labtools.ta.scores`: ``ops-lab ta-import``: the sheet checked whole, then nbgrader's
  gradebook and the combined gradebook CSV for the LMS;
- :mod:`~labtools.ta.cli`: the two subcommands' options.
"""
