"""Group queued items into messages, as many as each channel has room for.

Per channel, under its lock: once the oldest queued item has waited its group wait, every
item queued for the channel goes out together — one message, or several when they do not
fit one — but never more messages than the channel's rate budget allows this minute. What
does not fit stays queued and folds into the next message, so excess is delayed, never
dropped. A channel that is throttled, refusing us, or still retrying an earlier message
gets no new messages: its items wait and fold too.

What opened and closed within its group wait is dropped, unseen and unneeded; what opened,
was due to be told, and closed while the channel could not take it (failing for hours, say)
is told once when it can, as "已出现并已恢复" — a leak visible for hours is something the unit
must hear about even after it is gone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import structlog
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

import monitor.alerting.channels as channels
from alerts.group import render_group
from alerts.messages import CAME_AND_WENT
from alerts.send import body_format, budget_for
from monitor.alerting.route import OWNER_EVENTS
from monitor.alerting.settings import AlertingSettings
from monitor.alerting.silences import Matcher
from monitor.evidence import told
from monitor.store.models import AlertItem, Finding, Notification, Unit
from probes.model import SEVERITY_RANK, Severity

log = structlog.get_logger("xuncha.alerts")

OPS_RECIPIENT = "运维值班"
_EVENT_RANK = {"escalated": 0, "opened": 1, "updated": 2, "reminder": 3, "resolved": 4}


def due_channels(session: Session, now: datetime) -> list[str]:
    """Channels with at least one item past its group wait."""
    rows = session.exec(
        select(AlertItem.channel)
        .where(col(AlertItem.status) == "queued", col(AlertItem.due_at) <= now)
        .distinct()
    ).all()
    return list(rows)


def _waiting(session: Session, key: str) -> int:
    """Messages of this channel written but not yet sent (they will spend budget too)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.channel_key) == key, col(Notification.status) == "pending")
        ).one()
    )


def _retrying(session: Session, key: str) -> bool:
    return (
        session.exec(
            select(Notification.id)
            .where(
                col(Notification.channel_key) == key,
                col(Notification.status) == "pending",
                col(Notification.attempts) > 0,
            )
            .limit(1)
        ).first()
        is not None
    )


def _order(item: AlertItem) -> tuple[int, int, int]:
    try:
        sev = -SEVERITY_RANK[Severity(item.severity)]
    except ValueError:
        sev = 0
    return (_EVENT_RANK.get(item.event, 9), sev, item.id or 0)


def compose_channel(
    session: Session, settings: AlertingSettings, channel: str, now: datetime, matcher: Matcher
) -> list[Notification]:
    """Write this channel's next messages (caller commits; holds the channel lock)."""
    state = channels.lock(session, channel, now)
    key = state.key
    if not channels.usable(state, now) or _retrying(session, key):
        return []
    room = channels.room(session, settings, channel, now) - _waiting(session, key)
    if room <= 0:
        return []
    items = list(
        session.exec(
            select(AlertItem)
            .where(col(AlertItem.status) == "queued", col(AlertItem.channel_key) == key)
            .order_by(col(AlertItem.id))
            .limit(5000)
        ).all()
    )
    if not any(i.due_at <= now for i in items):
        return []
    live: list[AlertItem] = []
    for item in items:
        s = matcher.match(item)
        if s is not None:
            item.status, item.silence_id = "silenced", s.id
            session.add(item)
            if item.finding_id is not None and item.event != "resolved":
                # never told: when the silence ends, the reminder scan tells it at once
                session.execute(
                    update(Finding)
                    .where(col(Finding.id) == item.finding_id)
                    .values(notified_at=None)
                    .execution_options(synchronize_session=False)
                )
        else:
            live.append(item)
    live, along = _drop_flaps(session, live)
    live.sort(key=_order)
    recipient = _recipient(session, live)
    ops = recipient == OPS_RECIPIENT  # ops may be told the CLI; a unit never is
    url = settings.channel_url(channel) or ""
    fmt, budget = body_format(url), budget_for(url)
    out: list[Notification] = []
    part = 1
    notices = [told(i.notice) for i in live]  # once, whatever the parts
    while live and room > 0:
        group = render_group(
            notices,
            recipient=recipient,
            tz=settings.timezone,
            max_items=settings.alerts.max_items_per_message,
            part=part,
            templates=settings.alerts.templates,
            budget=budget,
            now=now,
            ops=ops,
        )
        taken, live = live[: group.count], live[group.count :]
        notices = notices[group.count :]
        single = taken[0] if group.count == 1 else None
        n = Notification(
            dedup_key=f"items:{taken[0].id}:{key}",
            finding_id=single.finding_id if single else None,
            unit_code=taken[0].unit_code,
            channel=channel,
            channel_key=key,
            kind="finding" if single else "group",
            items=len(taken),
            event=single.notice.event if single else "group",
            title=group.message.title,
            body=group.message.text if fmt == "text" else group.message.markdown,
            level=group.message.level,  # what it is sent with: worked out here, once
            created_at=now,
            due_at=now,
        )
        session.add(n)
        session.flush()  # its id, for the items it carries (numbered when sent: deliver)
        for i in [*taken, *(r for t in taken for r in along.get(t.id or 0, ()))]:
            i.status, i.notification_id = "sent", n.id
            session.add(i)
        _mark_told(session, taken, now)
        out.append(n)
        room -= 1
        part += 1
    if live:
        log.info("alerts_folded", channel=channels.shown(settings, channel), waiting=len(live))
    return out


