"""The detector entry point and rule-set loading."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import probes.checks as checks
from probes.checks import Context, evaluate, merge_posts
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import (
    BUILTIN_RULESETS,
    EveryWorkingDay,
    MaxGapDays,
    PerWeek,
    RulesetError,
    load_rulesets,
)
from probes.model import Observation, Outcome, Post, Severity, Signal

SH = ZoneInfo("Asia/Shanghai")
NATIONAL = BUILTIN_RULESETS["national"]
COUNTY = BUILTIN_RULESETS["guizhou_county"]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=SH).astimezone(UTC)


def post(pid: str, local: str, **kw: bool) -> Post:
    return Post(id=pid, published_at=at(local), title=pid, **kw)


def obs(outcome: Outcome, posts: list[Post] | None = None, **kw: object) -> Observation:
    return Observation(
        account_id="wb-1",
        reader="weibo",
        url="https://m.weibo.cn/api/container/getIndex?type=uid&value=1",
        fetched_at=at("2025-11-24 09:00"),
        outcome=outcome,
        posts=posts or [],
        **kw,  # type: ignore[arg-type]
    )


STALE = [post("old", "2025-10-01 10:00")]  # 54 days before the checks below


# -- fetch outcomes are never staleness -------------------------------------------------------


def test_not_found_is_gone_and_not_judged(cal: WorkCalendar) -> None:
    o = obs(Outcome.not_found, STALE, status_code=404, detail="该账号已注销")
    signals = evaluate(o, ruleset=NATIONAL, calendar=cal, now=at("2025-11-24 09:00"))
    assert [(s.kind, s.severity) for s in signals] == [("gone", Severity.high)]
    assert signals[0].title == "账号或页面已不存在"
    assert signals[0].evidence["status_code"] == 404
    assert signals[0].evidence["reason"] == "该账号已注销"


@pytest.mark.parametrize(
    ("outcome", "kind"), [(Outcome.blocked, "blocked"), (Outcome.error, "fetch_failed")]
)
def test_failed_fetch_is_never_stale(cal: WorkCalendar, outcome: Outcome, kind: str) -> None:
    o = obs(outcome, STALE, status_code=432, final_url="https://visitor.passport.weibo.cn/")
    signals = evaluate(
        o, ruleset=NATIONAL, calendar=cal, now=at("2025-11-24 09:00"), history_posts=STALE
    )
    assert [(s.kind, s.severity) for s in signals] == [(kind, Severity.warning)]
    assert signals[0].evidence["outcome"] == outcome.value
    assert signals[0].evidence["final_url"] == "https://visitor.passport.weibo.cn/"
    if outcome is Outcome.blocked:
        assert "被平台反爬拦截" in signals[0].title


def test_ok_judges_staleness(cal: WorkCalendar) -> None:
    signals = evaluate(
        obs(Outcome.ok, STALE), ruleset=NATIONAL, calendar=cal, now=at("2025-11-24 09:00")
    )
    assert [(s.kind, s.severity) for s in signals] == [("stale", Severity.veto)]


# -- history -------------------------------------------------------------------------------


def test_history_lets_a_short_feed_count_last_week(cal: WorkCalendar) -> None:
    now = at("2025-11-24 09:00")  # Monday: judge the week 11-17..11-23
    feed = [post("c", "2025-11-24 08:00"), post("b", "2025-11-20 10:00")]
    # the feed alone does not reach back before last Monday: no judgement
    assert evaluate(obs(Outcome.ok, feed), ruleset=COUNTY, calendar=cal, now=now) == []
    history = [post("b", "2025-11-20 10:00"), post("a", "2025-11-12 10:00")]
    signals = evaluate(
        obs(Outcome.ok, feed), ruleset=COUNTY, calendar=cal, now=now, history_posts=history
    )
    # "b" is in both and counts once: one post last week, fewer than two (更新频次不足)
    assert [s.kind for s in signals] == ["infrequent"]
    assert signals[0].evidence["rules"][0]["previous_count"] == 1
    history.append(post("b2", "2025-11-18 10:00"))
    assert (
        evaluate(
            obs(Outcome.ok, feed), ruleset=COUNTY, calendar=cal, now=now, history_posts=history
        )
        == []
    )


def test_current_version_of_a_post_wins(cal: WorkCalendar) -> None:
    # "n" was a normal post; it has since been pinned, so it no longer counts as an update
    now = at("2025-11-24 09:00")
    feed = [post("n", "2025-11-23 10:00", pinned=True), post("o", "2025-11-01 10:00")]
    history = [post("n", "2025-11-23 10:00")]
    merged = merge_posts(feed, history)
    assert [(p.id, p.pinned) for p in merged] == [("n", True), ("o", False)]
    signals = evaluate(
        obs(Outcome.ok, feed), ruleset=NATIONAL, calendar=cal, now=now, history_posts=history
    )
    assert signals[0].kind == "stale" and signals[0].evidence["latest_post_id"] == "o"


def test_posts_without_id_are_merged_by_time_and_address() -> None:
    a = Post(id="", published_at=at("2025-11-20 10:00"), url="https://x.gov.cn/1")
    b = Post(id="", published_at=at("2025-11-19 10:00"), url="https://x.gov.cn/2")
    assert merge_posts([a], [a, b]) == [a, b]


# -- the registry --------------------------------------------------------------------------


def test_registered_detectors_run_on_ok_only(
    cal: WorkCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Context] = []

    def commercial(o: Observation, ctx: Context) -> list[Signal]:
        seen.append(ctx)
        return [Signal(kind="commercial", severity=Severity.high, title="链接商业广告")]

    monkeypatch.setitem(checks.DETECTORS, "commercial", commercial)
    now = at("2025-11-24 09:00")
    ok = evaluate(obs(Outcome.ok, STALE), ruleset=NATIONAL, calendar=cal, now=now)
    assert sorted(s.kind for s in ok) == ["commercial", "stale"]
    assert seen[0].now == now and seen[0].ruleset is NATIONAL
    blocked = evaluate(obs(Outcome.blocked, STALE), ruleset=NATIONAL, calendar=cal, now=now)
    assert [s.kind for s in blocked] == ["blocked"] and len(seen) == 1


def test_a_detector_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="staleness"):
        checks.register("staleness", ())(lambda o, c: [])


# -- rule sets -----------------------------------------------------------------------------


def test_builtin_rulesets() -> None:
    rs = load_rulesets({})
    assert set(rs) == {"national", "guizhou_city", "guizhou_county", "service"}
    assert rs["national"].rules == (MaxGapDays(days=14, warn_days=7, severity=Severity.veto),)
    assert rs["guizhou_city"].rules[1] == EveryWorkingDay(warn_hours=9)
    assert rs["guizhou_county"].rules[1] == PerWeek(count=2, warn_workdays=2)
    assert rs["service"].rules == ()


def test_user_ruleset_extends_national(cal: WorkCalendar) -> None:
    rs = load_rulesets(
        {
            "county_strict": {
                "description": "每 10 天",
                "extends": "national",
                "rules": [{"kind": "max_gap_days", "days": 10, "warn_days": 3}],
            }
        }
    )
    strict = rs["county_strict"]
    assert strict.description == "每 10 天"
    assert strict.rules == (
        *BUILTIN_RULESETS["national"].rules,
        MaxGapDays(days=10, warn_days=3, severity=Severity.high),
    )
    posts = [post("a", "2025-11-01 10:00")]
    eleven = evaluate(
        obs(Outcome.ok, posts), ruleset=strict, calendar=cal, now=at("2025-11-12 12:00")
    )
    assert {s.kind: s.severity for s in eleven} == {
        "stale": Severity.high,
        "stale_soon": Severity.warning,
    }
    assert {s.kind: s.rule for s in eleven} == {
        "stale": "county_strict.max_gap_days(10)",
        "stale_soon": "county_strict.max_gap_days(14)",
    }
    fifteen = evaluate(
        obs(Outcome.ok, posts), ruleset=strict, calendar=cal, now=at("2025-11-16 12:00")
    )
    assert [(s.kind, s.severity) for s in fifteen] == [("stale", Severity.veto)]
    assert len(fifteen[0].evidence["rules"]) == 2


def test_whole_config_document_and_overriding_a_builtin() -> None:
    rs = load_rulesets(
        {
            "rulesets": {
                "national": {"extends": "national", "rules": [{"kind": "per_week", "count": 1}]},
                "daily": {"extends": "guizhou_city"},
            }
        }
    )
    assert [r.kind for r in rs["national"].rules] == ["max_gap_days", "per_week"]
    assert rs["daily"].rules == BUILTIN_RULESETS["guizhou_city"].rules


@pytest.mark.parametrize(
    ("table", "needles"),
    [
        ({"bad": {"rules": [{"kind": "per_weak", "count": 2}]}}, ["'bad'", "rules[0]", "per_weak"]),
        ({"bad": {"rules": [{"kind": "per_week"}]}}, ["'bad'", "rules[0].count"]),
        (
            {"bad": {"rules": [{"kind": "per_week", "count": 2, "cnt": 3}]}},
            ["rules[0].cnt", "未知"],
        ),
        ({"bad": {"rules": [{"days": 3}]}}, ["'bad'", "rules[0]", "kind"]),
        (
            {"bad": {"rules": [{"kind": "max_gap_days", "days": 7, "warn_days": 7}]}},
            ["'bad'", "rules[0]", "warn_days"],
        ),
        (
            {"bad": {"rules": [{"kind": "max_gap_days", "days": 7, "severity": "fatal"}]}},
            ["'bad'", "rules[0].severity"],
        ),
        ({"bad": {"rule": []}}, ["'bad'", "'rule'"]),
        ({"bad": {"extends": "nationl"}}, ["'bad'", "'nationl'"]),
        ({"bad": {"rules": {"kind": "per_week"}}}, ["'bad'", "rules"]),
        ({"a": {"extends": "b"}, "b": {"extends": "a"}}, ["a -> b -> a"]),
        ({"bad": "national"}, ["'bad'", "[rulesets.bad]"]),
    ],
)
def test_ruleset_errors_name_the_ruleset_and_key(table: dict, needles: list[str]) -> None:
    with pytest.raises(RulesetError) as err:
        load_rulesets(table)
    for needle in needles:
        assert needle in str(err.value)
