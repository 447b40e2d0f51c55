"""Deliver written messages: claim, send, record — safe in several processes at once.

Exactly-once as far as a messenger allows: a worker claims a row with a conditional UPDATE
(status + lease), under the channel's lock so the claim also spends the channel's rate
budget; a sent row is marked in the transaction right after the messenger accepted it. The
one window left — a crash between the messenger's acceptance and that commit — resends after
the lease expires, and the resent message says it may be a repeat.

What the messenger says decides what happens next: delivered; "too fast" (the channel rests
for ``throttle_minutes``, nothing counts against the message); a refusal that retrying cannot
fix (bad token, signature, keyword) — the channel is marked broken, its messages are *held*,
not dropped, ops are told once, and one held message is tried again later or as soon as the
channel's address changes; anything else — retried with backoff until ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from anyio import to_thread
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import monitor.alerting.channels as channels
import monitor.alerting.direct as direct
from alerts.messages import level_of_many, stamp
from alerts.notice import Level, Message
from alerts.send import DeliveryResult, deliver, requests_for
from monitor import timefmt
from monitor.alerting.settings import AlertingSettings
from monitor.store.models import AlertItem, ChannelState, Delivery, Notification, Unit

log = structlog.get_logger("xuncha.alerts")

MAYBE_REPEAT = "（可能重复）"
Clock = Callable[[], datetime]


@dataclass
class DispatchStats:
    composed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    held: int = 0
    throttled: int = 0
    reminders: int = 0
    escalations: int = 0
    digests: int = 0


def backoff(settings: AlertingSettings, attempts: int) -> timedelta:
    a = settings.alerts
    delay = min(a.retry_max_seconds, a.retry_base_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def _due(now: datetime):
    return or_(
        (col(Notification.status) == "pending") & (col(Notification.due_at) <= now),
        (col(Notification.status) == "sending") & (col(Notification.claimed_until) < now),
    )


def release_broken(engine: Engine, settings: AlertingSettings, now: datetime) -> None:
    """Give broken channels another try: one held message, when their time comes or their
    address changed (ops fixed the token and reloaded)."""
    with Session(engine) as s:
        broken = s.exec(
            select(ChannelState).where(col(ChannelState.broken_since).is_not(None))
        ).all()
        for st in broken:
            changed = st.url_hash != channels.url_hash(settings, st.channel)
            if not changed and (st.retry_at is None or st.retry_at > now):
                continue
            probe = s.exec(
                select(Notification)
                .where(col(Notification.channel_key) == st.key, col(Notification.status) == "held")
                .order_by(col(Notification.id))
                .limit(1)
            ).first()
            st.retry_at = now + timedelta(minutes=settings.alerts.broken_retry_minutes)
            if probe is None:  # nothing held (all given up by hand): the channel is not known bad
                st.broken_since, st.broken_error = None, ""
            else:
                probe.status, probe.due_at = "pending", now
                s.add(probe)
            s.add(st)
            if changed:
                st.url_hash = channels.url_hash(settings, st.channel)
        s.commit()


@dataclass(frozen=True)
class SendPlan:
    """What sending a message needs beyond its row, read when it is sent: the level robots
    colour it by, the mobiles to @-mention, and how it is numbered (``alerts.messages.stamp``:
    ops read "消息编号 #N" as its last line; an SMS is not numbered, every character costs)."""

    level: Level = "info"
    mentions: tuple[str, ...] = ()
    numbered: bool = True
    ops: bool = False


@dataclass(frozen=True)
class Outgoing:
    """A claimed message and its plan."""

    row: Notification
    maybe_repeat: bool  # its lease ran out: it may have reached the messenger before a crash
    plan: SendPlan = SendPlan()

    def body(self) -> str:
        """The body as sent: numbered now that the row has its id (written once, never
        rewritten)."""
        n, p = self.row, self.plan
        if not p.numbered or n.body.endswith(f"消息编号 #{n.id}"):  # numbered when written, by
            return n.body  # a version before this one (a unit's number replaced its slot then)
        return stamp(n.body, n.id, ops=p.ops)


# messages written straight to the outbox (monitor.alerting.direct): they carry no items
DIRECT_KINDS = frozenset({"ops", "sms", "digest", "test"})

# news the unit must act on: its duty officers' phones ring for it (not for "resolved", a
# digest, or an ops notice)
ACTION_EVENTS = frozenset({"opened", "updated", "reminder", "escalated", "recheck_failed"})


def _outgoing(s: Session, ids: list[int]) -> dict[int, SendPlan]:
    """Each message's plan, looked up when it is sent, not when written.

    At send time because the 值班手机 that should ring are those of whoever is on duty when
    the message arrives: a message held for hours behind a broken channel or a throttle
    reaches today's roster, not the one of the check; and so the outbox stores no phone
    numbers and needs no column for them. The unit is the message's recipient
    (``unit_code``: the owner, or the supervisor an escalation goes to). Its level was
    worked out when it was written (``notification.level``); a row written before that
    column has it worked out here, as it was then."""
    if not ids:
        return {}
    rows = s.exec(
        select(
            Notification.id,
            Notification.unit_code,
            Notification.kind,
            Notification.event,
            Notification.level,
        ).where(col(Notification.id).in_(ids))
    ).all()
    items: dict[int, list[tuple[str, str]]] = {}
    units: dict[int, set[str]] = {}  # whose news each message carries
    grouped = [nid for nid, _, kind, _, _ in rows if kind not in DIRECT_KINDS]
    for nid, event, severity, unit in (
        s.exec(
            select(
                AlertItem.notification_id, AlertItem.event, AlertItem.severity, AlertItem.unit_code
            ).where(col(AlertItem.notification_id).in_(grouped))
        ).all()
        if grouped
        else []
    ):
        items.setdefault(nid, []).append((event, severity))  # type: ignore[arg-type]
        units.setdefault(nid, set()).add(unit)  # type: ignore[arg-type]
    codes = {code for _, code, _, _, _ in rows}
    phones: dict[str, tuple[str, ...]] = {}
    leaders: dict[str, tuple[str, ...]] = {}
    for code, duty, leader in s.exec(
        select(Unit.code, Unit.duty_mobiles, Unit.leader_mobiles).where(col(Unit.code).in_(codes))
    ).all():
        phones[code], leaders[code] = tuple(duty or ()), tuple(leader or ())
    out: dict[int, SendPlan] = {}
    for nid, code, kind, event, stored in rows:
        assert nid is not None
        told = items.get(nid, [])
        level: Level = stored or (  # type: ignore[assignment]
            direct.level_for(kind, event) if kind in DIRECT_KINDS else level_of_many(told)
        )
        # ops' own message: every item it carries is ops' (a message written straight to the
        # outbox carries none: its unit says)
        ops = units.get(nid, {code}) == {"ops"}
        if kind == "ops":
            out[nid] = SendPlan(level, ops=ops)
            continue
        if kind == "sms":  # a ladder step's SMS: to whom its event names (alerting.ladder)
            whose = leaders if event == "sms_leader" else phones
            out[nid] = SendPlan(level, whose.get(code, ()), numbered=False)
            continue
        act = any(e in ACTION_EVENTS and sev != "info" for e, sev in told)
        out[nid] = SendPlan(level, phones.get(code, ()) if act else (), ops=ops)
    return out


def _claim(
    engine: Engine, settings: AlertingSettings, node: str, now: datetime, limit: int
) -> list[Outgoing]:
    """Claim due rows, channel by channel, within each channel's budget (a message that
    @-mentions through a WeCom robot costs two requests of it)."""
    lease = timedelta(seconds=settings.alerts.lease_seconds)
    claimed: list[Outgoing] = []
    with Session(engine) as s:
        rows = s.exec(
            select(Notification.id, Notification.status, Notification.channel)
            .where(_due(now))
            .order_by(col(Notification.id))
            .limit(limit)
        ).all()
    by_channel: dict[str, list[tuple[int, str]]] = {}
    for nid, status, channel in rows:
        by_channel.setdefault(channel, []).append((nid, status))
    for channel, due in by_channel.items():
        url = settings.channel_url(channel) or ""
        with Session(engine, expire_on_commit=False) as s:
            state = channels.lock(s, channel, now)
            if state.throttled_until is not None and state.throttled_until > now:
                s.commit()
                continue
            room = channels.room(s, settings, channel, now)
            plans = _outgoing(s, [nid for nid, _ in due[:room]])
            for nid, status in due[:room]:
                plan = plans.get(nid, SendPlan())
                cost = requests_for(url, plan.mentions)
                if cost > room:
                    break
                n = s.execute(  # the claimed row as the claim left it: not read again
                    update(Notification)
                    .where(col(Notification.id) == nid, _due(now))
                    .values(
                        status="sending",
                        claimed_by=node,
                        claimed_until=now + lease,
                        attempts=Notification.attempts + 1,
                    )
                    .returning(Notification)
                    .execution_options(synchronize_session=False)
                ).scalar_one_or_none()
                if n is not None:
                    claimed.append(Outgoing(n, status == "sending", plan))
                    room -= cost
            s.commit()
    return claimed


async def send_due(
    engine: Engine,
    settings: AlertingSettings,
    clock: Clock,
    stats: DispatchStats,
    *,
    limit: int = 200,
    concurrency: int = 4,
) -> None:
    node = settings.node_name
    now = clock()
    claimed = await to_thread.run_sync(_claim, engine, settings, node, now, limit)
    sem = asyncio.Semaphore(concurrency)

    async def one(out: Outgoing) -> None:
        n = out.row
        url = settings.channel_url(n.channel)
        if url is None:
            result = DeliveryResult(
                ok=False,
                permanent=True,
                error=f"渠道 {n.channel} 未在配置 [channels] 中定义",
                elapsed_ms=0,
            )
        else:
            title = f"{MAYBE_REPEAT}{n.title}" if out.maybe_repeat else n.title
            body = out.body()
            result = await deliver(
                url,
                Message(title=title, markdown=body, text=body, level=out.plan.level),
                timeout=settings.alerts.send_timeout_seconds,
                origins=settings.alerts.origins,
                mentions=out.plan.mentions,
            )
        outcome = await to_thread.run_sync(_finish, engine, settings, n, result, now, clock())
        setattr(stats, outcome, getattr(stats, outcome) + 1)

    async def channel(outs: list[Outgoing]) -> None:
        """One channel's messages one after another, in the order they were written: a group
        reads them in that order, and a WeCom mention follows the message it is about."""
        async with sem:
            for out in outs:
                await one(out)

    by_channel: dict[str, list[Outgoing]] = {}
    for out in claimed:
        by_channel.setdefault(out.row.channel_key, []).append(out)
    await asyncio.gather(*(channel(outs) for outs in by_channel.values()))


def _finish(
    engine: Engine,
    settings: AlertingSettings,
    n: Notification,
    r: DeliveryResult,
    started: datetime,
    now: datetime,
) -> str:
    """Record the attempt and decide the row's next state; returns the stats field to count."""
    a = settings.alerts
    shown = channels.shown(settings, n.channel)
    with Session(engine) as s:
        # the channel's lock first, then the row — the order every stage takes them in, so
        # two nodes never wait on each other in a circle (PostgreSQL would abort one)
        state = channels.lock(s, n.channel, now)
        row = s.get(Notification, n.id)
        assert row is not None
        for i in range(max(1, r.requests)):  # the rate window counts every request
            s.add(
                Delivery(
                    notification_id=row.id,
                    channel_key=row.channel_key,
                    at=started,
                    node=settings.node_name,
                    ok=r.ok,
                    permanent=r.permanent,
                    error=r.error if i == 0 else "",
                    elapsed_ms=r.elapsed_ms if i == 0 else 0,
                )
            )
        row.claimed_by, row.claimed_until = None, None
        if r.ok:
            row.status, row.sent_at, row.last_error = "sent", now, ""
            outcome = "sent"
            _recovered(s, settings, state, row, now)
        elif r.throttled:
            until = now + timedelta(minutes=a.throttle_minutes)
            state.throttled_until = until
            s.add(state)
            row.status, row.last_error, row.due_at = "pending", r.error, until
            row.attempts = max(0, row.attempts - 1)  # the provider's pause, not our failure
            outcome = "throttled"
            log.warning("channel_throttled", channel=shown, until=until.isoformat())
        elif r.permanent:
            row.status, row.last_error = "held", r.error
            outcome = "held"
            _broken(s, settings, state, row, r.error, now)
        elif row.attempts >= a.max_attempts:
            row.status, row.last_error = "dead", r.error
            outcome = "dead"
            log.error("notification_dead", notification=row.id, channel=shown, error=r.error)
        else:
            row.status, row.last_error = "pending", r.error
            row.due_at = now + backoff(settings, row.attempts)
            outcome = "retried"
            log.warning(
                "notification_retry",
                notification=row.id,
                channel=shown,
                error=r.error,
                attempts=row.attempts,
                due_at=row.due_at.isoformat(),
            )
        s.add(row)
        s.commit()
    return outcome


