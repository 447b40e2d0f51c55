"""The quarterly inspection report (通报), computed from snapshots and findings.

Definitions (also in docs/report.md):

* **纳入统计的账号 (accounts)** — accounts in scope with at least one snapshot taken in the
  period: the ones under patrol then. Accounts registered but never probed in the period are
  not counted (nothing is known about them for that period).
* **已检查 (checked)** — at least one snapshot in the period whose fetch gave a definite
  answer: ``ok`` (the page was read) or ``not_found`` (the account is gone). Failed or
  blocked fetches say nothing about the account.
* **单项否决 (single veto)** — a checked account that, at some ``ok`` check in the period, had
  no post for at least the days of its rule set's veto-level ``max_gap_days`` rule (national:
  14 days), judged as the daemon judges: the latest non-pinned post known by that check from
  that and earlier snapshots (a post dated more than a day after the check is ignored); an
  ok check that found no post at all fails too. Also any veto-severity finding open during
  the period (severity as it stood then, from the finding's events).
* **扣分 (deductions)** — findings of severity high or warning open during the period, except
  ``stale_soon`` (a warning before a breach, not a breach), ``fetch_failed`` and ``blocked``
  (about our fetch, not the account), and except a problem already listed as a veto.
* **不合格 (unqualified)** = checked accounts with a single veto; **合格率 (pass rate)** =
  (checked − unqualified) / checked; **检查率 (check ratio)** = checked / accounts.

"As it was known then": only snapshots taken before the period's end and finding events
before it are read, so a past period's report is the same whenever it is built. Account
names, platforms and units are the registry's current ones (the registry is not versioned);
an account closed later keeps the rules it was under in the period (``Account.closed_at``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.config import Settings
from monitor.report.period import Period
from monitor.show import times as timefmt
from monitor.show.labels import KIND, PLATFORM, SEVERITY, label
from monitor.store.models import Account, Finding, FindingEvent, Snapshot, Unit
from monitor.store.scope import units_below
from probes.checks.rules import MaxGapDays, RuleSet, load_rulesets
from probes.model import SEVERITY_RANK, Severity

RECTIFY_DAYS = 15  # 整改期限: this many days after the period's last day
FUTURE_TOLERANCE = timedelta(days=1)  # as probes.checks.staleness
CHECKED_OUTCOMES = frozenset({"ok", "not_found"})
NOT_DEDUCTED = frozenset({"stale_soon", "fetch_failed", "blocked"})
_FETCH_KINDS = frozenset({"fetch_failed", "blocked", "gone"})


class ReportError(ValueError):
    """A report that cannot be built as asked (unknown unit, ...); message in Chinese."""


@dataclass
class Totals:
    accounts: int = 0
    checked: int = 0
    unqualified: int = 0
    deducted: int = 0  # accounts with at least one deduction

    @property
    def qualified(self) -> int:
        return self.checked - self.unqualified

    @property
    def check_ratio(self) -> float | None:
        return self.checked / self.accounts if self.accounts else None

    @property
    def pass_rate(self) -> float | None:
        return self.qualified / self.checked if self.checked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "qualified": self.qualified,
            "check_ratio": self.check_ratio,
            "pass_rate": self.pass_rate,
        }


@dataclass
class GroupRow:
    key: str  # platform code or unit code
    label: str
    totals: Totals
    previous: Totals | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            **self.totals.to_dict(),
            "previous": self.previous.to_dict() if self.previous else None,
        }


@dataclass
class ProblemRow:
    """One line of the 单项否决 or 扣分 list."""

    account_id: str
    platform: str
    platform_label: str
    account_name: str
    owner_code: str
    owner_name: str
    kind: str
    problem: str  # 问题类别, Chinese
    severity: str
    checked_at: datetime | None  # the check that shows it
    latest_post_at: datetime | None  # 检查时更新日期
    snapshot_id: int | None  # 证据
    evidence_sha256: str
    rectify_by: date  # 整改期限
    finding_id: int | None = None

    @property
    def evidence(self) -> str:
        if self.snapshot_id is None:
            return ""
        short = f" · sha256 {self.evidence_sha256[:12]}" if self.evidence_sha256 else ""
        return f"快照 #{self.snapshot_id}{short}"

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        d = asdict(self)
        for k in ("checked_at", "latest_post_at"):
            d[k] = timefmt.iso(d[k], tz)
        d["rectify_by"] = self.rectify_by.isoformat()  # a local day, as the report says it
        d["evidence"] = self.evidence
        return d


@dataclass
class Report:
    period: Period
    unit_code: str | None
    unit_name: str | None
    totals: Totals
    previous: Totals
    by_platform: list[GroupRow]
    by_unit: list[GroupRow]
    vetoes: list[ProblemRow]
    deductions: list[ProblemRow]
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        scope = self.unit_name or "全部单位"
        return f"{scope}政务新媒体{self.period.label}检查情况通报"

    def to_dict(self, tz: str | None = None) -> dict[str, Any]:
        """The figures as JSON; times in ``tz``, by default the zone the period is cut in."""
        tz = tz or self.period.tz
        return {
            "period": str(self.period),
            "period_label": self.period.label,
            "start": timefmt.iso(self.period.start, tz),
            "end": timefmt.iso(self.period.end, tz),
            "previous_period": str(self.period.previous()),
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "title": self.title,
            "totals": self.totals.to_dict(),
            "previous": self.previous.to_dict(),
            "by_platform": [r.to_dict() for r in self.by_platform],
            "by_unit": [r.to_dict() for r in self.by_unit],
            "vetoes": [r.to_dict(tz) for r in self.vetoes],
            "deductions": [r.to_dict(tz) for r in self.deductions],
            "notes": self.notes,
        }


# -- internals --------------------------------------------------------------------------------


@dataclass
class _Acct:
    id: str
    platform: str
    name: str
    owner: str
    veto_days: int | None  # veto-level max_gap_days, None = not judged by the report's rule
    veto_if_empty: bool  # an ok check with no post at all fails outright


@dataclass
class _Stale:
    gap: timedelta | None  # None = no post known at all
    snapshot_id: int
    taken_at: datetime
    latest: datetime | None


@dataclass
class _State:
    seen: bool = False
    checked: bool = False
    stale: _Stale | None = None
    # (id, taken_at, outcome, latest known post) of in-period snapshots; only kept for
    # accounts with findings, to name a snapshot that shows the finding's problem
    snaps: list[tuple[int, datetime, str, datetime | None]] | None = None


@dataclass
class _Computed:
    states: dict[str, _State]
    problems: dict[str, list[ProblemRow]]  # account -> rows (vetoes + deductions)
    vetoed: set[str]
    deducted: set[str]


def _ruleset_name(a: Account, period: Period) -> str:
    if _closed_by(a, period.end):  # not judged for silence once closed
        return "service"
    return a.ruleset or ("national" if a.kind == "publish" else "service")


def _closed_by(a: Account, when: datetime) -> bool:
    if a.status != "closed":
        return False
    return a.closed_at is None or a.closed_at < when  # undated: closed as far as we know


def _veto_rule(rs: RuleSet | None) -> tuple[int | None, bool]:
    if rs is None:
        return None, False
    days = [r.days for r in rs.rules if isinstance(r, MaxGapDays) and r.severity is Severity.veto]
    any_veto = any(r.severity is Severity.veto for r in rs.rules)
    return (min(days) if days else None), any_veto


def _scope(session: Session, unit_code: str | None) -> tuple[set[str] | None, str | None]:
    if unit_code is None:
        return None, None
    codes = units_below(session, unit_code)
    if not codes:
        raise ReportError(f"单位 '{unit_code}' 不在登记表中")
    unit = session.get(Unit, unit_code)
    return codes, unit.name if unit else unit_code


def _accounts(
    session: Session, codes: set[str] | None, rulesets: dict[str, RuleSet], period: Period
) -> dict[str, _Acct]:
    """The accounts, each with the rules it was under in ``period``."""
    q = select(Account)
    if codes is not None:
        q = q.where(col(Account.owner_code).in_(sorted(codes)))
    out = {}
    for a in session.exec(q).all():
        days, any_veto = _veto_rule(rulesets.get(_ruleset_name(a, period)))
        out[a.id] = _Acct(a.id, a.platform, a.name, a.owner_code, days, any_veto)
    return out


def _held_severity(f: Finding, events: list[FindingEvent], period: Period) -> str | None:
    """The highest severity the finding had while open in the period (None: not open then)."""
    if f.opened_at >= period.end or (f.resolved_at and f.resolved_at < period.start):
        return None
    history: list[tuple[datetime, str]] = []
    for e in events:
        sev = e.detail.get("severity") if isinstance(e.detail, dict) else None
        if isinstance(sev, list) and sev:
            sev = sev[-1]
        if isinstance(sev, str) and sev in SEVERITY_RANK and e.at < period.end:
            history.append((e.at, sev))
    if not history:
        return f.severity
    history.sort()
    held = [s for at, s in history if at >= period.start]
    before = [s for at, s in history if at < period.start]
    if before:
        held.append(before[-1])
    return max(held, key=lambda s: SEVERITY_RANK[Severity(s)])


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
        if isinstance(v, str):
            v = datetime.fromisoformat(v)
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

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
    """(account_id, id, taken_at, outcome, latest_post_at) in account then time order, raw
    from the driver in batches: over a million rows SQLAlchemy's row objects cost more than
    the query itself."""
    dialect = session.get_bind().dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        "SELECT account_id, id, taken_at, outcome, latest_post_at FROM snapshot"
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


def _scan(
    session: Session,
    periods: list[Period],
    codes: set[str] | None,
    accts: list[dict[str, _Acct]],
    keep_snaps: list[set[str]],
) -> list[dict[str, _State]]:
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
    out: list[dict[str, _State]] = [{} for _ in periods]
    starts = [clock.raw(p.start) for p in periods]
    current: str | None = None
    acct: _Acct | None = None
    known: Any = None  # latest post known so far (raw)
    states: list[_State | None] = [None] * len(periods)
    at_least = clock.at_least
    for part in _snapshot_rows(session, clock, since, periods[-1].end, codes):
        for account_id, snap_id, taken, outcome, latest in part:
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
                st = states[pi] = out[pi][account_id] = _State(
                    seen=True, snaps=[] if account_id in keep_snaps[pi] else None
                )
            if outcome in CHECKED_OUTCOMES:
                st.checked = True
            if st.snaps is not None:
                st.snaps.append(
                    (snap_id, clock.dt(taken), outcome, clock.dt(known) if known else None)
                )
            if outcome != "ok":
                continue
            acct = accts[pi][account_id]
            if known is None:
                if acct.veto_if_empty and (st.stale is None or st.stale.gap is not None):
                    st.stale = _Stale(None, snap_id, clock.dt(taken), None)
                continue
            if acct.veto_days is not None and at_least(taken, known, acct.veto_days):
                taken_at, latest_at = clock.dt(taken), clock.dt(known)
                gap = taken_at - latest_at
                if st.stale is None or (st.stale.gap is not None and gap > st.stale.gap):
                    st.stale = _Stale(gap, snap_id, taken_at, latest_at)
    return out


def _older_latest(session: Session, account_id: str, before: datetime) -> datetime | None:
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


def _artifact_hashes(session: Session, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), 500):
        rows = session.exec(
            select(col(Snapshot.id), col(Snapshot.artifacts)).where(
                col(Snapshot.id).in_(id_list[i : i + 500])
            )
        ).all()
        for id_, arts in rows:
            out[id_] = next((a.get("sha256", "") for a in arts or [] if a.get("sha256")), "")
    return out


@dataclass
class _Open:
    findings: list[Finding]
    events: dict[int, list[FindingEvent]]


def _open_findings(
    session: Session, period: Period, accts: dict[str, _Acct], codes: set[str] | None
) -> _Open:
    """Findings open at some point of the period, with their events up to its end."""
    fq = select(Finding).where(
        col(Finding.opened_at) < period.end,
        sa.or_(col(Finding.resolved_at).is_(None), col(Finding.resolved_at) >= period.start),
    )
    if codes is not None:
        fq = fq.where(
            col(Finding.account_id).in_(
                select(col(Account.id)).where(col(Account.owner_code).in_(sorted(codes)))
            )
        )
    findings = [f for f in session.exec(fq).all() if f.account_id in accts]
    events: dict[int, list[FindingEvent]] = defaultdict(list)
    ids = [f.id for f in findings if f.id is not None]
    for i in range(0, len(ids), 500):
        for e in session.exec(
            select(FindingEvent).where(
                col(FindingEvent.finding_id).in_(ids[i : i + 500]),
                col(FindingEvent.at) < period.end,
            )
        ).all():
            events[e.finding_id].append(e)
    return _Open(findings, events)


def _evidence(f: Finding, events: list[FindingEvent], st: _State) -> Any:
    """The last check of the period that still showed the finding's problem: from the
    snapshot that opened it (or its opening time) to before the one that resolved it."""
    resolved_by = next(
        (e.snapshot_id for e in events if e.event == "resolved" and e.snapshot_id), None
    )

    def showed(s: tuple[int, datetime, str, datetime | None]) -> bool:
        if f.first_snapshot_id is not None:
            started = s[0] >= f.first_snapshot_id
        else:
            started = s[1] >= f.opened_at
        if resolved_by is not None:
            ended = s[0] >= resolved_by
        else:
            ended = f.resolved_at is not None and s[1] >= f.resolved_at
        return started and not ended and (s[2] == "ok" or f.kind in _FETCH_KINDS)

    usable = [s for s in st.snaps or [] if showed(s)]
    return usable[-1] if usable else None


def _compute(
    session: Session,
    period: Period,
    opened: _Open,
    states: dict[str, _State],
    accts: dict[str, _Acct],
    units: dict[str, Unit],
    rectify_days: int,
) -> _Computed:
    findings, events = opened.findings, opened.events
    rectify_by = period.last_day + timedelta(days=rectify_days)
    problems: dict[str, list[ProblemRow]] = defaultdict(list)
    vetoed: set[str] = set()
    deducted: set[str] = set()

    def row(a: _Acct, kind: str, problem: str, severity: str, snap: Any, fid: int | None) -> None:
        unit = units.get(a.owner)
        problems[a.id].append(
            ProblemRow(
                account_id=a.id,
                platform=a.platform,
                platform_label=label(PLATFORM, a.platform),
                account_name=a.name,
                owner_code=a.owner,
                owner_name=unit.name if unit else a.owner,
                kind=kind,
                problem=problem,
                severity=severity,
                checked_at=snap[1] if snap else None,
                latest_post_at=snap[3] if snap else None,
                snapshot_id=snap[0] if snap else None,
                evidence_sha256="",
                rectify_by=rectify_by,
                finding_id=fid,
            )
        )

    for account_id, st in states.items():
        a = accts[account_id]
        if st.checked and st.stale is not None:
            s = st.stale
            latest = s.latest or _older_latest(session, a.id, s.taken_at)
            if s.gap is None and latest is None:
                text = "检查时未找到任何更新（置顶内容不计），单项否决"
            else:
                days = (s.taken_at - latest).days if latest else None
                text = f"检查时已 {days} 天未更新（超过 {a.veto_days} 天，单项否决）"
            row(a, "stale", text, "veto", (s.snapshot_id, s.taken_at, None, latest), None)
            vetoed.add(a.id)

    for f in sorted(findings, key=lambda f: (f.account_id, f.opened_at, f.id or 0)):
        st = states.get(f.account_id)
        if st is None or not st.checked:
            continue
        held = _held_severity(f, events.get(f.id or -1, []), period)
        if held is None:
            continue
        is_veto = held == "veto"
        if not is_veto and (held not in ("high", "warning") or f.kind in NOT_DEDUCTED):
            continue
        if any(r.kind == f.kind and r.severity == "veto" for r in problems[f.account_id]):
            continue  # already a veto from the snapshots themselves
        snap = _evidence(f, events.get(f.id or -1, []), st)
        a = accts[f.account_id]
        problem = label(KIND, f.kind)
        if not is_veto:
            problem = f"{problem}（{label(SEVERITY, held)}）"
        row(a, f.kind, problem, held, snap, f.id)
        (vetoed if is_veto else deducted).add(a.id)
    return _Computed(states, problems, vetoed, deducted)


def _totals(c: _Computed, ids: set[str] | None = None) -> Totals:
    t = Totals()
    for account_id, st in c.states.items():
        if ids is not None and account_id not in ids:
            continue
        t.accounts += 1
        if st.checked:
            t.checked += 1
            t.unqualified += account_id in c.vetoed
            t.deducted += account_id in c.deducted and account_id not in c.vetoed
    return t


def _unit_groups(
    root: str | None, units: dict[str, Unit], accts: dict[str, _Acct]
) -> dict[str, tuple[str, set[str]]]:
    """group key -> (label, account ids): the root's direct children (or the top units)."""

    def head_of(code: str) -> str | None:
        seen: set[str] = set()
        while code in units and code not in seen:  # a cycle in the registry ends the walk
            seen.add(code)
            parent = units[code].parent_code
            if parent == root or (root is None and parent not in units):
                return code
            assert parent is not None
            code = parent
        return None

    groups: dict[str, tuple[str, set[str]]] = {}
    for a in accts.values():
        if root and a.owner == root:
            key, name = root, f"{units[root].name}（本级）" if root in units else root
        else:
            head = head_of(a.owner)
            key = head or "_other"
            name = units[head].name if head and head in units else "其他"
        groups.setdefault(key, (name, set()))[1].add(a.id)
    return groups


