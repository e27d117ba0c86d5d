"""The job registry in process: by key, a newer job replaces the older, errors reach the
log, and everything is cancelled (and waited for) at shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from fixloop.lsp.jobs import Jobs


async def _turns(count: int = 3) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def test_a_newer_job_with_the_same_key_cancels_the_older() -> None:
    async def check() -> None:
        jobs = Jobs()
        older = jobs.start(("remembered", "a.py"), asyncio.sleep(60))
        other = jobs.start(("remembered", "b.py"), asyncio.sleep(60))
        newer = jobs.start(("remembered", "a.py"), asyncio.sleep(60))
        await _turns()
        assert older.cancelled() and not newer.done() and not other.done()
        assert [job.task for job in jobs.running()] == [other, newer]
        assert jobs.cancel_all() == 2
        assert await jobs.wait(5.0) == []

    asyncio.run(check())


def test_an_error_is_logged_with_its_job(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ValueError("the probe broke")

    async def check() -> None:
        jobs = Jobs()
        jobs.start(("probe", "default"), fails())
        await _turns()
        assert jobs.running() == []

    with caplog.at_level(logging.ERROR, logger="fixloop.lsp.jobs"):
        asyncio.run(check())
    [record] = caplog.records
    assert "('probe', 'default')" in record.getMessage() and record.exc_info is not None
    assert "the probe broke" in str(record.exc_info[1])


def test_a_job_with_a_stop_ends_with_its_thread_and_is_waited_for() -> None:
    """A fix's job: cancelling stops the thread's work, and the job is running until that
    work has ended (its containers are removed by then)."""

    async def check() -> None:
        jobs = Jobs()
        stopped = threading.Event()

        async def session() -> str:
            await asyncio.to_thread(stopped.wait, 30)
            return "cancelled"

        task = jobs.start(("fix", "s1"), session(), stop=stopped.set)
        await _turns()
        assert len(jobs.running("fix")) == 1
        jobs.cancel_all()
        assert await jobs.wait(10.0) == []
        assert task.result() == "cancelled"  # ended by its stop, not torn down

    asyncio.run(check())


def test_wait_gives_up_after_its_timeout_and_says_what_still_runs() -> None:
    async def check() -> None:
        jobs = Jobs()
        jobs.start(("fix", "stubborn"), asyncio.sleep(60), stop=lambda: None)
        jobs.cancel_all()
        assert [job.key for job in await jobs.wait(0.2)] == [("fix", "stubborn")]
        jobs.running()[0].task.cancel()

    asyncio.run(check())
