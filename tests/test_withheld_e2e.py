"""Never accuse on what was not seen, end to end: real readers against local servers in the
platforms' shapes, the real pipeline and writer, the real dispatcher and local receivers,
the 通报 in its files — over two weeks and a half of daily checks on an injected clock.

Three accounts of 青溪县:

- 青溪公安 (微博): the profile answers (``statuses_count`` 1,288) but the posts container
  answers ``ok: 1`` with no cards — the list withheld from an anonymous visitor;
- 青溪文旅 (抖音, through an RSS bridge): a well-formed RSSHub channel with no items;
- 青溪县人民政府网站: its news column says "暂无内容" — the site's own word that there is
  nothing: the honest twin, a real empty account, which IS a 单项否决.

The withheld two never reach the county or the city (only ops, once each), never open a
stale finding, and are 无法判定 — with the reason in words — in the 通报 (HTML, DOCX) and its
XLSX; the twin is told to the county, escalated to the city at once, and vetoed.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import anyio
import pytest
from docx import Document
from localserver import LocalServer, Reply, Request
from openpyxl import load_workbook
from sqlmodel import Session, select

from monitor.alerting import dispatch_once
from monitor.app import App
from monitor.demo.receivers import WebhookSink
from monitor.patrol.pipeline import check
from monitor.report import Period, build_report, docx_bytes, render_html, xlsx_bytes
from monitor.store.models import AlertItem, Finding, Snapshot
from tests.conftest import add_account, add_unit, make_settings, open_app

START = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # Monday 08:30 in Beijing
DAYS = 17
UID = "2288"
# the Weibo reader says it in its own words (probes/platforms/weibo/reader.py)
WITHHELD = "微博未向本次访问展示微博列表（资料显示有 1288 条微博，列表为空）"
JSON = "application/json; charset=utf-8"


class Clock:
    """The app's clock: checks, the writer's judgement and the dispatcher read it."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def at(self, when: datetime) -> None:
        with self._lock:
            self.now = when


def _json(data: Any) -> Reply:
    return Reply(body=json.dumps(data, ensure_ascii=False), headers={"Content-Type": JSON})


def weibo_index(req: Request) -> Reply:
    """``m.weibo.cn/api/container/getIndex``: the profile (userInfo, tabsInfo), then the posts
    container. Shapes: userInfo and its ``statuses_count`` as in gottaegbert/weiboAPI
    (response.js), ``cardlistInfo``/``cards`` as in zhangfaliang/koa2
    (server/writeFile/data.js); a container with no cards while the profile counts posts is
    what anonymous visitors get for accounts whose posts WAP Weibo does not show them
    (DIYgod/RSSHub#10046, and KazeLiu/Dun-Cookie#4: "没有登录的情况下会忽略一部分信息")."""
    q = {k: v[0] for k, v in parse_qs(req.query).items()}
    uid = q.get("value", "")
    if "containerid" not in q:
        user = {
            "id": int(uid), "screen_name": "青溪公安", "statuses_count": 1288,
            "verified": True, "verified_type": 1, "verified_reason": "青溪县公安局官方微博",
            "description": "青溪县公安局官方微博", "followers_count": 52013,
        }  # fmt: skip
        tabs = [
            {"id": 1, "tabKey": "profile", "title": "主页", "containerid": f"230283{uid}"},
            {"id": 2, "tabKey": "weibo", "title": "微博", "containerid": f"107603{uid}"},
        ]
        return _json({"ok": 1, "data": {"userInfo": user, "tabsInfo": {"tabs": tabs}}})
    info = {"containerid": q["containerid"], "v_p": 42, "show_style": 1, "total": 0}
    return _json({"ok": 1, "data": {"cardlistInfo": info, "cards": []}})


def weibo_info(req: Request) -> Reply:
    """``weibo.com/ajax/profile/info``: ``data.user`` (probes/platforms/weibo.py)."""
    user = {"id": int(UID), "screen_name": "青溪公安", "statuses_count": 1288, "verified": True}
    return _json({"ok": 1, "data": {"user": user}})


