"""Running as a system service: sd_notify, self-watch, retention, metrics, systemd units."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.config import Settings
from monitor.demo.receivers import WebhookSink
from monitor.service import metrics, retention, selfwatch
from monitor.store.blobs import BlobStore
from monitor.store.engine import make_engine, session_scope
from monitor.store.models import Finding, FindingEvent, Notification, Snapshot
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.test_daemon import REPO, query, start, stop, wait_until

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai


class NotifySocket:
    """A unix datagram socket standing in for systemd's, recording every message."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="xn-", dir="/tmp")  # AF_UNIX paths are short
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)

    def count(self, key: str) -> int:
        return sum(1 for m in self.messages if key in m)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


def service_config(tmp: Path, *, browser: str, ops_url: str = "", extra: str = "") -> Path:
    cfg = tmp / "xuncha.toml"
    ops = '["@ops"]' if ops_url else "[]"
    cfg.write_text(
        f"""
data_dir = "{tmp}"
node_name = "node-s"
[alerts]
dispatch_interval_seconds = 1
retry_base_seconds = 1
ops_channels = {ops}
[channels]
ops = "{ops_url}"
[browser]
executable = "{browser}"
[selfwatch]
interval_seconds = 1
min_free_mb = 0
browser_timeout_seconds = 10
[metrics]
port = 0
[service]
status_interval_seconds = 0.5
[logging]
format = "json"
{extra}
""",
        encoding="utf-8",
    )
    return cfg


def fake_browser(path: Path, ok: bool = True) -> Path:
    """A stand-in for Chromium that answers ``--dump-dom`` like the real one."""
    body = 'echo "<html><head></head><body></body></html>"' if ok else "exit 21"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def init_db(tmp: Path) -> None:
    open_app(make_settings(tmp)).close()


def test_run_under_systemd_notify_ready_watchdog_stopping(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    init_db(tmp_path)
    cfg = service_config(tmp_path, browser=str(fake_browser(tmp_path / "chromium")))
    log = tmp_path / "run.log"
    proc = start(cfg, log, NOTIFY_SOCKET=notify_socket.path, WATCHDOG_USEC="600000")
    try:
        wait_until(lambda: notify_socket.count("READY") == 1, 30, "READY=1", proc)
        ready = next(m for m in notify_socket.messages if "READY" in m)
        assert ready["MAINPID"] == str(proc.pid)
        assert ready["STATUS"].startswith("patrolling")
        seen = notify_socket.count("WATCHDOG")
        wait_until(lambda: notify_socket.count("WATCHDOG") >= seen + 4, 15, "watchdog pings", proc)
        assert notify_socket.count("STATUS") >= 2  # status is refreshed, not said once

        # the metrics endpoint answers while the patrol runs
        port = next(
            json.loads(line)["port"]
            for line in log.read_text().splitlines()
            if '"metrics_serving"' in line
        )
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        assert b'xuncha_scheduler_lag_seconds_count{task="selfwatch"}' in text
        assert b"xuncha_event_loop_lag_seconds" in text
        assert b'xuncha_outbox_messages{status="pending"}' in text
        assert b"xuncha_database_up 1.0" in text
        assert b"xuncha_checks_awaiting_write 0.0" in text  # the recorder's backlog
        assert b"xuncha_writer_process_starts_total" in text
    finally:
        code = stop(proc)
    assert code == 0
    wait_until(lambda: notify_socket.count("STOPPING") == 1, 5, "STOPPING=1")
    stopping = notify_socket.messages.index(
        next(m for m in notify_socket.messages if "STOPPING" in m)
    )
    assert stopping > 0 and "READY" not in notify_socket.messages[stopping]
    assert "Traceback" not in log.read_text()


def test_run_in_foreground_without_systemd(tmp_path: Path) -> None:
    init_db(tmp_path)
    cfg = service_config(tmp_path, browser=str(fake_browser(tmp_path / "chromium")))
    log = tmp_path / "run.log"
    proc = start(cfg, log)
    wait_until(lambda: "patrol_started" in log.read_text(), 30, "started", proc)
    assert stop(proc) == 0


def test_broken_browser_one_ops_alert_then_one_recovery(tmp_path: Path) -> None:
    init_db(tmp_path)
    with WebhookSink() as sink:
        cfg = service_config(
            tmp_path, browser=str(tmp_path / "no-such-chromium"), ops_url=sink.apprise_url()
        )
        log = tmp_path / "run.log"
        proc = start(cfg, log)
        try:
            wait_until(lambda: len(sink.messages) >= 1, 40, "ops alert", proc)
            time.sleep(4)  # several more self-watch rounds: still one message
            assert len(sink.messages) == 1
            assert "浏览器无法启动" in sink.messages[0].json["title"]
            assert "no-such-chromium" in sink.messages[0].json["message"]

            # ops fix the path and reload
            good = fake_browser(tmp_path / "chromium")
            cfg.write_text(cfg.read_text().replace(str(tmp_path / "no-such-chromium"), str(good)))
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: len(sink.messages) >= 2, 40, "recovery notice", proc)
            time.sleep(4)
            assert len(sink.messages) == 2
            assert "恢复" in sink.messages[1].json["title"]
        finally:
            assert stop(proc) == 0

        # a restart neither repeats the alert nor the recovery
        log2 = tmp_path / "run2.log"
        proc = start(cfg, log2)
        try:
            wait_until(lambda: "patrol_started" in log2.read_text(), 60, "restarted", proc)
            time.sleep(4)  # several self-watch rounds
        finally:
            assert stop(proc) == 0
        assert len(sink.messages) == 2
    db = tmp_path / "xuncha.db"
    assert query(db, "select count(*) from notification where unit_code='ops'") == [(2,)]


