"""The console as a province's supervisors read it (issue 17): the fleet at a glance, lists
that page, sort and filter, names instead of codes, deadlines that say how late.

A province (P) with two cities (C1, C2), a county under C1 (K1) with sixty accounts, and an
unrelated unit (X). Each figure is checked as a user reads it, on the page and in the API,
and for whom it is shown: nobody sees a number about units that are not theirs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from monitor.app import App
from monitor.report import Period, build_report
from monitor.store.engine import session_scope
from monitor.store.models import Finding, Notification, Snapshot
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import add_user, new_api_token
from probes.model import Observation, Outcome, Post, Profile
from tests.conftest import add_account, add_unit
from tests.test_web import FAST_HASHER, NOW, PASSWORD, _snapshot, client_for, login, png_bytes

K1_ACCOUNTS = 60


@dataclass
class Province:
    xapp: App
    tokens: dict[str, str] = field(default_factory=dict)
    snaps: dict[str, list[int]] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)  # name -> id


def _obs(account: str, at: datetime, posts: list[Post], *, reader: str = "rss",
         outcome: Outcome = Outcome.ok, profile: Profile | None = None) -> Observation:  # fmt: skip
    return Observation(
        account_id=account, reader=reader, url=f"https://example.gov.cn/{account}",
        fetched_at=at, outcome=outcome, status_code=200 if outcome is Outcome.ok else 503,
        profile=profile or Profile(), posts=posts,
    )  # fmt: skip


def _post(pid: str, days_ago: float, title: str = "", pinned: bool = False) -> Post:
    return Post(
        id=pid, published_at=NOW - timedelta(days=days_ago), title=title or f"通知{pid}",
        url=pid if pid.startswith("http") else f"https://example.gov.cn/p/{pid}", pinned=pinned,
    )  # fmt: skip


def _finding(xapp: App, account: str, kind: str, severity: str, title: str, **kw: object) -> int:
    with session_scope(xapp.engine) as s:
        f = Finding(
            account_id=account, kind=kind, severity=severity, title=title, detail=title,
            opened_at=kw.pop("opened_at", NOW - timedelta(days=1)),
            updated_at=NOW - timedelta(hours=1), **kw,
        )  # fmt: skip
        s.add(f)
        s.flush()
        assert f.id is not None
        return f.id


def build_province(xapp: App) -> Province:
    w = Province(xapp)
    add_unit(xapp, "P", "黔中省人民政府办公厅")
    add_unit(xapp, "C1", "第一市人民政府办公室", parent="P")
    add_unit(xapp, "C2", "第二市人民政府办公室", parent="P")
    add_unit(xapp, "K1", "第一县人民政府办公室", parent="C1")
    add_unit(xapp, "X", "另一省人民政府办公厅")
    day = NOW - timedelta(hours=2)
    # K1: sixty accounts, account i last posted i days ago (i + 0.5 for the odd ones)
    for i in range(K1_ACCOUNTS):
        aid = f"k{i:02d}"
        platform = "wechat" if i % 3 == 0 else "weibo"
        add_account(xapp, aid, "K1", f"https://example.gov.cn/{aid}", name=f"县账号{i:02d}",
                    platform=platform)  # fmt: skip
        w.snaps[aid] = [_snapshot(xapp, aid, day, _obs(aid, day, [_post(f"{aid}-1", i + 0.1)]))]
    # C1: silent 20 days: a 单项否决 overdue three days, and a 严重
    add_account(xapp, "c1-weibo", "C1", "https://weibo.example/c1", name="第一市发布")
    w.snaps["c1-weibo"] = [
        _snapshot(xapp, "c1-weibo", day, _obs("c1-weibo", day, [_post("c1-1", 20)]),
                  [("feed", "application/rss+xml", b"<rss>c1</rss>")])
    ]  # fmt: skip
    w.findings["veto"] = _finding(
        xapp, "c1-weibo", "stale", "veto", "已 20 天未更新（超过 14 天，单项否决）",
        rule="national.max_gap_days(14)", deadline=NOW - timedelta(days=3, hours=2),
        opened_at=NOW - timedelta(days=3, hours=2),
    )  # fmt: skip
    w.findings["ads"] = _finding(
        xapp, "c1-weibo", "commercial", "high", "发布商业广告", rule="commercial",
        deadline=NOW + timedelta(days=2),
    )  # fmt: skip
    # C2: a 预警, and an account our fetch cannot read (巡查异常, not the unit's 预警)
    add_account(xapp, "c2-wechat", "C2", "https://mp.example/c2", name="第二市发布",
                platform="wechat")  # fmt: skip
    w.snaps["c2-wechat"] = [
        _snapshot(xapp, "c2-wechat", day, _obs("c2-wechat", day, [_post("c2-1", 12.5)]))
    ]
    w.findings["soon"] = _finding(
        xapp, "c2-wechat", "stale_soon", "warning", "即将超期：须在 11月25日 23:59 前更新",
        rule="national.max_gap_days(14)", deadline=NOW + timedelta(days=1),
    )  # fmt: skip
    add_account(xapp, "c2-douyin", "C2", "https://douyin.example/c2", name="第二市抖音",
                platform="douyin")  # fmt: skip
    earlier, failed = NOW - timedelta(days=2), NOW - timedelta(hours=1)
    w.snaps["c2-douyin"] = [
        _snapshot(xapp, "c2-douyin", earlier,
                  _obs("c2-douyin", earlier, [_post("d1", 2.5), _post("d2", 3)],
                       profile=Profile(name="第二市抖音"))),
        _snapshot(xapp, "c2-douyin", failed,
                  _obs("c2-douyin", failed, [], outcome=Outcome.error),
                  [("feed", "text/plain", b"503 Service Unavailable")]),
    ]  # fmt: skip
    w.findings["fetch"] = _finding(xapp, "c2-douyin", "fetch_failed", "warning",
                                   "抓取失败，暂时无法检查")  # fmt: skip
    # P's own site, a demo-like page: post ids are URLs, a pinned post; last checked 30 h ago
    add_account(xapp, "p-site", "P", "https://www.example.gov.cn/", name="黔中省政府网站",
                platform="website", reader="webpage")  # fmt: skip
    site_at = NOW - timedelta(hours=30)
    site_posts = [
        _post("https://www.example.gov.cn/a/0", 1, "置顶：办事指南", pinned=True),
        _post("https://www.example.gov.cn/a/1", 3, "秋季农田水利建设"),
        _post("https://www.example.gov.cn/a/2", 9, "安全生产专题会议"),
    ]
    w.snaps["p-site"] = [
        _snapshot(xapp, "p-site", site_at,
                  _obs("p-site", site_at, site_posts, reader="webpage",
                       profile=Profile(name="黔中省政府网站")),
                  [("page", "text/html", b"<html>site</html>"),
                   ("screenshot", "image/png", png_bytes())])
    ]  # fmt: skip
    # X, unrelated
    add_account(xapp, "x-weibo", "X", "https://weibo.example/x", name="另一省发布")
    w.snaps["x-weibo"] = [_snapshot(xapp, "x-weibo", day, _obs("x-weibo", day, [_post("x1", 1)]))]
    w.findings["x"] = _finding(xapp, "x-weibo", "commercial", "high", "另一省的广告")
    with session_scope(xapp.engine) as s:
        for key, unit, status in (("n1", "C2", "pending"), ("n2", "X", "held"),
                                  ("n3", "C2", "sent")):  # fmt: skip
            s.add(Notification(dedup_key=key, unit_code=unit, channel="@c", event="opened",
                               status=status, due_at=NOW - timedelta(minutes=5)))  # fmt: skip
        for name, role, unit in (
            ("admin", "admin", None),
            ("sup_p", "supervisor", "P"),
            ("sup_c1", "supervisor", "C1"),
            ("duty_c2", "duty", "C2"),
        ):
            user = add_user(s, name, role, unit, PASSWORD, NOW)
            w.tokens[name] = new_api_token(s, user, NOW)
    return w


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same argon2id, with the cheapest parameters: hashing speed is not under test."""
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)


