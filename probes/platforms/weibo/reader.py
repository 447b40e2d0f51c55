"""Reader "weibo": a Weibo account over HTTP, through the public mobile container API.

Three requests (DOMAIN §7):

1. ``{m}/api/container/getIndex?type=uid&value=<uid>`` → ``data.userInfo`` (name, bio,
   avatar, verification) and the posts tab's ``containerid`` (``tabsInfo.tabs[]``);
2. the same with ``&containerid=<id>`` → ``data.cards[].mblog`` (:mod:`.posts
   <probes.platforms.weibo.posts>`: dates, pins, reposts, links), ``source`` = the posting
   client, ``region_name`` = IP;
3. ``{www}/ajax/profile/info?uid=<uid>`` → ``data.user.{verified, verified_type,
   verified_reason, followers_count, statuses_count}``; best effort: the account was already
   read, so a failure here only leaves those fields empty (noted in ``detail``).

What it cannot tell: an empty posts list — ``ok: 0`` "这里还没有内容", or ``ok: 1`` with no
cards — answers a withheld list as well as an empty account. With the profile's
``statuses_count`` at 0 it is the platform's word that the account has posted nothing
(``Sight.none``: judged); otherwise the list was not shown to us (``unreadable``, with the
count). "这里还没有内容" instead of the profile is ``unreadable`` too, never "gone": only
Weibo's own words for a cancelled or banned account are. A login wall (``ok: -100``, a
redirect to the sign-in page) is ``blocked`` with ``login_required``.

Origins (``Target.origins``): ``m`` (default ``https://m.weibo.cn``), ``www`` (default
``https://weibo.com``) and ``passport`` (default ``https://passport.weibo.com``). The uid is
``Target.handle`` or read from ``Target.url`` (``weibo.com/u/<uid>``, ``m.weibo.cn/u/<uid>``,
``weibo.com/<uid>``).

Visitor cookies (DOMAIN §7): Weibo answers a request without cookies with a 302 to
``passport.weibo.com/visitor/visitor?a=enter...``, a page whose script POSTs
``/visitor/genvisitor`` (``cb=gen_callback&fp=<fingerprint JSON>``) for a ``tid``, then GETs
``/visitor/visitor?a=incarnate&t=<tid>...``, which answers ``{"sub", "subp"}`` and sets the
``SUB``/``SUBP`` cookies; an unknown or expired ``SUB`` gets HTTP 432. The reader does what
that script does when it is sent to the visitor page or gets a 432, then retries the request
once. The cookies live in the fetcher's ``weibo`` jar, so later accounts reuse them until they
stop working; one task renews them while the others wait. If the flow fails, or the retry is
turned away again, the outcome is ``blocked`` (as for 412/418 or ``ok: -100``), never stale
or gone; for a minute after a failed flow later accounts are blocked without asking again.
The visitor page answered in place of the API (the "Sina Visitor System" HTML, status 200)
is treated as the redirect to it.
A site firewall's page in between is ``blocked`` too (``probes.fetch.waf``).

Comments: the container API's mblog shapes the tests hold carry no comment switch
(``comment_manage_info`` is not in them), so ``comments_disabled`` is left None here until
a captured answer shows the field and its values. The public comments under the newest posts
(互动回应) are read by :mod:`.comments <probes.platforms.weibo.comments>`, within a bound.
"""

from __future__ import annotations

import json
import random
import re
import time
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import structlog

from probes.fetch import Tools
from probes.fetch.http import Fetcher, FetchError, PlatformJar, Response
from probes.fetch.waf import recognise as waf_challenge
from probes.model import Observation, Outcome, Profile, Sight, Target
from probes.platforms.common import (
    add_json_artifact,
    as_int,
    cookie_domain,
    first_marker,
    load_json,
    origin,
    set_outcome,
    strip_ip_prefix,
)
from probes.platforms.registry import (
    clock,
    describe_status,
    failed,
    observation_from,
    outcome_for_status,
    register,
)
from probes.platforms.weibo import PLATFORM
from probes.platforms.weibo.comments import read_comments
from probes.platforms.weibo.posts import mblogs, parse_created_at, post