def test_selfwatch_state_survives_restarts(settings: Settings) -> None:
    settings.alerts.ops_channels = ["json://127.0.0.1:9/ops"]
    open_app(settings).close()
    bad = [selfwatch.CheckResult("browser", False, "坏了")]
    good = [selfwatch.CheckResult("browser", True)]
    for results, expect in [(bad, ["browser:problem"]), (bad, []), (good, ["browser:recovered"])]:
        engine = make_engine(settings.database_url)  # a fresh engine: a restarted process
        assert selfwatch.record(settings, engine, results, NOW) == expect
        engine.dispose()
    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        events = [n.event for n in s.exec(select(Notification))]
    assert events == ["ops_problem", "ops_recovered"]


def test_blocked_platform_is_a_problem(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, selfwatch={"blocked_min_accounts": 3})
    app = open_app(settings)
    add_unit(app, "u1")
    for i in range(4):
        add_account(app, f"a{i}", "u1", f"http://127.0.0.1:9/{i}")
    with session_scope(app.engine) as s:
        for i in range(4):
            s.add(Snapshot(account_id=f"a{i}", outcome="ok"))
            s.add(Snapshot(account_id=f"a{i}", outcome="blocked" if i else "ok"))
    with Session(app.engine) as s:
        [r] = selfwatch.check_blocked(s, settings.selfwatch)
    assert r.key == "blocked:weibo" and not r.ok and "4 个账号中有 3 个" in r.detail
    app.close()


def test_browser_check_reports_plainly(tmp_path: Path) -> None:
    ok, detail = selfwatch.browser_starts(tmp_path / "missing", 5)
    assert not ok and "不存在" in detail
    ok, detail = selfwatch.browser_starts(fake_browser(tmp_path / "bad", ok=False), 5)
    assert not ok and "退出码 21" in detail
    assert selfwatch.browser_starts(fake_browser(tmp_path / "good"), 5) == (True, "")


def test_real_chromium_starts_when_installed() -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium on this machine")
    ok, detail = selfwatch.browser_starts(chromium, 60)
    assert ok, detail


