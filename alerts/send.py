"""Deliver one message to one apprise URL and say plainly how it went.

The outbox needs more than a yes/no: whether to retry (transient) or give up (permanent),
and an error an operator can read without learning a secret. How each kind of channel is
spoken to and how its answer is read is its messenger's (``alerts.messengers``, found by
the URL's scheme); this module bounds the call, masks, logs and says how it went.

Secrets live inside the URLs (tokens in the host, passwords, keys in the path or query), so no
URL leaves this module unmasked, and every error passes through ``redact`` as a last guard.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

import structlog

from alerts import messengers
from alerts.messengers import UNPARSEABLE, Delivery
from alerts.notice import Message
from alerts.text import Budget

log = structlog.get_logger(__name__)


@dataclass
class DeliveryResult:
    ok: bool
    permanent: bool  # retrying cannot help: fix the address or the channel first
    error: str  # Chinese, for operators; never holds a secret from the URL
    elapsed_ms: int
    throttled: bool = False  # the provider said "too fast": leave the channel alone a while
    requests: int = 1  # requests the channel received (a WeCom mention is a second one)


# -- formats: what the scheme's messenger declares (``alerts.messengers``) ------------------


def body_format(url: str) -> str:
    """Which body a target gets: "markdown" for chat robots and webhooks, "text" for mail
    and SMS."""
    return messengers.for_url(url).body_format


def budget_for(url: str) -> Budget:
    """How large a message this target takes (``alerts.messages.render``'s ``budget``)."""
    return messengers.for_url(url).budget


def requests_for(url: str, mentions: Sequence[str]) -> int:
    """Requests one message costs the channel: two for a WeCom robot that must mention
    someone, else one. The outbox spends its rate budget by this."""
    return messengers.for_url(url).requests(mentions)


# -- masking ----------------------------------------------------------------------------------
#
# One rule for every channel URL that reaches a person or a log line (``mask_url``), and the
# same rule's hidden parts for scrubbing text that quotes the URL (``redact``).
#
# apprise declares each URL form in its plugins: ``templates`` say what sits where
# ("{schema}://{secret}@{token}/{targets}"), ``template_tokens`` and ``template_args`` say
# which parts are private. That metadata decides whether the "host" of a URL is a real host
# (json://host, mailto://host, gotify://host) or a token parked in the host position
# (dingtalk://TOKEN, wecombot://KEY) and which query settings are harmless (bool, number,
# choice). It is not enough on its own, and neither is apprise's ``url(privacy=True)``: the
# json/xml/form ``{path}`` is not "private" yet people put webhook secrets there, targets
# (phone numbers, chat ids, ntfy topics) are not "private" yet are personal or work as
# passwords, headers (``+X-Token=``) come out in clear, and its "0...f" keeps two characters
# of every token. So everything that may be a secret is ``***``, in every form: user info,
# a host that is not a real host, every path segment but a few common route words, every
# query value but settings. Schemes apprise does not know get the same rule with no host.

MASK = "***"

# Schemes apprise reads that are not plugins (native web addresses such as
# https://hooks.slack.com/...): their host is a real host.
_WEB_SCHEMES = frozenset({"http", "https"})

# Query parameters that are settings, not secrets, for every scheme.
_PLAIN_QUERY = frozenset(
    {"format", "overflow", "method", "verify", "cto", "rto", "emojis", "tz", "mode", "retry",
     "wait", "optional", "store", "smtp", "port", "secure", "name", "lang"}
)  # fmt: skip

# Path segments shown as they are (after a real host only): route words, never a token.
_ROUTE_WORDS = frozenset(
    {"api", "apis", "hook", "hooks", "webhook", "webhooks", "incoming", "notify", "notice",
     "notification", "notifications", "alert", "alerts", "alarm", "alarms", "message",
     "messages", "msg", "send", "push", "robot", "bot", "bots", "service", "services",
     "callback", "events", "event", "cgi-bin", "open-apis", "json", "xml", "form", "xuncha"}
)  # fmt: skip
_VERSION = re.compile(r"v\d{1,2}")
_QUERY_KEY = re.compile(r"[+\-:]?[A-Za-z][A-Za-z0-9_.-]{0,39}")
_SETTING_VALUE = re.compile(r"[\w.:-]{0,64}")
_URL = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.S)


