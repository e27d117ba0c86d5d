"""How natural an edit reads in its project: a token trigram model of the project's own
Python code ("naturalness of software", Hindle et al.), scoring the changed lines'
cross-entropy before and after the edit. A patch that reads like the rest of the project
(`lo <= hi`, as the project writes elsewhere) scores lower than an odd one
(`lo != hi + 1`).

The model is counts of token trigrams, bigrams and unigrams, interpolated (Jelinek-Mercer)
with a uniform floor; it is built once per project (cached on the files' sizes and times)
from the sources under repair and the project's other Python files, up to a cap. The lines
being scored are left out of the counts while they are scored (leave-one-out), so that the
buggy line does not vouch for itself.
"""

from __future__ import annotations

import bisect
import functools
import io
import math
import sysconfig
import threading
import tokenize
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fixloop.memory.records import common_ends

# Interpolation weights of the trigram, bigram and unigram estimates; the rest is uniform.
_WEIGHTS = (0.5, 0.3, 0.15)
_FLOOR = 0.05
# The project's share of the mixture with the general model.
PROJECT_WEIGHT = 0.6
# What is read of a project beyond the sources under repair: enough to learn its idioms,
# little enough to cost milliseconds.
MAX_FILES = 200
MAX_BYTES = 250_000
# The general model's corpus: plain, idiomatic modules of the standard library (~250 kB).
_GENERAL = ("bisect", "heapq", "textwrap", "fractions", "statistics", "string", "shlex",
            "functools", "csv", "fnmatch", "posixpath", "copy", "glob", "calendar")  # fmt: skip
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", "build", "dist"}
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_START = "<s>"

Token = tuple[str, int]  # (text, 1-based line)


