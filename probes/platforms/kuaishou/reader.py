"""Reader "kuaishou": a Kuaishou account through the browser (its web APIs are signed).

Reads: the profile page ``{www}/profile/<principalId>``, whose script calls ``POST
/rest/v/profile/feed`` → ``result``, ``pcursor``, ``feeds[].photo.{id, caption, timestamp (ms),
profileUserTopPhoto}`` and ``feeds[].author.{id, name, headerUrl}``, and ``/rest/v/profile/get``
→ ``userProfile.{profile.{user_name, user_text, headurl}, ownerCount.{fan, photo_public}}``.
``profileUserTopPhoto`` is the work the author pinned on the profile (kept pinned);
``photo_public`` is the profile's post counter (``Profile.posts_count``). The reader waits for
the feed only; the profile answer is used when the page fetched it by then.

Cannot read: works Kuaishou does not show. ``result`` other than 1 (2, 50, 400002, 2001
"antispam need captcha"…) is its verification: ``blocked``, never stale. ``result 1`` with no
works is Kuaishou's word that there are none only when the profile counts 0 public works
(``Sight.none``); with a counter above 0, or none read, it is ``unreadable``
("快手未向本次访问展示作品列表"). Items without ``timestamp`` stay undated.

Origins: ``www`` (default ``https://www.kuaishou.com``); the ``live`` key of earlier versions is
still honoured for the same page. The id is ``Target.handle`` or the last path part of
``Target.url``.
"""

from __future__ import annotations

from typing import Any

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Sight, Target
from probes.platforms.browsing import dig, missing, open_page
from probes.platforms.common import account_key, as_int, from_unix, origin, set_outcome
from probes.platforms.kuaishou import PLATFORM
from probes.platforms.registry import clock, failed, register

WWW_ORIGIN = PLATFORM.origins["www"]
FEED_API = r"/rest/v/profile/feed"
PROFILE_API = r"/rest/v/profile/get"
GONE_MARKERS = ("用户不存在", "该用户已注销", "账号已注销", "账号已被封禁")
WITHHELD = "快手未向本次访问展示作品列表"


def base_url(target: Target) -> str:
    """The ``www`` origin, or the ``live`` one a configuration of an earlier version names."""
    if "www" not in target.origins and target.origins.get("live"):
        return target.origins["live"].rstrip("/")
    return origin(target, "www", WWW_ORIGIN)


@register("kuaishou")
async def read_kuaishou(target: Target, tools: Tools) -> Observation:
    pid = account_key(target)
    if not pid:
        return failed(target, clock(), "快手账号缺少 principalId（handle 或主页网址）")
    obs, page = await open_page(
        target,
        tools.browser,
        "kuaishou",
        f"{base_url(target)}/profile/{pid}",
        capture=[FEED_API, PROFILE_API],
        wait_for=[FEED_API],
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    feed, info = page.first(FEED_API), page.first(PROFILE_API)
    if feed is None:
        return missing(obs, page, "作品列表", GONE_MARKERS)
    if not isinstance(feed.data, dict):
        return set_outcome(obs, Outcome.blocked, "快手作品接口返回的不是数据（风控验证）")
    result = feed.data.get("result")
    if result != 1:
        msg = str(feed.data.get("error_msg") or "").strip()
        why = f"快手要求完成验证（result={result}{'，' + msg if msg else ''}），未展示作品"
        return set_outcome(obs, Outcome.blocked, why)
    items = [f for f in feed.data.get("feeds") or [] if isinstance(f, dict)]
    user = dig(info.data, "userProfile") if info else None
    obs.profile = _profile(user if isinstance(user, dict) else {}, items)
    obs.posts = [_post(f) for f in items if isinstance(f.get("photo"), dict)]
    if not obs.posts:
        n = obs.profile.posts_count
        if n == 0:
            obs.sight = Sight.none
            obs.detail = "快手资料显示公开作品数为 0，作品列表为空"
        elif n:
            set_outcome(obs, Outcome.unreadable, f"{WITHHELD}（资料显示有 {n} 个作品）")
        else:
            set_outcome(obs, Outcome.unreadable, f"{WITHHELD}（资料未显示作品数）")
    return obs


def _profile(user: dict[str, Any], items: list[dict[str, Any]]) -> Profile:
    """From ``userProfile`` when the page fetched it, else the feed items' author."""
    p = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    author = next((i["author"] for i in items if isinstance(i.get("author"), dict)), {})
    counts = user.get("ownerCount") if isinstance(user.get("ownerCount"), dict) else {}
    return Profile(
        name=p.get("user_name") or author.get("name") or None,
        bio=p.get("user_text") or None,
        avatar_url=p.get("headurl") or author.get("headerUrl") or None,
        followers=as_int(counts.get("fan")),
        posts_count=as_int(counts.get("photo_public", counts.get("photo"))),
    )


def _post(f: dict[str, Any]) -> Post:
    photo = f["photo"]
    ident = str(photo.get("id") or "")
    return Post(
        id=ident,
        published_at=from_unix(photo.get("timestamp")),
        text=str(photo.get("caption") or ""),
        url=f"https://www.kuaishou.com/short-video/{ident}",
        pinned=bool(photo.get("profileUserTopPhoto") or f.get("profileUserTopPhoto")),
    )
