"""One check, end to end: observe → save snapshot → evaluate → reconcile → enqueue.

This module runs the probe side on the event loop; what a check writes, and in which
transaction, is :mod:`monitor.record.batch`; how records are batched and where they are written
(a thread or a writer process) is :mod:`monitor.record.recorder`. docs/architecture.md
tells the whole path.
"""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime

import anyio
import structlog
from sqlalchemy.exc import IntegrityError

from monitor.app import App
from monitor.config import Settings
from monitor.patrol.claims import next_due
from monitor.record.batch import CheckError, CheckResult, Record
from monitor.registry.accounts import reader_for
from monitor.store.loader import UnknownAccount
from monitor.store.models import Account
from monitor.store.states import LastLook
from probes.checks.links import resolve_short_links
from probes.fetch import Tools
from probes.model import Observation, Outcome, Previous, Target
from probes.platforms import observe

__all__ = ["CheckError", "CheckResult", "check", "target_for"]

log = structlog.get_logger("xuncha.check")


def target_for(account: Account, settings: Settings, previous: Previous | None = None) -> Target:
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
        previous=previous,
    )


async def check(
    app: App,
    tools: Tools,
    account_id: str,
    *,
    now: datetime | None = None,
    previous: Previous | None = None,
    claimed: bool = False,
    account: Account | None = None,
    last: LastLook | None = None,
    slot: AbstractAsyncContextManager[object] | None = None,
) -> CheckResult:
    """Probe one account now (``now``, else the app's clock) and record the result.

    ``previous``: the account's last look (the patrol's claim carries it), so a reader may
    ask the site "changed since?" and skip an unchanged page. ``claimed``: the patrol holds
    the account (``monitor.patrol.claims``); its record sets when it is due next.
    ``account`` and ``last``: its registry row and last full look as the claim read them
    (not read again); without ``account`` the row is read now (batched: ``store/loader.py``).
    ``slot``: held while the account is observed, not while its record waits to be written,
    so the patrol's fetch concurrency is spent fetching (the writer batches what waits).
    """
    when = now or app.clock()
    if account is None:
        try:
            account = await app.loader().get(account_id)
        except UnknownAccount as e:
            raise CheckError(str(e)) from None
    target = target_for(account, app.settings, previous)
    started = time.monotonic()
    # a logged-in session of the platform, if one was given and its pace allows: the reader
    # reads as always, its requests carry the session's cookies (monitor.sessions)
    session = await app.sessions.take(account.platform, account.id, target.reader)
    reading = tools.signed_in(session) if session is not None else tools
    async with slot or nullcontext():
        with anyio.move_on_after(app.settings.patrol.probe_timeout_seconds) as scope:
            obs = await observe(target, reading, now=when)
        if not scope.cancelled_caught and obs.outcome is Outcome.ok and obs.posts:
            # detectors judge where a short link lands, not the link text (no posts, as on
            # an unchanged page, no links: no deadline to set up for them)
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
    if session is not None:  # content seen, or a login wall: what it says of the session
        await app.sessions.done(session, obs, account.id)
    due = next_due(app.settings, account, when) if claimed else None
    record = Record(
        account, obs, when, next_due=due, claimed_by=app.settings.node_name if claimed else None,
        last=last if obs.unchanged else None,  # only an unchanged page refers to it
    )  # fmt: skip
    try:
        result = await app.recorder.record(record)
    except IntegrityError as e:
        # another writer opened the same finding meanwhile (``xuncha check`` by hand beside the
        # daemon): this record was rolled back whole; written again, it sees their finding
        log.warning("check_conflict_retry", account=account.id, error=str(e).splitlines()[0])
        result = await app.recorder.record(record)
    log.info(
        "account_checked",
        account=account.id,
        platform=account.platform,
        outcome=obs.outcome.value,
        session=session.id if session is not None else None,
        snapshot=result.snapshot.id,
        signals=[s.kind for s in result.signals],
        changes=[f"{c.event}:{c.finding.kind}" for c in result.changes],
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )
    return result
