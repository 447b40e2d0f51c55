"""The patrol's schedule: due accounts claimed in batches from the database, on a fixed clock.

What ops rely on: every account gets a due time, spread so a first start does not fire
everything at once; a claimed account is not handed out again while it is held; a node
that stops renewing (it died) loses its accounts after one lease; a restarted node frees
what its previous life held; an account that came due while every node was down is
checked once, not once per missed turn; and two nodes claiming at once never share one.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from monitor.app import App
from monitor.patrol.claims import Claims, interval, next_due
from monitor.store.engine import session_scope
from monitor.store.models import Account, AccountState
from tests.conftest import add_account, add_unit

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
LEASE = 30.0


def accounts(app: App, n: int, **kw: object) -> list[str]:
    add_unit(app, "u1")
    ids = [f"a{i:03d}" for i in range(n)]
    for a in ids:
        add_account(app, a, "u1", f"http://127.0.0.1:9/{a}", **kw)
    return ids


def states(app: App) -> dict[str, AccountState]:
    with Session(app.engine) as s:
        return {r.account_id: r for r in s.exec(select(AccountState)).all()}


def test_first_due_times_are_spread_over_the_jitter_window(app: App) -> None:
    ids = accounts(app, 40)
    claims = Claims(app.engine, "node-a", LEASE)
    app.settings.patrol.jitter_seconds = 300
    assert claims.ensure_states(app.settings, NOW) == 40
    assert claims.ensure_states(app.settings, NOW) == 0  # once
    due = [st.due_at for st in states(app).values()]
    assert sorted(states(app)) == ids
    assert all(NOW <= d <= NOW + timedelta(seconds=300) for d in due)
    assert len({d.replace(microsecond=0) for d in due}) > 20  # not all at one instant
    # half way through the window, about half are due (all 40 would be a 1 in 2^40 chance)
    assert 0 < len(claims.claim(NOW + timedelta(seconds=150), 100)) < 40


def test_a_claimed_account_is_held_until_written_or_its_lease_lapses(app: App) -> None:
    ids = accounts(app, 10)
    a, b = Claims(app.engine, "node-a", LEASE), Claims(app.engine, "node-b", LEASE)
    app.settings.patrol.jitter_seconds = 0
    a.ensure_states(app.settings, NOW)
    got = [c.account_id for c in a.claim(NOW, 4)]
    assert len(got) == 4
    assert len(b.claim(NOW + timedelta(seconds=1), 100)) == 6  # the other six only
    rows = states(app)
    assert {k for k, r in rows.items() if r.claimed_by == "node-a"} == set(got)
    # node-a renews while it works: its four do not lapse (node-b's six, not renewed, do)
    assert a.renew(got, NOW + timedelta(seconds=20)) == 4
    lapsed = {c.account_id for c in b.claim(NOW + timedelta(seconds=40), 100)}
    assert len(lapsed) == 6 and not lapsed & set(got)
    # node-a dies (no renewal): one lease later node-b takes its accounts
    taken = {c.account_id for c in b.claim(NOW + timedelta(seconds=20 + LEASE + 1), 100)}
    assert set(got) <= taken
    assert set(ids) >= taken


def test_a_restarted_node_frees_what_its_previous_life_held(app: App) -> None:
    accounts(app, 5)
    app.settings.patrol.jitter_seconds = 0
    first = Claims(app.engine, "node-a", LEASE)
    first.ensure_states(app.settings, NOW)
    held = {c.account_id for c in first.claim(NOW, 5)}
    assert len(held) == 5
    again = Claims(app.engine, "node-a", LEASE)  # the same node, started again
    assert again.release_mine(NOW + timedelta(seconds=5)) == 5
    assert {c.account_id for c in again.claim(NOW + timedelta(seconds=5), 10)} == held


def test_an_account_due_during_downtime_is_checked_once(app: App) -> None:
    accounts(app, 3)
    app.settings.patrol.jitter_seconds = 0
    claims = Claims(app.engine, "node-a", LEASE)
    claims.ensure_states(app.settings, NOW)
    later = NOW + timedelta(hours=10)  # ten hourly turns missed
    got = claims.claim(later, 100)
    assert len(got) == 3
    with Session(app.engine) as s:
        account = s.get(Account, got[0].account_id)
        assert account is not None
    # the check's record sets the next due time: one interval on from the check
    due = next_due(app.settings, account, later)
    assert later + interval(app.settings, account) <= due <= later + timedelta(hours=1, minutes=1)
    assert claims.claim(later + timedelta(seconds=1), 100) == []  # not three more times


def test_closed_accounts_are_looked_at_daily(app: App) -> None:
    accounts(app, 1, status="closed")
    with Session(app.engine) as s:
        account = s.get(Account, "a000")
        assert account is not None
    assert interval(app.settings, account) == timedelta(days=1)


def test_two_nodes_claiming_at_once_never_share_an_account(app: App) -> None:
    ids = accounts(app, 300)
    app.settings.patrol.jitter_seconds = 0
    Claims(app.engine, "setup", LEASE).ensure_states(app.settings, NOW)
    taken: dict[str, list[str]] = {"node-a": [], "node-b": [], "node-c": []}

    def node(name: str) -> None:
        claims = Claims(app.engine, name, LEASE)
        while True:
            got = claims.claim(NOW + timedelta(seconds=1), 7)
            if not got:
                return
            taken[name] += [c.account_id for c in got]

    threads = [threading.Thread(target=node, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [a for got in taken.values() for a in got]
    assert sorted(everything) == ids  # each once, none left
    if app.engine.dialect.name == "postgresql":  # SKIP LOCKED: they worked side by side
        assert sum(1 for got in taken.values() if got) >= 2


def test_give_back_makes_unstarted_claims_due_at_once(app: App) -> None:
    accounts(app, 4)
    app.settings.patrol.jitter_seconds = 0
    a = Claims(app.engine, "node-a", LEASE)
    a.ensure_states(app.settings, NOW)
    got = [c.account_id for c in a.claim(NOW, 4)]
    a.give_back(got[:2], NOW + timedelta(seconds=2))
    b = Claims(app.engine, "node-b", LEASE)
    assert sorted(c.account_id for c in b.claim(NOW + timedelta(seconds=2), 10)) == sorted(got[:2])


def test_a_new_account_gets_a_due_time_at_the_next_registry_sync(app: App) -> None:
    accounts(app, 2)
    claims = Claims(app.engine, "node-a", LEASE)
    claims.ensure_states(app.settings, NOW)
    with session_scope(app.engine) as s:
        s.add(Account(id="new", owner_code="u1", platform="weibo", name="new", url="http://x/"))
    assert claims.ensure_states(app.settings, NOW) == 1
    assert "new" in states(app)


def test_a_renewal_never_waits_on_an_account_being_written(app: App) -> None:
    """The writer recording a look holds that account's state row; a renewal meanwhile
    pushes the lease of the others and passes that one by (on PostgreSQL it waited, and the
    two deadlocked: the node exited). It returns at once, whatever the other holds."""
    import sqlalchemy as sa

    ids = accounts(app, 4)
    a = Claims(app.engine, "node-a", LEASE)
    app.settings.patrol.jitter_seconds = 0
    a.ensure_states(app.settings, NOW)
    got = sorted(c.account_id for c in a.claim(NOW, 4))
    assert got == ids
    if app.engine.dialect.name != "postgresql":
        assert a.renew(got, NOW + timedelta(seconds=20)) == 4  # no row locks: all renewed
        return
    t = AccountState.__table__  # type: ignore[attr-defined]
    with app.engine.connect() as writer:
        tx = writer.begin()
        writer.execute(sa.update(t).where(t.c.account_id == ids[1]).values(meaning="x"))
        done: list[int] = []
        th = threading.Thread(target=lambda: done.append(a.renew(got, NOW + timedelta(seconds=20))))
        th.start()
        th.join(10)
        assert done == [3]  # came back while the row was held, the other three renewed
        tx.rollback()
    due = {k: st.due_at for k, st in states(app).items()}
    assert due[ids[1]] < due[ids[0]] == due[ids[2]] == due[ids[3]]
