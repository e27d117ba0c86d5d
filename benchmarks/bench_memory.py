"""Memory figures: suggestion lookup at 100,000 records, store size, start-up.

    .venv/bin/python benchmarks/bench_memory.py [--records 100000] [--keep DIR]

Builds a store of synthetic attempts (varied failure signatures and code) once into a
temporary folder (or DIR, reused when it already holds enough records), then prints,
side by side in one run:

- lookup latency (p50/p95 over 200 queries) of `similar_fixes` and of a whole
  `suggestion_for` (embed, query, rank, re-apply), beside Chroma's raw query
  unfiltered and with a `where` filter (why the store uses a collection per role and
  language instead of a filter);
- `template_prior` latency (two queries: fixes and tries);
- store size on disk per 1,000 records;
- the import time of `fixloop.lsp.server` with and without `fixloop.memory`, and what
  memory's first use costs later (its modules, chromadb, opening the store).

The machine's load shows in every latency: compare the rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fixloop.loop import recall
from fixloop.memory import AttemptRecord, FailureSignature, MemoryConfig, MemoryStore, Outcome

EXCEPTIONS = [
    ("AssertionError", "assert <num> == <num>"),
    ("AssertionError", "assert <str> == <str>"),
    ("AssertionError", "assert {name} is None"),
    ("TypeError", "unsupported operand type(s) for +: <str> and <str>"),
    ("TypeError", "{name}() missing <num> required positional argument: <str>"),
    ("KeyError", "<str>"),
    ("IndexError", "list index out of range"),
    ("ZeroDivisionError", "division by zero"),
    ("AttributeError", "<str> object has no attribute <str>"),
    ("ValueError", "invalid literal for int() with base <num>: <str>"),
    ("NameError", "name <str> is not defined"),
    ("RecursionError", "maximum recursion depth exceeded"),
]
WORDS = [
    "total", "price", "item", "cart", "user", "order", "count", "index", "value", "name",
    "key", "config", "parse", "load", "save", "result", "data", "row", "column", "node",
    "tree", "path", "size", "limit", "offset", "page", "token", "amount", "tax", "rate",
]  # fmt: skip
OPERATORS = ["+", "-", "<", "<=", "==", "!=", "*", "//"]


def identifier(rng: random.Random) -> str:
    return "_".join(rng.sample(WORDS, rng.randint(1, 2)))


def synthetic_record(rng: random.Random, number: int) -> AttemptRecord:
    exception, message = rng.choice(EXCEPTIONS)
    function, variable, other = identifier(rng), identifier(rng), identifier(rng)
    operator, replacement = rng.sample(OPERATORS, 2)
    module = identifier(rng)
    lines = [
        f"def {function}({variable}, {other}):",
        f"    {identifier(rng)} = {variable}.{identifier(rng)}",
        f"    for {identifier(rng)} in range(len({other})):",
        f"        {variable} = {variable} {operator} {other}[{rng.randint(0, 3)}]",
        f"    return {variable}",
    ]
    after = list(lines)
    after[3] = after[3].replace(f" {operator} ", f" {replacement} ")
    return AttemptRecord(
        language="python",
        signature=FailureSignature(
            exception,
            message.format(name=variable),
            f"test_{module}.py::test_{function}",
            (f"test_{module}.py", f"{module}.py:{function}"),
        ),
        context_before="\n".join(lines) + "\n",
        context_after="\n".join(after) + "\n",
        patch=f"--- a/{module}.py\n+++ b/{module}.py\n-{lines[3]}\n+{after[3]}\n",
        path=f"{module}.py",
        generator="offline",
        template=rng.choice(["swap-operator", "off-by-one", "wrong-variable", "negate"]),
        outcome=Outcome.VERIFIED,
        session=f"s{number // 50}",
    )


def build(store: MemoryStore, count: int, seed: int = 7) -> float:
    """Insert `count` synthetic verified attempts; returns seconds taken."""
    rng = random.Random(seed)
    started = time.perf_counter()
    batch: list[AttemptRecord] = []
    for number in range(count):
        batch.append(synthetic_record(rng, number))
        if len(batch) == 2000:
            store.record_attempts(batch)
            batch = []
            if (number + 1) % 20000 == 0:
                print(f"  {number + 1} records, {time.perf_counter() - started:.0f} s", flush=True)
    store.record_attempts(batch)
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {p50 * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"


def timed(function: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def lookup_figures(store: MemoryStore, queries: int = 200) -> None:
    rng = random.Random(99)  # other records than the store's: partly recurring shapes
    probes = [synthetic_record(rng, n) for n in range(queries)]
    sources = [{p.path: p.context_before} for p in probes]
    embedding = store.embedding
    collection = store.collection("fixes", "python")  # raw Chroma, for the comparison
    vectors = embedding.embed_sections([p.sections() for p in probes])
    results: list[tuple[str, list[float]]] = []
    index = iter(range(10**9))

    def nxt() -> int:
        return next(index) % queries

    store.similar_fixes(probes[0].signature, probes[0].context_before, "python")  # warm
    for name, function in [
        ("chroma query, unfiltered (k=20)",
         lambda: collection.query(query_embeddings=[vectors[nxt()]], n_results=20,
                                  include=["metadatas", "distances"])),
        ("chroma query, where filter (k=20)",
         lambda: collection.query(query_embeddings=[vectors[nxt()]], n_results=20,
                                  include=["metadatas", "distances"],
                                  where={"template": "negate"})),
        ("similar_fixes (embed+query+rank)",
         lambda: store.similar_fixes(probes[(i := nxt())].signature,
                                     probes[i].context_before, "python")),
        ("suggestion_for (+ re-apply)",
         lambda: recall.suggestion_for(store, probes[(i := nxt())].signature,
                                      probes[i].context_before, "python", sources[i], 0.0)),
        ("template_prior (fixes + tries)",
         lambda: store.template_prior(probes[(i := nxt())].signature, "python",
                                      probes[i].context_before)),
    ]:  # fmt: skip
        slow = "where" in name  # ~0.2 s each at 100k: fewer samples keep the run short
        results.append((name, timed(function, queries // 4 if slow else queries)))
    for name, samples in results:
        print(f"  {name:36} {percentiles(samples)}")


def _import_env() -> dict[str, str]:
    """Bytecode cached (in a temporary prefix: the source tree is left alone), as an
    installed package's would be."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "fixloop-bench-pycache")
    return env


