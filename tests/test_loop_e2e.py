"""整改 → recheck → 复核, end to end (issue 31): a county site's news column on a local server,
the real reader, patrol claims, writer and dispatcher, the unit's and its supervisor's
channels on local webhook sinks, and the console (the signed link, the finding's page, the
复核 queue) through its real routes — on an injected clock.

- A 单项否决 (the column silent for 20 days) reaches the county; its message carries the signed
  已整改 link; the county opens it without a login, writes its note and submits; the account
  is due at once and read in full; the page now has a fresh post; the finding closes with
  "recheck_passed", its page shows before and after side by side, and the county hears 已恢复.
- Said 已整改 from the console while nothing changed: the first recheck cannot read the page
  (HTTP 503) and decides nothing ("复查未能完成：巡查系统自身的问题"); the next one still sees
  the silence: "复查未通过" reaches the county, never the city.
- An expired link, a tampered one, and one for another finding are refused with a page that
  says so in Chinese, and change nothing.
- A personal-data finding dismissed as 误报 in the 复核 queue stays dismissed across two more
  checks of the same page; a new post with another ID number opens a new finding, which the
  supervisor confirms.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient
from localserver import LocalServer, Reply, Request
from sqlmodel import Session, col, select

from monitor.alerting import dispatch_once
from monitor.app import App
from monitor.demo.receivers import WebhookSink
from monitor.patrol.claims import Claims
from monitor.patrol.pipeline import check
from monitor.report import Period, build_report
from monitor.store.engine import session_scope
from monitor.store.models import Finding, FindingEvent
from monitor.store.rectify import link_key, make_token
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import add_user
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.test_web import FAST_HASHER, PASSWORD, csrf_of, login

START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
CONSOLE = "https://xuncha.example.gov.cn"
LINK = re.compile(re.escape(CONSOLE) + r"(/rectify/[A-Za-z0-9._-]+)")
ID_A = "520102198703154513"  # a well-formed 身份证号 (its check digit holds)
ID_B = "110105198005120319"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **kw: float) -> None:
        with self._lock:
            self.now += timedelta(**kw)


def column(*posts: tuple[str, str, datetime]) -> str:
    """A county site's 政务动态 column: (path, title, published) each."""
    items = "".join(
        f'<li><a href="{path}">{title}</a><span class="date">{at.strftime("%Y-%m-%d")}</span></li>'
        for path, title, at in posts
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务动态</title></head>'
        f'<body><h1>政务动态</h1><ul class="news">{items}</ul></body></html>'
    )


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test


class Site:
    """The column as the site serves it now (the test changes it between checks)."""

    def __init__(self) -> None:
        self.html = ""
        self.status = 200

    def __call__(self, req: Request) -> Reply:
        if self.status != 200:
            return Reply(status=self.status, body="Service Unavailable")
        return Reply(body=self.html, headers={"Content-Type": "text/html; charset=utf-8"})


