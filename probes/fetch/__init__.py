"""Fetching from the outside world: HTTP here; the browser pool lives beside it.

Readers get what they may fetch with as one :class:`Tools` argument, made by whoever owns
the clients (the daemon, a command, a test), so nothing is found through a module global and
a test sees exactly what its readers use.
"""

from __future__ import annotations

from dataclasses import dataclass

from probes.fetch.browser import BrowserPool
from probes.fetch.http import Fetcher, FetchError, HttpSettings, Response


@dataclass(frozen=True)
class Tools:
    """The clients one patrol shares: HTTP always, the browser pool when ``[browser]`` gave one.

    ``browser`` None means "no browser here": browser readers answer with an ``error``
    observation instead of launching a default Chromium nobody configured.
    """

    http: Fetcher
    browser: BrowserPool | None = None


__all__ = ["BrowserPool", "FetchError", "Fetcher", "HttpSettings", "Response", "Tools"]
