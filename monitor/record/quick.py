"""A look that says nothing new costs almost nothing (issue 32).

Most looks find the page as the last full look read it (a 304, the same bytes, or the same
meaning) at an account with no open finding, at a moment when its time rules are silent
and stay silent for a while (``probes.checks.staleness.quiet_until``, kept in
``account_state.quiet_until`` by the look that judged them). Judging such a look again
could only give what it gave: no signal, no finding to open, update or close, nothing to
tell. So it is written as its snapshot (referring to the earlier one) and its state row,
and nothing else: no judging, no reconcile, no findings, units or posts read — only the
earlier snapshot's few columns (a core select) and one query for which accounts of the
batch have a finding open. Every other look goes the way it always went
(:mod:`monitor.record.batch`); ``tests/test_quick_looks.py`` holds the two paths equal.

Why the rule set's name and the zone are kept with the promise (``quiet_for``): the account's
rule set can be changed in the registry without the judging configuration changing (that
makes every page read again), and a promise made under another rule set is no promise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import Session

from monitor.store.models import Finding, Snapshot
from monitor.store.states import LastLook
from probes.checks.rules import RuleSet

_SNAPSHOT: sa.Table = Snapshot.__table__  # type: ignore[attr-defined]
_FINDING: sa.Table = Finding.__table__  # type: ignore[attr-defined]

#: what a look that refers to an earlier snapshot copies of it (``rows.same_snapshot``)
EARLIER_COLUMNS = (
    "id", "latest_post_at", "sight", "post_count", "facts_hash", "profile_hash", "artifacts",
)  # fmt: skip


def quiet_key(ruleset: RuleSet, tz: str) -> str:
    """What a promise of silence was made under: the rule set (by name: its content is in
    the judging configuration) and the zone its days are counted in."""
    return f"{ruleset.name}@{tz}"


def earlier_snapshots(session: Session, ids: Sequence[int]) -> dict[int, Row[Any]]:
    """The columns of these snapshots a later look copies, by id (a core select: a look
    needs a handful of values, not an ORM object)."""
    if not ids:
        return {}
    cols = [_SNAPSHOT.c[c] for c in EARLIER_COLUMNS]
    rows = session.execute(sa.select(*cols).where(_SNAPSHOT.c.id.in_(set(ids)))).all()
    return {r.id: r for r in rows}


def with_open_findings(session: Session, account_ids: Sequence[str]) -> set[str]:
    """Which of these accounts have a finding open (one query of ids, no ORM)."""
    if not account_ids:
        return set()
    q = sa.select(_FINDING.c.account_id).where(
        _FINDING.c.status == "open", _FINDING.c.account_id.in_(set(account_ids))
    )
    return set(session.execute(q.distinct()).scalars())


def is_quiet(look: LastLook | None, key: str, now: datetime) -> bool:
    """Whether the time rules promised silence at ``now`` under ``key``."""
    return (
        look is not None
        and look.quiet_until is not None
        and look.quiet_for == key
        and now < look.quiet_until
    )
