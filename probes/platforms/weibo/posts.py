"""Weibo's posts as the mobile container API shows them (``data.cards[].mblog``).

``created_at`` is ``Sun Nov 22 14:05:00 +0800 2026``, or on some answers one of the short
forms the pages print (刚刚, N分钟前, N小时前, 昨天 HH:MM, MM-DD, YYYY-MM-DD), read against the
observation clock in Beijing time. Pinned: ``isTop``, ``mblogtype`` 2, ``profile_type_id``
starting ``proweibotop``, or a ``title.text`` of "置顶" (sources in
``tests/fixtures/platforms/weibo/SOURCES.md``). A repost has ``retweeted_status``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from probes.fetch.bounds import parse_html
from probes.model import Post
from probes.platforms.common import as_int, strip_ip_prefix, unwrap_link
from probes.platforms.dates import parse_cn_datetime
from probes.platforms.registry import clock
from probes.platforms.webpage import node_text, shorten, strip_html

PUBLIC_POST = "https://weibo.com/{uid}/{bid}"  # what people open; not contacted
_CREATED = "%a %b %d %H:%M:%S %z %Y"
PINNED_MBLOGTYPE = 2


def mblogs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The posts of a container answer: cards of type 9, or nested in a ``card_group``."""
    out: list[dict[str, Any]] = []
    for card in (data.get("data") or {}).get("cards") or []:
        if not isinstance(card, dict):
            continue
        group = card.get("card_group") if isinstance(card.get("card_group"), list) else [card]
        for c in group:
            if isinstance(c, dict) and isinstance(c.get("mblog"), dict):
                out.append(c["mblog"])
    return out


def parse_created_at(value: Any) -> datetime | None:
    """``Sun Nov 22 14:05:00 +0800 2026`` -> aware UTC; the short forms against the
    observation clock (:func:`probes.platforms.registry.clock`), Beijing time."""
    text = str(value or "").strip()
    try:
        return datetime.strptime(text, _CREATED).astimezone(UTC)
    except ValueError:
        return parse_cn_datetime(text, now=clock()) if text else None


def is_pinned(mb: dict[str, Any]) -> bool:
    title = mb.get("title")
    return (
        str(mb.get("profile_type_id") or "").startswith("proweibotop")
        or str(mb.get("isTop") or "0") in ("1", "True", "true")
        or as_int(mb.get("mblogtype")) == PINNED_MBLOGTYPE
        or (isinstance(title, dict) and title.get("text") == "置顶")
    )


def post(mb: dict[str, Any], uid: str) -> Post:
    html = str(mb.get("text") or "")
    # parsed once for its text and its links: three posts an account, every check
    tree = parse_html(html) if "<" in html or "&" in html else None
    found = links(html, tree)
    rt = mb.get("retweeted_status")
    if isinstance(rt, dict):
        found += [u for u in links(str(rt.get("text") or "")) if u not in found]
    page = (
        (mb.get("page_info") or {}).get("page_url")
        if isinstance(mb.get("page_info"), dict)
        else None
    )
    if page and unwrap_link(page) not in found:
        found.append(unwrap_link(page))
    bid = str(mb.get("bid") or mb.get("mblogid") or "")
    ident = str(mb.get("id") or mb.get("mid") or bid)
    source = strip_html(str(mb["source"])) if mb.get("source") else None
    return Post(
        id=ident,
        published_at=parse_created_at(mb.get("created_at")),
        text=shorten(node_text(tree.body) if tree else strip_html(html)),
        url=PUBLIC_POST.format(uid=uid, bid=bid or ident),
        pinned=is_pinned(mb),
        repost=isinstance(rt, dict) or bool(mb.get("retweeted_status")),
        links=found,
        client=source or None,
        ip_location=strip_ip_prefix(mb.get("region_name")),
    )


def links(html: str, tree: LexborHTMLParser | None = None) -> list[str]:
    """Outbound links in a post; Weibo's ``sinaurl`` wrapper unwrapped, hashtags skipped."""
    if "<a" not in html:
        return []
    out: list[str] = []
    for a in (tree or parse_html(html)).css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href.startswith(("http://", "https://")):
            continue  # /search?containerid=... hashtags, /n/<name> mentions
        url = unwrap_link(href)
        if url not in out:
            out.append(url)
    return out
