"""``xuncha sessions list|add|remove|test`` as an operator types them: Chinese answers, the
README's exit codes (0 ok, 1 problems, 2 bad input), and never a cookie value printed."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from localserver import LocalServer
from sessionsite import UID, routes
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.store.sealing import KEY_ENV
from tests.test_sessions import COOKIES_TXT, LOGIN_VALUE

LIVE = "040069b5f5e2a3c1d8e7loggedin"  # the login the stand-in site accepts


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer(routes()) as srv:
        yield srv


@pytest.fixture
def xuncha(
    tmp_path: Path, site: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[callable]:  # type: ignore[valid-type]
    monkeypatch.delenv(KEY_ENV, raising=False)
    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path}"\nnode_name = "n1"\n'
        "[http]\nretries = 0\n"
        '[alerts]\nops_channels = ["json://127.0.0.1:9/ops"]\n'
        f'[platforms.xiaohongshu]\norigins = {{www = "{site.base}"}}\n',
        encoding="utf-8",
    )

    def run(*args: str, env: dict[str, str] | None = None) -> object:
        return CliRunner().invoke(cli, ["-c", str(cfg), *args], env=env)

    assert run("init").exit_code == 0  # type: ignore[attr-defined]
    import sqlite3

    db = sqlite3.connect(tmp_path / "xuncha.db")
    db.execute("INSERT INTO unit (code, name, level, region, channels, it_channels, duty_mobiles,"
               " updated_at) VALUES ('u1', '示例市文旅局', '', '', '[]', '[]', '[]', "
               "'2026-11-24 02:00:00')")  # fmt: skip
    db.execute("INSERT INTO account (id, platform, name, handle, url, reader, owner_code, kind,"
               " ruleset, status, operator, is_lead, options, updated_at) VALUES ('xhs-1',"
               f" 'xiaohongshu', '示例文旅', '{UID}', '', 'xhs-notes-api', 'u1', 'publish', '',"
               " 'active', '', 0, '{}', '2026-11-24 02:00:00')")  # fmt: skip
    db.commit()
    db.close()
    yield run


def export(tmp_path: Path, value: str) -> Path:
    f = tmp_path / "cookies.txt"
    f.write_text(COOKIES_TXT.replace(LOGIN_VALUE, value), encoding="utf-8")
    return f


def test_add_list_test_remove(xuncha, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = xuncha("sessions", "list")
    assert r.exit_code == 0 and "还没有登录会话" in r.output
    assert json.loads(xuncha("sessions", "list", "--json").stdout) == []

    r = xuncha("sessions", "add", "小红书", str(export(tmp_path, LIVE)), "--label", "运营号",
               "--pace", "45")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "已保存小红书登录会话 #1：cookies.txt 中的 3 个 Cookie，每 45 秒最多使用一次" in r.output
    assert "丢弃了 1 个其他网站的 Cookie（google.com）" in r.output
    assert LIVE not in r.output

    listed = xuncha("sessions", "list")
    assert listed.exit_code == 0 and "运营号" in listed.output and "可用" in listed.output
    [row] = json.loads(xuncha("sessions", "list", "--json").stdout)
    assert (row["id"], row["platform"], row["state"], row["pace_seconds"]) == (
        1, "xiaohongshu", "active", 45.0
    )  # fmt: skip
    assert LIVE not in listed.output and LIVE not in json.dumps(row)

    r = xuncha("sessions", "test", "1")
    assert r.exit_code == 0, r.output
    assert "会话 #1（小红书“运营号”）读取账号 xhs-1（示例文旅）：看到内容（2 条）。" in r.output
    assert json.loads(xuncha("sessions", "list", "--json").stdout)[0]["last_good_at"]

    r = xuncha("sessions", "remove", "1")
    assert r.exit_code == 0 and "已删除小红书登录会话 #1" in r.output
    assert json.loads(xuncha("sessions", "list", "--json").stdout) == []
    assert json.loads(xuncha("sessions", "list", "--all", "--json").stdout)[0]["state"] == "removed"
    r = xuncha("sessions", "remove", "1")
    assert r.exit_code == 2 and "没有会话 #1" in r.output
    # a login xuncha holds is a secret: the audit log says who saved it and who removed it
    logged = json.loads(xuncha("audit", "list", "--json").stdout)
    said = [(e["action"], e["target"], e["via"]) for e in logged if "session" in e["action"]]
    assert said == [
        ("session_remove", "小红书会话 #1", "cli"), ("session_add", "小红书会话 #1", "cli")
    ]  # fmt: skip


def test_a_dead_login_is_found_by_test_and_expired(xuncha, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert xuncha("sessions", "add", "xiaohongshu", str(export(tmp_path, "ended"))).exit_code == 0
    r = xuncha("sessions", "test", "xiaohongshu")
    assert r.exit_code == 1
    assert (
        "遇到登录墙（小红书要求登录：无登录信息，或登录信息为空）；再连续遇到将标记为失效"
        in r.output
    )
    r = xuncha("sessions", "test", "1", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)[0]["verdict"] == "expired"
    r = xuncha("sessions", "test", "1")
    assert r.exit_code == 2 and "会话 #1 已失效（连续 2 次检查遇到登录墙" in r.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["sessions", "add", "wechat", "{file}"], "不使用登录会话：可选 weibo（微博）"),
        (["sessions", "add", "xiaohongshu", "{bad}"], "第 1 行应有 7 个以制表符分隔的字段"),
        (["sessions", "add", "xiaohongshu", "{missing}"], "无法读取文件"),
        (["sessions", "test", "9"], "没有会话 #9"),
        (["sessions", "test", "douyin"], "douyin 没有可用的登录会话"),
    ],
)  # fmt: skip
def test_mistakes_are_said_in_chinese(xuncha, tmp_path: Path, args: list[str], says: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.txt"
    bad.write_text(".xiaohongshu.com TRUE /\n", encoding="utf-8")
    paths = {"file": export(tmp_path, LIVE), "bad": bad, "missing": tmp_path / "nope.txt"}
    r = xuncha(*(a.format(**paths) for a in args))
    assert r.exit_code in (1, 2) and says in r.output, r.output
    assert "Traceback" not in r.output


def test_a_wrong_key_is_a_message_not_a_traceback(xuncha, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert xuncha("sessions", "add", "xiaohongshu", str(export(tmp_path, LIVE))).exit_code == 0
    other = {KEY_ENV: base64.b64encode(os.urandom(32)).decode()}
    r = xuncha("sessions", "test", "1", env=other)
    assert r.exit_code == 2 and "会话 #1 是用另一把密钥加密的" in r.output
    r = xuncha("sessions", "add", "xiaohongshu", str(export(tmp_path, LIVE)),
               env={KEY_ENV: "short"})  # fmt: skip
    assert r.exit_code == 2 and "环境变量 XUNCHA_SESSION_KEY不是有效的会话密钥" in r.output


def test_the_listing_loads_neither_the_cipher_nor_the_http_client(xuncha, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    probe = (
        "import sys, io, contextlib\n"
        "import monitor.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        monitor.cli.app(['-c', {str(tmp_path / 'xuncha.toml')!r}, 'sessions', 'list'])\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "heavy = ['cryptography', 'httpx', 'playwright', 'fastapi', 'probes.platforms.registry',\n"
        "         'probes.fetch']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr
