"""The quarterly report: definitions, reproducibility, scoping, hostile names, the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session, select

from monitor.app import App
from monitor.report import Period, PeriodError, ReportError, build_report
from monitor.report.write import render_html, write_csv, write_xlsx
from monitor.store.engine import session_scope
from monitor.store.models import Account, Finding, FindingEvent
from tests.conftest import add_account, add_unit
from tests.test_history import _cli, add_snap, post

HOSTILE_NAME = '=HYPERLINK("http://evil.example/","点我")'
SCRIPT_NAME = "<script>alert(1)</script>发布"


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def add_finding(
    app: App,
    account: str,
    kind: str,
    severity: str,
    opened: datetime,
    *,
    resolved: datetime | None = None,
    escalate: tuple[datetime, str] | None = None,
    snapshot: int | None = None,
) -> int:
    with session_scope(app.engine) as s:
        f = Finding(
            account_id=account,
            kind=kind,
            severity=escalate[1] if escalate else severity,
            status="resolved" if resolved else "open",
            title=kind,
            opened_at=opened,
            updated_at=opened,
            resolved_at=resolved,
            first_snapshot_id=snapshot,
            last_snapshot_id=snapshot,
        )
        s.add(f)
        s.flush()
        assert f.id is not None
        s.add(
            FindingEvent(finding_id=f.id, at=opened, event="opened", detail={"severity": severity})
        )
        if escalate:
            s.add(
                FindingEvent(
                    finding_id=f.id,
                    at=escalate[0],
                    event="updated",
                    detail={"severity": [severity, escalate[1]]},
                )
            )
        return f.id


@pytest.fixture
def world(app: App) -> App:
    """Q2 and Q3 2026 of four accounts under a small unit tree."""
    add_unit(app, "gz", "贵州省网信办")
    add_unit(app, "gy", "贵阳市政府", parent="gz")
    add_unit(app, "gy-hx", "花溪区政府", parent="gy")
    add_unit(app, "zy", "遵义市政府", parent="gz")
    add_account(app, "a1", "gy", "http://127.0.0.1/a1", name="贵阳发布", platform="weibo")
    add_account(app, "a2", "gy-hx", "http://127.0.0.1/a2", name=SCRIPT_NAME, platform="wechat")
    add_account(app, "a3", "zy", "http://127.0.0.1/a3", name=HOSTILE_NAME, platform="douyin")
    add_account(app, "a4", "zy", "http://127.0.0.1/a4", name="遵义服务", platform="weibo")

    # a1 posts every week, checked the day after each post: qualified
    for week in range(-4, 14):
        day = at(7, 1) + timedelta(days=7 * week)
        add_snap(app, "a1", day + timedelta(days=1), posts=[post(f"a1-{week}", day)])
    # a2: last post 6-20; the 7-10 check finds nothing newer (20 days): single veto
    old = post("a2-old", at(6, 20))
    add_snap(app, "a2", at(6, 21), posts=[old])
    veto_snap = add_snap(app, "a2", at(7, 10), posts=[old])
    add_snap(app, "a2", at(7, 13), posts=[post("a2-new", at(7, 12)), old])
    add_finding(app, "a2", "stale", "veto", at(7, 10), resolved=at(7, 13), snapshot=veto_snap)
    # a3 posts, but showed ads in July (high) and a theft suspicion in late September that was
    # escalated to veto only in October
    s3 = add_snap(
        app, "a3", at(8, 1), posts=[post("a3-1", at(7, 30, 1), "<script>alert(1)</script>")]
    )
    add_snap(app, "a3", at(9, 28), posts=[post("a3-2", at(9, 27))])
    add_finding(app, "a3", "commercial", "high", at(7, 20), resolved=at(8, 10), snapshot=s3)
    add_finding(app, "a3", "theft", "high", at(9, 26), escalate=(at(10, 5), "veto"))
    add_finding(app, "a3", "stale_soon", "warning", at(9, 1), resolved=at(9, 2))
    # a4: every fetch failed: under patrol, not checked
    add_snap(app, "a4", at(8, 2), outcome="error")
    add_finding(app, "a4", "fetch_failed", "high", at(8, 2))
    return app


def _build(app: App, period: str = "2026Q3", unit: str | None = None) -> Any:
    with Session(app.engine) as s:
        return build_report(s, app.settings, Period.parse(period), unit)


def test_period_boundaries_are_beijing_quarters() -> None:
    p = Period.parse("2026Q4")
    assert p.start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert p.end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert str(p.previous()) == "2026Q3" and str(Period.parse("2026q1").previous()) == "2025Q4"
    assert p.label == "2026年第四季度"
    assert str(Period.parse("2026-02")) == "2026-02" and Period.parse("2026").end.year == 2026
    for bad in ("2026Q5", "Q4", "2026-13", "last quarter", ""):
        with pytest.raises(PeriodError, match="无法识别"):
            Period.parse(bad)


def test_totals_lists_and_change(world: App) -> None:
    r = _build(world)
    t = r.totals
    assert (t.accounts, t.checked, t.unqualified, t.deducted) == (4, 3, 1, 1)
    assert t.check_ratio == pytest.approx(0.75) and t.pass_rate == pytest.approx(2 / 3)
    # a4's every fetch failed: 无法判定, listed with the reason, outside the pass rate
    assert t.unjudged == 1 and t.qualified + t.unqualified + t.unjudged == t.accounts
    [unjudged] = r.unjudged
    assert (unjudged.account_id, unjudged.reason, unjudged.looks) == ("a4", "抓取失败", 1)
    assert unjudged.group_name == "遵义市政府" and unjudged.snapshot_id is not None
    # Q2 saw a1 and a2, both fine
    assert (r.previous.accounts, r.previous.checked, r.previous.unqualified) == (2, 2, 0)

    [veto] = r.vetoes
    assert (veto.account_id, veto.kind, veto.owner_name) == ("a2", "stale", "花溪区政府")
    assert "20 天未更新" in veto.problem and "单项否决" in veto.problem
    assert veto.latest_post_at == at(6, 20) and veto.checked_at == at(7, 10)
    assert veto.snapshot_id is not None
    # a single veto is put right at once; it was overdue from 14 days after the last post,
    # and a post on 07-12 put it right within the quarter
    assert (veto.rectify_by(), veto.rectify_text(), veto.status) == (None, "立即整改", "已整改")
    assert veto.deadline == at(6, 20) + timedelta(days=14)
    assert veto.rule == "全国标准：14 天内须有更新（单项否决）"

    # commercial (high) and theft (still high in Q3) are deductions; stale_soon and the
    # fetch failure are not; a4 is not checked so nothing of it is listed
    assert sorted((d.account_id, d.kind) for d in r.deductions) == [
        ("a3", "commercial"),
        ("a3", "theft"),
    ]
    commercial = next(d for d in r.deductions if d.kind == "commercial")
    assert commercial.checked_at == at(8, 1) and commercial.latest_post_at == at(7, 30, 1)
    # 问题类别 is the inspection's category; 问题 keeps the kind's own label
    assert (commercial.category, commercial.problem) == (
        "刊登或链接商业广告",
        "发布或链接商业广告（严重）",
    )
    assert veto.category == "更新不及时"
    # the others' 整改期限 is the kind's window from the opening (72 h for ads, 24 h for
    # theft), and 整改情况 is told as it stood when the quarter ended
    assert (commercial.rectify_by().isoformat(), commercial.status) == ("2026-07-23", "已整改")
    theft = next(d for d in r.deductions if d.kind == "theft")
    assert (theft.rectify_text(), theft.status) == ("2026年9月27日前", "逾期未整改")

    platforms = {g.key: g.totals for g in r.by_platform}
    assert platforms["wechat"].unqualified == 1 and platforms["weibo"].checked == 1
    assert platforms["weibo"].accounts == 2
    units = {g.label: (g.totals.accounts, g.totals.unqualified) for g in r.by_unit}
    # one unit at the top (the province): the report is by the units under it
    assert units == {"贵阳市政府": (2, 1), "遵义市政府": (2, 0)}
    assert (veto.group_key, veto.group_name) == ("gy", "贵阳市政府")

    # in Q4 the theft suspicion counted as veto
    add_snap(world, "a3", at(10, 6), posts=[post("a3-3", at(10, 5))])
    q4 = _build(world, "2026Q4")
    assert [(v.account_id, v.kind) for v in q4.vetoes] == [("a3", "theft")]


def test_a_veto_needs_sight_and_what_was_not_seen_is_unjudged(world: App) -> None:
    """Never a 单项否决 on what was not seen: posts the patrol could not date, an older row
    that did not say what it saw, a list the platform withheld (even with an old veto still
    open from before) are 无法判定, with the reason in words. The honest twins are vetoes: a
    platform's own word that the account has no posts, and only a pinned post."""
    for id_, name in (("undated", "遵义文明"), ("empty", "遵义空号"), ("pinned", "遵义置顶"),
                      ("legacy", "遵义旧录"), ("withheld", "遵义公安")):  # fmt: skip
        add_account(world, id_, "zy", f"http://127.0.0.1/{id_}", name=name, platform="weibo")
    undated = [{"id": f"u{i}", "published_at": None, "title": "工作动态"} for i in range(3)]
    for day in (8, 22):
        add_snap(world, "undated", at(8, day), posts=undated, sight="undated")
    # content was read: the personal data seen in its posts is still a deduction
    add_finding(world, "undated", "privacy", "high", at(8, 1))
    add_snap(world, "empty", at(8, 1), sight="none")  # the platform: "这里还没有内容", 0 posts
    pin = {"id": "p1", "published_at": at(9, 1).isoformat(), "pinned": True, "title": "置顶"}
    add_snap(world, "pinned", at(9, 2), posts=[pin], sight="posts")
    add_snap(world, "legacy", at(8, 1))  # ok, no post, written before looks said what they saw
    # vetoed in Q2 from a list it was not shown; in Q3 the list is withheld at every look
    old = add_snap(world, "withheld", at(6, 10), sight="none")
    add_finding(world, "withheld", "stale", "veto", at(6, 10), snapshot=old)
    why = "平台资料显示有 1288 条内容，但本次访问看到的列表为空（未向本次访问展示）"
    for day in (7, 14, 21):
        add_snap(world, "withheld", at(8, day), outcome="unreadable", detail=why)
    add_finding(world, "withheld", "unreadable", "warning", at(8, 7))

    r = _build(world)
    vetoed = {v.account_id: v.problem for v in r.vetoes}
    assert vetoed == {
        "a2": vetoed["a2"],
        "empty": "检查时未找到任何更新（置顶内容不计），单项否决",
        "pinned": "检查时未找到任何更新（置顶内容不计），单项否决",
    }
    reasons = {u.account_id: (u.reason, u.looks) for u in r.unjudged}
    legacy = "未看到带发布时间的内容（早期记录，未区分平台未展示与确无内容），无法判断更新时间"
    assert reasons == {
        "a4": ("抓取失败", 1),
        "undated": ("无法判断更新时间（读到 3 条内容，没有可用的发布时间）", 2),
        "legacy": (legacy, 1),
        "withheld": (why, 3),
    }
    assert [(d.account_id, d.kind) for d in r.deductions if d.account_id == "undated"] == [
        ("undated", "privacy")
    ]
    t = r.totals
    assert (t.accounts, t.checked, t.unjudged, t.unqualified) == (9, 5, 4, 3)
    assert t.pass_rate == pytest.approx(2 / 5)  # 无法判定 is in neither side of it
    assert t.deducted == 2  # a3, and the undated account whose posts were read
    zy = next(g.totals for g in r.by_unit if g.key == "zy")
    assert (zy.accounts, zy.checked, zy.unjudged) == (7, 3, 4)

    # every format says so: the totals' 无法判定数, the list with its reasons
    page = render_html(r)
    assert "附件3　无法判定账号清单（4 项）" in page and why in page
    assert "此外，4个账号本期无法判定" in page and "不计入合格率" in page
    buf = io.BytesIO()
    write_csv(r, buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8-sig"))))
    header = rows[rows.index(["无法判定"]) + 1]
    assert header[5] == "无法判定的原因" and rows[0] == [r.title]
    assert any(row[2:3] == ["遵义公安"] and row[5] == why for row in rows)
    totals = rows[rows.index(["总体情况"]) + 1 : rows.index(["总体情况"]) + 3]
    assert dict(zip(*totals, strict=True))["无法判定数"] == "4"
    # an account judged in the period is not unjudged however many looks failed around it;
    # the old veto, put right by the look that could see again, was never seen in Q3
    seen = add_snap(world, "withheld", at(9, 20), posts=[post("w1", at(9, 19))], sight="posts")
    with session_scope(world.engine) as s:
        f = s.exec(select(Finding).where(Finding.account_id == "withheld")).first()
        assert f is not None and f.kind == "stale"
        f.status, f.resolved_at = "resolved", at(9, 20)
        s.add(FindingEvent(finding_id=f.id, at=at(9, 20), event="resolved", snapshot_id=seen))
    again = _build(world)
    assert "withheld" not in {u.account_id for u in again.unjudged}
    assert "withheld" not in {v.account_id for v in again.vetoes}


def test_the_writer_records_undated_as_the_staleness_rule_judges_it() -> None:
    """``snapshot.sight`` says "undated" exactly where the rule says 无法判断更新时间 (an
    undated post beside only pinned or future ones), and "posts" where it vetoes (only
    pinned dated posts): the 通报 then agrees with the finding."""
    from monitor.record.rows import sight_of
    from probes.checks.calendar import WorkCalendar
    from probes.checks.rules import BUILTIN_RULESETS
    from probes.checks.staleness import evaluate_staleness
    from probes.model import Observation, Outcome, Post, Sight

    now = at(11, 2)
    pin = Post("pin", at(10, 1), pinned=True)
    cases = {
        "undated": [pin, Post("u", None)],
        "undated ": [Post("future", now + timedelta(days=3)), Post("u", None)],
        "posts": [pin],
        "posts ": [Post("p", at(11, 1)), Post("u", None)],
    }
    for want, posts in cases.items():
        obs = Observation("a", "rss", "u", now, Outcome.ok, posts=posts, sight=Sight.posts)
        kinds = {s.kind for s in evaluate_staleness(
            posts, BUILTIN_RULESETS["national"], WorkCalendar(), now)}  # fmt: skip
        assert sight_of(obs) == want.strip(), posts
        assert ("undated" in kinds) == (want.strip() == "undated")


def test_unit_scope_covers_the_unit_and_below(world: App) -> None:
    r = _build(world, unit="gy")
    assert r.totals.accounts == 2 and r.unit_name == "贵阳市政府"
    assert {g.label: g.totals.accounts for g in r.by_unit} == {
        "贵阳市政府（本级）": 1,
        "花溪区政府": 1,
    }
    assert [v.account_id for v in r.vetoes] == ["a2"] and r.deductions == []
    province = _build(world, unit="gz")
    assert {g.label for g in province.by_unit} == {"贵阳市政府", "遵义市政府"}
    with pytest.raises(ReportError, match="不在登记表"):
        _build(world, unit="nowhere")


def test_past_period_is_reproducible(world: App) -> None:
    before = _build(world)
    html_before = render_html(before)
    # Q4 happens: a1 goes stale, new findings open, an old one is resolved late
    add_snap(world, "a1", at(11, 20), posts=[post("a1-late", at(9, 30))])
    add_snap(world, "a2", at(10, 3), outcome="error")
    add_finding(world, "a1", "stale", "veto", at(11, 20))
    add_finding(world, "a4", "gone", "high", at(10, 2))
    # ...and a2, vetoed in Q3 for its silence, is closed in October: Q3 still judged it by
    # the rules it was under then
    with session_scope(world.engine) as s:
        a2 = s.get(Account, "a2")
        assert a2 is not None
        a2.status, a2.closed_at = "closed", at(10, 20)
    add_snap(world, "a2", at(11, 1), posts=[post("a2-new", at(7, 12))])  # silent since July
    after = _build(world)
    assert after.to_dict() == before.to_dict()
    assert render_html(after) == html_before
    q4 = _build(world, "2026Q4")
    # closed during Q4: its silence is no veto there (a service account's rules)
    assert [v.account_id for v in q4.vetoes] == ["a1"] and q4.totals.checked == 2


def test_hostile_names_are_inert_in_every_format(world: App, tmp_path: Path) -> None:
    r = _build(world)
    page = render_html(r)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;发布" in page

    buf = io.BytesIO()
    write_csv(r, buf)
    raw = buf.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    cells = [c for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for c in row]
    assert "'" + HOSTILE_NAME in cells and HOSTILE_NAME not in cells
    risky = [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert all(re.fullmatch(r"[+-]\d+(\.\d+)?( 个百分点)?", c) for c in risky)  # figures only

    path = tmp_path / "r.xlsx"
    write_xlsx(r, path)
    wb = load_workbook(path)
    assert set(wb.sheetnames) == {"汇总", "单项否决", "扣分", "无法判定", "说明"}
    found = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == HOSTILE_NAME]
    assert found and all(c.data_type == "s" for c in found)
    assert not any(c.data_type == "f" for ws in wb for row in ws.iter_rows() for c in row)
    header, veto = list(wb["单项否决"].iter_rows(values_only=True))
    cell = dict(zip(header, veto, strict=True))
    assert header[:4] == ("序号", "新媒体类型", "新媒体名称", "主办单位")
    assert cell["新媒体名称"] == SCRIPT_NAME and cell["检查时更新日期"] == datetime(2026, 6, 20, 10)
    assert cell["问题类别"] == "更新不及时" and "天未更新" in cell["问题"]


def test_report_times_are_local(world: App) -> None:
    """JSON times in the display zone with their offset; the lists and the "统计截至" line in
    the one format people read; days (整改期限) are local days."""
    d = _build(world).to_dict()
    assert (d["start"], d["end"]) == ("2026-07-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00")
    [veto] = d["vetoes"]
    assert veto["checked_at"] == "2026-07-10T10:00:00+08:00"
    assert veto["latest_post_at"] == "2026-06-20T10:00:00+08:00"
    assert (veto["rectify_by"], veto["rectify"]) == (None, "立即整改")
    assert veto["deadline"] == "2026-07-04T10:00:00+08:00"  # overdue from then
    assert _build(world).to_dict("UTC")["start"] == "2026-06-30T16:00:00+00:00"
    now = datetime(2026, 8, 14, 17, 5, 9, tzinfo=UTC)  # mid-quarter: 08-15 01:05 in Beijing
    with Session(world.engine) as s:
        mid = build_report(s, world.settings, Period.parse("2026Q3"), None, now=now)
    assert "本期尚未结束：统计截至 2026-08-15 01:05，其后的检查不在其中。" in mid.notes
    assert "2026-07-01 至 2026-09-30，北京时间" in render_html(mid)


def test_cli_report(world: App, tmp_path: Path) -> None:
    r = _cli(world, "report", "--period", "2026Q5")
    assert r.exit_code == 2 and "无法识别的统计周期" in r.output
    r = _cli(world, "report", "--period", "2026Q3", "--unit", "nowhere")
    assert r.exit_code == 2 and "不在登记表" in r.output
    r = _cli(world, "report", "--period", "2026Q3", "--format", "pdf")
    assert r.exit_code == 2 and "不支持的格式" in r.output

    out = tmp_path / "q3.xlsx"
    r = _cli(world, "report", "--period", "2026Q3", "--output", str(out))
    assert r.exit_code == 0, r.output
    assert "合格率 66.67%" in r.output and load_workbook(out)["单项否决"].max_row == 2
    out = tmp_path / "q3.docx"
    r = _cli(world, "report", "--period", "2026Q3", "--format", "docx", "--date", "2026-10-09",
             "--seq", "12", "-o", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    text = [p.text.replace("\n", "") for p in Document(str(out)).paragraphs]
    assert "2026年10月9日" in text and "关于2026年第三季度全市政务新媒体检查情况的通报" in text
    r = _cli(world, "report", "--period", "2026Q3", "--format", "docx", "--date", "10月9日")
    assert r.exit_code == 2 and "无法识别的成文日期" in r.output
    out = tmp_path / "q3.csv"
    r = _cli(
        world, "report", "--period", "2026Q3", "--unit", "zy", "--format", "csv", "-o", str(out)
    )
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    r = _cli(world, "report", "--period", "2026Q3", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["totals"]["unqualified"] == 1
    assert json.loads(r.stdout)["vetoes"][0]["checked_at"] == "2026-07-10T10:00:00+08:00"


def test_report_from_real_checks(app: App) -> None:
    """Snapshots and findings written by the real pipeline, read back by the report."""
    from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
    from tests.test_patrol import RSS, run_check

    add_unit(app, "u1", "青溪县人民政府办公室")
    check_at = datetime(2026, 8, 20, 2, tzinfo=UTC)
    platform = SimulatedPlatform().start()
    try:
        platform.add(
            "/fresh.xml",
            rss_feed(
                "青溪发布",
                "https://weibo.com/1",
                [Item("<script>alert(1)</script>", check_at - timedelta(days=1))],
            ),
            RSS,
        )
        platform.add(
            "/silent.xml",
            rss_feed(
                "青溪税务", "https://weibo.com/2", [Item("旧闻", check_at - timedelta(days=20))]
            ),
            RSS,
        )
        add_account(app, "fresh", "u1", f"{platform.base_url}/fresh.xml", name="青溪发布")
        add_account(app, "silent", "u1", f"{platform.base_url}/silent.xml", name="青溪税务")
        assert run_check(app, "fresh", check_at).snapshot.outcome == "ok"
        silent = run_check(app, "silent", check_at)
    finally:
        platform.stop()
    assert {c.finding.severity for c in silent.changes} == {"veto"}

    r = _build(app)
    assert (r.totals.accounts, r.totals.checked, r.totals.unqualified) == (2, 2, 1)
    [veto] = r.vetoes  # the finding and the snapshots agree: one line, not two
    assert veto.account_id == "silent" and veto.snapshot_id == silent.snapshot.id
    assert veto.latest_post_at == check_at - timedelta(days=20)
    assert veto.evidence_sha256 == silent.snapshot.artifacts[0]["sha256"]
    assert "20 天未更新" in veto.problem


def test_an_account_closed_before_the_quarter_is_not_counted(world: App) -> None:
    """已关停 in the registry before the quarter began: not in use, so not in the 通报's
    figures, even though the patrol still looks at it once a day (only to see it has not come
    back online). Closed during the quarter, it was in use part of it and still counts."""
    before = _build(world).totals.accounts
    add_account(world, "a5", "gy", "http://127.0.0.1/a5", name="贵阳旧号", platform="weibo")
    add_snap(world, "a5", at(7, 20), posts=[post("a5-1", at(7, 19))])  # its daily look
    with session_scope(world.engine) as s:
        a5 = s.get(Account, "a5")
        assert a5 is not None
        a5.status, a5.closed_at = "closed", at(6, 1)
    assert _build(world).totals.accounts == before
    with session_scope(world.engine) as s:
        a5 = s.get(Account, "a5")
        assert a5 is not None
        a5.closed_at = at(8, 1)  # closed within Q3: it was in use until then
    assert _build(world).totals.accounts == before + 1
