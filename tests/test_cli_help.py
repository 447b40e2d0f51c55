"""The CLI a newcomer meets first: help in Chinese everywhere, usage errors in Chinese, help
that loads nothing heavy, and read-only commands that never create a database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from monitor.cli import app as cli

ENGLISH = ("Show this message and exit", "Usage:", "Options", "Arguments", "Commands", "Error")


def commands(group: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(group, "commands", {}).items():
        yield from commands(sub, (*path, name))


ALL = list(commands(get_command(cli)))


def test_the_command_tree_is_walked() -> None:
    assert ("findings",) in ALL and ("users", "token") in ALL and ("registry", "template") in ALL


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "xuncha")
def test_every_help_page_is_chinese(path: tuple[str, ...]) -> None:
    r = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    page = r.output
    assert page.startswith("用法：xuncha")
    assert "显示本帮助并退出" in page
    for english in ENGLISH:
        assert english not in page, f"{english!r} in xuncha {' '.join(path)} --help"
    cmd = get_command(cli)
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    assert (cmd.help or "").split("\n")[0].rstrip("。") in page  # its own summary


def test_help_shows_brackets_and_short_options() -> None:
    page = CliRunner().invoke(cli, ["web", "-h"]).output
    assert "[web] address" in page and "[web] port" in page  # nothing eaten as markup
    root = CliRunner().invoke(cli, ["-h"]).output
    assert "-c, --config <文件>" in root and "环境变量 XUNCHA_CONFIG" in root


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["history"], "缺少参数 <账号编号>"),
        (["report"], "缺少选项 --period"),
        (["findings", "--bogus"], "没有选项 --bogus"),
        (["history", "x", "y"], "多余的参数：y"),
        (["history", "x", "--limit", "abc"], "--limit 的值 'abc' 无效：须为整数"),
        (["history", "x", "--limit", "0"], "不能小于 1"),
        (["findngs"], "没有命令 findngs。是不是要用 'findings'？"),
        (["findings", "--unit"], "选项 --unit 需要一个值"),
        (["findings", "--json=yes"], "选项 --json 不带值"),
    ],
)
def test_usage_errors_are_chinese(tmp_path: Path, args: list[str], says: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path), "COLUMNS": "80"},
        timeout=60,
    )
    assert r.returncode == 2
    assert says in r.stderr, r.stderr
    assert r.stderr.startswith(("用法：xuncha", "错误："))
    for english in ("Usage", "Error", "Missing", "Try ", "No such", "Invalid", "Got "):
        assert english not in r.stderr
    assert not (tmp_path / "xuncha").exists()


def test_a_group_without_a_command_shows_its_help() -> None:
    r = CliRunner().invoke(cli, ["alerts"])
    assert r.exit_code == 2
    assert "命令：" in r.output and "outbox" in r.output


def test_help_loads_nothing_heavy() -> None:
    """``xuncha --help`` and ``xuncha findings --help`` import only the commands' signatures:
    no database layer, no web framework, no browser, no scheduler, no spreadsheets."""
    probe = (
        "import sys, io, contextlib\n"
        "import monitor.cli\n"
        "for args in (['--help'], ['findings', '--help'], ['registry', 'import', '-h']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            monitor.cli.app(args)\n"
        "        except SystemExit as e:\n"
        "            assert e.code == 0, e.code\n"
        "heavy = ['playwright', 'fastapi', 'uvicorn', 'apscheduler', 'alembic', 'openpyxl',\n"
        "         'sqlalchemy', 'sqlmodel', 'apprise', 'httpx', 'jinja2', 'rich', 'holidays',\n"
        "         'monitor.app', 'monitor.config', 'probes.platforms', 'probes.checks',\n"
        "         'probes.fetch', 'selectolax', 'feedparser']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_a_listing_loads_no_browser_web_or_sender(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n')
    assert CliRunner().invoke(cli, ["-c", str(cfg), "init"]).exit_code == 0
    probe = (
        "import sys, io, contextlib\n"
        "import monitor.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        monitor.cli.app(['-c', {str(cfg)!r}, 'findings', '--json'])\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "heavy = ['playwright', 'fastapi', 'apscheduler', 'openpyxl', 'apprise', 'httpx',\n"
        "         'tldextract', 'holidays', 'alembic', 'jinja2', 'probes.checks.commercial',\n"
        "         'probes.platforms.registry', 'probes.fetch', 'selectolax', 'feedparser']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


READ_ONLY = [
    ["findings"],
    ["findings", "--json"],
    ["accounts"],
    ["history", "wx-qx"],
    ["snapshot", "1"],
    ["diff", "1", "2"],
    ["alerts", "outbox"],
    ["silence", "list"],
    ["sessions", "list"],
    ["users", "list"],
    ["registry", "export", "out.xlsx"],
    ["report", "--period", "2026Q4", "--format", "json"],
    ["doctor"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_never_creates_a_database(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    r = subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    where = home / ".local" / "share" / "xuncha" / "xuncha.db"
    said = r.stderr + r.stdout  # doctor says it in its list
    assert f"还没有数据库：{where}" in said
    assert "xuncha init" in said and "xuncha demo" in said
    assert not (home / ".local").exists()  # no database, no data directory
    if args != ["doctor"]:  # (doctor starts the browser, which keeps a cache of its own)
        assert list(home.rglob("*")) == []
    assert not (tmp_path / "out.xlsx").exists()


def test_init_is_what_creates_it(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "share")}
    r = CliRunner().invoke(cli, ["init"], env=env)
    assert r.exit_code == 0, r.output
    assert "xuncha registry import" in r.output  # what to do next
    assert (tmp_path / "share" / "xuncha" / "xuncha.db").exists()
    listed = CliRunner().invoke(cli, ["accounts", "--json"], env=env)
    assert listed.exit_code == 0 and json.loads(listed.output) == []


def test_the_quick_schema_check_agrees_with_alembic(tmp_path: Path) -> None:
    """check_schema answers the everyday case without importing alembic: the newest migration
    read from the files must be alembic's head, and an old or unknown stamp still refused."""
    import sqlalchemy as sa

    from monitor.store.engine import (
        SchemaError,
        _head_from_files,
        check_schema,
        head_revision,
        make_engine,
        upgrade,
    )

    assert _head_from_files() == head_revision()
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(SchemaError, match="xuncha init"):
        check_schema(engine)
    upgrade(engine)
    check_schema(engine)
    for stamp, says in (("0001", "过旧"), ("9999", "比本程序新")):
        with engine.begin() as c:
            c.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": stamp})
        with pytest.raises(SchemaError, match=says):
            check_schema(engine)
    engine.dispose()


def test_a_password_is_asked_twice_in_chinese(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n')
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(cfg), "init"]).exit_code == 0
    add = ["-c", str(cfg), "users", "add", "zhang", "--role", "admin"]
    r = runner.invoke(cli, add, input="a long password\nanother password\n")
    assert r.exit_code == 2
    assert "再输入一次" in r.output and "两次输入的密码不一致" in r.output
    assert "Repeat" not in r.output and "Error" not in r.output
    r = runner.invoke(cli, add, input="A long password\nA long password\n")
    assert r.exit_code == 0, r.output
    assert "已添加用户 zhang" in r.output
