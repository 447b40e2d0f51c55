"""Fetching from the outside world: HTTP here; the browser pool lives beside it."""

from probes.fetch.http import Fetcher, FetchError, HttpSettings, Response

__all__ = ["FetchError", "Fetcher", "HttpSettings", "Response"]
