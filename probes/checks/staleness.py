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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from probes.checks.kinds import FindingKind, declare
from probes.checks.rules import (
    EveryWorkingDay,
    MaxGapDays,
    OriginalPerMonth,
    PerWeek,
    Rule,
    RuleSet,
)
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

_WEEKDAYS = "一二三四五六日"
_CONSEQUENCE = {
    Severity.veto: "单项否决",
    Severity.high: "严重问题",
    Severity.warning: "预警",
    Severity.info: "提示",
}


@dataclass
class _Verdict:
    rule: Rule
    state: Literal["breach", "warning"]
    title: str
    detail: str
    deadline: datetime | None = None  # when the rule is (or was) breached, aware UTC
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Context:
    posts: list[Post]  # dated, not pinned, not in the future
    latest: Post
    now: datetime
    zone: ZoneInfo
    calendar: WorkCalendar
    notes: list[str] = field(default_factory=list)
    calendar_years: set[int] = field(default_factory=set)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def day(self, p: Post) -> date:
        assert p.published_at is not None
        return p.published_at.astimezone(self.zone).date()

    def end_of_day(self, d: date) -> datetime:
        """23:59:59 local, as aware UTC: the last moment a post still counts for ``d``."""
        return datetime.combine(d, time(23, 59, 59), self.zone).astimezone(UTC)

    def reaches_before(self, start: date) -> bool:
        """Do the known posts go back before ``start``? Only then is a count from ``start`` on
        complete: a short feed of a busy account shows just its newest posts."""
        return any(self.day(p) < start for p in self.posts)


def _full(dt: datetime, zone: ZoneInfo) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _short(dt: datetime, zone: ZoneInfo) -> str:
    local = dt.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _utc(dt: datetime) -> datetime:
    # the model promises aware UTC; a naive time from a careless reader is taken as UTC
    return dt.astimezone(UTC) if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


# -- the rules ------------------------------------------------------------------------------


def _max_gap(rule: MaxGapDays, ctx: _Context) -> _Verdict | None:
    assert ctx.latest.published_at is not None
    latest = ctx.latest.published_at
    elapsed = ctx.now - latest
    days = elapsed.days
    deadline = latest + timedelta(days=rule.days)
    facts = {"days_since_update": max(days, 0)}
    consequence = _CONSEQUENCE[rule.severity]
    if elapsed >= timedelta(days=rule.days):
        over = "超过" if days > rule.days else "满"
        suffix = "，单项否决" if rule.severity is Severity.veto else ""
        return _Verdict(
            rule,
            "breach",
            f"已 {days} 天未更新（{over} {rule.days} 天{suffix}）",
            f"最近一次更新在 {_full(latest, ctx.zone)}，已 {days} 天未更新；"
            f"规定 {rule.days} 天内须有更新，"
            f"自 {_full(deadline, ctx.zone)} 起已超期（{consequence}）。",
            deadline,
            facts,
        )
    if rule.warn_days and elapsed >= timedelta(days=rule.warn_days):
        return _Verdict(
            rule,
            "warning",
            f"已 {days} 天未更新，{rule.days} 天未更新将{consequence}",
            f"最近一次更新在 {_full(latest, ctx.zone)}，已 {days} 天未更新；"
            f"须在 {_full(deadline, ctx.zone)} 前更新，否则超过 {rule.days} 天（{consequence}）。",
            deadline,
            facts,
        )
    return None


def _every_working_day(rule: EveryWorkingDay, ctx: _Context) -> _Verdict | None:
    last_day = ctx.day(ctx.latest)
    due = ctx.calendar.next_workday(last_day)
    deadline = ctx.end_of_day(due)
    today = ctx.today
    ctx.calendar_years.update({last_day.year, due.year, today.year})
    weekend = "，调休上班日" if due.weekday() >= 5 else ""
    due_text = f"{_md(due)}（周{_WEEKDAYS[due.weekday()]}{weekend}）"
    facts = {"last_post_day": last_day.isoformat(), "due_workday": due.isoformat()}
    if ctx.now > deadline:
        missed = max(1, ctx.calendar.workdays_between(due, today - timedelta(days=1)))
        facts["missed_workdays"] = missed
        title = (
            f"{due_text}未更新（要求每个工作日更新）"
            if missed == 1
            else f"已连续 {missed} 个工作日未更新（要求每个工作日更新）"
        )
        return _Verdict(
            rule,
            "breach",
            title,
            f"最近一次更新在 {_full(ctx.latest.published_at or ctx.now, ctx.zone)}；"
            f"下一个工作日{due_text}应有更新，至今未更新，共缺 {missed} 个工作日。",
            deadline,
            facts,
        )
    if deadline - ctx.now <= timedelta(hours=rule.warn_hours):
        return _Verdict(
            rule,
            "warning",
            f"{due_text}须更新（要求每个工作日更新）",
            f"最近一次更新在 {_full(ctx.latest.published_at or ctx.now, ctx.zone)}；"
            f"{due_text}是工作日，须在 {_full(deadline, ctx.zone)} 前更新。",
            deadline,
            facts,
        )
    return None


