"""Reader "wechat": a WeChat 公众号 through its article pages and a configured list source.

WeChat has no anonymous list of an account's articles, so the list comes from config:

- ``options["list_url"]``: an RSS bridge feed (RSSHub, WeRSS, ...) read by the ``rss``
  reader, or, when ``options["item"]`` is set, the account's homepage/album page read by the
  ``webpage`` reader with the same selector options (``item``, ``date``, ``link``, ...);
  ``options["list_kind"]`` (``rss``/``page``) overrides the guess. An album page
  (``mp.weixin.qq.com/mp/appmsgalbum?…``) needs no selectors: its items
  (``li.album__list-item`` with ``data-link``/``data-title``) are dated by
  ``.js_article_create_time`` (unix seconds), else by the ``create_time`` of the page's
  inline ``cgiData.articleList`` for the item's ``msgid`` (the ``mid`` of its link);
- without ``list_url``, ``Target.url`` is one article page (``mp.weixin.qq.com/s/...``).

Then the newest ``options["articles"]`` (default 1, at most 5) article pages are opened for
what only they show: publish time (JS var ``ct``, unix seconds — lists often have dates
only), nickname (``#js_name``/``.wx_follow_nickname``), ``user_name`` (gh_…), the 阅读原文
link (``msg_source_url``), ``#js_content a[href]`` body links, and the IP location
(``ip_wording.provinceName``).

Markers: "已被发布者删除", "此内容因违规无法查看", "该公众号已被屏蔽" … = ``not_found``;
"环境异常", "完成验证后即可继续访问", captcha = ``blocked``.

Origins: ``mp`` (default ``https://mp.weixin.qq.com``) replaces the host of article URLs
when fetching; the posts keep the real URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit, urlunsplit

from probes.fetch import Tools
from probes.fetch.bounds import parse_html
from probes.fetch.http import Fetcher, FetchError, decode_text
from probes.model import Artifact, Observation, Outcome, Post, Target
from probes.platforms.common import first_marker, from_unix, origin, set_outcome
from probes.platforms.fulltext import full_text, fuller
from probes.platforms.registry import observation_from, register
from probes.platforms.rss import read_rss
from probes.platforms.webpage import extract_links, node_text, read_webpage, resolve
from probes.platforms.wechat import PLATFORM

MP_ORIGIN = PLATFORM.origins["mp"]
MAX_ARTICLES = 5
ALBUM_PATH = "/mp/appmsgalbum"
#: an album page's items and their times (tests/fixtures/platforms/wechat/SOURCES.md)
ALBUM_OPTIONS = {"item": "li.album__list-item", "date": ".js_article_create_time"}

GONE_MARKERS = (
    "该内容已被发布者删除",
    "已被发布者删除",
    "此内容因违规无法查看",
    "此内容被投诉且经审核涉嫌侵权",
    "该公众号已被屏蔽",
    "该公众号已迁移",
    "此帐号已被封禁",
    "此帐号已自主注销",
    "账号已注销",
)
BLOCK_MARKERS = ("环境异常", "完成验证后即可继续访问", "请输入验证码", "secitptpage/verify")

#: What only an article's own script would do, for a picture drawn without it
#: (``probes.fetch.render``, JavaScript off): mp.weixin.qq.com sends the article body hidden
#: (``#js_content`` with ``visibility: hidden``) and its script shows it once the images
#: are set up. The rule touches that one element; any other page is drawn as it came.
ARTICLE_CSS = "#js_content { visibility: visible !important; opacity: 1 !important; }"

_CT = re.compile(r"""\b(?:var\s+)?(?:ct|create_time)\s*=\s*["']?(\d{9,13})""")
_JS_VAR = r"""\bvar\s+{name}\s*=\s*(?:htmlDecode\()?\s*(["'])(.*?)\1"""
_PROVINCE = re.compile(r"""provinceName\s*:\s*["']([^"']+)["']""")
#: one ``{…}`` of the album's inline ``cgiData.articleList``, keys and values quoted or not
_ALBUM_ENTRY = re.compile(r"\{[^{}]*?\bmsgid\b[^{}]*\}")
_ENTRY_FIELD = r"""["']?{name}["']?\s*:\s*["']?(\d+)"""
_NICK_NAME = re.compile(r"""["']?nick_name["']?\s*:\s*["']([^"']+)["']""")


