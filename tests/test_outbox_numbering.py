"""A message is numbered when it is sent (``monitor.alerting.deliver.Outgoing.body``)."""

from __future__ import annotations

from alerts.messages import REF_SLOT
from monitor.alerting.deliver import Outgoing, SendPlan
from monitor.store.models import Notification


def row(body: str, unit: str = "qx") -> Notification:
    return Notification(
        id=7, dedup_key="k", unit_code=unit, channel="@x", event="opened", body=body
    )


def test_ops_read_the_number_last_a_unit_where_it_is_asked_to_reply_an_sms_nowhere() -> None:
    assert Outgoing(row("断了", "ops"), False, SendPlan(ops=True)).body() == "断了\n\n消息编号 #7"
    unit = Outgoing(row(f"请回复{REF_SLOT}"), False, SendPlan()).body()
    assert unit == "请回复（本消息编号 #7）"
    assert Outgoing(row("短信", "qx"), False, SendPlan(numbered=False)).body() == "短信"


def test_a_row_numbered_when_written_by_an_earlier_version_is_not_numbered_twice() -> None:
    old = "断了\n\n消息编号 #7"
    assert Outgoing(row(old, "ops"), False, SendPlan(ops=True)).body() == old
