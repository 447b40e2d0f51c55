"""What the period's snapshots say of each account: under patrol, judged, silent too long.

One ordered pass over every snapshot of the period (and a look-back before it), judging each
account by the veto-level ``max_gap_days`` rule it was under then; the definitions are in
``monitor.report.build`` and docs/report.md.

A look is judged only on what it saw (``snapshot.sight``, migration 0016): an ``ok`` look
with no post known is a veto only when the platform said the account has no posts
("none") or the posts seen were all pinned or future ("posts"); posts none of which could be
dated ("undated") and older rows that did not record it (NULL) are not. An account none of
whose looks in the period could be judged — only those, or blocked, unreadable, failed — is
无法判定, never 单项否决.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.report.period import Period
from monitor.show.labels import PLATFORM, label
from monitor.store.models import Account, Snapshot, Unit
from probes.checks.rules import MaxGapDays, RuleSet
from probes.model import Severity

FUTURE_TOLERANCE = timedelta(days=1)  # as probes.checks.staleness
# an ok look with no post known is judged (a veto) only on these: the platform's own word
# that there are none, or posts seen that were all pinned or future (probes.sight.Sight)
SEEN_EMPTY = frozenset({"posts", "none"})


@dataclass
class Acct:
    id: str
    platform: str
    name: str
    owner: str
    veto_days: int | None  # veto-level max_gap_days, None = not judged by the report's rule
    veto_if_empty: bool  # an ok check with no post at all fails outright
    veto_rule: str = ""  # its veto rules as ``Signal.rule`` cites them (rule_text reads them)

    def named(self, units: Mapping[str, Unit]) -> dict[str, str]:
        """The account as every list of the report opens its line: ids, names, platform."""
        unit = units.get(self.owner)
        return {
            "account_id": self.id,
            "platform": self.platform,
            "platform_label": label(PLATFORM, self.platform),
            "account_name": self.name,
            "owner_code": self.owner,
            "owner_name": unit.name if unit else self.owner,
        }


@dataclass
class Stale:
    gap: timedelta | None  # None = no post known at all
    snapshot_id: int
    taken_at: datetime
    latest: datetime | None


@dataclass
class State:
    seen: bool = False
    # judged: a look that could give a verdict — the account gone (not_found), or an ok look
    # with a post known, or with the platform's word / only pinned posts (SEEN_EMPTY), or any
    # ok look of an account under no veto rule (nothing of its posting to judge)
    checked: bool = False
    read: bool = False  # an ok look: what it saw is judged for content (deductions) too
    looks: int = 0
    last: tuple[int, Any] | None = None  # (id, raw taken_at) of the period's last look
    stale: Stale | None = None
    # the period's last ok check still found it silent too long: its veto is not put right
    breach_at_end: bool = False
    # (id, taken_at, outcome, latest known post) of in-period snapshots; only kept for
    # accounts with findings, to name a snapshot that shows the finding's problem
    snaps: list[tuple[int, datetime, str, datetime | None]] | None = None


def _ruleset_name(a: Account, period: Period) -> str:
    if _closed_by(a, period.end):  # not judged for silence once closed
        return "service"
    return a.ruleset or ("national" if a.kind == "publish" else "service")


def _closed_by(a: Account, when: datetime) -> bool:
    if a.status != "closed":
        return False
    return a.closed_at is None or a.closed_at < when  # undated: closed as far as we know


def _veto_rule(rs: RuleSet | None) -> tuple[int | None, bool, str]:
    if rs is None:
        return None, False, ""
    vetoes = [r for r in rs.rules if r.severity is Severity.veto]
    days = [r.days for r in vetoes if isinstance(r, MaxGapDays)]
    cited = ", ".join(f"{rs.name}.{r.label()}" for r in vetoes)
    return (min(days) if days else None), bool(vetoes), cited


def accounts_in(
    session: Session, codes: set[str] | None, rulesets: dict[str, RuleSet], period: Period
) -> dict[str, Acct]:
    """The accounts, each with the rules it was under in ``period``."""
    q = select(Account)
    if codes is not None:
        q = q.where(col(Account.owner_code).in_(sorted(codes)))
    out = {}
    for a in session.exec(q).all():
        if _closed_by(a, period.start):
            # closed (已关停) before the period began: not in use, not counted — its daily look
            # is only for it coming back online (a 盗用 sign), which a finding says
            continue
        days, any_veto, cited = _veto_rule(rulesets.get(_ruleset_name(a, period)))
        out[a.id] = Acct(a.id, a.platform, a.name, a.owner_code, days, any_veto, cited)
    return out


def as_utc(v: Any) -> datetime:
    """A time as either driver hands it back (naive-UTC text, or a datetime), aware UTC."""
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


class _Clock:
    """Times in the driver's own form, compared without converting each row.

    SQLite hands back ``YYYY-MM-DD HH:MM:SS.ffffff`` naive-UTC text (how ``UTCDateTime``
    stores it), whose string order is time order; PostgreSQL hands back aware datetimes.
    """

    def __init__(self, dialect: str) -> None:
        self.text = dialect == "sqlite"
        self._days: dict[str, int] = {}

    def raw(self, dt: datetime) -> Any:
        if self.text:
            return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return dt

    def dt(self, v: Any) -> datetime:
        return as_utc(v)

    def shift(self, v: Any, delta: timedelta) -> Any:
        if isinstance(v, str):
            return (datetime.fromisoformat(v) + delta).isoformat(" ", "microseconds")
        return v + delta

    def at_least(self, later: Any, earlier: Any, days: int) -> bool:
        """``later - earlier >= days`` — on text by day numbers, then time of day."""
        if not self.text:
            return bool(later - earlier >= timedelta(days=days))
        diff = self._day(later[:10]) - self._day(earlier[:10])
        return diff > days or (diff == days and later[11:] >= earlier[11:])

    def _day(self, d: str) -> int:
        n = self._days.get(d)
        if n is None:
            n = self._days[d] = date.fromisoformat(d).toordinal()
        return n


def _snapshot_rows(
    session: Session, clock: _Clock, since: datetime, end: datetime, codes: set[str] | None
) -> Iterator[list[tuple[Any, ...]]]:
    """(account_id, id, taken_at, outcome, latest_post_at, sight) in account then time
    order, raw from the driver in batches: over a million rows SQLAlchemy's row objects cost
    more than the query itself."""
    dialect = session.get_bind().dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        "SELECT account_id, id, taken_at, outcome, latest_post_at, sight FROM snapshot"
        f" WHERE taken_at >= {mark} AND taken_at < {mark}"
    )
    params: list[Any] = [clock.raw(since), clock.raw(end)]
    if codes is not None:
        sql += (
            " AND account_id IN (SELECT id FROM account WHERE owner_code IN"
            f" ({', '.join([mark] * len(codes))}))"
        )
        params += sorted(codes)
    sql += " ORDER BY account_id, taken_at, id"
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    # PostgreSQL: a named (server-side) cursor streams instead of loading every row
    cur = dbapi.cursor() if clock.text else dbapi.cursor(name="xuncha_report_scan")
    try:
        cur.execute(sql, params)
        while batch := cur.fetchmany(20_000):
            yield batch
    finally:
        cur.close()


def scan_snapshots(
    session: Session,
    periods: list[Period],
    codes: set[str] | None,
    accts: list[dict[str, Acct]],
    keep_snaps: list[set[str]],
) -> list[dict[str, State]]:
    """One ordered pass over the snapshots of consecutive ``periods`` (oldest first), plus a
    look-back before the first for the latest post known then. ``accts`` are the accounts
    with the rules of each period (the same accounts, maybe closed in between).

    A million rows go through here, so times stay in the driver's form and are compared as
    they are; a datetime is made only when the latest known post changes (to know when the
    account would breach its rule) and for what is kept.
    """
    clock = _Clock(session.get_bind().dialect.name)
    lookback = max((a.veto_days or 0 for by in accts for a in by.values()), default=0) + 2
    since = periods[0].start - timedelta(days=lookback)
    out: list[dict[str, State]] = [{} for _ in periods]
    starts = [clock.raw(p.start) for p in periods]
    current: str | None = None
    acct: Acct | None = None
    known: Any = None  # latest post known so far (raw)
    states: list[State | None] = [None] * len(periods)
    rows = chain.from_iterable(_snapshot_rows(session, clock, since, periods[-1].end, codes))
    for account_id, snap_id, taken, outcome, latest, sight in rows:
        if account_id != current:
            current, known = account_id, None
            states = [None] * len(periods)
            acct = accts[-1].get(account_id)
        if acct is None:
            continue
        if (
            outcome == "ok"
            and latest is not None
            and (known is None or latest > known)
            and (latest <= taken or clock.shift(taken, FUTURE_TOLERANCE) >= latest)
        ):
            known = latest
        pi = bisect_right(starts, taken) - 1
        if pi < 0:  # the look-back before the first period
            continue
        st = states[pi]
        if st is None:
            st = states[pi] = out[pi][account_id] = State(
                seen=True, snaps=[] if account_id in keep_snaps[pi] else None
            )
        st.looks += 1
        st.last = (snap_id, taken)
        if outcome == "not_found":
            st.checked = True
        if st.snaps is not None:
            st.snaps.append((snap_id, clock.dt(taken), outcome, clock.dt(known) if known else None))
        if outcome == "ok":
            acct = accts[pi][account_id]
            _judge(st, acct, clock, snap_id, taken, known, sight)
    return out


def _judge(
    st: State, acct: Acct, clock: _Clock, snap_id: int, taken: Any, known: Any, sight: Any
) -> None:
    """What a look that read the account (outcome ok) says of its posting: checked or not,
    in breach of its veto rule at the end, and the worst such look of the period."""
    st.read = True
    if known is None:
        if not acct.veto_if_empty:
            st.checked = True  # under no veto rule: nothing of its posting to judge
        elif sight in SEEN_EMPTY:  # the platform's word, or only pinned posts: a veto
            st.checked = st.breach_at_end = True
            if st.stale is None or st.stale.gap is not None:
                st.stale = Stale(None, snap_id, clock.dt(taken), None)
        # else: posts none could date, or an older row that did not say: not judged
        return
    st.checked = True
    st.breach_at_end = acct.veto_days is not None and clock.at_least(taken, known, acct.veto_days)
    if st.breach_at_end:
        assert acct.veto_days is not None
        taken_at, latest_at = clock.dt(taken), clock.dt(known)
        gap = taken_at - latest_at
        if st.stale is None or (st.stale.gap is not None and gap > st.stale.gap):
            st.stale = Stale(gap, snap_id, taken_at, latest_at)


def older_latest(session: Session, account_id: str, before: datetime) -> datetime | None:
    """The latest post known before ``before`` from any earlier snapshot (for display when
    the look-back window held none)."""
    return session.exec(
        select(sa.func.max(col(Snapshot.latest_post_at))).where(
            col(Snapshot.account_id) == account_id,
            col(Snapshot.outcome) == "ok",
            col(Snapshot.taken_at) <= before,
            col(Snapshot.latest_post_at) <= before + FUTURE_TOLERANCE,
        )
    ).first()
