"""Failing tests as findings in the user's files: which tests concern a source file, running
them in the sandbox, and placing each failure on the line where it surfaced.

Knows nothing of LSP: the server turns `TestFinding`s into diagnostics.
"""

from fixloop.failures.findings import TestFinding, findings_for
from fixloop.failures.related import Selection, select_tests
from fixloop.failures.run import TestRun, run_tests

__all__ = ["Selection", "TestFinding", "TestRun", "findings_for", "run_tests", "select_tests"]
