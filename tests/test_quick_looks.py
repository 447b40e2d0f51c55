"""A look that says nothing new, at an account with nothing open, whose time rules promised
silence, is written without judging (``monitor.record.quick``) — and the findings, their
events and the snapshot rows are exactly what judging every look would have written: the
same sequence of looks is patrolled with the quick path and without it, side by side."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.app import App
from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.patrol.claims import Claims
from monitor.patrol.pipeline import check
from monitor.record import batch
from monitor.record.batch import CheckResult
from monitor.store.models import AccountState, Finding, FindingEvent, Snapshot
from tests.conftest import add_account, add_unit

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
RSS = "application/rss+xml; charset=utf-8"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
AD = "限时秒杀，点击领券 https://s.click.taobao.com/abc"

# (hours after NOW, the feed's posts from then on — None: as it was)
QUIET = [Item("最后一条", NOW - timedelta(days=2))]
NEWS = [Item("新的一条", NOW + timedelta(days=6, hours=1)), *QUIET]
TIMELINE: list[tuple[float, list[Item] | None]] = [
    (0, QUIET),  # read in full
    (1, None),  # the same page, the rules silent until NOW + 5 days: quick
    (48, None),  # quick
    (5 * 24 + 1, None),  # past the warning's moment: judged, 即将超期 opens
    (6 * 24, None),  # a finding open: judged (the finding's last look moves on)
    (6 * 24 + 2, NEWS),  # a new post: read in full, the warning resolved
    (6 * 24 + 3, None),  # quick again
    (13 * 24 + 2, None),  # the new post's warning: judged, opens
]
AD_TIMELINE: list[tuple[float, list[Item] | None]] = [
    (0, [Item(AD, NOW - timedelta(hours=1))]),  # a commercial link: a finding opens
    (1, None),  # the rules are silent, but a finding is open: judged
    (2, None),
]


@pytest.fixture
def platform() -> Iterator[SimulatedPlatform]:
    p = SimulatedPlatform().start()
    yield p
    p.stop()


def look(app: App, account: str, at: datetime) -> CheckResult:
    """One check of ``account`` as ``xuncha run`` makes it (claimed with its last look,
    released by the write); the other accounts are kept out of the claim."""
    claims = Claims(app.engine, app.settings.node_name, 30)
    claims.ensure_states(app.settings, at)
    t = AccountState.__table__  # type: ignore[attr-defined]
    with app.engine.begin() as c:
        c.execute(sa.update(t).values(due_at=FAR, claimed_by=None))
        c.execute(sa.update(t).where(t.c.account_id == account).values(due_at=at))
    refresh = timedelta(hours=app.settings.patrol.evidence_refresh_hours)
    (claim,) = claims.claim(at, 100, app.judged_with, refresh)

    async def go() -> CheckResult:
        async with app.probing() as tools:
            return await check(
                app, tools, account, now=at, previous=claim.previous, claimed=True,
                account=claim.account, last=claim.last,
            )  # fmt: skip

    return anyio.run(go)


def replay(
    app: App, platform: SimulatedPlatform, account: str, path: str, timeline: list[Any]
) -> list[bool]:
    """The timeline's looks at ``account`` on the feed at ``path``; whether each was
    unchanged."""
    add_account(app, account, "u1", f"{platform.base_url}{path}")
    out = []
    for hours, items in timeline:
        if items is not None:
            platform.add(path, rss_feed("测试发布", "https://weibo.com/1", items), RSS)
        out.append(look(app, account, NOW + timedelta(hours=hours)).observation.unchanged)
    return out


def written(app: App, account: str) -> dict[str, list[dict[str, Any]]]:
    """What the account's looks left: snapshot rows, findings, their events — ids (and the
    facts' keys, which name the account) replaced by their order within the account, so
    two accounts' rows compare."""
    with Session(app.engine) as s:
        snaps = s.exec(
            select(Snapshot).where(Snapshot.account_id == account).order_by(col(Snapshot.id))
        ).all()
        order = {snap.id: n for n, snap in enumerate(snaps)}
        findings = s.exec(
            select(Finding).where(Finding.account_id == account).order_by(col(Finding.id))
        ).all()
        forder = {f.id: n for n, f in enumerate(findings)}
        events = s.exec(
            select(FindingEvent)
            .where(col(FindingEvent.finding_id).in_(list(forder)))
            .order_by(col(FindingEvent.id))
        ).all()
    skip = {"id", "account_id", "same_as", "url", "final_url", "elapsed_ms", "facts_hash"}
    facts: dict[str, int] = {}  # what was seen names the account: by order of first sight
    return {
        "snapshots": [
            {k: v for k, v in snap.model_dump().items() if k not in skip}
            | {"same_as": order.get(snap.same_as)}
            | {"facts": facts.setdefault(snap.facts_hash, len(facts))}
            for snap in snaps
        ],
        "findings": [
            {k: v for k, v in f.model_dump().items() if not k.endswith("_snapshot_id")}
            | {"id": None, "account_id": None}
            | {"first": order[f.first_snapshot_id], "last": order[f.last_snapshot_id]}
            for f in findings
        ],
        "events": [
            (forder[e.finding_id], e.event, order.get(e.snapshot_id), e.at, e.detail)
            for e in events
        ],
    }


def test_quick_looks_write_what_judging_them_writes(
    app: App, platform: SimulatedPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_unit(app, "u1")
    taken: list[set[int]] = []
    quick = batch._quick

    def watched(*args: Any) -> set[int]:
        got = quick(*args)
        taken.append(got)
        return got

    monkeypatch.setattr(batch, "_quick", watched)
    assert replay(app, platform, "quick", "/a.xml", TIMELINE) == [
        False,
        True,
        True,
        True,
        True,
        False,
        True,
        True,
    ]
    assert [bool(t) for t in taken] == [False, True, True, False, False, False, True, False]
    taken.clear()
    assert replay(app, platform, "ad-quick", "/ad.xml", AD_TIMELINE) == [False, True, True]
    assert not any(taken)  # a finding open: every look judged

    monkeypatch.setattr(batch, "_quick", lambda *args: set())  # every look judged
    replay(app, platform, "slow", "/a.xml", TIMELINE)
    replay(app, platform, "ad-slow", "/ad.xml", AD_TIMELINE)

    fast, slow = written(app, "quick"), written(app, "slow")
    assert fast == slow
    assert [(e[1], e[2]) for e in fast["events"]] == [
        ("opened", 3), ("resolved", 5), ("opened", 7)
    ]  # fmt: skip
    assert fast["findings"][0]["last"] == 5  # moved on by the judged look with it open
    assert written(app, "ad-quick") == written(app, "ad-slow")
    assert written(app, "ad-quick")["findings"][0]["last"] == 2
