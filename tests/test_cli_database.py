"""A database that cannot be reached or opened is one clear line in every command (issue 33:
``doctor``, ``findings`` and ``init`` printed 145-line tracebacks): what is wrong, in words,
where (the address, password masked), and where to fix it; exit 1. ``doctor`` says it as one
of its checks and goes on with the others.

Real parts: a PostgreSQL port nothing listens on, the local PostgreSQL (127.0.0.1:5432)
without the named database, a file that is not SQLite, addresses that are not addresses.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app as cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(tmp: Path, url: str, *args: str) -> Any:
    env = {"XUNCHA_DATA_DIR": str(tmp), "XUNCHA_DATABASE__URL": url}
    return CliRunner().invoke(cli, list(args), env=env)


def one_line(result: Any) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(lines) == 1, result.output
    return lines[0]


# every command that opens the database, as an operator would type it
COMMANDS = [
    ("init",),
    ("check", "acc1"),
    ("recheck", "acc1"),
    ("run",),
    ("accounts",),
    ("findings",),
    ("history", "acc1"),
    ("snapshot", "1"),
    ("diff", "1", "2"),
    ("report", "--period", "2026Q4"),
    ("ack", "1"),
    ("registry", "export", "out.csv"),
    ("alerts", "outbox"),
    ("alerts", "flush"),
    ("routes", "test", "--unit", "u1"),
    ("silence", "list"),
    ("users", "list"),
    ("web",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_says_it_in_one_line_when_nothing_listens(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    url = f"postgresql://xuncha:s3cret@127.0.0.1:{free_port()}/xuncha"
    line = one_line(run(tmp_path, url, *args))
    assert line.startswith("错误：数据库不可用（postgresql://xuncha:***@127.0.0.1:")
    assert "连接被拒绝" in line and "[database] url" in line
    assert "s3cret" not in line


def test_registry_import_too(tmp_path: Path) -> None:
    sheet = tmp_path / "登记表.csv"
    sheet.write_text("单位编码,单位名称\nu1,青溪县\n", encoding="utf-8")
    url = f"postgresql://xuncha@127.0.0.1:{free_port()}/xuncha"
    assert "连接被拒绝" in one_line(run(tmp_path, url, "registry", "import", str(sheet)))


def _not_sqlite(tmp: Path) -> str:
    f = tmp / "notes.db"
    f.write_text("这是一份笔记，不是数据库\n" * 200, encoding="utf-8")
    return f"sqlite:///{f}"


MISTAKES = {
    "no such database": (
        lambda tmp: "postgresql://postgres@127.0.0.1:5432/xuncha_no_such_db",
        "数据库 xuncha_no_such_db 不存在",
    ),
    "not a SQLite file": (_not_sqlite, "该文件不是 SQLite 数据库"),
    "not an address": (lambda tmp: "postgres ql:/127.0.0.1", "数据库地址格式错误"),
    "unknown kind": (lambda tmp: "oracle+nosuch://u@h/db", "不支持的数据库类型"),
    "driver not installed": (lambda tmp: "mysql://u@127.0.0.1/db", "缺少数据库驱动 MySQLdb"),
    "directory cannot be made": (
        lambda tmp: f"sqlite:///{tmp}/blocked/sub/xuncha.db",
        "无法创建数据库所在目录",
    ),
}


# (a SQLite file that does not exist is 还没有数据库 for every command but init: tests/test_cli.py)
CASES = [(m, a) for m in MISTAKES for a in ("findings", "init")]
CASES.remove(("directory cannot be made", "findings"))


@pytest.mark.parametrize(("mistake", "command"), CASES)
def test_each_misconfiguration_is_named(tmp_path: Path, mistake: str, command: str) -> None:
    (tmp_path / "blocked").write_text("a file where a directory should be", encoding="utf-8")
    make, words = MISTAKES[mistake]
    line = one_line(run(tmp_path, make(tmp_path), command))
    assert line.startswith("错误：数据库不可用") and words in line


@pytest.mark.parametrize("mistake", ["nothing listens", *MISTAKES])
def test_doctor_says_it_as_one_check_and_goes_on(tmp_path: Path, mistake: str) -> None:
    (tmp_path / "blocked").write_text("a file where a directory should be", encoding="utf-8")
    if mistake == "nothing listens":
        url, words = f"postgresql://xuncha@127.0.0.1:{free_port()}/x", "连接被拒绝"
    else:
        make, words = MISTAKES[mistake]
        url = make(tmp_path)
    result = run(tmp_path, url, "doctor")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    lines = result.output.splitlines()
    database = [ln for ln in lines if "数据库" in ln and ln.startswith("需处理")]
    if mistake == "directory cannot be made":  # its SQLite file does not exist yet
        assert any("还没有数据库" in ln for ln in lines)
        return
    assert len(database) == 1 and words in database[0], result.output
    assert any(ln.startswith("OK") and "磁盘剩余" in ln for ln in lines)  # the rest is checked


def test_db_copy_names_the_side_that_failed(tmp_path: Path) -> None:
    here = f"sqlite:///{tmp_path / 'xuncha.db'}"
    assert run(tmp_path, here, "init").exit_code == 0
    there = f"postgresql://postgres:pw@127.0.0.1:{free_port()}/target"
    line = one_line(run(tmp_path, here, "db", "copy", "--to", there))
    assert "postgresql://postgres:***@127.0.0.1" in line and "--to" in line
