"""Adding a finding kind is one step: its spec declared beside its detector.

This module is the proof. It declares a throwaway kind and registers the detector that emits
it — here, inside the test, and nowhere else — then runs the real pipeline: the detectors
judge a page, the finding is opened in SQLite, routed, rendered and delivered to a local
webhook. The message reads the kind's own label, category and advice, although no other file
names the kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from sqlmodel import Session

from monitor.alerting import dispatch_once, enqueue
from monitor.demo.receivers import WebhookSink
from monitor.store.engine import session_scope
from monitor.store.findings import open_findings, reconcile
from monitor.store.models import Account, Snapshot, Unit
from probes.checks import evaluate, kinds
from probes.checks.calendar import WorkCalendar
from probes.checks.registry import Context, register, unregister
from probes.checks.rules import BUILTIN_RULESETS
from probes.model import Observation, Outcome, Post, Severity, Signal
from tests.conftest import make_settings, open_app

NOW = datetime(2026, 12, 7, 1, 11, tzinfo=UTC)  # Monday 09:11 in Beijing
CODE = "throwaway_slogan"
SPEC = kinds.FindingKind(
    CODE,
    "使用已停用的宣传口号",
    "vetting",
    Severity.warning,
    fix_hours=48,
    review=True,
    advice="将所列口号改为现行表述",
)
RETIRED = "旧口号一二三"


def detect_slogan(obs: Observation, ctx: Context) -> list[Signal]:
    """The throwaway detector: a post that uses the retired slogan."""
    return [
        Signal(CODE, Severity.warning, f"使用了已停用的口号「{RETIRED}」", evidence={"post": p.url})
        for p in obs.posts
        if RETIRED in p.text
    ]


@pytest.fixture
def slogan_kind() -> Iterator[kinds.FindingKind]:
    kinds.declare(__name__, SPEC)
    register("throwaway", [SPEC])(detect_slogan)
    try:
        yield SPEC
    finally:
        unregister("throwaway")
        kinds.withdraw(SPEC)


def page() -> Observation:
    text = f"我县继续坚持{RETIRED}。"
    posts = [Post("p1", NOW - timedelta(hours=2), "青溪要闻", text, "https://example.org/p1")]
    return Observation("wb-qx", "rss", "https://example.org/wb-qx", NOW, Outcome.ok, posts=posts)


def test_a_declared_kind_is_known_everywhere_by_its_spec(slogan_kind: kinds.FindingKind) -> None:
    assert kinds.kind(CODE) is slogan_kind and kinds.declared_in(CODE) == __name__
    assert kinds.label(CODE) == "使用已停用的宣传口号"
    assert kinds.category_label(CODE) == "审核把关不严"
    assert kinds.fix_deadline(CODE, NOW) == NOW + timedelta(hours=48)
    assert kinds.report_weight(CODE, "warning") == "deduct"
    assert CODE in kinds.kinds_where(review=True)
    signals = evaluate(
        page(), ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(), now=NOW
    )
    found = [s for s in signals if s.kind == CODE]
    assert len(found) == 1 and found[0].spec is slogan_kind


def test_a_declared_kind_reaches_a_message(slogan_kind: kinds.FindingKind, tmp_path: Path) -> None:
    with WebhookSink() as hook:
        settings = make_settings(tmp_path, channels={"qx-hook": hook.apprise_url("/qx")})
        app = open_app(settings)
        try:
            with session_scope(app.engine) as s:
                s.add(Unit(code="qx", name="青溪县人民政府办公室", channels=["@qx-hook"]))
                s.flush()
                s.add(Account(id="wb-qx", owner_code="qx", platform="weibo", name="青溪发布",
                              url="https://example.org/wb-qx", reader="rss"))  # fmt: skip
            signals = evaluate(
                page(), ruleset=BUILTIN_RULESETS["national"], calendar=WorkCalendar(), now=NOW
            )
            with session_scope(app.engine) as s:
                snap = Snapshot(account_id="wb-qx", taken_at=NOW, outcome="ok")
                s.add(snap)
                s.flush()
                assert snap.id is not None
                changes = reconcile(s, "wb-qx", snap.id, signals, content_seen=True, now=NOW,
                                    current=open_findings(s, "wb-qx"))  # fmt: skip
                account, unit = s.get(Account, "wb-qx"), s.get(Unit, "qx")
                assert account is not None
                enqueue(s, settings, account, unit, changes, now=NOW)
            anyio.run(lambda: dispatch_once(app.engine, settings, clock=lambda: NOW))
            with Session(app.engine) as s:
                assert CODE in open_findings(s, "wb-qx")
        finally:
            app.close()
        bodies = [str(m.json) for m in hook.delivered if m.path == "/qx"]
    said = [b for b in bodies if "使用已停用的宣传口号" in b]
    assert said, bodies
    assert "审核把关不严（使用已停用的宣传口号）" in said[0]  # 问题类别（label）
    assert "将所列口号改为现行表述" in said[0]  # the kind's own advice, not its category's
    assert CODE not in said[0]  # people never read the code
