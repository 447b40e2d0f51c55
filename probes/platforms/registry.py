"""The reader registry and its one entry point, :func:`observe`, which never raises.

A module of its own so that readers (here and in :mod:`probes.apps.reader`) import it without
importing the package that imports them. A reader is ``async (target, tools) -> Observation``;
``tools`` carries the HTTP client and, when ``[browser]`` is configured, the browser pool,
so no reader reaches for a module global.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime

import structlog

from probes.fetch import Tools
from probes.fetch.bounds import TooComplex
from probes.fetch.http import FetchError, Response
from probes.fetch.waf import recognise as waf_challenge
from probes.meaning import counted_more, meaning_of
from probes.model import Artifact, Observation, Outcome, Previous, Target, cap_posts
from probes.sight import settle

log = structlog.get_logger("xuncha.probe")

Reader = Callable[[Target, Tools], Awaitable[Observation]]
READERS: dict[str, Reader] = {}

_now: ContextVar[datetime | None] = ContextVar("xuncha_probe_now", default=None)


def register(name: str) -> Callable[[Reader], Reader]:
    """Decorator: make ``fn`` the reader called ``name`` (``Target.reader``)."""

    def deco(fn: Reader) -> Reader:
        old = READERS.get(name)
        if old is not None and _qualname(old) != _qualname(fn):  # a reload is fine
            raise ValueError(f"reader {name!r} is already {_qualname(old)}")
        READERS[name] = fn
        return fn

    return deco


def _qualname(fn: Reader) -> str:
    return f"{fn.__module__}.{getattr(fn, '__qualname__', fn)}"


def get_reader(name: str) -> Reader | None:
    return READERS.get(name)


def clock() -> datetime:
    """The observation time: pinned by :func:`observe`, else the wall clock (aware UTC)."""
    return _now.get() or datetime.now(UTC)


async def observe(target: Target, tools: Tools, *, now: datetime | None = None) -> Observation:
    """Run the target's reader; every failure becomes an ``error`` observation, never raised.

    Cancellation still propagates (it is not an ``Exception``), so a caller's deadline works.
    """
    fetched_at = (now or datetime.now(UTC)).astimezone(UTC)
    token = _now.set(fetched_at)
    try:
        reader = READERS.get(target.reader)
        if reader is None:
            return failed(target, fetched_at, f"不支持的读取方式 '{target.reader}'")
        try:
            obs = await reader(target, tools)
        except TooComplex as e:  # a page built to stall the parser: refused before parsing
            log.info("page_too_complex", account=target.account_id, why=e.detail)
            return _refused(target, fetched_at, e.detail)
        except FetchError as e:
            log.info(
                "fetch_failed", account=target.account_id, url=e.url or target.url, kind=e.kind
            )
            obs = failed(target, fetched_at, e.message)
            obs.redirects = list(e.redirects)  # how far it got is evidence too
            return obs
        except Exception as e:
            log.exception("reader_crashed", account=target.account_id, reader=target.reader)
            return failed(target, fetched_at, f"读取时发生内部错误（{type(e).__name__}）")
        obs.fetched_at = fetched_at
        # every reader's page bounded before anything reads its posts, and judged only on
        # what it showed: an empty answer that is not the platform's own word is unreadable
        return _same_meaning(settle(cap_posts(obs)), target.previous)
    finally:
        _now.reset(token)


def _same_meaning(obs: Observation, prev: Previous | None) -> Observation:
    """``obs`` with its meaning (``probes.meaning``); marked ``unchanged`` when it says what
    the last full look said — only its counters and its bytes (a token, a nonce) moved — so
    it is recorded as a look at that page, not read, judged and stored again. Its posts and
    artifacts go; its profile stays, for the counters the look keeps. A reader that knew
    this already (``probes.meaning.said_again``) made it so itself: it is left as it is."""
    if obs.unchanged:
        return obs  # the same bytes (no meaning), or said again (its meaning)
    obs.meaning = meaning_of(obs)
    if (
        prev is None
        or not prev.meaning
        or obs.meaning != prev.meaning
        or counted_more(obs, prev.posts_count)
    ):
        return obs
    obs.unchanged = True
    obs.posts, obs.artifacts = [], []
    return obs


def _refused(target: Target, fetched_at: datetime, detail: str) -> Observation:
    """``unreadable``: the page came, and was not read (``probes.fetch.bounds``)."""
    obs = failed(target, fetched_at, detail)
    obs.outcome = Outcome.unreadable
    return obs


def failed(target: Target, fetched_at: datetime, detail: str) -> Observation:
    """An ``error`` observation for a fetch that brought nothing back."""
    return Observation(
        account_id=target.account_id,
        reader=target.reader,
        url=target.url,
        fetched_at=fetched_at,
        outcome=Outcome.error,
        detail=detail,
    )


def outcome_for_status(status: int) -> Outcome | None:
    """What an HTTP status means for an account; None for 2xx (read the body)."""
    if 200 <= status < 300:
        return None
    if status in (404, 410):
        return Outcome.not_found
    if status in (401, 403, 412, 429, 432):
        return Outcome.blocked
    return Outcome.error


_STATUS_DETAIL = {
    401: "需要登录才能访问",
    403: "访问被拒绝，可能触发了平台反爬",
    404: "页面不存在",
    410: "页面已被删除",
    412: "被平台风控拦截",
    429: "请求过于频繁，被限流",
    432: "被平台风控拦截",
}


def describe_status(status: int) -> str:
    """A Chinese line for a non-2xx answer, e.g. "页面不存在（HTTP 404）"."""
    if status in _STATUS_DETAIL:
        reason = _STATUS_DETAIL[status]
    elif status >= 500:
        reason = "服务器内部错误"
    elif 300 <= status < 400:
        reason = "重定向缺少目标地址"
    else:
        reason = "异常响应"
    return f"{reason}（HTTP {status}）"


def _wall_detail(wall: str, status: int) -> str:
    return wall if 200 <= status < 300 else f"{wall}（HTTP {status}）"


def observation_from(
    target: Target, resp: Response, *, kind: str, default_media_type: str
) -> Observation:
    """The evidence part of an observation: status, hops, timing and the raw body.

    Outcome is decided from the status (``ok`` for 2xx) and from whether the answer is a
    WAF or captcha wall (:func:`probes.fetch.waf.recognise`: ``blocked``, whatever the
    status); the reader then reads the body and may downgrade it.
    """
    status_outcome = outcome_for_status(resp.status)
    wall = waf_challenge(resp)
    if wall:
        status_outcome = Outcome.blocked
    obs = Observation(
        account_id=target.account_id,
        reader=target.reader,
        url=target.url,
        fetched_at=clock(),
        outcome=status_outcome or Outcome.ok,
        status_code=resp.status,
        final_url=resp.final_url,
        detail=_wall_detail(wall, resp.status)
        if wall
        else (describe_status(resp.status) if status_outcome else ""),
        elapsed_ms=resp.elapsed_ms,
        redirects=list(resp.redirects),
    )
    if resp.content:
        obs.artifacts.append(
            Artifact(
                kind=kind,
                media_type=resp.media_type or default_media_type,
                content=resp.content,
                url=resp.final_url,
            )
        )
    if resp.truncated and obs.outcome is Outcome.ok:
        obs.detail = "服务器提前断开，内容不完整"
    return obs


async def fetch_page(
    target: Target,
    tools: Tools,
    *,
    kind: str,
    default_media_type: str,
    headers: dict[str, str] | None = None,
) -> tuple[Observation, Response | None]:
    """GET the account's one page, asking "changed since?" when its last look is known.

    Returns the observation and the response to read, or no response when the page is as
    the last look saw it — the server answered 304 Not Modified, or the same bytes (by
    their sha256, before anything is decoded or parsed): the observation then says
    ``unchanged`` and carries no posts and no artifacts; the record refers to the earlier
    snapshot's. The observation carries the response's validators and the body's sha256
    for the next check either way.
    """
    prev = target.previous
    sent = {**(headers or {}), **(prev.request_headers() if prev else {})}
    resp = await tools.http.get(target.url, headers=sent or None, platform=target.platform)
    etag = resp.headers.get("etag", "") or (prev.etag if prev and resp.status == 304 else "")
    modified = resp.headers.get("last-modified", "") or (
        prev.last_modified if prev and resp.status == 304 else ""
    )
    sha = hashlib.sha256(resp.content).hexdigest() if resp.status == 200 else ""
    if prev and (resp.status == 304 or (sha and sha == prev.body_sha256)):
        obs = Observation(
            account_id=target.account_id,
            reader=target.reader,
            url=target.url,
            fetched_at=clock(),
            outcome=Outcome.ok,
            status_code=resp.status,
            final_url=resp.final_url,
            elapsed_ms=resp.elapsed_ms,
            redirects=list(resp.redirects),
            unchanged=True,
            etag=etag[:300],
            last_modified=modified[:100],
            body_sha256=prev.body_sha256,
        )
        return obs, None
    obs = observation_from(target, resp, kind=kind, default_media_type=default_media_type)
    obs.etag, obs.last_modified, obs.body_sha256 = etag[:300], modified[:100], sha
    return obs, resp
