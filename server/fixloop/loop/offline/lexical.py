"""What the name and literal templates know of a file: the words of an identifier and
their usual opposites, how alike two names are, the functions and attributes available
at a call, and the role a literal plays (what it is compared with, assigned to, passed
as). Every alternative these give is a name or literal the file itself (or a module it
has imported) already has: nothing is invented."""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterable

from fixloop.loop.offline.source import Source

# Words with a usual counterpart in code (the bug studies' "change identifier used":
# prev/next, min/max, left/right, ...). Both directions are looked up.
_OPPOSITE_PAIRS: tuple[tuple[str, str], ...] = (
    ("prev", "next"),
    ("previous", "next"),
    ("first", "last"),
    ("left", "right"),
    ("start", "end"),
    ("start", "stop"),
    ("begin", "end"),
    ("min", "max"),
    ("minimum", "maximum"),
    ("smallest", "largest"),
    ("lower", "upper"),
    ("low", "high"),
    ("lo", "hi"),
    ("head", "tail"),
    ("before", "after"),
    ("open", "close"),
    ("opened", "closed"),
    ("get", "set"),
    ("push", "pop"),
    ("keys", "values"),
    ("key", "value"),
    ("width", "height"),
    ("x", "y"),
    ("in", "out"),
    ("input", "output"),
    ("src", "dst"),
    ("source", "target"),
    ("row", "col"),
    ("rows", "cols"),
    ("row", "column"),
    ("rows", "columns"),
    ("top", "bottom"),
    ("up", "down"),
    ("add", "remove"),
    ("inc", "dec"),
    ("increment", "decrement"),
    ("old", "new"),
    ("read", "write"),
    ("load", "dump"),
    ("loads", "dumps"),
    ("encode", "decode"),
    ("enable", "disable"),
    ("enabled", "disabled"),
    ("show", "hide"),
    ("floor", "ceil"),
    ("front", "back"),
    ("inner", "outer"),
    ("parent", "child"),
    ("parents", "children"),
    ("send", "recv"),
    ("request", "response"),
    ("on", "off"),
    ("enter", "exit"),
    ("lock", "unlock"),
    ("asc", "desc"),
    ("horizontal", "vertical"),
    ("less", "greater"),
    ("lt", "gt"),
    ("le", "ge"),
    ("plus", "minus"),
    ("insert", "delete"),
    ("append", "prepend"),
    ("inclusive", "exclusive"),
    ("leading", "trailing"),
    ("local", "remote"),
    ("import", "export"),
    ("success", "failure"),
    ("true", "false"),
    ("yes", "no"),
    ("all", "any"),
    ("start", "finish"),
    ("since", "until"),
    ("from", "to"),
    ("sum", "count"),
)


def _opposites() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for a, b in _OPPOSITE_PAIRS:
        table.setdefault(a, []).append(b)
        table.setdefault(b, []).append(a)
    return table


OPPOSITES = _opposites()
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|_+")


def words(name: str) -> list[str]:
    """The pieces of a snake_case or camelCase identifier, separators kept: joined they
    give the name back (or [] when they would not)."""
    pieces = _WORD.findall(name)
    return pieces if "".join(pieces) == name else []


def counterparts(name: str) -> list[str]:
    """The name with one of its words replaced by that word's opposite, case kept:
    `prev_node` → `next_node`, `maxValue` → `minValue`."""
    pieces = words(name)
    found: list[str] = []
    for index, piece in enumerate(pieces):
        for other in OPPOSITES.get(piece.lower(), ()):
            new = "".join([*pieces[:index], _same_case(piece, other), *pieces[index + 1 :]])
            if new != name and new not in found:
                found.append(new)
    return found


