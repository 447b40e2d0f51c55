"""Group commit: the records of many checks in few transactions, off the event loop.

A check hands its record to :class:`Recorder` and awaits its own result; one gatherer thread
takes every record queued so far (up to ``max_batch``, one per account: a second record of
the same account waits for the next batch) and has them written in one transaction
(:func:`monitor.record.batch.write_batch`). While a batch is being written the next one gathers,
so under load each transaction carries many checks and when idle a check is written at
once. A check is answered only after its transaction committed, so a SIGKILL loses nothing
that was acknowledged.

Where the batch is written is the writer's business: in the gatherer thread itself
(:class:`ThreadWriter`, the default for one-off commands), or in a process of its own
(:class:`monitor.record.writer.ProcessWriter`, what ``xuncha run`` uses; ``App.recorder``
picks one by ``[patrol] writer``): the Python work of
recording (ORM objects, detectors, JSON) then no longer shares the interpreter lock with
the event loop that drives the probes.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import anyio
import structlog

from monitor.config import Settings
from monitor.record.batch import CheckResult, Outcomes, Record, WriteContext, write_batch

log = structlog.get_logger("xuncha.check")


class Writer(Protocol):
    def write(self, records: list[Record]) -> tuple[Outcomes, int]:
        """Each record's result or exception, in order; and the transactions committed."""

    def reload(self, settings: Settings) -> None:
        """Write the next batches by these settings (rules, calendar, evidence store)."""

    def close(self) -> None: ...


class ThreadWriter:
    """Write in the calling (gatherer) thread, with the app's own wiring."""

    def __init__(self, context: WriteContext) -> None:
        self.context = context

    def write(self, records: list[Record]) -> tuple[Outcomes, int]:
        return write_batch(self.context, records)

    def reload(self, settings: Settings) -> None:
        pass  # the context is the app itself: it has reloaded already

    def close(self) -> None:
        pass


@dataclass
class _Job:
    record: Record
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[CheckResult]


class Recorder:
    """Queue of records → batches → the writer; see the module's docstring.

    The gatherer thread starts with the first record and ends after ``idle_seconds``
    without one; the writer (and a writer process) lives until :meth:`close`.
    """

    def __init__(
        self,
        writer: Writer,
        *,
        max_batch: int = 64,
        gather_seconds: float = 0.02,
        idle_seconds: float = 2.0,
    ) -> None:
        self.writer = writer
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches = 0  # transactions committed (for benchmarks and tests)
        self.waiting = 0  # checks awaiting their write
        self.writing = 0  # of which in the writer's hands now (the rest are queued)

    async def record(self, record: Record) -> CheckResult:
        """Queue the record of one check; return once it is committed.

        Like a worker thread, the write is not abandoned when the caller is cancelled: the
        caller waits for it, so a shutdown knows each check is either written or not begun.
        """
        loop = asyncio.get_running_loop()
        job = _Job(record, loop, loop.create_future())
        with self._mutex:
            if self._closed:
                raise RuntimeError("the recorder is closed (xuncha is stopping)")
            self._queue.put(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="xuncha-recorder", daemon=True
                )
                self._thread.start()
        self.waiting += 1
        try:
            with anyio.CancelScope(shield=True):
                return await job.future
        finally:
            self.waiting -= 1

    def reload(self, settings: Settings) -> None:
        """Batches after this one are written by ``settings`` (the same writer goes on)."""
        self.writer.reload(settings)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the writer (and its process)."""
        with self._mutex:
            self._closed = True
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self.writer.close()

    def _run(self) -> None:
        carry: list[_Job] = []  # records of an account already in the last batch
        while True:
            if not carry:
                try:
                    first = self._queue.get(timeout=0.05 if self._closed else self.idle_seconds)
                except queue.Empty:
                    with self._mutex:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                carry = [first]
            batch, carry = self._gather(carry)
            self.writing = len(batch)
            try:
                outcomes, transactions = self.writer.write([j.record for j in batch])
            except BaseException as e:  # never leave a check waiting forever
                log.exception("recorder_failed")
                outcomes, transactions = [e] * len(batch), 0
            finally:
                self.writing = 0
            self.batches += transactions
            for job, outcome in zip(batch, outcomes, strict=True):
                _finish(job, outcome)

    def _gather(self, pending: list[_Job]) -> tuple[list[_Job], list[_Job]]:
        """A batch (at most one record per account) and the records left for the next."""
        batch: list[_Job] = []
        accounts: set[str] = set()
        rest: list[_Job] = []
        deadline = time.monotonic() + self.gather_seconds
        while True:
            for job in pending:
                if len(batch) < self.max_batch and job.record.account.id not in accounts:
                    batch.append(job)
                    accounts.add(job.record.account.id)
                else:
                    rest.append(job)
            if len(batch) >= self.max_batch:
                return batch, rest
            # gather for a few ms: one transaction (and one disk sync) serves more checks,
            # and while the gatherer waits the probes have the interpreter to themselves
            left = deadline - time.monotonic()
            try:
                pending = [self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()]
            except queue.Empty:
                return batch, rest


def _finish(job: _Job, outcome: CheckResult | BaseException) -> None:
    """Hand the outcome to the check awaiting it, on its own event loop."""

    def deliver() -> None:
        if job.future.done():
            return
        if isinstance(outcome, BaseException):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
        job.loop.call_soon_threadsafe(deliver)
