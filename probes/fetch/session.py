"""A logged-in session as one check carries it: its cookies, for HTTP and for the browser.

An operator gives xuncha a platform's login (``xuncha sessions add``, or the console's 扫码登录);
``monitor.sessions`` keeps it encrypted and picks one for a check. The reader never knows:
:meth:`probes.fetch.Tools.signed_in` hands it a fetcher whose jar for that platform holds the
session's cookies (a fresh copy per check, so a reader that clears its platform's jar to renew
visitor cookies cannot wipe the stored login) and a browser pool whose pages for that
platform open in a context of the session's own, made with its cookies (kept for the
browser's life, so cookies the platform refreshes stay in use like a real visitor's).

Cookies are stored for the platform's real hosts. When ``[platforms.<p>] origins`` puts a
mirror, a proxy or a local stand-in in place of a host, each cookie of that host is also
given to the stand-in's host (:func:`rehome`): the stand-in answers for the host, so it gets
what the host would have been sent.
"""

from __future__ import annotations

import http.cookiejar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from probes.fetch.cookies import PlatformJar
from probes.fetch.http import Fetcher

if TYPE_CHECKING:
    from probes.fetch.browser import BrowserPool, PageResult


@dataclass(frozen=True)
class Cookie:
    """One cookie as a browser keeps it (the fields every export format carries)."""

    name: str
    value: str
    domain: str  # ".xiaohongshu.com" (the host and its subdomains) or a host ("127.0.0.1")
    path: str = "/"
    expires: float | None = None  # Unix seconds; None: ends with the browser session
    secure: bool = False
    http_only: bool = False
    # sent to exactly ``domain`` (no subdomains): a cookie set without a Domain attribute
    host_only: bool = False
    same_site: str = ""  # "Lax", "Strict", "None" or "" (not said)

    @property
    def host(self) -> str:
        return self.domain.lstrip(".").lower()

    def matches(self, host: str) -> bool:
        """Whether a request to ``host`` would carry this cookie."""
        host = host.lower()
        return host == self.host or (not self.host_only and host.endswith("." + self.host))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path,
            "expires": self.expires,
            "secure": self.secure,
            "http_only": self.http_only,
            "host_only": self.host_only,
            "same_site": self.same_site,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cookie:
        exp = d.get("expires")
        return cls(
            name=str(d["name"]),
            value=str(d["value"]),
            domain=str(d["domain"]),
            path=str(d.get("path") or "/"),
            expires=float(exp) if exp is not None else None,
            secure=bool(d.get("secure")),
            http_only=bool(d.get("http_only")),
            host_only=bool(d.get("host_only")),
            same_site=str(d.get("same_site") or ""),
        )


@dataclass(frozen=True)
class LoginSession:
    """A platform session for one check: which one (for the log and the bookkeeping) and the
    cookies its requests carry."""

    id: int
    platform: str
    label: str
    cookies: tuple[Cookie, ...] = field(default_factory=tuple)

    @property
    def context(self) -> str:
        """The browser context its pages open in (one per session, beside the visitors')."""
        return f"{self.platform}@session-{self.id}"

    def jar(self) -> PlatformJar:
        """A fresh jar of the session's cookies for this platform's HTTP requests."""
        jar = PlatformJar(self.platform)
        for c in self.cookies:
            jar.cookies.jar.set_cookie(_jar_cookie(c))
        return jar

    def browser_cookies(self) -> list[dict[str, Any]]:
        """The cookies as playwright's ``BrowserContext.add_cookies`` takes them."""
        out: list[dict[str, Any]] = []
        for c in self.cookies:
            d: dict[str, Any] = {"name": c.name, "value": c.value}
            if c.host_only:  # playwright: a url makes a host-only cookie
                scheme = "https" if c.secure else "http"
                d["url"] = f"{scheme}://{c.host}{c.path if c.path.startswith('/') else '/'}"
            else:
                d.update(domain=c.domain if c.domain.startswith(".") else "." + c.domain)
                d["path"] = c.path or "/"
            if c.expires is not None and c.expires > 0:
                d["expires"] = c.expires
            d["secure"] = c.secure
            d["httpOnly"] = c.http_only
            if c.same_site in ("Lax", "Strict", "None"):
                d["sameSite"] = c.same_site
            out.append(d)
        return out


def rehome(
    cookies: Sequence[Cookie], hosts: Mapping[str, str], *, keep_secure: bool = False
) -> tuple[Cookie, ...]:
    """``cookies`` plus, for each real host → stand-in base URL in ``hosts`` whose host differs,
    a host-only copy of every cookie the real host would be sent, for the stand-in's host (not
    ``secure`` when the stand-in speaks plain http)."""
    out = list(cookies)
    seen = {(c.domain, c.path, c.name) for c in cookies}
    for real, base in hosts.items():
        parts = urlsplit(base)
        stand_in = (parts.hostname or "").lower()
        if not stand_in or stand_in == real.lower():
            continue
        secure_ok = keep_secure or parts.scheme == "https"
        for c in cookies:
            if not c.matches(real):
                continue
            copy = replace(
                c, domain=stand_in, host_only=True, secure=c.secure and secure_ok, same_site=""
            )
            key = (copy.domain, copy.path, copy.name)
            if key not in seen:
                seen.add(key)
                out.append(copy)
    return tuple(out)


def _jar_cookie(c: Cookie) -> http.cookiejar.Cookie:
    host_only = c.host_only or not c.domain.startswith(".")
    domain = c.host if host_only else "." + c.host
    return http.cookiejar.Cookie(
        version=0,
        name=c.name,
        value=c.value,
        port=None,
        port_specified=False,
        domain=domain,
        domain_specified=not host_only,
        domain_initial_dot=not host_only,
        path=c.path or "/",
        path_specified=True,
        secure=c.secure,
        expires=int(c.expires) if c.expires else None,
        discard=c.expires is None,
        comment=None,
        comment_url=None,
        rest={"HttpOnly": ""} if c.http_only else {},
    )


class SessionPool:
    """The browser pool as one check signed in with ``session`` sees it: the session
    platform's pages open in the session's context (made with its cookies); every other
    platform's, and everything else the pool does, as the shared pool does it."""

    def __init__(self, pool: BrowserPool, session: LoginSession) -> None:
        self.pool = pool
        self.session = session

    async def visit(self, platform: str, url: str, **kw: Any) -> PageResult:
        if platform != self.session.platform:
            return await self.pool.visit(platform, url, **kw)
        return await self.pool.visit(
            platform,
            url,
            context=self.session.context,
            cookies=self.session.browser_cookies(),
            **kw,
        )

    async def call(self, platform: str, origin: str, urls: Any, **kw: Any) -> PageResult | None:
        if platform != self.session.platform:
            return await self.pool.call(platform, origin, urls, **kw)
        # the session's context is made (with its cookies) by the visit that opened the page
        return await self.pool.call(platform, origin, urls, context=self.session.context, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


class SessionFetcher(Fetcher):
    """The shared fetcher as one check signed in with ``session`` sees it: the same clients,
    limits and other platforms' jars (shared, not copied), and for the session's platform a
    jar of the session's cookies, fresh for this check."""

    def __init__(self, base: Fetcher, session: LoginSession) -> None:
        self.__dict__.update(base.__dict__)  # the same objects: pools, semaphores, jars
        self.base = base
        self.session = session
        self._session_jar = session.jar()

    def jar(self, platform: str = "") -> PlatformJar:
        if platform == self.session.platform:
            return self._session_jar
        return super().jar(platform)
