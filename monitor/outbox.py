"""The notification outbox: written with the finding change, delivered by workers.

Exactly-once as far as a messenger allows: a row is written in the same
transaction as the finding change it reports (no change without its message, no
message without its change); workers claim a row with a conditional UPDATE
(status + lease) so two processes never send the same row; a sent row is marked
in the transaction right after the messenger accepted it. The one window left —
a crash between the messenger's acceptance and that commit — resends after the
lease expires, and the resent message says it may be a repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from anyio import to_thread
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.messages import render
from alerts.notice import FindingNotice, Message
from alerts.send import DeliveryResult, body_format, deliver, mask_url
from monitor.config import Settings
from monitor.findings import Change
from monitor.models import Account, Delivery, Notification, Unit

log = structlog.get_logger("xuncha.outbox")

NOTIFY_EVENTS = {"opened", "updated", "resolved"}
OPS_KINDS = {"blocked"}  # an operator problem, not the unit's: goes to [alerts].ops_channels
MAYBE_REPEAT = "（可能重复）"


def channels_for(session: Session, unit: Unit | None) -> tuple[list[str], Unit | None]:
    """The unit's channels, else its nearest supervising unit's (never nobody)."""
    seen: set[str] = set()
    while unit is not None and unit.code not in seen:
        if unit.channels:
            return list(unit.channels), unit
        seen.add(unit.code)
        unit = session.get(Unit, unit.parent_code) if unit.parent_code else None
    return [], None


def enqueue(
    session: Session,
    settings: Settings,
    account: Account,
    unit: Unit | None,
    changes: list[Change],
    *,
    now: datetime,
) -> list[Notification]:
    """Write the messages these finding changes call for (caller commits)."""
    if not settings.alerts.enabled:
        return []
    rows: list[Notification] = []
    written = datetime.now(UTC)
    for change in changes:
        if change.event not in NOTIFY_EVENTS:
            continue
        f = change.finding
        if change.event == "resolved" and f.severity == "info":
            continue  # a notice that needed no action needs no "resolved" either
        if f.kind in OPS_KINDS:
            channels, via = list(settings.alerts.ops_channels), None
        else:
            channels, via = channels_for(session, unit)
        if not channels:
            log.warning(
                "no_channel_for_finding",
                account=account.id,
                unit=account.owner_code,
                finding=f.id,
                kind=f.kind,
            )
            continue
        notice = FindingNotice(
            event=change.event,
            finding_id=f.id,
            account_id=account.id,
            account_name=account.name,
            platform=account.platform,
            unit_code=account.owner_code,
            unit_name=unit.name if unit else account.owner_code,
            kind=f.kind,
            severity=f.severity,
            title=f.title,
            detail=f.detail,
            rule=f.rule,
            deadline=f.deadline,
            opened_at=f.opened_at,
            at=now,
            snapshot_id=f.last_snapshot_id,
            evidence=f.evidence,
            console_url=settings.alerts.console_url,
        )
        message = render(notice, tz=settings.timezone)
        for channel in channels:
            tag = hashlib.sha256(channel.encode()).hexdigest()[:12]
            n = Notification(
                dedup_key=f"finding:{f.id}:{change.event}:{f.severity}:{now.isoformat()}:{tag}",
                finding_id=f.id,
                unit_code=via.code if via else account.owner_code,
                channel=channel,
                event=change.event,
                title=message.title,
                body=message.text
                if body_format(settings.channel_url(channel) or "") == "text"
                else message.markdown,
                # the outbox runs on the wall clock even when a check was dated otherwise
                # (demo, replays): a message is due as soon as it is written
                created_at=written,
                due_at=written,
            )
            session.add(n)
            rows.append(n)
    session.flush()
    for n in rows:  # a reference a duty officer can quote, and the sink can count
        n.body = f"{n.body}\n\n消息编号 #{n.id}"
        session.add(n)
    return rows


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def _claim(
    session: Session, node: str, now: datetime, lease: timedelta, limit: int
) -> list[tuple[int, bool]]:
    """Claim up to ``limit`` due rows; each with whether a lease had expired on it."""
    due = or_(
        (col(Notification.status) == "pending") & (col(Notification.due_at) <= now),
        (col(Notification.status) == "sending") & (col(Notification.claimed_until) < now),
    )
    rows = session.exec(
        select(Notification.id, Notification.status)
        .where(due)
        .order_by(col(Notification.id))
        .limit(limit)
    ).all()
    claimed = []
    for nid, status in rows:
        res = session.execute(
            update(Notification)
            .where(col(Notification.id) == nid, due)
            .values(
                status="sending",
                claimed_by=node,
                claimed_until=now + lease,
                attempts=Notification.attempts + 1,
            )
        )
        session.commit()  # each claim is its own short transaction
        if res.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append((nid, status == "sending"))
    return claimed


def backoff(settings: Settings, attempts: int) -> timedelta:
    a = settings.alerts
    delay = min(a.retry_max_seconds, a.retry_base_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


async def dispatch_once(
    engine: Engine, settings: Settings, *, limit: int = 50, concurrency: int = 4
) -> DispatchStats:
    """Claim due messages and deliver them; safe to run in several processes at once."""
    node = settings.node_name
    lease = timedelta(seconds=settings.alerts.lease_seconds)
    stats = DispatchStats()

    def claim() -> list[tuple[Notification, bool]]:
        with Session(engine, expire_on_commit=False) as s:
            now = datetime.now(UTC)
            rows = []
            # a row whose lease ran out may have reached the messenger before a crash
            for nid, lease_expired in _claim(s, node, now, lease, limit):
                n = s.get(Notification, nid)
                assert n is not None
                rows.append((n, lease_expired))
            return rows

    claimed = await to_thread.run_sync(claim)
    sem = asyncio.Semaphore(concurrency)

    async def one(n: Notification, maybe_repeat: bool) -> None:
        url = settings.channel_url(n.channel)
        async with sem:
            if url is None:
                result = DeliveryResult(
                    ok=False,
                    permanent=True,
                    error=f"渠道 {n.channel} 未在配置 [channels] 中定义",
                    elapsed_ms=0,
                )
            else:
                title = f"{MAYBE_REPEAT}{n.title}" if maybe_repeat else n.title
                result = await deliver(
                    url,
                    Message(title=title, markdown=n.body, text=n.body),
                    timeout=settings.alerts.send_timeout_seconds,
                )
        await to_thread.run_sync(_finish, engine, settings, n, result, node)
        if result.ok:
            stats.sent += 1
        elif result.permanent or n.attempts >= settings.alerts.max_attempts:
            stats.dead += 1
        else:
            stats.retried += 1

    await asyncio.gather(*(one(n, r) for n, r in claimed))
    return stats


def _finish(
    engine: Engine, settings: Settings, n: Notification, r: DeliveryResult, node: str
) -> None:
    now = datetime.now(UTC)
    with Session(engine) as s:
        row = s.get(Notification, n.id)
        assert row is not None
        s.add(
            Delivery(
                notification_id=row.id,
                at=now,
                node=node,
                ok=r.ok,
                permanent=r.permanent,
                error=r.error,
                elapsed_ms=r.elapsed_ms,
            )
        )
        if r.ok:
            row.status, row.sent_at, row.last_error = "sent", now, ""
        elif r.permanent or row.attempts >= settings.alerts.max_attempts:
            row.status, row.last_error = "dead", r.error
            log.error(
                "notification_dead",
                notification=row.id,
                channel=mask_url(settings.channel_url(row.channel) or row.channel),
                error=r.error,
                attempts=row.attempts,
            )
        else:
            row.status, row.last_error = "pending", r.error
            row.due_at = now + backoff(settings, row.attempts)
            log.warning(
                "notification_retry",
                notification=row.id,
                channel=mask_url(settings.channel_url(row.channel) or row.channel),
                error=r.error,
                attempts=row.attempts,
                due_at=row.due_at.isoformat(),
            )
        row.claimed_by, row.claimed_until = None, None
        s.add(row)
        s.commit()
