"""Reader "toutiao": a 头条号 through the browser (``/api/pc/list/feed`` is signed).

The user page ``{www}/c/user/token/<token>/`` calls ``/api/pc/list/feed`` → ``data[]`` items
with ``publish_time`` (unix s), ``title``/``abstract``, ``item_id``/``group_id`` and the
author's ``user_info.{name, avatar_url, description}``; a pinned item carries ``is_top`` or
``is_stick`` (best effort). ``message`` other than "success" with "用户不存在"/"已注销" = gone.

Origins: ``www`` (default ``https://www.toutiao.com``). The token is ``Target.handle`` or the
part after ``/token/`` in ``Target.url``.
"""

from __future__ import annotations

from typing import Any

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms.browsing import missing, open_page
from probes.platforms.common import as_int, first_marker, from_unix, origin, set_outcome
from probes.platforms.registry import clock, failed, register
from probes.platforms.toutiao import PLATFORM

WWW_ORIGIN = PLATFORM.origins["www"]
FEED_API = r"/api/pc/list/feed"
GONE_MARKERS = ("用户不存在", "该账号已注销", "账号已注销", "账号已被封禁")


@register("toutiao")
async def read_toutiao(target: Target, tools: Tools) -> Observation:
    token = target.handle.strip()
    if not token and "/token/" in target.url:
        token = target.url.split("/token/", 1)[1].strip("/").split("/")[0]
    if not token:
        return failed(target, clock(), "头条号缺少用户 token（handle 或用户页网址）")
    url = f"{origin(target, 'www', WWW_ORIGIN)}/c/user/token/{token}/"
    obs, page = await open_page(target, tools.browser, "toutiao", url, capture=[FEED_API])
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    feed = page.first(FEED_API)
    if feed is None or not isinstance(feed.data, dict):
        return missing(obs, page, "文章列表", GONE_MARKERS)
    msg = str(feed.data.get("message") or "")
    if marker := first_marker(msg, GONE_MARKERS):
        return set_outcome(obs, Outcome.not_found, f"头条号已不存在：{msg or marker}")
    items = [i for i in feed.data.get("data") or [] if isinstance(i, dict)]
    user = next((i["user_info"] for i in items if isinstance(i.get("user_info"), dict)), None)
    if user:
        obs.profile = Profile(
            name=user.get("name") or None,
            bio=user.get("description") or None,
            avatar_url=user.get("avatar_url") or None,
            verified=bool(user.get("user_verified")) if "user_verified" in user else None,
            verified_reason=user.get("verified_content") or None,
        )
    obs.posts = [_post(i) for i in items]
    return obs


def _post(i: dict[str, Any]) -> Post:
    ident = str(i.get("item_id") or i.get("group_id") or i.get("id") or "")
    return Post(
        id=ident,
        published_at=from_unix(i.get("publish_time") or i.get("behot_time")),
        title=str(i.get("title") or ""),
        text=str(i.get("abstract") or i.get("content") or ""),
        url=f"https://www.toutiao.com/article/{ident}/",
        pinned=bool(as_int(i.get("is_top")) or as_int(i.get("is_stick"))),
    )
