"""A check made with a logged-in session, end to end: the patrol's own check (``pipeline.check``)
against a local stand-in for Xiaohongshu that shows notes only to a logged-in visitor, over
HTTP and in real Chromium. Readers are not told about sessions: the cookies ride on the tools.

What the stand-in answers, and where its shapes come from:

- ``/api/sns/web/v1/user_posted`` (the notes API MediaCrawler calls, NanmiCoder/MediaCrawler
  ``media_platform/xhs/client.py`` ``get_notes_by_creator``): ``{"success": true, "data":
  {"notes": [...], "has_more", "cursor"}}`` with the login cookie ``web_session``; without it
  ``{"code": -101, "success": false, "msg": "无登录信息，或登录信息为空", "data": {}}`` (the
  answer quoted in ReaJason/xhs issue #3 and in the readers' code that handle it).
- ``/user/profile/<id>``: the page the ``xiaohongshu`` reader reads, ``window.__INITIAL_STATE__``
  with ``user.userPageData`` and ``user.notes`` (MediaCrawler ``get_creator_info``); to a
  visitor without the login its notes list is empty, and it says so: "登录后查看更多".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from localserver import LocalServer, Reply, Request
from sqlmodel import Session, select

from monitor.app import App
from monitor.patrol.pipeline import check
from monitor.sessions import manage
from monitor.store.models import Notification, PlatformSession, Snapshot
from monitor.store.sealing import KEY_ENV
from probes.fetch import Tools
from probes.fetch.browser import DEFAULT_EXECUTABLE
from probes.model import Observation, Outcome, Post, Target
from probes.platforms import observation_from, register
from probes.platforms.common import origin
from probes.platforms.dates import from_object_id
from tests.conftest import add_account, add_unit, make_settings

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LOGIN = "040069b5f5e2a3c1d8e7loggedin"
UID = "5f0000000000000000000001"
NOTE_IDS = ["6740a0800000000000000001", "6741f2000000000000000002"]  # 2024-11-22, 2024-11-23
NEEDS_LOGIN = {"code": -101, "success": False, "msg": "无登录信息，或登录信息为空", "data": {}}


def logged_in(req: Request) -> bool:
    cookies = dict(
        p.strip().split("=", 1) for p in req.headers.get("cookie", "").split(";") if "=" in p
    )
    return cookies.get("web_session") == LOGIN


def user_posted(req: Request) -> Reply:
    body = (
        {"success": True, "code": 0, "msg": "成功", "data": {"has_more": False, "cursor": "",
         "notes": [{"note_id": n, "display_title": f"笔记{i}", "type": "normal",
                    "interact_info": {"sticky": False}} for i, n in enumerate(NOTE_IDS)]}}
        if logged_in(req)
        else NEEDS_LOGIN
    )  # fmt: skip
    return Reply(body=json.dumps(body, ensure_ascii=False),
                 headers={"Content-Type": "application/json; charset=utf-8"})  # fmt: skip


def profile_page(req: Request) -> Reply:
    notes = [
        {"id": n, "noteCard": {"noteId": n, "displayTitle": f"笔记{i}", "type": "normal",
                               "interactInfo": {"sticky": False}}}
        for i, n in enumerate(NOTE_IDS)
    ] if logged_in(req) else []  # fmt: skip
    state = {"user": {
        "userPageData": {"basicInfo": {"nickname": "示例文旅", "desc": "示例市文化和旅游局",
                                       "ipLocation": "山东"},
                         "interactions": [{"type": "fans", "count": "1万"}]},
        "notes": [notes, [], [], []],
    }}  # fmt: skip
    wall = "" if logged_in(req) else '<div class="login-container">登录后查看更多</div>'
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>小红书</title></head><body>'
        f'<div id="app"></div>{wall}<script>window.__INITIAL_STATE__='
        + json.dumps(state, ensure_ascii=False)
        + "</script></body></html>"
    )
    return Reply(body=body, headers={"Content-Type": "text/html; charset=utf-8"})


@register("xhs-notes-api")
async def read_notes_api(target: Target, tools: Tools) -> Observation:
    """A stand-in for a reader of the notes API, as the platform readers are being taught to
    report a login wall (``Observation.login_required``): it knows nothing of sessions."""
    www = origin(target, "www", "https://www.xiaohongshu.com")
    resp = await tools.http.get(
        f"{www}/api/sns/web/v1/user_posted?user_id={target.handle}&cursor=&num=30",
        platform=target.platform,
    )
    obs = observation_from(target, resp, kind="json", default_media_type="application/json")
    data = json.loads(resp.text)
    if data.get("code") == -101:
        obs.outcome, obs.login_required = Outcome.blocked, True
        obs.detail = f"小红书要求登录：{data['msg']}"
        return obs
    obs.posts = [
        Post(n["note_id"], from_object_id(n["note_id"], now=NOW), title=n["display_title"])
        for n in data["data"]["notes"]
    ]
    return obs


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer(
        {"/api/sns/web/v1/user_posted": user_posted, f"/user/profile/{UID}": profile_page}
    ) as srv:
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
        pace=pace, by="张三", now=NOW,
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
    # the visitor's page lists nothing: not shown to us, never "no posts" (probes.sight)
    assert without.outcome == "unreadable", without.detail
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
    assert visitor.outcome is Outcome.unreadable


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
