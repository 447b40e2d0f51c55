"""The console and API as its three personas use them: a supervisor of a region, a duty
officer of one unit inside it, and a duty officer of an unrelated unit.

Nobody reads or acknowledges what is not theirs (pages, API, downloads, evidence files,
diffs): other units' objects answer 404, exactly like objects that do not exist.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select
from structlog.testing import capture_logs

from monitor.app import App
from monitor.store.engine import session_scope
from monitor.store.models import Finding, FindingEvent, Snapshot, WebSession
from monitor.store.snapshots import add_snapshot
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import add_user, new_api_token
from probes.model import Observation, Outcome, Post, Profile
from tests.conftest import add_account, add_unit, make_settings, open_app

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # a Tuesday, 14:00 in Beijing
PASSWORD = "correct horse 42"
EVIL = "<script>alert('pwned')</script>"


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class World:
    xapp: App
    snaps: dict[str, list[int]] = field(default_factory=dict)  # account -> ids, oldest first
    findings: dict[str, int] = field(default_factory=dict)  # account -> open finding id
    tokens: dict[str, str] = field(default_factory=dict)  # user -> API token


def _snapshot(xapp: App, account: str, at: datetime, obs: Observation, artifacts=()) -> int:
    stored = []
    for kind, media, content in artifacts:
        digest = xapp.blobs.put(content)
        stored.append(
            {"kind": kind, "media_type": media, "sha256": digest, "size": len(content), "url": ""}
        )
    facts = obs.facts()
    dated = [p.published_at for p in obs.posts if p.published_at and not p.pinned]
    with session_scope(xapp.engine) as s:
        snap = Snapshot(
            account_id=account, taken_at=at, node="test-node", reader=obs.reader, url=obs.url,
            outcome=obs.outcome.value, status_code=obs.status_code,
            latest_post_at=max(dated) if dated else None, post_count=len(obs.posts),
            artifacts=stored,
        )  # fmt: skip
        add_snapshot(s, snap, facts)  # its facts stored, its profile marked, as a check would
        s.flush()
        assert snap.id is not None
        return snap.id


def _obs(account: str, at: datetime, name: str, posts: list[Post]) -> Observation:
    return Observation(
        account_id=account, reader="rss", url=f"https://weibo.example/{account}", fetched_at=at,
        outcome=Outcome.ok, status_code=200, profile=Profile(name=name, bio="官方账号"),
        posts=posts,
    )  # fmt: skip


def _finding(xapp: App, account: str, snap: int, kind: str, severity: str, title: str) -> int:
    with session_scope(xapp.engine) as s:
        f = Finding(
            account_id=account, kind=kind, severity=severity, title=title, detail=title,
            rule="national.max_gap_days(14)", opened_at=NOW - timedelta(days=1),
            updated_at=NOW - timedelta(days=1), first_snapshot_id=snap, last_snapshot_id=snap,
            evidence={"note": EVIL},
        )  # fmt: skip
        s.add(f)
        s.flush()
        assert f.id is not None
        return f.id


def build_world(xapp: App) -> World:
    """贵州省 (GZ) with two cities inside it, and an unrelated unit (XZ) elsewhere."""
    w = World(xapp)
    add_unit(xapp, "GZ", "贵州省人民政府办公厅")
    add_unit(xapp, "GZ-GY", "贵阳市人民政府办公厅", parent="GZ")
    add_unit(xapp, "GZ-ZY", "遵义市人民政府办公厅", parent="GZ")
    add_unit(xapp, "XZ", "西藏自治区人民政府办公厅")
    add_account(xapp, "gy-weibo", "GZ-GY", "https://weibo.example/gy", name="贵阳发布")
    add_account(xapp, "zy-weibo", "GZ-ZY", "https://weibo.example/zy", name="遵义发布")
    add_account(xapp, "xz-weibo", "XZ", "https://weibo.example/xz", name="西藏发布")

    def post(i: int, days_ago: float, text: str = "", url: str = "") -> Post:
        return Post(
            id=str(i), published_at=NOW - timedelta(days=days_ago), title=f"第{i}条通知",
            text=text or f"内容{i}", url=url or f"https://weibo.example/p/{i}",
        )  # fmt: skip

    html = f"<html><body><h1>贵阳发布</h1>{EVIL}<img src=x onerror=alert(1)></body></html>"
    # 贵阳: a normal account, then stolen: new name and a hostile post
    t1, t2 = NOW - timedelta(days=3), NOW - timedelta(hours=2)
    a1 = _snapshot(
        xapp, "gy-weibo", t1, _obs("gy-weibo", t1, "贵阳发布", [post(1, 4), post(2, 3.5)]),
        [("page", "text/html", html.encode()), ("screenshot", "image/png", png_bytes())],
    )  # fmt: skip
    stolen = [post(3, 0.2, text=EVIL, url="javascript:alert(1)"), post(2, 3.5)]
    a2 = _snapshot(
        xapp, "gy-weibo", t2, _obs("gy-weibo", t2, f"{EVIL}低价代购", stolen),
        [("page", "text/html", html.encode() + b"<!-- v2 -->"),
         ("screenshot", "image/png", png_bytes()),
         ("json", "image/png", b"<html><script>alert(1)</script>")],  # lies about its type
    )  # fmt: skip
    w.snaps["gy-weibo"] = [a1, a2]
    # 遵义: last post 12 days ago -> breaches the national 14-day rule within two working days
    zy_obs = _obs("zy-weibo", t2, "遵义发布", [post(10, 12.7)])
    w.snaps["zy-weibo"] = [_snapshot(xapp, "zy-weibo", t2, zy_obs)]
    x1 = _snapshot(xapp, "xz-weibo", t1, _obs("xz-weibo", t1, "西藏发布", [post(20, 1)]),
                   [("screenshot", "image/png", png_bytes())])  # fmt: skip
    x2 = _snapshot(xapp, "xz-weibo", t2, _obs("xz-weibo", t2, "西藏发布", [post(21, 0.1)]))
    w.snaps["xz-weibo"] = [x1, x2]

    w.findings["gy-weibo"] = _finding(xapp, "gy-weibo", a2, "theft", "veto", "疑似被盗用：" + EVIL)
    w.findings["zy-weibo"] = _finding(xapp, "zy-weibo", w.snaps["zy-weibo"][0], "stale_soon",
                                      "warning", "即将超期")  # fmt: skip
    w.findings["xz-weibo"] = _finding(xapp, "xz-weibo", x2, "commercial", "high", "商业广告")

    with session_scope(xapp.engine) as s:
        for name, role, unit in (
            ("admin", "admin", None),
            ("sup", "supervisor", "GZ"),
            ("duty_gy", "duty", "GZ-GY"),
            ("duty_xz", "duty", "XZ"),
        ):
            user = add_user(s, name, role, unit, PASSWORD, NOW)
            w.tokens[name] = new_api_token(s, user, NOW)
    return w


def client_for(xapp: App) -> TestClient:
    return TestClient(create_app(xapp, clock=lambda: NOW), follow_redirects=False)


def login(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    r = client.post(
        "/login", data={"name": name, "password": password, "csrf": csrf[1], "next": "/"}
    )
    assert r.status_code == 303, r.text
    return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m
    return m[1]


def api(client: TestClient, w: World, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.tokens[user]}"}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same argon2id, with the cheapest parameters: hashing speed is not under test."""
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)


