"""What a platform is, declared once beside its reader: every other part reads this.

A platform module (``probes/platforms/<code>.py``) declares its :class:`PlatformSpec` with
:func:`declare` next to its reader: the code the registry and config use, the Chinese name
people read, the spellings a registry sheet may use, its default patrol interval, the hosts
it contacts (each replaceable in ``[platforms.<code>] origins``), whether it needs a
logged-in session and which readers read it. The registry columns, the messages, the config
defaults and the console all read :data:`PLATFORMS` — adding a platform is one module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import import_module
from types import MappingProxyType
from typing import Any


class SessionNeed(StrEnum):
    """Whether the platform shows an anonymous visitor enough to judge an account."""

    none = "none"  # public answers suffice (RSS, web pages, Weibo's visitor cookies)
    # anonymous visitors often see little or nothing: a logged-in session is used when one is
    # given (xuncha sessions), and the platform is read without one otherwise
    helps = "helps"
    required = "required"  # a login wall for every anonymous visitor (Xiaohongshu since 2025)


@dataclass(frozen=True)
class Login:
    """How an operator logs in to the platform for a session (``monitor.sessions``).

    From a maintained open-source reader that logs in to these platforms,
    NanmiCoder/MediaCrawler, ``media_platform/<p>/login.py`` (2025): the QR image selectors
    of ``login_by_qrcode``, the login button clicked when no dialog pops up, and the cookie
    each ``check_login_state`` waits for. A platform without a source shows its login page
    whole (no ``qr_selector``).
    """

    domains: tuple[str, ...]  # registrable domains whose cookies are the platform's
    login_cookies: tuple[str, ...]  # the login itself: their earliest expiry is the session's
    # cookies that appear (or change from the visitor's value) when a QR scan logged in
    signed_in_marks: tuple[str, ...]
    login_url: str  # where 扫码登录 starts: origin key "login" replaces its scheme and host
    qr_selector: str = ""  # the QR image; "" = show the page
    login_button: str = ""  # clicked when the QR does not show by itself
    pace_seconds: float | None = None  # default seconds between two uses (None: [sessions])


@dataclass(frozen=True)
class PlatformSpec:
    code: str  # registry and config key: "weibo", "douyin", …
    name: str  # what people read: "微博"
    aliases: tuple[str, ...] = ()  # other spellings a registry sheet may use ("新浪微博")
    # default minutes between checks ([platforms.<code>] interval_minutes overrides); None:
    # [patrol] default_interval_minutes
    interval_minutes: int | None = None
    # the reader's origin keys and the real hosts they default to ("m": "https://m.weibo.cn")
    origins: Mapping[str, str] = field(default_factory=dict)
    session: SessionNeed = SessionNeed.none
    login: Login | None = None  # how a session is made (None: sessions are not offered)
    # the readers that read accounts of this platform, the first being its own default
    readers: tuple[str, ...] = ()
    browser: bool = False  # its reader drives the browser pool ([browser])
    # read over plain HTTP first (its public answers allow it: an embedded state, a public
    # signature); the browser only when that answer is not shown to us (probes.platforms.
    # plain_first). False: the browser reader alone
    http_first: bool = False
    # where it stands in lists people read (registry messages, filters): the order the
    # national and provincial lists name platforms in
    rank: int = 100

    @property
    def reader(self) -> str | None:
        """The platform's own reader (an account on it with no reader named gets this)."""
        return self.readers[0] if self.readers else None


_PLATFORMS: dict[str, PlatformSpec] = {}
#: every declared platform by code, by rank (read-only)
PLATFORMS: Mapping[str, PlatformSpec] = MappingProxyType(_PLATFORMS)


def declare(spec: PlatformSpec) -> PlatformSpec:
    """Add ``spec`` to :data:`PLATFORMS`; declaring one code twice is a programming error."""
    old = _PLATFORMS.get(spec.code)
    if old is not None and old != spec:
        raise ValueError(f"platform {spec.code!r} is already declared")
    _PLATFORMS[spec.code] = spec
    ordered = sorted(_PLATFORMS.values(), key=lambda p: p.rank)  # stable: ties keep their order
    _PLATFORMS.clear()
    _PLATFORMS.update((p.code, p) for p in ordered)
    return spec


def reader_attributes(package: str) -> Callable[[str], Any]:
    """A platform package's module ``__getattr__``: the names of its ``reader`` module,
    loaded on first use (PEP 562), so ``import probes.platforms.<code>`` stays cheap — the
    declaration alone — while ``probes.platforms.<code>.read_x`` still works."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(import_module(f"{package}.reader"), name)

    return __getattr__


def platform_name(code: str) -> str:
    """The Chinese name of ``code``, or the code itself for one never declared."""
    spec = _PLATFORMS.get(code)
    return spec.name if spec else code
