"""A check made with a logged-in session, end to end: the patrol's own check (``pipeline.check``)
against a local stand-in for Xiaohongshu that shows notes only to a logged-in visitor
(``sessionsite``: its answers and their sources), over HTTP and in real Chromium. Readers are
not told about sessions: the cookies ride on the tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from localserver import LocalServer
from sessionsite import LOGIN, NOW, UID, routes
from sqlmodel import Session, select

from monitor.app import App
from monitor.patrol.pipeline import check
from monitor.sessions import manage
from monitor.store.audit import cli_actor
from monitor.store.models import Notification, PlatformSession, Snapshot
from monitor.store.sealing import KEY_ENV
from probes.fetch.browser import DEFAULT_EXECUTABLE
from probes.model import Observation, Outcome, Target
from tests.conftest import add_account, add_unit, make_settings


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer(routes()) as srv:
        yield srv


@pytest.fixture
def xapp(tmp_path: Path, site: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.delenv(KEY_ENV, raising=False)
    from tests.conftest import open_app

    settings = make_settings(
        tmp_path,
        platforms={p: {"origins": {"www": site.base}} for p in ("xiaohongshu", "douyin")},
        browser={"page_timeout_seconds": 10},
    )
    settings.alerts.ops_channels = ["json://127.0.0.1:9/ops"]  # told, never delivered here
    open_app(settings).close()  # the schema
    a = App.open(settings, clock=lambda: NOW)
    add_unit(a, "u1", "示例市文旅局", channels=["json://127.0.0.1:9/unit"])
    for acc, platform, reader in (
        ("xhs-api", "xiaohongshu", "xhs-notes-api"),
        ("xhs-page", "xiaohongshu", "xiaohongshu"),
        ("dy-api", "douyin", "xhs-notes-api"),
    ):
        add_account(a, acc, "u1", "", platform=platform, reader=reader, handle=UID)
    yield a
    a.close()


def give_session(app: App, value: str = LOGIN, pace: float = 0) -> int:
    """The operator's import: the login as Cookie-Editor exports it, for the real host."""
    export = [{"domain": ".xiaohongshu.com", "expirationDate": NOW.timestamp() + 86400 * 365,
               "hostOnly": False, "httpOnly": True, "name": "web_session", "path": "/",
               "sameSite": "lax", "secure": True, "session": False, "value": value}]  # fmt: skip
    row, _ = manage.import_file(
        app.engine, app.settings, "xiaohongshu", json.dumps(export).encode(), label="运营号",
        pace=pace, by="张三", now=NOW, actor=cli_actor(),
    )  # fmt: skip
    app.sessions.refresh()
    assert row.id is not None
    return row.id


def run_checks(app: App, *accounts: str) -> list[Snapshot]:
    async def main() -> list[Snapshot]:
        async with app.probing() as tools:
            return [(await check(app, tools, a, now=NOW)).snapshot for a in accounts]

    return anyio.run(main)


def test_without_a_session_the_notes_are_not_shown_and_nothing_is_judged(
    xapp: App, site: LocalServer
) -> None:
    [snap] = run_checks(xapp, "xhs-api")
    assert snap.outcome == "blocked" and "无登录信息" in snap.detail  # not stale, not gone


def test_a_session_is_carried_by_http_checks_of_its_platform_only(
    xapp: App, site: LocalServer
) -> None:
    sid = give_session(xapp)
    before = len(site.requests)
    api, other = run_checks(xapp, "xhs-api", "dy-api")
    assert api.outcome == "ok" and api.post_count == 2, api.detail
    sent = [r.headers.get("cookie", "") for r in site.requests[before:]]
    assert f"web_session={LOGIN}" in sent[0]  # given for the real host, sent to its stand-in
    assert "web_session" not in sent[1]  # a Douyin check never carries Xiaohongshu's login
    assert other.outcome == "blocked"
    with Session(xapp.engine) as s:
        row = s.get(PlatformSession, sid)
        assert row.last_good_at == NOW and row.last_used_at is not None and row.walls == 0


@pytest.mark.skipif(not Path(DEFAULT_EXECUTABLE).exists(), reason="needs /usr/bin/chromium")
def test_a_session_opens_the_browser_pages_of_its_platform_logged_in(
    xapp: App, site: LocalServer
) -> None:
    [without] = run_checks(xapp, "xhs-page")
    # a visitor meets the login wall: not shown to us, never "no posts" (probes.sight)
    assert without.outcome == "blocked" and "需要登录" in without.detail, without.detail
    give_session(xapp)

    async def main() -> tuple[Snapshot, Observation]:
        async with xapp.probing() as tools:
            signed = (await check(xapp, tools, "xhs-page", now=NOW)).snapshot
            # the session's cookies live in its own context: the visitors' stays logged out
            from probes.platforms import observe

            target = Target("xhs-page", "xiaohongshu", "xiaohongshu", handle=UID,
                            origins={"www": site.base})  # fmt: skip
            return signed, await observe(target, tools, now=NOW)

    signed, visitor = anyio.run(main)
    assert signed.outcome == "ok" and signed.post_count == 2, signed.detail
    assert visitor.outcome is Outcome.blocked and visitor.login_required


def test_login_walls_with_a_session_expire_it_and_ops_alone_are_told(
    xapp: App, site: LocalServer
) -> None:
    sid = give_session(xapp, value="a-login-the-platform-ended")
    snaps = run_checks(xapp, "xhs-api", "xhs-api")
    assert [s.outcome for s in snaps] == ["blocked", "blocked"]  # never stale, never gone
    with Session(xapp.engine) as s:
        row = s.get(PlatformSession, sid)
        told = s.exec(select(Notification)).all()
    assert row.state == "expired" and row.walls == 2
    assert [(n.unit_code, n.title) for n in told] == [("ops", "【巡查系统】小红书登录状态已失效")]
    # the next check goes without it (and a new import is used at once)
    [third] = run_checks(xapp, "xhs-api")
    assert third.outcome == "blocked"
    give_session(xapp)
    [fourth] = run_checks(xapp, "xhs-api")
    assert fourth.outcome == "ok"


def test_a_session_used_within_its_pace_is_not_used_again(xapp: App, site: LocalServer) -> None:
    xapp.settings.sessions.wait_seconds = 0
    give_session(xapp, pace=3600)
    first, second = run_checks(xapp, "xhs-api", "xhs-api")
    assert (first.outcome, second.outcome) == ("ok", "blocked")  # the second went without
