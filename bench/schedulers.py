"""One APScheduler schedule per account at 1k-150k accounts: what it costs (SQLite or PostgreSQL).

    python bench/schedulers.py --database postgresql --accounts 1000 20000 150000
    python bench/schedulers.py --database sqlite --accounts 1000 20000 --max-seconds 600

Up to commit fa7ac23 ``xuncha run`` kept one schedule per account (``probe:<id>``) in
APScheduler's SQLAlchemy data store; this bench makes them with that commit's
``make_scheduler`` and ``sync_schedules`` (copied below, so it measures that design whatever
the module becomes), on a fresh database per N (PostgreSQL on 127.0.0.1, dropped after;
SQLite in a temporary directory), with a task that only counts. It prints, per N:

- start-up: adding N schedules as ``sync_schedules`` does, reading them back with
  ``get_schedules()``, and a re-sync with nothing changed (what every registry sync costs);
- the data store's size after adding N;
- every account due at once (a cold start after downtime): jobs run per second and this
  process's CPU per job, at xuncha's ``max_concurrent_jobs`` and at a larger one;
- PostgreSQL only: two scheduler processes sharing the store: jobs/s and jobs run twice.

On PostgreSQL it also prints the local server's CPU (all its processes: other clients of
the server count too). Each phase stops at ``--max-seconds`` and prints what it reached.
Figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from apscheduler import AsyncScheduler, CoalescePolicy, ConflictPolicy, task
from apscheduler.abc import EventBroker
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.eventbrokers.psycopg import PsycopgEventBroker
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session, SQLModel, select

from monitor.app import App
from monitor.config import Settings
from monitor.patrol.cluster import is_postgres
from monitor.patrol.schedules import stop_scheduler, store_groups
from monitor.service.logs import setup_logging
from monitor.store.engine import make_async_engine, make_engine
from monitor.store.models import Account, Unit

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROLES = ("probe",)  # the role whose store holds the per-account schedules

RUNS: list[str] = []  # account ids, in the order this process ran their jobs


@task(max_running_jobs=None, misfire_grace_time=None)
async def count(account_id: str) -> None:
    """The probe's stand-in: declared as ``probe_account`` is (no cluster-wide cap), so the
    scheduler's own cost per job is all that is measured."""
    RUNS.append(account_id)


# -- the design measured: one schedule per account, as of commit fa7ac23 -----------------------
# make_scheduler, desired_schedules and sync_schedules are copied from monitor/patrol/schedules.py
# at fa7ac23 (the working tree moves the checks off APScheduler), so this bench keeps measuring
# the per-account design whatever that module becomes. Only the logging call is left out.

PROBE_PREFIX = "probe:"
CLOSED_INTERVAL_MINUTES = 24 * 60


def make_scheduler(
    settings: Settings, engine: AsyncEngine, group: str, roles: tuple[str, ...]
) -> AsyncScheduler:
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
        max_concurrent_jobs=(patrol.max_concurrency if probes else 0) + 4,
        lease_duration=timedelta(seconds=settings.cluster.lease_seconds),
        cleanup_interval=None,
    )


def desired_schedules(app: App) -> dict[str, int]:
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
    task_ref = f"{task.__module__}:{task.__qualname__}"
    desired = await anyio.to_thread.run_sync(desired_schedules, app)
    existing = {s.id: s for s in await scheduler.get_schedules() if s.id.startswith(PROBE_PREFIX)}
    now = app.clock()
    jitter = app.settings.patrol.jitter_seconds
    added = changed = removed = 0
    limit = anyio.CapacityLimiter(8 if is_postgres(app.settings.database_url) else 1)

    async def add(sid: str, minutes: int) -> None:
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
                changed += 1
            else:
                added += 1
            tg.start_soon(add, sid, minutes)
        for sid in existing.keys() - desired.keys():
            tg.start_soon(remove, sid)
            removed += 1
    return {"accounts": len(desired), "added": added, "changed": changed, "removed": removed}


# -- databases --------------------------------------------------------------------------------


