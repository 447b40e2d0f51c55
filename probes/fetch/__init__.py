"""Fetching from the outside world: HTTP here; the browser pool lives beside it.

Readers get what they may fetch with as one :class:`Tools` argument, made by whoever owns
the clients (the daemon, a command, a test), so nothing is found through a module global and
a test sees exactly what its readers use.
"""

from __future__ import annotations

from dataclasses import dataclass

from probes.fetch.browser import BrowserPool
from probes.fetch.http import Fetcher, FetchError, HttpSettings, Response
from probes.fetch.session import LoginSession, SessionFetcher, SessionPool


@dataclass(frozen=True)
class Tools:
    """The clients one patrol shares: HTTP always, the browser pool when ``[browser]`` gave one.

    ``browser`` None means "no browser here": browser readers answer with an ``error``
    observation instead of launching a default Chromium nobody configured. ``session``: the
    logged-in session this check's requests to its platform carry (:meth:`signed_in`).
    """

    http: Fetcher
    browser: BrowserPool | SessionPool | None = None
    session: LoginSession | None = None

    def signed_in(self, session: LoginSession) -> Tools:
        """These tools for one check made with ``session``: the reader reads as it always does,
        and its requests to the session's platform carry the session's cookies
        (:mod:`probes.fetch.session`); the clients themselves stay shared."""
        base_pool = self.browser.pool if isinstance(self.browser, SessionPool) else self.browser
        base_http = self.http
        while isinstance(base_http, SessionFetcher):
            base_http = base_http.base
        return Tools(
            http=SessionFetcher(base_http, session),
            browser=SessionPool(base_pool, session) if base_pool is not None else None,
            session=session,
        )


__all__ = [
    "BrowserPool",
    "FetchError",
    "Fetcher",
    "HttpSettings",
    "LoginSession",
    "Response",
    "Tools",
]
