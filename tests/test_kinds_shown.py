"""Every kind a detector can emit reads as the kind catalogue's Chinese words wherever people
see it — an alert message (single and grouped), the console's findings list and finding page,
the quarterly report (问题类别 = the category, 问题 = the kind) and ``xuncha findings`` — and
never as its English code.

One account per kind in 青溪县, each with one ok check and one open finding in 2026Q3. The
finding titles say nothing of the kind, so a label on the page came from the catalogue.
"""

from __future__ import annotations

import dataclasses
import html
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session
from typer.testing import CliRunner

from alerts.group import render_group
from alerts.messages import render
from alerts.notice import FindingNotice, notice_from_dict, notice_to_dict
from alerts.routing import AlertRoute, Subject, plan
from monitor.alerting.route import OPS_KINDS, defaults, notice_for, plan_for
from monitor.alerting.settings import AlertingSettings
from monitor.app import App
from monitor.cli import app as cli
from monitor.report import Period, build_report, render_html, write_xlsx
from monitor.report.problems import NOT_DEDUCTED
from monitor.store.engine import session_scope
from monitor.store.models import Account, Finding, Snapshot, Unit
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.auth import add_user
from probes.checks.kinds import KINDS, FindingKind
from probes.model import Severity
from tests.conftest import add_account, make_settings, open_app

T = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)  # 2026Q3, 10:00 in Beijing
NOW = T + timedelta(hours=1)
AFTER_Q3 = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse 42"
CODES = sorted(KINDS)


def report_severity(k: FindingKind) -> str:
    """Its usual severity where the report lists a finding of that severity, else veto (a
    signal may carry another severity than usual, and a veto is always listed)."""
    listed = k.severity in (Severity.veto, Severity.high, Severity.warning)
    return k.severity.value if listed and k.code not in NOT_DEDUCTED else "veto"


@dataclass
class World:
    xapp: App
    findings: dict[str, int]  # kind -> finding id


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    xapp = open_app(make_settings(tmp_path))
    with session_scope(xapp.engine) as s:
        s.add(Unit(code="qx", name="青溪县人民政府办公室"))
    found: dict[str, int] = {}
    for i, code in enumerate(CODES, 1):
        k = KINDS[code]
        account = f"acct-{i:02d}"
        platform = "app" if k.category == "install" else "weibo"
        add_account(xapp, account, "qx", f"https://example.org/{i}", platform=platform,
                    name=f"青溪发布{i:02d}")  # fmt: skip
        with session_scope(xapp.engine) as s:
            snap = Snapshot(
                account_id=account, taken_at=T, outcome="ok", latest_post_at=T - timedelta(days=1)
            )
            s.add(snap)
            s.flush()
            f = Finding(
                account_id=account, kind=code, severity=report_severity(k),
                title=f"第 {i} 项巡查结果", opened_at=T, updated_at=T,
                deadline=T + timedelta(days=2), first_snapshot_id=snap.id,
                last_snapshot_id=snap.id,
            )  # fmt: skip
            s.add(f)
            s.flush()
            assert f.id is not None
            found[code] = f.id
    yield World(xapp, found)
    xapp.close()


def codes_in(text: str) -> list[str]:
    return [c for c in CODES if c in text]


def notices(w: World, event: str = "opened") -> list[FindingNotice]:
    out = []
    with Session(w.xapp.engine) as s:
        unit = s.get(Unit, "qx")
        for code in CODES:
            f = s.get(Finding, w.findings[code])
            assert f is not None
            account = s.get(Account, f.account_id)
            assert account is not None
            n = notice_for(AlertingSettings.of(w.xapp.settings), f, account, unit, event, NOW)
            # as the outbox keeps it: JSON in alert_item, read back when the message is made
            out.append(notice_from_dict(notice_to_dict(n)))
    return out


def test_every_kind_reads_as_its_label_in_messages(world: World) -> None:
    for n in notices(world):
        k = KINDS[n.kind]
        m = render(n)
        for body in (m.markdown, m.text):
            assert f"问题类别：{k.category_label}（{k.label}）" in body.replace("**", "")
            assert f"前{k.remedy}" in body
            assert codes_in(m.title + body) == [], (n.kind, body)
    assert "前更新" in render(notices(world)[CODES.index("stale")]).text
    assert "前整改" in render(notices(world)[CODES.index("gone")]).text

    for event in ("opened", "resolved"):
        group = render_group(notices(world, event), recipient="青溪县人民政府办公室")
        assert group.count == len(CODES)  # all in one message
        for body in (group.message.markdown, group.message.text):
            for code in CODES:
                assert KINDS[code].label in body, (event, code)
            assert codes_in(group.message.title + body) == []


def test_a_notice_stored_before_the_kind_words_still_renders(world: World) -> None:
    """Items queued by an older version lack the catalogue's words: the code and "整改"."""
    old = notice_to_dict(notices(world)[CODES.index("stale")])
    for name in ("kind_label", "category", "category_label", "remedy"):
        del old[name]
    n = notice_from_dict(old)
    assert (n.kind_label, n.remedy) == ("", "")
    text = render(n).text
    assert "问题类别：stale" in text and "前整改" in text


