"""The fleet at a glance: how many accounts, how many patrolled, at risk, failing, and how
the patrol itself is doing — each one aggregate query, whatever the number of accounts.

Definitions (also in docs/console.md): an account **fails** (问题账号) with a 单项否决 or
严重 problem open, is **at risk** (有预警) with a 预警 open and nothing worse; problems of our
own fetch (kinds of the 暂时无法检查 category: 抓取失败, 被拦截, 无法读取, 无法判断更新时间)
are neither: they are **巡查异常**, the patrol's to fix, counted apart. An update finding
(长期未更新, 即将超期) counts only while the account's newest look could judge it: an account
the patrol cannot see now is 无法判定, not failing. Only accounts in use (``status = active``)
are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.show.labels import PATROL_KINDS
from monitor.store.models import Account, Finding, Notification
from monitor.web.auth import Principal
from monitor.web.data import aware, scoped, severity_rank
from monitor.web.roster import judged_now, last_checked

OUTBOX_WAITING = ("pending", "sending", "held", "dead")


@dataclass
class Outbox:
    """Messages not yet delivered, by state: 待发送, 发送中, 已暂停 (the channel refused
    them: kept until fixed), 已放弃."""

    counts: dict[str, int] = field(default_factory=dict)
    oldest_pending: datetime | None = None

    @property
    def waiting(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("pending", "sending"))

    def to_dict(self, tz: str) -> dict[str, Any]:
        return {
            **{s: self.counts.get(s, 0) for s in OUTBOX_WAITING},
            "oldest_pending": timefmt.iso(self.oldest_pending, tz),
        }


@dataclass
class Fleet:
    accounts: int  # in use, in scope
    closed: int
    patrolled: int  # checked within the last 24 hours
    never_checked: int
    last_patrol: datetime | None
    failing: int
    at_risk: int
    patrol_problems: int  # accounts with a 巡查异常 open
    outbox: Outbox

    def to_dict(self, tz: str) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "closed_accounts": self.closed,
            "patrolled_24h": self.patrolled,
            "never_checked": self.never_checked,
            "last_patrol_at": timefmt.iso(self.last_patrol, tz),
            "failing": self.failing,
            "at_risk": self.at_risk,
            "patrol_problems": self.patrol_problems,
            "outbox": self.outbox.to_dict(tz),
        }


def fleet(session: Session, p: Principal, now: datetime) -> Fleet:
    since = now - timedelta(hours=24)
    by_status = dict(
        session.exec(
            scoped(
                select(col(Account.status), sa.func.count()).group_by(col(Account.status)),
                p, Account.owner_code,
            )
        ).all()
    )  # fmt: skip
    active = scoped(
        select(col(Account.id), last_checked().label("last")), p, Account.owner_code
    ).where(col(Account.status) == "active")
    checks = active.subquery()
    patrolled, never, last = session.exec(
        select(
            sa.func.count(sa.case((checks.c.last >= since, 1))),
            sa.func.count(sa.case((checks.c.last.is_(None), 1))),
            sa.func.max(checks.c.last),
        )
    ).one()
    patrol = sorted(PATROL_KINDS)
    open_in_use = (
        select(col(Finding.account_id))
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(col(Finding.status) == "open", col(Account.status) == "active")
    )
    worst = scoped(
        open_in_use.add_columns(sa.func.max(severity_rank(col(Finding.severity))).label("rank"))
        .where(col(Finding.kind).not_in(patrol), judged_now())
        .group_by(col(Finding.account_id)),
        p, Account.owner_code,
    ).subquery()  # fmt: skip
    ranks = dict(
        session.exec(
            select(worst.c.rank, sa.func.count()).group_by(worst.c.rank)
        ).all()
    )  # fmt: skip
    patrol_accounts = scoped(
        select(sa.func.count(sa.distinct(col(Finding.account_id))))
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(
            col(Finding.status) == "open",
            col(Account.status) == "active",
            col(Finding.kind).in_(patrol),
        ),
        p, Account.owner_code,
    )  # fmt: skip
    return Fleet(
        accounts=int(by_status.get("active", 0)),
        closed=int(sum(n for s, n in by_status.items() if s != "active")),
        patrolled=int(patrolled or 0),
        never_checked=int(never or 0),
        last_patrol=aware(last),
        failing=int(ranks.get(4, 0) + ranks.get(3, 0)),
        at_risk=int(ranks.get(2, 0)),
        patrol_problems=int(session.exec(patrol_accounts).one() or 0),
        outbox=outbox(session, p),
    )


def outbox(session: Session, p: Principal) -> Outbox:
    """The messages for the asker's units not delivered yet (an admin: all, ops' too)."""
    q = (
        select(col(Notification.status), sa.func.count(), sa.func.min(col(Notification.due_at)))
        .where(col(Notification.status).in_(OUTBOX_WAITING))
        .group_by(col(Notification.status))
    )
    q = scoped(q, p, Notification.unit_code)
    out = Outbox()
    for status, n, oldest in session.exec(q).all():
        out.counts[status] = int(n)
        if status == "pending":
            out.oldest_pending = aware(oldest)
    return out