def _per_period(
    rule: PerWeek | OriginalPerMonth,
    ctx: _Context,
    *,
    current_start: date,
    current_end: date,
    previous_start: date,
    counted: Sequence[Post],
    left: int,
    left_limit: int,
    names: tuple[str, str, str, str, str],  # last, this, every, what is counted, measure
    catch_up: bool = False,
) -> _Verdict | None:
    """Shared by per-week and per-month: breach = the last complete period fell short; warning
    = the current one is short and little of it is left. ``catch_up`` (per-week): a short
    last week is a breach only while this week is short too, due at this week's end — so
    posting enough resolves it (else nothing the unit did could clear it until Monday)."""
    prev_name, cur_name, every, what, mw = names
    days = [ctx.day(p) for p in counted]
    prev = sum(previous_start <= d < current_start for d in days)
    cur = sum(current_start <= d <= current_end for d in days)
    previous_end = current_start - timedelta(days=1)
    facts = {
        "previous_period": f"{previous_start.isoformat()}..{previous_end.isoformat()}",
        "previous_count": prev,
        "current_period": f"{current_start.isoformat()}..{current_end.isoformat()}",
        "current_count": cur,
    }
    period_text = f"{_md(previous_start)}至{_md(previous_end)}"
    label = rule.label()
    short = prev < rule.count and (not catch_up or cur < rule.count)
    if short and not ctx.reaches_before(previous_start):
        ctx.notes.append(f"{label}: 已知内容未早于{prev_name}开始，无法判断{prev_name}是否达标")
    elif short and catch_up:
        deadline = ctx.end_of_day(current_end)
        return _Verdict(
            rule,
            "breach",
            f"更新频次不足：本周已更新 {cur} {mw}，要求{every}至少 {rule.count} {mw}"
            f"（上周仅 {prev} {mw}）",
            f"{prev_name}（{period_text}）{what} {prev} {mw}，少于要求的 {rule.count} {mw}；"
            f"{cur_name}至今{what} {cur} {mw}，还差 {rule.count - cur} {mw}，"
            f"须在{cur_name}结束（{_full(deadline, ctx.zone)}）前补足。",
            deadline,
            {**facts, "catch_up": True},
        )
    elif short:
        return _Verdict(
            rule,
            "breach",
            f"{prev_name}{what}仅 {prev} {mw}（要求{every}不少于 {rule.count} {mw}）",
            f"{prev_name}（{period_text}）{what} {prev} {mw}，少于要求的 {rule.count} {mw}；"
            f"{cur_name}至今{what} {cur} {mw}。",
            ctx.end_of_day(previous_end),
            facts,
        )
    if cur < rule.count and left <= left_limit:
        if not ctx.reaches_before(current_start):
            ctx.notes.append(f"{label}: 已知内容未早于{cur_name}开始，无法判断{cur_name}更新数")
            return None
        deadline = ctx.end_of_day(current_end)
        return _Verdict(
            rule,
            "warning",
            f"{cur_name}{what}仅 {cur} {mw}（要求{every}不少于 {rule.count} {mw}）",
            f"{cur_name}至今{what} {cur} {mw}，还差 {rule.count - cur} {mw}；"
            f"须在 {_full(deadline, ctx.zone)} 前更新。",
            deadline,
            {**facts, "left": left},
        )
    return None


def _per_week(rule: PerWeek, ctx: _Context) -> _Verdict | None:
    today = ctx.today
    start = today - timedelta(days=today.weekday())
    end = start + timedelta(days=6)
    ctx.calendar_years.update({today.year, end.year})
    left = ctx.calendar.workdays_between(today, end)  # today still counts: it is not over
    return _per_period(
        rule,
        ctx,
        current_start=start,
        current_end=end,
        previous_start=start - timedelta(days=7),
        counted=ctx.posts,
        left=left,
        left_limit=rule.warn_workdays,
        names=("上周", "本周", "每周", "更新", "次"),
        catch_up=True,
    )


