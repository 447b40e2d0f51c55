"""``xuncha run``: the long-running patrol, driven by APScheduler 4.

Schedules live in APScheduler's SQLAlchemy data store in the same database, so
they survive restarts (a restart does not fire everything at once) and, on
PostgreSQL, are shared by several nodes (docs/scale-out.md). One schedule per active
account (``probe:<id>``), plus the outbox dispatcher and the registry sync. Misfires
coalesce to one run and are never dropped (no misfire grace limit).

Each scheduled role (``probe``, ``alerts``) has its own data store — on PostgreSQL
its own schema and ``NOTIFY`` channel — so a node started with ``--role probe`` never
picks up an alerts job. An account is probed by one node at a time and a role job
runs once at a time across nodes (``monitor.patrol.cluster`` locks).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import structlog
from apscheduler import (
    AsyncScheduler,
    CoalescePolicy,
    ConflictPolicy,
    JobAdded,
    RunState,
    SchedulerStopped,
)
from apscheduler.abc import EventBroker, Trigger
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.eventbrokers.psycopg import PsycopgEventBroker
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session, select

from monitor.alerting import digest as alerting_digest
from monitor.alerting import dispatch_once
from monitor.alerting import timers as alerting_timers
from monitor.app import App
from monitor.clock import Clock, system_clock
from monitor.config import ConfigError, Settings, load_settings
from monitor.patrol.cluster import ROLES, SCHEDULED_ROLES, NodeLocks, is_postgres, startup_lock
from monitor.patrol.pipeline import CheckError, check
from monitor.patrol.recorder import recorder
from monitor.patrol.writer import WriterDied
from monitor.service import metrics, retention, selfwatch
from monitor.service.logs import register_secrets
from monitor.service.notify import Notifier, watchdog_interval
from monitor.show.times import local_date, shown
from monitor.store.engine import make_async_engine
from monitor.store.models import Account
from probes.fetch import Tools

log = structlog.get_logger("xuncha.run")

PROBE_PREFIX = "probe:"


@dataclass
class Runtime:
    """What scheduled tasks need; APScheduler calls plain functions, so it is module state."""

    app: App
    tools: Tools
    schedulers: dict[str, AsyncScheduler]  # role → its scheduler (one on SQLite)
    limiter: anyio.CapacityLimiter
    config_path: Path | None
    locks: NodeLocks
    roles: tuple[str, ...] = ROLES
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
    async with rt.limiter, rt.locks.hold(f"{PROBE_PREFIX}{account_id}") as mine:
        if not mine:  # another node (or a late run here) is probing it right now
            log.info("probe_skipped_busy", account=account_id)
            return
        rt.running += 1
        started = time.monotonic()
        try:
            result = await check(rt.app, rt.tools, account_id)
        except CheckError as e:
            log.error("check_failed", account=account_id, error=str(e))
            metrics.observe_probe("unknown", "check_failed", time.monotonic() - started)
            return
        except WriterDied as e:  # not written, not confirmed: the account's next turn redoes it
            log.error("check_not_written", account=account_id, error=str(e))
            metrics.observe_probe("unknown", "not_written", time.monotonic() - started)
            return
        finally:
            rt.running -= 1
        outcome = result.observation.outcome.value
        metrics.observe_probe(result.account.platform, outcome, time.monotonic() - started)
        rt.checked += 1
        rt.last = f"{account_id} {outcome} at {shown(rt.app.clock(), rt.app.settings.timezone)}"


async def selfwatch_tick() -> None:
    """The patrol checks itself; ops are told of each problem once, and of its end."""
    metrics.note_job_lag("selfwatch")
    rt = runtime()
    app = rt.app

    def work() -> list[str]:
        now = app.clock()
        results = selfwatch.run_checks(app.settings, app.engine, now)
        selfwatch.record(app.settings, app.engine, results, now)
        return [r.key for r in results if not r.ok]

    rt.problems = await anyio.to_thread.run_sync(work)


async def retention_tick() -> None:
    app = runtime().app
    await anyio.to_thread.run_sync(
        retention.run_retention, app.engine, app.settings, app.blobs, app.clock()
    )


async def vacuum_tick() -> None:
    app = runtime().app
    pages = app.settings.retention.vacuum_pages
    out = await anyio.to_thread.run_sync(retention.incremental_vacuum, app.engine, pages)
    if out.get("freed"):
        log.info("database_compacted", **out)


async def dispatch_alerts() -> None:
    metrics.note_job_lag("dispatch")
    rt = runtime()
    stats = await dispatch_once(
        rt.app.engine, rt.app.settings, clock=rt.app.clock, with_timers=False, with_digests=False
    )
    if stats.sent or stats.retried or stats.dead or stats.held:
        log.info(
            "alerts_dispatched",
            composed=stats.composed,
            sent=stats.sent,
            retried=stats.retried,
            dead=stats.dead,
            held=stats.held,
            throttled=stats.throttled,
        )


async def alert_timers() -> None:
    """Reminders, escalations and digests: a scan of open findings, once a minute."""
    metrics.note_job_lag("alert_timers")
    rt = runtime()
    app = rt.app
    reminders, escalations = await anyio.to_thread.run_sync(
        alerting_timers.scan, app.engine, app.settings, app.clock()
    )
    digests = await anyio.to_thread.run_sync(
        alerting_digest.run, app.engine, app.settings, app.clock()
    )
    if reminders or escalations or digests:
        log.info("alert_timers", reminders=reminders, escalations=escalations, digests=digests)


async def sync_registry() -> None:
    rt = runtime()
    await sync_schedules(rt.app, rt.schedulers["probe"])


async def run_exclusive(ref: str) -> None:
    """Run a role job (``module:function``) unless another node is running it right now."""
    from apscheduler._marshalling import callable_from_ref

    rt = runtime()
    async with rt.locks.hold(f"job:{ref}") as mine:
        if not mine:
            log.info("job_skipped_busy", job=ref)
            return
        await callable_from_ref(ref)()


@dataclass
class RoleJob:
    """A job that must happen once across nodes, owned by a role's nodes."""

    func: Any  # an async function at module level (it is stored by reference)
    trigger: Trigger
    id: str


