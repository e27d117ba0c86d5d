"""Test generation for one Python function ("Generate tests for this function").

`generate_tests(root, file, pool, line=... | function=...)` returns a `GeneratedTests`:
a pytest file that ran and passed in the sandbox, and where to create it. No LSP here.
"""

from fixloop.testgen.errors import TestGenError
from fixloop.testgen.generate import GeneratedTests, generate_tests
from fixloop.testgen.target import FunctionTarget, find_function
from fixloop.testgen.verify import Dropped

__all__ = [
    "Dropped",
    "FunctionTarget",
    "GeneratedTests",
    "TestGenError",
    "find_function",
    "generate_tests",
]
