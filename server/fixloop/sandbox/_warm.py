"""The warm pytest session of a slot (W) and the candidates it forks (C), in the container.

Streamed into the container beside the agent (pool.py) as `_fixloop_warm.py` and imported
only by the agent's forked W process; stdlib and the pytest it runs under, Python 3.11.

W runs pytest's startup and collection once for one command, so the project, its
dependencies, the test modules and the conftests are imported once. Its plugin's
`pytest_runtestloop` then serves candidates instead of running the tests: for each one
it checks that the change is confined to the body of one function that nothing ran while
W started (`plan`), forks C, and C replaces the code of the live function objects
(`__code__`, so `from mod import f`, methods and decorators all see the new body) and
returns from the hook, so that pytest itself runs the collected items, writes the JUnit
report and prints the summary, as a fresh run would. Anything else is refused with a
reason, and the agent runs the candidate the ordinary way.

Protocol with the agent on a Unix socket, each message a 4-byte length and a JSON object:
W → `{"ready": n}` (or `{"refused": why}` and exit); then per candidate, agent → one byte
carrying the output pipe's write end (SCM_RIGHTS) and `{"files", "report"}`; W →
`{"fallback": why}`, or `{"pid": C}` once C is set up and later `{"status": exit code,
"cpu": seconds}` (C's and W's own CPU for that candidate).

What C imports late (a plugin's summary importing its library at the end of the run,
a failure's repr importing a formatter) is lost with C and would cost every candidate
again: C tells W the names of the modules outside the project it imported, and W
imports them once, so the next candidates start with them (hypothesis' summary hook:
0.45 s per candidate on dateutil's suite before this).

A change runs warm when it is one run of changed lines inside the body of one function
(old and new text parsed; same function, same first and shifted last line, docstring
untouched, free variables unchanged), of a module the session imported that is neither a
test module nor a conftest, and when that function did not run while W started (a
sys.settrace hook records the project's code that ran during imports and collection).
"""

from __future__ import annotations
import __future__

import ast
import bisect
import contextlib
import gc
import importlib
import inspect
import io
import json
import linecache
import os
import resource
import socket
import struct
import sys
import threading
import time
import tokenize
import types
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

Key = tuple[str, str, int]  # (file, qualified name, first line) of a function's code
Patch = list[tuple[types.FunctionType, types.CodeType]]
OUTSIDE = "a change outside function bodies"
STATUS_CLOSED = -9  # what the agent is told when C's status cannot be known


def send(sock: socket.socket, message: dict[str, object]) -> None:
    body = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(body)) + body)


def receive(sock: socket.socket) -> tuple[dict[str, Any], int] | None:
    """A candidate's request and the write end of its output pipe; None at the end."""
    try:
        data, fds, _flags, _address = socket.recv_fds(sock, 1, 1)
    except OSError:
        return None
    if not data or not fds:
        return None
    header = _read_exactly(sock, 4)
    body = _read_exactly(sock, struct.unpack(">I", header)[0]) if header else None
    if body is None:
        return None
    return json.loads(body), fds[0]


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