@pytest.fixture
def province(app: App) -> Province:
    """On both backends (``app``: SQLite and the local PostgreSQL)."""
    return build_province(app)


def api_get(c: TestClient, w: Province, user: str, path: str) -> object:
    r = c.get(path, headers={"Authorization": f"Bearer {w.tokens[user]}"})
    assert r.status_code == 200, r.text
    return r


def rows(html: str, table: str = "accounts") -> list[str]:
    """The account ids (accounts) or finding ids (findings) of a list page, in order."""
    body = html.split(f'class="stack {table}"', 1)[1].split("</table>", 1)[0]
    if table == "accounts":
        return re.findall(r'<div class="muted">([a-z0-9-]+)', body)
    return re.findall(r'<tr id="finding-(\d+)"', body)


def text(html: str) -> str:
    """What a reader sees of a page: no tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def unescape(url: str) -> str:
    return url.replace("&amp;", "&")


# -- the overview ---------------------------------------------------------------------------


def test_overview_counts_the_fleet_for_each_asker(app: App) -> None:
    """N of M at risk and failing, patrolled in 24 h, 巡查异常 apart from 预警, the outbox —
    on both backends, and only over the asker's units."""
    w = build_province(app)
    c = client_for(app)
    ov = api_get(c, w, "sup_p", "/api/v1/overview").json()
    fleet = ov["fleet"]
    assert fleet["accounts"] == K1_ACCOUNTS + 4  # K1's, c1-weibo, c2-*, p-site; not X's
    assert fleet["failing"] == 1  # c1-weibo: a 单项否决 and a 严重
    assert fleet["at_risk"] == 1  # c2-wechat: a 预警, nothing worse
    assert fleet["patrol_problems"] == 1  # c2-douyin: our fetch fails
    assert fleet["patrolled_24h"] == K1_ACCOUNTS + 3  # p-site was checked 30 h ago
    assert fleet["outbox"]["pending"] == 1 and fleet["outbox"]["held"] == 0  # X's is not theirs
    # the failed fetch is not the unit's 预警: it is counted apart
    assert ov["open_findings"]["by_severity"] == {"veto": 1, "high": 1, "warning": 1}
    assert ov["open_findings"]["patrol"] == 1
    # grouped under the supervisor's unit: each city with what is below it
    units = ov["open_findings"]["by_unit"]
    by_unit = {u["key"]: (u["name"], u["total"], u["patrol"]) for u in units}
    assert by_unit == {"C1": ("第一市人民政府办公室", 2, 0), "C2": ("第二市人民政府办公室", 1, 1)}

    duty = api_get(c, w, "duty_c2", "/api/v1/overview").json()["fleet"]
    assert (duty["accounts"], duty["failing"], duty["at_risk"], duty["patrol_problems"]) == (
        2, 0, 1, 1,
    )  # fmt: skip
    admin = api_get(c, w, "admin", "/api/v1/overview").json()["fleet"]
    assert admin["accounts"] == K1_ACCOUNTS + 5 and admin["failing"] == 2
    assert admin["outbox"]["held"] == 1  # the channel that refused X's message

    page = text(login(client_for(app), "sup_p").get("/").text)
    assert f"在用账号 {K1_ACCOUNTS + 4} 个，其中 1 个有单项否决或严重问题， 1 个有预警" in page
    assert "1 个账号抓取失败、被拦截或无法读取" in page
    assert "另一省" not in page


