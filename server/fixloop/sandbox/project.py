"""The part of a project that is copied into the sandbox, as a fingerprint and as a tar."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

BYTECODE_FOLDER = "__pycache__"
_IMPORTS_HYPOTHESIS = re.compile(rb"^\s*(?:from|import)\s+hypothesis\b", re.MULTILINE)


@dataclass(frozen=True)
class Snapshot:
    root: Path
    files: tuple[tuple[str, os.stat_result], ...]  # (posix path relative to root, lstat)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for relative, info in self.files:
            digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        return digest.hexdigest()


def snapshot(root: Path, excludes: tuple[str, ...], bytecode: bool = False) -> Snapshot:
    """Every file under root the sandbox needs: excluded directories and virtualenvs
    skipped. With `bytecode`, the `.pyc` files of `__pycache__` folders too: what the
    user's own test runs compiled (pytest's rewritten test modules among them) is loaded
    in the sandbox instead of compiled again, once Python has checked it against its
    source there (marshmallow's test modules: 1.2 s of CPU in every run otherwise)."""
    keep_node_modules = _declares_dependencies(root / "package.json")
    skipped = set(excludes) - ({"node_modules"} if keep_node_modules else set())
    files: list[tuple[str, os.stat_result]] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(
            name
            for name in subdirs
            if (name not in skipped or (bytecode and name == BYTECODE_FOLDER))
            and not (Path(directory, name, "pyvenv.cfg")).exists()
        )
        only_bytecode = Path(directory).name == BYTECODE_FOLDER and BYTECODE_FOLDER in skipped
        for name in sorted(names):
            if only_bytecode and not name.endswith(".pyc"):
                continue
            path = Path(directory, name)
            info = path.lstat()
            if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                files.append((path.relative_to(root).as_posix(), info))
    return Snapshot(root, tuple(files))


def _declares_dependencies(package_json: Path) -> bool:
    try:
        manifest = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and bool(
        manifest.get("dependencies") or manifest.get("devDependencies")
    )


@dataclass(frozen=True)
class Archive:
    data: bytes
    uses_hypothesis: bool


def archive(
    project: Snapshot,
    prefix: str,
    extra: dict[str, bytes],
    owner_uid: int,
    links: dict[str, str] | None = None,
) -> Archive:
    """A tar of the snapshot under `prefix/`, plus `extra` files and `links` (a path under
    `prefix/` → where it points); modes made group/other read-only so that candidates
    (other uids) can read the copy but never change it."""
    buffer = io.BytesIO()
    uses_hypothesis = False
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        directories: set[str] = set()
        for relative, info in project.files:
            _add_parents(tar, f"{prefix}/{relative}", directories, owner_uid)
            path = project.root / relative
            entry = _entry(f"{prefix}/{relative}", owner_uid, info.st_mtime)
            if stat.S_ISLNK(info.st_mode):
                entry.type, entry.linkname = tarfile.SYMTYPE, os.readlink(path)
                tar.addfile(entry)
                continue
            data = path.read_bytes()
            uses_hypothesis = uses_hypothesis or (
                relative.endswith(".py") and bool(_IMPORTS_HYPOTHESIS.search(data))
            )
            entry.size, entry.mode = len(data), 0o755 if info.st_mode & 0o111 else 0o644
            tar.addfile(entry, io.BytesIO(data))
        for name, target in (links or {}).items():
            entry = _entry(f"{prefix}/{name}", owner_uid, 0)
            entry.type, entry.linkname = tarfile.SYMTYPE, target
            tar.addfile(entry)
        for name, data in extra.items():
            _add_parents(tar, name, directories, owner_uid)
            entry = _entry(name, owner_uid, 0)
            entry.size, entry.mode = len(data), 0o644
            tar.addfile(entry, io.BytesIO(data))
    return Archive(buffer.getvalue(), uses_hypothesis)


def _entry(name: str, owner_uid: int, mtime: float) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.uid = entry.gid = owner_uid
    entry.mtime = int(mtime)
    return entry


def _add_parents(tar: tarfile.TarFile, name: str, seen: set[str], owner_uid: int) -> None:
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        directory = "/".join(parts[:depth])
        if directory not in seen:
            seen.add(directory)
            entry = _entry(directory, owner_uid, 0)
            entry.type, entry.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(entry)


# Folders no project's own code is in, when looking for what it imports.
_NOT_THE_PROJECTS = {"node_modules", "__pycache__", "site-packages", "build", "dist"}
_MAX_SCANNED = 5_000  # Python files read at most: a huge tree is not read whole


def imports_hypothesis(root: Path) -> bool:
    """Whether the project's own Python files (its tests, mostly) import hypothesis, so
    the user's environment has it: virtualenvs, hidden and build folders skipped."""
    scanned = 0
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [
            name
            for name in subdirs
            if not name.startswith(".")
            and name not in _NOT_THE_PROJECTS
            and not Path(directory, name, "pyvenv.cfg").exists()
        ]
        for name in names:
            if not name.endswith(".py"):
                continue
            scanned += 1
            if scanned > _MAX_SCANNED:
                return False
            try:
                if _IMPORTS_HYPOTHESIS.search(Path(directory, name).read_bytes()):
                    return True
            except OSError:
                continue
    return False


def uses_hypothesis(changes: dict[str, str]) -> bool:
    return any(
        path.endswith(".py") and _IMPORTS_HYPOTHESIS.search(text.encode())
        for path, text in changes.items()
    )
