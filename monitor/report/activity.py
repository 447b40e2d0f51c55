"""Activity over time: posts per month per account, followers, silence — and the 清理整合
candidates a supervisor weighs (seed 001: "对功能相近、用户关注度和利用率低的政务新媒体要清理
整合"; "同一平台只开一个账号").

Posts are counted once each, by post id, across every look that saw them: a post seen by 300
checks counts once, in the month it was published (Beijing time). The looks are read through
their content-addressed facts, only as many as it takes to see every post
(:mod:`monitor.report.seen`). Originals and reposts as
the platform says (Weibo ``retweeted_status``: ``Post.repost``). Followers: the profile's
counter at the last look of the month that showed one (:func:`followers_of`, the one place that
reads it from the facts). Silent days: days of the month (up to now) with no post published.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.report.period import Period
from monitor.report.seen import looks_in, posts_seen
from monitor.report.snapshots import as_utc
from monitor.store.facts import load_facts
from monitor.store.models import Account, Snapshot, Unit

#: how long after a month a post published in it may first be seen (a late look, a backlog)
SEEN_LATER = timedelta(days=31)


def followers_of(facts: dict[str, Any]) -> int | None:
    """The follower count a look's facts carry (None: the look did not show one).

    The one reader of the counter: where counters are stored for an unchanged look may
    change, and only this function then needs to follow."""
    profile = facts.get("profile")
    value = profile.get("followers") if isinstance(profile, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Month:
    month: str  # 2026-11
    posts: int = 0
    originals: int = 0
    reposts: int = 0
    followers: int | None = None
    silent_days: int = 0  # days of the month (up to now) with nothing published
    # the patrol could see the month: its looks reach back before the month's end and on to
    # its start (a month before the first look, or after looks stopped working, is "—")
    seen: bool = True


@dataclass
class Activity:
    account_id: str
    name: str
    platform: str
    owner_code: str
    owner_name: str
    status: str
    months: list[Month] = field(default_factory=list)
    last_post_at: datetime | None = None  # the newest post seen, ever (before the end)
    # days from it to the last ok look (None: no post seen); a silence is only as long as
    # the looks that saw it: an account unreadable since is not "silent" for that time
    silent_for: int | None = None
    followers: int | None = None  # at the last look before the end that showed it
    first_look: datetime | None = None  # the first and last ok looks, ever (before the end)
    last_look: datetime | None = None
    # the patrol saw the whole span (its looks, or the posts they showed, reach back to its
    # start): only then is the output per month judged
    covered: bool = False
    any_posts: bool = False  # some ok look, ever, showed posts (dated or not)

    @property
    def posts(self) -> int:
        return sum(m.posts for m in self.months)

    @property
    def per_month(self) -> float:
        seen = [m for m in self.months if m.seen]
        return sum(m.posts for m in seen) / len(seen) if seen else 0.0


def months_of(start: date, end: date, tz: str) -> list[Period]:
    """The calendar months from the one holding ``start`` to the one holding ``end``."""
    p, out = Period("month", start.year, start.month, tz), []
    while p.first_day <= end:
        out.append(p)
        p = p.next()
    return out


def _accounts(session: Session, codes: set[str] | None) -> list[tuple[Account, str]]:
    q = select(Account, Unit.name).join(Unit, col(Unit.code) == col(Account.owner_code))
    if codes is not None:
        q = q.where(col(Account.owner_code).in_(sorted(codes)))
    rows = session.exec(q.where(col(Account.platform) != "app")).all()
    return sorted(
        ((a, n) for a, n in rows), key=lambda r: (r[0].owner_code, r[0].platform, r[0].id)
    )


def _ok(ids: list[str], start: datetime, end: datetime) -> Any:
    return (
        sa.select(Snapshot.account_id)
        .where(col(Snapshot.account_id).in_(ids))
        .where(col(Snapshot.outcome) == "ok", col(Snapshot.facts_hash) != "")
        .where(col(Snapshot.taken_at) >= start, col(Snapshot.taken_at) < end)
    )


def _last(session: Session, ids: list[str], start: datetime, end: datetime) -> dict[str, str]:
    """Each account's last ok look in [start, end) (its facts): the month's counters."""
    out: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        last = (
            _ok(ids[i : i + 500], start, end)
            .add_columns(sa.func.max(Snapshot.taken_at).label("at"))
            .group_by(Snapshot.account_id)
            .subquery()
        )
        q = sa.select(Snapshot.account_id, Snapshot.facts_hash).join(
            last,
            sa.and_(
                col(Snapshot.account_id) == last.c.account_id, col(Snapshot.taken_at) == last.c.at
            ),
        )
        out.update({account_id: sha for account_id, sha in session.execute(q)})
    return out


@dataclass(frozen=True)
class _Span:
    first: datetime  # the first and last ok look
    last: datetime
    latest_post: datetime | None  # the newest dated post any of them knew
    any_posts: bool  # some look saw posts (dated or not)


def _span(session: Session, ids: list[str], end: datetime) -> dict[str, _Span]:
    """Each account's ok looks before ``end``, in one grouped pass over the index on
    (account, outcome, time, latest post): the silence is read from every look, not only
    the period's."""
    out: dict[str, _Span] = {}
    for i in range(0, len(ids), 500):
        q = (
            sa.select(
                Snapshot.account_id,
                sa.func.min(Snapshot.taken_at),
                sa.func.max(Snapshot.taken_at),
                sa.func.max(Snapshot.latest_post_at),
                sa.func.max(Snapshot.post_count),
            )
            .where(col(Snapshot.account_id).in_(ids[i : i + 500]))
            .where(col(Snapshot.outcome) == "ok", col(Snapshot.taken_at) < end)
            .group_by(Snapshot.account_id)
        )
        for a, lo, hi, latest, count in session.execute(q):
            post = as_utc(latest) if latest is not None else None
            out[a] = _Span(as_utc(lo), as_utc(hi), post, bool(count))
    return out


