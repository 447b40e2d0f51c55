"""Alert routing, grouping, pacing, escalation, silences and digests — through the real
dispatcher, real apprise or robot HTTP calls, and local receivers, on a simulated clock.

The clock is the dispatcher's (``dispatch_once(clock=...)``) and the robot's; it starts at a
fixed instant (never the hour the suite runs at) and only moves forward, so an hour of ticks
takes a second.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from monitor.alerting import dispatch_once, enqueue
from monitor.alerting.silences import add as add_silence
from monitor.app import App
from monitor.cli import app as cli
from monitor.config import Settings
from monitor.demo.receivers import WebhookSink
from monitor.store.engine import session_scope
from monitor.store.findings import acknowledge, reconcile
from monitor.store.models import (
    Account,
    AlertItem,
    ChannelState,
    Finding,
    Notification,
    Snapshot,
    Unit,
)
from probes.model import Severity, Signal
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.robots import DingTalkRobot, FeishuRobot, WeComRobot

# production pacing: the defaults a real office runs with, not the test suite's fast ones
REAL_PACING: dict[str, Any] = {
    "retry_base_seconds": 30,
    "retry_max_seconds": 600,
    "group_wait_seconds": 60,
}


START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai


class Clock:
    """The simulated clock every stage of a test reads (findings, outbox, dispatcher)."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **kw: float) -> None:
        with self._lock:
            self.now += timedelta(**kw)


def settings_for(tmp: Path, **alerts: Any) -> Settings:
    return make_settings(tmp, alerts=alerts)


def open_finding(
    app: App, account_id: str, kind: str = "stale", severity: str = "veto", *, now: datetime
) -> int:
    """What the pipeline does for a snapshot with one signal: snapshot, finding, items."""
    with session_scope(app.engine) as s:
        account = s.get(Account, account_id)
        assert account is not None
        snap = Snapshot(account_id=account_id, taken_at=now, outcome="ok")
        s.add(snap)
        s.flush()
        assert snap.id is not None
        signal = Signal(kind, Severity(severity), f"{account.name} 已 15 天未更新")
        changes = reconcile(s, account_id, snap.id, [signal], content_seen=True, now=now)
        enqueue(s, app.settings, account, s.get(Unit, account.owner_code), changes, now=now)
        return changes[0].finding.id  # type: ignore[return-value]


def tick(app: App, clock: Clock, settings: Settings | None = None) -> None:
    anyio.run(lambda: dispatch_once(app.engine, settings or app.settings, clock=clock))


def finding_ids_in(texts: list[str]) -> list[int]:
    return [int(x) for t in texts for x in re.findall(r"问题(?:编号)?\**：?\s*#(\d+)", t)]


def all_findings(app: App) -> list[int]:
    with Session(app.engine) as s:
        return sorted(f.id for f in s.exec(select(Finding)).all())  # type: ignore[misc]


@pytest.fixture
def sink():
    with WebhookSink(fail_status=503) as s:
        yield s


# -- what the issue must show -------------------------------------------------------------------


def test_receiver_down_for_an_hour_gets_every_alert_once_after(tmp_path: Path, sink) -> None:
    clock = Clock()
    app = open_app(settings_for(tmp_path, **REAL_PACING))
    add_unit(app, "qx", "青溪县", channels=[sink.apprise_url()])
    for i in range(6):
        add_account(app, f"a{i}", "qx", "http://127.0.0.1:9/none", name=f"账号{i}")
    sink.down = True
    for i in range(3):
        open_finding(app, f"a{i}", now=clock())
    for minute in range(60):  # an hour of ticks, receiver down
        if minute == 30:  # more problems open during the outage: they wait and fold in
            for i in range(3, 6):
                open_finding(app, f"a{i}", now=clock())
        tick(app, clock)
        clock.advance(minutes=1)
    assert sink.messages and not sink.delivered  # it was tried, and it was down
    sink.down = False
    for _ in range(20):  # back: the retry comes within its backoff (at most ~12 minutes)
        tick(app, clock)
        clock.advance(minutes=1)
    delivered = [m.json["message"] for m in sink.delivered]
    numbers = [re.search(r"消息编号 #(\d+)", t).group(1) for t in delivered]  # type: ignore[union-attr]
    assert len(numbers) == len(set(numbers))  # none twice
    assert sorted(finding_ids_in(delivered)) == all_findings(app)  # every alert, once
    with Session(app.engine) as s:
        assert not s.exec(select(Notification).where(Notification.status != "sent")).all()
    app.close()


