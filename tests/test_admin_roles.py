"""Issue 33 (等保 2.0 访问控制, 三权分立): three administrators with separated rights, as
they use the console — alice the 系统管理员 (configuration, registry, channels), bob the
安全管理员 (users, roles, sessions), charlie the 审计管理员 (reads the audit log, nothing
else) — beside ``admin``, who keeps every unit's pages and none of the three rights.

Each may do their own part and nothing of another's: the same request answers 403 to the
others (pages and API alike), and none of the three sees any unit's data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from monitor.store.engine import session_scope
from monitor.store.models import AuditLog, User, WebSession
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import UserError, add_user, new_api_token
from monitor.web.roles import ADMIN_ROLES, RIGHTS, ROLES
from tests.conftest import make_settings, open_app
from tests.test_web import FAST_HASHER, NOW, PASSWORD, World, build_world, csrf_of

ROOT = Path(__file__).resolve().parents[1]
PERSONAS = {"alice": "system", "bob": "security", "charlie": "audit", "admin": "admin"}
HOME = {"alice": "/system", "bob": "/security", "charlie": "/audit", "admin": "/"}
SECRET_CHANNEL = "dingtalk://SECRETTOKEN0123456789/"
SECRET_OPS = "wecom://OPSKEY456/"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)


@pytest.fixture
def world(tmp_path: Path) -> World:
    """tests/test_web.py's world (GZ and its cities, XZ; admin, sup, duty_gy, duty_xz),
    channels with secrets in the configuration, and the three administrators."""
    settings = make_settings(
        tmp_path, channels={"gz": SECRET_CHANNEL}, alerts={"ops_channels": [SECRET_OPS]}
    )
    w = build_world(open_app(settings))
    with session_scope(w.xapp.engine) as s:
        for name in ("alice", "bob", "charlie"):
            user = add_user(s, name, PERSONAS[name], None, PASSWORD, NOW)
            w.tokens[name] = new_api_token(s, user, NOW)
    yield w  # type: ignore[misc]
    w.xapp.close()


def browser(w: World, name: str) -> TestClient:
    """``name`` logged in; the login's redirect is their home page."""
    c = TestClient(create_app(w.xapp, clock=lambda: NOW), follow_redirects=False)
    csrf = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == HOME[name], (name, r.text)
    return c


def test_each_administrator_lands_on_their_own_page(world: World) -> None:
    for name in PERSONAS:
        c = browser(world, name)
        home = c.get(HOME[name])
        assert home.status_code == 200
        menu = re.search(r'<nav aria-label="主菜单">(.*?)</nav>', home.text, re.S)[1]  # type: ignore[index]
        links = re.findall(r'href="(/[a-z]*)"', menu)
        expected = {
            "alice": ["/system"], "bob": ["/security"], "charlie": ["/audit"],
            # the platforms' logged-in sessions (monitor/web/sessions.py) are the admin's
            "admin": [
                "/", "/accounts", "/findings", "/activity", "/reports", "/review", "/sessions"
            ],
        }[name]  # fmt: skip
        assert links == expected, (name, links)
        assert f"（{ROLES[PERSONAS[name]]}）" in home.text
        if name != "admin":  # the overview (the logo, a bookmark) leads home
            r = c.get("/")
            assert r.status_code == 303 and r.headers["location"] == HOME[name]


def test_each_may_do_their_part_and_nothing_of_anothers(world: World) -> None:
    finding, snap = world.findings["gy-weibo"], world.snaps["gy-weibo"][0]
    pages = {
        "/accounts": {"admin"}, "/findings": {"admin"}, f"/findings/{finding}": {"admin"},
        f"/snapshots/{snap}": {"admin"}, "/reports": {"admin"}, "/activity": {"admin"},
        "/activity/download": {"admin"}, "/reports/annual?year=2026": {"admin"},
        "/system": {"alice"}, "/security": {"bob"}, "/audit": {"charlie"},
        "/audit/export?format=csv": {"charlie"}, "/audit?verify=1": {"charlie"},
        "/sessions": {"admin"},
    }  # fmt: skip
    for name in PERSONAS:
        c = browser(world, name)
        csrf = csrf_of(c.get(HOME[name]).text)
        for url, allowed in pages.items():
            r = c.get(url)
            want = 200 if name in allowed else 403
            assert r.status_code == want, (name, url, r.status_code)
            if want == 403:
                assert "无权使用此功能" in r.text
        posts = {
            f"/findings/{finding}/ack": ({"admin"}, {"note": ""}),
            "/security/users/duty_xz/disable": ({"bob"}, {}),
            "/security/users/duty_xz/enable": ({"bob"}, {}),
            "/security/users/sup/sessions/end": ({"bob"}, {}),
            "/security/users/duty_gy/role": ({"bob"}, {"role": "duty", "unit": "GZ-GY"}),
        }
        for url, (allowed, form) in posts.items():
            r = c.post(url, data={"csrf": csrf, **form})
            assert r.status_code == (303 if name in allowed else 403), (name, url, r.text)
        assert c.post("/audit", data={"csrf": csrf}).status_code == 405  # no way to write
    api = TestClient(create_app(world.xapp, clock=lambda: NOW))
    endpoints = {"/api/v1/findings": {"admin"}, "/api/v1/accounts": {"admin"},
                 "/api/v1/audit": {"charlie"}}  # fmt: skip
    for name in PERSONAS:
        h = {"Authorization": f"Bearer {world.tokens[name]}"}
        me = api.get("/api/v1/me", headers=h).json()
        assert me["role"] == PERSONAS[name] and me["rights"] == sorted(RIGHTS[PERSONAS[name]])
        if name != "admin":
            assert me["units"] == []  # no unit's data, even through the API
        for url, allowed in endpoints.items():
            assert api.get(url, headers=h).status_code == (200 if name in allowed else 403)