@dataclass
class Article:
    """What one article page shows."""

    url: str
    title: str = ""
    published_at: datetime | None = None
    nickname: str = ""
    user_name: str = ""
    source_url: str = ""  # 阅读原文
    links: list[str] = field(default_factory=list)
    ip_location: str | None = None
    text: str = ""


@register("wechat")
async def read_wechat(target: Target, tools: Tools) -> Observation:
    list_url = (target.options.get("list_url") or "").strip()
    if not list_url:
        return await _single_article(target, tools.http)
    album = ALBUM_PATH in urlsplit(list_url).path
    options = {**ALBUM_OPTIONS, **target.options} if album else target.options
    kind = options.get("list_kind") or ("page" if options.get("item") else "rss")
    reader = "webpage" if kind == "page" else "rss"
    # an album on mp.weixin.qq.com is fetched through the configured ``mp`` origin too
    listed = replace(target, url=_fetch_url(target, list_url), reader=reader, options=options)
    obs = await (read_webpage if kind == "page" else read_rss)(listed, tools)
    obs.reader = target.reader
    obs.url = target.url or list_url
    if obs.outcome is not Outcome.ok or not obs.posts:
        return obs
    if album:
        _album(obs)
    wanted = min(max(int(target.options.get("articles") or 1), 0), MAX_ARTICLES)
    newest = sorted(
        (p for p in obs.posts if p.url),
        key=lambda p: p.published_at or datetime.min.replace(tzinfo=UTC),
    )[::-1][:wanted]
    for post in newest:
        await _enrich(target, tools.http, obs, post)
    return obs


async def _single_article(target: Target, fetcher: Fetcher) -> Observation:
    resp = await fetcher.get(_fetch_url(target, target.url), platform="wechat")
    obs = observation_from(target, resp, kind="page", default_media_type="text/html")
    if obs.outcome is not Outcome.ok:
        return obs
    html = resp.text or decode_text(resp.content, resp.headers.get("content-type", ""))[0]
    if _judge(obs, html):
        return obs
    art = parse_article(html, target.url)
    obs.profile.name = art.nickname or None
    obs.profile.ip_location = art.ip_location
    obs.posts = [_as_post(art)]
    if art.published_at is None:
        obs.detail = "文章页面读不出发布时间（ct）"
    return obs


async def _enrich(target: Target, fetcher: Fetcher, obs: Observation, post: Post) -> None:
    """Open one listed article: its page knows the exact time, links and IP location."""
    try:
        resp = await fetcher.get(_fetch_url(target, post.url), platform="wechat")
    except FetchError as e:
        obs.detail = f"文章页面未取到：{e.message}"
        return
    html = resp.text or decode_text(resp.content, resp.headers.get("content-type", ""))[0]
    if resp.content:
        obs.artifacts.append(
            Artifact("page", resp.media_type or "text/html", resp.content, resp.final_url)
        )
    if resp.status != 200:
        obs.detail = f"文章页面返回 HTTP {resp.status}"
        return
    if not _is_article(html) and (marker := first_marker(html, GONE_MARKERS)):
        obs.detail = f"最新文章{marker}"
        return
    if not _is_article(html) and first_marker(html, BLOCK_MARKERS):
        obs.detail = "文章页面被微信环境验证拦截，未读到详情"
        return
    art = parse_article(html, post.url)
    post.published_at = art.published_at or post.published_at
    post.title = post.title or art.title
    post.text = fuller(post.text, art.text)  # a feed's summary or title gives way to the body
    post.links = _merge_links(post.links, art)
    obs.profile.name = obs.profile.name or art.nickname or None
    obs.profile.ip_location = obs.profile.ip_location or art.ip_location