def test_pass_rates_are_the_reports_own_and_scoped(province: Province) -> None:
    """The quarter so far, per unit, exactly as the 通报 computes it; a duty officer sees
    only their own unit's row."""
    xapp = province.xapp
    c = client_for(xapp)
    got = api_get(c, province, "sup_p", "/api/v1/overview").json()["pass_rates"]
    assert got["pending"] is False and got["computed_at"] == "2026-11-24T14:00:00+08:00"
    rates = got["value"]
    with Session(xapp.engine) as s:
        report = build_report(s, xapp.settings, Period.parse("2026Q4"), "P", now=NOW)
    want = {r.key: r.to_dict() for r in report.by_unit}
    assert {r["key"]: r for r in rates["by_unit"]} == want
    assert set(want) == {"C1", "C2", "P"}
    assert want["C1"]["accounts"] == K1_ACCOUNTS + 1  # the county's accounts are in C1's row
    assert rates["total"] == report.totals.to_dict()
    assert rates["period_label"] == "2026年第四季度"

    duty = api_get(c, province, "duty_c2", "/api/v1/overview").json()["pass_rates"]["value"]
    assert [r["key"] for r in duty["by_unit"]] == ["C2"]
    # an admin of a one-province registry sees the province's cities, not one line for all
    admin = api_get(c, province, "admin", "/api/v1/overview").json()["pass_rates"]["value"]
    assert {r["key"] for r in admin["by_unit"]} == {"P", "X"}  # two top units: each one

    page = login(client_for(xapp), "sup_p").get("/").text
    section = page.split("本季度合格率", 1)[1].split("<h2>", 1)[0]
    for key in ("C1", "C2"):
        assert want[key]["label"] in section
        rate = want[key]["pass_rate"]
        assert f"{rate * 100:.1f}%" in section
    assert "合计" in section


