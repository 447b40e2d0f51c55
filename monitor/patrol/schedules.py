"""The schedulers and their schedules: one per account, plus the role jobs.

Schedules live in APScheduler's SQLAlchemy data store in the same database, so they
survive restarts (a restart does not fire everything at once) and, on PostgreSQL, are
shared by several nodes (docs/scale-out.md). One schedule per account (``probe:<id>``).
Misfires coalesce to one run and are never dropped (no misfire grace limit). Each scheduled
role (``probe``, ``alerts``) has its own data store — on PostgreSQL its own schema and
``NOTIFY`` channel — so a node started with ``--role probe`` never picks up an alerts job.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import timedelta
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
from apscheduler.abc import EventBroker
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.eventbrokers.psycopg import PsycopgEventBroker
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session, select

from monitor.app import App
from monitor.config import Settings
from monitor.patrol.cluster import SCHEDULED_ROLES, is_postgres
from monitor.store.models import Account

log = structlog.get_logger("xuncha.run")


PROBE_PREFIX = "probe:"

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


async def sync_schedules(
    app: App, scheduler: AsyncScheduler, task: Callable[[str], Any]
) -> dict[str, int]:
    """Make the scheduler's probe schedules (each running ``task``) follow the registry."""
    task_ref = f"{task.__module__}:{task.__qualname__}"
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
                task,
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
                if old.task_id == task_ref and _every(old.trigger) == timedelta(minutes=minutes):
                    continue
                changed += 1  # a new interval, or a task renamed by an upgrade
            else:
                added += 1
            tg.start_soon(add, sid, minutes)
        for sid in existing.keys() - desired.keys():
            tg.start_soon(remove, sid)
            removed += 1
    summary = {"accounts": len(desired), "added": added, "changed": changed, "removed": removed}
    if added or changed or removed:
        log.info("schedules_synced", **summary)
    return summary


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


async def stop_scheduler(scheduler: AsyncScheduler, grace: float) -> None:
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


async def wake_for_abandoned_jobs(scheduler: AsyncScheduler, lease: float) -> None:
    """Look for jobs whose lease ran out (their node died) at least every half lease.

    APScheduler 4.0.0a6 looks for jobs only when a job is added or released somewhere; a
    dead node's jobs whose lease expires in a quiet moment would wait for the next such
    event. A local "job added" nudge makes this node look (and take them) in time.
    """
    while True:
        await anyio.sleep(lease / 2)
        nudge = JobAdded(job_id=uuid.uuid4(), task_id="xuncha:lease-check", schedule_id=None)
        await scheduler.event_broker.publish_local(nudge)
