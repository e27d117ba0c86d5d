"""Ranking among candidates that pass the failing tests: weak tests let wrong edits pass,
so the order decides which passing candidate is offered.

Like a reviewer, the ranking prefers the natural patch, in points that add up (each
explained to the user in one line, see `why`):

- behaviour: where generated inputs tell the patches apart (differential.py), the one
  that behaves like the original code on them: the bug is one line, the rest was right
  (up to `BEHAVIOUR` points, for agreeing on all of them);
- the line the failure points at: a failing test's frame, or the most suspicious line
  (up to `AT_FAILURE` points);
- names and kinds: a name new to the function, a comparison of values of different kinds
  (`NEW_NAME`, `MISMATCH` points off each);
- code removed: a statement the code ran that the patch deletes or leaves unreachable
  (`REMOVES` points off each): a patch that passes by taking functionality out is the
  classic wrong fix that weak tests let through;
- naturalness: the change in the edited lines' cross-entropy under a model of the
  project's code (naturalness.py), `NATURAL` points per bit per token beyond the most
  natural of the passing patches;
- agreement: `AGREEMENT` points for each other generator or template making the same edit;
- the default choice, the passing candidate that would be offered without a reviewer
  (the smallest edit, then the generators' first: their most likely edit at the most
  suspicious line), gets `FIRST_CHOICE` points: a weak signal alone (a fraction of a bit
  of naturalness, a near-tie of suspiciousness) does not override it.

Naturalness counts in whole half-bit steps above the most natural patch and the failure's
pointing in quarter steps: smaller differences are noise. Ties go to the smaller edit,
then to the generators' own order.
"""

from __future__ import annotations

import ast
import builtins
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from fixloop.loop.model import Candidate, RepairContext
from fixloop.loop.naturalness import Scorer, changed_lines, naturalness
from fixloop.sandbox.results import CandidateResult

BEHAVIOUR = 3.0
AT_FAILURE = 1.0
NEW_NAME = 1.0
MISMATCH = 1.0
NATURAL = 0.5
AGREEMENT = 0.5
REMOVES = 1.0
FIRST_CHOICE = 0.5
# A patch's naturalness counts within these bits per token (one odd token is not a verdict),
# in steps of half a bit: smaller differences are noise, and the smaller edit decides.
_NATURAL_CAP = 2.0
_NATURAL_STEP = 0.5
# The failure's pointing counts in quarter steps (Ochiai's near-ties are no evidence).
_AT_FAILURE_STEP = 0.25


@dataclass(frozen=True)
class Behaviour:
    """How a patch behaves on generated inputs where the patches compared behave
    differently: on how many of them it does what the original code does."""

    agrees: int
    of: int

    @property
    def share(self) -> float:
        return self.agrees / self.of if self.of else 0.0


@dataclass(frozen=True)
class Merits:
    """What the ranking found of one passing candidate (see the module's docstring)."""

    agreement: int = 1
    natural: float | None = None  # Δ bits per token of the edited lines (lower: more natural)
    at_failure: float = 0.0  # 1: at a failing frame or the top suspicious line
    new_names: tuple[str, ...] = ()
    mismatches: int = 0
    behaviour: Behaviour | None = None
    removes: int = 0  # statements the patch deletes or makes unreachable
    # Bits per token above the most natural passing patch (None: not compared yet).
    natural_gap: float | None = None
    first: bool = False  # the default choice: the smallest edit, the generators' first

    @property
    def evidence(self) -> float:
        """The points of what was found of the patch itself (all but `first`)."""
        points = AGREEMENT * (self.agreement - 1)
        points += AT_FAILURE * _step(self.at_failure, _AT_FAILURE_STEP)
        points -= NEW_NAME * len(self.new_names) + MISMATCH * self.mismatches
        points -= REMOVES * self.removes
        points -= NATURAL * self.natural_steps
        if self.behaviour is not None and self.behaviour.of:
            points += BEHAVIOUR * self.behaviour.share
        return points

    @property
    def score(self) -> float:
        return self.evidence + FIRST_CHOICE * self.first

    @property
    def natural_steps(self) -> float:
        """The bits per token that count against the patch, in whole half-bit steps:
        above the most natural passing patch once compared, else from the edit's own
        change (capped either side: one odd token is not a verdict)."""
        if self.natural_gap is not None:
            gap = min(_NATURAL_CAP, self.natural_gap)
            return math.floor(gap / _NATURAL_STEP + 1e-9) * _NATURAL_STEP
        if self.natural is None:
            return 0.0
        return _step(max(-_NATURAL_CAP, min(_NATURAL_CAP, self.natural)), _NATURAL_STEP)

    def data(self) -> dict[str, object]:
        """For the session log."""
        return {
            "score": round(self.score, 3),
            "agreement": self.agreement,
            "natural": None if self.natural is None else round(self.natural, 3),
            "at_failure": round(self.at_failure, 3),
            "new_names": list(self.new_names),
            "mismatches": self.mismatches,
            "removes": self.removes,
            "first": self.first,
            "behaviour": (
                None if self.behaviour is None else [self.behaviour.agrees, self.behaviour.of]
            ),
        }