def fresh_db() -> str:
    name = f"xuncha_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_db(url: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def postmaster_pid() -> int | None:
    """The local server's postmaster, to read its CPU from /proc (None: not readable)."""
    try:
        admin = sa.create_engine(ADMIN)
        with admin.connect() as c:
            data_dir = c.execute(sa.text("SHOW data_directory")).scalar_one()
        admin.dispose()
        return int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, sa.exc.SQLAlchemyError):
        return None


def server_cpu(pid: int | None) -> float | None:
    """CPU seconds the PostgreSQL server has used: postmaster, live backends, reaped ones."""
    if pid is None:
        return None
    ticks = 0
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(p.name) == pid:  # utime, stime, cutime, cstime
            ticks += sum(int(x) for x in fields[11:15])
        elif int(fields[1]) == pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def settings_for(data_dir: Path, url: str, node: str, max_concurrency: int = 8) -> Settings:
    return Settings(
        data_dir=data_dir,
        database={"url": url},
        node_name=node,
        patrol={"max_concurrency": max_concurrency},
        metrics={"enabled": False},
    )


def add_accounts(engine: Engine, n: int) -> None:
    """N weibo accounts (60-minute interval) of one unit: the registry sync_schedules reads."""
    SQLModel.metadata.create_all(engine, tables=[Unit.__table__, Account.__table__])
    with Session(engine) as s:
        s.add(Unit(code="u", name="省政府办公厅"))
        s.commit()
    row = Account(id="", platform="weibo", name="账号", owner_code="u").model_dump()
    with engine.begin() as c:
        for start in range(0, n, 5000):
            batch = [{**row, "id": f"a{i:06d}"} for i in range(start, min(n, start + 5000))]
            c.execute(sa.insert(Account.__table__), batch)


