"""Route finding changes to channels, in the finding's own transaction.

A change becomes one ``AlertItem`` per channel it must reach — the owner unit's (or its
technical contact's, or ops'), and the supervisor's when the rule says to escalate at
once. Items are written with the change (no change without its alert, no alert without its
change); grouping, pacing and delivery happen later, in the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import insert
from sqlmodel import Session

from alerts.messages import OWNER_NEWS
from alerts.notice import FindingNotice
from alerts.routing import Defaults, Plan, Subject, plan
from monitor.alerting.channels import channel_key
from monitor.alerting.settings import AlertingSettings
from monitor.config import Settings
from monitor.evidence import lines_of
from monitor.store.findings import Change
from monitor.store.models import Account, AlertItem, Finding, FindingEvent, Unit
from monitor.store.rectify import link_key, make_token
from monitor.store.sealing import SealError
from probes.checks import kinds
from probes.checks.rules import RuleSet, rule_text
from probes.platforms.spec import platform_name

log = structlog.get_logger("xuncha.alerts")

NOTIFY_EVENTS = {"opened", "updated", "resolved"}
# items that tell the owner a finding is open: while one waits to be sent, no reminder is
# due, and once it is sent the finding's ``notified_at`` is the time it went out (the
# messages' own set: these are the ones that ring the duty phones)
OWNER_EVENTS = OWNER_NEWS
# the patrol's own problems, not the unit's — it could not fetch the page (``fetch_failed``:
# an HTTP 503, a timeout), was turned away (``blocked``), could not read the list or was not
# shown it (``unreadable``), or could not date the posts (``undated``): told to ops only, never
# to a unit, its supervisor or its digest (``alerts.routing.plan``). An account that is gone
# (``gone``) IS the unit's: it stays theirs
OPS_KINDS: frozenset[str] = kinds.OPS_KINDS  # ``FindingKind.audience``


def defaults(settings: AlertingSettings) -> Defaults:
    a = settings.alerts
    return Defaults(
        group_wait_seconds=a.group_wait_seconds,
        repeat_minutes=a.repeat_minutes,
        escalate_after_minutes=a.escalate_after_minutes,
        escalate_immediately=frozenset(a.escalate_immediately),
        it_kinds=frozenset(a.it_kinds),
        ops_kinds=OPS_KINDS,
    )


def unit_line(session: Session, unit: Unit | None) -> list[Unit]:
    """The unit, its parent, grandparent… read through the session."""
    return walk_up(unit, lambda code: session.get(Unit, code))


def walk_up(unit: Unit | None, parent: Callable[[str], Unit | None]) -> list[Unit]:
    """The unit and its line of supervisors, each looked up with ``parent`` (the session,
    or units already loaded); a cycle in the registry stops the walk."""
    line: list[Unit] = []
    seen: set[str] = set()
    while unit is not None and unit.code not in seen:
        line.append(unit)
        seen.add(unit.code)
        unit = parent(unit.parent_code) if unit.parent_code else None
    return line


def plan_for(
    settings: AlertingSettings, finding: Finding, account: Account, line: list[Unit]
) -> Plan:
    known = kinds.kind(finding.kind)
    subject = Subject(
        kind=finding.kind,
        severity=finding.severity,
        platform=account.platform,
        unit_line=tuple(u.code for u in line) or (account.owner_code,),
        category=known.category if known else "",
    )
    return plan(subject, settings.alerts.routes, defaults(settings))


@dataclass
class Target:
    unit: str  # whose channel
    channel: str


def first_with_channels(line: list[Unit]) -> tuple[int, Unit] | None:
    for i, u in enumerate(line):
        if u.channels:
            return i, u
    return None


def owner_targets(
    settings: AlertingSettings, p: Plan, line: list[Unit], owner_code: str
) -> list[Target]:
    """Who hears first: by audience, then the route's extra channels."""
    out: list[Target] = []
    if p.audience == "ops":
        out = [Target("ops", c) for c in settings.alerts.ops_channels]
    elif p.audience == "it" and line and line[0].it_channels:
        out = [Target(line[0].code, c) for c in line[0].it_channels]
    else:
        found = first_with_channels(line)
        if found:
            out = [Target(found[1].code, c) for c in found[1].channels]
    out += [Target(owner_code, c) for c in p.extra_channels]
    return _unique(out)