__all__ = ["PLATFORM", "parse_created_at", "read_weibo", "weibo_uid"]

log = structlog.get_logger("xuncha.probe.weibo")

JAR = "weibo"  # the fetcher's cookie jar of the platform
M_ORIGIN = PLATFORM.origins["m"]
WWW_ORIGIN = PLATFORM.origins["www"]
PASSPORT_ORIGIN = PLATFORM.origins["passport"]
VISITOR_OK = 20000000  # genvisitor / incarnate ``retcode`` for success
#: after a failed renewal, later accounts are "blocked" for this long without asking again
RENEW_BACKOFF_SECONDS = 60.0
_FAILED: weakref.WeakKeyDictionary[PlatformJar, tuple[float, str]] = weakref.WeakKeyDictionary()
#: what the visitor page's script reports about the browser (genvisitor ``fp``)
FINGERPRINT = {
    "os": "1",
    "browser": "Chrome131,0,0,0",
    "fonts": "undefined",
    "screenInfo": "1920*1080*24",
    "plugins": "",
}
#: Words Weibo uses for an account that is gone (deleted, banned, cancelled).
GONE_MARKERS = (
    "用户不存在",
    "该账号已注销",
    "账号已注销",
    "已被封禁",
    "账号已被冻结",
    "现已无法查看",
    "该用户已被屏蔽",
)
#: Weibo's "nothing here": an empty account, or a list not shown to us (judged by the count)
EMPTY_WORD = "这里还没有内容"
VISITOR_SYSTEM = "Sina Visitor System"  # the visitor page's <title>
#: Hosts/paths of the visitor and login pages: reaching one means we were turned away.
_BLOCK_PATHS = ("/visitor", "/signin", "/login", "/sso/")
_BLOCK_HOSTS = ("passport.weibo.com", "passport.weibo.cn", "login.sina.com.cn")
_BLOCK_STATUSES = (412, 418, 432)
_JSONP = re.compile(r"\(\s*(\{.*\})\s*\)\s*;?\s*$", re.S)
_UID_IN_URL = re.compile(r"/(?:u/|profile/)?(\d{4,})(?:[/?#]|$)")
_LOGIN_PATHS = ("/signin", "/login", "/sso/")

JSON_ACCEPT = "application/json, text/plain, */*"


@register("weibo")
async def read_weibo(target: Target, tools: Tools) -> Observation:
    uid = weibo_uid(target)
    if not uid:
        return failed(target, clock(), "微博账号缺少 uid（handle 或 weibo.com/u/<uid> 网址）")
    m = origin(target, "m", M_ORIGIN)
    www = origin(target, "www", WWW_ORIGIN)
    api = _Api(tools.http, target, m, www)

    resp = await api.get(f"{m}/api/container/getIndex?type=uid&value={uid}")
    obs = observation_from(target, resp, kind="json", default_media_type="application/json")
    data = _check(obs, resp, api.failure)
    if data is None:
        return obs
    info = (data.get("data") or {}).get("userInfo") or {}
    if not info and EMPTY_WORD in str(data.get("msg") or ""):
        why = f"微博未返回账号资料（接口返回“{EMPTY_WORD}”，不代表账号已注销）"
        return set_outcome(obs, Outcome.unreadable, why)
    if not info:
        return set_outcome(obs, Outcome.not_found, "微博账号不存在或已注销（没有用户信息）")
    obs.profile = _profile(info)

    cid = _posts_container(data, uid)
    resp = await api.get(f"{m}/api/container/getIndex?type=uid&value={uid}&containerid={cid}")
    _merge(obs, resp)
    data = _check(obs, resp, api.failure)
    if data is None:
        return obs
    found = mblogs(data)
    obs.posts = [post(mb, uid) for mb in found]
    if obs.profile.ip_location is None:
        latest = [p for p in found if p.get("region_name")]
        if latest:
            obs.profile.ip_location = strip_ip_prefix(latest[0]["region_name"])

    await _profile_info(obs, api, f"{www}/ajax/profile/info?uid={uid}")
    if obs.outcome is Outcome.ok:  # 互动回应: the comments under the newest posts, bounded
        await read_comments(obs, api.get, m, found, uid)
    if obs.posts or obs.outcome is not Outcome.ok:
        return obs
    return _empty(obs, data)


