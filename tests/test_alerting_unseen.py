"""A problem that opened and closed while its channel was failing is told once when the
channel is back, as "已出现并已恢复" (issue 33): a leak visible for hours must reach the unit
even after it is gone. Its honest twins: a flap inside the group wait is still dropped, and
a problem still open when the channel recovers is told as new.

Through the real dispatcher and a local webhook receiver that answers 503 for a while
(``WebhookSink.down``), on the simulated clock of ``tests/test_alerting.py``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from monitor.alerting import enqueue
from monitor.app import App
from monitor.demo.receivers import WebhookSink
from monitor.store.engine import session_scope
from monitor.store.findings import reconcile
from monitor.store.models import Account, AlertItem, Finding, Notification, Snapshot, Unit
from tests.conftest import add_account, add_unit, open_app
from tests.test_alerting import REAL_PACING, Clock, finding_ids_in, open_finding, settings_for, tick


def clear(app: App, account_id: str, now: datetime) -> None:
    """The next snapshot of the account sees the problem no more: the finding resolves."""
    with session_scope(app.engine) as s:
        snap = Snapshot(account_id=account_id, taken_at=now, outcome="ok")
        s.add(snap)
        s.flush()
        assert snap.id is not None
        changes = reconcile(s, account_id, snap.id, [], content_seen=True, now=now)
        account = s.get(Account, account_id)
        assert account is not None and changes
        enqueue(s, app.settings, account, s.get(Unit, account.owner_code), changes, now=now)


def run_minutes(app: App, clock: Clock, minutes: int) -> None:
    for _ in range(minutes):
        tick(app, clock)
        clock.advance(minutes=1)


@pytest.fixture
def sink():
    with WebhookSink(fail_status=503) as s:
        yield s


def test_a_leak_that_came_and_went_during_an_outage_is_told_once_after(
    tmp_path: Path, sink: WebhookSink
) -> None:
    clock = Clock()
    app = open_app(settings_for(tmp_path, **REAL_PACING))
    add_unit(app, "qx", "青溪县", channels=[sink.apprise_url()])
    for a in ("first", "leak", "open", "flap"):
        add_account(app, a, "qx", "http://127.0.0.1:9/none", name=f"账号{a}")
    sink.down = True
    first = open_finding(app, "first", now=clock())  # its message fails: the channel is down
    run_minutes(app, clock, 5)
    leak = open_finding(app, "leak", kind="privacy", severity="high", now=clock())
    still = open_finding(app, "open", kind="commercial", severity="high", now=clock())
    run_minutes(app, clock, 90)  # visible for an hour and a half, the receiver down
    clear(app, "leak", clock())
    flap = open_finding(app, "flap", kind="commercial", severity="high", now=clock())
    clock.advance(seconds=20)
    clear(app, "flap", clock())  # opened and cleared inside its group wait: nobody needed it
    run_minutes(app, clock, 30)
    assert sink.messages and not sink.delivered  # tried all along, and down
    sink.down = False
    run_minutes(app, clock, 20)  # back: the retry comes within its backoff

    texts = [m.json["message"] for m in sink.delivered]
    titles = [m.json["title"] for m in sink.delivered]
    told = finding_ids_in(texts)
    assert sorted(told) == sorted([first, leak, still])  # each once; the flap never
    assert flap not in told
    group = next(t for t, x in zip(titles, texts, strict=True) if f"#{leak}" in x)
    body = texts[titles.index(group)]
    assert "已出现并已恢复" in group and "已出现并已恢复" in body
    assert "新问题" in group  # the one still open is told as new, in the same message
    line = next(ln for ln in body.splitlines() if "账号leak" in ln)
    assert "【已出现并已恢复】" in line
    with Session(app.engine) as s:
        items = s.exec(select(AlertItem).where(col(AlertItem.finding_id) == leak)).all()
        assert {i.event for i in items} == {"opened_resolved", "resolved"}
        assert {i.status for i in items} == {"sent"}  # both told, in one message
        assert len({i.notification_id for i in items}) == 1
        flap_items = s.exec(select(AlertItem).where(col(AlertItem.finding_id) == flap)).all()
        assert {i.status for i in flap_items} == {"skipped"}
        assert not s.exec(select(Notification).where(Notification.status != "sent")).all()
        assert s.get(Finding, leak).status == "resolved"  # type: ignore[union-attr]
    app.close()


def test_alone_it_is_one_message_that_says_when_it_came_and_went(
    tmp_path: Path, sink: WebhookSink
) -> None:
    clock = Clock()
    app = open_app(settings_for(tmp_path, **REAL_PACING))
    add_unit(app, "qx", "青溪县", channels=[sink.apprise_url()])
    add_account(app, "first", "qx", "http://127.0.0.1:9/none", name="青溪县政府")
    add_account(app, "leak", "qx", "http://127.0.0.1:9/none", name="青溪发布")
    sink.down = True
    open_finding(app, "first", now=clock())  # its message fails: the channel is down
    run_minutes(app, clock, 5)
    leak = open_finding(app, "leak", kind="privacy", severity="high", now=clock())
    run_minutes(app, clock, 180)
    clear(app, "leak", clock())
    run_minutes(app, clock, 5)
    sink.down = False
    run_minutes(app, clock, 20)
    assert len(sink.delivered) == 2  # the first, late; then this one, on its own
    msg = sink.delivered[1].json
    assert msg["title"].startswith("【已出现并已恢复】青溪发布")
    text = msg["message"]
    assert f"#{leak}" in text and "出现、之后已消失" in text
    for field in ("发现时间", "恢复时间", "持续"):
        assert field in text
    assert "3 小时" in text
    assert "整改期限" not in text and "如何确认" not in text  # nothing left to fix or ack
    assert msg["type"] == "warning"
    with Session(app.engine) as s:
        n = s.exec(select(Notification).order_by(col(Notification.id).desc())).first()
        # (not one of the events the duty officers' phones ring for)
        assert n is not None and n.event == "opened_resolved"
    app.close()
