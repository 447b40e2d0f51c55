"""Taking the escalation ladder's steps (``alerts.ladder``) for findings nobody acted on.

Called by ``timers.scan`` for each open finding of a severity with a ladder. Each step is
claimed with a conditional UPDATE of ``finding.ladder_step`` (still the count read), so two
nodes scanning at once take no step twice, and every step taken writes a ``ladder_step``
FindingEvent (the step, to whom, through which channel, or why it reached nobody) for the
finding's timeline. An SMS step writes its short text straight to the outbox; the phones are
read when it is sent (``deliver._outgoing``), as the robots' 值班手机 are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from alerts.ladder import RUNG_WORDS, Ladder, LadderStep, QuietHours, due, span_words, waits
from alerts.messengers.sms import short_text
from alerts.notice import Message
from alerts.routing import Plan
from monitor import timefmt
from monitor.alerting.channels import shown
from monitor.alerting.direct import write as write_direct
from monitor.alerting.route import (
    Target,
    add_items,
    escalation_event,
    notice_for,
    owner_targets,
    supervisor_targets,
)
from monitor.alerting.settings import AlertingSettings
from monitor.store.models import Account, Finding, FindingEvent, Unit
from probes.checks.rules import RuleSet

log = structlog.get_logger("xuncha.alerts")

# the outbox event of an SMS step: whose phones it goes to (read when it is sent)
SMS_EVENTS = {"duty_sms": "sms_duty", "leader_sms": "sms_leader"}


def ladder_of(settings: AlertingSettings, f: Finding) -> Ladder | None:
    ladder = settings.alerts.ladder.get(f.severity)
    return ladder if ladder is not None and ladder.steps else None


def quiet_hours(settings: AlertingSettings) -> QuietHours | None:
    return QuietHours.parse(settings.alerts.quiet_hours)


def quiet_now(settings: AlertingSettings, f: Finding, now: datetime) -> bool:
    """Whether this finding's steps and reminders wait for the quiet hours to end."""
    return waits(f.severity, quiet_hours(settings), now, timefmt.zone(settings.timezone))


def climb(
    s: Session,
    settings: AlertingSettings,
    f: Finding,
    account: Account,
    line: list[Unit],
    p: Plan,
    now: datetime,
    rulesets: Mapping[str, RuleSet],
) -> int:
    """Take every step now due (in order); returns how many were taken."""
    ladder = ladder_of(settings, f)
    if ladder is None or f.acknowledged_at is not None or p.audience == "ops":
        return 0
    at = _Step(s, settings, f, account, line, p, now, rulesets)
    taken = 0
    for i in due(ladder, f.ladder_step, f.opened_at, now):
        if not _claim(s, f, i):
            break  # another node took it
        step = ladder.steps[i]
        detail = at.take(step, i)
        s.add(
            FindingEvent(
                finding_id=f.id,  # type: ignore[arg-type]
                event="ladder_step",
                snapshot_id=f.last_snapshot_id,
                at=now,
                detail={"step": i + 1, "after": step.after, "to": step.to, **detail},
            )
        )
        log.info("ladder_step", finding=f.id, step=i + 1, to=step.to, sent=detail["sent"])
        taken += 1
    return taken


@dataclass(frozen=True)
class _Step:
    """What taking any step of one finding's ladder reads, gathered once per climb."""

    s: Session
    settings: AlertingSettings
    f: Finding
    account: Account
    line: list[Unit]
    p: Plan
    now: datetime
    rulesets: Mapping[str, RuleSet]

    def take(self, step: LadderStep, i: int) -> dict[str, Any]:
        """Tell whom the step names; the event's detail (who, channel, sent, why not)."""
        f, now, p = self.f, self.now, self.p
        unit = self.line[0] if self.line else None
        why = f"第 {i + 1} 级：问题出现 {span_words(step.minutes)}内未确认也未整改"
        tag = f"ladder{i}:{now.isoformat()}"
        if step.to in SMS_EVENTS:
            return self.sms(unit, step, i)
        if step.to == "unit":
            targets = owner_targets(self.settings, p, self.line, self.account.owner_code)
            told = f.notified_at is not None and f.notified_at >= f.opened_at + timedelta(
                minutes=step.minutes
            )
            if targets and (told or step.minutes == 0):  # the opening (or a reminder) told it
                return _detail(targets, RUNG_WORDS["unit"], sent=True, note="已随问题通知发出")
            event = "reminder"
        else:
            targets = supervisor_targets(p, self.line)
            event = "escalated"
        if not targets:
            return _detail([], RUNG_WORDS[step.to], sent=False, note="没有可用的通知渠道")
        notice = notice_for(self.settings, f, self.account, unit, event, now, why, self.rulesets)
        add_items(self.s, targets, notice, now=now, wait_seconds=p.group_wait_seconds, tag=tag)
        if event == "escalated":
            if f.escalated_at is None:
                f.escalated_at = now
                self.s.add(f)
            escalation_event(self.s, f, targets, now, why)
        return _detail(targets, RUNG_WORDS[step.to], sent=True)

    def sms(self, unit: Unit | None, step: LadderStep, i: int) -> dict[str, Any]:
        settings, f, account = self.settings, self.f, self.account
        channel = step.channel or settings.alerts.sms_channel
        words = RUNG_WORDS[step.to]
        phones = (
            (unit.duty_mobiles if step.to == "duty_sms" else unit.leader_mobiles) if unit else []
        )
        base = {"who": words, "unit": unit.code if unit else account.owner_code}
        if not channel:
            return {
                **base,
                "channel": "",
                "sent": False,
                "note": "未设置短信渠道（[alerts] sms_channel）",
            }
        if not phones:
            missing = "值班手机" if step.to == "duty_sms" else "负责人手机"
            return {**base, "channel": shown(settings, channel), "sent": False,
                    "note": f"单位未登记{missing}"}  # fmt: skip
        notice = notice_for(
            settings, f, account, unit, "escalated", self.now, rulesets=self.rulesets
        )
        text = short_text(notice)
        title = f"短信：{notice.unit_name} {account.name}"
        write_direct(
            self.s,
            settings,
            channel=channel,
            unit_code=base["unit"],
            kind="sms",
            event=SMS_EVENTS[step.to],
            message=Message(title=title, markdown=text, text=text),
            dedup_key=f"ladder:{f.id}:{i}:{f.opened_at.isoformat()}",
            now=self.now,
        )
        return {**base, "channel": shown(settings, channel), "sent": True, "phones": len(phones)}


def _detail(targets: list[Target], who: str, *, sent: bool, note: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"who": who, "units": sorted({t.unit for t in targets}), "sent": sent}
    out["channels"] = len(targets)
    if note:
        out["note"] = note
    return out


def _claim(s: Session, f: Finding, i: int) -> bool:
    """Move ``ladder_step`` from ``i`` to ``i + 1`` if it still holds ``i``."""
    res = s.execute(
        update(Finding)
        .where(col(Finding.id) == f.id, col(Finding.ladder_step) == i)
        .values(ladder_step=i + 1)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(f, "ladder_step", i + 1)
    return True
