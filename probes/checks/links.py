"""Every link a post carries, unwrapped and (optionally) resolved to its final host.

Commercial links hide: in plain text, in HTML ``href``s, in platform JSON fields, behind
WeChat's 阅读原文 (``msg_source_url``), in mini-program cards, behind Weibo's
``weibo.cn/sinaurl?u=`` wrapper and behind short links (t.cn, url.cn, dwz.cn...). The detector
must judge the host a reader finally lands on, so short links are resolved once per check by
:func:`resolve_short_links`, with requests that read no body, and the final URL is stored on the
post beside the short one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import httpx

from probes.model import Observation, Post

#: hosts whose links are redirectors; resolved hop by hop, body never read
SHORT_HOSTS = frozenset(
    {
        "t.cn",
        "url.cn",
        "dwz.cn",
        "suo.im",
        "w.url.cn",
        "sohu.gg",
        "tinyurl.com",
        "bit.ly",
        "is.gd",
        "m.tb.cn",
        "u.jd.com",
        "3.cn",
        "wxaurl.cn",
        "v.douyin.com",
        "xhslink.com",
        "b23.tv",
        "s.click.taobao.com",
    }
)

# URL in free text: scheme or bare www./short-host form; stops at whitespace, quotes, CJK
_URL_RE = re.compile(
    r"""(?:https?://|weixin://|www\.|(?:t\.cn|url\.cn|dwz\.cn|m\.tb\.cn|wxaurl\.cn)/)"""
    r"""[^\s"'<>\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+""",
    re.IGNORECASE,
)
_HREF_RE = re.compile(
    r"""(?:href|src|data-src|data-miniprogram-path)\s*=\s*["']([^"']+)["']""", re.I
)
# bounded, and names only from a word's start: an unclosed tag or a long word was scanned
# again from each of its characters (quadratic on long texts)
_MINIPROGRAM_RE = re.compile(r"<mp-miniprogram\b([^>]{0,4000}+)>", re.I)
_ATTR_RE = re.compile(r"""(?<![\w-])([\w-]+)\s*=\s*["']([^"']*)["']""")
_JSON_URL_KEYS = frozenset(
    {
        "url",
        "href",
        "link",
        "msg_source_url",
        "source_url",
        "content_url",
        "page_url",
        "short_url",
        "ori_url",
        "url_ori",
        "long_url",
        "share_url",
        "schema",
        "scheme",
        "jump_url",
        "target_url",
        "web_url",
    }
)
_TRAILING = ".,;:!?)]}'\""


def miniprogram_link(appid: str, name: str = "", path: str = "") -> str:
    """A pseudo-URL for a mini-program card so it travels in ``Post.links`` like any link."""
    q = "&".join(f"{k}={v}" for k, v in (("name", name), ("path", path)) if v)
    return f"miniprogram://{appid}" + (f"?{q}" if q else "")


def unwrap(url: str) -> str:
    """Strip platform wrappers (Weibo ``sinaurl?u=``/``sinaurl/blocked?u=``, WeChat redirect)."""
    for _ in range(3):  # wrappers can nest
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in {"weibo.cn", "m.weibo.cn", "weibo.com"} and "sinaurl" in parts.path:
            inner = parse_qs(parts.query).get("u") or parse_qs(parts.query).get("toasturl")
            if inner:
                url = unquote(inner[0])
                continue
        if host == "link.zhihu.com" or (
            host.endswith("qq.com") and parts.path == "/cgi-bin/redirect"
        ):
            inner = parse_qs(parts.query).get("target") or parse_qs(parts.query).get("url")
            if inner:
                url = unquote(inner[0])
                continue
        break
    return url


def _clean(url: str) -> str:
    url = html.unescape(url.strip()).rstrip(_TRAILING)
    if url.lower().startswith("www."):
        url = "http://" + url
    elif re.match(r"(?i)(t\.cn|url\.cn|dwz\.cn|m\.tb\.cn|wxaurl\.cn)/", url):
        url = "https://" + url
    return unwrap(url)


# cheap pre-check: most posts carry no link at all, and the full scan is the costly part
_MAYBE_LINK = re.compile(r"://|www\.|<|(?:t|url|dwz|tb|wxaurl)\.cn/", re.I)


def links_in_text(text: str) -> list[str]:
    """Links in plain text or HTML: bare URLs, ``href``s and mini-program tags."""
    if not text or not _MAYBE_LINK.search(text):
        return []
    found: list[str] = []
    for attrs in _MINIPROGRAM_RE.findall(text):
        a = dict(_ATTR_RE.findall(attrs))
        if appid := a.get("data-miniprogram-appid"):
            name = a.get("data-miniprogram-nickname", "")
            found.append(miniprogram_link(appid, name, a.get("data-miniprogram-path", "")))
    for m in _HREF_RE.finditer(text):
        v = m.group(1)
        if v.startswith(("http", "weixin:", "//")):
            found.append(_clean("https:" + v if v.startswith("//") else v))
    for m in _URL_RE.finditer(html.unescape(text)):
        found.append(_clean(m.group(0)))
    return _dedupe(found)


def links_in_json(obj: Any) -> list[str]:
    """Links in a platform JSON object: URL-ish keys, mini-program cards, text fields."""
    out: list[str] = []

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            appid = o.get("appid") or o.get("app_id") or o.get("weapp_id")
            if isinstance(appid, str) and appid.startswith("wx"):
                name = o.get("nickname") or o.get("app_name") or o.get("title") or ""
                out.append(miniprogram_link(appid, str(name), str(o.get("path") or "")))
            for k, v in o.items():
                if isinstance(v, str):
                    if k.lower() in _JSON_URL_KEYS and v.startswith(("http", "weixin:", "//")):
                        out.append(_clean("https:" + v if v.startswith("//") else v))
                    elif k.lower() in {"text", "content", "desc", "description", "html"}:
                        out.extend(links_in_text(v))
                else:
                    walk(v)
        elif isinstance(o, list):
            for x in o:
                walk(x)

    walk(obj)
    return _dedupe(out)