def import_times(statements: list[str], repeats: int = 11) -> list[list[float]]:
    """Seconds per fresh interpreter for each statement, runs interleaved so that the
    load of a shared machine falls on all of them alike."""
    script = (
        "import time, sys; t = time.perf_counter(); {}; "
        "print(time.perf_counter() - t, 'chromadb' in sys.modules)"
    )
    samples: list[list[float]] = [[] for _ in statements]
    for run in range(repeats + 1):  # the first round writes the bytecode
        for index, statement in enumerate(statements):
            out = subprocess.run(
                [sys.executable, "-c", script.format(statement)],
                capture_output=True, text=True, env=_import_env(), check=True,
            )  # fmt: skip
            seconds, chroma = out.stdout.split()
            assert chroma == "False", "importing fixloop must not import chromadb"
            if run:
                samples[index].append(float(seconds))
    return samples


def first_use_cost(folder: Path) -> tuple[float, float]:
    """(memory's modules, + chromadb and opening the store) after the server's imports:
    paid on first use, off the start-up path. Medians of 3 after a bytecode-writing run."""
    script = (
        "import time; import fixloop.lsp.server; t = time.perf_counter(); "
        "from fixloop.memory import MemoryConfig, MemoryStore; m = time.perf_counter(); "
        "from pathlib import Path; "
        f"MemoryStore(MemoryConfig(path=Path({str(folder)!r}))).available(); "
        "print(m - t, time.perf_counter() - t)"
    )
    samples = []
    for _ in range(4):
        out = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True, text=True, env=_import_env(), check=True,
        )  # fmt: skip
        modules, opened = out.stdout.split()
        samples.append((float(modules), float(opened)))
    return (
        statistics.median(m for m, _ in samples[1:]),
        statistics.median(o for _, o in samples[1:]),
    )


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fixloop-bench-memory-"))
    try:
        run(folder, args.records)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, wanted: int) -> None:
    store = MemoryStore(MemoryConfig(path=folder / "memory"))
    existing = store.stats().records
    print(f"memory benchmark: {wanted} records in {folder}")
    if existing < wanted:
        seconds = build(store, wanted - existing)
        print(f"  built in {seconds:.0f} s ({(wanted - existing) / seconds:.0f} records/s)")
    else:
        print(f"  reusing {existing} records")
    records = store.stats().records
    print(f"\nlookup at {records} records (200 queries each; 50 for the filtered one):")
    lookup_figures(store)
    size = disk_bytes(folder / "memory")
    per_thousand = size / records * 1000 / 1e6
    print(f"\nstore on disk: {size / 1e6:.1f} MB, {per_thousand:.2f} MB per 1,000 records")
    print("\nstart-up (11 fresh interpreters each, interleaved; min and median):")
    statements = ["import fixloop.lsp.server", "import fixloop.memory, fixloop.lsp.server"]
    for statement, samples in zip(statements, import_times(statements), strict=True):
        low, middle = min(samples) * 1000, statistics.median(samples) * 1000
        print(f"  {statement:44} min {low:6.1f} ms   median {middle:6.1f} ms")
    modules, opened = first_use_cost(folder / "memory")
    print(f"  first use (later, off the start-up path): memory's modules {modules * 1000:.1f} ms;"
          f" with chromadb and opening the store {opened * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
