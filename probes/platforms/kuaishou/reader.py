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

How: the kept page's own app, else a navigation of the profile page, trimmed. The two APIs
carry ``__NS_hxfalcon``, which
the site's request client (its axios) adds to the calls the app makes; the signer is
obfuscated code closed over by that client — nothing on ``window``, no hook on
``XMLHttpRequest``/``fetch`` — so a call a check would make from a page left open
(:meth:`probes.fetch.browser.BrowserPool.call`, Douyin's way) goes out unsigned and is refused
(``result 50`` "签名验证失败"). The maintained readers leave the signing to a page:
DIYgod/RSSHub ``lib/routes/kuaishou/profile.ts`` opens ``live.kuaishou.com/profile/<id>`` in
a browser (pictures, stylesheets, pings aborted) and captures the ``/live_api/profile/public``
answers it fetches; NanmiCoder/MediaCrawler ``media_platform/kuaishou/client.py`` asks the unsigned
GraphQL ``visionProfilePhotoList`` with a logged-in browser's cookies (the site has since moved
its pages to the signed REST calls); capture notes of public clients found through the code
index (repositories not named there) say the signer cannot be called from ``window``, that a
script's own ``fetch`` is not signed, that an anonymous feed is often refused (``result
109``) and that the web ``did`` is registered by the log SDK's ``POST
/rest/wd/common/log/collect/misc2`` (one claims a port of the signer to Python, which
cannot be checked against the site from here). So the calls must be the app's own. When a
check before left a Kuaishou page open, the check moves that page's app to the account's
profile as the site's own links move it (``BrowserPool.call(route=…)``: the URL pushed and
the ``popstate`` its router follows), and the app asks both APIs for it, signed — about a
quarter of a navigation's CPU on the simulator. Only answers the page asked for this
account are taken (the feed's ``user_id``, first page; the profile's ``Referer``), and
both are awaited, so this reads what a navigation reads. That the real app
asks again on ``popstate`` is inferred, not captured: an app that does not answer within
:data:`IN_APP_SECONDS`, or an answer not shown (a verification, an empty list), sends the
check to the page itself, as Douyin's does; after :data:`MISSES_TO_DOUBT` such waits in a row
the checks navigate at once for an hour (:class:`_InAppTrust`). The navigation is trimmed:
the page makes only its document, its scripts, the two APIs and that registration
(``BrowserPool.visit(keep=…)``): its stylesheets, pictures, beacons and other calls are
aborted in Chromium, and the page is stopped once the works are in. A trimmed page that
never asked for the works and shows neither a gone account nor a verification (a site that
changed what its app needs) is read again whole, so a call this check aborted is never
blamed on the account.

