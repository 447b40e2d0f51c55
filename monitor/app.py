"""The wiring every command shares: settings, database, blob store, calendar, rules.

Built once per process; the HTTP fetcher is opened separately because it lives in
an event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy.engine import Engine

from monitor.clock import Clock, system_clock
from monitor.config import Settings
from monitor.store.blobs import BlobStore
from monitor.store.blobs_db import DatabaseBlobStore
from monitor.store.engine import check_schema, make_engine
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import RuleSet, load_rulesets
from probes.fetch import Tools
from probes.fetch.browser import BrowserPool, BrowserSettings
from probes.fetch.http import Fetcher, HttpSettings


@dataclass
class App:
    settings: Settings
    engine: Engine
    extras: dict[str, Any] = field(default_factory=dict)
    #: "now" for everything this process dates (tests and the demo pass their own)
    clock: Clock = system_clock

    @classmethod
    def open(cls, settings: Settings, *, check: bool = True, clock: Clock = system_clock) -> App:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        if check:
            check_schema(engine)
        return cls(settings=settings, engine=engine, clock=clock)

    @cached_property
    def blobs(self) -> BlobStore | DatabaseBlobStore:
        """Files (a directory, shared storage for several nodes) or the database's blob table."""
        if self.settings.blobs.backend == "database":
            return DatabaseBlobStore(self.engine)
        return BlobStore(self.settings.blob_path)

    @cached_property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(extra_files=self.settings.calendar.extra_files)

    @cached_property
    def rulesets(self) -> dict[str, RuleSet]:
        return load_rulesets(self.settings.rulesets)

    def http_settings(self) -> HttpSettings:
        h = self.settings.http
        kw: dict[str, Any] = {
            "timeout_seconds": h.timeout_seconds,
            "connect_timeout_seconds": h.connect_timeout_seconds,
            "max_body_bytes": h.max_body_bytes,
            "retries": h.retries,
            "backoff_seconds": h.backoff_seconds,
            "max_connections": h.max_connections,
            "per_host": h.per_host,
            "max_redirects": h.max_redirects,
            "proxy": h.proxy or None,
            "verify_tls": h.verify_tls,
        }
        if h.user_agent:
            kw["user_agent"] = h.user_agent
        return HttpSettings(**kw)

    def browser_settings(self) -> BrowserSettings:
        b = self.settings.browser
        h = self.settings.http
        return BrowserSettings(
            executable_path=str(b.executable),
            max_pages=b.max_pages,
            recycle_after_pages=b.recycle_after_pages,
            memory_ceiling_mb=b.memory_ceiling_mb,
            page_timeout_seconds=b.page_timeout_seconds,
            proxy=h.proxy or None,
        )

    @asynccontextmanager
    async def probing(self) -> AsyncIterator[Tools]:
        """The HTTP client and the (lazily launched) browser pool a patrol shares."""
        pool = BrowserPool(self.browser_settings())
        try:
            async with Fetcher(self.http_settings()) as fetcher:
                yield Tools(http=fetcher, browser=pool)
        finally:
            await pool.close()

    def close(self) -> None:
        """Write what checks have queued (and stop a writer process), then drop connections."""
        rec = self.extras.pop("recorder", None)
        if rec is not None:
            rec.close()
        self.engine.dispose()