def test_bob_manages_users_and_charlie_reads_what_he_did(world: World) -> None:
    bob = browser(world, "bob")
    duty_xz = browser_of(world, "duty_xz")
    page = bob.get("/security")
    assert "duty_xz" in page.text and "用户与会话" in page.text and "至少 8 个字符" in page.text
    csrf = csrf_of(page.text)

    # a new role takes effect with the next request; bob's own account is another's to change
    r = bob.post("/security/users/duty_gy/role",
                 data={"csrf": csrf, "role": "supervisor", "unit": "GZ"})  # fmt: skip
    assert r.status_code == 303
    r = bob.post("/security/users/bob/role", data={"csrf": csrf, "role": "admin", "unit": ""})
    assert r.status_code == 409 and "不能在此更改自己的账户" in r.text
    r = bob.post("/security/users/sup/role", data={"csrf": csrf, "role": "duty", "unit": ""})
    assert r.status_code == 400 and "须指定所属单位" in r.text  # nothing changed
    r = bob.post("/security/users/alice/role", data={"csrf": csrf, "role": "audit", "unit": "GZ"})
    assert r.status_code == 303  # the unit the form kept does not apply to an administrator
    # disabled: their open login ends at once
    assert duty_xz.get("/findings").status_code == 200
    assert bob.post("/security/users/duty_xz/disable", data={"csrf": csrf}).status_code == 303
    assert duty_xz.get("/findings").status_code == 303
    with Session(world.xapp.engine) as s:
        assert s.exec(select(User).where(User.name == "duty_gy")).one().role == "supervisor"
        alice = s.exec(select(User).where(User.name == "alice")).one()
        assert (alice.role, alice.unit_code) == ("audit", None)
        assert s.exec(select(User).where(User.name == "sup")).one().unit_code == "GZ"
        xz = s.exec(select(User).where(User.name == "duty_xz")).one()
        assert xz.disabled and not s.exec(
            select(WebSession).where(WebSession.user_id == xz.id)
        ).all()

    charlie = browser(world, "charlie")
    log = charlie.get("/audit?actor=bob")
    assert log.status_code == 200
    cells = re.findall(r'<td data-label="操作">([^<]+)</td>', log.text)
    # newest first; the refused changes changed nothing and are not there
    assert cells == ["停用用户", "更改角色", "更改角色", "登录"]
    verified = charlie.get("/audit?verify=1")
    assert "记录链完整" in verified.text
    export = charlie.get("/audit/export?format=csv&actor=bob")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    text = export.content.decode("utf-8-sig")
    assert text.startswith("序号,时间,操作人") and "duty_gy" in text
    with Session(world.xapp.engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.seq)).all()
    done = [(r.actor, r.via, r.action, r.target) for r in rows if r.actor in ("bob", "charlie")]
    assert ("bob", "web", "user_role", "duty_gy") in done
    assert ("bob", "web", "user_disable", "duty_xz") in done
    assert ("charlie", "web", "audit_export", "4 条") in done
    assert all(r.address == "testclient" for r in rows if r.actor == "bob")


def browser_of(w: World, name: str) -> TestClient:
    """A unit's user logged in (they land on the overview)."""
    c = TestClient(create_app(w.xapp, clock=lambda: NOW), follow_redirects=False)
    csrf = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    return c


def test_alice_sees_the_system_and_none_of_its_secrets(world: World) -> None:
    page = browser(world, "alice").get("/system")
    assert page.status_code == 200
    assert "登记表" in page.text and "在用账号" in page.text and "通知渠道" in page.text
    assert "@gz：dingtalk://…" in page.text and "wecom://…" in page.text
    assert "SECRETTOKEN" not in page.text and "OPSKEY" not in page.text
    assert "login_attempts" in page.text and "idle_minutes" in page.text  # [web] in effect
    # units without a channel are listed for her to fix
    assert "未设通知渠道的单位" in page.text and "贵州省人民政府办公厅" in page.text


def test_one_role_each_and_administrators_belong_to_no_unit(world: World) -> None:
    with session_scope(world.xapp.engine) as s:
        for role in ADMIN_ROLES:
            with pytest.raises(UserError, match="不属于某个单位"):
                add_user(s, f"x-{role}", role, "GZ", PASSWORD, NOW)
        with pytest.raises(UserError, match="角色 'root' 无效"):
            add_user(s, "x", "root", None, PASSWORD, NOW)
    # no role holds two of the three rights; admin holds none of them
    separated = {"system", "security", "audit"}
    assert all(len(RIGHTS[r] & separated) <= 1 for r in ROLES)
    assert not RIGHTS["admin"] & separated


def test_the_roles_table_in_the_docs_is_the_code(world: World) -> None:
    doc = (ROOT / "docs" / "console.md").read_text(encoding="utf-8")
    table = doc[doc.index("| 角色 |") :].split("\n\n")[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    assert [re.search(r"`(\w+)`", r)[1] for r in rows] == list(ROLES)  # type: ignore[index]
    for row, (code, label) in zip(rows, ROLES.items(), strict=True):
        assert label in row, (code, row)
