"""The escalation ladder reaches a person, and a messenger is one registered module.

Through the real dispatcher, the real DingTalk stand-in, a JSON webhook and an SMS gateway
on 127.0.0.1 (``tests/robots.py``), on a simulated clock that starts at a fixed instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

from alerts.ladder import step_line
from alerts.messengers import Delivery, Messenger, Verdict, register, unregister
from alerts.messengers.sms import segments, short_text
from alerts.notice import FindingNotice
from monitor.app import App
from monitor.config import Settings
from monitor.demo.receivers import WebhookSink
from monitor.store.engine import session_scope
from monitor.store.findings import acknowledge
from monitor.store.models import FindingEvent, Notification, Unit
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.robots import DingTalkRobot, SmsGateway
from tests.test_alerting import Clock, open_finding, tick

DUTY = ["13800138000", "13800138001"]
LEADER = ["13900139000"]
CONSOLE = "https://xc.gov.cn"
SAID = "【巡查】青溪县人民政府办公室 青溪发布 单项否决：长期未更新，请登录查看"
VETO_LADDER = {
    "steps": [
        {"after": "0h", "to": "unit"},
        {"after": "2h", "to": "duty_sms"},
        {"after": "2d", "to": "leader_sms"},
        {"after": "3d", "to": "supervisor"},
    ]
}


def ladder_app(
    tmp: Path, robot: DingTalkRobot, gw: SmsGateway, city: WebhookSink, *, form: bool = False,
    **alerts: Any,
) -> App:  # fmt: skip
    """青溪县 (a DingTalk robot, 值班手机 and 负责人手机) under 云岭市 (a JSON webhook), one
    account, SMS through ``gw``, and the veto ladder of the docs."""
    settings = make_settings(
        tmp,
        channels={"sms": gw.url(form=form)},
        alerts={
            "origins": {"dingtalk": robot.origin},
            "console_url": CONSOLE,
            "sms_channel": "@sms",
            "repeat_minutes": 0,
            "ladder": {"veto": VETO_LADDER},
            **alerts,
        },
    )
    app = open_app(settings)
    add_unit(app, "city", "云岭市人民政府办公室", channels=[city.apprise_url()])
    with session_scope(app.engine) as s:
        s.add(
            Unit(
                code="qx",
                name="青溪县人民政府办公室",
                parent_code="city",
                channels=[robot.apprise_url()],
                duty_mobiles=DUTY,
                leader_mobiles=LEADER,
            )
        )
    add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
    return app


def steps_of(app: App, fid: int) -> list[dict[str, Any]]:
    with Session(app.engine) as s:
        rows = s.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == fid, FindingEvent.event == "ladder_step")
            .order_by(col(FindingEvent.id))
        ).all()
        return [r.detail for r in rows]


def at(clock: Clock, opened: datetime, app: App, **since: float) -> None:
    """Move the clock to ``since`` after the opening and run one dispatcher pass."""
    clock.now = opened + timedelta(**since)
    tick(app, clock)


def test_unacknowledged_veto_climbs_to_the_duty_phone_the_leader_and_the_supervisor(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot, SmsGateway(clock) as gw, WebhookSink() as city:
        app = ladder_app(tmp_path, robot, gw, city)
        opened = clock()
        fid = open_finding(app, "a", now=opened)
        tick(app, clock)
        assert len(robot.accepted) == 1 and robot.accepted[0].at_mobiles == DUTY  # the unit
        assert [d["to"] for d in steps_of(app, fid)] == ["unit"]

        at(clock, opened, app, hours=1, minutes=59)
        assert gw.sms == []  # not yet
        at(clock, opened, app, hours=2)
        (sms,) = gw.sms
        assert sms.accepted and sms.phones == DUTY
        assert sms.text == f"{SAID} {CONSOLE}/findings/{fid}" and segments(sms.text) == 1
        assert sms.fields["account"] == "xuncha" and sms.headers["X-Token"] == "t0ken"

        at(clock, opened, app, days=1, hours=23)
        assert len(gw.sms) == 1 and city.delivered == []
        at(clock, opened, app, days=2)
        assert [m.phones for m in gw.delivered] == [DUTY, LEADER]  # the responsible leader
        assert city.delivered == []

        at(clock, opened, app, days=3)
        (up,) = city.delivered  # the supervisor
        assert "上报" in up.json["title"] and "青溪发布" in up.json["message"]
        assert "3 天内未确认也未整改" in up.json["message"]

        for day in (4, 5):  # each step once
            at(clock, opened, app, days=day)
        assert len(gw.sms) == 2 and len(city.delivered) == 1
        steps = steps_of(app, fid)
        assert [(d["step"], d["to"], d["sent"]) for d in steps] == [
            (1, "unit", True),
            (2, "duty_sms", True),
            (3, "leader_sms", True),
            (4, "supervisor", True),
        ]
        assert steps[1]["channel"] == "@sms" and steps[3]["units"] == ["city"]
        assert [step_line(d) for d in steps] == [  # as the finding's timeline says them
            "第 1 级（问题出现时）：已通知主办单位（已随问题通知发出）",
            "第 2 级（问题出现 2 小时后）：已通知值班手机（短信），经 @sms",
            "第 3 级（问题出现 2 天后）：已通知负责人手机（短信），经 @sms",
            "第 4 级（问题出现 3 天后）：已通知主管单位",
        ]
        with Session(app.engine) as s:
            outbox = s.exec(select(Notification).where(Notification.kind == "sms")).all()
            assert {n.status for n in outbox} == {"sent"}
            assert all(
                not any(p in n.body for p in DUTY + LEADER) for n in outbox
            )  # no phones kept
        app.close()


def test_acknowledging_stops_the_ladder(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot, SmsGateway(clock) as gw, WebhookSink() as city:
        app = ladder_app(tmp_path, robot, gw, city)
        opened = clock()
        fid = open_finding(app, "a", now=opened)
        tick(app, clock)
        at(clock, opened, app, hours=2)
        assert len(gw.sms) == 1
        clock.now = opened + timedelta(hours=3)
        with session_scope(app.engine) as s:
            acknowledge(s, fid, by="值班员张三", note="已安排今日更新", now=clock())
        for day in (2, 3, 4):
            at(clock, opened, app, days=day)
        assert len(gw.sms) == 1 and city.delivered == []  # no leader, no supervisor
        assert [d["to"] for d in steps_of(app, fid)] == ["unit", "duty_sms"]
        app.close()


def test_quiet_hours_delay_a_non_veto_step_and_not_a_veto_step(tmp_path: Path) -> None:
    """21:30 in Shanghai a veto and a high finding open; quiet hours 22:00-07:30. The veto's
    SMS goes out at 22:30, the other's waits for 07:30."""
    evening = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 21:30 Asia/Shanghai
    clock = Clock(evening)
    one_hour = {"steps": [{"after": "0h", "to": "unit"}, {"after": "1h", "to": "duty_sms"}]}
    with DingTalkRobot(clock=clock) as robot, SmsGateway(clock) as gw, WebhookSink() as city:
        app = ladder_app(
            tmp_path, robot, gw, city, quiet_hours="22:00-07:30",
            ladder={"veto": one_hour, "high": one_hour},
        )  # fmt: skip
        add_account(app, "b", "qx", "http://127.0.0.1:9/", name="青溪政务")
        veto = open_finding(app, "a", now=evening)
        high = open_finding(app, "b", kind="commercial", severity="high", now=evening)
        tick(app, clock)
        assert len(robot.accepted) >= 1  # openings are told at once, quiet or not
        at(clock, evening, app, hours=1)  # 22:30
        assert [s.text.split()[1] for s in gw.sms] == ["青溪发布"]  # the veto only
        assert "单项否决" in gw.sms[0].text
        at(clock, evening, app, hours=9, minutes=59)  # 07:29
        assert len(gw.sms) == 1 and [d["to"] for d in steps_of(app, high)] == ["unit"]
        at(clock, evening, app, hours=10, minutes=1)  # 07:31
        assert len(gw.sms) == 2 and "青溪政务" in gw.sms[1].text and "严重问题" in gw.sms[1].text
        assert [d["to"] for d in steps_of(app, high)] == ["unit", "duty_sms"]
        assert [d["to"] for d in steps_of(app, veto)] == ["unit", "duty_sms"]
        app.close()


