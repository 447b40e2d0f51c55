"""What the listings print, as a duty officer reads them on an 80-column terminal and as a
script reads them through a pipe: filters, colours, layout, whole cells, Chinese states.

The terminal is rich's: ``TTY_COMPATIBLE=1`` makes rich treat the output as a terminal and
``COLUMNS`` sets its width; without them the output is a pipe. Golden files under
``tests/golden/cli/`` are what a reviewer reads; ``XUNCHA_UPDATE_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from monitor.app import App
from monitor.cli import app as cli
from monitor.config import load_settings
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.models import Account, Finding, Notification, Unit

GOLDEN = Path(__file__).parent / "golden" / "cli"
CLOCK = "2026-12-07T09:11:00+08:00"
NOW = datetime.fromisoformat(CLOCK)
LONG_URL = (
    "https://rss.example.gov.cn/weibo/user/5001001/feed.xml?format=rss&limit=50"
    "&fields=title,text,pubDate,pinned&token=public-demo-feed-0123456789"
)
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "80", "NO_COLOR": "1"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def golden(name: str, text: str) -> None:
    """``text`` must equal the committed golden file (rewritten with XUNCHA_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if os.environ.get("XUNCHA_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with XUNCHA_UPDATE_GOLDEN=1 and read it"
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


@pytest.fixture
def cfg(tmp_path: Path) -> Iterator[Path]:
    """A small registry with open findings of every severity, one resolved, three messages."""
    c = tmp_path / "xuncha.toml"
    c.write_text(f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n', encoding="utf-8")
    settings = load_settings(c)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    xapp = App.open(settings)
    at = NOW
    with session_scope(xapp.engine) as s:
        s.add(Unit(code="gz", name="贵州省人民政府办公厅"))
        s.add(Unit(code="gy", name="贵阳市人民政府办公室", parent_code="gz"))
        s.add(Unit(code="qx", name="青溪县融媒体中心", parent_code="gy"))
        s.flush()
        for a in (
            Account(id="gy-weibo", platform="weibo", name="贵阳发布", owner_code="gy",
                    url=LONG_URL, reader="rss", ruleset="guizhou_city"),
            Account(id="qx-wechat", platform="wechat", name="青溪县人民政府", owner_code="qx",
                    url="https://mp.weixin.qq.com/s/qingxi", reader="webpage",
                    options={"item": "li"}),
            Account(id="qx-douyin", platform="douyin", name="青溪发布", owner_code="qx",
                    url="https://rss.example.gov.cn/douyin/5003003.xml", reader="rss"),
            Account(id="gz-app", platform="app", name="贵州政务", owner_code="gz", kind="service",
                    url="https://app.example.gov.cn/dl/gz.apk"),
        ):  # fmt: skip
            s.add(a)
        s.flush()
        for f in (
            ("qx-wechat", "stale", "veto", "已 17 天未更新（超过 14 天，单项否决）",
             at - timedelta(days=3, hours=2), at - timedelta(days=2),
             "national.max_gap_days(14)"),
            ("gy-weibo", "privacy", "high", "发布内容含未脱敏的个人信息（1 条）",
             at + timedelta(hours=20), at - timedelta(hours=4), "content.privacy"),
            ("qx-douyin", "stale_soon", "warning", "即将超期：须在 12月7日 23:59 前更新",
             at + timedelta(hours=14, minutes=48), at - timedelta(hours=1),
             "national.max_gap_days(14)"),
            ("gz-app", "app_tls", "high",
             "下载地址的 HTTPS 证书 [CN=app.example.gov.cn] 将在 12 天后过期",
             at + timedelta(days=2), at - timedelta(days=1), "install.tls_days(30)"),
            ("qx-douyin", "fetch_failed", "warning", "抓取失败，暂时无法检查", None,
             at - timedelta(minutes=30), "fetch.error"),
        ):  # fmt: skip
            account, kind, severity, title, deadline, opened, rule = f
            s.add(Finding(account_id=account, kind=kind, severity=severity, title=title,
                          deadline=deadline, opened_at=opened, updated_at=opened,
                          rule=rule))  # fmt: skip
        s.add(Finding(account_id="gy-weibo", kind="commercial", severity="high",
                      status="resolved", title="发布或链接商业广告（2 条）",
                      opened_at=at - timedelta(days=9), resolved_at=at - timedelta(days=8),
                      deadline=at - timedelta(days=6)))  # fmt: skip
        for i, (status, unit) in enumerate((("sent", "qx"), ("dead", "gy"), ("held", "gz"))):
            s.add(Notification(dedup_key=f"m{i}", unit_code=unit, channel="@duty",
                               event="opened", title=f"【巡查】第 {i + 1} 条消息",
                               status=status, attempts=1 + i, created_at=at, due_at=at,
                               sent_at=at if status == "sent" else None))  # fmt: skip
    xapp.close()
    yield c


def run(cfg: Path, *args: str, **env: str) -> Any:
    return CliRunner().invoke(
        cli, ["-c", str(cfg), *args], env={"XUNCHA_CLOCK": CLOCK, **env}, catch_exceptions=False
    )


def plain(output: str) -> str:
    """What the terminal shows, without its escape codes (bold stays under NO_COLOR) and the
    padding rich adds at the end of each line."""
    return "".join(ln.rstrip() + "\n" for ln in ANSI.sub("", output).splitlines())


def ids(output: str) -> list[int]:
    """The finding ids a listing shows, in order (first cell of each row)."""
    return [int(m[1]) for m in re.finditer(r"^\s*(\d+)\s", ANSI.sub("", output), re.M)]


def test_findings_on_an_80_column_terminal(cfg: Path) -> None:
    r = run(cfg, "findings", **TERMINAL)
    assert r.exit_code == 1  # open problems
    text = plain(r.output)
    for line in text.splitlines():
        assert cell_len(line) <= 80, line
    golden("findings-80.txt", text)
    # most urgent first: the veto, then the severe ones by deadline, then the warnings
    assert ids(text) == [1, 2, 4, 3, 5]
    assert "已超期 3 天" in text  # the veto's deadline has passed
    assert "青溪县融媒体中心" in text and "贵阳市人民政府办公室" in text  # units by name
    assert "[CN=app.example.gov." in text  # brackets are text, not markup
    assert "更新不及时" in text and "隐私泄露" in text  # 问题类别 under each problem
    assert "veto" not in text and "qx\n" not in text


def test_findings_piped_is_whole_rows_of_tab_separated_cells(cfg: Path) -> None:
    r = run(cfg, "findings")
    assert r.exit_code == 1
    golden("findings-piped.tsv", r.output)
    assert "\x1b" not in r.output  # no colour in a pipe
    lines = r.output.splitlines()
    header, rows = lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]
    assert header[:3] == ["编号", "级别", "状态"]
    assert len(rows) == 5 and all(len(row) == len(header) for row in rows)
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_id["1"]["超期"] == "已超期 3 天" and by_id["1"]["整改期限"] == "2026-12-04 07:11"
    assert by_id["4"]["问题"] == "下载地址的 HTTPS 证书 [CN=app.example.gov.cn] 将在 12 天后过期"
    assert by_id["5"]["整改期限"] == ""  # our own fetch problem: nothing for the unit to fix
    # the rule in words, never its code
    assert by_id["1"]["依据规则"] == "全国标准：14 天内须有更新（单项否决）"
    assert by_id["4"]["依据规则"] == "HTTPS 证书须留有足够的有效期"
    assert by_id["5"]["依据规则"] == "" and "national." not in r.output
    assert "privacy.id_card" not in r.output  # a code with no words yet is not shown


def test_a_long_url_stays_on_one_line_when_piped(cfg: Path) -> None:
    r = run(cfg, "accounts")
    assert r.exit_code == 0
    line = next(ln for ln in r.output.splitlines() if ln.startswith("gy-weibo"))
    assert LONG_URL in line.split("\t")
    assert "贵州·市州政府" in line  # the rule set by its title, never its code
    on_terminal = plain(run(cfg, "accounts", **TERMINAL).output)
    assert all(cell_len(ln) <= 80 for ln in on_terminal.splitlines())
    assert "全国标准" in on_terminal and "guizhou_city" not in on_terminal


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--severity", "单项否决"], [1]),
        (["--severity", "veto,high"], [1, 2, 4]),
        (["--severity", "严重", "--severity", "预警"], [2, 4, 3, 5]),
        (["--platform", "公众号"], [1]),  # a spelling the registry accepts
        (["--platform", "抖音"], [3, 5]),
        (["--kind", "隐私泄露"], [2]),  # a 问题类别
        (["--kind", "stale_soon"], [3]),
        (["--kind", "长期未更新", "--unit", "qx"], [1]),
        (["--unit", "gy"], [2]),
        (["--all", "--platform", "微博"], [2, 6]),  # resolved last
    ],
)
def test_findings_filters(cfg: Path, args: list[str], expected: list[int]) -> None:
    r = run(cfg, "findings", *args)
    assert r.exit_code == 1, r.output
    assert [int(ln.split("\t")[0]) for ln in r.output.splitlines()[1:]] == expected


