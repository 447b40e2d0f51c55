"""Due accounts claimed in batches from the database: the patrol's schedule.

Each account has one ``account_state`` row with ``due_at``. A node claims what is due with
one statement for a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so nodes claiming at
once never take the same row and never wait for each other; SQLite has one writer). A
claim moves ``due_at`` a lease ahead and names the node; the node renews the lease of what
it still holds every third of a lease, and the check's write (``monitor.record.batch``)
sets the next ``due_at`` — the check's start plus the account's interval and a little
jitter — in the same transaction as its snapshot. So:

- an account is checked by one node at a time (the claim is exclusive while it is held);
- a node that dies holding accounts stops renewing: they come due again within a lease
  and another node takes them; nothing else is needed to "hand over" (a restarted node
  frees what its previous life held at once);
- a node that was down finds its accounts due in the past and checks each once (misfires
  coalesce), never silently dropped;
- cost per check is independent of the number of accounts: an index range on ``due_at``.

Why not one APScheduler schedule per account (the first design): each job is several
data-store round trips and events, and ``bench/schedulers.py`` measured that design
against 20,000–150,000 accounts. APScheduler still runs the role jobs (alerts, self-watch,
retention) that must happen once across nodes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.config import Settings
from monitor.store.models import Account, AccountState
from monitor.store.plain_rows import built, columns
from monitor.store.states import LastLook
from probes.model import Previous

# a closed account is still looked at, daily: "closed accounts stay closed" is a rule
CLOSED_INTERVAL_MINUTES = 24 * 60


@dataclass(frozen=True)
class Claim:
    """A due account this node now holds, and what its last look saw: read with the claim,
    so the check reads neither its registry row nor its state again."""

    account_id: str
    previous: Previous | None
    account: Account | None = None  # None: not in the registry (the check says so)
    last: LastLook | None = None  # with ``previous``: what an unchanged page refers to


def interval(settings: Settings, account: Account) -> timedelta:
    minutes = settings.interval_minutes(account.platform, account.interval_minutes)
    if account.status == "closed":
        minutes = max(minutes, CLOSED_INTERVAL_MINUTES)
    return timedelta(minutes=minutes)


def next_due(settings: Settings, account: Account, started: datetime) -> datetime:
    """When the account is due after a check that started at ``started``: its interval,
    plus up to a tenth of it (at most a minute) so accounts do not march in step."""
    every = interval(settings, account)
    spread = min(60.0, every.total_seconds() / 10)
    return started + every + timedelta(seconds=random.uniform(0, spread))


class Claims:
    """One node's claims on the account_state rows (see the module's docstring)."""

    def __init__(self, engine: Engine, node: str, lease_seconds: float) -> None:
        self.engine = engine
        self.node = node
        self.lease = timedelta(seconds=lease_seconds)
        self._postgres = engine.dialect.name == "postgresql"

    def ensure_states(self, settings: Settings, now: datetime) -> int:
        """Give every account without a row one, its first check spread over the jitter
        window (at most one interval), so a first start does not fire everything at once.
        Returns the rows made."""
        with Session(self.engine) as s:
            missing = s.exec(
                select(Account)
                .outerjoin(AccountState, col(AccountState.account_id) == col(Account.id))
                .where(col(AccountState.account_id).is_(None))
            ).all()
            jitter = settings.patrol.jitter_seconds
            rows = [
                {
                    "account_id": a.id,
                    "due_at": now
                    + timedelta(
                        seconds=random.uniform(
                            0, min(jitter, interval(settings, a).total_seconds())
                        )
                    ),
                }
                for a in missing
            ]
            if not rows:
                return 0
            t = AccountState.__table__  # type: ignore[attr-defined]
            # nodes starting together (or the registry sync beside the first start) may give
            # the same account its row at once: the first one wins, nobody fails
            if self._postgres:
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                stmt = pg_insert(t).on_conflict_do_nothing(index_elements=["account_id"])
            else:
                stmt = sa.insert(t).prefix_with("OR IGNORE")
            made = s.execute(stmt, rows).rowcount
            s.commit()
            return int(made) if made is not None and made >= 0 else len(rows)

    def release_mine(self, now: datetime) -> int:
        """What this node held when its previous life ended is due now (node names are one
        per process: docs/scale-out.md)."""
        t = AccountState.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as c:
            res = c.execute(
                sa.update(t).where(t.c.claimed_by == self.node).values(due_at=now, claimed_by=None)
            )
            return int(res.rowcount or 0)

    def claim(
        self, now: datetime, limit: int, judged_with: str = "", refresh: timedelta | None = None
    ) -> list[Claim]:
        """Take up to ``limit`` due accounts, the longest due first.

        Each comes with its last look when that look was read in full and judged under the
        judging configuration now in force (``judged_with``): only then may an unchanged
        page skip being read again. What that look said (its meaning) comes with it while it
        is younger than ``refresh`` (None: however old), so a page whose bytes change while
        its content does not is still read in full, with fresh evidence, that often. Its
        registry row is read in the same transaction (one thread hop for the batch).
        """
        if limit <= 0:
            return []
        t = AccountState.__table__  # type: ignore[attr-defined]
        due = sa.select(t.c.account_id).where(t.c.due_at <= now).order_by(t.c.due_at).limit(limit)
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        stmt = (
            sa.update(t)
            .where(t.c.account_id.in_(due.scalar_subquery()))
            .values(due_at=now + self.lease, claimed_by=self.node)
            .returning(
                t.c.account_id,
                t.c.etag,
                t.c.last_modified,
                t.c.body_sha256,
                t.c.snapshot_id,
                t.c.judged_with,
                t.c.meaning,
                t.c.read_at,
                t.c.posts_counted,
                # until when its time rules stay silent, not the posts' digest they are
                # judged from: decoding that was a tenth of a busy patrol (the write reads
                # it for the few looks it judges)
                t.c.quiet_until,
                t.c.quiet_for,
            )
        )
        with self.engine.begin() as c:
            rows = c.execute(stmt).all()
            ids = [r[0] for r in rows]
            # the registry rows as column values, built without the ORM's load (its identity
            # map and instance state were most of a claim's cost: monitor.store.plain_rows)
            registry = sa.select(*columns(Account)).where(col(Account.id).in_(ids))
            got = c.execute(registry).all() if ids else []
            accounts = {a.id: a for a in (built(Account, tuple(r)) for r in got)}
        out = []
        for a, etag, modified, sha, snapshot_id, judged, meaning, read_at, counted, *quiet in rows:
            fresh = refresh is None or (read_at is not None and now - read_at < refresh)
            meaning = meaning if fresh else ""
            known = snapshot_id is not None and (sha or meaning) and judged == judged_with
            prev = Previous(etag, modified, sha, meaning, counted) if known else None
            last = LastLook(snapshot_id, *quiet) if known else None
            out.append(Claim(a, prev, accounts.get(a), last))
        return out

    def renew(self, account_ids: list[str], now: datetime) -> int:
        """Push the lease of what this node still holds a lease ahead.

        On PostgreSQL a row another transaction holds is skipped, not waited for: it is the
        writer recording that very account's look (which releases the claim anyway), and
        waiting on it while the writer waits on a row this statement locked deadlocked
        (seen under load in tests/test_scaleout.py: the node exited)."""
        if not account_ids:
            return 0
        t = AccountState.__table__  # type: ignore[attr-defined]
        mine = sa.and_(t.c.account_id.in_(account_ids), t.c.claimed_by == self.node)
        if self._postgres:
            free = sa.select(t.c.account_id).where(mine).order_by(t.c.account_id)
            mine = t.c.account_id.in_(free.with_for_update(skip_locked=True).scalar_subquery())
        with self.engine.begin() as c:
            res = c.execute(sa.update(t).where(mine).values(due_at=now + self.lease))
            return int(res.rowcount or 0)

    def give_back(self, account_ids: list[str], now: datetime) -> None:
        """Accounts claimed but not checked (the node is stopping): due again now."""
        if not account_ids:
            return
        t = AccountState.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as c:
            c.execute(
                sa.update(t)
                .where(t.c.account_id.in_(account_ids), t.c.claimed_by == self.node)
                .values(due_at=now, claimed_by=None)
            )

    def postpone(self, account_id: str, until: datetime) -> None:
        """A check that could not run (the registry's fault: an unknown rule set): not
        again before ``until``, so a mistake does not repeat every lease."""
        t = AccountState.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as c:
            c.execute(
                sa.update(t)
                .where(t.c.account_id == account_id, t.c.claimed_by == self.node)
                .values(due_at=until, claimed_by=None)
            )

    def count(self) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(sa.func.count()).select_from(AccountState)).one())

    def next_due(self) -> datetime | None:
        """The earliest due time (the patrol sleeps until then, or until woken)."""
        with Session(self.engine) as s:
            return s.exec(select(sa.func.min(AccountState.due_at))).one()


def make_due(
    engine: Engine, account_ids: list[str] | None, now: datetime, *, full: bool = False
) -> int:
    """``xuncha recheck``: these accounts (None: all) due now; ``full`` forgets their last
    look, so their pages are read and judged in full. Accounts a node is checking right now
    keep their claim. Returns how many rows it changed."""
    t = AccountState.__table__  # type: ignore[attr-defined]
    values: dict[str, object] = {"due_at": now}
    if full:
        values |= {
            "etag": "",
            "last_modified": "",
            "body_sha256": "",
            "judged_with": "",
            "meaning": "",
        }
    stmt = sa.update(t).where(t.c.claimed_by.is_(None)).values(**values)
    if account_ids is not None:
        stmt = stmt.where(t.c.account_id.in_(account_ids))
    with engine.begin() as c:
        return int(c.execute(stmt).rowcount or 0)
