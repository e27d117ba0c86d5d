"""fixloop_timeout: a pytest plugin that fails a test running past its time limit (and
names each test in the JUnit report by its node id).

Runs inside the sandbox (stdlib + pytest only; the host never imports it). A hang is a
failing test like any other: the test gets a `TestTimeout` raised where it is stuck, so
its report carries that stack (which localizes the loop), instead of the whole run being
killed with nothing learned.

Environment: FIXLOOP_TEST_TIMEOUT, the seconds each test may take (setup, call and
teardown each); the plugin does nothing without it. With FIXLOOP_STOP_AT_HANG=1 the first
test past it ends the run (a candidate's, the baseline's): the next tests would most
likely hang the same way, each costing the limit again, and one hang says enough. A run
that must see every test (the whole suite for a fix) goes on instead.
A hang the signal cannot interrupt (in C code) is left to the run's own wall-clock limit;
faulthandler then dumps every thread's stack into the output first.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import signal
import threading
import time
from collections.abc import Generator, Iterator
from types import FrameType

import pytest

try:
    # A new-style wrapper, as pytest's own are: the old-style wrappers' path through pluggy
    # is one the user's pytest (8 and later) never takes, so a candidate of pluggy that
    # breaks it (exceptions turned into results) made every test pass here alone.
    WRAPPER = pytest.hookimpl(wrapper=True)
except TypeError:  # pluggy before 1.1 has only the old style; each body suits both
    WRAPPER = pytest.hookimpl(hookwrapper=True)


class TestTimeout(BaseException):
    """Raised in a test that ran past its time limit. Not an `Exception`: the loop that
    hangs often sits in a `try: ... except Exception:` that would swallow it (dateutil's
    parser did, and each such candidate cost the whole run's limit)."""

    __test__ = False


def _limit() -> float | None:
    try:
        value = float(os.environ.get("FIXLOOP_TEST_TIMEOUT", ""))
    except ValueError:
        return None
    return value if value > 0 else None


RAISE_AGAIN_SECONDS = 1.0
DUMP_AFTER_SECONDS = 2.0  # past the limit: the signal had its chance
REARM_SECONDS = 1.0  # < DUMP_AFTER_SECONDS: see _Watchdog
_hung: list[pytest.Item] = []  # the test that ran past its limit, once one has
NODE_ID_PROPERTY = "fixloop_nodeid"  # results.py reads it


def _output_fd() -> int:
    """The run's own stderr, kept before pytest's capture points fd 2 at a temporary file
    for each test (a dump written there would be lost with the run)."""
    try:
        return os.dup(2)
    except OSError:
        return 2


_DUMP_FD = _output_fd()  # imported with `-p`, before pytest starts capturing


def _raise(limit: float, item: pytest.Item) -> object:
    def handler(signum: int, frame: FrameType | None) -> None:
        _hung.append(item)
        raise TestTimeout(f"the test ran past its {limit:g} s limit (it hangs, or loops forever)")

    return handler


@contextlib.contextmanager
def _limited(item: pytest.Item) -> Iterator[None]:
    """One phase of a test under the limit. The timer is armed around the phase alone:
    the exception must surface in the test's code, which pytest reports as its failure,
    never in pytest's own between the phases."""
    limit = _limit()
    if limit is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise(limit, item))  # type: ignore[arg-type]
    # Raised again every second while the phase goes on: a bare `except:` in the loop
    # swallows one, not the one that lands outside its `try`.
    signal.setitimer(signal.ITIMER_REAL, limit, RAISE_AGAIN_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Watchdog:
    """faulthandler's dump of the stacks, armed at most once a second. Each arming starts
    a thread and each cancel waits for it to end: armed around every test, that cost
    dateutil's 2,096 tests 0.8 s of a 5 s run (more on a busy machine, where the waiting
    thread must be scheduled). Left armed from test to test, it fires `limit +
    DUMP_AFTER_SECONDS` after its arming: a test that started less than REARM_SECONDS
    later is then past its own limit by a second at least, so it hangs."""

    armed_at = -math.inf
    # Held here, not as a module global: freezegun swaps time.monotonic, and the module
    # globals bound to it, for the clock it freezes.
    clock = staticmethod(time.monotonic)

    @classmethod
    def arm(cls, limit: float) -> None:
        now = cls.clock()
        if now - cls.armed_at >= REARM_SECONDS:
            faulthandler.dump_traceback_later(limit + DUMP_AFTER_SECONDS, file=_DUMP_FD)
            cls.armed_at = now

    @classmethod
    def disarm(cls) -> None:
        faulthandler.cancel_dump_traceback_later()
        cls.armed_at = -math.inf


@WRAPPER
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """A hang in C code never returns to the interpreter to take the signal: the stacks
    are dumped a little after the limit, for the person reading the output.

    Each test's node id goes into the JUnit report too: the report names a test by the
    file its function is defined in, which for a test a class inherits from a mixin in
    another module is not the file pytest selects it by."""
    item.user_properties.append((NODE_ID_PROPERTY, item.nodeid))
    limit = _limit()
    if limit is not None:
        _Watchdog.arm(limit)
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish() -> None:
    """The tests are over: what follows (the report, a warm session's next run) is no
    test's time."""
    _Watchdog.disarm()


@WRAPPER
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with _limited(item):
        return (yield)


@WRAPPER
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with _limited(item):
        return (yield)


@WRAPPER
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    with _limited(item):
        return (yield)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    if os.environ.get("FIXLOOP_STOP_AT_HANG") != "1":
        return
    if _hung and not _hung[0].session.shouldstop:
        _hung[0].session.shouldstop = f"{_hung[0].nodeid} hung: the run stops there"