def _dedupe(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(u for u in urls if u))


def post_links(post: Post) -> list[str]:
    """All links of a post, unwrapped, in first-seen order (``links`` first: readers put
    platform fields there, and :func:`resolve_short_links` appends final URLs).

    Worked out once per post and handed on with it (an attribute of the post, not one of
    its fields: not in its facts, pickled with it to the writer): the patrol's short-link
    resolution and the detectors ask for the same links, and links appended since are
    cleaned alone. Always what working it out afresh gives."""
    memo = post.__dict__.get(_MEMO)
    links = tuple(post.links)
    if memo is not None and memo[2] is post.text and memo[3] is post.title:
        before, cleaned, _, _, in_text = memo
        if links[: len(before)] == before:  # the same links, or some appended since
            cleaned = cleaned + [_clean(u) for u in links[len(before) :]]
        else:
            cleaned = [_clean(u) for u in links]
    else:
        cleaned = [_clean(u) for u in links]
        in_text = [*links_in_text(post.text), *links_in_text(post.title)]
    post.__dict__[_MEMO] = (links, cleaned, post.text, post.title, in_text)
    return _dedupe([*cleaned, *in_text])


_MEMO = "_xuncha_links"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def is_short(url: str) -> bool:
    return host_of(url) in SHORT_HOSTS


# -- resolution -----------------------------------------------------------------------------


class FetcherLike(Protocol):
    """``probes.fetch.http.Fetcher``: its ``get`` follows redirects hop by hop itself."""

    async def get(
        self, url: str, *, headers: dict[str, str] | None = None, max_body_bytes: int | None = None
    ) -> Any: ...


@dataclass
class Resolved:
    short: str
    final: str | None  # None: could not be resolved
    hops: list[str] = field(default_factory=list)
    error: str = ""


async def _resolve_httpx(
    client: httpx.AsyncClient, url: str, max_hops: int, short_hosts: frozenset[str]
) -> Resolved:
    hops: list[str] = []
    current = url
    for _ in range(max_hops + 1):
        if current != url and host_of(current) not in short_hosts:
            return Resolved(url, current, hops)  # landed: the landing site is not contacted
        req = client.build_request("GET", current)
        resp = await client.send(req, stream=True, follow_redirects=False)
        await resp.aclose()  # status and headers only: no body is read
        location = resp.headers.get("location", "").strip()
        if resp.status_code not in {301, 302, 303, 307, 308} or not location:
            return Resolved(url, current, hops)
        hops.append(current)
        current = unwrap(urljoin(current, location))
        if not current.startswith(("http://", "https://")):
            return Resolved(url, current, hops)  # weixin://, taobao:// app schemes: final
    return Resolved(url, None, hops, f"超过 {max_hops} 次跳转")


async def _resolve_fetcher(fetcher: FetcherLike, url: str) -> Resolved:
    # a zero body cap: the Fetcher reads no body on redirect hops and gives up on the final
    # page at once ("too_large"), whose URL is where the chain ended
    try:
        resp = await fetcher.get(url, max_body_bytes=0)
    except Exception as e:  # FetchError: too_large carries the final hop's URL
        redirects = [r.url for r in getattr(e, "redirects", [])]
        if getattr(e, "kind", "") == "too_large" and getattr(e, "url", ""):
            return Resolved(url, unwrap(e.url), redirects)
        return Resolved(url, None, redirects, str(e))
    return Resolved(url, unwrap(resp.final_url), [r.url for r in resp.redirects])


async def resolve_short_links(
    observation: Observation,
    fetcher: httpx.AsyncClient | FetcherLike,
    *,
    max_hops: int = 5,
    short_hosts: frozenset[str] = SHORT_HOSTS,
) -> dict[str, Resolved]:
    """Resolve every short link in the observation's posts; append each final URL to the post's
    ``links`` so detectors judge the landing host. Returns short URL -> :class:`Resolved`.

    Call between observe and evaluate. Failures are recorded, never raised: an unresolvable
    short link is judged by the words around it. With an ``httpx.AsyncClient`` each hop is a
    GET whose body is never read, and hops are followed only while the host is a redirector
    (``short_hosts``): the landing site is named, not visited. With the project's ``Fetcher``
    its own redirect handling is used (limits, retries) with a zero body cap: the landing page
    gets one request whose body is not read (``Content-Length``) or cut after the first chunk.
    """
    results: dict[str, Resolved] = {}
    for post in observation.posts:
        have = set(post.links)  # membership in the list itself was quadratic in its links
        for url in post_links(post):
            if host_of(url) not in short_hosts:
                continue
            if url not in results:
                try:
                    if isinstance(fetcher, httpx.AsyncClient):
                        results[url] = await _resolve_httpx(fetcher, url, max_hops, short_hosts)
                    else:
                        results[url] = await _resolve_fetcher(fetcher, url)
                except (httpx.HTTPError, OSError) as e:
                    results[url] = Resolved(url, None, [], f"{type(e).__name__}: {e}")
            final = results[url].final
            for link in (url, final):
                if link and link not in have:
                    have.add(link)
                    post.links.append(link)
    return results


def iter_hosts(urls: Iterable[str]) -> Iterator[tuple[str, str]]:
    for u in urls:
        yield u, host_of(u)
