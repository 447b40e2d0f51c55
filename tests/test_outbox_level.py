"""A message's level (what a robot colours it by) is worked out once, when its outbox row is
written (``notification.level``), and sent as written; a row from before that column has it
worked out when sent, as it was then (issue 28: the level worked out twice)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select, update

from alerts.notice import Message
from monitor.alerting import compose, direct
from monitor.alerting.settings import AlertingSettings
from monitor.store.engine import session_scope
from monitor.store.models import Notification
from tests.conftest import add_account, open_app
from tests.robots import FeishuRobot
from tests.test_alerting import Clock, add_duty_unit, open_finding, settings_for, tick


def test_a_message_is_sent_with_the_level_written_on_its_row(tmp_path: Path) -> None:
    clock = Clock()
    with FeishuRobot(secret="feishu-secret", clock=clock) as robot:
        app = open_app(settings_for(tmp_path, origins={"feishu": robot.origin}))
        slice_ = AlertingSettings.of(app.settings)
        add_duty_unit(app, [robot.apprise_url()], [])
        add_account(app, "a", "qx", "http://127.0.0.1:9/", name="青溪发布")
        add_account(app, "b", "qx", "http://127.0.0.1:9/", name="青溪融媒")

        open_finding(app, "b", severity="warning", now=clock())
        assert compose.compose(app.engine, slice_, clock()) == 1
        with Session(app.engine) as s:
            assert [n.level for n in s.exec(select(Notification))] == ["warning"]
        with session_scope(app.engine) as s:  # sent as written, not worked out again
            s.execute(update(Notification).values(level="info"))
        tick(app, clock)

        open_finding(app, "a", now=clock())  # a veto, its row as an earlier version left it
        assert compose.compose(app.engine, slice_, clock()) == 1
        with session_scope(app.engine) as s:
            s.execute(
                update(Notification).where(Notification.status == "pending").values(level=None)
            )
        tick(app, clock)
        assert [r["card"]["header"]["template"] for r in robot.requests()] == ["blue", "red"]

        with session_scope(app.engine) as s:
            for event in ("channel_broken", "channel_recovered"):
                direct.write(
                    s, slice_, channel="@ops", unit_code="ops", kind="ops", event=event,
                    message=Message(title=event, markdown=event, text=event),
                    dedup_key=event, now=clock(),
                )  # fmt: skip
        with Session(app.engine) as s:
            ops = {n.event: n.level for n in s.exec(select(Notification)) if n.kind == "ops"}
        assert ops == {"channel_broken": "failure", "channel_recovered": "success"}
        app.close()
