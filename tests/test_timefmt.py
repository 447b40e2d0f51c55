"""One zone, one format: how times are shown to people (monitor.timefmt) and to programs.

Fixed instants only: nothing here depends on the hour or the date the suite runs at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from monitor import timefmt
from monitor.alerting.deliver import _recovered
from monitor.alerting.settings import AlertingSettings
from monitor.store.engine import session_scope
from monitor.store.models import ChannelState, Notification
from tests.conftest import make_settings, open_app

AT = datetime(2026, 12, 4, 1, 11, 5, 250000, tzinfo=UTC)  # 09:11:05 in Beijing


def test_shown_and_iso() -> None:
    assert timefmt.shown(AT) == "2026-12-04 09:11"
    assert timefmt.shown(AT, seconds=True) == "2026-12-04 09:11:05"
    assert timefmt.iso(AT) == "2026-12-04T09:11:05+08:00"  # to the second, with the offset
    assert timefmt.iso(AT, "UTC") == "2026-12-04T01:11:05+00:00"
    assert timefmt.shown(AT.replace(tzinfo=None)) == "2026-12-04 09:11"  # naive is UTC
    assert timefmt.shown(None) == "—" and timefmt.iso(None) is None
    # the zone decides the day: 17:30 UTC is the next morning in Beijing
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert timefmt.shown(late) == "2027-01-01 01:30"
    assert timefmt.local_date(late) == datetime(2027, 1, 1).date()


def test_times_inside_stored_json_are_shown_locally_and_left_stored() -> None:
    evidence = {
        "latest_post_at": "2026-12-04T01:11:05+00:00",
        "rules": [{"deadline": "2026-12-18T15:59:59Z", "days": 14}],
        "last_post_day": "2026-12-04",  # a day is not an instant
        "page_time": "2026-12-04 09:11",  # no offset: not known to be UTC, shown as it is
        "note": "2026-12-04T01:11:05+00:00 之后未更新",  # text around a time: text
    }
    before = repr(evidence)
    assert timefmt.shown_in(evidence) == {
        "latest_post_at": "2026-12-04 09:11",
        "rules": [{"deadline": "2026-12-18 23:59", "days": 14}],
        "last_post_day": "2026-12-04",
        "page_time": "2026-12-04 09:11",
        "note": "2026-12-04T01:11:05+00:00 之后未更新",
    }
    assert repr(evidence) == before  # a copy: the stored evidence is never changed
    assert timefmt.parse("2026-12-04T01:11:05") == AT.replace(microsecond=0)  # stored naive
    assert timefmt.parse("不是时间") is None and timefmt.parse(None) is None  # type: ignore[arg-type]


def test_zone_label() -> None:
    assert timefmt.zone_label("Asia/Shanghai") == "北京时间"
    assert timefmt.zone_label("Asia/Urumqi") == "Asia/Urumqi 时间"


def test_a_recovered_channel_says_since_when_in_local_time(tmp_path: Path) -> None:
    """The ops notice for a channel back in service: local time, not "… UTC"."""
    settings = make_settings(
        tmp_path,
        channels={"ops": "json://127.0.0.1:9/ops", "gy": "json://127.0.0.1:9/gy"},
        alerts={"ops_channels": ["@ops"]},
    )
    app = open_app(settings)
    try:
        now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
        with session_scope(app.engine) as s:
            state = ChannelState(key="k", channel="@gy", broken_since=AT, broken_error="410")
            row = Notification(
                dedup_key="x", unit_code="gy", channel="@gy", channel_key="k", event="opened"
            )
            s.add(state)
            s.add(row)
            s.flush()
            _recovered(s, AlertingSettings.of(settings), state, row, now)
        with Session(app.engine) as s:
            notice = s.exec(
                select(Notification).where(Notification.event == "channel_recovered")
            ).one()
        assert "自 2026-12-04 09:11 起不可用" in notice.body and "UTC" not in notice.body
    finally:
        app.close()
