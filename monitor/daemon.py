"""``xuncha run``: the long-running patrol, driven by APScheduler 4.

Schedules live in APScheduler's SQLAlchemy data store in the same database, so
they survive restarts (a restart does not fire everything at once) and, on
PostgreSQL, are shared by several nodes. One schedule per active account
(``probe:<id>``), plus the outbox dispatcher and the registry sync. Misfires
coalesce to one run and are never dropped (no misfire grace limit).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
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
from monitor.logs import register_secrets
from monitor.models import Account
from monitor.outbox import dispatch_once
from monitor.pipeline import CheckError, check
from monitor.service import metrics, retention, selfwatch
from monitor.service.notify import Notifier, watchdog_interval
from probes.fetch.http import Fetcher

log = structlog.get_logger("xuncha.run")

PROBE_PREFIX = "probe:"


@dataclass
class Runtime:
    """What scheduled tasks need; APScheduler calls plain functions, so it is module state."""

    app: App
    fetcher: Fetcher
    scheduler: AsyncScheduler
    limiter: anyio.CapacityLimiter
    config_path: Path | None
    # what the patrol is doing, for sd_notify STATUS=
    accounts: int = 0
    running: int = 0
    checked: int = 0
    last: str = ""
    problems: list[str] = field(default_factory=list)

    def status(self) -> str:
        text = f"patrolling {self.accounts} accounts; {self.running} probes running; "
        text += f"{self.checked} checked since start"
        if self.last:
            text += f"; last {self.last}"
        if self.problems:
            text += f"; PROBLEMS: {', '.join(self.problems)}"
        return text


_runtime: Runtime | None = None


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("xuncha run is not running in this process")
    return _runtime


async def probe_account(account_id: str) -> None:
    metrics.note_job_lag("probe")
    rt = runtime()
    async with rt.limiter:
        rt.running += 1
        started = time.monotonic()
        try:
            result = await check(rt.app, rt.fetcher, account_id)
        except CheckError as e:
            log.error("check_failed", account=account_id, error=str(e))
            metrics.observe_probe("unknown", "check_failed", time.monotonic() - started)
            return
        finally:
            rt.running -= 1
        outcome = result.observation.outcome.value
        metrics.observe_probe(result.account.platform, outcome, time.monotonic() - started)
        rt.checked += 1
        rt.last = f"{account_id} {outcome} at {datetime.now(UTC):%H:%M:%S}Z"


async def selfwatch_tick() -> None:
    """The patrol checks itself; ops are told of each problem once, and of its end."""
    metrics.note_job_lag("selfwatch")
    rt = runtime()
    app = rt.app

    def work() -> list[str]:
        results = selfwatch.run_checks(app.settings, app.engine)
        selfwatch.record(app.settings, app.engine, results)
        return [r.key for r in results if not r.ok]

    rt.problems = await anyio.to_thread.run_sync(work)


async def retention_tick() -> None:
    app = runtime().app
    await anyio.to_thread.run_sync(retention.run_retention, app.engine, app.settings, app.blobs)


async def vacuum_tick() -> None:
    app = runtime().app
    pages = app.settings.retention.vacuum_pages
    out = await anyio.to_thread.run_sync(retention.incremental_vacuum, app.engine, pages)
    if out.get("freed"):
        log.info("database_compacted", **out)


async def dispatch_alerts() -> None:
    metrics.note_job_lag("dispatch")
    rt = runtime()
    stats = await dispatch_once(rt.app.engine, rt.app.settings)
    if stats.sent or stats.retried or stats.dead:
        log.info("alerts_dispatched", sent=stats.sent, retried=stats.retried, dead=stats.dead)


async def sync_registry() -> None:
    rt = runtime()
    await sync_schedules(rt.app, rt.scheduler)


# a closed account is still looked at, daily, because "closed accounts stay closed" is a rule
CLOSED_INTERVAL_MINUTES = 24 * 60


def desired_schedules(app: App) -> dict[str, int]:
    """``probe:<account>`` → interval in minutes, for every account in the registry."""
    with Session(app.engine) as s:
        accounts = s.exec(select(Account)).all()
    desired = {}
    for a in accounts:
        minutes = app.settings.interval_minutes(a.platform, a.interval_minutes)
        if a.status == "closed":
            minutes = max(minutes, CLOSED_INTERVAL_MINUTES)
        desired[f"{PROBE_PREFIX}{a.id}"] = minutes
    return desired


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
    if _runtime is not None:
        _runtime.accounts = len(desired)
    if added or changed or removed:
        log.info("schedules_synced", **summary)
    return summary


async def run(settings: Settings, *, config_path: Path | None = None) -> None:
    """Run the patrol until SIGTERM/SIGINT; SIGHUP reloads config and registry."""
    global _runtime
    # signals are received from the very start: a SIGHUP or SIGTERM during start-up waits
    # for the loop below instead of killing the process with the default action
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as sigs:
        app = App.open(settings)
        try:
            await _serve(app, settings, config_path, sigs)
        finally:
            _runtime = None
            app.close()
    log.info("patrol_stopped")


async def _serve(
    app: App, settings: Settings, config_path: Path | None, sigs: AsyncIterator[int]
) -> None:
    global _runtime
    notifier = Notifier()
    register_secrets(_channel_urls(settings))
    metrics_server = _start_metrics(app, settings)
    data_store = SQLAlchemyDataStore(make_async_engine(settings.database_url))
    patrol = settings.patrol
    try:
        async with (
            app.probing() as fetcher,
            AsyncScheduler(
                data_store,
                identity=settings.node_name,
                max_concurrent_jobs=patrol.max_concurrency + 4,
            ) as scheduler,
            anyio.create_task_group() as tg,
        ):
            _runtime = Runtime(
                app,
                fetcher,
                scheduler,
                anyio.CapacityLimiter(patrol.max_concurrency),
                config_path,
            )
            await scheduler.configure_task(
                probe_account, max_running_jobs=patrol.max_concurrency, misfire_grace_time=None
            )
            await sync_schedules(app, scheduler)
            await _add_service_schedules(settings, scheduler)
            await scheduler.start_in_background()
            tg.start_soon(_heartbeat, notifier, settings.service.status_interval_seconds)
            log.info("patrol_started", node=settings.node_name, database=_safe_db(settings))
            _warn_calendar(app)
            notifier.ready(_runtime.status())

            async for signum in sigs:
                if signum == signal.SIGHUP:
                    notifier.status("reloading configuration and registry")
                    await _reload(config_path, scheduler)
                    notifier.status(runtime().status())
                    continue
                log.info("patrol_stopping", signal=signal.Signals(signum).name)
                _arm_stop_deadline(settings.patrol.stop_grace_seconds)
                break
            notifier.stopping("stopping: waiting for running probes")
            tg.cancel_scope.cancel()
            await scheduler.stop()
            await scheduler.wait_until_stopped()
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        notifier.close()


def _arm_stop_deadline(grace: float) -> None:
    """Leave within ``grace`` seconds of SIGTERM, whatever is still running.

    Worker threads (a database write waiting on a lock, a slow self-check) cannot be
    cancelled and would hold the exit until systemd kills the service. Every write is one
    transaction and every blob is renamed into place, so leaving mid-way loses nothing:
    an unfinished transaction is rolled back by the database.
    """

    def leave() -> None:
        log.error("stop_grace_exceeded", grace_seconds=grace)
        os._exit(0)

    timer = threading.Timer(grace, leave)
    timer.daemon = True
    timer.start()


async def _heartbeat(notifier: Notifier, status_every: float) -> None:
    """WATCHDOG and STATUS from the event loop the scheduler runs in.

    A loop stuck in blocking code stops these pings and systemd restarts the service;
    the lateness of each wake-up is the scheduler lag ops can graph.
    """
    wd = watchdog_interval()
    tick = min(wd, status_every) if wd else status_every
    tick = min(tick, 5.0)
    last_status = 0.0
    while True:
        before = time.monotonic()
        await anyio.sleep(tick)
        now = time.monotonic()
        metrics.LOOP_LAG.set(max(0.0, now - before - tick))
        if wd:
            notifier.watchdog()
        if now - last_status >= status_every and _runtime is not None:
            notifier.status(_runtime.status())
            last_status = now


async def _add_service_schedules(settings: Settings, scheduler: AsyncScheduler) -> None:
    """Self-watch, retention and compaction run on the scheduler like everything else."""
    jobs = []
    if settings.alerts.enabled:
        jobs.append((dispatch_alerts, settings.alerts.dispatch_interval_seconds, "alerts:dispatch"))
    if settings.selfwatch.enabled:
        jobs.append((selfwatch_tick, settings.selfwatch.interval_seconds, "service:selfwatch"))
    if settings.retention.enabled:
        r = settings.retention
        jobs.append((retention_tick, r.interval_seconds, "service:retention"))
        jobs.append((vacuum_tick, r.vacuum_interval_seconds, "service:vacuum"))
    await scheduler.add_schedule(
        sync_registry,
        IntervalTrigger(seconds=settings.patrol.registry_sync_seconds),
        id="registry:sync",
        conflict_policy=ConflictPolicy.replace,
    )
    for func, seconds, sid in jobs:
        await scheduler.configure_task(func, max_running_jobs=1)
        await scheduler.add_schedule(
            func,
            IntervalTrigger(seconds=seconds),
            id=sid,
            coalesce=CoalescePolicy.latest,
            conflict_policy=ConflictPolicy.replace,
        )
    # a job switched off in config must not keep running from the shared data store
    wanted = {sid for _f, _s, sid in jobs}
    for sid in {"alerts:dispatch", "service:selfwatch", "service:retention", "service:vacuum"}:
        if sid not in wanted:
            await scheduler.remove_schedule(sid)


def _start_metrics(app: App, settings: Settings) -> Any:
    if not settings.metrics.enabled:
        return None
    metrics.bind_database(app.engine)
    metrics.track_browser_pool()
    try:
        return metrics.serve(settings.metrics.address, settings.metrics.port)
    except OSError as e:  # a taken port must not stop the patrol; self-watch is still there
        log.error(
            "metrics_unavailable",
            address=settings.metrics.address,
            port=settings.metrics.port,
            error=str(e),
        )
        return None


def _channel_urls(settings: Settings) -> list[str]:
    urls = list(settings.channels.values())
    urls += [u for c in settings.alerts.ops_channels if (u := settings.channel_url(c))]
    return urls


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
    register_secrets(_channel_urls(new))
    summary = await sync_schedules(rt.app, scheduler)
    await _add_service_schedules(new, scheduler)  # intervals or switches may have changed
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
