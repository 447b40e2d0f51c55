"""The patrol loop of one node: claim due accounts in batches, check them, renew the hold.

It keeps up to twice ``[patrol] max_concurrency`` accounts claimed — those being fetched,
those whose record waits to be written, and the next ones waiting for a fetch slot — and
claims more once half of them are done, so a claim (one statement) serves many checks.
As many worker tasks as it may hold take the claimed accounts from a queue, one check at
a time each (a task per check cost more than the rest of the loop's work for it).
A fetch slot is held only while fetching: a record waiting for its batch to be written
does not keep the next page from being fetched. With nothing due it looks again within a
second. Every third of a lease it renews the hold on what it still has; on stop it gives
back what it claimed but did not check, so another node (or its next start) takes it at
once. The guarantees are :mod:`monitor.patrol.claims`'.

Why a loop of its own and not an APScheduler job: it runs all the time, and a job per
second per node would only add data-store writes to what this does with one query.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import anyio
import sqlalchemy as sa
import structlog

from monitor.patrol.claims import Claim, Claims
from monitor.patrol.jobs import Runtime
from monitor.patrol.pipeline import CheckError, check
from monitor.record.writer import WriterDied
from monitor.service import metrics
from monitor.timefmt import shown

log = structlog.get_logger("xuncha.run")

IDLE_SECONDS = 1.0  # nothing due: look again this soon (due times are to the second)


class Runner:
    def __init__(self, rt: Runtime, claims: Claims) -> None:
        self.rt = rt
        self.claims = claims
        self.held: dict[str, Claim] = {}  # claimed by this node and not yet written
        self._wake = anyio.Event()
        self._stopping = False
        self._queue: asyncio.Queue[Claim] = asyncio.Queue()  # claimed, for the workers
        self._workers = 0

    async def stop(self, grace: float) -> None:
        """Claim nothing more; wait up to ``grace`` for the checks running to be written."""
        self._stopping = True
        self._wake.set()
        with anyio.move_on_after(grace):
            while self.rt.running:
                await anyio.sleep(0.05)

    async def run(self) -> None:
        app = self.rt.app
        now = app.clock()
        freed = await anyio.to_thread.run_sync(self.claims.release_mine, now)
        made = await anyio.to_thread.run_sync(self.claims.ensure_states, app.settings, now)
        self.rt.accounts = await anyio.to_thread.run_sync(self.claims.count)
        if freed or made:
            log.info("patrol_claims_ready", freed=freed, new_accounts=made)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._renew)
                while True:
                    most = 2 * app.settings.patrol.max_concurrency
                    room = most - len(self.held)
                    got: list[Claim] = []
                    # refill once half is done: one claim statement per many checks, not one
                    # per check that ends
                    if room >= most // 2 and not self._stopping:
                        refresh = timedelta(hours=app.settings.patrol.evidence_refresh_hours)
                        got = await anyio.to_thread.run_sync(
                            self.claims.claim, app.clock(), room, app.judged_with, refresh
                        )
                    while self._workers < most:  # as many as may be held (a reload may add)
                        self._workers += 1
                        tg.start_soon(self._work)
                    for c in got:
                        self.held[c.account_id] = c
                        self._queue.put_nowait(c)
                    if not got:  # nothing due, or every slot taken: until a check ends
                        self._wake = anyio.Event()
                        with anyio.move_on_after(IDLE_SECONDS):
                            await self._wake.wait()
        finally:
            with anyio.CancelScope(shield=True):
                left = list(self.held)
                await anyio.to_thread.run_sync(self.claims.give_back, left, app.clock())
                if left:
                    log.info("patrol_claims_given_back", accounts=len(left))

    async def _renew(self) -> None:
        lease = self.claims.lease.total_seconds()
        while True:
            await anyio.sleep(lease / 3)
            ids = list(self.held)
            if not ids:
                continue
            try:
                await anyio.to_thread.run_sync(self.claims.renew, ids, self.rt.app.clock())
            except sa.exc.OperationalError as e:  # the database busy or gone a moment: the
                # lease still has two thirds to run, the next renewal comes before it ends
                log.warning("patrol_renew_failed", accounts=len(ids), error=str(e)[:200])

    async def _work(self) -> None:
        """Check claimed accounts one after the other, for as long as the patrol runs.

        Why workers and not a task per check: starting an anyio task (its handle, cancel
        scope and task state) took 70-120 µs a check, a worker's queue 3-7 µs. A worker is
        cancelled with the task group as a check's task was, mid-check alike."""
        while True:
            await self._check(await self._queue.get())

    async def _check(self, claim: Claim) -> None:
        """Check one claimed account. It leaves ``held`` once its record is written or has
        definitely failed; a check cancelled before that (the node stopping) stays held,
        and the loop gives it back."""
        rt = self.rt
        rt.running += 1
        started = time.monotonic()
        try:
            tools = rt.app.tools  # a reload may have replaced the ones we started with
            if tools is None:
                raise CheckError("巡查未在运行（没有可用的抓取工具）")
            result = await check(
                rt.app,
                tools,
                claim.account_id,
                previous=claim.previous,
                claimed=True,
                account=claim.account,
                last=claim.last,
                slot=_Slot(self),
            )
        except _NotBegun:  # claimed but not begun: stays held, given back on the way out
            return
        except CheckError as e:
            log.error("check_failed", account=claim.account_id, error=str(e))
            metrics.observe_probe("unknown", "check_failed", time.monotonic() - started)
            later = rt.app.clock() + timedelta(
                minutes=rt.app.settings.patrol.default_interval_minutes
            )
            await anyio.to_thread.run_sync(self.claims.postpone, claim.account_id, later)
            self.held.pop(claim.account_id, None)
            return
        except WriterDied as e:  # not written, not confirmed: due again after the lease
            log.error("check_not_written", account=claim.account_id, error=str(e))
            metrics.observe_probe("unknown", "not_written", time.monotonic() - started)
            self.held.pop(claim.account_id, None)
            return
        except Exception:  # a bug must cost one check, never the patrol
            log.exception("check_crashed", account=claim.account_id)
            metrics.observe_probe("unknown", "check_crashed", time.monotonic() - started)
            self.held.pop(claim.account_id, None)  # due again when the lease lapses
            return
        finally:
            rt.running -= 1
            self._wake.set()
        self.held.pop(claim.account_id, None)
        outcome = result.observation.outcome.value
        metrics.observe_probe(result.account.platform, outcome, time.monotonic() - started)
        rt.checked += 1
        at = shown(rt.app.clock(), rt.app.settings.timezone)
        rt.last = f"{claim.account_id} {outcome} at {at}"


class _NotBegun(Exception):
    """The node stopped before this claimed check got a slot."""


class _Slot:
    """One of the node's ``max_concurrency`` fetch slots, or :class:`_NotBegun` when the
    node began stopping while this check waited for one. A class, not an
    ``asynccontextmanager``: no generator to build and drive per check."""

    __slots__ = ("_limiter", "_runner")

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._limiter = runner.rt.limiter

    async def __aenter__(self) -> None:
        await self._limiter.acquire()
        if self._runner._stopping:
            self._limiter.release()
            raise _NotBegun

    async def __aexit__(self, *_exc: object) -> None:
        self._limiter.release()
