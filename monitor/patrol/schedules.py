"""The APScheduler schedulers: a data store per scheduled role, for the jobs that must run
once across nodes (alerts, self-watch, retention, the registry's due times).

Schedules live in APScheduler's SQLAlchemy data store in the same database, so they
survive restarts and, on PostgreSQL, are shared by several nodes (docs/scale-out.md); each
role (``probe``, ``alerts``) has its own store — on PostgreSQL its own schema and ``NOTIFY``
channel — so a node started with ``--role probe`` never picks up an alerts job. Accounts
are not APScheduler schedules: :mod:`monitor.patrol.claims` holds their due times.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
from apscheduler import AsyncScheduler, JobAdded, RunState, SchedulerStopped
from apscheduler.abc import EventBroker
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.eventbrokers.psycopg import PsycopgEventBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import Settings
from monitor.patrol.cluster import SCHEDULED_ROLES, is_postgres

# schedules of older versions, one per account: removed when a node starts
LEGACY_PROBE_PREFIX = "probe:"


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
    return AsyncScheduler(
        store,
        broker,
        identity=f"{settings.node_name}/{group}",
        # role jobs only (a handful, each short or once at a time across nodes)
        max_concurrent_jobs=8,
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
