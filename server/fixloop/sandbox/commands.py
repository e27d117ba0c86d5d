"""Test commands: refuse the dangerous ones before they run, recognise pytest and node --test.

The sandbox would contain most of these anyway (no network, read-only root, no
capabilities); refusing them first gives the user a clear message instead of a confusing
failure, and keeps an LLM-written command from ever trying (the "execution hooks").
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from fixloop.sandbox.errors import CommandRefused

_OPERATORS = frozenset(";&|()<>")
_PRIVILEGE = frozenset({"sudo", "su", "doas", "pkexec", "runuser"})
_SYSTEM = frozenset(
    {
        "shutdown", "reboot", "halt", "poweroff", "init", "systemctl", "service", "mount",
        "umount", "fdisk", "parted", "iptables", "nsenter", "chroot", "insmod", "modprobe",
        "docker", "podman", "crontab", "passwd", "useradd", "usermod",
    }
)  # fmt: skip
_DOWNLOADERS = frozenset({"curl", "wget", "nc", "ncat", "netcat", "ssh", "scp", "ftp"})
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "fish"})
_WRAPPERS = frozenset({"env", "nohup", "time", "nice", "timeout", "exec", "command"})
_FORK_BOMB = re.compile(r":\s*\(\s*\)\s*\{")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
# The package managers whose `<tool> test` runs package.json's test script.
_PACKAGE_TEST = {
    ("npm", "test"), ("npm", "t"), ("npm", "run", "test"), ("npm", "run-script", "test"),
    ("yarn", "test"), ("yarn", "run", "test"), ("pnpm", "test"), ("pnpm", "run", "test"),
}  # fmt: skip


class CommandKind(StrEnum):
    PYTEST = "pytest"
    NODE = "node"
    OTHER = "other"


@dataclass(frozen=True)
class TestCommand:
    """A checked test command: its kind, its arguments and leading VAR=value settings."""

    __test__ = False  # not a pytest test class, despite the name

    source: str
    kind: CommandKind
    argv: tuple[str, ...]  # the whole command; ("sh", "-c", source) when it needs a shell
    args: tuple[str, ...] = ()  # after `pytest` / after `node --test`
    env: tuple[tuple[str, str], ...] = ()


def parse_command(command: str) -> TestCommand:
    """Check `command` (raises CommandRefused) and say how to run it."""
    tokens = _tokens(command)
    check_tokens(command, tokens)
    if any(_is_operator(token) for token in tokens):
        return TestCommand(command, CommandKind.OTHER, ("sh", "-c", command))
    env = tuple(tuple(t.split("=", 1)) for t in tokens if _ASSIGNMENT.match(t))
    argv = tuple(tokens[len(env) :])
    if not argv:
        raise CommandRefused(command, "there is no command to run")
    pairs = tuple((name, value) for name, value in env)
    if (pytest_args := _pytest_args(argv)) is not None:
        return TestCommand(command, CommandKind.PYTEST, argv, pytest_args, pairs)
    if argv[0] == "node" and "--test" in argv:
        rest = tuple(arg for arg in argv[1:] if arg != "--test")
        return TestCommand(command, CommandKind.NODE, argv, rest, pairs)
    return TestCommand(command, CommandKind.OTHER, argv, (), pairs)


def package_script(root: Path, command: str) -> str:
    """`command`, or the test script of the package at `root` when `command` is a package
    manager's `test` (`npm test`) and the script is one the sandbox can run alone. Its
    pre/post hooks are left out: they build or lint, they do not test."""
    if tuple(command.split()) not in _PACKAGE_TEST:
        return command
    try:
        scripts = json.loads((root / "package.json").read_text(encoding="utf-8"))["scripts"]
        script = scripts["test"]
    except (OSError, ValueError, KeyError, TypeError):
        return command
    if not isinstance(script, str) or not script.strip():
        return command
    words = script.split()
    if words[0] in ("npm", "yarn", "pnpm", "npx"):
        return command  # the package manager again: not in the sandbox either way
    binary = root / "node_modules" / ".bin" / words[0]
    if "/" not in words[0] and binary.exists():  # what npm's PATH would have found
        return f"node_modules/.bin/{script.strip()}"
    return script.strip()


def check_command(command: str) -> None:
    """Raise CommandRefused if `command` is one a test run has no business running."""
    check_tokens(command, _tokens(command))


def check_tokens(command: str, tokens: list[str]) -> None:
    if _FORK_BOMB.search(command):
        raise CommandRefused(command, "it defines a fork bomb")
    programs: set[str] = set()
    for simple in _simple_commands(tokens):
        programs.add(_check_simple(command, simple))
    if programs & _DOWNLOADERS:
        raise CommandRefused(command, "it uses the network, which the sandbox does not have")
    if "|" in tokens and programs & _SHELLS and programs & _DOWNLOADERS:
        raise CommandRefused(command, "it pipes a download into a shell")
    for index, token in enumerate(tokens[:-1]):
        if token in (">", ">>") and tokens[index + 1].startswith("/dev/sd"):
            raise CommandRefused(command, "it writes to a disk device")


def _check_simple(command: str, argv: list[str]) -> str:
    """Check one simple command; return its program's name."""
    while argv and (_ASSIGNMENT.match(argv[0]) or argv[0] in _WRAPPERS):
        argv = argv[1:]
    if not argv:
        return ""
    program = PurePosixPath(argv[0]).name
    if program in _PRIVILEGE:
        raise CommandRefused(command, f"`{program}` asks for privileges a test must not need")
    if program in _SYSTEM or program.startswith("mkfs"):
        raise CommandRefused(command, f"`{program}` administers the system")
    if program == "rm" and _removes_outside_project(argv[1:]):
        raise CommandRefused(command, "it deletes files outside the project")
    if program in ("chmod", "chown") and any(a == "/" or a.startswith("/") for a in argv[1:]):
        raise CommandRefused(command, f"`{program}` on system paths")
    if program == "dd" and any(a.startswith("of=/dev/") for a in argv[1:]):
        raise CommandRefused(command, "it writes to a device")
    if program == "kill" and "-1" in argv[1:]:
        raise CommandRefused(command, "it kills every process")
    if program in _SHELLS and "-c" in argv[1:-1]:
        inner = argv[argv.index("-c") + 1]
        _check_inner(command, inner)
    return program