def _broken(
    s: Session,
    settings: AlertingSettings,
    state: ChannelState,
    row: Notification,
    error: str,
    now: datetime,
) -> None:
    state.retry_at = now + timedelta(minutes=settings.alerts.broken_retry_minutes)
    state.url_hash = channels.url_hash(settings, row.channel)
    if state.broken_since is None:
        state.broken_since, state.broken_error = now, error
        shown = channels.shown(settings, row.channel)
        log.error("channel_broken", channel=shown, error=error)
        direct.to_ops(
            s,
            settings,
            event="channel_broken",
            message=Message(
                title=f"【巡查运维】通知渠道不可用：{shown}",
                markdown=(
                    f"通知渠道 {shown}（单位 {row.unit_code}）拒绝了消息：{error}\n\n"
                    "该渠道的消息已暂存，不会丢失；修正配置后执行 `systemctl reload xuncha`"
                    "（或等待自动重试）即可补发。`xuncha alerts outbox --status held` 可查看。"
                ),
                text=(
                    f"通知渠道 {shown}（单位 {row.unit_code}）拒绝了消息：{error}\n"
                    "该渠道的消息已暂存，不会丢失；修正配置后重新加载即可补发。"
                ),
                level="failure",
            ),
            dedup_key=f"channel-broken:{state.key}:{now.isoformat()}",
            now=now,
            skip=row.channel,
        )
    s.add(state)


def _recovered(
    s: Session, settings: AlertingSettings, state: ChannelState, row: Notification, now: datetime
) -> None:
    if state.broken_since is None:
        return
    since = state.broken_since
    state.broken_since, state.broken_error, state.retry_at = None, "", None
    s.add(state)
    released = s.execute(
        update(Notification)
        .where(col(Notification.channel_key) == row.channel_key, col(Notification.status) == "held")
        .values(status="pending", due_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    shown = channels.shown(settings, row.channel)
    down = timefmt.shown(since, settings.timezone)
    log.info("channel_recovered", channel=shown, released=released)
    direct.to_ops(
        s,
        settings,
        event="channel_recovered",
        message=Message(
            title=f"【巡查运维】通知渠道已恢复：{shown}",
            markdown=f"通知渠道 {shown} 已恢复（自 {down} 起不可用），"
            f"暂存的 {released} 条消息正在补发。",
            text=f"通知渠道 {shown} 已恢复（自 {down} 起不可用），"
            f"暂存的 {released} 条消息正在补发。",
            level="success",
        ),
        dedup_key=f"channel-recovered:{row.channel_key}:{since.isoformat()}",
        now=now,
        skip=row.channel,
    )