def test_app_problems_route_to_the_it_contact_by_category(world: World) -> None:
    """``it_kinds = ["install"]`` (the default) names a category: every app kind goes there,
    and a route's ``kinds`` may name a category too."""
    settings = AlertingSettings.of(world.xapp.settings)
    assert settings.alerts.it_kinds == ["install"]
    with Session(world.xapp.engine) as s:
        line = [u for u in [s.get(Unit, "qx")] if u is not None]
        for code in CODES:
            f = s.get(Finding, world.findings[code])
            account = s.get(Account, f.account_id) if f else None
            assert f is not None and account is not None
            expected = "it" if KINDS[code].category == "install" else "owner"
            assert plan_for(settings, f, account, line).audience == (
                "ops" if code in OPS_KINDS else expected
            ), code
            # the category is what matches: the bare kind is not in it_kinds
            bare = Subject(kind=code, severity=f.severity, platform="app", unit_line=("qx",))
            assert plan(bare, [], defaults(settings)).audience != "it"

    ads = AlertRoute(name="广告静音", kinds=["ads"], mute=True)
    review = Subject("commercial_review", "info", "weibo", ("qx",), category="ads")
    assert plan(review, [ads], defaults(settings)).mute
    assert not plan(dataclasses.replace(review, category=""), [ads], defaults(settings)).mute


def test_every_kind_reads_as_its_label_in_the_console(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    with session_scope(world.xapp.engine) as s:
        add_user(s, "admin", "admin", None, PASSWORD, NOW)
    c = TestClient(create_app(world.xapp, clock=lambda: NOW), follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert csrf
    r = c.post("/login", data={"name": "admin", "password": PASSWORD, "csrf": csrf[1]})
    assert r.status_code == 303, r.text

    listing = c.get("/findings?status=all")
    assert listing.status_code == 200
    for code in CODES:
        k, fid = KINDS[code], world.findings[code]
        row = re.search(rf'<tr id="finding-{fid}">(.*?)</tr>', listing.text, re.S)
        assert row, code
        shown = visible_text(row[1])
        assert k.label in shown and codes_in(shown) == [], (code, shown)

        page = c.get(f"/findings/{fid}")
        assert page.status_code == 200
        facts = re.search(r'<dl class="facts">(.*?)</dl>', page.text, re.S)
        assert facts, code
        shown = visible_text(facts[1])
        assert f"问题 {k.label} " in shown and f"问题类别 {k.category_label} " in shown, shown
        assert codes_in(shown) == [], (code, shown)


def visible_text(fragment: str) -> str:
    """What a browser shows of an HTML fragment: no tags, no attributes, entities decoded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", " ", fragment)))


def test_every_kind_reads_as_its_label_in_the_report(world: World) -> None:
    with Session(world.xapp.engine) as s:
        report = build_report(s, world.xapp.settings, Period.parse("2026Q3"), now=AFTER_Q3)
    rows = report.vetoes + report.deductions
    assert sorted(r.kind for r in rows) == CODES
    for r in rows:
        k = KINDS[r.kind]
        assert r.category == k.category_label and r.problem.startswith(k.label), r
    assert {d["kind"]: d["category"] for d in report.to_dict()["vetoes"]}["stale"] == "更新不及时"

    page = visible_text(render_html(report))
    assert codes_in(page) == []
    buf = io.BytesIO()
    write_xlsx(report, buf)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    seen: dict[str, tuple[str, str]] = {}
    for sheet in ("单项否决", "扣分"):
        header, *cells = wb[sheet].iter_rows(values_only=True)
        category, problem = header.index("问题类别"), header.index("问题")
        for cell_row in cells:
            seen[str(cell_row[2])] = (str(cell_row[category]), str(cell_row[problem]))
            assert codes_in(" ".join(str(v) for v in cell_row)) == []
    for i, code in enumerate(CODES, 1):
        k = KINDS[code]
        category, problem = seen[f"青溪发布{i:02d}"]
        assert category == k.category_label and problem.startswith(k.label), code
        assert k.category_label in page and k.label in page


def test_every_kind_reads_as_its_label_in_xuncha_findings(world: World) -> None:
    settings = world.xapp.settings
    cfg = Path(settings.data_dir) / "xuncha.toml"
    db = settings.database_url
    cfg.write_text(f'data_dir = "{settings.data_dir}"\n[database]\nurl = "{db}"\n')
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        r = CliRunner().invoke(
            cli,
            ["--config", str(cfg), "findings"],
            env={"COLUMNS": "250", "XUNCHA_CLOCK": NOW.isoformat()},
        )
    finally:  # the CLI points logging at the runner's streams: put it back
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
    assert r.exit_code == 1, r.output  # findings are open
    for code in CODES:
        assert KINDS[code].label in r.output, (code, r.output)
    assert codes_in(r.output) == [], r.output
