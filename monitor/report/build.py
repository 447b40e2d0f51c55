"""The quarterly inspection report (通报), computed from snapshots and findings.

Here: the report's scope, its totals and groupings, and ``build_report`` putting it together.
What the snapshots say of each account is ``snapshots``, the veto and deduction lines from
findings are ``problems``, and what a report holds is ``model``.

Definitions (also in docs/report.md):

* **纳入统计的账号 (accounts)** — accounts in scope with at least one snapshot taken in the
  period: the ones under patrol then. Accounts registered but never probed in the period are
  not counted (nothing is known about them for that period).
* **已检查 (checked)** — at least one snapshot in the period that could be judged: the
  account is gone (``not_found``), or an ``ok`` look with a dated post known, or with the
  platform's own word that there are none or only pinned posts (``snapshot.sight`` "none" /
  "posts"; for an account under no veto rule, any ``ok`` look). Failed, blocked and
  unreadable looks, posts none of which could be dated ("undated") and older rows that did
  not record what they saw say nothing about the account.
* **无法判定 (unjudged)** = accounts − checked: under patrol, never judged in the period;
  listed apart with the reason (``unjudged``), neither 合格 nor 不合格.
* **单项否决 (single veto)** — a checked account that, at some ``ok`` check in the period, had
  no post for at least the days of its rule set's veto-level ``max_gap_days`` rule (national:
  14 days), judged as the daemon judges: the latest non-pinned post known by that check from
  that and earlier snapshots (a post dated more than a day after the check is ignored); an
  ok check where the platform said there are no posts, or that saw only pinned ones, fails
  too. Also any veto-severity finding open during the period (severity as it stood then,
  from the finding's events).
* **扣分 (deductions)** — findings of severity high or warning open during the period on an
  account whose content was read (an ``ok`` look), except ``stale_soon`` (a warning before a
  breach, not a breach), the patrol's own problems (``fetch_failed``, ``blocked``,
  ``unreadable``, ``undated``: about our fetch, not the account), and except a problem
  already listed as a veto.
* **不合格 (unqualified)** = checked accounts with a single veto; **合格率 (pass rate)** =
  (checked − unqualified) / checked, 无法判定 left out of it; **检查率 (check ratio)** =
  checked / accounts.

"As it was known then": only snapshots taken before the period's end and finding events
before it are read, so a past period's report is the same whenever it is built. Account
names, platforms and units are the registry's current ones (the registry is not versioned);
an account closed later keeps the rules it was under in the period (``Account.closed_at``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from monitor import timefmt
from monitor.config import Settings
from monitor.report.model import GroupRow, ProblemRow, Report, ReportError, Totals, UnjudgedRow
from monitor.report.period import Period
from monitor.report.problems import Computed, artifact_hashes, compute_problems, open_findings
from monitor.report.snapshots import Acct, accounts_in, scan_snapshots
from monitor.report.unjudged import unjudged_rows
from monitor.show.labels import PLATFORM, label
from monitor.store.models import Unit
from monitor.store.scope import units_below
from probes.checks.rules import load_rulesets

__all__ = [
    "GroupRow",
    "ProblemRow",
    "Report",
    "ReportError",
    "Totals",
    "UnjudgedRow",
    "build_report",
]

# what a unit's name says of the place it runs: 青溪县人民政府办公室 -> 青溪县
_OFFICE_SUFFIX = re.compile(r"(人民)?政府(办公室|办公厅)?$|(办公室|办公厅)$")


def area_of(unit_name: str | None, configured: str) -> str:
    """The title's scope: the chosen unit's place (青溪县), else ``[report] area`` (全市)."""
    if not unit_name:
        return configured
    return _OFFICE_SUFFIX.sub("", unit_name) or unit_name


def _scope(session: Session, unit_code: str | None) -> tuple[set[str] | None, str | None]:
    if unit_code is None:
        return None, None
    codes = units_below(session, unit_code)
    if not codes:
        raise ReportError(f"单位 '{unit_code}' 不在登记表中")
    unit = session.get(Unit, unit_code)
    return codes, unit.name if unit else unit_code


def _totals(c: Computed, ids: set[str] | None = None) -> Totals:
    t = Totals()
    for account_id, st in c.states.items():
        if ids is not None and account_id not in ids:
            continue
        t.accounts += 1
        t.deducted += account_id in c.deducted and account_id not in c.vetoed
        if st.checked:
            t.checked += 1
            t.unqualified += account_id in c.vetoed
    return t


def _unit_groups(
    root: str | None, units: dict[str, Unit], accts: dict[str, Acct]
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
    now: datetime | None = None,
) -> Report:
    """The report for ``period`` over ``unit_code`` and every unit below it (all if None).

    ``now`` only says whether the period is over (and, while it runs, the moment its
    figures and 整改情况 are told at); a finished period's report does not depend on it.
    """
    now = now or datetime.now(UTC)
    codes, unit_name = _scope(session, unit_code)
    rulesets = load_rulesets(settings.rulesets)
    units = {u.code: u for u in session.exec(select(Unit)).all()}
    periods = [period.previous(), period]
    by_period = [accounts_in(session, codes, rulesets, p) for p in periods]
    accts = by_period[-1]
    opened = [open_findings(session, p, accts, codes) for p in periods]
    states = scan_snapshots(
        session, periods, codes, by_period, [{f.account_id for f in o.findings} for o in opened]
    )
    prev, cur = (
        compute_problems(session, p, o, st, a, units, rulesets, min(now, p.end))
        for p, o, st, a in zip(periods, opened, states, by_period, strict=True)
    )

    by_platform = []
    for p in sorted({a.platform for a in accts.values()}):
        ids = {a.id for a in accts.values() if a.platform == p}
        t, pt = _totals(cur, ids), _totals(prev, ids)
        if t.accounts or pt.accounts:
            by_platform.append(GroupRow(p, label(PLATFORM, p), t, pt))
    by_unit = []
    group_of: dict[str, tuple[str, str]] = {}
    root = unit_code
    groups = _unit_groups(root, units, accts)
    if root is None and len(groups) == 1 and next(iter(groups)) in units:
        # one unit at the top (a city's own deployment): its counties and departments
        root = next(iter(groups))
        groups = _unit_groups(root, units, accts)
    # the root's own accounts (本级) first, then the units under it by code
    for key, (name, ids) in sorted(groups.items(), key=lambda kv: (kv[0] != root, kv[0])):
        t, pt = _totals(cur, ids), _totals(prev, ids)
        if t.accounts or pt.accounts:
            by_unit.append(GroupRow(key, name, t, pt))
        group_of.update((i, (key, name)) for i in ids)

    rows = [r for account_rows in cur.problems.values() for r in account_rows]
    order = {"veto": 0, "high": 1, "warning": 2}

    def sort_key(r: ProblemRow) -> tuple[Any, ...]:
        return (order.get(r.severity, 3), r.owner_code, r.platform, r.account_id, r.kind)

    rows.sort(key=sort_key)
    unjudged = unjudged_rows(session, cur.states, accts, units)
    hashes = artifact_hashes(
        session, {r.snapshot_id for r in [*rows, *unjudged] if r.snapshot_id is not None}
    )
    for r in [*rows, *unjudged]:
        r.evidence_sha256 = hashes.get(r.snapshot_id or -1, "")
        r.group_key, r.group_name = group_of.get(r.account_id, ("", ""))
    notes: list[str] = []
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
        unjudged=unjudged,
        notes=notes,
        cutoff=min(now, period.end),
        area=area_of(unit_name, settings.report.area),
    )
