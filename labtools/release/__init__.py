"""Build the assignment from its one master notebook: student release, solutions, autograder."""
