"""Reader "toutiao": a 头条号's feed, over HTTP with a public signature, else the browser.

Over plain HTTP first (:mod:`probes.platforms.plain_first`): the feed API asks for an
``a_bogus`` signature of its query, whose algorithm is public and compact
(:mod:`probes.platforms.toutiao.abogus`, ported from DIYgod/RSSHub, whose
``lib/routes/toutiao/user.tsx`` reads an author's feed this way: ``GET /api/pc/list/feed?
category=profile_all&token=…&max_behot_time=0&entrance_gid&aid=24&app_name=toutiao_web&
a_bogus=…``). An answer that is not shown to us (an empty body, which is how the site
refuses a signature it does not accept; ``data: []``; a refusal) sends the reader to the
author page in the browser, whose own script signs.

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
from urllib.parse import quote

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms import plain_first
from probes.platforms.browsing import missing, open_page
from probes.platforms.common import (
    as_int,
    first_marker,
    from_unix,
    load_json,
    origin,
    set_outcome,
)
from probes.platforms.registry import clock, failed, register
from probes.platforms.toutiao import PLATFORM
from probes.platforms.toutiao.abogus import sign as a_bogus

WWW_ORIGIN = PLATFORM.origins["www"]
FEED_API = r"/api/pc/list/(?:user/)?feed"
GONE_MARKERS = ("用户不存在", "该账号已注销", "账号已注销", "账号已被封禁")
WITHHELD = "今日头条未向本次访问展示作品列表"
#: cell types and where their link points (RSSHub ``lib/routes/toutiao/user.tsx``)
VIDEO, WEITOUTIAO = (0, 49), 32
#: the feed over HTTP, as RSSHub ``lib/routes/toutiao/user.tsx`` asks it (signed: abogus.py)
HTTP_FEED = "/api/pc/list/feed"
HTTP_QUERY = (
    "category=profile_all&token={token}&max_behot_time=0&entrance_gid&aid=24&app_name=toutiao_web"
)
JSON_ACCEPT = "application/json, text/plain, */*"


@register("toutiao")
async def read_toutiao(target: Target, tools: Tools) -> Observation:
    if not token_of(target):
        return failed(target, clock(), "头条号缺少用户 token（handle 或用户页网址）")
    return await plain_first.read(PLATFORM, target, tools, read_over_http, read_in_browser)


def token_of(target: Target) -> str:
    token = target.handle.strip()
    if not token and "/token/" in target.url:
        token = target.url.split("/token/", 1)[1].strip("/").split("/")[0]
    return token


async def read_over_http(target: Target, tools: Tools) -> Observation:
    """The feed asked as RSSHub's route asks it: the page's query, signed (``a_bogus``) for
    the user agent the request carries."""
    base = origin(target, "www", WWW_ORIGIN)
    query = HTTP_QUERY.format(token=quote(token_of(target), safe=""))
    signature = a_bogus(query, tools.http.settings.user_agent)
    obs, resp = await plain_first.get(
        target,
        tools,
        f"{base}{HTTP_FEED}?{query}&a_bogus={quote(signature, safe='')}",
        platform="toutiao",
        accept=JSON_ACCEPT,
        referer=f"{base}/c/user/token/{token_of(target)}/",
        kind="json",
    )
    # the feed as asked, without the signature: it differs at every request, and where the
    # answer came from is part of what a look says (probes.meaning)
    obs.final_url = f"{base}{HTTP_FEED}?{query}"
    if obs.outcome is Outcome.not_found:
        # a 404 from the feed API says the API moved, not that the account is gone: not
        # shown to us (the browser reads the account's own page; without one, ops are told)
        return set_outcome(
            obs, Outcome.unreadable, f"今日头条作品接口不存在（{obs.detail}），未展示作品"
        )
    if obs.outcome is not Outcome.ok:
        return obs
    data = load_json(resp.text)
    if data is None:
        why = "返回空内容" if not resp.content.strip() else "返回的不是数据"
        return set_outcome(obs, Outcome.blocked, f"今日头条作品接口{why}（签名或风控），未展示作品")
    return judge(obs, data)


async def read_in_browser(target: Target, tools: Tools) -> Observation:
    """The author page in the browser: its script signs and calls the feed."""
    url = f"{origin(target, 'www', WWW_ORIGIN)}/c/user/token/{token_of(target)}/"
    obs, page = await open_page(target, tools.browser, "toutiao", url, capture=[FEED_API])
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    feed = page.first(FEED_API)
    if feed is None:
        return missing(obs, page, "作品列表", GONE_MARKERS)
    return judge(obs, feed.data)


def judge(obs: Observation, data: Any) -> Observation:
    """The feed's answer, however it was fetched."""
    if not isinstance(data, dict):
        return set_outcome(obs, Outcome.blocked, "今日头条作品接口返回的不是数据（风控验证）")
    msg = str(data.get("message") or "")
    if marker := first_marker(msg, GONE_MARKERS):
        return set_outcome(obs, Outcome.not_found, f"头条号已不存在：{msg or marker}")
    if msg != "success":
        return set_outcome(obs, Outcome.blocked, f"今日头条作品接口拒绝（{msg or '无说明'}）")
    items = [i for i in data.get("data") or [] if isinstance(i, dict)]
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