def _step(value: float, step: float) -> float:
    return round(value / step) * step


@dataclass
class Tried:
    """A candidate and its test result in this session."""

    candidate: Candidate
    result: CandidateResult
    agreement: int = 1
    order: int = 0  # the generators' own order: their best guess comes first
    merits: Merits | None = field(default=None, compare=False)


def rank_key(tried: Tried) -> tuple[float, int, int]:
    """Best first: the reviewer's points (when judged), then the smaller edit, then the
    generators' own order (most likely edit at the most suspicious line)."""
    merits = tried.merits or Merits(agreement=tried.agreement)
    return (-round(merits.score, 6), tried.candidate.edit_size, tried.order)


# --- judging one candidate --------------------------------------------------------------


def judged(item: Tried, context: RepairContext, scorer: Scorer | None) -> Tried:
    """The candidate with its merits found (all but behaviour, which needs the sandbox)."""
    natural: list[float] = []
    at_failure = 0.0
    names: list[str] = []
    mismatches = 0
    removes = 0
    for path, after in item.candidate.changes.items():
        before = context.sources.get(path)
        if before is None or before == after or not path.endswith(".py"):
            continue
        lines = changed_lines(before, after)
        if lines is None:
            continue
        at_failure = max(at_failure, suspicion(context, path, _around(lines[0])))
        # A deletion writes nothing to judge: the lines around it read as they did, and
        # leaving the odd line out always lowers the mean (it is code removed, above).
        written = len(lines[1]) > 0
        if written and scorer is not None and (found := naturalness(scorer, path, before, after)):
            natural.append(found.delta)
        new_lines = _around(lines[1])
        names += introduced_names(before, after, new_lines)
        mismatches += mismatched_kinds(before, after, new_lines)
        removes += removed_statements(before, after)
    merits = Merits(
        agreement=item.agreement,
        natural=max(natural) if natural else None,
        at_failure=at_failure,
        new_names=tuple(dict.fromkeys(names)),
        mismatches=mismatches,
        removes=removes,
    )
    return replace(item, merits=merits)


def _around(lines: range) -> range:
    """The changed lines; the lines either side of an insertion or a deletion (where
    nothing is left of it)."""
    return lines if len(lines) else range(max(1, lines.start - 1), lines.start + 1)


def suspicion(context: RepairContext, path: str, lines: range) -> float:
    """How much the failure points at these lines: 1 at a failing test's frame in the
    file, else the most suspicious of them relative to the top location (0..1)."""
    for failure in context.failures:
        if any(frame == path and line in lines for frame, line in failure.frames):
            return 1.0
    top = max((loc.score for loc in context.locations), default=0.0)
    if top <= 0:
        return 0.0
    scores = [loc.score for loc in context.locations if loc.path == path and loc.line in lines]
    return max(0.0, max(scores, default=0.0) / top)


# --- names and kinds -------------------------------------------------------------------

_BUILTINS = set(dir(builtins))


