"""Edits in a model's reply: parsed from SEARCH/REPLACE blocks or a unified diff, applied
exactly, ignoring white space, or fuzzily — and refused whole when they do not fit."""

from __future__ import annotations

import random

import pytest

from fixloop.loop.llm.edits import Edit, EditError, apply_edits, edit_size, parse_edits

CALC = """\
def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return low
    return x


def double(x):
    return x * 2
"""
FIXED = CALC.replace("        return low\n    return x", "        return high\n    return x")


def block(path: str, search: str, replace: str) -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def apply(reply: str, sources: dict[str, str] | None = None) -> dict[str, str]:
    return apply_edits(sources or {"calc.py": CALC}, parse_edits(reply))


def test_exact_search_replace() -> None:
    reply = "Return high above the range.\n\n" + block(
        "calc.py",
        "    if x > high:\n        return low\n",
        "    if x > high:\n        return high\n",
    )
    assert apply(reply) == {"calc.py": FIXED}


def test_whitespace_insensitive_match_keeps_the_file_indentation() -> None:
    # The model dropped the indentation and left a trailing space.
    reply = block("calc.py", "if x > high: \n    return low\n", "if x > high:\n    return high\n")
    assert apply(reply) == {"calc.py": FIXED}


def test_fuzzy_match_tolerates_a_slightly_wrong_copy() -> None:
    search = "    if x > high:  # too big\n        return low\n    return x\n"
    replace = "    if x > high:\n        return high\n    return x\n"
    assert apply(block("calc.py", search, replace)) == {"calc.py": FIXED}


def test_text_not_in_the_file_is_rejected() -> None:
    reply = block("calc.py", "    while True:\n        pass\n", "    pass\n")
    with pytest.raises(EditError, match=r"not found in calc\.py"):
        apply(reply)


def test_ambiguous_exact_match_is_rejected() -> None:
    source = "a = 1\nb = 2\na = 1\n"
    with pytest.raises(EditError, match="matches 2 places"):
        apply(block("m.py", "a = 1\n", "a = 3\n"), {"m.py": source})


def test_ambiguous_fuzzy_match_is_rejected() -> None:
    source = "def f():\n    total = price * 2\n\n\ndef g():\n    total = price * 2\n"
    reply = block("m.py", "    total = price * 2  # x\n", "    total = price * 3\n")
    with pytest.raises(EditError, match="several places"):
        apply(reply, {"m.py": source})


def test_one_bad_block_rejects_the_whole_reply() -> None:
    good = block(
        "calc.py", "        return low\n    return x\n", "        return high\n    return x\n"
    )
    bad = block("calc.py", "    nothing like this\n", "    x\n")
    sources = {"calc.py": CALC}
    with pytest.raises(EditError):
        apply(good + bad, sources)
    assert sources == {"calc.py": CALC}


def test_several_blocks_in_several_files() -> None:
    other = "RATE = 2\n"
    reply = (
        "Two changes.\n"
        + block(
            "calc.py", "        return low\n    return x\n", "        return high\n    return x\n"
        )
        + block("pkg/rates.py", "RATE = 2\n", "RATE = 3\n")
        + block("calc.py", "    return x * 2\n", "    return x + x\n")
    )
    changed = apply(reply, {"calc.py": CALC, "pkg/rates.py": other})
    assert changed == {
        "calc.py": FIXED.replace("return x * 2", "return x + x"),
        "pkg/rates.py": "RATE = 3\n",
    }


def test_blocks_sharing_one_path_line() -> None:
    reply = (
        "calc.py\n<<<<<<< SEARCH\n        return low\n    return x\n=======\n"
        "        return high\n    return x\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\n    return x * 2\n=======\n    return 2 * x\n>>>>>>> REPLACE\n"
    )
    assert apply(reply)["calc.py"] == FIXED.replace("x * 2", "2 * x")


def test_copied_line_numbers_are_dropped() -> None:
    search = "   4 |     if x > high:\n   5 |         return low\n"
    replace = "   4 |     if x > high:\n   5 |         return high\n"
    assert apply(block("calc.py", search, replace)) == {"calc.py": FIXED}