def test_the_trends_are_charts_with_axes_and_counts(province: Province) -> None:
    c = login(client_for(province.xapp), "sup_p")
    page = c.get("/").text
    for title in ("未解决问题（近 30 天，每日终了时）", "每日更新（近 30 天）"):
        chart = page.split(f">{title}</text>", 1)[1].split("</svg>", 1)[0]
        assert 'class="axis"' in chart and 'class="grid"' in chart
        assert 'class="xlabel"' in chart and "11月24日" in chart and 'class="ylabel"' in chart
    # today: one 单项否决, one 严重, one 预警 open (the failed fetch is not in it)
    assert "11月24日 单项否决：1 个" in page and "11月24日 预警：1 个" in page
    trends = api_get(client_for(province.xapp), province, "sup_p", "/api/v1/overview").json()
    problems = trends["trends"]["open_findings"]
    assert len(problems["days"]) == 30 and problems["days"][-1] == "2026-11-24"
    assert (problems["veto"][-1], problems["high"][-1], problems["warning"][-1]) == (1, 1, 1)
    # opened on the 21st (the veto) and yesterday (the others): none before
    assert problems["veto"][-5:] == [0, 1, 1, 1, 1] and problems["high"][-3:] == [0, 1, 1]
    ups = trends["trends"]["updates"]["value"]
    # each account's newest post seen, on the day it was published: K1's account i posted
    # i days ago, so today has k00, yesterday k01, ...; p-site's newest (not pinned) 3 days
    assert ups["days"][-1] == "2026-11-24" and ups["updates"][-1] == 1
    # k00..k29 (k30 is a day too old), and c1-weibo, c2-wechat, c2-douyin, p-site; not X's
    assert sum(ups["updates"]) == 30 + 4


# -- the accounts list ----------------------------------------------------------------------


