"""The inspector's loop in one story (issue 31): a 单项否决 found on a county site → the county's
channel told → nobody acknowledges → the ladder's SMS step reaches the duty phones through a
政务短信平台 stand-in on 127.0.0.1 → the county opens the signed link in its message and marks
已整改 → the account is rechecked at once and the page is fresh → the finding closes with
before and after on its page, and the ladder climbs no further (no 负责人 SMS, no
supervisor step).

Real parts throughout: the webpage reader on a local server, the patrol's claims, the writer,
the dispatcher (timers, ladder, compose, deliver), the SMS messenger, the console's routes; the
clock is injected.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from localserver import LocalServer
from sqlmodel import Session, select

from monitor.demo.receivers import WebhookSink
from monitor.store.engine import session_scope
from monitor.store.models import Notification, Unit
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.robots import SmsGateway
from tests.test_loop_e2e import CONSOLE, LINK, START, Clock, Site, World, column, old_column

DUTY = ["13800138000", "13800138001"]
LEADER = ["13900139000"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[World, SmsGateway]]:
    site = Site()
    clock = Clock(START)
    with (
        LocalServer({"/zwdt/": site}) as srv,
        WebhookSink() as county,
        WebhookSink() as city,
        SmsGateway(clock) as gw,
    ):
        settings = make_settings(
            tmp_path,
            alerts={
                "console_url": CONSOLE,
                "group_wait_seconds": 0,
                "repeat_minutes": 0,
                "sms_channel": "@sms",
                "ladder": {
                    "veto": {
                        "steps": [
                            {"after": "0h", "to": "unit"},
                            {"after": "2h", "to": "duty_sms"},
                            {"after": "2d", "to": "leader_sms"},
                            {"after": "3d", "to": "supervisor"},
                        ]
                    }
                },
            },
        )
        settings.channels.update(
            {"county": county.apprise_url(), "city": city.apprise_url(), "sms": gw.url()}
        )
        app = open_app(settings)
        app.clock = clock
        add_unit(app, "ql", "黔岭市人民政府办公室", channels=["@city"])
        with session_scope(app.engine) as s:
            s.add(Unit(code="qx", name="青溪县人民政府办公室", parent_code="ql",
                       channels=["@county"], duty_mobiles=DUTY, leader_mobiles=LEADER))  # fmt: skip
        add_account(app, "web-qx", "qx", srv.url("/zwdt/"), name="青溪县人民政府网站",
                    platform="website", reader="webpage",
                    options={"item": "ul.news li", "date": ".date"})  # fmt: skip
        w = World(app, clock, site, county, city)
        w.claims.ensure_states(settings, clock())
        clock.advance(hours=1)  # past the first check's spread
        try:
            yield w, gw
        finally:
            app.close()


def test_veto_unacknowledged_reaches_a_phone_then_rectified_rechecked_and_closed(
    world: tuple[World, SmsGateway],
) -> None:
    w, gw = world
    w.site.html = old_column(w.clock())
    assert w.patrol() == ["web-qx"]
    veto = w.finding("stale")
    assert veto.severity == "veto"
    [told] = [m for m in w.told(w.county) if "【单项否决】青溪县人民政府网站" in m]
    link = LINK.search(told)
    assert link, told  # the county's message carries its signed 已整改 link
    assert gw.sms == []  # the ladder's first step is the unit's channel
    # a veto's deadline is "at once": its supervisor hears of it now, as without a ladder
    assert any("上报" in m for m in w.told(w.city))
    told_city = len(w.city.delivered)

    # nobody acknowledges: at 1 h 59 min no SMS yet, at 2 h the duty phones get one
    opened = veto.opened_at
    w.clock.now = opened + timedelta(hours=1, minutes=59)
    w.tell()
    assert gw.sms == []
    w.clock.now = opened + timedelta(hours=2)
    w.tell()
    (sms,) = gw.sms
    assert sms.accepted and sms.phones == DUTY
    assert sms.text.startswith("【巡查】青溪县人民政府办公室 青溪县人民政府网站 单项否决")
    assert f"{CONSOLE}/findings/{veto.id}" in sms.text

    # the duty officer, woken by the SMS, has the page fixed and marks 已整改 by the link
    w.site.html = column(
        ("/zwdt/2.html", "青溪县部署冬季安全生产大检查", w.clock() - timedelta(minutes=20)),
        ("/zwdt/1.html", "青溪县召开秋冬季森林防火工作会议", START - timedelta(days=20)),
    )
    assert w.web.post(link[1], data={"note": "已发布冬季安全生产最新动态"}).status_code == 303
    assert w.patrol() == ["web-qx"]  # rechecked at once, not at its next hourly turn

    closed = w.finding("stale", status=None)
    assert closed.id == veto.id and closed.status == "resolved"
    events = [e.event for e in w.events(veto.id or 0)]
    assert events.index("ladder_step") < events.index("rectified") < events.index(
        "recheck_passed"
    )
    assert any("【已恢复】青溪县人民政府网站" in m for m in w.told(w.county))

    # the ladder stops with the finding: no 负责人 SMS at 2 days, no supervisor at 3
    for days in (2, 3, 4):
        w.clock.now = opened + timedelta(days=days)
        w.tell()
    assert len(gw.sms) == 1
    assert not any("上报" in m for m in w.told(w.city)[told_city:])
    with Session(w.app.engine) as s:
        texts = [n.body for n in s.exec(select(Notification)).all()]
    assert not any(p in t for t in texts for p in DUTY + LEADER)  # phones never kept

    # the finding's page tells it all, before and after side by side
    page = w.user("duty_qx", "duty", "qx").get(f"/findings/{veto.id}").text
    before, after = page.split("整改前：发现问题的快照")[1].split("整改后：复查通过的快照")
    assert "森林防火工作会议" in before and "冬季安全生产大检查" not in before
    assert "冬季安全生产大检查" in after.split("</div>")[0]
    story = page.split("<h2>经过</h2>")[1]
    for said in ("通知问题", "第 2 级（问题出现 2 小时后）：已通知值班手机（短信）", "单位已整改",
                 "已发布冬季安全生产最新动态", "复查通过", "问题解决"):  # fmt: skip
        assert said in story, said
