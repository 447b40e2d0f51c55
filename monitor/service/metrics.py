"""Prometheus metrics: what ops graph and alert on, served by prometheus-client.

Counters that happen in this process (probes, durations, loop lag, browser pool)
are updated where they happen; figures that live in the database (open findings,
outbox depth, delivery failures) are read at scrape time, so they are right even
when several nodes share the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.models import AlertItem, ChannelState, Delivery, Finding, Notification
from probes.fetch.browser import BrowserPool

log = structlog.get_logger("xuncha.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)

PROBES = Counter(
    "xuncha_probes", "Probes run, by platform and outcome", ["platform", "outcome"],
    registry=REGISTRY,
)  # fmt: skip
PROBE_SECONDS = Histogram(
    "xuncha_probe_duration_seconds", "Time one probe took, end to end", ["platform"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 180, 300), registry=REGISTRY,
)  # fmt: skip
SCHEDULER_LAG = Histogram(
    "xuncha_scheduler_lag_seconds",
    "How late scheduled jobs started against their fire time (a backlog grows this)",
    ["task"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
    registry=REGISTRY,
)
LOOP_LAG = Gauge(
    "xuncha_event_loop_lag_seconds",
    "How late the scheduler's event loop woke up on its last tick (a stuck loop grows this)",
    registry=REGISTRY,
)
BROWSER_IN_USE = Gauge(
    "xuncha_browser_pages_in_use", "Browser pages in use (set by the browser pool)",
    registry=REGISTRY,
)  # fmt: skip
BROWSER_LIMIT = Gauge(
    "xuncha_browser_pages_limit", "Size of the browser page pool", registry=REGISTRY
)
HTTP_LIMIT = Gauge(
    "xuncha_http_limit",
    "The HTTP client's limits in force ([http]; a reload replaces them)",
    ["limit"],
    registry=REGISTRY,
)
WRITER_KIND = Gauge(
    "xuncha_writer_kind",
    "How checks' records are written: 1 for the kind in use (process or thread)",
    ["kind"],
    registry=REGISTRY,
)
WRITER_STARTS = Counter(
    "xuncha_writer_process_starts",
    "Writer processes started; more than one means one died or hung and was replaced",
    registry=REGISTRY,
)
CHECKS_AWAITING_WRITE = Gauge(
    "xuncha_checks_awaiting_write",
    "Checks whose record waits to be committed (a slow database or disk grows this)",
    registry=REGISTRY,
)
SELFWATCH_PROBLEMS = Gauge(
    "xuncha_selfwatch_problem", "1 while a self-watch check is failing", ["check"],
    registry=REGISTRY,
)  # fmt: skip

# the evidence pictures (monitor.service.screenshots): their count, cost and bytes on this node
SCREENSHOTS = Counter(
    "xuncha_screenshots", "Pictures of stored pages attempted, by outcome (drawn, failed)",
    ["outcome"], registry=REGISTRY,
)  # fmt: skip
SCREENSHOT_CPU = Counter(
    "xuncha_screenshot_cpu_seconds",
    "CPU the pictures took: this process's thread and the browser's processes while drawing",
    registry=REGISTRY,
)
SCREENSHOT_BYTES = Counter(
    "xuncha_screenshot_bytes", "Bytes of the pictures drawn (before the blob store's own)",
    registry=REGISTRY,
)  # fmt: skip


def observe_screenshot(drawn: bool, cpu_seconds: float, size: int) -> None:
    """One picture attempted: what the job and ``--screenshot`` cost, for /metrics."""
    SCREENSHOTS.labels(outcome="drawn" if drawn else "failed").inc()
    SCREENSHOT_CPU.inc(max(0.0, cpu_seconds))
    SCREENSHOT_BYTES.inc(size)


def note_job_lag(task: str) -> None:
    """Call at the start of a scheduled job: how late it started against its fire time."""
    from datetime import UTC, datetime

    from apscheduler import current_job

    job = current_job.get(None)
    if job is not None and job.scheduled_fire_time is not None:
        lag = (datetime.now(UTC) - job.scheduled_fire_time).total_seconds()
        SCHEDULER_LAG.labels(task=task).observe(max(0.0, lag))


def track_recorder(recorder: Any) -> None:
    """Read the recorder's backlog at scrape time."""
    CHECKS_AWAITING_WRITE.set_function(lambda: float(recorder.waiting))


# the children of the per-check figures, by their labels: ``labels()`` validates and looks
# them up under a lock on every call, a cost paid on each check for the same few pairs
_probe_children: dict[tuple[str, str], tuple[Any, Any]] = {}


