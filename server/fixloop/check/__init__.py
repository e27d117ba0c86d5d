"""`fixloop check`: the editor's analysis over files and folders, for CI."""

from fixloop.check.runner import CheckedFile, check_paths

__all__ = ["CheckedFile", "check_paths"]
