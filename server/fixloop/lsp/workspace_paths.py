"""Workspace membership by resolved path: a URI's text may say it is under a folder
(`file:///ws/../../etc/passwd.py` starts with `file:///ws/`) while the file is not."""

from __future__ import annotations

from pathlib import Path

from pygls.uris import to_fs_path


def resolved(uri: str) -> Path | None:
    """The file a `file:` URI names, with `..` and symlinks resolved; None for others."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if not path:
        return None
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return None


def innermost_folder(uri: str, folders: list[str]) -> Path | None:
    """The innermost of the workspace `folders` (URIs) that really holds `uri`'s file, as
    the folder's URI names it (membership is decided on resolved paths)."""
    target = resolved(uri)
    if target is None:
        return None
    holding = [
        (len(root.parts), folder)
        for folder in folders
        if (root := resolved(folder)) is not None and target.is_relative_to(root) and target != root
    ]
    if not holding:
        return None
    path = to_fs_path(max(holding)[1])
    return Path(path) if path else None
