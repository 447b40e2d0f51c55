"""Messages written straight to the outbox, not grouped from finding items: digests, ops
notices (a broken channel, a self-watch problem), test messages, a ladder's SMS steps.

They still pass the channel's rate budget and retries when delivered. ``dedup_key`` makes
writing them idempotent across nodes: a second node writing the same digest is a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from alerts.notice import Level, Message
from alerts.send import body_format
from monitor.alerting.channels import channel_key
from monitor.alerting.settings import AlertingSettings
from monitor.store.models import Notification


def level_for(kind: str, event: str) -> Level:
    """The level a message written here is sent with: ops' own by its event (a recovery is
    good news), a ladder step's SMS a failure, the rest (a digest, a test) "info" — none of
    them carries items told one by one."""
    if kind == "ops":
        return "success" if "recovered" in event else "failure"
    return "failure" if kind == "sms" else "info"


def write(
    session: Session,
    settings: AlertingSettings,
    *,
    channel: str,
    unit_code: str,
    kind: str,
    event: str,
    message: Message,
    dedup_key: str,
    now: datetime,
) -> bool:
    """Insert the message unless one with ``dedup_key`` exists; returns whether it did. It is
    numbered when sent (``deliver``), so the row is written once and never read back."""
    fmt = body_format(settings.channel_url(channel) or "")
    values = {
        "dedup_key": dedup_key[:200],
        "unit_code": unit_code,
        "channel": channel,
        "channel_key": channel_key(channel),
        "kind": kind,
        "items": 0,
        "event": event,
        "title": message.title,
        "body": message.text if fmt == "text" else message.markdown,
        "level": level_for(kind, event),
        "created_at": now,
        "due_at": now,
        "status": "pending",
        "attempts": 0,
        "last_error": "",
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(Notification).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def to_ops(
    session: Session,
    settings: AlertingSettings,
    *,
    event: str,
    message: Message,
    dedup_key: str,
    now: datetime,
    skip: str | None = None,
) -> int:
    """The same message to every ops channel (except ``skip``, the one that is broken)."""
    n = 0
    for channel in settings.alerts.ops_channels:
        if channel == skip:
            continue
        n += write(
            session,
            settings,
            channel=channel,
            unit_code="ops",
            kind="ops",
            event=event,
            message=message,
            dedup_key=f"{dedup_key}:{channel_key(channel)[:12]}",
            now=now,
        )
    return n