# An RSSHub channel with no items: the shape of DIYgod/RSSHub lib/views/rss.tsx (title, link,
# atom:link, "… - Powered by RSSHub", generator, webMaster, language, lastBuildDate, ttl); a
# route that read nothing answers it since DIYgod/RSSHub#16819 (allowEmpty)
RSSHUB_EMPTY = """<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0"><channel>
<title>青溪文旅的抖音</title><link>https://www.douyin.com/user/MS4wLjABAAAAqxwl</link>
<atom:link href="http://127.0.0.1/douyin/user/MS4wLjABAAAAqxwl" rel="self"
 type="application/rss+xml"/>
<description>青溪文旅的抖音 - Powered by RSSHub</description><generator>RSSHub</generator>
<webMaster>contact@rsshub.app (RSSHub)</webMaster><language>zh-CN</language>
<lastBuildDate>Mon, 02 Nov 2026 02:00:00 GMT</lastBuildDate><ttl>5</ttl>
</channel></rss>"""
# a county site's news column with the site's own empty-state word (EMPTY_MARKERS)
EMPTY_COLUMN = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务动态</title></head>
<body><h1>政务动态</h1><ul class="news"></ul><div class="empty">暂无内容</div></body></html>"""


@pytest.fixture
def platform() -> Iterator[LocalServer]:
    routes: dict[str, Any] = {
        "/api/container/getIndex": weibo_index,
        "/ajax/profile/info": weibo_info,
        "/douyin/user/MS4wLjABAAAAqxwl": Reply(
            body=RSSHUB_EMPTY, headers={"Content-Type": "application/rss+xml; charset=utf-8"}
        ),
        "/zwdt/": Reply(body=EMPTY_COLUMN, headers={"Content-Type": "text/html; charset=utf-8"}),
    }
    with LocalServer(routes) as srv:
        yield srv


def test_a_withheld_list_is_ops_business_and_unjudged_its_twin_is_vetoed(
    tmp_path: Any, platform: LocalServer
) -> None:
    with WebhookSink() as county, WebhookSink() as city, WebhookSink() as ops:
        settings = make_settings(
            tmp_path,
            platforms={"weibo": {"origins": {"m": platform.base, "www": platform.base}}},
            alerts={
                "ops_channels": ["@ops"],
                "repeat_minutes": 1440,
                "escalate_after_minutes": 1440,
                "daily_digest_time": "08:30",
                "weekly_digest_time": "09:00",
            },
        )
        settings.channels.update(
            {"county": county.apprise_url(), "city": city.apprise_url(), "ops": ops.apprise_url()}
        )
        app = open_app(settings)
        clock = Clock(START)
        app.clock = clock
        try:
            _patrol(app, clock, platform)
            _the_withheld_reach_ops_only(app, county, city, ops)
            _the_report_calls_them_unjudged(app, clock)
        finally:
            app.close()


def _patrol(app: App, clock: Clock, platform: LocalServer) -> None:
    add_unit(app, "ql", "黔岭市人民政府办公室", channels=["@city"])
    add_unit(app, "qx", "青溪县人民政府办公室", parent="ql", channels=["@county"])
    add_account(app, "wb-qx", "qx", f"https://weibo.com/u/{UID}", name="青溪公安",
                platform="weibo", reader="weibo", handle=UID)  # fmt: skip
    add_account(app, "dy-qx", "qx", platform.url("/douyin/user/MS4wLjABAAAAqxwl"),
                name="青溪文旅", platform="douyin", reader="rss")  # fmt: skip
    add_account(app, "web-qx", "qx", platform.url("/zwdt/"), name="青溪县人民政府网站",
                platform="website", reader="webpage", options={"item": "ul.news li"})  # fmt: skip

    async def day(morning: datetime) -> None:
        clock.at(morning)  # 08:30: the daily digest, reminders, escalations
        await dispatch_once(app.engine, app.settings, clock=clock)
        clock.at(morning + timedelta(hours=1, minutes=30))  # 10:00: the checks
        async with app.probing() as tools:
            for account in ("wb-qx", "dy-qx", "web-qx"):
                await check(app, tools, account, now=clock())
        for minutes in (1, 30):  # the news, then whatever waited
            clock.at(morning + timedelta(hours=1, minutes=30 + minutes))
            await dispatch_once(app.engine, app.settings, clock=clock)

    for d in range(DAYS):
        anyio.run(day, START + timedelta(days=d))


def _the_withheld_reach_ops_only(
    app: App, county: WebhookSink, city: WebhookSink, ops: WebhookSink
) -> None:
    with Session(app.engine) as s:
        findings = s.exec(select(Finding)).all()
        snaps = s.exec(select(Snapshot)).all()
        items = s.exec(select(AlertItem)).all()
    kinds = {(f.account_id, f.kind, f.severity) for f in findings}
    # the withheld: one finding each, the patrol's own, never stale (not even once)
    assert kinds == {
        ("wb-qx", "unreadable", "warning"),
        ("dy-qx", "unreadable", "warning"),
        ("web-qx", "stale", "veto"),
    }
    looks = {(x.account_id, x.outcome, x.sight) for x in snaps}
    assert looks == {("wb-qx", "unreadable", None), ("dy-qx", "unreadable", None),
                     ("web-qx", "ok", "none")}  # fmt: skip
    assert len(snaps) == 3 * DAYS
    wb = next(f for f in findings if f.account_id == "wb-qx")
    assert wb.evidence["reason"] == WITHHELD

    to_units = [m.json for sink in (county, city) for m in sink.delivered]
    shown = " ".join(m["title"] + m["message"] for m in to_units)
    assert "青溪公安" not in shown and "青溪文旅" not in shown
    assert {i.account_id for i in items if i.channel != "@ops"} == {"web-qx"}
    # the twin: the county is told, the city at once (a 单项否决), the county's 日报 lists it
    assert any("【单项否决】青溪县人民政府网站" in m.json["title"] for m in county.delivered)
    assert any("上报" in m.json["title"] for m in city.delivered)
    daily = [m.json for m in county.delivered if "日报" in m.json["title"]]
    # one a day from the second: on the first the finding had just been told in its own
    # message, so no 日报 repeats it a moment later (issue 30: no first-start burst)
    assert len(daily) == DAYS - 1 and all("未解决问题 1 项" in m["title"] for m in daily)
    # ops: both, at once (one message), and never again: no reminder, no escalation
    told = [m.json["title"] + m.json["message"] for m in ops.delivered]
    assert len(told) == 1 and "青溪公安" in told[0] and "青溪文旅" in told[0]
    assert "无法读取内容" in told[0] and "青溪县人民政府网站" not in told[0]
    to_ops = [(i.account_id, i.event) for i in items if i.channel == "@ops"]
    assert sorted(to_ops) == [("dy-qx", "opened"), ("wb-qx", "opened")]


def _the_report_calls_them_unjudged(app: App, clock: Clock) -> None:
    with Session(app.engine) as s:
        r = build_report(s, app.settings, Period.parse("2026Q4"), None, now=clock())
    t = r.totals
    assert (t.accounts, t.checked, t.unjudged, t.unqualified) == (3, 1, 2, 1)
    [veto] = r.vetoes
    assert (veto.account_name, veto.problem) == (
        "青溪县人民政府网站",
        "检查时未找到任何更新（置顶内容不计），单项否决",
    )
    reasons = {u.account_name: (u.reason, u.looks) for u in r.unjudged}
    assert reasons["青溪公安"] == (WITHHELD, DAYS)
    assert reasons["青溪文旅"][0].startswith("订阅源没有任何条目（RSSHub 等转换服务未能读取该平台")

    page = render_html(r)
    annex = page.split("无法判定账号清单", 1)[1]
    assert "青溪公安" in annex and "青溪文旅" in annex and WITHHELD in annex
    vetoes = page.split("单项否决问题清单", 1)[1].split("扣分问题清单", 1)[0]
    assert "青溪县人民政府网站" in vetoes and "青溪公安" not in vetoes

    doc = Document(io.BytesIO(docx_bytes(r)))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "此外，2个账号本期无法判定" in body and "不计入合格率" in body
    unjudged_table = next(t for t in doc.tables if t.rows[0].cells[4].text == "无法判定的原因")
    assert {row.cells[2].text: row.cells[4].text for row in unjudged_table.rows[1:]}[
        "青溪公安"
    ] == WITHHELD

    wb = load_workbook(io.BytesIO(xlsx_bytes(r)))
    header, *rows = wb["无法判定"].iter_rows(values_only=True)
    listed = {row[2]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(listed) == {"青溪公安", "青溪文旅"}
    assert listed["青溪公安"]["无法判定的原因"] == WITHHELD
    assert listed["青溪公安"]["本期巡查次数"] == DAYS
    vetoed = [row[2] for row in wb["单项否决"].iter_rows(min_row=2, values_only=True)]
    assert vetoed == ["青溪县人民政府网站"]
    summary = {c.value: c for row in wb["汇总"].iter_rows() for c in row if c.value}
    head = summary["无法判定数"]
    assert wb["汇总"].cell(head.row + 1, head.column).value == 2
