"""fixloop: a language server that fixes code by the loop."""

__version__ = "0.1.0"
