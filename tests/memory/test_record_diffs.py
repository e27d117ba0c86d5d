"""A record's patch and context come from the changed region of the file alone: the
diff must still be a correct unified diff of the whole file, with the right line numbers."""

from __future__ import annotations

import inspect
import random
import re

import pytest

from fixloop.memory.records import change_contexts, unified_lines
from fixloop.memory.redact import redact_code

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def applied(old: list[str], diff: list[str]) -> list[str]:
    """`old` with the unified diff's hunks applied, checking every context line."""
    result: list[str] = []
    at = 0  # lines of old consumed
    for line in diff[2:]:
        if match := _HUNK.match(line):
            start = int(match[1]) - (0 if match[2] == "0" else 1)
            result += old[at:start]
            at = start
        elif line.startswith(" "):
            assert old[at] == line[1:]
            result.append(line[1:])
            at += 1
        elif line.startswith("-"):
            assert old[at] == line[1:]
            at += 1
        elif line.startswith("+"):
            result.append(line[1:])
    return result + old[at:]


@pytest.mark.parametrize("module", ["argparse", "json.decoder", "typing"])
def test_the_patch_of_an_edit_rebuilds_the_edited_file(module: str) -> None:
    source = inspect.getsource(__import__(module, fromlist=["_"])).splitlines(keepends=True)
    rng = random.Random(module)
    for _ in range(150):
        new = source[:]
        k = rng.randrange(len(new))
        edit = rng.choice(["replace", "insert", "delete"])
        if edit == "replace":
            new[k] = "x = 1\n"
        elif edit == "insert":
            new[k:k] = ["y = 2\n"] * rng.randint(1, 3)
        else:
            del new[k : k + rng.randint(1, 2)]
        if rng.random() < 0.3:  # sometimes a second edit elsewhere
            other = rng.randrange(len(new))
            new[other:other] = ["z = 3\n"]
        diff = unified_lines(source, new, "a/f.py", "b/f.py")
        assert diff[:2] == ["--- a/f.py\n", "+++ b/f.py\n"] or new == source
        assert applied(source, diff) == new


def test_the_context_of_a_change_is_the_lines_around_it() -> None:
    old = "".join(f"line {n}\n" for n in range(1, 101))
    new = old.replace("line 50\n", "line fifty\n")
    before, after = change_contexts(old, new)
    assert before.splitlines()[0] == "line 47" and "line 50" in before
    assert after.splitlines()[-1] == "line 53" and "line fifty" in after


SECRETS = '''"""Settings."""
import os

API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
TIMEOUT = 30


def connect(host, password="hunter2-Zq8#xV1!"):
    token = os.environ.get("TOKEN", "ghp_16C7e42F292c6912E7710c838347Ae178B4a")
    return host, password, token


def plain(value):
    return value * 2
'''
INSERTED = [
    '    secret = "AKIAIOSFODNN7EXAMPLE"\n',
    '    aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n',
    "    value = value + 1\n",
    '    password = "Tr0ub4dor&3-correct-horse"\n',
]


@pytest.mark.parametrize("module", ["argparse", "json.decoder"])
def test_a_candidate_redacted_as_an_edit_is_redacted_as_a_whole(module: str) -> None:
    """Memory redacts each candidate as an edit of its original (the rules rerun around
    the edit): exactly what redacting the whole file finds, secrets the edit brings in
    included, for 150 random edits of real files and one full of secrets."""
    rng = random.Random(11)
    for source in (inspect.getsource(__import__(module, fromlist=["_"])), SECRETS):
        lines = source.splitlines(keepends=True)
        for _ in range(150 if source is not SECRETS else 60):
            edited = list(lines)
            at = rng.randrange(len(edited))
            action = rng.random()
            if action < 0.4:
                edited.insert(at, rng.choice(INSERTED))
            elif action < 0.7:
                del edited[at]
            else:
                edited[at] = edited[at].replace("=", "==", 1).replace("(", "(1, ", 1)
            text = "".join(edited)
            assert redact_code(text, "python", source) == redact_code(text, "python")


# Pieces of `name = value` text: secret pairs (quoted, bare, across blank lines), plain
# pairs, and bits that make or break a pair (a separator, a quote, a line break).
PAIRS = [
    'api_key = "Zx9qT4mLp2Vb8Rk3Wn7Y"',
    "password: Hunter2xyz!",
    "token=AbC123dEf456GhI789jK",
    "secret = 'Qw8Er7Ty6Ui5Op4As3Df'",
    'token\n\n=\n\n"AbC123dEf456GhI789jK"',
    "auth.token :\n  Zx9qT4mLp2Vb8Rk3Wn7Y",
    "x = value_of_x",
    "name: plain-words",
    "timeout = 30",
]
BITS = ["=", ":", " = ", '"', "'", "\n", "\n\n", " ", "key", "Wn7Y8Rk3", ",", ";"]


def dense_pairs(rng: random.Random) -> str:
    """Text where nearly every line is a pair the scan matches, most of them secrets."""
    lines = []
    for _ in range(rng.randint(0, 40)):
        pair = rng.choice(PAIRS)
        lines.append(rng.choice(["", "    ", "    my_"]) + pair + rng.choice(["", ",", " #"]))
        if rng.random() < 0.2:
            lines.append("")
    return "\n".join(lines) + rng.choice(["", "\n"])


def random_edit(source: str, rng: random.Random) -> str:
    """An insertion, deletion or replacement anywhere, often at a pair's first or last
    character, at the file's ends, or over much of the file."""
    bounds = [m.start() for m in re.finditer(r"[\w.-]+\s*[:=]", source)]
    bounds += [m.end() for m in re.finditer(r"[:=]\s*[\"']?[^\s\"',;]{8,}[\"']?", source)]
    choice = rng.random()
    if choice < 0.4 and bounds:
        at = min(max(0, rng.choice(bounds) + rng.randint(-2, 2)), len(source))
    elif choice < 0.55:
        at = rng.choice([0, len(source)])
    else:
        at = rng.randint(0, len(source))
    size = rng.choice([0, 0, 1, 2, rng.randint(0, 40), rng.randint(0, len(source))])
    inserted = rng.choice(
        ["", rng.choice(PAIRS), rng.choice(BITS), rng.choice(BITS) + rng.choice(PAIRS) + "\n"]
    )
    if rng.random() < 0.1:  # a large block of the file itself, elsewhere
        start = rng.randint(0, len(source))
        inserted = source[start : start + rng.randint(0, len(source))]
    return source[:at] + inserted + source[at + size :]


@pytest.mark.parametrize("module", ["argparse", "json.decoder", "pairs"])
def test_secret_pairs_redacted_around_an_edit_are_redacted_as_a_whole(module: str) -> None:
    """The `name = value` scan of a candidate reruns only around the edit, reusing the
    original's scan elsewhere: for edits that make, break, move or split pairs, next to
    a pair, at either end of the file or over most of it, the text is exactly what
    redacting the whole candidate gives."""
    rng = random.Random(module)
    for _ in range(40 if module != "pairs" else 400):
        if module == "pairs":
            source = dense_pairs(rng)
        else:
            source = inspect.getsource(__import__(module, fromlist=["_"]))
            if rng.random() < 0.5:  # pairs spread through the real file
                lines = source.splitlines(keepends=True)
                for _ in range(20):
                    lines.insert(rng.randrange(len(lines)), rng.choice(PAIRS) + "\n")
                source = "".join(lines)
        text = source
        for _ in range(rng.choice([1, 1, 2, 3])):
            text = random_edit(text, rng)
        assert redact_code(text, "python", source) == redact_code(text, "python")
