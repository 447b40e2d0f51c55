"""Cookies, one jar per platform: visitor cookies never cross from one platform to another."""

from __future__ import annotations

import asyncio
import http.cookiejar

import httpx


class PlatformJar:
    """The cookies of one platform (``""``: readers that name none).

    A platform hands out its own visitor cookies; keeping them apart means a platform's
    cookies never reach another platform's hosts, and clearing one platform's cookies after
    a "blocked" answer leaves the others' sessions alone. ``renewal`` lets one reader task
    renew the platform's cookies while the others wait and then reuse them.
    """

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.cookies = httpx.Cookies()
        self.renewal = asyncio.Lock()

    def value(self, name: str) -> str | None:
        """The value of cookie ``name`` for any domain (the first one), or None."""
        for c in self.cookies.jar:
            if c.name == name:
                return c.value
        return None

    def set(self, name: str, value: str, domain: str, path: str = "/") -> None:
        self.cookies.set(name, value, domain=domain, path=path)

    def clear(self) -> None:
        self.cookies.clear()

    def state(self) -> tuple[tuple[str, str, str], ...]:
        if self._empty():  # every hop asks (redirect loops): most jars are empty
            return ()
        return tuple(sorted((c.domain, c.name, c.value or "") for c in self.cookies.jar))

    def __len__(self) -> int:
        return 0 if self._empty() else len(self.cookies.jar)

    def _empty(self) -> bool:
        # CookieJar counts by walking every domain and path under a lock; its table of
        # domains is empty when it holds nothing (a domain emptied by expiry stays, and
        # then the walk answers)
        return not self.cookies.jar._cookies  # type: ignore[attr-defined]


class RefuseAll(http.cookiejar.DefaultCookiePolicy):
    """The shared client's own jar keeps nothing: cookies live in :class:`PlatformJar`."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


class NoJar(http.cookiejar.CookieJar):
    """The shared client's own jar: it refuses every cookie (:class:`RefuseAll`) without
    parsing them first — httpx hands it every response and every request."""

    def __init__(self) -> None:
        super().__init__(policy=RefuseAll())

    def extract_cookies(self, response: object, request: object) -> None:
        pass

    def add_cookie_header(self, request: object) -> None:
        pass