def _check_inner(command: str, inner: str) -> None:
    """Check the script of `sh -c SCRIPT`, naming the whole command when refusing it."""
    try:
        check_tokens(inner, _tokens(inner))
    except CommandRefused as refused:
        raise CommandRefused(command, refused.reason) from refused


def _removes_outside_project(args: list[str]) -> bool:
    targets = [arg for arg in args if not arg.startswith("-")]
    return any(
        target.startswith(("/", "~", "$HOME", "${HOME}")) or ".." in PurePosixPath(target).parts
        for target in targets
    )


def _tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as error:  # unbalanced quotes
        raise CommandRefused(command, f"it cannot be parsed ({error})") from error


def _is_operator(token: str) -> bool:
    return bool(token) and set(token) <= _OPERATORS


def _simple_commands(tokens: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for token in tokens:
        if _is_operator(token):
            commands.append([])
        else:
            commands[-1].append(token)
    return [argv for argv in commands if argv]


def _pytest_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The arguments after pytest when argv runs pytest, else None."""
    name = PurePosixPath(argv[0]).name
    if name in ("pytest", "py.test"):
        return argv[1:]
    if _PYTHON.match(name):
        args = list(argv[1:])
        while args and args[0].startswith("-") and args[0] != "-m":
            args.pop(0)  # interpreter flags such as -B
        if args[:2] == ["-m", "pytest"]:
            return tuple(args[2:])
    return None


# pytest options whose value is the next argument: never mistaken for a test path.
_PYTEST_VALUED = frozenset(
    {
        "-k", "-m", "-p", "-o", "-c", "-W", "-n", "--deselect", "--ignore", "--ignore-glob",
        "--rootdir", "--confcutdir", "--basetemp", "--junitxml", "--log-level", "--tb",
        "--import-mode", "--durations", "--maxfail", "--override-ini", "--dist",
    }
)  # fmt: skip


def _test_paths(args: Sequence[str]) -> list[int]:
    """Where pytest's `args` name test paths (files, folders, node ids): not an option,
    nor an option's value."""
    return [
        index
        for index, arg in enumerate(args)
        if not arg.startswith("-") and (not index or args[index - 1] not in _PYTEST_VALUED)
    ]


def by_file(args: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """pytest's `args` with the node ids among its test paths replaced by their files
    (each once), and those ids, for the select plugin (_pytest_select.py): None when
    they name no node id, or name plain paths beside them (pytest's own selection)."""
    paths = _test_paths(args)
    ids = [args[index] for index in paths]
    if not ids or not all("::" in test for test in ids):
        return None
    files = dict.fromkeys(test.split("::", 1)[0] for test in ids)
    first, named = paths[0], set(paths)
    rest = [arg for index, arg in enumerate(args) if index not in named]
    return [*rest[:first], *files, *rest[first:]], ids


def with_tests(command: str, tests: Iterable[str]) -> str:
    """A pytest `command` narrowed to `tests` (node ids or files): the test paths it names
    itself are dropped, or pytest would run them too; its options stay."""
    parsed = parse_command(command)
    chosen = [shlex.quote(test) for test in tests]
    if parsed.kind is not CommandKind.PYTEST or not chosen:
        return command
    tokens = _tokens(command)
    start = len(tokens) - len(parsed.args)
    paths = {start + index for index in _test_paths(parsed.args)}
    kept = [shlex.quote(token) for index, token in enumerate(tokens) if index not in paths]
    return " ".join([*kept, *chosen])