class World:
    def __init__(self, app: App, clock: Clock, site: Site, county: WebhookSink,
                 city: WebhookSink) -> None:  # fmt: skip
        self.app, self.clock, self.site = app, clock, site
        self.county, self.city = county, city
        self.claims = Claims(app.engine, app.settings.node_name, 120)
        self.web = TestClient(create_app(app, clock=clock), follow_redirects=False)

    def patrol(self) -> list[str]:
        """What the patrol does in one turn: claim what is due, check it, tell."""

        async def run() -> list[str]:
            claimed = self.claims.claim(self.clock(), 10, self.app.judged_with)
            async with self.app.probing() as tools:
                for c in claimed:
                    await check(self.app, tools, c.account_id, now=self.clock(),
                                previous=c.previous, claimed=True)  # fmt: skip
            return [c.account_id for c in claimed]

        done = anyio.run(run)
        self.tell()
        return done

    def check_now(self) -> None:
        async def run() -> None:
            async with self.app.probing() as tools:
                await check(self.app, tools, "web-qx", now=self.clock())

        anyio.run(run)
        self.tell()

    def tell(self) -> None:
        self.clock.advance(seconds=5)
        anyio.run(lambda: dispatch_once(self.app.engine, self.app.settings, clock=self.clock))

    def finding(self, kind: str, status: str | None = "open") -> Finding:
        with Session(self.app.engine) as s:
            q = select(Finding).where(Finding.kind == kind).order_by(col(Finding.id).desc())
            if status:
                q = q.where(Finding.status == status)
            f = s.exec(q).first()
            assert f is not None, f"no {status} {kind} finding"
            return f

    def events(self, finding_id: int) -> list[FindingEvent]:
        with Session(self.app.engine) as s:
            return list(
                s.exec(
                    select(FindingEvent)
                    .where(FindingEvent.finding_id == finding_id)
                    .order_by(col(FindingEvent.id))
                ).all()
            )

    def told(self, sink: WebhookSink) -> list[str]:
        return [m.json["title"] + "\n" + m.json["message"] for m in sink.delivered]

    def user(self, name: str, role: str, unit: str) -> TestClient:
        with session_scope(self.app.engine) as s:
            add_user(s, name, role, unit, PASSWORD, self.clock())
        return self.login(name)

    def login(self, name: str) -> TestClient:
        """A fresh console login (an hour of patrol outlasts the idle limit)."""
        client = TestClient(create_app(self.app, clock=self.clock), follow_redirects=False)
        return login(client, name)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    site = Site()
    with LocalServer({"/zwdt/": site}) as srv, WebhookSink() as county, WebhookSink() as city:
        settings = make_settings(tmp_path, alerts={"console_url": CONSOLE, "group_wait_seconds": 0})
        settings.channels.update({"county": county.apprise_url(), "city": city.apprise_url()})
        app = open_app(settings)
        clock = Clock(START)
        app.clock = clock
        add_unit(app, "ql", "黔岭市人民政府办公室", channels=["@city"])
        add_unit(app, "qx", "青溪县人民政府办公室", parent="ql", channels=["@county"])
        add_account(app, "web-qx", "qx", srv.url("/zwdt/"), name="青溪县人民政府网站",
                    platform="website", reader="webpage",
                    options={"item": "ul.news li", "date": ".date"})  # fmt: skip
        w = World(app, clock, site, county, city)
        w.claims.ensure_states(settings, clock())
        clock.advance(hours=1)  # past the first check's spread
        try:
            yield w
        finally:
            app.close()


def _reported(w: World) -> dict[str, list[int | None]]:
    """The quarter's 通报 as built now: kind -> the findings it counts."""
    with Session(w.app.engine) as s:
        r = build_report(s, w.app.settings, Period.parse("2026Q4"), None, now=w.clock())
    out: dict[str, list[int | None]] = {}
    for row in r.vetoes + r.deductions:
        out.setdefault(row.kind, []).append(row.finding_id)
    return out


def old_column(now: datetime) -> str:
    return column(("/zwdt/1.html", "青溪县召开秋冬季森林防火工作会议", now - timedelta(days=20)))