def test_500_findings_never_exceed_20_messages_a_minute(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot:
        settings = settings_for(
            tmp_path,
            origins={"dingtalk": robot.origin},
            group_wait_seconds=30,
            max_items_per_message=10,  # 50 messages: more than two minutes of budget
        )
        app = open_app(settings)
        add_unit(app, "qx", "青溪县", channels=[robot.apprise_url()])
        with session_scope(app.engine) as s:
            for i in range(500):
                s.add(Account(id=f"a{i:03d}", platform="weibo", name=f"账号{i}", owner_code="qx"))
        for i in range(500):
            open_finding(app, f"a{i:03d}", now=clock())
        for _ in range(12 * 6):  # six simulated minutes, a tick every 5 seconds
            tick(app, clock)
            clock.advance(seconds=5)
        assert not [m for m in robot.messages if m.errcode]  # never throttled, never refused
        assert robot.max_in_any_minute() <= 20
        told = finding_ids_in([m.text for m in robot.accepted])
        assert sorted(told) == all_findings(app)  # every finding in some message, once
        assert len(robot.accepted) < 60
        app.close()


def test_unacknowledged_veto_reaches_the_supervisor_at_the_configured_time(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with WebhookSink() as county, WebhookSink() as city:
        settings = settings_for(
            tmp_path,
            escalate_immediately=[],
            repeat_minutes=60,
            routes=[
                {"name": "否决两小时上报", "severities": ["veto"], "escalate_after_minutes": 120}
            ],
        )
        app = open_app(settings)
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city", channels=[county.apprise_url()])
        add_account(app, "ignored", "qx", "http://127.0.0.1:9/", name="青溪发布")
        add_account(app, "acked", "qx", "http://127.0.0.1:9/", name="青溪政务")
        ignored = open_finding(app, "ignored", now=clock())
        acked = open_finding(app, "acked", now=clock())
        tick(app, clock)
        assert len(county.delivered) == 1  # both, grouped: the owner hears first
        clock.advance(minutes=10)
        with session_scope(app.engine) as s:
            acknowledge(s, acked, by="值班员张三", note="已安排今日更新", now=clock())
        for _ in range(109):  # up to 1 h 59 min after opening
            clock.advance(minutes=1)
            tick(app, clock)
        assert city.delivered == []  # not yet
        county_texts = [m.json["message"] for m in county.delivered[1:]]
        assert county_texts and all(str(acked) not in finding_ids_in([t]) for t in county_texts)
        assert ignored in finding_ids_in(county_texts)  # the ignored one was repeated
        clock.advance(minutes=2)
        tick(app, clock)
        assert len(city.delivered) == 1
        body = city.delivered[0].json
        assert "上报" in body["title"] and finding_ids_in([body["message"]]) == [ignored]
        assert "2 小时内未确认" in body["message"]
        for _ in range(3):  # told once, not every tick
            clock.advance(minutes=30)
            tick(app, clock)
        assert len(city.delivered) == 1
        app.close()


# -- routing ------------------------------------------------------------------------------------


def test_veto_and_theft_go_to_the_supervisor_at_once_by_default(tmp_path: Path) -> None:
    clock = Clock()
    with WebhookSink() as county, WebhookSink() as city:
        app = open_app(settings_for(tmp_path, escalate_immediately=["veto", "theft"]))
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city", channels=[county.apprise_url()])
        add_account(app, "a", "qx", "http://127.0.0.1:9/")
        open_finding(app, "a", kind="theft", severity="high", now=clock())
        open_finding(app, "a", kind="stale_soon", severity="warning", now=clock())
        tick(app, clock)
        assert len(county.delivered) == 1 and len(city.delivered) == 1
        assert (
            "疑似被盗用" in city.delivered[0].json["message"]
            or "上报" in city.delivered[0].json["title"]
        )
        assert "stale_soon" not in city.delivered[0].json["message"]
        app.close()


# what a message about the patrol's own failure says (kinds' labels, the fetch's outcomes,
# the advice to ops): none of it may reach a unit
PATROL_WORDS = (
    "抓取失败",
    "暂时无法检查",
    "无法抓取",
    "无法读取",
    "无法判断更新时间",
    "反爬",
    "拦截",
    "巡查系统自身",
    "只告知运维",
    "运维排查",
)


def test_the_patrols_own_problems_reach_ops_and_never_a_unit(tmp_path: Path) -> None:
    """A fetch that failed (HTTP 503), a platform that turned the patrol away, a list it was
    not shown, posts it could not date: the patrol's own problems. Over three days of every
    path — the opening, reminders, escalations (after a time, at once, past a deadline),
    daily and weekly digests, and a broad route that adds a unit's channel for every 预警 —
    no message to a unit's channel is about one of them; ops hear of each once. An account
    that is gone IS the unit's problem, and reaches it."""
    from probes.checks.kinds import PATROL_KINDS

    clock = Clock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))  # Sunday 10:00 in Beijing
    with WebhookSink() as county, WebhookSink() as extra, WebhookSink() as city, \
            WebhookSink() as ops:  # fmt: skip
        settings = settings_for(
            tmp_path,
            ops_channels=["@ops"],
            repeat_minutes=60,
            escalate_after_minutes=120,
            escalate_immediately=["warning", "high", "veto"],
            daily_digest_time="08:30",
            weekly_digest_time="09:00",
            # a broad route: every 预警 to the unit, copied to another of its channels
            routes=[
                {
                    "name": "预警抄送",
                    "severities": ["warning"],
                    "audience": "owner",
                    "channels": ["@extra"],
                }
            ],
        )
        settings.channels.update(
            {"ops": ops.apprise_url(), "extra": extra.apprise_url(),
             "county": county.apprise_url(), "city": city.apprise_url()}
        )  # fmt: skip
        app = open_app(settings)
        add_unit(app, "city", "黔岭市政府办", channels=["@city"])
        add_unit(app, "qx", "青溪县", parent="city", channels=["@county"])
        patrol = {}
        for kind in sorted(PATROL_KINDS):
            add_account(app, kind, "qx", "http://127.0.0.1:9/", name=f"巡查问题{kind}")
            patrol[kind] = open_finding(app, kind, kind=kind, severity="warning", now=clock())
        add_account(app, "gone", "qx", "http://127.0.0.1:9/", name="青溪旧号")
        gone = open_finding(app, "gone", kind="gone", severity="high", now=clock())
        with session_scope(app.engine) as s:  # one is past a deadline it should never have had
            f = s.get(Finding, patrol["fetch_failed"])
            assert f is not None
            f.deadline = clock() + timedelta(hours=1)
        for _ in range(3 * 48):  # three days, a tick every half hour
            tick(app, clock)
            clock.advance(minutes=30)
        with Session(app.engine) as s:
            items = s.exec(select(AlertItem)).all()
            notes = s.exec(select(Notification)).all()
        units_heard = {i.kind for i in items if i.channel != "@ops"}
        assert units_heard and not units_heard & PATROL_KINDS
        assert {i.kind for i in items if i.channel == "@ops"} == set(PATROL_KINDS)
        assert {i.event for i in items if i.channel == "@ops"} == {"opened"}  # once, no more
        to_units = [m.json for sink in (county, extra, city) for m in sink.delivered]
        assert to_units and not set(finding_ids_in([m["message"] for m in to_units])) & set(
            patrol.values()
        )
        assert not any("巡查问题" in m["message"] or "巡查问题" in m["title"] for m in to_units)
        # every body a unit received, read as the officer reads it: none is about the patrol
        for m in to_units:
            said = m["title"] + m["message"]
            assert not [w for w in PATROL_WORDS if w in said], said
            assert "xuncha ack" not in said  # a county officer has no CLI
        digests = [m for m in to_units if "日报" in m["title"] or "周报" in m["title"]]
        assert {"日报", "周报"} <= {t for m in digests for t in ("日报", "周报") if t in m["title"]}
        assert all("未解决问题 1 项" in m["title"] for m in digests if "日报" in m["title"])
        assert gone in finding_ids_in([m.json["message"] for m in county.delivered])
        assert gone in finding_ids_in([m.json["message"] for m in city.delivered])  # escalated
        told = finding_ids_in([m.json["message"] for m in ops.delivered])
        assert sorted(told) == sorted(patrol.values())
        assert all(n.unit_code == "ops" for n in notes if n.channel == "@ops")
        app.close()


