"""A first start does not burst: no 周报 "未解决问题 0 项" before anything was checked, and no
日报 one second before a 巡查汇总 with the same items. Real dispatcher, real webhook sinks,
on a clock the test moves (Monday morning in Beijing, whatever day the suite runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.store.engine import session_scope
from monitor.store.models import Snapshot
from tests.conftest import add_account, add_unit, open_app
from tests.test_alerting import Clock, WebhookSink, open_finding, settings_for, tick

MONDAY_0825 = datetime(2026, 11, 23, 0, 25, tzinfo=UTC)  # Monday 08:25 in Beijing


def titles(sink: WebhookSink) -> list[str]:
    return [m.json["title"] for m in sink.delivered]


def test_first_start_sends_neither_an_empty_weekly_nor_a_daily_of_what_just_opened(
    tmp_path: Path,
) -> None:
    clock = Clock(MONDAY_0825)
    with WebhookSink() as county, WebhookSink() as city:
        app = open_app(
            settings_for(
                tmp_path, daily_digest_time="08:30", weekly_digest_time="09:00",
                group_wait_seconds=60,
            )
        )  # fmt: skip
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city", channels=[county.apprise_url()])
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        add_account(app, "b", "qx", "http://127.0.0.1:9/", name="青溪文旅")

        # the daemon starts at 09:10 on a Monday: both digests are due, nothing checked yet
        clock.now = MONDAY_0825.replace(hour=1, minute=10)
        tick(app, clock)
        assert titles(city) == [] and titles(county) == []  # no 周报 "未解决问题 0 项"

        # the first checks open two problems; the next minute the 日报's hour has passed too
        open_finding(app, "a", now=clock())
        open_finding(app, "b", now=clock())
        clock.advance(seconds=61)
        tick(app, clock)
        told = titles(county)
        assert len(told) == 1 and "巡查汇总" in told[0], told  # once, not a 日报 as well
        assert not any("日报" in t for t in told)
        assert titles(city) == []  # nor a 周报 of what the first checks just found

        # the next morning the problems are a day old: the 日报 lists them
        clock.now = MONDAY_0825.replace(day=24, hour=0, minute=31)
        county.clear()
        tick(app, clock)
        daily = [t for t in titles(county) if "日报" in t]
        assert daily == ["【巡查日报】青溪县：11月24日 未解决问题 2 项"]
        app.close()


def test_the_weekly_digest_covers_a_week_that_was_checked(tmp_path: Path) -> None:
    """A week with checks gets its 周报, named for the seven days up to the day it is sent —
    with "未解决问题 0 项" when they were all fine, which is news then."""
    clock = Clock(MONDAY_0825.replace(hour=1, minute=1))
    with WebhookSink() as city:
        app = open_app(settings_for(tmp_path, daily_digest_time="", weekly_digest_time="09:00"))
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city")
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        with session_scope(app.engine) as s:  # a check on Friday that found nothing wrong
            s.add(Snapshot(account_id="a", outcome="ok", taken_at=datetime(2026, 11, 20, 2,
                                                                          tzinfo=UTC)))  # fmt: skip
        tick(app, clock)
        [weekly] = city.delivered
        assert weekly.json["title"] == "【巡查周报】黔岭市政府办：11月17日—11月23日 未解决问题 0 项"
        assert "近 7 天检查账号 1 个" in weekly.json["message"]
        app.close()


def test_weekly_digest_time_empty_turns_it_off(tmp_path: Path) -> None:
    clock = Clock(MONDAY_0825.replace(hour=1, minute=1))
    with WebhookSink() as city:
        app = open_app(settings_for(tmp_path, daily_digest_time="", weekly_digest_time=""))
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city")
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        open_finding(app, "a", now=datetime(2026, 11, 20, 2, tzinfo=UTC))
        tick(app, clock)
        assert not any("周报" in t for t in titles(city))
        app.close()