def test_retention_keeps_evidence_and_changes_thins_the_rest(settings: Settings) -> None:
    settings.retention.thin_after_days, settings.retention.keep_one_per_hours = 30, 0
    app = open_app(settings)
    add_unit(app, "u1")
    add_account(app, "a1", "u1", "http://127.0.0.1:9/a1")
    store = BlobStore(settings.blob_path)
    old = NOW - timedelta(days=60)
    # hashes over 10 hourly snapshots: A A A B B B A A A A (changes at 0, 3, 6)
    hashes = "AAABBBAAAA"
    ids: list[int] = []
    with session_scope(app.engine) as s:
        for i, h in enumerate(hashes):
            digest = store.put(f"page {i}".encode())
            snap = Snapshot(
                account_id="a1",
                outcome="ok",
                taken_at=old + timedelta(hours=i),
                facts_hash=h,
                artifacts=[{"kind": "body", "sha256": digest, "size": 6}],
            )
            s.add(snap)
            s.flush()
            assert snap.id is not None
            ids.append(snap.id)
        f = Finding(
            account_id="a1",
            kind="stale",
            severity="high",
            first_snapshot_id=ids[1],
            last_snapshot_id=ids[4],
        )
        s.add(f)
        s.flush()
        assert f.id is not None
        s.add(FindingEvent(finding_id=f.id, event="updated", snapshot_id=ids[7]))
        # a recent unchanged one is not old enough to thin
        s.add(Snapshot(account_id="a1", outcome="ok", facts_hash="A", taken_at=NOW))

    stats = retention.thin_snapshots(app.engine, settings.retention, now=NOW)
    with Session(app.engine) as s:
        left = [x.id for x in s.exec(select(Snapshot).order_by(Snapshot.id))]
    kept_old = [i for i in left if i in ids]
    # changes (0, 3, 6), evidence (1, 4, 7); 2, 5, 8, 9 thinned (the newest is the recent one)
    assert kept_old == [ids[0], ids[1], ids[3], ids[4], ids[6], ids[7]]
    assert stats.deleted == 4 and len(left) == 7
    # a second pass finds nothing more to do
    assert retention.thin_snapshots(app.engine, settings.retention, now=NOW).deleted == 0

    removed = retention.collect_blobs(app.engine, store, grace=timedelta(0))
    assert removed == 4
    for sid in kept_old:
        with Session(app.engine) as s:
            snap = s.get(Snapshot, sid)
            assert snap is not None
            assert store.get(snap.artifacts[0]["sha256"])
    if app.engine.dialect.name == "sqlite":
        out = retention.incremental_vacuum(app.engine, 100)
        assert out["auto_vacuum"] == 2  # new databases compact incrementally
    app.close()


def test_retention_keeps_one_per_period(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retention={"thin_after_days": 1, "keep_one_per_hours": 24})
    app = open_app(settings)
    add_unit(app, "u1")
    add_account(app, "a1", "u1", "http://127.0.0.1:9/a1")
    start_at = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(app.engine) as s:
        for i in range(72):  # three days hourly, nothing changes
            s.add(
                Snapshot(
                    account_id="a1", outcome="ok", taken_at=start_at + timedelta(hours=i),
                    facts_hash="A",
                )
            )  # fmt: skip
    retention.thin_snapshots(app.engine, settings.retention)
    with Session(app.engine) as s:
        left = list(s.exec(select(Snapshot.taken_at).order_by(Snapshot.id)))
    # one a day, plus the account's newest
    assert [t.day for t in left] == [1, 2, 3, 3]
    app.close()