def test_unified_diff() -> None:
    reply = """I return high above the range.

```diff
--- a/calc.py
+++ b/calc.py
@@ -4,3 +4,3 @@ def clamp(x, low, high):
     if x > high:
-        return low
+        return high
     return x
```
"""
    assert apply(reply) == {"calc.py": FIXED}


def test_diff_line_number_breaks_a_tie() -> None:
    source = "a = 1\nb = 2\na = 1\n"
    reply = "--- a/m.py\n+++ b/m.py\n@@ -3,1 +3,1 @@\n-a = 1\n+a = 3\n"
    assert apply(reply, {"m.py": source}) == {"m.py": "a = 1\nb = 2\na = 3\n"}


def test_diff_of_a_new_file_is_refused() -> None:
    reply = "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
    with pytest.raises(EditError, match="creating or deleting"):
        parse_edits(reply)


def test_test_files_and_unknown_files_are_refused() -> None:
    reply = block("tests/test_calc.py", "assert clamp(11, 0, 10) == 10\n", "assert True\n")
    with pytest.raises(EditError, match="test files must not change"):
        apply(reply)


def test_path_is_resolved_from_a_longer_or_decorated_one() -> None:
    reply = block(
        "**src/pkg/calc.py**",
        "        return low\n    return x\n",
        "        return high\n    return x\n",
    )
    assert apply(reply, {"pkg/calc.py": CALC}) == {"pkg/calc.py": FIXED}


@pytest.mark.parametrize(
    "reply",
    [
        "I think the bug is on line 5.",
        "calc.py\n<<<<<<< SEARCH\n    return low\n",  # never closed
        "calc.py\n<<<<<<< SEARCH\n    return low\n>>>>>>> REPLACE\n",  # no divider
        "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n",  # no path
    ],
)
def test_malformed_replies_are_errors(reply: str) -> None:
    with pytest.raises(EditError):
        parse_edits(reply)


def test_an_edit_that_changes_nothing_is_rejected() -> None:
    with pytest.raises(EditError, match="change nothing"):
        apply(block("calc.py", "    return x\n", "    return x\n"))


def test_crlf_and_missing_final_newline_are_kept() -> None:
    source = "a = 1\r\nb = 2"
    changed = apply_edits({"m.py": source}, [Edit("m.py", "b = 2\n", "b = 3\n")])
    assert changed == {"m.py": "a = 1\r\nb = 3"}


def test_edit_size_counts_changed_lines_only() -> None:
    assert edit_size(CALC, FIXED) == len("        return low\n") + len("        return high\n")


def test_diff_deleting_a_file_is_refused() -> None:
    reply = "--- a/calc.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-def clamp(x, low, high):\n"
    with pytest.raises(EditError, match="creating or deleting"):
        parse_edits(reply)


def test_a_reasoning_models_thinking_is_ignored() -> None:
    draft = block("calc.py", "    return x\n", "    return -x\n")
    answer = block(
        "calc.py", "        return low\n    return x\n", "        return high\n    return x\n"
    )
    reply = f"<think>Maybe this?\n{draft}No: the upper branch.</think>\nReturn high.\n{answer}"
    assert apply(reply) == {"calc.py": FIXED}


def test_fuzzy_search_finds_its_place_in_a_large_file() -> None:
    # How long it takes is measured in benchmarks/bench_generation.py.
    words = random.Random(7).choices(["total", "price", "count", "items", "value"], k=9000)
    lines = [
        f"    {words[3 * i]}_{i} = {words[3 * i + 1]} * {i} + {words[3 * i + 2]}"
        for i in range(3000)
    ]
    source = "\n".join(lines) + "\n"
    search = "\n".join(line.replace("*", "/") for line in lines[1500:1530]) + "\n"
    changed = apply_edits({"big.py": source}, [Edit("big.py", search, "    done = True\n")])
    assert changed["big.py"].splitlines()[1500] == "    done = True"
    assert len(changed["big.py"].splitlines()) == 3000 - 30 + 1
