"""Stopping a test run that is no longer wanted (a newer save superseded it, the user
cancelled), from any thread, without losing the warm sandbox it runs in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Cancellation:
    """Set once; every run watching it is told at once, and later runs do not start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    @contextmanager
    def watching(self, callback: Callable[[], None]) -> Iterator[None]:
        """Call `callback` (from the cancelling thread) if cancelled while inside; at once
        if it already is."""
        with self._lock:
            already = self._cancelled
            if not already:
                self._callbacks.append(callback)
        if already:
            callback()
        try:
            yield
        finally:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)
