"""Logged-in platform sessions as ops meet them: cookies unreadable in the database, the export
files browsers write, sessions taking turns at their pace, and a session that stops working
marked expired with ops told once — never a unit.

The cookie names are the platforms' own, as MediaCrawler (NanmiCoder/MediaCrawler,
``media_platform/xhs/login.py``, ``media_platform/xhs/client.py``) reads them: ``web_session``
is Xiaohongshu's login, ``a1`` and ``webId`` its visitor ids. Values are made up.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from monitor.alerting import dispatch_once
from monitor.app import App
from monitor.config import Settings
from monitor.demo.receivers import WebhookSink
from monitor.sessions import manage
from monitor.sessions.cookiefile import CookieFileError, for_platform, read_cookies
from monitor.sessions.rotation import Rotation
from monitor.store import sessions as store
from monitor.store.audit import cli_actor
from monitor.store.models import Notification, PlatformSession
from monitor.store.sealing import KEY_ENV, SealError, load_sealer
from probes.model import Observation, Outcome, Post
from tests.conftest import add_account, add_unit, make_settings, open_app

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
YEAR_ON = int((NOW + timedelta(days=365)).timestamp())
LOGIN_VALUE = "040069b5f5e2a3c1d8e7secretsessionvalue"

# Cookie-Editor's export of a logged-in Xiaohongshu tab (field names: secdev02/Network-Support
# COOKIE_EDITOR_GUIDE.md), with a cookie of another site the browser also held
COOKIE_EDITOR = [
    {"domain": ".xiaohongshu.com", "expirationDate": YEAR_ON, "hostOnly": False,
     "httpOnly": True, "name": "web_session", "path": "/", "sameSite": "lax", "secure": True,
     "session": False, "storeId": "0", "value": LOGIN_VALUE},
    {"domain": ".xiaohongshu.com", "expirationDate": YEAR_ON + 86400, "hostOnly": False,
     "httpOnly": False, "name": "a1", "path": "/", "sameSite": "no_restriction", "secure": True,
     "session": False, "storeId": "0", "value": "18f3a9c0d1e2visitorid"},
    {"domain": "www.xiaohongshu.com", "hostOnly": True, "httpOnly": False, "name": "webId",
     "path": "/", "sameSite": "unspecified", "secure": False, "session": True, "storeId": "0",
     "value": "0c8e1f2a"},
    {"domain": ".baidu.com", "expirationDate": YEAR_ON, "hostOnly": False, "httpOnly": False,
     "name": "BAIDUID", "path": "/", "secure": False, "session": False, "value": "B1D2:FG=1"},
]  # fmt: skip

# the same login as cookies.txt (curl / yt-dlp / "Get cookies.txt": seven tab-separated
# fields; "#HttpOnly_" marks an HttpOnly cookie, 0 a session cookie)
COOKIES_TXT = (
    "# Netscape HTTP Cookie File\n"
    "# https://curl.se/docs/http-cookies.html\n\n"
    f"#HttpOnly_.xiaohongshu.com\tTRUE\t/\tTRUE\t{YEAR_ON}\tweb_session\t{LOGIN_VALUE}\n"
    f".xiaohongshu.com\tTRUE\t/\tTRUE\t{YEAR_ON + 86400}\ta1\t18f3a9c0d1e2visitorid\n"
    "www.xiaohongshu.com\tFALSE\t/\tFALSE\t0\twebId\t0c8e1f2a\n"
    f".google.com\tTRUE\t/\tTRUE\t{YEAR_ON}\tNID\tabc\n"
)

# Playwright's BrowserContext.storage_state(): expires -1 for a session cookie
STORAGE_STATE = {
    "cookies": [
        {"name": "web_session", "value": LOGIN_VALUE, "domain": ".xiaohongshu.com", "path": "/",
         "expires": YEAR_ON, "httpOnly": True, "secure": True, "sameSite": "Lax"},
        {"name": "webId", "value": "0c8e1f2a", "domain": "www.xiaohongshu.com", "path": "/",
         "expires": -1, "httpOnly": False, "secure": False, "sameSite": "Lax"},
    ],
    "origins": [{"origin": "https://www.xiaohongshu.com", "localStorage": []}],
}  # fmt: skip


class Clock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def imported(app: App, data: object = COOKIE_EDITOR, label: str = "运营号", **kw: object):  # type: ignore[no-untyped-def]
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    kw.setdefault("pace", None)
    return manage.import_file(
        app.engine, app.settings, "xiaohongshu", raw, label=label, by="张三", now=NOW,
        actor=cli_actor(), **kw,
    )


# -- encrypted at rest --------------------------------------------------------------------


def test_the_database_alone_reveals_no_cookie(app: App) -> None:
    row, kept = imported(app)
    key_file = app.settings.data_dir / "session.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # made on first need, owner only
    with app.engine.connect() as c:
        raw = c.execute(sa.text("SELECT * FROM platform_session")).one()
    everything = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in raw)
    for secret in (LOGIN_VALUE, "18f3a9c0d1e2visitorid", "web_session"):
        assert secret.encode() not in everything
    # with the key, the cookies come back as they were given (the other site's are gone)
    with Session(app.engine) as s:
        back = store.cookies_of(s.get(PlatformSession, row.id), load_sealer(key_file, create=False))
    assert {c.name: c.value for c in back} == {
        "web_session": LOGIN_VALUE, "a1": "18f3a9c0d1e2visitorid", "webId": "0c8e1f2a"
    }  # fmt: skip
    assert kept.notes("小红书") == ["丢弃了 1 个其他网站的 Cookie（baidu.com）"]
    assert row.expires_at == datetime.fromtimestamp(YEAR_ON, UTC)  # web_session's, the login


def test_a_missing_or_wrong_key_is_said_plainly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.alerts.ops_channels = ["json://127.0.0.1:9/ops"]
    app = open_app(settings)
    row, _ = imported(app)
    key_file = settings.data_dir / "session.key"
    with Session(app.engine) as s:
        stored = s.get(PlatformSession, row.id)
    other = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv(KEY_ENV, other)  # the environment's key wins over the file
    with pytest.raises(SealError, match="另一把密钥加密"):
        store.cookies_of(stored, load_sealer(key_file, create=False))
    monkeypatch.setenv(KEY_ENV, "not base64!")
    with pytest.raises(SealError, match="不是有效的会话密钥：须为 32 字节的 base64 编码"):
        load_sealer(key_file, create=False)
    monkeypatch.delenv(KEY_ENV)
    key_file.rename(key_file.with_suffix(".moved"))
    with pytest.raises(SealError, match="找不到会话密钥"):
        load_sealer(key_file, create=False)
    # the patrol goes without the session, says so in the log and tells ops once
    rotation = Rotation(app.engine, lambda: settings, Clock())
    assert anyio.run(rotation.take, "xiaohongshu", "xhs-1") is None
    assert anyio.run(rotation.take, "xiaohongshu", "xhs-2") is None
    with Session(app.engine) as s:
        [told] = s.exec(select(Notification)).all()
    assert told.unit_code == "ops" and told.title == "【巡查系统故障】无法解密平台登录会话"
    assert "找不到会话密钥" in told.body and "巡查以未登录方式进行" in told.body
    app.close()


def test_the_environment_key_is_used_and_no_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    app = open_app(make_settings(tmp_path))
    row, _ = imported(app)
    assert not (tmp_path / "session.key").exists()
    session = manage.lease(app.engine, app.settings, row.id, NOW)
    assert any(c.value == LOGIN_VALUE for c in session.cookies)
    app.close()


# -- the files browsers export ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (json.dumps(COOKIE_EDITOR).encode(), "JSON"),
        (COOKIES_TXT.encode(), "cookies.txt"),
        (json.dumps(STORAGE_STATE).encode(), "storage_state"),
        # EditThisCookie: Cookie-Editor's fields plus an "id" (cherish-chat/chatgpt-firefox
        # config/config.go EditThisCookieItem)
        (json.dumps([{**c, "id": i} for i, c in enumerate(COOKIE_EDITOR, 1)]).encode(), "JSON"),
    ],
    ids=["cookie-editor", "cookies.txt", "storage_state", "editthiscookie"],
)
def test_every_export_format_gives_the_same_login(data: bytes, fmt: str) -> None:
    cookies, got_fmt = read_cookies(b"\xef\xbb\xbf" + data if fmt == "cookies.txt" else data)
    assert got_fmt == fmt
    kept = for_platform(cookies, fmt, "xiaohongshu", {}, NOW)
    login = next(c for c in kept.cookies if c.name == "web_session")
    assert (login.value, login.domain, login.http_only, login.secure) == (
        LOGIN_VALUE, ".xiaohongshu.com", True, True
    )  # fmt: skip
    assert login.matches("www.xiaohongshu.com") and login.matches("edith.xiaohongshu.com")
    web_id = next(c for c in kept.cookies if c.name == "webId")
    assert web_id.expires is None  # a session cookie
    assert web_id.host_only and not web_id.matches("edith.xiaohongshu.com")
    assert kept.login_names == ["web_session"]
    assert kept.expires_at() == datetime.fromtimestamp(YEAR_ON, UTC)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "文件是空的"),
        (b"[{\"name\": \"a\", \"value\": \"b\", \"domain\": \".xiaohongshu.com\"},\n{\"name\": }]",
         "不是有效的 JSON（第 2 行第 10 列"),
        (b'[{"name": "a", "value": "b", "domain": ".x.com"}, {"name": "c", "value": "d"}]',
         "第 2 个 Cookie缺少 domain 字段"),
        (b'[{"name": "a", "value": 5, "domain": ".x.com"}]', "第 1 个 Cookie的 value 不是文本"),
        (b'[{"name": "a", "value": "b", "domain": ".x.com", "expirationDate": "soon"}]',
         "第 1 个 Cookie（a）的 expirationDate 不是数字"),
        (b'{"origins": []}', "JSON 对象中没有 cookies 列表"),
        (b"# Netscape HTTP Cookie File\n.xiaohongshu.com\tTRUE\t/\tTRUE\t0\tweb_session\n",
         "第 2 行应有 7 个以制表符分隔的字段"),
        (b".xiaohongshu.com\tYES\t/\tTRUE\t0\ta\tb\n", "第 1 行的“含子域”应为 TRUE 或 FALSE"),
        (b".xiaohongshu.com\tTRUE\t/\tTRUE\ttomorrow\ta\tb\n", "第 1 行的过期时间 'tomorrow'"),
        (b"web_session=abc; a1=def; webId=ghi", "像是 Cookie 请求头"),
        (b"\xff\xfe\x00", "不是 UTF-8 文本"),
    ],
)  # fmt: skip
def test_a_bad_file_is_named_where_it_is_wrong(data: bytes, says: str) -> None:
    with pytest.raises(CookieFileError, match=f".*{says}"):
        read_cookies(data)


def test_a_file_with_nothing_of_the_platform_is_refused() -> None:
    other = [c for c in COOKIE_EDITOR if "baidu" in c["domain"]]
    with pytest.raises(CookieFileError, match=r"没有该平台（xiaohongshu\.com）可用的 Cookie"):
        for_platform(read_cookies(json.dumps(other).encode())[0], "JSON", "xiaohongshu", {}, NOW)
    stale = [{**c, "expirationDate": NOW.timestamp() - 60} for c in COOKIE_EDITOR[:2]]
    with pytest.raises(CookieFileError, match="都已过期"):
        for_platform(read_cookies(json.dumps(stale).encode())[0], "JSON", "xiaohongshu", {}, NOW)
    visitor = [c for c in COOKIE_EDITOR if c["name"] == "a1"]  # exported before logging in
    kept = for_platform(read_cookies(json.dumps(visitor).encode())[0], "JSON", "xiaohongshu",
                        {}, NOW)  # fmt: skip
    assert kept.notes("小红书") == [
        "注意：文件中没有小红书的登录 Cookie（web_session），导出时可能未登录"
    ]


def test_a_configured_stand_in_host_is_the_platforms_too(tmp_path: Path) -> None:
    local = {**COOKIE_EDITOR[0], "domain": "127.0.0.1", "hostOnly": True, "secure": False}
    cookies, fmt = read_cookies(json.dumps([local]).encode())
    assert for_platform(cookies, fmt, "xiaohongshu", {"www": "http://127.0.0.1:8123"}, NOW).cookies
    with pytest.raises(CookieFileError):
        for_platform(cookies, fmt, "xiaohongshu", {}, NOW)


# -- taking turns ---------------------------------------------------------------------------


def test_sessions_take_turns_each_at_its_pace(app: App) -> None:
    a, _ = imported(app, label="甲", pace=30)
    b, _ = imported(app, label="乙", pace=30)
    clock = Clock()
    app.settings.sessions.wait_seconds = 0  # nobody free: go without at once
    rotation = Rotation(app.engine, lambda: app.settings, clock)

    def take() -> int | None:
        got = anyio.run(rotation.take, "xiaohongshu", "xhs-1")
        return got.id if got else None

    # an RSSHub route or a web page of the account never carries the login, nor uses its turn
    assert anyio.run(rotation.take, "xiaohongshu", "xhs-rss", "rss") is None
    assert [take(), take(), take()] == [a.id, b.id, None]  # both used within 30 s: none free
    clock.at += timedelta(seconds=29)
    assert take() is None
    clock.at += timedelta(seconds=1)
    assert [take(), take(), take()] == [a.id, b.id, None]  # in turn again
    # a platform with no session costs nothing and gets none
    assert anyio.run(rotation.take, "douyin", "dy-1") is None
    # a removed session is never used again, and its cookies are gone from the row
    manage.remove(app.engine, a.id, "张三", NOW, cli_actor())
    clock.at += timedelta(seconds=60)
    assert [take(), take()] == [b.id, None]
    with Session(app.engine) as s:
        assert s.get(PlatformSession, a.id).sealed == b""


def test_a_check_waits_briefly_for_a_session_coming_free(tmp_path: Path) -> None:
    app = open_app(make_settings(tmp_path, sessions={"wait_seconds": 5}))
    row, _ = imported(app, pace=0.5)
    rotation = Rotation(app.engine, lambda: app.settings, lambda: datetime.now(UTC))

    async def two() -> tuple[int | None, int | None, float]:
        first = await rotation.take("xiaohongshu", "a")
        started = anyio.current_time()
        second = await rotation.take("xiaohongshu", "b")  # waits out the pace, then gets it
        return (first and first.id), (second and second.id), anyio.current_time() - started

    first, second, waited = anyio.run(two)
    assert first == second == row.id and waited >= 0.3
    app.close()


# -- expiry: told to ops once, never to a unit ---------------------------------------------


def wall(account: str = "xhs-1") -> Observation:
    return Observation(account, "xiaohongshu", "", NOW, Outcome.blocked,
                       detail="小红书要求登录后查看", login_required=True)  # fmt: skip


def seen() -> Observation:
    return Observation("xhs-1", "xiaohongshu", "", NOW, Outcome.ok,
                       posts=[Post("64a0", NOW - timedelta(days=1), title="初雪")])  # fmt: skip


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as s:
        yield s


def test_login_walls_in_a_row_expire_the_session_and_tell_ops_once(
    settings: Settings, sink: WebhookSink
) -> None:
    settings.alerts.ops_channels = [sink.apprise_url("/ops")]
    app = open_app(settings)
    add_unit(app, "u1", "示例市文旅局", channels=[sink.apprise_url("/unit")])
    add_account(app, "xhs-1", "u1", "", platform="xiaohongshu", reader="xiaohongshu")
    row, _ = imported(app)
    clock = Clock()
    rotation = Rotation(app.engine, lambda: settings, clock)
    session = manage.lease(app.engine, settings, row.id, NOW)

    def note(obs: Observation) -> str:
        return anyio.run(rotation.done, session, obs, obs.account_id)

    # one wall, then content: not expired, the count starts again, the good use is dated
    assert note(wall()) == "wall"
    clock.at += timedelta(minutes=5)
    assert note(seen()) == "good"
    assert note(wall()) == "wall"
    with Session(app.engine) as s:
        r = s.get(PlatformSession, row.id)
        assert (r.state, r.walls, r.last_good_at) == ("active", 1, NOW + timedelta(minutes=5))
    # a second wall in a row: expired, ops told; more walls tell nobody again
    assert note(wall("xhs-2")) == "expired"
    assert note(wall()) == "expired"
    assert anyio.run(rotation.take, "xiaohongshu", "xhs-1") is None  # never used again
    with Session(app.engine) as s:
        r = s.get(PlatformSession, row.id)
        assert (
            r.state == "expired"
            and r.ended_why == "连续 2 次检查遇到登录墙（最近一次：账号 xhs-2）"
        )
        told = s.exec(select(Notification)).all()
    assert [(n.unit_code, n.kind) for n in told] == [("ops", "ops")]
    anyio.run(lambda: dispatch_once(app.engine, settings, clock=clock))
    [msg] = sink.messages
    assert msg.path == "/ops"  # the patrol's own channel; the unit's robot heard nothing
    assert msg.title == "【巡查系统】小红书登录状态已失效"
    assert "小红书登录状态已失效，请重新扫码或导入 Cookie" in msg.message
    assert f"会话 #{row.id}“运营号”" in msg.message and "小红书已没有可用会话" in msg.message
    assert LOGIN_VALUE not in msg.message
    app.close()


def test_a_login_past_its_cookies_expiry_is_expired_when_next_taken(
    tmp_path: Path, sink: WebhookSink
) -> None:
    app = open_app(make_settings(tmp_path, alerts={"ops_channels": [sink.apprise_url()]}))
    row, _ = imported(app)
    spare, _ = imported(
        app, label="备用", data=[{**COOKIE_EDITOR[0], "expirationDate": YEAR_ON * 2}]
    )
    clock = Clock(datetime.fromtimestamp(YEAR_ON + 1, UTC))
    rotation = Rotation(app.engine, lambda: app.settings, clock)
    got = anyio.run(rotation.take, "xiaohongshu", "xhs-1")
    assert got is not None and got.id == spare.id  # the one still valid
    with Session(app.engine) as s:
        assert s.get(PlatformSession, row.id).ended_why == "登录 Cookie 已到期"
        [n] = s.exec(select(Notification)).all()
    assert "还有 1 个可用会话" in n.body
    app.close()
