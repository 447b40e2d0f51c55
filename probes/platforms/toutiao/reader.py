"""Reader "toutiao": a 头条号 through the browser (its feed API is signed, ``a_bogus``).

Reads: the author page ``{www}/c/user/token/<token>/``, whose script calls
``/api/pc/list/user/feed?category=profile_all`` (earlier pages: ``/api/pc/list/feed``; both are
captured) → ``message``, ``data[]`` — a mix of cell types, each dated by ``publish_time`` (unix
s, else ``behot_time``): ``cell_type`` 32 微头条 (``content``, no title; author in ``user``),
0 / 49 video (``title``; author in ``user.info``), 60 and the rest articles (``title``,
``abstract``; author in ``user_info``). ``is_stick`` (or ``label`` "置顶") keeps an item pinned.
Links follow the cell type: ``/w/<id>/``, ``/video/<id>/``, ``/article/<id>/``.

Cannot read: items Toutiao withholds. It answers an anonymous visitor ``message: "success"``
with ``data: []``, and the author page shows no post counter to tell that from an empty
account: an empty feed is ``unreadable`` ("今日头条未向本次访问展示作品列表"), never stale.
``message`` other than "success" is gone with "用户不存在"/"已注销", else ``blocked``.

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
FEED_API = r"/api/pc/list/(?:user/)?feed"
GONE_MARKERS = ("用户不存在", "该账号已注销", "账号已注销", "账号已被封禁")
WITHHELD = "今日头条未向本次访问展示作品列表"
#: cell types and where their link points (RSSHub ``lib/routes/toutiao/user.tsx``)
VIDEO, WEITOUTIAO = (0, 49), 32


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
    if feed is None:
        return missing(obs, page, "作品列表", GONE_MARKERS)
    if not isinstance(feed.data, dict):
        return set_outcome(obs, Outcome.blocked, "今日头条作品接口返回的不是数据（风控验证）")
    msg = str(feed.data.get("message") or "")
    if marker := first_marker(msg, GONE_MARKERS):
        return set_outcome(obs, Outcome.not_found, f"头条号已不存在：{msg or marker}")
    if msg != "success":
        return set_outcome(obs, Outcome.blocked, f"今日头条作品接口拒绝（{msg or '无说明'}）")
    items = [i for i in feed.data.get("data") or [] if isinstance(i, dict)]
    obs.profile = _profile(items)
    obs.posts = [_post(i) for i in items]
    if not obs.posts:
        set_outcome(obs, Outcome.unreadable, f"{WITHHELD}（返回空列表，主页不显示作品数）")
    return obs


def _author(i: dict[str, Any]) -> dict[str, Any]:
    """The item's author, wherever its cell type keeps it."""
    user = i.get("user") if isinstance(i.get("user"), dict) else {}
    for a in (i.get("user_info"), user.get("info"), user):
        if isinstance(a, dict) and a.get("name"):
            return a
    return {}


def _profile(items: list[dict[str, Any]]) -> Profile:
    user = next((a for a in map(_author, items) if a), {})
    if not user:
        return Profile()
    verified = user.get("user_verified")
    return Profile(
        name=user.get("name") or None,
        bio=user.get("description") or user.get("desc") or None,
        avatar_url=user.get("avatar_url") or None,
        verified=bool(verified) if verified is not None else None,
        verified_reason=user.get("verified_content") or None,
    )


def _post(i: dict[str, Any]) -> Post:
    ident = str(i.get("id") or i.get("item_id") or i.get("group_id") or "")
    cell = as_int(i.get("cell_type"))
    content = str(i.get("content") or "")
    if cell == WEITOUTIAO:
        title, text, path = content.split("\n", 1)[0], content, "w"
    else:
        title, text = str(i.get("title") or ""), str(i.get("abstract") or content)
        path = "video" if cell in VIDEO else "article"
    return Post(
        id=ident,
        published_at=from_unix(i.get("publish_time") or i.get("behot_time")),
        title=title,
        text=text,
        url=f"https://www.toutiao.com/{path}/{ident}/",
        pinned=bool(i.get("is_stick") or as_int(i.get("is_top")) or i.get("label") == "置顶"),
    )
