"""Reader "xiaohongshu": a Xiaohongshu account through the browser (``__INITIAL_STATE__``).

The profile page ``{www}/user/profile/<user_id>`` renders from ``window.__INITIAL_STATE__``:
``user.userPageData.basicInfo.{nickname, desc, images, ipLocation}``,
``user.userPageData.interactions[]`` (``type`` "fans" → followers) and ``user.notes[0][]``
with ``noteCard.{noteId, displayTitle, interactInfo.sticky}``. The cards carry no time
field, but a note id is a MongoDB ObjectId whose first 8 hex digits are the Unix second the
note was made: each note is dated from its id (``dates.from_object_id``), or from a ``time``
field when a card has one; a note neither dates stays undated ("无法判断更新时间", never a
veto). A page with no ``user.notes`` at all is ``unreadable`` (a layout change); an empty
list there is the platform's word that the account has no notes.
Vue's reactive wrappers (``_rawValue``/``_value``) are unwrapped.

A redirect to ``/website-login/captcha`` or "安全限制" = blocked; "用户不存在"/"已注销" = gone.
Origins: ``www`` (default ``https://www.xiaohongshu.com``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms.browsing import dig, open_page
from probes.platforms.common import (
    account_key,
    as_int,
    first_marker,
    from_unix,
    origin,
    set_outcome,
)
from probes.platforms.dates import from_object_id
from probes.platforms.registry import clock, failed, register
from probes.platforms.xiaohongshu import PLATFORM

WWW_ORIGIN = PLATFORM.origins["www"]
GONE_MARKERS = ("用户不存在", "该用户已注销", "账号已注销", "账号已被封禁")
BLOCK_MARKERS = ("安全限制", "IP存在风险", "请完成验证")


@register("xiaohongshu")
async def read_xiaohongshu(target: Target, tools: Tools) -> Observation:
    uid = account_key(target)
    if not uid:
        return failed(target, clock(), "小红书账号缺少用户 id（handle 或主页网址）")
    url = f"{origin(target, 'www', WWW_ORIGIN)}/user/profile/{uid}"
    obs, page = await open_page(
        target, tools.browser, "xiaohongshu", url, capture=(), evaluate="window.__INITIAL_STATE__"
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    if "captcha" in page.final_url or first_marker(page.html, BLOCK_MARKERS):
        return set_outcome(obs, Outcome.blocked, "被小红书安全验证拦截")
    state = unref(page.evaluated)
    basic = dig(state, "user", "userPageData", "basicInfo")
    if not isinstance(basic, dict):
        if marker := first_marker(page.html, GONE_MARKERS):
            return set_outcome(obs, Outcome.not_found, f"小红书账号已不存在：{marker}")
        return set_outcome(obs, Outcome.error, "页面没有 __INITIAL_STATE__ 用户数据（平台改版？）")
    fans = next(
        (
            i.get("count")
            for i in dig(state, "user", "userPageData", "interactions") or []
            if isinstance(i, dict) and i.get("type") == "fans"
        ),
        None,
    )
    obs.profile = Profile(
        name=basic.get("nickname") or None,
        bio=basic.get("desc") or None,
        avatar_url=basic.get("images") or basic.get("imageb") or None,
        ip_location=basic.get("ipLocation") or None,
        followers=as_int(fans),
    )
    notes = dig(state, "user", "notes")
    if not isinstance(notes, list):
        return set_outcome(obs, Outcome.unreadable, "页面没有 user.notes 笔记列表（平台改版？）")
    first = notes[0] if notes and isinstance(notes[0], list) else []
    now = clock()
    obs.posts = [note_post(n, now) for n in first if isinstance(n, dict)]
    return obs


def unref(value: Any) -> Any:
    """Plain data from Vue reactive state: ``{_rawValue: x}``/``{_value: x}`` -> ``x``."""
    if isinstance(value, dict):
        for k in ("_rawValue", "_value"):
            if k in value:
                return unref(value[k])
        return {k: unref(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unref(v) for v in value]
    return value


def note_post(n: dict[str, Any], now: datetime) -> Post:
    card = n.get("noteCard") if isinstance(n.get("noteCard"), dict) else n
    ident = str(card.get("noteId") or n.get("id") or "")
    shown = card.get("time") or card.get("lastUpdateTime") or n.get("time")
    return Post(
        id=ident,
        published_at=from_unix(shown) or from_object_id(ident, now=now),
        title=str(card.get("displayTitle") or ""),
        url=f"https://www.xiaohongshu.com/explore/{ident}",
        pinned=bool(dig(card, "interactInfo", "sticky")),
    )
