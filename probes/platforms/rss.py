"""Reader "rss": an RSS 2.0, RSS 1.0 or Atom feed (own feeds, or bridges such as RSSHub).

RSSHub has routes for most platforms (``/weibo/user/<uid>``: channel "XX的微博", items with
the post HTML in ``description``), so a feed is the cheapest way to watch many accounts.

feedparser only ever sees the bytes our fetcher brought back (wrapped in a stream: given raw
bytes it would first try them as a *file name*), so it never fetches anything itself. Those
bytes are decoded by :func:`~probes.fetch.http.decode_text` first and handed over as UTF-8:
CMS feeds declare gb2312 and then use GBK characters, which feedparser would garble.

Reposts: feeds have no standard flag. An item counts as a repost when its title starts with
"转发", "RT " or "🔁", or carries RSSHub's Weibo marker " - 转发 " (``showRetweetTextInTitle``)
or its description quotes the original as ``<blockquote> - 转发``. Pinned: a title starting
"[置顶]"/"【置顶】".

No items: ``unreadable``, never stale. A feed is a converter's answer, not the platform's
word: an RSSHub route that could not read the platform (a login wall, an anti-bot answer,
a changed page) still writes a well-formed channel, named after the account, with no items
— so an empty feed says nothing of whether the account posted (:data:`EMPTY_FEED`). A body
that is not a feed, is malformed, or nests deeper than ``MAX_FEED_DEPTH`` is ``unreadable``
too, with its own reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import feedparser
from anyio import to_thread
from dateutil import parser as dateparser

from probes.fetch import Tools
from probes.fetch.http import Response, decode_text
from probes.model import MAX_POSTS, Observation, Outcome, Post, Profile, Target, newest
from probes.platforms.common import set_outcome
from probes.platforms.dates import DEFAULT_TZ, localize, parse_cn_datetime
from probes.platforms.fulltext import bound_texts, full_text
from probes.platforms.registry import clock, fetch_page, register
from probes.platforms.webpage import extract_links, strip_html

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
NOT_A_FEED = "不是有效的 RSS/Atom 订阅源"
#: Deeper than this, a feed is not a feed a site would write (RSS is four levels to an item's
#: field): a hostile or broken document, not an account without posts.
MAX_FEED_DEPTH = 64
TOO_DEEP = f"{NOT_A_FEED}（XML 嵌套超过 {MAX_FEED_DEPTH} 层，读不出任何条目）"
#: why a well-formed feed without items is not judged
EMPTY_FEED = "订阅源没有任何条目（RSSHub 等转换服务未能读取该平台，不代表账号未更新）"
_ITEM_TAG = re.compile(r"<(?:item|entry)\b", re.I)

_RSSHUB_SUFFIX = re.compile(r"\s*-\s*(?:Powered by RSSHub|Made with love by RSSHub).*$", re.S)
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")
_REPOST = re.compile(r"^\s*(?:转发|RT\s|🔁)|\s-\s转发\s|🔁")
_PINNED = re.compile(r"^\s*[\[【]置顶[\]】]")
# Chinese feeds write "CST" for China Standard Time; dateutil would not know it, and
# feedparser would read it as US Central (UTC-6), fourteen hours off
_CN_TZINFOS = {"CST": timezone(timedelta(hours=8)), "BJT": timezone(timedelta(hours=8))}


@register("rss")
async def read_rss(target: Target, tools: Tools) -> Observation:
    obs, resp = await fetch_page(
        target,
        tools,
        kind="feed",
        default_media_type="application/xml",
        headers={"Accept": FEED_ACCEPT},
    )
    if resp is None or obs.outcome is not Outcome.ok:  # unchanged since the last look, or failed
        return obs
    tz = target.options.get("tz") or DEFAULT_TZ
    text = resp.text or decode_text(resp.content, resp.headers.get("content-type", ""))[0]
    if not _ITEM_TAG.search(text) and nesting_deeper_than(text, MAX_FEED_DEPTH):
        # nothing to read, and feedparser would spend seconds walking the nesting
        return set_outcome(obs, Outcome.unreadable, TOO_DEEP)
    parsed, total = await to_thread.run_sync(_parse, text, resp, tz)  # pure Python: off the loop
    malformed = bool(parsed.get("bozo")) and not isinstance(
        parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    )
    if not parsed.get("version") or (malformed and not parsed.entries):
        return set_outcome(obs, Outcome.unreadable, NOT_A_FEED)
    if not parsed.entries:
        obs.profile = _profile(parsed.feed)  # the channel still names the account
        return set_outcome(obs, Outcome.unreadable, why_empty(parsed, resp, malformed))
    obs.profile = _profile(parsed.feed)
    base = parsed.feed.get("link") or resp.final_url
    # the newest MAX_POSTS items are chosen by their dates before posts are made of them (a
    # 26,000-item feed); a date written the same way twice is read once
    entries, memo = parsed.entries, {}
    times = [entry_time(e, tz, memo) for e in entries]
    keep = newest(times)
    obs.posts = [_post(entries[i], base, tz, times[i]) for i in keep]
    bound_texts(obs.posts)  # full texts for the newest, within a bound per check
    if len(keep) < total:
        obs.capped.update(posts_total=total, posts_kept=len(keep))
    if malformed:
        obs.detail = f"订阅源 XML 不完整，已读取 {len(obs.posts)} 条"
    return obs


def why_empty(parsed: Any, resp: Response, malformed: bool) -> str:
    """Why a feed without items is not judged, in the user's words: broken, not a channel,
    or (well formed) a converter that could not read the platform (:data:`EMPTY_FEED`)."""
    if malformed:
        return f"{NOT_A_FEED}（XML 不完整，读不出任何条目）"
    text = resp.text or decode_text(resp.content, resp.headers.get("content-type", ""))[0]
    if nesting_deeper_than(text, MAX_FEED_DEPTH):
        return TOO_DEEP
    feed = parsed.get("feed") or {}
    if not (feed.get("title") or feed.get("link")):
        return f"{NOT_A_FEED}（没有频道信息，也没有任何条目）"
    return EMPTY_FEED


def nesting_deeper_than(text: str, limit: int) -> bool:
    """Do the elements of ``text`` nest deeper than ``limit``? One pass; CDATA, comments,
    declarations and self-closing tags do not count."""
    depth, at = 0, 0
    while (i := text.find("<", at)) >= 0:
        if text.startswith("<![CDATA[", i) or text.startswith("<!--", i):
            end = text.find("]]>" if text[i + 2] == "[" else "-->", i)
            if end < 0:
                return False
            at = end + 3
            continue
        end = text.find(">", i)
        if end < 0:
            return False
        head = text[i + 1 : i + 2]
        if head == "/":
            depth -= 1
        elif head not in ("?", "!") and text[end - 1] != "/":
            depth += 1
            if depth > limit:
                return True
        at = end + 1
    return False


def _parse(text: str, resp: Response, tz: str) -> tuple[Any, int]:
    """Hand feedparser ``text``, the body decoded by our rules, as UTF-8: CMS feeds declare
    gb2312 yet use GBK. Also the number of items the feed had (more than feedparser is
    given: :func:`trim`)."""
    text = _XML_DECL_ENCODING.sub(r"\1utf-8\2", text, count=1)
    text, total = trim(text, tz)
    media = resp.media_type or "application/xml"
    headers = {"content-type": f"{media}; charset=utf-8", "content-location": resp.final_url}
    # relative links are resolved by us against the entry's own link, not the feed URL:
    # a feed read through a mirror or bridge must still point at the real site
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")), response_headers=headers, resolve_relative_uris=False
    )
    return parsed, max(total, len(parsed.entries))


# items (RSS) and entries (Atom), comments and CDATA, in one linear pass over the text
_TOKEN = re.compile(r"<!\[CDATA\[|\]\]>|<!--|-->|<(/?)(?:item|entry)\b[^>]{0,2000}+>", re.I)
_ITEM_DATE = re.compile(
    r"<(pubDate|published|dc:date|updated)\b[^>]{0,200}+>\s*+(?:<!\[CDATA\[)?([^<\]]{1,200}+)",
    re.I,
)


def trim(text: str, tz: str = DEFAULT_TZ, limit: int = MAX_POSTS) -> tuple[str, int]:
    """A feed of more than ``limit`` items cut to its ``limit`` newest (by their dates as
    written), everything else in it left as it was; and how many items it had. feedparser
    costs ~0.1 ms of CPU an item: a 26,000-item feed took seconds to parse in full, to keep
    500 of it. Cut only when the items are plainly delimited (not nested, none inside CDATA
    or a comment): otherwise the text is left whole and feedparser reads it all."""
    found = _item_spans(text)
    if found is None:
        return text, 0
    spans, closed = found
    if not closed or len(spans) <= limit:
        return text, len(spans)
    memo: dict[str, datetime | None] = {}
    times = [_span_time(text, a, b, tz, memo) for a, b in spans]
    return _keep(text, spans, set(newest(times, limit))), len(spans)


def _item_spans(text: str) -> tuple[list[tuple[int, int]], bool] | None:
    """Where each item is, and whether the text ends with no item, CDATA or comment left
    open; None when items nest or a closing tag has no opening one."""
    spans: list[tuple[int, int]] = []
    quoted, start = "", -1  # inside CDATA or a comment: what closes it; an open item's start
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if quoted:
            quoted = "" if tok == quoted else quoted
        elif tok in ("<![CDATA[", "<!--"):
            quoted = "]]>" if tok == "<![CDATA[" else "-->"
        elif tok in ("]]>", "-->"):
            continue
        elif m.group(1):  # a closing tag
            if start < 0:
                return None
            spans.append((start, m.end()))
            start = -1
        elif tok.endswith("/>"):
            if start >= 0:
                return None
            spans.append((m.start(), m.end()))
        elif start >= 0:
            return None  # nested: not a shape to cut by hand
        else:
            start = m.start()
    return spans, start < 0 and not quoted


def _keep(text: str, spans: list[tuple[int, int]], keep: set[int]) -> str:
    """The text with only the items ``keep`` names (by index) left of ``spans``."""
    out, at = [], 0
    for i, (a, b) in enumerate(spans):
        gap = text[at:a]
        if i in keep or gap.strip():  # the space before a dropped item goes with it
            out.append(gap)
        if i in keep:
            out.append(text[a:b])
        at = b
    out.append(text[at:])
    return "".join(out)


def _span_time(
    text: str, start: int, end: int, tz: str, memo: dict[str, datetime | None]
) -> datetime | None:
    found = {m.group(1).lower(): m.group(2).strip() for m in _ITEM_DATE.finditer(text, start, end)}
    raw = next((found[k] for k in ("published", "pubdate", "dc:date", "updated") if k in found), "")
    if not raw:
        return None
    if raw not in memo:
        memo[raw] = parse_feed_date(raw, tz)
    return memo[raw]


def _profile(feed: Any) -> Profile:
    bio = strip_html(feed.get("subtitle") or feed.get("description") or "")
    image = feed.get("image") or {}
    return Profile(
        name=strip_html(feed.get("title") or "") or None,
        bio=_RSSHUB_SUFFIX.sub("", bio) or None,
        avatar_url=image.get("href") or image.get("url") or feed.get("logo") or feed.get("icon"),
    )


def _post(entry: Any, base: str, tz: str, when: datetime | None) -> Post:
    link = (entry.get("link") or "").strip()
    html = _body_html(entry)
    title = strip_html(entry.get("title") or "")
    text = full_text(html) or title  # content:encoded when present: the detectors judge it
    links = extract_links(html, link or base) if html else []
    if link and link not in links:
        links.insert(0, link)
    ident = entry.get("id") or link or hashlib.sha1(f"{title}|{text}".encode()).hexdigest()[:16]
    return Post(
        id=str(ident),
        published_at=when,
        title=title,
        text=text,
        url=link,
        pinned=bool(_PINNED.search(title)),
        repost=bool(_REPOST.search(title)) or "<blockquote> - 转发" in html,
        links=links,
    )


def _body_html(entry: Any) -> str:
    """The fullest HTML the entry has: Atom/RSS ``content`` if present, else the summary."""
    contents = [c.get("value", "") for c in entry.get("content") or []]
    return max([*contents, entry.get("summary") or ""], key=len)


def entry_time(
    entry: Any, tz: str = DEFAULT_TZ, memo: dict[str, datetime | None] | None = None
) -> datetime | None:
    """Published (else updated) time as aware UTC; a time without zone is read in ``tz``.
    ``memo``: the dates of one read, by how they are written (one feed, one clock)."""
    for key in ("published", "updated", "created"):
        raw = (entry.get(key) or "").strip()
        if not raw:
            continue
        if memo is None:
            when = parse_feed_date(raw, tz)
        elif raw in memo:
            when = memo[raw]
        else:
            when = memo[raw] = parse_feed_date(raw, tz)
        if when is not None:
            return when
    for key in ("published_parsed", "updated_parsed"):
        st = entry.get(key)
        if st:
            return datetime(*st[:6], tzinfo=UTC)
    return None


def parse_feed_date(raw: str, tz: str = DEFAULT_TZ) -> datetime | None:
    """RFC 822 / ISO 8601 as bridges write them, else the shapes Chinese sites use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateutil warns on zone names it does not know
        try:
            return localize(dateparser.parse(raw, tzinfos=_CN_TZINFOS), tz)
        except (ValueError, OverflowError, TypeError):
            pass
    return parse_cn_datetime(raw, now=clock(), tz=tz)