def test_rectified_by_link_is_rechecked_at_once_and_closes_with_before_and_after(
    world: World,
) -> None:
    w = world
    w.site.html = old_column(w.clock())
    assert w.patrol() == ["web-qx"]
    veto = w.finding("stale")
    [opened] = [m for m in w.told(w.county) if "【单项否决】青溪县人民政府网站" in m]
    path = LINK.search(opened)
    assert path, opened  # the message carries the signed 已整改 link
    w.clock.advance(minutes=10)  # the site is checked hourly: not due for 50 minutes more
    assert w.claims.claim(w.clock(), 10, w.app.judged_with) == []

    page = w.web.get(path[1])
    assert page.status_code == 200
    for words in ("提交已整改：问题", "青溪县人民政府网站", "青溪县人民政府办公室", veto.title,
                  "整改说明（必填，最多 500 字）", "提交"):  # fmt: skip
        assert words in page.text, words
    assert "总览" not in page.text  # no menu, no other data: the link grants this page only
    empty = w.web.post(path[1], data={"note": "   "})
    assert empty.status_code == 400 and "请填写整改说明" in empty.text
    long = w.web.post(path[1], data={"note": "删" * 501})
    assert long.status_code == 400 and "最多 500 字（现为 501 字）" in long.text
    assert "删" * 501 in long.text  # what they typed is kept
    done = w.web.post(path[1], data={"note": "已于今日发布森林防火最新动态"})
    assert done.status_code == 303
    assert "已收到整改说明" in w.web.get(done.headers["location"]).text

    # due at once, its page read in full (no "changed since?" from the last look)
    [claim] = w.claims.claim(w.clock(), 10, w.app.judged_with)
    assert claim.account_id == "web-qx" and claim.previous is None
    w.claims.give_back(["web-qx"], w.clock())
    w.site.html = column(
        ("/zwdt/2.html", "青溪县部署冬季安全生产大检查", w.clock() - timedelta(hours=1)),
        ("/zwdt/1.html", "青溪县召开秋冬季森林防火工作会议", START - timedelta(days=20)),
    )
    assert w.patrol() == ["web-qx"]

    closed = w.finding("stale", status=None)
    assert closed.id == veto.id and closed.status == "resolved"
    events = {e.event: e for e in w.events(veto.id or 0)}
    assert events["rectified"].detail["note"] == "已于今日发布森林防火最新动态"
    assert events["rectified"].detail["by"] == "链接" and events["rectified"].detail["link"]
    passed = events["recheck_passed"].detail
    assert passed["before"] == veto.first_snapshot_id and passed["after"] == closed.last_snapshot_id
    assert any("【已恢复】青溪县人民政府网站" in m for m in w.told(w.county))

    duty = w.user("duty_qx", "duty", "qx")
    shown = duty.get(f"/findings/{veto.id}").text
    before, after = shown.split("整改前：发现问题的快照")[1].split("整改后：复查通过的快照")
    assert "森林防火工作会议" in before and "冬季安全生产大检查" not in before
    assert "冬季安全生产大检查" in after.split("</div>")[0]
    assert "复查通过" in shown and "已于今日发布森林防火最新动态" in shown
    # the link, used again: nothing to do, said so
    again = w.web.get(path[1])
    assert "已于" in again.text and "解决，无需再提交整改" in again.text
    assert w.web.post(path[1], data={"note": "再次提交"}).status_code == 409


def test_a_recheck_that_fails_tells_the_unit_only_and_a_failed_fetch_decides_nothing(
    world: World,
) -> None:
    w = world
    w.site.html = old_column(w.clock())
    w.patrol()
    veto = w.finding("stale")
    w.county.clear()
    w.city.clear()
    w.clock.advance(hours=3)
    duty = w.user("duty_qx", "duty", "qx")
    page = duty.get(f"/findings/{veto.id}")
    assert "已整改" in page.text  # the console's button for whoever may say it
    r = duty.post(f"/findings/{veto.id}/rectify",
                  data={"csrf": csrf_of(page.text), "note": "已安排专人更新"})  # fmt: skip
    assert r.status_code == 303
    assert "正在等待复查" in duty.get(f"/findings/{veto.id}").text

    w.site.status = 503  # the recheck cannot read the page: the patrol's problem, not theirs
    assert w.patrol() == ["web-qx"]
    incomplete = [e for e in w.events(veto.id or 0) if e.event == "recheck_incomplete"]
    assert len(incomplete) == 1
    assert incomplete[0].detail["why"].startswith("复查未能完成：巡查系统自身的问题")
    assert w.finding("stale").id == veto.id  # still open, still waiting for its recheck
    assert not any("复查" in m for m in w.told(w.county) + w.told(w.city))

    w.site.status = 200  # the next check, an hour on, reads it: still silent
    w.clock.advance(minutes=62)
    assert w.patrol() == ["web-qx"]
    failed = [e for e in w.events(veto.id or 0) if e.event == "recheck_failed"]
    assert len(failed) == 1 and failed[0].detail["why"].startswith("复查时问题仍在：")
    to_county = [m for m in w.told(w.county) if "【复查未通过】青溪县人民政府网站" in m]
    assert len(to_county) == 1
    assert "单位已提交整改，但复查时问题仍在" in to_county[0]
    assert LINK.search(to_county[0])  # a new link to say 已整改 again
    assert not any("复查未通过" in m for m in w.told(w.city))  # the unit's business alone
    shown = w.login("duty_qx").get(f"/findings/{veto.id}").text
    assert "复查未通过" in shown and "已整改" in shown  # may be said again


