"""Reader "webpage": a plain list page (a government site's 政务动态/通知公告 column).

The operator says where the posts are with CSS selectors in ``Target.options``:

- ``item`` (required): one post, e.g. ``ul.news-list > li``;
- ``date``: inside the item, where the date is (default: the item's whole text); a date
  written as unix seconds is read too, and where the text has none, the element's or the
  item's ``data-create_time``/``data-time`` attribute;
- ``title``: inside the item (default: the link's ``title`` attribute or text, else the
  item's ``data-title``);
- ``link``: an ``<a>`` inside the item (default: the first ``a[href]``, else the item's
  ``data-link``, as a 公众号 album's items carry it);
- ``pinned``: present inside an item when the post is pinned (置顶); an item whose text says
  "置顶" counts as pinned too, since old pinned notices must not pass as the latest post;
- ``date_format``: a ``strptime`` format when the date is unusual;
- ``tz``: the page's time zone (default Asia/Shanghai);
- ``detail``: a selector of the body on an item's own page (``#zoom``, ``.TRS_Editor``):
  the newest ``details`` items' pages (default 3, at most 5) are opened and their body is
  the post's text, so the detectors judge the notice, not its title
  (:mod:`probes.platforms.fulltext`). Without it a post's text is its list item's.

A selector that matches nothing is ``unreadable`` ("无法读取内容", the detail naming the
selector), so a site redesign shows up as a broken selector rather than a stale account —
unless the page says it has nothing (``EMPTY_MARKERS``: "暂无内容", "暂无数据"…): that is
the site's own word (``Sight.none``), ``ok`` with zero posts, and staleness judges the empty
column. A WAF or captcha page is
``blocked`` before any selector is tried (``probes.fetch.waf``).

A page that changes on every request only outside its items (a CSRF token, a visit
counter) is not read again item by item: its items' own HTML, the selectors and the base
URL are its posts' input, and when that input was read before in this process
(:data:`READS`) and says what the last full look said, the look is unchanged at the cost of
a parse (:func:`probes.meaning.said_again`). Only inputs whose every date was read without
the clock are remembered ("3小时前" is another time at the next look), and never with
``detail`` pages (their text is other pages').
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from probes.fetch import Tools
from probes.fetch.bounds import parse_html
from probes.fetch.http import decode_text
from probes.meaning import Reads, said_again, said_by
from probes.model import Observation, Outcome, Post, Sight, Target
from probes.platforms.common import EMPTY_MARKERS, first_marker, set_outcome
from probes.platforms.dates import (
    DEFAULT_TZ,
    date_without_clock,
    from_epoch_text,
    localize,
    parse_cn_datetime,
)
from probes.platforms.fulltext import open_details
from probes.platforms.registry import clock, failed, fetch_page, register

TEXT_LIMIT = 500  # characters of post text kept in an observation; the page is an artifact
_SPACE = re.compile(r"\s+")
_NOT_LINKS = ("javascript:", "#", "about:", "data:")
#: where an item or its date element may carry the time instead of its text
_DATE_ATTRS = ("data-create_time", "data-create-time", "data-time")
#: the pages read in this process, by their posts' input: an entry (~0.3 KB) per page, and
#: a province's list pages fit (the one process-wide memory here; it is never stale)
READS = Reads(16_384)


@register("webpage")
async def read_webpage(target: Target, tools: Tools) -> Observation:
    opts = target.options
    item_sel = (opts.get("item") or "").strip()
    if not item_sel:
        return failed(target, clock(), "网页读取缺少参数 item")
    obs, resp = await fetch_page(target, tools, kind="page", default_media_type="text/html")
    if resp is None or obs.outcome is not Outcome.ok:  # unchanged since the last look, or failed
        return obs
    html = resp.text or decode_text(resp.content, resp.headers.get("content-type", ""))[0]
    tree = parse_html(html)
    base = page_base(tree, resp.final_url)
    try:
        items = tree.css(item_sel)
    except SelectolaxError:
        obs.outcome = Outcome.error
        obs.detail = f"选择器 '{item_sel}' 无效"
        return obs
    if not items:
        if marker := first_marker(node_text(tree.body), EMPTY_MARKERS):
            obs.detail = f"选择器 '{item_sel}' 未匹配任何条目，页面显示“{marker}”"
            obs.sight = Sight.none  # the site's own word: no posts, and staleness judges that
            return obs
        return set_outcome(obs, Outcome.unreadable, f"选择器 '{item_sel}' 未匹配任何条目")
    key = input_key(target, html, base, items)
    if key is not None and (said := READS.get(key)) and said_again(obs, said, target.previous):
        return obs  # it says what its last full look said: no post built again
    try:
        joined: dict[str, str] = {}  # each href of the page resolved once
        read = [_post(node, opts, base, joined) for node in items]
    except SelectolaxError as e:
        obs.outcome = Outcome.error
        obs.detail = f"网页读取参数中的选择器无效（{e}）"
        return obs
    obs.posts = [post for post, _ in read]
    if undated := all(p.published_at is None for p in obs.posts):
        obs.detail = f"选择器 '{item_sel}' 匹配 {len(items)} 个条目，但都读不出日期"
    await open_details(target, tools, obs)  # "detail": the newest items' body text
    if key is not None and not undated and all(timeless for _, timeless in read):
        READS.put(key, said_by(obs))
    return obs


def input_key(target: Target, html: str, base: str, items: list[LexborNode]) -> bytes | None:
    """A digest of everything the posts read from ``items`` are a function of (the clock
    aside): the options, the base URL and each item as the tree has it — its serialised
    HTML (elements, attributes, text) and its text nodes one by one (which the HTML does not
    tell apart; a NUL separates them, and no text node holds one when the page has none).
    None when the posts are not such a function (``detail`` pages). ``wechat`` reads its
    list through this reader (as ``webpage``) and goes on: what it remembers never stands
    for a wechat look, whose meaning names its own reader."""
    if target.reader != "webpage" or (target.options.get("detail") or "").strip() or "\x00" in html:
        return None
    head = json.dumps(["webpage/1", sorted(target.options.items()), base], ensure_ascii=False)
    h = hashlib.sha256(head.encode())
    for node in items:
        outer, text = node.html or "", node.text(separator="\x00")
        h.update(f"{len(outer)},{len(text)};{outer}{text}".encode())
    return h.digest()


def _post(
    node: LexborNode, opts: dict[str, str], base: str, joined: dict[str, str]
) -> tuple[Post, bool]:
    """The item's post, and whether it is one at any time (its date read without the
    clock: a full date, the operator's format, or none looked for)."""
    item_text = node_text(node)
    link_node = _link_node(node, opts.get("link"))
    href = link_node.attributes.get("href") if link_node else node.attributes.get("data-link")
    url = resolve(base, href, joined)
    title = _title(node, link_node, opts.get("title"))
    date_text = _date_text(node, opts.get("date"))
    fmt, tz = opts.get("date_format"), opts.get("tz") or DEFAULT_TZ
    published, timeless = _read_date(date_text, fmt, tz)
    if published is None:
        published, also = _read_date(_date_attr(node, opts.get("date")), None, tz)
        timeless = timeless and also
    pinned = "置顶" in item_text
    if opts.get("pinned"):
        pinned = pinned or node.css_first(opts["pinned"]) is not None
    links = extract_links(node, base, joined)  # the item's own link is joined already
    if url and url not in links:
        links.insert(0, url)
    key = url or f"{title}|{date_text}"
    post = Post(
        id=url or hashlib.sha1(key.encode()).hexdigest()[:16],
        published_at=published,
        title=title,
        text=shorten(item_text),
        url=url,
        pinned=pinned,
        links=links,
    )
    return post, timeless


