"""The self-check: grade sample submissions with a built autograder and compare their scores.

It sits above the release build (it grades what ``ops-lab build`` made) and is run by the
CLI (``ops-lab selfcheck``), the test suite and the bare-image check.
"""
