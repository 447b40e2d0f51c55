"""One check, end to end (DESIGN §2): observe → save snapshot → evaluate → reconcile → enqueue.

This module runs the probe side on the event loop; what a check writes, and in which
transaction, is :mod:`monitor.patrol.record`; how records are batched and where they are written
(a thread or a writer process) is :mod:`monitor.patrol.recorder`.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from datetime import datetime

import anyio
import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.app import App
from monitor.config import Settings
from monitor.patrol.record import CheckError, CheckResult, Record, ruleset_for
from monitor.patrol.recorder import recorder
from monitor.store.models import Account
from probes.checks.links import resolve_short_links
from probes.fetch import Tools
from probes.model import Observation, Outcome, Target
from probes.platforms import READERS, observe

__all__ = [
    "CheckError",
    "CheckResult",
    "check",
    "reader_for",
    "recorder",
    "ruleset_for",
    "target_for",
]

log = structlog.get_logger("xuncha.check")


def reader_for(account: Account) -> str:
    """The account's reader: explicit, else the platform's own, else by its options."""
    if account.reader:
        return account.reader
    if account.platform in READERS:
        return account.platform
    return "webpage" if "item" in account.options else "rss"


def target_for(account: Account, settings: Settings) -> Target:
    platform = settings.platforms.get(account.platform)
    return Target(
        account_id=account.id,
        platform=account.platform,
        reader=reader_for(account),
        name=account.name,
        url=account.url,
        handle=account.handle,
        options=dict(account.options),
        origins=dict(platform.origins) if platform else {},
    )


class AccountLoader:
    """Registry rows for the checks starting now, read together (one query, one thread hop).

    A check starts by reading its account; under load dozens start within a millisecond,
    and a query each (a session, a thread hop) cost a probe's worth of interpreter time.
    Requests made while a read is running wait for the next one. Rows are read fresh each
    time, never cached: the registry changes under a running patrol.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._waiting: dict[str, list[asyncio.Future[Account]]] = {}
        self._task: asyncio.Task[None] | None = None  # the read under way, if any

    async def get(self, account_id: str) -> Account:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Account] = loop.create_future()
        self._waiting.setdefault(account_id, []).append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._read())  # kept: a bare task may be collected
        return await future

    async def _read(self) -> None:
        waiting: dict[str, list[asyncio.Future[Account]]] = {}
        try:
            while self._waiting:
                await asyncio.sleep(0)  # the checks started in this tick join the read
                waiting, self._waiting = self._waiting, {}
                try:
                    rows: dict[str, Account] | Exception = await anyio.to_thread.run_sync(
                        self._load, list(waiting)
                    )
                except Exception as e:
                    rows = e
                for account_id, futures in waiting.items():
                    for f in futures:
                        if f.done():  # its check was cancelled meanwhile
                            continue
                        if isinstance(rows, Exception):
                            f.set_exception(rows)
                        elif account_id in rows:
                            f.set_result(rows[account_id])
                        else:
                            f.set_exception(CheckError(f"账号 '{account_id}' 不在登记表中"))
                waiting = {}
        finally:
            for futures in (*waiting.values(), *self._waiting.values()):
                for f in futures:  # the loop is stopping: nobody is left hanging
                    f.cancel()

    def _load(self, ids: list[str]) -> dict[str, Account]:
        with Session(self.app.engine) as s:
            rows = s.exec(select(Account).where(col(Account.id).in_(ids))).all()
            for row in rows:
                s.expunge(row)
            return {row.id: row for row in rows}


def _loader(app: App) -> AccountLoader:
    """The app's loader for the running event loop (tests and commands run several loops)."""
    loaders = app.extras.setdefault("account_loaders", weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    if loop not in loaders:
        loaders[loop] = AccountLoader(app)
    return loaders[loop]


async def check(
    app: App, tools: Tools, account_id: str, *, now: datetime | None = None
) -> CheckResult:
    """Probe one account now (``now``, else the app's clock) and record the result."""
    when = now or app.clock()
    account = await _loader(app).get(account_id)
    target = target_for(account, app.settings)
    started = time.monotonic()
    with anyio.move_on_after(app.settings.patrol.probe_timeout_seconds) as scope:
        obs = await observe(target, tools, now=when)
    if not scope.cancelled_caught and obs.outcome is Outcome.ok:
        # detectors judge where a short link lands, not the link text
        with anyio.move_on_after(app.settings.http.timeout_seconds * 2):
            await resolve_short_links(obs, tools.http)
    if scope.cancelled_caught:
        obs = Observation(
            account_id=account.id,
            reader=target.reader,
            url=target.url,
            fetched_at=when,
            outcome=Outcome.error,
            detail=f"巡查超时（{app.settings.patrol.probe_timeout_seconds} 秒）",
        )
    try:
        result = await recorder(app).record(Record(account, obs, when))
    except IntegrityError as e:
        # another writer opened the same finding meanwhile (``xuncha check`` by hand beside the
        # daemon): this record was rolled back whole; written again, it sees their finding
        log.warning("check_conflict_retry", account=account.id, error=str(e).splitlines()[0])
        result = await recorder(app).record(Record(account, obs, when))
    log.info(
        "account_checked",
        account=account.id,
        platform=account.platform,
        outcome=obs.outcome.value,
        snapshot=result.snapshot.id,
        signals=[s.kind for s in result.signals],
        changes=[f"{c.event}:{c.finding.kind}" for c in result.changes],
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )
    return result
