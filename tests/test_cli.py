"""The CLI as ops and duty officers use it: real processes, real files, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.demo.platform import Item, SimulatedPlatform, rss_feed

FIXTURES = Path(__file__).parent / "fixtures" / "registry"


def xuncha(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    c = tmp_path / "xuncha.toml"
    c.write_text(
        f'data_dir = "{tmp_path}"\n[http]\nretries = 0\n[logging]\nlevel = "warning"\n'
        '[channels]\ngz-duty = "json://127.0.0.1:9/x"\ngy-duty = "json://127.0.0.1:9/y"\n',
        encoding="utf-8",
    )
    assert xuncha(c, "init").returncode == 0
    return c


@pytest.fixture
def platform() -> Iterator[SimulatedPlatform]:
    p = SimulatedPlatform().start()
    yield p
    p.stop()


def test_commands_refuse_an_uninitialised_database(tmp_path: Path) -> None:
    c = tmp_path / "x.toml"
    c.write_text(f'data_dir = "{tmp_path}"\n')
    r = xuncha(c, "accounts")
    assert r.returncode == 1
    assert "xuncha init" in r.stderr


def test_commands_refuse_a_schema_they_do_not_know(cfg: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "xuncha.db")
    con.execute("update alembic_version set version_num='9999'")
    con.commit()
    con.close()
    r = xuncha(cfg, "findings")
    assert r.returncode == 1
    assert "比本程序新" in r.stderr


def test_registry_with_three_bad_rows_imports_nothing(cfg: Path) -> None:
    r = xuncha(
        cfg,
        "registry",
        "import",
        str(FIXTURES / "units-zh.csv"),
        str(FIXTURES / "accounts-bad.csv"),
    )
    assert r.returncode == 2
    tail = "accounts-bad.csv:"
    bad = [ln.split(tail, 1)[1] for ln in r.stderr.splitlines() if tail in ln]
    assert [ln.split(":")[:2] for ln in bad] == [
        ["3", "平台"],
        ["5", "主办单位"],
        ["6", "巡查间隔（分钟）"],
    ], r.stderr
    assert "未导入任何内容" in r.stderr
    listed = xuncha(cfg, "accounts", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == []


def test_import_export_round_trip_through_the_cli(cfg: Path, tmp_path: Path) -> None:
    r = xuncha(
        cfg, "registry", "import", str(FIXTURES / "units-zh.csv"), str(FIXTURES / "accounts-zh.csv")
    )
    assert r.returncode == 0, r.stderr
    before = json.loads(xuncha(cfg, "accounts", "--json").stdout)
    assert before
    out = tmp_path / "export.xlsx"
    assert xuncha(cfg, "registry", "export", str(out)).returncode == 0
    again = xuncha(cfg, "registry", "import", str(out))
    assert again.returncode == 0, again.stderr
    assert "新增 0，更新 0" in again.stdout
    assert json.loads(xuncha(cfg, "accounts", "--json").stdout) == before


def test_check_findings_history_json(
    cfg: Path, tmp_path: Path, platform: SimulatedPlatform
) -> None:
    now = datetime.now(UTC)
    platform.add(
        "/stale.xml",
        rss_feed("青溪发布", "https://weibo.com/1", [Item("秋收", now - timedelta(days=16))]),
        "application/rss+xml",
    )
    units = tmp_path / "units.csv"
    units.write_text("code,name,parent,channels\nu1,青溪县人民政府办公室,,\n", encoding="utf-8")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "id,platform,name,url,reader,owner\n"
        f"qx,weibo,青溪发布,{platform.base_url}/stale.xml,rss,u1\n"
        f"gone,weibo,已注销,{platform.base_url}/missing.xml,rss,u1\n",
        encoding="utf-8",
    )
    assert xuncha(cfg, "registry", "import", str(units), str(accounts)).returncode == 0

    r = xuncha(cfg, "check", "qx", "--json")
    assert r.returncode == 1, r.stderr  # a problem was seen
    result = json.loads(r.stdout)
    assert result["snapshot"]["outcome"] == "ok"
    assert [s["kind"] for s in result["signals"]] == ["stale"]
    assert result["signals"][0]["severity"] == "veto"

    r = xuncha(cfg, "check", "gone", "--json")
    assert json.loads(r.stdout)["snapshot"]["outcome"] == "not_found"

    r = xuncha(cfg, "findings", "--json")
    assert r.returncode == 1
    kinds = {(f["account"], f["kind"]) for f in json.loads(r.stdout)}
    assert kinds == {("qx", "stale"), ("gone", "gone")}

    r = xuncha(cfg, "history", "qx", "--json")
    assert r.returncode == 0
    h = json.loads(r.stdout)
    assert h["account"]["ruleset"] == "national"
    assert len(h["snapshots"]) == 1
    snap = h["snapshots"][0]
    assert snap["artifacts"][0]["sha256"]
    assert h["findings"][0]["first_snapshot"] == snap["id"]

    stale_id = next(f["id"] for f in json.loads(xuncha(cfg, "findings", "--json").stdout)
                    if f["kind"] == "stale")  # fmt: skip
    r = xuncha(
        cfg, "ack", str(stale_id), "--note", "已通知运营人员", "--by", "值班员张三", "--json"
    )
    assert r.returncode == 0, r.stderr
    acked = json.loads(r.stdout)
    assert acked["acknowledged_at"] and acked["status"] == "open"
    assert xuncha(cfg, "ack", "99999").returncode == 2

    r = xuncha(cfg, "check", "nobody")
    assert r.returncode == 2
    assert "nobody" in r.stderr

    r = xuncha(cfg, "alerts", "outbox", "--json")
    assert r.returncode == 0
    out = json.loads(r.stdout)  # the unit has no channel and no supervisor with one
    assert out == {"messages": [], "waiting": [], "channels": []}


def test_demo_runs_offline_and_tells_the_story(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env.pop("COLUMNS", None)  # a pipe, as in `xuncha demo > demo.txt`: nothing may wrap
    exe = shutil.which("xuncha")
    cmd = [exe] if exe else [sys.executable, "-m", "monitor"]
    folder = tmp_path / "demo dir"  # a space: the export line must still work when pasted
    r = subprocess.run(
        [*cmd, "demo", "--dir", str(folder)], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "单项否决" in out  # the 15-day account
    assert "即将超期" in out  # the 贵州 every-working-day account
    assert "抓取失败" in out  # the feed that is down
    assert "发布内容含未脱敏的个人信息（1 条）" in out  # the 低保 notice with an ID unmasked
    assert "告警接收端收到 3 条消息" in out
    assert "演示完成" in out
    # whole lines in a file: no wrapping at 80 columns, no colour
    imported = "导入登记表 units.csv、accounts.csv：单位：新增 4，更新 0，未变 0；账号：新增 4"
    assert f"{imported}，更新 0，未变 0\n" in out
    assert "\x1b" not in out
    # the last line is the one to copy; pasted into a shell, later commands read the demo
    cfg = folder / "xuncha.toml"
    last = out.rstrip("\n").splitlines()[-1]
    assert last == f"export XUNCHA_CONFIG='{cfg}'"
    shell = subprocess.run(
        ["sh", "-c", f"{last} && {sys.executable} -m monitor findings --json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert shell.returncode == 1, shell.stderr  # open findings
    assert {f["kind"] for f in json.loads(shell.stdout)} >= {"stale", "privacy", "fetch_failed"}


def test_readme_registry_commands_work_on_the_template(tmp_path: Path) -> None:
    """README: xuncha init; xuncha registry import registry.xlsx; xuncha accounts — with the
    sample that xuncha registry template writes."""
    home = tmp_path / "share"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env["XDG_DATA_HOME"] = str(home)

    def x(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip

    assert x("init").returncode == 0
    made = x("registry", "template")
    assert made.returncode == 0, made.stderr
    assert (
        tmp_path / "registry.xlsx"
    ).exists() and "xuncha registry import registry.xlsx" in made.stdout
    assert x("registry", "template").returncode == 2  # never overwrites without --force
    imported = x("registry", "import", "registry.xlsx")
    assert imported.returncode == 0, imported.stderr
    assert "单位：新增 3" in imported.stdout and "账号：新增 5" in imported.stdout
    accounts = json.loads(x("accounts", "--json").stdout)
    assert {a["platform"] for a in accounts} == {"weibo", "wechat", "website", "douyin", "app"}
    assert x("registry", "export", "back.csv").returncode == 0
    units = (tmp_path / "back-units.csv").read_text(encoding="utf-8-sig")
    assert "值班手机" in units and "13800000002、13800000003" in units
    assert x("registry", "template", "sample.csv").returncode == 0  # two CSV files, too
    again = x("registry", "import", "sample-units.csv", "sample-accounts.csv", "--dry-run")
    assert again.returncode == 0 and "新增 0，更新 0" in again.stdout, again.stderr
