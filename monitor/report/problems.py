"""The findings open in the period, and each account's 单项否决 and 扣分 lines.

A veto from the snapshots themselves (``snapshots.scan_snapshots``) comes first; findings add
vetoes and deductions by the severity they held in the period, as their events tell it. A
veto needs an account judged in the period and a look of the period that showed it; a
deduction needs one whose content was read (an account 无法判定 for want of dates still
shows the ads or personal data seen in it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.report.model import ProblemRow
from monitor.report.period import Period
from monitor.report.snapshots import Acct, State, older_latest
from monitor.show.labels import KIND, KIND_CATEGORY, SEVERITY, label
from monitor.store.findings import FETCH_KINDS
from monitor.store.models import Account, Finding, FindingEvent, Snapshot, Unit
from probes.checks import kinds
from probes.checks.kinds import KINDS, fix_deadline
from probes.checks.rules import RuleSet, rule_text
from probes.model import SEVERITY_RANK, Severity

# what the patrol could not see (a reader's limit, not the account's fault) costs no points
NOT_DEDUCTED = kinds.NOT_DEDUCTED

# 整改情况 at the report's cut-off
FIXED, NOT_FIXED, OVERDUE, FIXING = "已整改", "未整改", "逾期未整改", "整改中"


def _overdue_update(kind: str) -> bool:
    """An update breach is overdue the moment it is found: 立即整改, never a later date."""
    k = KINDS.get(kind)
    return k is not None and k.category == "update"


def _finding_deadline(f: Finding, period: Period) -> datetime | None:
    """The finding's 整改期限 as it stood in the period. The kind's fix window counts from the
    opening and never moves; a detector's own deadline (staleness) moves with what it sees,
    so it is only read from a finding that was closed before the period ended."""
    fixed = fix_deadline(f.kind, f.opened_at)
    if fixed is not None:
        return fixed
    if f.resolved_at is not None and f.resolved_at < period.end:
        return f.deadline
    return None


@dataclass
class Computed:
    states: dict[str, State]
    problems: dict[str, list[ProblemRow]]  # account -> rows (vetoes + deductions)
    vetoed: set[str]
    deducted: set[str]


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


def artifact_hashes(session: Session, ids: set[int]) -> dict[int, str]:
    """Snapshot id -> its first artifact's sha256, named in the 证据 column."""
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
class OpenFindings:
    findings: list[Finding]
    events: dict[int, list[FindingEvent]]


