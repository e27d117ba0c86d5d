"""fixloop_shard: a pytest plugin that runs one shard of the collected tests.

Runs inside the sandbox (stdlib + pytest only; the host never imports it). With
FIXLOOP_SHARD=i/n, n runs side by side make one run of the whole suite (the first run and
the whole suite for a fix, in the sandbox's parallel slots). It does nothing without the
variable.

Every shard collects exactly what the user's command collects (its own paths, options
and configuration), so the n shards together run the same tests.

With FIXLOOP_SHARD_CLAIMS=folder (shared by the n runs), the tests are dealt as the runs
go: each shard claims its next test (a file created there, once) when the one before has
run, so that a suite whose time is in a few slow tests, or in one file, still ends when
its time divided by the slots has passed. pyjwt: two tests of one file sleep 2 s each;
dealt whole files by count, one shard had both, and the suite took 4.9 s in two slots
(5.4 s in one). Each shard walks the files in collection order from its own starting
file, so the shards meet in a file only when the rest is done: a file's module- and
class-scoped fixtures are set up once in most runs, at most once per shard. A test is
named by its file's position and its own there, not by its id: a parameter made of the
time names a test differently in each shard.

Without the folder, files are dealt whole, in collection order, to the shard with the
fewest tests so far, which every shard computes alike.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

_CLAIMS_VARIABLE = "FIXLOOP_SHARD_CLAIMS"
# Each test's place in the collection, in the JUnit report (results.py reads it): the
# shards' reports merged in that order read as one run's, whatever shard ran a test first.
# The loop takes the first failure for the one it fixes (and memory's signature of it),
# and localization the first passing tests of a file: dealt as the runs go, the shards
# would make both depend on timing.
ORDER_PROPERTY = "fixloop_order"


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


def walk(files: list[list[Any]], index: int, count: int) -> Iterator[tuple[str, Any]]:
    """Shard `index`'s order of the tests (each with its claim's name): the files from its
    own starting one on, round to the others, each file's tests in their order."""
    start = len(files) * index // count
    for number in [*range(start, len(files)), *range(start)]:
        for position, test in enumerate(files[number]):
            yield f"{number}.{position}", test


class Claims:
    """The tests this shard runs, claimed one at a time in the folder the shards share."""

    def __init__(self, folder: str, items: list[Any], index: int, count: int) -> None:
        self.folder = folder
        by_file: dict[str, list[Any]] = {}
        for item in items:
            by_file.setdefault(_file_of(item), []).append(item)
        self._walk = walk(list(by_file.values()), index, count)

    def next(self) -> Any | None:
        """The next test no shard has claimed yet (claimed now for this one), or None."""
        for name, item in self._walk:
            try:
                os.close(os.open(os.path.join(self.folder, name), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue  # another shard's
            return item
        return None


class _Next:
    """The test to run after the current one, claimed only when the current one's
    teardown asks which fixtures to keep (after its call): a slow test's neighbour then
    goes to whichever shard is free first. pytest reads nothing of the next item but its
    truth and `listchain()` (SetupState.teardown_exact). None once the run is stopping
    (its --maxfail reached, or a hang): a test claimed then would run in no shard (pytest
    before 8.1 asks even then)."""

    def __init__(self, claims: Claims, session: pytest.Session) -> None:
        self._claims = claims
        self._session = session
        self._asked = False
        self._item: Any | None = None

    def resolve(self) -> Any | None:
        if not self._asked:
            self._asked = True
            stopping = self._session.shouldfail or self._session.shouldstop
            self._item = None if stopping else self._claims.next()
        return self._item

    def __bool__(self) -> bool:
        return self.resolve() is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)


def _claims_folder(count: int) -> str | None:
    """This run's shared folder (made by whichever shard comes first), or None."""
    return _made(os.environ.get(_CLAIMS_VARIABLE), count)


@functools.cache
def _made(folder: str | None, count: int) -> str | None:
    """The folder, made once per process (collection and the loop both ask)."""
    if not folder or count < 2:
        return None
    mask = os.umask(0)  # the other shards run as other users
    try:
        os.mkdir(folder, 0o777)
    except FileExistsError:
        pass
    except OSError:
        return None
    finally:
        os.umask(mask)
    return folder


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = _shard()
    if shard is None:
        return
    for place, item in enumerate(items):
        item.user_properties.append((ORDER_PROPERTY, place))
    if _claims_folder(shard[1]) is not None:
        return  # dealt as the runs go (pytest_runtestloop)
    sizes: dict[str, int] = {}
    for item in items:
        sizes[_file_of(item)] = sizes.get(_file_of(item), 0) + 1
    shards = assign(list(sizes.items()), shard[1])
    kept = [item for item in items if shards[_file_of(item)] == shard[0]]
    dropped = [item for item in items if shards[_file_of(item)] != shard[0]]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """pytest's own loop (main.pytest_runtestloop), over the tests this shard claims."""
    shard = _shard()
    folder = _claims_folder(shard[1]) if shard is not None else None
    if shard is None or folder is None:
        return None
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        errors = session.testsfailed
        raise session.Interrupted(f"{errors} error{'s' if errors != 1 else ''} during collection")
    if session.config.option.collectonly:
        return True
    claims = Claims(folder, list(session.items), *shard)
    item = claims.next()
    while item is not None:
        following = _Next(claims, session)
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
        item = following.resolve()
    return True


def pytest_unconfigure(config: pytest.Config) -> None:
    """The last shard to end removes the run's folder. A shard killed (the run's time
    limit) leaves its folder: empty files in the sandbox's tmpfs, gone with it."""
    shard = _shard()
    folder = os.environ.get(_CLAIMS_VARIABLE)
    if shard is None or not folder or not os.path.isdir(folder):
        return
    try:
        os.close(os.open(os.path.join(folder, f"done-{shard[0]}"), os.O_CREAT))
        done = sum(name.startswith("done-") for name in os.listdir(folder))
    except OSError:
        return
    if done >= shard[1]:
        shutil.rmtree(folder, ignore_errors=True)
