"""Build and grading tooling of the Operations-at-Scale lab (never shipped to students)."""
