"""The accounts list: paged, sorted by any column, with each account's health.

Health is read per account with index probes, never by walking its history: the last check
is the newest snapshot (``ix_snapshot_account_taken``), the latest post the newest ok
snapshot's ``latest_post_at``, open problems a count on ``ix_finding_status_account``. A page
reads them for its own rows only; sorting by one of them computes it for every account the
filter keeps (one probe each) and lets the database sort.

An account whose newest look could not be judged (blocked, failed, a list not shown, posts
it could not date) is **无法判定**: its update findings from earlier looks (单项否决 for
silence, 即将超期) are not its verdict now — they are not counted as failing or at risk,
and the list says 无法判定 — while what else it was found to do (ads, personal data) stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.report.unjudged import reason
from monitor.show.labels import PATROL_KINDS
from monitor.store.models import Account, Finding, Snapshot, Unit
from monitor.web.auth import Principal
from monitor.web.data import aware, containing, scoped, severity_rank, unit_codes
from probes.checks.kinds import KINDS

ACCOUNT_SORTS = ("name", "platform", "unit", "checked", "post", "silent", "problems", "id")
HEALTH = ("failing", "risk", "patrol", "ok")  # 问题账号, 有预警, 巡查异常, 无未解决问题
# outcomes of a look that saw nothing to judge (an ok look whose posts had no dates too)
UNJUDGED_OUTCOMES = ("blocked", "error", "unreadable")
# findings about how often it posts: a verdict only while the newest look could see that
UPDATE_KINDS = sorted(code for code, k in KINDS.items() if k.category == "update")


def _per_account(q: Any) -> Any:
    return q.correlate(Account).scalar_subquery()


def last_checked() -> Any:
    return _per_account(
        select(sa.func.max(col(Snapshot.taken_at))).where(
            col(Snapshot.account_id) == col(Account.id)
        )
    )


def _newest(column: Any, *, ok_only: bool) -> Any:
    q = select(column).where(col(Snapshot.account_id) == col(Account.id))
    if ok_only:
        q = q.where(col(Snapshot.outcome) == "ok")
    q = q.order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc()).limit(1)
    return _per_account(q)


def newest_unjudged() -> Any:
    """1 when the account's newest look could not be judged, else 0 (none yet: 0)."""
    verdict = sa.case(
        (col(Snapshot.outcome).in_(UNJUDGED_OUTCOMES), 1),
        (sa.and_(col(Snapshot.outcome) == "ok", col(Snapshot.sight) == "undated"), 1),
        else_=0,
    )
    return _newest(verdict, ok_only=False)


def judged_now() -> Any:
    """The finding is a verdict on the account now: not one about its updates while its
    newest look could not be judged."""
    return sa.or_(
        col(Finding.kind).not_in(UPDATE_KINDS), sa.func.coalesce(newest_unjudged(), 0) == 0
    )


def _open(*where: Any) -> Any:
    return (
        select(sa.func.count())
        .select_from(Finding)
        .where(col(Finding.status) == "open", col(Finding.account_id) == col(Account.id), *where)
    )


def open_problems() -> Any:
    """Open findings the unit must act on (our own fetch problems are not theirs, nor an
    update finding while the newest look could not see)."""
    return _per_account(_open(col(Finding.kind).not_in(sorted(PATROL_KINDS)), judged_now()))


def _exists(*where: Any) -> Any:
    return sa.exists(
        select(col(Finding.id)).where(
            col(Finding.status) == "open", col(Finding.account_id) == col(Account.id), *where
        )
    )


def health_clause(health: str) -> Any:
    """failing: a veto or high open; risk: a warning open and nothing worse; patrol: our
    fetch of it failing; ok: no open problem of the unit's. Update findings count only
    while the newest look could judge them (``judged_now``)."""
    unit_kinds = col(Finding.kind).not_in(sorted(PATROL_KINDS))
    bad = _exists(unit_kinds, judged_now(), col(Finding.severity).in_(("veto", "high")))
    if health == "failing":
        return bad
    if health == "risk":
        warned = _exists(unit_kinds, judged_now(), col(Finding.severity) == "warning")
        return sa.and_(warned, sa.not_(bad))
    if health == "patrol":
        return _exists(col(Finding.kind).in_(sorted(PATROL_KINDS)))
    worse = col(Finding.severity).in_(("veto", "high", "warning"))
    return sa.not_(_exists(unit_kinds, judged_now(), worse))


@dataclass(frozen=True)
class AccountFilter:
    unit: str | None = None  # and every unit below it
    platform: str | None = None
    status: str = "active"  # active | closed | all
    health: str | None = None  # one of HEALTH
    q: str = ""  # name, id or platform handle

    def apply(self, q: Any, p: Principal, session: Session) -> Any:
        q = scoped(q, p, Account.owner_code)
        codes = unit_codes(session, p, self.unit)
        if codes is not None:
            q = q.where(col(Account.owner_code).in_(codes))
        if self.platform:
            q = q.where(col(Account.platform) == self.platform)
        if self.status in ("active", "closed"):
            q = q.where(col(Account.status) == self.status)
        if self.health in HEALTH:
            q = q.where(health_clause(self.health))
        if text := self.q.strip():
            q = q.where(containing(text, Account.name, Account.id, Account.handle))
        return q


