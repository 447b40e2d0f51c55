"""A verdict needs sight: an empty answer is "not shown to us" until the platform says otherwise.

Each withheld case has its honest twin: a real empty account (the platform's own word, a
counter of 0) *is* stale; a counter that grew while no new post shows is an update, and once
the counter stops growing the account is judged from that update like any other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import BUILTIN_RULESETS
from probes.model import AppFacts, Observation, Outcome, Post, Profile, Severity, Sight
from probes.sight import UNSEEN, is_unseen, settle, unseen_posts

SH = ZoneInfo("Asia/Shanghai")
NATIONAL = BUILTIN_RULESETS["national"]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=SH).astimezone(UTC)


def look(
    when: str, posts: list[Post] | None = None, count: int | None = None, **kw: object
) -> Observation:
    return Observation(
        account_id="dy-1",
        reader="douyin",
        url="https://www.douyin.com/user/MS4wLjABAAAA",
        fetched_at=at(when),
        outcome=Outcome.ok,
        posts=posts or [],
        profile=Profile(name="某县融媒", posts_count=count),
        **kw,  # type: ignore[arg-type]
    )


OLD = Post(id="7301", published_at=at("2026-11-01 10:00"), title="旧作品")


def judge(o: Observation, cal: WorkCalendar, previous: Observation | None = None) -> list:
    return evaluate(o, ruleset=NATIONAL, calendar=cal, now=o.fetched_at, previous=previous)


# -- settle: what an empty answer means ------------------------------------------------------


def test_an_empty_list_the_platform_does_not_explain_is_unreadable() -> None:
    o = settle(look("2026-12-07 09:00"))
    assert o.outcome is Outcome.unreadable and o.sight is None
    assert "未说明账号没有内容" in o.detail


def test_an_empty_list_while_the_profile_counts_posts_says_so() -> None:
    # Douyin to an anonymous visitor: aweme_list [] while the profile counts 1,288 works
    o = settle(look("2026-12-07 09:00", count=1288))
    assert o.outcome is Outcome.unreadable
    assert "1288 条内容" in o.detail and "未向本次访问展示" in o.detail


def test_a_readers_own_reason_is_kept() -> None:
    o = look("2026-12-07 09:00", detail="抖音未向未登录访客展示作品列表")
    assert settle(o).detail == "抖音未向未登录访客展示作品列表"


def test_the_platforms_own_word_with_a_zero_counter_is_seen() -> None:
    o = settle(look("2026-12-07 09:00", count=0, sight=Sight.none))
    assert o.outcome is Outcome.ok and o.sight is Sight.none


def test_an_empty_word_contradicted_by_the_counter_is_not_believed() -> None:
    o = settle(look("2026-12-07 09:00", count=12, sight=Sight.none))
    assert o.outcome is Outcome.unreadable and "12 条内容" in o.detail


def test_posts_seen_are_seen_and_settle_is_idempotent() -> None:
    o = settle(look("2026-12-07 09:00", [OLD]))
    assert o.sight is Sight.posts
    assert settle(o) == o


@pytest.mark.parametrize(
    "o",
    [
        replace(look("2026-12-07 09:00"), unchanged=True),  # refers to a settled look
        replace(look("2026-12-07 09:00"), app=AppFacts(download_url="https://x.gov.cn/a.apk")),
        replace(look("2026-12-07 09:00"), outcome=Outcome.blocked, detail="需要登录"),
    ],
    ids=["unchanged", "app", "blocked"],
)
def test_what_settle_leaves_alone(o: Observation) -> None:
    before = replace(o)
    assert settle(o) == before


# -- evaluate: no accusation without sight ---------------------------------------------------


def test_a_withheld_list_is_never_stale(cal: WorkCalendar) -> None:
    signals = judge(look("2026-12-07 09:00", count=1288), cal)
    assert [s.kind for s in signals] == ["unreadable"]
    assert signals[0].severity is Severity.warning
    assert "1288" in signals[0].detail


def test_a_withheld_list_is_not_judged_on_history_either(cal: WorkCalendar) -> None:
    # the last look saw a 36-day-old post; today's answer shows nothing: no verdict today
    signals = evaluate(
        look("2026-12-07 09:00", count=1288),
        ruleset=NATIONAL,
        calendar=cal,
        now=at("2026-12-07 09:00"),
        history_posts=[OLD],
    )
    assert [s.kind for s in signals] == ["unreadable"]


def test_honest_twin_a_real_empty_account_is_stale(cal: WorkCalendar) -> None:
    signals = judge(look("2026-12-07 09:00", count=0, sight=Sight.none), cal)
    stale = [s for s in signals if s.kind == "stale"]
    assert stale and stale[0].severity is Severity.veto


def test_honest_twin_a_fresh_pin_over_old_posts_is_still_stale(cal: WorkCalendar) -> None:
    pin = Post(id="pin", published_at=at("2026-12-06 10:00"), title="置顶", pinned=True)
    signals = judge(look("2026-12-07 09:00", [pin, OLD], count=2), cal)
    stale = next(s for s in signals if s.kind == "stale")
    assert stale.severity is Severity.veto and stale.evidence["latest_post_id"] == "7301"


# -- a counter that grew is an update ----------------------------------------------------------


def test_a_counter_that_grew_while_no_new_post_shows_is_never_stale(cal: WorkCalendar) -> None:
    before = look("2026-11-20 09:00", [OLD], count=40)
    now = look("2026-12-07 09:00", [OLD], count=41)  # the 36-day-old post is still the newest
    signals = judge(now, cal, previous=before)
    assert not [s for s in signals if s.kind in ("stale", "stale_soon")]
    (update,) = unseen_posts(now, before)
    assert is_unseen(update) and update.published_at == now.fetched_at
    assert "40 增至 41" in update.title


def test_honest_twin_a_counter_that_did_not_grow_is_stale(cal: WorkCalendar) -> None:
    before = look("2026-11-20 09:00", [OLD], count=41)
    signals = judge(look("2026-12-07 09:00", [OLD], count=41), cal, previous=before)
    assert any(s.kind == "stale" and s.severity is Severity.veto for s in signals)


def test_a_new_post_shown_needs_no_counter() -> None:
    new = Post(id="7400", published_at=at("2026-12-05 10:00"), title="新作品")
    before = look("2026-11-20 09:00", [OLD], count=40)
    assert unseen_posts(look("2026-12-07 09:00", [new, OLD], count=41), before) == []


def test_the_counted_update_is_carried_until_a_newer_post_shows(cal: WorkCalendar) -> None:
    first = look("2026-11-20 09:00", [OLD], count=40)
    grown = look("2026-11-22 09:00", [OLD], count=41)
    grown.posts += unseen_posts(grown, first)  # what the writer stores in the facts
    later = look("2026-12-01 09:00", [OLD], count=41)
    carried = unseen_posts(later, grown)
    assert [p.id for p in carried] == [f"{UNSEEN}41"]
    assert not [s for s in judge(later, cal, previous=grown) if s.kind == "stale"]
    # 15 days after the counted update, with nothing newer: that update is the latest
    later.posts += carried
    much_later = look("2026-12-07 10:00", [OLD], count=41)
    signals = judge(much_later, cal, previous=later)
    stale = next(s for s in signals if s.kind == "stale")
    assert stale.severity is Severity.veto
    assert stale.evidence["latest_post_at"] == at("2026-11-22 09:00").isoformat()
    # a newer visible post ends the carrying
    new = Post(id="7500", published_at=at("2026-12-06 10:00"), title="新作品")
    assert unseen_posts(look("2026-12-07 10:00", [new, OLD], count=42), later) == []


def test_unseen_posts_is_idempotent() -> None:
    before = look("2026-11-20 09:00", [OLD], count=40)
    now = look("2026-12-07 09:00", [OLD], count=41)
    now.posts += unseen_posts(now, before)
    assert unseen_posts(now, before) == []
    assert sum(is_unseen(p) for p in now.posts) == 1


def test_no_counter_no_inference() -> None:
    before = look("2026-11-20 09:00", [OLD])
    assert unseen_posts(look("2026-12-07 09:00", [OLD]), before) == []
    assert unseen_posts(look("2026-12-07 09:00", [OLD], count=3), None) == []
    assert before.fetched_at + timedelta(days=17) == at("2026-12-07 09:00")