def test_accounts_are_paged_sorted_and_filtered(province: Province) -> None:
    c = login(client_for(province.xapp), "sup_c1")  # C1 and K1: 61 accounts
    page = c.get("/accounts").text
    assert "账号（61 个，第 1–50 个）" in page
    assert len(rows(page)) == 50
    nxt = re.search(r'<a href="([^"]+)" rel="next"', page)
    assert nxt and "page=2" in nxt[1]
    assert len(rows(c.get(unescape(nxt[1])).text)) == 11

    # longest silent first: k59 (59 days) ... ; reversed: the freshest first
    silent = c.get("/accounts?sort=silent").text
    assert rows(silent)[:3] == ["k59", "k58", "k57"]
    assert "59 天" in silent
    assert rows(c.get("/accounts?sort=silent&desc=1").text)[:2] == ["k00", "k01"]
    # the header that sorted says so and reverses it; the others sort by themselves
    assert 'href="/accounts?status=active&amp;sort=silent&amp;desc=1"' in silent
    # most problems first
    assert rows(c.get("/accounts?sort=problems").text)[0] == "c1-weibo"

    # filters, kept in the pager's and the headers' links
    weibo = c.get("/accounts?platform=weibo&sort=silent").text
    assert "账号（41 个）" in weibo  # 40 of K1's and c1-weibo: one page
    assert rows(weibo)[0] == "k59"
    assert all(not a.endswith(("00", "03")) for a in rows(weibo))  # k00, k03: wechat
    assert 'href="/accounts?platform=weibo&amp;status=active&amp;sort=name' in weibo
    wechat = c.get("/accounts?platform=wechat&unit=K1").text
    assert "账号（20 个）" in wechat
    assert rows(c.get("/accounts?health=failing").text) == ["c1-weibo"]
    assert rows(c.get("/accounts?q=县账号07").text) == ["k07"]
    assert rows(c.get("/accounts?unit=K1&sort=id").text)[:2] == ["k00", "k01"]
    # health columns
    row = c.get("/accounts?q=c1-weibo").text
    assert "2026-11-24 12:00" in row and "20 天" in row and "单项否决" in row and "2 个" in row

    # someone else's unit is not a filter that shows anything
    duty = login(client_for(province.xapp), "duty_c2")
    # by name, in pinyin: 第二市抖音 (dǒu) before 第二市发布 (fā), not by code point
    assert rows(duty.get("/accounts").text) == ["c2-douyin", "c2-wechat"]
    assert "账号（0 个）" in duty.get("/accounts?unit=C1").text
    assert "巡查异常" in duty.get("/accounts?health=patrol").text


def test_names_sort_by_pinyin_and_an_account_never_checked_is_not_clean(
    province: Province,
) -> None:
    """By code point 北 < 安 < 重 < 黔; a person looks names up by pinyin: an, bei, chong,
    qian. And an account no check has looked at says 未巡查 (grey), never a green 无."""
    xapp = province.xapp
    add_unit(xapp, "N", "新设单位", parent="P")
    for aid, name in (
        ("n1", "北京发布"),
        ("n2", "安顺发布"),
        ("n3", "重庆发布"),
        ("n4", "黔南发布"),
    ):
        add_account(xapp, aid, "N", f"https://weibo.example/{aid}", name=name)
    c = login(client_for(xapp), "sup_p")
    page = c.get("/accounts?unit=N").text
    assert rows(page) == ["n2", "n1", "n3", "n4"]
    assert rows(c.get("/accounts?unit=N&desc=1").text) == ["n4", "n3", "n1", "n2"]
    first = page.split('href="/accounts/n2"', 1)[1].split("</tr>", 1)[0]
    assert first.count('<span class="never">未巡查</span>') == 2  # 最近巡查 and 未解决问题
    assert '<span class="ok">无</span>' not in page


