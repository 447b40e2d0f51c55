"""Helpers the platform readers share: origins, JSON bodies, outcome markers.

Every host a reader contacts comes from ``Target.origins`` (config ``[platforms.<p>]``), with
the real host as default, so a mirror, proxy or the test simulator can stand in (docs/config.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from probes.fetch.http import Response
from probes.model import Artifact, Observation, Outcome, Target


def origin(target: Target, key: str, default: str) -> str:
    """Base URL for ``key`` (no trailing slash); ``origins["origin"]`` is the catch-all."""
    value = target.origins.get(key) or target.origins.get("origin") or default
    return value.rstrip("/")


def account_key(target: Target) -> str:
    """The platform's id for the account: the registered handle, else the profile URL's
    last path segment (``https://www.douyin.com/user/<sec_uid>``)."""
    return target.handle.strip() or urlsplit(target.url).path.rstrip("/").rsplit("/", 1)[-1]


def load_json(text: str) -> Any:
    """The JSON in a body, or None when it is not JSON (an HTML anti-bot page, say)."""
    text = text.strip()
    if not text or text[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def add_json_artifact(obs: Observation, resp: Response) -> None:
    """Keep a later response's raw body as evidence beside the first one."""
    if resp.content:
        obs.artifacts.append(
            Artifact(
                kind="json",
                media_type=resp.media_type or "application/json",
                content=resp.content,
                url=resp.final_url,
            )
        )


def json_artifact(url: str, data: Any) -> Artifact:
    """Evidence for JSON captured from a page (browser readers)."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Artifact(kind="json", media_type="application/json", content=body, url=url)


#: What a platform or site shows where its list would be when the account has posted nothing:
#: its own word that there are no posts (``ok`` with none), unlike a list that cannot be read
#: (``unreadable``).
EMPTY_MARKERS = (
    "暂无内容",
    "暂无数据",
    "暂无信息",
    "暂无记录",
    "暂无文章",
    "暂无相关",
    "还没有发布",
    "还没有发布过",
    "没有相关信息",
    "没有发布任何",
)


def set_outcome(obs: Observation, outcome: Outcome, detail: str) -> Observation:
    obs.outcome = outcome
    obs.detail = detail
    return obs


def first_marker(text: str, markers: tuple[str, ...]) -> str | None:
    """The first of ``markers`` found in ``text``: platforms say "gone" in words, not status."""
    for m in markers:
        if m in text:
            return m
    return None


def from_unix(value: Any) -> datetime | None:
    """Aware UTC from unix seconds (or milliseconds, which some APIs use); None if unreadable."""
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    if n <= 0:
        return None
    if n > 1e11:  # milliseconds
        n /= 1000
    return datetime.fromtimestamp(n, UTC)


def as_int(value: Any) -> int | None:
    """Counts come as ints, strings, or "12万" on some platforms."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    s = str(value).strip().replace(",", "")
    mult = 1
    if s.endswith("万"):
        mult, s = 10_000, s[:-1]
    elif s.endswith("亿"):
        mult, s = 100_000_000, s[:-1]
    try:
        return int(float(s) * mult)
    except ValueError:
        return None


def cookie_domain(host: str) -> str:
    """Cookie domain for an API host: ``.weibo.cn`` for ``m.weibo.cn``; an IP as it is."""
    host = host.lower().strip(".")
    if not host:
        return ""
    if "." not in host:
        return host + ".local"  # how http.cookiejar names dotless hosts (localhost)
    if host.replace(".", "").isdigit() or ":" in host:
        return host
    return "." + ".".join(host.split(".")[-2:])


def unwrap_link(url: str) -> str:
    """The real target of a platform's redirect wrapper (``weibo.cn/sinaurl?u=``, ...)."""
    parts = urlsplit(url)
    if parts.hostname in ("weibo.cn", "m.weibo.cn", "weibo.com") and parts.path.startswith(
        "/sinaurl"
    ):
        target = parse_qs(parts.query).get("u") or parse_qs(parts.query).get("toasturl")
        if target:
            return target[0]
    return url


def strip_ip_prefix(value: Any) -> str | None:
    """ "IP属地：北京" / "发布于 北京" -> "北京"."""
    if not value:
        return None
    s = str(value).strip()
    for prefix in ("IP属地：", "IP属地:", "IP属地", "发布于"):
        if s.startswith(prefix):
            s = s[len(prefix) :].strip()
    return s or None
