"""``xuncha run``: the long-running patrol, driven by APScheduler 4.

Schedules live in APScheduler's SQLAlchemy data store in the same database, so
they survive restarts (a restart does not fire everything at once) and, on
PostgreSQL, are shared by several nodes. One schedule per active account
(``probe:<id>``), plus the outbox dispatcher and the registry sync. Misfires
coalesce to one run and are never dropped (no misfire grace limit).
"""

from __future__ import annotations

import random
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import structlog
from apscheduler import AsyncScheduler, CoalescePolicy, ConflictPolicy
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, select

from monitor.app import App
from monitor.config import ConfigError, Settings, load_settings
from monitor.db import make_async_engine
from monitor.models import Account
from monitor.outbox import dispatch_once
from monitor.pipeline import CheckError, check
from probes.fetch.http import Fetcher

log = structlog.get_logger("xuncha.run")

PROBE_PREFIX = "probe:"


@dataclass
class Runtime:
    """What scheduled tasks need; APScheduler calls plain functions, so it is module state."""

    app: App
    fetcher: Fetcher
    limiter: anyio.CapacityLimiter
    config_path: Path | None


_runtime: Runtime | None = None


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("xuncha run is not running in this process")
    return _runtime


async def probe_account(account_id: str) -> None:
    rt = runtime()
    async with rt.limiter:
        try:
            await check(rt.app, rt.fetcher, account_id)
        except CheckError as e:
            log.error("check_failed", account=account_id, error=str(e))


async def dispatch_alerts() -> None:
    rt = runtime()
    stats = await dispatch_once(rt.app.engine, rt.app.settings)
    if stats.sent or stats.retried or stats.dead:
        log.info("alerts_dispatched", sent=stats.sent, retried=stats.retried, dead=stats.dead)


async def sync_registry() -> None:
    await sync_schedules(runtime().app, _scheduler())


_current_scheduler: AsyncScheduler | None = None


def _scheduler() -> AsyncScheduler:
    assert _current_scheduler is not None
    return _current_scheduler


def desired_schedules(app: App) -> dict[str, int]:
    """``probe:<account>`` → interval in minutes, for every active account."""
    with Session(app.engine) as s:
        accounts = s.exec(select(Account).where(Account.status == "active")).all()
    return {
        f"{PROBE_PREFIX}{a.id}": app.settings.interval_minutes(a.platform, a.interval_minutes)
        for a in accounts
    }


async def sync_schedules(app: App, scheduler: AsyncScheduler) -> dict[str, int]:
    """Make the scheduler's probe schedules follow the registry."""
    desired = await anyio.to_thread.run_sync(desired_schedules, app)
    existing = {s.id: s for s in await scheduler.get_schedules() if s.id.startswith(PROBE_PREFIX)}
    now = datetime.now(UTC)
    jitter = app.settings.patrol.jitter_seconds
    added = changed = removed = 0
    for sid, minutes in desired.items():
        old = existing.get(sid)
        if old is not None and isinstance(old.trigger, IntervalTrigger):
            if old.trigger._interval == timedelta(minutes=minutes):
                continue
            changed += 1
        else:
            added += 1
        # spread first runs over the jitter window (at most one interval)
        offset = random.uniform(0, min(jitter, minutes * 60))
        await scheduler.add_schedule(
            probe_account,
            IntervalTrigger(minutes=minutes, start_time=now + timedelta(seconds=offset)),
            id=sid,
            args=[sid.removeprefix(PROBE_PREFIX)],
            coalesce=CoalescePolicy.latest,
            misfire_grace_time=None,
            max_jitter=min(60.0, minutes * 6.0),
            conflict_policy=ConflictPolicy.replace,
        )
    for sid in existing.keys() - desired.keys():
        await scheduler.remove_schedule(sid)
        removed += 1
    summary = {"accounts": len(desired), "added": added, "changed": changed, "removed": removed}
    if added or changed or removed:
        log.info("schedules_synced", **summary)
    return summary


async def run(settings: Settings, *, config_path: Path | None = None) -> None:
    """Run the patrol until SIGTERM/SIGINT; SIGHUP reloads config and registry."""
    global _runtime, _current_scheduler
    # signals are received from the very start: a SIGHUP or SIGTERM during start-up waits
    # for the loop below instead of killing the process with the default action
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as sigs:
        app = App.open(settings)
        try:
            await _serve(app, settings, config_path, sigs)
        finally:
            _runtime = _current_scheduler = None
            app.close()
    log.info("patrol_stopped")


async def _serve(
    app: App, settings: Settings, config_path: Path | None, sigs: AsyncIterator[int]
) -> None:
    global _runtime, _current_scheduler
    data_store = SQLAlchemyDataStore(make_async_engine(settings.database_url))
    patrol = settings.patrol
    async with (
        Fetcher(app.http_settings()) as fetcher,
        AsyncScheduler(
            data_store,
            identity=settings.node_name,
            max_concurrent_jobs=patrol.max_concurrency + 2,
        ) as scheduler,
    ):
        _runtime = Runtime(app, fetcher, anyio.CapacityLimiter(patrol.max_concurrency), config_path)
        _current_scheduler = scheduler
        await scheduler.configure_task(
            probe_account, max_running_jobs=patrol.max_concurrency, misfire_grace_time=None
        )
        await sync_schedules(app, scheduler)
        await scheduler.add_schedule(
            sync_registry,
            IntervalTrigger(seconds=patrol.registry_sync_seconds),
            id="registry:sync",
            conflict_policy=ConflictPolicy.replace,
        )
        if settings.alerts.enabled:
            await scheduler.add_schedule(
                dispatch_alerts,
                IntervalTrigger(seconds=settings.alerts.dispatch_interval_seconds),
                id="alerts:dispatch",
                coalesce=CoalescePolicy.latest,
                conflict_policy=ConflictPolicy.replace,
            )
        await scheduler.start_in_background()
        log.info("patrol_started", node=settings.node_name, database=_safe_db(settings))
        _warn_calendar(app)

        async for signum in sigs:
            if signum == signal.SIGHUP:
                await _reload(config_path, scheduler)
                continue
            log.info("patrol_stopping", signal=signal.Signals(signum).name)
            break
        await scheduler.stop()
        await scheduler.wait_until_stopped()


async def _reload(config_path: Path | None, scheduler: AsyncScheduler) -> None:
    rt = runtime()
    try:
        new = load_settings(config_path)
    except ConfigError as e:
        log.error("reload_failed", error=str(e))
        return
    if new.database_url != rt.app.settings.database_url:
        log.warning("reload_database_ignored", reason="changing the database needs a restart")
        new.database = rt.app.settings.database
    rt.app = App(settings=new, engine=rt.app.engine)
    summary = await sync_schedules(rt.app, scheduler)
    log.info("reloaded", **summary)


def _warn_calendar(app: App) -> None:
    """Rules need to know working days; an unknown year is said, not guessed silently."""
    today = datetime.now(ZoneInfo(app.settings.timezone)).date()
    if missing := app.calendar.missing_years(today):
        log.warning(
            "calendar_year_unknown",
            years=missing,
            fix="add the State Council's holiday arrangement to [calendar].extra_files",
        )


def _safe_db(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
