"""The offline generator: repair templates at the suspicious lines, best first.

A candidate's score is the line's suspiciousness, times the template's prior rate
(successes per candidate generated: a count would favour the templates that generate
the most), times a decay over the template's alternatives at one site. Candidates are
merged lazily from the most suspicious line down, deduplicated by resulting text, and
dropped when they do not compile. Pairs of edits on nearby lines follow the single edits,
under a cap.
"""

from __future__ import annotations

import ast
import heapq
import itertools
import textwrap
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from fixloop.loop.model import Candidate, Location, RepairContext
from fixloop.loop.offline.source import Edit, Project, Source
from fixloop.loop.offline.templates import TEMPLATES

# Default prior rates (successes per candidate generated), set by hand: cheap classic
# edits first, the broad templates (which generate many candidates each) later. Rates
# measured on the 47-program corpus (benchmarks/bench_offline_local.py --rates) are too
# noisy to beat them yet (leave-one-out: median rank 138 against 92); memory's learned
# rates, per template, replace these as they accumulate.
DEFAULT_PRIOR: dict[str, float] = {
    "compare_op": 0.05,
    "arith_op": 0.04,
    "bool_op": 0.05,
    "off_by_one": 0.04,
    "bool_const": 0.05,
    "negate": 0.03,
    "aug_assign": 0.04,
    "bound": 0.02,
    "wrong_var": 0.01,
    "swap_args": 0.03,
    "swap_builtin": 0.03,
    "return_value": 0.006,
    "remove_term": 0.01,
    "unwrap": 0.02,
    "delete_stmt": 0.01,
    "move_stmt": 0.01,
    "extend_cond": 0.004,
    "add_one": 0.005,
    "add_term": 0.002,
    "wrap_call": 0.002,
    "insert_slice": 0.003,
    "fill_literal": 0.004,
    "rename_attr": 0.004,
    "insert_stmt": 0.002,
    "copy_stmt": 0.002,
    "guard": 0.002,
    "parenthesize": 0.004,
    "wrong_literal": 0.003,
    "add_arg": 0.002,
    "raise_guard": 0.002,
    "swap_names": 0.003,
    "use_var": 0.003,
    "reuse_expr": 0.0005,
    # The bug studies' name and literal categories, driven by the file's own names and
    # literals: few alternatives each, the most alike or the usual opposite first.
    "wrong_func": 0.01,
    "opposite_name": 0.02,
    "change_number": 0.003,
    "change_string": 0.005,
    "remove_arg": 0.0015,
    "keyword_name": 0.01,
    # A dropped argument, its value from the callee's signature, the scope's variables
    # and the other calls of the callee: a few candidates at a call, or none. A call
    # passing fewer arguments than its callee requires certainly fails: filled early.
    "required_arg": 0.03,
    "more_args": 0.004,
    "keyword_arg": 0.004,
}
# Each further alternative at one site is this much less likely.
_RANK_DECAY = 0.85
# The lowest relative score of a located line; unlocated lines get half of it.
_MIN_RELATIVE_SCORE = 0.02
# When nothing localizes the failure, every statement line is a (weak) suspect.
_FALLBACK_SCORE = 0.05
# Pairs: the best single edits combined, on lines at most this far apart.
_PAIR_POOL = 60
_PAIR_DISTANCE = 2
# Each pair is scored as the product of its edits' scores times this.
_PAIR_FACTOR = 0.5


@dataclass(order=True)
class _Scored:
    key: float  # negated score: heapq is a min-heap
    order: int  # generation order breaks ties, keeping the result deterministic
    path: str
    edit: Edit
    score: float


class OfflineGenerator:
    """Repair templates at the suspicious lines; no model needed."""

    name = "offline"
    reflective = False  # its stream goes on while time allows: no rounds to count

    def __init__(self, max_candidates: int = 20_000, max_pairs: int = 2_000) -> None:
        self.max_candidates = max_candidates
        self.max_pairs = max_pairs

    def candidates(self, context: RepairContext) -> Iterator[Candidate]:
        if context.language != "python":
            return
        sources = _parse_sources(context.sources)
        if not sources:
            return
        project = Project(context.project_root, sources)
        for src in sources.values():
            src.project = project
        prior = {**DEFAULT_PRIOR, **context.template_prior}
        locations = _suspects(context.locations, sources)
        seen = {hash(src.text) for src in sources.values()}
        emitted: list[_Scored] = []
        count = 0
        for scored in _singles(sources, locations, prior):
            candidate = _candidate(sources[scored.path], [scored.edit], seen)
            if candidate is None:
                continue
            emitted.append(scored)
            yield candidate
            count += 1
            if count >= self.max_candidates:
                return
        pairs = 0
        for first, second in _pairs(emitted):
            if pairs >= self.max_pairs or count >= self.max_candidates:
                return
            candidate = _candidate(sources[first.path], [first.edit, second.edit], seen)
            if candidate is not None:
                pairs += 1
                count += 1
                yield candidate


def _parse_sources(texts: Mapping[str, str]) -> dict[str, Source]:
    sources = {}
    for path, text in texts.items():
        if not path.endswith(".py"):
            continue
        try:
            sources[path] = Source(path, text)
        except (SyntaxError, ValueError):
            continue  # a file that does not parse is a job for the syntax fixes
    return sources


