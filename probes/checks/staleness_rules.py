"""The staleness rules one by one: each kind of rule's judge (a verdict at ``now``, or none)
and, beside it, until when it stays silent when it gives none (``RULES``).

Split from :mod:`probes.checks.staleness`, which turns the verdicts into signals and reads the
posts: a new kind of rule is added here, judge and bound together, or it is judged by
nothing (``RULES`` is looked up by the rule's type, and a missing one fails loudly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from probes.checks.rules import (
    EveryWorkingDay,
    MaxGapDays,
    OriginalPerMonth,
    PerWeek,
    Rule,
)
from probes.model import Post, Severity

if TYPE_CHECKING:
    from probes.checks.calendar import WorkCalendar

_WEEKDAYS = "一二三四五六日"
_CONSEQUENCE = {
    Severity.veto: "单项否决",
    Severity.high: "严重问题",
    Severity.warning: "预警",
    Severity.info: "提示",
}


@dataclass
class Verdict:
    rule: Rule
    state: Literal["breach", "warning"]
    title: str
    detail: str
    deadline: datetime | None = None  # when the rule is (or was) breached, aware UTC
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
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


def full_time(dt: datetime, zone: ZoneInfo) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def utc(dt: datetime) -> datetime:
    # the model promises aware UTC; a naive time from a careless reader is taken as UTC
    return dt.astimezone(UTC) if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


# -- the rules ------------------------------------------------------------------------------


def _max_gap(rule: MaxGapDays, ctx: Context) -> Verdict | None:
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
        return Verdict(
            rule,
            "breach",
            f"已 {days} 天未更新（{over} {rule.days} 天{suffix}）",
            f"最近一次更新在 {full_time(latest, ctx.zone)}，已 {days} 天未更新；"
            f"规定 {rule.days} 天内须有更新，"
            f"自 {full_time(deadline, ctx.zone)} 起已超期（{consequence}）。",
            deadline,
            facts,
        )
    if rule.warn_days and elapsed >= timedelta(days=rule.warn_days):
        return Verdict(
            rule,
            "warning",
            f"已 {days} 天未更新，{rule.days} 天未更新将{consequence}",
            f"最近一次更新在 {full_time(latest, ctx.zone)}，已 {days} 天未更新；"
            f"须在 {full_time(deadline, ctx.zone)} 前更新，"
            f"否则超过 {rule.days} 天（{consequence}）。",
            deadline,
            facts,
        )
    return None


def _every_working_day(rule: EveryWorkingDay, ctx: Context) -> Verdict | None:
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
        return Verdict(
            rule,
            "breach",
            title,
            f"最近一次更新在 {full_time(ctx.latest.published_at or ctx.now, ctx.zone)}；"
            f"下一个工作日{due_text}应有更新，至今未更新，共缺 {missed} 个工作日。",
            deadline,
            facts,
        )
    if deadline - ctx.now <= timedelta(hours=rule.warn_hours):
        return Verdict(
            rule,
            "warning",
            f"{due_text}须更新（要求每个工作日更新）",
            f"最近一次更新在 {full_time(ctx.latest.published_at or ctx.now, ctx.zone)}；"
            f"{due_text}是工作日，须在 {full_time(deadline, ctx.zone)} 前更新。",
            deadline,
            facts,
        )
    return None


def _per_period(
    rule: PerWeek | OriginalPerMonth,
    ctx: Context,
    *,
    current_start: date,
    current_end: date,
    previous_start: date,
    counted: Sequence[Post],
    left: int,
    left_limit: int,
    names: tuple[str, str, str, str, str],  # last, this, every, what is counted, measure
    catch_up: bool = False,
) -> Verdict | None:
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
        return Verdict(
            rule,
            "breach",
            f"更新频次不足：本周已更新 {cur} {mw}，要求{every}至少 {rule.count} {mw}"
            f"（上周仅 {prev} {mw}）",
            f"{prev_name}（{period_text}）{what} {prev} {mw}，少于要求的 {rule.count} {mw}；"
            f"{cur_name}至今{what} {cur} {mw}，还差 {rule.count - cur} {mw}，"
            f"须在{cur_name}结束（{full_time(deadline, ctx.zone)}）前补足。",
            deadline,
            {**facts, "catch_up": True},
        )
    elif short:
        return Verdict(
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
        return Verdict(
            rule,
            "warning",
            f"{cur_name}{what}仅 {cur} {mw}（要求{every}不少于 {rule.count} {mw}）",
            f"{cur_name}至今{what} {cur} {mw}，还差 {rule.count - cur} {mw}；"
            f"须在 {full_time(deadline, ctx.zone)} 前更新。",
            deadline,
            {**facts, "left": left},
        )
    return None


def _per_week(rule: PerWeek, ctx: Context) -> Verdict | None:
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


def _original_per_month(rule: OriginalPerMonth, ctx: Context) -> Verdict | None:
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


def _max_gap_until(rule: MaxGapDays, ctx: Context) -> datetime:
    assert ctx.latest.published_at is not None
    # the warning's day, or the breach's when there is no warning (warn_days < days)
    return ctx.latest.published_at + timedelta(days=rule.warn_days or rule.days)


def _every_working_day_until(rule: EveryWorkingDay, ctx: Context) -> datetime:
    due = ctx.calendar.next_workday(ctx.day(ctx.latest))
    return ctx.end_of_day(due) - timedelta(hours=rule.warn_hours)


def _next_midnight(rule: PerWeek | OriginalPerMonth, ctx: Context) -> datetime:
    """A period rule reads only the local date (its periods, the days left, the posts'
    days): it can change at the next local midnight, not before."""
    return datetime.combine(ctx.today + timedelta(days=1), time(0), ctx.zone).astimezone(UTC)


Judge = Callable[[Any, Context], "Verdict | None"]
Quiet = Callable[[Any, Context], datetime]

#: each kind of rule: its judge, and until when it stays silent (a rule missing here fails
#: loudly in both, never judged by another's)
RULES: dict[type, tuple[Judge, Quiet]] = {
    MaxGapDays: (_max_gap, _max_gap_until),
    EveryWorkingDay: (_every_working_day, _every_working_day_until),
    PerWeek: (_per_week, _next_midnight),
    OriginalPerMonth: (_original_per_month, _next_midnight),
}  # fmt: skip


def judge_rule(rule: Rule, ctx: Context) -> Verdict | None:
    return RULES[type(rule)][0](rule, ctx)
