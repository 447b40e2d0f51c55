"""Channels as the dispatcher sees them: their rate budget, and whether they work.

A channel is what the registry or config names (``@duty`` or a literal apprise URL); its
``key`` is a hash of that name, so a secret inside a literal URL never becomes a row key or
a log field. The ``channel_state`` row of a channel is also its lock: whoever spends the
channel's budget (composing messages, claiming them) holds it for that short transaction,
so two nodes never together exceed a robot's 20 messages a minute.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select, update

from alerts import messengers
from alerts.send import mask_url, redact
from monitor.alerting.settings import AlertingSettings
from monitor.store.models import ChannelState, Delivery, Notification

WINDOW = timedelta(minutes=1)
UNLIMITED = 10_000


def channel_key(channel: str) -> str:
    return hashlib.sha256(channel.encode()).hexdigest()[:32]


def url_hash(settings: AlertingSettings, channel: str) -> str:
    return hashlib.sha256((settings.channel_url(channel) or "").encode()).hexdigest()[:32]


def shown(settings: AlertingSettings, channel: str) -> str:
    """How a channel is named to people: ``@name`` as is, a literal URL masked."""
    return channel if channel.startswith("@") else mask_url(channel)


def scrubbed(settings: AlertingSettings, channel: str, text: str) -> str:
    """A stored error of this channel as people may read it: whatever part of the channel's
    URL it quotes masked by today's rule (rows written before a rule got stricter included)."""
    url = settings.channel_url(channel)
    return redact(text, url) if url and text else text


def limit_for(settings: AlertingSettings, channel: str) -> int:
    """Messages a minute this channel takes: by ``@name``, else by scheme (the default
    ``rate_limits`` are the messengers' own); 0 = no limit."""
    limits = settings.alerts.rate_limits
    if channel in limits:
        return limits[channel]
    return limits.get(messengers.scheme_of(settings.channel_url(channel) or ""), 0)


def lock(session: Session, channel: str, now: datetime) -> ChannelState:
    """The channel's state row, created if missing, locked for this transaction.

    PostgreSQL: a row lock (``FOR UPDATE``). SQLite: the UPDATE takes the database's write
    lock, which serialises every writer — coarser, and right for a single node.
    """
    key = channel_key(channel)
    values = {"key": key, "channel": channel, "url_hash": "", "broken_error": "", "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ChannelState).values(**values).on_conflict_do_nothing())
    if dialect == "postgresql":
        state = session.exec(
            select(ChannelState).where(ChannelState.key == key).with_for_update()
        ).one()
    else:
        session.execute(
            update(ChannelState)
            .where(col(ChannelState.key) == key)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        state = session.exec(select(ChannelState).where(ChannelState.key == key)).one()
    return state


def attempts_in_window(session: Session, key: str, now: datetime) -> int:
    """Requests made to the channel in the last minute, plus those in flight."""
    recent = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(col(Delivery.channel_key) == key, col(Delivery.at) > now - WINDOW)
    ).one()
    in_flight = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(col(Notification.channel_key) == key, col(Notification.status) == "sending")
    ).one()
    return int(recent) + int(in_flight)


def room(session: Session, settings: AlertingSettings, channel: str, now: datetime) -> int:
    """How many more requests the channel takes this minute."""
    limit = limit_for(settings, channel)
    if limit <= 0:
        return UNLIMITED
    return max(0, limit - attempts_in_window(session, channel_key(channel), now))


def usable(state: ChannelState, now: datetime) -> bool:
    """Neither throttled by the provider nor refusing us."""
    if state.broken_since is not None:
        return False
    return state.throttled_until is None or state.throttled_until <= now