@dataclass
class Store:
    """Where the APScheduler tables are, and plain SQL on them (through the sync engine)."""

    engine: Engine
    schema: str | None  # PostgreSQL: the role's schema; SQLite: APScheduler's default tables
    url: str
    pg: bool

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name

    def scalar(self, sql: str, **kw: object) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.text(sql), kw).scalar() or 0)

    def schedules(self) -> int:
        return self.scalar(f"SELECT count(*) FROM {self.table('schedules')}")

    def processed(self) -> int:
        """Schedules whose due run was made into a job (their next fire time is ahead)."""
        if self.pg:
            return self.scalar(
                f"SELECT count(*) FROM {self.table('schedules')} WHERE next_fire_time > now()"
            )
        us = int(time.time() * 1e6)
        return self.scalar("SELECT count(*) FROM schedules WHERE next_fire_time > :us", us=us)

    def size(self) -> int:
        """Bytes of the APScheduler tables (PostgreSQL) or of the whole file (SQLite)."""
        if self.pg:
            return self.scalar(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :s AND c.relkind = 'r'",
                s=self.schema,
            )
        with self.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(sa.engine.make_url(self.url).database or "")
        wal = path.with_name(path.name + "-wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def all_due(self) -> None:
        """Every schedule due an hour ago, none acquired, no jobs: a cold start after downtime.

        Only the next_fire_time column moves; each trigger keeps its own (future) state, so
        every schedule makes exactly one job and then waits a whole interval.
        """
        jobs, tasks, sch = self.table("jobs"), self.table("tasks"), self.table("schedules")
        with self.engine.begin() as c:
            c.execute(sa.text(f"DELETE FROM {jobs}"))
            c.execute(sa.text(f"UPDATE {tasks} SET running_jobs = 0"))
            free = "acquired_by = NULL, acquired_until = NULL"
            if self.pg:
                due = "now() - interval '1 hour'"
                c.execute(sa.text(f"UPDATE {sch} SET next_fire_time = {due}, {free}"))
            else:
                us = int((time.time() - 3600) * 1e6)
                sql = f"UPDATE {sch} SET next_fire_time = :us, next_fire_time_utcoffset = 0, "
                c.execute(sa.text(sql + free), {"us": us})
        if self.pg:  # the same planner statistics and no dead rows for every run
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for t in (jobs, tasks, sch):
                    c.execute(sa.text(f"VACUUM ANALYZE {t}"))


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Meter:
    """Wall time, this process's CPU (all its threads) and the PostgreSQL server's CPU."""

    pg_pid: int | None
    wall: float = field(default_factory=time.monotonic)
    cpu: float = field(default_factory=time.process_time)
    db: float | None = None

    def __post_init__(self) -> None:
        self.db = server_cpu(self.pg_pid)

    def read(self) -> tuple[float, float, float | None]:
        db = server_cpu(self.pg_pid)
        db_used = db - self.db if db is not None and self.db is not None else None
        return time.monotonic() - self.wall, time.process_time() - self.cpu, db_used


def cost(wall: float, cpu: float, db: float | None, n: int) -> str:
    text = f"{wall:.2f} s wall, {cpu:.2f} s CPU"
    if db is not None:
        text += f", server {db:.2f} s CPU"
    if n:
        each = f"{wall / n * 1e3:.3f} / {cpu / n * 1e3:.3f}"
        text += f" = {each}{f' / {db / n * 1e3:.3f}' if db is not None else ''} ms each"
    return text


def per_job(ran: int, wall: float, cpu: float, db: float | None) -> str:
    if not ran:
        return f"0 jobs in {wall:.1f} s"
    text = f"{ran / wall:.0f} jobs/s, {cpu / ran * 1e3:.2f} ms CPU/job"
    if db is not None:
        text += f", server {db / ran * 1e3:.2f} ms CPU/job"
    return text


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def note(msg: str) -> None:
    """Progress while a long phase runs (stderr: the tables on stdout stay compact)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the phases -------------------------------------------------------------------------------


async def start_up(
    app: App, scheduler: AsyncScheduler, store: Store, n: int, limit: float, pg_pid: int | None
) -> list[tuple[str, str]]:
    """What ``xuncha run`` does with the schedules before its first probe, and at every sync."""
    rows = []
    size0 = store.size()
    at_once = 8 if store.pg else 1
    meter = Meter(pg_pid)
    with anyio.move_on_after(limit) as scope:
        await sync_schedules(app, scheduler, count)
    wall, cpu, db = meter.read()
    added = store.schedules()
    cut = f" STOPPED at --max-seconds ({added} of {n})" if scope.cancelled_caught else ""
    rows.append((f"add {n} ({at_once} at once)", f"{added} in {cost(wall, cpu, db, added)}{cut}"))
    size = store.size() - size0
    each = f" = {size / added:.0f} B/schedule" if added else ""
    what = "APScheduler tables" if store.pg else "file delta"
    rows.append(("data store size", f"{mib(size)} ({what}){each}"))

    meter = Meter(pg_pid)
    got: list = []
    with anyio.move_on_after(limit) as scope:
        got = await scheduler.get_schedules()
    wall, cpu, db = meter.read()
    cut = " STOPPED at --max-seconds" if scope.cancelled_caught else ""
    rows.append(("get_schedules()", f"{len(got)} in {cost(wall, cpu, db, len(got))}{cut}"))
    del got

    meter = Meter(pg_pid)
    summary: dict[str, int] = {}
    with anyio.move_on_after(limit) as scope:
        summary = await sync_schedules(app, scheduler, count)
    wall, cpu, db = meter.read()
    cut = " STOPPED at --max-seconds" if scope.cancelled_caught else ""
    changed = summary.get("added", 0) + summary.get("changed", 0) + summary.get("removed", 0)
    text = f"{cost(wall, cpu, db, 0)}, {changed} changed{cut}"
    rows.append(("re-sync, nothing changed", text))
    return rows


async def burst(
    settings: Settings,
    engine: AsyncEngine,
    store: Store,
    want: int,
    limit: float,
    pg_pid: int | None,
) -> tuple[str, str]:
    """Every account due at once, one scheduler: how fast the backlog is worked off."""
    store.all_due()
    ((group, roles),) = store_groups(settings, ROLES).items()
    scheduler = make_scheduler(settings, engine, group, roles)
    RUNS.clear()
    first = None
    async with scheduler:
        meter = Meter(pg_pid)
        await scheduler.start_in_background()
        deadline = time.monotonic() + limit
        while len(RUNS) < want and time.monotonic() < deadline:
            await anyio.sleep(0.02)
            if first is None and RUNS:
                first = time.monotonic() - meter.wall
        wall, cpu, db = meter.read()
        ran = len(RUNS)
        await stop_scheduler(scheduler, settings.patrol.stop_grace_seconds)
    twice = sum(c - 1 for c in Counter(RUNS).values())
    cut = f" STOPPED at --max-seconds ({ran} of {want})" if ran < want else ""
    text = (
        f"{ran} jobs in {wall:.1f} s: {per_job(ran, wall, cpu, db)}; first job after "
        f"{first if first is not None else float('nan'):.2f} s; {store.processed()} schedules "
        f"made into jobs; {twice} run twice{cut}"
    )
    return (f"all due, max_concurrent_jobs={scheduler.max_concurrent_jobs}", text)


async def two_nodes(
    url: str,
    folder: Path,
    store: Store,
    max_concurrency: int,
    want: int,
    limit: float,
    pg_pid: int | None,
) -> tuple[str, str]:
    """Every account due at once, two scheduler processes on one store (PostgreSQL)."""
    store.all_due()
    d = folder / f"nodes-{max_concurrency}"
    d.mkdir()
    nodes = ("bench-a", "bench-b")
    common = ["--url", url, "--max-concurrency", str(max_concurrency), "--max-seconds", str(limit)]
    procs = [
        subprocess.Popen([sys.executable, __file__, "--child", str(d), "--node", node, *common])
        for node in nodes
    ]
    try:
        ready = time.monotonic() + 120
        while not all((d / f"ready-{n}").exists() for n in nodes):
            if time.monotonic() > ready or any(p.poll() is not None for p in procs):
                return ("2 processes", "the scheduler processes did not start")
            await anyio.sleep(0.05)
        meter = Meter(pg_pid)
        (d / "go").touch()
        deadline = time.monotonic() + limit
        ran = 0
        while ran < want and time.monotonic() < deadline:
            await anyio.sleep(0.1)
            ran = sum(_progress(d / f"progress-{n}") for n in nodes)
        wall, _cpu, db = meter.read()
        (d / "stop").touch()
        for p in procs:
            try:
                p.wait(timeout=90)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    results = [_child_result(d, n) for n in nodes]
    if any(r is None for r in results):
        return ("2 processes", f"{ran} jobs in {wall:.1f} s; a process left no result")
    ids = Counter(i for n in nodes for i in (d / f"ids-{n}.txt").read_text().split())
    twice = sum(c - 1 for c in ids.values())
    cpu = sum(r["cpu"] for r in results if r)
    split = " + ".join(str(r["runs"]) for r in results if r)
    cut = f" STOPPED at --max-seconds ({ran} of {want})" if ran < want else ""
    text = (
        f"{ran} jobs in {wall:.1f} s ({split} at stop): {per_job(ran, wall, cpu, db)} "
        f"(CPU of both); {twice} of {sum(ids.values())} run twice{cut}"
    )
    return (f"2 processes, max_concurrent_jobs={max_concurrency + 4} each", text)


def _progress(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0


def _child_result(d: Path, node: str) -> dict | None:
    try:
        return json.loads((d / f"result-{node}.json").read_text())
    except (OSError, ValueError):
        return None


async def child(d: Path, url: str, node: str, max_concurrency: int, limit: float) -> None:
    """One of the two scheduler processes: runs jobs from "go" until "stop", then reports."""
    settings = settings_for(d / node, url, node, max_concurrency)
    engine = make_async_engine(url)
    ((group, roles),) = store_groups(settings, ROLES).items()
    scheduler = make_scheduler(settings, engine, group, roles)
    progress, tmp = d / f"progress-{node}", d / f"progress-{node}.tmp"
    try:
        async with scheduler:
            (d / f"ready-{node}").touch()
            while not (d / "go").exists():
                await anyio.sleep(0.01)
            cpu0 = time.process_time()
            await scheduler.start_in_background()
            deadline = time.monotonic() + limit + 30
            while not (d / "stop").exists() and time.monotonic() < deadline:
                tmp.write_text(str(len(RUNS)))
                tmp.replace(progress)
                await anyio.sleep(0.1)
            cpu, ran = time.process_time() - cpu0, len(RUNS)
            await stop_scheduler(scheduler, settings.patrol.stop_grace_seconds)
        (d / f"ids-{node}.txt").write_text("\n".join(RUNS))
        (d / f"result-{node}.json").write_text(json.dumps({"runs": ran, "cpu": cpu}))
    finally:
        await engine.dispose()


async def one_run(
    backend: str, n: int, args: argparse.Namespace, pg_pid: int | None
) -> list[tuple[str, str]]:
    pg = backend == "postgresql"
    folder = Path(tempfile.mkdtemp(prefix="xuncha-bench-schedulers-"))
    url = fresh_db() if pg else f"sqlite:///{folder / 'xuncha.db'}"
    engine = make_engine(url)
    aengine = make_async_engine(url)
    want = min(n, args.jobs)
    rows: list[tuple[str, str]] = [("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))]
    try:
        add_accounts(engine, n)
        settings = settings_for(folder, url, "bench-1", args.max_concurrency[0])
        app = App(settings=settings, engine=engine)
        ((group, roles),) = store_groups(settings, ROLES).items()
        scheduler = make_scheduler(settings, aengine, group, roles)
        async with scheduler:  # creates the tables; not started: nothing runs yet
            store = Store(engine, scheduler.data_store.schema, url, pg)  # type: ignore[attr-defined]
            note(f"{backend} N={n}: start-up")
            rows += await start_up(app, scheduler, store, n, args.max_seconds, pg_pid)
        n = store.schedules()  # what the later phases have, if adding was cut short
        want = min(n, args.jobs)
        for mc in args.max_concurrency:
            note(f"{backend} N={n}: all due, max_concurrency={mc}")
            s = settings_for(folder, url, "bench-1", mc)
            rows.append(await burst(s, aengine, store, want, args.max_seconds, pg_pid))
        if pg:
            for mc in args.max_concurrency:
                note(f"{backend} N={n}: 2 processes, max_concurrency={mc}")
                rows.append(await two_nodes(url, folder, store, mc, want, args.max_seconds, pg_pid))
    finally:
        await aengine.dispose()
        engine.dispose()
        if pg:
            drop_db(url)
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n== {title} ==")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    sys.stdout.flush()


async def main(args: argparse.Namespace) -> None:
    print(
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"jobs per run min(N, {args.jobs}); --max-seconds {args.max_seconds:g} per phase"
    )
    pg_pid = postmaster_pid() if args.database == "postgresql" else None
    for n in args.accounts:
        rows = await one_run(args.database, n, args, pg_pid)
        print_table(f"{args.database}, N={n}", rows)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--accounts", type=int, nargs="+", default=[1000, 20000, 150000])
    ap.add_argument("--jobs", type=int, default=20000, help="jobs run per all-due phase (cap)")
    ap.add_argument(
        "--max-concurrency",
        type=int,
        nargs="+",
        default=[8, 60],
        help="[patrol] max_concurrency values (max_concurrent_jobs = this + 4)",
    )
    ap.add_argument("--max-seconds", type=float, default=600.0, help="limit of each phase")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--node", help=argparse.SUPPRESS)
    a = ap.parse_args()
    setup_logging("warning", "console")  # as xuncha run: libraries' INFO lines are not written
    if a.child:
        anyio.run(child, a.child, a.url, a.node, a.max_concurrency[0], a.max_seconds)
    else:
        anyio.run(main, a)