def supervisor_targets(p: Plan, line: list[Unit]) -> list[Target]:
    """The nearest unit *above* the one that hears first, with channels of its own; nobody
    for what ops hear (the patrol's own problems are no unit's, nor its supervisor's)."""
    if p.audience == "ops":
        return []
    found = first_with_channels(line)
    if found is None:
        return []
    above = first_with_channels(line[found[0] + 1 :])
    return [Target(above[1].code, c) for c in above[1].channels] if above else []


def _unique(targets: list[Target]) -> list[Target]:
    seen: set[str] = set()
    out = []
    for t in targets:
        if t.channel not in seen:
            seen.add(t.channel)
            out.append(t)
    return out


def console_link(settings: AlertingSettings, finding_id: int | None) -> str:
    """The finding's page in the console — where 确认 is — or the console itself."""
    base = settings.alerts.console_url.rstrip("/")
    if not base:
        return ""
    return f"{base}/findings/{finding_id}" if finding_id is not None else base


def notice_for(
    settings: AlertingSettings,
    f: Finding,
    account: Account,
    unit: Unit | None,
    event: str,
    now: datetime,
    why: str = "",
    rulesets: Mapping[str, RuleSet] | None = None,
) -> FindingNotice:
    """The notice for one change, with the words ``alerts`` cannot find itself (it imports
    no ``probes``): the kind catalogue's for the finding's kind (an unknown kind keeps the
    defaults) and the rule in words (``rulesets``: the configured ones, the slice's when
    not given)."""
    known = kinds.kind(f.kind)
    if rulesets is None:
        rulesets = settings.rulesets
    return FindingNotice(
        event=event,  # type: ignore[arg-type]
        finding_id=f.id,
        account_id=account.id,
        account_name=account.name,
        platform=account.platform,
        platform_label=platform_name(account.platform),
        unit_code=account.owner_code,
        unit_name=unit.name if unit else account.owner_code,
        kind=f.kind,
        kind_label=known.label if known else "",
        category=known.category if known else "",
        category_label=known.category_label if known else "",
        remedy=known.remedy if known else "",
        advice=known.advice if known else "",
        severity=f.severity,
        title=f.title,
        detail=f.detail,
        rule=f.rule,
        rule_text=rule_text(f.rule, rulesets, codes=False),  # people never read a code
        deadline=f.deadline,
        opened_at=f.opened_at,
        at=now,
        snapshot_id=f.last_snapshot_id,
        evidence=f.evidence,
        evidence_lines=lines_of(f.evidence),
        console_url=console_link(settings, f.id),
        detail_escalation=why,
        rectify_url=rectify_link(settings, f, event, now),
        report_weight=kinds.report_weight(f.kind, f.severity),
        quarter=quarter_name(now, settings.timezone),
    )


def quarter_name(now: datetime, tz: str) -> str:
    """The 通报's quarter ``now`` falls in, as the 通报 names it: 2026年第四季度."""
    local = now.astimezone(ZoneInfo(tz))
    return f"{local.year}年第{'一二三四'[(local.month - 1) // 3]}季度"


# the news a unit answers with 已整改 (the link rides on these messages only)
RECTIFY_EVENTS = frozenset({*OWNER_NEWS, "recheck_failed"})


def rectify_link(settings: AlertingSettings, f: Finding, event: str, now: datetime) -> str:
    """The signed 已整改 link for ``f`` (``monitor.store.rectify``), "" without a console,
    for news that asks nothing of the unit, or for what it cannot put right (the patrol's
    own problems, a record kept for comparison)."""
    base = settings.alerts.console_url.rstrip("/")
    known = kinds.kind(f.kind)
    if not base or f.id is None or event not in RECTIFY_EVENTS or f.kind in OPS_KINDS:
        return ""
    if known is None or not (known.fix_hours or known.remedy == "更新"):
        return ""
    try:
        key = link_key(settings.session_key_file)
    except SealError as e:
        log.warning("rectify_link_without_key", error=str(e))
        return ""
    return f"{base}/rectify/{make_token(key, f.id, now, settings.alerts.rectify_link_days)}"


