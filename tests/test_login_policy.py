"""Issue 33 (等保 2.0 身份鉴别): logins limited per address as well as per name, a locked name
that does not lock its user out at their own desk, the password policy, the idle timeout
and the TOTP second factor — as a person at a browser meets them.

Clients at different addresses are TestClients with their own ``client`` address (the
console reads the address the server saw), or, for the parallel burst, httpx bound to
127.0.0.x against two real uvicorn nodes on one database (tests/test_web_security.py).
Every test runs on SQLite and on the local PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.app import App
from monitor.cli import app as cli
from monitor.config import Settings
from monitor.store.engine import session_scope
from monitor.store.models import AuditLog, User, WebSession
from monitor.web import auth, totp
from monitor.web.app import create_app
from monitor.web.auth import PasswordPolicy, UserError, add_user, get_user, set_password
from monitor.web.logins import remember_address
from monitor.web.passwords import classes_in, problems
from tests.conftest import add_unit, open_app
from tests.test_web import FAST_HASHER, NOW, PASSWORD, csrf_of
from tests.test_web_security import _client, _login_form, serving


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test


@pytest.fixture
def office(app: App) -> dict[str, datetime]:
    """贵州 (GZ) with a supervisor ``sup`` and ten duty officers ``duty0``…``duty9``; the
    clock every console in the test reads, which the test moves."""
    add_unit(app, "GZ", "贵州省人民政府办公厅")
    with session_scope(app.engine) as s:
        add_user(s, "sup", "supervisor", "GZ", PASSWORD, NOW)
        for i in range(10):
            add_user(s, f"duty{i}", "duty", "GZ", PASSWORD, NOW)
    return {"now": NOW}


def browser(app: App, at: dict[str, datetime], address: str) -> TestClient:
    """A browser at ``address`` (the console sees it as the client's address)."""
    return TestClient(
        create_app(app, clock=lambda: at["now"]), follow_redirects=False, client=(address, 50000)
    )


def log_in(c: TestClient, name: str, password: str = PASSWORD, code: str = "") -> httpx.Response:
    csrf = csrf_of(c.get("/login").text)
    form = {"name": name, "password": password, "csrf": csrf, "next": "/"}
    if code:
        form["code"] = code
    return c.post("/login", data=form)


def audit_rows(app: App, action: str = "login") -> list[AuditLog]:
    with Session(app.engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)).all())


# -- per address ----------------------------------------------------------------------------------


def test_one_address_spraying_many_names_is_paused(app: App, office: dict[str, datetime]) -> None:
    """40 wrong passwords at once from 127.0.0.1 over ten names (four each, under the
    per-name limit), spread over two nodes: ``login_address_attempts`` (10) are judged,
    the other 30 refused with 429 before any password is looked at. A user at another
    address logs in meanwhile; the pause ends by itself."""
    assert app.settings.web.login_address_attempts == 10  # the default
    with serving(app, lambda: office["now"]) as a, serving(app, lambda: office["now"]) as b:
        bases = [a, b]

        async def spray() -> tuple[list[httpx.Response], int]:
            form = await _login_form(a)
            async with _client() as bad, _client("127.0.0.2") as good:

                async def post(c: httpx.AsyncClient, i: int, name: str, pw: str) -> httpx.Response:
                    return await c.post(
                        f"{bases[i % 2]}/login",
                        data={"name": name, "password": pw, "csrf": form["csrf"]},
                        headers={"Cookie": f"xuncha_login_csrf={form['cookie']}"},
                    )

                guesses = [post(bad, i, f"duty{i % 10}", f"guess {i}") for i in range(40)]
                *wrong, fine = await asyncio.gather(*guesses, post(good, 1, "sup", PASSWORD))
                return wrong, fine.status_code

        wrong, fine = asyncio.run(spray())
        statuses = [r.status_code for r in wrong]
        assert statuses.count(401) == 10 and statuses.count(429) == 30
        assert all("来自该地址的登录失败次数过多" in r.text for r in wrong if r.status_code == 429)
        assert fine == 303  # another address is not touched
        failed = [r for r in audit_rows(app) if not r.success]
        assert len(failed) == 10 and {r.address for r in failed} == {"127.0.0.1"}
        assert sum('"paused": "address"' in r.detail for r in failed) == 1  # when it began

        # the right password from the paused address waits too; then the pause ends
        assert log_in(browser(app, office, "127.0.0.1"), "duty3").status_code == 429
        office["now"] = NOW + timedelta(minutes=15, seconds=1)
        assert log_in(browser(app, office, "127.0.0.1"), "duty3").status_code == 303