def observe_probe(platform: str, outcome: str, seconds: float) -> None:
    children = _probe_children.get((platform, outcome))
    if children is None:
        children = (
            PROBES.labels(platform=platform, outcome=outcome),
            PROBE_SECONDS.labels(platform=platform),
        )
        _probe_children[(platform, outcome)] = children
    children[0].inc()
    children[1].observe(seconds)


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        findings = GaugeMetricFamily(
            "xuncha_open_findings",
            "Open findings, by kind and severity",
            labels=["kind", "severity"],
        )
        outbox = GaugeMetricFamily(
            "xuncha_outbox_messages", "Outbox messages, by status", labels=["status"]
        )
        failures = CounterMetricFamily(
            "xuncha_delivery_failures", "Delivery attempts that failed (all nodes)"
        )
        up = GaugeMetricFamily("xuncha_database_up", "1 if the database answered this scrape")
        waiting = GaugeMetricFamily(
            "xuncha_alert_items_waiting", "Finding changes waiting to be grouped into a message"
        )
        broken = GaugeMetricFamily(
            "xuncha_channels_broken", "Channels refusing our messages (their messages are held)"
        )
        try:
            with Session(self.engine) as s:
                rows: list[Any] = s.exec(
                    select(Finding.kind, Finding.severity, func.count())
                    .where(col(Finding.status) == "open")
                    .group_by(Finding.kind, Finding.severity)
                ).all()
                for kind, severity, n in rows:
                    findings.add_metric([kind, severity], n)
                by_status = dict(
                    s.exec(
                        select(Notification.status, func.count()).group_by(Notification.status)
                    ).all()
                )
                for status in ("pending", "sending", "sent", "dead", "held"):
                    outbox.add_metric([status], by_status.get(status, 0))
                waiting.add_metric(
                    [],
                    s.exec(
                        select(func.count())
                        .select_from(AlertItem)
                        .where(col(AlertItem.status) == "queued")
                    ).one(),
                )
                broken.add_metric(
                    [],
                    s.exec(
                        select(func.count())
                        .select_from(ChannelState)
                        .where(col(ChannelState.broken_since).is_not(None))
                    ).one(),
                )
                failed = s.exec(
                    select(func.count()).select_from(Delivery).where(col(Delivery.ok).is_(False))
                ).one()
                failures.add_metric([], failed)
            up.add_metric([], 1)
        except Exception as e:  # a scrape must not fail because the database did
            log.warning("metrics_database_failed", error=str(e))
            up.add_metric([], 0)
            yield up
            return
        yield from (findings, outbox, waiting, broken, failures, up)


# the process's, as the registry is (docs/architecture.md: a documented exception)
_db_collector: DatabaseCollector | None = None


def bind_database(engine: Engine) -> None:
    """Point the scrape-time figures at this engine (replacing any earlier one)."""
    global _db_collector
    if _db_collector is not None:
        REGISTRY.unregister(_db_collector)
    _db_collector = DatabaseCollector(engine)
    REGISTRY.register(_db_collector)


def serve(address: str, port: int) -> Any:
    """Start the HTTP endpoint in a thread; returns the server so it can be shut down."""
    server, _thread = start_http_server(port, addr=address, registry=REGISTRY)
    log.info("metrics_serving", address=address, port=server.server_port)
    return server


def track_tools(current: Callable[[], Any]) -> None:
    """The limits of the tools in use (``App.tools``), read at scrape time."""

    def limit(name: str) -> Callable[[], float]:
        def read() -> float:
            tools = current()
            return float(getattr(tools.http.settings, name)) if tools is not None else 0.0

        return read

    for name in ("max_connections", "per_host"):
        HTTP_LIMIT.labels(limit=name).set_function(limit(name))
    track_browser_pool(lambda: current().browser if current() is not None else None)


def track_writer(kind: Callable[[], str]) -> None:
    for k in ("process", "thread"):
        WRITER_KIND.labels(kind=k).set_function(lambda k=k: float(kind() == k))


def track_browser_pool(current: Callable[[], BrowserPool | None]) -> None:
    """Read the browser pool's use at scrape time instead of asking the pool to report it.

    ``current`` gives the pool in use now (the daemon's: a reload may replace it); there is
    no process-wide pool to look up. None (no browser) reads as 0 of 0 pages.
    """

    def in_use() -> float:
        pool = current()
        return float(pool.pages_in_use) if pool is not None else 0.0

    def limit() -> float:
        pool = current()
        return float(pool.settings.max_pages) if pool is not None else 0.0

    BROWSER_IN_USE.set_function(in_use)
    BROWSER_LIMIT.set_function(limit)