@dataclass
class _Parts:
    scheme: str
    userinfo: str | None
    host: str
    segments: list[str]
    query: list[tuple[str, str | None]]


def _split(url: str) -> _Parts | None:
    """Split by hand: apprise URLs carry characters (``#``, ``@`` in passwords) that trip
    ``urllib.parse``."""
    m = _URL.match(url)
    if not m:
        return None
    rest, _, query = m.group(2).partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    pairs: list[tuple[str, str | None]] = []
    for item in query.split("&") if query else []:
        key, eq, value = item.partition("=")
        pairs.append((key, value if eq else None))
    return _Parts(
        scheme=m.group(1).lower(),
        userinfo=userinfo if at else None,
        host=host,
        segments=[s for s in path.split("/") if s],
        query=pairs,
    )


def _scheme(url: str) -> str:
    parts = _split(url)
    return parts.scheme if parts else ""


@dataclass(frozen=True)
class _Form:
    """What apprise's metadata says about one scheme's URLs."""

    host_is_host: bool  # some template puts a real {host} after ``://`` (and ``user@``)
    settings: frozenset[str]  # query args that are harmless settings (bool, number, choice)


@functools.cache
def _form(scheme: str) -> _Form | None:
    """The scheme's form from its apprise plugin; None for a scheme apprise has no plugin for."""
    try:
        from apprise.manager_plugins import NotificationManager

        plugin = NotificationManager()[scheme]
        templates = tuple(plugin.templates)
        args = dict(plugin.template_args)
    except Exception:  # unknown scheme, or an apprise that keeps its metadata elsewhere
        return None
    host_is_host = any(re.match(r"\{schema\}://([^/@]*@)?\{host\}", t) for t in templates)
    settings = frozenset(
        key.lower()
        for key, spec in args.items()
        if isinstance(spec, dict)
        and not spec.get("private")
        and str(spec.get("type", "")).split(":")[0] in {"bool", "int", "float", "choice"}
    )
    return _Form(host_is_host=host_is_host, settings=settings)


def _real_host(scheme: str, host: str) -> bool:
    """Whether the host position holds a network host (shown) rather than a token."""
    form = _form(scheme)
    if form:
        host_is_host = form.host_is_host
    else:
        host_is_host = scheme in _WEB_SCHEMES or messengers.for_scheme(scheme).shows_host
    if not host_is_host:
        return False
    name = re.fullmatch(r"([A-Za-z0-9.\-]+)(:\d{1,5})?|(\[[0-9A-Fa-f:.]+\])(:\d{1,5})?", host)
    if not name:
        return False
    # ntfy://TOPIC, matrix://TOKEN: a bare word in a scheme that also takes a host is not one
    return bool(name.group(3) or name.group(2) or "." in host or host.lower() == "localhost")


def _mask(url: str) -> tuple[str, set[str]] | None:
    """(the URL as shown, the raw parts it hides); None when it is not a URL at all."""
    parts = _split(url)
    if parts is None:
        return None
    hidden: set[str] = set()

    def hide(raw: str) -> str:
        hidden.add(raw)
        return MASK

    form = _form(parts.scheme)
    settings = _PLAIN_QUERY | (form.settings if form else frozenset())
    host_real = _real_host(parts.scheme, parts.host)
    out = f"{parts.scheme}://"
    if parts.userinfo is not None:
        hidden.update(p for p in parts.userinfo.split(":", 1) if p)
        out += hide(parts.userinfo) + "@"
    if parts.host:
        out += parts.host if host_real else hide(parts.host)
    for seg in parts.segments:
        plain = host_real and (seg.lower() in _ROUTE_WORDS or _VERSION.fullmatch(seg.lower()))
        out += "/" + (seg if plain else hide(seg))
    items = []
    for key, value in parts.query:
        if value is None:  # a bare word: a known switch, or perhaps a token
            items.append(key if key.lower() in settings else hide(key))
            continue
        shown_key = key if _QUERY_KEY.fullmatch(key) else hide(key)
        plain = key.lower() in settings and _SETTING_VALUE.fullmatch(value)
        items.append(f"{shown_key}={value if plain else hide(value) if value else ''}")
    if items:
        out += "?" + "&".join(items)
    return out, hidden


