"""Staleness: has the account been updated as often as its rule set demands?

Judged on local (Asia/Shanghai) dates, because rules and inspections speak of days, weeks and
working days there. Pinned posts never count as the latest update (a fresh pin hides a dead
account; an old pin makes a live one look dead). Each rule gives at most one verdict: breached
now (``stale``; ``infrequent`` for "N posts a week", which the week can still make good) or
breached soon (``stale_soon``); all verdicts of one kind become one signal.
Posts seen but none dated give ``undated`` ("无法判断更新时间", a warning, never a veto): a
reader that cannot date the page says nothing about how often the account posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from probes.checks.kinds import FindingKind, declare
from probes.checks.rules import (
    RuleSet,
)
from probes.checks.staleness_rules import RULES, Context, Verdict, full_time, judge_rule, utc
from probes.evidence import LatestPost, RuleNotes, SkippedPosts, evidence
from probes.model import SEVERITY_RANK, Post, Severity, Signal

if TYPE_CHECKING:
    from probes.checks.calendar import WorkCalendar

FINDING_KINDS = declare(
    __name__,
    FindingKind(
        "stale", "长期未更新", "update", Severity.veto, "更新",
        advice="立即发布一条新内容（置顶内容不计入更新）；账号确已停用的，请按程序关停并报备",
        timed=True, supersedes="stale_soon",
    ),
    FindingKind(
        "stale_soon", "即将超过更新期限", "update", Severity.warning, "更新",
        advice="在期限前发布一条新内容（置顶内容不计入更新）", counted=False, timed=True,
    ),
    # "N posts a week" fell short last week and this week has not caught up yet
    FindingKind(
        "infrequent", "更新频次不足", "update", Severity.high, "补足更新",
        advice="本周内补足规定的更新条数（置顶内容不计入），补足后自动恢复",
        timed=True, supersedes="stale_soon",
    ),
    # posts seen, none dated: no verdict on the account, the reader needs a look
    FindingKind(
        "undated", "无法判断更新时间", "patrol", Severity.warning, counted=False, timed=True
    ),
)  # fmt: skip

INFREQUENT = "infrequent"  # a per-week rule's breach (``probes.checks.kinds``: 更新频次不足)

# a post dated further ahead than this is a reader's mistake (wrong year, wrong zone), and would
# hide staleness if it counted
FUTURE_TOLERANCE = timedelta(days=1)


def _short(dt: datetime, zone: ZoneInfo) -> str:
    local = dt.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


# -- the signals ----------------------------------------------------------------------------


def _sorted_out(
    posts: Sequence[Post], now: datetime
) -> tuple[list[Post], list[Post], list[Post], list[Post]]:
    """The posts the rules cannot use (undated; pinned, dated) and the dated, unpinned ones:
    usable at ``now`` (aware UTC from here on), or dated too far in the future."""
    undated = [p for p in posts if p.published_at is None]
    pinned = [p for p in posts if p.pinned and p.published_at is not None]
    usable: list[Post] = []
    future: list[Post] = []
    for p in posts:
        if p.published_at is None or p.pinned:
            continue
        if p.published_at.tzinfo is not UTC:  # copied only when not aware UTC already
            p = replace(p, published_at=utc(p.published_at))
        (future if p.published_at and p.published_at > now + FUTURE_TOLERANCE else usable).append(p)
    return undated, pinned, usable, future


def _post_evidence(p: Post, now: datetime) -> LatestPost:
    assert p.published_at is not None
    return LatestPost(
        latest_post_at=p.published_at.astimezone(UTC).isoformat(),
        latest_post_id=p.id,
        latest_post_title=p.title or p.text[:80],
        latest_post_url=p.url,
        days_since_update=max((now - p.published_at).days, 0),
    )


def _rule_evidence(ruleset: RuleSet, v: Verdict) -> dict[str, Any]:
    return {
        "rule": f"{ruleset.name}.{v.rule.label()}",
        "state": v.state,
        "severity": v.rule.severity.value,
        # a breach's moment is past: it is when the rule was broken, not a deadline to meet
        ("breached_at" if v.state == "breach" and not v.facts.get("catch_up") else "deadline"): (
            v.deadline.isoformat() if v.deadline else None
        ),
        "params": v.rule.params(),
        **v.facts,
    }


def _rank(v: Verdict) -> tuple[int, datetime]:
    # most severe first, then the one due (or overdue) first
    return (-SEVERITY_RANK[v.rule.severity], v.deadline or datetime.max.replace(tzinfo=UTC))


def evaluate_staleness(
    posts: Sequence[Post],
    ruleset: RuleSet,
    calendar: WorkCalendar,
    now: datetime,
    tz: str = "Asia/Shanghai",
) -> list[Signal]:
    """At most one ``stale`` and one ``stale_soon`` signal for the account's posts at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)  # deadlines derive from it and from post times: all UTC
    if not ruleset.rules:  # e.g. service accounts: not judged on posting frequency
        return []
    zone = ZoneInfo(tz)
    undated, pinned, usable, future = _sorted_out(posts, now)
    # pinned posts are told so nobody wonders why a fresh pinned post did not count
    newest_pin = max((utc(p.published_at) for p in pinned if p.published_at), default=None)
    skipped = SkippedPosts(
        ignored_undated_posts=len(undated) or None,
        ignored_undated_post_ids=[p.id for p in undated][:10] or None,
        ignored_pinned_posts=len(pinned) or None,
        newest_pinned_post_at=newest_pin.astimezone(UTC).isoformat() if newest_pin else None,
        ignored_future_posts=[
            {"id": p.id, "published_at": p.published_at.isoformat() if p.published_at else None}
            for p in future
        ][:10]
        or None,
    )
    internal = {"ruleset": ruleset.name}

    rule_names = [f"{ruleset.name}.{r.label()}" for r in ruleset.rules]
    if not usable and undated:
        # posts were seen, none says when: no verdict on the account, never a veto
        return [
            Signal(
                kind="undated",
                severity=Severity.warning,
                title=f"无法判断更新时间（{len(undated)} 条内容读不出发布时间）",
                detail=(
                    f"本次检查（{full_time(now, zone)}）看到 {len(posts)} 条内容，"
                    f"其中 {len(undated)} 条读不出发布时间，没有可用于判断的非置顶内容；"
                    "未按更新规定判定，请检查读取方式（日期选择器、日期格式）或平台改版。"
                ),
                rule=", ".join(rule_names),
                evidence=evidence(
                    replace(skipped, posts_seen=len(posts), undated_only=True), **internal
                ),
            )
        ]
    if not usable:
        severity = max((r.severity for r in ruleset.rules), key=SEVERITY_RANK.__getitem__)
        return [
            Signal(
                kind="stale",
                severity=severity,
                title="未找到任何更新（置顶内容不计）",
                detail=(
                    f"本次检查（{full_time(now, zone)}）未找到任何带发布时间的非置顶内容"
                    f"（共 {len(posts)} 条：置顶 {len(pinned)} 条，无发布时间 {len(undated)} 条）。"
                ),
                rule=", ".join(rule_names),
                evidence=evidence(
                    replace(skipped, no_post_found=True, posts_seen=len(posts)), **internal
                ),
            )
        ]

    latest = max(usable, key=lambda p: p.published_at or now)
    ctx = Context(posts=usable, latest=latest, now=now, zone=zone, calendar=calendar)
    verdicts = [v for r in ruleset.rules if (v := judge_rule(r, ctx)) is not None]
    told = _post_evidence(latest, now)
    unknown = sorted(y for y in ctx.calendar_years if not calendar.has_data(y))
    notes = RuleNotes(notes=ctx.notes or None, calendar_unknown_years=unknown or None)

    def said(rules: list[Verdict], **more: Any) -> dict[str, Any]:
        verdicts = [_rule_evidence(ruleset, v) for v in rules]
        return evidence(told, skipped, replace(notes, rules=verdicts, **more), **internal)

    signals: list[Signal] = []
    breaches = sorted((v for v in verdicts if v.state == "breach"), key=_rank)
    # "N posts a week" falling short is not 长期未更新: its own kind (更新频次不足)
    rate = [v for v in breaches if v.facts.get("catch_up")]
    breaches = [v for v in breaches if not v.facts.get("catch_up")]
    if rate:
        top = rate[0]
        signals.append(
            Signal(
                kind=INFREQUENT,
                severity=top.rule.severity,
                title=top.title,
                detail="\n".join(v.detail for v in rate),
                rule=", ".join(f"{ruleset.name}.{v.rule.label()}" for v in rate),
                deadline=top.deadline,  # this week's end: the week can still be made good
                evidence=said(rate),
            )
        )
    if breaches:
        top = breaches[0]
        signals.append(
            Signal(
                kind="stale",
                severity=top.rule.severity,
                title=top.title,
                detail="\n".join(v.detail + "请尽快更新。" for v in breaches),
                rule=", ".join(f"{ruleset.name}.{v.rule.label()}" for v in breaches),
                # a breach's 整改期限 is the moment it was broken: past, so it reads 已超期 N 天
                deadline=top.deadline,
                evidence=said(breaches),
            )
        )
    # a warning is not yet a failure: always severity "warning", soonest deadline first
    warnings = sorted(
        (v for v in verdicts if v.state == "warning"),
        key=lambda v: (v.deadline, -SEVERITY_RANK[v.rule.severity]),
    )
    if warnings:
        top = warnings[0]
        assert top.deadline is not None
        at_stake = max((v.rule.severity for v in warnings), key=SEVERITY_RANK.__getitem__)
        suffix = "，逾期将单项否决" if top.rule.severity is Severity.veto else ""
        signals.append(
            Signal(
                kind="stale_soon",
                severity=Severity.warning,
                title=f"即将超期：须在 {_short(top.deadline, zone)} 前更新{suffix}",
                detail="\n".join(f"{v.title}：{v.detail}" for v in warnings),
                rule=", ".join(f"{ruleset.name}.{v.rule.label()}" for v in warnings),
                deadline=top.deadline,
                evidence=said(warnings, at_stake=at_stake.value),
            )
        )
    return signals


