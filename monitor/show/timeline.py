"""A finding's story, oldest first: what happened to it and who was told, for its page.

The page reads every ``FindingEvent`` row through one label map (``EVENT``), so an event a
newer part of xuncha writes shows up by its label once it has one, and by its own name until
then: the page never fails on an event it does not know. The messages about the finding (the
outbox rows, ``Notification``, found directly or through the alert items grouped into them)
are put in the same line of time: which unit was told, by which kind of channel (钉钉,
企业微信…, never the address, which may hold a secret), when, and whether it went out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from alerts.ladder import step_line
from monitor.show.labels import DELIVERY, SEVERITY, label
from monitor.show.wording import channel_kind
from monitor.store.models import AlertItem, FindingEvent, Notification, Unit

__all__ = ["EVENT", "Step", "finding_timeline"]

# every event a finding can go through, in the user's words; unknown ones show their name
EVENT = {
    "opened": "发现问题",
    "updated": "问题更新",
    "acknowledged": "已确认",
    "escalated": "升级上报",
    "resolved": "问题解决",
    "superseded": "由新问题取代",
    "reopened": "问题复现",
    "rectified": "单位已整改",
    "recheck_passed": "复查通过",
    "recheck_failed": "复查未通过",
    "recheck_incomplete": "复查未能完成",
    "confirmed": "复核确认",
    "dismissed": "复核认定误报",
    "ladder_step": "升级提醒",
}
# what a message said about the finding (Notification.event)
MESSAGE = {
    "opened": "通知问题",
    "updated": "通知问题更新",
    "resolved": "通知问题已解决",
    "opened_resolved": "通知问题已出现并已恢复",
    "reminder": "提醒",
    "escalated": "上报",
}
OPS = "运维值班"  # Notification.unit_code "ops": the patrol's own people


@dataclass(frozen=True)
class Step:
    """One line of the story: when, what (a label), and what it said in words."""

    at: datetime
    what: str
    text: str = ""
    note: str = ""  # a person's own words (an acknowledgement's note): shown as a quote
    tone: str = ""  # "bad" (a failure), "ok" (resolved, sent), "" otherwise
    message: bool = False  # a message told to someone, not a change of the finding
    event: str = ""  # FindingEvent.event; "" for a message


def finding_timeline(
    session: Session, finding_id: int, channel_url: Callable[[str], str | None]
) -> list[Step]:
    """Every event and message of one finding, oldest first. ``channel_url`` resolves a
    channel's ``@name`` (``Settings.channel_url``) so its kind can be named."""
    events = session.exec(
        select(FindingEvent)
        .where(FindingEvent.finding_id == finding_id)
        .order_by(col(FindingEvent.at), col(FindingEvent.id))
    ).all()
    units = _unit_names(session)
    steps = [_event_step(e, units, channel_url) for e in events]
    steps += [_message_step(n, units, channel_url) for n in _messages(session, finding_id)]
    return sorted(steps, key=lambda s: (s.at, s.message))


def _unit_names(session: Session) -> dict[str, str]:
    rows = session.exec(select(col(Unit.code), col(Unit.name))).all()
    return {code: name for code, name in rows} | {"ops": OPS}


def _messages(session: Session, finding_id: int) -> list[Notification]:
    grouped = select(col(AlertItem.notification_id)).where(
        AlertItem.finding_id == finding_id, col(AlertItem.notification_id).is_not(None)
    )
    q = select(Notification).where(
        (col(Notification.finding_id) == finding_id) | col(Notification.id).in_(grouped),
        col(Notification.kind) != "digest",  # a day's summary is not this finding's story
    )
    return list(session.exec(q.order_by(col(Notification.id))).all())


def _names(codes: Iterable[Any], units: dict[str, str]) -> str:
    return "、".join(units.get(str(c), str(c)) for c in codes)


def _event_step(
    e: FindingEvent, units: dict[str, str], channel_url: Callable[[str], str | None]
) -> Step:
    d = e.detail if isinstance(e.detail, dict) else {}
    text, note, tone = _event_words(e, d, units, channel_url)
    if d.get("why") and e.event not in ("escalated", "ladder_step"):
        text = "，".join(x for x in (text, str(d["why"])) if x)  # a recheck's reason
    if e.event not in ("acknowledged", "ladder_step"):
        # a rectification's or a review's own words; a 误报's reason
        note = str(d.get("note") or d.get("reason") or "")
        if d.get("by"):
            text = "，".join(x for x in (text, f"操作人：{d['by']}") if x)
    return Step(e.at, EVENT.get(e.event, e.event), text, note, tone, event=e.event)


def _event_words(
    e: FindingEvent,
    d: dict[str, Any],
    units: dict[str, str],
    channel_url: Callable[[str], str | None],
) -> tuple[str, str, str]:
    """What an event of its kind says (text, a person's note, tone), before its reason and
    who did it are added."""
    text, note, tone = "", "", ""
    if e.event == "opened" and d.get("severity"):
        text = f"级别：{label(SEVERITY, str(d['severity']))}"
    elif e.event == "updated" and isinstance(d.get("severity"), list) and len(d["severity"]) == 2:
        was, now = (label(SEVERITY, str(x)) for x in d["severity"])
        text = f"级别由{was}改为{now}"
    elif e.event == "acknowledged":
        text = f"确认人：{d.get('by') or '—'}"
        note = str(d.get("note") or "")
    elif e.event == "ladder_step":  # the ladder says its own step in words
        text, tone = step_line(d), "bad" if not d.get("sent") else ""
    elif e.event == "escalated":
        text, tone = _escalated(d, units, channel_url), "bad"
    elif e.event in ("resolved", "recheck_passed", "confirmed", "dismissed"):
        tone = "ok"
        if e.event == "resolved" and e.snapshot_id is not None:
            text = f"快照 #{e.snapshot_id} 已不再显示此问题"
    elif e.event == "recheck_failed":
        tone = "bad"
    elif e.event not in EVENT:
        text = _plain(d)
    return text, note, tone


def _escalated(
    d: dict[str, Any], units: dict[str, str], channel_url: Callable[[str], str | None]
) -> str:
    """An escalation in words: its step, to whom, by which messenger, why."""
    to = d.get("to")
    parts = []
    if d.get("step") is not None:
        parts.append(f"第 {d['step']} 级")
    if to:
        parts.append("上报" + _names(to if isinstance(to, list) else [to], units))
    if d.get("channel"):
        channel = str(d["channel"])
        parts.append(f"经{channel_kind(channel_url(channel) or channel)}")
    if d.get("why"):
        parts.append(str(d["why"]))
    return "，".join(parts)


def _plain(d: dict[str, Any]) -> str:
    """An unknown event's detail as it is: ``key：value`` pairs, never markup."""
    shown = {k: v for k, v in d.items() if k not in ("note", "by") and v not in ("", None)}
    return "；".join(f"{k}：{v}" for k, v in shown.items())


def _message_step(
    n: Notification, units: dict[str, str], channel_url: Callable[[str], str | None]
) -> Step:
    who = units.get(n.unit_code, n.unit_code)
    how = channel_kind(channel_url(n.channel) or n.channel)
    what = MESSAGE.get(n.event, n.event)
    state = label(DELIVERY, n.status)
    if n.status == "sent":
        when = n.sent_at or n.created_at
        tone = "ok"
    else:
        when, tone = n.created_at, ("bad" if n.status in ("dead", "held") else "")
    text = f"{who}（{how}）：{state}"
    if n.kind == "group" and n.items > 1:
        text += f"，与另外 {n.items - 1} 项合并为一条消息"
    return Step(when, what, text, tone=tone, message=True)