@pytest.fixture
def sq_app(tmp_path: Path) -> Iterator[App]:
    a = open_app(make_settings(tmp_path))
    yield a
    a.close()


@pytest.fixture
def world(sq_app: App) -> World:
    return build_world(sq_app)


# -- who sees what -------------------------------------------------------------------------------

VISIBLE = {
    "admin": {"gy-weibo", "zy-weibo", "xz-weibo"},
    "sup": {"gy-weibo", "zy-weibo"},
    "duty_gy": {"gy-weibo"},
    "duty_xz": {"xz-weibo"},
}


def test_each_persona_sees_only_their_units(app: App) -> None:
    """On both backends: pages, API, evidence files, diffs, findings, acknowledgement."""
    w = build_world(app)
    for user in ("sup", "duty_gy", "duty_xz"):
        c = login(client_for(app), user)
        h = api(c, w, user)
        mine = VISIBLE[user]
        listed = {a["id"] for a in c.get("/api/v1/accounts", headers=h).json()}
        assert listed == mine
        assert {f["account"] for f in c.get("/api/v1/findings", headers=h).json()} == mine
        overview = c.get("/api/v1/overview", headers=h).json()
        by_unit = {u["key"] for u in overview["open_findings"]["by_unit"]}
        assert by_unit == {"sup": {"GZ-GY", "GZ-ZY"}, "duty_gy": {"GZ-GY"}, "duty_xz": {"XZ"}}[user]
        page = c.get("/accounts").text
        for account in VISIBLE["admin"]:
            assert (f"/accounts/{account}" in page) == (account in mine)
        findings_page = c.get("/findings?status=all").text
        for account, fid in w.findings.items():
            assert (f'/findings/{fid}"' in findings_page) == (account in mine)

        for account, snaps in w.snaps.items():
            ok = account in mine
            want = 200 if ok else 404
            assert c.get(f"/accounts/{account}").status_code == want
            assert c.get(f"/api/v1/accounts/{account}", headers=h).status_code == want
            assert c.get(f"/api/v1/accounts/{account}/snapshots", headers=h).status_code == want
            assert c.get(f"/api/v1/accounts/{account}/timeline", headers=h).status_code == want
            assert c.get(f"/snapshots/{snaps[0]}").status_code == want
            assert c.get(f"/api/v1/snapshots/{snaps[0]}", headers=h).status_code == want
            assert c.get(f"/snapshots/{snaps[0]}/artifacts/0").status_code in (
                (200, 404) if ok else (404,)
            )
            assert c.get(f"/api/v1/snapshots/{snaps[0]}/artifacts/0", headers=h).status_code in (
                (200, 404) if ok else (404,)
            )
            fid = w.findings[account]
            assert c.get(f"/findings/{fid}").status_code == want
            assert c.get(f"/api/v1/findings/{fid}", headers=h).status_code == want
            # a diff across two units: 404 unless both are the asker's
            other = w.snaps["gy-weibo"][0] if account != "gy-weibo" else w.snaps["xz-weibo"][0]
            cross_ok = ok and ("gy-weibo" in mine if account != "gy-weibo" else "xz-weibo" in mine)
            r = c.get(f"/api/v1/diff?a={snaps[0]}&b={other}", headers=h)
            assert r.status_code == (400 if cross_ok else 404)
            assert c.get(f"/diff?a={other}&b={snaps[0]}").status_code == (400 if cross_ok else 404)

        # an unknown object looks exactly like someone else's
        assert c.get("/snapshots/999999").status_code == 404
        assert (
            c.get("/api/v1/snapshots/999999", headers=h).json()
            == c.get(
                f"/api/v1/snapshots/{w.snaps[next(iter(set(w.snaps) - mine))][0]}", headers=h
            ).json()
        )

    # acknowledging: only one's own findings, by page form and by API
    c = login(client_for(app), "duty_gy")
    token = csrf_of(c.get("/findings").text)
    xz = w.findings["xz-weibo"]
    assert c.post(f"/findings/{xz}/ack", data={"csrf": token}).status_code == 404
    r = c.post(f"/api/v1/findings/{xz}/ack", json={"note": "x"}, headers=api(c, w, "duty_gy"))
    assert r.status_code == 404
    gy = w.findings["gy-weibo"]
    r = c.post(f"/findings/{gy}/ack", data={"csrf": token, "note": "已通知主办单位"})
    assert r.status_code == 303
    with Session(app.engine) as s:
        assert s.get(Finding, xz).acknowledged_at is None
        assert s.get(Finding, gy).acknowledged_by == "duty_gy"
        ev = s.exec(select(FindingEvent).where(FindingEvent.finding_id == gy)).one()
        assert ev.detail == {"by": "duty_gy", "note": "已通知主办单位"}