@dataclass
class AccountRow:
    account: Account
    unit_name: str
    last_checked_at: datetime | None
    last_outcome: str | None
    latest_post_at: datetime | None
    open_problems: int
    worst_severity: str | None
    patrol_problems: int
    # the newest look could not be judged: why, in words ("" when it could)
    unjudged: str = ""

    def days_silent(self, now: datetime) -> int | None:
        """Whole days since the latest post seen (None: none seen, or never read)."""
        if self.latest_post_at is None:
            return None
        return max((now - self.latest_post_at).days, 0)

    def to_dict(self, tz: str, now: datetime) -> dict[str, Any]:
        a = self.account
        return {
            "id": a.id,
            "name": a.name,
            "platform": a.platform,
            "owner": a.owner_code,
            "owner_name": self.unit_name,
            "kind": a.kind,
            "status": a.status,
            "last_checked_at": timefmt.iso(self.last_checked_at, tz),
            "last_outcome": self.last_outcome,
            "latest_post_at": timefmt.iso(self.latest_post_at, tz),
            "days_silent": self.days_silent(now),
            "open_findings": self.open_problems,
            "worst_severity": self.worst_severity,
            "patrol_findings": self.patrol_problems,
            "judged": not self.unjudged,
            "unjudged_reason": self.unjudged or None,
        }


def _sort_key(sort: str) -> tuple[Any, bool]:
    """The column to sort by and whether its natural order is descending (most recent, most
    problems, longest silent first)."""
    if sort == "platform":
        return col(Account.platform), False
    if sort == "unit":
        return col(Unit.name_key), False  # by pinyin (monitor.store.sortkey)
    if sort == "checked":
        return last_checked(), True
    if sort == "post":
        return _newest(col(Snapshot.latest_post_at), ok_only=True), True
    if sort == "silent":
        return _newest(col(Snapshot.latest_post_at), ok_only=True), False  # oldest first
    if sort == "problems":
        return open_problems(), True
    if sort == "id":
        return col(Account.id), False
    return col(Account.name_key), False


def list_accounts(
    session: Session,
    p: Principal,
    which: AccountFilter,
    *,
    sort: str = "name",
    desc: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[AccountRow]:
    """One page of accounts; ``desc`` reverses the column's natural order."""
    key, natural_desc = _sort_key(sort)
    down = natural_desc != desc
    if sort in ("post", "silent"):  # never read: nothing known, last either way
        ordered = key.desc().nulls_last() if down else key.asc().nulls_last()
    else:
        ordered = key.desc() if down else key.asc()
    q = select(col(Account.id)).join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
    q = which.apply(q, p, session).order_by(ordered, col(Account.id)).limit(limit).offset(offset)
    ids = list(session.exec(q).all())
    return rows_for(session, ids)


def rows_for(session: Session, ids: list[str]) -> list[AccountRow]:
    """The health of the given accounts, in the order given."""
    if not ids:
        return []
    unit_kinds = (col(Finding.kind).not_in(sorted(PATROL_KINDS)), judged_now())
    worst = _per_account(
        select(sa.func.max(severity_rank(col(Finding.severity)))).where(
            col(Finding.status) == "open",
            col(Finding.account_id) == col(Account.id),
            *unit_kinds,
        )
    )
    q = (
        select(
            Account,
            col(Unit.name),
            last_checked(),
            _newest(col(Snapshot.outcome), ok_only=False),
            _newest(col(Snapshot.latest_post_at), ok_only=True),
            open_problems(),
            worst,
            _per_account(_open(col(Finding.kind).in_(sorted(PATROL_KINDS)))),
            _newest(col(Snapshot.sight), ok_only=False),
            _newest(col(Snapshot.detail), ok_only=False),
            _newest(col(Snapshot.post_count), ok_only=False),
        )
        .join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
        .where(col(Account.id).in_(ids))
    )
    names = {4: "veto", 3: "high", 2: "warning", 1: "info"}
    by_id = {}
    for row in session.exec(q).all():
        a, unit, checked, outcome, post, problems, rank, patrol, sight, detail, count = row
        blind = outcome in UNJUDGED_OUTCOMES or (outcome == "ok" and sight == "undated")
        by_id[a.id] = AccountRow(
            a, unit or a.owner_code, aware(checked), outcome, aware(post), int(problems or 0),
            names.get(int(rank or 0)), int(patrol or 0),
            reason(outcome, sight, detail or "", count or 0) if blind else "",
        )  # fmt: skip
    return [by_id[i] for i in ids if i in by_id]


def count_accounts(session: Session, p: Principal, which: AccountFilter) -> int:
    q = select(sa.func.count()).select_from(Account)
    q = q.join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
    return int(session.exec(which.apply(q, p, session)).one())