def add_items(
    session: Session,
    targets: list[Target],
    notice: FindingNotice,
    *,
    now: datetime,
    wait_seconds: int,
    tag: str,
) -> int:
    """One queued item per target; ``tag`` makes the dedup key unique per change.

    A Core insert, not ORM objects: building SQLModel rows costs about a millisecond each
    (validation), which the daily reminder scan over thousands of findings felt."""
    rows = []
    for t in targets:
        key = channel_key(t.channel)
        rows.append(
            {
                "dedup_key": f"{notice.finding_id}:{notice.event}:{tag}:{key}"[:200],
                "finding_id": notice.finding_id,
                "account_id": notice.account_id,
                "unit_code": t.unit,
                "channel": t.channel,
                "channel_key": key,
                "event": notice.event,
                "kind": notice.kind,
                "severity": notice.severity,
                "platform": notice.platform,
                "notice": notice,
                "created_at": now,
                "due_at": now + timedelta(seconds=wait_seconds),
                "status": "queued",
            }
        )
    if rows:
        session.execute(insert(AlertItem.__table__), rows)  # type: ignore[attr-defined]
    return len(rows)


def escalation_event(
    session: Session, f: Finding, targets: list[Target], now: datetime, why: str
) -> None:
    assert f.id is not None
    session.add(
        FindingEvent(
            finding_id=f.id,
            event="escalated",
            snapshot_id=f.last_snapshot_id,
            at=now,
            detail={"to": sorted({t.unit for t in targets}), "why": why},
        )
    )


def _first_told(
    settings: AlertingSettings, p: Plan, line: list[Unit], account: Account, f: Finding
) -> list[Target]:
    """Who hears of the change first; nobody (said in the log) when the route mutes it or no
    channel is there to hear it."""
    if p.mute:
        log.info("finding_muted_by_route", finding=f.id, route=p.route)
        return []
    targets = owner_targets(settings, p, line, account.owner_code)
    if not targets and p.audience == "ops":
        # no [alerts] ops_channels (xuncha doctor says so once): the patrol's own problem
        # stays in the console's 巡查异常; never a unit's channel instead
        log.info("ops_finding_without_ops_channel", account=account.id, kind=f.kind)
    elif not targets:
        log.warning(
            "no_channel_for_finding",
            account=account.id,
            unit=account.owner_code,
            finding=f.id,
            kind=f.kind,
        )
    return targets


def enqueue(
    session: Session,
    config: Settings,
    account: Account,
    unit: Unit | None,
    changes: list[Change],
    *,
    now: datetime,
    rulesets: Mapping[str, RuleSet] | None = None,
) -> int:
    """Route these finding changes to their channels (caller commits); returns the number
    of items written. ``rulesets``: the configured ones (the writer passes its own, loaded
    once); read from ``config`` when not given. The room's door: the write side hands the
    whole settings, the stages below get their slice."""
    if not config.alerts.enabled or not any(c.event in NOTIFY_EVENTS for c in changes):
        return 0  # most checks change nothing: no unit tree, no rule sets
    settings = AlertingSettings.of(config)
    line = unit_line(session, unit)
    if rulesets is None:
        rulesets = settings.rulesets
    items = 0
    for change in changes:
        if change.event not in NOTIFY_EVENTS:
            continue
        f = change.finding
        if change.event == "resolved" and f.severity == "info":
            continue  # a notice that needed no action needs no "resolved" either
        p = plan_for(settings, f, account, line)
        targets = _first_told(settings, p, line, account, f)
        if not targets:
            continue
        tag = now.isoformat()
        notice = notice_for(settings, f, account, unit, change.event, now, rulesets=rulesets)
        notice.previous_severity = change.previous_severity or ""
        # ``notified_at`` is set when the message is composed (compose.py), not here: the
        # owner has not been told while the item waits, and reminders count from the telling
        items += add_items(
            session, targets, notice, now=now, wait_seconds=p.group_wait_seconds, tag=tag
        )
        supervisors = supervisor_targets(p, line)
        if change.event == "opened" and p.escalate_immediately and supervisors:
            why = "该类问题按规则立即告知主管单位"
            up = notice_for(settings, f, account, unit, "escalated", now, why, rulesets)
            items += add_items(
                session, supervisors, up, now=now, wait_seconds=p.group_wait_seconds, tag=tag
            )
            f.escalated_at = now
            escalation_event(session, f, supervisors, now, why)
        elif change.event == "resolved" and f.escalated_at is not None and supervisors:
            # the supervisor was told of it: tell them it is over, too
            items += add_items(
                session, supervisors, notice, now=now, wait_seconds=p.group_wait_seconds,
                tag=tag + ":up",
            )  # fmt: skip
        session.add(f)
    return items  # flushed with the caller's transaction (a batch of checks flushes once)