# -- until when silence lasts ---------------------------------------------------------------

#: how far ahead a silence is promised at most (no rules: silent for ever)
QUIET_HORIZON = timedelta(days=366)


def quiet_until(
    posts: Sequence[Post],
    ruleset: RuleSet,
    calendar: WorkCalendar,
    now: datetime,
    tz: str = "Asia/Shanghai",
) -> datetime | None:
    """Until when :func:`evaluate_staleness` keeps giving no signal for these posts: the
    earliest instant after ``now`` at which it could give one (aware UTC; earlier than
    needed is allowed, later never), or None when it gives one at ``now``.

    Why: a look that finds the page as it was (``monitor.record``) need not judge the rules
    again before then. Each rule's bound sits beside its judge (``RULES``); the verdicts at
    ``now`` are the judges' own, so the two cannot disagree on "silent now".
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    horizon = now + QUIET_HORIZON
    if not ruleset.rules:
        return horizon
    _, _, usable, future = _sorted_out(posts, now)
    if not usable:  # "undated" or "未找到任何更新": a signal now
        return None
    latest = max(usable, key=lambda p: p.published_at or now)
    ctx = Context(posts=usable, latest=latest, now=now, zone=ZoneInfo(tz), calendar=calendar)
    until = [horizon]
    for rule in ruleset.rules:
        says, quiet = RULES[type(rule)]
        if says(rule, ctx) is not None:
            return None
        until.append(quiet(rule, ctx))
    # a post dated too far ahead becomes usable when ``now`` catches up with it
    until += [p.published_at - FUTURE_TOLERANCE for p in future if p.published_at]
    return max(min(until), now)


# -- what the rules read of the posts -------------------------------------------------------


def digest_posts(posts: Sequence[Post]) -> dict[str, Any]:
    """What :func:`evaluate_staleness` reads of ``posts``, small and JSON-able.

    A check that finds the page unchanged (HTTP 304, or the same bytes) judges its rules
    again from this instead of parsing the page: time moves on (a post 13 days old is 14
    days old tomorrow) while the posts stay. :func:`posts_from_digest` gives posts that
    the rules judge exactly as they judged these (tests hold the two equal).
    """
    rows = []
    for p in posts:
        when = utc(p.published_at).isoformat() if p.published_at else None
        rows.append([p.id, when, int(p.pinned), int(p.repost), p.title or p.text[:80], p.url])
    return {"v": 1, "posts": rows}


def posts_from_digest(digest: dict[str, Any]) -> list[Post] | None:
    """The posts of :func:`digest_posts`; None for a digest of another shape (judge anew)."""
    if digest.get("v") != 1:
        return None
    out = []
    for pid, when, pinned, repost, title, url in digest.get("posts", []):
        at = datetime.fromisoformat(when) if when else None
        out.append(Post(pid, at, title=title, url=url, pinned=bool(pinned), repost=bool(repost)))
    return out
