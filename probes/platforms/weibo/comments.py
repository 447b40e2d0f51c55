"""Weibo's public comments under an account's recent posts (互动回应), within a bound per check.

Weibo's mobile web answers ``{m}/comments/hotflow?id=<mid>&mid=<mid>&max_id_type=0`` with
``{"ok": 1, "data": {"data": [comment, …], "total_number", "max_id", "max_id_type"}}`` — the
shape dataabc/weibo-crawler ``weibo.py`` (``_get_weibo_comments_cookie``) reads. A comment
carries ``id``, ``created_at`` (``Sun Nov 22 14:05:00 +0800 2026``), ``text`` (HTML),
``user.{id, screen_name}``, and its replies (楼中楼) as ``comments`` (a list, or ``false``
when there are none) with ``total_number`` the count the platform holds: the list shows only
the first few. Sources of the test's captured answers: ``tests/fixtures/platforms/weibo/``.

Bound: the newest :data:`POSTS_READ` posts that show comments (``comments_count`` > 0), one
request each, one at a time (the fetcher's per-host limit keeps the platform's pace); the
first page only (:data:`COMMENTS_KEPT` comments). Anything else than ``ok: 1`` with a list —
a refusal, a login wall, ``ok: 0``, an empty list while the post counts comments, a request
that failed — leaves ``Post.comments`` None: not shown to us, never a verdict
(:mod:`probes.sight`'s principle).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from probes.fetch.http import FetchError, Response
from probes.model import Comment, Observation, Post
from probes.platforms.common import add_json_artifact, as_int, load_json
from probes.platforms.webpage import shorten, strip_html
from probes.platforms.weibo.posts import parse_created_at

POSTS_READ = 5  # posts whose comments one check reads (one request each)
COMMENTS_KEPT = 20  # the first page of hotflow
REPLIES_KEPT = 10

Get = Callable[[str], Awaitable[Response]]


async def read_comments(
    obs: Observation, get: Get, m: str, mblogs: list[dict[str, Any]], uid: str
) -> int:
    """Fill ``Post.comments`` for the newest posts that have comments; the requests made.

    ``mblogs`` and ``obs.posts`` are in the same order (one post per mblog).
    """
    with_comments = [
        (mb, p)
        for mb, p in zip(mblogs, obs.posts, strict=False)
        if (as_int(mb.get("comments_count")) or 0) > 0 and not p.comments_disabled
    ]
    with_comments.sort(key=lambda pair: _when(pair[1]), reverse=True)
    asked = 0
    for mb, p in with_comments[:POSTS_READ]:
        mid = str(mb.get("mid") or mb.get("id") or "")
        if not mid.isdigit():
            continue
        asked += 1
        try:
            resp = await get(f"{m}/comments/hotflow?id={mid}&mid={mid}&max_id_type=0")
        except FetchError:
            continue  # not shown to us: the post keeps comments=None
        p.comments = comments_of(resp, uid)
        if p.comments is not None:
            add_json_artifact(obs, resp)  # the answer judged is kept as evidence
    return asked


def comments_of(resp: Response, uid: str) -> list[Comment] | None:
    """The comments of a hotflow answer; None when the answer showed none to us."""
    if resp.status != 200:
        return None
    data = load_json(resp.text)
    if not isinstance(data, dict) or data.get("ok") not in (1, "1", True):
        return None
    body = data.get("data")
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        return None  # an empty list under a post that counts comments: withheld, not judged
    return [comment(c, uid) for c in rows[:COMMENTS_KEPT] if isinstance(c, dict)]


def comment(c: dict[str, Any], uid: str) -> Comment:
    user = c.get("user") if isinstance(c.get("user"), dict) else {}
    user_id = str(user.get("id") or user.get("idstr") or "")
    replies = c.get("comments") if isinstance(c.get("comments"), list) else []
    shown = [comment(r, uid) for r in replies[:REPLIES_KEPT] if isinstance(r, dict)]
    total = as_int(c.get("total_number"))
    return Comment(
        id=str(c.get("idstr") or c.get("id") or ""),
        published_at=parse_created_at(c.get("created_at")),
        text=shorten(strip_html(str(c.get("text") or ""))),
        user_id=user_id,
        user_name=str(user.get("screen_name") or ""),
        by_account=bool(uid) and user_id == uid,
        replies=shown,
        replies_total=max(total or 0, len(shown)),
    )


def _when(p: Post) -> float:
    return p.published_at.timestamp() if p.published_at else 0.0