def _album(obs: Observation) -> None:
    """An album's posts: real article URLs (``https``), and a time from the page's inline
    ``cgiData`` for an item whose own time is empty; the account's name from it too."""
    page = next((a for a in obs.artifacts if a.kind == "page"), None)
    html = page.content.decode("utf-8", "replace") if page is not None else ""
    if m := _NICK_NAME.search(html):
        obs.profile.name = obs.profile.name or m.group(1)
    times: dict[str, str] = {}
    if any(p.published_at is None for p in obs.posts):
        for entry in _ALBUM_ENTRY.findall(html):
            mid = re.search(_ENTRY_FIELD.format(name="msgid"), entry)
            ct = re.search(_ENTRY_FIELD.format(name="create_time"), entry)
            if mid and ct:
                times.setdefault(mid.group(1), ct.group(1))
    for post in obs.posts:
        if post.url.startswith("http://mp.weixin.qq.com/"):
            secure = "https://" + post.url[len("http://") :]
            post.links = [secure if u == post.url else u for u in post.links]
            post.id = secure if post.id == post.url else post.id
            post.url = secure
        mid = parse_qs(urlsplit(post.url).query).get("mid", [""])[0]
        if post.published_at is None and mid in times:
            post.published_at = from_unix(times[mid])
    if obs.detail.endswith("但都读不出日期") and any(p.published_at for p in obs.posts):
        obs.detail = ""


def _is_article(html: str) -> bool:
    """An article page has a body: its words ("环境异常" in an ecology bureau's post, say)
    must not be read as WeChat's own notices."""
    return 'id="js_content"' in html or "id='js_content'" in html


def _judge(obs: Observation, html: str) -> bool:
    """Set not_found/blocked from the page's words; True when the page is not an article."""
    if _is_article(html):
        return False
    if marker := first_marker(html, GONE_MARKERS):
        set_outcome(obs, Outcome.not_found, f"微信文章{marker}")
        return True
    if first_marker(html, BLOCK_MARKERS):
        set_outcome(obs, Outcome.blocked, "被微信环境验证拦截（环境异常/验证码）")
        return True
    return False


def _fetch_url(target: Target, url: str) -> str:
    """Article URLs point at mp.weixin.qq.com; fetch them from the configured origin."""
    base = origin(target, "mp", MP_ORIGIN)
    parts = urlsplit(url)
    if parts.hostname != "mp.weixin.qq.com" or base == MP_ORIGIN:
        return url
    b = urlsplit(base)
    return urlunsplit((b.scheme, b.netloc, parts.path, parts.query, ""))


def _js_var(html: str, name: str) -> str:
    m = re.search(_JS_VAR.format(name=name), html, re.S)
    return unescape(m.group(2)).replace("\\x26", "&").replace("\\/", "/").strip() if m else ""


def parse_article(html: str, url: str) -> Article:
    """Read an article page (mp.weixin.qq.com/s/...): time, nickname, links, IP location."""
    tree = parse_html(html)
    art = Article(url=url)
    if m := _CT.search(html):
        art.published_at = from_unix(m.group(1))
    name_node = tree.css_first("#js_name") or tree.css_first(".wx_follow_nickname")
    art.nickname = node_text(name_node) or _js_var(html, "nickname")
    art.user_name = _js_var(html, "user_name")
    title_node = tree.css_first("#activity-name")
    art.title = node_text(title_node) or _js_var(html, "msg_title")
    art.source_url = (
        resolve(url, _js_var(html, "msg_source_url")) if "msg_source_url" in html else ""
    )
    body = tree.css_first("#js_content")
    if body is not None:
        art.links = extract_links(body, url)
        art.text = full_text(body.html or "")  # the whole body: the detectors judge it
    if m := _PROVINCE.search(html):
        art.ip_location = m.group(1)
    return art


def _merge_links(links: list[str], art: Article) -> list[str]:
    out = list(links)
    for u in ([art.source_url] if art.source_url else []) + art.links:
        if u not in out:
            out.append(u)
    return out


def _as_post(art: Article) -> Post:
    return Post(
        id=art.url,
        published_at=art.published_at,
        title=art.title,
        text=art.text,
        url=art.url,
        links=_merge_links([], art),
    )
