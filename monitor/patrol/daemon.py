"""``xuncha run``: the long-running patrol — start-up, signals, reload, stop.

APScheduler 4 drives what happens on time (:mod:`monitor.patrol.schedules`: one schedule
per account and the role jobs; :mod:`monitor.patrol.jobs`: what each job does). An account
is probed by one node at a time and a role job runs once at a time across nodes
(:mod:`monitor.patrol.cluster` locks). SIGHUP reloads the configuration through
:meth:`monitor.app.App.reload` (the writer process stays; tools whose settings changed
are replaced, the old ones closed once no probe can still use them) and the registry.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import structlog
from apscheduler import AsyncScheduler, CoalescePolicy, ConflictPolicy
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import App
from monitor.clock import Clock, system_clock
from monitor.config import ConfigError, Settings, load_settings
from monitor.patrol import jobs
from monitor.patrol.claims import Claims
from monitor.patrol.cluster import ROLES, NodeLocks, startup_lock
from monitor.patrol.jobs import (
    REGISTRY_SYNC,
    ROLE_JOBS,
    Runtime,
    run_exclusive,
    runtime,
    sync_registry,
)
from monitor.patrol.runner import Runner
from monitor.patrol.schedules import (
    LEGACY_PROBE_PREFIX,
    make_scheduler,
    stop_scheduler,
    store_groups,
    wake_for_abandoned_jobs,
)
from monitor.service import metrics
from monitor.service.logs import register_secrets
from monitor.service.notify import Notifier, watchdog_interval
from monitor.store import audit
from monitor.store.engine import make_async_engine, session_scope
from monitor.timefmt import local_date

log = structlog.get_logger("xuncha.run")


async def run(
    settings: Settings,
    *,
    config_path: Path | None = None,
    roles: tuple[str, ...] = ROLES,
    clock: Clock = system_clock,
) -> None:
    """Run the patrol until SIGTERM/SIGINT; SIGHUP reloads config and registry."""
    # signals are received from the very start: a SIGHUP or SIGTERM during start-up waits
    # for the loop below instead of killing the process with the default action
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as sigs:
        app = App.open(settings, clock=clock, daemon=True)
        try:
            await _serve(app, settings, config_path, sigs, roles)
        finally:
            jobs.install(None)
            app.close()
    log.info("patrol_stopped")


async def _serve(
    app: App,
    settings: Settings,
    config_path: Path | None,
    sigs: AsyncIterator[int],
    roles: tuple[str, ...] = ROLES,
) -> None:
    notifier = Notifier()
    register_secrets(_channel_urls(settings))
    metrics_server = _start_metrics(app, settings)
    engine = make_async_engine(settings.database_url)
    locks = NodeLocks(settings.database_url)
    patrol = settings.patrol
    try:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(app.probing())
            if settings.metrics.enabled:  # the tools exist from here on (a reload swaps them)
                metrics.track_tools(lambda: app.tools)
                metrics.track_writer(lambda: app.writer_kind)
            rt = Runtime(
                app,
                {},
                anyio.CapacityLimiter(patrol.max_concurrency),
                config_path,
                locks,
                roles,
            )
            runner = None
            if "probe" in roles:  # checks' records are written by a process of their own
                metrics.track_recorder(app.recorder)
                rt.claims = Claims(app.engine, settings.node_name, settings.cluster.lease_seconds)
                runner = Runner(rt, rt.claims)
            jobs.install(rt)
            # nodes starting together set the shared schedules up one after another
            async with startup_lock(settings.database_url):
                for group, group_roles in store_groups(settings, roles).items():
                    scheduler = await stack.enter_async_context(
                        make_scheduler(settings, engine, group, group_roles)
                    )
                    for role in group_roles:
                        rt.schedulers[role] = scheduler
                    await _add_role_schedules(rt, settings, scheduler, group_roles)
                for scheduler in set(rt.schedulers.values()):
                    await scheduler.start_in_background()
            # entered after the schedulers: cancelling it must not reach their event brokers
            tg = await stack.enter_async_context(anyio.create_task_group())
            tg.start_soon(_heartbeat, notifier, settings.service.status_interval_seconds)
            for scheduler in set(rt.schedulers.values()):
                tg.start_soon(wake_for_abandoned_jobs, scheduler, settings.cluster.lease_seconds)
            if runner is not None:
                tg.start_soon(runner.run)  # it gives new accounts their due times first
            if settings.web.enabled and "web" in roles:  # console (issue 7); ends with tg
                from monitor.web.server import serve as serve_web

                tg.start_soon(serve_web, app, settings)
            log.info(
                "patrol_started",
                node=settings.node_name,
                roles=",".join(roles),
                database=_safe_db(settings),
                writer=app.writer_kind,
            )
            _warn_calendar(app)
            notifier.ready(rt.status())

            async for signum in sigs:
                if signum == signal.SIGHUP:
                    notifier.status("reloading configuration and registry")
                    await _reload(rt, tg)
                    notifier.status(rt.status())
                    continue
                log.info("patrol_stopping", signal=signal.Signals(signum).name)
                _arm_stop_deadline(settings.patrol.stop_grace_seconds)
                break
            notifier.stopping("stopping: waiting for running probes")
            if runner is not None:  # no more claims; the checks running finish, within grace
                await runner.stop(settings.patrol.stop_grace_seconds)
            tg.cancel_scope.cancel()
            for scheduler in set(rt.schedulers.values()):
                await stop_scheduler(scheduler, settings.patrol.stop_grace_seconds)
    finally:
        await locks.close()
        await engine.dispose()
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        notifier.close()


async def _add_role_schedules(
    rt: Runtime, settings: Settings, scheduler: AsyncScheduler, roles: tuple[str, ...]
) -> None:
    """The roles' schedules, each once in the shared store; ones no longer wanted go (a job
    switched off in config, and the per-account schedules of older versions)."""
    wanted: set[str] = set()
    if "probe" in roles:
        await scheduler.add_schedule(
            sync_registry,
            IntervalTrigger(seconds=settings.patrol.registry_sync_seconds),
            id=REGISTRY_SYNC,
            conflict_policy=ConflictPolicy.replace,
        )
        wanted.add(REGISTRY_SYNC)
    for role in roles:
        for job in ROLE_JOBS[role](settings):
            ref = f"{job.func.__module__}:{job.func.__qualname__}"
            await scheduler.add_schedule(
                run_exclusive,
                job.trigger,
                id=job.id,
                args=[ref],
                coalesce=CoalescePolicy.latest,
                conflict_policy=ConflictPolicy.replace,
            )
            wanted.add(job.id)
    stale = [s.id for s in await scheduler.get_schedules() if s.id not in wanted]
    for sid in stale:
        await scheduler.remove_schedule(sid)
    if legacy := sum(sid.startswith(LEGACY_PROBE_PREFIX) for sid in stale):
        log.info("legacy_probe_schedules_removed", schedules=legacy)


async def _audit_reload(rt: Runtime, success: bool, detail: dict[str, Any]) -> None:
    """A reload (or its failure) in the audit log, off the event loop; a database that
    cannot take it now is logged, never a reason to stop the patrol."""

    def write() -> None:
        actor = audit.Actor(f"daemon:{rt.app.settings.node_name}", "daemon")
        path = str(rt.config_path or "")
        with session_scope(rt.app.engine) as s:
            audit.record(s, actor, "config_reload", rt.app.clock(), target=path,
                         success=success, detail=detail)  # fmt: skip

    try:
        await anyio.to_thread.run_sync(write)
    except Exception as e:  # any database trouble: the patrol goes on
        log.error("audit_failed", action="config_reload", error=str(e))


async def _reload(rt: Runtime, tg: anyio.abc.TaskGroup) -> None:
    """SIGHUP: the configuration file again, then the registry's schedules by it."""
    try:
        new = load_settings(rt.config_path)
        reloaded = await rt.app.reload(new)
    except (ConfigError, ValueError) as e:  # a bad file, or rules/calendar that do not load
        log.error("reload_failed", error=str(e))
        await _audit_reload(rt, False, {"error": str(e)[:500]})
        return
    await _audit_reload(
        rt, True, {"changed": reloaded.changed, "needs_restart": reloaded.needs_restart}
    )
    register_secrets(_channel_urls(rt.app.settings))
    # the fetch slots follow a changed max_concurrency (checks holding one keep it)
    rt.limiter.total_tokens = rt.app.settings.patrol.max_concurrency
    if reloaded.retired is not None:
        # a probe started before the reload runs at most this long with the old tools
        p = rt.app.settings
        grace = p.patrol.probe_timeout_seconds + 2 * p.http.timeout_seconds + 5
        tg.start_soon(_close_retired_after, rt.app, grace)
    groups: dict[AsyncScheduler, list[str]] = {}
    for role, scheduler in rt.schedulers.items():
        groups.setdefault(scheduler, []).append(role)
    for scheduler, roles in groups.items():  # switches or periods may have changed
        await _add_role_schedules(rt, rt.app.settings, scheduler, tuple(roles))
    if "probe" in rt.roles:
        await sync_registry()


async def _close_retired_after(app: App, seconds: float) -> None:
    await anyio.sleep(seconds)
    await app.close_retired()
    log.info("retired_tools_closed")


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
        if now - last_status >= status_every and jobs.installed() is not None:
            notifier.status(runtime().status())
            last_status = now


def _start_metrics(app: App, settings: Settings) -> Any:
    if not settings.metrics.enabled:
        return None
    metrics.bind_database(app.engine)
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


def _warn_calendar(app: App) -> None:
    """Rules need to know working days; an unknown year is said, not guessed silently."""
    today = local_date(app.clock(), app.settings.timezone)
    for gap in app.calendar.gaps(
        today, required_days=app.settings.calendar.next_year_required_days
    ):
        (log.error if gap.urgent else log.warning)(
            "calendar_year_unknown", year=gap.year, days_left=gap.days_left, fix=gap.describe()
        )


def _safe_db(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