class Tracker:
    """Which of the project's functions ran while W started (imports, collection, plugins'
    hooks): their new body would have changed what W has already done, so they are never
    patched. A `call` event per Python call, only until the serving starts."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.ran: set[types.CodeType] = set()

    def __call__(self, frame: types.FrameType, event: str, arg: object) -> None:
        code = frame.f_code
        if code.co_filename.startswith(self.prefix):
            self.ran.add(code)

    def keys(self) -> set[Key]:
        return {_key(code) for code in self.ran}


def _key(code: types.CodeType) -> Key:
    return (os.path.normpath(code.co_filename), code.co_qualname, code.co_firstlineno)


def _nested_codes(code: types.CodeType) -> Iterator[types.CodeType]:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from _nested_codes(const)


class Region:
    """The lines a change replaced: old [start, old_end], new [start, new_end] (1-based,
    inclusive; empty when end < start), the text around them the same."""

    def __init__(self, old: str, new: str) -> None:
        old_lines, new_lines = old.splitlines(True), new.splitlines(True)
        prefix = 0
        limit = min(len(old_lines), len(new_lines))
        while prefix < limit and old_lines[prefix] == new_lines[prefix]:
            prefix += 1
        suffix = 0
        while (
            suffix < limit - prefix
            and old_lines[len(old_lines) - 1 - suffix] == new_lines[len(new_lines) - 1 - suffix]
        ):
            suffix += 1
        self.start = prefix + 1
        self.old_end = len(old_lines) - suffix
        self.new_end = len(new_lines) - suffix
        self.delta = self.new_end - self.old_end

    def in_body(self, node: ast.FunctionDef | ast.AsyncFunctionDef, end: int) -> bool:
        """Whether this side's changed lines are statements of the function's body. An
        empty side (lines only added, or only removed) is judged by the other side."""
        return end < self.start or node.body[0].lineno <= self.start

    def span(self, end: int) -> tuple[int, int]:
        """The lines that must lie in one function's body; for an empty side, the line
        before the gap."""
        return (self.start, end) if end >= self.start else (self.start - 1, self.start - 1)


class Found:
    """The innermost function whose statements cover some lines, and what encloses it."""

    def __init__(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, outer: list[ast.AST]
    ) -> None:
        self.node = node
        self.qualname = qualname
        self.outer = outer  # the statements around it, outermost first

    @property
    def outermost(self) -> str:
        """The qualified name of the outermost function around it (itself, if none)."""
        names: list[str] = []
        for node in [*self.outer, self.node]:
            if isinstance(node, ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return ".".join([*names, node.name])
        return self.qualname

    @property
    def in_classes_only(self) -> bool:
        return all(isinstance(node, ast.ClassDef) for node in self.outer)


def _innermost_def(tree: ast.Module, first: int, last: int) -> Found | None:
    """The innermost function whose statements cover lines first..last."""
    node: ast.AST = tree
    path: list[ast.AST] = []
    found: Found | None = None
    names: list[str] = []
    while True:
        inner = next(
            (
                child
                for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.stmt | ast.excepthandler)
                and child.lineno <= first
                and last <= (child.end_lineno or 0)
            ),
            None,
        )
        if inner is None:
            return found
        if isinstance(inner, ast.ClassDef):
            names.append(inner.name)
        elif isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(inner.name)
            found = Found(inner, ".".join(names), list(path))
            names.append("<locals>")
        path.append(inner)
        node = inner


def _future_flags(tree: ast.Module) -> int:
    """The compiler flags of the module's `from __future__ import ...`."""
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _imported_names(tree: ast.Module) -> list[str]:
    """The module-level names bound by imports: 3.11 compiles `name.f()` differently
    (LOAD_ATTR, not LOAD_METHOD) when `name` is one, so _alone() must know them."""
    names: list[str] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            names += [alias.asname or alias.name.split(".")[0] for alias in node.names]
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            pending += [
                child
                for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.stmt | ast.excepthandler)
            ]
    return sorted(set(names) - {"*"})


def _alone(lines: list[str], found: Found, first: int, last: int, imported: list[str]) -> str:
    """The module's lines first..last (a function) with its classes' headers at their
    lines and every other line blank, then an import of the module's imported names: it
    compiles to the code the whole module gives that function (same names, lines,
    `__class__` cell, opcodes), at a fraction of the cost."""
    text = ["\n"] * last
    for node in found.outer:
        assert isinstance(node, ast.ClassDef)
        indent = lines[node.lineno - 1][: node.col_offset]  # tabs stay tabs
        text[node.lineno - 1] = f"{indent}class {node.name}:\n"
    text[first - 1 : last] = lines[first - 1 : last]
    if not text[-1].endswith("\n"):
        text[-1] += "\n"
    if imported:
        text.append(f"import {', '.join(imported)}\n")
    return "".join(text)


def _shifted(code: types.CodeType, delta: int) -> types.CodeType:
    """The same code `delta` lines further down (3.11's line table is relative to
    co_firstlineno)."""
    consts = tuple(
        _shifted(const, delta) if isinstance(const, types.CodeType) else const
        for const in code.co_consts
    )
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