def mask_url(url: str) -> str:
    """The URL with every credential, token and secret-looking part replaced by ``***``.

    The one masking for channel URLs, wherever they are shown or logged. Keeps what an
    operator needs to tell channels apart: the scheme, the host where it is a real host (with
    its port), route words such as ``hook``, setting-type query parameters, and the shape
    (how many parts were hidden). Anything that is not a URL is ``***`` as a whole.
    """
    masked = _mask(url)
    return MASK if masked is None else masked[0]


def redact(text: str, url: str) -> str:
    """``text`` with every part of ``url`` that ``mask_url`` hides replaced by ``***`` — raw,
    percent-decoded or percent-encoded, as apprise, requests and httpx quote them in errors —
    and the whole URL replaced by its masked form."""
    if not url:
        return text
    masked = _mask(url)
    if masked is None:
        return text.replace(url.strip(), MASK) if url.strip() else text
    shown, hidden = masked
    text = text.replace(url.strip(), shown)
    secrets = hidden | {unquote(s) for s in hidden}
    secrets |= {quote(s, safe="") for s in secrets} | {quote(s) for s in secrets}
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


# -- delivery ---------------------------------------------------------------------------------


async def deliver(
    url: str,
    message: Message,
    *,
    timeout: float = 15,
    origins: dict[str, str] | None = None,
    mentions: Sequence[str] = (),
) -> DeliveryResult:
    """Send ``message`` to one apprise ``url``; never raises.

    The scheme's messenger sends it (``alerts.messengers``: DingTalk, WeCom, Feishu and Lark
    robots and SMS gateways xuncha speaks itself — ``origins`` may point them at a proxy or
    a test stand-in — everything else apprise, in a worker thread); it @-mentions
    ``mentions`` (mobiles) where the robot can, and an SMS goes to them. ``timeout`` bounds
    each request.
    """
    started = time.monotonic()
    throttled, requests, note = False, 1, ""
    scheme = _scheme(url)
    messenger = messengers.for_scheme(scheme)
    origin = (origins or {}).get(scheme) or messenger.default_origin
    try:
        verdict = await asyncio.wait_for(
            messenger.send(Delivery(url, message, origin, timeout, mentions)),
            messenger.max_seconds(timeout),
        )
        permanent, error, throttled = verdict.permanent, verdict.error, verdict.throttled
        requests, note = verdict.requests, redact(verdict.note, url)
    except TimeoutError:
        permanent, error = False, f"发送超时（超过 {timeout:g} 秒）"
    except Exception as exc:  # apprise catches its plugins' errors; this is a last guard
        permanent, error = False, f"发送时出现内部错误：{type(exc).__name__}"
    error = redact(error, url)  # apprise's own words may quote parts of the URL
    if error and error != UNPARSEABLE:
        error = f"{error}：{mask_url(url)}"
    elapsed_ms = int((time.monotonic() - started) * 1000)
    result = DeliveryResult(
        ok=not error,
        permanent=permanent,
        error=error,
        elapsed_ms=elapsed_ms,
        throttled=throttled,
        requests=requests,
    )
    if result.ok:
        log.info("alert_delivered", target=mask_url(url), elapsed_ms=elapsed_ms)
        if note:
            log.warning("alert_mention_failed", target=mask_url(url), error=note)
    else:
        log.warning(
            "alert_delivery_failed",
            target=mask_url(url),
            permanent=permanent,
            throttled=throttled,
            error=error,
            elapsed_ms=elapsed_ms,
        )
    return result