def build_report(
    session: Session,
    settings: Settings,
    period: Period,
    unit_code: str | None = None,
    *,
    rectify_days: int = RECTIFY_DAYS,
    now: datetime | None = None,
) -> Report:
    """The report for ``period`` over ``unit_code`` and every unit below it (all if None)."""
    codes, unit_name = _scope(session, unit_code)
    rulesets = load_rulesets(settings.rulesets)
    units = {u.code: u for u in session.exec(select(Unit)).all()}
    periods = [period.previous(), period]
    by_period = [_accounts(session, codes, rulesets, p) for p in periods]
    accts = by_period[-1]
    opened = [_open_findings(session, p, accts, codes) for p in periods]
    states = _scan(
        session, periods, codes, by_period, [{f.account_id for f in o.findings} for o in opened]
    )
    prev, cur = (
        _compute(session, p, o, st, a, units, rectify_days)
        for p, o, st, a in zip(periods, opened, states, by_period, strict=True)
    )

    by_platform = []
    for p in sorted({a.platform for a in accts.values()}):
        ids = {a.id for a in accts.values() if a.platform == p}
        t, pt = _totals(cur, ids), _totals(prev, ids)
        if t.accounts or pt.accounts:
            by_platform.append(GroupRow(p, label(PLATFORM, p), t, pt))
    by_unit = []
    for key, (name, ids) in sorted(_unit_groups(unit_code, units, accts).items()):
        t, pt = _totals(cur, ids), _totals(prev, ids)
        if t.accounts or pt.accounts:
            by_unit.append(GroupRow(key, name, t, pt))

    rows = [r for account_rows in cur.problems.values() for r in account_rows]
    order = {"veto": 0, "high": 1, "warning": 2}

    def sort_key(r: ProblemRow) -> tuple[Any, ...]:
        return (order.get(r.severity, 3), r.owner_code, r.platform, r.account_id, r.kind)

    rows.sort(key=sort_key)
    hashes = _artifact_hashes(session, {r.snapshot_id for r in rows if r.snapshot_id})
    for r in rows:
        r.evidence_sha256 = hashes.get(r.snapshot_id or -1, "")
    notes: list[str] = []
    now = now or datetime.now(UTC)
    if now < period.end:
        notes.append(
            f"本期尚未结束：统计截至 {timefmt.shown(now, settings.timezone)}，其后的检查不在其中。"
        )
    return Report(
        period=period,
        unit_code=unit_code,
        unit_name=unit_name,
        totals=_totals(cur),
        previous=_totals(prev),
        by_platform=by_platform,
        by_unit=by_unit,
        vetoes=[r for r in rows if r.severity == "veto"],
        deductions=[r for r in rows if r.severity != "veto"],
        notes=notes,
    )
