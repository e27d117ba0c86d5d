"""Safety rules for Python (FL1xx): code execution, shells, unsafe deserialisation."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fixloop.analysis.findings import Finding, Fix, Group, Severity, TextEdit
from fixloop.analysis.rules import Match, Rule, register
from fixloop.analysis.safety._common import (
    arguments,
    is_python_literal,
    keyword,
    positional,
    remove_argument,
)
from fixloop.analysis.source import Span

if TYPE_CHECKING:
    from tree_sitter import Node

PYTHON = frozenset({"python"})


def _text(match: Match, node: Node | None) -> str:
    return "" if node is None else match.text(node)


# --- FL101 eval / exec / compile ------------------------------------------------------


def _check_eval(rule: Rule, match: Match) -> Iterator[Finding]:
    call, args = match.node("call"), match.node("args")
    if call is None or args is None:
        return
    name = _text(match, match.node("fn"))
    given = positional(args)
    if name == "compile" and len(given) < 3 and keyword(args, "mode", match.source) is None:
        return  # not the builtin (which needs source, filename, mode): `from re import compile`
    code = given[0] if given else keyword(args, "source", match.source)
    if code is None or is_python_literal(code):
        return
    yield rule.finding(call, f"`{name}` runs code built at run time; never pass it input")


EVAL = Rule(
    code="FL101",
    name="eval-exec",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=PYTHON,
    query="""