def _original_per_month(rule: OriginalPerMonth, ctx: _Context) -> _Verdict | None:
    today = ctx.today
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return _per_period(
        rule,
        ctx,
        current_start=start,
        current_end=end,
        previous_start=(start - timedelta(days=1)).replace(day=1),
        counted=[p for p in ctx.posts if not p.repost],
        left=(end - today).days + 1,
        left_limit=rule.warn_days,
        names=("上月", "本月", "每月", "原创内容", "条"),
    )


# -- until when a rule that says nothing now keeps silent -------------------------------------
# Each rule's judge has its "quiet until" beside it: the earliest instant after ``ctx.now`` at
# which the judge could give a verdict, when it gives none at ``ctx.now``. Earlier is always
# allowed (the look is judged then), later never (a warning would be missed).


def _max_gap_until(rule: MaxGapDays, ctx: _Context) -> datetime:
    assert ctx.latest.published_at is not None
    # the warning's day, or the breach's when there is no warning (warn_days < days)
    return ctx.latest.published_at + timedelta(days=rule.warn_days or rule.days)


def _every_working_day_until(rule: EveryWorkingDay, ctx: _Context) -> datetime:
    due = ctx.calendar.next_workday(ctx.day(ctx.latest))
    return ctx.end_of_day(due) - timedelta(hours=rule.warn_hours)


def _next_midnight(rule: PerWeek | OriginalPerMonth, ctx: _Context) -> datetime:
    """A period rule reads only the local date (its periods, the days left, the posts'
    days): it can change at the next local midnight, not before."""
    return datetime.combine(ctx.today + timedelta(days=1), time(0), ctx.zone).astimezone(UTC)


_Judge = Callable[[Any, _Context], "_Verdict | None"]
_Quiet = Callable[[Any, _Context], datetime]

#: each kind of rule: its judge, and until when it stays silent (a rule missing here fails
#: loudly in both, never judged by another's)
_RULES: dict[type, tuple[_Judge, _Quiet]] = {
    MaxGapDays: (_max_gap, _max_gap_until),
    EveryWorkingDay: (_every_working_day, _every_working_day_until),
    PerWeek: (_per_week, _next_midnight),
    OriginalPerMonth: (_original_per_month, _next_midnight),
}  # fmt: skip


def _judge(rule: Rule, ctx: _Context) -> _Verdict | None:
    return _RULES[type(rule)][0](rule, ctx)


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
            p = replace(p, published_at=_utc(p.published_at))
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


def _rule_evidence(ruleset: RuleSet, v: _Verdict) -> dict[str, Any]:
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


def _rank(v: _Verdict) -> tuple[int, datetime]:
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
    newest_pin = max((_utc(p.published_at) for p in pinned if p.published_at), default=None)
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
                    f"本次检查（{_full(now, zone)}）看到 {len(posts)} 条内容，"
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
                    f"本次检查（{_full(now, zone)}）未找到任何带发布时间的非置顶内容"
                    f"（共 {len(posts)} 条：置顶 {len(pinned)} 条，无发布时间 {len(undated)} 条）。"
                ),
                rule=", ".join(rule_names),
                evidence=evidence(
                    replace(skipped, no_post_found=True, posts_seen=len(posts)), **internal
                ),
            )
        ]

    latest = max(usable, key=lambda p: p.published_at or now)
    ctx = _Context(posts=usable, latest=latest, now=now, zone=zone, calendar=calendar)
    verdicts = [v for r in ruleset.rules if (v := _judge(r, ctx)) is not None]
    told = _post_evidence(latest, now)
    unknown = sorted(y for y in ctx.calendar_years if not calendar.has_data(y))
    notes = RuleNotes(notes=ctx.notes or None, calendar_unknown_years=unknown or None)

    def said(rules: list[_Verdict], **more: Any) -> dict[str, Any]:
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
    again before then. Each rule's bound sits beside its judge (``_RULES``); the verdicts at
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
    ctx = _Context(posts=usable, latest=latest, now=now, zone=ZoneInfo(tz), calendar=calendar)
    until = [horizon]
    for rule in ruleset.rules:
        judge, quiet = _RULES[type(rule)]
        if judge(rule, ctx) is not None:
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
        when = _utc(p.published_at).isoformat() if p.published_at else None
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