def _empty(obs: Observation, data: dict[str, Any]) -> Observation:
    """An answered posts list with nothing in it: the platform's word only with a count of 0."""
    said = f"接口返回“{EMPTY_WORD}”" if data.get("ok") not in (1, "1", True) else "列表为空"
    count = obs.profile.posts_count
    if count == 0:
        obs.sight = Sight.none  # 0 微博 and an empty list: nothing posted, and judged so
        return obs
    shown = f"资料显示有 {count} 条微博" if count else "资料未显示微博数"
    return set_outcome(obs, Outcome.unreadable, f"微博未向本次访问展示微博列表（{shown}，{said}）")


@dataclass
class _Api:
    """Weibo's JSON API with the platform's visitor cookies, renewed when they stop working."""

    fetcher: Fetcher
    target: Target
    m: str
    www: str
    failure: str = ""  # why the last renewal failed ("" = it did not fail)

    async def get(self, url: str) -> Response:
        """GET ``url``; if turned away for want of visitor cookies, get them and retry once."""
        headers = {"Accept": JSON_ACCEPT, "X-Requested-With": "XMLHttpRequest", "MWeibo-Pwa": "1"}
        jar = self.fetcher.jar(JAR)
        sent = jar.value("SUB")
        first = await self.fetcher.get(url, headers=headers, platform=JAR)
        self.failure = ""
        if not needs_visitor(first):
            return first
        self.failure = await self._renew(sent)
        if self.failure:
            return first
        resp = await self.fetcher.get(url, headers=headers, platform=JAR)
        resp.redirects = first.redirects + resp.redirects  # the whole way is evidence
        if needs_visitor(resp):
            self.failure = "取得访客 Cookie 后仍被转到访客页或 HTTP 432"
        return resp

    async def _renew(self, sent: str | None) -> str:
        """New visitor cookies, once for all the accounts waiting; "" or why it failed."""
        jar = self.fetcher.jar(JAR)
        async with jar.renewal:
            current = jar.value("SUB")
            if current is not None and current != sent:
                return ""  # another account renewed them while this one waited
            failed = _FAILED.get(jar)
            if failed is not None and time.monotonic() - failed[0] < RENEW_BACKOFF_SECONDS:
                return failed[1]  # the visitor system just refused: do not ask per account
            jar.clear()  # the weibo jar only: other platforms keep their sessions
            reason = await self._flow()
            if reason:
                _FAILED[jar] = (time.monotonic(), reason)
                log.info("weibo_visitor_failed", account=self.target.account_id, reason=reason)
            else:
                _FAILED.pop(jar, None)
                log.info("weibo_visitor_renewed", account=self.target.account_id)
            return reason

    async def _flow(self) -> str:
        """Run the visitor page's script: genvisitor, then incarnate. "" or why it failed."""
        jar = self.fetcher.jar(JAR)
        passport = origin(self.target, "passport", PASSPORT_ORIGIN)
        try:
            data = await self._genvisitor(passport)
            if isinstance(data, str):
                return data
            tid = str(data.get("tid") or "")
            w = 3 if data.get("new_tid") else 2
            c = f"{as_int(data.get('confidence')) or 100:03d}"
            resp = await self.fetcher.get(
                f"{passport}/visitor/visitor?a=incarnate&t={quote(tid, safe='')}&w={w}"
                f"&c={c}&gc=&cb=cross_domain&from=weibo&_rand={random.random():.16f}",
                headers={"Referer": f"{passport}/visitor/visitor?entry=miniblog&a=enter"},
                platform=JAR,
            )
        except FetchError as e:
            return f"访客接口无法访问：{e.message}"
        got = _visitor_answer(resp, "incarnate")
        if isinstance(got, str):
            return got
        self._cross_domain(str(got.get("sub") or ""), str(got.get("subp") or ""))
        if jar.value("SUB") is None:
            return "incarnate 未给出 SUB Cookie"
        return ""

    async def _genvisitor(self, passport: str) -> dict[str, Any] | str:
        fp = json.dumps(FINGERPRINT, separators=(",", ":"))
        # generating a visitor has no effect a second one would double: safe to resend
        resp = await self.fetcher.post(
            f"{passport}/visitor/genvisitor",
            data={"cb": "gen_callback", "fp": fp},
            headers={"Referer": f"{passport}/visitor/visitor?entry=miniblog&a=enter"},
            platform=JAR,
            idempotent=True,
        )
        return _visitor_answer(resp, "genvisitor")

    def _cross_domain(self, sub: str, subp: str) -> None:
        """What the ``cross_domain`` callback does: the same visitor on the API hosts too."""
        jar = self.fetcher.jar(JAR)
        for base in (self.m, self.www):
            domain = cookie_domain(urlsplit(base).hostname or "")
            if (
                sub
                and domain
                and not any(c.name == "SUB" and c.domain == domain for c in jar.cookies.jar)
            ):
                jar.set("SUB", sub, domain)
                if subp:
                    jar.set("SUBP", subp, domain)