# A decorator may have looked at these when it wrapped the function at import.
KIND_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _replaceable(old: types.CodeType, new: types.CodeType) -> str | None:
    """Why `new` cannot stand in for `old` in a live function, if it cannot."""
    if old.co_freevars != new.co_freevars:
        return f"the variables {new.co_qualname} closes over changed"
    if old.co_flags & KIND_FLAGS != new.co_flags & KIND_FLAGS:
        return f"{new.co_qualname} became or stopped being a generator or coroutine"
    return None


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """co_firstlineno of its code: the first decorator's line when it has some."""
    return min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])


def _has_docstring_in(node: ast.FunctionDef | ast.AsyncFunctionDef, first: int) -> bool:
    head = node.body[0]
    return (
        isinstance(head, ast.Expr)
        and isinstance(head.value, ast.Constant)
        and isinstance(head.value.value, str)
        and first <= (head.end_lineno or 0)
    )


class WarmPlugin:
    """Serves candidates from `pytest_runtestloop` once the session has collected."""

    def __init__(self, sock: socket.socket, memfd: int, root: str, base: str) -> None:
        self.sock = sock
        self.memfd = memfd
        self.root = root  # W's copy of the project
        self.base = base  # the pristine copy: the old text of a changed file
        self.tracker = Tracker(root + os.sep)
        self.startup_output = b""
        self.output_fds: list[int] = []  # where W's output goes: each C's output instead
        self.ran: set[Key] = set()
        self.functions: dict[Key, list[types.FunctionType]] = {}
        self.by_file: dict[str, list[tuple[Key, list[types.FunctionType]]]] = {}
        self.modules: set[str] = set()
        self.protected: set[str] = set()
        self.trees: dict[str, tuple[str, ast.Module] | None] = {}
        self.imported: dict[ast.Module, list[str]] = {}
        self.config: Any = None
        self.cpu_before = 0.0
        self.late_imports = os.memfd_create("fixloop-warm-imports")
        self.known_modules: frozenset[str] = frozenset()
        self.unimportable: set[str] = set()
        self.in_candidate = False
        self.statements = StatementCache()
        self.clocks: list[tuple[object, str]] = []  # the plugins' session start times

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: Any) -> object:
        traced = sys.gettrace() is self.tracker
        sys.settrace(None)
        refusal = "another tracer replaced the warm runner's" if not traced else None
        refusal = refusal or self._refusal(session)
        if refusal:
            send(self.sock, {"refused": refusal})
            os._exit(0)
        self._learn(session)
        send(self.sock, {"ready": len(session.items)})
        while True:
            job = receive(self.sock)
            if job is None:
                os._exit(0)
            if self._serve(*job):
                return None  # in C: pytest's own loop runs the items

    def _refusal(self, session: Any) -> str | None:
        if session.config.option.collectonly:
            return "--collect-only"
        hook = session.config.pluginmanager.hook.pytest_runtestloop
        for impl in hook.get_hookimpls():
            wrapper = getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False)
            name = getattr(impl.plugin, "__name__", "")
            if impl.plugin is not self and not wrapper and name != "_pytest.main":
                return f"the plugin {impl.plugin_name} runs the tests itself"
        if threading.active_count() > 1:
            return "threads were started while the tests were collected"
        return None

    def _learn(self, session: Any) -> None:
        """What the candidates are checked against: the functions that ran, the live
        function objects of the project, its modules, its test modules and conftests."""
        self.config = session.config
        self.ran = self.tracker.keys()
        self.tracker.ran.clear()
        prefix = self.root + os.sep
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if not isinstance(path, str) or not path.startswith(prefix):
                continue
            path = os.path.normpath(path)
            self.modules.add(path)
            loader = type(getattr(module, "__loader__", None)).__name__
            if loader == "AssertionRewritingHook" or os.path.basename(path) == "conftest.py":
                self.protected.add(path)  # rewritten asserts: a plain compile would differ
        for item in session.items:
            self.protected.add(os.path.normpath(str(getattr(item, "path", item.fspath))))
        for obj in gc.get_objects():
            if type(obj) is types.FunctionType:
                key = _key(obj.__code__)
                if key[0] in self.modules:
                    self.functions.setdefault(key, []).append(obj)
        for key, live in self.functions.items():
            self.by_file.setdefault(key[0], []).append((key, live))
        sys.stdout.flush()
        sys.stderr.flush()
        self.startup_output = os.pread(self.memfd, 1 << 24, 0)
        startup = os.fstat(self.memfd)
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                seen = os.fstat(int(name))
                if (seen.st_dev, seen.st_ino) == (startup.st_dev, startup.st_ino):
                    self.output_fds.append(int(name))  # stdout, stderr, pytest's copies
        _warm_caches(session)
        self.clocks = _clocks(self.config.pluginmanager.get_plugins())
        self.statements.install(self.modules | self.protected)
        self.known_modules = frozenset(sys.modules)
        gc.collect()
        gc.freeze()  # C's collections never touch W's objects: fewer pages copied per fork

    # --- one candidate (in W) ---------------------------------------------------------

    def _serve(self, job: dict[str, Any], out: int) -> bool:
        """Fork C for one candidate; True in C. W answers for it and waits for it."""
        self.cpu_before = _cpu_seconds()
        try:
            plan = self.plan(job["files"])
        except Exception as error:  # never let one candidate take W down
            plan = f"the warm runner failed to read the change: {error!r}"
        if isinstance(plan, str):
            os.close(out)
            send(self.sock, {"fallback": plan})
            return False
        ready_read, ready_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            self.sock.close()
            try:
                self._become_candidate(out, plan, job)
            except BaseException:
                os._exit(70)
            os.write(ready_write, b"ok")
            os.close(ready_write)
            _write_all(1, self.startup_output)  # the header a fresh run would have printed
            return True
        os.close(out)
        os.close(ready_write)
        ready = os.read(ready_read, 2) == b"ok"
        os.close(ready_read)
        if not ready:
            os.waitpid(pid, 0)
            send(self.sock, {"fallback": "the candidate's process could not be set up"})
            return False
        send(self.sock, {"pid": pid})
        try:
            _, raw, usage = os.wait4(pid, 0)
            status, cpu = os.waitstatus_to_exitcode(raw), usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            status, cpu = STATUS_CLOSED, 0.0
        self._import_late_modules()
        # The CPU this candidate cost: C's, and W's own (the plan, the fork).
        send(self.sock, {"status": status, "cpu": cpu + _cpu_seconds() - self.cpu_before})
        return False

    def plan(self, files: dict[str, str]) -> Patch | str:
        """The code to put in which live functions, or why the change needs a fresh run."""
        patch: Patch = []
        for relative, text in files.items():
            path = os.path.normpath(os.path.join(self.root, relative))
            refusal = self._plan_file(path, relative, text, patch)
            if refusal:
                return f"{relative}: {refusal}"
        return patch

    def _plan_file(self, path: str, relative: str, text: str, patch: Patch) -> str | None:
        if path in self.protected:
            return "a test module or conftest changed"
        if path not in self.modules:
            return "not a module the tests' session imported"
        old = self._old(relative)
        if old is None:
            return "not in the project"
        old_text, old_tree = old
        if text == old_text:
            return None
        region = Region(old_text, text)
        found = _innermost_def(old_tree, *region.span(region.old_end))
        if found is None:
            return OUTSIDE
        if found.in_classes_only:
            return self._plan_alone(path, text, old_tree, found, region, patch)
        try:
            new_tree = ast.parse(text, path)
            module_code = compile(new_tree, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return "does not compile"
        refusal = self._same_function(path, found, new_tree, region)
        refusal = refusal or self._patch_codes(path, module_code, region, patch)
        if refusal is None and path in self.statements.by_path:
            self.statements.set_candidate(text, _statement_lines(new_tree))
        return refusal

    def _plan_alone(
        self,
        path: str,
        text: str,
        old_tree: ast.Module,
        found: Found,
        region: Region,
        patch: Patch,
    ) -> str | None:
        """A function or method (no function around it): only it is compiled again, and
        the functions below it are moved by the lines it gained or lost."""
        first, end = _first_line(found.node), found.node.end_lineno or 0
        lines = text.splitlines(True)
        if end + region.delta > len(lines):
            return OUTSIDE
        if old_tree not in self.imported:
            self.imported[old_tree] = _imported_names(old_tree)
        source = _alone(lines, found, first, end + region.delta, self.imported[old_tree])
        flags = _future_flags(old_tree)
        try:
            tree = compile(source, path, "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
            module_code = compile(tree, path, "exec", flags, dont_inherit=True)
        except (SyntaxError, ValueError):
            return "does not compile"
        refusal = self._same_function(path, found, tree, region)
        if refusal:
            return refusal
        code = next(
            (
                code
                for code in _nested_codes(module_code)
                if (code.co_qualname, code.co_firstlineno) == (found.qualname, first)
            ),
            None,
        )
        if code is None:
            return OUTSIDE
        self.statements.for_candidate(path, text, old_tree, found, tree, region.delta)
        for function in self.functions.get((path, found.qualname, first), []):
            if function.__code__ != code:
                refusal = _replaceable(function.__code__, code)
                if refusal:
                    return refusal
                patch.append((function, code))
        for key, live in self.by_file.get(path, []) if region.delta else []:
            if key[2] > end:
                patch.extend(
                    (function, _shifted(function.__code__, region.delta)) for function in live
                )
        return None

    def _same_function(
        self, path: str, found: Found, new_tree: ast.Module, region: Region
    ) -> str | None:
        """None when the change is inside the body of the same function in both texts,
        a function that did not run while W started and that is alive in W."""
        new = _innermost_def(new_tree, *region.span(region.new_end))
        old_node = found.node
        if (
            new is None
            or found.qualname != new.qualname
            or old_node.lineno != new.node.lineno
            or (new.node.end_lineno or 0) - (old_node.end_lineno or 0) != region.delta
            or not region.in_body(old_node, region.old_end)
            or not region.in_body(new.node, region.new_end)
        ):
            return OUTSIDE
        if _has_docstring_in(old_node, region.start) or _has_docstring_in(new.node, region.start):
            return "a docstring changed"
        if (path, found.qualname, _first_line(old_node)) in self.ran:
            return f"{found.qualname} ran while the tests were collected"
        if not any(key[1] == found.outermost for key, _ in self.by_file.get(path, [])):
            return f"no live function {found.outermost}"
        return None

    def _patch_codes(
        self, path: str, module_code: types.CodeType, region: Region, patch: Patch
    ) -> str | None:
        """Pair each live function with its new code (lines after the change moved)."""
        chosen: dict[Key, types.CodeType] = {}
        for code in _nested_codes(module_code):
            line = code.co_firstlineno
            if region.start <= line <= region.new_end:
                continue  # defined inside the changed lines: nothing of it is live
            old_line = line if line < region.start else line - region.delta
            key = (path, code.co_qualname, old_line)
            live = self.functions.get(key)
            if not live:
                continue
            if key in chosen and chosen[key] != code:
                return f"two functions {code.co_qualname} on line {old_line}"
            chosen[key] = code
            for function in live:
                if function.__code__ == code:
                    continue
                refusal = _replaceable(function.__code__, code)
                if refusal:
                    return refusal
                patch.append((function, code))
        return None

    def _old(self, relative: str) -> tuple[str, ast.Module] | None:
        if relative not in self.trees:
            try:
                with open(os.path.join(self.base, relative), encoding="utf-8", newline="") as f:
                    text = f.read()
                self.trees[relative] = (text, ast.parse(text))
            except (OSError, SyntaxError, ValueError):
                self.trees[relative] = None
        return self.trees[relative]

    def _import_late_modules(self) -> None:
        """Import in W what the last C imported late (see the module's docstring)."""
        names = os.pread(self.late_imports, 1 << 20, 0).decode("utf-8", "replace").split()
        os.ftruncate(self.late_imports, 0)
        fresh = [n for n in names if n not in sys.modules and n not in self.unimportable]
        if not fresh:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in sorted(fresh, key=lambda name: name.count(".")):
                try:
                    importlib.import_module(name)
                except Exception:
                    self.unimportable.add(name)  # tried once: not again for each candidate
        self.known_modules = frozenset(sys.modules)
        gc.collect()
        gc.freeze()

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: Any) -> None:
        """In C, at its very end: the modules outside the project it imported late. Never
        when C started a thread: an import that starts one must not happen in W."""
        if not self.in_candidate or threading.active_count() > 1:
            return
        if len(sys.modules) == len(self.known_modules):
            return  # nothing imported late (looking at every name costs C a copy of its pages)
        late = [name for name in sys.modules if name not in self.known_modules]
        names = [name for name in late if self._outside_project(sys.modules.get(name))]
        data = "\n".join(names).encode()
        with contextlib.suppress(OSError):
            os.ftruncate(self.late_imports, 0)
            offset = 0  # explicit offsets: the descriptor (and its offset) is W's too
            while offset < len(data):
                offset += os.pwrite(self.late_imports, data[offset:], offset)

    def _outside_project(self, module: object) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            return False  # namespace packages, built-ins compiled in: nothing to gain
        path = os.path.normpath(path)
        return not path.startswith((self.root + os.sep, self.base + os.sep))

    # --- in C ---------------------------------------------------------------------------

    def _become_candidate(self, out: int, patch: Patch, job: dict[str, Any]) -> None:
        """Output to the candidate's pipe, the new code in place, its report path."""
        self.in_candidate = True
        for fd in self.output_fds:
            os.dup2(out, fd)
        os.close(out)
        self._reset_capture()
        for function, code in patch:
            function.__code__ = code
        for relative in job["files"]:
            linecache.cache.pop(os.path.normpath(os.path.join(self.root, relative)), None)
        report = job.get("report")
        for plugin in self.config.pluginmanager.get_plugins():
            if isinstance(report, str) and type(plugin).__name__ == "LogXML":
                plugin.logfile = os.path.normpath(report)
        _restart_clocks(self.clocks)

    def _reset_capture(self) -> None:
        """Empty the capture files W's session opened: a candidate killed mid-test left
        its output there, which the next test would otherwise report as its own."""
        capman = self.config.pluginmanager.getplugin("capturemanager")
        capturing = getattr(capman, "_global_capturing", None)
        for name in ("out", "err"):
            tmpfile = getattr(getattr(capturing, name, None), "tmpfile", None)
            if tmpfile is not None and hasattr(tmpfile, "truncate"):
                tmpfile.seek(0)
                tmpfile.truncate()


def _warm_caches(session: Any) -> None:
    """What a run computes on first use and keeps, computed once in W rather than in every
    C: the regexes of the JUnit writer and of tokenize, inspect's map of modules to files,
    pytest's traceback machinery (a failure formatted to nowhere; nothing of it is kept)."""
    with contextlib.suppress(Exception):
        from _pytest.junitxml import bin_xml_escape, mangle_test_address

        bin_xml_escape("\x00")
        mangle_test_address("warm.py::up")
    with contextlib.suppress(Exception):
        list(tokenize.generate_tokens(io.StringIO("pass\n").readline))
    if not session.items:
        return
    for each in session.items:
        with contextlib.suppress(Exception):
            each.location  # noqa: B018  (a cached property: computed here, not in each C)
    item = session.items[0]
    with contextlib.suppress(Exception):
        inspect.getmodule(getattr(item, "obj", None))
    with contextlib.suppress(Exception):
        from _pytest._code import ExceptionInfo
        from _pytest._io import TerminalWriter

        try:
            raise AssertionError("warm-up")
        except AssertionError:
            info = ExceptionInfo.from_current()
        item.repr_failure(info).toterminal(TerminalWriter(io.StringIO()))


class Statements:
    """What pytest's failure reports use a file's tree for: the first lines of its
    statements (0-based, sorted, as `get_statement_startend2` computes them). It stands
    in for the tree: pytest passes it back to the functions installed below."""

    def __init__(self, lines: list[int]) -> None:
        self.lines = lines


class StatementCache:
    """A failure's report shows each traceback entry's statement, which pytest finds by
    stripping every line of the entry's file, parsing it and walking its tree, again for
    every entry of every failing test: marshmallow's and dateutil's modules of 2,000-5,000
    lines cost a failing candidate a hundred milliseconds and more. W finds the
    statements of the project's files once; for the file a candidate changed, from the
    edited function alone (`for_candidate`). The results are pytest's own: its functions
    are kept if ours disagree with them on a sample."""

    def __init__(self) -> None:
        self.by_content: dict[str, Statements] = {}
        self.by_path: dict[str, Statements] = {}
        self.candidate: tuple[str, Statements] | None = None  # the changed file's, in C
        self.outside: dict[tuple[str, int], list[tuple[int, int]]] = {}

    def install(self, paths: set[str]) -> None:
        """pytest's functions replaced by ours, if ours give the same on samples."""
        with contextlib.suppress(Exception):  # any pytest we do not know: its own
            self._install(paths)

    def _install(self, paths: set[str]) -> None:
        from _pytest._code import code as code_module
        from _pytest._code import source as source_module

        parse_range = source_module.getstatementrange_ast
        original = source_module.get_statement_startend2
        sample = ast.parse(_SAMPLE)
        if any(_startend(n, _statement_lines(sample)) != original(n, sample) for n in range(12)):
            return
        stripped: dict[int, tuple[list[str], list[str]]] = {}

        def find_source(obj: object) -> tuple[Any, int]:
            """pytest's `findsource`, each file's lines stripped once, not per entry."""
            try:
                lines, lineno = inspect.findsource(obj)  # type: ignore[arg-type]
            except Exception:
                return None, -1
            known = stripped.get(id(lines))
            if known is None or known[0] is not lines:  # linecache's list for the file
                known = stripped[id(lines)] = (lines, [line.rstrip() for line in lines])
            source = source_module.Source()
            source.lines = list(known[1])
            if hasattr(source, "raw_lines"):  # pytest 8.4 and later
                source.raw_lines = lines
            return source, lineno

        mine, theirs = find_source(_content), source_module.findsource(_content)
        if mine[1] != theirs[1] or vars(mine[0] or 0) != vars(theirs[0] or 0):
            return

        def statement_startend(lineno: int, node: Any) -> tuple[int, int | None]:
            if isinstance(node, Statements):
                return _startend(lineno, node.lines)
            return _startend(lineno, _statement_lines(node))

        def statement_range(
            lineno: int, source: Any, assertion: bool = False, astnode: Any = None
        ) -> Any:
            if astnode is None:
                astnode = self._statements(str(source))  # a SyntaxError propagates
            return parse_range(lineno, source, assertion, astnode)

        for path in sorted(paths):
            with contextlib.suppress(Exception):
                content = _content(linecache.getlines(path))
                self.by_path[path] = self._statements(content)
        source_module.get_statement_startend2 = statement_startend
        source_module.getstatementrange_ast = statement_range
        source_module.findsource = find_source
        # Imported by name there:
        code_module.getstatementrange_ast = statement_range  # type: ignore[attr-defined]
        code_module.findsource = find_source  # type: ignore[attr-defined]

    def _statements(self, content: str) -> Statements:
        if self.candidate is not None and self.candidate[0] == content:
            return self.candidate[1]
        if content not in self.by_content:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(content, "source", "exec")
            self.by_content[content] = Statements(_statement_lines(tree))
        return self.by_content[content]

    def for_candidate(
        self,
        path: str,
        text: str,
        old_tree: ast.Module,
        found: Found,
        new_tree: ast.AST,
        delta: int,
    ) -> None:
        """The statements of `text`, a file whose one function (`found`, first line
        unchanged) was edited and is in `new_tree` at its place: those outside it come
        from the file as W knows it, moved by the `delta` lines gained or lost."""
        self.candidate = None
        if path not in self.by_path:
            return
        first, end = _first_line(found.node), found.node.end_lineno or 0
        key = (path, first)
        if key not in self.outside:
            self.outside[key] = _statement_marks(old_tree, skip=found.node)
        node = _function_at(new_tree, found.node.lineno)
        if node is None:
            return
        lines = [value + (delta if anchor > end else 0) for value, anchor in self.outside[key]]
        lines += [value for value, _ in _statement_marks(node)]
        self.set_candidate(text, sorted(lines))

    def set_candidate(self, text: str, lines: list[int]) -> None:
        """The changed file's statements, for the next C (one at a time: W keeps no more)."""
        self.candidate = (_content(io.StringIO(text, newline=None).readlines()), Statements(lines))


def _content(lines: list[str]) -> str:
    """A file's text as pytest's `Source` of it prints (`str(Source)`)."""
    return "\n".join(line.rstrip() for line in lines)


def _startend(lineno: int, values: list[int]) -> tuple[int, int | None]:
    index = bisect.bisect_right(values, lineno)
    return values[index - 1], values[index] if index < len(values) else None


_SAMPLE = """\
@decorator
def f(x):
    try:
        y = [x,
             1]
    except ValueError:
        pass
    else:
        return y
    finally:
        x = 2
class C: pass
"""
_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")


def _statement_marks(node: ast.AST, skip: ast.AST | None = None) -> list[tuple[int, int]]:
    """(0-based line, the line it moves with) of every statement's start, as pytest's
    `get_statement_startend2` finds them: decorators, the statement, and the line before
    an `else:`/`finally:` block's first. Only blocks are searched: no statement lies in
    an expression."""
    marks: list[tuple[int, int]] = []
    pending = [node]
    while pending:
        x = pending.pop()
        if x is skip:
            continue
        if isinstance(x, ast.stmt | ast.ExceptHandler):
            if isinstance(x, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                marks += [(d.lineno - 1, d.lineno) for d in x.decorator_list]
            marks.append((x.lineno - 1, x.lineno))
            for name in ("finalbody", "orelse"):
                block = getattr(x, name, None)
                if block:  # the finally/else part counts as a statement of its own
                    marks.append((block[0].lineno - 2, block[0].lineno))
        for name in _BLOCKS:  # a match statement's cases hold their own body
            block = getattr(x, name, None)
            if isinstance(block, list):
                pending += block
    return marks


def _function_at(tree: ast.AST, lineno: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function defined on that line (searched through statement blocks only)."""
    pending = [tree]
    while pending:
        x = pending.pop()
        if isinstance(x, ast.FunctionDef | ast.AsyncFunctionDef) and x.lineno == lineno:
            return x
        for name in _BLOCKS:
            block = getattr(x, name, None)
            if isinstance(block, list):
                pending += block
    return None


def _statement_lines(node: ast.AST) -> list[int]:
    return sorted(value for value, _ in _statement_marks(node))


_CLOCK_NAMES = ("_sessionstarttime", "_session_start", "suite_start_time", "suite_start")


def _clocks(plugins: Iterable[object]) -> list[tuple[object, str]]:
    """The plugins' attributes holding the session's start time, found once in W."""
    found = []
    for plugin in plugins:
        for name in _CLOCK_NAMES:
            value: Any = getattr(plugin, name, None)
            if isinstance(value, float) or type(value).__name__ == "Instant":
                found.append((plugin, name))
    return found


def _restart_clocks(clocks: list[tuple[object, str]]) -> None:
    """The session's start time (printed, and in the report) is C's, not W's."""
    for plugin, name in clocks:
        value: Any = getattr(plugin, name, None)
        if isinstance(value, float):
            setattr(plugin, name, time.time())
        elif type(value).__name__ == "Instant":
            setattr(plugin, name, type(value)())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def run(args: list[str], sock: socket.socket, memfd: int, root: str, base: str) -> int:
    """pytest.main in W; returns only in C (its exit code) or when W never got to serve."""
    plugin = WarmPlugin(sock, memfd, root, base)
    sys.settrace(plugin.tracker)
    try:
        return int(pytest.main(args, plugins=[plugin]))
    finally:
        sys.settrace(None)