def _link_node(node: LexborNode, selector: str | None) -> LexborNode | None:
    if selector:
        return node.css_first(selector)
    if node.tag == "a" and node.attributes.get("href"):
        return node
    return node.css_first("a[href]")


def _title(node: LexborNode, link: LexborNode | None, selector: str | None) -> str:
    if selector:
        found = node.css_first(selector)
        return node_text(found) if found is not None else ""
    if link is not None:
        # list pages cut long titles ("关于做好…") and keep the whole one in @title
        text = node_text(link)
        attr = (link.attributes.get("title") or "").strip()
        return attr if len(attr) > len(text) else text
    return (node.attributes.get("data-title") or "").strip() or shorten(node_text(node), 120)


def _date_text(node: LexborNode, selector: str | None) -> str:
    found = node.css_first(selector) if selector else node
    if found is None:
        return ""
    if found.tag == "time" and found.attributes.get("datetime"):
        return found.attributes["datetime"] or ""
    return node_text(found)


def _date_attr(node: LexborNode, selector: str | None) -> str:
    """The time an item (or its date element) carries in an attribute; "" when none."""
    found = node.css_first(selector) if selector else None
    for n in (found, node):
        for name in _DATE_ATTRS if n is not None else ():
            if value := (n.attributes.get(name) or "").strip():
                return value
    return ""