def needs_visitor(resp: Response) -> bool:
    """Sent to the visitor page, or 432 (no/expired ``SUB``): visitor cookies would help."""
    if resp.status == 432 or visitor_page(resp):
        return True
    return turned_away(resp) and urlsplit(resp.final_url).path.startswith("/visitor")


def visitor_page(resp: Response) -> bool:
    """Weibo's bot check answered in place of the API: the "Sina Visitor System" page."""
    return resp.media_type == "text/html" and VISITOR_SYSTEM in resp.text[:4000]


def login_wall(resp: Response) -> bool:
    """Sent to a sign-in page (not the visitor page): only a logged-in session gets further."""
    parts = urlsplit(resp.final_url)
    return parts.hostname == "login.sina.com.cn" or parts.path.startswith(_LOGIN_PATHS)


def _visitor_answer(resp: Response, step: str) -> dict[str, Any] | str:
    """``data`` of a visitor JSONP answer, or why it failed (Chinese)."""
    if resp.status != 200:
        return f"{step} 返回 HTTP {resp.status}"
    m = _JSONP.search(resp.text.strip())
    body = load_json(m.group(1)) if m else load_json(resp.text)
    if not isinstance(body, dict):
        return f"{step} 返回的不是 JSONP"
    if as_int(body.get("retcode")) != VISITOR_OK:
        msg = str(body.get("msg") or "")
        return f"{step} retcode={body.get('retcode')}" + (f"：{msg}" if msg else "")
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def weibo_uid(target: Target) -> str:
    if target.handle.strip().isdigit():
        return target.handle.strip()
    m = _UID_IN_URL.search(urlsplit(target.url).path + "/") if target.url else None
    return m.group(1) if m else ""


def _merge(obs: Observation, resp: Response) -> None:
    """Fold a follow-up request into the observation: its hops and raw body are evidence."""
    obs.redirects.extend(resp.redirects)
    obs.status_code = resp.status
    obs.final_url = resp.final_url
    obs.elapsed_ms += resp.elapsed_ms
    add_json_artifact(obs, resp)


def turned_away(resp: Response) -> bool:
    """True when the answer is Weibo's visitor/login page rather than the API."""
    parts = urlsplit(resp.final_url)
    host = (parts.hostname or "").lower()
    if host in _BLOCK_HOSTS:
        return True
    # only where the bounce ended counts: passing through the visitor page is the normal flow
    return parts.path.startswith(_BLOCK_PATHS)