@lru_cache(maxsize=16)
def _parsed(text: str) -> ast.Module | None:
    """The text's tree, None when it does not parse: each file once for all the scorers
    (the file before the edit once for all the candidates). Read, never changed."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def introduced_names(before: str, after: str, lines: range) -> list[str]:
    """Names read on the edited lines that the function they are in never used before
    (nor the module at its top level, nor Python's builtins): a reviewer's "where does
    this come from?"."""
    old_tree, new_tree = _parsed(before), _parsed(after)
    if old_tree is None or new_tree is None:
        return []
    known = _BUILTINS | _top_level_names(old_tree)
    found = []
    for function in _functions_at(new_tree, lines):
        old = _function_named(old_tree, function.name)
        used = _names(old) if old is not None else set()
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Name)
                and node.lineno in lines
                and node.id not in used
                and node.id not in known
            ):
                found.append(node.id)
    return found


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        else:
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return names


def _names(function: ast.AST) -> set[str]:
    names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    return names | {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions_at(tree: ast.Module, lines: range) -> list[_Function]:
    """The innermost functions holding any of these lines."""
    found = [
        node
        for node in _walk_around(tree, lines)
        if isinstance(node, _Function)
        and any(node.lineno <= line <= (node.end_lineno or node.lineno) for line in lines)
    ]
    return [f for f in found if not any(g is not f and _inside(g, f) for g in found)]


def _walk_around(tree: ast.AST, lines: range) -> Iterator[ast.AST]:
    """`ast.walk`'s nodes, in its order, but only below the statements that span one of
    the lines: a function holding a line is inside every statement around it, and a large
    module's other statements need not be visited."""
    if not lines:
        return
    first, last = lines[0], lines[-1]
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.stmt) or _spans(child, first, last):
                todo.append(child)


def _spans(statement: ast.stmt, first: int, last: int) -> bool:
    return statement.lineno <= last and first <= (statement.end_lineno or statement.lineno)


def _inside(inner: _Function, outer: _Function) -> bool:
    return outer.lineno <= inner.lineno and (inner.end_lineno or 0) <= (outer.end_lineno or 0)


def _function_named(tree: ast.Module, name: str) -> _Function | None:
    return next((n for n in ast.walk(tree) if isinstance(n, _Function) and n.name == name), None)


# --- code taken out --------------------------------------------------------------------

_ENDS_BLOCK = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def removed_statements(before: str, after: str) -> int:
    """How many statements the code ran before the edit that it no longer has or can no
    longer reach (a line deleted, a line moved below a `return`, a body left as `pass`)."""
    old_tree, new_tree = _parsed(before), _parsed(after)
    if old_tree is None or new_tree is None:
        return 0
    return max(0, _reachable(old_tree.body) - _reachable(new_tree.body))


def _reachable(body: Sequence[ast.stmt]) -> int:
    """The statements of a block that can run (`pass` not counted), nested ones too."""
    count = 0
    for statement in body:
        if not isinstance(statement, ast.Pass):
            count += 1
        for field_name in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field_name, None)
            if isinstance(inner, list):
                count += _reachable(inner)
        for handler in getattr(statement, "handlers", ()):
            count += _reachable(handler.body)
        for case in getattr(statement, "cases", ()):
            count += _reachable(case.body)
        if isinstance(statement, _ENDS_BLOCK):
            break  # what follows in this block never runs
    return count


_NUMBER = "number"
_KIND_CALLS = {"len": _NUMBER, "int": _NUMBER, "float": _NUMBER, "abs": _NUMBER,
               "sum": _NUMBER, "round": _NUMBER, "str": "str", "repr": "str",
               "list": "list", "sorted": "list", "dict": "dict", "set": "set",
               "tuple": "tuple", "bool": "bool"}  # fmt: skip
_ORDERED = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def mismatched_kinds(before: str, after: str, lines: range) -> int:
    """Comparisons and arithmetic on the edited lines of `after` whose two sides are of
    different kinds as far as the code before the edit shows (a literal, a call like
    `len(…)`, a name the function binds or compares to values of one kind only):
    `count == "0"`, `name + 1`; and an edited function that now returns a kind of value
    it never returned (None from a function that returned booleans)."""
    tree, old_tree = _parsed(after), _parsed(before)
    if tree is None or old_tree is None:
        return 0
    found = 0
    for function in _functions_at(tree, lines):
        old = _function_named(old_tree, function.name)
        kinds = _name_kinds(old) if old is not None else {}
        if old is not None and (was := _return_kinds(old, kinds)):
            found += bool(_return_kinds(function, kinds) - was)
        for node in ast.walk(function):
            if getattr(node, "lineno", 0) not in lines:
                continue
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
                    if isinstance(op, _ORDERED) and _clash(left, right, kinds):
                        found += 1
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
                found += _clash(node.left, node.right, kinds)
    return found


