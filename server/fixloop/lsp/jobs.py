"""The server's long-running work, by key: a fix session, a look for a remembered fix, a
probe of Docker, a parse, a question to the user. Starting a job whose key is taken
cancels the older one (its answer would be stale); an error ends its job in the log,
never silently; `shutdown` cancels them all and waits for them to end. What the status
bar says of fixes comes from here (`running("fix")`), so it follows every fix at once.

A key is a tuple whose first item is the job's kind: `("fix", session id)`,
`("remembered", uri)`, `("probe", sandbox config)`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

Key = tuple[Hashable, ...]
T = TypeVar("T")


@dataclass(eq=False)
class Job:
    key: Key
    task: asyncio.Task[Any]
    # Stops work the task waits for in a thread (a fix session), which cancelling the
    # task would leave running; the task then ends with that work.
    stop: Callable[[], None] | None = None
    cancelled: bool = False

    def cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        if self.stop is not None:
            self.stop()
        else:
            self.task.cancel()


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[Key, Job] = {}

    def start(
        self,
        key: Key,
        work: Coroutine[Any, Any, T],
        *,
        stop: Callable[[], None] | None = None,
    ) -> asyncio.Task[T]:
        """Run `work` as the job `key`, cancelling the job it replaces."""
        if (older := self._jobs.pop(key, None)) is not None:
            older.cancel()
        task = asyncio.get_running_loop().create_task(work, name=f"fixloop {key[0]}")
        job = self._jobs[key] = Job(key, task, stop)
        task.add_done_callback(lambda _: self._ended(job))
        return task

    def _ended(self, job: Job) -> None:
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]
        if job.task.cancelled():
            return
        if (error := job.task.exception()) is not None:
            logger.error("job %s failed", job.key, exc_info=error)

    def get(self, key: Key) -> Job | None:
        return self._jobs.get(key)

    def running(self, kind: str | None = None) -> list[Job]:
        """The jobs under way (of one kind), oldest first."""
        return [job for job in self._jobs.values() if kind is None or job.key[0] == kind]

    def cancel(self, key: Key) -> None:
        if (job := self._jobs.get(key)) is not None:
            job.cancel()

    def cancel_all(self, kind: str | None = None) -> int:
        """Cancel the jobs under way (of one kind); how many were not cancelled before."""
        jobs = [job for job in self.running(kind) if not job.cancelled]
        for job in jobs:
            job.cancel()
        return len(jobs)

    async def wait(self, timeout: float) -> list[Job]:
        """Wait for every job to end, for at most `timeout` seconds; those still running."""
        deadline = time.monotonic() + timeout
        while self._jobs and (left := deadline - time.monotonic()) > 0:
            tasks = [job.task for job in self._jobs.values()]
            await asyncio.wait(tasks, timeout=left)
            await asyncio.sleep(0)  # the ended jobs' callbacks run
        return self.running()
