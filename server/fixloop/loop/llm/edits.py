"""The edits in a model's reply — SEARCH/REPLACE blocks or a unified diff — and how they
are applied: all of them or none.

Models copy code imperfectly (indentation, trailing spaces, a changed blank line), so a
SEARCH text is located by an exact match first, then ignoring white space, then by a
bounded fuzzy match; a text that matches in more than one place is refused rather than
guessed at. A unified diff's hunks become the same search/replace pairs.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Similarity (difflib ratio) a fuzzy match needs; below it a SEARCH text is "not found".
FUZZY_THRESHOLD = 0.85
# Windows compared character by character in a fuzzy search, chosen by shared tokens:
# around the best window, and elsewhere (where a rival would make the match ambiguous).
_NEAR, _FAR = 9, 3
_TOKEN = re.compile(r"\w+|[^\w\s]")


class EditError(ValueError):
    """A reply that cannot be applied. The message says why; it goes back to the model."""


@dataclass(frozen=True)
class Edit:
    """Replace `search` (whole lines) with `replace` in the file at `path`."""

    path: str
    search: str
    replace: str
    # 1-based line from a diff hunk header: only breaks ties between equal matches.
    line_hint: int | None = None


_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\b")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\b")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_LOOSE_HUNK = re.compile(r"^@@.*@@")  # "@@ ... @@" without line numbers
_PATH_DECORATION = re.compile(r"^(?:#+|\*+|`+|file:|path:)\s*", re.IGNORECASE)
# The prefix of the numbered listing in the prompt ("  12 | "): some models copy it.
_NUMBERED = re.compile(r"^\s*\d+ \| ?")
# Reasoning models (DeepSeek-R1, Qwen3 through Ollama or vLLM) think aloud before the
# answer, drafts of blocks included: only the answer counts.
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)


# --- parsing ---------------------------------------------------------------------------


def parse_edits(reply: str) -> list[Edit]:
    """The edits of a reply, in order. Raises `EditError` when there are none or a block
    is malformed."""
    lines = _THINKING.sub("", reply).splitlines()
    if any(_SEARCH.match(line) for line in lines):
        edits = _parse_blocks(lines)
    elif any(_HUNK.match(line) or _LOOSE_HUNK.match(line) for line in lines):
        edits = _parse_diff(lines)
    else:
        raise EditError(
            "the reply has no edit: answer with SEARCH/REPLACE blocks "
            "(<<<<<<< SEARCH / ======= / >>>>>>> REPLACE) after the file's path"
        )
    if not edits:
        raise EditError("the reply's edits change nothing")
    return edits


def _parse_blocks(lines: Sequence[str]) -> list[Edit]:
    edits: list[Edit] = []
    path: str | None = None
    index = 0
    while index < len(lines):
        if not _SEARCH.match(lines[index]):
            index += 1
            continue
        path = _path_before(lines, index) or path  # later blocks may share one path line
        if path is None:
            raise EditError("a SEARCH block has no file path on the line before it")
        search, index = _block_part(lines, index + 1, _DIVIDER, "=======")
        replace, index = _block_part(lines, index + 1, _REPLACE, ">>>>>>> REPLACE")
        search, replace = _without_line_numbers(search, replace)
        edits.append(Edit(path, _text(search), _text(replace)))
        index += 1
    return edits


def _block_part(
    lines: Sequence[str], start: int, end: re.Pattern[str], marker: str
) -> tuple[list[str], int]:
    """The lines from `start` up to the `end` marker, and the marker's index."""
    wrong = _REPLACE if end is _DIVIDER else _DIVIDER  # the other marker: out of order
    for index in range(start, len(lines)):
        if end.match(lines[index]):
            return list(lines[start:index]), index
        if _SEARCH.match(lines[index]) or wrong.match(lines[index]):
            break
    raise EditError(f"a SEARCH/REPLACE block is not closed by `{marker}`")


def _path_before(lines: Sequence[str], index: int) -> str | None:
    """The file path written on the nearest line above a SEARCH marker (fences skipped)."""
    for line in reversed(lines[:index]):
        if not line.strip() or _FENCE.match(line):
            continue
        if _REPLACE.match(line):
            return None  # another block of the same file
        path = _PATH_DECORATION.sub("", line.strip()).strip("`*: ")
        return path if path and not any(c.isspace() for c in path) else None
    return None


def _without_line_numbers(search: list[str], replace: list[str]) -> tuple[list[str], list[str]]:
    """Drop our listing's "  12 | " prefixes when the model copied them onto every line."""
    filled = [line for line in search if line.strip()]
    if not filled or not all(_NUMBERED.match(line) for line in filled):
        return search, replace
    return [_NUMBERED.sub("", line) for line in search], [_NUMBERED.sub("", r) for r in replace]