def test_app_problems_go_to_the_units_it_contact(tmp_path: Path) -> None:
    clock = Clock()
    with WebhookSink() as duty, WebhookSink() as it:
        app = open_app(settings_for(tmp_path))
        with session_scope(app.engine) as s:
            s.add(
                Unit(
                    code="qx",
                    name="青溪县",
                    channels=[duty.apprise_url()],
                    it_channels=[it.apprise_url()],
                )
            )
        add_account(app, "app", "qx", "http://127.0.0.1:9/x.apk", platform="app")
        add_account(app, "wb", "qx", "http://127.0.0.1:9/")
        # a kind the install check really emits: [alerts] it_kinds = ["install"] names its
        # category (probes.checks.kinds), not the kind
        open_finding(app, "app", kind="app_download_unreachable", severity="high", now=clock())
        open_finding(app, "wb", kind="stale", severity="veto", now=clock())
        tick(app, clock)
        assert len(it.delivered) == 1
        to_it = it.delivered[0].json["message"]
        assert "无法安装或使用（客户端无法下载）" in to_it and "app_download" not in to_it
        assert len(duty.delivered) == 1 and "客户端" not in duty.delivered[0].json["message"]
        assert "更新不及时（长期未更新）" in duty.delivered[0].json["message"]
        app.close()


def test_findings_within_the_group_wait_go_out_as_one_message(tmp_path: Path, sink) -> None:
    clock = Clock()
    app = open_app(settings_for(tmp_path, group_wait_seconds=60))
    add_unit(app, "qx", "青溪县", channels=[sink.apprise_url()])
    for i in range(3):
        add_account(app, f"a{i}", "qx", "http://127.0.0.1:9/")
        open_finding(app, f"a{i}", now=clock())
        clock.advance(seconds=10)
        tick(app, clock)
    assert sink.messages == []  # still waiting for the rest of the group
    clock.advance(seconds=40)
    tick(app, clock)
    assert len(sink.delivered) == 1
    assert "3 项" in sink.delivered[0].json["title"]
    app.close()


def test_a_problem_that_cleared_before_anyone_was_told_is_not_sent(tmp_path: Path, sink) -> None:
    """A failed fetch (ops hear of it, never the unit) that passed within the group wait."""
    clock = Clock()
    app = open_app(settings_for(tmp_path, group_wait_seconds=60, ops_channels=[sink.apprise_url()]))
    add_unit(app, "qx", "青溪县", channels=[sink.apprise_url()])
    add_account(app, "a", "qx", "http://127.0.0.1:9/")
    open_finding(app, "a", kind="fetch_failed", severity="warning", now=clock())
    with session_scope(app.engine) as s:  # the next snapshot is fine again
        snap = Snapshot(account_id="a", outcome="ok")
        s.add(snap)
        s.flush()
        changes = reconcile(s, "a", snap.id, [], content_seen=True, now=clock())  # type: ignore[arg-type]
        enqueue(s, app.settings, s.get(Account, "a"), s.get(Unit, "qx"), changes, now=clock())  # type: ignore[arg-type]
    clock.advance(minutes=2)
    tick(app, clock)
    assert sink.messages == []
    with Session(app.engine) as s:
        assert {i.status for i in s.exec(select(AlertItem)).all()} == {"skipped"}
    app.close()