def test_an_account_the_patrol_cannot_see_now_is_unjudged_not_failing(province: Province) -> None:
    """Withheld now (an empty list while the profile counts 1,288 posts) with an old 单项否决
    still open, or posts with no dates: the console says 无法判定 and why — on the list, the
    account's page and in the API — never 单项否决, and the account is not counted as
    failing. Its honest twin: once a look sees its old posts again, the veto is its verdict."""
    xapp = province.xapp
    add_account(xapp, "c2-weibo", "C2", "https://weibo.example/c2", name="第二市微博")
    add_account(xapp, "c2-site", "C2", "https://www.c2.example/", name="第二市网站",
                platform="website", reader="webpage")  # fmt: skip
    why = "平台资料显示有 1288 条内容，但本次访问看到的列表为空（未向本次访问展示）"
    seen = NOW - timedelta(days=3)
    _snapshot(xapp, "c2-weibo", seen, _obs("c2-weibo", seen, [_post("w1", 25)]))
    with session_scope(xapp.engine) as s:
        for account, outcome, detail, sight, n in (
            ("c2-weibo", "unreadable", why, None, 0),
            ("c2-site", "ok", "", "undated", 4),
        ):  # the newest looks, as the writer stores them
            s.add(Snapshot(account_id=account, taken_at=NOW - timedelta(hours=1),
                           outcome=outcome, detail=detail, sight=sight, post_count=n))  # fmt: skip
    _finding(xapp, "c2-weibo", "stale", "veto", "已 22 天未更新（超过 14 天，单项否决）",
             rule="national.max_gap_days(14)", deadline=NOW - timedelta(days=8))  # fmt: skip
    _finding(xapp, "c2-weibo", "unreadable", "warning", "无法读取内容")
    _finding(xapp, "c2-site", "undated", "warning", "无法判断更新时间（4 条内容读不出发布时间）")

    c = login(client_for(xapp), "duty_c2")
    row = text(c.get("/accounts?q=第二市微博").text)
    assert "无法判定" in row and why in row and "单项否决" not in row
    site = text(c.get("/accounts?q=第二市网站").text)
    assert "无法判定" in site and "无法判断更新时间（读到 4 条内容，没有可用的发布时间）" in site
    assert "c2-weibo" not in rows(c.get("/accounts?health=failing").text)
    assert {"c2-weibo", "c2-site"} <= set(rows(c.get("/accounts?health=patrol").text))
    page = text(c.get("/accounts/c2-weibo").text)
    assert f"最近一次巡查未能作出判定：{why}" in page and "不通知主办单位" in page
    got = api_get(client_for(xapp), province, "duty_c2", "/api/v1/accounts?q=c2-weibo").json()
    [acc] = [a for a in got if a["id"] == "c2-weibo"]
    assert (acc["judged"], acc["unjudged_reason"], acc["worst_severity"]) == (False, why, None)
    assert acc["open_findings"] == 0 and acc["patrol_findings"] == 1
    fleet = api_get(client_for(xapp), province, "duty_c2", "/api/v1/overview").json()["fleet"]
    assert (fleet["failing"], fleet["patrol_problems"]) == (0, 3)

    # the twin: a look sees it again, 22 days silent — the open veto is its verdict now
    _snapshot(xapp, "c2-weibo", NOW, _obs("c2-weibo", NOW, [_post("w1", 22)]))
    row = text(c.get("/accounts?q=第二市微博").text)
    assert "单项否决" in row and "无法判定" not in row
    assert rows(c.get("/accounts?health=failing").text) == ["c2-weibo"]
    fleet = api_get(client_for(xapp), province, "duty_c2", "/api/v1/overview").json()["fleet"]
    assert fleet["failing"] == 1


def test_the_accounts_api_pages_and_sorts_like_the_page(province: Province) -> None:
    c = client_for(province.xapp)
    r = api_get(c, province, "sup_c1", "/api/v1/accounts?sort=silent&limit=3")
    assert r.headers["x-total-count"] == "61"
    got = r.json()
    assert [a["id"] for a in got] == ["k59", "k58", "k57"]
    assert got[0]["days_silent"] == 59 and got[0]["owner_name"] == "第一县人民政府办公室"
    assert got[0]["last_checked_at"] == "2026-11-24T12:00:00+08:00"
    r = api_get(c, province, "sup_c1", "/api/v1/accounts?health=failing")
    assert [(a["id"], a["open_findings"], a["worst_severity"]) for a in r.json()] == [
        ("c1-weibo", 2, "veto")
    ]
    r = api_get(c, province, "sup_c1", "/api/v1/accounts?limit=10&offset=55")
    assert len(r.json()) == 6 and r.headers["x-total-count"] == "61"
    duty = api_get(c, province, "duty_c2", "/api/v1/accounts?unit=C1")
    assert duty.json() == [] and duty.headers["x-total-count"] == "0"
    bad = c.get("/api/v1/accounts?sort=nonsense",
                headers={"Authorization": f"Bearer {province.tokens['admin']}"})  # fmt: skip
    assert bad.status_code == 400 and "sort" in bad.json()["detail"]