def open_findings(
    session: Session, period: Period, accts: dict[str, Acct], codes: set[str] | None
) -> OpenFindings:
    """Findings open at some point of the period, with their events up to its end."""
    fq = select(Finding).where(
        col(Finding.opened_at) < period.end,
        sa.or_(col(Finding.resolved_at).is_(None), col(Finding.resolved_at) >= period.start),
        col(Finding.status) != "dismissed",  # 复核 found it a 误报: never in the 通报
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
    return OpenFindings(findings, events)


def _evidence(f: Finding, events: list[FindingEvent], st: State) -> Any:
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
        return started and not ended and (s[2] == "ok" or f.kind in FETCH_KINDS)

    usable = [s for s in st.snaps or [] if showed(s)]
    return usable[-1] if usable else None


def _row(
    a: Acct, units: dict[str, Unit], kind: str, problem: str, severity: str, snap: Any, **kw: Any
) -> ProblemRow:
    """One line of the 通报's problem table; ``snap`` is the look that showed it (id, taken
    at, outcome, latest post) or None."""
    return ProblemRow(
        **a.named(units),
        kind=kind,
        category=label(KIND_CATEGORY, kind),
        problem=problem,
        severity=severity,
        checked_at=snap[1] if snap else None,
        latest_post_at=snap[3] if snap else None,
        snapshot_id=snap[0] if snap else None,
        evidence_sha256="",
        **kw,
    )


def _stale_row(
    session: Session,
    a: Acct,
    st: State,
    s: Any,
    units: dict[str, Unit],
    rulesets: dict[str, RuleSet],
) -> ProblemRow:
    """The single veto a check of the period found on its own (``st.stale``: the look)."""
    latest = s.latest or older_latest(session, a.id, s.taken_at)
    if s.gap is None and latest is None:
        text = "检查时未找到任何更新（置顶内容不计），单项否决"
    else:
        days = (s.taken_at - latest).days if latest else None
        text = f"检查时已 {days} 天未更新（超过 {a.veto_days} 天，单项否决）"
    overdue = latest + timedelta(days=a.veto_days) if latest and a.veto_days else None
    return _row(
        a, units, "stale", text, "veto", (s.snapshot_id, s.taken_at, None, latest),
        deadline=overdue, immediate=True,
        status=NOT_FIXED if st.breach_at_end else FIXED,
        rule=rule_text(a.veto_rule, rulesets),
    )  # fmt: skip


def _status(f: Finding, immediate: bool, deadline: datetime | None, cutoff: datetime) -> str:
    """The 整改情况 at ``cutoff``: fixed, not fixed (a problem due at once), overdue or
    being fixed within its deadline."""
    if f.resolved_at is not None and f.resolved_at < cutoff:
        return FIXED
    if immediate:
        return NOT_FIXED
    return OVERDUE if deadline is not None and deadline < cutoff else FIXING


def compute_problems(
    session: Session,
    period: Period,
    opened: OpenFindings,
    states: dict[str, State],
    accts: dict[str, Acct],
    units: dict[str, Unit],
    rulesets: dict[str, RuleSet],
    cutoff: datetime,
) -> Computed:
    """Each checked account's veto and deduction lines for ``period``, and who has which.

    ``cutoff`` is the moment the 整改情况 is told at: the period's end, or now while it runs.
    """
    findings, events = opened.findings, opened.events
    problems: dict[str, list[ProblemRow]] = defaultdict(list)
    vetoed: set[str] = set()
    deducted: set[str] = set()

    for account_id, st in states.items():
        if st.checked and st.stale is not None:
            a = accts[account_id]
            problems[a.id].append(_stale_row(session, a, st, st.stale, units, rulesets))
            vetoed.add(a.id)

    for f in sorted(findings, key=lambda f: (f.account_id, f.opened_at, f.id or 0)):
        st = states.get(f.account_id)
        if st is None or not (st.checked or st.read):
            continue
        held = _held_severity(f, events.get(f.id or -1, []), period)
        if held is None:
            continue
        weight = kinds.report_weight(f.kind, held)  # the rule the recovery message tells
        is_veto = weight == "veto"
        if is_veto and not st.checked:
            continue  # 无法判定 in the period: no verdict, whatever an older look found
        if not weight:
            continue
        if any(r.kind == f.kind and r.severity == "veto" for r in problems[f.account_id]):
            continue  # already a veto from the snapshots themselves
        snap = _evidence(f, events.get(f.id or -1, []), st)
        if is_veto and snap is None:
            # no look of the period showed it (it was put right at the first, or the period's
            # looks could not see): a veto is given on what a check of the period saw
            continue
        a = accts[f.account_id]
        problem = (
            label(KIND, f.kind) if is_veto else f"{label(KIND, f.kind)}（{label(SEVERITY, held)}）"
        )
        immediate = is_veto or _overdue_update(f.kind)
        deadline = _finding_deadline(f, period)
        problems[a.id].append(
            _row(
                a, units, f.kind, problem, held, snap, deadline=deadline, immediate=immediate,
                status=_status(f, immediate, deadline, cutoff), rule=rule_text(f.rule, rulesets),
                finding_id=f.id,
            )
        )  # fmt: skip
        (vetoed if is_veto else deducted).add(a.id)
    return Computed(states, problems, vetoed, deducted)
