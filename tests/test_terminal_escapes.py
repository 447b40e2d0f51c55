"""Scraped text never drives the terminal (issue 33): a post title with escape sequences —
window title, clear screen, the one-byte CSI, a right-to-left override — is printed by
``xuncha snapshot``, ``history``, ``diff``, ``findings`` and ``accounts`` with those
characters written out (``\\x1b``), on a terminal and piped, and in ``--json``; the text a
duty officer reads around them is all there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from localserver import LocalServer, Reply
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.config import load_settings
from monitor.printable import printable
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.models import Account, Unit

CLOCK = "2026-12-07T09:11:00+08:00"
# what a hostile page puts in a title: OSC 0 (window title) ended by BEL, ED (clear the
# screen) and CUP, the 8-bit CSI (U+009B) with SGR, a carriage return that would overwrite
# the line, and U+202E (right-to-left override)
EVIL = "\x1b]0;pwned\x07\x1b[2J\x1b[H\x9b31m\r假标题\u202e"
TITLE = f"关于冬季防火的通知{EVIL}"
# rich's own colour codes (SGR, "ESC [ … m") are allowed on a terminal; nothing else
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def page(title: str) -> Reply:
    body = (
        '<html><body><ul class="news">'
        f'<li><a href="/art/1.html">{title}</a><span>2026-12-06</span></li>'
        '<li><a href="/art/0.html">旧通知</a><span>2026-12-01</span></li>'
        "</ul></body></html>"
    )
    return Reply(body=body, headers={"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture
def cfg(tmp_path: Path) -> Any:
    with LocalServer({"/list.html": [page(TITLE), page(TITLE + "（更正）")]}) as srv:
        c = tmp_path / "xuncha.toml"
        c.write_text(f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n', encoding="utf-8")
        engine = make_engine(load_settings(c).database_url)
        upgrade(engine)
        with session_scope(engine) as s:
            s.add(Unit(code="qx", name=f"青溪县{EVIL}"))
            s.flush()
            s.add(Account(id="qx-web", platform="website", name=f"青溪发布{EVIL}",
                          owner_code="qx", url=srv.url("/list.html"), reader="webpage",
                          options={"item": "ul.news li", "date": "span"}))  # fmt: skip
        engine.dispose()
        for _ in range(2):  # two looks: the second sees the title changed
            assert run(c, "check", "qx-web").exit_code in (0, 1)
        yield c


def run(cfg: Path, *args: str, **env: str) -> Any:
    return CliRunner().invoke(
        cli, ["-c", str(cfg), *args], env={"XUNCHA_CLOCK": CLOCK, **env}, catch_exceptions=False
    )


COMMANDS = [
    ("snapshot", "1"),
    ("snapshot", "2"),
    ("history", "qx-web"),
    ("diff", "1", "2"),
    ("findings", "--all"),
    ("accounts",),
]


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_no_scraped_control_character_reaches_the_terminal(
    cfg: Path, args: tuple[str, ...], terminal: bool
) -> None:
    env = {"TTY_COMPATIBLE": "1", "COLUMNS": "200", "FORCE_COLOR": "1"} if terminal else {}
    result = run(cfg, *args, **env)
    assert result.exit_code in (0, 1), result.output
    text = RICH_SGR.sub("", result.output) if terminal else result.output
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    if args[0] in ("snapshot", "accounts"):  # said, not obeyed
        assert "\\x1b]0;pwned\\x07" in RICH_SGR.sub("", result.output)


@pytest.mark.parametrize("args", [("snapshot", "2"), ("history", "qx-web"), ("accounts",)])
def test_json_escapes_them_and_keeps_the_value(cfg: Path, args: tuple[str, ...]) -> None:
    result = run(cfg, *args, "--json")
    assert result.exit_code == 0, result.output
    assert not CONTROL.search(result.output)
    assert any(EVIL in v for v in strings(json.loads(result.output)))  # the same value


def strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        data = list(data.values())
    return [s for v in data for s in strings(v)] if isinstance(data, list) else []


def test_the_snapshot_shows_the_title_with_its_escapes_written_out(cfg: Path) -> None:
    out = run(cfg, "snapshot", "1").output
    # the reader made the carriage return a space (whitespace is collapsed in titles)
    assert printable(TITLE.replace("\r", " ")) in out  # 关于冬季防火的通知\x1b]0;pwned\x07…
    assert f"青溪发布{printable(EVIL)}" in out  # the registry's name, \r and all


def test_log_lines_on_a_terminal_write_them_out_too(capsys: pytest.CaptureFixture[str]) -> None:
    """``xuncha run`` in the foreground logs to the terminal (console format): a scraped
    value in a log line is written out like everywhere else; JSON lines stay JSON."""
    import structlog

    from monitor.service.logs import setup_logging

    setup_logging("info", "console")
    structlog.get_logger("test").info("fetch_failed", detail=TITLE)
    err = capsys.readouterr().err
    assert not CONTROL.search(RICH_SGR.sub("", err)) and "\\x1b]0;pwned" in err
    setup_logging("info", "json")
    structlog.get_logger("test").info("fetch_failed", detail=TITLE)
    assert json.loads(capsys.readouterr().err)["detail"] == TITLE
