"""Accounts, findings and snapshots as JSON: the one shape ``--json`` and the API both give.

Here rather than in ``monitor.cli`` so the console can use them without importing the CLI;
times are ISO 8601 in the display zone (``monitor.timefmt.iso``).
"""

from __future__ import annotations

from typing import Any

from monitor.registry.accounts import reader_for, ruleset_for
from monitor.store.models import Account, Finding, Snapshot, Unit
from monitor.timefmt import DEFAULT_TZ, iso

__all__ = ["account_dict", "finding_dict", "snapshot_dict"]


def account_dict(a: Account, unit: Unit | None) -> dict[str, Any]:
    return {
        "id": a.id,
        "platform": a.platform,
        "name": a.name,
        "handle": a.handle,
        "url": a.url,
        "reader": reader_for(a),
        "owner": a.owner_code,
        "owner_name": unit.name if unit else None,
        "kind": a.kind,
        "ruleset": ruleset_for(a),
        "status": a.status,
        "interval_minutes": a.interval_minutes,
        "options": a.options,
    }


def finding_dict(f: Finding, a: Account, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """A finding for ``--json`` and the API: times in the display zone; ``evidence`` as stored
    (its times stay the UTC ISO strings the check wrote: it is the record)."""
    return {
        "id": f.id,
        "account": a.id,
        "account_name": a.name,
        "platform": a.platform,
        "unit": a.owner_code,
        "kind": f.kind,
        "severity": f.severity,
        "status": f.status,
        "title": f.title,
        "detail": f.detail,
        "rule": f.rule,
        "deadline": iso(f.deadline, tz),
        "opened_at": iso(f.opened_at, tz),
        "updated_at": iso(f.updated_at, tz),
        "resolved_at": iso(f.resolved_at, tz),
        "acknowledged_at": iso(f.acknowledged_at, tz),
        "acknowledged_by": f.acknowledged_by,
        "notified_at": iso(f.notified_at, tz),
        "escalated_at": iso(f.escalated_at, tz),
        "first_snapshot": f.first_snapshot_id,
        "last_snapshot": f.last_snapshot_id,
        "evidence": f.evidence,
    }


def snapshot_dict(snap: Snapshot, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    return {
        "id": snap.id,
        "account": snap.account_id,
        "taken_at": iso(snap.taken_at, tz),
        "node": snap.node,
        "reader": snap.reader,
        "url": snap.url,
        "final_url": snap.final_url,
        "outcome": snap.outcome,
        "status_code": snap.status_code,
        "detail": snap.detail,
        "elapsed_ms": snap.elapsed_ms,
        "latest_post_at": iso(snap.latest_post_at, tz),
        "post_count": snap.post_count,
        "facts_hash": snap.facts_hash,
        "artifacts": snap.artifacts,
    }