def alerts_jobs(settings: Settings) -> list[RoleJob]:
    """The ``alerts`` role's jobs: dispatch, and digests/escalation appended here."""
    jobs = []
    if settings.alerts.enabled:
        every = IntervalTrigger(seconds=settings.alerts.dispatch_interval_seconds)
        jobs.append(RoleJob(dispatch_alerts, every, "alerts:dispatch"))
        jobs.append(RoleJob(alert_timers, IntervalTrigger(seconds=60), "alerts:timers"))
    return jobs


def probe_jobs(settings: Settings) -> list[RoleJob]:
    """The ``probe`` role's housekeeping (self-watch looks at the browser these nodes run)."""
    jobs = []
    if settings.selfwatch.enabled:
        every = IntervalTrigger(seconds=settings.selfwatch.interval_seconds)
        jobs.append(RoleJob(selfwatch_tick, every, "service:selfwatch"))
    if settings.retention.enabled:
        r = settings.retention
        jobs.append(RoleJob(retention_tick, IntervalTrigger(seconds=r.interval_seconds),
                            "service:retention"))  # fmt: skip
        jobs.append(RoleJob(vacuum_tick, IntervalTrigger(seconds=r.vacuum_interval_seconds),
                            "service:vacuum"))  # fmt: skip
    return jobs


ROLE_JOBS = {"probe": probe_jobs, "alerts": alerts_jobs}
REGISTRY_SYNC = "registry:sync"


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


PROBE_TASK = f"{probe_account.__module__}:{probe_account.__qualname__}"


def _every(trigger: IntervalTrigger) -> timedelta:
    """An interval trigger's period, from its public fields."""
    return timedelta(
        weeks=trigger.weeks,
        days=trigger.days,
        hours=trigger.hours,
        minutes=trigger.minutes,
        seconds=trigger.seconds,
        microseconds=trigger.microseconds,
    )


async def sync_schedules(app: App, scheduler: AsyncScheduler) -> dict[str, int]:
    """Make the scheduler's probe schedules follow the registry."""
    desired = await anyio.to_thread.run_sync(desired_schedules, app)
    existing = {s.id: s for s in await scheduler.get_schedules() if s.id.startswith(PROBE_PREFIX)}
    now = app.clock()
    jitter = app.settings.patrol.jitter_seconds
    added = changed = removed = 0
    # one transaction per schedule: on PostgreSQL several at once, or thousands of accounts
    # keep a new cluster waiting for minutes; SQLite has one writer anyway
    limit = anyio.CapacityLimiter(8 if is_postgres(app.settings.database_url) else 1)

    async def add(sid: str, minutes: int) -> None:
        # spread first runs over the jitter window (at most one interval)
        offset = random.uniform(0, min(jitter, minutes * 60))
        async with limit:
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

    async def remove(sid: str) -> None:
        async with limit:
            await scheduler.remove_schedule(sid)

    async with anyio.create_task_group() as tg:
        for sid, minutes in desired.items():
            old = existing.get(sid)
            if old is not None and isinstance(old.trigger, IntervalTrigger):
                if old.task_id == PROBE_TASK and _every(old.trigger) == timedelta(minutes=minutes):
                    continue
                changed += 1  # a new interval, or a task renamed by an upgrade
            else:
                added += 1
            tg.start_soon(add, sid, minutes)
        for sid in existing.keys() - desired.keys():
            tg.start_soon(remove, sid)
            removed += 1
    summary = {"accounts": len(desired), "added": added, "changed": changed, "removed": removed}
    if _runtime is not None:
        _runtime.accounts = len(desired)
    if added or changed or removed:
        log.info("schedules_synced", **summary)
    return summary


