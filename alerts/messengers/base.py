"""What a messenger is, and the registry that finds one by a channel URL's scheme.

A messenger is one robot family (DingTalk, WeCom, Feishu/Lark, an SMS gateway, "whatever
apprise speaks"): the schemes it answers to, which body it takes and how large, its default
rate, and how it sends — including how it reads a refusal hidden inside HTTP 200 and how it
rings a person (``mentions``: mobiles). ``alerts.send`` and the outbox ask the registry;
nothing else looks at a scheme. Adding one is a module that subclasses ``Messenger`` and
calls ``register`` (like healthchecks' transports); a test module may register its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from alerts.notice import Message
from alerts.text import DEFAULT_BUDGET, Budget

MOBILE = re.compile(r"1\d{10}")
UNPARSEABLE = "通知地址无法识别"
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class Delivery:
    """One message on its way to one channel: all a messenger's ``send`` reads, as one value
    (each family reads its own part of it — a robot's origin, an SMS's phones)."""

    url: str
    message: Message
    origin: str = ""  # where to post instead of the family's own host (a proxy, a test)
    timeout: float = 10.0  # each request's bound
    mentions: Sequence[str] = ()  # mobiles to @ (robots) or text (SMS)


@dataclass
class Verdict:
    """How one send went, as the outbox needs it: retry, hold, or slow down."""

    ok: bool
    permanent: bool = False  # retrying cannot help: fix the address or the channel first
    throttled: bool = False  # the provider said "too fast": leave the channel alone a while
    error: str = ""  # Chinese, for operators (the caller masks the URL in it)
    requests: int = 1  # requests made (a WeCom mention is a second one)
    note: str = ""  # delivered, but something after it was not (a WeCom mention): why


class Messenger:
    """One family of channels. Subclasses set the class attributes and ``send``."""

    schemes: ClassVar[tuple[str, ...]] = ()
    name: ClassVar[str] = ""  # what people call it: 钉钉机器人, 短信网关…
    body_format: ClassVar[Literal["markdown", "text"]] = "markdown"
    budget: ClassVar[Budget] = DEFAULT_BUDGET  # how large one message may be
    rate_per_minute: ClassVar[int] = 0  # default messages a minute ([alerts] rate_limits wins)
    default_origin: ClassVar[str] = ""  # host xuncha posts to itself ([alerts] origins wins)
    throttle_codes: ClassVar[frozenset[int]] = frozenset()  # refusal codes meaning "too fast"
    # what follows "scheme://" is a network host people may see (masking): for schemes
    # apprise has no plugin for; apprise's own say it in their templates
    shows_host: ClassVar[bool] = False

    def requests(self, mentions: Sequence[str]) -> int:
        """Requests one message costs the channel's rate budget."""
        return 1

    def max_seconds(self, timeout: float) -> float:
        """The whole send's bound, for a per-request ``timeout``."""
        return timeout + 5

    def well_formed(self, url: str) -> bool | None:
        """Whether ``url`` is an address it can send to (no network); None: ask apprise,
        which reads every URL form the robots and the fallback take."""
        return None

    def body(self, message: Message) -> str:
        return message.text if self.body_format == "text" else message.markdown

    async def send(self, d: Delivery) -> Verdict:
        """Deliver ``d.message`` to ``d.url``; never raises."""
        raise NotImplementedError


_BY_SCHEME: dict[str, Messenger] = {}
_FALLBACK: list[Messenger] = []


def register(messenger: Messenger, *, fallback: bool = False) -> Messenger:
    """Make ``messenger`` the one for its schemes (a later registration wins, so a test may
    stand one in); ``fallback``: the one for every scheme nobody registered."""
    for scheme in messenger.schemes:
        _BY_SCHEME[scheme.lower()] = messenger
    if fallback:
        _FALLBACK[:] = [messenger]
    return messenger


def unregister(messenger: Messenger) -> None:
    for scheme in messenger.schemes:
        if _BY_SCHEME.get(scheme.lower()) is messenger:
            del _BY_SCHEME[scheme.lower()]


def scheme_of(url: str) -> str:
    m = _SCHEME.match(url or "")
    return m.group(1).lower() if m else ""


def for_scheme(scheme: str) -> Messenger:
    """The messenger for ``scheme``; the fallback (apprise) for one nobody registered."""
    return _BY_SCHEME.get(scheme.lower()) or _FALLBACK[0]


def for_url(url: str) -> Messenger:
    return for_scheme(scheme_of(url))


def own(scheme: str) -> bool:
    """Whether a registered messenger (not the fallback) answers to ``scheme``."""
    return scheme.lower() in _BY_SCHEME


def default_rates() -> dict[str, int]:
    """``[alerts] rate_limits``' default: each registered scheme's own rate, where it has one."""
    return {s: m.rate_per_minute for s, m in _BY_SCHEME.items() if m.rate_per_minute}


def mobiles(values: Sequence[str]) -> list[str]:
    """11-digit mobiles only, each once, in order: what a robot can mention or an SMS reach."""
    out: list[str] = []
    for v in values:
        v = str(v).strip()
        if MOBILE.fullmatch(v) and v not in out:
            out.append(v)
    return out[:20]
