"""A post's full text for the detectors, within a bound per check.

A list shows a title or a 500-character summary; resident IDs and mobile numbers sit in the
body of a notice (``#js_content`` of a WeChat article, RSS ``content:encoded``, a site's
detail page). What a reader can have of the body it gives, as text that keeps the body's
lines (paragraphs, table rows: a window quoting a hit stops at the row's end, and a
``联系电话`` column's header stays near its rows).

Bounds: a post keeps at most :data:`FULL_TEXT_CHARS` (the observation's ``MAX_TEXT_CHARS``);
an observation at most :data:`CHECK_BUDGET` characters of full text, newest posts first (the
rest keep :data:`SUMMARY_CHARS`); a ``webpage`` reader opens at most :data:`MAX_DETAIL_PAGES`
detail pages per check (``details``, default 3), a WeChat reader at most 5 articles.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from selectolax.lexbor import SelectolaxError

from probes.fetch import Tools
from probes.fetch.bounds import TooComplex, parse_html
from probes.fetch.http import FetchError, decode_text
from probes.model import MAX_TEXT_CHARS, Artifact, Observation, Post, Target

FULL_TEXT_CHARS = MAX_TEXT_CHARS
CHECK_BUDGET = 200_000  # characters of full text one observation keeps, newest posts first
SUMMARY_CHARS = 500  # what a post past the budget keeps (the list readers' summary length)
MAX_DETAIL_PAGES = 5
DEFAULT_DETAIL_PAGES = 3

_BLOCK_END = re.compile(
    r"<br\b[^>]{0,200}>|</(?:p|div|li|tr|h[1-6]|section|table|blockquote|pre|dd|dt)\s*>", re.I
)
_CELL_END = re.compile(r"</t[dh]\s*>", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u3000\xa0]+")


def full_text(html: str, limit: int = FULL_TEXT_CHARS) -> str:
    """The visible text of an HTML body, one line per paragraph or table row (cells apart by
    a space), inline markup joined without spaces (户主<b>张某</b> → 户主张某)."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        text = html
    else:
        marked = _CELL_END.sub(lambda m: " " + m.group(0), _BLOCK_END.sub(_newline, html))
        try:
            root = parse_html(marked).body
        except TooComplex:  # a page built to stall the parser keeps no full text
            return ""
        text = root.text(separator="", deep=True) if root is not None else ""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:limit]


def _newline(m: re.Match[str]) -> str:
    return "\n" + m.group(0)


def fuller(listed: str, body: str) -> str:
    """The text a post keeps: the article's body when the list gave less of it."""
    return body if len(body) > len(listed) else listed


def bound_texts(posts: list[Post], budget: int = CHECK_BUDGET) -> None:
    """Full texts for the newest posts while the budget lasts; the rest cut to a summary."""
    oldest = datetime.min.replace(tzinfo=UTC)
    left = budget
    for p in sorted(posts, key=lambda p: p.published_at or oldest, reverse=True):
        if len(p.text) <= left:
            left -= len(p.text)
        else:
            p.text = p.text[: max(SUMMARY_CHARS, left)]
            left = max(0, left - len(p.text))


async def open_details(target: Target, tools: Tools, obs: Observation) -> None:
    """The ``webpage`` reader's detail pages: with ``detail`` (a CSS selector of the body on
    an item's own page, e.g. ``#zoom``, ``.TRS_Editor``), the newest ``details`` items' pages
    (default 3, at most 5) are opened and their body becomes the post's text. A page that
    cannot be read keeps the list's text and says so in the observation's detail."""
    selector = (target.options.get("detail") or "").strip()
    if not selector:
        return
    try:
        wanted = int(target.options.get("details") or DEFAULT_DETAIL_PAGES)
    except ValueError:
        wanted = DEFAULT_DETAIL_PAGES
    oldest = datetime.min.replace(tzinfo=UTC)
    newest = sorted(
        (p for p in obs.posts if p.url.startswith(("http://", "https://"))),
        key=lambda p: p.published_at or oldest,
        reverse=True,
    )[: min(max(wanted, 0), MAX_DETAIL_PAGES)]
    missed = 0
    for post in newest:
        try:
            resp = await tools.http.get(post.url, platform=target.platform)
        except FetchError:
            missed += 1
            continue
        if resp.status != 200:
            missed += 1
            continue
        html = resp.text or decode_text(resp.content, resp.headers.get("content-type", ""))[0]
        try:
            node = parse_html(html).css_first(selector)
        except TooComplex:
            missed += 1
            continue
        except SelectolaxError:
            obs.detail = f"正文选择器 '{selector}' 无效"
            return
        if node is None:
            missed += 1
            continue
        obs.artifacts.append(
            Artifact("page", resp.media_type or "text/html", resp.content, resp.final_url)
        )
        post.text = fuller(post.text, full_text(node.html or ""))
    if missed:
        obs.detail = obs.detail or f"{missed} 篇详情页未读到正文（选择器 '{selector}'）"
