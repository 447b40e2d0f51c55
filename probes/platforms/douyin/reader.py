"""Reader "douyin": a Douyin account through the browser (its web APIs are signed in page).

Reads: the user page ``{www}/user/<sec_uid>``, whose script calls
``/aweme/v1/web/user/profile/other/`` → ``status_code``, ``user.{nickname, signature,
enterprise_verify_reason, ip_location, is_gov_media_vip, follower_count, aweme_count}`` and
``/aweme/v1/web/aweme/post/`` → ``status_code``, ``has_more``, ``aweme_list[].{aweme_id, desc,
create_time (unix s), is_top, aweme_control.can_comment}``; the reader captures both.
``aweme_count`` is the profile's post counter (``Profile.posts_count``); ``is_top`` keeps a
post pinned; ``can_comment`` false fills ``Post.comments_disabled``.

Cannot read: what Douyin withholds from an anonymous visitor. Today it often answers
``status_code 0`` with ``aweme_list: []`` or ``null`` and ``has_more 0`` while the profile
counts hundreds of works: that is ``unreadable`` ("抖音未向未登录访客展示作品列表"), never an
empty account. Only an empty list *and* a profile counter of 0 is Douyin's word that the account
has no works (``Sight.none``: judged, and stale if the rules say so). Verification is
``blocked``: the "验证码中间页" (``verify_data``) in place of the user page, an API answer that
is empty or not JSON, or one carrying a ``verify_*`` object (``type: "verify"``) instead of
posts. Gone: ``status_code`` ≠ 0 with "用户不存在"/"已注销"…, or those words on the page.

How: the APIs are signed by the site's own script (``a_bogus``, whose public ports need a
logged-in cookie and a fingerprint to be answered: Evil0ctal/Douyin_TikTok_Download_API
issues #435, #563, #652 — "响应内容为空, 状态码: 200" without one), so Douyin stays in the
browser — but a check need not load a page: when the platform's context already keeps a page
open on douyin.com (any check before left one), the two APIs are asked by that page's own
``XMLHttpRequest`` (:meth:`probes.fetch.browser.BrowserPool.call`), which ByteDance's page
script signs as it signs the page's calls (lixi5338619/magical_spider: in-page XHR "适用于…头条系
的请求过程加密"), at a tenth of a navigation's CPU. An answer that is not shown to us there (an
empty body, a verification) sends the check to the user page itself, as before.

Origins: ``www`` (default ``https://www.douyin.com``). The sec_uid is ``Target.handle`` or the
last path part of ``Target.url``.
"""

from __future__ import annotations

from typing import Any

from probes.fetch import Tools
from probes.fetch.browser import Captured, PageResult
from probes.model import Observation, Outcome, Post, Profile, Sight, Target
from probes.platforms import plain_first
from probes.platforms.browsing import dig, missing, open_page, page_observation
from probes.platforms.common import (
    account_key,
    as_int,
    first_marker,
    from_unix,
    origin,
    set_outcome,
)
from probes.platforms.common import strip_ip_prefix as ip
from probes.platforms.douyin import PLATFORM
from probes.platforms.registry import clock, failed, register

WWW_ORIGIN = PLATFORM.origins["www"]
POSTS_API = r"/aweme/v1/web/aweme/post/"
PROFILE_API = r"/aweme/v1/web/user/profile/other/"
#: the query the user page gives both APIs (the site's script adds its signature)
API_QUERY = "device_platform=webapp&aid=6383&channel=channel_pc_web&sec_user_id="
GONE_MARKERS = ("用户不存在", "该账号已注销", "账号已注销", "账号已被封禁", "该用户已被封禁")
#: the verification page Douyin serves in place of a page (it holds ``const verify_data``)
VERIFY_PAGE_MARKERS = ("验证码中间页",)
WITHHELD = "抖音未向未登录访客展示作品列表"