#: a span is covered when what the patrol saw reaches back to within this of its start
COVER_GRACE = timedelta(days=7)


def activity(
    session: Session,
    first: date,
    last: date,
    now: datetime,
    tz: str,
    codes: set[str] | None = None,
) -> list[Activity]:
    """Every account in ``codes``' units (None: all), month by month from ``first`` to
    ``last`` (local days), as known at ``now`` (looks after it are not read)."""
    zone = ZoneInfo(tz)
    months = months_of(first, last, tz)
    start, end = months[0].start, min(months[-1].end, now)
    accounts = _accounts(session, codes)
    ids = [a.id for a, _ in accounts]
    looks = looks_in(session, ids, start, min(end + SEEN_LATER, now))
    seen_by, undated_by, _ = posts_seen(session, looks, end)
    last_in = {
        str(m): _last(session, ids, m.start, min(m.end, end)) for m in months if m.start < end
    }
    facts = load_facts(session, {sha for lasts in last_in.values() for sha in lasts.values()})
    spans = _span(session, ids, end)
    today = now.astimezone(zone).date()
    out: list[Activity] = []
    for a, owner in accounts:
        act = Activity(a.id, a.name, a.platform, a.owner_code, owner, a.status)
        seen = seen_by.get(a.id, {})
        undated = undated_by.get(a.id, False)  # posts without a date: their month is unknown
        by_month = {
            m: followers_of(facts.get(lasts.get(a.id, ""), {})) for m, lasts in last_in.items()
        }
        act.followers = next((n for n in reversed(by_month.values()) if n is not None), None)
        span = spans.get(a.id)
        if span is not None:
            act.first_look, act.last_look = span.first, span.last
            act.last_post_at = span.latest_post
            act.any_posts = span.any_posts
        oldest = min((w for w, _ in seen.values()), default=None)
        reach = min(filter(None, (act.first_look, oldest)), default=None)
        act.covered = (
            not undated
            and reach is not None
            and reach <= start + COVER_GRACE
            and act.last_look is not None
            and act.last_look >= end - COVER_GRACE
        )
        posted_days: dict[str, set[date]] = defaultdict(set)
        rows = {
            str(m): Month(
                str(m),
                seen=(bool(seen) or not undated)
                and reach is not None
                and act.last_look is not None
                and reach < m.end
                and act.last_look >= m.start,
            )
            for m in months
        }
        for when, repost in seen.values():
            local = when.astimezone(zone).date()
            act.last_post_at = max(act.last_post_at or when, when)
            row = rows.get(f"{local.year}-{local.month:02d}")
            if row is None:
                continue
            row.posts += 1
            row.reposts += repost
            row.originals += not repost
            posted_days[row.month].add(local)
        for m in months:
            row = rows[str(m)]
            row.followers = by_month.get(str(m))
            days = (min(m.last_day, today) - m.first_day).days + 1
            row.silent_days = max(days - len(posted_days[row.month]), 0) if row.seen else 0
        act.months = [rows[str(m)] for m in months]
        if act.last_post_at is not None and act.last_look is not None:
            act.silent_for = max(
                (
                    act.last_look.astimezone(zone).date() - act.last_post_at.astimezone(zone).date()
                ).days,
                0,
            )
        out.append(act)
    return out