def test_a_filter_that_names_nothing_is_bad_usage(cfg: Path) -> None:
    r = run(cfg, "findings", "--severity", "紧急")
    assert r.exit_code == 2
    assert "紧急" in r.output and "单项否决、严重、预警、提示" in r.output
    assert run(cfg, "findings", "--unit", "nowhere").exit_code == 2
    none = run(cfg, "findings", "--platform", "网站", **TERMINAL)
    assert none.exit_code == 0 and "没有未解决的问题。" in none.output


def test_colours_by_severity_on_a_terminal_only(cfg: Path) -> None:
    coloured = run(cfg, "findings", TTY_COMPATIBLE="1", COLUMNS="80").output
    assert "\x1b[1;31m单项否决" in coloured  # bold red
    assert "\x1b[31m严重" in coloured
    assert "\x1b[33m预警" in coloured
    plain = run(cfg, "findings", **TERMINAL).output  # NO_COLOR
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", plain)
    assert "\x1b" not in run(cfg, "findings").output  # piped


def test_a_terminal_listing_is_capped_and_says_how_to_see_the_rest(cfg: Path) -> None:
    r = run(cfg, "findings", "--limit", "2", **TERMINAL)
    assert ids(r.output) == [1, 2]
    assert "另有 3 个问题未显示" in r.output and "--limit 0" in r.output
    assert len(run(cfg, "findings", "--limit", "0", **TERMINAL).output) > len(r.output)