@register("douyin")
async def read_douyin(target: Target, tools: Tools) -> Observation:
    sec_uid = account_key(target)
    if not sec_uid:
        return failed(target, clock(), "抖音账号缺少 sec_uid（handle 或用户页网址）")
    www = origin(target, "www", WWW_ORIGIN)
    if tools.browser is not None:
        asked = [f"{www}{PROFILE_API}?{API_QUERY}{sec_uid}",
                 f"{www}{POSTS_API}?{API_QUERY}{sec_uid}&max_cursor=0&count=18"]  # fmt: skip
        answers = await tools.browser.call("douyin", www, asked)
        if answers is not None:
            obs = page_observation(target, answers)
            obs.final_url = asked[1]  # no document: the list as asked (the kept page is another's)
            obs = judge(obs, answers)
            if plain_first.shown(obs):
                return obs
    obs, page = await open_page(
        target, tools.browser, "douyin", f"{www}/user/{sec_uid}", capture=[POSTS_API, PROFILE_API]
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    return judge(obs, page)


def judge(obs: Observation, page: PageResult) -> Observation:
    """The profile and post answers, whether the user page fetched them or this check asked
    them from a page already open (``page.html`` "": no document to judge)."""
    prof, posts = page.first(PROFILE_API), page.first(POSTS_API)
    if refusal := _refused(prof):
        return set_outcome(obs, *refusal)
    if why := _verification(page, prof, posts):
        return set_outcome(obs, Outcome.blocked, why)
    user = dig(prof.data, "user") if prof else None
    if isinstance(user, dict):
        obs.profile = _profile(user)
    if posts is None:
        if not page.html:
            return set_outcome(obs, Outcome.error, "抖音作品接口未应答")
        return missing(obs, page, "作品列表", GONE_MARKERS)
    if refusal := _refused(posts):
        return set_outcome(obs, *refusal)
    items = posts.data.get("aweme_list") or []
    obs.posts = [_post(a) for a in items if isinstance(a, dict)]
    if not obs.posts:
        _no_posts(obs, counted=isinstance(user, dict))
    return obs


def _refused(c: Captured | None) -> tuple[Outcome, str] | None:
    """A JSON answer whose ``status_code`` is not 0: gone ("已注销"…) or refused."""
    if c is None or not isinstance(c.data, dict) or c.data.get("status_code") in (0, None):
        return None
    msg = str(c.data.get("status_msg") or "")
    if marker := first_marker(msg, GONE_MARKERS):
        return Outcome.not_found, f"抖音账号已不存在：{msg or marker}"
    return Outcome.blocked, f"抖音接口拒绝（status_code={c.data['status_code']}）"


def _verification(page: PageResult, *answers: Captured | None) -> str | None:
    """Why this visit met Douyin's verification instead of the account, or None."""
    if first_marker(page.html, VERIFY_PAGE_MARKERS):
        return "抖音要求完成验证（验证码页面），未展示账号内容"
    for c in answers:
        if c is None:
            continue
        if not c.body.strip():
            return "抖音接口返回空内容（风控验证），未展示账号内容"
        if not isinstance(c.data, dict):
            return "抖音接口返回的不是数据（风控验证），未展示账号内容"
        if c.data.get("type") == "verify" or any(str(k).startswith("verify") for k in c.data):
            return "抖音接口要求完成验证（verify），未展示账号内容"
    return None


def _no_posts(obs: Observation, *, counted: bool) -> None:
    """An empty ``aweme_list``: Douyin's word only when the profile counts 0 works."""
    n = obs.profile.posts_count
    if counted and n == 0:
        obs.sight = Sight.none
        obs.detail = "抖音资料显示作品数为 0，作品列表为空"
    elif n:
        set_outcome(obs, Outcome.unreadable, f"{WITHHELD}（资料显示有 {n} 个作品）")
    else:
        set_outcome(obs, Outcome.unreadable, f"{WITHHELD}（资料未显示作品数）")


def _profile(u: dict[str, Any]) -> Profile:
    reason = u.get("enterprise_verify_reason") or u.get("custom_verify") or None
    gov = u.get("is_gov_media_vip")
    return Profile(
        name=u.get("nickname") or None,
        bio=u.get("signature") or None,
        avatar_url=(
            dig(u, "avatar_larger", "url_list", 0) or dig(u, "avatar_thumb", "url_list", 0)
        ),
        verified=bool(reason) or bool(gov),
        verified_type="gov_media_vip" if gov else ("enterprise" if reason else None),
        verified_reason=reason,
        ip_location=ip(u.get("ip_location")),
        followers=as_int(u.get("follower_count")),
        posts_count=as_int(u.get("aweme_count")),
    )


def _post(a: dict[str, Any]) -> Post:
    aid = str(a.get("aweme_id") or "")
    return Post(
        id=aid,
        published_at=from_unix(a.get("create_time")),
        text=str(a.get("desc") or ""),
        url=f"https://www.douyin.com/video/{aid}",
        pinned=bool(as_int(a.get("is_top"))),
        comments_disabled=_comments_off(a),
    )


def _comments_off(a: dict[str, Any]) -> bool | None:
    """``aweme_control.can_comment`` false: the author switched comments off (None when the
    item does not say). The profile API carries no account-wide switch."""
    can = dig(a, "aweme_control", "can_comment")
    return (not can) if isinstance(can, bool) else None