def _mark_told(session: Session, items: list[AlertItem], now: datetime) -> None:
    """The owner is told now: reminders count from here (``timers``), not from the check
    that opened the finding, which may have waited for its group or for a channel."""
    told = {i.finding_id for i in items if i.event in OWNER_EVENTS and i.finding_id}
    if told:
        session.execute(
            update(Finding)
            .where(col(Finding.id).in_(told))
            .values(notified_at=now)
            .execution_options(synchronize_session=False)
        )


def _drop_flaps(
    session: Session, items: list[AlertItem]
) -> tuple[list[AlertItem], dict[int, list[AlertItem]]]:
    """Drop what is moot before anyone was told: news of a finding that has closed since
    (superseded or resolved), and the "resolved" of a finding whose opening is dropped.

    Not moot: an opening that was due before its finding closed — the channel could not
    take it then. It is kept, to be told as "已出现并已恢复" (its notice says so, dated when
    the finding closed); the finding's "resolved" items go out in the same message
    (returned by the opening's id) instead of on their own."""
    ids = {i.finding_id for i in items if i.finding_id is not None}
    closed = {
        fid: resolved_at
        for fid, status, resolved_at in session.exec(
            select(Finding.id, Finding.status, Finding.resolved_at).where(col(Finding.id).in_(ids))
        ).all()
        if status != "open"
    }
    unseen = {
        i.finding_id: i
        for i in items
        if i.event == "opened"
        and i.finding_id in closed
        and (gone := closed[i.finding_id]) is not None
        and i.due_at <= gone
    }
    moot = {
        i.id
        for i in items
        if i.event != "resolved" and i.finding_id in closed and unseen.get(i.finding_id) is not i
    }
    unopened = {i.finding_id for i in items if i.event == "opened" and i.id in moot}
    keep: list[AlertItem] = []
    along: dict[int, list[AlertItem]] = {}
    for i in items:
        if i.id in moot or (i.event == "resolved" and i.finding_id in unopened):
            i.status = "skipped"
            session.add(i)
        elif i.event == "resolved" and (opening := unseen.get(i.finding_id)) is not None:
            along.setdefault(opening.id or 0, []).append(i)
        else:
            keep.append(i)
    for fid, opening in unseen.items():
        gone = closed[fid]
        assert gone is not None
        opening.notice = replace(opening.notice, event=CAME_AND_WENT, at=gone)
        opening.event = CAME_AND_WENT  # what it is told as: no phone rings for it
        session.add(opening)
    return keep, along


def _recipient(session: Session, items: list[AlertItem]) -> str:
    codes = {i.unit_code for i in items}
    if len(codes) != 1:
        return "多个单位"
    code = codes.pop()
    if code == "ops":
        return OPS_RECIPIENT
    unit = session.get(Unit, code)
    return unit.name if unit else code


def compose(engine: Engine, settings: AlertingSettings, now: datetime) -> int:
    """Compose every due channel, each in its own short transaction."""
    with Session(engine) as s:
        due = due_channels(s, now)
    written = 0
    for channel in due:
        with Session(engine) as s:
            matcher = Matcher(s, now)
            written += len(compose_channel(s, settings, channel, now, matcher))
            s.commit()
    return written
