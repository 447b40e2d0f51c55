"""Issue 19: guessing cannot outrun the pause, and API tokens can be named, listed, expired
and revoked.

The guessing tests run the console in real uvicorn servers (two nodes on one database, as
several workers or hosts would be) and hit them with 40 requests at once over 40
connections; each runs on SQLite and on the local PostgreSQL. The token tests drive
``xuncha users token …`` (its clock pinned with ``XUNCHA_CLOCK``) and use the tokens on the
API, whose clock the test moves.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import structlog
import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from structlog.testing import capture_logs
from typer.testing import CliRunner

from monitor.app import App
from monitor.cli import app as cli
from monitor.config import Settings
from monitor.store.engine import session_scope
from monitor.store.models import AuditLog, LoginFailure
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import add_user, new_api_token
from monitor.web.server import bind
from tests.conftest import add_unit, open_app
from tests.test_web import FAST_HASHER, NOW, PASSWORD, csrf_of

BURST = 40


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test


@contextmanager
def serving(xapp: App, clock: Callable[[], datetime]) -> Iterator[str]:
    """The console in a real uvicorn (in a thread) on a free port; yields its base URL."""
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        create_app(xapp, clock=clock), log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def nodes(app: App, settings: Settings) -> Iterator[tuple[list[str], dict[str, datetime]]]:
    """Two console nodes (each its own App, engine and connection pool) on one database,
    with one clock the test moves; users ``sup`` and ``duty``."""
    add_unit(app, "GZ", "贵州省人民政府办公厅")
    with session_scope(app.engine) as s:
        add_user(s, "sup", "supervisor", "GZ", PASSWORD, NOW)
        add_user(s, "duty", "duty", "GZ", PASSWORD, NOW)
    at = {"now": NOW}
    other = open_app(settings)
    try:
        with serving(app, lambda: at["now"]) as a, serving(other, lambda: at["now"]) as b:
            yield [a, b], at
    finally:
        other.close()


def _client(local_address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client from ``local_address`` (any of 127.0.0.0/8: another client to the server)."""
    return httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(local_address=local_address),
        timeout=60,
        limits=httpx.Limits(max_connections=BURST + 5, max_keepalive_connections=0),
    )


async def _login_form(base: str) -> dict[str, str]:
    async with _client() as c:
        page = await c.get(f"{base}/login")
        return {"csrf": csrf_of(page.text), "cookie": c.cookies["xuncha_login_csrf"]}


def _recorded(xapp: App, name: str) -> int:
    with Session(xapp.engine) as s:
        return len(s.exec(select(LoginFailure).where(LoginFailure.name == name)).all())


def test_parallel_guesses_get_no_more_than_the_allowed_attempts(
    app: App, nodes: tuple[list[str], dict[str, datetime]]
) -> None:
    """39 wrong passwords and the right one for one name, at once, spread over two nodes:
    five are judged (401), every other is refused (429) without its password being looked
    at — the right one too, sent while the burst is in flight once five guesses are let
    through. Then the pause ends by itself: the refused ones did not prolong it."""
    bases, at = nodes
    attempts = app.settings.web.login_attempts
    assert attempts == 5  # the default

    async def burst() -> list[int]:
        form = await _login_form(bases[0])
        async with _client() as c:

            async def post(i: int, password: str) -> int:
                r = await c.post(
                    f"{bases[i % 2]}/login",
                    data={"name": "sup", "password": password, "csrf": form["csrf"]},
                    headers={"Cookie": f"xuncha_login_csrf={form['cookie']}"},
                )
                return r.status_code

            async def right() -> int:
                for _ in range(2000):  # the five guesses let through are recorded first
                    if _recorded(app, "sup") >= attempts:
                        break
                    await asyncio.sleep(0.005)
                return await post(1, PASSWORD)

            return await asyncio.gather(*(post(i, f"guess {i}") for i in range(BURST - 1)), right())

    with capture_logs() as logs:
        statuses = asyncio.run(burst())
    wrong, right = statuses[:-1], statuses[-1]
    assert sorted(set(wrong)) == [401, 429]
    assert wrong.count(401) == attempts and wrong.count(429) == BURST - 1 - attempts
    assert right == 429
    assert _recorded(app, "sup") == attempts  # refused attempts are not recorded
    events = [e["event"] for e in logs if e.get("user") == "sup"]
    assert events.count("login_failed") == attempts
    assert events.count("login_paused_now") == 1
    assert events.count("login_paused") == BURST - attempts

    async def one(name: str, password: str) -> int:
        form = await _login_form(bases[1])
        async with _client() as c:
            r = await c.post(
                f"{bases[1]}/login",
                data={"name": name, "password": password, "csrf": form["csrf"]},
                headers={"Cookie": f"xuncha_login_csrf={form['cookie']}"},
            )
            if r.status_code == 429:
                assert "登录已暂停" in r.text and r.headers["retry-after"] == "900"
            return r.status_code

    assert asyncio.run(one("sup", PASSWORD)) == 429
    assert asyncio.run(one("duty", PASSWORD)) == 303  # other names log in as usual
    at["now"] = NOW + timedelta(minutes=15, seconds=1)
    assert asyncio.run(one("sup", PASSWORD)) == 303
    assert _recorded(app, "sup") == 0  # a right password wipes the slate