async def run(
    settings: Settings,
    *,
    config_path: Path | None = None,
    roles: tuple[str, ...] = ROLES,
    clock: Clock = system_clock,
) -> None:
    """Run the patrol until SIGTERM/SIGINT; SIGHUP reloads config and registry."""
    global _runtime
    # signals are received from the very start: a SIGHUP or SIGTERM during start-up waits
    # for the loop below instead of killing the process with the default action
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as sigs:
        app = App.open(settings, clock=clock)
        try:
            await _serve(app, settings, config_path, sigs, roles)
        finally:
            _runtime = None
            app.close()
    log.info("patrol_stopped")


async def _serve(
    app: App,
    settings: Settings,
    config_path: Path | None,
    sigs: AsyncIterator[int],
    roles: tuple[str, ...] = ROLES,
) -> None:
    global _runtime
    notifier = Notifier()
    register_secrets(_channel_urls(settings))
    metrics_server = _start_metrics(app, settings)
    engine = make_async_engine(settings.database_url)
    locks = NodeLocks(settings.database_url)
    patrol = settings.patrol
    try:
        async with AsyncExitStack() as stack:
            tools = await stack.enter_async_context(app.probing())
            if settings.metrics.enabled:  # the pool exists from here on
                metrics.track_browser_pool(tools.browser)
            _runtime = Runtime(
                app,
                tools,
                {},
                anyio.CapacityLimiter(patrol.max_concurrency),
                config_path,
                locks,
                roles,
            )
            if "probe" in roles:  # checks' records are written by a process of their own
                metrics.track_recorder(recorder(app, daemon=True))
            # nodes starting together set the shared schedules up one after another
            async with startup_lock(settings.database_url):
                for group, group_roles in store_groups(settings, roles).items():
                    scheduler = await stack.enter_async_context(
                        make_scheduler(settings, engine, group, group_roles)
                    )
                    for role in group_roles:
                        _runtime.schedulers[role] = scheduler
                    await _add_role_schedules(app, settings, scheduler, group_roles)
                for scheduler in set(_runtime.schedulers.values()):
                    await scheduler.start_in_background()
            # entered after the schedulers: cancelling it must not reach their event brokers
            tg = await stack.enter_async_context(anyio.create_task_group())
            tg.start_soon(_heartbeat, notifier, settings.service.status_interval_seconds)
            for scheduler in set(_runtime.schedulers.values()):
                tg.start_soon(_wake_for_abandoned_jobs, scheduler, settings.cluster.lease_seconds)
            if settings.web.enabled and "web" in roles:  # console (issue 7); ends with tg
                from monitor.web.server import serve as serve_web

                tg.start_soon(serve_web, app, settings)
            log.info(
                "patrol_started",
                node=settings.node_name,
                roles=",".join(roles),
                database=_safe_db(settings),
            )
            _warn_calendar(app)
            notifier.ready(_runtime.status())

            async for signum in sigs:
                if signum == signal.SIGHUP:
                    notifier.status("reloading configuration and registry")
                    await _reload(config_path)
                    notifier.status(runtime().status())
                    continue
                log.info("patrol_stopping", signal=signal.Signals(signum).name)
                _arm_stop_deadline(settings.patrol.stop_grace_seconds)
                break
            notifier.stopping("stopping: waiting for running probes")
            tg.cancel_scope.cancel()
            for scheduler in set(_runtime.schedulers.values()):
                await _stop_scheduler(scheduler, settings.patrol.stop_grace_seconds)
    finally:
        await locks.close()
        await engine.dispose()
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        notifier.close()


async def _stop_scheduler(scheduler: AsyncScheduler, grace: float) -> None:
    """Stop and wait until the cancelled jobs are released, before the event broker closes.

    (``wait_until_stopped`` returns at once once stopping has begun; leaving then would close
    the broker under the jobs still being released.)
    """
    if scheduler.state is not RunState.started:
        return
    stopped = anyio.Event()
    with scheduler.subscribe(lambda _e: stopped.set(), {SchedulerStopped}):
        await scheduler.stop()
        with anyio.move_on_after(grace):
            await stopped.wait()


