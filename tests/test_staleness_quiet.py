"""Until when the staleness rules stay silent (``quiet_until``): a look that finds its page as
it was is not judged again before then, so the promise must hold at every instant before it
— and must not reach past the moment a warning is due."""

from __future__ import annotations

import random
import typing
from datetime import UTC, datetime, timedelta

import pytest

from probes.checks import rules as rules_module
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import EveryWorkingDay, MaxGapDays, OriginalPerMonth, PerWeek, RuleSet
from probes.checks.staleness import evaluate_staleness, quiet_until
from probes.checks.staleness_rules import RULES
from probes.model import Post, Severity

START = datetime(2025, 1, 1, tzinfo=UTC)  # the shipped calendar knows 2025 and 2026


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def _rule(rng: random.Random) -> MaxGapDays | EveryWorkingDay | PerWeek | OriginalPerMonth:
    severity = rng.choice(list(Severity))
    kind = rng.randrange(4)
    if kind == 0:
        days = rng.randint(1, 15)
        return MaxGapDays(days=days, warn_days=rng.randint(0, days - 1), severity=severity)
    if kind == 1:
        return EveryWorkingDay(warn_hours=rng.randint(0, 30), severity=severity)
    if kind == 2:
        return PerWeek(count=rng.randint(1, 4), warn_workdays=rng.randint(0, 3), severity=severity)
    return OriginalPerMonth(count=rng.randint(1, 3), warn_days=rng.randint(0, 10))


def _posts(rng: random.Random, now: datetime) -> list[Post]:
    posts = []
    for n in range(rng.randint(0, 8)):
        at: datetime | None = now - timedelta(minutes=rng.randint(-3 * 24 * 60, 40 * 24 * 60))
        if rng.random() < 0.08:
            at = None
        posts.append(
            Post(f"p{n}", at, title=f"t{n}", pinned=rng.random() < 0.1, repost=rng.random() < 0.2)
        )
    return posts


def test_silence_holds_until_the_promised_instant(cal: WorkCalendar) -> None:
    """Random posts, rule sets and instants (seeded): where the rules say nothing now,
    they say nothing at any instant sampled before ``quiet_until``; where they say
    something, there is no promise at all."""
    rng = random.Random(32)
    quiet = loud = 0
    for _ in range(600):
        now = START + timedelta(minutes=rng.randint(0, 700 * 24 * 60))
        posts = _posts(rng, now)
        ruleset = RuleSet(name="r", rules=tuple(_rule(rng) for _ in range(rng.randint(0, 3))))
        until = quiet_until(posts, ruleset, cal, now)
        if evaluate_staleness(posts, ruleset, cal, now):
            assert until is None, (posts, ruleset, now)
            loud += 1
            continue
        assert until is not None and until >= now, (posts, ruleset, now)
        quiet += 1
        span = until - now
        # the edges (just after now, just before the promise) and a spread between them
        offsets = [timedelta(0), timedelta(seconds=1), span - timedelta(seconds=1)]
        offsets += [span * rng.random() for _ in range(12)]
        for off in offsets:
            t = now + off
            if now <= t < until:
                assert evaluate_staleness(posts, ruleset, cal, t) == [], (posts, ruleset, now, t)
    assert quiet > 150 and loud > 150  # both sides were tried


def test_the_warning_comes_right_after_the_promise(cal: WorkCalendar) -> None:
    """Max gap: the promise is the warning's instant, not a day late."""
    latest = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    posts = [Post("a", latest, title="a")]
    ruleset = RuleSet(name="r", rules=(MaxGapDays(days=14, warn_days=7),))
    now = latest + timedelta(days=2)
    until = quiet_until(posts, ruleset, cal, now)
    assert until == latest + timedelta(days=7)
    assert evaluate_staleness(posts, ruleset, cal, until - timedelta(seconds=1)) == []
    later = evaluate_staleness(posts, ruleset, cal, until + timedelta(microseconds=1))
    assert [s.kind for s in later] == ["stale_soon"]


def test_every_working_day_is_promised_until_its_warning(cal: WorkCalendar) -> None:
    """Posted on the Tuesday before the 2025 National Day: due on Thursday Oct 9, warned
    9 hours before its end — quiet across the whole holiday."""
    latest = datetime(2025, 9, 30, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    ruleset = RuleSet(name="r", rules=(EveryWorkingDay(warn_hours=9),))
    until = quiet_until([Post("a", latest, title="a")], ruleset, cal, latest)
    assert until == datetime(2025, 10, 9, 6, 59, 59, tzinfo=UTC)  # 14:59:59 local


def test_no_rules_stay_quiet_and_no_posts_are_loud(cal: WorkCalendar) -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert quiet_until([], RuleSet(name="service"), cal, now) is not None
    national = RuleSet(name="r", rules=(MaxGapDays(days=14),))
    assert quiet_until([], national, cal, now) is None  # 未找到任何更新
    assert quiet_until([Post("a", None, title="a")], national, cal, now) is None  # undated


def test_every_kind_of_rule_says_until_when_it_is_quiet() -> None:
    """A new kind of rule cannot be judged without its bound beside it."""
    union = typing.get_args(typing.get_args(rules_module.Rule)[0])
    assert set(union) == set(RULES)
