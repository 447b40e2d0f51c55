"""Reader "douyin": a Douyin account through the browser (its web APIs are signed).

The user page ``{www}/user/<sec_uid>`` calls
``/aweme/v1/web/user/profile/other/`` → ``user.{nickname, signature,
enterprise_verify_reason, ip_location, is_gov_media_vip, follower_count, aweme_count}`` and
``/aweme/v1/web/aweme/post/`` → ``aweme_list[].{aweme_id, desc, create_time (unix s),
is_top, aweme_control.can_comment}``; the reader captures both. ``can_comment`` false
fills ``Post.comments_disabled``.

Origins: ``www`` (default ``https://www.douyin.com``). The sec_uid is ``Target.handle`` or the
last path part of ``Target.url``. Gone: ``status_code`` ≠ 0 with "用户不存在"/"已注销"…, or
those words on the page; captcha page = blocked.
"""

from __future__ import annotations

from typing import Any

from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Profile, Target
from probes.platforms.browsing import dig, missing, open_page
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
GONE_MARKERS = ("用户不存在", "该账号已注销", "账号已注销", "账号已被封禁", "该用户已被封禁")


@register("douyin")
async def read_douyin(target: Target, tools: Tools) -> Observation:
    sec_uid = account_key(target)
    if not sec_uid:
        return failed(target, clock(), "抖音账号缺少 sec_uid（handle 或用户页网址）")
    url = f"{origin(target, 'www', WWW_ORIGIN)}/user/{sec_uid}"
    obs, page = await open_page(
        target, tools.browser, "douyin", url, capture=[POSTS_API, PROFILE_API]
    )
    if page is None or obs.outcome is not Outcome.ok:
        return obs
    prof = page.first(PROFILE_API)
    user = dig(prof.data, "user") if prof else None
    if (
        prof is not None
        and isinstance(prof.data, dict)
        and prof.data.get("status_code")
        not in (
            0,
            None,
        )
    ):
        msg = str(prof.data.get("status_msg") or "")
        if marker := first_marker(msg, GONE_MARKERS):
            return set_outcome(obs, Outcome.not_found, f"抖音账号已不存在：{msg or marker}")
        return set_outcome(
            obs, Outcome.blocked, f"抖音接口拒绝（status_code={prof.data['status_code']}）"
        )
    if isinstance(user, dict):
        obs.profile = _profile(user)
    posts = page.first(POSTS_API)
    if posts is None or not isinstance(posts.data, dict):
        return missing(obs, page, "作品列表", GONE_MARKERS)
    obs.posts = [_post(a) for a in posts.data.get("aweme_list") or [] if isinstance(a, dict)]
    return obs


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