def test_outbox_states_are_chinese(cfg: Path) -> None:
    r = run(cfg, "alerts", "outbox", **TERMINAL)
    assert r.exit_code == 0
    for word in ("已发送", "已放弃", "暂存（渠道拒收）", "青溪县融媒体中心"):
        assert word in r.output
    assert not re.search(r"\b(sent|dead|held)\b", r.output)
    piped = run(cfg, "alerts", "outbox", "--status", "已放弃").output.splitlines()
    assert len(piped) == 2 and "\t已放弃\t" in piped[1] and "贵阳市人民政府办公室" in piped[1]
    assert run(cfg, "alerts", "outbox", "--status", "lost").exit_code == 2


def test_cli_and_console_say_how_late_in_the_same_words(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadline passed 20 hours ago: "已超期 20 小时" in the terminal and on the console
    (``monitor.show.wording``), never "已超期不足 1 天" in one and hours in the other; the
    order is the same too: the gravest first, 巡查异常 last."""
    from fastapi.testclient import TestClient

    from monitor.web import auth
    from monitor.web.app import create_app
    from tests.test_web import FAST_HASHER, PASSWORD, login

    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)
    xapp = App.open(load_settings(cfg))
    try:
        with session_scope(xapp.engine) as s:
            late = Finding(account_id="gy-weibo", kind="commercial", severity="high",
                           title="一条商业广告", deadline=NOW - timedelta(hours=20),
                           opened_at=NOW - timedelta(days=2), updated_at=NOW)  # fmt: skip
            s.add(late)
            auth.add_user(s, "sup", "supervisor", "gz", PASSWORD, NOW)
            s.flush()
            late_id = late.id
        terminal = plain(run(cfg, "findings", **TERMINAL).output)
        piped = run(cfg, "findings").output
        c = login(TestClient(create_app(xapp, clock=lambda: NOW), follow_redirects=False), "sup")
        console = c.get("/findings").text
        row = console.split(f'id="finding-{late_id}"', 1)[1].split("</tr>", 1)[0]
    finally:
        xapp.close()
    for shown in (terminal, piped, row):
        assert "已超期 20 小时" in shown and "不足 1 天" not in shown
    in_console = [int(x) for x in re.findall(r'<tr id="finding-(\d+)"', console)]
    assert in_console == ids(terminal)  # the same order: veto, 严重 …, 巡查异常 last