# -- the findings list ----------------------------------------------------------------------


def test_findings_filter_sort_and_say_how_late(province: Province) -> None:
    w = province
    c = login(client_for(w.xapp), "sup_p")
    f = w.findings
    page = c.get("/findings").text
    # the gravest first: 单项否决, 严重, 预警, then 巡查异常 (though its level is 预警 too)
    assert rows(page, "findings") == [str(f[k]) for k in ("veto", "ads", "soon", "fetch")]
    # names, not codes; a veto's deadline says how late it is
    veto = page.split(f'id="finding-{f["veto"]}"', 1)[1].split("</tr>", 1)[0]
    assert "第一市人民政府办公室" in veto and ">C1<" not in veto
    assert "2026-11-21 12:00" in veto and "已超期 3 天" in veto
    soon = page.split(f'id="finding-{f["soon"]}"', 1)[1].split("</tr>", 1)[0]
    assert "剩 1 天" in soon
    fetch = page.split(f'id="finding-{f["fetch"]}"', 1)[1].split("</tr>", 1)[0]
    assert "巡查异常" in fetch and "无需单位整改" in fetch and "预警" not in fetch

    def ids(query: str) -> list[str]:
        return rows(c.get(f"/findings?{query}").text, "findings")

    assert ids("platform=douyin") == [str(f["fetch"])]
    assert ids("kind=stale") == [str(f["veto"])]
    assert ids("category=patrol") == [str(f["fetch"])]
    assert set(ids("unit=C1")) == {str(f["veto"]), str(f["ads"])}  # and below
    assert ids("severity=high") == [str(f["ads"])]
    assert ids("q=广告") == [str(f["ads"])]
    assert ids("q=第二市") == sorted(ids("unit=C2"), key=ids("unit=C2").index)
    # soonest deadline first (the overdue veto), none last; severity: worst first
    assert ids("sort=deadline") == [str(f[k]) for k in ("veto", "soon", "ads", "fetch")]
    assert ids("sort=severity")[:2] == [str(f["veto"]), str(f["ads"])]
    # sorting and paging keep the filters
    sorted_page = c.get("/findings?platform=weibo&sort=deadline").text
    assert 'href="/findings?status=open&amp;platform=weibo&amp;sort=opened' in sorted_page

    r = api_get(client_for(w.xapp), w, "sup_p", "/api/v1/findings?category=patrol")
    assert [x["id"] for x in r.json()] == [f["fetch"]] and r.json()[0]["patrol"] is True
    r = api_get(client_for(w.xapp), w, "sup_p", "/api/v1/findings?sort=deadline&q=第一市")
    got = r.json()
    assert [x["id"] for x in got] == [f["veto"], f["ads"]] and got[0]["overdue"] is True
    assert got[0]["unit_name"] == "第一市人民政府办公室" and r.headers["x-total-count"] == "2"
    # the duty officer of C2 finds nothing of C1's, however they filter
    d = login(client_for(w.xapp), "duty_c2")
    assert rows(d.get("/findings?unit=C1").text, "findings") == []
    assert rows(d.get("/findings?q=第一市").text, "findings") == []


def test_acknowledging_from_a_filtered_list_comes_back_to_it(province: Province) -> None:
    c = login(client_for(province.xapp), "sup_p")
    page = c.get("/findings?platform=weibo&sort=deadline").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]
    back = re.search(r'name="back" value="([^"]+)"', page)[1]  # type: ignore[index]
    r = c.post(f"/findings/{province.findings['ads']}/ack",
               data={"csrf": csrf, "back": unescape(back)})  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == (
        f"/findings?platform=weibo&sort=deadline&done={province.findings['ads']}"
    )