def test_a_new_finding_is_told_once_as_new_and_reminded_a_day_after_the_telling(
    tmp_path: Path, sink
) -> None:
    """Checks dated days before the dispatcher runs (a replay, a node that was down): the
    reminder scan runs first in each pass, yet the first message is the news alone, and the
    reminder comes a day after that message — not a day after the check."""
    clock = Clock()
    app = open_app(settings_for(tmp_path, repeat_minutes=1440))
    add_unit(app, "qx", "青溪县", channels=[sink.apprise_url()])
    for i in range(3):
        add_account(app, f"a{i}", "qx", "http://127.0.0.1:9/", name=f"账号{i}")
        open_finding(app, f"a{i}", now=clock() - timedelta(days=3))
    tick(app, clock)
    texts = [m.json["title"] + m.json["message"] for m in sink.delivered]
    assert sorted(finding_ids_in(texts)) == all_findings(app)  # each once
    assert not any("仍未整改" in t for t in texts)
    for _ in range(23):  # a day of hourly passes: nothing to say yet
        clock.advance(hours=1)
        tick(app, clock)
    assert len(sink.delivered) == len(texts)
    clock.advance(hours=1, minutes=1)
    tick(app, clock)
    reminders = [m.json["title"] + m.json["message"] for m in sink.delivered][len(texts) :]
    assert sorted(finding_ids_in(reminders)) == all_findings(app)
    assert all("仍未整改" in t for t in reminders)
    app.close()


def test_no_reminder_while_the_opening_waits_behind_a_full_channel(tmp_path: Path) -> None:
    """A channel that cannot take the opening for longer than the repeat interval (its group
    wait, a throttle): the scan adds nothing, so the officer is never told the same new
    problem twice in one message."""
    clock = Clock()
    app = open_app(settings_for(tmp_path, repeat_minutes=60, group_wait_seconds=3 * 3600))
    add_unit(app, "qx", "青溪县", channels=["json://127.0.0.1:9/"])
    add_account(app, "a", "qx", "http://127.0.0.1:9/")
    fid = open_finding(app, "a", now=clock())
    for _ in range(12):  # three hours in quarter-hour passes, the opening still waiting
        clock.advance(minutes=15)
        tick(app, clock)
    with Session(app.engine) as s:
        items = s.exec(select(AlertItem).where(AlertItem.finding_id == fid)).all()
        told = s.get(Finding, fid)
        assert told is not None
        notified = told.notified_at
    assert [i.event for i in items] == ["opened"]  # no reminder queued beside it
    # composed once its group wait was over; reminders count from then
    assert items[0].status == "sent"
    assert notified is not None and notified >= items[0].due_at
    app.close()


# -- delivery: errors inside HTTP 200 -----------------------------------------------------------


