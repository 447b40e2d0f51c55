"""Reader "bilibili": a Bilibili space through the browser (WBI-signed APIs).

The space page ``{space}/<mid>`` calls ``/x/space/wbi/acc/info`` → ``data.{name, face, sign,
official.{type, title}}`` and ``/x/space/wbi/arc/search`` → ``data.list.vlist[].{title,
created (unix s), bvid, description}``. ``code`` -352 (risk control) or HTTP 412 = blocked;
``code`` -404 or "啥都木有" = not found.

Origins: ``space`` (default ``https://space.bilibili.com``). The mid is ``Target.handle`` or
the first path part of ``Target.url``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms.bilibili import PLATFORM
from probes.platforms.browsing import PageResult, dig, missing, open_page
from probes.platforms.common import as_int, from_unix, origin, set_outcome
from probes.platforms.registry import clock, failed, register

SPACE_ORIGIN = PLATFORM.origins["space"]
VIDEOS_API = r"/x/space/wbi/arc/search"
INFO_API = r"/x/space/wbi/acc/info"
GONE_MARKERS = ("啥都木有", "用户不存在", "账号已注销")


@register("bilibili")
async def read_bilibili(target: Target, tools: Tools) -> Observation:
    mid = target.handle.strip() or urlsplit(target.url).path.strip("/").split("/")[0]
    if not mid:
        return failed(target, clock(), "B站账号缺少 mid（handle 或空间网址）")
    url = f"{origin(target, 'space', SPACE_ORIGIN)}/{mid}"
    obs, page = await open_page(
        target, tools.browser, "bilibili", url, capture=[VIDEOS_API, INFO_API]
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    for api in (INFO_API, VIDEOS_API):
        if _refused(obs, page, api):
            return obs
    info = page.first(INFO_API)
    data = dig(info.data, "data") if info else None
    if isinstance(data, dict):
        obs.profile = Profile(
            name=data.get("name") or None,
            bio=data.get("sign") or None,
            avatar_url=data.get("face") or None,
            verified=(as_int(dig(data, "official", "type")) or -1) >= 0
            if dig(data, "official", "type") is not None
            else None,
            verified_type=str(dig(data, "official", "role") or "") or None,
            verified_reason=dig(data, "official", "title") or None,
        )
    videos = page.first(VIDEOS_API)
    vlist = dig(videos.data, "data", "list", "vlist") if videos else None
    if not isinstance(vlist, list):
        return missing(obs, page, "投稿列表", GONE_MARKERS)
    obs.posts = [_post(v) for v in vlist if isinstance(v, dict)]
    obs.profile.posts_count = as_int(dig(videos.data, "data", "page", "count"))
    return obs


def _refused(obs: Observation, page: PageResult, api: str) -> bool:
    c = page.first(api)
    if c is None:
        return False
    code = c.data.get("code") if isinstance(c.data, dict) else None
    if c.status == 412 or code == -352:
        set_outcome(
            obs,
            Outcome.blocked,
            f"被B站风控拦截（{'HTTP 412' if c.status == 412 else 'code -352'}）",
        )
        return True
    if code in (-404, -626):
        set_outcome(obs, Outcome.not_found, f"B站账号不存在（code {code}）")
        return True
    return False


def _post(v: dict[str, Any]) -> Post:
    bvid = str(v.get("bvid") or v.get("aid") or "")
    return Post(
        id=bvid,
        published_at=from_unix(v.get("created")),
        title=str(v.get("title") or ""),
        text=str(v.get("description") or ""),
        url=f"https://www.bilibili.com/video/{bvid}",
        pinned=bool(v.get("is_top")),
    )
