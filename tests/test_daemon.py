"""``xuncha run`` as a process: crash safety, clean stop, reload."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.demo.receivers import WebhookSink
from monitor.store.blobs import BlobStore
from tests.conftest import add_account, add_unit, make_settings, open_app

N_ACCOUNTS = 24


@pytest.fixture
def platform() -> Iterator[SimulatedPlatform]:
    p = SimulatedPlatform().start()
    yield p
    p.stop()


def write_config(tmp: Path, sink_url: str) -> Path:
    cfg = tmp / "xuncha.toml"
    cfg.write_text(
        f"""
data_dir = "{tmp}"
node_name = "node-a"
[patrol]
default_interval_minutes = 1
jitter_seconds = 3
max_concurrency = 4
[http]
retries = 0
timeout_seconds = 10
[alerts]
dispatch_interval_seconds = 1
lease_seconds = 10
retry_base_seconds = 1
group_wait_seconds = 0
daily_digest_time = ""
weekly_digest_time = ""
[channels]
duty = "{sink_url}"
[logging]
format = "json"
""",
        encoding="utf-8",
    )
    return cfg


REPO = Path(__file__).resolve().parents[1]


def start(cfg: Path, log: Path, **env_extra: str) -> subprocess.Popen:
    """``xuncha run`` as its own process, free of this shell's xuncha and systemd variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XUNCHA_", "NOTIFY_", "WATCH"))}
    env.update(env_extra)
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env=env,
        cwd=REPO,
    )


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, and the exit code; a process still there after 30 s is killed."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()