def _check(obs: Observation, resp: Response, visitor_failure: str = "") -> dict[str, Any] | None:
    """The JSON body if the answer is usable; otherwise set the outcome and return None."""
    if visitor_failure:
        set_outcome(obs, Outcome.blocked, f"被微博访客验证拦截（{visitor_failure}）")
        return None
    if turned_away(resp) and login_wall(resp):
        set_outcome(obs, Outcome.blocked, "微博要求登录（跳转到登录页）")
        obs.login_required = True
        return None
    if turned_away(resp) or visitor_page(resp):
        set_outcome(obs, Outcome.blocked, "被微博访客验证拦截（Sina Visitor System 访客页）")
        return None
    if resp.status in _BLOCK_STATUSES:
        set_outcome(obs, Outcome.blocked, f"被微博风控拦截（HTTP {resp.status}）")
        return None
    status_outcome = outcome_for_status(resp.status)
    if status_outcome is not None:
        set_outcome(obs, status_outcome, describe_status(resp.status))
        return None
    data = load_json(resp.text)
    if not isinstance(data, dict):
        if first_marker(resp.text, ("验证码", "安全验证", "环境异常")):
            set_outcome(obs, Outcome.blocked, "被微博安全验证拦截（验证码页面）")
        elif wall := waf_challenge(resp):  # a firewall in between, not Weibo's own check
            set_outcome(obs, Outcome.blocked, wall)
        else:
            set_outcome(obs, Outcome.error, "微博接口没有返回 JSON")
        return None
    ok = data.get("ok")
    if ok in (1, "1", True):
        return data
    msg = str(data.get("msg") or "")
    if ok in (-100, "-100") or "登录" in msg:
        set_outcome(obs, Outcome.blocked, f"微博要求登录（{msg or 'ok=-100'}）")
        obs.login_required = True
    elif EMPTY_WORD in msg:
        return data  # not "gone": the caller weighs it against the profile's count
    elif marker := first_marker(msg, GONE_MARKERS):
        set_outcome(obs, Outcome.not_found, f"微博账号已不存在：{msg or marker}")
    else:
        set_outcome(obs, Outcome.error, f"微博接口返回错误：{msg or f'ok={ok}'}")
    return None


def _posts_container(data: dict[str, Any], uid: str) -> str:
    tabs = ((data.get("data") or {}).get("tabsInfo") or {}).get("tabs") or []
    for tab in tabs:
        if isinstance(tab, dict) and tab.get("tabKey") == "weibo" and tab.get("containerid"):
            return str(tab["containerid"])
    return f"107603{uid}"  # the well-known prefix of a user's posts container


def _profile(info: dict[str, Any]) -> Profile:
    verified = info.get("verified")
    vtype = info.get("verified_type")
    return Profile(
        name=info.get("screen_name") or None,
        bio=info.get("description") or None,
        avatar_url=info.get("avatar_hd") or info.get("profile_image_url") or None,
        verified=bool(verified) if verified is not None else None,
        verified_type=str(vtype) if vtype is not None else None,
        verified_reason=info.get("verified_reason") or None,
        ip_location=strip_ip_prefix(info.get("ip_location")),
        followers=as_int(info.get("followers_count")),
        posts_count=as_int(info.get("statuses_count")),
    )


async def _profile_info(obs: Observation, api: _Api, url: str) -> None:
    """Verification and counts from weibo.com; best effort (the posts are already read)."""
    try:
        resp = await api.get(url)
    except FetchError as e:
        obs.detail = f"认证信息未取到：{e.message}"
        return
    obs.redirects.extend(resp.redirects)
    add_json_artifact(obs, resp)
    data = load_json(resp.text) if resp.status == 200 and not turned_away(resp) else None
    user = ((data or {}).get("data") or {}).get("user") if isinstance(data, dict) else None
    msg = str(data.get("msg") or "") if isinstance(data, dict) else ""
    if marker := first_marker(msg, GONE_MARKERS):
        set_outcome(obs, Outcome.not_found, f"微博账号已不存在：{msg or marker}")
        return
    if not isinstance(user, dict):
        obs.detail = "认证信息未取到（weibo.com 资料接口被拦截或无数据）"
        return
    p = obs.profile
    if "verified" in user:
        p.verified = bool(user["verified"])
    if user.get("verified_type") is not None:
        p.verified_type = str(user["verified_type"])
    if "verified_reason" in user:
        p.verified_reason = user.get("verified_reason") or None
    p.followers = as_int(user.get("followers_count")) or p.followers
    p.posts_count = as_int(user.get("statuses_count")) or p.posts_count
    p.name = user.get("screen_name") or p.name
    p.bio = user.get("description") or p.bio
    p.ip_location = strip_ip_prefix(user.get("ip_location")) or p.ip_location