((call function: (identifier) @fn arguments: (argument_list) @args) @call
 (#any-of? @fn "eval" "exec" "compile"))
((call
   function: (attribute object: (identifier) @module attribute: (identifier) @fn)
   arguments: (argument_list) @args) @call
 (#eq? @module "builtins") (#any-of? @fn "eval" "exec" "compile"))
""",
    check=_check_eval,
    explanation="eval, exec and compile run whatever code they are given; with input from "
    "outside that is arbitrary code execution. Parse data with json or ast.literal_eval.",
)


# --- FL102 subprocess with a shell --------------------------------------------------

# Anything the shell would interpret: the fix must not change what runs.
_SHELL_SYNTAX = re.compile(r"""[|&;<>()$`*?\[\]{}~"'\\#!\n\r]""")
_SHELL_BUILTINS = frozenset(
    {
        ".", ":", "[", "alias", "bg", "break", "builtin", "case", "cd", "command", "continue",
        "declare", "dirs", "eval", "exec", "exit", "export", "fg", "for", "function",
        "getopts", "hash", "history", "if", "jobs", "let", "local", "popd", "pushd", "read",
        "readonly", "return", "set", "shift", "shopt", "source", "test", "times", "trap",
        "type", "typeset", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
        # cmd.exe, which shell=True means on Windows: without it these do not exist there
        "assoc", "call", "cls", "color", "copy", "del", "dir", "echo", "endlocal", "erase",
        "ftype", "goto", "md", "mkdir", "mklink", "move", "path", "pause", "rd", "ren",
        "rename", "rmdir", "setlocal", "start", "title", "ver", "verify", "vol",
    }
)  # fmt: skip


def _command_words(match: Match, command: Node) -> list[str] | None:
    """The words of a plain literal command that needs no shell, else None."""
    parts = command.named_children
    if command.type != "string" or len(parts) != 3 or parts[1].type != "string_content":
        return None
    if parts[1].named_child_count:  # escape sequences
        return None
    prefix = match.text(parts[0]).rstrip("\"'").lower()
    content = match.text(parts[1])
    if prefix not in ("", "r", "u") or _SHELL_SYNTAX.search(content):
        return None
    words = shlex.split(content)
    if not words or words[0] in _SHELL_BUILTINS or "=" in words[0]:
        return None  # `FOO=1 cmd` sets a variable: only a shell reads it that way
    return words


def _shell_fix(match: Match, args: Node, shell: Node) -> Fix | None:
    given = positional(args)
    if not given or keyword(args, "executable", match.source) is not None:
        return None  # executable= replaces /bin/sh: an argument list would mean another thing
    words = _command_words(match, given[0])
    removal = remove_argument(match.source, shell)
    if words is None or removal is None:
        return None
    quote = '"' if match.text(given[0]).endswith('"') else "'"
    listed = "[" + ", ".join(f"{quote}{word}{quote}" for word in words) + "]"
    command = TextEdit(Span(given[0].start_byte, given[0].end_byte), listed)
    return Fix("Pass the command as an argument list, without a shell", (command, removal))


def _check_shell(rule: Rule, match: Match) -> Iterator[Finding]:
    call, args, shell = match.node("call"), match.node("args"), match.node("shell")
    if call is None or args is None:
        return
    name = _text(match, call.child_by_field_name("function"))  # as written: `sp.run`
    if shell is None:  # getoutput / getstatusoutput: always through the shell
        yield rule.finding(call, f"`{name}` runs its command through a shell")
        return
    yield rule.finding(
        call,
        f"`{name}(…, shell=True)` runs the command through a shell",
        fix=_shell_fix(match, args, shell),
    )


SUBPROCESS_SHELL = Rule(
    code="FL102",
    name="subprocess-shell",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=PYTHON,
    # Any object (`subprocess`, an alias such as `sp`) and bare names from
    # `from subprocess import run`: `shell=True` is the signal, the import is out of reach.
    query="""
((call
   function: [(identifier) @fn (attribute attribute: (identifier) @fn)]
   arguments: (argument_list
     (keyword_argument name: (identifier) @kw value: (true)) @shell) @args) @call
 (#eq? @kw "shell")
 (#any-of? @fn "run" "call" "Popen" "check_call" "check_output"))
((call
   function: (attribute object: (identifier) @module attribute: (identifier) @fn)
   arguments: (argument_list) @args) @call
 (#eq? @module "subprocess") (#any-of? @fn "getoutput" "getstatusoutput"))
""",
    check=_check_shell,
    explanation="With a shell, any part of the command that comes from outside can add "
    "commands of its own (`; rm -rf ~`). Pass an argument list and leave shell=False.",
)


# --- FL103 os.system / os.popen -------------------------------------------------------


def _check_os_system(rule: Rule, match: Match) -> Iterator[Finding]:
    call = match.node("call")
    if call is not None:
        name = _text(match, match.node("fn"))
        yield rule.finding(call, f"`os.{name}` runs its command through a shell")


OS_SYSTEM = Rule(
    code="FL103",
    name="os-system",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=PYTHON,
    query="""
((call function: (attribute object: (identifier) @module attribute: (identifier) @fn)) @call
 (#eq? @module "os") (#any-of? @fn "system" "popen"))
""",
    check=_check_os_system,
    explanation="os.system and os.popen hand the command to a shell. Use subprocess.run with "
    "an argument list.",
)


# --- FL104 pickle / marshal -----------------------------------------------------------


def _is_round_trip(match: Match, args: Node | None) -> bool:
    """`pickle.loads(pickle.dumps(x))`: the data was made right here (a common test idiom)."""
    given = positional(args) if args is not None else []
    if not given or given[0].type != "call":
        return False
    function = given[0].child_by_field_name("function")
    attribute = function.child_by_field_name("attribute") if function is not None else None
    return attribute is not None and match.text(attribute) == "dumps"


def _check_pickle(rule: Rule, match: Match) -> Iterator[Finding]:
    call = match.node("call")
    if call is not None and not _is_round_trip(match, match.node("args")):
        name = f"{_text(match, match.node('module'))}.{_text(match, match.node('fn'))}"
        yield rule.finding(call, f"`{name}` can run arbitrary code from the data it reads")


PICKLE = Rule(
    code="FL104",
    name="pickle-load",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=PYTHON,
    query="""
((call
   function: (attribute object: (identifier) @module attribute: (identifier) @fn)
   arguments: (argument_list) @args) @call
 (#any-of? @module "pickle" "cPickle" "_pickle" "marshal" "dill" "cloudpickle")
 (#any-of? @fn "load" "loads" "Unpickler"))
""",
    check=_check_pickle,
    explanation="Unpickling runs code chosen by whoever wrote the bytes. Load only data you "
    "produced yourself; for anything else use json or another data-only format.",
)


# --- FL105 tempfile.mktemp ------------------------------------------------------------


def _check_mktemp(rule: Rule, match: Match) -> Iterator[Finding]:
    call = match.node("call")
    if call is not None:
        yield rule.finding(call, "`mktemp` returns a name another process can take first")


MKTEMP = Rule(
    code="FL105",
    name="tempfile-mktemp",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=PYTHON,
    # No fix: mkstemp returns (fd, path), not a drop-in for the name mktemp returns.
    query="""
((call function: (attribute object: (identifier) @module attribute: (identifier) @fn)) @call
 (#eq? @module "tempfile") (#eq? @fn "mktemp"))
((call function: (identifier) @fn) @call (#eq? @fn "mktemp"))
""",
    check=_check_mktemp,
    explanation="tempfile.mktemp only picks a name; between that and opening the file an "
    "attacker can create it (a race). Use mkstemp, NamedTemporaryFile or mkdtemp.",
)


# --- FL106 yaml.load ------------------------------------------------------------------

_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
# Bare names a project is unlikely to define itself; a bare `Loader` is often a local
# subclass of SafeLoader, so only `yaml.Loader` counts as unsafe.
_UNSAFE_LOADERS = frozenset(
    {"UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader"}
)
_SAFE_NAMES = {"load": "safe_load", "load_all": "safe_load_all"}


def _loader(match: Match, args: Node) -> Node | None:
    given = keyword(args, "Loader", match.source)
    if given is not None:
        return given
    rest = positional(args)[1:2]
    return rest[0] if rest else None


def _loader_is_unsafe(match: Match, loader: Node) -> bool | None:
    """True for a known unsafe loader, False for a safe one, None when it cannot be told."""
    value = loader.child_by_field_name("value") if loader.type == "keyword_argument" else loader
    if value is None:
        return None
    text = match.text(value)
    name = text.rsplit(".", 1)[-1]
    if name in _SAFE_LOADERS or name.endswith("SafeLoader"):
        return False
    if name in _UNSAFE_LOADERS or text in ("yaml.Loader", "yaml.CLoader"):
        return True
    return None


def _check_yaml_load(rule: Rule, match: Match) -> Iterator[Finding]:
    call, args, name = match.node("call"), match.node("args"), match.node("name")
    if call is None or args is None or name is None:
        return
    function = match.text(name)
    loader = _loader(match, args)
    unsafe = True if loader is None else _loader_is_unsafe(match, loader)
    if not unsafe:
        return  # a safe loader, or a project's own loader class this rule cannot see
    yield rule.finding(
        call,
        f"`yaml.{function}` without a safe loader can run arbitrary code",
        fix=_yaml_fix(match, args, name, loader),
    )


def _yaml_fix(match: Match, args: Node, name: Node, loader: Node | None) -> Fix | None:
    safe = _SAFE_NAMES.get(match.text(name))
    if safe is None or not positional(args) or len(arguments(args)) != 1 + (loader is not None):
        return None  # unsafe_load is explicit; extra arguments safe_load would not take
    edits = [TextEdit(Span(name.start_byte, name.end_byte), safe)]
    if loader is not None:
        removal = remove_argument(match.source, loader)
        if removal is None:
            return None
        edits.append(removal)
    return Fix(f"Use yaml.{safe}", tuple(edits))


YAML_LOAD = Rule(
    code="FL106",
    name="yaml-load",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=PYTHON,
    query="""
((call
  function: (attribute object: (identifier) @module attribute: (identifier) @name)
  arguments: (argument_list) @args) @call
 (#eq? @module "yaml") (#any-of? @name "load" "load_all" "unsafe_load" "unsafe_load_all"))
""",
    check=_check_yaml_load,
    explanation="yaml.load with the default or full loader builds arbitrary Python objects "
    "from the document; use yaml.safe_load, or pass Loader=yaml.SafeLoader.",
)

register(EVAL, SUBPROCESS_SHELL, OS_SYSTEM, PICKLE, MKTEMP, YAML_LOAD)
