"""``xuncha users …`` and ``xuncha web`` as an admin runs them, and the console served by
``xuncha run`` (the async ``serve`` hook), stopped cleanly by cancellation."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
import structlog
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.store.models import ApiToken, User, WebSession
from monitor.web.server import serve
from tests.conftest import add_unit, make_settings, open_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    c = tmp_path / "xuncha.toml"
    c.write_text(
        f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n'
        f'[web]\naddress = "127.0.0.1"\nport = {free_port()}\n',
        encoding="utf-8",
    )
    xapp = open_app(make_settings(tmp_path))  # the same database file: data_dir/xuncha.db
    add_unit(xapp, "GZ", "贵州省人民政府办公厅")
    xapp.close()
    return c


def run(cfg: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """In-process (fast); the command's logging set-up is undone afterwards, since it binds
    structlog to the runner's short-lived stderr."""
    saved = structlog.get_config()
    try:
        r = CliRunner().invoke(cli, ["--config", str(cfg), *args], input=input)
    finally:
        structlog.configure(**saved)
    return r.exit_code, r.stdout, r.stderr


def test_users_commands(cfg: Path, tmp_path: Path) -> None:
    code, out, _ = run(
        cfg, "users", "add", "zhang", "--role", "supervisor", "--unit", "GZ", "--password-stdin",
        input="A long password\n",
    )  # fmt: skip
    assert code == 0, out
    assert "已添加用户 zhang" in out
    # bad input: a clear Chinese message, exit 2, nothing written
    code, _, err = run(
        cfg, "users", "add", "li", "--role", "duty", "--password-stdin", input="x" * 9
    )
    assert code == 2 and "--unit" in err
    code, _, err = run(
        cfg, "users", "add", "li", "--role", "duty", "--unit", "NOPE", "--password-stdin",
        input="A long password\n",
    )  # fmt: skip
    assert code == 2 and "单位 'NOPE' 不存在" in err
    code, _, err = run(cfg, "users", "add", "li", "--role", "boss", "--password-stdin", input="")
    assert code == 2 and "角色 'boss' 无效" in err
    code, _, err = run(
        cfg, "users", "add", "zhang", "--role", "admin", "--password-stdin", input="Long enough\n"
    )
    assert code == 2 and "已存在" in err
    code, _, err = run(
        cfg, "users", "add", "wang", "--role", "admin", "--password-stdin", input="short\n"
    )
    assert code == 2 and "至少 8 个字符" in err
    code, _, err = run(
        cfg, "users", "add", "wang", "--role", "admin", "--password-stdin", input="wang2026!X\n"
    )
    assert code == 2 and "不能包含用户名" in err

    code, out, _ = run(cfg, "users", "list", "--json")
    assert code == 0
    users = json.loads(out)
    assert [(u["name"], u["role"], u["unit"], u["api_tokens"]) for u in users] == [
        ("zhang", "supervisor", "GZ", 0)
    ]

    code, out, _ = run(cfg, "users", "token", "zhang")
    assert code == 0
    token = out.strip()
    assert re.fullmatch(r"xct_[A-Za-z0-9_-]{40,}", token)
    code, _, err = run(cfg, "users", "token", "nobody")
    assert code == 2 and "用户 'nobody' 不存在" in err

    xapp = open_app(make_settings(tmp_path))
    with Session(xapp.engine) as s:
        user = s.exec(select(User)).one()
        assert user.password_hash.startswith("$argon2id$")
        assert "A long password" not in user.password_hash
        assert s.exec(select(ApiToken)).one().token_hash != token
        s.add(WebSession(token_hash="x" * 64, user_id=user.id, csrf_token="c",
                         expires_at=user.created_at.replace(year=2099)))  # fmt: skip
        s.commit()
    # a new password ends the user's console logins
    code, out, _ = run(cfg, "users", "passwd", "zhang", "--password-stdin", input="Another one!\n")
    assert code == 0 and "已修改" in out
    with Session(xapp.engine) as s:
        assert s.exec(select(WebSession)).all() == []
    code, out, _ = run(cfg, "users", "disable", "zhang")
    assert code == 0 and "已停用" in out
    with Session(xapp.engine) as s:
        assert s.exec(select(User)).one().disabled
    assert run(cfg, "users", "enable", "zhang")[0] == 0
    xapp.close()


def test_xuncha_web_serves_and_stops_on_sigterm(cfg: Path) -> None:
    port = int(re.search(r"port = (\d+)", cfg.read_text())[1])  # type: ignore[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "web"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "xuncha web did not start"
                time.sleep(0.2)
        assert r.status_code == 200 and "登录" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        said = proc.communicate()[0]  # the address to open, printed once it listens
        assert f"控制台：http://127.0.0.1:{port}/" in said, said
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_hook_runs_inside_a_task_group_and_stops_on_cancel(tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(tmp_path, web={"enabled": True, "port": port})
    xapp = open_app(settings)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, xapp, settings)
            async with httpx.AsyncClient() as client:
                for _ in range(200):
                    try:
                        r = await client.get(f"http://127.0.0.1:{port}/api/v1/me")
                        break
                    except httpx.TransportError:
                        await anyio.sleep(0.05)
                assert r.status_code == 401  # up, and asking for a token
            tg.cancel_scope.cancel()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)

    anyio.run(main)
    # a taken port is logged and the patrol goes on: serve returns instead of exiting
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = make_settings(tmp_path, web={"enabled": True, "port": busy.getsockname()[1]})

        async def refused() -> None:
            with anyio.fail_after(10):
                await serve(xapp, taken)

        anyio.run(refused)
    xapp.close()
