"""Staleness rules on real 2025/2026 calendars, with an injected ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from probes.checks.calendar import WorkCalendar
from probes.checks.rules import (
    BUILTIN_RULESETS,
    EveryWorkingDay,
    OriginalPerMonth,
    PerWeek,
    RuleSet,
    rule_text,
    ruleset_title,
)
from probes.checks.staleness import evaluate_staleness
from probes.model import Post, Severity, Signal

SH = ZoneInfo("Asia/Shanghai")
NATIONAL = BUILTIN_RULESETS["national"]
CITY = BUILTIN_RULESETS["guizhou_city"]
COUNTY = BUILTIN_RULESETS["guizhou_county"]
DAILY = RuleSet(name="daily", rules=(EveryWorkingDay(),))  # every_working_day on its own
WEEKLY = RuleSet(name="weekly", rules=(PerWeek(count=2),))


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def at(local: str) -> datetime:
    """'2025-10-09 08:00' in Beijing time, as aware UTC (what readers hand over)."""
    return datetime.fromisoformat(local).replace(tzinfo=SH).astimezone(UTC)


def post(pid: str, local: str | None, **kw: object) -> Post:
    return Post(
        id=pid,
        published_at=at(local) if local else None,
        title=f"title {pid}",
        url=f"https://example.gov.cn/{pid}",
        **kw,  # type: ignore[arg-type]
    )


def kinds(signals: list[Signal]) -> dict[str, Signal]:
    out = {s.kind: s for s in signals}
    assert len(out) == len(signals), "at most one signal per kind"
    return out


def run(posts: list[Post], ruleset: RuleSet, cal: WorkCalendar, now: str) -> dict[str, Signal]:
    return kinds(evaluate_staleness(posts, ruleset, cal, at(now)))


# -- every working day, around the 2025 National Day ------------------------------------------


def test_last_post_before_national_day_is_fine_through_the_holiday(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-09-30 17:00")]  # Tue, the last working day before Oct 1–8
    now = at("2025-09-30 18:00")
    while now < at("2025-10-09 00:00"):
        # due Thu Oct 9: not even a warning until 9 hours before its end
        assert evaluate_staleness(posts, DAILY, cal, now) == [], now
        now += timedelta(hours=1)


def test_working_day_after_the_holiday_warns_then_breaches(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-09-30 17:00")]
    soon = run(posts, DAILY, cal, "2025-10-09 16:00")
    assert set(soon) == {"stale_soon"}
    s = soon["stale_soon"]
    assert s.severity is Severity.warning
    assert s.deadline == at("2025-10-09 23:59:59")
    assert s.deadline.tzinfo is UTC
    assert s.title == "即将超期：须在 10月9日 23:59 前更新"
    assert "须在 2025-10-09 23:59 前更新" in s.detail
    assert s.rule == "daily.every_working_day"

    assert "stale" not in run(posts, DAILY, cal, "2025-10-09 23:59")
    late = run(posts, DAILY, cal, "2025-10-10 09:00")
    assert set(late) == {"stale"}
    assert late["stale"].severity is Severity.high
    assert late["stale"].title == "10月9日（周四）未更新（要求每个工作日更新）"


def test_every_working_day_warns_in_the_afternoon_not_at_midnight(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-11-17 10:00")]  # Mon; Tue 18 is due
    assert run(posts, DAILY, cal, "2025-11-18 00:30") == {}  # nobody is woken at midnight
    assert run(posts, DAILY, cal, "2025-11-18 14:59") == {}
    assert set(run(posts, DAILY, cal, "2025-11-18 15:00")) == {"stale_soon"}


def test_make_up_saturday_must_be_posted_on(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-10-10 16:00")]  # Fri; Sat 2025-10-11 is a working day
    soon = run(posts, DAILY, cal, "2025-10-11 16:00")
    assert soon["stale_soon"].deadline == at("2025-10-11 23:59:59")
    stale = run(posts, DAILY, cal, "2025-10-12 09:00")
    assert set(stale) == {"stale"}
    assert "10月11日（周六，调休上班日）" in stale["stale"].title
    ev = stale["stale"].evidence
    assert ev["rules"][0]["due_workday"] == "2025-10-11"
    assert ev["rules"][0]["breached_at"] == at("2025-10-11 23:59:59").isoformat()

    # posting on the make-up Saturday carries the account to Monday
    posted = [*posts, post("b", "2025-10-11 10:00")]
    assert run(posted, DAILY, cal, "2025-10-12 09:00") == {}
    assert "stale" in run(posted, DAILY, cal, "2025-10-14 00:30")


def test_make_up_sunday_counts_as_a_working_day(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-09-26 18:00")]  # Fri; Sun 2025-09-28 is a working day
    assert run(posts, DAILY, cal, "2025-09-27 20:00") == {}  # Saturday: nothing due
    assert run(posts, DAILY, cal, "2025-09-28 16:00")["stale_soon"].deadline == at(
        "2025-09-28 23:59:59"
    )
    stale = run(posts, DAILY, cal, "2025-09-29 08:00")["stale"]
    assert stale.title == "9月28日（周日，调休上班日）未更新（要求每个工作日更新）"
    sunday = [post("b", "2025-09-28 11:00")]
    assert "stale" not in run(sunday, DAILY, cal, "2025-09-29 08:00")


def test_several_missed_working_days_are_counted(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-09-26 18:00")]
    # missed Sun 28, Mon 29, Tue 30; holiday; Thu 9 — and Fri 10 is still today
    stale = run(posts, DAILY, cal, "2025-10-10 09:00")["stale"]
    assert stale.title == "已连续 4 个工作日未更新（要求每个工作日更新）"
    assert stale.evidence["rules"][0]["missed_workdays"] == 4


def test_2026_spring_festival_every_working_day(cal: WorkCalendar) -> None:
    posts = [post("a", "2026-02-14 09:00")]  # make-up Saturday before the Feb 15–23 holiday
    for day in range(15, 24):
        assert "stale" not in run(posts, DAILY, cal, f"2026-02-{day} 12:00")
    stale = run(posts, DAILY, cal, "2026-02-25 00:30")["stale"]
    assert stale.title == "2月24日（周二）未更新（要求每个工作日更新）"


def test_2026_national_day_every_working_day(cal: WorkCalendar) -> None:
    posts = [post("a", "2026-09-30 10:00")]  # Wed; Oct 1–7 off, Thu Oct 8 due
    assert run(posts, DAILY, cal, "2026-10-06 12:00") == {}
    assert run(posts, DAILY, cal, "2026-10-08 16:00")["stale_soon"].deadline == at(
        "2026-10-08 23:59:59"
    )
    assert "10月8日（周四）" in run(posts, DAILY, cal, "2026-10-09 09:00")["stale"].title


# -- the national 14-day veto -------------------------------------------------------------------


def test_national_veto_at_exactly_14_days(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-11-01 10:00")]
    stale = run(posts, NATIONAL, cal, "2025-11-15 10:00")
    assert set(stale) == {"stale"}
    s = stale["stale"]
    assert s.severity is Severity.veto
    assert s.title == "已 14 天未更新（满 14 天，单项否决）"
    assert s.rule == "national.max_gap_days(14)"
    # breached: its 整改期限 is the moment it became overdue (shown as 已超期 N 天)
    assert s.deadline == at("2025-11-15 10:00")
    assert s.evidence["latest_post_at"] == at("2025-11-01 10:00").isoformat()
    assert s.evidence["latest_post_id"] == "a"
    assert s.evidence["latest_post_url"] == "https://example.gov.cn/a"
    assert s.evidence["days_since_update"] == 14
    assert s.evidence["rules"][0]["params"] == {
        "severity": "veto",
        "kind": "max_gap_days",
        "days": 14,
        "warn_days": 7,
    }


def test_national_13_days_23_hours_is_only_a_warning(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-11-01 10:00")]
    soon = run(posts, NATIONAL, cal, "2025-11-15 09:00")
    assert set(soon) == {"stale_soon"}
    s = soon["stale_soon"]
    assert s.severity is Severity.warning  # not failed yet: a warning, not a veto
    assert s.evidence["at_stake"] == "veto"
    assert s.deadline == at("2025-11-15 10:00")
    assert s.title == "即将超期：须在 11月15日 10:00 前更新，逾期将单项否决"
    assert "须在 2025-11-15 10:00 前更新" in s.detail


def test_deadlines_are_utc_whatever_zone_the_times_came_in(cal: WorkCalendar) -> None:
    p = Post(id="a", published_at=datetime(2025, 11, 1, 10, tzinfo=SH))
    [s] = evaluate_staleness([p], NATIONAL, cal, datetime(2025, 11, 15, 9, tzinfo=SH))
    assert s.deadline == at("2025-11-15 10:00")
    assert s.deadline is not None and s.deadline.utcoffset() == timedelta(0)
    assert s.evidence["rules"][0]["deadline"] == "2025-11-15T02:00:00+00:00"
    assert s.evidence["latest_post_at"] == "2025-11-01T02:00:00+00:00"


def test_national_past_14_days(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-11-01 10:00")]
    s = run(posts, NATIONAL, cal, "2025-11-16 12:00")["stale"]
    assert s.title == "已 15 天未更新（超过 14 天，单项否决）"


def test_national_warning_from_day_7(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-11-01 10:00")]
    assert run(posts, NATIONAL, cal, "2025-11-08 09:59") == {}
    s = run(posts, NATIONAL, cal, "2025-11-08 10:00")["stale_soon"]
    assert s.deadline == at("2025-11-15 10:00")
    assert s.evidence["days_since_update"] == 7


# -- what counts as the latest post -----------------------------------------------------------


def test_fresh_pinned_post_does_not_hide_a_stale_account(cal: WorkCalendar) -> None:
    posts = [post("pin", "2025-11-19 08:00", pinned=True), post("old", "2025-11-01 10:00")]
    s = run(posts, NATIONAL, cal, "2025-11-20 12:00")["stale"]
    assert s.severity is Severity.veto
    assert s.evidence["latest_post_id"] == "old"
    assert s.evidence["ignored_pinned_posts"] == 1
    assert s.evidence["newest_pinned_post_at"] == at("2025-11-19 08:00").isoformat()


def test_old_pinned_post_does_not_make_a_fresh_account_stale(cal: WorkCalendar) -> None:
    posts = [post("pin", "2024-06-01 08:00", pinned=True), post("new", "2025-11-20 10:00")]
    assert run(posts, CITY, cal, "2025-11-20 12:00") == {}


def test_undated_posts_are_ignored_and_said_so(cal: WorkCalendar) -> None:
    posts = [post("x", None), post("a", "2025-11-01 10:00")]
    s = run(posts, NATIONAL, cal, "2025-11-16 12:00")["stale"]
    assert s.evidence["ignored_undated_posts"] == 1
    assert s.evidence["ignored_undated_post_ids"] == ["x"]
    assert s.evidence["latest_post_id"] == "a"


def test_no_dated_unpinned_post_is_stale(cal: WorkCalendar) -> None:
    posts = [post("pin", "2025-11-19 08:00", pinned=True)]
    signals = run(posts, CITY, cal, "2025-11-20 12:00")
    assert set(signals) == {"stale"}
    s = signals["stale"]
    assert s.severity is Severity.veto
    assert s.evidence["no_post_found"] is True
    assert "未找到" in s.title
    assert run([], NATIONAL, cal, "2025-11-20 12:00")["stale"].evidence["no_post_found"]


@pytest.mark.parametrize("ruleset", [NATIONAL, CITY, COUNTY, DAILY, WEEKLY])
def test_undated_posts_alone_are_undated_never_a_veto(cal: WorkCalendar, ruleset: RuleSet) -> None:
    # 小红书 cards without a time, a list whose dates cannot be read: posts seen, none dated
    posts = [post("x", None), post("y", None), post("pin", "2025-11-19 08:00", pinned=True)]
    signals = run(posts, ruleset, cal, "2025-11-20 12:00")
    assert set(signals) == {"undated"}
    s = signals["undated"]
    assert s.severity is Severity.warning
    assert s.title == "无法判断更新时间（2 条内容读不出发布时间）"
    assert s.evidence["undated_only"] is True and s.evidence["ignored_undated_posts"] == 2


def test_service_accounts_are_not_judged(cal: WorkCalendar) -> None:
    assert evaluate_staleness([], BUILTIN_RULESETS["service"], cal, at("2025-11-20 12:00")) == []


def test_reposts_count_as_updates(cal: WorkCalendar) -> None:
    posts = [post("rt", "2025-11-19 10:00", repost=True), post("a", "2025-10-01 10:00")]
    assert run(posts, NATIONAL, cal, "2025-11-20 12:00") == {}


def test_a_post_dated_years_ahead_does_not_hide_staleness(cal: WorkCalendar) -> None:
    posts = [post("bad", "2035-01-01 00:00"), post("a", "2025-11-01 10:00")]
    s = run(posts, NATIONAL, cal, "2025-11-20 12:00")["stale"]
    assert s.evidence["latest_post_id"] == "a"
    assert s.evidence["ignored_future_posts"][0]["id"] == "bad"


def test_naive_now_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        evaluate_staleness([], NATIONAL, cal, datetime(2025, 11, 20, 12))


# -- per week, natural weeks in local time ----------------------------------------------------


def test_per_week_breach_of_last_week(cal: WorkCalendar) -> None:
    # week Mon 2025-11-17 .. Sun 11-23 had one post; the post on 11-10 shows the feed reaches back
    posts = [post("old", "2025-11-10 10:00"), post("a", "2025-11-20 10:00")]
    s = run(posts, COUNTY, cal, "2025-11-24 09:00")["infrequent"]  # 更新频次不足, not 长期未更新
    assert s.severity is Severity.high
    assert s.title == "更新频次不足：本周已更新 0 次，要求每周至少 2 次（上周仅 1 次）"
    assert s.rule == "guizhou_county.per_week(2)"
    assert s.deadline == at("2025-11-30 23:59:59")  # the week's end: it can still be made good
    assert "须在本周结束（2025-11-30 23:59）前补足" in s.detail
    rule = s.evidence["rules"][0]
    assert rule["previous_period"] == "2025-11-17..2025-11-23"
    assert rule["previous_count"] == 1
    assert rule["deadline"] == at("2025-11-30 23:59:59").isoformat()
    # one post this week: still short, and it says so
    one = run([*posts, post("b", "2025-11-25 10:00")], COUNTY, cal, "2025-11-25 12:00")
    assert one["infrequent"].title.startswith("更新频次不足：本周已更新 1 次")
    # the account does what the rule asks: the finding has nothing left to say
    two = [*posts, post("b", "2025-11-25 10:00"), post("c", "2025-11-26 10:00")]
    assert run(two, COUNTY, cal, "2025-11-26 12:00") == {}


def test_per_week_counts_by_local_week_not_utc(cal: WorkCalendar) -> None:
    base = [post("old", "2025-11-10 10:00"), post("a", "2025-11-20 10:00")]
    # Sunday 22:00 Beijing (14:00 UTC Sunday): last week -> met
    sunday = [*base, post("b", "2025-11-23 22:00")]
    assert run(sunday, COUNTY, cal, "2025-11-24 09:00") == {}
    # Monday 00:30 Beijing is still Sunday in UTC, but belongs to this week -> last week short
    monday = [*base, post("b", "2025-11-24 00:30")]
    assert "infrequent" in run(monday, COUNTY, cal, "2025-11-24 09:00")


def test_the_week_turns_at_local_midnight(cal: WorkCalendar) -> None:
    # week 11-10..11-16 met (2 posts), week 11-17..11-23 did not (1 post)
    posts = [
        post("o", "2025-11-05 10:00"),
        post("a", "2025-11-11 10:00"),
        post("b", "2025-11-13 10:00"),
        post("c", "2025-11-20 10:00"),
    ]
    # Monday 07:00 in Beijing is still Sunday in UTC: the week just ended is 11-17..11-23
    signals = run(posts, WEEKLY, cal, "2025-11-24 07:00")
    assert set(signals) == {"infrequent"}
    assert signals["infrequent"].evidence["rules"][0]["previous_period"] == "2025-11-17..2025-11-23"


def test_per_week_warning_when_two_working_days_are_left(cal: WorkCalendar) -> None:
    posts = [
        post("o", "2025-11-10 10:00"),
        post("a", "2025-11-18 10:00"),
        post("b", "2025-11-21 10:00"),
        post("c", "2025-11-24 10:00"),  # one post this week so far
    ]
    assert run(posts, WEEKLY, cal, "2025-11-26 12:00") == {}  # Wed: 3 working days left
    s = run(posts, WEEKLY, cal, "2025-11-27 12:00")["stale_soon"]  # Thu: 2 left
    assert s.deadline == at("2025-11-30 23:59:59")
    assert s.title == "即将超期：须在 11月30日 23:59 前更新"
    assert s.evidence["rules"][0]["current_count"] == 1
    met = [*posts, post("d", "2025-11-27 08:00")]
    assert run(met, WEEKLY, cal, "2025-11-27 12:00") == {}


def test_per_week_over_the_national_day_week(cal: WorkCalendar) -> None:
    # week Mon 2025-09-29 .. Sun 10-05 has two working days: Monday already leaves only 2
    posts = [
        post("o", "2025-09-15 10:00"),
        post("a", "2025-09-23 10:00"),
        post("b", "2025-09-26 10:00"),
    ]
    s = run(posts, WEEKLY, cal, "2025-09-29 09:00")["stale_soon"]
    assert s.evidence["rules"][0]["left"] == 2
    assert s.deadline == at("2025-10-05 23:59:59")


def test_per_week_is_not_judged_on_a_feed_that_does_not_reach_back(cal: WorkCalendar) -> None:
    # a busy account whose feed shows only this morning: last week's count is unknown
    posts = [post(f"p{i}", f"2025-11-24 0{i}:00") for i in range(1, 6)]
    assert run(posts, COUNTY, cal, "2025-11-24 09:30") == {}


# -- originals per month --------------------------------------------------------------------


def test_original_per_month_ignores_reposts(cal: WorkCalendar) -> None:
    monthly = RuleSet(name="m", rules=(OriginalPerMonth(count=1),))
    posts = [
        post("orig", "2025-10-20 10:00"),
        post("rt1", "2025-11-05 10:00", repost=True),
        post("rt2", "2025-11-28 10:00", repost=True),
    ]
    s = run(posts, monthly, cal, "2025-12-02 09:00")["stale"]
    assert s.title == "上月原创内容仅 0 条（要求每月不少于 1 条）"
    original = [*posts, post("orig2", "2025-11-11 10:00")]
    assert run(original, monthly, cal, "2025-12-02 09:00") == {}
    soon = run(original, monthly, cal, "2025-12-25 09:00")["stale_soon"]  # 7 days left
    assert soon.deadline == at("2025-12-31 23:59:59")


# -- several rules at once --------------------------------------------------------------------


def test_several_breached_rules_make_one_signal(cal: WorkCalendar) -> None:
    posts = [post("a", "2025-11-03 10:00")]
    signals = run(posts, CITY, cal, "2025-11-18 10:00")
    assert set(signals) == {"stale"}  # never a warning for a rule that is already breached
    s = signals["stale"]
    assert s.severity is Severity.veto  # the highest of the two
    assert s.title.startswith("已 15 天未更新")
    assert s.rule == "guizhou_city.max_gap_days(14), guizhou_city.every_working_day"
    assert [r["rule"] for r in s.evidence["rules"]] == [
        "guizhou_city.max_gap_days(14)",
        "guizhou_city.every_working_day",
    ]


def test_breach_and_warning_from_different_rules(cal: WorkCalendar) -> None:
    # 8 days silent: every_working_day is breached, the 14-day veto is only near
    posts = [post("a", "2025-11-10 10:00")]
    signals = run(posts, CITY, cal, "2025-11-18 11:00")
    assert set(signals) == {"stale", "stale_soon"}
    assert signals["stale"].severity is Severity.high
    assert signals["stale"].rule == "guizhou_city.every_working_day"
    assert signals["stale_soon"].rule == "guizhou_city.max_gap_days(14)"
    assert signals["stale_soon"].deadline == at("2025-11-24 10:00")


def test_earliest_deadline_leads_the_warning(cal: WorkCalendar) -> None:
    # silent since the last working day before National Day: on Oct 9 both rules warn
    posts = [post("a", "2025-09-30 17:00")]
    signals = run(posts, CITY, cal, "2025-10-09 16:00")
    assert set(signals) == {"stale_soon"}
    s = signals["stale_soon"]
    assert s.deadline == at("2025-10-09 23:59:59")  # every_working_day's, before the veto's
    assert s.title == "即将超期：须在 10月9日 23:59 前更新"
    assert s.evidence["at_stake"] == "veto"
    assert [(r["rule"], r["deadline"]) for r in s.evidence["rules"]] == [
        ("guizhou_city.every_working_day", at("2025-10-09 23:59:59").isoformat()),
        ("guizhou_city.max_gap_days(14)", at("2025-10-14 17:00").isoformat()),
    ]
    assert "须在 2025-10-09 23:59 前更新" in s.detail
    assert "须在 2025-10-14 17:00 前更新" in s.detail


def test_rules_judge_a_digest_as_they_judge_the_posts(cal: WorkCalendar) -> None:
    """An unchanged page is judged again from its digest (no page is parsed): over a month
    of instants, every rule set gives exactly the signals the posts themselves give —
    titles, deadlines and evidence included."""
    import random

    from probes.checks.rules import load_rulesets
    from probes.checks.staleness import digest_posts, posts_from_digest

    rng = random.Random(20261204)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    rulesets = load_rulesets(
        {
            "every10": {
                "extends": "national",
                "rules": [{"kind": "max_gap_days", "days": 10, "warn_days": 3}],
            },
            "weekly3": {
                "rules": [
                    {"kind": "per_week", "count": 3},
                    {"kind": "original_per_month", "count": 1},
                ]
            },
        }
    )
    for trial in range(40):
        posts = []
        for i in range(rng.randint(0, 30)):
            when = start + timedelta(hours=rng.uniform(0, 24 * 45))
            posts.append(
                Post(
                    id=f"p{trial}-{i}",
                    published_at=None if rng.random() < 0.05 else when,
                    title="" if rng.random() < 0.3 else f"标题{i}",
                    text=f"正文{i}" * rng.randint(0, 40),
                    url=f"https://example.gov.cn/{i}",
                    pinned=rng.random() < 0.1,
                    repost=rng.random() < 0.3,
                )
            )
        again = posts_from_digest(digest_posts(posts))
        assert again is not None
        for name, rs in rulesets.items():
            for hours in range(0, 24 * 60, 37):
                now = start + timedelta(hours=hours)
                expected = evaluate_staleness(posts, rs, cal, now)
                assert evaluate_staleness(again, rs, cal, now) == expected, (trial, name, now)
    assert posts_from_digest({"v": 99}) is None  # another shape: the page is read again


# -- what people read of a rule ------------------------------------------------------------------


def test_rules_are_shown_in_words_never_as_codes() -> None:
    rulesets = {**BUILTIN_RULESETS, "weekly": WEEKLY}
    assert (
        rule_text("national.max_gap_days(14)", rulesets) == "全国标准：14 天内须有更新（单项否决）"
    )
    assert (
        rule_text("guizhou_city.max_gap_days(14), guizhou_city.every_working_day", rulesets)
        == "贵州·市州政府：14 天内须有更新（单项否决）、每个工作日须有更新"
    )
    # a rule set without a title shows its name; other detectors' rules have words too
    assert rule_text("weekly.per_week(2)", rulesets) == "weekly：每周更新不少于 2 次"
    assert rule_text("commercial", rulesets) == "政务新媒体不得刊登或链接商业广告"
    assert rule_text("theft.score>=3", rulesets) == "盗用迹象合计达到阈值"
    assert rule_text("fetch.error", rulesets) == ""  # a fetch problem breaks no rule of the unit's
    # a rule set since removed from the config: shown as stored rather than hidden
    assert rule_text("gone_set.max_gap_days(3)", rulesets) == "gone_set.max_gap_days(3)"
    assert ruleset_title("guizhou_county", rulesets) == "贵州·省直部门和县级政府"
    assert ruleset_title("nosuch", rulesets) == "nosuch"
