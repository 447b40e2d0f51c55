"""Findings: one per (account, problem), opened, updated and resolved as snapshots come.

Alerts are about findings, never raw signals, so a problem seen every hour is
reported once. Content problems (staleness, ...) can only be judged from a fetch
that worked: a failed or blocked fetch leaves them as they were, and only fetch
problems are reconciled against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.store.models import Finding, FindingEvent
from probes.checks import kinds
from probes.checks.kinds import fix_deadline
from probes.model import SEVERITY_RANK, Signal

# problems about the fetch itself (``FindingKind.fetch``); the rest is what the account shows
FETCH_KINDS: frozenset[str] = kinds.FETCH_KINDS
# opening the first kind resolves the second without a "resolved" notice (``supersedes``)
SUPERSEDES = kinds.supersedes()


@dataclass
class Change:
    event: str  # opened / updated / resolved / superseded
    finding: Finding
    previous_severity: str | None = None


def open_findings(session: Session, account_id: str) -> dict[str, Finding]:
    rows = session.exec(
        select(Finding).where(Finding.account_id == account_id, Finding.status == "open")
    ).all()
    return {f.kind: f for f in rows}


def open_findings_of(session: Session, account_ids: list[str]) -> dict[str, dict[str, Finding]]:
    """:func:`open_findings` for several accounts in one query (a batch of checks)."""
    out: dict[str, dict[str, Finding]] = {a: {} for a in account_ids}
    if account_ids:
        rows = session.exec(
            select(Finding).where(
                col(Finding.account_id).in_(account_ids), Finding.status == "open"
            )
        ).all()
        for f in rows:
            out[f.account_id][f.kind] = f
    return out


def reconcile(
    session: Session,
    account_id: str,
    snapshot_id: int,
    signals: list[Signal],
    *,
    content_seen: bool,
    now: datetime,
    current: dict[str, Finding] | None = None,
    events: list[PendingEvent] | None = None,
    judged: frozenset[str] | None = None,
) -> list[Change]:
    """Apply one snapshot's signals to the account's open findings (caller commits).

    ``judged``: the kinds the signals speak for (None: every kind). A check that found the
    page unchanged judges only its time-dependent rules and the fetch again; what it did
    not judge (a commercial link, signs of theft) stays as the page showed it, and the
    snapshot is that finding's latest evidence too.

    ``current``: the account's open findings by kind, when the caller loaded them already
    (:func:`open_findings_of` for a batch); they are changed in place. ``events``: a batch
    of checks collects its finding events there instead, and after one flush (which gives
    new findings their ids) writes them with :func:`write_events`; nothing is flushed here.
    """
    deferred = events is not None
    pending: list[PendingEvent] = events if events is not None else []
    if current is None:
        current = open_findings(session, account_id)
    by_kind: dict[str, Signal] = {}
    for s in signals:  # one per kind: keep the most severe if a detector repeats itself
        old = by_kind.get(s.kind)
        if old is None or SEVERITY_RANK[s.severity] > SEVERITY_RANK[old.severity]:
            by_kind[s.kind] = s
    changes: list[Change] = []
    new: list[Finding] = []  # flushed together: one INSERT batch, not one round trip each

    for kind, sig in by_kind.items():
        f = current.get(kind)
        if f is None:
            f = Finding(
                account_id=account_id,
                kind=kind,
                severity=sig.severity.value,
                title=sig.title,
                detail=sig.detail,
                rule=sig.rule,
                deadline=sig.deadline or fix_deadline(kind, now),
                evidence=sig.evidence,
                opened_at=now,
                updated_at=now,
                first_snapshot_id=snapshot_id,
                last_snapshot_id=snapshot_id,
            )
            session.add(f)
            new.append(f)
            changes.append(Change("opened", f))
            continue
        previous = f.severity
        f.title, f.detail, f.rule = sig.title, sig.detail, sig.rule
        # the detector's deadline moves with what it sees (a new post, a new week); the kind's
        # fix window counts from the opening and stays
        f.deadline = sig.deadline or f.deadline or fix_deadline(kind, f.opened_at)
        f.evidence = sig.evidence
        f.last_snapshot_id, f.updated_at = snapshot_id, now
        if sig.severity.value != previous:
            f.severity = sig.severity.value
            severities = {"severity": [previous, f.severity]}
            pending.append(PendingEvent(f, "updated", snapshot_id, now, severities))
            # worse or eased (a rule set's severity changed: 单项否决 → 严重), the unit is told:
            # what the finding counts as is theirs to know (``alerts.messages.eased``)
            changes.append(Change("updated", f, previous))
        session.add(f)
    pending += [PendingEvent(f, "opened", snapshot_id, now, {"severity": f.severity}) for f in new]

    opened = {c.finding.kind for c in changes if c.event == "opened"}
    superseded = {SUPERSEDES[k] for k in opened if k in SUPERSEDES}
    for kind, f in current.items():
        if kind in by_kind or (not content_seen and kind not in FETCH_KINDS):
            continue
        if judged is not None and kind not in judged:  # still shown by the same page
            f.last_snapshot_id, f.updated_at = snapshot_id, now
            session.add(f)
            continue
        event = "superseded" if kind in superseded else "resolved"
        f.status, f.resolved_at, f.updated_at = "resolved", now, now
        f.last_snapshot_id = snapshot_id
        session.add(f)
        pending.append(PendingEvent(f, event, snapshot_id, now, {}))
        changes.append(Change(event, f))
    if not deferred:
        session.flush()  # the new findings' ids, for their events
        write_events(session, pending)
        session.flush()
    return changes


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """A finding event not yet written: its finding may have no id until the batch flushes."""

    finding: Finding
    event: str
    snapshot_id: int | None
    at: datetime
    detail: dict[str, Any]

    def row(self) -> dict[str, Any]:
        assert self.finding.id is not None
        return {"finding_id": self.finding.id, "event": self.event,
                "snapshot_id": self.snapshot_id, "at": self.at, "detail": self.detail}  # fmt: skip


def write_events(session: Session, events: list[PendingEvent]) -> None:
    """Insert collected events in one statement (their findings must have ids: flush first)."""
    rows = [e.row() for e in events]
    if rows:
        session.execute(insert(FindingEvent), rows)
    events.clear()


def _event(
    session: Session, f: Finding, event: str, snapshot_id: int | None, now: datetime, detail: dict
) -> None:
    assert f.id is not None
    session.add(
        FindingEvent(finding_id=f.id, event=event, snapshot_id=snapshot_id, at=now, detail=detail)
    )


class AckError(Exception):
    """The finding cannot be acknowledged (unknown, already resolved)."""


def acknowledge(
    session: Session,
    finding_id: int,
    *,
    by: str,
    note: str,
    now: datetime,
    tz: str = timefmt.DEFAULT_TZ,
) -> Finding:
    """Record that a duty officer has seen a finding: who, when, and what they said.

    ``tz`` is the display zone, for the refusal's wording (the person reads local time).
    """
    f = session.get(Finding, finding_id)
    if f is None:
        raise AckError(f"问题 #{finding_id} 不存在")
    if f.status != "open":
        when = timefmt.shown(f.resolved_at, tz)
        raise AckError(f"问题 #{finding_id} 已于 {when} 解决，无需确认")
    f.acknowledged_at, f.acknowledged_by = now, by
    session.add(f)
    session.flush()
    _event(session, f, "acknowledged", f.last_snapshot_id, now, {"by": by, "note": note})
    return f
