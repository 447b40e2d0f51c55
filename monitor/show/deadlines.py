"""A 整改期限 as people read it: the time, or "已超期 N 天" once it has passed.

Every finding a unit must fix carries ``Finding.deadline`` (``probes.checks.kinds``); a
staleness breach's is the moment it became overdue, so it is already past when the finding
opens. Past deadlines are counted in whole days, as inspection bulletins count them, and in
hours within the first day ("已超期 20 小时"): the CLI and the console say the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.timefmt import DEFAULT_TZ, shown

__all__ = ["deadline_note", "deadline_text", "overdue_days"]


def overdue_days(deadline: datetime | None, now: datetime) -> int | None:
    """Whole days since ``deadline`` passed (0 within the first day); None if it has not."""
    if deadline is None or deadline > now:
        return None
    return (now - deadline).days


def deadline_text(deadline: datetime | None, now: datetime, tz: str = DEFAULT_TZ) -> str:
    """``2026-12-08 23:59``, ``已超期 3 天`` or ``已超期 20 小时``; ``—`` when there is none."""
    if overdue_days(deadline, now) is None:
        return shown(deadline, tz)
    return deadline_note(deadline, now)


def deadline_note(deadline: datetime | None, now: datetime) -> str:
    """How a 整改期限 stands now, for the console beside the time itself: "已超期 3 天",
    "已超期 5 小时", "剩 2 天", "剩 6 小时"; "" without a deadline. Whole days or hours,
    rounded down; under an hour "不足 1 小时" (never "超期 0 天")."""
    if deadline is None:
        return ""
    left = deadline - now
    late = left <= timedelta(0)  # the same instant as overdue_days: due now is late
    span = -left if late else left
    if span >= timedelta(days=1):
        amount = f"{span.days} 天"
    else:
        hours = int(span.total_seconds() // 3600)
        amount = f"{hours} 小时" if hours else "不足 1 小时"
    gap = " " if amount[0].isdigit() else ""  # "已超期 3 天", "已超期不足 1 小时"
    return f"已超期{gap}{amount}" if late else f"剩{gap}{amount}"