def _return_kinds(function: _Function, kinds: Mapping[str, str]) -> set[str]:
    """The kinds of value the function returns, as far as they are known ("none" for a
    bare `return` or falling off its end); empty for one that returns no value at all."""
    returns = [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Return) and _owner(function, node) is function
    ]
    if not any(r.value is not None for r in returns):
        return set()
    found = {k for r in returns if (k := _returned(r.value, kinds)) is not None}
    last = function.body[-1]
    if not isinstance(last, ast.Return | ast.Raise | ast.While | ast.Try | ast.With | ast.If):
        found.add("none")  # falls off its end (a loop or branch may not: not counted)
    return found


def _returned(value: ast.expr | None, kinds: Mapping[str, str]) -> str | None:
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return "none"
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return "bool"
    if isinstance(value, ast.Compare):
        return "bool"
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        return "bool"
    return _kind(value, kinds)


def _owner(function: _Function, node: ast.AST) -> _Function | None:
    """The innermost function of `function` (itself included) holding `node`."""
    for inner in ast.walk(function):
        if inner is not function and isinstance(inner, _Function) and node in ast.walk(inner):
            return inner
    return function


def _clash(left: ast.expr, right: ast.expr, kinds: Mapping[str, str]) -> bool:
    a, b = _kind(left, kinds), _kind(right, kinds)
    return a is not None and b is not None and a != b


def _kind(node: ast.expr, kinds: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, bool):
            return None  # `x == None`, `flag == True`: odd style, not a clash of kinds
        if isinstance(value, int | float):
            return _NUMBER
        return type(value).__name__
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, ast.List | ast.ListComp):
        return "list"
    if isinstance(node, ast.Dict | ast.DictComp):
        return "dict"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _KIND_CALLS.get(node.func.id)
    if isinstance(node, ast.Name):
        return kinds.get(node.id)
    return None


def _name_kinds(function: _Function) -> dict[str, str]:
    """Names the function binds or compares to values of one known kind only (parameters
    by their plain annotation, assignments by their value, `x >= 90` by the literal)."""
    seen: dict[str, set[str | None]] = {}
    annotations = {"int": _NUMBER, "float": _NUMBER, "str": "str", "list": "list",
                   "dict": "dict"}  # fmt: skip
    for arg in [*function.args.args, *function.args.kwonlyargs]:
        named = arg.annotation.id if isinstance(arg.annotation, ast.Name) else ""
        if named:  # an annotation of another kind says "not known"; none says nothing
            seen.setdefault(arg.arg, set()).add(annotations.get(named))
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    seen.setdefault(target.id, set()).add(_kind(node.value, {}))
        elif isinstance(node, ast.AugAssign | ast.For) and isinstance(node.target, ast.Name):
            seen.setdefault(node.target.id, set()).add(None)  # not known
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
                if not isinstance(op, _ORDERED):
                    continue
                for name, other in ((left, right), (right, left)):
                    kind = _kind(other, {}) if isinstance(other, ast.Constant) else None
                    if isinstance(name, ast.Name) and kind is not None:
                        seen.setdefault(name.id, set()).add(kind)
    single = {name: next(iter(k)) for name, k in seen.items() if len(k) == 1}
    return {name: kind for name, kind in single.items() if kind is not None}


# --- the ranking and its reason -----------------------------------------------------------

# Tells passing candidates' behaviour on generated inputs apart (differential.py):
# the contenders, best first → their behaviour, by position (None: not told apart).
Compare = Callable[[Sequence[Tried]], Sequence[Behaviour | None] | None]
# The contenders compared by behaviour (in one sandbox run): the best by the other merits.
CONTENDERS = 8


def ranked(
    passing: Sequence[Tried],
    context: RepairContext,
    scorer: Scorer | None,
    compare: Compare | None = None,
) -> list[Tried]:
    """The passing candidates, best first (see the module's docstring)."""
    items = sorted(_compared(judged(item, context, scorer) for item in passing), key=rank_key)
    if compare is None or len(items) < 2:
        return items
    contenders = items[:CONTENDERS]
    behaviours = compare(contenders)
    if not behaviours:
        return items
    told = [
        replace(item, merits=replace(item.merits or Merits(), behaviour=behaviour))
        for item, behaviour in zip(contenders, behaviours, strict=True)
    ]
    return sorted([*told, *items[CONTENDERS:]], key=rank_key)


