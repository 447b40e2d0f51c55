"""Figures too slow to compute for every request on a province's database: the quarter's pass
rates (the 通报's own computation, ``monitor.report``), the updates trend and the accounts
about to breach their rules (``heavy``: seconds to a minute and a half), and the overview's
counts (a fraction of a second at 20,000 accounts). ``bench/console.py`` measures them.

Each figure is kept per key (what it is, and whose scope) with the data version it was
computed from; a request whose data version is the kept one gets it at once. Otherwise:

* a heavy figure is shown as it was last computed, with its time, while a new one is
  computed in a thread of its own — at most one heavy computation at a time, and not
  sooner than ``spacing`` times the last one's duration (at least ``HEAVY_EVERY``) after it
  started. Only when there is none yet does a request wait for it (``wait_seconds``; then
  the page says it is being computed).
* the counts are recomputed whenever the data changed and waited for while they are quick
  (under ``CHEAP_SECONDS``), so a small installation always reads current figures; when
  they are not, the last ones are shown (seconds old) while new ones are counted.

So a busy patrol (a new snapshot every second) costs a bounded share of one core however
many people look at the overview, and no page waits for a report to be built.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.models import Finding, FindingEvent, Snapshot

log = structlog.get_logger("xuncha.web")
T = TypeVar("T")
CHEAP_SECONDS = 0.2  # counts this quick are recomputed, and waited for, when the data changed
HEAVY_EVERY = 60.0  # seconds: a heavy figure is not recomputed more often than this


@dataclass
class Stat(Generic[T]):
    value: T | None  # None: never computed yet (or it failed)
    at: datetime | None  # the console's clock when it was computed
    seconds: float  # what computing it took
    pending: bool  # a newer one is being computed
    error: str = ""


class _Entry:
    def __init__(self) -> None:
        self.value: Any = None
        self.has_value = False
        self.version: Hashable = None
        self.at: datetime | None = None
        self.seconds = 0.0
        self.started: float | None = None  # time.monotonic() of the last run's start
        self.running = False
        self.done = threading.Event()
        self.error = ""


class StatsCache:
    def __init__(
        self, engine: Engine, *, wait_seconds: float = 3.0, spacing: float = 10.0, workers: int = 1
    ) -> None:
        self.engine = engine
        self.wait_seconds = wait_seconds
        self.spacing = spacing
        self._entries: dict[Hashable, _Entry] = {}
        self._lock = threading.Lock()
        self._heavy = threading.Semaphore(workers)  # heavy computations at once, across keys

    def get(
        self,
        key: Hashable,
        version: Hashable,
        now: datetime,
        compute: Callable[[Session], T],
        *,
        heavy: bool = False,
    ) -> Stat[T]:
        with self._lock:
            e = self._entries.setdefault(key, _Entry())
            current = e.has_value and e.version == version
            if not current and not e.running and self._may_start(e, heavy):
                e.running, e.started, e.done = True, time.monotonic(), threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(key, e, version, now, compute, heavy),
                    name="xuncha-stats", daemon=True,  # never holds up a stopping server
                )  # fmt: skip
                thread.start()
            done, running = e.done, e.running
            wait = not e.has_value or (not heavy and e.seconds < CHEAP_SECONDS)
        if not current and running and wait:
            done.wait(self.wait_seconds)
        with self._lock:
            return Stat(e.value if e.has_value else None, e.at, e.seconds, e.running, e.error)

    def _may_start(self, e: _Entry, heavy: bool) -> bool:
        if e.started is None:
            return True  # (a figure that failed is tried again like a stale one)
        since = time.monotonic() - e.started
        if heavy:
            return since >= max(self.spacing * e.seconds, HEAVY_EVERY)
        return e.seconds < CHEAP_SECONDS or since >= self.spacing * e.seconds

    def _run(
        self,
        key: Hashable,
        e: _Entry,
        version: Hashable,
        now: datetime,
        compute: Callable[..., Any],
        heavy: bool,
    ) -> None:
        error, value, ok = "", None, False
        started = time.perf_counter()
        try:
            with self._heavy if heavy else nullcontext(), Session(self.engine) as session:
                started = time.perf_counter()  # not counting the wait for the heavy slot
                value, ok = compute(session), True
        except Exception as exc:  # a figure that fails leaves the page working
            error = f"{type(exc).__name__}: {exc}"
            log.exception("console_stat_failed", key=str(key))
        seconds = time.perf_counter() - started
        with self._lock:
            if ok:
                e.value, e.has_value, e.version, e.at = value, True, version, now
            e.error, e.seconds, e.running = error, seconds, False
            e.done.set()


def data_version(session: Session, now: datetime) -> tuple[Any, ...]:
    """Changes whenever a check, a finding or its events are written (three primary-key
    maxima: index lookups), and every minute (due times move with the clock)."""
    row = session.exec(
        select(
            select(sa.func.max(col(Snapshot.id))).scalar_subquery(),
            select(sa.func.max(col(Finding.id))).scalar_subquery(),
            select(sa.func.max(col(FindingEvent.id))).scalar_subquery(),
        )
    ).one()
    return (*row, now.replace(second=0, microsecond=0))
