"""Alerting as a chain of small stages (Alertmanager's model, docs/architecture.md).

In the finding's transaction: ``route`` turns finding changes into queued items, one per
channel. Then, in the dispatcher, every tick: ``timers`` adds reminders and escalations for
findings nobody acted on, ``digest`` writes the day's and week's summaries, ``compose``
groups each channel's queued items into messages within its rate budget (silences applied
here), and ``deliver`` claims and sends them, reading what the messenger answered.
Every stage is a conditional write, so several nodes can run the chain at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from monitor.alerting import compose, deliver, digest, timers
from monitor.alerting.deliver import DispatchStats
from monitor.alerting.route import enqueue
from monitor.alerting.settings import AlertingSettings
from monitor.config import Settings

__all__ = ["AlertingSettings", "DispatchStats", "dispatch_once", "enqueue"]


def utcnow() -> datetime:
    return datetime.now(UTC)


async def dispatch_once(
    engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    with_timers: bool = True,
    with_digests: bool = True,
) -> DispatchStats:
    """One pass of the chain. ``clock`` is injectable so tests can walk through an hour.
    The room's door: the stages get the slice of ``settings`` they read, built once."""
    from anyio import to_thread

    stats = DispatchStats()
    now = clock()
    a = AlertingSettings.of(settings)
    if with_timers:
        stats.reminders, stats.escalations = await to_thread.run_sync(timers.scan, engine, a, now)
    if with_digests:
        stats.digests = await to_thread.run_sync(digest.run, engine, a, now)
    await to_thread.run_sync(deliver.release_broken, engine, a, now)
    stats.composed = await to_thread.run_sync(compose.compose, engine, a, now)
    await deliver.send_due(engine, a, clock, stats)
    return stats