def _compared(judged_items: Iterable[Tried]) -> list[Tried]:
    """The judged candidates with what only the whole set tells: each one's naturalness
    against the most natural, and which one is the default choice (the smallest edit, the
    generators' first of those)."""
    items = list(judged_items)
    if not items:
        return items
    natural = [i.merits.natural for i in items if i.merits and i.merits.natural is not None]
    best = min(natural, default=None)
    first = min(items, key=lambda item: (item.candidate.edit_size, item.order))
    told = []
    for item in items:
        merits = item.merits or Merits(agreement=item.agreement)
        gap = None if best is None or merits.natural is None else merits.natural - best
        merits = replace(merits, natural_gap=gap, first=item is first)
        told.append(replace(item, merits=merits))
    return told


def why(chosen: Tried, others: Sequence[Tried], broke: int = 0) -> str:
    """One line for the user: why this passing patch and not the others (`broke`: how
    many that passed the failing tests broke others in this session)."""
    if not others and broke:
        return f"the only candidate that passed the whole suite{_broke(broke)}"
    if not others and chosen.candidate.generator == "memory":
        return "remembered from a fix of the same kind of failure; tested first, it passed"
    if not others:
        return "the only candidate that passed the failing tests"
    mine = chosen.merits or Merits(agreement=chosen.agreement)
    theirs = [o.merits or Merits(agreement=o.agreement) for o in others]
    count = len(others)
    reasons = []
    if mine.behaviour is not None and mine.behaviour.of:
        rivals = [m.behaviour.agrees for m in theirs if m.behaviour is not None]
        if rivals and mine.behaviour.agrees > max(rivals):
            reasons.append(
                f"agrees with the original code on {mine.behaviour.agrees}/{mine.behaviour.of}"
                f" generated inputs where the patches differ (the others: at most "
                f"{max(rivals)})"
            )
    if _step(mine.at_failure, _AT_FAILURE_STEP) > max(
        _step(m.at_failure, _AT_FAILURE_STEP) for m in theirs
    ):
        reasons.append("edits the line the failure points at")
    if not mine.new_names and any(m.new_names for m in theirs):
        reasons.append("brings in no name new to the function")
    if not mine.mismatches and any(m.mismatches for m in theirs):
        reasons.append("keeps the kinds of values consistent")
    if not mine.removes and any(m.removes for m in theirs):
        reasons.append("takes out no code the function ran")
    rated = [m for m in theirs if m.natural is not None]
    if (
        mine.natural is not None
        and rated
        and all(mine.natural_steps < m.natural_steps for m in rated)
    ):
        reasons.append("most natural edit for this project")
    if mine.agreement > max(m.agreement for m in theirs):
        reasons.append(f"made by {mine.agreement} templates or generators")
    if not reasons:
        reasons.append(_fallback(mine, theirs, chosen, others))
    plural = "patch" if count == 1 else "patches"
    return f"chosen over {count} other passing {plural}: {'; '.join(reasons)}{_broke(broke)}"


def _fallback(
    mine: Merits, theirs: Sequence[Merits], chosen: Tried, others: Sequence[Tried]
) -> str:
    """The reason when no single merit sets the patch above all the others."""
    best = max(m.evidence for m in theirs)
    if mine.evidence > best:
        return f"the most points on the merits together ({mine.evidence:.1f} against {best:.1f})"
    if mine.first and mine.evidence < best:
        smallest = all(chosen.candidate.edit_size < o.candidate.edit_size for o in others)
        choice = "smallest edit" if smallest else "the generators' first choice"
        return f"{choice}: no other passing patch is clearly better"
    if all(chosen.candidate.edit_size < o.candidate.edit_size for o in others):
        return "smallest edit"
    return "as good as the others on every count: the generators' first choice"


def _broke(broke: int) -> str:
    if not broke:
        return ""
    return f" ({broke} more passed the failing tests but broke others)"
