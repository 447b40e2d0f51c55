"""What ``xuncha run`` does on time: the tasks APScheduler calls, and what they share.

APScheduler stores a task by reference to a function at module level, so the tasks reach
the running patrol through :func:`runtime` — the one process-wide slot, installed by
:mod:`monitor.patrol.daemon` for as long as ``xuncha run`` runs. Role jobs (dispatch,
reminders and digests, self-watch, retention) run once at a time across nodes through
:func:`run_exclusive` (role jobs declare no cap of their own: see the @task notes). The
checks themselves are not APScheduler jobs: :mod:`monitor.patrol.runner` claims due
accounts in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import structlog
from apscheduler import AsyncScheduler, task
from apscheduler.abc import Trigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.alerting import digest as alerting_digest
from monitor.alerting import dispatch_once
from monitor.alerting import timers as alerting_timers
from monitor.app import App
from monitor.config import Settings
from monitor.patrol.claims import Claims
from monitor.patrol.cluster import ROLES, NodeLocks
from monitor.service import metrics, retention, screenshots, selfwatch
from probes.fetch.browser import BrowserError

log = structlog.get_logger("xuncha.run")


@dataclass
class Runtime:
    """What scheduled tasks need; APScheduler calls plain functions, so it is module state."""

    app: App
    schedulers: dict[str, AsyncScheduler]  # role → its scheduler (one on SQLite)
    limiter: anyio.CapacityLimiter
    config_path: Path | None
    locks: NodeLocks
    roles: tuple[str, ...] = ROLES
    claims: Claims | None = None  # the probe role's: due accounts, claimed in batches
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


def installed() -> Runtime | None:
    return _runtime


def install(rt: Runtime | None) -> None:
    """Make ``rt`` what the tasks of this process use (None when the patrol stops)."""
    global _runtime
    _runtime = rt


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


async def screenshots_tick() -> None:
    """Pictures of the pages checks stored, drawn offline with this node's browser pool."""
    app = runtime().app
    tools = app.tools
    if tools is None or tools.browser is None:
        return
    try:
        await screenshots.render_due(
            app.engine, app.settings, app.blobs, tools.browser, app.clock()
        )
    except BrowserError as e:  # no browser here now: the pages wait for the next run
        log.warning("screenshots_browser_unavailable", error=e.message)


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


# add_schedule() resets a task to what its function declares (APScheduler's default: one
# running job at a time across ALL nodes): declared here, or every role job in the cluster
# would wait for the one running
@task(max_running_jobs=None)
async def sync_registry() -> None:
    """Accounts added to the registry get their due time (the patrol claims them then)."""
    rt = runtime()
    if rt.claims is None:
        return
    made = await anyio.to_thread.run_sync(rt.claims.ensure_states, rt.app.settings, rt.app.clock())
    rt.accounts = await anyio.to_thread.run_sync(rt.claims.count)
    if made:
        log.info("registry_synced", new_accounts=made, accounts=rt.accounts)


@task(max_running_jobs=None)
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
    """The ``probe`` role's housekeeping (self-watch looks at the browser these nodes run,
    and the pictures of stored pages are drawn with it)."""
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
    if settings.screenshots.enabled:  # these nodes have the browser pool
        every = IntervalTrigger(seconds=settings.screenshots.interval_seconds)
        jobs.append(RoleJob(screenshots_tick, every, "evidence:screenshots"))
    return jobs


ROLE_JOBS = {"probe": probe_jobs, "alerts": alerts_jobs}

REGISTRY_SYNC = "registry:sync"
