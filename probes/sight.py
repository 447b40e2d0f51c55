"""Never accuse on what was not seen: when an answer may be judged for how often an account posts.

Tried on the platforms' public answers of 2025–2026, an empty list was far more often "not
shown to us" (Douyin's ``aweme_list: []`` to an anonymous visitor while the profile counts
1,288 works, Weibo's ``ok: 1`` with no cards, an RSSHub channel whose route could not read the
platform, a login wall) than "nothing posted". So a verdict needs sight, settled here in one
place for every reader (:func:`settle`, called by ``probes.platforms.observe`` and again by
``probes.checks.evaluate`` for observations made elsewhere):

- posts were read: ``Sight.posts`` — judged;
- the platform's own explicit word that the account has none (the reader sets ``Sight.none``
  on an empty-state marker, and the profile's post counter, where the platform has one, is
  0): judged — a real empty account *is* stale;
- anything else: ``unreadable`` with the reason in the user's words (the reader's, or "未向
  本次访问展示内容列表"), never stale, never gone, and told to ops, never to the unit.

A counter that grew since the last look while no new post is visible means the account
posted (:func:`unseen_posts`): the posts list carries that update, dated when it was first
counted, so no rule is judged breached by a post it cannot see.
"""

from __future__ import annotations

from datetime import datetime

from probes.model import Observation, Outcome, Post, Sight

#: the id prefix of a post known only from the platform's counter (:func:`unseen_posts`)
UNSEEN = "unseen:"


def settle(obs: Observation) -> Observation:
    """Decide what an ``ok`` answer showed; an empty one that is not the platform's own word
    becomes ``unreadable``. In place; idempotent; other outcomes and unchanged pages (which
    refer to the look that was settled) are left as they are."""
    if obs.outcome is not Outcome.ok or obs.unchanged or obs.app is not None:
        return obs
    counted = obs.profile.posts_count
    if obs.posts:
        obs.sight = Sight.posts
        return obs
    if obs.sight is Sight.none and not counted:
        return obs
    obs.outcome = Outcome.unreadable
    obs.sight = None
    if counted:
        obs.detail = (
            f"平台资料显示有 {counted} 条内容，但本次访问看到的列表为空（未向本次访问展示）"
        )
    elif not obs.detail:
        obs.detail = "平台返回了空列表，未说明账号没有内容（未向本次访问展示内容列表）"
    return obs


def is_unseen(p: Post) -> bool:
    """A post known from the platform's counter only (no text, no link of its own)."""
    return p.id.startswith(UNSEEN)


def unseen_posts(current: Observation, previous: Observation | None) -> list[Post]:
    """Updates the platform counts but does not show: what the staleness rules must count.

    - The profile's post counter grew since ``previous`` (the last good look) and no visible,
      unpinned post is newer than that look: the account posted in between. The update is
      dated at ``current.fetched_at`` — the latest moment it can have happened — so a breach
      judged from it is certain and none is judged from a moment it cannot be shown to be.
    - Such an update carried by ``previous`` stays while no visible post is as new as it.
    """
    if current.outcome is not Outcome.ok or previous is None:
        return []
    newest = _newest_visible(current.posts)
    carried = [
        p
        for p in previous.posts
        if is_unseen(p)
        and p.published_at is not None
        and (newest is None or newest < p.published_at)
        and not any(q.id == p.id for q in current.posts)
    ]
    now_n, before_n = current.profile.posts_count, previous.profile.posts_count
    if now_n is None or before_n is None or now_n <= before_n:
        return carried
    if newest is not None and newest > previous.fetched_at:
        return carried  # the new post is among those shown
    if any(q.id == f"{UNSEEN}{now_n}" for q in current.posts):
        return carried  # already added to this observation (idempotent)
    at = current.fetched_at
    grown = Post(
        id=f"{UNSEEN}{now_n}",
        published_at=at,
        title=f"（平台计数由 {before_n} 增至 {now_n}，新内容未向本次访问展示）",
    )
    return [grown, *carried]


def _newest_visible(posts: list[Post]) -> datetime | None:
    times = [p.published_at for p in posts if p.published_at and not p.pinned and not is_unseen(p)]
    return max(times) if times else None