def test_an_sms_step_that_cannot_reach_anyone_says_why_in_the_timeline(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot, SmsGateway(clock) as gw, WebhookSink() as city:
        app = ladder_app(tmp_path, robot, gw, city)
        with session_scope(app.engine) as s:
            unit = s.get(Unit, "qx")
            assert unit is not None
            unit.leader_mobiles = []
            s.add(unit)
        opened = clock()
        fid = open_finding(app, "a", now=opened)
        at(clock, opened, app, days=2)
        assert [m.phones for m in gw.sms] == [DUTY]
        leader = steps_of(app, fid)[2]
        assert leader["to"] == "leader_sms" and not leader["sent"]
        assert leader["note"] == "单位未登记负责人手机"
        assert step_line(leader) == (
            "第 3 级（问题出现 2 天后）：未能通知负责人手机（短信）：单位未登记负责人手机"
        )
        app.close()


def test_a_gateway_refusal_inside_http_200_holds_the_sms(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot, SmsGateway(clock) as gw, WebhookSink() as city:
        gw.refuse = (1003, "签名未报备")
        app = ladder_app(tmp_path, robot, gw, city)
        opened = clock()
        open_finding(app, "a", now=opened)
        at(clock, opened, app, hours=2)
        assert len(gw.sms) == 1 and gw.delivered == []
        with Session(app.engine) as s:
            (n,) = s.exec(select(Notification).where(Notification.kind == "sms")).all()
            assert n.status == "held"
            assert "短信网关拒绝了该短信（code=1003：签名未报备）" in n.last_error
            assert "t0ken" not in n.last_error
        app.close()


def test_a_form_gateway_gets_its_fields_as_a_form(tmp_path: Path) -> None:
    clock = Clock()
    with DingTalkRobot(clock=clock) as robot, SmsGateway(clock) as gw, WebhookSink() as city:
        app = ladder_app(tmp_path, robot, gw, city, form=True)
        opened = clock()
        open_finding(app, "a", now=opened)
        at(clock, opened, app, hours=2)
        (sms,) = gw.delivered
        assert sms.phones == DUTY and sms.fields["mobiles"] == ",".join(DUTY)
        app.close()


def test_short_text_stays_one_segment_and_says_what_and_where() -> None:
    notice = FindingNotice(
        event="escalated", finding_id=7, account_id="a", account_name="青溪发布",
        unit_code="qx", unit_name="青溪县人民政府办公室", kind="stale",
        kind_label="长期未更新", severity="veto", title="已 15 天未更新",
        at=datetime(2026, 11, 24, tzinfo=UTC), platform="weibo",
        console_url=f"{CONSOLE}/findings/7",
    )  # fmt: skip
    text = short_text(notice)
    assert text == f"{SAID} {CONSOLE}/findings/7"
    assert len(text) <= 70 and segments(text) == 1 and segments("字" * 71) == 2


@pytest.mark.parametrize(
    ("ladder", "words"),
    [
        ({"veto": {"steps": [{"after": "2x", "to": "unit"}]}}, "不是时长"),
        (
            {"veto": {"steps": [{"after": "2d", "to": "unit"}, {"after": "2h", "to": "unit"}]}},
            "从早到晚",
        ),
        ({"critical": {"steps": []}}, "veto / high / warning"),
    ],
)
def test_a_ladder_written_wrong_is_refused_in_words(
    tmp_path: Path, ladder: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        make_settings(tmp_path, alerts={"ladder": ladder})
    with pytest.raises(ValidationError, match="HH:MM-HH:MM"):
        make_settings(tmp_path, alerts={"quiet_hours": "22-7"})
    with pytest.raises(ValidationError, match="需要短信渠道"):
        make_settings(tmp_path, alerts={"ladder": {"veto": VETO_LADDER}})


# -- a messenger is one module: one registered here, in the test, reaches a message -----------


class Pager(Messenger):
    """A messenger no other file knows: ``pager://desk`` posts the text to a local sink."""

    schemes = ("pager",)
    name = "寻呼台"
    body_format = "text"
    rate_per_minute = 3

    def __init__(self, sink: WebhookSink) -> None:
        self.sink = sink
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    async def send(self, d: Delivery) -> Verdict:
        import httpx

        async with httpx.AsyncClient(timeout=d.timeout) as client:
            r = await client.post(self.sink.url, json={"pager": d.url, "text": d.message.text})
        self.sent.append((d.message.text, tuple(d.mentions)))
        return Verdict(r.status_code == 200, error="" if r.status_code == 200 else "寻呼台拒收")


def test_a_messenger_registered_in_a_test_module_gets_a_message_delivered(tmp_path: Path) -> None:
    clock = Clock()
    with WebhookSink() as sink:
        pager = register(Pager(sink))
        try:
            settings: Settings = make_settings(tmp_path, alerts={"console_url": CONSOLE})
            assert settings.alerts.rate_limits["pager"] == 3  # its own rate, as a default
            app = open_app(settings)
            with session_scope(app.engine) as s:
                s.add(Unit(code="qx", name="青溪县", channels=["pager://desk"], duty_mobiles=DUTY))
            add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
            fid = open_finding(app, "a", now=clock())
            tick(app, clock)
            (got,) = sink.delivered
            assert got.json["pager"] == "pager://desk" and "青溪发布" in got.json["text"]
            assert "**" not in got.json["text"]  # the text body, as it declared
            assert pager.sent[0][1] == tuple(DUTY)  # who to ring, given to it
            with Session(app.engine) as s:
                (n,) = s.exec(select(Notification).where(Notification.finding_id == fid)).all()
                assert n.status == "sent"
            app.close()
        finally:
            unregister(pager)


def test_an_apprise_url_takes_the_phones_where_it_says_phones(tmp_path: Path) -> None:
    """An apprise SMS service names its recipients in the URL: ``{phones}`` there becomes the
    step's mobiles (here apprise's json:// to a local sink stands in for the service)."""
    clock = Clock()
    with (
        DingTalkRobot(clock=clock) as robot,
        SmsGateway(clock) as gw,
        WebhookSink() as city,
        WebhookSink() as service,
    ):
        app = ladder_app(
            tmp_path, robot, gw, city, sms_channel=service.apprise_url("/sms/{phones}")
        )
        opened = clock()
        fid = open_finding(app, "a", now=opened)
        at(clock, opened, app, hours=2)
        (got,) = service.delivered
        assert got.path == "/sms/" + "/".join(DUTY)
        assert got.json["message"] == f"{SAID} {CONSOLE}/findings/{fid}"  # text, not markdown
        assert gw.sms == []
        app.close()


def test_routes_test_shows_the_ladder(tmp_path: Path) -> None:
    """``xuncha routes test`` shows each step, its channel and how many phones it has."""
    from typer.testing import CliRunner

    from monitor.cli import app as cli

    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path}"\n'
        + """
[alerts]
escalate_immediately = []
sms_channel = "@sms"
quiet_hours = "22:00-07:30"
[alerts.ladder.high]
steps = [{after = "0h", to = "unit"}, {after = "2h", to = "duty_sms"},
         {after = "2d", to = "leader_sms"}, {after = "3d", to = "supervisor"}]
[channels]
sms = "sms+https://sms.gov.example/api/send?:account=x&+X-Token=s3cret"
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "init"]).exit_code == 0
    app = open_app(make_settings(tmp_path))
    add_unit(app, "city", "云岭市人民政府办公室", channels=["json://127.0.0.1:9/hook"])
    with session_scope(app.engine) as s:
        s.add(Unit(code="qx", name="青溪县", parent_code="city", channels=["json://127.0.0.1:9/q"],
                   duty_mobiles=DUTY))  # fmt: skip
    add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
    app.close()
    args = ["--config", str(cfg), "routes", "test", "--account", "a", "--severity", "high"]
    r = runner.invoke(cli, [*args, "--json"])
    assert r.exit_code == 0, r.output
    import json

    ladder = json.loads(r.output)["ladder"]
    assert [(s["to"], s.get("phones")) for s in ladder] == [
        ("unit", None),
        ("duty_sms", 2),
        ("leader_sms", 0),
        ("supervisor", None),
    ]
    assert ladder[3]["units"] == ["云岭市人民政府办公室"]
    r = runner.invoke(cli, args)
    assert "第 2 级 2 小时后 → 值班手机（短信），经 @sms，2 个号码" in r.output
    assert "第 3 级 2 天后 → 负责人手机（短信），经 @sms，0 个号码（未登记号码）" in r.output
    assert "免打扰时段 22:00-07:30" in r.output and "s3cret" not in r.output


def test_doctor_checks_the_ladders_sms_channel_and_sends_it_no_test(tmp_path: Path) -> None:
    from tests.test_service import doctor, fake_browser, init_db

    init_db(tmp_path)
    with SmsGateway(Clock()) as gw:
        cfg = tmp_path / "xuncha.toml"
        body = (
            f'data_dir = "{tmp_path}"\n[browser]\nexecutable = "{fake_browser(tmp_path / "c")}"\n'
        )
        ladder = '[alerts.ladder.veto]\nsteps = [{after = "2h", to = "duty_sms"}]\n'
        cfg.write_text(body + '[alerts]\nsms_channel = "@sms"\n' + ladder, encoding="utf-8")
        r = doctor(cfg)
        assert "短信渠道 @sms 未在配置 [channels] 中定义" in r.stdout, r.stdout
        cfg.write_text(
            body
            + '[alerts]\nsms_channel = "@sms"\n'
            + ladder
            + f'[channels]\nsms = "{gw.url()}"\n',
            encoding="utf-8",
        )
        r = doctor(cfg, "--send")
        assert "1 个通知渠道格式正确" in r.stdout, r.stdout
        assert gw.sms == [] and "t0ken" not in r.stdout  # no test SMS: to whom would it go?