def read_date(text: str, *, fmt: str | None = None, tz: str = DEFAULT_TZ) -> datetime | None:
    """A post date from page text: the operator's format first, then the usual shapes."""
    return _read_date(text, fmt, tz)[0]


def _read_date(text: str, fmt: str | None, tz: str) -> tuple[datetime | None, bool]:
    """:func:`read_date`'s answer, and whether it holds at any time (the clock not asked)."""
    text = text.strip()
    if not text:
        return None, True
    if fmt:
        try:
            return localize(datetime.strptime(text.strip("[]()（）【】 "), fmt), tz), True
        except ValueError:
            pass
    found, timeless = date_without_clock(text, tz=tz)
    if timeless:
        return found, True
    now = clock()
    return from_epoch_text(text, now=now) or parse_cn_datetime(text, now=now, tz=tz), False


# -- HTML helpers shared with the other readers --------------------------------------------


def page_base(tree: LexborHTMLParser, page_url: str) -> str:
    """The URL relative links resolve against: ``<base href>`` if present, else the page."""
    base = tree.css_first("base[href]")
    href = base.attributes.get("href") if base is not None else None
    return urljoin(page_url, href.strip()) if href else page_url


def resolve(base: str, href: str | None, joined: dict[str, str] | None = None) -> str:
    """An absolute link, or "" for script/fragment pseudo-links. ``joined``: the hrefs of
    this page (this ``base``) resolved so far, so each is resolved once (urljoin is the
    costly part of reading a list page's links)."""
    if joined is not None and href is not None and (done := joined.get(href)) is not None:
        return done
    raw, href = href, (href or "").strip()
    url = "" if not href or href.lower().startswith(_NOT_LINKS) else urljoin(base, href)
    if joined is not None and raw is not None:
        joined[raw] = url
    return url


def node_text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return _SPACE.sub(" ", node.text(separator=" ")).strip()


def strip_html(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    if not html or ("<" not in html and "&" not in html):
        return _SPACE.sub(" ", html or "").strip()
    return node_text(parse_html(html).body)


def extract_links(
    source: str | LexborNode, base: str, joined: dict[str, str] | None = None
) -> list[str]:
    """Every ``a[href]`` in an HTML fragment or node, resolved, in order, without repeats
    (``joined``: as :func:`resolve`'s, shared by the page's items)."""
    node = parse_html(source).body if isinstance(source, str) else source
    if node is None:
        return []
    out: list[str] = []
    anchors = node.css("a[href]")
    if node.tag == "a" and node.attributes.get("href"):
        anchors.insert(0, node)
    seen: set[str] = set()  # membership in the list itself is quadratic in its links
    for a in anchors:
        url = resolve(base, a.attributes.get("href"), joined)
        if url and url not in seen:
            seen.add(url)
            out.append(url)
    return out


def shorten(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
