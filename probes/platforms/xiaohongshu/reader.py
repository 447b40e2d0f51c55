"""Reader "xiaohongshu": a Xiaohongshu account from its page's ``__INITIAL_STATE__``.

Over plain HTTP first (:mod:`probes.platforms.plain_first`): the server's HTML of the profile
page carries the state the page renders from, so one GET with the session's cookies (the
``xiaohongshu`` jar, :mod:`probes.fetch.session`) reads it — as NanmiCoder/MediaCrawler
``media_platform/xhs/client.py`` (``get_creator_info``: "PC端用户主页的网页存在
window.__INITIAL_STATE__这个变量上的，解析它即可") and cv-cat/Spider_XHS do; no signature
(``x-s``) is asked for the page, only for the JSON APIs. The browser reads the same page when
that answer is not shown to us (a login wall, a check, an empty note list).

Reads: the profile page ``{www}/user/profile/<user_id>``, rendered from
``window.__INITIAL_STATE__``: ``user.userPageData.basicInfo.{nickname, desc, images,
ipLocation}``, ``user.userPageData.interactions[]`` (``type`` "fans" → followers) and
``user.notes[0][]`` (the account's own notes) with ``id``/``noteCard.{displayTitle,
interactInfo.sticky}``; ``sticky`` keeps a note pinned. The cards carry no time field, but a note
id is a MongoDB ObjectId whose first 8 hex digits are the Unix second the note was made: each
note is dated from its id (``dates.from_object_id``), or from a ``time`` field when a card has
one; a note neither dates stays undated ("无法判断更新时间", never a veto). Vue's reactive
wrappers (``_rawValue``/``_value``) are unwrapped.

Cannot read: anything behind the login wall Xiaohongshu has put before anonymous visitors since
2025 — a 302 to ``/login`` (or ``/website-login/…``), or the profile with ``userInfo.guest`` and
a login dialog (``div.login-container``) instead of notes. That is ``blocked`` with
``Observation.login_required`` ("小红书未向未登录访客展示主页（需要登录会话：xuncha sessions）"):
with a logged-in session the notes are read. The profile shows no note counter and no
documented empty-state word, so an empty note list is ``unreadable``, never an empty account.
The security check (``/website-login/captcha``, or "安全限制" on a page without user data) is
``blocked``; "用户不存在"/"已注销" on a page without user data is gone.
Origins: ``www`` (default ``https://www.xiaohongshu.com``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms import plain_first
from probes.platforms.browsing import dig, open_page
from probes.platforms.common import (
    account_key,
    as_int,
    first_marker,
    from_unix,
    load_json,
    origin,
    set_outcome,
)
from probes.platforms.dates import from_object_id
from probes.platforms.registry import clock, failed, register
from probes.platforms.xiaohongshu import PLATFORM

WWW_ORIGIN = PLATFORM.origins["www"]
GONE_MARKERS = ("用户不存在", "该用户已注销", "账号已注销", "账号已被封禁")
BLOCK_MARKERS = ("安全限制", "IP存在风险", "请完成验证", "请通过验证")
CAPTCHA_PATH = "/website-login/captcha"
#: where the login wall sends an anonymous visitor
LOGIN_PATHS = ("/login", "/website-login/")
#: the login dialog over a page shown to an anonymous visitor
LOGIN_DIALOG = 'class="login-container"'
LOGIN_WALL = "小红书未向未登录访客展示主页（需要登录会话：xuncha sessions）"
NO_NOTES = "小红书主页未显示笔记（主页不显示笔记数，无从确认账号没有笔记）"
STATE_MARK = "window.__INITIAL_STATE__="
#: a bare ``undefined`` value in the state literal (never one inside a string)
UNDEFINED = re.compile(r"(?<=[:\[,])\s*undefined\s*(?=[,\]}])")
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@register("xiaohongshu")
async def read_xiaohongshu(target: Target, tools: Tools) -> Observation:
    uid = account_key(target)
    if not uid:
        return failed(target, clock(), "小红书账号缺少用户 id（handle 或主页网址）")
    return await plain_first.read(PLATFORM, target, tools, read_over_http, read_in_browser)


async def read_over_http(target: Target, tools: Tools) -> Observation:
    """One GET of the profile page, its ``__INITIAL_STATE__`` read from the HTML (the state
    the page renders from is in the server's answer: no script need run)."""
    base = origin(target, "www", WWW_ORIGIN)
    obs, resp = await plain_first.get(
        target,
        tools,
        f"{base}/user/profile/{account_key(target)}",
        platform="xiaohongshu",
        accept=HTML_ACCEPT,
        referer=f"{base}/",
        kind="page",
    )
    if obs.outcome is not Outcome.ok:
        return obs
    return judge(obs, resp.final_url, resp.text, embedded_state(resp.text))


async def read_in_browser(target: Target, tools: Tools) -> Observation:
    """The page in the browser, its state read from the rendered page."""
    url = f"{origin(target, 'www', WWW_ORIGIN)}/user/profile/{account_key(target)}"
    obs, page = await open_page(
        target, tools.browser, "xiaohongshu", url, capture=(), evaluate="window.__INITIAL_STATE__"
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    return judge(obs, page.final_url, page.html, page.evaluated)


def embedded_state(html: str) -> Any:
    """``window.__INITIAL_STATE__`` from the page's HTML: a JavaScript object literal that is
    JSON but for bare ``undefined`` values (MediaCrawler ``media_platform/xhs/client.py``
    ``get_creator_info`` and cv-cat/Spider_XHS read it the same way); None when absent."""
    start = html.find(STATE_MARK)
    if start < 0:
        return None
    start += len(STATE_MARK)
    end = html.find("</script>", start)
    literal = html[start : end if end >= 0 else len(html)].strip().rstrip(";")
    return load_json(UNDEFINED.sub("null", literal))


def judge(obs: Observation, final_url: str | None, html: str, raw_state: Any) -> Observation:
    """What the page showed, however it was fetched: the wall, a check, the notes."""
    path = urlsplit(final_url or "").path
    if path.startswith(CAPTCHA_PATH):
        return set_outcome(obs, Outcome.blocked, "被小红书安全验证拦截")
    if path.startswith(LOGIN_PATHS):
        return login_wall(obs)
    state = unref(raw_state)
    asks_login = dig(state, "user", "userInfo", "guest") is True or LOGIN_DIALOG in html
    basic = dig(state, "user", "userPageData", "basicInfo")
    if not isinstance(basic, dict):
        if marker := first_marker(html, GONE_MARKERS):
            return set_outcome(obs, Outcome.not_found, f"小红书账号已不存在：{marker}")
        if first_marker(html, BLOCK_MARKERS):
            return set_outcome(obs, Outcome.blocked, "被小红书安全验证拦截")
        if asks_login:
            return login_wall(obs)
        return set_outcome(
            obs, Outcome.unreadable, "页面没有 __INITIAL_STATE__ 用户数据（平台改版？）"
        )
    obs.profile = _profile(state, basic)
    notes = dig(state, "user", "notes")
    own = notes[0] if isinstance(notes, list) and notes and isinstance(notes[0], list) else []
    now = clock()
    obs.posts = [note_post(n, now) for n in own if isinstance(n, dict)]
    if obs.posts:
        return obs
    if asks_login:
        return login_wall(obs)
    if not isinstance(notes, list):
        return set_outcome(obs, Outcome.unreadable, "页面没有 user.notes 笔记列表（平台改版？）")
    # the profile shows no note counter, and no documented word for "no notes": not seen
    return set_outcome(obs, Outcome.unreadable, NO_NOTES)


def login_wall(obs: Observation) -> Observation:
    """The page asks for a login: not shown to us, and a session would show it."""
    obs.login_required = True
    return set_outcome(obs, Outcome.blocked, LOGIN_WALL)


def _profile(state: Any, basic: dict[str, Any]) -> Profile:
    fans = next(
        (
            i.get("count")
            for i in dig(state, "user", "userPageData", "interactions") or []
            if isinstance(i, dict) and i.get("type") == "fans"
        ),
        None,
    )
    return Profile(
        name=basic.get("nickname") or None,
        bio=basic.get("desc") or None,
        avatar_url=basic.get("images") or basic.get("imageb") or None,
        ip_location=basic.get("ipLocation") or None,
        followers=as_int(fans),
    )


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