Origins: ``www`` (default ``https://www.kuaishou.com``); the ``live`` key of earlier versions is
still honoured for the same page. The id is ``Target.handle`` or the last path part of
``Target.url``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from probes.fetch import Tools
from probes.fetch.browser import BrowserError, PageResult
from probes.model import Observation, Outcome, Post, Profile, Sight, Target
from probes.platforms import plain_first
from probes.platforms.browsing import NO_BROWSER, dig, missing, page_observation
from probes.platforms.common import account_key, as_int, from_unix, origin, set_outcome
from probes.platforms.kuaishou import PLATFORM
from probes.platforms.registry import clock, failed, register

WWW_ORIGIN = PLATFORM.origins["www"]
FEED_API = r"/rest/v/profile/feed"
PROFILE_API = r"/rest/v/profile/get"
#: the log SDK's call that registers the visitor's ``did`` (public clients make it before the
#: profile answers): kept, with the two APIs, when the page's other requests are aborted
DID_LOG = r"/rest/wd/common/log/collect/misc2"
#: the calls a trimmed page still makes besides its document and scripts
KEEP = (FEED_API, PROFILE_API, DID_LOG)
#: how long the kept page's app may take to answer for another profile before the check
#: navigates (an app that does not follow its router's popstate costs a check this much)
IN_APP_SECONDS = 5.0
#: in-app waits in a row that came to nothing before the shortcut is doubted ...
MISSES_TO_DOUBT = 2
#: ... and left alone this long (then tried once again): an app that does not follow its
#: router would otherwise cost every check the wait before its navigation
DOUBT_SECONDS = 3600.0


class _InAppTrust:
    """Whether the kept page's app answers when moved (per origin, this process's memory).

    Why: that the real app asks again on ``popstate`` is inferred, not captured. If it does
    not, each check would wait :data:`IN_APP_SECONDS` for nothing before navigating; after
    :data:`MISSES_TO_DOUBT` such waits in a row the checks navigate at once for
    :data:`DOUBT_SECONDS`. Monotonic time: the wall clock may be pinned or jump."""

    def __init__(self) -> None:
        self._misses: dict[str, int] = {}
        self._doubted_until: dict[str, float] = {}

    def worth_trying(self, origin: str) -> bool:
        return time.monotonic() >= self._doubted_until.get(origin, 0.0)

    def answered(self, origin: str) -> None:
        self._misses.pop(origin, None)
        self._doubted_until.pop(origin, None)

    def waited_in_vain(self, origin: str) -> None:
        n = self._misses[origin] = self._misses.get(origin, 0) + 1
        if n >= MISSES_TO_DOUBT:
            self._misses[origin] = MISSES_TO_DOUBT - 1  # after the pause: one more try
            self._doubted_until[origin] = time.monotonic() + DOUBT_SECONDS


IN_APP = _InAppTrust()
GONE_MARKERS = ("用户不存在", "该用户已注销", "账号已注销", "账号已被封禁")
WITHHELD = "快手未向本次访问展示作品列表"


def base_url(target: Target) -> str:
    """The ``www`` origin, or the ``live`` one a configuration of an earlier version names."""
    if "www" not in target.origins and target.origins.get("live"):
        return target.origins["live"].rstrip("/")
    return origin(target, "www", WWW_ORIGIN)


@register("kuaishou")
async def read_kuaishou(target: Target, tools: Tools, *, whole: bool = False) -> Observation:
    """``whole``: the whole page navigated, no shortcut (what the shortcuts fall back to;
    tests hold the readings equal)."""
    pid = account_key(target)
    if not pid:
        return failed(target, clock(), "快手账号缺少 principalId（handle 或主页网址）")
    if tools.browser is None:
        return failed(target, clock(), NO_BROWSER)
    www = base_url(target)
    if not whole and IN_APP.worth_trying(www):
        answers = await tools.browser.call(
            "kuaishou",
            www,
            [],
            route=f"/profile/{pid}",
            capture=[FEED_API, PROFILE_API],
            wait_for=[FEED_API, PROFILE_API],  # both, or the page: what a navigation reads
            accept=_asked_for(pid),
            timeout=IN_APP_SECONDS,
        )
        if answers is not None and answers.captured:
            IN_APP.answered(www)
            obs = judge(page_observation(target, answers, answers.url), answers)
            if plain_first.shown(obs):
                return obs
        elif answers is not None:  # the kept page's app did not answer (None: no page kept)
            IN_APP.waited_in_vain(www)
    url = f"{www}/profile/{pid}"
    try:
        page = await _visit(tools, url, keep=None if whole else list(KEEP))
        if not whole and page.first(FEED_API) is None and (page.status or 200) < 400:
            said = missing(page_observation(target, page, url), page, "作品列表", GONE_MARKERS)
            if said.outcome is Outcome.error:
                # neither gone nor a verification, and no works asked for: maybe for want of
                # a request this check aborted — the whole page is judged, as before
                page = await _visit(tools, url, keep=None)
    except BrowserError as e:
        return failed(target, clock(), e.message)
    obs = page_observation(target, page, url)
    if obs.outcome is not Outcome.ok:
        return obs
    return judge(obs, page)


def judge(obs: Observation, page: PageResult) -> Observation:
    """The feed and profile answers, whether a navigation captured them or the kept page's
    app fetched them for this check (``page.html`` "": no document)."""
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


def _asked_for(pid: str) -> Callable[[Any], bool]:
    """Whether a request the kept page's app made asked for ``pid``: the works naming ``pid``
    in their body, first page; the profile made from ``pid``'s profile page (its
    ``Referer``: that API names no account, the server reads the page). An answer for the
    account the page showed before this check is never taken for this one's."""

    def accept(request: Any) -> bool:
        if not re.search(FEED_API, request.url):
            referer = str((request.headers or {}).get("referer", ""))
            return urlsplit(referer).path.rstrip("/").rsplit("/", 1)[-1] == pid
        try:
            body = json.loads(request.post_data or "")
        except ValueError:
            return False
        return (
            isinstance(body, dict) and str(body.get("user_id")) == pid and not body.get("pcursor")
        )

    return accept


async def _visit(tools: Tools, url: str, keep: list[str] | None) -> PageResult:
    """The profile page in the pool; with ``keep``, only its document, scripts and those
    calls are made (stylesheets, pictures, beacons and its other calls aborted)."""
    assert tools.browser is not None
    return await tools.browser.visit(
        "kuaishou", url, capture=[FEED_API, PROFILE_API], wait_for=[FEED_API], keep=keep
    )


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
