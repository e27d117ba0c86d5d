"""Sample inputs for a function, as Python source: from its type hints, defaults, the
literals its body compares a parameter with (and their neighbours: the boundaries), how
the body uses a parameter, and the parameter's name."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from fixloop.testgen.target import FunctionTarget, Param

MAX_CASES = 12


@dataclass(frozen=True)
class Shape:
    """What kind of value a parameter takes: `int`, `float`, `str`, `bool`, `bytes`,
    `list`, `dict`, `tuple` (items/values of `item` shape), maybe None too."""

    base: str
    item: Shape | None = None
    optional: bool = False


_SCALARS = {"int", "float", "str", "bool", "bytes"}
_CONTAINERS = {"list": "list", "List": "list", "Sequence": "list", "Iterable": "list",
               "set": "list", "tuple": "tuple", "Tuple": "tuple", "dict": "dict", "Dict": "dict",
               "Mapping": "dict"}  # fmt: skip
_SAMPLES: dict[str, tuple[str, ...]] = {
    "int": ("1", "0", "-1", "7", "100"),
    "float": ("1.5", "0.0", "-2.25", "100.0"),
    "str": ("'abc'", "''", "'Hello World'", "'  padded  '"),
    "bool": ("True", "False"),
    "bytes": ("b'abc'", "b''"),
}
_NAMES_STR = {"name", "text", "s", "string", "word", "label", "title", "key", "prefix",
              "suffix", "sep", "message", "msg", "line", "char", "path", "filename", "url",
              "email", "slug", "value_str", "code", "pattern", "sentence"}  # fmt: skip
_NAMES_FLOAT = {"price", "rate", "amount", "ratio", "weight", "factor", "percent", "discount",
                "celsius", "fahrenheit", "temperature", "score", "cost"}  # fmt: skip
_NAMES_INT = {"n", "i", "j", "k", "count", "index", "size", "length", "num", "number",
              "quantity", "age", "year", "limit", "depth", "level", "times", "width",
              "height", "x", "y", "a", "b", "start", "stop", "step", "total"}  # fmt: skip
_NAMES_DICT = {"mapping", "d", "table", "config", "options", "data", "counts", "prices"}
_NAMES_BOOL = {"flag", "enabled", "strict", "reverse", "verbose", "force"}
_STR_METHODS = {"lower", "upper", "strip", "split", "startswith", "endswith", "replace",
                "join", "format", "encode", "title", "isdigit", "isalpha", "find"}  # fmt: skip


def shape_of(annotation: ast.expr | None) -> Shape | None:
    """The shape an annotation names; None for what samples cannot be made of."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:  # a string annotation ("list[int]")
            return shape_of(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _optional(annotation.left, annotation.right)
    if isinstance(annotation, ast.Name | ast.Attribute):
        name = _last_name(annotation)
        if name in _SCALARS:
            return Shape(name)
        if name in _CONTAINERS:
            return Shape(_CONTAINERS[name], Shape("int"))
        return None
    if isinstance(annotation, ast.Subscript):
        outer = _last_name(annotation.value)
        inner = annotation.slice
        if outer == "Optional":
            found = shape_of(inner)
            return Shape(found.base, found.item, True) if found else None
        if outer == "Union" and isinstance(inner, ast.Tuple) and len(inner.elts) == 2:
            return _optional(inner.elts[0], inner.elts[1])
        if outer in _CONTAINERS:
            base = _CONTAINERS[outer]
            items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            item = shape_of(items[-1] if base == "dict" else items[0])
            return Shape(base, item or Shape("int")) if item or base != "tuple" else None
    return None


def _optional(left: ast.expr, right: ast.expr) -> Shape | None:
    for this, other in ((left, right), (right, left)):
        if isinstance(other, ast.Constant) and other.value is None:
            found = shape_of(this)
            return Shape(found.base, found.item, True) if found else None
    return None


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


@dataclass(frozen=True)
class ParamSamples:
    param: Param
    shape: Shape | None  # from the annotation alone: what a hypothesis strategy can draw
    values: tuple[str, ...]  # Python expressions, the most typical first


def param_samples(target: FunctionTarget) -> list[ParamSamples]:
    usage = _Usage.of(target.node)
    found = []
    for param in target.params:
        typed = shape_of(param.annotation)
        shape = (
            typed
            or _default_shape(param)
            or usage.shape(param.name)
            or _named(param.name)
            or usage.indexed_shape(param.name)
        )
        values = list(_values_of(shape))
        if shape is not None and shape.base == "str" and param.name in usage.converted:
            values[:0] = ["'42'", "'0'", "'-3'"]  # a number in text: int(text), float(text)
        values[1:1] = usage.boundaries(param.name, shape)  # after the most typical value
        if param.default is not None:  # the typical value, when there is one
            values.insert(0, ast.unparse(param.default))
        found.append(ParamSamples(param, typed, tuple(dict.fromkeys(values))))
    return found


def cases(samples: list[ParamSamples]) -> list[tuple[str, ...]]:
    """Argument tuples (one expression per parameter): the typical case, then each
    parameter through its values with the others typical, then the diagonal."""
    if not samples:
        return [()]
    base = tuple(s.values[0] for s in samples)
    found = [base]
    for index, sample in enumerate(samples):
        for value in sample.values[1:]:
            found.append((*base[:index], value, *base[index + 1 :]))
    longest = max(len(s.values) for s in samples)
    for step in range(1, longest):
        found.append(tuple(s.values[step % len(s.values)] for s in samples))
    return list(dict.fromkeys(found))[:MAX_CASES]


def _values_of(shape: Shape | None) -> tuple[str, ...]:
    if shape is None:
        return ("1", "'abc'", "None")
    if shape.base in _SAMPLES:
        values = _SAMPLES[shape.base]
    else:
        item = _values_of(shape.item or Shape("int"))
        key = ("'a'", "'b'")
        if shape.base == "dict":
            values = (
                f"{{{key[0]}: {item[0]}}}",
                "{}",
                f"{{{key[0]}: {item[0]}, {key[1]}: {item[-1]}}}",
            )
        elif shape.base == "tuple":
            values = (f"({item[0]}, {item[-1]})", "()")
        else:
            values = (f"[{item[0]}, {item[-1]}, {item[0]}]", "[]", f"[{item[-1]}]")
    return (*values, "None") if shape.optional else values


def _default_shape(param: Param) -> Shape | None:
    if not isinstance(param.default, ast.Constant):
        return None
    value = param.default.value
    kind = type(value).__name__
    return Shape(kind) if kind in _SCALARS else None


def _named(name: str) -> Shape | None:
    lowered = name.lower()
    if lowered in _NAMES_BOOL or lowered.startswith(("is_", "has_", "use_", "allow_")):
        return Shape("bool")
    if lowered in _NAMES_STR or lowered.endswith(("_name", "_text", "_str", "_path", "_key")):
        return Shape("str")
    if lowered in _NAMES_FLOAT or lowered.endswith(("_price", "_rate", "_amount")):
        return Shape("float")
    if lowered in _NAMES_INT or lowered.endswith(("_count", "_index", "_size", "_num", "_id")):
        return Shape("int")
    if lowered in _NAMES_DICT or lowered.endswith(("_map", "_by_name")):
        return Shape("dict", Shape("int"))
    if lowered.endswith("s") and len(lowered) > 3:
        return Shape("list", Shape("int"))
    return None


class _Usage(ast.NodeVisitor):
    """What the body does with each parameter: compared with which literals, called
    which methods on it, iterated, indexed."""

    def __init__(self) -> None:
        self.literals: dict[str, list[object]] = {}
        self.methods: dict[str, set[str]] = {}
        self.iterated: set[str] = set()
        self.indexed: set[str] = set()
        self.arithmetic: set[str] = set()
        self.converted: set[str] = set()  # passed to int() or float()

    @classmethod
    def of(cls, node: ast.FunctionDef) -> _Usage:
        usage = cls()
        for statement in node.body:
            usage.visit(statement)
        return usage

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        names = [o.id for o in operands if isinstance(o, ast.Name)]
        constants = [o.value for o in operands if isinstance(o, ast.Constant)]
        for name in names:
            self.literals.setdefault(name, []).extend(
                c for c in constants if isinstance(c, int | float | str) and c is not True
            )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
            self.methods.setdefault(function.value.id, set()).add(function.attr)
        if isinstance(function, ast.Name) and function.id in ("int", "float"):
            self.converted.update(a.id for a in node.args if isinstance(a, ast.Name))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if isinstance(node.iter, ast.Name):
            self.iterated.add(node.iter.id)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.value, ast.Name):
            self.indexed.add(node.value.id)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        for side in (node.left, node.right):
            if isinstance(side, ast.Name) and not isinstance(node.op, ast.Mod):
                self.arithmetic.add(side.id)
        self.generic_visit(node)

    def shape(self, name: str) -> Shape | None:
        methods = self.methods.get(name, set())
        if methods & {"items", "keys", "values", "get"}:
            return Shape("dict", Shape("int"))
        if methods & _STR_METHODS or name in self.converted:
            return Shape("str")
        if methods & {"append", "extend", "pop", "sort", "index"} or name in self.iterated:
            return Shape("list", Shape("int"))
        literals = self.literals.get(name, [])
        if any(isinstance(v, str) for v in literals):
            return Shape("str")
        if any(isinstance(v, float) for v in literals):
            return Shape("float")
        if literals or name in self.arithmetic:
            return Shape("int")
        return None

    def indexed_shape(self, name: str) -> Shape | None:
        """Indexed only (a list or a mapping): weaker evidence than the name."""
        return Shape("list", Shape("int")) if name in self.indexed else None

    def boundaries(self, name: str, shape: Shape | None) -> list[str]:
        """The literals a parameter is compared with, and their neighbours."""
        found: list[str] = []
        for value in self.literals.get(name, []):
            if isinstance(value, bool):
                continue
            if isinstance(value, int) and (shape is None or shape.base in ("int", "float")):
                found.extend(repr(v) for v in (value - 1, value, value + 1))
            elif isinstance(value, float) and (shape is None or shape.base == "float"):
                found.extend(repr(v) for v in (value - 0.5, value, value + 0.5))
            elif isinstance(value, str) and (shape is None or shape.base == "str"):
                found.append(repr(value))
        return found