def test_metrics_endpoint_serves_counters(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = open_app(settings)
    metrics.bind_database(app.engine)
    server = metrics.serve("127.0.0.1", 0)
    labels = {"platform": "weibo", "outcome": "blocked"}
    before = metrics.REGISTRY.get_sample_value("xuncha_probes_total", labels) or 0.0
    try:
        metrics.observe_probe("weibo", "blocked", 1.5)
        metrics.observe_probe("weibo", "blocked", 0.1)  # the kept child: counted on the page too
        metrics.BROWSER_IN_USE.set(2)
        port = server.server_port
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()
        app.close()
    assert f'xuncha_probes_total{{outcome="blocked",platform="weibo"}} {before + 2}' in text
    assert 'xuncha_probe_duration_seconds_bucket{le="2.0",platform="weibo"}' in text
    assert "xuncha_browser_pages_in_use 2.0" in text
    assert "xuncha_delivery_failures_total 0.0" in text


def test_secrets_in_channel_urls_are_never_logged(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    from monitor.service.logs import register_secrets, setup_logging

    setup_logging("info", "json")
    register_secrets(["dingtalk://SECRETKEY@TOKEN1234567/"])
    structlog.get_logger("t").info(
        "sending", url="dingtalk://SECRETKEY@TOKEN1234567/", note="via wecombot://WECOMKEY999"
    )
    err = capsys.readouterr().err
    assert "SECRETKEY" not in err and "TOKEN1234567" not in err and "WECOMKEY999" not in err
    assert "dingtalk://" in err


def test_token_urls_are_masked_with_no_channel_registered(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scrubber's shortcut for lines without URLs must not skip one that has them."""
    import structlog

    from monitor.service import logs

    monkeypatch.setattr(logs, "_secrets", set())
    logs.setup_logging("info", "json")
    structlog.get_logger("t").info(
        "fetch_failed", url="https://gov.example.cn/list?token=QUERYSECRET1", n=3, none=None,
        page="https://gov.example.cn/news/", hops=["json://127.0.0.1:9/hook/PATHSECRET2"],
    )  # fmt: skip
    err = capsys.readouterr().err
    assert "QUERYSECRET1" not in err and "PATHSECRET2" not in err
    assert '"page": "https://gov.example.cn/news/"' in err and '"n": 3' in err


def test_library_warnings_are_scrubbed_too(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from monitor.service.logs import register_secrets, setup_logging

    setup_logging("info", "json")
    register_secrets(["gotify://gotify.example.gov.cn/GOTIFYTOKEN1"])
    logging.getLogger("apprise").warning(
        "failed %s; url: /GOTIFYTOKEN1 and %s", "json://127.0.0.1:9/hook/PATHSECRET1", 3
    )
    err = capsys.readouterr().err
    assert "GOTIFYTOKEN1" not in err and "PATHSECRET1" not in err
    assert "json://127.0.0.1:9/hook/***" in err and "and 3" in err


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    # verify needs the executables the unit names to exist: point them at this python's xuncha
    unit = (REPO / "systemd" / "xuncha.service").read_text()
    xuncha = shutil.which("xuncha") or sys.executable
    (tmp_path / "xuncha.service").write_text(unit.replace("/usr/local/bin/xuncha", xuncha))
    r = subprocess.run(
        [analyze, "verify", str(tmp_path / "xuncha.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [line for line in (r.stdout + r.stderr).splitlines() if "xuncha.service" in line]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr


def doctor(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_doctor_checks_browser_and_channels_and_sends_with_send(tmp_path: Path) -> None:
    init_db(tmp_path)
    with WebhookSink() as sink:
        cfg = service_config(
            tmp_path, browser=str(fake_browser(tmp_path / "chromium")), ops_url=sink.apprise_url()
        )
        r = doctor(cfg)
        assert "浏览器可以启动" in r.stdout
        assert "1 个通知渠道格式正确" in r.stdout
        assert not sink.messages  # nothing is sent without --send
        r = doctor(cfg, "--send")
        assert "通知渠道 @ops 可送达" in r.stdout, r.stdout
        assert len(sink.messages) == 1 and "测试" in sink.messages[0].json["title"]

    cfg = service_config(tmp_path, browser=str(tmp_path / "nope"), ops_url="notaurl")
    r = doctor(cfg)
    assert r.returncode == 1
    assert "浏览器程序" in r.stdout and "不存在" in r.stdout
    assert "无法识别" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_doctor_send_never_shows_a_secret_in_the_url_path(tmp_path: Path) -> None:
    init_db(tmp_path)
    browser = str(fake_browser(tmp_path / "chromium"))
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with WebhookSink() as sink:
        for port, said in ((sink.port, "可送达"), (closed, "发送失败")):
            url = f"json://127.0.0.1:{port}/hook/SECRETVALUE"
            r = doctor(service_config(tmp_path, browser=browser, ops_url=url), "--send")
            assert f"通知渠道 @ops {said}" in r.stdout, r.stdout
            assert "SECRETVALUE" not in r.stdout + r.stderr, r.stdout + r.stderr
        assert f"json://127.0.0.1:{closed}/hook/***" in r.stdout  # where it failed, masked
        assert [m.path for m in sink.delivered] == ["/hook/SECRETVALUE"]


def test_doctor_tries_the_evidence_store_of_either_backend(tmp_path: Path) -> None:
    init_db(tmp_path)
    browser = str(fake_browser(tmp_path / "chromium"))
    r = doctor(service_config(tmp_path, browser=browser))
    assert f"证据存储可写可读（目录 {tmp_path / 'blobs'}）" in r.stdout, r.stdout
    # it cleans up after itself: no evidence of its own is left behind
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]

    r = doctor(service_config(tmp_path, browser=browser, extra='[blobs]\nbackend = "database"'))
    assert "证据存储可写可读（数据库的 blob 表" in r.stdout, r.stdout
    assert query(tmp_path / "xuncha.db", "select count(*) from blob") == [(0,)]

    (tmp_path / "taken").write_text("a file where the evidence directory should be")
    taken = f'[blobs]\ndir = "{tmp_path}/taken"'
    r = doctor(service_config(tmp_path, browser=browser, extra=taken))
    assert r.returncode == 1
    assert f"证据存储（目录 {tmp_path / 'taken'}）不可用" in r.stdout, r.stdout
    assert "Traceback" not in r.stdout + r.stderr
