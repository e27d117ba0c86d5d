"""fixloop_shard: a pytest plugin that keeps one shard of the collected tests.

Runs inside the sandbox (stdlib + pytest only; the host never imports it). With
FIXLOOP_SHARD=i/n the run keeps the tests of shard i (0-based) of n and deselects the
rest, so that n runs side by side make one run of the whole suite (the whole suite for a
fix, in the sandbox's parallel slots). It does nothing without the variable.

Every shard collects exactly what the user's command collects (its own paths, options
and configuration), so the n shards together run the same tests. A test file stays in one
shard whole: its module- and class-scoped fixtures are set up once, and tests of one file
that depend on each other's order keep it. Files are dealt out in collection order to the
shard with the fewest tests so far, which every shard computes alike.
"""

from __future__ import annotations

import os

import pytest


def _shard() -> tuple[int, int] | None:
    index, _, count = os.environ.get("FIXLOOP_SHARD", "").partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        return None
    return shard if 0 <= shard[0] < shard[1] else None


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def assign(files: list[tuple[str, int]], count: int) -> dict[str, int]:
    """Each file's shard: in order, to the shard holding the fewest tests so far."""
    sizes = [0] * count
    shards: dict[str, int] = {}
    for name, size in files:
        shard = min(range(count), key=lambda index: (sizes[index], index))
        shards[name] = shard
        sizes[shard] += size
    return shards


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = _shard()
    if shard is None:
        return
    sizes: dict[str, int] = {}
    for item in items:
        sizes[_file_of(item)] = sizes.get(_file_of(item), 0) + 1
    shards = assign(list(sizes.items()), shard[1])
    kept = [item for item in items if shards[_file_of(item)] == shard[0]]
    dropped = [item for item in items if shards[_file_of(item)] != shard[0]]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