def _same_case(model: str, word: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def similarity(a: str, b: str) -> float:
    """How alike two identifiers are, 0 to about 2: shared words, a shared prefix or
    suffix, and the edit ratio of their letters."""
    if a == b:
        return 0.0
    wa = {w.lower() for w in words(a) if w.strip("_")}
    wb = {w.lower() for w in words(b) if w.strip("_")}
    shared = len(wa & wb) / max(len(wa | wb), 1)
    prefix = len(_common_prefix(a.lower(), b.lower()))
    suffix = len(_common_prefix(a.lower()[::-1], b.lower()[::-1]))
    affix = min(max(prefix, suffix), 6) / 6
    ratio = difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()
    return ratio + shared + 0.5 * affix


def alike(a: str, b: str) -> bool:
    """Names close enough that one is plausibly the other mistyped or misremembered."""
    if a == b or a.startswith("__") or b.startswith("__"):
        return False
    wa = {w.lower() for w in words(a) if w.strip("_")}
    wb = {w.lower() for w in words(b) if w.strip("_")}
    prefix = len(_common_prefix(a.lower(), b.lower()))
    suffix = len(_common_prefix(a.lower()[::-1], b.lower()[::-1]))
    ratio = difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()
    return bool(wa & wb) or prefix >= 3 or suffix >= 3 or ratio >= 0.6


def most_alike(name: str, options: Iterable[str], limit: int) -> list[str]:
    return list(_most_alike(name, tuple(dict.fromkeys(options)), limit))


@functools.lru_cache(maxsize=4096)
def _most_alike(name: str, options: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """Cached: a module's names (hundreds) are compared again at every line calling it."""
    unique = [o for o in options if alike(name, o)]
    return tuple(sorted(unique, key=lambda o: (-similarity(name, o), o))[:limit])


def _common_prefix(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return a[:i]
    return a[: min(len(a), len(b))]


# -- what a name can refer to ----------------------------------------------------------------


def module_functions(src: Source) -> list[str]:
    """Functions and classes the module defines at top level, and the names it imports."""
    return src.memo(("module_functions", src.tree), _module_functions)


def _module_functions(src: Source, tree: ast.AST) -> list[str]:
    names: list[str] = []
    for stmt in src.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(stmt.name)
        elif isinstance(stmt, ast.ImportFrom):
            names += [a.asname or a.name for a in stmt.names if a.name != "*"]
    return list(dict.fromkeys(names))


def nested_functions(src: Source, line: int) -> list[str]:
    """Functions defined inside the function around the line."""
    function = src.function_of(line)
    if function is None:
        return []
    return [
        node.name
        for node in ast.walk(function)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node is not function
    ]


def _module_aliases(src: Source, tree: ast.AST) -> dict[str, str]:
    """Local name → dotted module name, for `import a.b`, `import a as b`, and
    `from a import b` where a.b is a module already loaded."""
    aliases: dict[str, str] = {}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    first = alias.name.split(".")[0]
                    aliases[first] = first
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if dotted in sys.modules:
                    aliases[alias.asname or alias.name] = dotted
    return aliases


def loaded_module_names(src: Source, base: str, called: bool = False) -> list[str]:
    """The public names of the module `base` refers to (`os.path`, `np` for numpy), when
    that module is already loaded in this process: nothing is imported to find them.
    `called`: its functions and classes only."""
    head, _, rest = base.partition(".")
    aliases = src.memo(("module_aliases", src.tree), _module_aliases)
    if head not in aliases:
        return []
    dotted = aliases[head] + ("." + rest if rest else "")
    module = sys.modules.get(dotted)
    if module is None:
        return []
    names = [name for name in dir(module) if not name.startswith("_")]
    return [n for n in names if callable(getattr(module, n, None))] if called else names


def attributes_of(src: Source, base: str, called: bool = False) -> list[str]:
    """Attributes the file uses on the same object text (`self`, `node.parent`, `os.path`)
    and, for `self`/`cls`, the methods of the file's classes. `called`: only those the
    file calls (a method is not replaced by a data attribute)."""
    table = src.memo(("attributes_by_base", src.tree), _attributes_by_base)
    found = [attr for attr, is_called in table.get(base, []) if is_called or not called]
    if base in ("self", "cls"):
        found += src.memo(("class_members", src.tree), _class_members)
    return list(dict.fromkeys(found))


def _attributes_by_base(src: Source, tree: ast.AST) -> dict[str, list[tuple[str, bool]]]:
    seen: dict[str, dict[str, bool]] = {}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Attribute):
            parent = src.parent(node)
            is_called = isinstance(parent, ast.Call) and parent.func is node
            attrs = seen.setdefault(src.segment(node.value), {})
            attrs[node.attr] = attrs.get(node.attr, False) or is_called
    return {base: list(attrs.items()) for base, attrs in seen.items()}


def _class_members(src: Source, tree: ast.AST) -> list[str]:
    members: list[str] = []
    for node in ast.walk(src.tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    members.append(stmt.name)
    return list(dict.fromkeys(members))


# -- the role of a literal ----------------------------------------------------------------


def literal_roles(src: Source, node: ast.Constant) -> list[tuple[str, ...]]:
    """Where a literal stands, as keys other literals in the same place share: compared
    with `kind` (`kind == "a"`, `kind in ("a", "b")`), assigned to `mode`, returned by
    the function `f`, passed as argument 1 of `fmt`, as keyword `sep` of `join`, as an
    index of `row`."""
    parent = src.parent(node)
    if isinstance(parent, ast.Tuple | ast.List | ast.Set):
        holder = src.parent(parent)
        if isinstance(holder, ast.Compare) and parent in holder.comparators:
            return [("compare", src.segment(holder.left))]
        return []
    if isinstance(parent, ast.Compare):
        operands = [parent.left, *parent.comparators]
        return [("compare", src.segment(o)) for o in operands if o is not node]
    if isinstance(parent, ast.Assign) and parent.value is node:
        return [("assign", src.segment(t)) for t in parent.targets]
    if isinstance(parent, ast.AnnAssign | ast.AugAssign) and parent.value is node:
        return [("assign", src.segment(parent.target))]
    if isinstance(parent, ast.Return):
        function = src.function_of(node.lineno)
        return [("return", function.name)] if function is not None else []
    if isinstance(parent, ast.Call) and node in parent.args:
        return [("arg", callee_text(src, parent.func), str(parent.args.index(node)))]
    if isinstance(parent, ast.keyword) and parent.arg is not None:
        call = src.parent(parent)
        if isinstance(call, ast.Call):
            return [("keyword", callee_text(src, call.func), parent.arg)]
    if isinstance(parent, ast.Subscript) and parent.slice is node:
        return [("index", src.segment(parent.value))]
    return []


def literals_by_role(src: Source) -> dict[tuple[str, ...], list[ast.Constant]]:
    return src.memo(("literals_by_role", src.tree), _literals_by_role)


def _literals_by_role(src: Source, tree: ast.AST) -> dict[tuple[str, ...], list[ast.Constant]]:
    table: dict[tuple[str, ...], list[ast.Constant]] = {}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for role in literal_roles(src, node):
                table.setdefault(role, []).append(node)
    # A subscripted dict's keys are its index role too (`d = {"a": …}` … `d["b"]`).
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys = [k for k in node.value.keys if isinstance(k, ast.Constant)]
            for target in node.targets:
                table.setdefault(("index", src.segment(target)), []).extend(keys)
    return table


# -- the parameters of a callee ----------------------------------------------------------


def callee_parameters(src: Source, func: ast.expr) -> list[str]:
    """The keyword names a call may pass: the parameters of the function the file defines
    under that name (a method, for `self.name`), of a builtin or a loaded module's
    function, and the keywords the file passes to the same callee elsewhere."""
    names: list[str] = []
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name is not None:
        for node in src.memo(("definitions", src.tree), _definitions).get(name, []):
            args = node.args
            every = [*args.posonlyargs[1:], *args.args, *args.kwonlyargs]
            names += [a.arg for a in every if a.arg not in ("self", "cls")]
    names += _signature_names(src, func)
    table = src.memo(("keywords_by_callee", src.tree), _keywords_by_callee)
    names += table.get(callee_text(src, func), [])
    return list(dict.fromkeys(names))


def definitions(src: Source, name: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions the file defines under `name` (methods included; a class's
    `__init__` under the class's name)."""
    return src.memo(("definitions", src.tree), _definitions).get(name, [])


def _definitions(
    src: Source, tree: ast.AST
) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
    table: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            table.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:  # a class called is its __init__
                if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                    table.setdefault(node.name, []).append(stmt)
    return table


def required_positionals(src: Source, func: ast.expr) -> int:
    """How many positional arguments a call of `func` needs at least, when that is known
    (a function the file defines under that name, a builtin, a loaded module's
    function); 0 when it is not."""
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    definitions = src.memo(("definitions", src.tree), _definitions).get(name or "", [])
    if definitions:
        counts = []
        for node in definitions:
            positional = [*node.args.posonlyargs, *node.args.args]
            if positional and positional[0].arg in ("self", "cls"):
                positional = positional[1:]
            counts.append(len(positional) - len(node.args.defaults))
        return max(min(counts), 0)
    target = callable_of(src, func)
    if target is None:
        return 0
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return 0
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in parameters)


def callable_of(src: Source, func: ast.expr) -> Callable[..., object] | None:
    """The builtin, or the loaded module's function, a callee names; None otherwise."""
    target: object = None
    if isinstance(func, ast.Name) and hasattr(builtins, func.id):
        target = getattr(builtins, func.id)
    elif isinstance(func, ast.Attribute):
        base = src.segment(func.value)
        if func.attr in loaded_module_names(src, base):
            head, _, rest = base.partition(".")
            aliases = src.memo(("module_aliases", src.tree), _module_aliases)
            module = sys.modules.get(aliases[head] + ("." + rest if rest else ""))
            target = getattr(module, func.attr, None)
    return target if callable(target) else None


def _signature_names(src: Source, func: ast.expr) -> list[str]:
    """Parameter names of a builtin, or of a loaded module's function (`os.path.join`),
    read with inspect: nothing is imported."""
    target = callable_of(src, func)
    if target is None:
        return []
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in kinds]


def callee_text(src: Source, func: ast.expr) -> str:
    """A method by its name alone (`.split` on any string), a function by its text."""
    return "." + func.attr if isinstance(func, ast.Attribute) else src.segment(func)


def _keywords_by_callee(src: Source, tree: ast.AST) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Call):
            names = table.setdefault(callee_text(src, node.func), [])
            names += [k.arg for k in node.keywords if k.arg and k.arg not in names]
    return table
