"""Silences and maintenance windows: time-boxed, with who and why.

A silence stops messages, never patrols or findings: evidence is still taken, findings
still open and close, and items that fall in a silence are kept with the silence's number
(``xuncha alerts outbox`` shows them). When it ends, a finding still open is told at once,
because it was never told (``notified_at`` stays as it was) — Alertmanager's behaviour.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from monitor.store.models import Account, AlertItem, Silence, Unit
from monitor.store.scope import descendants, unit_children

KINDS = {"silence": "静默", "maintenance": "维护窗口"}


class SilenceError(Exception):
    """A silence that cannot be made or ended, in the user's words."""


def active(session: Session, now: datetime) -> list[Silence]:
    return list(
        session.exec(
            select(Silence).where(
                col(Silence.starts_at) <= now,
                col(Silence.ends_at) > now,
                or_(col(Silence.expired_at).is_(None), col(Silence.expired_at) > now),
            )
        ).all()
    )


class Matcher:
    """Active silences, with each one's unit subtree resolved once per dispatch."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.silences = active(session, now)
        children = unit_children(session) if any(s.unit_code for s in self.silences) else {}
        self.units = {
            s.id: descendants(children, s.unit_code) for s in self.silences if s.unit_code
        }
        # owners are looked up once, and only when a silence is scoped by unit
        self._owners: dict[str, str] = (
            dict(session.exec(select(Account.id, Account.owner_code)).all()) if self.units else {}
        )

    def _owner(self, account_id: str) -> str:
        return self._owners.get(account_id, "")

    def match(self, item: AlertItem) -> Silence | None:
        return self.covering(item.account_id, item.platform, item.kind)

    def covering(self, account_id: str, platform: str, kind: str) -> Silence | None:
        """The first active silence covering these facts, if any."""
        for s in self.silences:
            if s.account_id and s.account_id != account_id:
                continue
            if s.platform and s.platform != platform:
                continue
            if s.finding_kind and s.finding_kind != kind:
                continue
            if s.unit_code and self._owner(account_id) not in self.units[s.id]:
                continue
            return s
        return None


def add(
    session: Session,
    *,
    now: datetime,
    by: str,
    comment: str,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = "silence",
    unit_code: str | None = None,
    account_id: str | None = None,
    platform: str | None = None,
    finding_kind: str | None = None,
) -> Silence:
    if kind not in KINDS:
        raise SilenceError(f"类型须为 silence（静默）或 maintenance（维护窗口），不是 '{kind}'")
    if ends_at <= starts_at:
        raise SilenceError("结束时间须晚于开始时间")
    if ends_at <= now:
        raise SilenceError("结束时间已过，这条静默不会起作用")
    if not comment.strip():
        raise SilenceError("请用 --why 说明原因（谁、为什么），便于事后核查")
    if not any((unit_code, account_id, platform, finding_kind)) and kind == "silence":
        raise SilenceError(
            "静默须限定范围（--unit、--account、--platform 或 --kind）；"
            "全局暂停请用 --maintenance 并写明原因"
        )
    if unit_code and session.get(Unit, unit_code) is None:
        raise SilenceError(f"单位 '{unit_code}' 不在登记表中")
    if account_id and session.get(Account, account_id) is None:
        raise SilenceError(f"账号 '{account_id}' 不在登记表中")
    s = Silence(
        kind=kind,
        unit_code=unit_code,
        account_id=account_id,
        platform=platform,
        finding_kind=finding_kind,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=by,
        comment=comment.strip(),
        created_at=now,
    )
    session.add(s)
    session.flush()
    return s


def expire(session: Session, silence_id: int, now: datetime) -> Silence:
    s = session.get(Silence, silence_id)
    if s is None:
        raise SilenceError(f"静默 #{silence_id} 不存在")
    if s.ends_at <= now or (s.expired_at and s.expired_at <= now):
        raise SilenceError(f"静默 #{silence_id} 已结束")
    s.expired_at = now
    session.add(s)
    session.flush()
    return s