def _parse_diff(lines: Sequence[str]) -> list[Edit]:
    edits: list[Edit] = []
    path: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(("--- ", "+++ ")):  # outside a hunk: a file header
            path = _diff_path(line[4:])  # the "+++" line comes second and wins
        elif _HUNK.match(line) or _LOOSE_HUNK.match(line):
            if path is None:
                raise EditError("a diff hunk has no `+++ b/<path>` header before it")
            numbered = _HUNK.match(line)
            hint = int(numbered.group(1)) if numbered else None
            edit, index = _hunk(lines, index + 1, path, hint)
            if edit is not None:
                edits.append(edit)
            continue
        index += 1
    return edits


def _diff_path(header: str) -> str:
    path = header.split("\t")[0].strip()
    if path == "/dev/null":
        raise EditError("creating or deleting files is not supported: edit existing files")
    return path[2:] if path.startswith(("a/", "b/")) else path


def _hunk(lines: Sequence[str], start: int, path: str, hint: int | None) -> tuple[Edit | None, int]:
    old: list[str] = []
    new: list[str] = []
    bare_blanks = 0  # trailing lines that were empty (not " "): the reply's spacing
    index = start
    while index < len(lines):
        line = lines[index]
        if _ends_hunk(lines, index):
            break
        bare_blanks = bare_blanks + 1 if line == "" else 0
        kind, body = (line[0], line[1:]) if line else (" ", "")
        if kind in " -":
            old.append(body)
        if kind in " +":
            new.append(body)
        index += 1
    if bare_blanks:
        del old[-bare_blanks:], new[-bare_blanks:]
    if old == new:
        return None, index
    if not any(line.strip() for line in old):
        raise EditError(f"a hunk for {path} has no context lines to place it by")
    return Edit(path, _text(old), _text(new), hint), index


def _ends_hunk(lines: Sequence[str], index: int) -> bool:
    line = lines[index]
    if line.startswith("\\"):  # "\ No newline at end of file" ends nothing but is no line
        return False
    if _HUNK.match(line) or _LOOSE_HUNK.match(line) or _FENCE.match(line):
        return True
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if line.startswith("--- ") and following.startswith("+++ "):
        return True
    return bool(line) and line[0] not in " -+"


