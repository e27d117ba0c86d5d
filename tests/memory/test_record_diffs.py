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