# -- an account, a finding, a snapshot, a diff ---------------------------------------------


def test_account_page_shows_posts_evidence_and_its_rules_in_words(province: Province) -> None:
    c = login(client_for(province.xapp), "sup_p")
    page = c.get("/accounts/p-site").text
    # the demo-like page: post ids are URLs, one pinned; all three counted, once each
    assert "共 3 条，近 30 天 3 条" in page
    assert "置顶：办事指南" in page and "秋季农田水利建设" in page and "安全生产专题会议" in page
    snaps = page.split("<h2>快照</h2>", 1)[1]
    assert "2 个" in snaps and "网页源码、截图" in snaps  # the 证据文件 column
    assert "更新规则：全国标准" in page and "national" not in page
    assert "黔中省人民政府办公厅" in page and "（P）" not in page
    failed = c.get("/accounts/c2-douyin").text.split("<h2>快照</h2>", 1)[1]
    assert "抓取失败" in failed and "1 个" in failed

    finding = c.get(f"/findings/{province.findings['veto']}").text
    assert "全国标准：14 天内须有更新（单项否决）" in finding
    assert "national.max_gap_days" not in finding and "已超期 3 天" in finding
    assert "第一市人民政府办公室" in finding


def test_a_failed_fetch_is_not_deleted_posts(province: Province) -> None:
    ok, failed = province.snaps["c2-douyin"]
    c = login(client_for(province.xapp), "duty_c2")
    page = c.get(f"/diff?a={ok}&b={failed}").text
    assert "乙中已不见的内容" not in page and "抓取失败不等于内容被删除" in page
    assert "<del>正常</del>" in page and "<ins>抓取失败</ins>" in page
    assert ">ok<" not in page and ">error<" not in page
    d = api_get(client_for(province.xapp), province, "duty_c2",
                f"/api/v1/diff?a={ok}&b={failed}").json()  # fmt: skip
    assert d["content_compared"] is False and d["posts_removed"] == [] and d["profile"] == []
    assert [x["field"] for x in d["changes"]] == ["outcome", "status_code"]

    snap = c.get(f"/snapshots/{failed}").text
    assert "没有读到账号的页面" in snap and "<h2>内容" not in snap
    shown = c.get(f"/snapshots/{ok}").text
    # only what the platform gave: a name, no rows of dashes for the rest
    profile = shown.split("<h2>账号资料</h2>", 1)[1].split("</table>", 1)[0]
    assert "名称" in profile and "简介" not in profile and "—" not in profile


def test_figures_not_ready_yet_are_said_to_be_computing(province: Province) -> None:
    """On a large database the pass rates take longer than a page waits: the page says they
    are being computed and reloads itself; the next one after they are ready shows them."""
    from monitor.web.stats import StatsCache

    web = create_app(province.xapp, clock=lambda: NOW)
    web.state.stats = StatsCache(province.xapp.engine, wait_seconds=0)  # a page never waits
    c = login(TestClient(web, follow_redirects=False), "sup_p")
    first = c.get("/").text
    assert "正在统计本季度合格率" in first and 'http-equiv="refresh"' in first
    assert "在用账号 <strong>64</strong>" in first  # the counts are there at once
    deadline = time.monotonic() + 60
    page = first
    # the threads finish meanwhile (the due-soon list, "正在计算", may come last)
    while ("正在统计" in page or "正在计算" in page) and time.monotonic() < deadline:
        time.sleep(0.1)
        page = c.get("/").text
    assert "第一市人民政府办公室" in page.split("本季度合格率", 1)[1]
    assert 'http-equiv="refresh"' not in page
    # a patrol writes on: the figures stay on the page, with their time, while new ones are
    # computed — a page never goes blank or waits for a report to be built
    _finding(province.xapp, "k05", "commercial", "high", "新发现的广告")
    again = c.get("/").text
    assert "第一市人民政府办公室" in again.split("本季度合格率", 1)[1]
    assert "统计于 2026-11-24 14:00" in again and "正在统计" not in again