async def _wake_for_abandoned_jobs(scheduler: AsyncScheduler, lease: float) -> None:
    """Look for jobs whose lease ran out (their node died) at least every half lease.

    APScheduler 4.0.0a6 looks for jobs only when a job is added or released somewhere; a
    dead node's jobs whose lease expires in a quiet moment would wait for the next such
    event. A local "job added" nudge makes this node look (and take them) in time.
    """
    while True:
        await anyio.sleep(lease / 2)
        nudge = JobAdded(job_id=uuid.uuid4(), task_id="xuncha:lease-check", schedule_id=None)
        await scheduler.event_broker.publish_local(nudge)


def store_groups(settings: Settings, roles: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Which data stores this node opens, and the roles each serves.

    On PostgreSQL every scheduled role has its own store, so only nodes with the role take
    its jobs. SQLite serves one node, with every role in APScheduler's default tables.
    """
    mine = tuple(r for r in SCHEDULED_ROLES if r in roles)
    if not mine:
        return {}
    if not is_postgres(settings.database_url):
        return {"default": mine}
    return {role: (role,) for role in mine}


def make_scheduler(
    settings: Settings, engine: AsyncEngine, group: str, roles: tuple[str, ...]
) -> AsyncScheduler:
    """An AsyncScheduler on the group's data store; leases decide how fast a dead node's jobs
    move on (they are extended while a job runs, so a slow probe keeps its job)."""
    broker: EventBroker
    if group == "default":
        store = SQLAlchemyDataStore(engine)
        broker = LocalEventBroker()
    else:
        store = SQLAlchemyDataStore(engine, schema=f"xuncha_{group}")
        broker = PsycopgEventBroker.from_async_sqla_engine(engine, channel=f"xuncha_{group}")
    probes = "probe" in roles
    patrol = settings.patrol
    return AsyncScheduler(
        store,
        broker,
        identity=f"{settings.node_name}/{group}",
        # a node takes no more probe jobs than it can run, so the rest go to other nodes
        max_concurrent_jobs=(patrol.max_concurrency if probes else 0) + 4,
        lease_duration=timedelta(seconds=settings.cluster.lease_seconds),
        # APScheduler's clean-up would finish a dead node's expired jobs as "abandoned", i.e.
        # drop them; we want them run by another node (see _wake_for_abandoned_jobs). It has
        # nothing else to do here: no job results are kept, interval schedules never finish.
        cleanup_interval=None,
    )


async def _add_role_schedules(
    app: App, settings: Settings, scheduler: AsyncScheduler, roles: tuple[str, ...]
) -> dict[str, int]:
    """The roles' schedules, each once in the shared store; ones no longer wanted go."""
    wanted: set[str] = set()
    summary: dict[str, int] = {}
    if "probe" in roles:
        # max_running_jobs is counted per task across ALL nodes: no cap here, or the cluster
        # would run no more probes than one node; each node caps itself (max_concurrent_jobs
        # and the limiter), and an account is probed once at a time through NodeLocks
        await scheduler.configure_task(
            probe_account, max_running_jobs=None, misfire_grace_time=None
        )
        summary = await sync_schedules(app, scheduler)
        await scheduler.add_schedule(
            sync_registry,
            IntervalTrigger(seconds=settings.patrol.registry_sync_seconds),
            id=REGISTRY_SYNC,
            conflict_policy=ConflictPolicy.replace,
        )
        wanted.add(REGISTRY_SYNC)
    await scheduler.configure_task(run_exclusive, max_running_jobs=None)
    await scheduler.configure_task(sync_registry, max_running_jobs=None)
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
    # a job switched off in config must not keep running from the shared data store
    for sch in await scheduler.get_schedules():
        if not sch.id.startswith(PROBE_PREFIX) and sch.id not in wanted:
            await scheduler.remove_schedule(sch.id)
    return summary


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


async def _reload(config_path: Path | None) -> None:
    rt = runtime()
    try:
        new = load_settings(config_path)
    except ConfigError as e:
        log.error("reload_failed", error=str(e))
        return
    if new.database_url != rt.app.settings.database_url:
        log.warning("reload_database_ignored", reason="changing the database needs a restart")
        new.database = rt.app.settings.database
    rt.app = App(settings=new, engine=rt.app.engine, clock=rt.app.clock)
    register_secrets(_channel_urls(new))
    summary: dict[str, int] = {}
    groups: dict[AsyncScheduler, list[str]] = {}
    for role, scheduler in rt.schedulers.items():
        groups.setdefault(scheduler, []).append(role)
    for scheduler, roles in groups.items():  # intervals or switches may have changed
        summary |= await _add_role_schedules(rt.app, new, scheduler, tuple(roles))
    log.info("reloaded", **summary)


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