def helpers_of(pid: int) -> set[int]:
    """The daemon's child processes (its writer process and multiprocessing's tracker)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out.update(int(c) for c in (task / "children").read_text().split())
    return out


def running(pid: int) -> bool:
    """Alive and not a zombie (PID 1 here may not reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def query(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def ids(db: Path, sql: str) -> set[str]:
    """Rows of a table the daemon may not have created yet (empty until it has)."""
    try:
        return {r[0] for r in query(db, sql)}
    except sqlite3.OperationalError:
        return set()


def due_in(db: Path, account: str) -> timedelta:
    """How far ahead the account's next check is (its account_state row; 0 if none yet)."""
    rows = query(db, f"select due_at, claimed_by from account_state where account_id = '{account}'")
    if not rows or rows[0][1] is not None:  # none yet, or being checked right now
        return timedelta(0)
    due = datetime.fromisoformat(rows[0][0]).replace(tzinfo=UTC)
    return due - datetime.now(UTC)


def wait_until(pred, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"xuncha run exited with {proc.returncode} while waiting: {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting: {what}")


def setup_patrol(
    tmp: Path,
    platform: SimulatedPlatform,
    sink: WebhookSink,
    n: int = N_ACCOUNTS,
    delay: float = 0.4,
) -> Path:
    now = datetime.now(UTC)
    settings = make_settings(tmp)
    app = open_app(settings)
    add_unit(app, "u1", "青溪县人民政府办公室", channels=["@duty"])
    for i in range(n):
        # half are silent for 20 days (an alert each), all answer slowly
        age = 20 if i % 2 else 0.1
        items = [Item(f"第{i}号账号的消息", now - timedelta(days=age))]
        platform.add(
            f"/f{i}.xml",
            rss_feed(f"账号{i}", f"https://weibo.com/{i}", items),
            "application/rss+xml",
            delay=delay,
        )
        add_account(app, f"acc{i:02d}", "u1", f"{platform.base_url}/f{i}.xml")
    app.close()
    return write_config(tmp, sink.url.replace("http://", "json://", 1))


def test_sigkill_mid_patrol_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, platform: SimulatedPlatform
) -> None:
    with WebhookSink() as sink:
        cfg = setup_patrol(tmp_path, platform, sink)
        db = tmp_path / "xuncha.db"
        log = tmp_path / "run.log"

        proc = start(cfg, log)
        wait_until(
            lambda: query(db, "select count(*) from snapshot")[0][0] >= 6,
            60,
            "first snapshots",
            proc,
        )
        helpers = helpers_of(proc.pid)
        assert helpers, "checks are written by a writer process under xuncha run"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # the writer finishes the batch in hand and leaves when its pipe closes: no orphan
        wait_until(lambda: not any(running(p) for p in helpers), 20, "writer process gone")
        killed_at = query(db, "select count(*) from snapshot")[0][0]
        assert killed_at < N_ACCOUNTS, "the kill must land mid-patrol"
        assert query(db, "pragma integrity_check") == [("ok",)]

        proc = start(cfg, log)
        try:
            wait_until(
                lambda: (
                    query(db, "select count(distinct account_id) from snapshot")[0][0] == N_ACCOUNTS
                ),
                150,
                "every account probed after restart",
                proc,
            )
            expected = N_ACCOUNTS // 2
            wait_until(
                lambda: (
                    query(db, "select count(*) from alert_item where status='sent'")[0][0]
                    >= expected
                    and not query(db, "select id from notification where status!='sent'")
                ),
                60,
                "every due alert sent",
                proc,
            )
        finally:
            assert stop(proc) == 0

        # every snapshot is whole: its evidence exists and matches its hash
        store = BlobStore(tmp_path / "blobs")
        for (artifacts,) in query(db, "select artifacts from snapshot"):
            for a in json.loads(artifacts):
                assert store.get(a["sha256"])  # raises if missing or altered
        # exactly one finding per silent account, each told in exactly one message
        assert query(db, "select count(*) from finding where status='open'")[0][0] == expected
        told = query(db, "select finding_id, notification_id from alert_item where status='sent'")
        assert sorted(f for f, _ in told) == sorted(
            f for (f,) in query(db, "select id from finding")
        )
        messages = {n for _, n in told}
        assert query(db, "select count(*) from notification")[0][0] == len(messages)
        numbers = [re.search(r"消息编号 #(\d+)", m.json["message"]).group(1) for m in sink.messages]
        seen: set[str] = set()
        for m, n in zip(sink.messages, numbers, strict=True):
            # the only resend allowed: a crash between the messenger's answer and our
            # commit, and then the message says it may be a repeat
            if n in seen:
                assert "可能重复" in m.json["title"], f"message #{n} sent twice silently"
            seen.add(n)
        assert len(seen) == len(messages)
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_sighup_reloads_registry_and_sigterm_stops_cleanly(
    tmp_path: Path, platform: SimulatedPlatform
) -> None:
    with WebhookSink() as sink:
        cfg = setup_patrol(tmp_path, platform, sink)
        db = tmp_path / "xuncha.db"
        proc = start(cfg, tmp_path / "run.log")
        try:
            wait_until(
                lambda: len(ids(db, "select account_id from account_state")) == N_ACCOUNTS,
                30,
                "every account given its due time",
                proc,
            )
            # close one account, add another, then SIGHUP
            con = sqlite3.connect(db, timeout=30)
            con.execute("update account set status='closed' where id='acc00'")
            con.execute(
                "insert into account (id, platform, name, handle, url, reader, owner_code, kind,"
                " ruleset, status, operator, is_lead, options, updated_at) values ('new1',"
                f" 'weibo', 'new', '', '{platform.base_url}/f1.xml', 'rss', 'u1', 'publish', '',"
                " 'active', '', 0, '{}', '2026-11-24 00:00:00')"
            )
            con.commit()
            con.close()
            wait_until(
                lambda: query(db, "select count(*) from snapshot")[0][0] > 0, 60, "a check", proc
            )
            helpers = helpers_of(proc.pid)
            proc.send_signal(signal.SIGHUP)
            wait_until(
                lambda: (
                    "new1" in ids(db, "select account_id from account_state")
                    and "new1" in ids(db, "select account_id from snapshot")
                    and due_in(db, "acc00") > timedelta(hours=23)
                ),
                90,
                "the registry followed after SIGHUP: new1 checked, closed acc00 due in a day",
                proc,
            )
            # the reload is in the audit log (等保: settings reloads are recorded)
            reloads = "select actor, via, success from audit_log where action = 'config_reload'"
            wait_until(lambda: query(db, reloads), 30, "the reload recorded", proc)
            assert query(db, reloads) == [("daemon:node-a", "daemon", 1)]
        finally:
            assert stop(proc) == 0
        assert query(db, "pragma integrity_check") == [("ok",)]
        # SIGTERM reached the writer process too (systemd signals the whole group; here only
        # the daemon): it is stopped by the daemon, after the last record, not left behind;
        # multiprocessing's tracker and a self-watch browser leave once they see it gone
        assert helpers
        wait_until(lambda: not any(running(p) for p in helpers), 20, "helper processes gone")


def writer_of(pid: int) -> int:
    """The daemon's writer process (spawned by multiprocessing; not its resource tracker)."""
    for child in helpers_of(pid):
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmd and running(child):
                return child
    raise AssertionError("xuncha run has no writer process")


def test_a_killed_writer_process_is_replaced_and_the_patrol_goes_on(
    tmp_path: Path, platform: SimulatedPlatform
) -> None:
    """The writer hangs holding checks, then is killed: those checks are reported not
    written (never confirmed), a new writer takes over, the daemon patrols on."""
    with WebhookSink() as sink:
        cfg = setup_patrol(tmp_path, platform, sink)
        with cfg.open("a", encoding="utf-8") as f:
            f.write("[metrics]\nport = 0\n")
        db = tmp_path / "xuncha.db"
        log = tmp_path / "run.log"

        def scrape(metric: str) -> float:
            port = next(
                json.loads(line)["port"]
                for line in log.read_text().splitlines()
                if '"metrics_serving"' in line
            )
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
            found = re.search(rf"^{metric} (\S+)$", text.decode(), re.M)
            assert found, f"{metric} not exposed"
            return float(found.group(1))

        proc = start(cfg, log)
        try:
            wait_until(
                lambda: query(db, "select count(*) from snapshot")[0][0] >= 2, 60, "checks", proc
            )
            # the pool probing() made, handed to the metrics: [browser] max_pages (default 2)
            assert scrape("xuncha_browser_pages_limit") == 2
            first = writer_of(proc.pid)
            os.kill(first, signal.SIGSTOP)  # hung, holding whatever it was handed
            wait_until(lambda: scrape("xuncha_checks_awaiting_write") > 0, 30, "checks held", proc)
            time.sleep(1)  # the recorder gathers for 20 ms, then hands the batch over
            before = query(db, "select count(*) from snapshot")[0][0]
            os.kill(first, signal.SIGKILL)
            wait_until(
                lambda: query(db, "select count(*) from snapshot")[0][0] >= before + 4,
                60,
                "the patrol writes again after the writer was killed",
                proc,
            )
            assert writer_of(proc.pid) != first
            assert scrape("xuncha_writer_process_starts_total") == 2
            assert proc.poll() is None
        finally:
            assert stop(proc) == 0
        events = [json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
        lost = [e for e in events if e.get("event") == "check_not_written"]
        assert lost, "the held checks are reported not written"
        assert all("未确认写入" in e["error"] for e in lost)
        assert query(db, "pragma integrity_check") == [("ok",)]
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def scraper(log: Path):
    """Read one sample from the running daemon's metrics endpoint (its port is in the log)."""

    def scrape(metric: str) -> float:
        port = next(
            json.loads(line)["port"]
            for line in log.read_text().splitlines()
            if '"metrics_serving"' in line
        )
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        found = re.search(rf"^{re.escape(metric)} (\S+)$", text.decode(), re.M)
        assert found, f"{metric} not exposed"
        return float(found.group(1))

    return scrape


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_sighup_with_new_limits_and_channels_keeps_the_one_writer(
    tmp_path: Path, platform: SimulatedPlatform
) -> None:
    """SIGHUP with changed [http], [browser] and [channels]: the same writer process goes on
    writing (no second one, no thread writer), the new limits are in force — the platform
    sees no more requests at once than the new per-host limit — a new problem goes to the
    new channel, the log names what was reloaded, and no check is lost or written twice."""
    n = 8  # each answered in 1.5 s: probes overlap, so the platform sees the limits
    with WebhookSink() as first, WebhookSink() as second:
        cfg = setup_patrol(tmp_path, platform, first, n=n, delay=1.5)
        body = cfg.read_text(encoding="utf-8")
        cfg.write_text(body + "[metrics]\nport = 0\n[browser]\nmax_pages = 2\n", encoding="utf-8")
        db, log = tmp_path / "xuncha.db", tmp_path / "run.log"
        scrape = scraper(log)
        proc = start(cfg, log)
        try:
            wait_until(
                lambda: query(db, "select count(*) from snapshot")[0][0] >= n,
                60,
                "a first round",
                proc,
            )
            writer = writer_of(proc.pid)
            assert platform.peak_in_flight == 2  # [http] per_host, the default
            assert scrape('xuncha_http_limit{limit="per_host"}') == 2
            assert scrape("xuncha_browser_pages_limit") == 2
            assert scrape('xuncha_writer_kind{kind="process"}') == 1
            told_first = len(first.messages)
            assert told_first > 0  # the stale half opened findings

            new = body.replace("retries = 0\n", "retries = 0\nper_host = 1\n")
            new = new.replace(first.url.replace("http://", "json://", 1), second.apprise_url())
            cfg.write_text(new + "[metrics]\nport = 0\n[browser]\nmax_pages = 1\n", "utf-8")
            # a problem that appears after the reload: acc00 falls silent
            old = [Item("很久以前的消息", datetime.now(UTC) - timedelta(days=20))]
            platform.add("/f0.xml", rss_feed("账号0", "https://weibo.com/0", old),
                         "application/rss+xml", delay=1.5)  # fmt: skip
            before = query(db, "select count(*) from snapshot")[0][0]
            writer_cpu = cpu_ticks(writer)
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: '"event": "reloaded"' in log.read_text(), 30, "reloaded", proc)
            time.sleep(2)  # probes started before the reload finish with the old limits
            platform.reset_peak()
            wait_until(
                lambda: query(db, "select count(*) from snapshot")[0][0] >= before + n,
                120,
                "a round after the reload",
                proc,
            )
            assert platform.peak_in_flight == 1  # the new per-host limit, seen by the platform
            assert scrape('xuncha_http_limit{limit="per_host"}') == 1
            assert scrape("xuncha_browser_pages_limit") == 1
            wait_until(  # other news may reach it first (acc05's): wait for acc00's own
                lambda: "acc00" in " ".join(str(m.json) for m in second.messages),
                30,
                "the new problem told on the new channel",
                proc,
            )
            assert writer_of(proc.pid) == writer  # the same process, still writing
            assert cpu_ticks(writer) > writer_cpu
            assert scrape("xuncha_writer_process_starts_total") == 1
            assert scrape('xuncha_writer_kind{kind="thread"}') == 0
        finally:
            assert stop(proc) == 0
        events = [json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
        reloaded = next(e for e in events if e.get("event") == "reloaded")
        assert {"http", "browser", "channels"} <= set(reloaded["changed"])
        assert reloaded["needs_restart"] == []
        assert any(e.get("event") == "writer_process_reloaded" for e in events)
        assert len(first.messages) == told_first  # nothing more went to the old channel
        assert "acc00" in " ".join(str(m.json) for m in second.messages)
        checked = [e for e in events if e.get("event") == "account_checked"]
        snaps = query(db, "select id from snapshot")
        assert len(checked) == len(snaps)  # every check written once, none lost
        assert len({e["snapshot"] for e in checked}) == len(snaps)
        assert query(db, "pragma integrity_check") == [("ok",)]
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