def test_expired_tampered_or_foreign_links_are_refused_in_words(world: World) -> None:
    w = world
    w.site.html = old_column(w.clock())
    w.patrol()
    veto = w.finding("stale")
    key = link_key(w.app.settings.session_key_file)
    fid = veto.id or 0
    expired = make_token(key, fid, w.clock() - timedelta(days=8), 7)
    r = w.web.get(f"/rectify/{expired}")
    assert r.status_code == 403 and "链接已过期" in r.text and "登录控制台" in r.text
    good = make_token(key, fid, w.clock(), 7)
    for bad in (
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # the signature altered
        f"{fid + 1}" + good[len(str(fid)) :],  # another finding's number on this signature
        good.replace(".rectify.", ".dismiss."),  # another action
        "not-a-link",
    ):
        r = w.web.get(f"/rectify/{bad}")
        assert r.status_code == 403 and "链接无效" in r.text, bad
        assert w.web.post(f"/rectify/{bad}", data={"note": "已整改"}).status_code == 403
    assert w.web.post(f"/rectify/{expired}", data={"note": "已整改"}).status_code == 403
    assert not [e for e in w.events(fid) if e.event == "rectified"]  # nothing changed


def test_a_dismissed_false_alarm_stays_dismissed_and_a_new_post_opens_a_new_finding(
    world: World,
) -> None:
    w = world
    notice = ("/zwdt/7.html", f"城乡低保拟保障对象公示：户主张某某，身份证号{ID_A}",
              w.clock() - timedelta(hours=3))  # fmt: skip
    w.site.html = column(notice)
    w.patrol()
    first = w.finding("privacy")
    sup = w.user("sup_ql", "supervisor", "ql")
    queue = sup.get("/review")
    assert queue.status_code == 200 and f"#{first.id}" in queue.text
    assert "城乡低保" in queue.text or "身份证号" in queue.text  # the evidence in words
    duty = w.user("duty_qx", "duty", "qx")
    assert duty.get("/review").status_code == 403  # 复核 is the supervisor's
    csrf = csrf_of(queue.text)
    no_reason = sup.post(f"/findings/{first.id}/dismiss", data={"csrf": csrf, "reason": ""})
    assert no_reason.status_code == 400 and "请填写误报原因" in no_reason.text
    w.county.clear()
    r = sup.post(f"/findings/{first.id}/dismiss",
                 data={"csrf": csrf, "reason": "公示为测试数据，非真实身份证号"})  # fmt: skip
    assert r.status_code == 303
    assert w.finding("privacy", status=None).status == "dismissed"
    assert f"#{first.id}" not in sup.get("/review").text
    assert "privacy" not in _reported(w)  # a 误报 is not in the 通报

    for _ in range(2):  # the same page, checked twice more: it stays dismissed
        w.clock.advance(hours=6)
        w.check_now()
        with Session(w.app.engine) as s:
            rows = s.exec(select(Finding).where(Finding.kind == "privacy")).all()
        assert [(f.id, f.status) for f in rows] == [(first.id, "dismissed")]
    assert not any("已恢复" in m or "个人信息" in m for m in w.told(w.county))

    w.clock.advance(hours=6)  # a new post with another ID number
    w.site.html = column(
        ("/zwdt/8.html", f"临时救助对象公示：李某某，身份证号{ID_B}", w.clock()), notice
    )
    w.check_now()
    second = w.finding("privacy")
    assert second.id != first.id
    assert any("个人信息" in m for m in w.told(w.county))
    sup = w.login("sup_ql")
    queue = sup.get("/review")
    assert f"#{second.id}" in queue.text
    r = sup.post(f"/findings/{second.id}/confirm", data={"csrf": csrf_of(queue.text)})
    assert r.status_code == 303
    assert f"#{second.id}" not in sup.get("/review").text
    assert [e.detail["by"] for e in w.events(second.id or 0) if e.event == "confirmed"] == [
        "sup_ql"
    ]
    assert w.finding("privacy").status == "open"  # confirmed: it still counts, still open
    assert _reported(w) == {"privacy": [second.id]}
    dismissed = [e for e in w.events(first.id or 0) if e.event == "dismissed"]
    assert dismissed[0].detail["reason"] == "公示为测试数据，非真实身份证号"
