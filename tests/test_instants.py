"""The time-sensitive parts at fixed instants, whatever hour the suite runs at.

Each case sets the clock (``XUNCHA_CLOCK``, the same injected clock every command and the
daemon read) to one instant — the small hours, the morning a duty officer starts, a working
afternoon, a minute before midnight, a Sunday, a Sunday that is a make-up working day (调休),
New Year's Eve — and runs what depends on it as a newcomer would: the demo, then ``check``,
``history``, ``alerts outbox``, ``findings``, ``ack``, ``diff``, ``report`` and ``doctor``.
Whatever the instant, the demo tells its story, every new finding is told once and as new,
and what the commands show happened in the order it happened, never in the future.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from monitor.cli import app as cli
from monitor.report.period import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


INSTANTS = {
    "00:30": local(2026, 12, 8, 0, 30),  # a Tuesday, before anyone is at work
    "09:11": local(2026, 12, 7, 9, 11),  # a Monday morning: the hour main used to fail at
    "16:00": local(2026, 12, 8, 16, 0),  # a working afternoon
    "23:59": local(2026, 12, 8, 23, 59),
    "sunday": local(2026, 12, 6, 10, 0),
    "make-up day": local(2026, 9, 20, 17, 0),  # 周日，国庆节调休上班
    "new year's eve": local(2026, 12, 31, 23, 30),  # and 2027's arrangement is not known
}


# a command's clock starts at the instant it is given and runs on while it works
SLACK = timedelta(seconds=30)


def run(env_clock: datetime, *args: str) -> Result:
    env = {"XUNCHA_CLOCK": env_clock.isoformat(), "COLUMNS": "200"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def when(text: str | None) -> datetime:
    assert text, "a time was expected"
    t = datetime.fromisoformat(text)
    assert t.tzinfo is not None, f"{text} has no offset"
    return t


@pytest.fixture(params=list(INSTANTS), ids=list(INSTANTS))
def instant(request: pytest.FixtureRequest) -> datetime:
    return INSTANTS[request.param]


def test_the_demo_and_what_follows_stay_in_order(tmp_path: Path, instant: datetime) -> None:
    folder = tmp_path / "demo"
    r = run(instant, "demo", "--dir", str(folder))
    assert r.exit_code == 0, r.output
    assert "演示完成" in r.output and "告警接收端收到 3 条消息" in r.output
    cfg = str(folder / "xuncha.toml")

    later = instant + timedelta(minutes=10)
    findings: list[dict[str, Any]] = json.loads(run(later, "-c", cfg, "findings", "--json").output)
    assert {f["kind"] for f in findings} == {"stale", "stale_soon", "fetch_failed", "privacy"}
    checked_at = {when(f["opened_at"]) for f in findings}
    assert len(checked_at) == 1  # the demo's patrol, dated once
    demo_at = checked_at.pop()
    assert demo_at <= instant  # in the past: the demo never writes the future
    assert demo_at.astimezone(SHANGHAI).hour == 16

    outbox = json.loads(run(later, "-c", cfg, "alerts", "outbox", "--json").output)
    messages = outbox["messages"]
    assert len(messages) == 3 and all(m["status"] == "sent" for m in messages)
    for m in messages:  # told after the check that found it, sent after it was written
        assert demo_at <= when(m["created_at"]) <= when(m["sent_at"]) <= later
    assert not any("仍未整改" in m["title"] for m in messages)  # new findings, told once

    # the platform is gone now: the next check fails to fetch, and is the newest snapshot
    r = run(later, "-c", cfg, "check", "wx-qx", "--json")
    newest = json.loads(r.output)["snapshot"]
    assert later <= when(newest["taken_at"]) <= later + SLACK
    history = json.loads(run(later, "-c", cfg, "history", "wx-qx", "--json").output)
    snaps = history["snapshots"]
    assert [s["id"] for s in snaps] == sorted((s["id"] for s in snaps), reverse=True)
    times = [when(s["taken_at"]) for s in snaps]
    assert times == sorted(times, reverse=True)  # newest first, by id and by time alike
    assert snaps[0]["id"] == newest["id"]

    first, last = snaps[-1]["id"], snaps[0]["id"]
    r = run(later, "-c", cfg, "diff", str(first), str(last))
    assert r.exit_code == 0, r.output
    assert "晚于" not in r.output  # no "snapshot A is later than snapshot B" warning

    veto = next(f for f in findings if f["kind"] == "stale")
    acked_at = later + timedelta(minutes=5)
    r = run(acked_at, "-c", cfg, "ack", str(veto["id"]), "--note", "已通知运营人员")
    assert r.exit_code == 0, r.output
    after = json.loads(run(acked_at, "-c", cfg, "findings", "--json").output)
    acked = next(f for f in after if f["id"] == veto["id"])
    assert when(acked["opened_at"]) <= when(acked["acknowledged_at"]) <= acked_at + SLACK

    period = Period.containing(demo_at, "Asia/Shanghai")
    r = run(acked_at, "-c", cfg, "report", "--period", str(period), "--format", "json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    rows = report["vetoes"] + report["deductions"]
    assert rows and all(when(row["checked_at"]) <= acked_at + SLACK for row in rows)
    notes = " ".join(report["notes"])
    if when(report["end"]) > acked_at:
        stamp = acked_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        assert f"统计截至 {stamp}" in notes


def test_doctor_warns_of_next_years_calendar_until_new_year_is_near(
    tmp_path: Path, instant: datetime
) -> None:
    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n')
    assert run(instant, "-c", str(cfg), "init").exit_code == 0
    r = run(instant, "-c", str(cfg), "doctor")
    line = next(ln for ln in r.output.splitlines() if "工作日历" in ln)
    if instant.year == 2026 and (datetime(2027, 1, 1, tzinfo=SHANGHAI) - instant).days <= 14:
        assert line.startswith("需处理") and "2027" in line
        assert r.exit_code == 1
    else:
        assert line.startswith("注意") and "2027" in line
    assert "国务院办公厅关于2027年部分节假日安排的通知" in line
    assert "extra_files" in line and "docs/config.md" in line


def test_the_clock_variable_is_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n')
    for value, why in [("tomorrow morning", "ISO"), ("2026-12-07T09:11:00", "时区")]:
        r = CliRunner().invoke(cli, ["-c", str(cfg), "init"], env={"XUNCHA_CLOCK": value})
        assert r.exit_code == 2, r.output
        assert "XUNCHA_CLOCK" in r.output and why in r.output
