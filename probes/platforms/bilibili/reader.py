"""Reader "bilibili": a Bilibili space over HTTP — its 动态 and its videos, WBI-signed.

Three signed requests, as the space page makes them (:mod:`probes.platforms.bilibili.api`;
answers documented in ``tests/fixtures/platforms/bilibili/SOURCES.md``):

- ``/x/space/wbi/acc/info`` → ``data.{name, sign, face, official.{type, role, title}}``;
  ``code`` -404/-626 = the account does not exist (``not_found``);
- ``/x/polymer/web-dynamic/v1/feed/space?host_mid=`` → ``data.items[]`` (动态: text,
  pictures, articles, videos, reposts), dated ``modules.module_author.pub_ts`` (unix s),
  pinned when ``modules.module_tag.text`` is "置顶", a repost when ``type`` is
  ``DYNAMIC_TYPE_FORWARD``; links from the rich-text nodes (网页链接, 商品) and goods cards;
- ``/x/space/wbi/arc/search`` → ``data.list.vlist[]`` (videos, ``created`` unix s) and
  ``data.page.count`` (the account's video counter: ``Profile.posts_count``).

Videos and 动态 are both posts (an account that posts 动态 every other day and a video a
month is active); a video that also shows as a 动态 is one post, pinned if either shows it
pinned. Risk control (HTTP 412, ``code -352``, a bare ``v_voucher``) is ``blocked``;
``code -101`` (login required) is ``blocked`` with ``login_required``.

What it cannot tell: the 动态 list is the account's activity, so when it is refused or
comes back empty while the account has videos, the videos alone are not judged
(``blocked``/``unreadable``: a month-old video says nothing of yesterday's 动态). The
platform has no 动态 counter; only an empty 动态 list (``has_more`` false) together with a
video counter of 0 is taken as its word that the account has posted nothing
(``Sight.none``). A refused or failed video list leaves the 动态 judged alone (videos
appear among the 动态), noted in ``detail``.

Origins: ``api`` (default ``https://api.bilibili.com``) and ``space`` (default
``https://space.bilibili.com``: the page named as referer and account URL). The mid is
``Target.handle`` or the first path part of ``Target.url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from probes.fetch import Tools
from probes.fetch.http import FetchError
from probes.model import Observation, Outcome, Post, Profile, Sight, Target
from probes.platforms.bilibili import PLATFORM
from probes.platforms.bilibili.api import GONE_CODES, LOGIN_CODE, Answer, BiliApi
from probes.platforms.browsing import dig
from probes.platforms.common import add_json_artifact, as_int, from_unix, origin, set_outcome
from probes.platforms.registry import clock, failed, observation_from, register

API_ORIGIN = PLATFORM.origins["api"]
SPACE_ORIGIN = PLATFORM.origins["space"]
INFO_PATH = "/x/space/wbi/acc/info"
VIDEOS_PATH = "/x/space/wbi/arc/search"
DYNAMICS_PATH = "/x/polymer/web-dynamic/v1/feed/space"
#: the ``features`` the space page asks the 动态 list for (docs/dynamic/space.md)
FEATURES = (
    "itemOpusStyle,listOnlyfans,opusBigCover,onlyfansVote,forwardListHidden,decorationCard,"
    "commentsNewVersion,onlyfansAssetsV2,ugcDelete,onlyfansQaCard"
)
FORWARD = "DYNAMIC_TYPE_FORWARD"
PINNED_TAG = "置顶"
#: rich-text nodes whose ``jump_url`` leaves the post (docs/opus/rich_text_nodes.md)
LINK_NODES = ("RICH_TEXT_NODE_TYPE_WEB", "RICH_TEXT_NODE_TYPE_GOODS", "RICH_TEXT_NODE_TYPE_TAOBAO")


@register("bilibili")
async def read_bilibili(target: Target, tools: Tools) -> Observation:
    mid = target.handle.strip() or urlsplit(target.url).path.strip("/").split("/")[0]
    if not mid.isdigit():
        return failed(target, clock(), "B站账号缺少 mid（handle 或空间网址）")
    space = f"{origin(target, 'space', SPACE_ORIGIN)}/{mid}"
    api = BiliApi(tools.http, origin(target, "api", API_ORIGIN), f"{space}/dynamic")
    web = {"platform": "web", "web_location": "1550101"}
    info = await api.get(INFO_PATH, {"mid": mid, "token": "", **web})
    if isinstance(info, str):
        return failed(target, clock(), info)
    obs = observation_from(target, info.resp, kind="json", default_media_type="application/json")
    obs.url = target.url or space
    obs.final_url = unsigned(obs.final_url)
    if _judged(obs, info, "资料"):
        return obs
    obs.profile = _profile(info.data if isinstance(info.data, dict) else {})
    dynamics, videos = await asyncio.gather(
        api.get(DYNAMICS_PATH, {"offset": "", "host_mid": mid, "timezone_offset": -480,
                                "platform": "web", "features": FEATURES,
                                "web_location": "333.1387"}),
        _best_effort(api.get(VIDEOS_PATH, {"mid": mid, "ps": 30, "tid": 0, "pn": 1,
                                           "keyword": "", "order": "pubdate",
                                           "order_avoided": "true", **web})),
    )  # fmt: skip
    for a in (dynamics, videos):
        if isinstance(a, Answer):
            _merge(obs, a)
    if isinstance(dynamics, str):
        return set_outcome(obs, Outcome.error, dynamics)
    if _judged(obs, dynamics, "动态列表"):
        return obs
    items = dig(dynamics.data, "items")
    if not isinstance(items, list):
        return set_outcome(obs, Outcome.unreadable, "B站动态接口没有返回动态列表")
    vlist, count, note = _videos(videos)
    obs.profile.posts_count = count
    seen = [p for p in (_dynamic(d) for d in items if isinstance(d, dict)) if p is not None]
    obs.posts = merge(seen, [_video(v) for v in vlist])
    obs.detail = note
    if items:
        return obs
    if count == 0 and not vlist and dig(dynamics.data, "has_more") in (False, 0):
        obs.sight = Sight.none  # no 动态 and a video counter of 0: nothing posted
        return obs
    shown = f"投稿视频 {count} 个" if count is not None else "投稿视频数未取到"
    return set_outcome(obs, Outcome.unreadable, f"B站未向本次访问展示动态列表（{shown}）")


def unsigned(url: str | None) -> str | None:
    """``url`` without its WBI signature (``w_rid``, ``wts``: new at every request), so two
    looks that read the same say the same (``probes.meaning`` covers ``final_url``)."""
    if not url:
        return url
    parts = urlsplit(url)
    kept = [kv for kv in parts.query.split("&") if kv.split("=", 1)[0] not in ("w_rid", "wts")]
    return parts._replace(query="&".join(kept)).geturl()


def _judged(obs: Observation, a: Answer, what: str) -> bool:
    """Set the outcome for an answer that is not the list asked for; True when set."""
    if why := a.refused():
        set_outcome(obs, Outcome.blocked, f"B站{what}被风控拦截（{why}）")
    elif a.code in GONE_CODES:
        set_outcome(obs, Outcome.not_found, f"B站账号不存在（code {a.code}）")
    elif a.code == LOGIN_CODE:
        set_outcome(obs, Outcome.blocked, f"B站要求登录后查看{what}（code {LOGIN_CODE}）")
        obs.login_required = True
    elif a.resp.status != 200 or a.code != 0:
        how = f"HTTP {a.resp.status}" if a.resp.status != 200 else f"code {a.code}"
        msg = str(a.body.get("message") or "") if isinstance(a.body, dict) else ""
        how += f"：{msg}" if msg else ""
        set_outcome(obs, Outcome.error, f"B站{what}接口返回错误（{how}）")
    else:
        return False
    return True


async def _best_effort(asked: Awaitable[Answer | str]) -> Answer | str:
    """The video list may fail alone (the 动态 are judged without it): why, as a note."""
    try:
        return await asked
    except FetchError as e:
        return e.message


def _merge(obs: Observation, a: Answer) -> None:
    """A list's answer is evidence beside the profile's."""
    obs.redirects.extend(a.resp.redirects)
    obs.elapsed_ms += a.resp.elapsed_ms
    add_json_artifact(obs, a.resp)


def _videos(a: Answer | str) -> tuple[list[dict[str, Any]], int | None, str]:
    """The video list, its counter and a note when it could not be read (best effort)."""
    if isinstance(a, str):
        return [], None, f"投稿视频未读取：{a}"
    if why := a.refused():
        return [], None, f"投稿视频列表被风控拦截（{why}），仅按动态判断"
    vlist = dig(a.data, "list", "vlist")
    if a.code != 0 or not isinstance(vlist, list):
        return [], None, f"投稿视频列表未读取（HTTP {a.resp.status}，code {a.code}），仅按动态判断"
    return [v for v in vlist if isinstance(v, dict)], as_int(dig(a.data, "page", "count")), ""


def _profile(data: dict[str, Any]) -> Profile:
    kind = as_int(dig(data, "official", "type"))  # -1 none, 0 a person, 1 an organisation
    role = dig(data, "official", "role")
    return Profile(
        name=data.get("name") or None,
        bio=data.get("sign") or None,
        avatar_url=data.get("face") or None,
        verified=None if kind is None else kind >= 0,
        verified_type=str(role) if role not in (None, "", 0) else None,
        verified_reason=dig(data, "official", "title") or None,
    )


def _dynamic(item: dict[str, Any]) -> tuple[Post, str] | None:
    """One 动态 as a post, and the bvid of the video it announces ("" for none)."""
    ident = str(item.get("id_str") or "")
    modules = item.get("modules")
    if not ident or not isinstance(modules, dict):
        return None
    own = _content(modules)
    orig = item.get("orig") if isinstance(item.get("orig"), dict) else None
    quoted = _content(orig.get("modules") or {}) if orig else None
    links = own["links"] + [u for u in (quoted["links"] if quoted else []) if u not in own["links"]]
    post = Post(
        id=ident,
        published_at=from_unix(dig(modules, "module_author", "pub_ts")),
        title=own["title"],
        text=own["text"] or (quoted["text"] if quoted else ""),
        url=f"https://t.bilibili.com/{ident}",
        pinned=dig(modules, "module_tag", "text") == PINNED_TAG,
        repost=item.get("type") == FORWARD,
        links=links,
    )
    return post, str(own["bvid"] or "")


def _content(modules: dict[str, Any]) -> dict[str, Any]:
    """Title, text, outbound links and the video's bvid of one 动态's modules."""
    dyn = modules.get("module_dynamic") if isinstance(modules.get("module_dynamic"), dict) else {}
    major = dyn.get("major") if isinstance(dyn.get("major"), dict) else {}
    title = next(
        (str(t) for k in ("opus", "archive", "article", "pgc", "live")
         if (t := dig(major, k, "title"))), "",
    )  # fmt: skip
    text = next(
        (str(t) for t in (dig(dyn, "desc", "text"), dig(major, "opus", "summary", "text"),
                          dig(major, "archive", "desc"), dig(major, "article", "desc")) if t),
        "",
    )  # fmt: skip
    nodes = _list(dig(dyn, "desc", "rich_text_nodes")) + _list(
        dig(major, "opus", "summary", "rich_text_nodes")
    )
    links: list[str] = []
    for node in nodes:
        if isinstance(node, dict) and node.get("type") in LINK_NODES:
            _add(links, node.get("jump_url"))
    for goods in _list(dig(dyn, "additional", "goods", "items")):
        if isinstance(goods, dict):
            _add(links, goods.get("jump_url"))
    _add(links, dig(major, "common", "jump_url"))
    return {"title": title, "text": text, "links": links, "bvid": dig(major, "archive", "bvid")}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _add(links: list[str], url: Any) -> None:
    if not isinstance(url, str) or not url.strip():
        return
    url = url.strip()
    url = "https:" + url if url.startswith("//") else url
    if url.startswith(("http://", "https://")) and url not in links:
        links.append(url)


def _video(v: dict[str, Any]) -> Post:
    bvid = str(v.get("bvid") or v.get("aid") or "")
    return Post(
        id=bvid,
        published_at=from_unix(v.get("created")),
        title=str(v.get("title") or ""),
        text=str(v.get("description") or ""),
        url=f"https://www.bilibili.com/video/{bvid}",
    )


def merge(dynamics: list[tuple[Post, str]], videos: list[Post]) -> list[Post]:
    """动态 and videos as one list; a 动态 that announces a listed video is that video."""
    by_id = {v.id: v for v in videos}
    out: list[Post] = []
    for post, bvid in dynamics:
        video = by_id.get(bvid) if bvid else None
        if video is None:
            out.append(post)
        else:
            video.pinned = video.pinned or post.pinned
            video.links = video.links + [u for u in post.links if u not in video.links]
    return out + videos