# -- 清理整合 candidates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    activity: Activity
    reasons: list[str]


#: what says where or how an account publishes, not whose it is: "贵阳发布" on Weibo is
#: "贵阳发布微博" too
_NOISE = re.compile(
    r"[\s·・\-_（）()【】\[\]“”\"'、，,。.]|官方|微博|微信|公众号|抖音号?|头条号?|快手号?"
)


def _core(name: str) -> str:
    return _NOISE.sub("", name)


def similar(a: str, b: str, threshold: float) -> bool:
    """Two names of one unit's accounts that read as the same account: the same once the
    platform's words are left out, one holding the other whole (4 characters or more), or
    alike by ``threshold`` (difflib's ratio)."""
    x, y = _core(a), _core(b)
    if not x or not y:
        return a.strip() == b.strip()
    short, long = sorted((x, y), key=len)
    if len(short) >= 4 and short in long:
        return True
    return difflib.SequenceMatcher(None, x, y).ratio() >= threshold


def _quiet(a: Activity, silent_days: int, low_per_month: float) -> list[str]:
    """Why an account is too quiet, in words: silent, never seen posting, or posting little."""
    why: list[str] = []
    if a.silent_for is not None and a.silent_for >= silent_days:
        why.append(f"已 {a.silent_for} 天未更新")
    elif a.silent_for is None and not a.any_posts and a.first_look and a.last_look:
        looked = (a.last_look - a.first_look).days
        if looked >= silent_days:
            why.append(f"巡查 {looked} 天未见任何发布")
    if a.covered and a.per_month < low_per_month:
        why.append(f"月均发布 {a.per_month:.1f} 条（低于 {low_per_month:g} 条）")
    return why


def candidates(
    acts: Iterable[Activity], *, silent_days: int, low_per_month: float, similarity: float
) -> list[Candidate]:
    """Active accounts that are silent ``silent_days`` or more, post fewer than
    ``low_per_month`` a month on average, or look like another account of the same unit on
    the same platform; each with its reasons in words."""
    active = [a for a in acts if a.status != "closed"]
    reasons: dict[str, list[str]] = defaultdict(list)
    for a in active:
        reasons[a.account_id] += _quiet(a, silent_days, low_per_month)
    groups: dict[tuple[str, str], list[Activity]] = defaultdict(list)
    for a in active:
        groups[(a.owner_code, a.platform)].append(a)
    for same in groups.values():
        for i, a in enumerate(same):
            for b in same[i + 1 :]:
                if similar(a.name, b.name, similarity):
                    reasons[a.account_id].append(f"与同单位同平台账号“{b.name}”疑似重复")
                    reasons[b.account_id].append(f"与同单位同平台账号“{a.name}”疑似重复")
    return [Candidate(a, reasons[a.account_id]) for a in active if reasons.get(a.account_id)]
