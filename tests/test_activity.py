"""Activity over time and the year: posts per month counted once by post id across looks,
originals and reposts, followers, silence; the 清理整合 candidates (silent, low output,
duplicates) with clean twins; the annual sheet's figures and its files; the console page and
downloads within the asker's units. SQLite, real snapshots and facts as the writer stores
them; the clock is fixed (Mon 2026-11-30 12:00 Beijing), never the hour the test runs.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from monitor.app import App
from monitor.report.activity import activity, candidates, similar
from monitor.report.annual import annual_rows
from monitor.store.engine import session_scope
from monitor.store.models import Account
from monitor.web import auth
from monitor.web.auth import add_user
from tests.conftest import add_account, add_unit
from tests.test_history import _cli, add_snap, post
from tests.test_report import add_finding
from tests.test_web import FAST_HASHER, PASSWORD, login

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"


def bj(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour - 8, tzinfo=UTC)


def repost(pid: str, when: datetime) -> dict[str, Any]:
    return post(pid, when) | {"repost": True}


@pytest.fixture
def world(app: App) -> App:
    add_unit(app, "gz", "贵州省网信办")
    add_unit(app, "gy", "贵阳市政府办公厅", parent="gz")
    add_unit(app, "zy", "遵义市政府办公厅", parent="gz")
    add_account(app, "a1", "gy", "u1", name="贵阳发布", platform="weibo")
    add_account(app, "a2", "gy", "u2", name="贵阳发布微博", platform="weibo")  # a1's twin
    add_account(app, "a3", "gy", "u3", name="花溪服务", platform="wechat")
    add_account(app, "a4", "gy", "u4", name="贵阳卫健", platform="douyin")
    add_account(app, "a5", "gy", "u5", name="贵阳旧号", platform="weibo", status="closed")
    add_account(app, "z1", "zy", "u6", name="遵义发布", platform="weibo")
    # a1: Oct 31 23:30 Beijing is October though already Oct 31 15:30 UTC; each post is seen
    # by several looks (and a later look sees October's again): counted once each
    oct_late, nov1, nov2 = bj(10, 31, 23), bj(11, 3), bj(11, 20)
    fans = {"name": "贵阳发布", "followers": 1000}
    add_snap(app, "a1", bj(9, 10), posts=[post("s1", bj(9, 9))], profile=fans)
    for day in (1, 2, 3):
        add_snap(app, "a1", bj(11, day, 8), posts=[post("o1", oct_late)], profile=fans)
    fans = {"name": "贵阳发布", "followers": 1500}
    three = [repost("n2", nov2), post("n1", nov1), post("o1", oct_late)]
    add_snap(app, "a1", bj(11, 21), posts=three, profile=fans)
    add_snap(app, "a1", bj(11, 29), posts=[repost("n2", nov2), post("n1", nov1)], profile=fans)
    # a2: weekly posts: active, but a duplicate of a1 by name
    for week in range(12):
        when = bj(9, 5) + timedelta(days=7 * week)
        add_snap(app, "a2", when + timedelta(hours=2), posts=[post(f"w{week}", when)])
    # a3: last post in July: silent for months; a4: one post in the quarter: low output
    add_snap(app, "a3", bj(11, 28), posts=[post("j1", bj(7, 1))])
    add_snap(app, "a4", bj(9, 2), posts=[post("d0", bj(8, 20))])  # looked at since September
    add_snap(app, "a4", bj(11, 28), posts=[post("d1", bj(10, 15))])
    # a6: as quiet as a4, but first looked at in late November: its output is not judged
    add_account(app, "a6", "gy", "u7", name="花溪交警", platform="douyin")
    add_snap(app, "a6", bj(11, 20), posts=[post("e1", bj(11, 19))])
    add_snap(app, "a5", bj(11, 28), posts=[post("c1", bj(5, 1))])  # closed: no candidate
    add_snap(app, "z1", bj(11, 28), posts=[post("z", bj(5, 1))])
    # a pinned post never counts; a failed look is not read
    pinned = post("pin", bj(11, 1)) | {"pinned": True}
    add_snap(app, "a4", bj(11, 29), posts=[pinned, post("d1", bj(10, 15))])
    add_snap(app, "a4", bj(11, 29, 12), outcome="error", posts=[post("bad", bj(11, 2))])
    # a7: read until August (posts then), every look failed since: its silence is as long as
    # what was seen, never "nothing ever posted"; a8: posts that carry no dates
    add_account(app, "a7", "zy", "u8", name="遵义旅游", platform="douyin")
    add_snap(app, "a7", bj(8, 20), posts=[post("t1", bj(8, 19))])
    add_snap(app, "a7", bj(11, 28), outcome="error")
    add_account(app, "a8", "zy", "u10", name="遵义网站", platform="website")
    for month in (9, 10, 11):
        add_snap(app, "a8", bj(month, 20), posts=[{"id": f"x{month}", "title": "无日期"}])
    return app


def _activity(app: App, codes: set[str] | None = None) -> dict[str, Any]:
    with Session(app.engine) as s:
        acts = activity(
            s, datetime(2026, 9, 1).date(), datetime(2026, 11, 1).date(), NOW, TZ, codes
        )
    return {a.account_id: a for a in acts}


def test_posts_are_counted_once_each_in_the_month_they_were_published(world: App) -> None:
    a1 = _activity(world)["a1"]
    months = {m.month: m for m in a1.months}
    assert [m.month for m in a1.months] == ["2026-09", "2026-10", "2026-11"]
    assert (months["2026-09"].posts, months["2026-10"].posts, months["2026-11"].posts) == (1, 1, 2)
    assert (months["2026-11"].originals, months["2026-11"].reposts) == (1, 1)
    # followers at the month's last look; none looked at in October
    assert [m.followers for m in a1.months] == [1000, None, 1500]
    assert a1.followers == 1500
    # 30 days of September, one with a post; November up to today (the 30th), two posted
    assert (months["2026-09"].silent_days, months["2026-11"].silent_days) == (29, 28)
    a4 = _activity(world)["a4"]
    assert a4.posts == 1  # the pinned post and the failed look's post are not counted


def _found(acts: dict[str, Any], **kw: Any) -> dict[str, list[str]]:
    kw = {"silent_days": 90, "low_per_month": 1, "similarity": 0.8} | kw
    return {c.activity.account_id: c.reasons for c in candidates(acts.values(), **kw)}


def test_cleanup_candidates_and_their_clean_twins(world: App) -> None:
    acts = _activity(world)
    found = _found(acts)
    # silent from its last post to the last look that saw the page (Nov 28)
    assert found["a3"] == ["已 150 天未更新", "月均发布 0.0 条（低于 1 条）"]
    assert found["a4"] == ["月均发布 0.3 条（低于 1 条）"]
    assert found["a1"] == ["与同单位同平台账号“贵阳发布微博”疑似重复"]
    assert found["a2"] == ["与同单位同平台账号“贵阳发布”疑似重复"]
    assert "a5" not in found  # closed already
    # twins: thresholds the accounts just meet
    assert "已 150 天未更新" not in _found(acts, silent_days=151)["a3"]
    assert "a6" not in found  # seen since Nov 19 only: September and October were not seen
    assert [m.seen for m in acts["a6"].months] == [False, False, True]
    assert "a4" not in _found(acts, low_per_month=1 / 3)
    # twin: a2 renamed to another office's account: no duplicate left
    with session_scope(world.engine) as s:
        a2 = s.get(Account, "a2")
        assert a2 is not None
        a2.name = "贵阳交警"
    found = _found(_activity(world))
    assert "a1" not in found and "a2" not in found
    assert similar("贵阳发布", "贵阳发布微博", 0.8) and not similar("贵阳发布", "贵阳交警", 0.8)


def test_what_was_not_seen_is_never_a_candidate(world: App) -> None:
    acts = _activity(world)
    a7, a8 = acts["a7"], acts["a8"]
    assert a7.silent_for == 1 and not a7.covered  # from its last post to its last readable look
    assert [m.seen for m in a7.months] == [False, False, False]
    assert not a8.covered and [m.seen for m in a8.months] == [False, False, False]
    found = _found(acts)
    assert "a7" not in found and "a8" not in found


def test_the_annual_sheet_counts_posts_followers_and_remediation(world: App) -> None:
    add_finding(world, "a1", "privacy", "high", bj(3, 1), resolved=bj(3, 2))  # in time (24 h)
    add_finding(world, "a1", "wording", "warning", bj(6, 1), resolved=bj(6, 20))  # late
    add_finding(world, "a1", "stale", "veto", bj(11, 25))  # open; deadline by fix_hours: none
    add_finding(world, "a1", "fetch_failed", "warning", bj(4, 1))  # the patrol's own: left out
    add_finding(world, "a1", "commercial", "high", datetime(2025, 12, 1, tzinfo=UTC),
                resolved=bj(1, 10))  # fmt: skip
    with Session(world.engine) as s:
        rows = {r.act.account_id: r for r in annual_rows(s, 2026, NOW, TZ)}
    a1 = rows["a1"]
    assert a1.act.posts == 4 and a1.act.followers == 1500
    assert (a1.opened, a1.resolved, a1.open_at_end) == (3, 3, 1)
    # the wording fixed after its 72 h; the 2025 ad missed its deadline in 2025, not this year
    assert a1.overdue == 1
    assert a1.categories == "隐私泄露 1；审核把关不严 1；更新不及时 1"
    assert rows["a2"].act.posts == 12


def test_annual_from_the_command_line_as_xlsx_and_csv(world: App, tmp_path: Any) -> None:
    env = {"XUNCHA_CLOCK": "2026-11-30T12:00:00+08:00"}
    out = tmp_path / "a.csv"
    r = _cli(world, "report", "annual", "--year", "2026", "--unit", "gy", "--format", "csv",
             "-o", str(out), env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "2026 年度报表：6 个账号，年内发布 21 条" in r.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:6] == ["账号编号", "账号名称", "平台", "主办单位", "状态", "年内发布"]
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"a1", "a2", "a3", "a4", "a5", "a6"}  # 遵义 is not under 贵阳
    assert by_id["a1"][2:9] == ["微博", "贵阳市政府办公厅", "在用", "4", "3", "1", "1500"]
    assert by_id["a5"][4] == "已关停"
    xlsx = tmp_path / "a.xlsx"
    r = _cli(world, "report", "annual", "--year", "2026", "-o", str(xlsx), env=env)
    ws = load_workbook(xlsx).active
    assert ws["A1"].value.startswith("全部单位政务新媒体 2026 年度报表")
    a1 = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == "a1")
    assert a1[5] == 4 and isinstance(a1[5], int)  # a number: it sorts and sums
    r = _cli(world, "report", "annual", env=env)
    assert r.exit_code == 2 and "--year" in r.output
    r = _cli(world, "report", "annual", "--year", "2026", "--unit", "nowhere", env=env)
    assert r.exit_code == 2 and "没有编码为 'nowhere' 的单位" in r.output


def test_console_page_and_downloads_within_the_askers_units(
    world: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from monitor.web.app import create_app

    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test
    with session_scope(world.engine) as s:
        add_user(s, "sup_zy", "supervisor", "zy", PASSWORD, NOW)
        add_user(s, "sup_gz", "supervisor", "gz", PASSWORD, NOW)
    client = login(
        TestClient(create_app(world, clock=lambda: NOW), follow_redirects=False), "sup_gz"
    )
    page = client.get("/activity")
    assert page.status_code == 200
    assert "清理整合候选（5 个）" in page.text and "已 150 天未更新" in page.text
    assert "疑似重复" in page.text and "贵阳旧号" in page.text  # listed by month, no candidate
    got = client.get("/activity/download")
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(got.content))
    assert wb.sheetnames == ["清理整合候选", "月度活跃"]
    assert {r[0] for r in wb["清理整合候选"].iter_rows(min_row=3, values_only=True)} == {
        "a1", "a2", "a3", "a4", "z1",
    }  # fmt: skip
    annual = client.get("/reports/annual", params={"year": "2026", "format": "csv"})
    assert annual.status_code == 200 and "贵阳发布微博" in annual.content.decode("utf-8-sig")
    assert client.get("/reports/annual", params={"year": "二〇二六"}).status_code == 400
    # a supervisor of 遵义 sees 遵义 only, and cannot ask for 贵阳
    other = login(
        TestClient(create_app(world, clock=lambda: NOW), follow_redirects=False), "sup_zy"
    )
    text = other.get("/activity").text
    assert "遵义发布" in text and "贵阳发布" not in text
    assert other.get("/activity", params={"unit": "gy"}).status_code == 404
    assert other.get("/reports/annual", params={"year": "2026", "unit": "gy"}).status_code == 404


def test_a_hostile_name_stays_text_in_both_files(world: App) -> None:
    from monitor.report.annual import annual_bytes

    hostile = '=HYPERLINK("http://evil.example/","点我")'
    add_account(world, "h1", "gy", "u9", name=hostile, platform="weibo")
    with Session(world.engine) as s:
        rows = annual_rows(s, 2026, NOW, TZ, {"gy"})
    text = annual_bytes(rows, 2026, "csv", TZ, "贵阳").decode("utf-8-sig")
    assert "'" + hostile.replace('"', '""') in text
    ws = load_workbook(io.BytesIO(annual_bytes(rows, 2026, "xlsx", TZ, "贵阳"))).active
    cell = next(r[1] for r in ws.iter_rows(min_row=3) if r[0].value == "h1")
    assert cell.value == hostile and cell.data_type == "s" and cell.quotePrefix


def test_every_post_is_seen_while_only_the_looks_needed_are_read(app: App) -> None:
    from monitor.report.seen import looks_in, posts_seen

    add_unit(app, "u", "单位")
    add_account(app, "short", "u", "s1")  # its page shows one post: every look is needed
    add_account(app, "long", "u", "s2")  # shows its last 20: a few looks bridge the year
    for day in range(60):
        when = bj(3, 1) + timedelta(days=day)
        add_snap(app, "short", when + timedelta(hours=1), posts=[post(f"s{day}", when)])
        shown = [post(f"l{d}", bj(3, 1) + timedelta(days=d)) for d in range(day, -1, -1)][:20]
        add_snap(app, "long", when + timedelta(hours=1), posts=shown)
    with Session(app.engine) as s:
        looks = looks_in(s, ["short", "long"], bj(1, 1), NOW)
        seen, undated, read = posts_seen(s, {"short": looks["short"]}, NOW)
        assert len(seen["short"]) == 60 and read == 60 and not undated
        seen, _, read = posts_seen(s, {"long": looks["long"]}, NOW)
    assert sorted(seen["long"]) == sorted(f"l{d}" for d in range(60))
    assert read < 15  # 60 looks, a handful read