def test_dingtalk_refusal_holds_messages_tells_ops_once_and_resends_after_the_fix(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot, WebhookSink() as ops:
        base = {
            "origins": {"dingtalk": robot.origin},
            "ops_channels": ["@ops"],
        }
        wrong = make_settings(
            tmp_path,
            alerts=base,
            channels={"qx": robot.apprise_url(secret="SECwrong"), "ops": ops.apprise_url()},
        )
        app = open_app(wrong)
        add_unit(app, "qx", "青溪县", channels=["@qx"])
        add_account(app, "a", "qx", "http://127.0.0.1:9/")
        add_account(app, "b", "qx", "http://127.0.0.1:9/")
        open_finding(app, "a", now=clock())
        tick(app, clock)
        open_finding(app, "b", now=clock())
        for _ in range(5):
            clock.advance(minutes=1)
            tick(app, clock)
        assert [m.errcode for m in robot.messages] == [310000]  # tried once, then held
        assert len(ops.delivered) == 1
        assert "310000" in ops.delivered[0].json["message"]
        assert "加签" in ops.delivered[0].json["message"]
        with Session(app.engine) as s:
            state = s.exec(select(ChannelState).where(ChannelState.channel == "@qx")).one()
            assert state.broken_since is not None
            assert {n.status for n in s.exec(select(Notification)) if n.unit_code == "qx"} == {
                "held"
            }

        fixed = make_settings(
            tmp_path,
            alerts=base,
            channels={"qx": robot.apprise_url(), "ops": ops.apprise_url()},
        )
        for _ in range(3):  # ops fixed the secret and reloaded
            clock.advance(minutes=1)
            tick(app, clock, fixed)
        told = finding_ids_in([m.text for m in robot.accepted])
        assert sorted(told) == all_findings(app)
        assert len(ops.delivered) == 2 and "恢复" in ops.delivered[1].json["title"]
        app.close()


def test_robot_throttle_rests_the_channel_and_loses_nothing(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock, per_minute=3) as robot:  # stricter than we were told
        app = open_app(
            settings_for(tmp_path, origins={"dingtalk": robot.origin}, max_items_per_message=1)
        )
        add_unit(app, "qx", "青溪县", channels=[robot.apprise_url()])
        for i in range(6):
            add_account(app, f"a{i}", "qx", "http://127.0.0.1:9/")
            open_finding(app, f"a{i}", now=clock())
        tick(app, clock)
        assert [m.errcode for m in robot.messages].count(130101) >= 1
        attempts = len(robot.messages)
        clock.advance(minutes=5)
        tick(app, clock)
        assert len(robot.messages) == attempts  # resting: nothing tried during the pause
        for _ in range(8):
            clock.advance(minutes=3)
            tick(app, clock)
        assert sorted(finding_ids_in([m.text for m in robot.accepted])) == all_findings(app)
        app.close()


# -- mentions: the duty officers' phones ring ---------------------------------------------------


def add_duty_unit(app: App, channels: list[str], mobiles: list[str], code: str = "qx") -> None:
    with session_scope(app.engine) as s:
        s.add(Unit(code=code, name="青溪县人民政府办公室", channels=channels, duty_mobiles=mobiles))


def test_dingtalk_robot_receives_the_units_duty_mobiles(tmp_path: Path) -> None:
    """A real delivered message: ``at.atMobiles`` is the unit's 值班手机 and each is written as
    ``@mobile`` in the text, without which DingTalk shows no mention; a recovery rings no one."""
    clock = Clock()
    duty = ["13800138000", "13800138001"]
    with DingTalkRobot(clock=clock) as robot:
        app = open_app(settings_for(tmp_path, origins={"dingtalk": robot.origin}))
        add_duty_unit(app, [robot.apprise_url()], duty)
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        fid = open_finding(app, "a", now=clock())
        tick(app, clock)
        (got,) = robot.accepted
        assert got.at_mobiles == duty and got.shown_mentions == duty
        assert got.body["at"]["isAtAll"] is False
        assert got.body["msgtype"] == "markdown" and f"#{fid}" in got.text
        # no console: the county officer is asked to reply, quoting the message; no CLI
        assert "回复巡查值班人员" in got.text and "本消息编号 #" in got.text
        assert "xuncha ack" not in got.text
        with session_scope(app.engine) as s:  # the next check: the account posted
            snap = Snapshot(account_id="a", outcome="ok")
            s.add(snap)
            s.flush()
            changes = reconcile(s, "a", snap.id, [], content_seen=True, now=clock())  # type: ignore[arg-type]
            enqueue(s, app.settings, s.get(Account, "a"), s.get(Unit, "qx"), changes, now=clock())  # type: ignore[arg-type]
        tick(app, clock)
        resolved = robot.accepted[-1]
        assert (
            "已恢复" in resolved.title and resolved.at_mobiles == [] and "@138" not in resolved.text
        )
        app.close()


def test_wecom_gets_markdown_then_a_text_that_mentions_and_both_count(tmp_path: Path) -> None:
    """WeCom markdown cannot mention by mobile: the message, then a text with
    ``mentioned_mobile_list``. Both are requests against the robot's 20 a minute, so a burst
    of messages never makes it answer 45009."""
    clock = Clock()
    duty = ["13800138000"]
    with WeComRobot(clock=clock) as robot:
        app = open_app(
            settings_for(tmp_path, origins={"wecombot": robot.origin}, max_items_per_message=1)
        )
        add_duty_unit(app, [robot.apprise_url()], duty)
        for i in range(15):
            add_account(app, f"a{i}", "qx", "http://127.0.0.1:9/", name=f"账号{i}")
            open_finding(app, f"a{i}", now=clock())
        for _ in range(6):  # three minutes
            tick(app, clock)
            clock.advance(seconds=30)
        assert not [m for m in robot.messages if m.errcode], [m.errcode for m in robot.messages]
        assert robot.max_in_any_minute() <= 20
        kinds = [m.body["msgtype"] for m in robot.accepted]
        assert kinds == ["markdown", "text"] * 15  # each message followed by its mention
        first, ping = robot.accepted[:2]
        assert "回复巡查值班人员" in first.text and ping.mentioned_mobiles == duty
        assert first.title.lstrip("# ") in ping.text  # names the message it is about
        with Session(app.engine) as s:
            assert not s.exec(select(Notification).where(Notification.status != "sent")).all()
        app.close()


def test_feishu_gets_a_signed_card_coloured_by_severity(tmp_path: Path) -> None:
    """Feishu through xuncha's own sender: an interactive card signed with the robot's
    secret, red for a veto; a wrong secret (19021) holds the message and says what to fix."""
    clock = Clock()
    with FeishuRobot(secret="feishu-secret", clock=clock) as robot, WebhookSink() as ops:
        wrong = robot.apprise_url().replace("feishu-secret", "not-it")
        app = open_app(
            settings_for(
                tmp_path, origins={"feishu": robot.origin}, ops_channels=[ops.apprise_url()]
            )
        )
        add_duty_unit(app, [robot.apprise_url(), wrong], ["13800138000"])
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        fid = open_finding(app, "a", now=clock())
        tick(app, clock)
        (card,) = robot.requests()
        assert card["msg_type"] == "interactive" and card["sign"] and card["timestamp"]
        assert card["card"]["header"]["template"] == "red"
        assert "【单项否决】" in card["card"]["header"]["title"]["content"]
        body = card["card"]["elements"][0]["text"]
        assert body["tag"] == "lark_md" and f"#{fid}" in body["content"]
        refused = [m for m in robot.messages if m.errcode]
        assert [m.errcode for m in refused] == [19021]
        tick(app, clock)
        assert "签名校验" in ops.delivered[0].json["message"]
        with Session(app.engine) as s:
            assert {n.status for n in s.exec(select(Notification)) if n.unit_code == "qx"} == {
                "sent",
                "held",
            }
        app.close()


def test_the_phones_that_ring_are_those_on_duty_when_it_is_sent(tmp_path: Path) -> None:
    """Mentions are looked up when a message goes out: one that waited behind an outage
    rings whoever is on the roster when it arrives."""
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot:
        app = open_app(settings_for(tmp_path, origins={"dingtalk": robot.origin}))
        add_duty_unit(app, [robot.apprise_url()], ["13800138000"])
        add_account(app, "a", "qx", "http://127.0.0.1:9/")
        robot.down = True
        open_finding(app, "a", now=clock())
        tick(app, clock)
        assert robot.accepted == []
        with session_scope(app.engine) as s:  # the roster changed overnight
            unit = s.get(Unit, "qx")
            assert unit is not None
            unit.duty_mobiles = ["13900139000"]
        robot.down = False
        for _ in range(5):
            clock.advance(minutes=1)
            tick(app, clock)
        (got,) = robot.accepted
        assert got.at_mobiles == ["13900139000"] and got.shown_mentions == ["13900139000"]
        app.close()


# -- silences -----------------------------------------------------------------------------------


def test_silence_holds_messages_and_the_finding_is_told_when_it_ends(tmp_path: Path, sink) -> None:
    """A platform's redesign breaks the reader: ops (who alone hear of it) silence it."""
    clock = Clock()
    app = open_app(settings_for(tmp_path, ops_channels=[sink.apprise_url()]))
    add_unit(app, "city", "黔岭市政府办")
    add_unit(app, "qx", "青溪县", parent="city", channels=[sink.apprise_url()])
    add_account(app, "a", "qx", "http://127.0.0.1:9/", platform="douyin")
    with session_scope(app.engine) as s:
        add_silence(
            s,
            now=clock(),
            by="运维李四",
            comment="抖音平台改版，页面结构调整中",
            starts_at=clock(),
            ends_at=clock() + timedelta(hours=2),
            unit_code="city",  # the county is below the city: covered
            platform="douyin",
        )
    fid = open_finding(app, "a", kind="fetch_failed", severity="warning", now=clock())
    for _ in range(119):
        tick(app, clock)
        clock.advance(minutes=1)
    assert sink.messages == []
    with Session(app.engine) as s:
        silenced = s.exec(select(AlertItem).where(AlertItem.status == "silenced")).all()
        assert len(silenced) == 1  # kept, with the silence that held it — not one per tick
    clock.advance(minutes=2)
    tick(app, clock)
    tick(app, clock)
    assert finding_ids_in([m.json["message"] for m in sink.delivered]) == [fid]
    app.close()


# -- digests ------------------------------------------------------------------------------------


def test_daily_and_weekly_digests_are_written_once_across_dispatchers(
    tmp_path: Path,
) -> None:
    with WebhookSink() as county, WebhookSink() as city:
        app = open_app(
            settings_for(tmp_path, daily_digest_time="08:30", weekly_digest_time="09:00")
        )
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city", channels=[county.apprise_url()])
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        clock = Clock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))  # Sunday 10:00 in Beijing
        open_finding(app, "a", now=clock())
        tick(app, clock)  # the opening message itself
        county.clear()
        clock.now = datetime(2026, 11, 23, 1, 1, tzinfo=UTC)  # 09:01 in Beijing, a Monday

        def node() -> None:
            for _ in range(3):
                tick(app, clock)

        threads = [threading.Thread(target=node) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        daily = [m.json for m in county.delivered]
        weekly = [m.json for m in city.delivered]
        assert len(daily) == 1 and "日报" in daily[0]["title"] and "青溪发布" in daily[0]["message"]
        assert len(weekly) == 1 and "周报" in weekly[0]["title"]
        assert "11月17日—11月23日" in weekly[0]["title"]  # the week that ends today
        app.close()


# -- commands -----------------------------------------------------------------------------------


def write_config(tmp: Path, body: str) -> Path:
    cfg = tmp / "xuncha.toml"
    cfg.write_text(f'data_dir = "{tmp}"\n{body}', encoding="utf-8")
    return cfg


def test_routes_test_shows_who_is_told_what_and_when(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path,
        """
[alerts]
escalate_immediately = []
[[alerts.routes]]
name = "否决两小时上报"
severities = ["veto"]
escalate_after_minutes = 120
[channels]
qx = "dingtalk://SECx@tok"
city = "mailto://duty:pw@127.0.0.1?to=city@example.org"
""",
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    app = open_app(make_settings(tmp_path))
    add_unit(app, "city", "黔岭市政府办", channels=["@city"])
    add_unit(app, "qx", "青溪县", parent="city", channels=["@qx"])
    add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
    app.close()
    r = runner.invoke(cli, ["--config", str(cfg), "routes", "test", "--account", "a", "--json"])
    assert r.exit_code == 0, r.output
    import json

    plan = json.loads(r.output)
    assert plan["route"] == "否决两小时上报"
    assert [t["channel"] for t in plan["first"]] == ["@qx"]
    assert plan["first"][0]["per_minute"] == 20
    assert plan["escalate"] == 120 and plan["escalate_to"][0]["unit"] == "city"
    r = runner.invoke(cli, ["--config", str(cfg), "routes", "test", "--account", "a"])
    assert "2 小时内未确认也未解决" in r.output and "黔岭市政府办" in r.output
    r = runner.invoke(
        cli, ["--config", str(cfg), "routes", "test", "--account", "a", "--severity", "bad"]
    )
    assert r.exit_code == 2
    # a kind that does not exist (a typo) is refused, with the ones that do, in Chinese
    r = runner.invoke(cli, ["--config", str(cfg), "routes", "test", "--account", "a",
                            "--kind", "stail"])  # fmt: skip
    assert r.exit_code == 2
    assert "没有问题种类 'stail'" in r.output and "stale（长期未更新）" in r.output
    assert "infrequent（更新频次不足）" in r.output


def test_alerts_test_and_silence_commands(tmp_path: Path, sink) -> None:
    cfg = write_config(tmp_path, f'[channels]\nqx = "{sink.apprise_url()}"\n')
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    app = open_app(make_settings(tmp_path))
    add_unit(app, "qx", "青溪县", channels=["@qx"])
    app.close()
    r = runner.invoke(cli, ["--config", str(cfg), "alerts", "test", "qx"])
    assert r.exit_code == 0, r.output
    assert len(sink.delivered) == 1 and "测试" in sink.delivered[0].json["title"]
    assert runner.invoke(cli, ["--config", str(cfg), "alerts", "test", "nope"]).exit_code == 2

    r = runner.invoke(
        cli,
        ["--config", str(cfg), "silence", "add", "--unit", "qx", "--for", "2h", "--why", "换届"],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["--config", str(cfg), "silence", "list", "--json"])
    import json

    rows = json.loads(r.output)
    assert rows[0]["unit"] == "qx" and rows[0]["why"] == "换届"
    no_why = runner.invoke(
        cli, ["--config", str(cfg), "silence", "add", "--for", "1h", "--why", ""]
    )
    assert no_why.exit_code == 2
    r = runner.invoke(cli, ["--config", str(cfg), "silence", "expire", str(rows[0]["id"])])
    assert r.exit_code == 0
    assert (
        json.loads(runner.invoke(cli, ["--config", str(cfg), "silence", "list", "--json"]).output)
        == []
    )
    sink.down = True
    sink.fail_status = 503
    r = runner.invoke(cli, ["--config", str(cfg), "alerts", "test", "qx"])
    assert r.exit_code == 1 and "503" in r.output
    with Session(open_app(make_settings(tmp_path)).engine) as s:
        assert s.exec(select(Notification).where(col(Notification.kind) == "test")).all() == []


def test_alerts_test_never_shows_a_secret_in_the_url_path(tmp_path: Path, sink) -> None:
    """``json://host/hook/SECRET``: the real CLI, its output, its log lines (delivered and
    failed) name the channel as ``json://127.0.0.1:PORT/hook/***`` and never the secret."""
    secret = "SECRETVALUE"
    with socket.socket() as s:  # a port nothing listens on: bind, read the number, close
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    good = sink.apprise_url(f"/hook/{secret}")
    down = f"json://127.0.0.1:{closed}/hook/{secret}"
    cfg = write_config(
        tmp_path,
        f'[logging]\nlevel = "info"\nformat = "json"\n[channels]\nqx = "{good}?+X-Key={secret}2"\n',
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}

    def xuncha(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    assert xuncha("init").returncode == 0
    app = open_app(make_settings(tmp_path))
    add_unit(app, "qx", "青溪县", channels=["@qx", good, down])
    app.close()

    for args in (["alerts", "test", "qx"], ["alerts", "test", "qx", "--json"]):
        r = xuncha(*args)
        assert r.returncode == 1, r.stdout + r.stderr  # the closed port failed
        assert secret not in r.stdout and secret not in r.stderr, r.stdout + r.stderr
        assert f"json://127.0.0.1:{sink.port}/hook/***" in r.stdout
        assert f"json://127.0.0.1:{closed}/hook/***" in r.stdout  # where it failed, masked
        events = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
        failed = [e for e in events if e["event"] == "alert_delivery_failed"]
        assert len(failed) == 1 and failed[0]["target"] == f"json://127.0.0.1:{closed}/hook/***"
        assert "127.0.0.1" in failed[0]["error"]
        delivered = [e for e in events if e["event"] == "alert_delivered"]
        assert {e["target"] for e in delivered} == {
            f"json://127.0.0.1:{sink.port}/hook/***",
            f"json://127.0.0.1:{sink.port}/hook/***?+X-Key=***",
        }
    # it did reach the real path, secret and all: the masking is only in what people see
    assert {m.path.split("?")[0] for m in sink.delivered} == {f"/hook/{secret}"}
    assert len(sink.delivered) == 4


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_three_dispatchers_share_one_robots_budget(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Several nodes dispatching at once: still ≤ 20 a minute, every finding told once."""
    clock = Clock()
    db = {"url": request.getfixturevalue("pg_url")} if backend == "postgresql" else {}
    with DingTalkRobot(clock=clock) as robot:
        settings = make_settings(
            tmp_path,
            database=db,
            alerts={"origins": {"dingtalk": robot.origin}, "max_items_per_message": 2},
        )
        app = open_app(settings)
        add_unit(app, "qx", "青溪县", channels=[robot.apprise_url()])
        with session_scope(app.engine) as s:
            for i in range(60):
                s.add(Account(id=f"a{i:02d}", platform="weibo", name=f"账号{i}", owner_code="qx"))
        for i in range(60):
            open_finding(app, f"a{i:02d}", now=clock())

        def node() -> None:
            for _ in range(6):
                tick(app, clock)

        for _ in range(4):  # four simulated minutes, three nodes ticking at once in each
            threads = [threading.Thread(target=node) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            clock.advance(seconds=61)
        assert not [m for m in robot.messages if m.errcode]
        assert robot.max_in_any_minute() <= 20
        told = finding_ids_in([m.text for m in robot.accepted])
        assert sorted(told) == all_findings(app)
        app.close()


def test_registry_carries_the_technical_contact_channel(tmp_path: Path) -> None:
    from monitor.registry import apply_registry, export_registry, read_registry

    units = tmp_path / "units.csv"
    units.write_text(
        "单位编码,单位名称,主管单位,通知渠道,技术联系渠道\nqx,青溪县人民政府办公室,,@duty,@qx-it\n",
        encoding="utf-8",
    )
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("账号编号,平台,账号名称,主办单位,地址\nqx-app,app,青溪通,qx,\n", "utf-8")
    bad = tmp_path / "units-bad.csv"
    bad.write_text("单位编码,单位名称,技术联系渠道\nqx,青溪县,钉钉群\n", encoding="utf-8")
    from monitor.registry import RegistryError

    with pytest.raises(RegistryError) as e:
        read_registry([bad, accounts], known_rulesets=["national"], known_readers=["rss"])
    assert "技术联系渠道" in str(e.value) or "it_channels" in str(e.value)

    app = open_app(make_settings(tmp_path))
    reg = read_registry([units, accounts], known_rulesets=["national"], known_readers=["rss"])
    with session_scope(app.engine) as s:
        apply_registry(s, reg)
    with Session(app.engine) as s:
        assert s.get(Unit, "qx").it_channels == ["@qx-it"]  # type: ignore[union-attr]
        out = export_registry(s, tmp_path / "out.csv")
    assert "@qx-it" in out[0].read_text(encoding="utf-8-sig")
    app.close()


def test_acknowledged_finding_still_escalates_when_its_deadline_passes(tmp_path: Path) -> None:
    clock = Clock()
    with WebhookSink() as county, WebhookSink() as city:
        app = open_app(settings_for(tmp_path, escalate_after_minutes=1440))
        add_unit(app, "city", "黔岭市政府办", channels=[city.apprise_url()])
        add_unit(app, "qx", "青溪县", parent="city", channels=[county.apprise_url()])
        add_account(app, "a", "qx", "http://127.0.0.1:9/")
        with session_scope(app.engine) as s:
            snap = Snapshot(account_id="a", outcome="ok")
            s.add(snap)
            s.flush()
            warn = Signal(
                "stale_soon", Severity.warning, "即将超期", deadline=clock() + timedelta(hours=3)
            )
            changes = reconcile(s, "a", snap.id, [warn], content_seen=True, now=clock())  # type: ignore[arg-type]
            enqueue(s, app.settings, s.get(Account, "a"), s.get(Unit, "qx"), changes, now=clock())  # type: ignore[arg-type]
            fid = changes[0].finding.id
        tick(app, clock)
        with session_scope(app.engine) as s:
            acknowledge(s, fid, by="值班员", note="今天下午发", now=clock())  # type: ignore[arg-type]
        clock.advance(hours=2, minutes=59)
        tick(app, clock)
        assert city.delivered == []
        clock.advance(minutes=2)
        tick(app, clock)
        assert len(city.delivered) == 1
        assert "已过整改期限" in city.delivered[0].json["message"]
        assert len(county.delivered) == 1  # acknowledged: no reminder to the owner
        app.close()


def test_robot_keyword_mismatch_is_a_refusal_ops_hear_about(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock, keyword="政务巡查") as robot, WebhookSink() as ops:
        app = open_app(
            make_settings(
                tmp_path,
                alerts={"origins": {"dingtalk": robot.origin}, "ops_channels": [ops.apprise_url()]},
            )
        )
        add_unit(app, "qx", "青溪县", channels=[robot.apprise_url()])
        add_account(app, "a", "qx", "http://127.0.0.1:9/")
        open_finding(app, "a", now=clock())
        tick(app, clock)
        assert [(m.errcode) for m in robot.messages] == [310000]
        tick(app, clock)  # the ops notice goes through the outbox like any message
        assert "keywords not in content" in ops.delivered[0].json["message"]
        assert "关键词" in ops.delivered[0].json["message"]
        app.close()
