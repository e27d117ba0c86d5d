"""How fast candidates are made, before any of them reaches the sandbox.

Run: .venv/bin/python benchmarks/bench_generation.py [--runs N]
No Docker, no model. Prints its figures; not a test.

  - the offline engine: the first 300 candidates at 20 suspect lines of a 200-line and a
    2000-line file, with its syntax check (only the function around the edit is compiled)
    against the peer a simple generator uses, compiling the whole file per candidate;
  - the LLM edit format: a 30-line search block, with no exact match, found in a 300-line
    and a 3000-line file, against the peer of scoring every window with difflib's
    character ratio (timed on a sample of windows and scaled to all of them).
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from fixloop.loop.llm.edits import Edit, apply_edits  # noqa: E402
from fixloop.loop.model import Location, RepairContext  # noqa: E402
from fixloop.loop.offline import OfflineGenerator  # noqa: E402
from fixloop.loop.offline import generator as offline_generator  # noqa: E402

CANDIDATES = 300


def timed(work: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def program(functions: int) -> str:
    """`functions` small functions of 6 lines, two blank lines between them (8 lines each)."""
    return "\n\n".join(
        f"def f{i}(a, b, items):\n    total = 0\n    for x in items[1:]:\n"
        f"        if x > a and x < b:\n            total += x * {i}\n"
        f"    return total - len(items)\n"
        for i in range(functions)
    )


def first_candidates(source: str) -> Callable[[], object]:
    functions = len(source.splitlines()) // 8
    suspects = [(k * functions) // 5 for k in range(5)]
    locations = tuple(
        Location("big.py", 3 + 8 * k + d, 1.0 - n / 100)
        for n, (k, d) in enumerate(itertools.product(suspects, range(4)))
    )
    context = RepairContext(Path("."), {"big.py": source}, (), locations)

    def work() -> object:
        made = list(itertools.islice(OfflineGenerator().candidates(context), CANDIDATES))
        assert len(made) == CANDIDATES
        return made

    return work


def whole_file_compile(work: Callable[[], object]) -> Callable[[], object]:
    def peer() -> object:
        with mock.patch.object(offline_generator, "_chunk", return_value=None):
            return work()

    return peer


def search_block(lines: int) -> tuple[str, str]:
    words = random.Random(7).choices(["total", "price", "count", "items", "value"], k=3 * lines)
    body = [
        f"    {words[3 * i]}_{i} = {words[3 * i + 1]} * {i} + {words[3 * i + 2]}"
        for i in range(lines)
    ]
    middle = lines // 2
    search = "\n".join(line.replace("*", "/") for line in body[middle : middle + 30]) + "\n"
    return "\n".join(body) + "\n", search


def fuzzy_edit(source: str, search: str) -> Callable[[], object]:
    return lambda: apply_edits({"big.py": source}, [Edit("big.py", search, "    done = True\n")])


def every_window(source: str, search: str, sample: int = 20) -> float:
    """The peer, in milliseconds: difflib's character ratio on every window of the search's
    length (fuzzy matching without a shortlist). Timed on `sample` windows, scaled up."""
    lines, wanted = source.splitlines(), search.rstrip("\n")
    size = len(wanted.splitlines())
    starts = range(len(lines) - size + 1)
    picked = random.Random(1).sample(list(starts), sample)
    started = time.perf_counter()
    for i in picked:
        difflib.SequenceMatcher(None, "\n".join(lines[i : i + size]), wanted, False).ratio()
    return (time.perf_counter() - started) / sample * len(starts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"offline engine, first {CANDIDATES} candidates (median of {runs}):")
    for functions in (25, 250):
        work = first_candidates(program(functions))
        ours, peer = timed(work, runs), timed(whole_file_compile(work), runs)
        print(
            f"  {functions * 8:>5}-line file: {ours:7.1f} ms   "
            f"whole-file compile: {peer:7.1f} ms   ({peer / ours:.1f}x)"
        )
    print(f"LLM search/replace, 30-line block with no exact match (median of {runs}):")
    for lines in (300, 3000):
        source, search = search_block(lines)
        ours, peer = timed(fuzzy_edit(source, search), runs), every_window(source, search)
        print(
            f"  {lines:>5}-line file: {ours:7.1f} ms   "
            f"difflib on every window: {peer:9.0f} ms   ({peer / ours:.0f}x)"
        )


if __name__ == "__main__":
    main()
