"""Grading: run a submission, compare with the reference, write Gradescope results."""