def _suspects(locations: tuple[Location, ...], sources: Mapping[str, Source]) -> list[Location]:
    """The usable locations, normalized to a top score of 1, most suspicious first."""
    usable = [loc for loc in locations if loc.path in sources and loc.score > 0]
    if not usable:
        return [
            Location(path, line, _FALLBACK_SCORE)
            for path, src in sources.items()
            for line in src.statement_lines
        ]
    top = max(loc.score for loc in usable)
    best: dict[tuple[str, int], float] = {}
    for loc in usable:
        score = max(loc.score / top, _MIN_RELATIVE_SCORE)
        best[loc.path, loc.line] = max(best.get((loc.path, loc.line), 0.0), score)
    ordered = sorted(best.items(), key=lambda item: -item[1])
    suspects = [Location(path, line, score) for (path, line), score in ordered]
    # The evidence is partial (a wrong value returned elsewhere leaves no frame): the
    # other lines of the same files follow, far behind.
    for path in dict.fromkeys(loc.path for loc in suspects):
        for line in sources[path].statement_lines:
            if (path, line) not in best:
                suspects.append(Location(path, line, _MIN_RELATIVE_SCORE / 2))
    return suspects


def _singles(
    sources: Mapping[str, Source], locations: list[Location], prior: Mapping[str, float]
) -> Iterator[_Scored]:
    """Single edits, best score first, generating a line's edits only when no pending
    edit can still beat them."""
    best_rate = max(prior.get(name, 0.0) for name in TEMPLATES) or 1.0
    heap: list[_Scored] = []
    order = itertools.count()
    for location in locations:
        ceiling = location.score * best_rate
        while heap and -heap[0].key >= ceiling:
            yield heapq.heappop(heap)
        src = sources[location.path]
        for name, template in TEMPLATES.items():
            rate = prior.get(name, 0.0)
            if rate <= 0:
                continue
            for edit in template(src, location.line):
                score = location.score * rate * _RANK_DECAY**edit.rank
                heapq.heappush(heap, _Scored(-score, next(order), location.path, edit, score))
    while heap:
        yield heapq.heappop(heap)


def _pairs(singles: list[_Scored]) -> Iterator[tuple[_Scored, _Scored]]:
    pool = singles[:_PAIR_POOL]
    combos = []
    for a, b in itertools.combinations(pool, 2):
        if a.path != b.path or abs(a.edit.line - b.edit.line) > _PAIR_DISTANCE:
            continue
        if a.edit.start < b.edit.end and b.edit.start < a.edit.end:
            continue  # overlapping edits
        if a.edit.start == a.edit.end == b.edit.start == b.edit.end:
            continue
        combos.append((a.score * b.score * _PAIR_FACTOR, a, b))
    combos.sort(key=lambda combo: -combo[0])
    for _, a, b in combos:
        yield a, b


def _candidate(src: Source, edits: list[Edit], seen: set[int]) -> Candidate | None:
    text = _apply(src.text, edits)
    key = hash(text)
    if key in seen:
        return None
    seen.add(key)
    if not _compiles(src, text, edits):
        return None
    size = sum(_edit_size(src.text[e.start : e.end], e.text) for e in edits)
    where = f"{src.path}:{min(e.line for e in edits)}"
    return Candidate(
        changes={src.path: text},
        description="; ".join(_describe(src, e) for e in edits) + f" in {where}",
        generator="offline",
        template="+".join(e.template for e in edits),
        edit_size=size,
    )


def _describe(src: Source, edit: Edit) -> str:
    if edit.description:
        return edit.description
    return f"`{_short(edit.text)}` instead of `{_short(src.text[edit.start : edit.end])}`"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _apply(text: str, edits: list[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def _edit_size(old: str, new: str) -> int:
    prefix = len(_common_prefix(old, new))
    old, new = old[prefix:], new[prefix:]
    suffix = len(_common_prefix(old[::-1], new[::-1]))
    return max(len(old), len(new)) - suffix


def _common_prefix(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return a[:i]
    return a[: min(len(a), len(b))]


def _compiles(src: Source, text: str, edits: list[Edit]) -> bool:
    """Compile only the function (or top-level statement) around the edits: as strict as
    compiling the file for edits inside it, and far cheaper on large files."""
    chunk = _chunk(src, text, edits)
    with warnings.catch_warnings():
        # A SyntaxWarning (`x is 0`, `(1)[0]`) marks a candidate no careful person writes.
        warnings.simplefilter("error", SyntaxWarning)
        try:
            compile(chunk if chunk is not None else text, src.path, "exec", dont_inherit=True)
        except (SyntaxError, SyntaxWarning, ValueError):
            return False
    return True


def _chunk(src: Source, text: str, edits: list[Edit]) -> str | None:
    lines = {e.line for e in edits}
    functions = {src.outermost_function(line) for line in lines}
    tops = {src.top_statement(line) for line in lines}
    node: ast.stmt | None = None
    if len(functions) == 1 and None not in functions:
        node = functions.pop()
    elif len(tops) == 1 and None not in tops:
        node = tops.pop()
    if node is None:
        return None
    start = src.line_start(node.lineno)
    end = src.line_start((node.end_lineno or node.lineno) + 1)
    if any(e.start < start or e.end > end for e in edits):
        return None
    delta = sum(len(e.text) - (e.end - e.start) for e in edits)
    chunk = text[start : end + delta]
    if node.col_offset:
        dedented = textwrap.dedent(chunk)
        if dedented == chunk:
            return None  # something (a multi-line string) sits at a lower indentation
        chunk = dedented
    return chunk