def test_a_flood_of_guessed_tokens_is_paused_for_that_address(
    app: App, nodes: tuple[list[str], dict[str, datetime]]
) -> None:
    """40 guessed tokens at once from 127.0.0.1 over two nodes: ``token_attempts`` get 401,
    the rest 429 and the address stays paused, for its valid tokens too; a valid token from
    127.0.0.2 is served all along; the pause ends by itself."""
    bases, at = nodes
    attempts = app.settings.web.token_attempts
    assert attempts == 20  # the default
    with session_scope(app.engine) as s:
        good = new_api_token(s, auth.get_user(s, "sup"), NOW)
        other = new_api_token(s, auth.get_user(s, "duty"), NOW)

    async def me(c: httpx.AsyncClient, i: int, token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return (await c.get(f"{bases[i % 2]}/api/v1/me", headers=headers)).status_code

    async def flood() -> tuple[list[int], int]:
        async with _client() as bad, _client("127.0.0.2") as elsewhere:
            guesses = [me(bad, i, f"xct_guess{i:04d}") for i in range(BURST)]
            *statuses, fine = await asyncio.gather(*guesses, me(elsewhere, 0, other))
            return statuses, fine

    with capture_logs() as logs:
        statuses, fine = asyncio.run(flood())
    assert statuses.count(401) == attempts and statuses.count(429) == BURST - attempts
    assert fine == 200
    events = [(e["event"], e["address"]) for e in logs if e["event"].startswith("api_token")]
    assert events.count(("api_token_failed", "127.0.0.1")) == attempts
    assert events.count(("api_token_paused_now", "127.0.0.1")) == 1
    assert events.count(("api_token_paused", "127.0.0.1")) == BURST - attempts
    with Session(app.engine) as s:  # the audit log: each judged wrong token, not the refusals
        rows = s.exec(select(AuditLog).where(AuditLog.via == "api")).all()
    assert len(rows) == attempts and {(r.success, r.address) for r in rows} == {
        (False, "127.0.0.1")
    }

    async def after() -> tuple[httpx.Response, int, int]:
        async with _client() as bad, _client("127.0.0.2") as elsewhere:
            paused = await bad.get(
                f"{bases[1]}/api/v1/me", headers={"Authorization": f"Bearer {good}"}
            )
            return paused, await me(elsewhere, 1, good), await me(bad, 0, None)

    paused, served_elsewhere, no_token = asyncio.run(after())
    assert paused.status_code == 429 and paused.headers["retry-after"] == "900"
    assert "无效令牌过多" in paused.json()["detail"]
    assert served_elsewhere == 200 and no_token == 401  # no token: nothing guessed
    at["now"] = NOW + timedelta(minutes=15, seconds=1)

    async def later() -> int:
        async with _client() as c:
            return await me(c, 0, good)

    assert asyncio.run(later()) == 200


# -- token lifecycle through the CLI and the API ------------------------------------------------

CLI_AT = "2026-11-24T14:00:00+08:00"  # NOW, in Beijing: the commands' clock


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Path:
    c = tmp_path / "xuncha.toml"
    c.write_text(
        f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n'
        f'[database]\nurl = "{settings.database_url}"\n',
        encoding="utf-8",
    )
    xapp = open_app(settings)
    add_unit(xapp, "GZ", "贵州省人民政府办公厅")
    xapp.close()
    return c


def xuncha(cfg: Path, *args: str, at: str = CLI_AT, input: str | None = None):  # type: ignore[no-untyped-def]
    saved = structlog.get_config()
    try:
        r = CliRunner().invoke(
            cli, ["--config", str(cfg), *args], input=input, env={"XUNCHA_CLOCK": at}
        )
    finally:
        structlog.configure(**saved)
    return r.exit_code, r.stdout, r.stderr


def new_token(cfg: Path, *args: str) -> tuple[str, int]:
    code, out, err = xuncha(cfg, "users", "token", "zhang", *args)
    assert code == 0, err
    found = re.search(r"令牌 #(\d+)", err)
    assert found, err
    return out.strip(), int(found[1])


def test_tokens_are_named_listed_expire_and_are_revoked(settings: Settings, cfg: Path) -> None:
    code, _, err = xuncha(
        cfg, "users", "add", "zhang", "--role", "supervisor", "--unit", "GZ", "--password-stdin",
        input="A long password\n",
    )  # fmt: skip
    assert code == 0, err
    a, a_id = new_token(cfg, "--label", "值班大屏")
    b, b_id = new_token(cfg, "--label", "脚本", "--expires-days", "1")
    c, c_id = new_token(cfg)
    assert len({a, b, c}) == 3 and a_id < b_id < c_id
    assert all(re.fullmatch(r"xct_[A-Za-z0-9_-]{40,}", t) for t in (a, b, c))

    xapp = open_app(settings)
    at = {"now": NOW}
    api = TestClient(create_app(xapp, clock=lambda: at["now"]))

    def me(token: str) -> int:
        return api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    def listed(when: str = CLI_AT) -> dict[int, dict]:  # type: ignore[type-arg]
        code, out, err = xuncha(cfg, "users", "token", "zhang", "--list", "--json", at=when)
        assert code == 0, err
        return {t["id"]: t for t in json.loads(out)}

    try:
        assert [me(a), me(b), me(c)] == [200, 200, 200]  # several valid at once
        at["now"] = NOW + timedelta(seconds=30)
        assert me(a) == 200  # used again within the minute: not written again
        at["now"] = NOW + timedelta(minutes=2)
        assert me(c) == 200
        rows = listed()
        assert rows[a_id]["label"] == "值班大屏" and rows[c_id]["label"] == ""
        assert rows[a_id]["last_used_at"] == "2026-11-24T14:00:00+08:00"
        assert rows[c_id]["last_used_at"] == "2026-11-24T14:02:00+08:00"
        assert rows[b_id]["expires_at"].startswith("2026-11-25T14:00:0")
        assert rows[a_id]["expires_at"] is None and rows[a_id]["revoked_at"] is None
        assert {t["state"] for t in rows.values()} == {"active"}
        code, out, _ = xuncha(cfg, "users", "token", "zhang", "--list")
        assert code == 0 and "最近使用" in out and "值班大屏" in out and "不过期" in out
        assert "14:02" in out  # c's last use (an 80-column table wraps the date above it)

        # an expired token answers 401; the others go on
        at["now"] = NOW + timedelta(days=1, minutes=1)
        assert [me(a), me(b), me(c)] == [200, 401, 200]
        assert listed("2026-11-25T14:01:00+08:00")[b_id]["state"] == "expired"

        # one token revoked: 401 at once; the rest go on; twice is harmless; unknown is exit 2
        code, out, _ = xuncha(cfg, "users", "token", "zhang", "--revoke", str(a_id))
        assert code == 0 and f"已吊销用户 zhang 的令牌 #{a_id}" in out
        assert [me(a), me(c)] == [401, 200]
        code, out, _ = xuncha(cfg, "users", "token", "zhang", "--revoke", str(a_id))
        assert code == 0 and "此前已吊销" in out
        code, _, err = xuncha(cfg, "users", "token", "zhang", "--revoke", "999")
        assert code == 2 and "没有编号为 999 的令牌" in err
        assert listed()[a_id]["state"] == "revoked"
        # another user's token is not this user's to revoke
        xuncha(
            cfg, "users", "add", "li", "--role", "admin", "--password-stdin", input="Long enough\n"
        )
        code, _, err = xuncha(cfg, "users", "token", "li", "--revoke", str(c_id))
        assert code == 2 and me(c) == 200
        # options that do not go together
        code, _, err = xuncha(cfg, "users", "token", "zhang", "--list", "--revoke-all")
        assert code == 2 and "不能同时使用" in err
        code, _, err = xuncha(cfg, "users", "token", "zhang", "--revoke", "1", "--label", "x")
        assert code == 2 and "只用于生成新令牌" in err

        # a new password keeps them only when asked, and revokes them otherwise
        day_after = "2026-11-25T14:01:00+08:00"
        code, out, _ = xuncha(
            cfg, "users", "passwd", "zhang", "--keep-tokens", "--password-stdin",
            input="Another password\n", at=day_after,
        )  # fmt: skip
        assert code == 0 and "API 令牌保留" in out and me(c) == 200
        code, out, _ = xuncha(
            cfg, "users", "passwd", "zhang", "--password-stdin", input="A third password\n",
            at=day_after,
        )  # fmt: skip
        assert code == 0 and "其 API 令牌已吊销 2 个" in out  # c, and b (expired); a was already
        assert me(c) == 401

        # disabling revokes; enabling does not bring them back
        d, d_id = new_token(cfg, "--label", "新的")
        e, _ = new_token(cfg)
        assert [me(d), me(e)] == [200, 200]
        code, out, _ = xuncha(cfg, "users", "disable", "zhang")
        assert code == 0 and "已吊销 2 个" in out and [me(d), me(e)] == [401, 401]
        code, out, _ = xuncha(cfg, "users", "enable", "zhang")
        assert code == 0 and "不会恢复" in out
        assert [me(d), me(e)] == [401, 401]
        assert listed()[d_id]["state"] == "revoked"
        code, out, _ = xuncha(cfg, "users", "list", "--json")
        assert {u["name"]: u["api_tokens"] for u in json.loads(out)} == {"li": 0, "zhang": 0}
        # revoke-all
        new_token(cfg)
        new_token(cfg)
        code, out, _ = xuncha(cfg, "users", "token", "zhang", "--revoke-all")
        assert code == 0 and "本次 2 个" in out
        assert {t["state"] for t in listed().values()} == {"revoked"}
    finally:
        api.close()
        xapp.close()
