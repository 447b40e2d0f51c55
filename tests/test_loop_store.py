"""The loop's rules below the pages: what a 误报 suppresses (posts and words, theft signs), and
a finding said 已整改 that a worse kind replaced (即将超期 → 长期未更新) is no recheck passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from monitor.record.recheck import Loop
from monitor.store.engine import session_scope
from monitor.store.findings import open_findings, reconcile
from monitor.store.models import Account, AlertItem, Finding, FindingEvent, Snapshot, Unit
from monitor.store.rectify import identity, mark_rectified, suppress
from probes.model import Severity, Signal
from tests.conftest import add_account, add_unit, make_settings, open_app

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _post(pid: str, *words: str) -> dict:
    return {"post_id": pid, "post_url": f"https://weibo.example/{pid}",
            "words": [{"category": "ad", "word": w, "context": w} for w in words]}  # fmt: skip


def _sig(kind: str, evidence: dict) -> Signal:
    return Signal(kind=kind, severity=Severity.high, title=kind, evidence=evidence)


def test_a_dismissal_suppresses_its_posts_and_words_only() -> None:
    gone = {("a", "commercial"): set(identity({"posts": [_post("p1", "代购", "微商")]}))}
    same = _sig("commercial", {"posts": [_post("p1", "代购")]})
    new_word = _sig("commercial", {"posts": [_post("p1", "代购", "刷单")]})
    new_post = _sig("commercial", {"posts": [_post("p1", "代购"), _post("p2", "代购")]})
    other_account = suppress([same], "b", gone)
    assert suppress([same, new_word, new_post], "a", gone) == [new_word, new_post]
    assert other_account == [same]
    sign = {"code": "bio_changed", "title": "简介已修改", "score": 1.0, "from": "x", "to": "y"}
    theft = {("a", "theft"): set(identity({"signs": [sign]}))}
    assert suppress([_sig("theft", {"signs": [{**sign, "score": 2.0}]})], "a", theft) == []
    changed = _sig("theft", {"signs": [{**sign, "to": "z"}]})
    assert suppress([changed], "a", theft) == [changed]
    assert identity({"reason": "nothing to recognise"}) == frozenset()  # never suppressed


def test_rectified_then_replaced_by_a_worse_kind_is_a_failed_recheck(tmp_path: Path) -> None:
    app = open_app(make_settings(tmp_path))
    try:
        add_unit(app, "qx", "青溪县人民政府办公室", channels=["json://127.0.0.1:9/qx"])
        add_account(app, "wb-qx", "qx", "https://weibo.example/qx", name="青溪发布")

        def look(at: datetime, kind: str) -> None:
            with session_scope(app.engine) as s:
                snap = Snapshot(account_id="wb-qx", taken_at=at, outcome="ok")
                s.add(snap)
                s.flush()
                loop = Loop.load(s, {"wb-qx": open_findings(s, "wb-qx")})
                reconcile(s, "wb-qx", snap.id or 0, [_sig(kind, {})], content_seen=True,
                          now=at, current=loop.current["wb-qx"])  # fmt: skip
                account = s.get(Account, "wb-qx")
                assert account is not None
                loop.decide_one(s, app.settings, app.rulesets, account, s.get(Unit, "qx"), snap,
                                True, at, at)  # fmt: skip

        look(NOW, "stale_soon")
        with session_scope(app.engine) as s:
            [soon] = open_findings(s, "wb-qx").values()
            mark_rectified(s, soon.id or 0, note="已安排更新", by="值班员", now=NOW)
        look(NOW + timedelta(hours=2), "stale")  # not updated: it is overdue now
        with Session(app.engine) as s:
            q = select(FindingEvent.event).where(FindingEvent.finding_id == soon.id)
            events = s.exec(q.order_by(col(FindingEvent.id))).all()
            items = s.exec(select(AlertItem.event).where(AlertItem.event == "recheck_failed")).all()
            assert s.exec(select(Finding.kind).where(Finding.status == "open")).all() == ["stale"]
        assert list(events) == ["opened", "rectified", "superseded", "recheck_failed"]
        assert items == []  # the 单项否决's opening is the news, not a second message
    finally:
        app.close()