def test_a_stranger_cannot_lock_a_user_out_of_their_own_desk(
    app: App, office: dict[str, datetime]
) -> None:
    """``sup`` logged in from 127.0.0.1 yesterday. Five wrong guesses at ``sup`` from
    127.0.0.9 pause the name — at every address sup never used (the right password there
    waits: 429), but not at 127.0.0.1, where it logs in at once. The stranger's guesses are
    not wiped by that login: elsewhere the pause stands until it ends."""
    office["now"] = NOW - timedelta(days=1)
    assert log_in(browser(app, office, "127.0.0.1"), "sup").status_code == 303
    office["now"] = NOW
    stranger = browser(app, office, "127.0.0.9")
    codes = [log_in(stranger, "sup", f"guess{i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    r = log_in(browser(app, office, "127.0.0.4"), "sup")  # a new place, the right password
    assert r.status_code == 429 and "登录已暂停" in r.text
    assert log_in(browser(app, office, "127.0.0.1"), "sup").status_code == 303  # own desk
    assert log_in(browser(app, office, "127.0.0.4"), "sup").status_code == 429
    office["now"] = NOW + timedelta(minutes=15, seconds=1)
    assert log_in(browser(app, office, "127.0.0.4"), "sup").status_code == 303


def test_a_known_address_is_still_bounded_and_forgotten_in_time(
    app: App, office: dict[str, datetime]
) -> None:
    """The honest twins: at sup's own desk the address's own count still applies (ten
    wrong passwords from it pause it, for sup too), and a desk last used longer ago than
    ``known_address_days`` is a stranger's again."""
    with session_scope(app.engine) as s:
        remember_address(s, get_user(s, "sup"), "127.0.0.1", NOW - timedelta(hours=1), 30)
        remember_address(s, get_user(s, "duty1"), "127.0.0.5", NOW - timedelta(days=31), 30)
    desk = browser(app, office, "127.0.0.1")
    codes = [log_in(desk, "sup", f"typo{i}").status_code for i in range(11)]
    assert codes == [401] * 10 + [429]  # past five: the name's count does not apply here
    r = log_in(desk, "sup")
    assert r.status_code == 429 and "来自该地址" in r.text
    # duty1's stale desk: five wrong guesses at duty1 from elsewhere pause it there too
    stranger = browser(app, office, "127.0.0.9")
    assert [log_in(stranger, "duty1", f"g{i}").status_code for i in range(5)] == [401] * 5
    r = log_in(browser(app, office, "127.0.0.5"), "duty1")
    assert r.status_code == 429 and "登录已暂停" in r.text


# -- password policy ------------------------------------------------------------------------------


def test_the_password_policy_in_words() -> None:
    policy = PasswordPolicy()
    assert classes_in("abc") == 1 and classes_in("aB3") == 3 and classes_in("政务A1") == 3
    assert problems(policy, "zhang", "Correct horse 42") == []
    assert problems(policy, "zhang", "Ab1!x") == ["密码至少 8 个字符"]
    assert problems(policy, "zhang", "a long password") == [
        "密码须含小写字母、大写字母、数字、其他符号中的至少 3 类（现在只有 2 类）"
    ]
    assert problems(policy, "zhang", "Zhang2026!") == ["密码不能包含用户名"]
    assert problems(policy, "zhang", "gnahZ-2026") == ["密码不能包含用户名"]  # backwards
    assert problems(policy, "li", "Klima 2026") == []  # a short name may be inside a word
    assert problems(policy, "Li2026!x", "li2026!X") == ["密码不能包含用户名"]  # but not all of it
    loose = PasswordPolicy(min_length=10, classes=1, history=0)
    assert problems(loose, "zhang", "long enough") == []
    assert "至少 3 类" in PasswordPolicy().describe()


def test_a_password_is_none_of_the_last_five(app: App) -> None:
    add_unit(app, "GZ")
    with session_scope(app.engine) as s:
        user = add_user(s, "zhang", "duty", "GZ", "Password-0", NOW)
        for i in range(1, 6):
            set_password(s, user, f"Password-{i}", NOW)
        for old in ("Password-5", "Password-1"):  # the current one, and the fourth before it
            with pytest.raises(UserError, match="最近 5 次"):
                set_password(s, user, old, NOW)
        set_password(s, user, "Password-0", NOW)  # the fifth before: allowed again
        with pytest.raises(UserError, match="不能包含用户名"):
            set_password(s, user, "Zhang-2026", NOW)
        # configurable: no history kept, one class is enough
        loose = PasswordPolicy(classes=1, history=0)
        set_password(s, user, "Password-0", NOW, policy=loose)
        set_password(s, user, "only lower case", NOW, policy=loose)


def test_the_policy_comes_from_the_configuration(settings: Settings, tmp_path: Path) -> None:
    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n'
        f'[database]\nurl = "{settings.database_url}"\n'
        "[web]\npassword_min_length = 12\npassword_history = 2\n",
        encoding="utf-8",
    )
    open_app(settings).close()

    def users(*args: str, input: str) -> tuple[int, str]:
        r = CliRunner().invoke(cli, ["--config", str(cfg), "users", *args], input=input)
        return r.exit_code, r.stdout + r.stderr

    code, said = users("add", "wang", "--role", "admin", "--password-stdin", input="Short-pw1\n")
    assert code == 2 and "至少 12 个字符" in said
    first = "A longer one-1\n"
    assert users("add", "wang", "--role", "admin", "--password-stdin", input=first)[0] == 0
    assert users("passwd", "wang", "--password-stdin", input="Second one-2x\n")[0] == 0
    code, said = users("passwd", "wang", "--password-stdin", input="A longer one-1\n")
    assert code == 2 and "最近 2 次" in said
    assert users("passwd", "wang", "--password-stdin", input="Third one-3xx\n")[0] == 0
    assert users("passwd", "wang", "--password-stdin", input="A longer one-1\n")[0] == 0


# -- idle and absolute limits ---------------------------------------------------------------------


def test_a_login_left_idle_ends_and_one_in_use_lasts_its_hours(
    app: App, office: dict[str, datetime]
) -> None:
    """Idle 30 minutes (the default): back to the login page, the session gone, the audit
    log saying why. Used every 25 minutes, a login lives on — until its 12 hours end."""
    assert app.settings.web.idle_minutes == 30 and app.settings.web.session_hours == 12
    c = browser(app, office, "127.0.0.1")
    assert log_in(c, "sup").status_code == 303
    for _ in range(28):  # 28 × 25 min = 11 h 40 min of steady use
        office["now"] += timedelta(minutes=25)
        assert c.get("/findings").status_code == 200
    office["now"] = NOW + timedelta(hours=12)
    assert c.get("/findings").status_code == 303  # the absolute limit
    office["now"] = NOW + timedelta(days=1)
    assert log_in(c, "sup").status_code == 303
    office["now"] += timedelta(minutes=29, seconds=59)
    assert c.get("/findings").status_code == 200
    office["now"] += timedelta(minutes=30)
    r = c.get("/findings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with Session(app.engine) as s:
        assert s.exec(select(WebSession)).all() == []  # the idle one ended, the old one swept
    idle = [r for r in audit_rows(app, "logout") if '"idle"' in r.detail]
    assert [(r.actor, r.target) for r in idle] == [("sup", "sup")]


# -- the second factor ----------------------------------------------------------------------------


def hotp_by_hand(secret_b32: str, counter: int) -> str:
    """RFC 4226 §5.3, written out, to hold the library's arithmetic to the RFC."""
    mac = hmac.new(base64.b32decode(secret_b32), struct.pack(">Q", counter), hashlib.sha1)
    digest = mac.digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_totp_codes_are_rfc_6238() -> None:
    # RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); six digits are its last six
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(rfc_secret, datetime.fromtimestamp(59).astimezone()) == "287082"
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert totp.code_at(secret, NOW) == hotp_by_hand(secret, int(NOW.timestamp()) // 30)
    step = int(NOW.timestamp()) // 30
    assert totp.accepted_step(secret, totp.code_at(secret, NOW), NOW, None) == step
    earlier = totp.code_at(secret, NOW - timedelta(seconds=30))
    assert totp.accepted_step(secret, earlier, NOW, None) == step - 1  # a phone a bit slow
    too_old = totp.code_at(secret, NOW - timedelta(seconds=90))
    assert totp.accepted_step(secret, too_old, NOW, None) is None
    assert totp.accepted_step(secret, totp.code_at(secret, NOW), NOW, step) is None  # used


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    c = tmp_path / "xuncha.toml"
    c.write_text(
        f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n'
        f'[database]\nurl = "{settings.database_url}"\n',
        encoding="utf-8",
    )
    yield c


def test_a_user_enrolled_in_totp_logs_in_with_the_code(
    app: App, office: dict[str, datetime], cfg: Path
) -> None:
    r = CliRunner().invoke(cli, ["--config", str(cfg), "users", "totp", "sup"])
    assert r.exit_code == 0, r.stderr
    uri = r.stdout.strip()
    assert uri.startswith("otpauth://totp/xuncha:sup?") and "issuer=xuncha" in uri
    secret = re.search(r"secret=([A-Z2-7]+)", uri)[1]  # type: ignore[index]
    assert secret in r.stderr and "只显示这一次" in r.stderr
    c = browser(app, office, "127.0.0.1")

    # the right password alone: asked for the code, and no guess is spent on it
    r = log_in(c, "sup")
    assert r.status_code == 401 and "请输入密码和验证器应用上的 6 位动态口令" in r.text
    assert 'autocomplete="one-time-code"' in r.text and "required autofocus" in r.text
    wrong = log_in(c, "sup", code="000000" if totp.code_at(secret, NOW) != "000000" else "111111")
    assert wrong.status_code == 401 and "动态口令错误" in wrong.text
    good = totp.code_at(secret, NOW)
    assert log_in(c, "sup", code=good).status_code == 303
    # the same code again (seen over a shoulder): refused; the next one works
    assert log_in(browser(app, office, "127.0.0.2"), "sup", code=good).status_code == 401
    office["now"] = NOW + timedelta(seconds=30)
    later = totp.code_at(secret, office["now"])
    assert log_in(browser(app, office, "127.0.0.2"), "sup", code=later).status_code == 303
    # a code with the wrong password is a wrong password
    assert log_in(c, "sup", "not it 123", code=later).status_code == 401
    reasons = [r.detail for r in audit_rows(app) if not r.success]
    assert sum('"code"' in d for d in reasons) == 2 and sum('"password"' in d for d in reasons) == 1

    # removed: the password alone again
    r = CliRunner().invoke(cli, ["--config", str(cfg), "users", "totp", "sup", "--remove"])
    assert r.exit_code == 0 and "已解绑" in r.stdout
    assert log_in(browser(app, office, "127.0.0.3"), "sup").status_code == 303
    actions = [r.action for r in audit_rows(app, "user_totp")] + [
        r.action for r in audit_rows(app, "user_totp_remove")
    ]
    assert actions == ["user_totp", "user_totp_remove"]


def test_roles_that_require_totp_cannot_log_in_without_it(
    settings: Settings, office: dict[str, datetime]
) -> None:
    strict = settings.model_copy(
        update={"web": settings.web.model_copy(update={"totp_required_roles": ["supervisor"]})}
    )
    xapp = open_app(strict)
    try:
        r = log_in(browser(xapp, office, "127.0.0.1"), "sup")
        assert r.status_code == 401 and "须使用动态口令登录" in r.text
        assert log_in(browser(xapp, office, "127.0.0.1"), "duty1").status_code == 303
        with session_scope(xapp.engine) as s:
            from monitor.web.logins import enrol_totp

            secret = enrol_totp(s, get_user(s, "sup"))
        code = totp.code_at(secret, NOW)
        assert log_in(browser(xapp, office, "127.0.0.1"), "sup", code=code).status_code == 303
        with Session(xapp.engine) as s:
            assert s.exec(select(User).where(User.name == "sup")).one().totp_last_step
    finally:
        xapp.close()