@functools.lru_cache(maxsize=16)  # the file before the edit, once for all the candidates
def tokens(text: str, until: int = 0) -> tuple[Token, ...]:
    """The Python tokens of `text` (comments and blank lines left out; string literals
    shortened to their quote kind, numbers kept: `0` and `1` are idioms), with their line.
    Text that does not tokenize gives what came before the error; with `until`, the tokens
    up to that line (the rest of a large file is not read)."""
    found: list[Token] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if until and token.start[0] > until:
                break
            if token.type in _SKIP:
                continue
            found.append((_normal(token), token.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return tuple(found)


def _until(words: tuple[Token, ...], last: int) -> tuple[Token, ...]:
    """The tokens up to line `last`: `tokens(text, last)` from `tokens(text)` (tokens come
    in the order of their lines, and what comes after a line does not change them)."""
    end = bisect.bisect_right(words, last, key=lambda token: token[1])
    return words[:end]


def _normal(token: tokenize.TokenInfo) -> str:
    if token.type == tokenize.STRING:
        return "<str>" if len(token.string) > 12 else token.string
    if token.type == tokenize.NEWLINE:
        return "<nl>"
    if token.type == tokenize.INDENT:
        return "<indent>"
    if token.type == tokenize.DEDENT:
        return "<dedent>"
    return token.string


Trigram = tuple[str, str, str]


def _trigrams(words: Sequence[str]) -> Iterable[Trigram]:
    padded = [_START, _START, *words]
    for i in range(2, len(padded)):
        yield padded[i - 2], padded[i - 1], padded[i]


@dataclass
class NgramModel:
    """Trigram counts with the bigram and unigram counts they imply."""

    tri: Counter[Trigram] = field(default_factory=Counter)
    tri_ctx: Counter[tuple[str, str]] = field(default_factory=Counter)
    bi: Counter[tuple[str, str]] = field(default_factory=Counter)
    bi_ctx: Counter[str] = field(default_factory=Counter)
    uni: Counter[str] = field(default_factory=Counter)
    total: int = 0
    # Scoring leaves lines out of the counts for a moment: one scorer at a time.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, words: Sequence[str], sign: int = 1) -> None:
        """Count (or, with sign -1, uncount) the trigrams of a token sequence."""
        for a, b, c in _trigrams(words):
            self.tri[(a, b, c)] += sign
            self.tri_ctx[(a, b)] += sign
            self.bi[(b, c)] += sign
            self.bi_ctx[b] += sign
            self.uni[c] += sign
            self.total += sign

    def probability(self, a: str, b: str, c: str) -> float:
        """P(c | a b), interpolated down to a uniform floor."""
        vocabulary = max(1, len(self.uni)) + 1
        p = _FLOOR / vocabulary
        estimates = (
            (self.tri[(a, b, c)], self.tri_ctx[(a, b)]),
            (self.bi[(b, c)], self.bi_ctx[b]),
            (self.uni[c], self.total),
        )
        unused = 0.0
        for weight, (count, context) in zip(_WEIGHTS, estimates, strict=True):
            if context > 0:
                p += weight * max(0, count) / context
            else:
                unused += weight  # an unseen context: its weight goes to the lower orders
        if unused:
            p += unused * max(0, self.uni[c]) / max(1, self.total)
        return min(1.0, p)


@dataclass(frozen=True)
class Scorer:
    """The project's model mixed with a general one (common Python, for the idioms a
    small project has too few lines to show)."""

    project: NgramModel
    general: NgramModel | None = None

    def bits(self, a: str, b: str, c: str) -> float:
        p = self.project.probability(a, b, c)
        if self.general is not None:
            p = PROJECT_WEIGHT * p + (1 - PROJECT_WEIGHT) * self.general.probability(a, b, c)
        return -math.log2(p)

    def line_entropy(self, text: str, first: int, last: int) -> float | None:
        """Mean bits per token of lines `first`..`last` (1-based, inclusive) of `text`,
        each token predicted from the two before it; None when they hold no token."""
        return self._entropy(tokens(text, last), first, last)

    def _entropy(self, words: Sequence[Token], first: int, last: int) -> float | None:
        """`line_entropy` of a text's tokens up to line `last`."""
        scored = [
            self.bits(*gram)
            for gram, (_, line) in zip(_trigrams([w for w, _ in words]), words, strict=True)
            if first <= line <= last
        ]
        return sum(scored) / len(scored) if scored else None


def build(texts: Iterable[str]) -> NgramModel:
    model = NgramModel()
    for text in texts:
        model.add([w for w, _ in tokens(text)])
    return model


@dataclass(frozen=True)
class Naturalness:
    """The change in mean cross-entropy (bits per token) of an edit's lines: negative
    when the edited code reads more like the project than the code it replaces."""

    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


def changed_lines(before: str, after: str) -> tuple[range, range] | None:
    """The lines an edit changes (1-based) in the old text and in the new: empty in the
    new for a deletion, in the old for an insertion; None when nothing changed."""
    old, new = before.splitlines(), after.splitlines()
    prefix, suffix = common_ends(old, new)
    if prefix == len(old) == len(new):
        return None
    return range(prefix + 1, len(old) - suffix + 1), range(prefix + 1, len(new) - suffix + 1)


def hunk_lines(before: str, after: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The lines an edit changes, with one line of context on each side: (first, last) in
    the old text and in the new (1-based, inclusive); None when nothing changed."""
    changed = changed_lines(before, after)
    if changed is None:
        return None
    old, new = changed
    sizes = (len(before.splitlines()), len(after.splitlines()))
    return _widened(old, sizes[0]), _widened(new, sizes[1])


def _widened(lines: range, size: int) -> tuple[int, int]:
    return max(1, lines.start - 1), min(size, lines.stop)


def naturalness(scorer: Scorer, path: str, before: str, after: str) -> Naturalness | None:
    """The edit's lines scored before and after, each with those lines' own counts left
    out of the model (the file under repair is part of what it learned)."""
    lines = hunk_lines(before, after)
    if lines is None or not path.endswith(".py"):
        return None
    (old_first, old_last), (new_first, new_last) = lines
    # The file before the edit is the same for every candidate: tokenized once, whole.
    old_tokens = _until(tokens(before), old_last)
    old_words = [w for w, line in old_tokens if old_first <= line <= old_last]
    model = scorer.project
    with model.lock, _leaving_out(model, old_words):
        old = scorer._entropy(old_tokens, old_first, old_last)
        new = scorer.line_entropy(after, new_first, new_last)
    if old is None or new is None:
        return None
    return Naturalness(old, new)


@contextmanager
def _leaving_out(model: NgramModel, words: Sequence[str]) -> Iterator[None]:
    """The model without the counts of some tokens, for the time of a `with`."""
    model.add(words, -1)
    try:
        yield
    finally:
        model.add(words, 1)


# --- one model per project ------------------------------------------------------------

_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], NgramModel]] = {}
_cache_lock = threading.RLock()  # held while a model is built: one build per project
_CACHED_PROJECTS = 4


def project_files(root: Path, skip: Iterable[str] = ()) -> list[Path]:
    """The project's Python files beyond `skip` (relative paths), up to the caps: those
    beside the files skipped (the sources under repair) first."""
    skipped = set(skip)
    near = {str(Path(path).parent) for path in skipped}
    found: list[Path] = []
    size = 0
    candidates = sorted(root.rglob("*.py"))
    candidates.sort(key=lambda p: str(p.parent.relative_to(root)) not in near)
    for path in candidates:
        relative = path.relative_to(root)
        if _SKIP_DIRS & set(relative.parts[:-1]) or relative.as_posix() in skipped:
            continue
        try:
            size += path.stat().st_size
        except OSError:
            continue
        if size > MAX_BYTES or len(found) >= MAX_FILES:
            break
        found.append(path)
    return found


def project_model(root: Path, sources: Mapping[str, str]) -> NgramModel:
    """The model of the project's code: the sources under repair (as the session read
    them) and the project's other Python files. Cached per project until a file changes."""
    others = project_files(root, sources)
    signature = tuple(sorted(_stat(p) for p in others)) + tuple(
        (path, len(text), hash(text)) for path, text in sorted(sources.items())
    )
    key = root.resolve()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        model = build([*sources.values(), *(_read(p) for p in others)])
        _cache[key] = (signature, model)
        while len(_cache) > _CACHED_PROJECTS:
            _cache.pop(next(iter(_cache)))
    return model


_general: list[NgramModel] = []


def general_model() -> NgramModel:
    """The model of common Python (built once per process)."""
    with _cache_lock:
        if not _general:
            stdlib = Path(sysconfig.get_paths()["stdlib"])
            _general.append(build(_read(stdlib / f"{name}.py") for name in _GENERAL))
        return _general[0]


def scorer_for(root: Path, sources: Mapping[str, str]) -> Scorer:
    """The scorer for a project (its model and the general one); built in the background
    while the candidates run (the engine starts it early), it is ready when the
    ranking needs it."""
    return Scorer(project_model(root, sources), general_model())


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_size, stat.st_mtime_ns)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
