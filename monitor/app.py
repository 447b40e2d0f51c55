"""The wiring: what one process shares, built once from ``Settings``, every part typed.

A command opens an :class:`App` (``App.open``) and everything it uses hangs off it: the
database engine and the clock; the evidence store, working calendar and rule sets (built on
first use); the recorder that writes checks' records (a thread, or under ``xuncha run`` a
writer process) and the account loader; and, while a patrol runs (:meth:`App.probing`),
the HTTP client and browser pool readers get as :class:`~probes.fetch.Tools`. No module
keeps any of it in a global. :meth:`App.reload` is SIGHUP: it keeps the writer, rebuilds
what depends on changed settings and says what it did.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import structlog

from monitor.clock import Clock, system_clock
from monitor.config import Settings
from monitor.store.engine import check_schema, make_engine

# The rest is imported where it is first used: a command that only reads the database (the
# CLI's listings) must not pay for the judge, the writer, the HTTP client and the browser.
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor.record.recorder import Recorder
    from monitor.sessions.rotation import Rotation
    from monitor.store.blobs import BlobStore
    from monitor.store.blobs_db import DatabaseBlobStore
    from monitor.store.loader import AccountLoader
    from probes.checks.calendar import WorkCalendar
    from probes.checks.lists import Lists
    from probes.checks.rules import RuleSet
    from probes.fetch import Tools
    from probes.fetch.browser import BrowserPool, BrowserSettings
    from probes.fetch.http import Fetcher, HttpSettings

log = structlog.get_logger("xuncha.app")

# what a change in each section of the settings rebuilds on SIGHUP
_REBUILT = {
    "http": "HTTP client",
    "browser": "browser pool",
    "rulesets": "rule sets",
    "calendar": "working calendar",
    "content": "word lists",
    "blobs": "evidence store",
    "channels": "channels",
    "alerts": "alert routing",
    "platforms": "platform intervals and origins",
    "patrol": "patrol intervals",
}
# what only a restart changes
_RESTART = ("database", "node_name", "metrics", "web", "cluster", "data_dir")


@dataclass(frozen=True)
class Retired:
    """Tools a reload replaced: closed once no running probe can use them any more."""

    http: Fetcher | None = None
    browser: BrowserPool | None = None

    async def close(self) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.http is not None:
            await self.http.__aexit__(None, None, None)


@dataclass(frozen=True)
class Reloaded:
    """What :meth:`App.reload` changed, what it could not, and the tools it retired (kept
    in the app until :meth:`App.close_retired`)."""

    changed: list[str]
    needs_restart: list[str]
    retired: Retired | None = None


@dataclass(eq=False)
class App:
    settings: Settings
    engine: Engine
    #: "now" for everything this process dates (tests and the demo pass their own)
    clock: Clock = system_clock
    #: ``xuncha run``: records go to a writer process under ``[patrol] writer = "auto"``
    daemon: bool = False
    #: while :meth:`probing` runs: what readers get (the HTTP client and the browser pool)
    tools: Tools | None = None
    _recorder: Recorder | None = field(default=None, repr=False)
    _recorder_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # one loader per event loop (tests and commands run several loops in one process)
    _loaders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AccountLoader] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _probing: AsyncExitStack | None = field(default=None, repr=False)
    _retired: list[Retired] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        check: bool = True,
        clock: Clock = system_clock,
        daemon: bool = False,
    ) -> App:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        if check:
            check_schema(engine)
        return cls(settings=settings, engine=engine, clock=clock, daemon=daemon)

    @classmethod
    def for_writer(cls, settings: Settings) -> App:
        """The writer process's own wiring: the same settings, its own engine."""
        return cls.open(settings, check=False)

    # -- built on first use -----------------------------------------------------------------

    @cached_property
    def blobs(self) -> BlobStore | DatabaseBlobStore:
        """Files (a directory, shared storage for several nodes) or the database's blob table."""
        from monitor.store.blobs import BlobStore
        from monitor.store.blobs_db import DatabaseBlobStore

        if self.settings.blobs.backend == "database":
            return DatabaseBlobStore(self.engine)
        return BlobStore(self.settings.blob_path)

    @cached_property
    def calendar(self) -> WorkCalendar:
        from probes.checks.calendar import WorkCalendar

        return WorkCalendar(extra_files=self.settings.calendar.extra_files)

    @cached_property
    def rulesets(self) -> dict[str, RuleSet]:
        from probes.checks.rules import load_rulesets

        return load_rulesets(self.settings.rulesets)

    @cached_property
    def word_lists(self) -> Lists:
        """The detectors' word lists, rosters and domain lists: the shipped ones with the
        user's own (``[content] lists_dir``) laid over them; read again on reload. A user's
        file with mistakes does not stop the patrol: its problems are logged."""
        from probes.checks.lists import load_lists

        lists = load_lists(self.settings.lists_path, self.settings.content.disable)
        for problem in lists.problems:
            log.warning("lists_problem", problem=problem)
        return lists

    @cached_property
    def judged_with(self) -> str:
        """The judging configuration's fingerprint: a page judged under another one is read
        again in full, even when it did not change (``monitor.record.judge``)."""
        from monitor.record.judge import judging_fingerprint

        return judging_fingerprint(self.settings)

    @cached_property
    def sessions(self) -> Rotation:
        """Which logged-in platform session a check uses (``monitor.sessions``)."""
        from monitor.sessions.rotation import Rotation

        return Rotation(self.engine, lambda: self.settings, self.clock)

    @property
    def recorder(self) -> Recorder:
        """Where checks' records go (one per app: its checks share batches).

        ``[patrol] writer``: "process" writes them in a process of its own, "thread" in the
        recorder's thread; "auto" picks the process for ``xuncha run`` only.
        """
        from monitor.record.recorder import Recorder, ThreadWriter, Writer
        from monitor.record.writer import ProcessWriter

        with self._recorder_lock:
            if self._recorder is None:
                mode = self.settings.patrol.writer
                writer: Writer
                if mode == "process" or (mode == "auto" and self.daemon):
                    writer = ProcessWriter(self.settings, App.for_writer)
                else:
                    writer = ThreadWriter(self)
                self._recorder = Recorder(writer)
            return self._recorder

    @property
    def writer_kind(self) -> str:
        """ "process" or "thread": how this app's records are written (metrics, tests)."""
        from monitor.record.writer import ProcessWriter

        if self._recorder is None:
            return "none"
        return "process" if isinstance(self._recorder.writer, ProcessWriter) else "thread"

    def loader(self) -> AccountLoader:
        """The account loader of the running event loop."""
        from monitor.store.loader import AccountLoader

        loop = asyncio.get_running_loop()
        loader = self._loaders.get(loop)
        if loader is None:
            loader = self._loaders[loop] = AccountLoader(self.engine)
        return loader

    # -- the tools a patrol shares ----------------------------------------------------------

    def http_settings(self) -> HttpSettings:
        from probes.fetch.http import HttpSettings

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
        from probes.fetch.browser import BrowserSettings

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

    async def _open_http(self) -> Fetcher:
        from probes.fetch.http import Fetcher

        assert self._probing is not None
        return await self._probing.enter_async_context(Fetcher(self.http_settings()))

    @asynccontextmanager
    async def probing(self) -> AsyncIterator[Tools]:
        """The HTTP client and the (lazily launched) browser pool a patrol shares, as
        ``self.tools`` for its duration (a reload may replace them: read ``self.tools``)."""
        from probes.fetch import Tools
        from probes.fetch.browser import BrowserPool

        async with AsyncExitStack() as stack:
            self._probing = stack
            pool = BrowserPool(self.browser_settings())
            stack.push_async_callback(pool.close)
            self.tools = Tools(http=await self._open_http(), browser=pool)
            try:
                yield self.tools
            finally:
                if self.tools.browser is not pool and self.tools.browser is not None:
                    await self.tools.browser.close()  # a reload's pool
                await self.close_retired()
                self.tools, self._probing = None, None

    async def close_retired(self) -> None:
        """Close the tools reloads replaced (call once no probe started before can run)."""
        retired, self._retired = self._retired, []
        for r in retired:
            await r.close()

    # -- SIGHUP -----------------------------------------------------------------------------

    async def reload(self, new: Settings) -> Reloaded:
        """Follow ``new`` settings without a restart: keep the database, the writer process
        and its pipe; rebuild what depends on a changed section; say what needs a restart.

        Checks already running finish with the tools they started with: those are returned
        in ``retired`` for the caller to close once no probe can use them any more.
        """
        from probes.fetch import Tools
        from probes.fetch.browser import BrowserPool

        old = self.settings
        changed = [k for k in _REBUILT if _section(old, k) != _section(new, k)]
        restart = [k for k in _RESTART if _section(old, k) != _section(new, k)]
        if "database" in restart:
            new.database = old.database  # the engine stays: the new URL waits for a restart
        self.settings = new
        for name, section in (("rulesets", "rulesets"), ("calendar", "calendar")):
            if section in changed:
                self.__dict__.pop(name, None)
        if "blobs" in changed:
            self.__dict__.pop("blobs", None)
        self.__dict__.pop("judged_with", None)  # rules, calendar or lexicons may have moved
        self.__dict__.pop("word_lists", None)  # a user's list may have been edited
        # the new rule sets and calendar must load before anything uses them
        self.rulesets  # noqa: B018
        self.calendar  # noqa: B018
        if self._recorder is not None:
            self._recorder.reload(new)
        retired = None
        if self.tools is not None and ("http" in changed or "browser" in changed):
            current = self.tools
            http = current.http
            if "http" in changed:
                http = await self._open_http()
                http.adopt_cookies(current.http)  # visitors a platform let in stay in
            browser = current.browser
            if "browser" in changed or old.http.proxy != new.http.proxy:
                browser = BrowserPool(self.browser_settings())
            self.tools = Tools(http=http, browser=browser)
            retired = Retired(
                http=current.http if http is not current.http else None,
                browser=current.browser if browser is not current.browser else None,
            )
            self._retired.append(retired)
        log.info("reloaded", changed=changed, needs_restart=restart)
        return Reloaded(changed, restart, retired)

    def close(self) -> None:
        """Write what checks have queued (and stop a writer process), then drop connections."""
        with self._recorder_lock:
            rec, self._recorder = self._recorder, None
        if rec is not None:
            rec.close()
        self.engine.dispose()


def _section(settings: Settings, name: str) -> Any:
    value = getattr(settings, name)
    return value.model_dump() if hasattr(value, "model_dump") else value