def test_reports_are_scoped(world: World) -> None:
    xapp = world.xapp
    sup = login(client_for(xapp), "sup")
    r = sup.get("/reports/download?period=2026Q4&unit=GZ&format=xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.content[:2] == b"PK"
    csv = sup.get("/reports/download?period=2026Q4&format=csv")  # default: the user's unit
    assert csv.status_code == 200 and "遵义" in csv.content.decode("utf-8-sig")
    assert "西藏" not in csv.content.decode("utf-8-sig")
    # not theirs: 404; an unknown unit: the same 404
    assert sup.get("/reports/download?period=2026Q4&unit=XZ").status_code == 404
    assert sup.get("/reports/download?period=2026Q4&unit=NOPE").status_code == 404
    h = {"Authorization": f"Bearer {world.tokens['duty_xz']}"}
    assert sup.get("/api/v1/reports/2026Q4?unit=GZ", headers=h).status_code == 404
    r = sup.get("/api/v1/reports/2026Q4?format=html", headers=h)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    # the 公文 too, through the API as through the console
    doc = sup.get("/api/v1/reports/2026Q4?format=docx", headers=h)
    assert doc.status_code == 200 and doc.headers["content-disposition"].endswith('.docx"')
    assert "贵阳" not in r.text and "西藏" in r.text
    j = sup.get("/api/v1/reports/2026Q4?format=json", headers=h).json()
    assert j["unit_code"] == "XZ" and j["period"] == "2026Q4"
    gy = login(client_for(xapp), "duty_gy")
    assert gy.get("/reports/download?period=2026-11&format=csv").status_code == 200
    assert gy.get("/reports/download?period=2026-11&unit=GZ").status_code == 404
    # a period nobody can read: a Chinese message, not a traceback
    bad = sup.get("/reports/download?period=2026Q9")
    assert bad.status_code == 400 and "无法识别的统计周期" in bad.text


# -- hostile content ---------------------------------------------------------------------------


def test_scraped_content_is_never_rendered(world: World) -> None:
    c = login(client_for(world.xapp), "duty_gy")
    old, new = world.snaps["gy-weibo"]
    for path in (
        f"/snapshots/{new}", f"/diff?a={old}&b={new}", "/findings", "/accounts/gy-weibo",
        f"/findings/{world.findings['gy-weibo']}",
    ):  # fmt: skip
        r = c.get(path)
        assert r.status_code == 200, path
        assert EVIL not in r.text, path
        assert "&lt;script&gt;" in r.text, path
        assert 'href="javascript:' not in r.text
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"

    # the raw page: text/plain or an attachment, never HTML
    raw = c.get(f"/snapshots/{new}/artifacts/0")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in raw.headers["content-security-policy"]
    assert EVIL in raw.text  # shown as the text it is
    dl = c.get(f"/snapshots/{new}/artifacts/0?download=1")
    assert dl.headers["content-type"] == "application/octet-stream"
    assert dl.headers["content-disposition"].startswith("attachment;")
    # the screenshot is an image, checked by its bytes
    shot = c.get(f"/snapshots/{new}/artifacts/1")
    assert shot.headers["content-type"] == "image/png"
    assert shot.headers["x-content-type-options"] == "nosniff"
    assert shot.content.startswith(b"\x89PNG")
    # a blob claiming to be a PNG that is really HTML is not served as an image
    liar = c.get(f"/snapshots/{new}/artifacts/2")
    assert liar.headers["content-type"] == "application/octet-stream"
    assert liar.headers["content-disposition"].startswith("attachment;")
    assert c.get(f"/snapshots/{new}/artifacts/3").status_code == 404


# -- logins, sessions, CSRF, tokens ------------------------------------------------------------


def test_login_session_and_csrf(world: World) -> None:
    xapp = world.xapp
    anon = client_for(xapp)
    r = anon.get("/accounts/gy-weibo")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    page = anon.get("/login")
    token = csrf_of(page.text)
    bad = anon.post("/login", data={"name": "sup", "password": "wrong", "csrf": token})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    # a login form posted without the form's token (from another site) is refused
    other = client_for(xapp)
    r = other.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403
    # an open redirect through ?next= is not possible
    r = anon.post(
        "/login", data={"name": "sup", "password": PASSWORD, "csrf": token, "next": "//evil.ex"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.cookies.get("xuncha_session") or anon.cookies.get("xuncha_session")
    assert cookie
    set_cookie = r.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert anon.get("/").status_code == 200

    # every form needs the session's CSRF token
    fid = world.findings["gy-weibo"]
    assert anon.post(f"/findings/{fid}/ack", data={"note": "x"}).status_code == 403
    assert anon.post(f"/findings/{fid}/ack", data={"csrf": "nope"}).status_code == 403
    assert anon.post("/logout", data={}).status_code == 403
    with Session(xapp.engine) as s:
        assert s.get(Finding, fid).acknowledged_at is None

    # sessions expire
    later = TestClient(
        create_app(xapp, clock=lambda: NOW + timedelta(hours=13)), follow_redirects=False
    )
    later.cookies.set("xuncha_session", cookie)
    assert later.get("/").status_code == 303
    # logging out ends the session on the server, not only in this browser
    token = csrf_of(anon.get("/").text)
    assert anon.post("/logout", data={"csrf": token}).status_code == 303
    again = client_for(xapp)
    again.cookies.set("xuncha_session", cookie)
    assert again.get("/").status_code == 303
    with Session(xapp.engine) as s:
        assert all(ws.token_hash != cookie for ws in s.exec(select(WebSession)))


def test_password_guessing_pauses_logins_as_that_name(world: World) -> None:
    xapp = world.xapp
    at = {"now": NOW}

    def node() -> TestClient:  # each is a fresh app on the same database: another node
        return TestClient(create_app(xapp, clock=lambda: at["now"]), follow_redirects=False)

    def attempt(name: str, password: str) -> object:
        c = node()
        token = csrf_of(c.get("/login").text)
        return c.post("/login", data={"name": name, "password": password, "csrf": token})

    with capture_logs() as logs:
        for _ in range(5):
            assert attempt("sup", "guess").status_code == 401
        # the sixth try is refused even with the right password, on any node, with when to
        # retry; ops read each wrong password and the pause in the log, with the address
        r = attempt("sup", PASSWORD)
    events = [(e["event"], e["user"], e["address"]) for e in logs if e["event"].startswith("login")]
    assert events == [("login_failed", "sup", "testclient")] * 5 + [
        ("login_paused_now", "sup", "testclient"),
        ("login_paused", "sup", "testclient"),
    ]
    assert r.status_code == 429
    # 06:00 UTC + 15 min, in Beijing and in the one format every page uses
    assert "登录已暂停" in r.text and "请于 2026-11-24 14:15 后再试" in r.text
    # others log in as usual
    assert attempt("duty_gy", PASSWORD).status_code == 303
    # a name that does not exist is paused alike: the pause tells nobody which names exist
    for _ in range(5):
        assert attempt("ghost", "guess").status_code == 401
    assert attempt("ghost", "guess").status_code == 429

    # the pause ends by itself...
    at["now"] = NOW + timedelta(minutes=15, seconds=1)
    assert attempt("sup", PASSWORD).status_code == 303
    # ...and a good login wipes the slate: four more wrong ones do not pause it again
    for _ in range(4):
        assert attempt("sup", "guess").status_code == 401
    assert attempt("sup", PASSWORD).status_code == 303

    # an admin's new password lifts a pause at once
    for _ in range(5):
        attempt("duty_xz", "guess")
    assert attempt("duty_xz", PASSWORD).status_code == 429
    with session_scope(xapp.engine) as s:
        auth.set_password(s, auth.get_user(s, "duty_xz"), "a new password 7", NOW)
    assert attempt("duty_xz", "a new password 7").status_code == 303


def test_a_long_findings_list_is_counted_in_full_and_paged(world: World) -> None:
    """250 resolved findings on top of the world's: the page says how many there are and
    pages through all of them; the API pages with offset and tells the total."""
    xapp = world.xapp
    snap = world.snaps["zy-weibo"][0]
    with session_scope(xapp.engine) as s:
        for i in range(250):
            at = NOW - timedelta(days=30, minutes=i)
            s.add(Finding(
                account_id="zy-weibo", kind="stale", severity="high", title=f"旧问题{i}",
                detail="", rule="national.max_gap_days(14)", opened_at=at, updated_at=at,
                status="resolved", resolved_at=at + timedelta(hours=1),
                first_snapshot_id=snap, last_snapshot_id=snap,
            ))  # fmt: skip
    c = login(client_for(xapp), "sup")  # sees 贵阳 and 遵义: 2 open + 250 resolved
    seen: list[str] = []
    url: str | None = "/findings?status=all"
    while url:
        page = c.get(url)
        assert page.status_code == 200
        assert "问题（共 252 条，第" in page.text
        seen += re.findall(r'<tr id="finding-(\d+)"', page.text)
        nxt = re.search(r'<a href="([^"]+)" rel="next"', page.text)
        url = nxt[1].replace("&amp;", "&") if nxt else None
    assert len(seen) == len(set(seen)) == 252  # every one, once, across three pages
    # filters survive paging, and the count follows them
    page = c.get("/findings?status=resolved&unit=GZ-ZY&page=3")
    assert "问题（共 250 条，第 201–250 条）" in page.text and 'rel="prev"' in page.text
    assert "page=2" in page.text and "unit=GZ-ZY" in page.text and 'rel="next"' not in page.text
    assert "问题（共 2 条）" in c.get("/findings").text  # open only: one page, no pager
    # an account's page shows its newest and links to all of them
    account_page = c.get("/accounts/zy-weibo").text
    assert "/findings?status=all&amp;account=zy-weibo" in account_page
    assert "全部 251 条问题" in account_page

    h = api(c, world, "sup")
    r = c.get("/api/v1/findings?status=all&limit=100&offset=200", headers=h)
    assert r.headers["x-total-count"] == "252"
    assert len(r.json()) == 52


def test_api_tokens(world: World) -> None:
    c = client_for(world.xapp)
    assert c.get("/api/v1/accounts").status_code == 401
    r = c.get("/api/v1/accounts", headers={"Authorization": "Bearer xct_wrong"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "令牌" in r.json()["detail"]
    h = {"Authorization": f"Bearer {world.tokens['sup']}"}
    me = c.get("/api/v1/me", headers=h).json()
    assert me == {"name": "sup", "role": "supervisor", "role_label": "主管单位",
                  "rights": ["ack", "data", "rectify", "review"], "unit": "GZ",
                  "units": ["GZ", "GZ-GY", "GZ-ZY"]}  # fmt: skip
    # a console login does not open the API, and a token does not open the pages
    s = login(client_for(world.xapp), "sup")
    assert s.get("/api/v1/accounts").status_code == 401
    assert c.get("/", headers=h).status_code == 303
    # the token is kept hashed
    from monitor.store.models import ApiToken

    with Session(world.xapp.engine) as db:
        hashes = [t.token_hash for t in db.exec(select(ApiToken))]
    assert world.tokens["sup"] not in hashes
    assert hashlib.sha256(world.tokens["sup"].encode()).hexdigest() in hashes
    # acknowledge through the API; twice is fine, a resolved one is a clear 409
    fid = world.findings["zy-weibo"]
    r = c.post(f"/api/v1/findings/{fid}/ack", json={"note": "已电话通知"}, headers=h)
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "sup"
    with session_scope(world.xapp.engine) as db:
        f = db.get(Finding, fid)
        f.status, f.resolved_at = "resolved", NOW
    r = c.post(f"/api/v1/findings/{fid}/ack", headers=h)
    assert r.status_code == 409 and "已于 2026-11-24 14:00 解决" in r.json()["detail"]
    # OpenAPI describes the API, with bearer auth; no Swagger UI (it would load a CDN)
    spec = c.get("/api/v1/openapi.json").json()
    assert "/api/v1/findings/{finding_id}/ack" in spec["paths"]
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])
    assert c.get("/docs").status_code == 404


def test_account_page_and_api_data(world: World) -> None:
    c = login(client_for(world.xapp), "sup")
    page = c.get("/accounts/gy-weibo").text
    assert "发布频率" in page and "<svg" in page and "<rect" in page
    assert "资料变更" in page and "低价代购" in page  # the stolen account's new name
    h = {"Authorization": f"Bearer {world.tokens['sup']}"}
    timeline = c.get("/api/v1/accounts/gy-weibo/timeline?days=7", headers=h).json()
    assert len(timeline) == 7 and sum(d["posts"] for d in timeline) == 3
    changes = c.get("/api/v1/accounts/gy-weibo/profile-changes", headers=h).json()
    assert [ch["field"] for ch in changes] == ["name"]
    old, new = world.snaps["gy-weibo"]
    d = c.get(f"/api/v1/diff?a={old}&b={new}", headers=h).json()
    assert [p["id"] for p in d["posts_added"]] == ["3"]
    snaps = c.get("/api/v1/accounts/gy-weibo/snapshots?limit=1", headers=h).json()
    assert [s["id"] for s in snaps] == [new]
    more = c.get(f"/api/v1/accounts/gy-weibo/snapshots?before_id={new}", headers=h).json()
    assert [s["id"] for s in more] == [old]


def test_times_are_local_with_their_offset(world: World) -> None:
    """The API gives every time as ISO in the display zone (+08:00), the pages as
    "2026-11-24 14:00"; stored facts and evidence are handed on as stored (UTC)."""
    xapp = world.xapp
    old, new = world.snaps["gy-weibo"]
    fid = world.findings["gy-weibo"]
    with session_scope(xapp.engine) as s:
        f = s.get(Finding, fid)
        f.evidence = {"note": EVIL, "latest_post_at": "2026-11-20T01:30:00+00:00"}
    c = login(client_for(xapp), "sup")
    h = api(c, world, "sup")

    f = c.get(f"/api/v1/findings/{fid}", headers=h).json()
    assert f["opened_at"] == "2026-11-23T14:00:00+08:00"
    assert f["evidence"]["latest_post_at"] == "2026-11-20T01:30:00+00:00"  # the record
    listed = {x["id"]: x for x in c.get("/api/v1/findings", headers=h).json()}
    assert listed[fid]["updated_at"] == "2026-11-23T14:00:00+08:00"
    acked = c.post(f"/api/v1/findings/{fid}/ack", headers=h).json()
    assert acked["acknowledged_at"] == "2026-11-24T14:00:00+08:00"
    snaps = c.get("/api/v1/accounts/gy-weibo/snapshots", headers=h).json()
    assert [x["taken_at"] for x in snaps] == [
        "2026-11-24T12:00:00+08:00",
        "2026-11-21T14:00:00+08:00",
    ]
    assert snaps[0]["latest_post_at"] == "2026-11-24T09:12:00+08:00"
    d = c.get(f"/api/v1/snapshots/{new}", headers=h).json()
    assert d["taken_at"] == "2026-11-24T12:00:00+08:00"
    assert d["facts"]["posts"][0]["published_at"] == "2026-11-24T01:12:00+00:00"
    diff = c.get(f"/api/v1/diff?a={old}&b={new}", headers=h).json()
    assert diff["a"]["taken_at"] == "2026-11-21T14:00:00+08:00"
    assert [p["published_at"] for p in diff["posts_added"]] == ["2026-11-24T09:12:00+08:00"]
    changes = c.get("/api/v1/accounts/gy-weibo/profile-changes", headers=h).json()
    assert changes[0]["at"] == "2026-11-24T12:00:00+08:00"
    ov = c.get("/api/v1/overview", headers=h).json()
    assert ov["due_soon_horizon"] == "2026-11-25T23:59:59+08:00"  # Tuesday + 2 working days
    assert ov["due_soon"][0]["deadline"].endswith("+08:00")
    assert ov["due_soon"][0]["latest_post_at"] == "2026-11-11T21:12:00+08:00"
    report = c.get("/api/v1/reports/2026Q4?format=json", headers=h).json()
    assert (report["start"], report["end"]) == (
        "2026-10-01T00:00:00+08:00",
        "2027-01-01T00:00:00+08:00",
    )

    page = c.get(f"/snapshots/{new}").text
    assert "2026-11-24 12:00:00" in page  # the snapshot's own time, to the second
    assert "2026-11-24 09:12" in page and "01:12" not in page  # a post's, to the minute
    assert "+00:00" not in page and "时间均为北京时间" in page
    page = c.get(f"/findings/{fid}").text
    assert "2026-11-23 14:00" in page and "2026-11-24 14:00" in page  # found, acknowledged
    assert "2026-11-20 09:30" in page and "2026-11-20T01:30" not in page  # in the evidence
    page = c.get(f"/diff?a={old}&b={new}").text
    assert "2026-11-21 14:00" in page and "2026-11-24 09:12" in page and "+00:00" not in page


def test_overview_lists_accounts_about_to_breach(world: World) -> None:
    c = login(client_for(world.xapp), "sup")
    h = {"Authorization": f"Bearer {world.tokens['sup']}"}
    ov = c.get("/api/v1/overview", headers=h).json()
    # 遵义 last posted 12.7 days before Tuesday 14:00: the 14-day rule breaks on Thursday
    assert [d["account"] for d in ov["due_soon"]] == ["zy-weibo"]
    deadline = datetime.fromisoformat(ov["due_soon"][0]["deadline"])
    assert NOW < deadline < NOW + timedelta(days=2)
    assert ov["open_findings"]["by_severity"] == {"veto": 1, "warning": 1}
    page = c.get("/").text
    assert "遵义发布" in page and "两个工作日内" in page
    # the duty officer of 贵阳 does not see 遵义 at all
    d = client_for(world.xapp).get(
        "/api/v1/overview", headers={"Authorization": f"Bearer {world.tokens['duty_gy']}"}
    )
    assert d.json()["due_soon"] == []
    assert d.json()["open_findings"]["by_severity"] == {"veto": 1}


def test_a_disabled_user_is_locked_out_at_once(world: World) -> None:
    c = login(client_for(world.xapp), "duty_xz")
    h = {"Authorization": f"Bearer {world.tokens['duty_xz']}"}
    assert c.get("/").status_code == 200 and c.get("/api/v1/me", headers=h).status_code == 200
    with session_scope(world.xapp.engine) as s:
        auth.set_disabled(s, auth.get_user(s, "duty_xz"), True, NOW)
    assert c.get("/").status_code == 303
    assert c.get("/api/v1/me", headers=h).status_code == 401
    page = c.get("/login")
    r = c.post("/login", data={"name": "duty_xz", "password": PASSWORD, "csrf": csrf_of(page.text)})
    assert r.status_code == 401 and "已停用" in r.text