def _text(lines: Sequence[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


# --- applying --------------------------------------------------------------------------


def apply_edits(
    sources: Mapping[str, str], edits: Sequence[Edit], threshold: float = FUZZY_THRESHOLD
) -> dict[str, str]:
    """The new text of each file the edits change. Raises `EditError` (and changes
    nothing) when any edit cannot be placed."""
    texts: dict[str, str] = {}
    for edit in edits:
        path = resolve_path(edit.path, sources)
        texts[path] = apply_edit(texts.get(path, sources[path]), edit, threshold)
    changed = {path: text for path, text in texts.items() if text != sources[path]}
    if not changed:
        raise EditError("the edits change nothing")
    return changed


def resolve_path(path: str, sources: Mapping[str, str]) -> str:
    """The source file a reply's path names (`./x.py`, an absolute or longer path)."""
    cleaned = path.strip().removeprefix("./")
    if cleaned in sources:
        return cleaned
    matches = [p for p in sources if cleaned.endswith("/" + p) or p.endswith("/" + cleaned)]
    if len(matches) == 1:
        return matches[0]
    allowed = ", ".join(sorted(sources))
    raise EditError(
        f"`{path}` is not one of the files you may edit ({allowed}); test files must not change"
    )


def apply_edit(text: str, edit: Edit, threshold: float = FUZZY_THRESHOLD) -> str:
    lines = text.splitlines(keepends=True)
    bodies = [line.rstrip("\r\n") for line in lines]
    search = edit.search.splitlines()
    if not any(line.strip() for line in search):
        raise EditError(f"an empty SEARCH text for {edit.path}: quote the lines to change")
    start, end, exact = _locate(bodies, search, edit, threshold)
    replace = edit.replace.splitlines()
    if not exact:
        replace = _reindented(replace, search, bodies[start:end])
    newline = "\r\n" if "\r\n" in text else "\n"
    ending = newline if end < len(lines) or text.endswith(("\n", "\r")) else ""
    inserted = newline.join(replace) + ending if replace else ""
    return "".join(lines[:start]) + inserted + "".join(lines[end:])


def _locate(
    bodies: Sequence[str], search: Sequence[str], edit: Edit, threshold: float
) -> tuple[int, int, bool]:
    """(start, end, exact) of the one place `search` matches in the file's lines."""
    size = len(search)
    for exact, key in ((True, _same), (False, _squashed)):
        wanted = [key(line) for line in search]
        found = [
            i
            for i in range(len(bodies) - size + 1)
            if [key(line) for line in bodies[i : i + size]] == wanted
        ]
        if len(found) == 1 or (found and edit.line_hint is not None):
            start = min(found, key=lambda i: abs(i + 1 - (edit.line_hint or 0)))
            return start, start + size, exact
        if found:
            raise EditError(
                f"the SEARCH text matches {len(found)} places in {edit.path}: "
                "quote more lines around the change so that it matches one"
            )
    start, end = _fuzzy(bodies, search, edit, threshold)
    return start, end, False


def _same(line: str) -> str:
    return line


def _squashed(line: str) -> str:
    return " ".join(line.split())


def _fuzzy(
    bodies: Sequence[str], search: Sequence[str], edit: Edit, threshold: float
) -> tuple[int, int]:
    """The best window (of the search's length ± 1 line) at or above the threshold, when
    no other window that does not overlap it is also above it.

    Bounded: windows are first ranked by the words and symbols they share with the SEARCH
    text (linear in the file), and only the best few are compared character by character.
    """
    wanted = "\n".join(_squashed(line) for line in search)
    windows = _ranked_windows(bodies, search)
    scored: list[tuple[float, int, int]] = []
    for start, end in _shortlist(windows):
        window = "\n".join(_squashed(line) for line in bodies[start:end])
        matcher = difflib.SequenceMatcher(None, window, wanted, autojunk=False)
        if matcher.quick_ratio() >= threshold and (score := matcher.ratio()) >= threshold:
            scored.append((score, start, end))
    if not scored:
        raise EditError(
            f"the SEARCH text was not found in {edit.path}: copy the lines exactly as they "
            "are in the file"
        )
    best = max(scored)
    rivals = [s for s in scored if s[2] <= best[1] or s[1] >= best[2]]
    if rivals:
        raise EditError(
            f"the SEARCH text resembles several places in {edit.path}: "
            "quote the lines exactly, with more context"
        )
    return best[1], best[2]


def _shortlist(ranked: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The best window with its overlapping neighbours (shifted, a line longer or shorter)
    and the best few windows elsewhere: the rivals that make a match ambiguous."""
    if not ranked:
        return []
    first, last = ranked[0]
    near: list[tuple[int, int]] = []
    far: list[tuple[int, int]] = []
    for start, end in ranked:
        bucket, room = (near, _NEAR) if start < last and first < end else (far, _FAR)
        if len(bucket) < room:
            bucket.append((start, end))
        if len(near) == _NEAR and len(far) == _FAR:
            break
    return near + far


def _ranked_windows(bodies: Sequence[str], search: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of every window, most shared tokens (Dice coefficient) first."""
    wanted = Counter(token for line in search for token in _TOKEN.findall(line))
    wanted_total = sum(wanted.values())
    tokens = [Counter(t for t in _TOKEN.findall(line) if t in wanted) for line in bodies]
    sizes = [len(_TOKEN.findall(line)) for line in bodies]
    ranked: list[tuple[float, int, int]] = []
    for size in {max(1, len(search) - 1), len(search), len(search) + 1}:
        if size > len(bodies):
            continue
        window: Counter[str] = Counter()
        total = 0
        for end in range(len(bodies)):  # slide: add the new line, drop the oldest
            window.update(tokens[end])
            total += sizes[end]
            if end >= size:
                window.subtract(tokens[end - size])
                total -= sizes[end - size]
            if end >= size - 1:
                shared = sum(min(window[t], count) for t, count in wanted.items())
                dice = 2 * shared / (total + wanted_total or 1)
                ranked.append((dice, end + 1 - size, end + 1))
    ranked.sort(key=lambda item: -item[0])
    return [(start, end) for _, start, end in ranked]


def _indent(lines: Sequence[str]) -> str | None:
    first = next((line for line in lines if line.strip()), None)
    return None if first is None else first[: len(first) - len(first.lstrip())]


def _reindented(replace: list[str], search: Sequence[str], found: Sequence[str]) -> list[str]:
    """The replacement shifted by the indentation the model got wrong in its SEARCH text."""
    model, actual = _indent(search), _indent(found)
    if model is None or actual is None or model == actual:
        return replace
    if actual.startswith(model):
        extra = actual[len(model) :]
        return [extra + line if line.strip() else line for line in replace]
    if model.startswith(actual):
        surplus = model[len(actual) :]
        return [line.removeprefix(surplus) for line in replace]
    return replace


def edit_size(before: str, after: str) -> int:
    """Characters on the lines that differ: how big the change is, for the ranking."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    size = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            size += sum(map(len, old[i1:i2])) + sum(map(len, new[j1:j2]))
    return size
