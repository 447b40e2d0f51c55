"""Reader "kuaishou": a Kuaishou account through the browser.

The profile page ``{live}/profile/<principalId>`` calls ``/live_api/baseuser/userinfo/byid``
→ ``data.userInfo.{name, description, avatar}`` (``user_name``/``user_text``/``headurl`` in
older shapes) and ``/live_api/profile/public`` → ``data.list[]`` with ``id``/``photoId``,
``caption``, ``timestamp`` (ms) — timestamps are best effort (DOMAIN §7): an item without
one has ``published_at`` None rather than a guess. ``isTop``/``isPinned`` = pinned.

Origins: ``live`` (default ``https://live.kuaishou.com``). The id is ``Target.handle`` or the
last path part of ``Target.url``.
"""

from __future__ import annotations

from typing import Any

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms.browsing import dig, missing, open_page
from probes.platforms.common import account_key, as_int, from_unix, origin
from probes.platforms.kuaishou import PLATFORM
from probes.platforms.registry import clock, failed, register

LIVE_ORIGIN = PLATFORM.origins["live"]
LIST_API = r"/live_api/profile/public"
INFO_API = r"/live_api/baseuser/userinfo/byid"
GONE_MARKERS = ("用户不存在", "该用户已注销", "账号已注销", "账号已被封禁")


@register("kuaishou")
async def read_kuaishou(target: Target, tools: Tools) -> Observation:
    pid = account_key(target)
    if not pid:
        return failed(target, clock(), "快手账号缺少 principalId（handle 或主页网址）")
    url = f"{origin(target, 'live', LIVE_ORIGIN)}/profile/{pid}"
    obs, page = await open_page(
        target, tools.browser, "kuaishou", url, capture=[LIST_API, INFO_API]
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    info = page.first(INFO_API)
    user = dig(info.data, "data", "userInfo") if info else None
    if isinstance(user, dict):
        obs.profile = Profile(
            name=user.get("name") or user.get("user_name") or None,
            bio=user.get("description") or user.get("user_text") or None,
            avatar_url=user.get("avatar") or user.get("headurl") or None,
            followers=as_int(dig(user, "counts", "fan") or user.get("fan")),
        )
    listed = page.first(LIST_API)
    items = dig(listed.data, "data", "list") if listed else None
    if not isinstance(items, list):
        return missing(obs, page, "作品列表", GONE_MARKERS)
    obs.posts = [_post(i) for i in items if isinstance(i, dict)]
    return obs


def _post(i: dict[str, Any]) -> Post:
    ident = str(i.get("id") or i.get("photoId") or "")
    return Post(
        id=ident,
        published_at=from_unix(i.get("timestamp")),
        text=str(i.get("caption") or ""),
        url=f"https://www.kuaishou.com/short-video/{ident}",
        pinned=bool(i.get("isTop") or i.get("isPinned")),
    )
